#!/usr/bin/python3
"""test_stream_fed.py - statuses made at other sites stream to the clients
of this one as they arrive, with real ruched processes on loopback.

Three sites in a line, paris - nozay - murray-hill (murray-hill hears
paris through nozay). alice lives at paris; carol at murray-hill follows
her. At murray-hill a WebSocket watches public, public:remote and
public:local, carol has her user stream, and an event stream watches
public/remote; at paris a WebSocket watches public:remote.

- alice's public post reaches every stream at murray-hill but
  public:local, naming its site, paris;
- her followers-only post reaches carol's user stream, and no public one;
- her edit and her delete stream as status.update and delete;
- her mention of @carol@murray-hill reaches carol as a notification;
- carol's post streams at paris, naming murray-hill, and at murray-hill on
  public:local, not public:remote;
- nozay, in between, is stopped while alice posts: her post reaches
  murray-hill's streams once nozay is back and the sites have caught up.

Usage: test_stream_fed.py PATH/TO/ruched; prints one line per check and
"N passed, M failed", exits non-zero if any check failed.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fed  # noqa: E402
import ruchetest as rt  # noqa: E402
import streamclient as sc  # noqa: E402

WAIT = 30.0  # seconds for an event to cross the sites


def until(conn, pred, timeout=WAIT):
    """Reads events of a WebSocket until pred(event); returns it and the
    ones read before it."""
    deadline = time.monotonic() + timeout
    before = []
    while True:
        ev = conn.event(max(0.05, deadline - time.monotonic()))
        if pred(ev):
            return ev, before
        before.append(ev)


def about(sid, event="update", stream=None):
    def pred(ev):
        return ev.get("event") == event and sc.status_id(ev) == sid and (
            stream is None or ev.get("stream") == [stream])
    return pred


def ws(site, query="", token=None):
    conn = sc.WebSocket("127.0.0.1", site.node.port, "/api/v1/streaming" + query,
                        protocols=[token] if token else None)
    if conn.status != 101:
        raise rt.TestError("%s: WebSocket %s -> %d" % (site.name, query, conn.status))
    return conn


def subscribe(conn, *streams):
    """Subscribes, then waits until the server has read the messages (it
    answers a message of no known type with an error, in order)."""
    for s in streams:
        conn.send_json({"type": "subscribe", "stream": s})
    conn.send_json({"type": "barrier"})
    until(conn, lambda ev: ev.get("error"))


def live(c, w):
    """alice's public post at murray-hill, live."""
    t0 = time.monotonic()
    st = w.alice.post_status("live from paris #fed")
    for stream in ("public", "public:remote"):
        ev, _ = until(w.ws, about(st["id"], stream=stream))
        c.equal("murray-hill %s: alice's post, site paris" % stream,
                ev["payload"].get("ruche", {}).get("site"), "paris")
    took = time.monotonic() - t0
    c.check("it crossed two sites in %.3f s" % took, took < WAIT)
    ev, _ = until(w.carol_ws, about(st["id"]))
    c.equal("carol's user stream: the post of whom she follows", ev["stream"], ["user"])
    c.equal("as acct alice@paris", ev["payload"]["account"]["acct"], "alice@paris")
    name, data = w.sse.event(WAIT)
    c.check("murray-hill event stream public/remote: the post",
            name == "update" and data.get("id") == st["id"], (name, data))
    return st


def private_post(c, w):
    st = w.alice.post_status("for my followers", visibility="private")
    ev, _ = until(w.carol_ws, about(st["id"]))
    c.equal("carol gets alice's followers-only post", ev["payload"]["visibility"], "private")
    fence = w.alice.post_status("a public fence")
    _, before = until(w.ws, about(fence["id"], stream="public"))
    c.check("no public stream at murray-hill got it",
            not any(sc.status_id(e) == st["id"] for e in before), before)


def edit_delete(c, w, st):
    r = w.alice.put("/api/v1/statuses/%s" % st["id"], json_body={"status": "edited at paris #fed"})
    c.status("alice edits", r, 200)
    ev, _ = until(w.ws, about(st["id"], "status.update", "public"))
    c.equal("murray-hill: status.update with the new text", ev["payload"]["text"],
            "edited at paris #fed")
    c.status("alice deletes", w.alice.delete("/api/v1/statuses/%s" % st["id"]), 200)
    for name, conn in (("public", w.ws), ("carol's user stream", w.carol_ws)):
        ev, _ = until(conn, about(st["id"], "delete"))
        c.equal("murray-hill %s: delete" % name, ev["payload"], st["id"])
    while True:
        name, data = w.sse.event(WAIT)
        if name == "delete":
            break
    c.equal("murray-hill event stream: delete", data, st["id"])


def mention(c, w):
    st = w.alice.post_status("@carol@murray-hill, lunch?")
    ev, _ = until(w.carol_ws, lambda e: e.get("event") == "notification")
    p = ev["payload"]
    c.equal("carol is told of the mention", (p.get("type"), p.get("account", {}).get("acct"),
                                              p.get("status", {}).get("id")),
            ("mention", "alice@paris", st["id"]))


def reverse(c, w):
    st = w.carol.post_status("from murray-hill")
    ev, _ = until(w.paris_ws, about(st["id"]))
    c.equal("paris public:remote: carol's post, site murray-hill",
            (ev["stream"], ev["payload"]["ruche"]["site"]), (["public:remote"], "murray-hill"))
    ev, before = until(w.ws, about(st["id"], stream="public:local"))
    c.check("murray-hill public:local: carol's post", ev is not None)
    fence = w.alice.post_status("another fence")
    _, more = until(w.ws, about(fence["id"], stream="public:remote"))
    c.check("murray-hill public:remote: not carol's post",
            not any(e.get("stream") == ["public:remote"] and sc.status_id(e) == st["id"]
                    for e in before + more), before + more)


def catch_up(c, f, w):
    nozay = f[1]
    c.equal("nozay stops", nozay.stop(), 0)
    st = w.alice.post_status("while nozay sleeps")
    nozay.start()
    ev, _ = until(w.ws, about(st["id"], stream="public:remote"), timeout=60)
    c.equal("after catch-up murray-hill streams the post", ev["payload"]["ruche"]["site"], "paris")


class World:
    pass


def run(c, ruched):
    with fed.Federation(c, ruched, ["paris", "nozay", "murray-hill"], "line", "stream") as f:
        paris, murray = f[0], f[2]
        f.start()
        f.require_replication()
        w = World()
        w.alice, w.carol = paris.new_user("alice"), murray.new_user("carol")
        w.alice.post_status("alice is here")
        w.carol.post_status("carol is here")
        f.wait_converged()
        r = w.carol.get("/api/v1/accounts/lookup", query={"acct": "alice@paris"})
        if r.status != 200 or r.json.get("id") is None:
            raise rt.TestError("murray-hill: lookup alice@paris: %d" % r.status)
        c.status("carol follows alice", w.carol.post("/api/v1/accounts/%s/follow" % r.json["id"]),
                 200)
        w.ws = ws(murray, "?stream=public")
        subscribe(w.ws, "public:remote", "public:local")
        w.carol_ws = ws(murray, "?stream=user", w.carol.token)
        w.paris_ws = ws(paris, "?stream=public:remote")
        w.sse = sc.EventStream("127.0.0.1", murray.node.port, "/api/v1/streaming/public/remote")
        with c.section("live"):
            post = live(c, w)
        for name, section in (("private", private_post), ("mention", mention),
                              ("reverse", reverse)):
            with c.section(name):
                section(c, w)
        with c.section("edit and delete"):
            edit_delete(c, w, post)
        with c.section("catch-up"):
            catch_up(c, f, w)
        f.stop()  # with the streams open


if __name__ == "__main__":
    rt.main_wrapper(run)
