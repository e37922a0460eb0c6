/*  ru_cmd_people.h - finding people, and the company directory for
 *  administrators:
 *
 *      ruche people [WORDS] [--skill S] [--department D] [--site S]
 *                   [--title T] [--office O] [--help-with X] [--local]
 *                   [--limit N] [--offset N]
 *      ruche admin directory import FILE [--complete]
 *      ruche admin directory sync [--wait]
 *      ruche admin directory status
 *
 *  people searches every site's employees (GET /api/ruche/v1/people):
 *  one line each (ru_render_person), with --help-with what made each
 *  score; a full page ends with the --offset of the next one.
 *
 *  import sends a file of directory entries (ru_people.h; "-" reads
 *  standard input) to POST /api/ruche/v1/admin/directory. Every entry is
 *  checked first, so a malformed one refuses the file before anything is
 *  sent (exit 2). The node's largest body is read from its instance
 *  information (ruche.max_body; 1 MiB, the node's default, when it says
 *  none), and the entries go in chunks of at most 5,000 entries whose
 *  body fits it, each chunk one run of the node's import; the reports are
 *  added up and printed with the node's reasons. Since a run is what sees
 *  a name given twice, a name repeated in two chunks is not refused as
 *  such: the later entry updates the same employee (same dir_id), or is
 *  refused as another employee's name. --complete (or a file
 *  saying "complete": true) says the file holds every employee of the
 *  site, and those missing have left: that must be one run, so one
 *  request, and a file over max_body is refused before anything is sent;
 *  an empty complete file is refused (it would mark everyone departed).
 *  Exit 1 when the node refused an entry, or a request failed (the
 *  message says which entries were not sent; importing again is safe:
 *  unchanged entries publish nothing).
 *
 *  sync asks the node for a sync from LDAP now (POST
 *  /api/ruche/v1/admin/directory/sync); with --wait it asks the sync's
 *  state (GET on the same path) until the run it asked for has ended,
 *  then prints it as status does. A 404 means the node has no [ldap].
 *  status prints what the sync is doing and what its last run did; exit 1
 *  when that run failed.
 *
 *  Each handler follows ru_cmd_fn (see ru_cmd.h).
 */
#ifndef RU_CMD_PEOPLE_H
#define RU_CMD_PEOPLE_H

#include "ru_cmd.h"

int ru_cmd_people(ru_ctx_t *ctx, const ru_args_t *args);
int ru_cmd_dir_import(ru_ctx_t *ctx, const ru_args_t *args); /* FILE [--complete] */
int ru_cmd_dir_sync(ru_ctx_t *ctx, const ru_args_t *args);   /* [--wait] */
int ru_cmd_dir_status(ru_ctx_t *ctx, const ru_args_t *args); /* */

/*  The options of ruche people. */
#define RU_CMD_PEOPLE_OPTS                                                                         \
    "--skill=", "--department=", "--site=", "--title=", "--office=", "--help-with=", "--local",    \
        "--limit=", "--offset="

#endif
