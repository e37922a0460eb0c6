/*  ru_args.c - positional arguments and long options (see ru_args.h).
 */
#include "ru_args.h"

#include <stdio.h>
#include <string.h>

/*  Finds the spec declaring the option named by the n bytes at name.
 *  Returns it, or NULL; *takes_value tells whether it ends in '='. */
static const char *
s_find(const char *const *specs, const char *name, size_t n, int *takes_value)
{
    for (size_t i = 0; specs != NULL && specs[i] != NULL; i++) {
        size_t len = strlen(specs[i]);
        int value = len > 0 && specs[i][len - 1] == '=';
        if (len - (size_t) value == n && strncmp(specs[i], name, n) == 0) {
            *takes_value = value;
            return specs[i];
        }
    }
    return NULL;
}

/*  Appends option spec with value to list (*n entries of RU_ARGS_MAX). */
static ru_err
s_append(ru_args_opt_t *list, size_t *n, const char *spec, const char *value, char *err,
         size_t errlen)
{
    if (*n == RU_ARGS_MAX) {
        (void) snprintf(err, errlen, "too many options");
        return RU_E_INVALID;
    }
    list[(*n)++] = (ru_args_opt_t){spec, value};
    return RU_OK;
}

/*  Records option spec with value; a repeated option keeps the last. */
static ru_err
s_set(ru_args_t *self, const char *spec, const char *value, char *err, size_t errlen)
{
    ru_err e = s_append(self->seq, &self->nseq, spec, value, err, errlen);
    for (size_t i = 0; e == RU_OK && i < self->nopt; i++)
        if (self->opt[i].name == spec) {
            self->opt[i].value = value;
            return RU_OK;
        }
    return e == RU_OK ? s_append(self->opt, &self->nopt, spec, value, err, errlen) : e;
}

/*  Reads the option at argv[*i] (it starts with '-'), and its value from
 *  argv[*i + 1] when it takes one; advances *i past what it read. */
static ru_err
s_option(ru_args_t *self, const char *const *specs, int argc, char **argv, int *i, char *err,
         size_t errlen)
{
    const char *arg = strcmp(argv[*i], "-h") == 0 ? "--help" : argv[*i];
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t) (eq - arg) : strlen(arg);
    int takes_value;
    const char *spec = arg[1] == '-' ? s_find(specs, arg, n, &takes_value) : NULL;
    if (spec == NULL) {
        (void) snprintf(err, errlen,
                        "unknown option %.*s (-- before an argument that begins with -)", (int) n,
                        arg);
        return RU_E_INVALID;
    }
    const char *value = "";
    if (takes_value && eq != NULL) {
        value = eq + 1;
    } else if (takes_value) {
        if (*i + 1 >= argc) {
            (void) snprintf(err, errlen, "option %s needs a value", arg);
            return RU_E_INVALID;
        }
        value = argv[++*i];
    } else if (eq != NULL) {
        (void) snprintf(err, errlen, "option %.*s takes no value", (int) n, arg);
        return RU_E_INVALID;
    }
    ++*i;
    return s_set(self, spec, value, err, errlen);
}

ru_err
ru_args_parse(ru_args_t *self, const char *const *specs, int flags, int argc, char **argv,
              char *err, size_t errlen)
{
    int options = 1;
    memset(self, 0, sizeof *self);
    int i = 0;
    while (i < argc) {
        const char *arg = argv[i];
        if (options && strcmp(arg, "--") == 0) {
            options = 0;
            i++;
        } else if (options && arg[0] == '-' && arg[1] != '\0') {
            ru_err e = s_option(self, specs, argc, argv, &i, err, errlen);
            if (e != RU_OK)
                return e;
        } else if (flags & RU_ARGS_STOP) {
            break;
        } else if (self->npos == RU_ARGS_MAX) {
            (void) snprintf(err, errlen, "too many arguments");
            return RU_E_INVALID;
        } else {
            self->pos[self->npos++] = argv[i++];
        }
    }
    self->next = i;
    return RU_OK;
}

const char *
ru_args_get(const ru_args_t *self, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < self->nopt; i++)
        if (strncmp(self->opt[i].name, name, n) == 0 &&
            (self->opt[i].name[n] == '\0' || self->opt[i].name[n] == '='))
            return self->opt[i].value;
    return NULL;
}
