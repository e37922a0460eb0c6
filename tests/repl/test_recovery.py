#!/usr/bin/python3
"""test_recovery.py - two ways a site's federation changes under it, with
real ruched processes on loopback.

1. Store loss: paris posts, its peer nozay has everything; paris is killed
   and its store deleted, its key kept. Started again while nozay is down,
   paris refuses new posts (503: it must first take its own updates back,
   or it would reuse their seqs). Once nozay is back, paris recovers its
   own log, accepts posts again, and its next post takes the seq after the
   last one it had made: no seq is reused, and both sites converge.
2. Store loss, the wrong peer first: paris is peered with nozay and
   murray-hill; murray-hill is down while paris posts, so that nozay holds
   all of paris's updates and murray-hill none. paris loses its store as
   above and starts again while nozay is down and murray-hill up: having
   heard only murray-hill, which has nothing of it, paris refuses posts for
   a quiet period (one peer's answer is not every peer's). Once nozay is
   back, paris recovers its own log, its next post takes the seq after the
   last one it had made, and all three converge.
3. SIGHUP: paris runs from a config file with no peers, so nozay, which
   lists paris, is refused and hears nothing. A [peer nozay] section is
   added to the file and paris gets SIGHUP: without a restart, both
   converge. The section is removed and paris gets SIGHUP again: paris
   drops nozay from its peers and hears no more of it.

Usage: test_recovery.py PATH/TO/ruched; prints one line per check and
"N passed, M failed", exits non-zero if any check failed.
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fed  # noqa: E402
import ruchetest as rt  # noqa: E402

QUIET = 2.0  # seconds (ten heartbeats) in which nothing may arrive


def own_seq(site, holder=None):
    """The seq of site's own updates that holder (default: site itself)
    has, from holder's clock."""
    state = (holder or site).replication() or {}
    return (state.get("clock") or {}).get(site.key, 0)


def post_before_loss(c, f, label):
    """The first site of f posts five statuses and the running sites
    converge; returns their ids and its own seq."""
    f.require_replication()
    ids = [f[0].admin().post_status("before the loss %d" % i)["id"] for i in range(5)]
    f.wait_converged()
    before = own_seq(f[0])
    c.check("%s: %s made its updates" % (label, f[0].name), before >= 5, before)
    return ids, before


def lose_store(site):
    """Kills site, deletes its store (its key stays) and starts it again."""
    site.kill()
    for name in ("data.mdb", "lock.mdb"):
        os.remove(os.path.join(site.node.data_dir, name))
    site.start()
    site._admin = None  # accounts were in the lost store: a new admin


def wait_accepts_post(site, text):
    """Waits until site accepts a post of text."""
    rt.wait_until(lambda: site.admin().post("/api/v1/statuses", json_body={"status": text})
                  .status == 200, 30, "%s to accept posts again" % site.name)


def refuses_posts(site, seconds):
    """None if site refuses every post (503) for seconds, else the first
    reply that was not a refusal."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        r = site.admin().post("/api/v1/statuses", json_body={"status": "too early"})
        if r.status != 503:
            return r
        time.sleep(0.05)
    return None


def arrives(site, status_id, timeout):
    """True if status_id becomes readable on site within timeout."""
    try:
        rt.wait_until(lambda: site.client().get("/api/v1/statuses/" + status_id).status == 200,
                      timeout, "status %s on %s" % (status_id, site.name))
        return True
    except rt.TestError:
        return False


def store_loss(c, ruched):
    with fed.Federation(c, ruched, ["paris", "nozay"], "mesh", "loss") as f:
        paris, nozay = f[0], f[1]
        f.start()
        ids, before = post_before_loss(c, f, "loss")
        c.equal("loss: nozay stops", nozay.stop(), 0)
        lose_store(paris)
        r = paris.admin().post("/api/v1/statuses", json_body={"status": "too early"})
        c.status("loss: a post while no peer has answered", r, 503)
        c.check("loss: the refusal says why", "peers" in str((r.json or {}).get("error")),
                r.brief())
        nozay.start()
        wait_accepts_post(paris, "after the loss")
        c.equal("loss: paris's next post follows its last one", own_seq(paris), before + 1)
        f.wait_converged()
        c.check("loss: paris has its old statuses back",
                all(paris.client().get("/api/v1/statuses/" + i).status == 200 for i in ids))
        f.stop()


def wrong_peer_first(c, ruched):
    with fed.Federation(c, ruched, ["paris", "nozay", "murray-hill"], "star", "first") as f:
        paris, nozay, murray = f[0], f[1], f[2]
        f.start([paris, nozay])  # murray-hill is down while paris posts
        ids, before = post_before_loss(c, f, "first")
        c.equal("first: nozay stops", nozay.stop(), 0)
        paris.kill()
        murray.start()
        c.equal("first: murray-hill holds none of paris's updates", own_seq(paris, murray), 0)
        lose_store(paris)
        rt.wait_until(lambda: (paris.peer_status("murray-hill") or {}).get("connected"), 10,
                      "paris to hear murray-hill")
        early = refuses_posts(paris, QUIET)
        if not c.check("first: paris refuses posts while only murray-hill has answered",
                       early is None, early and early.brief()):
            return  # paris has reused a seq: nothing will converge
        nozay.start()
        wait_accepts_post(paris, "after the loss")
        c.equal("first: paris's next post follows its last one", own_seq(paris), before + 1)
        f.wait_converged()
        c.check("first: paris and murray-hill have paris's old statuses",
                all(s.client().get("/api/v1/statuses/" + i).status == 200
                    for s in (paris, murray) for i in ids))
        f.stop()


def write_config(path, site, peer=None):
    lines = ["[replication]", "pub = " + site.pub, "sync = " + site.sync]
    if peer:
        lines += ["[peer %s]" % peer.name, "key = " + peer.key, "pub = " + peer.pub,
                  "sync = " + peer.sync]
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def reload(c, ruched):
    with fed.Federation(c, ruched, ["paris", "nozay"], "star", "reload") as f:
        paris, nozay = f[0], f[1]
        paris.peers = []  # paris's peers come from its file, nozay keeps paris
        paris.settings = lambda: list(fed.TEST_SETTINGS)
        config = os.path.join(paris.node.tmp, "ruched.conf")
        write_config(config, paris)
        paris.node.config = config
        f.start()
        first = paris.admin().post_status("before paris knows nozay")["id"]
        c.check("reload: nozay hears nothing from a site that does not trust it",
                not arrives(nozay, first, QUIET))
        write_config(config, paris, nozay)
        paris.node.proc.send_signal(signal.SIGHUP)
        f.wait_converged()
        c.check("reload: after SIGHUP nozay has paris's status", arrives(nozay, first, 5))
        rt.wait_until(lambda: (paris.peer_status("nozay") or {}).get("connected"), 10,
                      "paris to see nozay connected")
        write_config(config, paris)
        paris.node.proc.send_signal(signal.SIGHUP)
        rt.wait_until(lambda: paris.peer_status("nozay") is None, 10,
                      "paris to drop nozay from its peers")
        later = nozay.admin().post_status("after paris dropped nozay")["id"]
        c.check("reload: paris hears no more of a removed peer", not arrives(paris, later, QUIET))
        f.stop()


def run(c, ruched):
    with c.section("store loss and recovery"):
        store_loss(c, ruched)
    with c.section("store loss, a peer with none of the site's updates answers first"):
        wrong_peer_first(c, ruched)
    with c.section("peers reloaded on SIGHUP"):
        reload(c, ruched)


if __name__ == "__main__":
    rt.main_wrapper(run)
