#!/usr/bin/python3
"""test_browser.py - the web front end in a real browser, against two real
sites.

Starts three peered ruched sites, paris, nozay and lyon (tests/repl/fed.py),
with paris also peered with "rogue", a protocol peer in this process
(tests/repl/rogue.py); makes alice at paris, bob at nozay and carol at
lyon, then runs browser.mjs under Node.js: it drives Debian's headless
Chromium through playwright-core, one browser context per person, and
prints one line per check ("ok: ..." or "FAILED: ..."), which this script
counts with its own. Screenshots go to the folder given (the build tree
keeps them as the test's output).

For the operator page, browser.mjs asks this script to act on the sites
with "do: ACTION" lines: "do: forge" has rogue publish an update with a
bad signature to paris, "do: stop lyon" stops lyon; the admin's page must
then show the alerts without being reloaded.

The files the browser attaches are made here (tests/api/mediafiles.py):
two noise photos from libvips's vips command, a PNG to paste, a PDF, and
a PNG whose header claims 100,000 x 100,000 pixels, which the node must
refuse.

Afterwards it checks through the API that what the browsers did is on
both sites: the post, the reply, the like, the script-bearing post
stored as the text typed, and the photos with their alt text behind the
content warning.

Usage: test_browser.py PATH/TO/ruched NODE_MODULES_DIR SCREENSHOT_DIR.
Prints "N passed, M failed"; exits non-zero if any check failed.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "repl"))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
import fed  # noqa: E402
import mediafiles as mf  # noqa: E402
import rogue as rg  # noqa: E402
import ruchetest as rt  # noqa: E402

BROWSER_TIMEOUT = 240  # seconds for the whole browser session
OLDER_POSTS = 30
CHROMIUM = os.environ.get("RUCHE_CHROMIUM", "/usr/bin/chromium")


def make_user(site, name):
    r = site.admin().post("/api/ruche/v1/admin/users", json_body={"username": name})
    if r.status != 200:
        raise rt.TestError("%s: create %s: %d %s" % (site.name, name, r.status, r.brief()))
    return r.json["password"]


def forge(rogue):
    """Has rogue publish its next post with a signature of zeros."""
    data, _ = rogue.chain.post("forged for the operator page")
    rogue.publish_update(rg.envelope(data, bytes(64)))


def make_files(folder):
    """The files the browser attaches, written into folder: {role: path}."""
    files = {"photo": ("photo.jpg", mf.vips_image(1600, 1200, ".jpg[Q=85,strip]")),
             "photo2": ("team.jpg", mf.vips_image(900, 1200, ".jpg[Q=85,strip]")),
             "paste": ("pasted.png", mf.vips_image(320, 200, ".png")),
             "pdf": ("Rapport d'été.pdf", mf.pdf(150000)),
             "bomb": ("bomb.png", mf.png_bomb())}
    out = {}
    for role, (name, data) in files.items():
        out[role] = os.path.join(folder, name)
        with open(out[role], "wb") as f:
            f.write(data)
    return out


def run_browser(c, config, modules, actions, script="browser.mjs"):
    """Runs script (browser.mjs, or another session of this folder);
    relays its check lines into c and runs the actions it asks for ("do:
    NAME"). Returns its results file's content (what it saw), or {}."""
    env = dict(os.environ, NODE_PATH=os.path.join(modules, "node_modules"))
    cmd = ["node", os.path.join(HERE, script), json.dumps(config)]
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
            elif line.startswith("do: "):
                action = actions.get(line[4:])
                c.check("the browser asks for a known action: %s" % line[4:], action is not None)
                if action:
                    action()
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
        st = site.admin().get("/api/v1/statuses/%s" % seen.get("media_id")).json or {}
        c.equal("%s: the photos' post has its content warning" % site.name,
                (st.get("spoiler_text"), st.get("sensitive")), (seen.get("media_warning"), True))
        c.equal("%s: and its two photos with their alt text" % site.name,
                [(a.get("type"), a.get("description")) for a in st.get("media_attachments") or []],
                [("image", alt) for alt in seen.get("media_alts") or ["?"]])


def require_tools(modules, shots):
    """Raises TestError unless Node.js, chromium and playwright-core (in
    modules) are there; makes the screenshots' folder."""
    for tool in ("node", CHROMIUM):
        if not shutil.which(tool):
            raise rt.TestError("%s is missing: deploy/test.sh installs it (deploy/packages.txt)"
                               % tool)
    if not os.path.isdir(os.path.join(modules, "node_modules", "playwright-core")):
        raise rt.TestError("playwright-core is not installed in %s (tests/browser/setup.sh)"
                           % modules)
    os.makedirs(shots, exist_ok=True)


def run(c, ruched, modules, shots):
    require_tools(modules, shots)
    ident = rg.Identity()
    rogue = rg.Rogue(ident, "tcp://127.0.0.1:%d" % rt.free_port(),
                     "tcp://127.0.0.1:%d" % rt.free_port())
    with fed.Federation(c, ruched, ["paris", "nozay", "lyon"], kind="mesh",
                        label="browser") as f:
        try:
            run_sites(c, f, rogue, modules, shots)
        finally:
            rogue.close()


def run_sites(c, f, rogue, modules, shots):
    paris, nozay, lyon = f[0], f[1], f[2]
    paris.add_peer("rogue", rogue.identity.text, rogue.pub, rogue.sync)
    rogue.start([(paris.pub, rg.key_bytes(paris.key))])
    f.start()
    users = {"alice": make_user(paris, "alice"), "bob": make_user(nozay, "bob")}
    alice = paris.client(paris.client().login("alice", users["alice"]))
    for i in range(OLDER_POSTS):  # for paging as she scrolls
        alice.post_status("An older post, number %d" % (i + 1))
    lyon.new_user("carol").post_status("Bonjour from lyon")  # lyon has a column too
    f.wait_converged()
    fed.wait_until(lambda: (paris.peer_status("rogue") or {}).get("connected"), 30,
                   "paris connected to rogue")
    actions = {"forge": lambda: forge(rogue),
               "stop lyon": lambda: c.equal("lyon exits with 0 on SIGTERM", lyon.stop(), 0)}
    config = {
        "chromium": CHROMIUM, "shots": shots, "results": os.path.join(shots, "results.json"),
        "sites": {"paris": "http://127.0.0.1:%d" % paris.node.port,
                  "nozay": "http://127.0.0.1:%d" % nozay.node.port},
        "users": {"alice": {"site": "paris", "password": users["alice"]},
                  "bob": {"site": "nozay", "password": users["bob"]},
                  "admin": {"site": "paris", "password": paris.node.admin_password()}},
        "ops": {"sites": ["lyon", "nozay", "paris", "rogue"],
                "origins": ["lyon", "nozay", "paris"]},
    }
    with tempfile.TemporaryDirectory(prefix="ruche_files.") as folder:
        config["files"] = make_files(folder)
        seen = run_browser(c, config, modules, actions)
    if c.check("the browser reports what it made", seen.get("post_id") and
               seen.get("reply_id") and seen.get("xss_id") and seen.get("media_id"), seen):
        f.wait_converged()
        check_sites(c, paris, nozay, seen)
    f.stop()


def main(session=None):
    """Runs session(c, ruched, modules, shots) (run: this file's) with the
    command line's arguments and exits with the summary's status."""
    if len(sys.argv) != 4:
        print("usage: %s PATH/TO/ruched NODE_MODULES_DIR SCREENSHOT_DIR" % sys.argv[0],
              file=sys.stderr)
        sys.exit(2)
    rt.stop_on_sigterm()
    c = rt.Checks()
    try:
        (session or run)(c, *sys.argv[1:])
    except Exception:
        import traceback
        c.check("the test runs to its end", False, traceback.format_exc().rstrip())
    sys.exit(c.summary())


if __name__ == "__main__":
    main()
