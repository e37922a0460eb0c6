/*  ru_cmd_repl.h - "ruche status": the replication state of a node, one
 *  row per site, from GET /api/ruche/v1/replication.
 *
 *  Each row: the site, whether it is connected (its heartbeats arrive;
 *  "relayed" for a site reached only through others), the age of its last
 *  heartbeat, the updates each side lacks, how long this node has been
 *  behind it, its refused updates by reason, and whether its state digest
 *  agrees with ours (comparable only when both hold the same updates).
 *  --watch [SECONDS] prints it again every SECONDS (default 2) until
 *  interrupted, clearing a terminal between rounds; --json prints the
 *  server's JSON with two fields added per peer, "heartbeat_age" (seconds
 *  or null) and "digest" agreement as "digest_agrees" (true, false, or
 *  null while the clocks differ), one compact line per round with --watch.
 *
 *  The handler follows ru_cmd_fn (see ru_cmd.h).
 */
#ifndef RU_CMD_REPL_H
#define RU_CMD_REPL_H

#include "ru_cmd.h"

int ru_cmd_repl_status(ru_ctx_t *ctx, const ru_args_t *args); /* [--watch] [SECONDS] */

#endif
