/*  ru_fork.h - forks: an origin that signed two histories, what proves it,
 *  and the quarantine that keeps it from splitting the federation.
 *
 *  Evidence of a fork of origin O is two authentic updates of O (their
 *  signatures were checked before they reached causal delivery):
 *    - two different payloads with one seq s: the fork is at s;
 *    - (O, s + 1) whose prev is not the hash of the (O, s) this node holds
 *      applied: O signed two updates s; the fork is at s.
 *  The fork seq f of O is the lowest this node knows of. The forks
 *  database (local: what a node has learnt, not replicated state) holds,
 *  per forked origin, f, when it was found, the hashes of the two
 *  variants of (O, f) and the two envelopes that prove it, which the node
 *  sends its peers so that every site learns of the fork (PROTOCOL.md
 *  section 16).
 *
 *  Quarantine (ru_apply.c): a node that knows O forked at f applies no
 *  update of O with seq >= f that it does not already hold applied. It
 *  keeps them, in the pending database, waiting under (O, RU_FORK_HELD),
 *  a dependency that is never applied: they are held, not lost, and not
 *  relayed (only applied updates are). Every other origin's updates apply
 *  as soon as their own dependencies are met.
 *
 *  Resolution (PROTOCOL.md section 16): a RESOLVE update names (O, f) and
 *  the hash of the variant every site keeps. Applying it records a
 *  resolution of (O, f), which lifts the quarantine of a fork of O at f
 *  (ru_apply.c does the rest: the held updates woken, or the other variant
 *  and what was built on it dropped and the state rebuilt). Of two
 *  RESOLVEs of one (O, f), the one with the lower (hlc, origin, seq)
 *  decides, wherever they arrive in either order. A resolution is kept
 *  even when no fork of O is known here: a fork at f found later is
 *  settled at once (the other variant is refused, RU_E_CHAIN). After a
 *  resolution of O at f, a break in O's chain past f is not a new fork
 *  (the loser's chain goes on breaking it) but a refusal; only two
 *  variants of one seq past f with the same prev prove a new fork.
 *
 *  Every call runs inside the caller's transaction.
 */
#ifndef RU_FORK_H
#define RU_FORK_H

#include <stdint.h>

#include "ruche/ru_msg.h"
#include "ruche/ru_update.h"

#include "ru_store.h"

/*  The seq of the dependency the held updates of a quarantined origin
 *  wait for in the waits database: no update has it. */
#define RU_FORK_HELD UINT64_MAX

/*  A recorded fork; the evidence is a view of the store, valid until the
 *  next write of the transaction. */
typedef struct {
    uint8_t origin[RU_KEY_BYTES];
    uint64_t seq;                 /* f: the lowest seq with two variants */
    uint64_t found_ms;            /* wall-clock time this node found it */
    uint8_t first[RU_HASH_BYTES]; /* the variant of (O, f) this node held first */
    uint8_t other[RU_HASH_BYTES]; /* the other one */
    ru_bytes_t evidence[2];       /* the two envelopes that prove it */
    uint64_t held;                /* updates of O held here (ru_fork_list only) */
    int resolved;                 /* a resolution of (O, seq) is recorded (ru_fork_list only) */
    struct ru_fork_resolution {
        uint8_t kept[RU_HASH_BYTES]; /* the hash of the variant every site keeps */
        ru_ref_t by;                 /* the RESOLVE update that decided */
        uint64_t by_hlc;             /* its hlc */
        uint64_t at_ms;              /* wall-clock time it was applied here */
    } resolution;
} ru_fork_t;

typedef struct ru_fork_resolution ru_fork_resolution_t;

/*  The fork seq of origin, resolved or not, 0 when it is not known to have
 *  forked. */
RU_MUST_CHECK ru_err ru_fork_seq(ru_txn_t *txn, const uint8_t *origin, uint64_t *seq);

/*  The seq origin is quarantined from: its fork seq unless that fork is
 *  resolved, else 0. */
RU_MUST_CHECK ru_err ru_fork_quarantine(ru_txn_t *txn, const uint8_t *origin, uint64_t *seq);

/*  Records that the origin of a and b forked at seq, the variants there
 *  being first (held here before) and other, unless a fork of it at seq
 *  or below is known and unresolved, or (origin, seq) is resolved already
 *  (*noted 0). A fork past a resolved one is noted (the caller checked
 *  that it is one: see above). a and b may be views of the store: they
 *  are copied before anything is written. */
RU_MUST_CHECK ru_err ru_fork_note(ru_txn_t *txn, const ru_envelope_t *a, const ru_envelope_t *b,
                                  uint64_t seq, const uint8_t *first, const uint8_t *other,
                                  int *noted);

/*  The resolution of (origin, seq) into *out; RU_E_NOT_FOUND if none. */
RU_MUST_CHECK ru_err ru_fork_resolution(ru_txn_t *txn, const uint8_t *origin, uint64_t seq,
                                        ru_fork_resolution_t *out);
/*  Records r as the resolution of (origin, seq), replacing any. */
RU_MUST_CHECK ru_err ru_fork_resolve(ru_txn_t *txn, const uint8_t *origin, uint64_t seq,
                                     const ru_fork_resolution_t *r);
/*  *settled: a resolution of origin at some seq <= seq is recorded. */
RU_MUST_CHECK ru_err ru_fork_settled(ru_txn_t *txn, const uint8_t *origin, uint64_t seq,
                                     int *settled);
/*  1 when a decides before b: the lower (hlc, origin, seq) of its RESOLVE. */
int ru_fork_decides_before(const ru_fork_resolution_t *a, const ru_fork_resolution_t *b);

/*  The fork record of origin, with its resolution (not its held count);
 *  RU_E_NOT_FOUND when none. */
RU_MUST_CHECK ru_err ru_fork_get(ru_txn_t *txn, const uint8_t *origin, ru_fork_t *out);

/*  Calls fn for every recorded fork, in origin order, with its held count
 *  and its resolution, until fn returns non-zero. fn must not write. */
typedef int (*ru_fork_fn)(void *ctx, const ru_fork_t *fork);
RU_MUST_CHECK ru_err ru_fork_list(ru_txn_t *txn, ru_fork_fn fn, void *ctx);

#endif
