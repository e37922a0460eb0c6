/*  ru_cmd_admin.h - the administrators' commands, "ruche admin ...", on
 *  the node's /api/ruche/v1/admin/ endpoints: users (adduser, passwd,
 *  disable, enable, promote, demote), peers (key, add-peer, remove-peer),
 *  a fork's resolution (resolve-fork), backup and export; and restore, which runs on the node's host, the node
 *  stopped, and hands over to ruched --restore. The company directory's
 *  commands, "ruche admin directory ...", are ru_cmd_people's.
 *
 *  Each handler follows ru_cmd_fn (see ru_cmd.h).
 */
#ifndef RU_CMD_ADMIN_H
#define RU_CMD_ADMIN_H

#include "ru_cmd.h"

int ru_cmd_adduser(ru_ctx_t *ctx, const ru_args_t *args);     /* NAME [--admin] */
int ru_cmd_passwd(ru_ctx_t *ctx, const ru_args_t *args);      /* NAME */
int ru_cmd_disable(ru_ctx_t *ctx, const ru_args_t *args);     /* NAME */
int ru_cmd_enable(ru_ctx_t *ctx, const ru_args_t *args);      /* NAME */
int ru_cmd_promote(ru_ctx_t *ctx, const ru_args_t *args);     /* NAME */
int ru_cmd_demote(ru_ctx_t *ctx, const ru_args_t *args);      /* NAME */
int ru_cmd_key(ru_ctx_t *ctx, const ru_args_t *args);         /* */
int ru_cmd_add_peer(ru_ctx_t *ctx, const ru_args_t *args);    /* SITE KEY [PUB SYNC] */
int ru_cmd_remove_peer(ru_ctx_t *ctx, const ru_args_t *args); /* SITE */
int ru_cmd_resolve_fork(ru_ctx_t *ctx, const ru_args_t *args); /* ORIGIN */
int ru_cmd_backup(ru_ctx_t *ctx, const ru_args_t *args);      /* FILE */
int ru_cmd_export(ru_ctx_t *ctx, const ru_args_t *args); /* [--since D] [--until D] [--output F] */
/*  Runs ruched --restore FILE (RUCHED, else ruched on the PATH) with the
 *  options given; returns only when it cannot be run. */
int ru_cmd_restore(ru_ctx_t *ctx, const ru_args_t *args); /* FILE [--data-dir D] [--config F] */

#endif
