/*  ru_cmd_account.c - login, logout, whoami, follow, unfollow, account and
 *  (see ru_cmd_account.h).
 *
 *  login uses the OAuth password grant (POST /oauth/token) and saves the
 *  token with ru_creds; the password is held in secret memory only as
 *  long as the request takes. The token never reaches standard output:
 *  with --json, the token reply is printed without it.
 */
#include "ru_cmd_account.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ru_cmd_status.h"
#include "ru_html.h"
#include "ru_password.h"
#include "ru_render.h"
#include "ru_secret.h"
#include "ru_url.h"
#include "ruche/ru_text.h"

#define S_PATH 1024

/*  Gets the password: --password-stdin, else RUCHE_PASSWORD, else asked
 *  at the terminal. */
static int
s_password(const ru_args_t *args, const char *name, const char *server, char **pw)
{
    const char *env = getenv("RUCHE_PASSWORD");
    char prompt[512];
    ru_err e;
    if (ru_args_get(args, "--password-stdin") != NULL) {
        e = ru_password_read_line(stdin, pw);
    } else if (env != NULL && env[0] != '\0') {
        e = ru_secret_dup(env, pw);
    } else {
        (void) snprintf(prompt, sizeof prompt, "Password for %s on %s: ", name, server);
        e = ru_password_prompt(prompt, pw);
    }
    switch (e) {
    case RU_OK:
        return RU_EXIT_OK;
    case RU_E_NOT_FOUND:
        return ru_ctx_say(RU_EXIT_USAGE, "no terminal to ask for the password: "
                                         "use --password-stdin or RUCHE_PASSWORD");
    case RU_E_INVALID:
        return ru_ctx_say(RU_EXIT_USAGE, "the password is empty");
    case RU_E_TOO_BIG:
        return ru_ctx_say(RU_EXIT_USAGE, "the password is longer than %d bytes", RU_PASSWORD_MAX);
    case RU_E_IO:
        return ru_ctx_say(RU_EXIT_USAGE, "no password on standard input");
    default:
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    }
}

/*  Saves the login made with the token of reply. */
static int
s_save_login(const char *server, const char *name, const ru_reply_t *reply)
{
    const char *token = json_string_value(json_object_get(reply->json, "access_token"));
    ru_creds_t creds;
    char *path = NULL;
    if (token == NULL)
        return ru_ctx_say(RU_EXIT_FAIL, "unexpected reply from the server: no access_token");
    ru_err e = ru_creds_init(&creds, server, name, token);
    if (e == RU_E_INVALID)
        return ru_ctx_say(RU_EXIT_FAIL, "the server sent an access token that is not usable");
    if (e != RU_OK)
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    int rc = RU_EXIT_OK;
    if (ru_creds_path(&path) != RU_OK)
        rc = ru_ctx_say(RU_EXIT_FAIL, "cannot tell where to save the login: set HOME");
    else if ((e = ru_creds_save(&creds, path)) != RU_OK)
        rc = ru_ctx_say(RU_EXIT_FAIL, "cannot save the login in %s: %s", path,
                        e == RU_E_IO ? strerror(errno) : ru_err_str(e));
    free(path);
    ru_creds_fini(&creds);
    return rc;
}

/*  Sends the password grant for name; fills reply. */
static int
s_token_request(ru_ctx_t *ctx, const ru_args_t *args, const char *name, ru_reply_t *reply)
{
    const char *server = NULL;
    char *pw = NULL;
    memset(reply, 0, sizeof *reply);
    int rc = ru_ctx_server(ctx, &server);
    if (rc == RU_EXIT_OK && ru_name_check(name, strlen(name)) != RU_OK)
        rc = ru_ctx_say(RU_EXIT_USAGE, "not a user name: \"%s\"", name);
    if (rc == RU_EXIT_OK)
        rc = s_password(args, name, server, &pw);
    if (rc == RU_EXIT_OK && ru_utf8_check(pw, strlen(pw), NULL) != RU_OK)
        rc = ru_ctx_say(RU_EXIT_USAGE, "the password is not valid UTF-8");
    if (rc != RU_EXIT_OK) {
        ru_secret_free(&pw);
        return rc;
    }
    json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "grant_type", "password", "username", name,
                             "password", pw, "scope", "read write follow");
    ru_secret_free(&pw);
    if (body == NULL)
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    rc = ru_ctx_call(ctx, RU_AUTH_NONE, "POST", "/oauth/token", body, reply);
    json_decref(body);
    return rc;
}

int
ru_cmd_login(ru_ctx_t *ctx, const ru_args_t *args)
{
    const char *name = args->pos[0];
    ru_reply_t reply;
    int rc = s_token_request(ctx, args, name, &reply);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_expect(&reply, JSON_OBJECT, "a token");
    if (rc == RU_EXIT_OK)
        rc = s_save_login(ctx->server, name, &reply);
    if (rc == RU_EXIT_OK && ctx->json) {
        (void) json_object_del(reply.json, "access_token");
        (void) json_object_del(reply.json, "refresh_token");
        rc = ru_ctx_print_json(ctx, reply.json);
    } else if (rc == RU_EXIT_OK) {
        (void) fprintf(ctx->out, "logged in as %s on %s\n", name, ctx->server);
    }
    ru_reply_fini(&reply);
    return rc;
}

/*  Asks the server of a saved login to revoke its token; a failure only
 *  means the token stays valid on the server, so it is not an error. */
static void
s_revoke(const ru_creds_t *creds)
{
    ru_client_t *client = ru_client_new(creds->server);
    json_t *body = json_pack("{s:s}", "token", creds->token);
    ru_reply_t reply = {0};
    if (client != NULL && body != NULL &&
        (ru_client_call(client, "POST", "/oauth/revoke", body, &reply) != RU_OK ||
         reply.status < 200 || reply.status > 299))
        (void) ru_ctx_say(0, "could not revoke the token on %s; the saved login is removed anyway",
                          creds->server);
    ru_reply_fini(&reply);
    json_decref(body);
    ru_client_destroy(&client);
}

int
ru_cmd_logout(ru_ctx_t *ctx, const ru_args_t *args)
{
    (void) args;
    ru_creds_t creds;
    char *path;
    if (ru_creds_path(&path) != RU_OK)
        return ru_ctx_say(RU_EXIT_AUTH, "not logged in");
    ru_err e = ru_creds_load(&creds, path);
    int rc = RU_EXIT_OK;
    if (e == RU_E_NOT_FOUND) {
        rc = ru_ctx_say(RU_EXIT_AUTH, "not logged in");
    } else {
        if (e == RU_OK)
            s_revoke(&creds);
        e = ru_creds_remove(path);
        if (e != RU_OK && e != RU_E_NOT_FOUND)
            rc = ru_ctx_say(RU_EXIT_FAIL, "cannot remove %s: %s", path, strerror(errno));
        else if (ctx->json)
            rc = ru_ctx_print_json(ctx, NULL);
        else
            (void) fprintf(ctx->out, "logged out%s%s\n", creds.server ? " of " : "",
                           creds.server ? creds.server : "");
    }
    ru_creds_fini(&creds);
    free(path);
    return rc;
}

int
ru_cmd_whoami(ru_ctx_t *ctx, const ru_args_t *args)
{
    (void) args;
    ru_reply_t reply;
    int rc = ru_ctx_call(ctx, RU_AUTH_REQUIRED, "GET", "/api/v1/accounts/verify_credentials", NULL,
                         &reply);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_expect(&reply, JSON_OBJECT, "an account");
    if (rc == RU_EXIT_OK && ctx->json)
        rc = ru_ctx_print_json(ctx, reply.json);
    else if (rc == RU_EXIT_OK && ru_render_account(ctx->out, reply.json) != RU_OK)
        rc = ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    ru_reply_fini(&reply);
    return rc;
}

/*  Fetches the account acct names: GET /api/v1/accounts/ID for an id (all
 *  digits), /api/v1/accounts/lookup?acct=NAME for a name. */
static int
s_account(ru_ctx_t *ctx, const char *acct, ru_reply_t *reply)
{
    char path[S_PATH], *enc;
    memset(reply, 0, sizeof *reply);
    acct += acct[0] == '@';
    size_t digits = strspn(acct, "0123456789");
    if (acct[0] == '\0')
        return ru_ctx_say(RU_EXIT_USAGE, "which account?");
    if (ru_url_escape(acct, &enc) != RU_OK)
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    int rc = acct[digits] == '\0'
                 ? ru_ctx_path(path, sizeof path, "/api/v1/accounts/%s", enc)
                 : ru_ctx_path(path, sizeof path, "/api/v1/accounts/lookup?acct=%s", enc);
    free(enc);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_call(ctx, RU_AUTH_OPTIONAL, "GET", path, NULL, reply);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_expect(reply, JSON_OBJECT, "an account");
    const char *id = json_string_value(json_object_get(reply->json, "id"));
    if (rc == RU_EXIT_OK && (id == NULL || !ru_ctx_is_id(id)))
        rc = ru_ctx_say(RU_EXIT_FAIL, "unexpected reply from the server: no account id");
    return rc;
}

/*  follow or unfollow (verb) the account of args->pos[0]. */
static int
s_follow(ru_ctx_t *ctx, const ru_args_t *args, const char *verb)
{
    char path[S_PATH];
    ru_reply_t account, rel = {0};
    int rc = s_account(ctx, args->pos[0], &account);
    const char *id = json_string_value(json_object_get(account.json, "id"));
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_path(path, sizeof path, "/api/v1/accounts/%s/%s", id, verb);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_call(ctx, RU_AUTH_REQUIRED, "POST", path, NULL, &rel);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_expect(&rel, JSON_OBJECT, "a relationship");
    if (rc == RU_EXIT_OK && ctx->json) {
        rc = ru_ctx_print_json(ctx, rel.json);
    } else if (rc == RU_EXIT_OK) {
        char *acct;
        const char *state = json_is_true(json_object_get(rel.json, "following")) ? "following"
                            : json_is_true(json_object_get(rel.json, "requested"))
                                ? "asked to follow"
                                : "not following";
        const char *name = json_string_value(json_object_get(account.json, "acct"));
        if (ru_html_clean(name ? name : id, 0, &acct) != RU_OK)
            rc = ru_ctx_say(RU_EXIT_FAIL, "out of memory");
        else
            (void) fprintf(ctx->out, "%s @%s\n", state, acct);
        free(acct);
    }
    ru_reply_fini(&account);
    ru_reply_fini(&rel);
    return rc;
}

int
ru_cmd_follow(ru_ctx_t *ctx, const ru_args_t *args)
{
    return s_follow(ctx, args, "follow");
}

int
ru_cmd_unfollow(ru_ctx_t *ctx, const ru_args_t *args)
{
    return s_follow(ctx, args, "unfollow");
}

int
ru_cmd_account(ru_ctx_t *ctx, const ru_args_t *args)
{
    char path[S_PATH], again[S_PATH];
    ru_reply_t account;
    int statuses = ru_args_get(args, "--statuses") != NULL;
    int rc = s_account(ctx, args->pos[0], &account);
    if (rc == RU_EXIT_OK && !ctx->json && ru_render_account(ctx->out, account.json) != RU_OK)
        rc = ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    if (rc == RU_EXIT_OK && !statuses && ctx->json)
        rc = ru_ctx_print_json(ctx, account.json);
    if (rc == RU_EXIT_OK && statuses) {
        const char *id = json_string_value(json_object_get(account.json, "id"));
        rc = ru_ctx_path(path, sizeof path, "/api/v1/accounts/%s/statuses", id);
        if (rc == RU_EXIT_OK)
            rc = ru_ctx_path(again, sizeof again, "account %s --statuses", args->pos[0]);
        if (rc == RU_EXIT_OK)
            rc = ru_cmd_list_statuses(ctx, args, RU_AUTH_OPTIONAL, path, again);
    }
    ru_reply_fini(&account);
    return rc;
}
