/*  ru_apply.h - causal delivery: getting signed updates into the store in
 *  an order that respects their dependencies, exactly once.
 *
 *  An update (origin, seq) may be applied when
 *    - it is the origin's next one: the origin's head is seq - 1, and its
 *      prev is the hash of that head (else a fork, below);
 *    - every entry (o, n) of its clock delta is applied (head of o >= n);
 *    - its target (reply, edit, delete, like, join ...) is applied.
 *  An update that is not ready waits in the pending database, registered in
 *  waits under the first dependency it lacks; when that dependency is
 *  applied, the waiters are woken and either applied or registered under
 *  their next missing dependency. Pending updates live in LMDB, so a
 *  restart loses none.
 *
 *  Every call runs inside the caller's write transaction (the store actor's),
 *  so the log, the heads (the node's vector clock), the apply-order index
 *  (ru_order.h), the pending set and the materialized state always change
 *  together.
 *
 *  Duplicates (the same payload again) are dropped. A different payload for
 *  an (origin, seq) already held, or a prev that is not the hash of the
 *  origin's head, proves a fork (ru_fork.h): it is recorded (the update
 *  held first is kept, applied or pending; one with a broken prev is held)
 *  and the origin is quarantined from the fork seq on: its updates at or
 *  past it that are not applied yet are held, the other origins' go on.
 *  A node whose own key forked makes no more updates (RU_E_FORK).
 *
 *  A RESOLVE update of (O, f) is applied like any other (it waits for O
 *  up to f - 1 only) and settles the fork (ru_fork.h): where the kept
 *  variant is held, or neither, the quarantine is lifted and the held
 *  updates looked at again; where the other variant was applied, it and
 *  every update of O past it are dropped and the materialized state is
 *  rebuilt from the rest of the log, replayed in apply order without
 *  telling on_applied; what depended on the dropped updates waits in
 *  pending for the kept chain. From then on the other variant and any
 *  update off the kept chain are refused with RU_E_CHAIN.
 */
#ifndef RU_APPLY_H
#define RU_APPLY_H

#include "ruche/ru_clock.h"
#include "ruche/ru_hlc.h"
#include "ruche/ru_key.h"
#include "ruche/ru_update.h"

#include "ru_fork.h"
#include "ru_state.h"

typedef enum {
    RU_APPLY_APPLIED,   /* stored and applied (and maybe woke others) */
    RU_APPLY_PENDING,   /* stored, waiting for a dependency, or held */
    RU_APPLY_DUPLICATE, /* already held, or a fork known already: nothing changed */
    RU_APPLY_FORK       /* it and an update held here prove a fork: recorded */
} ru_apply_result;

/*  Called for every update that gets applied, the woken ones included, in
 *  the order they are applied; env's bytes live until the call returns. */
typedef void (*ru_applied_fn)(void *ctx, const ru_envelope_t *env, const ru_update_t *u);

/*  How many updates may wait in the pending set: per origin (of the
 *  waiting update) and in all; 0 is no limit. A new arrival that would
 *  have to wait beyond either is refused with RU_E_PENDING_FULL and not
 *  stored; the next catch-up brings it again, for the asker's clock still
 *  lacks it. An update already pending is never pushed out. */
typedef struct {
    uint64_t per_origin, total;
} ru_apply_limits_t;

typedef struct {
    ru_state_t state;         /* transaction, node key, mention resolver */
    ru_hlc_t *hlc;            /* raised to every applied update's time */
    ru_applied_fn on_applied; /* may be NULL */
    void *ctx;
    ru_apply_limits_t limits; /* zeros: none */
} ru_apply_t;

/*  Ingests an envelope whose signature has been verified and whose payload
 *  decoded into u. Refusals, with nothing written: RU_E_FORK, RU_E_CHAIN
 *  (also: off the chain a fork's resolution kept),
 *  RU_E_RANGE (its clock delta does not strictly raise every entry of its
 *  origin's previous full clock, PROTOCOL.md 5.4) and RU_E_PENDING_FULL
 *  (it would have to wait beyond ap's limits). A pending update woken
 *  later that fails the chain or the clock rule is dropped with a log
 *  line. */
RU_MUST_CHECK ru_err ru_apply_ingest(const ru_apply_t *ap, const ru_envelope_t *env,
                                     const ru_update_t *u, ru_apply_result *result);

/*  Makes this node's next update from u's kind, author and body: fills
 *  origin, seq, prev, clock delta and hlc (u's other header fields are
 *  overwritten), signs it with key, applies it, and appends the envelope
 *  to out. u's clock is left holding the delta that was sent. Refused
 *  with RU_E_RECOVERING while updates of this node are pending here (a
 *  store recovered from the peers, or a rebuild that parked them: they
 *  hold their seqs), with RU_E_FORK once this node's key is known to have
 *  forked. */
RU_MUST_CHECK ru_err ru_apply_local(const ru_apply_t *ap, const ru_key_t *key, ru_update_t *u,
                                    ru_buf_t *out);

/*  Makes this node's RESOLVE of the fork of origin (PROTOCOL.md 16) by
 *  author, keeping the variant this node holds (the one it held first:
 *  nobody drops it), through ru_apply_local into u and out; *fork is the
 *  fork resolved. RU_E_NOT_FOUND when no unresolved fork of origin is
 *  known here. What `ruche admin resolve-fork` does. */
RU_MUST_CHECK ru_err ru_apply_resolve(const ru_apply_t *ap, const ru_key_t *key,
                                      const uint8_t *origin, const char *author, ru_fork_t *fork,
                                      ru_update_t *u, ru_buf_t *out);

/*  Store loss: a node whose store is new but whose key is not may have
 *  made updates before, which its peers hold. Until it has them back it
 *  must not make new ones, or it would reuse their seqs: recovery mode
 *  refuses local updates with RU_E_RECOVERING. It starts with
 *  ru_apply_begin_recovery() and ends with ru_apply_end_recovery() once this
 *  node's own head has reached target (ru_recovery.h says which) and none
 *  of its own updates is pending here: an update of its own that came back
 *  but cannot apply yet still holds a seq it must not make again. */
RU_MUST_CHECK ru_err ru_apply_begin_recovery(ru_txn_t *txn);
RU_MUST_CHECK ru_err ru_apply_end_recovery(const ru_apply_t *ap, uint64_t target, int *ended);
RU_MUST_CHECK ru_err ru_apply_recovering(ru_txn_t *txn, int *recovering);

/*  The updates u depends on, as above: its predecessor (origin, seq - 1),
 *  the entries of its clock delta, its target, its post's group. fn is
 *  called with each, in that order, until it returns non-zero, which is
 *  then returned (0 when it never did). */
typedef int (*ru_apply_dep_fn)(void *ctx, const uint8_t *origin, uint64_t seq);
int ru_apply_each_dep(const ru_update_t *u, ru_apply_dep_fn fn, void *ctx);

/*  The head of origin: its highest applied seq (0 if none) and that
 *  update's hash (zeros if none). */
RU_MUST_CHECK ru_err ru_apply_head(ru_txn_t *txn, const uint8_t *origin, uint64_t *seq,
                                   uint8_t *hash);
/*  The node's vector clock: every origin's head seq. */
RU_MUST_CHECK ru_err ru_apply_clock(ru_txn_t *txn, ru_clock_t *clock);
/*  The origins with updates pending here: how many, and when the oldest
 *  of them arrived (wall ms). *out (n of them, in origin order) is the
 *  caller's to free; *total is the sum, kept with the counts. */
typedef struct {
    uint8_t origin[RU_KEY_BYTES];
    uint64_t count;
    uint64_t oldest_ms;
} ru_apply_pending_t;
RU_MUST_CHECK ru_err ru_apply_pending(ru_txn_t *txn, ru_apply_pending_t **out, size_t *n,
                                      uint64_t *total);

/*  Store schema 2 to 3: fills each origin's last full clock from the log
 *  (its deltas folded in seq order; this node's own comes with them and
 *  replaces meta "self_clock") and the pending counts and arrival times
 *  (now, for updates pending before). */
RU_MUST_CHECK ru_err ru_apply_upgrade(ru_txn_t *txn);

/*  The node's clock and the digest of its heads (ru_msg_digest: what
 *  heartbeats carry; it is not the store's state digest, ru_txn_digest). */
RU_MUST_CHECK ru_err ru_apply_clock_digest(ru_txn_t *txn, ru_clock_t *clock, uint8_t *digest);
/*  The same, unless digest is NULL, from a read transaction of their own
 *  (what hellos and heartbeats carry). */
RU_MUST_CHECK ru_err ru_apply_state(ru_store_t *store, ru_clock_t *clock, uint8_t *digest);

#endif
