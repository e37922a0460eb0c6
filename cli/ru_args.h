/*  ru_args.h - command-line arguments of one ruche command: positional
 *  arguments and long options, in any order.
 *
 *  Options are declared as a NULL-terminated list of their names; a name
 *  ending in '=' takes a value ("--limit=" accepts "--limit 5" and
 *  "--limit=5"), other names are flags. "--" ends the options, so
 *  "ruche post -- --not-an-option" posts that text; a lone "-" is a
 *  positional argument; "-h" means "--help" when "--help" is declared.
 *  A repeated option keeps its last value, and every option given is also
 *  listed in the order given (seq), for options that go in pairs
 *  ("--attach A --alt X --attach B").
 *  Pure code: the result points into argv and the spec strings.
 */
#ifndef RU_ARGS_H
#define RU_ARGS_H

#include <stddef.h>

#include "ruche/ru_error.h"

/*  At most this many positional arguments and options in one command. */
#define RU_ARGS_MAX 16

/*  An option given. */
typedef struct {
    const char *name;  /* its spec, as declared (with any '=') */
    const char *value; /* its value; "" for a flag */
} ru_args_opt_t;

typedef struct {
    const char *pos[RU_ARGS_MAX]; /* positional arguments, in order */
    size_t npos;
    ru_args_opt_t opt[RU_ARGS_MAX]; /* each option once, with its last value */
    size_t nopt;
    ru_args_opt_t seq[RU_ARGS_MAX]; /* every option given, repeated ones too, in order */
    size_t nseq;
    int next; /* with RU_ARGS_STOP: index of the first argument not read */
} ru_args_t;

/*  Stop at the first positional argument instead of collecting it. */
#define RU_ARGS_STOP 1

/*  Parses argc arguments of argv against the declared options specs (may
 *  be NULL for none). A repeated option keeps its last value. RU_E_INVALID
 *  with a message for people in err (errlen bytes) for an unknown option,
 *  a missing value, a value given to a flag, or too many arguments or
 *  options (RU_ARGS_MAX each, repeated options counted every time). */
RU_MUST_CHECK ru_err ru_args_parse(ru_args_t *self, const char *const *specs, int flags, int argc,
                                   char **argv, char *err, size_t errlen);

/*  The value of the option name ("--limit"): "" for a flag that was given,
 *  NULL when the option was not given. */
const char *ru_args_get(const ru_args_t *self, const char *name);

#endif
