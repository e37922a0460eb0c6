#!/usr/bin/python3
"""test_recovery.py - two ways a site's federation changes under it, with
real ruched processes on loopback.

1. Store loss: paris posts, its peer nozay has everything; paris is killed
   and its store deleted, its key kept. Started again while nozay is down,
   paris refuses new posts (503: it must first take its own updates back,
   or it would reuse their seqs). Once nozay is back, paris recovers its
   own log, accepts posts again, and its next post takes the seq after the
   last one it had made: no seq is reused, and both sites converge.
2. SIGHUP: paris runs from a config file with no peers, so nozay, which
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fed  # noqa: E402
import ruchetest as rt  # noqa: E402

QUIET = 2.0  # seconds (ten heartbeats) in which nothing may arrive


def own_seq(site):
    """The seq this site has of its own updates, from its clock."""
    state = site.replication() or {}
    return (state.get("clock") or {}).get(site.key, 0)


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
        f.require_replication()
        ids = [paris.admin().post_status("before the loss %d" % i)["id"] for i in range(5)]
        f.wait_converged()
        before = own_seq(paris)
        c.check("loss: paris made its updates", before >= 5, before)
        c.equal("loss: nozay stops", nozay.stop(), 0)
        paris.kill()
        for name in ("data.mdb", "lock.mdb"):
            os.remove(os.path.join(paris.node.data_dir, name))
        paris.start()
        paris._admin = None  # accounts were in the lost store: a new admin
        r = paris.admin().post("/api/v1/statuses", json_body={"status": "too early"})
        c.status("loss: a post while no peer has answered", r, 503)
        c.check("loss: the refusal says why", "peers" in str((r.json or {}).get("error")),
                r.brief())
        nozay.start()
        after = {"status": "after the loss"}
        rt.wait_until(lambda: paris.admin().post("/api/v1/statuses", json_body=after).status == 200,
                      30, "paris to accept posts again")
        c.equal("loss: paris's next post follows its last one", own_seq(paris), before + 1)
        f.wait_converged()
        c.check("loss: paris has its old statuses back",
                all(paris.client().get("/api/v1/statuses/" + i).status == 200 for i in ids))
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
    with c.section("peers reloaded on SIGHUP"):
        reload(c, ruched)


if __name__ == "__main__":
    rt.main_wrapper(run)
