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

Then the resolution: `ruche admin resolve-fork rogue` at paris (the CLI
from RUCHE_CLI, else beside ruched in the build tree) keeps the variant
paris holds: A, unless nozay relayed B to it before rogue's A came (which
variant each site holds is a race of the relays; where nozay holds B, or
murray-hill does, that site drops it and rebuilds). Within a deadline the
three sites converge (same clock, digest and state digest, nothing
pending: fed.py's wait_converged), rogue's seq 3 on A is applied
everywhere when A is kept, every site's timeline shows the kept variant
and not the other, every site lists the fork as resolved (kept: its
hash, held 0) with no fork alert or ruche_fork_seq left, a second
resolve-fork is refused, and posts flow every way as before.

Usage: test_fork.py PATH/TO/ruched; prints one line per check and
"N passed, M failed", exits non-zero if any check failed.
"""

import os
import subprocess
import sys
import tempfile

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
            with c.section("the resolution"):
                resolution(c, f, ruched, to_paris, to_nozay)
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


def ruche_cli(ruched):
    return os.environ.get("RUCHE_CLI") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(ruched))), "cli", "ruche")


def cli(site, ruched, *args):
    """Runs the ruche CLI as site's admin: its exit status and output."""
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, XDG_CONFIG_HOME=home, RUCHE_PASSWORD=site.node.admin_password())
        base = [ruche_cli(ruched), "--server", "http://127.0.0.1:%d" % site.node.port]
        login = subprocess.run(base + ["login", "admin"], env=env, capture_output=True,
                               text=True, timeout=30)
        if login.returncode != 0:
            return login.returncode, login.stdout + login.stderr
        r = subprocess.run(base + list(args), env=env, capture_output=True, text=True,
                           timeout=30)
        return r.returncode, r.stdout + r.stderr


def texts(site):
    r = site.client().get("/api/v1/timelines/public?limit=40")
    return " ".join(s.get("content", "") for s in (r.json or []))


def resolution(c, f, ruched, to_paris, to_nozay):
    paris = f.sites[0]
    held = {s.name: "A" if "variant A" in texts(s) else "B" if "variant B" in texts(s) else None
            for s in f.sites}
    kept = held["paris"]
    c.check("paris holds a variant of rogue's seq 2", kept is not None, held)
    lost = "B" if kept == "A" else "A"
    chain = to_paris.chain if kept == "A" else to_nozay.chain
    kept_hash = rg.update_hash(rg.open_envelope(chain.since(1)[0])["payload"]).hex()
    c.check("the sites that hold variant %s (%s) will drop it"
            % (lost, ", ".join(n for n, v in held.items() if v == lost) or "none"), True)
    rc, out = cli(paris, ruched, "admin", "resolve-fork", "rogue")
    c.check("ruche admin resolve-fork rogue at paris succeeds", rc == 0 and "resolved" in out,
            out)
    try:
        state = f.wait_converged(f.sites)
        c.check("paris, nozay and murray-hill converge", True)
    except rt.TestError as e:
        c.check("paris, nozay and murray-hill converge", False, str(e))
        return
    c.equal("rogue's head is its last update on the kept chain",
            (state.get("clock") or {}).get(to_paris.identity.text), 3 if kept == "A" else 2)
    for s in f.sites:
        c.check("%s shows variant %s and not %s" % (s.name, kept, lost),
                "variant " + kept in texts(s) and "variant " + lost not in texts(s), texts(s))
        k = (forks(s) or [{}])[0]
        c.check("%s: the fork is resolved, keeping %s, nothing held" % (s.name, kept),
                k.get("resolved") is True and k.get("kept") == kept_hash and k.get("held") == 0,
                k)
        ops = s.admin().get("/api/ruche/v1/admin/ops").json or {}
        c.check("%s: no fork alert left" % s.name,
                not [x for x in ops.get("alerts", []) if x.get("kind") == "fork"],
                ops.get("alerts"))
        r = s.client().get("/metrics")
        c.check("%s: no ruche_fork_seq for rogue" % s.name,
                b'ruche_fork_seq{origin="rogue"}' not in r.raw, r.brief())
    rc, out = cli(paris, ruched, "admin", "resolve-fork", "rogue")
    c.check("resolving it again is refused", rc != 0 and "no unresolved fork" in out, out)
    for s in f.sites:
        st = s.admin().post_status("%s after the resolution" % s.name)
        for other in f.sites:
            if other is not s:
                check_within(c, "%s's post reaches %s" % (s.name, other.name),
                             lambda o=other, i=st["id"]: o.admin().get(
                                 "/api/v1/statuses/%s" % i).status == 200)


if __name__ == "__main__":
    rt.main_wrapper(run)
