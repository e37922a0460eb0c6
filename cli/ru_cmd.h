/*  ru_cmd.h - the frame every ruche command runs in: the command table,
 *  its dispatcher and help, and the context (ru_ctx_t) with the helpers
 *  that commands share: the one client, the saved login, requests that
 *  report their own errors, JSON output.
 *
 *  A command handler gets its parsed arguments and returns the process
 *  exit status:
 *      0  success
 *      1  the request failed: the server's message and HTTP status, or why
 *         no reply came, are on standard error
 *      2  usage error
 *      3  not logged in (no saved login for this server, or the server
 *         refused the token)
 *  Handlers print results on standard output and nothing else there; every
 *  message for people goes to standard error, prefixed "ruche: ".
 */
#ifndef RU_CMD_H
#define RU_CMD_H

#include <jansson.h>
#include <stdio.h>

#include "ru_args.h"
#include "ru_client.h"
#include "ru_creds.h"

enum { RU_EXIT_OK = 0, RU_EXIT_FAIL = 1, RU_EXIT_USAGE = 2, RU_EXIT_AUTH = 3 };

/*  The server used when neither --server, RUCHE_SERVER nor a saved login
 *  names one. */
#define RU_CMD_DEFAULT_SERVER "http://127.0.0.1:8080"
/*  Longest id accepted on the command line (status, account, group). */
#define RU_CMD_MAX_ID 64

/*  Whether a request carries the saved access token. */
typedef enum {
    RU_AUTH_NONE,     /* never (logging in) */
    RU_AUTH_OPTIONAL, /* when logged in to this server (public reads) */
    RU_AUTH_REQUIRED  /* exit 3 before any request when not logged in */
} ru_auth;

typedef struct {
    const char *server_opt; /* --server, or NULL */
    int json;               /* --json: print the server's JSON */
    FILE *out;              /* where results go (stdout) */
    long total_ms;          /* a request's total timeout; 0: RU_CLIENT_TOTAL_MS */
    /* filled on the first request: */
    char *server; /* the server in use, normal form */
    ru_creds_t creds;
    int logged_in; /* creds hold a login for server */
    ru_client_t *client;
} ru_ctx_t;

void ru_ctx_init(ru_ctx_t *ctx, FILE *out);
void ru_ctx_fini(ru_ctx_t *ctx);

/*  The server commands talk to: --server, else RUCHE_SERVER, else the
 *  saved login's, else RU_CMD_DEFAULT_SERVER. Loads the saved login on the
 *  first use. Returns an exit status (2 for a malformed URL). */
int ru_ctx_server(ru_ctx_t *ctx, const char **server);

/*  Sends a request (see ru_client_call) and reports any failure on
 *  standard error: no reply, an unreadable reply, or a status that is
 *  not 2xx, with the server's message. Zeroes *reply first; the caller
 *  ru_reply_fini()s it whatever the result. Returns an exit status: 3
 *  for a 401 reply to a request that could carry a token. */
int ru_ctx_call(ru_ctx_t *ctx, ru_auth auth, const char *method, const char *path,
                const json_t *body, ru_reply_t *reply);

/*  POSTs the file at path file to path with the saved login as a
 *  multipart upload (see ru_client_upload: its file name name, and its
 *  description when not NULL); otherwise like ru_ctx_call. */
int ru_ctx_upload(ru_ctx_t *ctx, const char *path, const char *file, const char *name,
                  const char *description, ru_reply_t *reply);

/*  GETs path with the saved login and writes the body of a 2xx reply to
 *  out as it comes (a backup, an export: any size, any type); *written
 *  counts its bytes. Failures are reported as by ru_ctx_call. */
int ru_ctx_download(ru_ctx_t *ctx, const char *path, FILE *out, size_t *written);

/*  Checks that a reply holds JSON of the given type (JSON_OBJECT,
 *  JSON_ARRAY); says so on standard error otherwise. Exit status. */
int ru_ctx_expect(const ru_reply_t *reply, json_type type, const char *what);

/*  Prints json (or {} for NULL) indented on ctx->out. Exit status. */
int ru_ctx_print_json(ru_ctx_t *ctx, const json_t *json);

/*  Prints "ruche: MESSAGE" on standard error and returns status. */
int ru_ctx_say(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*  Writes a request path with snprintf into buf (size bytes); a path that
 *  does not fit is a usage error (an argument too long). Exit status. */
int ru_ctx_path(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*  Checks id (see ru_ctx_check_id; what names it) and writes the request
 *  path "PREFIX/ID SUFFIX" into buf (size bytes). Exit status. */
int ru_ctx_id_path(char *buf, size_t size, const char *what, const char *prefix, const char *id,
                   const char *suffix);

/*  Is id an id: 1 to RU_CMD_MAX_ID letters, digits, '-' or '_'? */
int ru_ctx_is_id(const char *id);

/*  Checks an id given on the command line (ru_ctx_is_id); what names it
 *  in the message. Exit status. */
int ru_ctx_check_id(const char *what, const char *id);

/*  The text of a status from its argument: the argument itself, or when it
 *  is "-", standard input (one trailing newline dropped). Checks that it
 *  is UTF-8 of at most RU_MAX_TEXT_BYTES, and not empty unless may_be_empty
 *  (a status with attachments); arg NULL (no TEXT given) is the empty text.
 *  *text is malloc'd (free()). Exit status. */
int ru_ctx_text(const char *arg, int may_be_empty, char **text);

typedef int (*ru_cmd_fn)(ru_ctx_t *ctx, const ru_args_t *args);

/*  What a handler returns, instead of an exit status, when an argument it
 *  needs is missing in a way its row's min_pos cannot say (post's TEXT,
 *  which may be left out when there are files): ru_cmd_run says "missing
 *  argument" with the command's usage, as for too few arguments, and exits
 *  RU_EXIT_USAGE. */
#define RU_CMD_MISSING (-1)

/*  One row of a command table; a table ends with a row whose name is NULL.
 *  A row either runs fn or holds a table of subcommands (sub). */
typedef struct ru_cmd {
    const char *name;
    const char *usage; /* its arguments, e.g. "ID TEXT [--visibility V]" */
    const char *help;  /* one line */
    size_t min_pos;    /* positional arguments it takes */
    size_t max_pos;
    const char *const *opts; /* its options (see ru_args.h), or NULL */
    ru_cmd_fn fn;
    const struct ru_cmd *sub;
    int is_default; /* runs when its table's command is given no subcommand */
} ru_cmd_t;

/*  Options every command accepts, besides its own. */
#define RU_CMD_GLOBAL_OPTS "--server=", "--json", "--help"

/*  Runs the command that argv names in table (argv[0] is its name, or an
 *  option when the table has a default row); prefix is the words before
 *  it ("ruche", "ruche groups"), for messages. Parses the arguments,
 *  handles --help, --json and --server, checks the number of positional
 *  arguments, then calls the handler. Returns the exit status. */
int ru_cmd_run(const ru_cmd_t *table, ru_ctx_t *ctx, const char *prefix, int argc, char **argv);

/*  Writes the list of commands of table, subcommands expanded, one line
 *  each; with filter, only the commands whose first word is filter.
 *  Returns how many lines were written. */
size_t ru_cmd_help(const ru_cmd_t *table, const char *filter, FILE *out);

#endif
