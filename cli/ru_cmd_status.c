/*  ru_cmd_status.c - post, reply, edit, delete, like, unlike, thread and
 *  the timelines (see ru_cmd_status.h).
 *
 *  Requests follow the Mastodon client API: POST /api/v1/statuses (a
 *  new status's attachments uploaded first, ru_cmd_media.h, and named by
 *  their ids in media_ids; a group post goes the same way to ruche's
 *  /api/ruche/v1/groups/ID/statuses),
 *  PUT and DELETE /api/v1/statuses/ID, POST .../favourite, GET
 *  /api/v1/statuses/ID/context, GET /api/v1/timelines/...; the group
 *  timeline is ruche's /api/ruche/v1/groups/ID/timeline.
 */
#include "ru_cmd_status.h"

#include <stdlib.h>
#include <string.h>

#include "ru_cmd_media.h"
#include "ru_html.h"
#include "ru_render.h"
#include "ru_url.h"
#include "ruche/ru_limits.h"
#include "ruche/ru_text.h"

#define S_PATH 1024
#define S_STATUSES "/api/v1/statuses"

/*  Prints the id of the status in reply (or its JSON). */
static int
s_print_id(ru_ctx_t *ctx, const ru_reply_t *reply)
{
    int rc = ru_ctx_expect(reply, JSON_OBJECT, "a status");
    if (rc != RU_EXIT_OK)
        return rc;
    if (ctx->json)
        return ru_ctx_print_json(ctx, reply->json);
    const char *id = json_string_value(json_object_get(reply->json, "id"));
    if (id == NULL || !ru_ctx_is_id(id))
        return ru_ctx_say(RU_EXIT_FAIL, "unexpected reply from the server: no status id");
    (void) fprintf(ctx->out, "%s\n", id);
    return RU_EXIT_OK;
}

/*  Sends method to path with {"status": text} and the members of fields
 *  (taken; NULL when memory ran out), and prints the status's id. */
static int
s_send(ru_ctx_t *ctx, const char *method, const char *path, const char *text, json_t *fields)
{
    if (fields == NULL || json_object_set_new(fields, "status", json_string(text)) != 0) {
        json_decref(fields);
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    }
    ru_reply_t reply;
    int rc = ru_ctx_call(ctx, RU_AUTH_REQUIRED, method, path, fields, &reply);
    json_decref(fields);
    if (rc == RU_EXIT_OK)
        rc = s_print_id(ctx, &reply);
    ru_reply_fini(&reply);
    return rc;
}

/*  The --visibility of args, checked; NULL when not given. */
static int
s_visibility(const ru_args_t *args, const char **vis)
{
    static const char *const known[] = {"public", "unlisted", "private", "direct"};
    *vis = ru_args_get(args, "--visibility");
    for (size_t i = 0; *vis != NULL && i < sizeof known / sizeof known[0]; i++)
        if (strcmp(*vis, known[i]) == 0)
            return RU_EXIT_OK;
    if (*vis == NULL)
        return RU_EXIT_OK;
    return ru_ctx_say(RU_EXIT_USAGE,
                      "--visibility is public, unlisted, private or direct, not \"%s\"", *vis);
}

/*  The --cw of args, checked; NULL when not given. */
static int
s_cw(const ru_args_t *args, const char **cw)
{
    size_t chars;
    *cw = ru_args_get(args, "--cw");
    if (*cw == NULL)
        return RU_EXIT_OK;
    if ((*cw)[0] == '\0' || ru_utf8_check(*cw, strlen(*cw), &chars) != RU_OK ||
        chars > RU_MAX_SPOILER_CHARS)
        return ru_ctx_say(RU_EXIT_USAGE, "--cw is 1 to %d characters of UTF-8",
                          RU_MAX_SPOILER_CHARS);
    return RU_EXIT_OK;
}

/*  The fields of a new post besides its text: visibility, content
 *  warning, sensitive flag, attachments (ids, RU_CMD_MAX_ID + 1 bytes
 *  each). NULL when memory runs out. */
static json_t *
s_post_fields(const char *vis, const char *cw, int sensitive, char ids[][RU_CMD_MAX_ID + 1],
              size_t n)
{
    json_t *fields = json_object(), *media = json_array();
    for (size_t i = 0; media != NULL && i < n; i++)
        (void) json_array_append_new(media, json_string(ids[i]));
    if (fields == NULL || media == NULL || json_array_size(media) != n) {
        json_decref(fields);
        json_decref(media);
        return NULL;
    }
    if (vis != NULL)
        (void) json_object_set_new(fields, "visibility", json_string(vis));
    if (cw != NULL)
        (void) json_object_set_new(fields, "spoiler_text", json_string(cw));
    if (sensitive)
        (void) json_object_set_new(fields, "sensitive", json_true());
    if (n > 0)
        (void) json_object_set_new(fields, "media_ids", media);
    else
        json_decref(media);
    return fields;
}

/*  Every check comes before the first request, the uploads before the
 *  status (see ru_cmd_status.h). */
int
ru_cmd_new_status(ru_ctx_t *ctx, const ru_args_t *args, const char *path, const char *text_arg,
                  const char *reply_to)
{
    const char *vis = NULL, *cw = NULL;
    ru_attach_t attach[RU_CMD_MAX_ATTACH];
    char ids[RU_CMD_MAX_ATTACH][RU_CMD_MAX_ID + 1];
    size_t n = 0;
    long wait_s = 0;
    char *text = NULL;
    int rc = s_visibility(args, &vis);
    if (rc == RU_EXIT_OK)
        rc = s_cw(args, &cw);
    if (rc == RU_EXIT_OK)
        rc = ru_cmd_attach_args(args, attach, &n, &wait_s);
    if (rc == RU_EXIT_OK && text_arg == NULL && n == 0)
        return RU_CMD_MISSING;
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_text(text_arg, n > 0, &text);
    for (size_t i = 0; rc == RU_EXIT_OK && i < n; i++)
        rc = ru_cmd_media_upload(ctx, &attach[i], wait_s, ids[i]);
    if (rc == RU_EXIT_OK) {
        int sensitive = ru_args_get(args, "--sensitive") != NULL;
        json_t *fields = s_post_fields(vis, cw, sensitive, ids, n);
        if (fields != NULL && reply_to != NULL)
            (void) json_object_set_new(fields, "in_reply_to_id", json_string(reply_to));
        rc = s_send(ctx, "POST", path, text, fields);
    }
    free(text);
    return rc;
}

int
ru_cmd_post(ru_ctx_t *ctx, const ru_args_t *args)
{
    return ru_cmd_new_status(ctx, args, S_STATUSES, args->npos > 0 ? args->pos[0] : NULL, NULL);
}

int
ru_cmd_reply(ru_ctx_t *ctx, const ru_args_t *args)
{
    int rc = ru_ctx_check_id("status", args->pos[0]);
    if (rc != RU_EXIT_OK)
        return rc;
    return ru_cmd_new_status(ctx, args, S_STATUSES, args->npos > 1 ? args->pos[1] : NULL,
                             args->pos[0]);
}

/*  What an edit of the status at path keeps of it besides its text: the
 *  node replaces a status's attachments, warning and flag with an edit's,
 *  so an edit of the text sends them again as they are. */
static int
s_kept(ru_ctx_t *ctx, const char *path, json_t **fields)
{
    ru_reply_t reply;
    int rc = ru_ctx_call(ctx, RU_AUTH_REQUIRED, "GET", path, NULL, &reply);
    json_t *ids = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(reply.json, "media_attachments"), i, a)
        json_array_append(ids, json_object_get(a, "id"));
    const char *cw = json_string_value(json_object_get(reply.json, "spoiler_text"));
    *fields = rc == RU_EXIT_OK && ids
                  ? json_pack("{s:O, s:s, s:b}", "media_ids", ids, "spoiler_text", cw ? cw : "",
                              "sensitive", json_is_true(json_object_get(reply.json, "sensitive")))
                  : NULL;
    json_decref(ids);
    ru_reply_fini(&reply);
    return rc;
}

int
ru_cmd_edit(ru_ctx_t *ctx, const ru_args_t *args)
{
    char path[S_PATH], *text = NULL;
    json_t *fields = NULL;
    int rc = ru_ctx_id_path(path, sizeof path, "status", S_STATUSES, args->pos[0], "");
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_text(args->pos[1], 0, &text);
    if (rc == RU_EXIT_OK)
        rc = s_kept(ctx, path, &fields);
    if (rc == RU_EXIT_OK)
        rc = s_send(ctx, "PUT", path, text, fields);
    free(text);
    return rc;
}

/*  Sends method to the path made of the status id and suffix, and prints
 *  "DONE ID", with the likes count when count is set, or the JSON of the
 *  reply. */
static int
s_status_action(ru_ctx_t *ctx, const ru_args_t *args, const char *method, const char *suffix,
                const char *done, int count)
{
    char path[S_PATH];
    ru_reply_t reply;
    const char *id = args->pos[0];
    int rc = ru_ctx_id_path(path, sizeof path, "status", S_STATUSES, id, suffix);
    if (rc != RU_EXIT_OK)
        return rc;
    rc = ru_ctx_call(ctx, RU_AUTH_REQUIRED, method, path, NULL, &reply);
    if (rc == RU_EXIT_OK && ctx->json) {
        rc = ru_ctx_print_json(ctx, reply.json);
    } else if (rc == RU_EXIT_OK) {
        json_t *likes = json_object_get(reply.json, "favourites_count");
        (void) fprintf(ctx->out, "%s %s", done, id);
        if (count && json_is_integer(likes))
            (void) fprintf(ctx->out, " (♥ %lld)", (long long) json_integer_value(likes));
        (void) fputs("\n", ctx->out);
    }
    ru_reply_fini(&reply);
    return rc;
}

int
ru_cmd_delete(ru_ctx_t *ctx, const ru_args_t *args)
{
    return s_status_action(ctx, args, "DELETE", "", "deleted", 0);
}

int
ru_cmd_like(ru_ctx_t *ctx, const ru_args_t *args)
{
    return s_status_action(ctx, args, "POST", "/favourite", "liked", 1);
}

int
ru_cmd_unlike(ru_ctx_t *ctx, const ru_args_t *args)
{
    return s_status_action(ctx, args, "POST", "/unfavourite", "unliked", 1);
}

/*  Appends "?limit=..&max_id=..&since_id=.." to path (size bytes) from
 *  the paging options of args, checked and encoded. */
static int
s_page_query(char *path, size_t size, const ru_args_t *args)
{
    static const struct {
        const char *opt, *param;
    } page[] = {{"--limit", "limit"}, {"--max-id", "max_id"}, {"--since-id", "since_id"}};
    const char *limit = ru_args_get(args, "--limit");
    if (limit != NULL) {
        char *end;
        long n = strtol(limit, &end, 10);
        if (limit[0] < '0' || limit[0] > '9' || *end != '\0' || n < 1 || n > RU_CMD_MAX_LIMIT)
            return ru_ctx_say(RU_EXIT_USAGE, "--limit is a number from 1 to %d", RU_CMD_MAX_LIMIT);
    }
    int rc = RU_EXIT_OK;
    for (size_t i = 0; i < sizeof page / sizeof page[0] && rc == RU_EXIT_OK; i++) {
        const char *v = ru_args_get(args, page[i].opt);
        if (v == NULL || (i > 0 && (rc = ru_ctx_check_id("status", v)) != RU_EXIT_OK))
            continue;
        char *enc;
        if (ru_url_escape(v, &enc) != RU_OK)
            return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
        size_t len = strlen(path);
        rc = ru_ctx_path(path + len, size - len, "%c%s=%s", strchr(path, '?') ? '&' : '?',
                         page[i].param, enc);
        free(enc);
    }
    return rc;
}

/*  Prints the command that shows the statuses older than this page, from
 *  the rel="next" link of the reply. */
static void
s_older_hint(ru_ctx_t *ctx, const ru_reply_t *reply, const ru_args_t *args, const char *again)
{
    char *next = NULL, *max_id = NULL;
    const char *limit = ru_args_get(args, "--limit");
    if (reply->link != NULL && ru_url_link_next(reply->link, &next) == RU_OK &&
        ru_url_query_get(next, "max_id", &max_id) == RU_OK && ru_ctx_is_id(max_id))
        (void) fprintf(ctx->out, "older: ruche %s%s%s --max-id %s\n", again,
                       limit ? " --limit " : "", limit ? limit : "", max_id);
    free(next);
    free(max_id);
}

int
ru_cmd_list_statuses(ru_ctx_t *ctx, const ru_args_t *args, ru_auth auth, const char *path,
                     const char *again)
{
    char full[S_PATH];
    ru_reply_t reply;
    int rc = ru_ctx_path(full, sizeof full, "%s", path);
    if (rc == RU_EXIT_OK)
        rc = s_page_query(full, sizeof full, args);
    if (rc != RU_EXIT_OK)
        return rc;
    rc = ru_ctx_call(ctx, auth, "GET", full, NULL, &reply);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_expect(&reply, JSON_ARRAY, "a list of statuses");
    if (rc == RU_EXIT_OK && ctx->json) {
        rc = ru_ctx_print_json(ctx, reply.json);
    } else if (rc == RU_EXIT_OK) {
        if (json_array_size(reply.json) == 0)
            (void) fputs("(no statuses)\n", ctx->out);
        if (ru_render_statuses(ctx->out, reply.json) != RU_OK)
            rc = ru_ctx_say(RU_EXIT_FAIL, "out of memory");
        s_older_hint(ctx, &reply, args, again);
    }
    ru_reply_fini(&reply);
    return rc;
}

int
ru_cmd_tl_home(ru_ctx_t *ctx, const ru_args_t *args)
{
    return ru_cmd_list_statuses(ctx, args, RU_AUTH_REQUIRED, "/api/v1/timelines/home",
                                "timeline home");
}

int
ru_cmd_tl_public(ru_ctx_t *ctx, const ru_args_t *args)
{
    return ru_cmd_list_statuses(ctx, args, RU_AUTH_OPTIONAL, "/api/v1/timelines/public",
                                "timeline public");
}

int
ru_cmd_tl_tag(ru_ctx_t *ctx, const ru_args_t *args)
{
    const char *tag = args->pos[0] + (args->pos[0][0] == '#');
    char path[S_PATH], again[S_PATH], *enc;
    if (tag[0] == '\0')
        return ru_ctx_say(RU_EXIT_USAGE, "which tag?");
    if (ru_url_escape(tag, &enc) != RU_OK)
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    int rc = ru_ctx_path(path, sizeof path, "/api/v1/timelines/tag/%s", enc);
    free(enc);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_path(again, sizeof again, "timeline tag %s", tag);
    if (rc != RU_EXIT_OK)
        return rc;
    return ru_cmd_list_statuses(ctx, args, RU_AUTH_OPTIONAL, path, again);
}

int
ru_cmd_tl_group(ru_ctx_t *ctx, const ru_args_t *args)
{
    char path[S_PATH], again[S_PATH];
    int rc = ru_ctx_id_path(path, sizeof path, "group", "/api/ruche/v1/groups", args->pos[0],
                            "/timeline");
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_path(again, sizeof again, "timeline group %s", args->pos[0]);
    if (rc != RU_EXIT_OK)
        return rc;
    return ru_cmd_list_statuses(ctx, args, RU_AUTH_OPTIONAL, path, again);
}

/*  Prints a thread: ancestors, the status, descendants, each indented by
 *  its depth among them. */
static int
s_print_thread(ru_ctx_t *ctx, const json_t *status, const json_t *context)
{
    const json_t *up = json_object_get(context, "ancestors");
    const json_t *down = json_object_get(context, "descendants");
    size_t nup = json_array_size(up), ndown = json_array_size(down), n = nup + 1 + ndown;
    const json_t **all = calloc(n, sizeof *all); /* NOLINT(bugprone-sizeof-expression) */
    int *depths = calloc(n, sizeof *depths);
    if (!all || !depths) {
        free(all);
        free(depths);
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    }
    int rc = RU_EXIT_OK;
    for (size_t i = 0; i < n; i++)
        all[i] = i < nup    ? json_array_get(up, i)
                 : i == nup ? status
                            : json_array_get(down, i - nup - 1);
    ru_render_depths(all, n, depths);
    for (size_t i = 0; rc == RU_EXIT_OK && i < n; i++)
        if (ru_render_status(ctx->out, all[i], depths[i]) != RU_OK)
            rc = ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    free(all);
    free(depths);
    return rc;
}

int
ru_cmd_thread(ru_ctx_t *ctx, const ru_args_t *args)
{
    char path[S_PATH];
    ru_reply_t status, context = {0};
    int rc = ru_ctx_id_path(path, sizeof path, "status", S_STATUSES, args->pos[0], "");
    if (rc != RU_EXIT_OK)
        return rc;
    rc = ru_ctx_call(ctx, RU_AUTH_OPTIONAL, "GET", path, NULL, &status);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_expect(&status, JSON_OBJECT, "a status");
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_id_path(path, sizeof path, "status", S_STATUSES, args->pos[0], "/context");
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_call(ctx, RU_AUTH_OPTIONAL, "GET", path, NULL, &context);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_expect(&context, JSON_OBJECT, "the context of a status");
    if (rc == RU_EXIT_OK && ctx->json) {
        /* one document for scripts: the context with the status itself */
        (void) json_object_set(context.json, "status", status.json);
        rc = ru_ctx_print_json(ctx, context.json);
    } else if (rc == RU_EXIT_OK) {
        rc = s_print_thread(ctx, status.json, context.json);
    }
    ru_reply_fini(&status);
    ru_reply_fini(&context);
    return rc;
}
