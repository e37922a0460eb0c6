#!/usr/bin/python3
"""test_streaming.py - the streaming API of a real ruched: WebSocket at
/api/v1/streaming and Server-Sent Events at /api/v1/streaming/...

Users post, reply, edit, delete, like, mention and follow over the REST
API while WebSocket and event-stream clients (streamclient.py) watch:
every event (update, status.update, delete, notification) must arrive, in
Mastodon's shape, on the streams that should have it, as the stream's user
sees it, and on no other. An event that must not arrive is checked with a
fence: a later status that must arrive, before which nothing else came.
Then the sign-in rules (tokens in the protocol header, the query and the
Authorization header; 401 for a bad one; the session cookie only from this
site's pages), the protocol header of 900 handshakes one after another and
200 at once, on connections kept alive (each the client's own token or
none, never another client's), the client's subscribe and unsubscribe
messages and their errors, heartbeats, the limit on open streams (503), a client too slow to
read (disconnected, without holding up posts or other clients), odd input,
and a clean SIGTERM with streams open.

Usage: test_streaming.py PATH/TO/ruched. Prints one line per check and
"N passed, M failed"; exits non-zero if any check failed.
"""

import concurrent.futures
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ruchetest as rt  # noqa: E402
import streamclient as sc  # noqa: E402

HEARTBEAT_MS = 300
SETTINGS = ("streaming.heartbeat_ms=%d" % HEARTBEAT_MS,)
USERS = ("alice", "bob", "carol", "dave")


class World:
    """The node, a client per user, their tokens and account ids."""

    def __init__(self, node):
        self.node = node
        self.port = node.port
        self.users, self.tokens, self.ids = {}, {}, {}

    def ws(self, query="", path="/api/v1/streaming", **kw):
        return sc.WebSocket("127.0.0.1", self.port, path + query, **kw)

    def sse(self, path, **kw):
        return sc.EventStream("127.0.0.1", self.port, path, **kw)

    def post(self, user, text, **fields):
        return self.users[user].post_status(text, **fields)


def add_users(node, names):
    """Creates names through the admin API; {name: (client, token, id)}."""
    anon = node.client()
    admin = node.client(anon.login("admin", node.admin_password()))
    out = {}
    for name in names:
        r = admin.post("/api/ruche/v1/admin/users", json_body={"username": name})
        if r.status != 200:
            raise rt.TestError("create %s: %d %s" % (name, r.status, r.brief()))
        token = anon.login(name, r.json["password"])
        acct = anon.get("/api/v1/accounts/lookup", query={"acct": name}).json
        out[name] = (node.client(token), token, acct["id"])
    return out


def until(conn, pred, timeout=10.0):
    """Reads events of conn until pred(event); returns (that event, the
    events read before it)."""
    deadline = time.monotonic() + timeout
    before = []
    while True:
        ev = conn.event(max(0.05, deadline - time.monotonic()))
        if pred(ev):
            return ev, before
        before.append(ev)


def is_update(sid, stream=None, event="update"):
    """A predicate: a WebSocket event about status sid (on stream)."""

    def pred(ev):
        return (ev.get("event") == event and sc.status_id(ev) == sid
                and (stream is None or ev.get("stream") == stream))

    return pred


def barrier(ws):
    """Returns once the server has read every message sent before: it reads
    them in order, and answers a message of no known type with an error."""
    ws.send_json({"type": "barrier"})
    until(ws, lambda ev: ev.get("error"))


def fence(c, w, name, conn, user, absent):
    """Posts a fence status as user; checks conn gets it and that no event
    before it satisfies absent()."""
    st = w.post(user, "fence %s" % name)
    _, before = until(conn, lambda ev: ev.get("event") == "update"
                      and sc.status_id(ev) == st["id"])
    c.check("%s: nothing else came" % name, not any(absent(ev) for ev in before), before)


def check_refused(c, name, conn, status):
    c.equal("%s -> %d" % (name, status), conn.status, status)
    body = conn.error_json()
    c.check("%s: a JSON error" % name, isinstance(body, dict) and isinstance(body.get("error"), str),
            conn.body)


# ---------------------------------------------------------------------
# Sections


def s_handshake(c, w):
    ws = w.ws("?stream=public")
    c.equal("upgrade -> 101", ws.status, 101)
    c.check("Sec-WebSocket-Accept is right", ws.accept_ok, ws.headers)
    st = w.post("alice", "hello stream <b>world</b>")
    ev = ws.event()
    c.equal("update event", ev.get("event"), "update")
    c.equal("stream field", ev.get("stream"), ["public"])
    p = ev.get("payload", {})
    c.equal("payload is the status", p.get("id"), st["id"])
    c.equal("payload shape as REST", sorted(p.keys()), sorted(st.keys()))
    c.equal("payload account", p.get("account", {}).get("username"), "alice")
    c.check("payload content escaped", "&lt;b&gt;" in p.get("content", ""), p.get("content"))
    ws.close()


def s_auth(c, w):
    tok = w.tokens["alice"]
    ws = w.ws("?stream=user", protocols=[tok])
    c.equal("token in Sec-WebSocket-Protocol -> 101", ws.status, 101)
    c.equal("the protocol is echoed", ws.headers.get("sec-websocket-protocol"), tok)
    st = w.post("alice", "my own post")
    ev, _ = until(ws, is_update(st["id"]))
    c.equal("user stream gets own post", ev["stream"], ["user"])
    ws.close()
    ws = w.ws("?stream=user&access_token=" + tok)
    c.equal("access_token query -> 101", ws.status, 101)
    ws.close()
    ws = w.ws("?stream=user", headers={"Authorization": "Bearer " + tok})
    c.equal("Authorization header -> 101", ws.status, 101)
    ws.close()
    check_refused(c, "bad token in protocol", w.ws("?stream=public", protocols=["x" * 43]), 401)
    check_refused(c, "bad token in query", w.ws("?stream=public&access_token=nope"), 401)
    check_refused(c, "user stream without a token", w.ws("?stream=user"), 401)
    check_refused(c, "unknown stream", w.ws("?stream=list"), 400)
    check_refused(c, "hashtag without tag", w.ws("?stream=hashtag"), 400)
    check_refused(c, "hashtag with a bad tag", w.ws("?stream=hashtag&tag=a%20b"), 400)
    check_refused(c, "a long Sec-WebSocket-Key", w.ws(headers={"Sec-WebSocket-Key": "k" * 80}), 400)
    ws = w.ws()
    c.equal("no stream, no token -> 101", ws.status, 101)
    ws.close()


def s_messages(c, w):
    ws = w.ws()
    ws.send_json({"type": "subscribe", "stream": "hashtag", "tag": "#Food"})
    barrier(ws)
    st = w.post("bob", "#food lunch")
    ev, _ = until(ws, is_update(st["id"]))
    c.equal("subscribed by message: hashtag", ev["stream"], ["hashtag", "food"])
    for name, frame, status in (
            ("not JSON", b"{nope", 400),
            ("unknown type", b'{"type":"dance"}', 400),
            ("stream not a string", b'{"type":"subscribe","stream":5}', 400),
            ("user stream anonymously", b'{"type":"subscribe","stream":"user"}', 401),
            ("unknown stream", b'{"type":"subscribe","stream":"direct"}', 400),
            ("oversize", b'{"type":"subscribe","stream":"' + b"p" * 70000 + b'"}', 400)):
        ws.send_frame(sc.OP_TEXT, frame)
        msg = ws.message()
        c.check("message %s -> error %d" % (name, status),
                msg.get("status") == status and isinstance(msg.get("error"), str), msg)
    ws.send_frame(sc.OP_BINARY, b"\x00\x01")
    c.equal("binary frame -> error", ws.message().get("status"), 400)
    ws.send_frame(sc.OP_TEXT, b'{"type":', fin=False)
    c.equal("fragment -> error", ws.message().get("status"), 400)
    ws.send_json({"type": "subscribe", "stream": "public"})
    ws.send_json({"type": "subscribe", "stream": "public"})  # twice: once
    ws.send_json({"type": "unsubscribe", "stream": "hashtag", "tag": "food"})
    barrier(ws)
    st = w.post("bob", "#food again")
    ev, before = until(ws, is_update(st["id"]))
    c.equal("after unsubscribe: public only", ev["stream"], ["public"])
    fence(c, w, "unsubscribed hashtag", ws, "bob",
          lambda e: e.get("stream") == ["hashtag", "food"] or e.get("error"))
    for i in range(20):
        ws.send_json({"type": "subscribe", "stream": "hashtag", "tag": "t%d" % i})
    msg, _ = until(ws, lambda e: "error" in e)
    c.check("too many subscriptions -> error", "Too many" in msg.get("error", ""), msg)
    ws.send_close(1000)
    opcode, data = ws.recv()
    while opcode == sc.OP_TEXT:  # the other refusals
        opcode, data = ws.recv()
    c.check("close answered with the client's code",
            opcode == sc.OP_CLOSE and data[:2] == b"\x03\xe8", (opcode, data))
    ws.close()


def s_visibility(c, w):
    streams = {u: w.ws("?stream=user", protocols=[w.tokens[u]]) for u in ("bob", "carol", "dave")}
    pub = w.ws("?stream=public")
    priv = w.post("alice", "for followers", visibility="private")
    for u in ("bob", "dave"):
        ev, _ = until(streams[u], is_update(priv["id"]))
        c.equal("private post reaches follower %s" % u, ev["payload"]["visibility"], "private")
    dm = w.post("alice", "@bob just you", visibility="direct")
    ev, _ = until(streams["bob"], is_update(dm["id"]))
    c.check("direct post reaches bob (followed, mentioned)", ev is not None)
    hidden = (priv["id"], dm["id"])
    fence(c, w, "dave does not get the direct post", streams["dave"], "dave",
          lambda e: sc.status_id(e) == dm["id"])
    fence(c, w, "carol (no follow) gets neither", streams["carol"], "carol",
          lambda e: sc.status_id(e) in hidden)
    fence(c, w, "public stream gets neither", pub, "carol",
          lambda e: sc.status_id(e) in hidden)
    reply = w.post("alice", "a reply to carol", in_reply_to_id=w.carol_post["id"])
    ev, _ = until(streams["bob"], is_update(reply["id"]))
    c.equal("reply of a followed user in bob's home", ev["payload"]["in_reply_to_id"],
            w.carol_post["id"])
    fav = w.users["bob"].post("/api/v1/statuses/%s/favourite" % reply["id"])
    c.status("bob likes it", fav, 200)
    w.users["alice"].put("/api/v1/statuses/%s" % reply["id"], json_body={"status": "reply, edited"})
    ev, _ = until(streams["bob"], is_update(reply["id"], event="status.update"))
    c.equal("rendered as bob sees it (favourited)", ev["payload"].get("favourited"), True)
    for conn in list(streams.values()) + [pub]:
        conn.close()


def s_edit_delete(c, w):
    pub, tag = w.ws("?stream=public"), w.ws("?stream=hashtag&tag=Edits")
    bob = w.ws("?stream=user", protocols=[w.tokens["bob"]])
    st = w.post("alice", "first draft #edits")
    for conn in (pub, tag, bob):
        until(conn, is_update(st["id"]))
    r = w.users["alice"].put("/api/v1/statuses/%s" % st["id"],
                             json_body={"status": "second draft #edits"})
    c.status("edit", r, 200)
    for name, conn in (("public", pub), ("hashtag", tag), ("user", bob)):
        ev, _ = until(conn, is_update(st["id"], event="status.update"))
        c.equal("status.update on %s: new text" % name, ev["payload"].get("text"),
                "second draft #edits")
    r = w.users["alice"].delete("/api/v1/statuses/%s" % st["id"])
    c.status("delete", r, 200)
    for name, conn in (("public", pub), ("hashtag", tag), ("user", bob)):
        ev, _ = until(conn, is_update(st["id"], event="delete"))
        c.equal("delete on %s: payload is the id" % name, ev["payload"], st["id"])
    priv = w.post("alice", "private, soon gone", visibility="private")
    until(bob, is_update(priv["id"]))
    w.users["alice"].delete("/api/v1/statuses/%s" % priv["id"])
    ev, _ = until(bob, is_update(priv["id"], event="delete"))
    c.equal("a follower gets the private delete", ev["payload"], priv["id"])
    fence(c, w, "public stream gets no private delete", pub, "alice",
          lambda e: e.get("payload") == priv["id"])
    for conn in (pub, tag, bob):
        conn.close()


def is_note(kind):
    """A predicate: a notification event of type kind."""
    return lambda ev: ev.get("event") == "notification" and ev["payload"].get("type") == kind


def s_notifications(c, w):
    alice = w.ws("?stream=user", protocols=[w.tokens["alice"]])
    bob = w.ws("?stream=user", protocols=[w.tokens["bob"]])
    notes = w.sse("/api/v1/streaming/user/notification",
                  headers={"Authorization": "Bearer " + w.tokens["alice"]})
    mine = w.post("alice", "something to like")
    until(alice, is_update(mine["id"]))
    mention = w.post("bob", "hello @alice")
    ev, _ = until(alice, is_note("mention"))
    c.equal("mention: the status", ev["payload"].get("status", {}).get("id"), mention["id"])
    c.equal("mention: from bob", ev["payload"].get("account", {}).get("username"), "bob")
    c.equal("notification on the user stream", ev["stream"], ["user"])
    w.users["bob"].post("/api/v1/statuses/%s/favourite" % mine["id"])
    ev, _ = until(alice, is_note("favourite"))
    c.equal("favourite: the status", ev["payload"]["status"]["id"], mine["id"])
    w.users["carol"].post("/api/v1/accounts/%s/follow" % w.ids["alice"])
    ev, _ = until(alice, is_note("follow"))
    c.equal("follow: from carol", ev["payload"]["account"]["username"], "carol")
    w.post("bob", "a thought on it", in_reply_to_id=mine["id"])
    ev, _ = until(alice, lambda e: e.get("event") == "notification"
                  and e["payload"].get("type") in ("reply", "mention"))
    c.check("reply notified", ev is not None)
    got = []
    for _ in range(4):
        name, data = notes.event()
        got.append((name, data.get("type") if isinstance(data, dict) else data))
    c.equal("user:notification: the four, and no status",
            [n for n, _ in got], ["notification"] * 4)
    c.equal("their types", [t for _, t in got][:3], ["mention", "favourite", "follow"])
    w.users["alice"].post("/api/v1/statuses/%s/favourite" % mention["id"])
    ev, before = until(bob, is_note("favourite"))
    c.equal("bob gets his own notification", ev["payload"]["status"]["id"], mention["id"])
    c.check("and none of alice's", not any(e.get("event") == "notification" for e in before),
            before)
    for conn in (alice, bob, notes):
        conn.close()


def s_local(c, w):
    ws = w.ws("?stream=public:local")
    ws.send_json({"type": "subscribe", "stream": "public:remote"})
    ws.send_json({"type": "subscribe", "stream": "hashtag:local", "tag": "here"})
    barrier(ws)
    st = w.post("carol", "local #here")
    ev, _ = until(ws, is_update(st["id"]))
    c.equal("public:local gets this site's post", ev["stream"], ["public:local"])
    ev, _ = until(ws, is_update(st["id"]))
    c.equal("hashtag:local too", ev["stream"], ["hashtag:local", "here"])
    fence(c, w, "public:remote gets no local post", ws, "carol",
          lambda e: e.get("stream") == ["public:remote"])
    ws.close()


def s_sse(c, w):
    pub = w.sse("/api/v1/streaming/public")
    c.equal("event stream -> 200", pub.status, 200)
    c.check("text/event-stream", pub.headers.get("content-type", "").startswith(
        "text/event-stream"), pub.headers)
    user = w.sse("/api/v1/streaming/user", headers={"Authorization": "Bearer " + w.tokens["bob"]})
    tag = w.sse("/api/v1/streaming/hashtag?tag=sse")
    tag_local = w.sse("/api/v1/streaming/hashtag/local?tag=SSE")
    local = w.sse("/api/v1/streaming?stream=public:local")
    notes = w.sse("/api/v1/streaming/user/notification?access_token=" + w.tokens["bob"])
    c.equal("user/notification -> 200", notes.status, 200)
    st = w.post("alice", "over #sse")
    for name, conn in (("public", pub), ("user", user), ("hashtag", tag),
                       ("hashtag/local", tag_local), ("?stream=public:local", local)):
        event, data = conn.event()
        c.check("SSE %s: update with the status" % name,
                event == "update" and data.get("id") == st["id"], (event, data))
    w.users["alice"].delete("/api/v1/statuses/%s" % st["id"])
    event, data = pub.event()
    c.equal("SSE delete: data is the id", (event, data), ("delete", st["id"]))
    before = pub.comments
    pub.wait_comments(before + 3, timeout=10 * HEARTBEAT_MS / 1000.0)
    c.check("heartbeat comments", pub.comments >= before + 3, pub.comments)
    for conn in (pub, user, tag, tag_local, local, notes):
        conn.close()
    check_refused(c, "SSE user without token", w.sse("/api/v1/streaming/user"), 401)
    check_refused(c, "SSE bad token", w.sse("/api/v1/streaming/public?access_token=bad"), 401)
    check_refused(c, "SSE hashtag without tag", w.sse("/api/v1/streaming/hashtag"), 400)
    check_refused(c, "SSE no stream named", w.sse("/api/v1/streaming"), 400)
    check_refused(c, "SSE unknown stream", w.sse("/api/v1/streaming?stream=list"), 400)
    h = w.node.client().get("/api/v1/streaming/health")
    c.check("health -> 200 OK", h.status == 200 and h.raw == b"OK", (h.status, h.raw))
    r = w.node.client().post("/api/v1/streaming/public")
    c.error("POST to an event stream", r, 405)


def s_cookie(c, w):
    cookie = {"Cookie": "ruche_session=" + w.tokens["alice"]}
    mine = "http://127.0.0.1:%d" % w.port
    ws = w.ws("?stream=user", headers=dict(cookie, Origin=mine))
    c.equal("cookie + this site's Origin -> 101", ws.status, 101)
    st = w.post("alice", "cookie stream")
    ev, _ = until(ws, is_update(st["id"]))
    c.equal("cookie stream is alice's", ev["stream"], ["user"])
    ws.close()
    check_refused(c, "cookie + another site's Origin",
                  w.ws("?stream=public", headers=dict(cookie, Origin="http://evil.example")), 403)
    check_refused(c, "cookie without Origin", w.ws("?stream=public", headers=cookie), 403)
    stale = {"Cookie": "ruche_session=" + "y" * 43, "Origin": mine}
    ws = w.ws("?stream=public", headers=stale)
    c.equal("a stale cookie: public stream anonymously -> 101", ws.status, 101)
    ws.close()
    check_refused(c, "a stale cookie: user stream", w.ws("?stream=user", headers=stale), 401)
    sse = w.sse("/api/v1/streaming/user", headers=cookie)
    c.equal("SSE cookie, same-origin GET (no Origin) -> 200", sse.status, 200)
    sse.close()
    check_refused(c, "SSE cookie + another site's Origin",
                  w.sse("/api/v1/streaming/user", headers=dict(cookie, Origin="http://evil.example")),
                  403)


# Handshakes of every kind, as (name, stream query, protocols offered,
# headers): a protocol offered is the client's own token, to be echoed
# back; a client that offers none must get none back.
def handshake_kinds(w):
    mine = "http://127.0.0.1:%d" % w.port
    kinds = []
    for u in USERS:
        tok = w.tokens[u]
        kinds += [("%s's token as protocol" % u, "?stream=user", [tok], {}),
                  ("%s's token first of two protocols" % u, "?stream=user", [tok, "other"], {}),
                  ("%s's bearer token" % u, "?stream=user", None,
                   {"Authorization": "Bearer " + tok}),
                  ("%s's token in the query" % u, "?stream=user&access_token=" + tok, None, {}),
                  ("%s's cookie" % u, "?stream=user", None,
                   {"Cookie": "ruche_session=" + tok, "Origin": mine})]
    kinds += [("anonymous", "?stream=public", None, {}), ("anonymous, no stream", "", None, {}),
              ("a bad token as protocol", "?stream=public", ["z" * 43], {})]
    return kinds


def handshake_problem(w, kind, ws):
    """None if the handshake of ws, a WebSocket of kind, is right, else
    what is wrong with it."""
    name, _, protocols, _ = kind
    got = ws.headers.get("sec-websocket-protocol")
    want_status = 401 if protocols and protocols[0] == "z" * 43 else 101
    want = protocols[0] if protocols and want_status == 101 else None
    if ws.status != want_status:
        return "%s: status %d, not %d" % (name, ws.status, want_status)
    if got == want:
        return None
    whose = [u for u in USERS
             if got and (w.tokens[u] in got or (len(got) >= 8 and got in w.tokens[u]))]
    return "%s: Sec-WebSocket-Protocol %r, not %r%s" % (
        name, got[:12] + "..." if got else got, want[:12] + "..." if want else want,
        " (%s's token)" % whose[0] if whose else "")


def open_ws(w, kind, kept_alive):
    _, query, protocols, headers = kind
    return w.ws(query, protocols=protocols, headers=headers, kept_alive=kept_alive)


def one_handshake(w, kind, kept_alive):
    """Opens and closes a WebSocket of kind; handshake_problem()."""
    ws = open_ws(w, kind, kept_alive)
    ws.close()
    return handshake_problem(w, kind, ws)


def streams_open(w):
    text = w.node.client().get("/metrics").raw.decode()
    line = [ln for ln in text.splitlines() if ln.startswith("ruche_streams_open ")]
    return float(line[0].split()[1]) if line else None


HANDSHAKES = 900  # one after another, on connections kept alive
CONCURRENT = 200  # open together: "100 to 200 app streams" broke Chrome's


def s_subprotocol(c, w):
    """The protocol header of every handshake is the client's own or none,
    whichever worker thread served which client before (civetweb 1.15 kept
    a worker's last accepted protocol for its later handshakes)."""
    kinds = handshake_kinds(w)
    signed = [k for k in kinds if k[2]]
    unsigned = [k for k in kinds if not k[2]]
    order = ([signed[i % len(signed)] for i in range(HANDSHAKES // 3)] +
             [unsigned[i % len(unsigned)] for i in range(HANDSHAKES // 3)] +
             [kinds[i % len(kinds)] for i in range(HANDSHAKES - 2 * (HANDSHAKES // 3))])
    problems = [p for i, k in enumerate(order) for p in [one_handshake(w, k, i % 3)] if p]
    c.check("%d handshakes one after another: each protocol header the client's own or none"
            % len(order), not problems, "%d wrong, e.g. %s" % (len(problems), problems[:3]))
    rt.wait_until(lambda: streams_open(w) == 0, 30, "the streams closed")
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        opened = list(pool.map(lambda i: (kinds[i % len(kinds)],
                                          open_ws(w, kinds[i % len(kinds)], i % 2)),
                               range(CONCURRENT)))
    problems = [p for kind, ws in opened for p in [handshake_problem(w, kind, ws)] if p]
    c.check("%d handshakes at once: each protocol header the client's own or none"
            % len(opened), not problems, "%d wrong, e.g. %s" % (len(problems), problems[:3]))
    for _, ws in opened:
        ws.close()
    problems = [p for i, k in enumerate(kinds) for p in [one_handshake(w, k, 1)] if p]
    c.check("and one of each kind after them", not problems, problems[:3])


def s_odd_input(c, w):
    for name, head in (("no key", "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Version: 13\r\n"),
                       ("version 8", "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: "
                        "dGhlIHNhbXBsZSBub25jZQ==\r\n")):
        conn = sc._Conn("127.0.0.1", w.port)
        conn.sock.sendall(("GET /api/v1/streaming HTTP/1.1\r\nHost: x\r\n" + head +
                           "\r\n").encode())
        status, _, _ = sc._read_head(conn.sock, b"")
        c.check("upgrade with %s refused" % name, status in (400, 426), status)
        conn.close()
    for path in ("?stream=hashtag&tag=ruche%00x", "?stream=public%00x"):
        ws = w.ws(path)
        c.check("a WebSocket whose query holds a NUL byte is refused (422): %s" % path,
                ws.status == 422 and "NUL" in str((ws.error_json() or {}).get("error")),
                (ws.status, ws.body))
        ws.close()
    ws = w.ws("?stream=public")
    ws.sock.sendall(b"\x81\xff" + b"\xff" * 12)  # a frame claiming 2^64 - 1 bytes
    ws.close()
    ws = w.ws("?stream=public")
    ws.sock.sendall(b"\x81\x85abcd")  # cut in the middle of a frame
    ws.close()
    c.check("the node lives on", w.node.client().get("/healthz").status == 200)


# ---------------------------------------------------------------------
# Nodes of their own: the limits, and stopping


def s_limits(c, ruched):
    # No pings here: a client that does not read would also be dropped for
    # not answering them, and this is about the queue.
    with rt.Node(ruched, settings=("streaming.heartbeat_ms=600000", "streaming.max_streams=3",
                                   "streaming.queue_kb=16")) as node:
        node.start()
        users = add_users(node, ("erin",))
        erin = users["erin"][0]
        w = World(node)
        open_ = [w.ws("?stream=public") for _ in range(2)]
        open_.append(w.ws("?stream=public", rcvbuf=4096))  # the slow client
        c.check("three streams open", all(ws.status == 101 for ws in open_))
        check_refused(c, "a fourth WebSocket", w.ws("?stream=public"), 503)
        check_refused(c, "a fourth event stream", w.sse("/api/v1/streaming/public"), 503)
        open_[0].send_close()
        open_[0].recv()
        open_[0].close()
        again = rt.wait_until(lambda: (lambda ws: ws if ws.status == 101 else None)(
            w.ws("?stream=public")), 10, "a place freed by a closed stream")
        c.equal("a closed stream frees its place", again.status, 101)
        again.close()  # it would be a second slow client
        slow_client(c, node, erin, fast=open_[1], slow=open_[2])
        for ws in open_[1:]:
            ws.close()
        c.equal("no sanitizer report", node.sanitizer_reports(), [])


def slow_client(c, node, erin, fast, slow):
    """slow never reads: it is dropped; fast and the posts go on."""
    text = "x" * 4000
    posted, worst = [], 0.0
    deadline = time.monotonic() + 60
    while "reads too slowly" not in node.log_text() and time.monotonic() < deadline:
        t0 = time.monotonic()
        posted.append(erin.post_status("%s %d" % (text, len(posted)))["id"])
        worst = max(worst, time.monotonic() - t0)
        got = fast.event()
        c.check("fast client keeps up (%d)" % len(posted),
                got["payload"]["id"] == posted[-1], got["payload"]["id"]) or None
    c.check("the slow client was dropped (after %d posts)" % len(posted),
            "reads too slowly" in node.log_text())
    c.check("posts never waited on it (slowest %.3f s)" % worst, worst < 2.0)
    n, code = 0, None
    try:
        while True:
            slow.message(timeout=20)
            n += 1
    except sc.Closed:
        code = getattr(slow, "close_code", None)
    c.check("the slow client got part of the events (%d of %d)" % (n, len(posted)),
            n < len(posted))
    c.equal("then a close frame 1013", code, 1013)


def s_sigterm(c, ruched):
    with rt.Node(ruched, settings=SETTINGS) as node:
        node.start()
        ws = sc.WebSocket("127.0.0.1", node.port, "/api/v1/streaming?stream=public")
        sse = sc.EventStream("127.0.0.1", node.port, "/api/v1/streaming/public")
        c.check("streams open", ws.status == 101 and sse.status == 200)
        t0 = time.monotonic()
        status = node.stop(signal.SIGTERM)
        took = time.monotonic() - t0
        c.equal("SIGTERM with streams open: exit 0", status, 0)
        c.check("it took %.1f s" % took, took < 10)
        try:
            ws.message(timeout=5)
            code = None
        except sc.Closed:
            code = getattr(ws, "close_code", None)
        c.equal("the WebSocket got close 1001", code, 1001)
        try:
            sse.event(timeout=5)
            ended = False
        except sc.Closed:
            ended = True
        c.check("the event stream ended", ended)
        c.equal("no sanitizer report", node.sanitizer_reports(), [])


def run(c, ruched):
    with rt.Node(ruched, site="streamtest", settings=SETTINGS) as node:
        node.start()
        w = World(node)
        for name, (client, token, acct_id) in add_users(node, USERS).items():
            w.users[name], w.tokens[name], w.ids[name] = client, token, acct_id
        w.carol_post = w.post("carol", "carol asks something")
        w.post("alice", "alice says hello")  # known here: her account id is
        for u in ("bob", "dave"):
            r = w.users[u].post("/api/v1/accounts/%s/follow" % w.ids["alice"])
            if r.status != 200:
                raise rt.TestError("%s follows alice: %d" % (u, r.status))
        for name, section in (("handshake", s_handshake), ("sign-in", s_auth),
                              ("messages", s_messages), ("visibility", s_visibility),
                              ("edits and deletes", s_edit_delete),
                              ("notifications", s_notifications), ("local", s_local),
                              ("server-sent events", s_sse), ("cookie", s_cookie),
                              ("subprotocols", s_subprotocol), ("odd input", s_odd_input)):
            with c.section(name):
                section(c, w)
        c.check("the node is still running", node.running)
        c.equal("it stops cleanly", node.stop(), 0)
        c.equal("no sanitizer report", node.sanitizer_reports(), [])
    with c.section("limits"):
        s_limits(c, ruched)
    with c.section("SIGTERM"):
        s_sigterm(c, ruched)


if __name__ == "__main__":
    rt.main_wrapper(run)
