#!/usr/bin/python3
"""test_start.py - a real ruched that cannot start every part of itself
does not start at all, and /readyz names the state of every part.

For each address ruched binds (HTTP, the replication PUB, the catch-up
ROUTER), something else already listens on it: ruched must exit non-zero
at once, with an error that names the address (and the setting), rather
than serve HTTP as an island with no replication in either direction. The
same node then starts on free ports, and GET /readyz lists every part
(store, store actor, replication, streams, HTTP, web front end) with its
state; a node that does not replicate says replication is off.

Usage: test_start.py PATH/TO/ruched. Prints one line per check and
"N passed, M failed"; exits non-zero if any check failed.
"""

import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))
import ruchetest as rt  # noqa: E402

EXIT_TIMEOUT = 10.0  # seconds for a node that cannot start to exit
PARTS = {"store", "store_actor", "replication", "streams", "http", "web"}


def taken_port():
    """A socket listening on a free port of 127.0.0.1, and the port."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s, s.getsockname()[1]


def run_failing(node, settings):
    """Starts ruched on node's directory with settings; returns (exit
    status or None if it still ran after EXIT_TIMEOUT, seconds taken, the
    log it wrote). A node still running is killed."""
    args = [node.ruched, "--data-dir", node.data_dir, "--site", node.site]
    for s in settings:
        args += ["--set", s]
    before = len(node.log_text())
    with open(node.log_path, "ab") as log:  # where sanitizer_reports() looks
        t0 = time.monotonic()
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                close_fds=True)
        try:
            status = proc.wait(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            status = None
            proc.kill()
            proc.wait()
        took = time.monotonic() - t0
    return status, took, node.log_text()[before:]


def s_ports_in_use(c, node):
    http, pub, sync = (rt.free_port() for _ in range(3))
    endpoints = {"http": "127.0.0.1:%d" % http, "pub": "tcp://127.0.0.1:%d" % pub,
                 "sync": "tcp://127.0.0.1:%d" % sync}
    for which, setting in (("http", "http.listen"), ("pub", "replication.pub"),
                           ("sync", "replication.sync")):
        holder, port = taken_port()
        try:
            ours = dict(endpoints)
            ours[which] = ("127.0.0.1:%d" if which == "http" else "tcp://127.0.0.1:%d") % port
            status, took, log = run_failing(node, ["http.listen=" + ours["http"],
                                                   "replication.pub=" + ours["pub"],
                                                   "replication.sync=" + ours["sync"]])
        finally:
            holder.close()
        name = "%s in use" % setting
        c.check("%s: ruched exits at once (%.1f s)" % (name, took), status is not None)
        c.check("%s: with a non-zero status" % name, status not in (None, 0), status)
        c.check("%s: the error names %s" % (name, ours[which]),
                any(ours[which] in line for line in log.splitlines()
                    if line.startswith("<3>")), log)
        if which != "http":
            c.check("%s: and the setting" % name,
                    "[replication] %s" % which in log, log)
        c.check("%s: and says the site did not start" % name, "did not start" in log, log)
    c.equal("no sanitizer report", node.sanitizer_reports(), [])


def check_parts(c, name, reply, replication):
    parts = (reply.json or {}).get("parts") or {}
    c.check("%s: /readyz 200 ready" % name,
            reply.status == 200 and (reply.json or {}).get("ready") is True, reply.brief())
    c.equal("%s: every part listed" % name, set(parts), PARTS)
    c.check("%s: every part ready" % name,
            all(isinstance(p, dict) and p.get("ready") is True for p in parts.values()), parts)
    want = {"store": "open", "store_actor": "running", "replication": replication,
            "streams": "running", "http": "serving", "web": "serving"}
    c.equal("%s: their states" % name,
            {k: (v or {}).get("state") for k, v in parts.items()}, want)


def s_ready(c, node):
    pub, sync = ("tcp://127.0.0.1:%d" % rt.free_port() for _ in range(2))
    node.start(["replication.pub=" + pub, "replication.sync=" + sync])
    check_parts(c, "replicating", node.client().get("/readyz"), "running")
    c.equal("it stops cleanly", node.stop(), 0)
    node.start()
    check_parts(c, "not replicating", node.client().get("/readyz"), "off")
    c.equal("it stops cleanly too", node.stop(), 0)
    c.equal("no sanitizer report", node.sanitizer_reports(), [])


def run(c, ruched):
    with rt.Node(ruched, site="starttest") as node:
        with c.section("addresses in use"):
            s_ports_in_use(c, node)
        with c.section("readiness"):
            s_ready(c, node)


if __name__ == "__main__":
    rt.main_wrapper(run)
