#!/usr/bin/python3
"""test_masto.py - a real Mastodon client library against a real ruched.

Installs masto.js (the versions pinned by package-lock.json, with npm ci,
once per lock file) into a directory of the build tree given by
RUCHE_NPM_DIR, starts two sites, paris and nozay, peered over ZeroMQ
(tests/repl/fed.py), makes a photo for the client to upload (a 1600 x
1200 JPEG of noise, with libvips's vips command through
tests/api/mediafiles.py), and runs masto_test.mjs against paris with
Node.js; it reads the photo at nozay too, and edits alice's profile with it as
avatar through masto's updateCredentials. Each "ok:" or "FAILED:" line the script prints is one check
here; the script's exit status and the node's log (no sanitizer report)
are two more.

Usage: RUCHE_NPM_DIR=DIR test_masto.py PATH/TO/ruched. Prints one line per
check and "N passed, M failed"; exits non-zero if any check failed.
"""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
sys.path.insert(0, os.path.join(HERE, "..", "repl"))
import fed  # noqa: E402
import mediafiles as mf  # noqa: E402
import ruchetest as rt  # noqa: E402

FILES = ("package.json", "package-lock.json", "masto_test.mjs")
NPM_TIMEOUT = 600  # seconds for npm ci
CLIENT_TIMEOUT = 240  # seconds for the client script


def install(npm_dir):
    """Copies the client into npm_dir and installs its packages unless the
    same lock file was installed there already."""
    os.makedirs(npm_dir, exist_ok=True)
    for name in FILES:
        shutil.copyfile(os.path.join(HERE, name), os.path.join(npm_dir, name))
    with open(os.path.join(HERE, "package-lock.json"), encoding="utf-8") as f:
        lock = f.read()
    stamp = os.path.join(npm_dir, "node_modules", ".ruche-lock")
    try:
        with open(stamp, encoding="utf-8") as f:
            if f.read() == lock:
                return
    except OSError:
        pass
    proc = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"],
                          cwd=npm_dir, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=NPM_TIMEOUT)
    if proc.returncode != 0:
        raise rt.TestError("npm ci failed:\n%s%s" % (proc.stdout, proc.stderr))
    with open(stamp, "w", encoding="utf-8") as f:
        f.write(lock)


def run(c, ruched):
    npm_dir = os.environ.get("RUCHE_NPM_DIR")
    if not npm_dir:
        raise rt.TestError("RUCHE_NPM_DIR is not set")
    install(npm_dir)
    with fed.Federation(c, ruched, ["paris", "nozay"], "line", "masto") as f, \
            tempfile.TemporaryDirectory(prefix="ruche_masto.") as folder:
        f.start()
        f.require_replication()
        node, peer = f[0].node, f[1].node
        photo = os.path.join(folder, "photo.jpg")
        with open(photo, "wb") as out:
            out.write(mf.vips_image(1600, 1200, ".jpg[Q=85,strip]"))
        env = dict(os.environ, RUCHE_URL="http://127.0.0.1:%d" % node.port,
                   RUCHE_ADMIN_PASSWORD=node.admin_password(), RUCHE_PHOTO=photo,
                   RUCHE_PEER_URL="http://127.0.0.1:%d" % peer.port,
                   RUCHE_PEER_ADMIN_PASSWORD=peer.admin_password())
        proc = subprocess.run(["node", "masto_test.mjs"], cwd=npm_dir, env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=CLIENT_TIMEOUT)
        for line in proc.stdout.splitlines():
            if line.startswith("ok: "):
                c.check(line[4:], True)
            elif line.startswith("FAILED: "):
                name, _, detail = line[8:].partition(": ")
                c.check(name, False, detail)
        c.equal("the client exits with status 0", proc.returncode, 0)
        if proc.stderr.strip():
            print(proc.stderr.rstrip(), flush=True)
        for n in (node, peer):
            c.check("no sanitizer report in %s's log" % n.site, not n.sanitizer_reports(),
                    n.sanitizer_reports()[:5])


if __name__ == "__main__":
    rt.main_wrapper(run)
