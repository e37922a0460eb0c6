/*  ru_metrics.c - /metrics and /readyz (see ru_metrics.h).
 *
 *  The page is the build's line, then whatever the registered collectors
 *  render (ru_prom.h), then what only this layer can see whole: readiness,
 *  the pending updates by origin's site name, and replication.
 */
#include "ru_metrics.h"

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ru_apply.h"
#include "ru_log.h"
#include "ru_prom.h"
#include "ru_repl.h"
#include "ru_view.h"

/*  The updates waiting for their dependencies: in all, and per origin how
 *  many and for how long the oldest has waited (the counts kept with them:
 *  no scan), with the limits that refuse more. */
static ru_err
s_render_pending(ru_node_t *node, ru_buf_t *out)
{
    ru_txn_t txn;
    ru_apply_pending_t *by;
    size_t n;
    uint64_t total;
    ru_err err = ru_store_read(node->store, &txn);
    if (err)
        return err;
    err = ru_apply_pending(&txn, &by, &n, &total);
    ru_txn_abort(&txn);
    if (err)
        return err;
    ru_prom_single(out, "ruche_pending_updates_all", "gauge",
                   "Updates waiting here for their dependencies, all origins.", (double) total);
    ru_prom_family(out, "ruche_pending_limit", "gauge",
                   "Updates that may wait ([replication] pending_per_origin, pending_max).");
    const char *per[] = {"scope", "per_origin", NULL}, *all[] = {"scope", "all", NULL};
    ru_prom_sample(out, "ruche_pending_limit", per, (double) node->cfg.pending_per_origin);
    ru_prom_sample(out, "ruche_pending_limit", all, (double) node->cfg.pending_max);
    ru_view_t v = {node, NULL, NULL};
    char site[RU_MAX_NAME + 1];
    uint64_t now = ru_hlc_wall_ms();
    for (int pass = 0; pass < 2; pass++) {
        const char *name = pass ? "ruche_pending_oldest_age_seconds" : "ruche_pending_updates";
        ru_prom_family(out, name, "gauge",
                       pass ? "How long the origin's oldest waiting update has waited."
                            : "Updates of the origin waiting here for their dependencies.");
        for (size_t i = 0; i < n; i++) {
            ru_view_site(&v, by[i].origin, site);
            const char *labels[] = {"origin", site, NULL};
            double age = now > by[i].oldest_ms ? (double) (now - by[i].oldest_ms) / 1000 : 0;
            ru_prom_sample(out, name, labels, pass ? age : (double) by[i].count);
        }
    }
    free(by);
    return RU_OK;
}

static const char *s_not_ready(ru_node_t *node, json_t *parts);

/*  The whole page into out. */
static ru_err
s_render(ru_req_t *req, ru_buf_t *out)
{
    ru_node_t *node = req->node;
    const char *labels[] = {"version", RUCHE_VERSION, "site", node->cfg.site, NULL};
    ru_prom_family(out, "ruche_build_info", "gauge", "This node's version and site; always 1.");
    ru_prom_sample(out, "ruche_build_info", labels, 1);
    ru_err err = node->prom ? ru_prom_render(node->prom, out) : RU_OK;
    if (err)
        return err;
    ru_prom_single(out, "ruche_ready", "gauge",
                   "1 when GET /readyz answers 200 (store open and writing, not recovering, "
                   "a peer heard).",
                   s_not_ready(node, NULL) ? 0 : 1);
    err = s_render_pending(node, out);
    return err ? err : ru_buf_status(out);
}

/*  May this request read the metrics ([http] metrics)? Sends the refusal
 *  and returns its status, or 0. */
static int
s_refused(ru_req_t *req)
{
    const char *access = req->node->cfg.metrics;
    if (strcmp(access, "public") == 0)
        return 0;
    if (strcmp(access, "admin") == 0)
        return ru_http_admin_refused(req, 0);
    if (strcmp(access, "loopback") == 0) {
        const char *addr = ru_http_req_addr(req);
        int local = strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
                    strcmp(addr, "::ffff:127.0.0.1") == 0;
        return local ? 0 : ru_http_error(req, 403, "the metrics are served to this host only");
    }
    return ru_http_error(req, 500, "[http] metrics must be public, loopback or admin, not '%s'",
                         access);
}

int
ru_metrics_serve(ru_req_t *req)
{
    int refused = s_refused(req);
    if (refused)
        return refused;
    ru_buf_t out;
    ru_buf_init(&out);
    ru_err err = s_render(req, &out);
    int status = err ? ru_http_fail(req, err)
                     : ru_http_send(req, 200, "text/plain; version=0.0.4; charset=utf-8",
                                    (const char *) out.data, out.len);
    ru_buf_fini(&out);
    return status;
}

/*  ---------------------------------------------------------------------
 *  Readiness: every part of the node and its state
 */

/*  A part's state; *why says what keeps the node from being ready, and
 *  stays NULL when the part is as it should be. */
typedef const char *(*s_part_fn)(ru_node_t *node, const char **why);

static const char *
s_part_store(ru_node_t *node, const char **why)
{
    ru_txn_t txn;
    int recovering = 0;
    if (!node->store) {
        *why = "the store is not open";
        return "not open";
    }
    ru_err err = ru_store_read(node->store, &txn);
    if (!err) {
        err = ru_apply_recovering(&txn, &recovering);
        ru_txn_abort(&txn);
    }
    if (err) {
        *why = "the store cannot be read";
        return "unreadable";
    }
    if (recovering) {
        *why = "recovering: this site takes its own updates back from its peers";
        return "recovering";
    }
    return "open";
}

static const char *
s_part_writer(ru_node_t *node, const char **why)
{
    if (!node->writer) {
        *why = "the store actor has not started";
        return "not started";
    }
    ru_err room = ru_writer_room(node->writer);
    if (room == RU_OK)
        return "running";
    *why = room == RU_E_DISK_FULL
               ? "the store cannot write: the disk holding it is full"
               : "the store cannot write: it has reached its size limit (store.max_size_mb)";
    return "full";
}

/*  Does the node hear a peer (within three heartbeats, ru_replstat.h),
 *  or has it no peer to hear? *why says so when not. */
static int
s_peer_heard(ru_node_t *node, const char **why)
{
    ru_replstat_t st;
    ru_replstat_init(&st);
    ru_err err = ru_repl_status(node->repl, &st);
    uint64_t now = ru_hlc_wall_ms();
    int direct = 0, heard = 0;
    for (int i = 0; !err && i < st.n_peers; i++) {
        direct += st.peers[i].direct;
        heard |= ru_replstat_connected(&st.peers[i], now, st.heartbeat_ms);
    }
    ru_replstat_fini(&st);
    if (err)
        *why = "replication: its status cannot be read";
    else if (direct && !heard)
        *why = "replication is down: no peer heard within three heartbeats";
    return !err && (!direct || heard);
}

static const char *
s_part_replication(ru_node_t *node, const char **why)
{
    if (!node->cfg.pub_bind[0])
        return "off";
    const char *state = node->repl ? ru_repl_state(node->repl) : "not started";
    if (strcmp(state, "running") != 0) {
        *why = node->repl ? "replication has stopped" : "replication has not started";
        return state;
    }
    return s_peer_heard(node, why) ? state : "down";
}

static const char *
s_part_streams(ru_node_t *node, const char **why)
{
    if (node->stream)
        return "running";
    *why = "the streaming hub has not started";
    return "not started";
}

static const char *
s_part_http(ru_node_t *node, const char **why)
{
    (void) node, (void) why;
    return "serving"; /* it answers this request */
}

static const char *
s_part_web(ru_node_t *node, const char **why)
{
    (void) why; /* the API serves without it */
    return node->web ? "serving" : "off";
}

static const struct {
    const char *name;
    s_part_fn state;
} s_parts[] = {
    {"store", s_part_store},
    {"store_actor", s_part_writer},
    {"replication", s_part_replication},
    {"streams", s_part_streams},
    {"http", s_part_http},
    {"web", s_part_web},
};

/*  Why the node is not ready (the first part's reason), or NULL; each
 *  part's {"state", "ready"} into parts, unless it is NULL. */
static const char *
s_not_ready(ru_node_t *node, json_t *parts)
{
    const char *first = NULL;
    for (size_t i = 0; i < sizeof s_parts / sizeof s_parts[0]; i++) {
        const char *why = NULL;
        const char *state = s_parts[i].state(node, &why);
        if (parts)
            json_object_set_new(parts, s_parts[i].name,
                                json_pack("{s:s, s:b}", "state", state, "ready", why == NULL));
        if (!first)
            first = why;
    }
    return first;
}

int
ru_metrics_ready(ru_req_t *req)
{
    json_t *parts = json_object();
    const char *why = parts ? s_not_ready(req->node, parts) : "out of memory";
    if (why)
        return ru_http_json(
            req, 503, json_pack("{s:b, s:s, s:o*}", "ready", 0, "error", why, "parts", parts));
    return ru_http_json(req, 200, json_pack("{s:b, s:o}", "ready", 1, "parts", parts));
}
