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
 *  asker applies each as it arrives and parks none pending. Then the
 *  pending ones it lacks (held here, waiting for a dependency): the asker
 *  may hold that dependency, and a site recovering its lost store must
 *  learn of every update of its own that any site holds, applied or not,
 *  or it would make one of their seqs again (ru_recovery.h). When the asker
 *  lacks nothing more, done goes out with this node's clock, and the
 *  session is over.
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
    uint32_t credit;   /* batches the asker still accepts */
    int pending;       /* the log is done: pending updates go now */
    uint8_t pending_after[RU_DBKEY_REF]; /* the last pending key looked at */
    int pending_started;
} ru_catchup_t;

void ru_catchup_init(ru_catchup_t *self);
void ru_catchup_fini(ru_catchup_t *self);

/*  Starts (or starts again) the session from a hello's clock and credit. */
RU_MUST_CHECK ru_err ru_catchup_hello(ru_catchup_t *self, const ru_clock_t *theirs,
                                      uint32_t credit);
/*  Adds credit from a credit message. */
void ru_catchup_credit(ru_catchup_t *self, uint32_t credit);

/*  Called with each encoded message (batch or done) to send to the asker;
 *  msg lives until the call returns. */
typedef void (*ru_catchup_send_fn)(void *ctx, const ru_buf_t *msg);

/*  Sends what the credit allows, read from store in one read transaction;
 *  returns 1 when the session is over (done was sent, or the store could
 *  not be read), 0 when it waits for credit. */
int ru_catchup_pump(ru_catchup_t *self, ru_store_t *store, ru_catchup_send_fn send, void *ctx);

#endif
