/*  ru_cmd_group.c - groups list, create, show, join, leave and post (see
 *  ru_cmd_group.h). A group post is a new status sent to the group's
 *  statuses, with the attachments and options of any post
 *  (ru_cmd_new_status).
 */
#include "ru_cmd_group.h"

#include <string.h>

#include "ru_cmd_status.h"
#include "ru_render.h"
#include "ruche/ru_limits.h"
#include "ruche/ru_text.h"

#define S_PATH 512
#define S_GROUPS "/api/ruche/v1/groups"

/*  Prints the group in reply: its JSON, or its text, detailed or not, with
 *  what happened (done) before it when not NULL. */
static int
s_print_group(ru_ctx_t *ctx, const ru_reply_t *reply, const char *done, int detailed)
{
    int rc = ru_ctx_expect(reply, JSON_OBJECT, "a group");
    if (rc != RU_EXIT_OK)
        return rc;
    if (ctx->json)
        return ru_ctx_print_json(ctx, reply->json);
    if (done != NULL)
        (void) fprintf(ctx->out, "%s ", done);
    if (ru_render_group(ctx->out, reply->json, detailed) != RU_OK)
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    return RU_EXIT_OK;
}

int
ru_cmd_groups_list(ru_ctx_t *ctx, const ru_args_t *args)
{
    (void) args;
    ru_reply_t reply;
    size_t i;
    const json_t *group;
    int rc = ru_ctx_call(ctx, RU_AUTH_OPTIONAL, "GET", S_GROUPS, NULL, &reply);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_expect(&reply, JSON_ARRAY, "a list of groups");
    if (rc == RU_EXIT_OK && ctx->json)
        rc = ru_ctx_print_json(ctx, reply.json);
    else if (rc == RU_EXIT_OK && json_array_size(reply.json) == 0)
        (void) fputs("(no groups)\n", ctx->out);
    else if (rc == RU_EXIT_OK)
        json_array_foreach(reply.json, i, group)
        {
            if (rc == RU_EXIT_OK && ru_render_group(ctx->out, group, 0) != RU_OK)
                rc = ru_ctx_say(RU_EXIT_FAIL, "out of memory");
        }
    ru_reply_fini(&reply);
    return rc;
}

int
ru_cmd_groups_create(ru_ctx_t *ctx, const ru_args_t *args)
{
    const char *name = args->pos[0];
    const char *desc = ru_args_get(args, "--description");
    ru_reply_t reply;
    if (ru_name_check(name, strlen(name)) != RU_OK)
        return ru_ctx_say(RU_EXIT_USAGE, "not a group name: \"%s\" (a-z, 0-9, _ . -)", name);
    if (desc != NULL &&
        (strlen(desc) > RU_MAX_NOTE_BYTES || ru_utf8_check(desc, strlen(desc), NULL) != RU_OK))
        return ru_ctx_say(RU_EXIT_USAGE, "the description is not UTF-8 of at most %d bytes",
                          RU_MAX_NOTE_BYTES);
    json_t *body = json_pack("{s:s, s:s}", "name", name, "description", desc ? desc : "");
    if (body == NULL)
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    int rc = ru_ctx_call(ctx, RU_AUTH_REQUIRED, "POST", S_GROUPS, body, &reply);
    json_decref(body);
    if (rc == RU_EXIT_OK)
        rc = s_print_group(ctx, &reply, "created", 0);
    ru_reply_fini(&reply);
    return rc;
}

/*  Sends method to /api/ruche/v1/groups/ID plus suffix and prints the
 *  group of the reply. */
static int
s_group_request(ru_ctx_t *ctx, const ru_args_t *args, ru_auth auth, const char *method,
                const char *suffix, const char *done)
{
    char path[S_PATH];
    ru_reply_t reply;
    int rc = ru_ctx_id_path(path, sizeof path, "group", S_GROUPS, args->pos[0], suffix);
    if (rc != RU_EXIT_OK)
        return rc;
    rc = ru_ctx_call(ctx, auth, method, path, NULL, &reply);
    if (rc == RU_EXIT_OK)
        rc = s_print_group(ctx, &reply, done, done == NULL);
    ru_reply_fini(&reply);
    return rc;
}

int
ru_cmd_groups_show(ru_ctx_t *ctx, const ru_args_t *args)
{
    return s_group_request(ctx, args, RU_AUTH_OPTIONAL, "GET", "", NULL);
}

int
ru_cmd_groups_join(ru_ctx_t *ctx, const ru_args_t *args)
{
    return s_group_request(ctx, args, RU_AUTH_REQUIRED, "POST", "/join", "joined");
}

int
ru_cmd_groups_leave(ru_ctx_t *ctx, const ru_args_t *args)
{
    return s_group_request(ctx, args, RU_AUTH_REQUIRED, "POST", "/leave", "left");
}

int
ru_cmd_groups_post(ru_ctx_t *ctx, const ru_args_t *args)
{
    char path[S_PATH];
    int rc = ru_ctx_id_path(path, sizeof path, "group", S_GROUPS, args->pos[0], "/statuses");
    return rc ? rc : ru_cmd_new_status(ctx, args, path, args->npos > 1 ? args->pos[1] : NULL, NULL);
}
