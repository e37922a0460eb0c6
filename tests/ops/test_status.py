#!/usr/bin/python3
"""test_status.py - `ruche status` against three real ruched processes.

paris, nozay and murray-hill are peered in a mesh (tests/repl/fed.py).
murray-hill is stopped while alice posts at paris: `ruche status` at paris
shows murray-hill disconnected and behind by exactly those posts (in the
table and in --json), nozay connected and in agreement. Once murray-hill
is back it is connected, behind by nothing, and its digest agrees.
--watch prints a new round every SECONDS; usage errors exit with 2.

Usage: test_status.py PATH/TO/ruched PATH/TO/ruche; prints one line per
check and "N passed, M failed", exits non-zero if any check failed.
"""

import json
import os
import select
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "repl"))
import fed  # noqa: E402
import ruchetest as rt  # noqa: E402

POSTS = 4
WAIT = 30.0


class Cli:
    """The ruche client, with a configuration directory of its own."""

    def __init__(self, ruche):
        self.ruche = ruche
        self.home = tempfile.mkdtemp(prefix="ruche_status.")

    def run(self, site, *args):
        env = dict(os.environ, XDG_CONFIG_HOME=self.home, HOME=self.home)
        env.pop("RUCHE_SERVER", None)
        p = subprocess.run([self.ruche, "--server", "http://127.0.0.1:%d" % site.node.port]
                           + list(args), capture_output=True, env=env, timeout=60)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def peers(self, site):
        """`ruche status --json` at site: {peer name: entry}; {} on failure."""
        code, out, _ = self.run(site, "status", "--json")
        try:
            return {p["site"]: p for p in json.loads(out)["peers"]} if code == 0 else {}
        except (ValueError, KeyError, TypeError):
            return {}


def wait_for(what, condition):
    """Waits for condition; True when it held within WAIT."""
    try:
        rt.wait_until(condition, WAIT, what, interval=0.2)
        return True
    except rt.TestError:
        return False


def row(text, name):
    for line in text.splitlines():
        if line.split()[:1] == [name]:
            return line.split()
    return []


def check_watch(c, cli, site):
    env = dict(os.environ, XDG_CONFIG_HOME=cli.home, HOME=cli.home)
    p = subprocess.Popen([cli.ruche, "--server", "http://127.0.0.1:%d" % site.node.port,
                          "status", "--watch", "1", "--json"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    lines, deadline = [], time.monotonic() + WAIT
    try:
        while len(lines) < 2 and time.monotonic() < deadline:
            ready, _, _ = select.select([p.stdout], [], [], 1.0)
            if ready:
                lines.append(p.stdout.readline())
    finally:
        p.kill()
        p.wait()
    rounds = [json.loads(line) for line in lines if line.strip()]
    c.equal("--watch 1 --json: two rounds, one JSON line each",
            [r.get("site") for r in rounds], ["paris", "paris"])
    code, _, err = cli.run(site, "status", "5")
    c.check("SECONDS without --watch: usage error", code == 2 and "--watch" in err, (code, err))
    code, _, err = cli.run(site, "status", "--watch", "0")
    c.equal("--watch 0: usage error", code, 2)


def run_status(c, ruched, ruche):
    cli = Cli(ruche)
    with fed.Federation(c, ruched, ["paris", "nozay", "murray-hill"], "mesh", "status") as f:
        paris, nozay, murray = f[0], f[1], f[2]
        f.start()
        f.require_replication()
        alice = paris.new_user("alice")
        f.wait_converged()
        c.check("all connected and agreeing at first", wait_for("agreement", lambda: all(
            p.get("connected") and p.get("digest_agrees") is True
            for p in cli.peers(paris).values()) and len(cli.peers(paris)) == 2))

        c.equal("murray-hill stops", murray.stop(), 0)
        for i in range(POSTS):
            alice.post_status("while murray-hill is away %d" % i)
        f.wait_converged()  # paris and nozay
        c.check("paris: murray-hill disconnected", wait_for(
            "disconnected", lambda: cli.peers(paris).get("murray-hill", {}).get("connected")
            is False))
        c.check("paris: nozay's heartbeat says it agrees", wait_for(
            "nozay agrees", lambda: cli.peers(paris).get("nozay", {}).get("digest_agrees")))
        peers = cli.peers(paris)
        m, n = peers.get("murray-hill", {}), peers.get("nozay", {})
        c.equal("paris: murray-hill lacks the posts made meanwhile", m.get("ahead"), POSTS)
        c.equal("paris: its digest is not compared (other updates)", m.get("digest_agrees"), None)
        c.check("paris: its last heartbeat has an age", isinstance(m.get("heartbeat_age"), int), m)
        c.check("paris: nozay connected, in sync, agreeing",
                n.get("connected") is True and n.get("ahead") == 0 and n.get("behind") == 0
                and n.get("digest_agrees") is True, n)
        code, out, err = cli.run(paris, "status")
        c.equal("the table: exit 0", code, 0)
        m_row, n_row = row(out, "murray-hill"), row(out, "nozay")
        c.equal("the table: murray-hill not connected, lacking the posts",
                [m_row[1:2], m_row[3:5]], [["NO"], ["0", str(POSTS)]])
        c.equal("the table: nozay connected and agreeing", [n_row[1:2], n_row[6:7]],
                [["yes"], ["agrees"]])

        murray.start()
        f.wait_converged()
        c.check("murray-hill back: connected, in sync, agreeing", wait_for("back", lambda: (
            lambda m: m.get("connected") is True and m.get("ahead") == 0
            and m.get("behind") == 0 and m.get("digest_agrees") is True)(
                cli.peers(paris).get("murray-hill", {}))))
        c.check("the table at murray-hill: paris connected, in sync, agreeing", wait_for(
            "paris's row", lambda: (lambda r: r[1:2] == ["yes"] and r[3:5] == ["0", "0"]
                                    and r[6:7] == ["agrees"])(row(cli.run(murray, "status")[1],
                                                                  "paris"))),
            cli.run(murray, "status")[1])
        check_watch(c, cli, paris)
        f.stop()


def main():
    if len(sys.argv) != 3:
        print("usage: %s PATH/TO/ruched PATH/TO/ruche" % sys.argv[0], file=sys.stderr)
        sys.exit(2)
    rt.stop_on_sigterm()
    checks = rt.Checks()
    try:
        run_status(checks, sys.argv[1], sys.argv[2])
    except Exception:
        import traceback
        checks.check("the test runs to its end", False, traceback.format_exc().rstrip())
    sys.exit(checks.summary())


if __name__ == "__main__":
    main()
