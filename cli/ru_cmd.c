/*  ru_cmd.c - command dispatch, help, and the shared context of the
 *  commands (see ru_cmd.h).
 *
 *  The context loads the saved login lazily, on the first request, so that
 *  "ruche help" or a usage error never touches the file system. The token
 *  goes only to the server the login was made on: with --server naming
 *  another one, the user is not logged in there.
 */
#include "ru_cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ru_html.h"
#include "ru_url.h"
#include "ruche/ru_limits.h"
#include "ruche/ru_text.h"

void
ru_ctx_init(ru_ctx_t *ctx, FILE *out)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->out = out;
}

void
ru_ctx_fini(ru_ctx_t *ctx)
{
    ru_client_destroy(&ctx->client);
    ru_creds_fini(&ctx->creds);
    free(ctx->server);
    ctx->server = NULL;
}

int
ru_ctx_say(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void) fputs("ruche: ", stderr);
    (void) vfprintf(stderr, fmt, ap);
    (void) fputs("\n", stderr);
    va_end(ap);
    return status;
}

/*  Loads the saved login into ctx->creds; says why a file is ignored.
 *  Returns whether a login was loaded. */
static int
s_load_creds(ru_ctx_t *ctx)
{
    char *path;
    if (ru_creds_path(&path) != RU_OK)
        return 0;
    ru_err e = ru_creds_load(&ctx->creds, path);
    if (e == RU_E_KEY_MODE)
        (void) ru_ctx_say(0, "ignoring %s: others may read it (chmod 600 %s)", path, path);
    else if (e == RU_E_IO)
        (void) ru_ctx_say(0, "ignoring %s: %s", path, strerror(errno));
    else if (e != RU_OK && e != RU_E_NOT_FOUND)
        (void) ru_ctx_say(0, "ignoring %s: %s; log in again", path, ru_err_str(e));
    free(path);
    return e == RU_OK;
}

int
ru_ctx_server(ru_ctx_t *ctx, const char **server)
{
    if (ctx->server == NULL) {
        int have = s_load_creds(ctx);
        const char *env = getenv("RUCHE_SERVER");
        const char *src = ctx->server_opt         ? ctx->server_opt
                          : env && env[0] != '\0' ? env
                          : have                  ? ctx->creds.server
                                                  : RU_CMD_DEFAULT_SERVER;
        ru_err e = ru_url_server(src, &ctx->server);
        if (e == RU_E_NOMEM)
            return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
        if (e != RU_OK)
            return ru_ctx_say(RU_EXIT_USAGE, "not a server URL: %s (give http://HOST:PORT)", src);
        char *saved = NULL;
        ctx->logged_in = have && ru_url_server(ctx->creds.server, &saved) == RU_OK &&
                         strcmp(saved, ctx->server) == 0;
        free(saved);
    }
    *server = ctx->server;
    return RU_EXIT_OK;
}

static int
s_not_logged_in(const ru_ctx_t *ctx)
{
    if (ctx->creds.server != NULL)
        return ru_ctx_say(RU_EXIT_AUTH,
                          "not logged in on %s (the saved login is for %s); "
                          "log in with: ruche --server %s login NAME",
                          ctx->server, ctx->creds.server, ctx->server);
    return ru_ctx_say(RU_EXIT_AUTH, "not logged in; log in with: ruche login NAME");
}

/*  Reports a reply whose status is not 2xx. */
static int
s_http_error(const ru_ctx_t *ctx, ru_auth auth, const ru_reply_t *reply)
{
    const char *msg = ru_reply_message(reply);
    char *clean = NULL;
    if (msg != NULL && ru_html_clean(msg, 0, &clean) != RU_OK)
        clean = NULL;
    (void) ru_ctx_say(0, "%s (HTTP %ld)", clean ? clean : "the server refused the request",
                      reply->status);
    free(clean);
    if (reply->status != 401 || auth == RU_AUTH_NONE)
        return RU_EXIT_FAIL;
    if (ctx->logged_in)
        return ru_ctx_say(RU_EXIT_AUTH,
                          "the saved login was refused; log in again with: "
                          "ruche login %s",
                          ctx->creds.username);
    return s_not_logged_in(ctx);
}

/*  Makes the client ready for a request of auth. Exit status. */
static int
s_ready(ru_ctx_t *ctx, ru_auth auth)
{
    const char *server = NULL;
    int rc = ru_ctx_server(ctx, &server);
    if (rc != RU_EXIT_OK)
        return rc;
    if (auth == RU_AUTH_REQUIRED && !ctx->logged_in)
        return s_not_logged_in(ctx);
    if (ctx->client == NULL && (ctx->client = ru_client_new(server)) == NULL)
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    ru_client_set_timeouts(ctx->client, RU_CLIENT_CONNECT_MS,
                           ctx->total_ms > 0 ? ctx->total_ms : RU_CLIENT_TOTAL_MS);
    const char *token = auth != RU_AUTH_NONE && ctx->logged_in ? ctx->creds.token : NULL;
    if (ru_client_set_token(ctx->client, token) != RU_OK)
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    return RU_EXIT_OK;
}

/*  Reports what a request of auth that returned e brought back in reply,
 *  when it is not a 2xx reply. Exit status. */
static int
s_replied(const ru_ctx_t *ctx, ru_auth auth, ru_err e, const ru_reply_t *reply)
{
    if (e != RU_OK)
        return ru_ctx_say(RU_EXIT_FAIL, "%s", ru_client_error(ctx->client));
    if (reply->status < 200 || reply->status > 299)
        return s_http_error(ctx, auth, reply);
    return RU_EXIT_OK;
}

int
ru_ctx_call(ru_ctx_t *ctx, ru_auth auth, const char *method, const char *path, const json_t *body,
            ru_reply_t *reply)
{
    memset(reply, 0, sizeof *reply);
    int rc = s_ready(ctx, auth);
    if (rc != RU_EXIT_OK)
        return rc;
    return s_replied(ctx, auth, ru_client_call(ctx->client, method, path, body, reply), reply);
}

int
ru_ctx_upload(ru_ctx_t *ctx, const char *path, const char *file, const char *name,
              const char *description, ru_reply_t *reply)
{
    memset(reply, 0, sizeof *reply);
    int rc = s_ready(ctx, RU_AUTH_REQUIRED);
    if (rc != RU_EXIT_OK)
        return rc;
    ru_err e = ru_client_upload(ctx->client, path, file, name, description, reply);
    return s_replied(ctx, RU_AUTH_REQUIRED, e, reply);
}

int
ru_ctx_download(ru_ctx_t *ctx, const char *path, FILE *out, size_t *written)
{
    ru_reply_t reply = {0};
    int rc = s_ready(ctx, RU_AUTH_REQUIRED);
    if (rc == RU_EXIT_OK && ru_client_download(ctx->client, path, out, &reply, written) != RU_OK)
        rc = ru_ctx_say(RU_EXIT_FAIL, "%s", ru_client_error(ctx->client));
    if (rc == RU_EXIT_OK && (reply.status < 200 || reply.status > 299))
        rc = s_http_error(ctx, RU_AUTH_REQUIRED, &reply);
    ru_reply_fini(&reply);
    return rc;
}

int
ru_ctx_expect(const ru_reply_t *reply, json_type type, const char *what)
{
    if (reply->json != NULL && json_typeof(reply->json) == type)
        return RU_EXIT_OK;
    return ru_ctx_say(RU_EXIT_FAIL, "unexpected reply from the server: %s expected (HTTP %ld)",
                      what, reply->status);
}

int
ru_ctx_print_json(ru_ctx_t *ctx, const json_t *json)
{
    json_t *empty = json ? NULL : json_object();
    int bad = json_dumpf(json ? json : empty, ctx->out, JSON_INDENT(2)) != 0;
    json_decref(empty);
    if (bad || fputc('\n', ctx->out) == EOF)
        return ru_ctx_say(RU_EXIT_FAIL, "cannot write the reply");
    return RU_EXIT_OK;
}

int
ru_ctx_path(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t) n >= size)
        return ru_ctx_say(RU_EXIT_USAGE, "an argument is too long");
    return RU_EXIT_OK;
}

int
ru_ctx_id_path(char *buf, size_t size, const char *what, const char *prefix, const char *id,
               const char *suffix)
{
    int rc = ru_ctx_check_id(what, id);
    return rc != RU_EXIT_OK ? rc : ru_ctx_path(buf, size, "%s/%s%s", prefix, id, suffix);
}

int
ru_ctx_is_id(const char *id)
{
    size_t n = strspn(id, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_");
    return n > 0 && id[n] == '\0' && n <= RU_CMD_MAX_ID;
}

int
ru_ctx_check_id(const char *what, const char *id)
{
    if (!ru_ctx_is_id(id))
        return ru_ctx_say(RU_EXIT_USAGE, "not a %s id: \"%s\"", what, id);
    return RU_EXIT_OK;
}

/*  Reads standard input, up to RU_MAX_TEXT_BYTES + 1 bytes. */
static int
s_read_stdin(char **text)
{
    char *buf = malloc(RU_MAX_TEXT_BYTES + 2);
    if (buf == NULL)
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    size_t n = fread(buf, 1, RU_MAX_TEXT_BYTES + 1, stdin);
    if (ferror(stdin)) {
        free(buf);
        return ru_ctx_say(RU_EXIT_FAIL, "cannot read the text from standard input");
    }
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    buf[n] = '\0';
    *text = buf;
    return RU_EXIT_OK;
}

int
ru_ctx_text(const char *arg, int may_be_empty, char **text)
{
    *text = NULL;
    char *t = NULL;
    int rc = arg != NULL && strcmp(arg, "-") == 0 ? s_read_stdin(&t) : RU_EXIT_OK;
    if (rc != RU_EXIT_OK)
        return rc;
    if (t == NULL && (t = strdup(arg ? arg : "")) == NULL)
        return ru_ctx_say(1, "out of memory");
    size_t len = strlen(t);
    if (len == 0 && !may_be_empty)
        rc = ru_ctx_say(RU_EXIT_USAGE, "the text is empty");
    else if (len > RU_MAX_TEXT_BYTES)
        rc = ru_ctx_say(RU_EXIT_USAGE, "the text is longer than %d bytes", RU_MAX_TEXT_BYTES);
    else if (ru_utf8_check(t, len, NULL) != RU_OK)
        rc = ru_ctx_say(RU_EXIT_USAGE, "the text is not valid UTF-8");
    if (rc != RU_EXIT_OK) {
        free(t);
        return rc;
    }
    *text = t;
    return RU_EXIT_OK;
}

static const ru_cmd_t *
s_find(const ru_cmd_t *table, const char *name)
{
    for (const ru_cmd_t *c = table; c->name != NULL; c++)
        if (name != NULL ? strcmp(c->name, name) == 0 : c->is_default)
            return c;
    return NULL;
}

static void
s_usage(FILE *out, const ru_cmd_t *cmd, const char *name)
{
    (void) fprintf(out, "Usage: %s%s%s\n  %s\n", name, cmd->usage[0] ? " " : "", cmd->usage,
                   cmd->help);
}

static int
s_usage_error(const ru_cmd_t *cmd, const char *name, const char *why)
{
    (void) ru_ctx_say(0, "%s", why);
    s_usage(stderr, cmd, name);
    return RU_EXIT_USAGE;
}

/*  Parses the arguments of the command cmd (called name) and runs it. */
static int
s_leaf(const ru_cmd_t *cmd, ru_ctx_t *ctx, const char *name, int argc, char **argv)
{
    const char *specs[RU_ARGS_MAX + 4] = {RU_CMD_GLOBAL_OPTS};
    size_t n = 3;
    for (size_t i = 0; cmd->opts != NULL && cmd->opts[i] != NULL && n < RU_ARGS_MAX; i++)
        specs[n++] = cmd->opts[i];
    ru_args_t args;
    char err[160];
    if (ru_args_parse(&args, specs, 0, argc, argv, err, sizeof err) != RU_OK)
        return s_usage_error(cmd, name, err);
    if (ru_args_get(&args, "--help") != NULL) {
        s_usage(ctx->out, cmd, name);
        return RU_EXIT_OK;
    }
    if (ru_args_get(&args, "--json") != NULL)
        ctx->json = 1;
    if (ru_args_get(&args, "--server") != NULL)
        ctx->server_opt = ru_args_get(&args, "--server");
    if (args.npos < cmd->min_pos)
        return s_usage_error(cmd, name, "missing argument");
    if (args.npos > cmd->max_pos)
        return s_usage_error(cmd, name, "too many arguments (quote a text of several words)");
    int rc = cmd->fn(ctx, &args);
    return rc == RU_CMD_MISSING ? s_usage_error(cmd, name, "missing argument") : rc;
}

int
ru_cmd_run(const ru_cmd_t *table, ru_ctx_t *ctx, const char *prefix, int argc, char **argv)
{
    int named = argc > 0 && argv[0][0] != '-';
    const ru_cmd_t *cmd = s_find(table, named ? argv[0] : NULL);
    if (cmd == NULL && named)
        return ru_ctx_say(RU_EXIT_USAGE, "unknown command \"%s %s\"; see: ruche help", prefix,
                          argv[0]);
    if (cmd == NULL)
        return ru_ctx_say(RU_EXIT_USAGE, "%s: which command? see: ruche help", prefix);
    char name[128];
    (void) snprintf(name, sizeof name, "%s %s", prefix, cmd->name);
    if (cmd->sub != NULL)
        return ru_cmd_run(cmd->sub, ctx, name, argc - named, argv + named);
    return s_leaf(cmd, ctx, name, argc - named, argv + named);
}

/*  Writes the help lines of table, each command after prefix. */
static size_t
s_help(const ru_cmd_t *table, const char *prefix, const char *filter, FILE *out)
{
    size_t lines = 0;
    for (const ru_cmd_t *c = table; c->name != NULL; c++) {
        if (filter != NULL && strcmp(filter, c->name) != 0)
            continue;
        char left[128];
        (void) snprintf(left, sizeof left, "%s%s%s%s%s", prefix, prefix[0] ? " " : "",
                        c->is_default ? "[" : "", c->name, c->is_default ? "]" : "");
        if (c->sub != NULL) {
            lines += s_help(c->sub, left, NULL, out);
            continue;
        }
        char full[192];
        (void) snprintf(full, sizeof full, "%s%s%s", left, c->usage[0] ? " " : "", c->usage);
        if (strlen(full) > 38)
            (void) fprintf(out, "  %s\n  %-38s %s\n", full, "", c->help);
        else
            (void) fprintf(out, "  %-38s %s\n", full, c->help);
        lines++;
    }
    return lines;
}

size_t
ru_cmd_help(const ru_cmd_t *table, const char *filter, FILE *out)
{
    return s_help(table, "", filter, out);
}
