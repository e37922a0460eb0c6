#!/usr/bin/python3
"""test_mentions.py - notifications and search across sites, with real
ruched processes on loopback.

Three sites in a line, paris - nozay - murray-hill (paris and murray-hill
hear each other through nozay). alice lives at paris, bob at nozay (and
another bob at paris), carol at murray-hill.

- alice writes "@bob@nozay", "@carol@murray-hill" and a bare "@bob": once
  replicated, bob of nozay and carol are told, on their own sites, and the
  bare mention reaches paris's bob only;
- bob of nozay replies to alice, carol likes her post and follows her:
  alice is told at paris, each notification naming the other site's user
  as user@site;
- nozay is stopped while alice mentions bob again: bob is told once nozay
  is back and has caught up;
- search at murray-hill finds alice's post and alice@paris.

Usage: test_mentions.py PATH/TO/ruched; prints one line per check and
"N passed, M failed", exits non-zero if any check failed.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fed  # noqa: E402
import ruchetest as rt  # noqa: E402

WAIT = 30.0  # seconds for a notification to arrive


def notes(client):
    r = client.get("/api/v1/notifications")
    if r.status != 200 or not isinstance(r.json, list):
        raise rt.TestError("GET /api/v1/notifications: %d %s" % (r.status, r.brief()))
    return [(n.get("type"), (n.get("account") or {}).get("acct"),
             (n.get("status") or {}).get("text")) for n in r.json]


def told(client, what, expected):
    """Waits until the newest notifications of client are expected; returns
    whether they became so."""
    try:
        rt.wait_until(lambda: notes(client)[:len(expected)] == expected, WAIT, what)
        return True
    except rt.TestError:
        return False


def run(c, ruched):
    with fed.Federation(c, ruched, ["paris", "nozay", "murray-hill"], "line", "mentions") as f:
        paris, nozay, murray = f[0], f[1], f[2]
        f.start()
        f.require_replication()
        alice, bob, carol = paris.new_user("alice"), nozay.new_user("bob"), murray.new_user("carol")
        bob_paris = paris.new_user("bob")

        text = "Hello @bob@nozay and @carol@murray-hill, and @bob here"
        post = alice.post_status(text)
        f.wait_converged()
        c.check("bob of nozay is told of alice's mention",
                told(bob, "bob's mention", [("mention", "alice@paris", text)]), notes(bob))
        c.check("carol of murray-hill, two sites away, is told too",
                told(carol, "carol's mention", [("mention", "alice@paris", text)]), notes(carol))
        c.equal("the bare @bob is paris's bob", notes(bob_paris), [("mention", "alice", text)])
        c.equal("bob of nozay is told once", len(notes(bob)), 1)

        at_nozay = bob.get("/api/v2/search", query={"q": "hello carol", "type": "statuses"}).json
        sid = (at_nozay or {}).get("statuses", [{}])[0].get("id")
        c.equal("nozay finds alice's post by its words", sid, post["id"])
        bob.post_status("A reply from nozay", in_reply_to_id=post["id"])
        c.status("carol likes alice's post",
                 carol.post("/api/v1/statuses/%s/favourite" % post["id"]), 200)
        r = carol.get("/api/v1/accounts/lookup", query={"acct": "alice@paris"})
        c.status("murray-hill knows alice@paris", r, 200)
        c.status("carol follows alice",
                 carol.post("/api/v1/accounts/%s/follow" % (r.json or {}).get("id")), 200)
        c.check("alice is told of the reply, the like and the follow, from their sites",
                told(alice, "alice's notifications", [
                    ("follow", "carol@murray-hill", None),
                    ("favourite", "carol@murray-hill", text),
                    ("reply", "bob@nozay", "A reply from nozay")]), notes(alice))

        c.equal("nozay stops", nozay.stop(), 0)
        again = "@bob@nozay are you there?"
        alice.post_status(again)
        nozay.start()
        f.wait_converged()
        c.check("bob is told of what was said while nozay was down",
                told(bob, "bob's catch-up mention", [("mention", "alice@paris", again)]),
                notes(bob))

        found = carol.get("/api/v2/search", query={"q": "ALICE"}).json or {}
        c.equal("murray-hill finds alice@paris",
                [a.get("acct") for a in found.get("accounts", [])], ["alice@paris"])
        c.equal("and her posts by their words", [st.get("text") for st in carol.get(
            "/api/v2/search", query={"q": "are you"}).json.get("statuses", [])], [again])
        f.stop()


if __name__ == "__main__":
    rt.main_wrapper(run)
