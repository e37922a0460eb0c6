#!/usr/bin/python3
"""test_profile.py - a profile edited at one site, seen at another: two
real ruched processes on loopback, paris and nozay, peered over ZeroMQ
with CURVE (node/api/ru_api_profile.c, state/ru_profile.c, the profile
update's person and images).

- alice@paris edits her profile through update_credentials (multipart:
  display name, note, two fields, three skills, a JPEG avatar and a PNG
  header): at nozay, bob looks her up and sees the new display name, note,
  fields and skills, and avatar and header URLs of nozay's own, named by
  the same hash as paris's, that serve paris's very bytes once fetched;
- she edits again (a field dropped, the display name changed, the
  header kept): nozay follows, and still serves the header;
- an edit that changes nothing publishes no update: the sites' states
  stay converged at the same clock.

Usage: test_profile.py PATH/TO/ruched; prints one line per check and
"N passed, M failed", exits non-zero if any check failed.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))
import fed  # noqa: E402
import mediafiles as mf  # noqa: E402
import ruchetest as rt  # noqa: E402

WAIT = 60.0  # seconds for a profile or a file to travel
PATH = "/api/v1/accounts/update_credentials"


def edit(client, pairs, files=()):
    body, ctype = mf.multipart(pairs, list(files))
    r = client.request("PATCH", PATH, body=body, content_type=ctype)
    if r.status != 200:
        raise rt.TestError("update_credentials: %d %s" % (r.status, r.brief()))
    return r.json


def seen_at(client, want_name):
    """alice@paris as client's site shows her, once her display name is
    want_name; None before."""
    r = client.get("/api/v1/accounts/lookup", query={"acct": "alice@paris"})
    return r.json if r.status == 200 and r.json.get("display_name") == want_name else None


def file_name(url):
    return url.split("/media/", 1)[1].split("/")[0] if "/media/" in url else None


def served(site, url):
    """The bytes site serves at url once it has them (a peer's file is
    fetched on its first read: 503 until then)."""
    last = {}

    def ready():
        last["r"] = site.client().request("GET", rt.path_of(url), anonymous=True)
        return last["r"].status == 200
    rt.wait_until(ready, WAIT, "%s to serve %s" % (site.name, url))
    return last["r"].raw


def fields(account):
    return [(f["name"], f["value"]) for f in account.get("fields", [])]


def s_first_edit(c, paris, nozay, alice, bob):
    mine = edit(alice, [("display_name", "Alice Martin"), ("note", "Storage, Paris"),
                        ("fields_attributes[0][name]", "Team"),
                        ("fields_attributes[0][value]", "Platform"),
                        ("fields_attributes[1][name]", "Office"),
                        ("fields_attributes[1][value]", "B2-114"),
                        ("skills[]", "LMDB"), ("skills[]", "ZeroMQ"), ("skills[]", "C")],
                [("avatar", "me.jpg", "image/jpeg", mf.vips_image(640, 480, ".jpg[Q=90,strip]")),
                 ("header", "banner.png", "image/png", mf.vips_image(900, 300, ".png"))])
    there = rt.wait_until(lambda: seen_at(bob, "Alice Martin"), WAIT,
                          "nozay to see alice's new display name")
    c.check("nozay shows the new display name", there is not None)
    c.equal("and her note", there.get("note"), mine.get("note"))
    c.equal("and her fields", fields(there), fields(mine))
    c.equal("and her skills", there.get("ruche", {}).get("skills"), ["LMDB", "ZeroMQ", "C"])
    for key in ("avatar", "header"):
        url = there.get(key, "")
        c.check("nozay's %s URL is its own" % key,
                url.startswith("http://127.0.0.1:%d/media/" % nozay.node.port), url)
        c.equal("named by the same hash as paris's", file_name(url), file_name(mine.get(key, "")))
        c.equal("%s_static: the same" % key, there.get(key + "_static"), url)
        original = served(paris, mine[key])
        c.check("nozay serves paris's very %s bytes" % key, served(nozay, url) == original,
                url)
    return mine


def s_second_edit(c, f, paris, nozay, alice, bob, first):
    mine = edit(alice, [("display_name", "Alice M."),
                        ("fields_attributes[0][name]", "Team"),
                        ("fields_attributes[0][value]", "Platform")])
    there = rt.wait_until(lambda: seen_at(bob, "Alice M."), WAIT,
                          "nozay to see alice's second display name")
    c.equal("nozay: a field dropped", fields(there), [("Team", "Platform")])
    c.equal("nozay: the skills kept", there.get("ruche", {}).get("skills"),
            ["LMDB", "ZeroMQ", "C"])
    c.equal("nozay: the header kept", file_name(there.get("header", "")),
            file_name(first.get("header", "")))
    c.equal("paris: the header kept", mine.get("header"), first.get("header"))
    f.wait_converged()
    before = [s.replication() or {} for s in (paris, nozay)]
    again = edit(alice, [("display_name", "Alice M."),
                         ("fields_attributes[0][name]", "Team"),
                         ("fields_attributes[0][value]", "Platform")])
    c.equal("an edit that changes nothing answers the same account",
            (again.get("display_name"), fields(again)), ("Alice M.", [("Team", "Platform")]))
    f.wait_converged()
    after = [s.replication() or {} for s in (paris, nozay)]
    c.equal("and publishes no update: the clocks did not move",
            [a.get("clock") for a in after], [b.get("clock") for b in before])


def run(c, ruched):
    with fed.Federation(c, ruched, ["paris", "nozay"], "mesh", "profile") as f:
        f.start()
        f.require_replication()
        paris, nozay = f[0], f[1]
        alice = paris.new_user("alice")
        bob = nozay.new_user("bob")
        f.wait_converged()
        first = {}
        with c.section("an edit with images travels"):
            first = s_first_edit(c, paris, nozay, alice, bob)
        with c.section("a second edit, and one that changes nothing"):
            s_second_edit(c, f, paris, nozay, alice, bob, first)
        for s in f.sites:
            c.equal("%s: no sanitizer report" % s.name, s.node.sanitizer_reports(), [])
        f.stop()


if __name__ == "__main__":
    rt.main_wrapper(run)
