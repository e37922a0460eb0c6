/*  ru_replstat.h - the replication status as a plain struct, and the
 *  replication metrics rendered from it.
 *
 *  The replication actor counts what its peers did and what it served,
 *  under its mutex; ru_repl_status() copies all of it into an
 *  ru_replstat_t, which the caller then reads at leisure: node/api renders
 *  it as the "peers" of GET /api/ruche/v1/replication, and
 *  ru_replstat_metrics() renders it for /metrics. What both show that is
 *  derived (behind, ahead, seconds behind, connected) is computed here,
 *  once, from the copied fields.
 */
#ifndef RU_REPLSTAT_H
#define RU_REPLSTAT_H

#include <stdint.h>

#include "ruche/ru_buf.h"
#include "ruche/ru_clock.h"
#include "ruche/ru_error.h"
#include "ruche/ru_limits.h"

#include "ru_sites.h"
#include "ru_store.h"
#include "ru_verify.h"

/*  What a peer did on its links that PROTOCOL.md 13 refuses, and what was
 *  lost or retried: the "link" counts of the status. */
#define RU_LINK_EVENTS(X)                                                                          \
    X(RU_LINK_MALFORMED, "malformed")     /* a message to our ROUTER that did not decode */        \
    X(RU_LINK_MISPLACED, "misplaced")     /* a type that does not belong on its socket */          \
    X(RU_LINK_OVER_CREDIT, "over_credit") /* a batch beyond the credit we granted, refused */      \
    X(RU_LINK_DROPPED, "sends_dropped")   /* a send to it that failed at a high-water mark */      \
    X(RU_LINK_STALLED, "stalled")         /* our catch-up asked again after sync_timeout_ms */     \
    X(RU_LINK_GAPS, "live_gaps")          /* catch-ups asked for a gap in its live stream */       \
    X(RU_LINK_BAD_BLOB, "bad_blobs")      /* a blob whose bytes did not match its hash, refused */

typedef enum {
#define RU_LINK_ENUM(sym, name) sym,
    RU_LINK_EVENTS(RU_LINK_ENUM)
#undef RU_LINK_ENUM
        RU_LINK_COUNT
} ru_link_event;

/*  The status's name of a link event. */
const char *ru_replstat_link_name(ru_link_event what);

/*  One peer as its links and heartbeats showed it. */
typedef struct {
    char site[RU_MAX_NAME + 1];
    uint8_t key[RU_KEY_BYTES];
    int direct;                    /* connected to, not only trusted */
    int heard;                     /* a heartbeat came since the start */
    uint64_t heartbeat_ms;         /* when the last one came (wall ms) */
    uint64_t hlc;                  /* the HLC it carried */
    uint64_t caught_up_ms;         /* when we last had everything it had */
    ru_clock_t clock;              /* its clock, as its last heartbeat said */
    uint8_t digest[RU_HASH_BYTES]; /* the digest of heads it carried */
    uint64_t rejected[RU_REJECT_COUNT];
    uint64_t received, verified, stored, duplicates; /* its updates */
    uint64_t syncs_asked;                            /* catch-ups we asked of it */
    uint64_t link[RU_LINK_COUNT];
} ru_replstat_peer_t;

/*  The blobs of other sites' attachments this site fetched, and those it
 *  served (ru_fetch.h, ru_serve.h). */
typedef struct {
    uint64_t fetched, bytes; /* blobs stored, and their bytes */
    uint64_t lacked;         /* lacks answered */
    uint64_t timed_out;      /* flights silent past sync_timeout_ms */
    uint64_t bad;            /* blobs whose bytes did not match their hash */
    uint64_t failed;         /* stores that failed (quota, disk) */
    uint64_t in_flight;      /* now */
    uint64_t served, served_bytes; /* wants answered with chunks, and their bytes */
} ru_replstat_blobs_t;

typedef struct {
    long heartbeat_ms;         /* [replication] heartbeat_ms: "connected" follows it */
    ru_replstat_peer_t *peers; /* n_peers of them, in the actor's order */
    int n_peers;
    ru_clock_t published;        /* per origin, updates sent out on our PUB */
    uint64_t syncs_served;       /* catch-ups asked of us */
    uint64_t handshakes_refused; /* CURVE keys the ZAP handler turned away */
    uint64_t jobs_queued;        /* verification jobs sent and not answered yet */
    uint64_t live_pauses;        /* times the live streams were left unread */
    ru_replstat_blobs_t blobs;
} ru_replstat_t;

void ru_replstat_init(ru_replstat_t *self);
void ru_replstat_fini(ru_replstat_t *self);
/*  Room for n peers, each with an empty clock; RU_E_NOMEM if none. */
RU_MUST_CHECK ru_err ru_replstat_peers(ru_replstat_t *self, int n);

/*  Updates b has that a lacks. */
uint64_t ru_replstat_lacking(const ru_clock_t *a, const ru_clock_t *b);
/*  Updates p has that ours lacks (0 until it is heard), and the other way. */
uint64_t ru_replstat_behind(const ru_replstat_peer_t *p, const ru_clock_t *ours);
uint64_t ru_replstat_ahead(const ru_replstat_peer_t *p, const ru_clock_t *ours);
/*  Is p connected at now_ms: heard within three heartbeats (and a second)? */
int ru_replstat_connected(const ru_replstat_peer_t *p, uint64_t now_ms, long heartbeat_ms);
/*  How long we have lacked some of p's updates (behind of them), in
 *  seconds. */
double ru_replstat_seconds_behind(const ru_replstat_peer_t *p, uint64_t behind, uint64_t now_ms);

/*  Appends the replication families in the Prometheus text format to out:
 *  per peer, per origin (our clock ours, named through sites) and per
 *  quarantined origin (the forks, read from store), then the totals. */
void ru_replstat_metrics(const ru_replstat_t *self, const ru_clock_t *ours, ru_sites_t *sites,
                         ru_store_t *store, ru_buf_t *out);

#endif
