/*  ru_cmd_account.h - the commands about accounts: login, logout, whoami,
 *  follow, unfollow and account.
 *
 *  Each handler follows ru_cmd_fn (see ru_cmd.h). An ACCT argument is an
 *  account id (all digits) or a name, "alice" or "alice@nozay" (a leading
 *  '@' is allowed); names are resolved with /api/v1/accounts/lookup.
 */
#ifndef RU_CMD_ACCOUNT_H
#define RU_CMD_ACCOUNT_H

#include "ru_cmd.h"

int ru_cmd_login(ru_ctx_t *ctx, const ru_args_t *args);    /* NAME [--password-stdin] */
int ru_cmd_logout(ru_ctx_t *ctx, const ru_args_t *args);   /* */
int ru_cmd_whoami(ru_ctx_t *ctx, const ru_args_t *args);   /* */
int ru_cmd_follow(ru_ctx_t *ctx, const ru_args_t *args);   /* ACCT */
int ru_cmd_unfollow(ru_ctx_t *ctx, const ru_args_t *args); /* ACCT */
int ru_cmd_account(ru_ctx_t *ctx, const ru_args_t *args);  /* ACCT [--statuses + paging] */

#endif
