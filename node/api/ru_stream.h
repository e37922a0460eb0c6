/*  ru_stream.h - live events for clients: Mastodon's streaming API over
 *  WebSocket and Server-Sent Events.
 *
 *  The hub learns of every update the store actor commits (a writer
 *  listener, ru_writer.h), local and replicated alike, and turns each into
 *  the events Mastodon clients expect, for every open stream that should
 *  see them:
 *    update         a new status (post or reply): its Status JSON
 *    status.update  an edited status: its Status JSON
 *    delete         a deleted status: its id
 *    notification   a Notification of the stream's user (ru_notify.h)
 *  A status event is rendered as the stream's user sees it (favourited,
 *  visibility), and only to those who may see it.
 *
 *  Streams, by their Mastodon names:
 *    user               the user's home timeline (their own statuses and
 *                       those of whom they follow, replies included, as
 *                       GET /api/v1/timelines/home shows them) and their
 *                       notifications; needs a signed-in user
 *    user:notification  their notifications alone
 *    public             every public status, from every site
 *    public:local       public statuses made at this site
 *    public:remote      public statuses from other sites
 *    hashtag            public statuses with the tag (a "tag" parameter)
 *    hashtag:local      the same, made at this site
 *  Which statuses each stream carries is ru_event.h's business.
 *
 *  WebSocket, GET /api/v1/streaming with an upgrade: signed in as any
 *  request is (ru_http.h). The handshake echoes the first protocol of the
 *  client's Sec-WebSocket-Protocol (the token, as Mastodon's clients send
 *  it), and has no Sec-WebSocket-Protocol when the client offered none.
 *  A bad token is refused with 401 at the handshake; no token gives the
 *  public streams only. A connection signed in by the
 *  session cookie must come from a page of this site (its Origin is this
 *  node's), else 403: any page can open a WebSocket that carries the
 *  browser's cookies. ?stream=NAME(&tag=T) subscribes at connect; the
 *  client then sends {"type": "subscribe" | "unsubscribe", "stream":
 *  NAME, "tag": T}, and gets {"error": ..., "status": N} for a message it
 *  got wrong. Events are {"stream": [NAME(, tag)], "event": E, "payload":
 *  "<the JSON, as a string>"} (a delete's payload is the id itself).
 *  Idle connections are pinged every [streaming] heartbeat_ms. A message
 *  longer than [streaming] max_message bytes closes the connection (1009,
 *  before it is read, let alone held); one nested deeper than [http]
 *  max_json_depth gets {"error": ..., "status": 400}.
 *
 *  Server-Sent Events: GET /api/v1/streaming/user, /user/notification,
 *  /public, /public/local, /public/remote, /hashtag?tag=T,
 *  /hashtag/local?tag=T (or /api/v1/streaming?stream=NAME) answer
 *  text/event-stream, "event: E\ndata: PAYLOAD\n\n" per event, and a
 *  ":thump" comment every heartbeat_ms. GET /api/v1/streaming/health
 *  answers "OK" (text/plain, as Mastodon's does).
 *
 *  Limits: at most [streaming] max_streams streams at once (503 past it),
 *  and max_streams_per_user of one signed-in user (429 past it); each has
 *  a queue of queue_kb of unsent events, and a client that lets it fill
 *  up is disconnected (a WebSocket with close 1013), so a slow client
 *  never holds up the store actor, the hub or anyone else. A client that
 *  leaves frees its place at once. When the node stops, WebSockets get a
 *  close frame (1001, going away) and event streams a last comment, then
 *  their end.
 *
 *  Threads: the listener only copies the refs of a commit into the hub's
 *  inbox; the hub's thread reads them in its own read transactions and
 *  queues events; the HTTP core's event loop sends each stream's queue
 *  (ru_stream.c says how). No stream has a thread of its own.
 */
#ifndef RU_STREAM_H
#define RU_STREAM_H

#include "ruche/ru_buf.h"
#include "ruche/ru_error.h"

#include "ru_http.h"
#include "ru_node.h"

/*  Starts the hub of node, listening to its store actor (node->writer,
 *  which must outlive the hub). */
RU_MUST_CHECK ru_err ru_stream_new(ru_node_t *node, ru_stream_t **out);
/*  Serves the WebSocket endpoint on http (before it listens); the hub's
 *  streams are driven by http's event loop from then on. */
void ru_stream_serve_websocket(ru_stream_t *self, ru_http_t *http);
/*  Ends every stream (WebSockets get a close frame, "going away", event
 *  streams a last comment) and refuses new ones, waiting a moment for the
 *  goodbyes to leave, so that the HTTP server can stop. */
void ru_stream_close_all(ru_stream_t *self);
/*  Stops listening and frees; the HTTP server must be stopped (no stream
 *  open). NULL-safe. */
void ru_stream_destroy(ru_stream_t **self_p);

/*  Route handlers: the event streams, and their health check. */
int ru_stream_sse(ru_req_t *req);
/*  Streams open or being opened, for metrics. Any thread. */
int ru_stream_open_count(ru_stream_t *self);
/*  The collector (ru_prom.h) of that count: self is an ru_stream_t. */
RU_MUST_CHECK ru_err ru_stream_collect(void *self, ru_buf_t *out);
int ru_stream_health(ru_req_t *req);

#endif
