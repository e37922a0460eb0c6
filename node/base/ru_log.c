/*  ru_log.c - whole-line logging to stderr with syslog priority prefixes.
 *
 *  The line is built in a stack buffer (prefix, message, newline) and handed
 *  to the kernel in one write(2): stdio's stderr is unbuffered and may split
 *  one fprintf into several writes, which lets lines of different threads
 *  interleave. A line longer than RU_LOG_LINE_MAX is cut at a UTF-8
 *  character boundary and ends in "...".
 *
 *  The level is an atomic int, read relaxed: a change made at start-up is
 *  seen by every thread started after it, and a late change only needs to be
 *  seen eventually.
 */
#include "ru_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static atomic_int s_level = RU_LOG_INFO;

static const struct {
    ru_log_level level;
    const char *name;
} s_levels[] = {
    {RU_LOG_ERR, "error"},
    {RU_LOG_WARN, "warn"},
    {RU_LOG_INFO, "info"},
    {RU_LOG_DEBUG, "debug"},
};

#define S_NLEVELS (sizeof s_levels / sizeof s_levels[0])

void
ru_log_set_level(ru_log_level level)
{
    atomic_store_explicit(&s_level, (int) level, memory_order_relaxed);
}

ru_log_level
ru_log_get_level(void)
{
    return (ru_log_level) atomic_load_explicit(&s_level, memory_order_relaxed);
}

ru_err
ru_log_level_parse(const char *name, ru_log_level *out)
{
    for (size_t i = 0; name && i < S_NLEVELS; i++) {
        if (strcmp(name, s_levels[i].name) == 0) {
            *out = s_levels[i].level;
            return RU_OK;
        }
    }
    return RU_E_INVALID;
}

const char *
ru_log_level_name(ru_log_level level)
{
    for (size_t i = 0; i < S_NLEVELS; i++) {
        if (s_levels[i].level == level)
            return s_levels[i].name;
    }
    return "unknown";
}

/*  Control characters (line breaks above all) become spaces. */
static void
s_flatten(char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) text[i];
        if (c < 0x20 || c == 0x7f)
            text[i] = ' ';
    }
}

/*  Ends a line that was cut with "...", not in the middle of a UTF-8
 *  sequence; start is where the message begins. Returns the new length. */
static size_t
s_mark_cut(char *line, size_t start, size_t len)
{
    size_t end = len >= start + 3 ? len - 3 : start;
    while (end > start && ((unsigned char) line[end] & 0xc0) == 0x80)
        end--; /* back to the lead byte of a cut sequence */
    memset(line + end, '.', 3);
    return end + 3;
}

/*  One write; a signal before anything was written is retried. Errors are
 *  dropped: there is nowhere left to report them. */
static void
s_write(const char *line, size_t len)
{
    ssize_t n;
    do {
        n = write(STDERR_FILENO, line, len);
    } while (n < 0 && errno == EINTR);
}

/*  Builds the line into line (RU_LOG_LINE_MAX bytes); returns its length,
 *  newline included, or 0 if nothing could be formatted. */
static size_t RU_LOG_FORMAT(4, 0)
    s_format(char *line, ru_log_level level, const char *component, const char *fmt, va_list ap)
{
    size_t room = RU_LOG_LINE_MAX - 1; /* keeps a byte for the newline */
    int head = snprintf(line, room, "<%d>%s: ", (int) level, component ? component : "?");
    if (head < 0)
        return 0;
    size_t len = (size_t) head < room ? (size_t) head : room - 1;
    int body = vsnprintf(line + len, room - len, fmt, ap);
    size_t want = (size_t) head + (body < 0 ? 0 : (size_t) body);
    len = want < room - 1 ? want : room - 1;
    size_t start = 3; /* after "<N>" */
    s_flatten(line + start, len - start);
    if (want > len)
        len = s_mark_cut(line, start, len);
    line[len++] = '\n';
    return len;
}

void
ru_log(ru_log_level level, const char *component, const char *fmt, ...)
{
    if ((int) level > atomic_load_explicit(&s_level, memory_order_relaxed))
        return;
    int saved_errno = errno; /* callers may log and then look at errno */
    char line[RU_LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    size_t len = s_format(line, level, component, fmt, ap);
    va_end(ap);
    if (len)
        s_write(line, len);
    errno = saved_errno;
}
