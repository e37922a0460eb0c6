#!/usr/bin/python3
"""test_fork.py - a trusted origin that equivocates does not split the
federation (PROTOCOL.md section 16).

Three real nodes, paris, nozay and murray-hill, in a mesh, trust "rogue",
a protocol peer (rogue.py) with one key run as two instances: the one
paris connects to and the one nozay connects to; murray-hill knows rogue's
key alone and hears of it through the others. rogue's seq 1 reaches all
three; then it signs two different updates with seq 2, variant A to paris
only and variant B to nozay only.

Checked, each within a deadline: every site finds the fork and
quarantines rogue from seq 2 (the replication status lists it, naming
rogue, with both hashes), whichever variant it holds or none; each logs
one ALARM naming rogue, not a peer that relayed the fork; /metrics has
ruche_fork_seq{origin="rogue"} 2 and the operator status a critical fork
alert for rogue; rogue's next update on variant A is held at paris (held
1), not applied nor relayed; and the three sites' own posts keep flowing
every way, also those made after a site took a variant (which depend on
rogue's seq 2).

Usage: test_fork.py PATH/TO/ruched; prints one line per check and
"N passed, M failed", exits non-zero if any check failed.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fed  # noqa: E402
import rogue as rg  # noqa: E402
import ruchetest as rt  # noqa: E402

TIMEOUT = 30.0  # seconds for a fork or a post to get around


def forks(site):
    return [k for k in (site.replication() or {}).get("forks", []) if k.get("origin") == "rogue"]


def rogue_seq(site):
    return ((site.replication() or {}).get("clock") or {}).get


def check_within(c, name, cond, timeout=TIMEOUT):
    try:
        fed.wait_until(cond, timeout, name)
        c.check(name, True)
    except rt.TestError as e:
        c.check(name, False, str(e))


def run(c, ruched):
    ident = rg.Identity()
    ends = [("tcp://127.0.0.1:%d" % rt.free_port(), "tcp://127.0.0.1:%d" % rt.free_port())
            for _ in range(2)]
    with fed.Federation(c, ruched, ["paris", "nozay", "murray-hill"], "mesh", "fork") as f:
        paris, nozay, murray = f.sites
        paris.add_peer("rogue", ident.text, *ends[0])
        nozay.add_peer("rogue", ident.text, *ends[1])
        murray.add_peer("rogue", ident.text)
        to_paris, to_nozay = rg.Rogue(ident, *ends[0]), rg.Rogue(ident, *ends[1])
        to_paris.start([(paris.pub, rg.key_bytes(paris.key))])
        to_nozay.start([(nozay.pub, rg.key_bytes(nozay.key))])
        try:
            f.start()
            f.require_replication()
            fed.wait_until(lambda: paris.peer_status("rogue", None).get("connected")
                           and nozay.peer_status("rogue", None).get("connected"), 30,
                           "paris and nozay connected to rogue")
            with c.section("a fork"):
                fork(c, f, to_paris, to_nozay)
            with c.section("the other sites go on"):
                others(c, f)
            f.stop()
        finally:
            to_paris.close()
            to_nozay.close()


def fork(c, f, to_paris, to_nozay):
    paris, nozay, murray = f.sites
    _, one = to_paris.chain.post("rogue's first post")
    for r in (to_paris, to_nozay):
        r.chain.commit(one)
        r.publish_update(one)
    key = to_paris.identity.text
    check_within(c, "rogue's seq 1 reaches the three sites",
                 lambda: all(((s.replication() or {}).get("clock") or {}).get(key) == 1
                             for s in f.sites))
    for s in f.sites:  # each site's post that depends on rogue's seq 1 only
        s.admin().post_status("%s before the fork" % s.name)
    _, a = to_paris.chain.post("rogue's seq 2, variant A (paris)")
    _, b = to_nozay.chain.post("rogue's seq 2, variant B (nozay)")
    to_paris.chain.commit(a)
    to_nozay.chain.commit(b)
    to_paris.publish_update(a)
    to_nozay.publish_update(b)
    want = sorted([rg.update_hash(rg.open_envelope(e)["payload"]).hex() for e in (a, b)])
    for s in f.sites:
        check_within(c, "%s quarantines rogue from seq 2" % s.name,
                     lambda s=s: [k for k in forks(s) if k.get("seq") == 2])
        k = (forks(s) or [{}])[0]
        c.equal("%s: the fork's two hashes are variant A's and B's" % s.name,
                sorted(k.get("hashes") or []), want)
        c.equal("%s: rogue's head stays at 2 at most" % s.name,
                ((s.replication() or {}).get("clock") or {}).get(key, 0) <= 2, True)
    for s in f.sites:
        alarms = [line for line in s.node.log_text().splitlines() if "ALARM" in line]
        c.check("%s: one ALARM, naming rogue" % s.name,
                len(alarms) == 1 and "origin rogue " in alarms[0]
                and "[peer" not in alarms[0], alarms)
        r = s.client().get("/metrics")
        c.check("%s: /metrics has ruche_fork_seq{origin=\"rogue\"} 2" % s.name,
                b'ruche_fork_seq{origin="rogue"} 2' in r.raw, r.brief())
        ops = s.admin().get("/api/ruche/v1/admin/ops").json or {}
        c.check("%s: the operator status has a critical fork alert for rogue" % s.name,
                [x for x in ops.get("alerts", []) if x.get("kind") == "fork"
                 and x.get("site") == "rogue" and x.get("severity") == "critical"],
                ops.get("alerts"))
    _, a3 = to_paris.chain.post("rogue's seq 3 on variant A")
    to_paris.chain.commit(a3)
    to_paris.publish_update(a3)
    check_within(c, "paris holds rogue's seq 3 (held 1)",
                 lambda: (forks(paris) or [{}])[0].get("held") == 1)
    c.check("paris applies none of rogue's seq 3",
            ((paris.replication() or {}).get("clock") or {}).get(key) == 2)
    c.check("no site relays rogue's seq 3", a3 not in to_paris.updates_seen())


def others(c, f):
    """Each site posts (its clock names rogue's seq 2, of one variant or
    the other); every post reaches every site."""
    for s in f.sites:
        st = s.admin().post_status("%s after the fork" % s.name)
        for other in f.sites:
            if other is s:
                continue
            check_within(c, "%s's post reaches %s" % (s.name, other.name),
                         lambda o=other, i=st["id"]: o.admin().get(
                             "/api/v1/statuses/%s" % i).status == 200)
    for s in f.sites:
        r = s.replication() or {}
        c.check("%s: only rogue is quarantined" % s.name,
                [k.get("origin") for k in r.get("forks", [])] == ["rogue"], r.get("forks"))


if __name__ == "__main__":
    rt.main_wrapper(run)
