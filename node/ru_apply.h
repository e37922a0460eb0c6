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
 *  so the log, the heads (the node's vector clock), the pending set and the
 *  materialized state always change together.
 *
 *  Duplicates (the same payload again) are dropped. A different payload for
 *  an (origin, seq) already held, or a prev that is not the hash of the
 *  origin's head, proves a fork (ru_fork.h): it is recorded (the update
 *  held first is kept, applied or pending; one with a broken prev is held)
 *  and the origin is quarantined from the fork seq on: its updates at or
 *  past it that are not applied yet are held, the other origins' go on.
 *  A node whose own key forked makes no more updates (RU_E_FORK).
 */
#ifndef RU_APPLY_H
#define RU_APPLY_H

#include "ruche/ru_clock.h"
#include "ruche/ru_hlc.h"
#include "ruche/ru_key.h"
#include "ruche/ru_update.h"

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

typedef struct {
    ru_state_t state;         /* transaction, node key, mention resolver */
    ru_hlc_t *hlc;            /* raised to every applied update's time */
    ru_applied_fn on_applied; /* may be NULL */
    void *ctx;
} ru_apply_t;

/*  Ingests an envelope whose signature has been verified and whose payload
 *  decoded into u. */
RU_MUST_CHECK ru_err ru_apply_ingest(const ru_apply_t *ap, const ru_envelope_t *env,
                                     const ru_update_t *u, ru_apply_result *result);

/*  Makes this node's next update from u's kind, author and body: fills
 *  origin, seq, prev, clock delta and hlc (u's other header fields are
 *  overwritten), signs it with key, applies it, and appends the envelope
 *  to out. u's clock is left holding the delta that was sent. */
RU_MUST_CHECK ru_err ru_apply_local(const ru_apply_t *ap, const ru_key_t *key, ru_update_t *u,
                                    ru_buf_t *out);

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

/*  The head of origin: its highest applied seq (0 if none) and that
 *  update's hash (zeros if none). */
RU_MUST_CHECK ru_err ru_apply_head(ru_txn_t *txn, const uint8_t *origin, uint64_t *seq,
                                   uint8_t *hash);
/*  The node's vector clock: every origin's head seq. */
RU_MUST_CHECK ru_err ru_apply_clock(ru_txn_t *txn, ru_clock_t *clock);
/*  The node's clock and, unless digest is NULL, its state digest, from a
 *  read transaction of their own (what hellos and heartbeats carry). */
RU_MUST_CHECK ru_err ru_apply_state(ru_store_t *store, ru_clock_t *clock, uint8_t *digest);

#endif
