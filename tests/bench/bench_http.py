#!/usr/bin/env python3
"""bench_http.py - the HTTP front door of a real ruched under open streams,
next to nginx serving the same bytes with the same load generator, in the
same run.

Usage: bench_http.py RUCHED BENCH_STREAMS [--streams 0,1000,10000]
                     [--seconds N] [--ws-percent P] [--quick]

What it measures, for each count of open streams (0, 1,000 and 10,000 by
default, half WebSocket and half event streams, held by bench_streams on
one thread):
  - REST: GET /api/v1/timelines/public?limit=20 (20 statuses) with wrk,
    64 keep-alive connections, in requests/s and p99 latency;
  - memory: the node's VmRSS with the streams open, and its growth per
    stream;
  - delivery: one status posted, the time until every open stream has
    its update event, p50, p99 and max.
And once, the raw limit: nginx from Debian serving that very response body
as a static file, with the same wrk settings, so that each REST row reads
as a ratio ruche / nginx. Anonymous reads of the public timeline are
answered from the node's cache until the store changes ([http] cache_kb);
a last row asks as a signed-in user, whose every request is rendered by a
worker, to show what the cache saves. wrk and the stream holder run on the second core
when there is one (taskset), the servers on the first.

Targets the issue sets (not asserted; the figures are printed): 10,000
streams in under 200 MB, REST p99 with 10,000 streams within 2x of p99
with none, the public timeline at half of nginx's rate or better.

--quick (the CTest smoke pass) runs 0 and 100 streams for a second each,
and fails only when something does not work: a request that errs, a
stream refused, an event not delivered. It asserts nothing about speed.
"""

import argparse
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
import ruchetest  # noqa: E402

TIMELINE = "/api/v1/timelines/public?limit=20"
CONNECTIONS = 64


def pinned(cpu, args):
    """args run on CPU cpu when taskset exists and the machine has it."""
    if shutil.which("taskset") and os.cpu_count() and os.cpu_count() > cpu:
        return ["taskset", "-c", str(cpu)] + args
    return args


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def wrk(url, seconds, headers=()):
    """(requests/s, p99 ms, errors) of wrk against url."""
    extra = [a for h in headers for a in ("-H", h)]
    out = subprocess.run(pinned(1, ["wrk", "-t1", "-c%d" % CONNECTIONS, "-d%ds" % seconds,
                                    "--latency"] + extra + [url]),
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    return rate, float(p99.group(1)) * scale, errors


class Nginx:
    """nginx on a free loopback port serving one file, one worker."""

    def __init__(self, body):
        self.dir = tempfile.mkdtemp(prefix="ruche_bench_nginx.")
        self.port = ruchetest.free_port()
        os.makedirs(os.path.join(self.dir, "www"))
        with open(os.path.join(self.dir, "www", "timeline.json"), "wb") as f:
            f.write(body)
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""worker_processes 1;
daemon off;
master_process off;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    client_body_temp_path %(d)s/tmp; proxy_temp_path %(d)s/tmp;
    fastcgi_temp_path %(d)s/tmp; uwsgi_temp_path %(d)s/tmp; scgi_temp_path %(d)s/tmp;
    server {
        listen 127.0.0.1:%(p)d;
        location / { root %(d)s/www; default_type application/json; }
    }
}
""" % {"d": self.dir, "p": self.port})
        self.proc = subprocess.Popen(pinned(0, ["nginx", "-c", conf, "-p", self.dir]),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ruchetest.wait_until(self._up, 20, "nginx on port %d" % self.port)

    def _up(self):
        try:
            return ruchetest.Client("127.0.0.1", self.port).get("/timeline.json").status == 200
        except OSError:
            return False

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Streams:
    """bench_streams holding n streams open to the node."""

    def __init__(self, holder, port, n, ws_percent):
        self.proc = subprocess.Popen(pinned(1, [holder, str(port), str(n), str(ws_percent),
                                                "/api/v1/streaming"]),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        if len(line) != 3 or line[0] != "ready":
            raise ruchetest.TestError("the stream holder did not get ready: %r" % line)
        self.open, self.failed = int(line[1]), int(line[2])

    def deliver(self, post):
        """Arms the timing, runs post(); returns (delivered, open, p50, p99,
        max) in milliseconds."""
        t0 = int(time.time() * 1000)
        self.proc.stdin.write("go %d\n" % t0)
        self.proc.stdin.flush()
        post()
        line = self.proc.stdout.readline().split()
        if len(line) != 7 or line[0] != "delivered":
            raise ruchetest.TestError("the stream holder answered %r" % line)
        return int(line[1]), int(line[3]), int(line[4]), int(line[5]), int(line[6])

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def fill(client, count):
    for i in range(count):
        client.post_status("Bench status %d: the public timeline holds twenty of these, "
                           "each about as long as a colleague's note. #bench" % i)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ruched")
    ap.add_argument("holder")
    ap.add_argument("--streams", default="0,1000,10000")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--ws-percent", type=int, default=50)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    counts = [0, 100] if a.quick else [int(x) for x in a.streams.split(",")]
    seconds = 1 if a.quick else a.seconds
    raise_fd_limit()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            print("bench_http: %s is not installed (deploy/packages.txt, group test)" % tool)
            return 1
    ok = True
    most = max(counts)
    # one client address holds every stream: the per-address cap is lifted
    settings = ["streaming.max_streams=%d" % (most + 100),
                "http.max_connections_per_address=%d" % (most + 1000)]
    with ruchetest.Node(a.ruched, site="bench", settings=settings) as node:
        node.start()
        admin = node.client().as_user(node.client().login("admin", node.admin_password()))
        fill(admin, 20)
        body = node.client().get(TIMELINE).raw
        nginx = Nginx(body)
        try:
            n_rate, n_p99, n_err = wrk("http://127.0.0.1:%d/timeline.json" % nginx.port, seconds)
        finally:
            nginx.close()
        print("nginx, the same %d-byte body as a static file: %.0f req/s, p99 %.2f ms"
              % (len(body), n_rate, n_p99), flush=True)
        print("%8s %10s %8s %9s %9s %8s %10s %10s %10s %10s" % (
            "streams", "req/s", "x nginx", "p99 ms", "x p99(0)", "RSS MB", "B/stream",
            "deliv p50", "deliv p99", "deliv max"), flush=True)
        p99_none = None
        for n in counts:
            base_rss = rss_bytes(node.proc.pid)
            streams = Streams(a.holder, node.port, n, a.ws_percent) if n else None
            try:
                if streams and streams.failed:
                    print("  %d of %d streams refused" % (streams.failed, n))
                    ok = False
                rss = rss_bytes(node.proc.pid)
                per = ((rss - base_rss) / n) if n else 0
                rate, p99, errors = wrk("http://127.0.0.1:%d%s" % (node.port, TIMELINE), seconds)
                if errors:
                    print("  %d requests failed" % errors)
                    ok = False
                if p99_none is None:
                    p99_none = p99
                deliv = ("", "", "")
                if streams:
                    got, opened, p50, dp99, dmax = streams.deliver(
                        lambda: admin.post_status("One more for the %d streams." % n))
                    if got < opened:
                        print("  the update reached %d of %d streams" % (got, opened))
                        ok = False
                    deliv = ("%d ms" % p50, "%d ms" % dp99, "%d ms" % dmax)
                print("%8d %10.0f %8.2f %9.2f %9.2f %8.1f %10.0f %10s %10s %10s" % (
                    n, rate, rate / n_rate, p99, p99 / p99_none if p99_none else 0, rss / 1e6,
                    per, *deliv), flush=True)
            finally:
                if streams:
                    streams.close()
        rate, p99, errors = wrk("http://127.0.0.1:%d%s" % (node.port, TIMELINE), seconds,
                                ["Authorization: Bearer " + admin.token])
        if errors:
            print("  %d signed-in requests failed" % errors)
            ok = False
        print("signed in, rendered every time: %.0f req/s (x nginx %.2f), p99 %.2f ms"
              % (rate, rate / n_rate, p99))
        print("ruched VmRSS at the end: %.1f MB" % (rss_bytes(node.proc.pid) / 1e6))
        status = node.stop()
        if status != 0:
            print("ruched exited with status %s" % status)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
