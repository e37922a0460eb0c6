#!/usr/bin/python3
"""test_ops.py - GET /api/ruche/v1/admin/ops, what the operator page
reads, against real ruched processes on loopback.

Two sites, paris and nozay, peered; paris is started alone first.

- Without a token the endpoint answers 401, to a user who is not an
  administrator 403 with a JSON error, to the admin 200.
- paris alone: nozay is a direct peer, not connected, never heard from,
  and a critical "disconnected" alert names it; the origins are paris with
  its head at the number of posts made; the disk figures are sane (the
  store uses some of its map, the disk has a size and free room).
- nozay started, a post made there: the alert goes, both sites are
  origins with the right heads, nozay's clock in paris's answer reaches
  both heads (it lacks nothing), its digest is paris's, and the
  replication status's clock_ahead_ms is a number.
- nozay stopped: the alert comes back, naming when it was last heard.
- A node of its own with a store of at most 1 MiB: posting until over 90%
  of it is used raises a "store" warning with the figures, before the
  store is full.

Usage: test_ops.py PATH/TO/ruched; prints one line per check and
"N passed, M failed", exits non-zero if any check failed.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fed  # noqa: E402
import ruchetest as rt  # noqa: E402

OPS = "/api/ruche/v1/admin/ops"
WAIT = 30.0  # seconds for a peer's state to show
MAX_POSTS = 3000  # a 1 MiB store is 90% used after about 1,000


def ops(site):
    r = site.admin().get(OPS)
    if r.status != 200 or not isinstance(r.json, dict):
        raise rt.TestError("%s: GET %s: %d %s" % (site.name, OPS, r.status, r.brief()))
    return r.json


def wait_ops(c, site, ok, what):
    """Checks that site's answer comes to satisfy ok within WAIT; returns
    it ({} if it did not)."""
    def ready():
        st = ops(site)
        return st if ok(st) else None
    try:
        st = rt.wait_until(ready, WAIT, what, interval=0.2)
    except rt.TestError as e:
        st = None
        detail = str(e)
    c.check(what, st is not None, None if st else detail)
    return st or {}


def alerts_of(state, kind, site):
    return [a for a in state.get("alerts") or [] if a.get("kind") == kind and
            a.get("site") == site]


def heads(state):
    return {o.get("site"): o.get("head") for o in state.get("origins") or []}


def access(c, paris):
    c.status("no token: 401", paris.client().get(OPS), 401)
    user = paris.new_user("dora")
    r = user.get(OPS)
    c.status("a user who is not an admin: 403", r, 403)
    c.check("the 403 says why, in JSON", isinstance(r.json, dict) and
            "administrator" in str(r.json.get("error")), r.brief())
    c.status("the admin: 200", paris.admin().get(OPS), 200)
    return user


def alone(c, paris, user):
    for i in range(3):
        user.post_status("paris alone, post %d" % i)
    st = ops(paris)
    peer = (st.get("peers") or [{}])[0]
    c.equal("nozay is a direct peer", (peer.get("site"), peer.get("direct")), ("nozay", True))
    c.equal("nozay was never heard from", (peer.get("connected"), peer.get("last_heartbeat")),
            (False, None))
    found = alerts_of(st, "disconnected", "nozay")
    c.check("a critical alert names nozay, never heard", len(found) == 1 and
            found[0].get("severity") == "critical" and found[0].get("last_heartbeat") is None,
            st.get("alerts"))
    c.equal("the only origin is paris, at its third post", heads(st), {"paris": 3})
    disk = st.get("disk") or {}
    c.check("the store uses part of its map", 0 < disk.get("map_used", 0) <=
            disk.get("map_size", 0), disk)
    c.check("the disk has a size and free room", 0 < disk.get("disk_free", 0) <=
            disk.get("disk_size", 0), disk)
    c.equal("no maximum store size is set", disk.get("map_max"), 0)


def together(c, f, paris, nozay):
    nozay.start()
    nozay.new_user("emil").post_status("nozay joins")
    f.wait_converged()
    st = wait_ops(c, paris, lambda s: not alerts_of(s, "disconnected", "nozay") and
                  heads(s) == {"paris": 3, "nozay": 1},
                  "the alert goes once nozay is connected; both origins at their heads")
    st = wait_ops(c, paris, lambda s: s["peers"][0].get("clock") == s.get("clock"),
                  "nozay's clock, from its heartbeat, reaches both heads")
    peer = (st.get("peers") or [{}])[0]
    c.equal("nozay's digest is paris's", peer.get("digest"), st.get("digest"))
    c.check("nozay's clock_ahead_ms is a number", isinstance(peer.get("clock_ahead_ms"), int),
            peer)


def stopped(c, paris, nozay):
    c.equal("nozay exits with 0 on SIGTERM", nozay.stop(), 0)
    st = wait_ops(c, paris, lambda s: alerts_of(s, "disconnected", "nozay"),
                  "an alert names nozay once it stops")
    found = alerts_of(st, "disconnected", "nozay")
    c.check("the alert says when nozay was last heard",
            bool(found and found[0].get("last_heartbeat")), st.get("alerts"))


def store_filling(c, ruched):
    node = rt.Node(ruched, site="tiny", settings=["store.map_size_mb=1", "store.max_size_mb=1"])
    try:
        node.start()
        admin = node.client(node.client().login("admin", node.admin_password()))
        state, posted = {}, 0
        while posted < MAX_POSTS and not alerts_of(state, "store", "tiny"):
            r = admin.post("/api/v1/statuses", json_body={
                "status": "filling a small store, post %d, with a few more words" % posted})
            if r.status != 200:
                c.check("every post is taken until the alert", False, "%d %s" % (r.status,
                                                                             r.brief()))
                break
            posted += 1
            if posted % 50 == 0:
                state = admin.get(OPS).json or {}
        found = alerts_of(state, "store", "tiny")
        disk = state.get("disk") or {}
        c.check("a store over 90%% of its maximum raises a warning (after %d posts)" % posted,
                len(found) == 1 and found[0].get("severity") == "warning", state.get("alerts"))
        c.check("the warning has the figures of the disk section", bool(found) and
                (found[0].get("used"), found[0].get("max")) ==
                (disk.get("map_used"), 1 << 20) and disk.get("map_max") == 1 << 20, found)
        c.equal("tiny exits with 0 on SIGTERM", node.stop(), 0)
        c.check("tiny: no sanitizer report in its log", not node.sanitizer_reports(),
                node.sanitizer_reports()[:5])
    finally:
        node.close()


def run(c, ruched):
    with fed.Federation(c, ruched, ["paris", "nozay"], kind="mesh", label="ops") as f:
        paris, nozay = f[0], f[1]
        f.start([paris])
        with c.section("who may read it"):
            user = access(c, paris)
        with c.section("paris alone"):
            alone(c, paris, user)
        with c.section("nozay connected"):
            together(c, f, paris, nozay)
        with c.section("nozay stopped"):
            stopped(c, paris, nozay)
        f.stop()
    with c.section("a store filling up"):
        store_filling(c, ruched)


if __name__ == "__main__":
    rt.main_wrapper(run)
