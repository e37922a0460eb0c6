#!/usr/bin/python3
"""test_people_web.py - finding a colleague of another site in the web
front end, in a real browser, against two real peered sites.

Starts paris and nozay (tests/repl/fed.py). nozay imports its employees
through the administrators' directory import: Karim Dubois (kdubois),
whose skills include Kubernetes, and HELPERS colleagues who know Helm;
kdubois gets an account at nozay (as a first sign-in through the
company directory would make it) but never posts. paris has alice, who
looks for him, and bob, who posts about #kubernetes twice. Once paris
knows kdubois (replicated: paris was never told about him otherwise), it
runs people.mjs under Node.js (playwright-core driving Debian's headless
Chromium): alice opens People, finds kdubois by his skill, sees who can
help with kubernetes and why, pages, meets the empty and error states,
opens his profile, and mentions him from the composer through the
suggestions; kdubois signs in at nozay and has the mention notification.

Afterwards the API must agree: kdubois, still without a single post, has
one mention notification at nozay, from alice@paris.

Usage: test_people_web.py PATH/TO/ruched NODE_MODULES_DIR SCREENSHOT_DIR.
Prints "N passed, M failed"; exits non-zero if any check failed.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "repl"))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
import fed  # noqa: E402
import ruchetest as rt  # noqa: E402
import browserrun as br  # noqa: E402

HELPERS = 27  # colleagues who know Helm: more than one page of People (20)
WAIT = 60.0

KARIM = {"username": "kdubois", "display_name": "Karim Dubois", "dir_id": "uid-nozay-kd",
         "title": "Ingénieur plateforme", "department": "Infrastructure", "site": "Nozay",
         "office": "B4-210", "phone": "+33 1 60 40 12 34", "email": "karim.dubois@example.com",
         "skills": ["Kubernetes", "Terraform"]}


def helper(i):
    return {"username": "helm%02d" % i, "display_name": "Hélène Martin %02d" % i,
            "dir_id": "uid-nozay-h%d" % i, "title": "Développeuse", "department": "Logiciel",
            "site": "Nozay", "office": "B2-%03d" % i, "skills": ["Helm"]}


def password_of(site, name):
    r = site.admin().post("/api/ruche/v1/admin/users", json_body={"username": name})
    if r.status != 200:
        raise rt.TestError("%s: create %s: %d %s" % (site.name, name, r.status, r.brief()))
    return r.json["password"]


def import_people(c, nozay):
    r = nozay.admin().post("/api/ruche/v1/admin/directory",
                           json_body={"entries": [KARIM] + [helper(i) for i in range(HELPERS)]})
    c.equal("nozay imports its employees", (r.status, (r.json or {}).get("published")),
            (200, HELPERS + 1))


def known_at_paris(paris):
    """paris's view of kdubois, once replicated."""
    found = paris.admin().get("/api/ruche/v1/people", query={"q": "kdubois"}).json or []
    return next((a for a in found if a.get("acct") == "kdubois@nozay"), None)


def check_after(c, nozay, users):
    karim = nozay.client(nozay.client().login("kdubois", users["kdubois"]["password"]))
    notes = karim.get("/api/v1/notifications").json or []
    c.equal("the API: kdubois has alice's mention at nozay",
            [(n.get("type"), (n.get("account") or {}).get("acct")) for n in notes
             if n.get("type") == "mention"], [("mention", "alice@paris")])
    me = karim.get("/api/v1/accounts/verify_credentials").json or {}
    c.equal("the API: kdubois never posted", me.get("statuses_count"), 0)


def run(c, ruched, modules, shots):
    with fed.Federation(c, ruched, ["paris", "nozay"], kind="mesh", label="people") as f:
        paris, nozay = f[0], f[1]
        f.start()
        f.require_replication()
        import_people(c, nozay)
        users = {"alice": {"site": "paris", "password": password_of(paris, "alice")},
                 "kdubois": {"site": "nozay", "password": password_of(nozay, "kdubois")}}
        bob = paris.new_user("bob")
        for i in range(2):
            bob.post_status("Le cluster %d repasse en production. #kubernetes" % i)
        f.wait_converged()
        karim = rt.wait_until(lambda: known_at_paris(paris), WAIT, "paris knows kdubois")
        c.equal("paris knows kdubois of nozay, who never posted",
                (karim.get("statuses_count"), karim["ruche"].get("title")),
                (0, KARIM["title"]))
        config = {"chromium": br.CHROMIUM, "shots": shots,
                  "results": os.path.join(shots, "people-results.json"),
                  "sites": {"paris": "http://127.0.0.1:%d" % paris.node.port,
                            "nozay": "http://127.0.0.1:%d" % nozay.node.port},
                  "users": users, "karim": KARIM, "helpers": HELPERS}
        br.run_script(c, "people.mjs", config, modules)
        check_after(c, nozay, users)
        f.stop()


if __name__ == "__main__":
    br.main(run, rt)
