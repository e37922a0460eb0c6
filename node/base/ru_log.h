/*  ru_log.h - the node's log: one line per call on stderr.
 *
 *  Each call writes one whole line, "<N>component: message\n", with a single
 *  write(2), so lines from several threads never interleave. N is the syslog
 *  priority (3 error, 4 warning, 6 info, 7 debug): under systemd, journald
 *  reads it from the line prefix and files the line at that priority; run by
 *  hand, the prefix is a short, greppable level marker.
 *
 *  A message is cut to RU_LOG_LINE_MAX bytes, and line breaks and other
 *  control characters in it become spaces, so one call always makes one
 *  line, even when it quotes text that came from a file or a peer.
 *
 *  Never pass a secret (key seed, password, session token) to these
 *  functions: the log is read by people and kept by journald.
 *
 *  All functions may be called from any thread. The level is normally set
 *  once, at start-up, before threads exist.
 */
#ifndef RU_LOG_H
#define RU_LOG_H

#include "ruche/ru_error.h"

/*  The longest line written, prefix and newline included. It stays below
 *  PIPE_BUF, so a write to a pipe is atomic as well. */
#define RU_LOG_LINE_MAX 2048

/*  Levels carry their syslog priority numbers. */
typedef enum {
    RU_LOG_ERR = 3,
    RU_LOG_WARN = 4,
    RU_LOG_INFO = 6,
    RU_LOG_DEBUG = 7,
} ru_log_level;

#define RU_LOG_FORMAT(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))

/*  Messages above level (less severe) are dropped. The default is RU_LOG_INFO. */
void ru_log_set_level(ru_log_level level);
ru_log_level ru_log_get_level(void);

/*  The level named by a config value: "error", "warn", "info" or "debug".
 *  RU_E_INVALID for anything else (*out is then left unchanged). */
RU_MUST_CHECK ru_err ru_log_level_parse(const char *name, ru_log_level *out);
/*  The config name of a level, e.g. "warn". Never NULL. */
const char *ru_log_level_name(ru_log_level level);

/*  Logs a printf-style message from component (a short word naming the
 *  module, e.g. "keys", "store", "repl") at level. */
void ru_log(ru_log_level level, const char *component, const char *fmt, ...) RU_LOG_FORMAT(3, 4);
/*  The usual forms, e.g. ru_log_info("keys", "wrote %s", path); the format
 *  is checked through ru_log's attribute. */
#define ru_log_err(component, ...) ru_log(RU_LOG_ERR, component, __VA_ARGS__)
#define ru_log_warn(component, ...) ru_log(RU_LOG_WARN, component, __VA_ARGS__)
#define ru_log_info(component, ...) ru_log(RU_LOG_INFO, component, __VA_ARGS__)
#define ru_log_debug(component, ...) ru_log(RU_LOG_DEBUG, component, __VA_ARGS__)

#endif
