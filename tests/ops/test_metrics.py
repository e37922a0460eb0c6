#!/usr/bin/python3
"""test_metrics.py - GET /metrics and GET /readyz of real ruched processes.

Two sites, paris and nozay, peered over ZeroMQ (tests/repl/fed.py):

- alice posts at paris; once nozay holds her posts, both sites' /metrics
  pass `promtool check metrics` (Debian's prometheus package), and the
  values agree with what was done: nozay applied and relayed exactly
  paris's updates, paris published them, signatures were verified, the
  peers are connected and nobody is behind;
- requests are counted by route pattern and status (never by raw path),
  with a latency histogram whose count matches;
- a peer of paris (tests/repl/rogue.py) sends updates with forged
  signatures: paris counts each under "signature", applies none;
- an open event stream shows in ruche_streams_open, and goes away;
- [http] metrics = admin asks for an administrator's token (an app's
  needs admin:read); loopback
  serves this host; a wrong value is refused with a clear error;
- /readyz: 200 on a running site, replication running; 503 "recovering"
  on a site that lost its store while its peer is away (the store is the
  part not ready), 200 again once the peer is back.

Usage: test_metrics.py PATH/TO/ruched; prints one line per check and
"N passed, M failed", exits non-zero if any check failed.
"""

import os
import re
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "repl"))
import fed  # noqa: E402
import rogue as rg  # noqa: E402
import ruchetest as rt  # noqa: E402

POSTS = 5
WAIT = 30.0
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(client):
    """GET /metrics: (reply, {(name, frozenset(labels)): value})."""
    r = client.get("/metrics")
    samples = {}
    for line in r.raw.decode("utf-8", "replace").splitlines() if r.status == 200 else []:
        m = SAMPLE.match(line)
        if m and not line.startswith("#"):
            labels = frozenset(LABEL.findall(m.group(2) or ""))
            samples[(m.group(1), labels)] = float(m.group(3))
    return r, samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def promtool(text):
    """promtool check metrics on text: (exit status, output)."""
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       timeout=60)
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def metric_is(site, name, expected, **labels):
    """Waits until site's metric name{labels} equals expected; True if so."""
    try:
        rt.wait_until(lambda: value(scrape(site.client())[1], name, **labels) == expected,
                      WAIT, name)
        return True
    except rt.TestError:
        return False


def check_replication(c, paris, nozay, seq):
    for site in (paris, nozay):
        r, s = scrape(site.client())
        c.status("%s: GET /metrics" % site.name, r, 200)
        c.check("%s: text format 0.0.4" % site.name,
                "version=0.0.4" in (r.header("Content-Type") or ""), r.header("Content-Type"))
        code, out = promtool(r.raw)
        c.equal("%s: promtool check metrics passes (%s)" % (site.name, out.strip()[:200]), code, 0)
        c.equal("%s: its head of paris's log" % site.name,
                value(s, "ruche_origin_seq", origin="paris"), float(seq))
    c.check("paris published each of its updates once",
            metric_is(paris, "ruche_updates_published_total", float(seq), origin="paris"))
    c.check("nozay relayed each of paris's updates once",
            metric_is(nozay, "ruche_updates_published_total", float(seq), origin="paris"))
    c.check("nozay applied paris's updates", metric_is(
        nozay, "ruche_peer_updates_applied_total", float(seq), peer="paris"))
    c.check("nozay's verification queue is empty", metric_is(
        nozay, "ruche_verify_queue_depth", 0.0))
    _, s = scrape(nozay.client())
    c.check("nozay received at least those",
            (value(s, "ruche_peer_updates_received_total", peer="paris") or 0) >= seq)
    c.check("nozay checked their signatures",
            (value(s, "ruche_signatures_verified_total") or 0) >= seq)
    c.equal("nozay: paris connected", value(s, "ruche_peer_connected", peer="paris"), 1.0)
    c.equal("nozay: not behind paris", value(s, "ruche_peer_behind_updates", peer="paris"), 0.0)
    c.equal("nozay: nothing refused for a bad signature",
            value(s, "ruche_peer_updates_rejected_total", peer="paris", reason="signature"), 0.0)
    c.check("nozay asked paris for catch-ups",
            (value(s, "ruche_peer_sync_sessions_asked_total", peer="paris") or 0) >= 1)
    used, size = value(s, "ruche_store_used_bytes"), value(s, "ruche_store_map_size_bytes")
    c.check("nozay: store use within the map", used and size and 0 < used <= size, (used, size))
    c.check("nozay: commits counted", (value(s, "ruche_writer_commits_total") or 0) >= 1)
    c.equal("nozay: ready", value(s, "ruche_ready"), 1.0)


def check_requests(c, paris, alice, status_id):
    route = "/api/v1/statuses/:id"
    _, before = scrape(paris.client())
    for _ in range(3):
        alice.get("/api/v1/statuses/%s" % status_id)
    alice.get("/api/v1/statuses/999999999999999999")
    paris.client().post("/no/such/thing/%s" % status_id)
    r, after = scrape(paris.client())

    def delta(name, **labels):
        return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)

    c.equal("GET a status: three 200s counted", delta(
        "ruche_http_requests_total", method="GET", route=route, code="200"), 3.0)
    c.equal("an unknown status: one 404 on its route", delta(
        "ruche_http_requests_total", method="GET", route=route, code="404"), 1.0)
    c.equal("a POST to an unknown path: counted as unmatched", delta(
        "ruche_http_requests_total", method="other", route="unmatched", code="404"), 1.0)
    c.equal("the histogram counts them", delta(
        "ruche_http_request_duration_seconds_count", method="GET", route=route), 4.0)
    c.equal("posts counted", value(after, "ruche_http_requests_total", method="POST",
                                   route="/api/v1/statuses", code="200"), float(POSTS))
    c.check("no raw path in the labels", status_id not in r.raw.decode(), status_id)


def check_rejections(c, paris, rogue):
    c.check("paris: the rogue peer connected",
            metric_is(paris, "ruche_peer_connected", 1.0, peer="rogue"))
    for i in range(3):
        data, env = rogue.chain.post("forged %d" % i)
        sig = bytearray(rg.open_envelope(env)["signature"])
        sig[0] ^= 0x01
        rogue.publish_update(rg.envelope(data, bytes(sig)))
    c.check("paris: three refused for their signature", metric_is(
        paris, "ruche_peer_updates_rejected_total", 3.0, peer="rogue", reason="signature"))
    r, s = scrape(paris.client())
    c.equal("paris: none applied", value(s, "ruche_peer_updates_applied_total", peer="rogue"), 0.0)
    c.equal("paris: nothing else refused", sum(
        v for (name, labels), v in s.items()
        if name == "ruche_peer_updates_rejected_total" and ("peer", "rogue") in labels), 3.0)
    code, out = promtool(r.raw)
    c.equal("paris: promtool still passes (%s)" % out.strip()[:200], code, 0)


def check_streams(c, paris):
    sock = socket.create_connection(("127.0.0.1", paris.node.port), timeout=10)
    try:
        sock.sendall(b"GET /api/v1/streaming/public HTTP/1.1\r\nHost: x\r\n"
                     b"Accept: text/event-stream\r\n\r\n")
        c.check("an open stream is counted", metric_is(paris, "ruche_streams_open", 1.0))
    finally:
        sock.close()
    c.check("a closed stream is no longer counted", metric_is(paris, "ruche_streams_open", 0.0))


def check_access(c, ruched):
    with rt.Node(ruched, site="guarded", settings=["http.metrics=admin"]) as node:
        node.start()
        c.status("admin mode: no token, 401", node.client().get("/metrics"), 401)
        admin = node.client(node.client().login("admin", node.admin_password()))
        c.status("admin mode: the admin's token, 200", admin.get("/metrics"), 200)
        r = admin.post("/api/ruche/v1/admin/users", json_body={"username": "eve"})
        eve = node.client(node.client().login("eve", (r.json or {}).get("password", "")))
        c.status("admin mode: a user's token, 403", eve.get("/metrics"), 403)
        app = admin.post("/api/v1/apps", form={"client_name": "scraper",
                                               "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                               "scopes": "read admin:read"}).json or {}
        for scope, want in (("read", 403), ("read admin:read", 200)):
            r = admin.post("/oauth/token", form={
                "grant_type": "password", "username": "admin", "password": node.admin_password(),
                "client_id": app.get("client_id"), "client_secret": app.get("client_secret"),
                "scope": scope})
            token = (r.json or {}).get("access_token")
            c.status("admin mode: the admin's app token of scope %s, %d" % (scope, want),
                     node.client(token).get("/metrics"), want)
        node.stop()
        node.start(["http.metrics=loopback"])
        c.status("loopback mode: served to this host", node.client().get("/metrics"), 200)
        node.stop()
        node.start(["http.metrics=everyone"])
        r = node.client().get("/metrics")
        c.check("a wrong value: 500 naming the setting",
                r.status == 500 and "[http] metrics" in str((r.json or {}).get("error")),
                r.brief())
        node.stop()


def part(reply, name):
    """The state of a part in a /readyz answer."""
    return ((reply.json or {}).get("parts") or {}).get(name)


def check_ready(c, f, paris, nozay):
    r = paris.client().get("/readyz")
    c.check("paris: /readyz 200 ready", r.status == 200 and (r.json or {}).get("ready") is True,
            r.brief())
    c.equal("paris: replication is running", part(r, "replication"),
            {"state": "running", "ready": True})
    c.equal("paris stops", paris.stop(), 0)
    c.equal("nozay stops", nozay.stop(), 0)
    for name in ("data.mdb", "lock.mdb"):
        os.remove(os.path.join(paris.node.data_dir, name))
    # The rogue is gone for good, and a direct peer that never answers keeps
    # a site that lost its store in recovery (PROTOCOL.md 13): its operator
    # takes it out of the configuration.
    paris.remove_peer("rogue")
    paris.start()
    r = paris.client().get("/readyz")
    c.check("paris without its store and its peer: 503 recovering",
            r.status == 503 and "recovering" in str((r.json or {}).get("error")), r.brief())
    c.equal("the store is the part not ready", part(r, "store"),
            {"state": "recovering", "ready": False})
    c.equal("and ruche_ready is 0", value(scrape(paris.client())[1], "ruche_ready"), 0.0)
    nozay.start()
    try:
        rt.wait_until(lambda: paris.client().get("/readyz").status == 200, fed.CONVERGE_TIMEOUT,
                      "paris ready")
        c.check("paris ready once its updates are back", True)
    except rt.TestError as e:
        c.check("paris ready once its updates are back", False, str(e))


def run(c, ruched):
    # Streams are pinged every 300 ms, so that a closed one is noticed soon.
    with fed.Federation(c, ruched, ["paris", "nozay"], "mesh", "metrics",
                        extra=("streaming.heartbeat_ms=300",)) as f:
        paris, nozay = f[0], f[1]
        ident = rg.Identity()
        pub, sync = ("tcp://127.0.0.1:%d" % rt.free_port() for _ in range(2))
        paris.add_peer("rogue", ident.text, pub, sync)
        rogue = rg.Rogue(ident, pub, sync)
        rogue.start([(paris.pub, rg.key_bytes(paris.key))])
        try:
            f.start()
            f.require_replication()
            with c.section("refusals"):
                check_rejections(c, paris, rogue)
        finally:
            rogue.close()
        alice = paris.new_user("alice")
        ids = [alice.post_status("metrics post %d" % i)["id"] for i in range(POSTS)]
        state = f.wait_converged()
        seq = state["clock"][paris.key]
        with c.section("replication"):
            check_replication(c, paris, nozay, seq)
        with c.section("requests"):
            check_requests(c, paris, alice, ids[0])
        with c.section("streams"):
            check_streams(c, paris)
        with c.section("readiness"):
            check_ready(c, f, paris, nozay)
        f.stop()
    with c.section("access"):
        check_access(c, ruched)


if __name__ == "__main__":
    rt.main_wrapper(run)
