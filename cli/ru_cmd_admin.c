/*  ru_cmd_admin.c - ruche admin: users, peers, key, resolve-fork, backup,
 *  restore and export (see ru_cmd_admin.h).
 *
 *  backup writes FILE.part and renames it to FILE once the node's copy
 *  has fully arrived, so FILE is never a torn copy; an existing FILE.part
 *  is not overwritten (another backup may be writing it). export writes
 *  the node's JSON lines to standard output or --output FILE once they
 *  have all arrived, and says on standard error how many came and how many
 *  did not verify; any that did not makes the exit status 1.
 *
 *  A backup holds every post and every password hash, an export every
 *  post, direct ones included: the files they write are readable by their
 *  owner only (0600, whatever the umask), an existing --output FILE too.
 */
#include "ru_cmd_admin.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ru_html.h"
#include "ruche/ru_text.h"

#define S_PATH 512
#define S_USERS "/api/ruche/v1/admin/users"
#define S_PEERS "/api/ruche/v1/admin/peers"

int
ru_cmd_adduser(ru_ctx_t *ctx, const ru_args_t *args)
{
    const char *name = args->pos[0];
    ru_reply_t reply;
    if (ru_name_check(name, strlen(name)) != RU_OK)
        return ru_ctx_say(RU_EXIT_USAGE, "not a user name: \"%s\" (a-z, 0-9, _ . -)", name);
    json_t *body =
        json_pack("{s:s, s:b}", "username", name, "admin", ru_args_get(args, "--admin") != NULL);
    if (body == NULL)
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    int rc = ru_ctx_call(ctx, RU_AUTH_REQUIRED, "POST", "/api/ruche/v1/admin/users", body, &reply);
    json_decref(body);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_expect(&reply, JSON_OBJECT, "the new user");
    const char *pw = json_string_value(json_object_get(reply.json, "password"));
    if (rc == RU_EXIT_OK && ctx->json) {
        rc = ru_ctx_print_json(ctx, reply.json);
    } else if (rc == RU_EXIT_OK && pw == NULL) {
        rc = ru_ctx_say(RU_EXIT_FAIL, "the server created %s but sent no password", name);
    } else if (rc == RU_EXIT_OK) {
        char *clean;
        if (ru_html_clean(pw, 0, &clean) != RU_OK)
            rc = ru_ctx_say(RU_EXIT_FAIL, "out of memory");
        else
            (void) fprintf(
                ctx->out, "user: %s\npassword: %s\n(shown once; %s logs in with: ruche login %s)\n",
                name, clean, name, name);
        if (clean != NULL)
            sodium_memzero(clean, strlen(clean));
        free(clean);
    }
    ru_reply_fini(&reply);
    return rc;
}

/*  Prints the password of a reply, shown once. */
static int
s_print_password(ru_ctx_t *ctx, const char *name, const char *pw)
{
    char *clean = NULL;
    if (pw == NULL)
        return ru_ctx_say(RU_EXIT_FAIL, "the server sent no password for %s", name);
    if (ru_html_clean(pw, 0, &clean) != RU_OK)
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    (void) fprintf(ctx->out, "user: %s\npassword: %s\n(shown once; sessions of %s have ended)\n",
                   name, clean, name);
    sodium_memzero(clean, strlen(clean));
    free(clean);
    return RU_EXIT_OK;
}

/*  POSTs to /api/ruche/v1/admin/users/NAME/action and prints the user. */
static int
s_user_action(ru_ctx_t *ctx, const ru_args_t *args, const char *action)
{
    const char *name = args->pos[0];
    char path[S_PATH];
    ru_reply_t reply = {0};
    if (ru_name_check(name, strlen(name)) != RU_OK)
        return ru_ctx_say(RU_EXIT_USAGE, "not a user name: \"%s\" (a-z, 0-9, _ . -)", name);
    int rc = ru_ctx_path(path, sizeof path, "%s/%s/%s", S_USERS, name, action);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_call(ctx, RU_AUTH_REQUIRED, "POST", path, NULL, &reply);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_expect(&reply, JSON_OBJECT, "the user");
    json_t *j = rc == RU_EXIT_OK ? reply.json : NULL;
    if (j && ctx->json)
        rc = ru_ctx_print_json(ctx, j);
    else if (j && strcmp(action, "password") == 0)
        rc = s_print_password(ctx, name, json_string_value(json_object_get(j, "password")));
    else if (j)
        (void) fprintf(ctx->out, "%s: %s, %s\n", name,
                       json_is_true(json_object_get(j, "admin")) ? "administrator" : "user",
                       json_is_true(json_object_get(j, "disabled")) ? "disabled" : "enabled");
    ru_reply_fini(&reply);
    return rc;
}

int
ru_cmd_passwd(ru_ctx_t *ctx, const ru_args_t *args)
{
    return s_user_action(ctx, args, "password");
}

int
ru_cmd_disable(ru_ctx_t *ctx, const ru_args_t *args)
{
    return s_user_action(ctx, args, "disable");
}

int
ru_cmd_enable(ru_ctx_t *ctx, const ru_args_t *args)
{
    return s_user_action(ctx, args, "enable");
}

int
ru_cmd_promote(ru_ctx_t *ctx, const ru_args_t *args)
{
    return s_user_action(ctx, args, "promote");
}

int
ru_cmd_demote(ru_ctx_t *ctx, const ru_args_t *args)
{
    return s_user_action(ctx, args, "demote");
}

int
ru_cmd_key(ru_ctx_t *ctx, const ru_args_t *args)
{
    (void) args;
    ru_reply_t reply;
    int rc = ru_ctx_call(ctx, RU_AUTH_REQUIRED, "GET", "/api/ruche/v1/admin/key", NULL, &reply);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_expect(&reply, JSON_OBJECT, "the node key");
    const char *section = json_string_value(json_object_get(reply.json, "peer_section"));
    if (rc == RU_EXIT_OK && ctx->json)
        rc = ru_ctx_print_json(ctx, reply.json);
    else if (rc == RU_EXIT_OK && section == NULL)
        rc = ru_ctx_say(RU_EXIT_FAIL, "the server sent no key");
    else if (rc == RU_EXIT_OK)
        (void) fprintf(
            ctx->out,
            "# what other sites add to their config (or: ruche admin add-peer %s -- KEY PUB SYNC)\n"
            "%s# CURVE public key: %s\n",
            json_string_value(json_object_get(reply.json, "site")), section,
            json_string_value(json_object_get(reply.json, "curve_key")));
    ru_reply_fini(&reply);
    return rc;
}

/*  Sends a peer change and prints what the node did. */
static int
s_peer_request(ru_ctx_t *ctx, const char *method, const char *path, const json_t *body)
{
    ru_reply_t reply;
    int rc = ru_ctx_call(ctx, RU_AUTH_REQUIRED, method, path, body, &reply);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_expect(&reply, JSON_OBJECT, "the peer change");
    if (rc == RU_EXIT_OK && ctx->json)
        rc = ru_ctx_print_json(ctx, reply.json);
    else if (rc == RU_EXIT_OK)
        (void) fprintf(ctx->out, "peer %s %s in %s; the node reloaded its peers\n",
                       json_string_value(json_object_get(reply.json, "site")),
                       json_string_value(json_object_get(reply.json, "status")),
                       json_string_value(json_object_get(reply.json, "config")));
    ru_reply_fini(&reply);
    return rc;
}

int
ru_cmd_add_peer(ru_ctx_t *ctx, const ru_args_t *args)
{
    if (args->npos == 3)
        return ru_ctx_say(RU_EXIT_USAGE, "give both PUB and SYNC, or neither");
    json_t *body = json_pack("{s:s, s:s}", "site", args->pos[0], "key", args->pos[1]);
    if (body && args->npos == 4) {
        json_object_set_new(body, "pub", json_string(args->pos[2]));
        json_object_set_new(body, "sync", json_string(args->pos[3]));
    }
    if (body == NULL)
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    int rc = s_peer_request(ctx, "POST", S_PEERS, body);
    json_decref(body);
    return rc;
}

int
ru_cmd_remove_peer(ru_ctx_t *ctx, const ru_args_t *args)
{
    char path[S_PATH];
    if (ru_name_check(args->pos[0], strlen(args->pos[0])) != RU_OK)
        return ru_ctx_say(RU_EXIT_USAGE, "not a site name: \"%s\"", args->pos[0]);
    int rc = ru_ctx_path(path, sizeof path, "%s/%s", S_PEERS, args->pos[0]);
    return rc ? rc : s_peer_request(ctx, "DELETE", path, NULL);
}

int
ru_cmd_resolve_fork(ru_ctx_t *ctx, const ru_args_t *args)
{
    char path[S_PATH];
    ru_reply_t reply;
    int rc = ru_ctx_path(path, sizeof path, "/api/ruche/v1/admin/forks/%s/resolve", args->pos[0]);
    if (rc)
        return rc;
    rc = ru_ctx_call(ctx, RU_AUTH_REQUIRED, "POST", path, NULL, &reply);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_expect(&reply, JSON_OBJECT, "the resolution");
    if (rc == RU_EXIT_OK && ctx->json)
        rc = ru_ctx_print_json(ctx, reply.json);
    else if (rc == RU_EXIT_OK)
        (void) fprintf(ctx->out,
                       "fork of %s at seq %lld resolved: every site keeps %s (this site's update "
                       "%lld); the resolution replicates like any update\n",
                       json_string_value(json_object_get(reply.json, "origin")),
                       (long long) json_integer_value(json_object_get(reply.json, "seq")),
                       json_string_value(json_object_get(reply.json, "kept")),
                       (long long) json_integer_value(json_object_get(reply.json, "update")));
    ru_reply_fini(&reply);
    return rc;
}

/*  Opens path for writing, readable and writable by its owner only (also
 *  when it exists already: it is emptied and its mode set); with
 *  exclusive, an existing path is an error (EEXIST). NULL and errno set
 *  on failure. */
static FILE *
s_open_private(const char *path, int exclusive)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC),
                  S_IRUSR | S_IWUSR);
    if (fd < 0)
        return NULL;
    FILE *f = fchmod(fd, S_IRUSR | S_IWUSR) == 0 ? fdopen(fd, "wb") : NULL;
    if (f == NULL) {
        int saved = errno;
        (void) close(fd);
        errno = saved;
    }
    return f;
}

int
ru_cmd_backup(ru_ctx_t *ctx, const ru_args_t *args)
{
    const char *file = args->pos[0];
    char part[4096];
    int rc = ru_ctx_path(part, sizeof part, "%s.part", file);
    FILE *out = rc == RU_EXIT_OK ? s_open_private(part, 1) : NULL;
    if (rc == RU_EXIT_OK && out == NULL)
        return ru_ctx_say(RU_EXIT_FAIL, "cannot create %s: %s", part, strerror(errno));
    if (rc != RU_EXIT_OK)
        return rc;
    size_t written = 0;
    rc = ru_ctx_download(ctx, "/api/ruche/v1/admin/backup", out, &written);
    if (fflush(out) != 0 || fsync(fileno(out)) != 0)
        rc = rc ? rc : ru_ctx_say(RU_EXIT_FAIL, "cannot write %s: %s", part, strerror(errno));
    if (fclose(out) != 0)
        rc = rc ? rc : ru_ctx_say(RU_EXIT_FAIL, "cannot write %s: %s", part, strerror(errno));
    if (rc == RU_EXIT_OK && rename(part, file) != 0)
        rc = ru_ctx_say(RU_EXIT_FAIL, "cannot rename %s to %s: %s", part, file, strerror(errno));
    if (rc != RU_EXIT_OK) {
        (void) unlink(part);
        return rc;
    }
    (void) fprintf(ctx->out, "backup of %zu bytes written to %s\n", written, file);
    return RU_EXIT_OK;
}

int
ru_cmd_restore(ru_ctx_t *ctx, const ru_args_t *args)
{
    (void) ctx;
    const char *argv[10] = {"ruched", "--restore", args->pos[0]};
    size_t n = 3;
    static const char *const passed[] = {"--data-dir", "--config"};
    for (size_t i = 0; i < sizeof passed / sizeof passed[0]; i++)
        if (ru_args_get(args, passed[i]) != NULL) {
            argv[n++] = passed[i];
            argv[n++] = ru_args_get(args, passed[i]);
        }
    if (ru_args_get(args, "--force") != NULL)
        argv[n++] = "--force";
    const char *ruched = getenv("RUCHED");
    (void) fflush(NULL);
    execvp(ruched && ruched[0] ? ruched : "ruched", (char *const *) argv);
    return ru_ctx_say(RU_EXIT_FAIL, "cannot run ruched: %s", strerror(errno));
}

/*  Copies the export in tmp to out, counting its lines and those that did
 *  not verify. Exit status. */
static int
s_copy_export(FILE *tmp, FILE *out, const char *name)
{
    char *line = NULL;
    size_t cap = 0, lines = 0, unverified = 0;
    ssize_t n;
    rewind(tmp);
    while ((n = getline(&line, &cap, tmp)) > 0) {
        lines++;
        unverified += strstr(line, "\"verified\":false") != NULL;
        if (fwrite(line, 1, (size_t) n, out) != (size_t) n)
            break;
    }
    free(line);
    if (ferror(tmp) || ferror(out) || fflush(out) != 0)
        return ru_ctx_say(RU_EXIT_FAIL, "cannot write the export to %s", name);
    (void) ru_ctx_say(0, "exported %zu updates to %s, %zu of them not verified", lines, name,
                      unverified);
    return unverified ? RU_EXIT_FAIL : RU_EXIT_OK;
}

/*  Adds "&name=value" for an option given, checked to be a date or time. */
static int
s_time_param(char *path, size_t size, const ru_args_t *args, const char *opt, const char *name)
{
    const char *v = ru_args_get(args, opt);
    if (v == NULL)
        return RU_EXIT_OK;
    if (v[0] == '\0' || v[strspn(v, "0123456789-:TZ")] != '\0')
        return ru_ctx_say(RU_EXIT_USAGE,
                          "%s takes a date (2026-11-27), a UTC time "
                          "(2026-11-27T14:03:00Z) or milliseconds",
                          opt);
    size_t used = strlen(path);
    return ru_ctx_path(path + used, size - used, "%s%s=%s", strchr(path, '?') ? "&" : "?", name, v);
}

int
ru_cmd_export(ru_ctx_t *ctx, const ru_args_t *args)
{
    char path[S_PATH] = "/api/ruche/v1/admin/export";
    const char *output = ru_args_get(args, "--output");
    int rc = s_time_param(path, sizeof path, args, "--since", "since");
    if (rc == RU_EXIT_OK)
        rc = s_time_param(path, sizeof path, args, "--until", "until");
    if (rc != RU_EXIT_OK)
        return rc;
    FILE *tmp = tmpfile();
    FILE *out = output ? s_open_private(output, 0) : ctx->out;
    size_t written = 0;
    if (tmp == NULL || out == NULL)
        rc = ru_ctx_say(RU_EXIT_FAIL, "cannot write %s: %s", output ? output : "a temporary file",
                        strerror(errno));
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_download(ctx, path, tmp, &written);
    if (rc == RU_EXIT_OK)
        rc = s_copy_export(tmp, out, output ? output : "standard output");
    if (tmp != NULL)
        fclose(tmp);
    if (output != NULL && out != NULL && fclose(out) != 0 && rc == RU_EXIT_OK)
        rc = ru_ctx_say(RU_EXIT_FAIL, "cannot write %s: %s", output, strerror(errno));
    return rc;
}
