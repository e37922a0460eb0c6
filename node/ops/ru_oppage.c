/*  ru_oppage.c - GET /api/ruche/v1/admin/ops: what the web front end's
 *  operator page shows (node/web/app/views/ops.js), for administrators
 *  only, with admin:read (its route says so: 403 for anyone else).
 *
 *  The answer is the replication status (ru_api_replication_json: this
 *  site's clock, digest, pending updates and forks, and every peer's connection,
 *  heartbeat, clock, lag, refusals and clock skew) plus:
 *
 *  - "origins": every origin any of these clocks names, with its site name
 *    and "head", the highest seq of it that any of them holds. The page's
 *    replication matrix is sites x origins: head less a site's clock entry
 *    is how far that site is behind on that origin, as of its last
 *    heartbeat (a peer's clock is what it last told us).
 *  - "disk": the store's map size, the bytes its pages use, its maximum
 *    (0: none but the disk) and the free and total bytes of the file
 *    system of the data directory.
 *  - "alerts": what an operator should look at, each {kind, severity
 *    ("critical" or "warning"), site, ...}:
 *      disconnected  a direct peer has sent no heartbeat for three
 *                    heartbeat periods (last_heartbeat: when it last did)
 *      signature     updates from a peer refused for a bad signature
 *      fork          an origin signed two different updates with one seq:
 *                    it is quarantined (site: the origin; seq, found_at,
 *                    hashes, held: the "forks" of the status). Critical
 *                    until the fork is resolved (ruche admin
 *                    resolve-fork), whichever peer relayed it
 *      skew          updates refused for a clock too far ahead, or a
 *                    peer's clock (the HLC of its heartbeats) ahead of
 *                    ours by over half of [replication] max_skew_ms
 *                    (clock_ahead_ms)
 *      refused       updates refused for another reason (reason: chain,
 *                    untrusted, malformed, too_big)
 *      disk          under 10% of the data directory's disk free
 *                    (critical under 3%)
 *      store         the store uses over 90% of [store] max_size
 *      pending       updates of an origin (site) wait for their
 *                    dependencies past [replication] pending_alarm_s
 *                    (oldest_age_s) or up to pending_per_origin (count):
 *                    warning; the site's own, as many in all as
 *                    pending_max: critical. Until they apply or are
 *                    dropped (the same as the log's ALARM lines)
 *    Refusals are counted since the node started (the counts of the
 *    replication status): an alert of them stays until the next restart,
 *    so that one seen at night is still there in the morning; the logs
 *    have each refusal with its time.
 *
 *  The page polls this every few seconds (it is a few reads of memory and
 *  one read transaction); Prometheus scrapes /metrics for the same figures.
 */
#include <string.h>
#include <sys/statvfs.h>

#include "ruche/ru_text.h"

#include "ru_oppage.h"

#include "ru_api.h"
#include "ru_node.h"
#include "ru_view.h"

#define S_DISK_WARN_PCT 10
#define S_DISK_CRIT_PCT 3
#define S_STORE_WARN_PCT 90

/*  Appends {kind, severity, site} and the members of extra (taken). */
static void
s_alert(json_t *alerts, const char *kind, const char *severity, const char *site, json_t *extra)
{
    json_t *a = json_pack("{s:s, s:s, s:s}", "kind", kind, "severity", severity, "site", site);
    if (a && extra)
        json_object_update(a, extra);
    json_decref(extra);
    if (a)
        json_array_append_new(alerts, a);
}

static json_int_t
s_count(json_t *obj, const char *name)
{
    return json_integer_value(json_object_get(obj, name));
}

/*  The refusals of a peer: signature critical, skew (also from its
 *  heartbeat clock) and the others warnings. A fork is the origin's
 *  doing, not the peer's that relayed it: s_fork_alerts. */
static void
s_refusal_alerts(const ru_node_t *node, json_t *peer, const char *site, json_t *alerts)
{
    json_t *rejected = json_object_get(peer, "rejected");
    const char *reason;
    json_t *n;
    json_object_foreach(rejected, reason, n)
    {
        json_int_t count = json_integer_value(n);
        if (!count || strcmp(reason, "skew") == 0 || strcmp(reason, "fork") == 0)
            continue;
        int own = strcmp(reason, "signature") == 0;
        s_alert(alerts, own ? reason : "refused", own ? "critical" : "warning", site,
                json_pack("{s:I, s:s}", "count", count, "reason", reason));
    }
    json_int_t ahead = s_count(peer, "clock_ahead_ms");
    json_int_t skews = s_count(rejected, "skew");
    if (skews || ahead > node->cfg.max_skew_ms / 2)
        s_alert(alerts, "skew", "warning", site,
                json_pack("{s:I, s:I}", "count", skews, "clock_ahead_ms", ahead));
}

static void
s_peer_alerts(const ru_node_t *node, json_t *peers, json_t *alerts)
{
    size_t i;
    json_t *peer;
    json_array_foreach(peers, i, peer)
    {
        const char *site = json_string_value(json_object_get(peer, "site"));
        if (json_is_true(json_object_get(peer, "direct")) &&
            !json_is_true(json_object_get(peer, "connected")))
            s_alert(alerts, "disconnected", "critical", site,
                    json_pack("{s:O}", "last_heartbeat", json_object_get(peer, "last_heartbeat")));
        s_refusal_alerts(node, peer, site, alerts);
    }
}

/*  The pending set's alerts, from the status's "pending_origins". */
static void
s_pending_alerts(const ru_node_t *node, json_t *status, json_t *alerts)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(status, "pending_origins"), i, o)
    {
        json_int_t count = s_count(o, "count"), age = s_count(o, "oldest_age_s");
        if (count >= node->cfg.pending_per_origin || age >= node->cfg.pending_alarm_s)
            s_alert(alerts, "pending", "warning", json_string_value(json_object_get(o, "site")),
                    json_pack("{s:I, s:I}", "count", count, "oldest_age_s", age));
    }
    json_int_t total = s_count(status, "pending");
    if (total >= node->cfg.pending_max)
        s_alert(alerts, "pending", "critical", node->cfg.site,
                json_pack("{s:I, s:I}", "count", total, "max", (json_int_t) node->cfg.pending_max));
}

/*  One critical alert per forked origin, until its fork is resolved. */
static void
s_fork_alerts(json_t *forks, json_t *alerts)
{
    size_t i;
    json_t *fork;
    json_array_foreach(forks, i, fork)
        if (!json_is_true(json_object_get(fork, "resolved")))
            s_alert(alerts, "fork", "critical", json_string_value(json_object_get(fork, "origin")),
                    json_pack("{s:O, s:O, s:O, s:O}", "seq", json_object_get(fork, "seq"),
                              "found_at", json_object_get(fork, "found_at"), "hashes",
                              json_object_get(fork, "hashes"), "held",
                              json_object_get(fork, "held")));
}

/*  Raises heads[key] to the seqs of clock. */
static void
s_merge_heads(json_t *heads, json_t *clock)
{
    const char *key;
    json_t *seq;
    json_object_foreach(clock, key, seq)
    {
        if (json_integer_value(seq) > s_count(heads, key))
            json_object_set(heads, key, seq);
    }
}

/*  [{key, site, head}] of every origin that status's clocks name. */
static json_t *
s_origins(ru_node_t *node, json_t *status)
{
    json_t *heads = json_object(), *out = json_array();
    s_merge_heads(heads, json_object_get(status, "clock"));
    size_t i;
    json_t *peer;
    json_array_foreach(json_object_get(status, "peers"), i, peer)
        s_merge_heads(heads, json_object_get(peer, "clock"));
    ru_view_t v = {node, NULL, NULL};
    const char *key;
    json_t *head;
    json_object_foreach(heads, key, head)
    {
        uint8_t origin[RU_KEY_BYTES];
        char site[RU_MAX_NAME + 1];
        if (ru_b64_decode(origin, sizeof origin, key, strlen(key)) != RU_OK)
            continue; /* our own text of a key: not expected */
        ru_view_site(&v, origin, site);
        json_array_append_new(out,
                              json_pack("{s:s, s:s, s:O}", "key", key, "site", site, "head", head));
    }
    json_decref(heads);
    return out;
}

/*  The "disk" object, with its alerts. */
static json_t *
s_disk(ru_node_t *node, json_t *alerts)
{
    ru_store_usage_t use;
    ru_store_usage(node->store, &use);
    struct statvfs vfs;
    uint64_t free_b = 0, size_b = 0;
    if (statvfs(node->cfg.data_dir, &vfs) == 0) {
        free_b = (uint64_t) vfs.f_bavail * vfs.f_frsize;
        size_b = (uint64_t) vfs.f_blocks * vfs.f_frsize;
    }
    json_t *disk = json_pack("{s:I, s:I, s:I, s:I, s:I}", "map_size", (json_int_t) use.map_size,
                             "map_used", (json_int_t) use.used, "map_max", (json_int_t) use.map_max,
                             "disk_free", (json_int_t) free_b, "disk_size", (json_int_t) size_b);
    if (size_b && free_b * 100 < size_b * S_DISK_WARN_PCT)
        s_alert(alerts, "disk", free_b * 100 < size_b * S_DISK_CRIT_PCT ? "critical" : "warning",
                node->cfg.site,
                json_pack("{s:I, s:I}", "free", (json_int_t) free_b, "size", (json_int_t) size_b));
    if (use.map_max && use.used * 100 > use.map_max * S_STORE_WARN_PCT)
        s_alert(alerts, "store", "warning", node->cfg.site,
                json_pack("{s:I, s:I}", "used", (json_int_t) use.used, "max",
                          (json_int_t) use.map_max));
    return disk;
}

int
ru_oppage_get(ru_req_t *req)
{
    json_t *status;
    ru_err err = ru_api_replication_json(req->node, &status);
    if (err)
        return ru_http_fail(req, err);
    json_t *alerts = json_array();
    s_fork_alerts(json_object_get(status, "forks"), alerts);
    s_peer_alerts(req->node, json_object_get(status, "peers"), alerts);
    s_pending_alerts(req->node, status, alerts);
    json_object_set_new(status, "disk", s_disk(req->node, alerts));
    json_object_set_new(status, "origins", s_origins(req->node, status));
    json_object_set_new(status, "alerts", alerts);
    json_object_set_new(status, "checked_at", ru_view_time(ru_hlc_wall_ms()));
    return ru_http_json(req, 200, status);
}
