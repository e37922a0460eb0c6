/*  ru_metrics.h - the node's metrics for Prometheus (GET /metrics) and its
 *  readiness (GET /readyz).
 *
 *  Everything is read when /metrics is asked for, from the modules that
 *  own it, through the collectors registered in node->prom (ru_prom.h):
 *  the HTTP requests by route and status (ru_reqstats.h), the store (map
 *  size and use), the store actor (commits, requests, queue), the streams
 *  (open ones) and the replication actor (per peer and per origin,
 *  ru_repl_collect()); and, read here, readiness and the pending updates
 *  by origin. Updates are counted
 *  by the peer they came from (received, verified, applied, duplicate,
 *  refused); by origin are this site's head, what it published (its own
 *  and relayed), how far each peer is ahead of it and, for a forked
 *  origin, its fork seq and the updates of it held here.
 *
 *  GET /metrics is open to all by default, like most exporters; [http]
 *  metrics = loopback keeps it to clients on the node's own host, admin
 *  asks for an administrator's token with admin:read (ru_http.h; an app's
 *  token needs read too, or the request goes on unsigned).
 *
 *  GET /readyz answers 200 {"ready": true, "parts": ...} once the store
 *  opens, the node is not recovering its own updates from its peers, the
 *  store can write and replication runs (when the node replicates), else
 *  503 {"ready": false, "error": why, "parts": ...}. parts names every part
 *  of the node (store, store_actor, replication, streams, http, web) with
 *  {"state", "ready"}. The store cannot write (store_actor "full") when
 *  the store actor's last batch was refused for lack of room
 *  (ru_writer_room): the disk is full, until it has room again, or the
 *  store reached store.max_size_mb, until a write fits. Replication is
 *  "down" when the node has peers configured and hears none of them (a
 *  peer is heard within three heartbeats, ru_replstat.h): a site cut off
 *  from every peer, or one just started that has heard none yet.
 *  GET /healthz (ru_api_misc.c) only says the process answers.
 */
#ifndef RU_METRICS_H
#define RU_METRICS_H

#include "ruche/ru_buf.h"
#include "ruche/ru_error.h"

#include "ru_http.h"

/*  GET /metrics and GET /readyz. */
int ru_metrics_serve(ru_req_t *req);
int ru_metrics_ready(ru_req_t *req);

#endif
