#!/usr/bin/python3
"""test_browser.py - the web front end in a real browser, against two real
sites.

Starts two peered ruched sites, paris and nozay (tests/repl/fed.py), makes
alice at paris and bob at nozay, then runs browser.mjs under Node.js: it
drives Debian's headless Chromium through playwright-core, one browser
context per person, and prints one line per check ("ok: ..." or
"FAILED: ..."), which this script counts with its own. Screenshots go to
the folder given (the build tree keeps them as the test's output).

Afterwards it checks through the API that what the browsers did is on
both sites: the post, the reply, the like, and the script-bearing post
stored as the text typed.

Usage: test_browser.py PATH/TO/ruched NODE_MODULES_DIR SCREENSHOT_DIR.
Prints "N passed, M failed"; exits non-zero if any check failed.
"""

import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "repl"))
import fed  # noqa: E402
import ruchetest as rt  # noqa: E402

BROWSER_TIMEOUT = 240  # seconds for the whole browser session
OLDER_POSTS = 30
CHROMIUM = os.environ.get("RUCHE_CHROMIUM", "/usr/bin/chromium")


def make_user(site, name):
    r = site.admin().post("/api/ruche/v1/admin/users", json_body={"username": name})
    if r.status != 200:
        raise rt.TestError("%s: create %s: %d %s" % (site.name, name, r.status, r.brief()))
    return r.json["password"]


def run_browser(c, config, modules):
    """Runs browser.mjs; relays its check lines into c. Returns its
    results file's content (what it saw), or {}."""
    env = dict(os.environ, NODE_PATH=os.path.join(modules, "node_modules"))
    cmd = ["node", os.path.join(HERE, "browser.mjs"), json.dumps(config)]
    proc = subprocess.Popen(cmd, cwd=modules, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            if line.startswith("ok: "):
                c.check(line[4:], True)
            elif line.startswith("FAILED: "):
                name, _, detail = line[8:].partition(" :: ")
                c.check(name, False, detail or None)
            else:
                print(line, flush=True)
        code = proc.wait(timeout=BROWSER_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = None
    c.equal("the browser session ends by itself with status 0", code, 0)
    try:
        with open(config["results"], encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def check_sites(c, paris, nozay, seen):
    """What the browsers did, as both sites' APIs show it."""
    post_id, reply_id = seen.get("post_id"), seen.get("reply_id")
    for site in (paris, nozay):
        r = site.admin().get("/api/v1/statuses/%s" % post_id)
        c.status("%s: alice's post is there" % site.name, r, 200)
        body = r.json or {}
        c.equal("%s: alice's post is from paris" % site.name, (body.get("ruche") or {}).get("site"),
                "paris")
        c.equal("%s: alice's post has bob's like" % site.name, body.get("favourites_count"), 1)
        ctx = site.admin().get("/api/v1/statuses/%s/context" % post_id).json or {}
        c.check("%s: bob's reply is in the thread" % site.name,
                reply_id in [s.get("id") for s in ctx.get("descendants") or []], ctx)
        r = site.admin().get("/api/v1/statuses/%s" % seen.get("xss_id"))
        c.equal("%s: the post with markup is stored as typed" % site.name,
                (r.json or {}).get("text"), seen.get("xss_text"))


def run(c, ruched, modules, shots):
    for tool in ("node", CHROMIUM):
        if not shutil.which(tool):
            raise rt.TestError("%s is missing: deploy/test.sh installs it (deploy/packages.txt)"
                               % tool)
    if not os.path.isdir(os.path.join(modules, "node_modules", "playwright-core")):
        raise rt.TestError("playwright-core is not installed in %s (tests/browser/setup.sh)"
                           % modules)
    os.makedirs(shots, exist_ok=True)
    with fed.Federation(c, ruched, ["paris", "nozay"], kind="mesh", label="browser") as f:
        f.start()
        paris, nozay = f[0], f[1]
        users = {"alice": make_user(paris, "alice"), "bob": make_user(nozay, "bob")}
        alice = paris.client(paris.client().login("alice", users["alice"]))
        for i in range(OLDER_POSTS):  # for paging as she scrolls
            alice.post_status("An older post, number %d" % (i + 1))
        f.wait_converged()
        config = {
            "chromium": CHROMIUM, "shots": shots, "results": os.path.join(shots, "results.json"),
            "sites": {"paris": "http://127.0.0.1:%d" % paris.node.port,
                      "nozay": "http://127.0.0.1:%d" % nozay.node.port},
            "users": {"alice": {"site": "paris", "password": users["alice"]},
                      "bob": {"site": "nozay", "password": users["bob"]}},
        }
        seen = run_browser(c, config, modules)
        if c.check("the browser reports what it made", seen.get("post_id") and
                   seen.get("reply_id") and seen.get("xss_id"), seen):
            f.wait_converged()
            check_sites(c, paris, nozay, seen)
        f.stop()


def main():
    if len(sys.argv) != 4:
        print("usage: %s PATH/TO/ruched NODE_MODULES_DIR SCREENSHOT_DIR" % sys.argv[0],
              file=sys.stderr)
        sys.exit(2)
    rt.stop_on_sigterm()
    c = rt.Checks()
    try:
        run(c, *sys.argv[1:])
    except Exception:
        import traceback
        c.check("the test runs to its end", False, traceback.format_exc().rstrip())
    sys.exit(c.summary())


if __name__ == "__main__":
    main()
