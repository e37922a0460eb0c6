#!/usr/bin/python3
"""test_attacks.py - hostile clients against a real ruched, and every HTTP
limit of ruched.conf.

Anyone who reaches a site's port can try these, with no account: a small
JSON body nested deep enough to overflow a parser's stack (over HTTP and
over WebSocket), WebSocket frames that announce half a gigabyte, hundreds
of bodies sent a byte at a time, hundreds of idle connections, headers sent
a byte at a time (slowloris), a flood of WebSocket handshakes, and request
framing that proxies and servers read differently (two Content-Length
headers, a length beside chunks). Through each attack another client must
get its answer within a second, the node's resident memory (VmRSS) must
stay under a bound (not checked in a sanitizer build, whose shadow memory
and quarantine have no such bound), and the node must live on with no
sanitizer report.

Then each limit on its own node, set low: JSON depth, header lines and
bytes, connections per address and in total, idle and request time, the
workers' queue, streams per user, and a client that leaves before its
answer is ready.

Usage: test_attacks.py PATH/TO/ruched. Prints one line per check and
"N passed, M failed"; exits non-zero if any check failed.
"""

import concurrent.futures
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ruchetest as rt  # noqa: E402
import streamclient as sc  # noqa: E402

ATTACKER = "127.0.0.2"  # the attacks' source address; the others use 127.0.0.1
ANSWER_S = 1.0  # what another client may wait during an attack
RSS_BOUND_KB = 200 * 1024  # the node's VmRSS during any attack
SLOW = 280  # slow bodies, and as many idle connections
SLOW_BYTE_S = 2.0  # a slow client's pace
SANITIZED = os.environ.get("RUCHE_SANITIZE") == "1"  # shadow memory: no bound to check


def rss_kb(node):
    """The node's resident memory in KiB."""
    with open("/proc/%d/status" % node.proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def answer_time(node):
    """Seconds for another client's GET /api/v1/instance, on a connection
    of its own; None when it fails."""
    t0 = time.monotonic()
    try:
        r = node.client().get("/api/v1/instance")
    except OSError:
        return None
    return time.monotonic() - t0 if r.status == 200 else None


def check_others(c, node, name):
    """Another client gets its answer within ANSWER_S, and the node's
    memory is under its bound."""
    took = answer_time(node)
    c.check("%s: another client is answered within %.0f s (%s)" % (name, ANSWER_S, took),
            took is not None and took < ANSWER_S)
    kb = rss_kb(node)
    c.check("%s: VmRSS %d MiB, under %d MiB%s" % (name, kb // 1024, RSS_BOUND_KB // 1024,
                                                   " (not checked: a sanitizer build)"
                                                   if SANITIZED else ""),
            SANITIZED or kb < RSS_BOUND_KB)


def attacker_socket(port, source=ATTACKER):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s


def held_from(pid, sources):
    """How many TCP sockets process pid holds whose far end is one of the
    IPv4 addresses sources: the connections it has accepted from them."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    wanted = {socket.inet_aton(a)[::-1].hex().upper() for a in sources}
    n = 0
    with open("/proc/%d/net/tcp" % pid) as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[2].split(":")[0] in wanted and fields[9] in inodes:
                n += 1
    return n


def raw(port, data, source=ATTACKER, timeout=10.0):
    """Sends data on a new connection; (status line, the whole answer,
    whether the node closed the connection)."""
    s = attacker_socket(port, source)
    s.sendall(data)
    s.settimeout(timeout)
    got = b""
    closed = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        got += chunk
        if b"\r\n\r\n" in got:
            head, _, body = got.partition(b"\r\n\r\n")
            length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")]
            if length and len(body) >= length[0]:
                s.settimeout(1.0)  # the answer is whole: does the node close?
                deadline = min(deadline, time.monotonic() + 1.0)
    s.close()
    return got.split(b"\r\n", 1)[0].decode("latin-1"), got, closed


def is_closed(s, timeout):
    """Does the node close s within timeout seconds (what it sends is
    dropped)?"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if not s.recv(65536):
                return True
        except socket.timeout:
            return False
        except OSError:
            return True
    return False


def wait_closed(socks, timeout):
    """How many of socks the node closed within timeout seconds."""
    deadline = time.monotonic() + timeout
    left = list(socks)
    while left and time.monotonic() < deadline:
        left = [s for s in left if not is_closed(s, 0.01)]
        time.sleep(0.05)
    return len(socks) - len(left)


def login(node, name="admin"):
    return node.client().login(name, node.admin_password())


# ---------------------------------------------------------------------
# Attacks, on one node with the defaults but the times


def s_deep_json(c, node):
    body = b"[" * 360 + b"]" * 360  # 720 bytes
    token = login(node)
    for path, tok in (("/healthz", None), ("/api/v1/statuses", None),
                      ("/api/v1/statuses", token)):
        r = node.client(tok).request("POST", path, body=body, content_type="application/json")
        c.error("720 bytes nested 360 deep to %s%s" % (path, " (signed in)" if tok else ""),
                r, 400)
        c.check("it says why", "deeper" in str((r.json or {}).get("error")), r.brief())
    nested = {"status": "nested within the limit"}
    for _ in range(62):  # 63 levels with the top
        nested = {"a": nested}
    nested["status"] = "nested within the limit"
    r = node.client(token).post("/api/v1/statuses", json_body=nested)
    c.status("a body nested 63 deep is read", r, 200)
    check_others(c, node, "deep JSON over HTTP")


def s_deep_ws(c, node):
    ws = sc.WebSocket("127.0.0.1", node.port, "/api/v1/streaming?stream=public")
    c.equal("a WebSocket on the public stream", ws.status, 101)
    ws.send_frame(sc.OP_TEXT, b"[" * 1000 + b"]" * 1000)  # 2,000 bytes
    msg = ws.message()
    c.check("a message nested 1,000 deep -> error 400",
            msg.get("status") == 400 and "deeper" in msg.get("error", ""), msg)
    ws.send_json({"type": "subscribe", "stream": "public:local"})
    ws.send_json({"type": "subscribe", "stream": "nothing"})
    msg = ws.message()
    c.equal("the connection goes on", msg.get("status"), 400)
    ws.close()
    check_others(c, node, "deep JSON over WebSocket")


def s_huge_frames(c, node):
    before = rss_kb(node)
    socks = []
    for _ in range(4):
        ws = sc.WebSocket("127.0.0.1", node.port, "/api/v1/streaming?stream=public")
        mask = os.urandom(4)
        head = bytes([0x82, 0xFF]) + struct.pack(">Q", 512 * 1024 * 1024) + mask  # binary: no UTF-8 to check
        try:
            ws.sock.sendall(head + bytes(8 * 1024 * 1024))  # what a buffering server would keep
        except OSError:
            pass  # closed while we send: what should happen
        socks.append(ws)
    codes = []
    for ws in socks:
        try:
            while True:
                ws.message(timeout=5)
        except (sc.Closed, rt.TestError, OSError):
            codes.append(getattr(ws, "close_code", None))
        ws.close()
    c.equal("four frames announcing 512 MiB: each closed with 1009", codes, [1009] * 4)
    grew = rss_kb(node) - before
    c.check("memory grew by %d KiB, under 16 MiB (32 MiB were sent)%s"
            % (grew, " (not checked: a sanitizer build)" if SANITIZED else ""),
            SANITIZED or grew < 16 * 1024)
    check_others(c, node, "frames announcing 512 MiB")


def s_slow_and_idle(c, node):
    """SLOW bodies a byte at a time and SLOW idle connections."""
    head = ("POST /api/v1/statuses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 1000\r\n\r\n").encode()
    slow, idle = [], []
    for _ in range(SLOW):
        s = attacker_socket(node.port)
        s.sendall(head)
        slow.append(s)
        idle.append(attacker_socket(node.port))
    stop = threading.Event()

    def drip():
        while not stop.is_set():
            for s in slow:
                try:
                    s.send(b" ")
                except OSError:
                    pass
            stop.wait(SLOW_BYTE_S)

    t = threading.Thread(target=drip, daemon=True)
    t.start()
    try:
        for i in range(3):
            check_others(c, node, "%d slow bodies and %d idle connections (%d)" %
                         (SLOW, SLOW, i + 1))
            time.sleep(0.5)
        n = wait_closed(idle, 10)
        c.equal("the idle connections are closed after keep_alive_ms", n, SLOW)
        n = wait_closed(slow, 15)
        c.equal("the slow bodies are cut after request_timeout_ms", n, SLOW)
    finally:
        stop.set()
        t.join()
        for s in slow + idle:
            s.close()
    check_others(c, node, "after the slow clients")


def s_slowloris(c, node):
    socks = []
    for _ in range(100):
        s = attacker_socket(node.port)
        s.sendall(b"GET /api/v1/instance HTTP/1.1\r\n")
        socks.append(s)
    stop = threading.Event()

    def drip():
        while not stop.is_set():
            for s in socks:
                try:
                    s.send(b"X")
                except OSError:
                    pass
            stop.wait(1.0)

    t = threading.Thread(target=drip, daemon=True)
    t.start()
    try:
        check_others(c, node, "100 heads sent a byte a second")
        n = wait_closed(socks, 15)
        c.equal("the slow heads are cut after request_timeout_ms", n, len(socks))
    finally:
        stop.set()
        t.join()
        for s in socks:
            s.close()


def s_handshake_flood(c, node):
    def one(_):
        try:
            return sc.WebSocket("127.0.0.1", node.port, "/api/v1/streaming?stream=public")
        except (OSError, rt.TestError):
            return None

    with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
        opened = list(pool.map(one, range(600)))
        check_others(c, node, "600 WebSocket handshakes")
    got = [ws.status for ws in opened if ws]
    c.check("each handshake answered: 101 up to max_streams (300), then 503",
            got.count(101) == 300 and got.count(503) == 300, (got.count(101), got.count(503)))
    for ws in opened:
        if ws:
            ws.close()
    rt.wait_until(lambda: streams_open(node) == 0, 10, "the streams to close")
    c.check("their places are free again", True)


def streams_open(node):
    r = node.client().get("/metrics")
    for line in r.raw.decode().splitlines():
        if line.startswith("ruche_streams_open "):
            return float(line.split()[1])
    return -1


def s_framing(c, node):
    post = b"POST /api/v1/apps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    for name, data in (
            ("two equal Content-Length", post + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}"),
            ("two Content-Length", post + b"Content-Length: 2\r\nContent-Length: 7\r\n\r\n{}"),
            ("a second Content-Length not a number",
             post + b"Content-Length: 2\r\nContent-Length: 2x\r\n\r\n{}"),
            ("Content-Length: 5x", post + b"Content-Length: 5x\r\n\r\n{}"),
            ("Content-Length: -1", post + b"Content-Length: -1\r\n\r\n{}"),
            ("Content-Length and chunked", post + b"Content-Length: 5\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n")):
        status, answer, closed = raw(node.port, data)
        body = answer.partition(b"\r\n\r\n")[2]
        c.check("%s -> 400, JSON, connection closed" % name,
                status.startswith("HTTP/1.1 400") and body.startswith(b"{") and closed,
                (status, body[:80], closed))
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(70))
    status, answer, _ = raw(node.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    c.check("70 header lines (max_headers 64) -> 431", status.startswith("HTTP/1.1 431") and
            b'"error"' in answer, status)
    big = b"X-Big: " + b"b" * 20000 + b"\r\n"
    status, answer, _ = raw(node.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n")
    c.check("20 KB of headers (max_header_bytes 16384) -> 431",
            status.startswith("HTTP/1.1 431") and b'"error"' in answer, status)
    status, _, _ = raw(node.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many[:600] + b"\r\n")
    c.check("60 header lines are fine", status.startswith("HTTP/1.1 200"), status)
    status, answer, closed = raw(node.port, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    c.check("an HTTP/2 preface -> 400, JSON, closed: HTTP/1.1 only",
            status.startswith("HTTP/1.1 400") and b'"error"' in answer and closed, status)
    status, _, _ = raw(node.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, "
                       b"HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")
    c.check("an upgrade to h2c is not taken", status.startswith("HTTP/1.1 200"), status)
    check_others(c, node, "malformed framing")


def run_attacks(c, ruched):
    with rt.Node(ruched, site="attacks", settings=(
            "http.request_timeout_ms=4000", "http.keep_alive_ms=2000",
            "streaming.max_streams=300")) as node:
        node.start()
        for name, section in (("deep JSON over HTTP", s_deep_json),
                              ("deep JSON over WebSocket", s_deep_ws),
                              ("frames announcing 512 MiB", s_huge_frames),
                              ("slow bodies and idle connections", s_slow_and_idle),
                              ("slowloris", s_slowloris),
                              ("a flood of WebSocket handshakes", s_handshake_flood),
                              ("framing and headers", s_framing)):
            with c.section(name):
                section(c, node)
        c.check("the node is still running", node.running)
        c.equal("it stops cleanly", node.stop(), 0)
        c.equal("no sanitizer report", node.sanitizer_reports(), [])


# ---------------------------------------------------------------------
# Each limit on a node of its own


def s_json_depth_setting(c, ruched):
    with rt.Node(ruched, site="depth", settings=("http.max_json_depth=8",)) as node:
        node.start()
        anon = node.client()
        r = anon.request("POST", "/api/v1/apps", body=b"[" * 9 + b"]" * 9,
                         content_type="application/json")
        c.error("max_json_depth=8: a body 9 deep", r, 400)
        r = anon.request("POST", "/api/v1/apps", body=b"[" * 8 + b"]" * 8,
                         content_type="application/json")
        c.check("a body 8 deep is parsed (not an object: 400 of another kind)",
                r.status == 400 and "deeper" not in str((r.json or {}).get("error")), r.brief())
        ws = sc.WebSocket("127.0.0.1", node.port, "/api/v1/streaming?stream=public")
        ws.send_frame(sc.OP_TEXT, b'{"type":[[[[[[[[[]]]]]]]]]}')
        c.check("a WebSocket message 10 deep -> error",
                "deeper" in ws.message().get("error", ""))
        ws.close()
        c.equal("no sanitizer report", node.sanitizer_reports(), [])


def s_connections(c, ruched):
    with rt.Node(ruched, site="conns", settings=(
            "http.max_connections_per_address=20", "http.max_connections=40")) as node:
        node.start()
        held = [attacker_socket(node.port) for _ in range(20)]
        more = [attacker_socket(node.port) for _ in range(5)]
        c.equal("max_connections_per_address=20: the 21st to 25th are closed at once",
                wait_closed(more, 2), 5)
        c.equal("the 20 first stay open", wait_closed(held, 0.5), 0)
        check_others(c, node, "an address at its limit")
        sources = ["127.0.0.%d" % (3 + i // 10) for i in range(20)]
        others = [attacker_socket(node.port, a) for a in sources]
        rt.wait_until(lambda: held_from(node.proc.pid, set(sources)) == 20, 10,
                      "the node to accept the 20 others (its sockets)")
        late = socket.create_connection(("127.0.0.1", node.port), timeout=10)
        late.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        late.settimeout(1.0)
        try:
            early = late.recv(100)
        except socket.timeout:
            early = None
        c.equal("max_connections=40: the 41st waits, unanswered", early, None)
        others[0].close()
        late.settimeout(5)
        c.check("once one closes, it is answered",
                late.recv(100).startswith(b"HTTP/1.1 200"))
        for s in held + others + [late]:
            s.close()
        c.equal("no sanitizer report", node.sanitizer_reports(), [])


def s_times(c, ruched):
    with rt.Node(ruched, site="times", settings=(
            "http.keep_alive_ms=1000", "http.request_timeout_ms=4000")) as node:
        node.start()
        s = attacker_socket(node.port, "127.0.0.1")
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(4096)
        t0 = time.monotonic()
        closed = is_closed(s, 5)
        took = time.monotonic() - t0
        c.check("keep_alive_ms=1000: an idle connection is closed after %.1f s" % took,
                closed and 0.8 < took < 2.5)
        s.close()
        s = attacker_socket(node.port, "127.0.0.1")
        t0 = time.monotonic()
        s.sendall(b"POST /api/v1/apps HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n")
        for _ in range(20):
            try:
                s.send(b"x")
            except OSError:
                break
            if is_closed(s, 0.5):
                break
        took = time.monotonic() - t0
        c.check("request_timeout_ms=4000: a body sent slowly is cut after %.1f s" % took,
                3.5 < took < 6.0)
        s.close()
        c.equal("no sanitizer report", node.sanitizer_reports(), [])


def s_queue(c, ruched):
    with rt.Node(ruched, site="queue", settings=("http.threads=2", "http.queue=1")) as node:
        node.start()
        password = node.admin_password()
        grant = {"grant_type": "password", "username": "admin", "password": password}

        def sign_in(_):
            r = node.client().post("/oauth/token", form=grant)
            return r.status, r.header("Retry-After")

        with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
            got = list(pool.map(sign_in, range(24)))
        statuses = [g[0] for g in got]
        c.check("threads=2, queue=1: 24 sign-ins at once, some refused with 503",
                503 in statuses and set(statuses) <= {200, 503}, statuses)
        c.check("with Retry-After", all(ra == "1" for st, ra in got if st == 503), got)
        c.status("then the node answers", node.client().get("/healthz"), 200)
        # clients that leave before their answer is ready
        body = ("grant_type=password&username=admin&password=%s" % password).encode()
        for _ in range(20):
            s = attacker_socket(node.port, "127.0.0.1")
            s.sendall(b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      b"application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s"
                      % (len(body), body))
            s.close()
        rt.wait_until(lambda: node.client().post("/oauth/token", form=grant).status == 200, 20,
                      "a sign-in after the clients that left")
        c.check("20 clients that left before their answer: the node goes on", node.running)
        c.equal("it stops cleanly", node.stop(), 0)
        c.equal("no sanitizer report", node.sanitizer_reports(), [])


def s_streams_per_user(c, ruched):
    with rt.Node(ruched, site="peruser", settings=("streaming.max_streams_per_user=2",)) as node:
        node.start()
        token = login(node)
        auth = {"Authorization": "Bearer " + token}
        two = [sc.WebSocket("127.0.0.1", node.port, "/api/v1/streaming?stream=user", headers=auth)
               for _ in range(2)]
        c.equal("max_streams_per_user=2: two streams", [ws.status for ws in two], [101, 101])
        third = sc.WebSocket("127.0.0.1", node.port, "/api/v1/streaming?stream=user",
                             headers=auth)
        c.equal("a third of the same user -> 429", third.status, 429)
        sse = sc.EventStream("127.0.0.1", node.port, "/api/v1/streaming/user", headers=auth)
        c.equal("an event stream too -> 429", sse.status, 429)
        anon = sc.WebSocket("127.0.0.1", node.port, "/api/v1/streaming?stream=public")
        c.equal("nobody's stream is not counted", anon.status, 101)
        two[0].close()
        again = rt.wait_until(lambda: (lambda ws: ws if ws.status == 101 else ws.close())(
            sc.WebSocket("127.0.0.1", node.port, "/api/v1/streaming?stream=user", headers=auth)),
            10, "a place of the user's freed")
        c.equal("a closed stream frees the user's place", again.status, 101)
        for ws in (two[1], again, anon):
            ws.close()
        c.equal("no sanitizer report", node.sanitizer_reports(), [])


def run(c, ruched):
    run_attacks(c, ruched)
    for name, fn in (("max_json_depth", s_json_depth_setting), ("connections", s_connections),
                     ("request and idle time", s_times), ("the workers' queue", s_queue),
                     ("streams per user", s_streams_per_user)):
        with c.section(name):
            fn(c, ruched)


if __name__ == "__main__":
    rt.main_wrapper(run)
