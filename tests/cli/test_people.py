#!/usr/bin/python3
"""test_people.py - finding people and importing the company directory
through the ruche client: the real `ruche` against real ruched processes
on loopback (node/api/ru_api_people.c, ru_api_dirsync.c), as an employee
and a site's administrator would use them.

paris runs with [http] max_body = 8192, so that a file of EMPLOYEES
entries (about 40 KB) cannot go as one request. Checked:
- `ruche admin directory import FILE` sends it in chunks that each fit
  (the client reads max_body from the node's instance information): as
  many POSTs as a client that fills each request to max_body needs,
  every employee published, the report summed over the chunks, nothing
  refused; the same file again publishes nothing; "-" reads standard
  input; a file holding {"entries": [...]} works like a list;
- a file with an entry of the wrong shape, a file that is not JSON or not
  a directory file, and an empty file with --complete are refused (exit
  2) before any import request; refused entries (a bad name, a name given
  twice, the local admin's name) are printed with the node's reasons and
  exit 1; a user who is not an administrator gets the node's 403;
- --complete: a file over max_body is refused before anything is sent,
  saying so; one that fits is one request, and publishes the departure
  of those missing from it;
- `ruche people`: words of a name (accents folded), --skill,
  --department, --site, --title, --office, --local, one line each with the
  account, name, title, department and site; --limit and --offset page
  ("more: ... --offset N" on a full page); --help-with ranks a skill
  before statuses tagged with the subject and says why ("skill", "N posts
  tagged #X"); --json prints the node's JSON; nobody found says so; usage
  errors exit 2; without a login, exit 3;
- `ruche admin directory sync` and `status` on a node without [ldap]:
  exit 1, the node's 404 and what it means ("[ldap] is off");
- against a second node connected to a real slapd (tests/ldap/slapd.py)
  with no schedule: status says no run has ended; `sync --wait` waits for
  the run it asked for and prints its report (every person published);
  `ruche people` then finds them; with slapd stopped, `sync --wait`
  prints why the run stopped and exits 1.

Usage: test_people.py PATH/TO/ruched PATH/TO/ruche. Prints one line per
check and "N passed, M failed"; exits non-zero if any check failed.
"""

import json
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "api"))
sys.path.insert(0, os.path.join(HERE, "..", "ldap"))
import ruchecli  # noqa: E402
import ruchetest as rt  # noqa: E402
import slapd  # noqa: E402

MAX_BODY = 8192
EMPLOYEES = 150
GENERATED = 40  # people in the slapd directory

FIRST = ["Chloé", "Éric", "Zoë", "Mathis", "Anaïs", "Bjørn"]
LAST = ["Dupont", "Lefèvre", "Müller", "Nakamura", "García"]
DEPTS = ["Réseaux et télécoms", "Finance", "Recherche optique"]
TITLES = ["Ingénieure réseaux", "Contrôleur de gestion", "Chercheur en photonique"]
SKILLS = [["BGP", "IPv6"], ["SAP", "consolidation"], ["lasers", "fibre"]]


def employee(i):
    k = i % len(DEPTS)
    return {"username": "pa%d" % i,
            "display_name": "%s %s" % (FIRST[i % len(FIRST)], LAST[i % len(LAST)]),
            "dir_id": "uid-paris-%d" % i, "title": TITLES[k], "department": DEPTS[k],
            "site": "Paris", "office": "B%d-%03d" % (k, i), "phone": "+33 1 60 40 %02d" % i,
            "email": "pa%d@example.com" % i, "skills": SKILLS[k], "manager": "uid-paris-0"}


def compact(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def requests_needed(entries, max_body):
    """How many requests a client that fills each one up to max_body
    bytes needs for entries."""
    empty = len(compact({"complete": False, "entries": []}))
    n, size = 0, None
    for e in entries:
        one = len(compact(e))
        if size is None or size + one + 1 > max_body:
            n, size = n + 1, empty + one
        else:
            size += one + 1
    return n


def import_posts(node):
    """The import requests the node answered so far."""
    text = node.client().get("/metrics").raw.decode()
    return sum(int(m.group(2)) for m in re.finditer(
        r'^ruche_http_requests_total\{([^}]*)\} (\d+)', text, re.M)
        if 'method="POST"' in m.group(1) and 'route="/api/ruche/v1/admin/directory"' in m.group(1))


def write_json(tmp, name, value):
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        if isinstance(value, str):
            f.write(value)
        else:
            json.dump(value, f, ensure_ascii=False)
    return path


def lines(run):
    return [x for x in run.out.splitlines() if x]


def accts(run):
    """The accounts a people run listed, in order."""
    return [x.split(" ", 1)[0][1:] for x in lines(run) if x.startswith("@")]


def new_user(admin, name):
    r = admin.post("/api/ruche/v1/admin/users", json_body={"username": name})
    if r.status != 200:
        raise rt.TestError("create user %s: %d %s" % (name, r.status, r.brief()))
    return r.json["password"]


def s_import(c, node, root, alice, tmp, people):
    path = write_json(tmp, "people.json", people)
    want = requests_needed(people, MAX_BODY)
    before = import_posts(node)
    run = root.run("--json", "admin", "directory", "import", path)
    report = json.loads(run.out) if run.rc == 0 else {}
    c.check("the file (%d bytes) is over max_body, so it takes several requests" %
            os.path.getsize(path), os.path.getsize(path) > MAX_BODY and want > 1, want)
    c.equal("import: every employee published, nothing refused",
            (run.rc, report.get("seen"), report.get("published"), report.get("refused")),
            (0, len(people), len(people), 0))
    c.equal("import: as many requests as filling each up to max_body needs",
            (report.get("requests"), import_posts(node) - before), (want, want))
    run = root.run("admin", "directory", "import", path)
    c.check("the same file again: all unchanged, the report as text",
            run.rc == 0 and "%d seen · 0 published · %d unchanged · 0 refused" %
            (len(people), len(people)) in run.out and ": %d requests" % want in run.out,
            run.brief())
    obj = write_json(tmp, "object.json", {"entries": people[:3]})
    run = root.run("admin", "directory", "import", obj)
    c.check("a file holding {\"entries\": [...]} is read as well",
            run.rc == 0 and "3 seen · 0 published · 3 unchanged" in run.out, run.brief())
    run = root.run("admin", "directory", "import", "-",
                   stdin=json.dumps(people[:2]).encode())
    c.check("- reads the file from standard input",
            run.rc == 0 and "2 seen · 0 published · 2 unchanged" in run.out, run.brief())


def s_import_refused(c, node, root, alice, tmp, people):
    before = import_posts(node)
    bad_entry = [employee(1000), dict(employee(1001), skills="BGP")]
    cases = [
        (write_json(tmp, "bad-entry.json", bad_entry), [], "entry 1: skills is not a list of strings"),
        (write_json(tmp, "not-json.json", "[{\"username\": "), [], "cannot read"),
        (write_json(tmp, "not-dir.json", {"people": []}), [], "not a directory file"),
        (write_json(tmp, "empty.json", []), ["--complete"], "would mark every employee"),
        (os.path.join(tmp, "missing.json"), [], "cannot read"),
    ]
    for path, more, says in cases:
        run = root.run("admin", "directory", "import", path, *more)
        c.check("refused before any import request: %s %s" % (os.path.basename(path),
                                                               " ".join(more)),
                run.rc == 2 and says in run.err and run.out == "", run.brief())
    c.equal("... and the node answered no import request", import_posts(node) - before, 0)
    c.check("nobody of the malformed file was published",
            node.client(root_token(node)).get("/api/v1/accounts/lookup",
                                              query={"acct": "pa1000"}).status == 404)
    refused = write_json(tmp, "refused.json", [
        {"username": "Bad Name", "dir_id": "uid-y"}, {"username": "admin", "dir_id": "uid-a"},
        {"username": "twice", "dir_id": "uid-t"}, {"username": "twice", "dir_id": "uid-t"}])
    run = root.run("admin", "directory", "import", refused)
    c.check("refused entries: exit 1, the node's reasons printed",
            run.rc == 1 and "3 refused" in run.out and run.out.count("refused: ") == 3 and
            "local account" in run.out and "twice" in run.out and "refused some" in run.err,
            run.brief())
    run = alice.run("admin", "directory", "import", refused)
    c.check("a user who is not an administrator: the node's 403",
            run.rc == 1 and "HTTP 403" in run.err, run.brief())


def root_token(node):
    return node.client().login("admin", node.admin_password())


def s_people(c, node, root, alice, tmp, people):
    run = alice.run("people", "--skill", "bgp", "--limit", "80")
    bgp = sorted(e["username"] for e in people if "BGP" in e["skills"])
    c.equal("--skill: every network engineer", sorted(accts(run)), bgp)
    first = next(x for x in lines(run) if x.startswith("@pa0 "))
    c.equal("one line: account, name, title, department, site", first,
            "@pa0 · Chloé Dupont · Ingénieure réseaux · Réseaux et télécoms · Paris")
    run = alice.run("people", "chloe", "dupont", "--limit", "80")
    chloe = sorted(e["username"] for e in people if e["display_name"] == "Chloé Dupont")
    c.equal("words of a name, accents folded", sorted(accts(run)), chloe)
    run = alice.run("people", "--department", "Finance", "--title", "controleur", "--site",
                    "paris", "--office", "B1-004")
    c.equal("--department, --title, --site and --office together", accts(run), ["pa4"])
    run = alice.run("people", "--local", "--skill", "lasers", "--limit", "5")
    c.check("--local and --limit: a full page says where the next one starts",
            run.rc == 0 and len(accts(run)) == 5 and
            lines(run)[-1] == "more: the same with --offset 5", run.brief())
    more = alice.run("people", "--local", "--skill", "lasers", "--limit", "5", "--offset", "5")
    c.check("--offset: the next page, none of the first",
            len(accts(more)) == 5 and not set(accts(more)) & set(accts(run)), more.brief())
    run = alice.run("people", "nobody-like-this")
    c.equal("nobody found says so", (run.rc, run.out), (0, "(nobody found)\n"))
    run = alice.run("--json", "people", "--skill", "sap", "--limit", "3")
    try:
        found = json.loads(run.out)
    except ValueError:
        found = None
    c.check("--json prints the node's accounts with their directory entry",
            isinstance(found, list) and len(found) == 3 and
            all("SAP" in a["ruche"]["skills"] and a["ruche"]["directory"] for a in found),
            run.brief())
    for args, says in ((["--limit", "0"], "--limit"), (["--limit", "81"], "--limit"),
                       (["--offset", "-1"], "--offset"), (["--help-with", ""], "subject"),
                       (["--colour", "red"], "unknown option")):
        run = alice.run("people", *args)
        c.check("usage error, exit 2: people %s" % " ".join(args),
                run.rc == 2 and says in run.err, run.brief())
    with ruchecli.Cli(alice.ruche, alice.server, None) as anon:
        run = anon.run("--server", alice.server, "people", "chloe")
        c.check("not logged in: exit 3", run.rc == 3 and "log in" in run.err, run.brief())


def s_help(c, node, root, alice, tmp, people):
    helper = dict(employee(1), skills=["photographie"])
    run = root.run("admin", "directory", "import", write_json(tmp, "helper.json", [helper]))
    c.check("an employee's skills change", run.rc == 0 and "1 published" in run.out,
            run.brief())
    poster = node.client(node.client().login("alice", alice.password))
    for k in range(3):
        poster.post_status("Mes photos du lac, #photographie %d" % k)
    run = alice.run("people", "--help-with", "Photographie")
    c.equal("--help-with: the skill first, then who posts about it", lines(run)[:4], [
        "@pa1 · Éric Lefèvre · Contrôleur de gestion · Finance · Paris",
        "  score 10: skill",
        "@alice",
        "  score 3: 3 posts tagged #Photographie"])


def s_complete(c, node, root, alice, tmp, people):
    before = import_posts(node)
    run = root.run("admin", "directory", "import", write_json(tmp, "all.json", people),
                   "--complete")
    c.check("--complete with a file over max_body: refused, saying why, nothing sent",
            run.rc == 1 and "one request" in run.err and "max_body of %d" % MAX_BODY in run.err
            and import_posts(node) == before, run.brief())
    kept = people[:20]
    gone = len(people) - len(kept) + 1  # and "twice", of s_import_refused
    run = root.run("admin", "directory", "import",
                   write_json(tmp, "kept.json", {"complete": True, "entries": kept}))
    c.check("a complete file that fits: one request, the others departed",
            run.rc == 0 and ": 1 request\n" in run.out and "%d departed" % gone in run.out and
            import_posts(node) == before + 1, run.brief())


def s_no_ldap(c, node, root, alice, tmp, people):
    for args in (["sync"], ["sync", "--wait"], ["status"]):
        run = root.run("admin", "directory", *args)
        c.check("no [ldap]: directory %s exits 1 saying [ldap] is off" % " ".join(args),
                run.rc == 1 and "HTTP 404" in run.err and "[ldap] is off" in run.err and
                run.out == "", run.brief())


def s_ldap(c, ruched, ruche):
    with slapd.Slapd(generated=GENERATED) as s, rt.Node(ruched, site="nozay") as node:
        node.start(s.settings(starttls="yes") + ["ldap.timeout_ms=1500",
                                                  "directory.sync_interval_s=0"])
        url = "http://127.0.0.1:%d" % node.port
        with ruchecli.Cli(ruche, url, "admin", node.admin_password()) as root:
            run = root.run("admin", "directory", "status")
            c.equal("LDAP, no schedule: no run has ended yet", (run.rc, run.out),
                    (0, "directory sync: no run has ended since the node started\n"))
            run = root.run("admin", "directory", "sync", "--wait")
            c.check("sync --wait: the run's report, every person published",
                    run.rc == 0 and "run 1, from " in run.out and ": done" in run.out and
                    "%d seen · %d published" % (GENERATED, GENERATED) in run.out, run.brief())
            run = root.run("people", "--limit", "80")
            c.equal("the people synced are found", len(accts(run)), GENERATED)
            run = root.run("admin", "directory", "sync")
            c.check("sync without --wait: asked for", run.rc == 0 and "run 2" in run.out,
                    run.brief())
            run = root.run("--json", "admin", "directory", "sync", "--wait")
            st = json.loads(run.out) if run.rc == 0 else {}
            c.check("sync --wait --json: a later run, nothing changed",
                    st.get("runs", 0) >= 2 and st.get("running") is False and
                    (st.get("report") or {}).get("unchanged") == GENERATED, run.brief())
            s.stop()
            run = root.run("admin", "directory", "sync", "--wait")
            c.check("slapd stopped: sync --wait says why the run stopped, exit 1",
                    run.rc == 1 and ": stopped" in run.out and "why: " in run.out, run.brief())
        c.equal("nozay exits with 0 on SIGTERM", node.stop(), 0)


def run(c, ruched, ruche):
    people = [employee(i) for i in range(EMPLOYEES)]
    with rt.Node(ruched, site="paris", settings=("http.max_body=%d" % MAX_BODY,)) as node, \
            tempfile.TemporaryDirectory(prefix="ruche_people.") as tmp:
        node.start()
        url = "http://127.0.0.1:%d" % node.port
        password = new_user(node.client(root_token(node)), "alice")
        with ruchecli.Cli(ruche, url, "admin", node.admin_password()) as root, \
                ruchecli.Cli(ruche, url, "alice", password) as alice:
            alice.password = password
            for name, step in (("import", s_import), ("refusals", s_import_refused),
                               ("people", s_people), ("who can help", s_help),
                               ("a complete import", s_complete), ("no [ldap]", s_no_ldap)):
                with c.section(name):
                    step(c, node, root, alice, tmp, people)
        c.equal("no sanitizer report", node.sanitizer_reports(), [])
        c.equal("paris exits with 0 on SIGTERM", node.stop(), 0)
    with c.section("a sync from LDAP"):
        s_ldap(c, ruched, ruche)


def main():
    if len(sys.argv) != 3:
        print("usage: test_people.py PATH/TO/ruched PATH/TO/ruche", file=sys.stderr)
        return 2
    rt.stop_on_sigterm()
    c = rt.Checks()
    run(c, sys.argv[1], sys.argv[2])
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
