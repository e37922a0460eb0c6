#!/usr/bin/python3
"""test_dirsync.py - each site imports its own employees from a real slapd
(slapd.py), and every site finds them all.

Three sites in a line, paris - nozay - murray-hill. paris and nozay sync
from the same directory, each its own people ([ldap] sync_filter on the
site attribute l); murray-hill has no directory at all. The directory has
GENERATED generated employees spread over ten sites, and two more at
paris, "early" and "zlate", where early's manager (zlate) comes after
early in the walk.

- With no schedule ([directory] sync_interval_s = 0) nothing runs until
  an administrator asks; each site's first sync publishes its people (and
  nobody else's), and murray-hill finds them by site and skill;
- managers: one of the same site; one of another site (found by its DN
  in the directory, then shown as that site's account); one who comes
  later in the walk; the directory's photos made avatars (a damaged
  one reported, its person published without it);
- a second sync with nothing changed publishes nothing;
- a title changed and an entry deleted in the directory: the next sync,
  asked for by an administrator, publishes the one and the departure of
  the other, whose session ends;
- an employee moved from paris to nozay in the directory is one person
  everywhere once both sites synced: found at nozay only, the paris
  account showing where they went;
- with slapd stopped, a sync fails with the reason, publishes no
  departure, and everyone is still found.

Usage: test_dirsync.py PATH/TO/ruched; prints one line per check and
"N passed, M failed", exits non-zero if any check failed.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "repl"))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
import fed  # noqa: E402
import ruchetest as rt  # noqa: E402
import slapd  # noqa: E402

GENERATED = 200
WAIT = 60.0
EXTRA = [
    ("early", {"cn": ["Early Bird"], "l": ["paris"], "title": ["Analyst"],
               "manager": [slapd.Slapd.dn("zlate")], "userPassword": ["early-pw"]}, ("users",)),
    ("zlate", {"cn": ["Zed Late"], "l": ["paris"], "title": ["Director"],
               "userPassword": ["zlate-pw"]}, ("users",)),
    ("badphoto", {"cn": ["Bad Photo"], "l": ["paris"], "title": ["Photographer"],
                  "jpegPhoto": [b"\xff\xd8\xff\xe0 not a JPEG after all"]}, ("users",)),
]
EXTRA_AT_PARIS = 3


def at(site):
    """The generated employees of a site, by uid."""
    return ["e%06d" % i for i in range(GENERATED) if slapd.SITES[i % 10] == site]


def sync_status(site):
    r = site.admin().get("/api/ruche/v1/admin/directory/sync")
    if r.status != 200 or not isinstance(r.json, dict):
        raise rt.TestError("%s: sync status: %d %s" % (site.name, r.status, r.brief()))
    return r.json


def synced(site, runs):
    """Waits for the run number runs to end; its status."""
    rt.wait_until(lambda: (lambda s: s["runs"] >= runs and not s["running"])(sync_status(site)),
                  WAIT, "%s's sync number %d" % (site.name, runs))
    return sync_status(site)


def sync_now(site, runs):
    r = site.admin().post("/api/ruche/v1/admin/directory/sync")
    if r.status != 202:
        raise rt.TestError("%s: sync: %d %s" % (site.name, r.status, r.brief()))
    return synced(site, runs)


def people(client, **query):
    r = client.get("/api/ruche/v1/people", query=dict(query, limit=80))
    if r.status != 200 or not isinstance(r.json, list):
        raise rt.TestError("people %r: %d %s" % (query, r.status, r.brief()))
    return [a["acct"] for a in r.json]


def lookup(client, acct):
    return client.get("/api/v1/accounts/lookup", query={"acct": acct}).json or {}


def run(c, ruched):
    with slapd.Slapd(generated=GENERATED, extra=EXTRA) as s, \
            fed.Federation(c, ruched, ["paris", "nozay", "murray-hill"], "line",
                           "dirsync") as f:
        paris, nozay, murray = f[0], f[1], f[2]
        for site in (paris, nozay):
            site.extra += s.settings(
                starttls="yes", sync_filter="(&(objectClass=inetOrgPerson)(l=%s))" % site.name)
            site.extra += ["ldap.timeout_ms=1500", "directory.sync_interval_s=0"]
        f.start()
        f.require_replication()
        c.equal("no run before one is asked for (no schedule)",
                (sync_status(paris)["runs"], sync_status(paris)["running"]), (0, False))
        sync_now(nozay, 1)
        first = sync_now(paris, 1)
        c.equal("paris publishes its own people",
                (first["result"], first["report"]["published"], first["report"]["refused"]),
                ("ok", len(at("paris")) + EXTRA_AT_PARIS, 0))
        c.equal("each generated person's photo made an avatar, the damaged one reported",
                (first["report"]["photos"], first["report"]["bad_photos"],
                 any("badphoto" in x for x in first["report"]["reasons"])),
                (len(at("paris")), 1, True))
        c.equal("nozay too", synced(nozay, 1)["report"]["published"], len(at("nozay")))
        c.status("a site without a directory has no sync",
                 murray.admin().get("/api/ruche/v1/admin/directory/sync"), 404)
        f.wait_converged()

        carol = murray.new_user("carol")
        rt.wait_until(lambda: len(people(carol, site="nozay")) == len(at("nozay")), WAIT,
                      "murray-hill finds nozay's people")
        c.equal("murray-hill finds nozay's people, all at nozay",
                sorted(people(carol, site="nozay")), sorted(u + "@nozay" for u in at("nozay")))
        c.equal("and paris's, nobody else",
                sorted(people(carol, site="paris")),
                sorted([u + "@paris" for u in at("paris")] +
                       ["early@paris", "zlate@paris", "badphoto@paris"]))
        welders = people(carol, skill="welding", site="paris")
        c.check("by skill", welders and all(a.endswith("@paris") for a in welders), welders)

        def boss(acct):
            entry = lookup(carol, acct).get("ruche") or {}
            mid = entry.get("manager_id")
            return lookup_id(carol, mid) if mid else None

        def lookup_id(client, aid):
            return (client.get("/api/v1/accounts/%s" % aid).json or {}).get("acct")

        c.equal("a manager of the same site", boss("e000010@paris"), "e000000@paris")
        c.equal("a manager of another site, found by DN", boss("e000020@paris"), "e000001@nozay")
        c.equal("a manager who comes later in the walk", boss("early@paris"), "zlate@paris")

        avatar = lookup(carol, "e000010@paris").get("avatar", "")
        c.check("the directory's photo is the avatar at murray-hill",
                "/media/" in avatar and not avatar.endswith("/avatar.png"), avatar)

        def image_served():
            r = murray.client().request("GET", rt.path_of(avatar), anonymous=True)
            return r.status == 200 and r.raw[:3] == b"\xff\xd8\xff"
        rt.wait_until(image_served, WAIT, "murray-hill to serve the avatar")
        c.check("and murray-hill serves it, a JPEG", True)
        c.check("the damaged photo left the default avatar",
                lookup(carol, "badphoto@paris").get("avatar", "").endswith("/avatar.png"))
        again = sync_now(paris, 2)
        c.equal("nothing changed: nothing published, no photo made again",
                (again["report"]["published"], again["report"]["unchanged"],
                 again["report"]["photos"]),
                (0, len(at("paris")) + EXTRA_AT_PARIS, 0))

        # e000030 signs in (the directory creates the account), then is deleted.
        token = paris.client().login("e000030", "pw-e000030")
        gone = paris.client(token)
        c.status("e000030 signs in with the company password",
                 gone.get("/api/v1/accounts/verify_credentials"), 200)
        s.modify("dn: %s\nchangetype: modify\nreplace: title\ntitle: Chief Welder\n"
                 % s.dn("e000010"))
        s.modify("dn: %s\nchangetype: delete\n" % s.dn("e000030"))
        third = sync_now(paris, 3)
        c.equal("a change and a departure published",
                (third["report"]["published"], third["report"]["departed"]), (2, 1))
        c.status("the departed employee's session ends",
                 gone.get("/api/v1/accounts/verify_credentials"), 401)
        f.wait_converged()
        rt.wait_until(lambda: "e000010@paris" in people(carol, q="chief welder"), WAIT,
                      "the new title at murray-hill")
        c.check("murray-hill sees the new title", True)
        c.check("and no longer finds the one who left",
                "e000030@paris" not in people(carol, site="paris"))

        # e000040 moves from paris to nozay.
        s.modify("dn: %s\nchangetype: modify\nreplace: l\nl: nozay\n" % s.dn("e000040"))
        c.equal("nozay publishes the newcomer", sync_now(nozay, 2)["report"]["published"], 1)
        c.equal("paris their departure", sync_now(paris, 4)["report"]["departed"], 1)
        f.wait_converged()

        def found():
            return [a for a in people(carol, q="e000040") if a.startswith("e000040@")]
        rt.wait_until(lambda: found() == ["e000040@nozay"], WAIT, "e000040 found once")
        c.equal("the employee who moved is found once, at nozay", found(), ["e000040@nozay"])
        c.equal("the paris account shows where they went",
                (lookup(carol, "e000040@paris").get("moved") or {}).get("acct"), "e000040@nozay")

        # The directory goes away: no departure.
        c.equal("slapd stops", s.stop(), 0)
        down = sync_now(paris, 5)
        c.equal("a sync without the directory fails, with no departure",
                (down["result"] != "ok", down["report"]["departed"],
                 down["report"]["published"]), (True, 0, 0))
        c.equal("everyone of paris is still found", len(people(carol, site="paris")),
                len(at("paris")) + EXTRA_AT_PARIS - 2)  # minus e000030 (left) and e000040 (moved)
        f.stop()


if __name__ == "__main__":
    rt.main_wrapper(run)
