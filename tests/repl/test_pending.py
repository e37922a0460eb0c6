#!/usr/bin/python3
"""test_pending.py - a trusted peer floods real ruched nodes with updates
that can never apply, and the pending set stays bounded and visible.

paris and nozay are peered with each other and with "rogue" (rogue.py),
with [replication] pending_per_origin = 5000, pending_max = 6000 and
pending_alarm_s = 10. rogue publishes 1,024 updates of its chain, each
naming in its clock a different origin that does not exist, then 20,000
updates that come after a seq of its chain that it never makes: 21,024
updates whose dependencies will never exist.

Each node must keep exactly 5,000 of them pending and refuse what comes
past that (stored nowhere), counted under the reason pending_full from
rogue (it publishes 256 at a time, each time waiting until both nodes
have read them, for the live stream would lose some of a burst this
size, and rogue's catch-up serves only its good chain); serve none of them to the other
node, which cannot apply them either (two catch-ups later, nothing was
refused from it, and fewer than 5,000 updates came from it: each
catch-up served every one before); show the pending count and oldest age
per origin in the replication status and in /metrics, and a pending alert
on the operator page; log an ALARM line, and log the refusals a few lines
at most, not one per update; and go on serving and replicating the honest
sites' posts (both converge).

Usage: test_pending.py PATH/TO/ruched; prints one line per check and
"N passed, M failed", exits non-zero if any check failed.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fed  # noqa: E402
import rogue as rg  # noqa: E402
import ruchetest as rt  # noqa: E402

UNKNOWN = 1024  # updates naming an origin that does not exist
ORPHANS = 20000  # updates after a seq that never comes
PER_ORIGIN = 5000
SETTINGS = ("replication.pending_per_origin=%d" % PER_ORIGIN, "replication.pending_max=6000",
            "replication.pending_alarm_s=10")
TIMEOUT = 120.0  # seconds for a node to take 21,024 updates in
CHUNK = 256  # updates published before both nodes have read them: well under
             # their SUBs' high-water mark, so that the live stream loses none


def flood(rogue):
    """The 21,024 envelopes, in the order they are published."""
    chain = rogue.chain
    out = []
    for i in range(UNKNOWN):
        stranger = bytes([0xee, i >> 8, i & 0xff]) + bytes(29)
        _, env = chain.post("waits for a site that does not exist %d" % i,
                            clock={stranger: 1})
        chain.commit(env)  # served by catch-up too: the chain is good
        out.append(env)
    gap = chain.seq + 2  # chain.seq + 1 is never made
    prev = bytes(range(32))
    for k in range(ORPHANS):
        data, env = chain.post("after a hole %d" % k, seq=gap + k, prev=prev)
        prev = rg.update_hash(data)
        out.append(env)
    return out


def pending_of(site, name):
    st = site.replication() or {}
    for o in st.get("pending_origins") or []:
        if o.get("site") == name:
            return o
    return {}


def refused_full(site, peer):
    """Updates from peer refused for a full pending set."""
    return ((site.peer_status(peer) or {}).get("rejected") or {}).get("pending_full", 0)


def received_from(site, peer):
    """Updates taken in from peer, refused ones included."""
    return ((site.peer_status(peer) or {}).get("updates") or {}).get("received", 0)


def metric(site, name, origin=None, label="origin"):
    """The value of sample name (with label="origin" when given), or None."""
    r = site.client().get("/metrics")
    label = r'\{%s="%s"\}' % (label, re.escape(origin)) if origin else ""
    m = re.search(r"^%s%s (\S+)$" % (re.escape(name), label), r.raw.decode(), re.M)
    return float(m.group(1)) if m else None


def same_state(f):
    states = f.states()
    return all(st and st.get("clock") == states[0].get("clock")
               and st.get("digest") == states[0].get("digest")
               and st.get("pending") == PER_ORIGIN for st in states)


def run(c, ruched):
    ident = rg.Identity()
    pub = "tcp://127.0.0.1:%d" % rt.free_port()
    sync = "tcp://127.0.0.1:%d" % rt.free_port()
    with fed.Federation(c, ruched, ["paris", "nozay"], "mesh", "pending", SETTINGS) as f:
        for s in f.sites:
            s.add_peer("rogue", ident.text, pub, sync)
        rogue = rg.Rogue(ident, pub, sync)
        rogue.start([(s.pub, rg.key_bytes(s.key)) for s in f.sites])
        try:
            f.start()
            f.require_replication()
            fed.wait_until(lambda: all((s.peer_status("rogue") or {}).get("connected")
                                       for s in f.sites), 30, "both nodes connected to rogue")
            envs = flood(rogue)
            for k in range(0, len(envs), CHUNK):
                for env in envs[k:k + CHUNK]:
                    rogue.publish_update(env)
                fed.wait_until(lambda: all(received_from(s, "rogue") >= k + CHUNK
                                           or received_from(s, "rogue") >= len(envs)
                                           for s in f.sites), TIMEOUT,
                               "both nodes taking rogue's updates %d on" % k)
            with c.section("capped and counted"):
                for s in f.sites:
                    try:  # the cap is reached and holds while the rest is refused
                        fed.wait_until(lambda: (s.replication() or {}).get("pending")
                                       == PER_ORIGIN and refused_full(s, "rogue") > 0, TIMEOUT,
                                       "%s refusing updates at its limit" % s.name)
                    except rt.TestError:
                        pass
                    st = s.replication() or {}
                    c.equal("%s: %d updates pending" % (s.name, PER_ORIGIN), st.get("pending"),
                            PER_ORIGIN)
                    c.check("%s: rogue's own refused under pending_full" % s.name,
                            refused_full(s, "rogue") > 0, "")
            with c.section("not served to a peer that cannot use them"):
                for s in f.sites:
                    other = [o for o in f.sites if o is not s][0]

                    def asked():
                        return metric(s, "ruche_peer_sync_sessions_asked_total", other.name,
                                      "peer") or 0
                    since = asked()
                    try:  # two anti-entropy catch-ups from the other, both holding 5,000
                        fed.wait_until(lambda: asked() >= since + 2, TIMEOUT,
                                       "%s asking %s twice more" % (s.name, other.name))
                    except rt.TestError:
                        pass
                    c.check("%s asked %s for two more catch-ups" % (s.name, other.name),
                            asked() >= since + 2, "%s then %s" % (since, asked()))
                    c.equal("%s: none refused from %s under pending_full" % (s.name, other.name),
                            refused_full(s, other.name), 0)
                    got = received_from(s, other.name)
                    c.check("%s: fewer than %d updates came from %s" % (s.name, PER_ORIGIN,
                                                                     other.name),
                            got < PER_ORIGIN, "%d received" % got)
                    o = pending_of(s, "rogue")
                    c.equal("%s: rogue's pending count in the replication status" % s.name,
                            o.get("count"), PER_ORIGIN)
                    c.check("%s: rogue's oldest pending update has an age" % s.name,
                            isinstance(o.get("oldest_age_s"), int) and o.get("oldest"), repr(o))
                    c.equal("%s: the limits in the replication status" % s.name,
                            st.get("pending_limits"),
                            {"per_origin": PER_ORIGIN, "max": 6000, "alarm_s": 10})
            with c.section("visible"):
                for s in f.sites:
                    c.equal("%s: /metrics, rogue's pending updates" % s.name,
                            metric(s, "ruche_pending_updates", "rogue"), float(PER_ORIGIN))
                    c.equal("%s: /metrics, all pending updates" % s.name,
                            metric(s, "ruche_pending_updates_all"), float(PER_ORIGIN))
                    age = metric(s, "ruche_pending_oldest_age_seconds", "rogue")
                    c.check("%s: /metrics, rogue's oldest pending age" % s.name,
                            age is not None and age >= 0, repr(age))
                    ops = s.admin().get("/api/ruche/v1/admin/ops").json or {}
                    c.check("%s: a pending alert for rogue on the operator page" % s.name,
                            any(a.get("kind") == "pending" and a.get("site") == "rogue"
                                for a in ops.get("alerts") or []), repr(ops.get("alerts")))
                    try:
                        fed.wait_until(lambda: "ALARM: " in s.node.log_text()
                                       and "wait for dependencies" in s.node.log_text(),
                                       30, "the ALARM line")
                    except rt.TestError:
                        pass
                    log = s.node.log_text()
                    c.check("%s: an ALARM line in the log" % s.name,
                            re.search(r"ALARM: \d+ updates wait for dependencies", log), "")
                    lines = log.count("too many updates wait for their dependencies")
                    c.check("%s: the refusals logged in a few lines (%d), not one per update"
                            % (s.name, lines), 1 <= lines <= 20, "")
            with c.section("the honest sites go on"):
                for s in f.sites:
                    st = s.admin().post_status("%s after the flood" % s.name)
                    c.check("%s: a post is taken" % s.name, "id" in st, repr(st))
                try:  # rogue's 5,000 stay pending: same clock and digest is converged here
                    fed.wait_until(lambda: same_state(f), fed.CONVERGE_TIMEOUT, "convergence")
                except rt.TestError:
                    pass
                c.check("paris and nozay converge", same_state(f),
                        f.describe(f.sites, f.states()))
                for s in f.sites:
                    texts = [x.get("content", "") for x in
                             s.admin().get("/api/v1/timelines/public").json or []]
                    c.check("%s shows both sites' posts" % s.name,
                            all(any("%s after the flood" % o.name in t for t in texts)
                                for o in f.sites), repr(texts[:4]))
            f.stop()
        finally:
            rogue.close()


if __name__ == "__main__":
    rt.main_wrapper(run)
