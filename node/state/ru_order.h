/*  ru_order.h - the apply-order index: the order in which this node
 *  applied its updates, for catch-up to serve them in (PROTOCOL.md 13).
 *
 *  Every update applied gets the next position (0, 1, 2 ...), in the
 *  order database, written by ru_apply in the transaction that applies
 *  it. An update is applied only after everything it depends on, so the
 *  order of positions is causal: a peer that receives updates in that
 *  order, whatever it held before, can apply each one as it arrives and
 *  parks none in its pending area (ru_catchup.h). Seq order origin by
 *  origin is not causal: a reply comes before its post when the replier's
 *  site is served first.
 *
 *  The index is local (not replicated): each node's order is its own, and
 *  any causal order will do.
 *
 *  Stores made before the index (schema 3) get it from ru_order_rebuild(),
 *  which has no record of the order they applied in, so it makes one: it
 *  replays causal delivery over the log, placing an update once every
 *  update it depends on is placed (by the rule ru_apply applies by, which
 *  the upgrade step in ru_schema.c passes in: ru_apply_each_dep). HLC order would not do: an
 * update's HLC is what its origin signed, and nothing makes it greater than its dependencies'.
 */
#ifndef RU_ORDER_H
#define RU_ORDER_H

#include <stdint.h>

#include "ruche/ru_clock.h"
#include "ruche/ru_update.h"

#include "ru_store.h"

/*  Gives (origin, seq), just applied in txn, the next position. */
RU_MUST_CHECK ru_err ru_order_note(ru_txn_t *txn, const uint8_t *origin, uint64_t seq);

/*  The position of (origin, seq); RU_E_NOT_FOUND when it has none (not
 *  applied here). */
RU_MUST_CHECK ru_err ru_order_pos(ru_txn_t *txn, const uint8_t *origin, uint64_t seq,
                                  uint64_t *pos);

/*  What an update depends on: deps(u, fn, ctx) calls fn with each (origin,
 *  seq) until fn returns non-zero, which it returns (0 when it never did),
 *  as ru_apply_each_dep() does. */
typedef int (*ru_order_dep_fn)(void *ctx, const uint8_t *origin, uint64_t seq);
typedef int (*ru_order_deps_fn)(const ru_update_t *u, ru_order_dep_fn fn, void *ctx);

/*  Schema 3 to 4: a position for every update of the log up to heads (the
 *  applied head of each origin), in a causal order by deps (above). An
 *  update whose dependencies the log cannot account for (none, in a store
 *  that applied causally) is placed at the end, in seq order: the index
 *  is never left with a hole. */
RU_MUST_CHECK ru_err ru_order_rebuild(ru_txn_t *txn, const ru_clock_t *heads,
                                      ru_order_deps_fn deps);

#endif
