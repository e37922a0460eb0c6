#!/usr/bin/python3
"""test_lifecycle.py - a node's start and stop, as clients see them.

Start: the listener opens only once every route and the WebSocket
endpoint are in place. A client polls the port from the moment ruched is
spawned, asking for a route and for a WebSocket handshake as soon as a
connection goes through: every answer must be the route's own (200, 101),
never a 404 of a server that is not ready.

Stop: posters keep posting, one connection per request, while SIGTERM
arrives. Every request the node took gets its answer (200, or 503 once it
stops taking new ones), and only new connections may be refused. The node
exits 0, and after a restart every post answered 200 is there, and no
other: a post stored whose client saw no answer was taken and dropped.

A connection the kernel completed in the listener's queue after the
node's last accept is reset when the listener closes; its client may have
sent its request already (a few bytes fit in the socket buffer) and sees
a reset, though the node never read it. That cannot be told from a drop
by the client alone, so such resets are allowed after SIGTERM only, and
what tells a drop apart is the store: a request the node read and
applied is a post, and it must have been answered.

Usage: test_lifecycle.py PATH/TO/ruched. Prints one line per check and
"N passed, M failed"; exits non-zero if any check failed.
"""

import base64
import http.client
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ruchetest as rt  # noqa: E402

POSTERS = 32
ACKED_BEFORE_STOP = 120  # posts answered 200 before SIGTERM


def first_answers(port, want, timeout):
    """Polls port from now on; once connections go through, asks for a
    route and for a WebSocket handshake in turn, each on a new connection,
    until want answers came. Their status lines, in order."""
    got = []
    deadline = time.monotonic() + timeout
    key = base64.b64encode(os.urandom(16)).decode()
    asks = ["GET /api/v1/instance HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "GET /api/v1/streaming?stream=public HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n"
            % key]
    while len(got) < want and time.monotonic() < deadline:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            time.sleep(0.001)  # not listening yet: the only acceptable answer
            continue
        try:
            s.sendall(asks[len(got) % 2].encode())
            line = s.makefile("rb").readline().decode("latin-1").strip()
            got.append(line)
        except OSError as e:
            got.append("error: %r" % e)
        finally:
            s.close()
    return got


def s_start(c, ruched):
    with rt.Node(ruched, site="start") as node:
        box = {}
        poller = threading.Thread(target=lambda: box.setdefault(
            "got", first_answers(node.port, 40, rt.START_TIMEOUT)))
        poller.start()
        node.start()
        poller.join()
        got = box.get("got", [])
        c.check("the first %d answers after a start: no 404" % len(got),
                len(got) == 40 and not any(" 404 " in g or g.startswith("error") for g in got),
                [g for g in got if " 200 " not in g and " 101 " not in g][:5])
        c.check("a route answers 200, the WebSocket 101",
                got[:2] == ["HTTP/1.1 200 OK", "HTTP/1.1 101 Switching Protocols"], got[:2])
        c.equal("no sanitizer report", node.sanitizer_reports(), [])


class Poster(threading.Thread):
    """Posts, one connection per request, until its requests are refused
    at connect (the node has stopped listening)."""

    def __init__(self, port, token, n, results):
        super().__init__(daemon=True)
        self.port, self.token, self.n, self.results = port, token, n, results

    def one(self, i):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=rt.REQUEST_TIMEOUT)
        body = ('{"status": "in flight p%d n%d"}' % (self.n, i)).encode()
        try:
            conn.connect()
        except ConnectionRefusedError:
            return ("refused",)
        try:
            conn.request("POST", "/api/v1/statuses", body=body, headers={
                "Authorization": "Bearer " + self.token, "Content-Type": "application/json"})
            resp = conn.getresponse()
            raw = resp.read()
            if resp.status == 200:
                import json
                return ("ok", json.loads(raw)["id"])
            return ("answer", resp.status)
        except (OSError, http.client.HTTPException) as e:
            return ("dropped", repr(e), time.monotonic())
        finally:
            conn.close()

    def run(self):
        for i in range(100000):
            r = self.one(i)
            self.results.append(r)
            if r[0] == "refused":
                return


def s_stop(c, ruched):
    with rt.Node(ruched, site="stop") as node:
        node.start()
        token = node.client().login("admin", node.admin_password())
        results = []
        posters = [Poster(node.port, token, n, results) for n in range(POSTERS)]
        for p in posters:
            p.start()
        rt.wait_until(lambda: sum(1 for r in results if r[0] == "ok") >= ACKED_BEFORE_STOP, 60,
                      "%d posts answered" % ACKED_BEFORE_STOP)
        sigterm_at = time.monotonic()
        node.proc.send_signal(signal.SIGTERM)
        status = node.proc.wait(timeout=rt.STOP_TIMEOUT)
        for p in posters:
            p.join(timeout=30)
        c.equal("SIGTERM with %d posters: exit 0" % POSTERS, status, 0)
        dropped = [r for r in results if r[0] == "dropped"]
        early = [r for r in dropped if r[2] < sigterm_at]
        kinds = {}
        for r in results:
            kinds[r[0] if r[0] != "answer" else r[1]] = kinds.get(
                r[0] if r[0] != "answer" else r[1], 0) + 1
        c.check("no connection reset before SIGTERM (%s)" % kinds, not early, early[:5])
        c.check("what came after the stop was answered 503, refused, or reset unread",
                all(r[0] in ("ok", "refused", "dropped") or r == ("answer", 503)
                    for r in results),
                [r for r in results if r[0] == "answer"][:5])
        acked = [r[1] for r in results if r[0] == "ok"]
        node.start()
        client = node.client(token)
        missing = [i for i in acked if client.get("/api/v1/statuses/%s" % i).status != 200]
        c.check("after a restart, each of the %d posts answered 200 is stored" % len(acked),
                not missing, missing[:5])
        stored, _ = rt.walk_pages(client, "/api/v1/timelines/public", 40)
        unanswered = [st["id"] for st in stored
                      if "in flight" in st.get("content", "") and st["id"] not in acked]
        c.check("every request the node took got its answer: no post stored unanswered "
                "(%d resets of connections it never took)" % len(dropped),
                not unanswered, unanswered[:5])
        c.equal("no sanitizer report", node.sanitizer_reports(), [])


def run(c, ruched):
    for name, fn in (("start", s_start), ("stop", s_stop)):
        with c.section(name):
            fn(c, ruched)


if __name__ == "__main__":
    rt.main_wrapper(run)
