/*  ru_recovery.h - when a site that lost its store may post again.
 *
 *  A site whose store is new but whose key is not may have made updates
 *  that its peers hold. Until its own head has reached the highest seq of
 *  its own that any of them holds, a new local update would reuse a seq
 *  another site already has: every site would refuse it as a fork, and the
 *  site's later updates as a broken chain, for good. The store keeps the
 *  site in recovery (ru_apply_begin_recovery) and refuses local updates;
 *  this module decides the seq that recovery must reach, and when it is
 *  known.
 *
 *  The first answer is not enough: a peer that holds none of this site's
 *  updates, or a lagging one, may answer first. The target is known only
 *  once every direct peer has ended a catch-up with this site since this
 *  process started (its done carries its clock), and it is the highest of
 *  their entries for this site and of what their heartbeats said (a lower
 *  bound: a heartbeat may come before that peer's done). Every update of
 *  this site that any site holds came to it through some direct peer, which
 *  keeps it (PROTOCOL.md section 13, store loss). A direct peer that does
 *  not answer keeps the site in recovery: its operator brings it back, or
 *  removes it from the configuration.
 *
 *  No sockets here: the replication actor (and the simulation in
 *  tests/sim) tells it what the peers answered, and calls
 *  ru_recovery_try_end() after each answer and each stored catch-up batch.
 */
#ifndef RU_RECOVERY_H
#define RU_RECOVERY_H

#include <stdint.h>

#include "ru_config.h"
#include "ru_writer.h"

typedef struct {
    uint64_t target;                   /* the highest seq of this site a peer reported */
    uint32_t answered[RU_MAX_PEERS];   /* the peers whose catch-up ended, by id */
    int n_answered;
} ru_recovery_t;

void ru_recovery_init(ru_recovery_t *self);
/*  A catch-up with peer ended (done): it held this site's updates up to
 *  seq. */
void ru_recovery_done(ru_recovery_t *self, uint32_t peer, uint64_t seq);
/*  A heartbeat of peer said it holds this site's updates up to seq. */
void ru_recovery_heard(ru_recovery_t *self, uint32_t peer, uint64_t seq);
/*  1 and *target when the seq recovery must reach is known, else 0. peers
 *  (n of them) are the direct peers, named by the ids given above. */
int ru_recovery_target(const ru_recovery_t *self, const uint32_t *peers, int n, uint64_t *target);
/*  Ends the store's recovery, through writer, if the target is known and
 *  this site's own head has reached it; *ended says whether it did. */
RU_MUST_CHECK ru_err ru_recovery_try_end(const ru_recovery_t *self, ru_writer_t *writer,
                                         const uint32_t *peers, int n, int *ended);

#endif
