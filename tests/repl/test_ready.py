#!/usr/bin/python3
"""test_ready.py - GET /readyz follows replication: a site whose peers are
all gone is not ready, as issue 11 asks, and is ready again once one is
back.

Two sites, paris and nozay, peered with each other (heartbeats every
200 ms: a peer is connected when heard within three of them and a
second).

- Both running: paris's /readyz is 200, replication "running".
- nozay stopped: within a few seconds paris's /readyz is 503 with an error
  that names replication, and its part "replication" is
  {"state": "down", "ready": false}; the store and everything else stay
  ready.
- nozay started again: paris's /readyz is 200 again.
- A site that replicates with no peer configured stays ready (test_start.py
  checks that one).

Usage: test_ready.py PATH/TO/ruched; prints one line per check and
"N passed, M failed", exits non-zero if any check failed.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fed  # noqa: E402

rt = fed.rt
WAIT = 15.0  # seconds for /readyz to follow a peer that left or came back


def ready(site):
    """site's /readyz answer: (status, json)."""
    r = site.client().get("/readyz")
    return r.status, (r.json or {})


def wait_status(c, site, status, what):
    """Checks that site's /readyz comes to answer status within WAIT;
    returns its last answer's JSON."""
    last = {}

    def answered():
        got, body = ready(site)
        last.update(body)
        return got == status
    try:
        rt.wait_until(answered, WAIT, what, interval=0.2)
        c.check(what, True)
    except rt.TestError as e:
        c.check(what, False, "%s; last answer %r" % (e, last))
    return last


def run(c, ruched):
    with fed.Federation(c, ruched, ["paris", "nozay"], kind="mesh", label="ready") as f:
        paris, nozay = f[0], f[1]
        f.start()
        f.wait_converged()
        with c.section("both running"):
            body = wait_status(c, paris, 200, "paris: /readyz 200")
            c.equal("replication is running",
                    (body.get("parts") or {}).get("replication"),
                    {"state": "running", "ready": True})
        with c.section("its only peer stopped"):
            c.equal("nozay stops", nozay.stop(), 0)
            body = wait_status(c, paris, 503, "paris: /readyz 503")
            c.check("the error names replication: %r" % body.get("error"),
                    "replication" in str(body.get("error")))
            parts = body.get("parts") or {}
            c.equal("the replication part is down", parts.get("replication"),
                    {"state": "down", "ready": False})
            c.check("every other part is ready",
                    all((v or {}).get("ready") for k, v in parts.items() if k != "replication"),
                    parts)
        with c.section("the peer back"):
            nozay.start()
            wait_status(c, paris, 200, "paris: /readyz 200 again")


if __name__ == "__main__":
    rt.main_wrapper(run)
