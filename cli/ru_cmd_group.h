/*  ru_cmd_group.h - the group commands: list, create, show, join, leave
 *  and post, on ruche's /api/ruche/v1/groups endpoints. (A group's
 *  timeline is "ruche timeline group ID", in ru_cmd_status.)
 *
 *  Each handler follows ru_cmd_fn (see ru_cmd.h).
 */
#ifndef RU_CMD_GROUP_H
#define RU_CMD_GROUP_H

#include "ru_cmd.h"

int ru_cmd_groups_list(ru_ctx_t *ctx, const ru_args_t *args);   /* */
int ru_cmd_groups_create(ru_ctx_t *ctx, const ru_args_t *args); /* NAME [--description D] */
int ru_cmd_groups_show(ru_ctx_t *ctx, const ru_args_t *args);   /* ID */
int ru_cmd_groups_join(ru_ctx_t *ctx, const ru_args_t *args);   /* ID */
int ru_cmd_groups_leave(ru_ctx_t *ctx, const ru_args_t *args);  /* ID */
int ru_cmd_groups_post(ru_ctx_t *ctx, const ru_args_t *args);   /* ID TEXT */

#endif
