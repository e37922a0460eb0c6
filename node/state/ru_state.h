/*  ru_state.h - the state machine: what each kind of update does to the
 *  materialized state (posts, likes, follows, profiles, groups) and its
 *  indexes.
 *
 *  ru_state_apply() runs inside the store actor's write transaction, after
 *  ru_apply has checked that every dependency of the update is already
 *  applied. It is deterministic: it reads nothing but the update and the
 *  replicated state, so nodes that apply the same updates in any causal
 *  order end with equal replicated databases (and state digests).
 *
 *  Rules that make concurrent updates commute:
 *    - an edit or delete counts only from the post's own author (others are
 *      applied as no-ops, so every node skips them alike);
 *    - a delete wins: it leaves a tombstone without text, in no index, and
 *      with no likes; later edits and likes of a tombstone do nothing;
 *    - concurrent edits: the one with the larger HLC wins (an author's edits
 *      come from one origin, whose HLC always grows);
 *    - likes, follows and group members are sets.
 *  Local indexes (home timelines, mentions of users of this site) and the
 *  notifications of this site's users (ru_notify.h) may also depend on
 *  this node's own configuration and accounts; they are not in the digest.
 */
#ifndef RU_STATE_H
#define RU_STATE_H

#include "ruche/ru_error.h"
#include "ruche/ru_update.h"

#include "ru_notify.h"
#include "ru_record.h"
#include "ru_store.h"

typedef struct {
    ru_txn_t *txn;            /* a write transaction */
    const uint8_t *self;      /* this node's key: its users get home timelines */
    ru_site_resolver resolve; /* may be NULL: only same-site mentions then */
    void *resolve_ctx;
} ru_state_t;

/*  Applies u. Malformed references (a reply to a like, an edit by someone
 *  else) are no-ops, not errors; errors are store errors only. */
RU_MUST_CHECK ru_err ru_state_apply(const ru_state_t *st, const ru_update_t *u);

/*  What the instance information counts, each in constant time: the
 *  statuses (posts and replies, not deleted) of the site self, kept as
 *  they are applied; its accounts; the other sites it holds updates of. */
typedef struct {
    uint64_t statuses, users, sites;
} ru_site_stats_t;
RU_MUST_CHECK ru_err ru_state_site_stats(ru_txn_t *txn, const uint8_t *self,
                                         ru_site_stats_t *out);

/*  Schema 4 to 5: every site's statuses counted from the authors index. */
RU_MUST_CHECK ru_err ru_state_upgrade(ru_txn_t *txn);

#endif
