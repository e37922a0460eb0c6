/*  ru_cmd_status.h - the commands about statuses: post, reply, edit,
 *  delete, like, unlike, thread and the timelines.
 *
 *  Each handler follows ru_cmd_fn (see ru_cmd.h): arguments in, exit
 *  status out. In text mode post, reply and edit print the status id, so
 *  that scripts can catch it: id=$(ruche post "hello").
 */
#ifndef RU_CMD_STATUS_H
#define RU_CMD_STATUS_H

#include "ru_cmd.h"

/*  The paging options of every list of statuses. */
#define RU_CMD_PAGE_OPTS "--limit=", "--max-id=", "--since-id="
/*  Largest --limit accepted (the server may cap it lower). */
#define RU_CMD_MAX_LIMIT 1000

/* [TEXT] [--visibility V] [--attach FILE [--alt TEXT]]... [--cw TEXT] [--sensitive] [--wait S] */
int ru_cmd_post(ru_ctx_t *ctx, const ru_args_t *args);
int ru_cmd_reply(ru_ctx_t *ctx, const ru_args_t *args);     /* ID TEXT [--visibility V] */
int ru_cmd_edit(ru_ctx_t *ctx, const ru_args_t *args);      /* ID TEXT */
int ru_cmd_delete(ru_ctx_t *ctx, const ru_args_t *args);    /* ID */
int ru_cmd_like(ru_ctx_t *ctx, const ru_args_t *args);      /* ID */
int ru_cmd_unlike(ru_ctx_t *ctx, const ru_args_t *args);    /* ID */
int ru_cmd_thread(ru_ctx_t *ctx, const ru_args_t *args);    /* ID */
int ru_cmd_tl_home(ru_ctx_t *ctx, const ru_args_t *args);   /* paging options */
int ru_cmd_tl_public(ru_ctx_t *ctx, const ru_args_t *args); /* paging options */
int ru_cmd_tl_tag(ru_ctx_t *ctx, const ru_args_t *args);    /* TAG, paging options */
int ru_cmd_tl_group(ru_ctx_t *ctx, const ru_args_t *args);  /* ID, paging options */

/*  Sends a status: method to path with {"status": text} and, when not
 *  NULL, "in_reply_to_id" and "visibility"; text_arg is the TEXT argument
 *  (see ru_ctx_text). Prints the new status's id, or its JSON with --json.
 *  Exit status. */
int ru_cmd_send_status(ru_ctx_t *ctx, const char *method, const char *path, const char *text_arg,
                       const char *reply_to, const char *visibility);

/*  GETs the list of statuses at path (no query yet) with the paging
 *  options of args, and prints it: JSON with --json, else each status and,
 *  when the server links to older ones, the command that shows them,
 *  "older: ruche AGAIN --max-id X". Exit status. */
int ru_cmd_list_statuses(ru_ctx_t *ctx, const ru_args_t *args, ru_auth auth, const char *path,
                         const char *again);

#endif
