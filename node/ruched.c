/*  ruched.c - the ruche node daemon: command line entry point.
 *
 *  This first form manages the node key: --keygen DIR makes the key of a
 *  new node, --show-key DIR prints the node id of an existing one. The
 *  options live in one table (s_options), which also writes --help; a new
 *  mode of the daemon is one more row and one more function.
 *
 *  Standard output carries only the result a script wants (the public key);
 *  everything for people goes to standard error through ru_log, whose
 *  "<N>" prefixes journald understands. Exit status: 0 success, 1 the
 *  command failed (the reason is on standard error), 2 usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ru_keyfile.h"
#include "ru_log.h"

#ifndef RUCHE_VERSION
#define RUCHE_VERSION "unknown"
#endif

#define S_LOG "ruched"

enum { S_EXIT_OK = 0, S_EXIT_FAIL = 1, S_EXIT_USAGE = 2 };

struct s_option {
    const char *name;  /* long form */
    const char *alias; /* short form, or NULL */
    const char *arg;   /* name of the one argument it takes, or NULL */
    int (*run)(const char *arg);
    const char *help;
};

static int s_keygen(const char *dir);
static int s_show_key(const char *dir);
static int s_version(const char *unused);
static int s_help(const char *unused);

static const struct s_option s_options[] = {
    {"--keygen", NULL, "DIR", s_keygen, "write a new node key in DIR, print its public key"},
    {"--show-key", NULL, "DIR", s_show_key, "print the public key of the node key in DIR"},
    {"--version", "-V", NULL, s_version, "print the version and exit"},
    {"--help", "-h", NULL, s_help, "print this help and exit"},
};

#define S_NOPTIONS (sizeof s_options / sizeof s_options[0])

static const char s_epilogue[] =
    "\n"
    "DIR is the node's data directory. --keygen creates it with mode 0700 if it\n"
    "is missing and never replaces an existing key: the key is the node's\n"
    "identity. The public key (the node id) is also written to DIR/node.pub.\n"
    "\n"
    "Exit status:\n"
    "  0  success\n"
    "  1  the command failed; the reason is written to standard error\n"
    "  2  usage error: unknown option, missing or extra argument\n";

static void
s_usage(FILE *out)
{
    (void) fprintf(out, "Usage: ruched OPTION [ARGUMENT]\n\nThe ruche node daemon.\n\nOptions:\n");
    for (size_t i = 0; i < S_NOPTIONS; i++) {
        const struct s_option *o = &s_options[i];
        char left[40];
        (void) snprintf(left, sizeof left, "%s%s%s%s%s", o->alias ? o->alias : "",
                        o->alias ? ", " : "    ", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        (void) fprintf(out, "  %-20s %s\n", left, o->help);
    }
    (void) fputs(s_epilogue, out);
}

/*  Standard output is where the result goes: a failed write is a failure. */
static int
s_flush_stdout(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ru_log_err(S_LOG, "cannot write to standard output: %s", strerror(errno));
        return S_EXIT_FAIL;
    }
    return S_EXIT_OK;
}

static int
s_print_public(const ru_key_t *key)
{
    char text[RU_KEY_TEXT_SIZE];
    ru_keyfile_public_text(key, text);
    printf("%s\n", text);
    return s_flush_stdout();
}

/*  Makes the data directory, owner only, unless it exists. */
static int
s_make_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, S_IRWXU) == 0) {
        ru_log_info(S_LOG, "created data directory %s", dir);
        return S_EXIT_OK;
    }
    if (errno != EEXIST) {
        ru_log_err(S_LOG, "cannot create data directory %s: %s", dir, strerror(errno));
        return S_EXIT_FAIL;
    }
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & (S_IRWXG | S_IRWXO)))
        ru_log_warn(S_LOG, "data directory %s has mode %04o; 0700 keeps other users out", dir,
                    (unsigned) (st.st_mode & 07777));
    return S_EXIT_OK;
}

/*  Gets the key of dir with get (create or load) and prints its public key. */
static int
s_print_key_of(const char *dir, ru_err (*get)(const char *, ru_key_t **))
{
    ru_key_t *key = NULL;
    if (get(dir, &key) != RU_OK)
        return S_EXIT_FAIL; /* ru_keyfile logged why */
    int status = s_print_public(key);
    ru_key_destroy(&key);
    return status;
}

static int
s_keygen(const char *dir)
{
    if (s_make_dir(dir) != S_EXIT_OK)
        return S_EXIT_FAIL;
    return s_print_key_of(dir, ru_keyfile_create);
}

static int
s_show_key(const char *dir)
{
    return s_print_key_of(dir, ru_keyfile_load);
}

static int
s_version(const char *unused)
{
    (void) unused;
    printf("ruched %s\n", RUCHE_VERSION);
    return s_flush_stdout();
}

static int
s_help(const char *unused)
{
    (void) unused;
    s_usage(stdout);
    return s_flush_stdout();
}

static const struct s_option *
s_find(const char *word)
{
    for (size_t i = 0; i < S_NOPTIONS; i++) {
        const struct s_option *o = &s_options[i];
        if (strcmp(word, o->name) == 0 || (o->alias && strcmp(word, o->alias) == 0))
            return o;
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    const struct s_option *opt = argc >= 2 ? s_find(argv[1]) : NULL;
    if (argc < 2)
        (void) fprintf(stderr, "ruched: an option is required\n");
    else if (!opt)
        (void) fprintf(stderr, "ruched: unknown option '%s'\n", argv[1]);
    else if (argc != (opt->arg ? 3 : 2))
        (void) fprintf(stderr, "ruched: %s takes %s%s\n", opt->name,
                       opt->arg ? "one argument, " : "no argument", opt->arg ? opt->arg : "");
    else
        return opt->run(opt->arg ? argv[2] : NULL);
    s_usage(stderr);
    return S_EXIT_USAGE;
}
