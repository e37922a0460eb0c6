/*  ru_catchup.h - serving one peer's catch-up (PROTOCOL.md section 13):
 *  what to send it, batch by batch, and when it is done.
 *
 *  The asker's hello gives its clock and an initial credit. The session
 *  keeps the clock the asker will have once it has what was sent: each
 *  batch raises it, so the next batch starts where the last one ended.
 *  Each batch spends one credit; with none left the session waits for the
 *  asker's credit message.
 *
 *  First go the applied updates the asker lacks, from the log, in the
 *  order this node applied them (ru_order.h): a causal order, so the
 *  asker applies each as it arrives and parks none pending. Then, from the
 *  pending ones (held here, waiting for a dependency), those the asker can
 *  use, in one pass in key order (origin, then seq):
 *    - its own: a site recovering its lost store must learn of every
 *      update of its own that any site holds, applied or not, or it would
 *      make one of their seqs again (ru_recovery.h);
 *    - any other whose missing dependencies the asker's clock (raised by
 *      what was sent) covers: then the asker can apply it, and the next
 *      one of its origin after it, in the same pass. An update that
 *      lacks its predecessor in that clock is of no use, nor is any later
 *      one of its origin: the walk leaves the origin there;
 *  never the updates of an origin quarantined here from its fork seq on
 *  (ru_fork.h): they are held, not relayed (PROTOCOL.md 16). So a node
 *  holding a great many updates that cannot apply (up to its pending
 *  limits) sends none of them to a peer that cannot apply them either.
 *  The walk looks at most at walk entries for one batch and goes on at the
 *  next batch from where it stopped. When the asker lacks nothing more,
 *  done goes out with this node's clock, and the session is over.
 *
 *  No sockets and no threads here: the caller (the replication actor, or
 *  the simulation of the federation in tests/sim) receives the asker's
 *  messages and sends what ru_catchup_pump() hands to its send function,
 *  so the simulation serves catch-up with the very code a node runs.
 */
#ifndef RU_CATCHUP_H
#define RU_CATCHUP_H

#include <stdint.h>

#include "ruche/ru_clock.h"
#include "ruche/ru_msg.h"

#include "ru_dbkey.h"
#include "ru_store.h"

typedef struct {
    ru_clock_t theirs; /* the asker's clock, raised by what was sent */
    uint8_t asker[RU_KEY_BYTES]; /* the asker's node key, if has_asker */
    int has_asker;
    uint32_t credit;                    /* batches the asker still accepts */
    uint32_t walk;                      /* pending entries one batch may look at */
    int pending;                        /* the log is done: pending updates go now */
    uint8_t pending_next[RU_DBKEY_REF]; /* the first pending key not looked at */
    int pending_end;                    /* ... there is none */
} ru_catchup_t;

/*  What ru_catchup_pump() left the session waiting for. */
typedef enum {
    RU_CATCHUP_WAIT, /* credit from the asker */
    RU_CATCHUP_OVER, /* nothing: done was sent, or the store could not be read */
    RU_CATCHUP_MORE  /* a batch's walk budget ran out with nothing found: call again */
} ru_catchup_step;

/*  walk: pending entries one batch may look at ([replication]
 *  pending_walk; 0 counts as 1). */
void ru_catchup_init(ru_catchup_t *self, uint32_t walk);
void ru_catchup_fini(ru_catchup_t *self);

/*  Starts (or starts again) the session from a hello's clock and credit;
 *  asker is the asking node's key as its connection proved it (ZAP), NULL
 *  when unknown: its own pending updates are then not told apart. */
RU_MUST_CHECK ru_err ru_catchup_hello(ru_catchup_t *self, const ru_clock_t *theirs,
                                      const uint8_t *asker, uint32_t credit);
/*  Adds credit from a credit message. */
void ru_catchup_credit(ru_catchup_t *self, uint32_t credit);

/*  Called with each encoded message (batch or done) to send to the asker;
 *  msg lives until the call returns. */
typedef void (*ru_catchup_send_fn)(void *ctx, const ru_buf_t *msg);

/*  Sends what the credit allows, read from store in one read transaction.
 *  RU_CATCHUP_MORE bounds the work of one call: the caller serves its
 *  other work and calls again soon, without waiting for a message. */
ru_catchup_step ru_catchup_pump(ru_catchup_t *self, ru_store_t *store, ru_catchup_send_fn send,
                                void *ctx);

#endif
