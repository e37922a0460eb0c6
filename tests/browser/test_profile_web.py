#!/usr/bin/python3
"""test_profile_web.py - the web front end's profile editor in a real
browser, against a real ruched.

Starts one site, paris (tests/api/ruchetest.py), makes alice and bob
there, makes the files the browser attaches (tests/api/mediafiles.py: a
noise photo and a banner from libvips's vips command, and a PDF), and
runs profile.mjs under Node.js (playwright-core driving Debian's headless
Chromium): alice edits her profile with a photo and bob sees it. Its
check lines are counted here (test_browser.run_browser); afterwards the
API must show what the browser saved: the display name, the fields, the
skills, and an avatar and a header among the node's files, the avatar the
one the editor showed again.

Usage: test_profile_web.py PATH/TO/ruched NODE_MODULES_DIR SCREENSHOT_DIR.
Prints "N passed, M failed"; exits non-zero if any check failed.
"""

import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
import mediafiles as mf  # noqa: E402
import ruchetest as rt  # noqa: E402
import test_browser as tb  # noqa: E402


def make_user(node, admin, name):
    r = admin.post("/api/ruche/v1/admin/users", json_body={"username": name})
    if r.status != 200:
        raise rt.TestError("create %s: %d %s" % (name, r.status, r.brief()))
    return r.json["password"]


def check_saved(c, node, seen):
    r = node.client().get("/api/v1/accounts/lookup", query={"acct": "alice"})
    a = r.json or {}
    c.equal("the API: the display name saved", a.get("display_name"), "Alice Martin")
    c.equal("the API: the fields", [f.get("name") for f in a.get("fields", [])], ["Team", "Wiki"])
    c.equal("the API: the skills", a.get("ruche", {}).get("skills"), ["LMDB", "ZeroMQ", "C"])
    for key in ("avatar", "header"):
        c.check("the API: the %s is one of the node's files" % key, "/media/" in a.get(key, ""),
                a.get(key))
    c.equal("the editor showed the avatar the API names", seen.get("alice_avatar"),
            rt.path_of(a.get("avatar", "")))


def run(c, ruched, modules, shots):
    tb.require_tools(modules, shots)
    with rt.Node(ruched, site="paris") as node, \
            tempfile.TemporaryDirectory(prefix="ruche_files.") as folder:
        node.start()
        admin = node.client(node.client().login("admin", node.admin_password()))
        users = {name: {"site": "paris", "password": make_user(node, admin, name)}
                 for name in ("alice", "bob")}
        files = {}
        for role, name, data in (("photo", "me.jpg", mf.vips_image(800, 600, ".jpg[Q=85,strip]")),
                                 ("banner", "banner.png", mf.vips_image(900, 300, ".png")),
                                 ("pdf", "cv.pdf", mf.pdf(40000))):
            files[role] = os.path.join(folder, name)
            with open(files[role], "wb") as f:
                f.write(data)
        config = {"chromium": tb.CHROMIUM, "shots": shots,
                  "results": os.path.join(shots, "profile-results.json"),
                  "sites": {"paris": "http://127.0.0.1:%d" % node.port}, "users": users,
                  "files": files}
        seen = tb.run_browser(c, config, modules, {}, script="profile.mjs")
        check_saved(c, node, seen)
        c.equal("no sanitizer report", node.sanitizer_reports(), [])
        c.equal("the node exits with 0 on SIGTERM", node.stop(), 0)


if __name__ == "__main__":
    tb.main(run)
