/*  ru_cmd_status.h - the commands about statuses: post, reply, edit,
 *  delete, like, unlike, thread and the timelines.
 *
 *  Each handler follows ru_cmd_fn (see ru_cmd.h): arguments in, exit
 *  status out. In text mode post, reply and edit print the status id, so
 *  that scripts can catch it: id=$(ruche post "hello"). A new status
 *  (post, reply, groups post) is made by ru_cmd_new_status, with its
 *  attachments, content warning and sensitive flag.
 */
#ifndef RU_CMD_STATUS_H
#define RU_CMD_STATUS_H

#include "ru_cmd.h"

/*  The paging options of every list of statuses. */
#define RU_CMD_PAGE_OPTS "--limit=", "--max-id=", "--since-id="
/*  Largest --limit accepted (the server may cap it lower). */
#define RU_CMD_MAX_LIMIT 1000

/*  The options of a new status, besides --visibility: its files, each
 *  described by the --alt after it, the wait for them, a content warning,
 *  the sensitive flag (see ru_cmd_new_status). */
#define RU_CMD_NEW_OPTS "--attach=", "--alt=", "--wait=", "--cw=", "--sensitive"

int ru_cmd_post(ru_ctx_t *ctx, const ru_args_t *args);  /* [TEXT] [--visibility V] NEW_OPTS */
int ru_cmd_reply(ru_ctx_t *ctx, const ru_args_t *args); /* ID [TEXT] [--visibility V] NEW_OPTS */
int ru_cmd_edit(ru_ctx_t *ctx, const ru_args_t *args);      /* ID TEXT */
int ru_cmd_delete(ru_ctx_t *ctx, const ru_args_t *args);    /* ID */
int ru_cmd_like(ru_ctx_t *ctx, const ru_args_t *args);      /* ID */
int ru_cmd_unlike(ru_ctx_t *ctx, const ru_args_t *args);    /* ID */
int ru_cmd_thread(ru_ctx_t *ctx, const ru_args_t *args);    /* ID */
int ru_cmd_tl_home(ru_ctx_t *ctx, const ru_args_t *args);   /* paging options */
int ru_cmd_tl_public(ru_ctx_t *ctx, const ru_args_t *args); /* paging options */
int ru_cmd_tl_tag(ru_ctx_t *ctx, const ru_args_t *args);    /* TAG, paging options */
int ru_cmd_tl_group(ru_ctx_t *ctx, const ru_args_t *args);  /* ID, paging options */

/*  Posts a new status to path (POST): post, reply (reply_to: the id of
 *  the status replied to, else NULL) and groups post. text_arg is the
 *  TEXT argument (see ru_ctx_text), NULL when not given; the options of
 *  args are --visibility and RU_CMD_NEW_OPTS, those the command takes.
 *  Everything is checked before the first request: the options, every
 *  file, the text (which may come from standard input, and may be empty
 *  or left out when there are files); then the files are uploaded one by
 *  one and waited for (ru_cmd_media.h), and the status sent once all are
 *  ready, naming them in media_ids in the order given. Prints the new
 *  status's id, or its JSON with --json. Exit status, or RU_CMD_MISSING
 *  when there is neither TEXT nor a file. */
int ru_cmd_new_status(ru_ctx_t *ctx, const ru_args_t *args, const char *path, const char *text_arg,
                      const char *reply_to);

/*  GETs the list of statuses at path (no query yet) with the paging
 *  options of args, and prints it: JSON with --json, else each status and,
 *  when the server links to older ones, the command that shows them,
 *  "older: ruche AGAIN --max-id X". Exit status. */
int ru_cmd_list_statuses(ru_ctx_t *ctx, const ru_args_t *args, ru_auth auth, const char *path,
                         const char *again);

#endif
