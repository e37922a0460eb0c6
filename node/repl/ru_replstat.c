/*  ru_replstat.c - the replication status and metrics (see ru_replstat.h).
 *
 *  The metrics are rendered from a copy of the status, outside the
 *  actor's mutex: a scrape never holds up the actor. The families keep
 *  the names, types and order they had when the actor wrote them itself
 *  (deploy/README.md and the dashboard name them).
 */
#include "ru_replstat.h"

#include <stdlib.h>
#include <string.h>

#include "ruche/ru_hlc.h"

#include "ru_fork.h"
#include "ru_prom.h"

static const char *const s_link_names[RU_LINK_COUNT] = {
#define RU_LINK_NAME(sym, name) [sym] = (name),
    RU_LINK_EVENTS(RU_LINK_NAME)
#undef RU_LINK_NAME
};

const char *
ru_replstat_link_name(ru_link_event what)
{
    return what < RU_LINK_COUNT ? s_link_names[what] : "unknown";
}

void
ru_replstat_init(ru_replstat_t *self)
{
    memset(self, 0, sizeof *self);
    ru_clock_init(&self->published);
}

void
ru_replstat_fini(ru_replstat_t *self)
{
    for (int i = 0; i < self->n_peers; i++)
        ru_clock_fini(&self->peers[i].clock);
    free(self->peers);
    ru_clock_fini(&self->published);
    ru_replstat_init(self);
}

ru_err
ru_replstat_peers(ru_replstat_t *self, int n)
{
    self->peers = calloc(n > 0 ? (size_t) n : 1, sizeof *self->peers);
    if (!self->peers)
        return RU_E_NOMEM;
    self->n_peers = n;
    for (int i = 0; i < n; i++)
        ru_clock_init(&self->peers[i].clock);
    return RU_OK;
}

uint64_t
ru_replstat_lacking(const ru_clock_t *a, const ru_clock_t *b)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        uint64_t have = ru_clock_get(a, b->v[i].origin);
        if (b->v[i].seq > have)
            n += b->v[i].seq - have;
    }
    return n;
}

uint64_t
ru_replstat_behind(const ru_replstat_peer_t *p, const ru_clock_t *ours)
{
    return p->heard ? ru_replstat_lacking(ours, &p->clock) : 0;
}

uint64_t
ru_replstat_ahead(const ru_replstat_peer_t *p, const ru_clock_t *ours)
{
    return p->heard ? ru_replstat_lacking(&p->clock, ours) : 0;
}

int
ru_replstat_connected(const ru_replstat_peer_t *p, uint64_t now_ms, long heartbeat_ms)
{
    return p->heard && now_ms - p->heartbeat_ms < 3 * (uint64_t) heartbeat_ms + 1000;
}

double
ru_replstat_seconds_behind(const ru_replstat_peer_t *p, uint64_t behind, uint64_t now_ms)
{
    return behind && now_ms > p->caught_up_ms ? (double) (now_ms - p->caught_up_ms) / 1000.0 : 0.0;
}

/*  ---------------------------------------------------------------------
 *  Metrics
 */

/*  The families with one sample per peer. */
enum {
    S_M_CONNECTED,
    S_M_AGE,
    S_M_RECEIVED,
    S_M_VERIFIED,
    S_M_APPLIED,
    S_M_DUPLICATES,
    S_M_BEHIND,
    S_M_AHEAD,
    S_M_SECONDS,
    S_M_ASKED
};

static const struct {
    const char *name, *type, *help;
} s_peer_families[] = {
    {"ruche_peer_connected", "gauge", "1 when the peer's heartbeats arrive, else 0."},
    {"ruche_peer_heartbeat_age_seconds", "gauge", "Time since the peer's last heartbeat."},
    {"ruche_peer_updates_received_total", "counter", "Updates received from the peer."},
    {"ruche_peer_updates_verified_total", "counter", "Signatures of its updates checked."},
    {"ruche_peer_updates_applied_total", "counter", "Its updates new to this site, stored."},
    {"ruche_peer_updates_duplicate_total", "counter", "Its updates this site already held."},
    {"ruche_peer_behind_updates", "gauge", "Updates the peer has that this site lacks."},
    {"ruche_peer_ahead_updates", "gauge", "Updates this site has that the peer lacks."},
    {"ruche_peer_behind_seconds", "gauge", "How long this site has lacked some of its updates."},
    {"ruche_peer_sync_sessions_asked_total", "counter", "Catch-ups this site asked of the peer."},
};

static double
s_peer_value(const ru_replstat_peer_t *p, int which, const ru_clock_t *ours, uint64_t now,
             long heartbeat_ms)
{
    uint64_t behind = ru_replstat_behind(p, ours);
    switch (which) {
    case S_M_CONNECTED:
        return ru_replstat_connected(p, now, heartbeat_ms);
    case S_M_AGE:
        return p->heard && now > p->heartbeat_ms ? (double) (now - p->heartbeat_ms) / 1000.0 : 0;
    case S_M_RECEIVED:
        return (double) p->received;
    case S_M_VERIFIED:
        return (double) p->verified;
    case S_M_APPLIED:
        return (double) p->stored;
    case S_M_DUPLICATES:
        return (double) p->duplicates;
    case S_M_BEHIND:
        return (double) behind;
    case S_M_AHEAD:
        return (double) ru_replstat_ahead(p, ours);
    case S_M_SECONDS:
        return ru_replstat_seconds_behind(p, behind, now);
    default:
        return (double) p->syncs_asked;
    }
}

static void
s_metrics_peers(const ru_replstat_t *self, const ru_clock_t *ours, ru_buf_t *out)
{
    uint64_t now = ru_hlc_wall_ms();
    for (int f = 0; f <= S_M_ASKED; f++) {
        ru_prom_family(out, s_peer_families[f].name, s_peer_families[f].type,
                       s_peer_families[f].help);
        for (int i = 0; i < self->n_peers; i++) {
            const char *labels[] = {"peer", self->peers[i].site, NULL};
            ru_prom_sample(out, s_peer_families[f].name, labels,
                           s_peer_value(&self->peers[i], f, ours, now, self->heartbeat_ms));
        }
    }
    ru_prom_family(out, "ruche_peer_updates_rejected_total", "counter",
                   "Updates from the peer refused, by reason.");
    for (int i = 0; i < self->n_peers; i++)
        for (int k = 0; k < RU_REJECT_COUNT; k++) {
            const char *labels[] = {"peer", self->peers[i].site, "reason",
                                    ru_verify_reason_name((ru_reject) k), NULL};
            ru_prom_sample(out, "ruche_peer_updates_rejected_total", labels,
                           (double) self->peers[i].rejected[k]);
        }
    ru_prom_family(out, "ruche_peer_link_events_total", "counter",
                   "What the peer's links saw: messages refused (malformed on our sync "
                   "socket, misplaced, over_credit), sends_dropped at a full queue, "
                   "stalled catch-ups asked again, live_gaps.");
    for (int i = 0; i < self->n_peers; i++)
        for (int k = 0; k < RU_LINK_COUNT; k++) {
            const char *labels[] = {"peer", self->peers[i].site, "event", s_link_names[k], NULL};
            ru_prom_sample(out, "ruche_peer_link_events_total", labels,
                           (double) self->peers[i].link[k]);
        }
}

/*  One sample per origin of clock, labelled with its site. */
static void
s_per_origin(const ru_clock_t *clock, ru_sites_t *sites, const char *family, ru_buf_t *out)
{
    char name[RU_SITES_LABEL];
    for (uint32_t i = 0; i < clock->n; i++) {
        ru_sites_label(sites, clock->v[i].origin, name);
        const char *labels[] = {"origin", name, NULL};
        ru_prom_sample(out, family, labels, (double) clock->v[i].seq);
    }
}

/*  Per origin: our head, what we sent out, and how far behind each peer
 *  that we have heard from this site is. */
static void
s_metrics_origins(const ru_replstat_t *self, const ru_clock_t *ours, ru_sites_t *sites,
                  ru_buf_t *out)
{
    char name[RU_SITES_LABEL];
    ru_prom_family(out, "ruche_origin_seq", "gauge",
                   "This site's head of each origin's log (its highest seq applied in order).");
    s_per_origin(ours, sites, "ruche_origin_seq", out);
    ru_prom_family(out, "ruche_updates_published_total", "counter",
                   "Updates sent out to the peers, by origin: this site's own and relayed.");
    s_per_origin(&self->published, sites, "ruche_updates_published_total", out);
    ru_prom_family(out, "ruche_peer_origin_behind_updates", "gauge",
                   "Updates of an origin that a peer has and this site lacks.");
    for (int p = 0; p < self->n_peers; p++) {
        const ru_clock_t *theirs = &self->peers[p].clock;
        for (uint32_t i = 0; i < theirs->n; i++) {
            uint64_t have = ru_clock_get(ours, theirs->v[i].origin);
            ru_sites_label(sites, theirs->v[i].origin, name);
            const char *labels[] = {"peer", self->peers[p].site, "origin", name, NULL};
            ru_prom_sample(out, "ruche_peer_origin_behind_updates", labels,
                           theirs->v[i].seq > have ? (double) (theirs->v[i].seq - have) : 0);
        }
    }
}

typedef struct {
    ru_sites_t *sites;
    ru_buf_t *out;
    int held; /* the family: held updates, else the fork seq */
} s_fork_metrics;

static int
s_fork_sample(void *ctx, const ru_fork_t *fork)
{
    s_fork_metrics *m = ctx;
    if (fork->resolved)
        return 0; /* no longer quarantined */
    char name[RU_SITES_LABEL];
    ru_sites_label(m->sites, fork->origin, name);
    const char *labels[] = {"origin", name, NULL};
    ru_prom_sample(m->out, m->held ? "ruche_fork_held_updates" : "ruche_fork_seq", labels,
                   (double) (m->held ? fork->held : fork->seq));
    return 0;
}

/*  Per quarantined origin (a fork not resolved yet): its fork seq and its
 *  updates held here. */
static void
s_metrics_forks(ru_sites_t *sites, ru_store_t *store, ru_buf_t *out)
{
    ru_txn_t txn;
    if (ru_store_read(store, &txn) != RU_OK)
        return;
    ru_prom_family(out, "ruche_fork_seq", "gauge",
                   "The seq at which an origin signed two different updates: it is "
                   "quarantined from there until the fork is resolved.");
    s_fork_metrics m = {sites, out, 0};
    ru_err err = ru_fork_list(&txn, s_fork_sample, &m);
    ru_prom_family(out, "ruche_fork_held_updates", "gauge",
                   "Updates of a forked origin held here by its quarantine.");
    m.held = 1;
    if (!err)
        err = ru_fork_list(&txn, s_fork_sample, &m);
    ru_txn_abort(&txn);
    (void) err; /* a store that cannot be read: the samples are missing */
}

void
ru_replstat_metrics(const ru_replstat_t *self, const ru_clock_t *ours, ru_sites_t *sites,
                    ru_store_t *store, ru_buf_t *out)
{
    s_metrics_peers(self, ours, out);
    s_metrics_origins(self, ours, sites, out);
    s_metrics_forks(sites, store, out);
    uint64_t verified = 0;
    for (int i = 0; i < self->n_peers; i++)
        verified += self->peers[i].verified;
    ru_prom_single(out, "ruche_signatures_verified_total", "counter",
                   "Signatures of replicated updates checked, all peers together.",
                   (double) verified);
    ru_prom_single(out, "ruche_sync_sessions_served_total", "counter",
                   "Catch-ups peers asked of this site.", (double) self->syncs_served);
    ru_prom_single(out, "ruche_handshakes_refused_total", "counter",
                   "CURVE handshakes refused: keys of no configured peer.",
                   (double) self->handshakes_refused);
    ru_prom_single(out, "ruche_verify_queue_depth", "gauge",
                   "Jobs (live messages, catch-up batches) waiting for or in verification.",
                   (double) self->jobs_queued);
    const ru_replstat_blobs_t *b = &self->blobs;
    const struct {
        const char *name, *type, *help;
        uint64_t v;
    } blob_figures[] = {
        {"ruche_blobs_fetched_total", "counter", "Blobs of other sites' attachments stored here.",
         b->fetched},
        {"ruche_blob_bytes_fetched_total", "counter", "Their bytes.", b->bytes},
        {"ruche_blob_lacks_total", "counter", "Blobs a peer asked for said it did not hold.",
         b->lacked},
        {"ruche_blob_fetch_timeouts_total", "counter",
         "Blob fetches whose chunks stopped coming for [replication] sync_timeout_ms.",
         b->timed_out},
        {"ruche_blobs_bad_total", "counter",
         "Blobs fetched whose bytes did not match their hash: refused.", b->bad},
        {"ruche_blob_store_failures_total", "counter",
         "Blobs fetched that could not be stored ([media] quota_mb, the disk).", b->failed},
        {"ruche_blobs_in_flight", "gauge", "Blobs being fetched now.", b->in_flight},
        {"ruche_blobs_served_total", "counter", "Peers' asks for blobs answered with chunks.",
         b->served},
        {"ruche_blob_bytes_served_total", "counter", "The bytes of those chunks.",
         b->served_bytes},
    };
    for (size_t i = 0; i < sizeof blob_figures / sizeof *blob_figures; i++)
        ru_prom_single(out, blob_figures[i].name, blob_figures[i].type, blob_figures[i].help,
                       (double) blob_figures[i].v);
    ru_prom_single(out, "ruche_live_pauses_total", "counter",
                   "Times the peers' live streams were left unread because the updates "
                   "waiting for verification took more than [replication] queue_mb.",
                   (double) self->live_pauses);
}
