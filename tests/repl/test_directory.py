#!/usr/bin/python3
"""test_directory.py - the company directory across sites, with real ruched
processes on loopback: employees imported at their home site are found at
every site, whether or not they ever signed in or posted.

Three sites in a line, paris - nozay - murray-hill. paris and nozay each
import their own employees (EMPLOYEES each, names with accents, titles,
departments, sites, offices, skills) through the administrators' directory
import; murray-hill imports none and must still find them all:

- by name, accent and case folded, by title, department, site and skill
  (as filters and as words of q), local=true, paging;
- "who can help with X": a skill outranks a title, which outranks statuses
  tagged #X, and the scores say why (the words found among the skills, in
  the title or department, the statuses tagged);
- Mastodon's account search and directory find an employee of another
  site who never posted; carol at murray-hill mentions them before they
  ever signed in, and they, once signed in at their site, are told;
- refused entries are reported, not merged: no name, a bad name, a name
  given twice, a local account's name, another employee's name;
- nothing changed, nothing published: importing the same entries again
  publishes none;
- a complete import without an employee publishes their departure: gone
  from every site's directory and search, their session ended;
- an employee who moves (leaves nozay, arrives at paris with the same
  directory id) is one person everywhere: found once, at paris, and the
  old account shows where they moved.

Usage: test_directory.py PATH/TO/ruched [EMPLOYEES]; prints one line per
check and "N passed, M failed", exits non-zero if any check failed.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fed  # noqa: E402
import ruchetest as rt  # noqa: E402

WAIT = 60.0
CHUNK = 1000  # entries per import request: within [http] max_body

FIRST = ["Chloé", "Éric", "Zoë", "Mathis", "Anaïs", "Bjørn", "Léa", "Noël", "Inès", "Hugo"]
LAST = ["Dupont", "Lefèvre", "Müller", "Nakamura", "García", "Öberg", "Rossi", "Dubois"]
DEPTS = ["Réseaux et télécoms", "Finance", "Ressources humaines", "Recherche optique",
         "Juridique"]
TITLES = ["Ingénieure réseaux", "Contrôleur de gestion", "Chargée de recrutement",
          "Chercheur en photonique", "Juriste"]
SKILLS = [["BGP", "IPv6"], ["SAP", "consolidation"], ["entretiens", "paie"],
          ["lasers", "fibre"], ["contrats", "RGPD"]]


def employee(site, i):
    k = i % len(DEPTS)
    return {"username": "%s%d" % (site[:2], i),
            "display_name": "%s %s" % (FIRST[i % len(FIRST)], LAST[i % len(LAST)]),
            "dir_id": "uid-%s-%d" % (site, i), "title": TITLES[k], "department": DEPTS[k],
            "site": site.capitalize(), "office": "B%d-%03d" % (k, i % 300),
            "phone": "+33 1 60 40 %02d %02d" % (i // 100 % 100, i % 100),
            "email": "%s%d@example.com" % (site, i), "skills": SKILLS[k],
            "manager": "uid-%s-0" % site}


def import_all(c, site, entries, complete=False):
    """Imports entries at site in chunks; the summed report."""
    total = {"seen": 0, "published": 0, "unchanged": 0, "refused": 0, "departed": 0,
             "reasons": []}
    chunks = [entries[i:i + CHUNK] for i in range(0, len(entries), CHUNK)] or [[]]
    if complete and len(chunks) > 1:
        raise rt.TestError("a complete import must fit one request")
    for chunk in chunks:
        r = site.admin().post("/api/ruche/v1/admin/directory",
                              json_body={"entries": chunk, "complete": complete})
        if r.status != 200 or not isinstance(r.json, dict):
            raise rt.TestError("%s: import: %d %s" % (site.name, r.status, r.brief()))
        for k in total:
            total[k] += r.json.get(k, 0 if k != "reasons" else [])
    return total


def people(client, **query):
    r = client.get("/api/ruche/v1/people", query=query)
    if r.status != 200 or not isinstance(r.json, list):
        raise rt.TestError("people %r: %d %s" % (query, r.status, r.brief()))
    return r.json


def accts(found):
    return [a.get("acct") for a in found]


def run(c, ruched):
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    with fed.Federation(c, ruched, ["paris", "nozay", "murray-hill"], "line", "directory") as f:
        paris, nozay, murray = f[0], f[1], f[2]
        f.start()
        f.require_replication()
        carol = murray.new_user("carol")

        at_paris = [employee("paris", i) for i in range(n)]
        at_nozay = [employee("nozay", i) for i in range(n)]
        rep = import_all(c, paris, at_paris)
        c.equal("paris publishes its %d employees" % n, (rep["published"], rep["refused"]),
                (n, 0))
        rep = import_all(c, nozay, at_nozay)
        c.equal("nozay publishes its %d employees" % n, (rep["published"], rep["refused"]),
                (n, 0))
        f.wait_converged()

        last = "no%d" % (n - 1)
        rt.wait_until(lambda: accts(people(carol, q=last)) == [last + "@nozay"], WAIT,
                      "murray-hill knows nozay's last employee")
        everyone = []
        for off in range(0, 2 * n, 80):
            page = people(carol, limit=80, offset=off) if off <= 1000 else []
            everyone += accts(page)
        if 2 * n <= 1080:
            c.equal("murray-hill lists every employee of both sites once",
                    (len(everyone), len(set(everyone))), (2 * n, 2 * n))

        chloe = people(carol, q="chloe dupont", limit=80)
        c.check("a name is found accent and case folded",
                chloe and all(a["display_name"] == "Chloé Dupont" for a in chloe), accts(chloe))
        expect = sum(1 for s in ("paris", "nozay") for i in range(n)
                     if FIRST[i % 10] == "Chloé" and LAST[i % 8] == "Dupont")
        c.equal("every Chloé Dupont of both sites", len(chloe), min(expect, 80))

        bgp = people(carol, skill="bgp", site="nozay", limit=80)
        c.check("a skill and a site as filters: nozay's network engineers",
                bgp and all(a["acct"].endswith("@nozay") and "BGP" in a["ruche"]["skills"]
                            for a in bgp), accts(bgp)[:5])
        words = people(carol, q="ingenieure reseaux nozay", limit=80)
        c.equal("the same found by words of title and site", sorted(accts(words)),
                sorted(accts(bgp)))
        dept = people(carol, department="Ressources humaines", limit=5)
        c.check("a department filter", dept and all(
            a["ruche"]["department"] == "Ressources humaines" for a in dept), accts(dept))
        local = people(nozay.client(nozay.client().login("admin", nozay.node.admin_password())),
                       q="juriste", local="true", limit=80)
        c.check("local=true: only nozay's own", local and all("@" not in a for a in accts(local)),
                accts(local)[:5])
        entry = bgp[0]["ruche"] if bgp else {}
        boss = carol.get("/api/v1/accounts/%s" % entry.get("manager_id"))
        c.equal("an entry names the manager's account", (boss.json or {}).get("acct"),
                "no0@nozay")
        c.equal("and its own fields", (entry.get("title"), entry.get("department"),
                                       entry.get("directory"), entry.get("departed")),
                ("Ingénieure réseaux", "Réseaux et télécoms", True, False))

        # Who can help: a title, a skill, statuses tagged.
        helper = employee("paris", 3)
        helper["skills"] = ["photographie"]
        import_all(c, paris, [helper])
        poster = nozay.new_user("pixel")
        for k in range(3):
            poster.post_status("Mes photos du lac, #photographie %d" % k)
        titled = employee("nozay", 4)
        titled["title"] = "Photographie industrielle"
        import_all(c, nozay, [titled])
        f.wait_converged()
        ranked = []

        def help_ranked():
            ranked[:] = people(carol, help="photographie")
            return accts(ranked)[:3] == ["pa3@paris", "no4@nozay", "pixel@nozay"]
        rt.wait_until(help_ranked, WAIT, "who can help with photographie")
        c.equal("who can help: skill, then title, then statuses, and what made each score",
                [(a["acct"], *(a["ruche"]["match"].get(k) for k in
                               ("score", "posts", "skill", "work"))) for a in ranked[:3]],
                [("pa3@paris", 10, 0, 1, 0), ("no4@nozay", 3, 0, 0, 1),
                 ("pixel@nozay", 3, 3, 0, 0)])

        # Mastodon's searches find an employee who never posted.
        found = carol.get("/api/v1/accounts/search", query={"q": "no42@nozay"}).json or []
        c.equal("account search at murray-hill finds no42@nozay, who never posted, first",
                accts(found)[:1], ["no42@nozay"])
        dirpage = carol.get("/api/v1/directory", query={"limit": 80}).json or []
        c.check("Mastodon's directory lists employees with their directory entry",
                len(dirpage) == 80 and all(a.get("ruche", {}).get("directory") for a in dirpage
                                          if a["acct"] != "carol"), len(dirpage))
        c.status("the directory needs a signed-in user",
                 murray.client().get("/api/ruche/v1/people", query={"q": "chloe"}), 401)

        # The mention made before they ever signed in waits for them at
        # their own site.
        text = "@no42@nozay can you look at our BGP sessions?"
        carol.post_status(text)
        f.wait_converged()
        r = nozay.admin().post("/api/ruche/v1/admin/users", json_body={"username": "no42"})
        c.status("no42 gets an account at nozay, after the mention", r, 200)
        no42 = nozay.client(nozay.client().login("no42", (r.json or {}).get("password", "")))
        rt.wait_until(lambda: [(x.get("type"), (x.get("account") or {}).get("acct"))
                               for x in no42.get("/api/v1/notifications").json or []][:1]
                      == [("mention", "carol@murray-hill")], WAIT, "no42 told of the mention")
        c.check("no42 is told of carol's mention at nozay", True)

        # Refusals, reported.
        rep = import_all(c, nozay, [
            {"username": "", "dir_id": "uid-x"},
            {"username": "Bad Name", "dir_id": "uid-y"},
            {"username": "admin", "dir_id": "uid-admin"},
            {"username": "no1", "dir_id": "uid-someone-else"},
            {"username": "fresh", "dir_id": "uid-fresh"},
            {"username": "fresh", "dir_id": "uid-fresh"},
            {"username": "nodir"},
        ])
        c.equal("six entries refused, one published", (rep["refused"], rep["published"]),
                (6, 1))
        c.check("each refusal says why", any("local account" in x for x in rep["reasons"]) and
                any("another employee" in x for x in rep["reasons"]) and
                any("twice" in x for x in rep["reasons"]) and
                any("no user name" in x for x in rep["reasons"]), rep["reasons"])
        c.status("a malformed entry refuses the request",
                 nozay.admin().post("/api/ruche/v1/admin/directory",
                                    json_body={"entries": [{"username": 7}]}), 422)
        again = [e for e in at_paris[:CHUNK] if e["username"] != "pa3"]
        rep = import_all(c, paris, again)
        c.equal("the same entries again: nothing published",
                (rep["published"], rep["unchanged"]), (0, len(again)))

        # A departure, and a move.
        remaining = [titled if e["username"] == "no4" else e for e in at_nozay
                     if e["username"] not in ("no42", "no7")]
        remaining.append(employee("nozay", 0) | {"username": "fresh", "dir_id": "uid-fresh"})
        if len(remaining) <= CHUNK:
            rep = import_all(c, nozay, remaining, complete=True)
            c.equal("a complete import without no42 and no7: two departures",
                    rep["departed"], 2)
            c.status("no42's session ends", no42.get("/api/v1/accounts/verify_credentials"), 401)
            moved = employee("nozay", 7) | {"username": "no7-paris"}
            import_all(c, paris, [moved])
            f.wait_converged()
            def no7():
                return [a for a in accts(people(carol, q="no7", limit=80))
                        if a in ("no7@nozay", "no7-paris@paris")]
            rt.wait_until(lambda: no7() == ["no7-paris@paris"], WAIT, "no7 found once, at paris")
            c.equal("no7 is one person, now at paris", no7(), ["no7-paris@paris"])
            c.check("no42 has left: not found",
                    "no42@nozay" not in accts(people(carol, q="no42", limit=80)))
            old = carol.get("/api/v1/accounts/lookup", query={"acct": "no7@nozay"}).json or {}
            c.equal("the old account shows where they moved",
                    (old.get("moved") or {}).get("acct"), "no7-paris@paris")
            c.check("account search finds neither old account", not {"no42@nozay", "no7@nozay"} &
                    set(accts(carol.get("/api/v1/accounts/search",
                                        query={"q": "no", "limit": 40}).json or []) +
                        accts(carol.get("/api/v1/accounts/search",
                                        query={"q": "no42@nozay"}).json or []) +
                        accts(carol.get("/api/v1/accounts/search",
                                        query={"q": "no7@nozay"}).json or [])))
        f.stop()


if __name__ == "__main__":
    rt.main_wrapper(run)
