"""browserrun.py - runs one of this folder's browser scripts (browser.mjs,
oidc.mjs) under Node.js, where it drives Debian's headless Chromium through
playwright-core, and relays what it prints into a test's checks.

A script takes one argument, a JSON configuration, and prints one line per
check, "ok: NAME" or "FAILED: NAME :: DETAIL" (checks.mjs writes them
so); a line "do: ACTION" asks the test to act (stop a site, forge an
update) through the actions it gave; any other line is printed as it is.
It writes what it saw to the file config["results"] names, and exits 0
once it ran to its end, whatever its checks found.
"""

import json
import os
import shutil
import subprocess
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = os.environ.get("RUCHE_CHROMIUM", "/usr/bin/chromium")
BROWSER_TIMEOUT = 240  # seconds for a script, once its output has ended


class ToolMissing(Exception):
    """Node.js, chromium or playwright-core is not installed."""


def check_tools(modules):
    """Raises ToolMissing unless node, chromium and playwright-core (in
    the folder modules, where tests/browser/setup.sh installs it) are
    there."""
    for tool in ("node", CHROMIUM):
        if not shutil.which(tool):
            raise ToolMissing("%s is missing: deploy/test.sh installs it (deploy/packages.txt)"
                              % tool)
    if not os.path.isdir(os.path.join(modules, "node_modules", "playwright-core")):
        raise ToolMissing("playwright-core is not installed in %s (tests/browser/setup.sh)"
                          % modules)


def run_script(c, script, config, modules, actions=None):
    """Runs script (a file of this folder) with config; relays its check
    lines into c and runs the actions it asks for ("do: NAME", from the
    dict actions). Returns its results file's content (what it saw), or
    {}."""
    actions = actions or {}
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


def main(run, ruchetest):
    """The command line of a browser test: PATH/TO/ruched NODE_MODULES_DIR
    SCREENSHOT_DIR. Checks the tools (check_tools), makes the screenshot
    folder, calls run(checks, ruched, modules, shots), prints the summary
    and exits with its status (ruchetest: the api folder's module, for its
    checks)."""
    if len(sys.argv) != 4:
        print("usage: %s PATH/TO/ruched NODE_MODULES_DIR SCREENSHOT_DIR" % sys.argv[0],
              file=sys.stderr)
        sys.exit(2)
    ruchetest.stop_on_sigterm()
    c = ruchetest.Checks()
    try:
        check_tools(sys.argv[2])
        os.makedirs(sys.argv[3], exist_ok=True)
        run(c, *sys.argv[1:])
    except ToolMissing as e:
        c.check("the browser and its driver are installed", False, str(e))
    except Exception:
        c.check("the test runs to its end", False, traceback.format_exc().rstrip())
    sys.exit(c.summary())
