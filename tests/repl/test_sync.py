#!/usr/bin/python3
"""test_sync.py - a real ruched node against a peer that breaks the rules
of the sync socket (PROTOCOL.md, section 13).

One node, paris, is peered with "rogue", the protocol peer of rogue.py,
and runs with a short catch-up timeout (replication.sync_timeout_ms =
TIMEOUT_MS) and anti-entropy an hour apart, so that every catch-up it asks
for in this test has a cause the test gave it.

1. A stalled answerer: rogue leaves paris's first hello unanswered; paris
   asks again once TIMEOUT_MS have passed without a batch, not earlier and
   not at the next anti-entropy tick, counts the stall, and gets rogue's
   updates from the second answer.
2. Batches beyond credit: rogue answers a catch-up (asked for a gap in its
   live stream) with done at once and then its updates as batches paris
   never granted: each is refused unread and counted as over_credit, the
   updates are not stored; the next catch-up brings them all.
3. paris's sync socket: garbage, a message of two frames, and messages that
   belong elsewhere (heartbeats, a batch) are counted per peer as
   malformed and misplaced, in the status and in /metrics, with one log
   line per kind; paris still answers a hello on the same connection.
4. Refused CURVE handshakes: many strangers from one address make one log
   line, another address its own one line, and every refusal is counted.
5. A full queue: paris runs with the smallest byte budget
   (replication.queue_mb = 21: 5 batches queued per asker); an asker that
   grants 64 batches and reads none gets some batches dropped at the
   high-water mark instead of queued, each counted as sends_dropped, and
   paris keeps serving.
6. A live flood: rogue publishes FLOOD posts of the largest text as fast
   as it can. The updates waiting for verification and storage stay
   within queue_mb: paris stops reading the live stream while they pass it
   (counted in ruche_live_pauses_total), its anonymous memory stays under
   a bound (in a build without sanitizers), and every post is stored.

Usage: test_sync.py PATH/TO/ruched; prints one line per check and
"N passed, M failed", exits non-zero if any check failed.
"""

import os
import re
import sys
import time

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fed  # noqa: E402
import rogue as rg  # noqa: E402
import ruchetest as rt  # noqa: E402

TIMEOUT_MS = 1500  # replication.sync_timeout_ms of paris
SETTINGS = ("replication.sync_timeout_ms=%d" % TIMEOUT_MS, "replication.anti_entropy_s=3600",
            "replication.queue_mb=21")
WAIT = 20.0  # seconds for anything the node does at once
STRANGERS = 20  # refused handshakes from 127.0.0.1
BULK = 16 * 256  # posts of BULK_TEXT for 16 batches, more than the queues hold
BULK_TEXT = "\U0001F41D" * 500  # 2000 bytes
FLOOD = 12000  # live posts of FLOOD_TEXT: 240 MB, eleven times queue_mb
FLOOD_TEXT = "\U0001F41D" * 4990  # 19,960 bytes, near the largest text
RSS_BOUND_MB = 150  # paris's anonymous memory during the flood (358 MB unbounded)
SANITIZED = os.environ.get("RUCHE_SANITIZE") == "1"  # shadow memory: no bound to check


def link(site):
    """paris's link counts for rogue ({} if none)."""
    return (site.peer_status("rogue") or {}).get("link") or {}


def rogue_seq(site, rogue):
    return ((site.replication() or {}).get("clock") or {}).get(rogue.identity.text, 0)


def metric(site, name, **labels):
    """The value of one sample of /metrics, None if absent."""
    r = site.client().get("/metrics")
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in r.raw.decode("utf-8", "replace").splitlines():
        m = re.match(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
        if m and m.group(1) == name and ",".join(sorted((m.group(2) or "").split(","))) == want:
            return float(m.group(3))
    return None


def log_lines(site, text):
    return [line for line in site.node.log_text().splitlines() if text in line]


def commit_posts(chain, n, tag):
    for i in range(n):
        chain.commit(chain.post("%s %d" % (tag, i))[1])


def stalled(c, paris, rogue):
    """Part 1: rogue was told to leave the first hello unanswered before
    paris started."""
    try:
        fed.wait_until(lambda: rogue.hello_count() >= 2, WAIT, "a second hello")
    except rt.TestError as e:
        c.check("stall: paris asks again", False, "%s (hellos at %r)" % (e, rogue.hello_times))
        return
    first, second = rogue.hello_times[:2]
    c.check("stall: the second hello %.2f s after the first: after %d ms, within a second more"
            % (second - first, TIMEOUT_MS),
            TIMEOUT_MS / 1000.0 - 0.3 <= second - first <= TIMEOUT_MS / 1000.0 + 1.0)
    try:
        fed.wait_until(lambda: rogue_seq(paris, rogue) == rogue.chain.seq, WAIT,
                       "rogue's updates at paris")
        c.check("stall: paris stores rogue's %d updates from the second answer"
                % rogue.chain.seq, True)
    except rt.TestError as e:
        c.check("stall: paris stores rogue's updates from the second answer", False, str(e))
    c.equal("stall: counted once", link(paris).get("stalled"), 1)
    c.equal("stall: one log line", len(log_lines(paris, "[peer rogue]: our catch-up got nothing")),
            1)


def over_credit(c, paris, rogue):
    """Part 2."""
    chain = rogue.chain
    env = chain.post("rogue live")[1]
    chain.commit(env)
    rogue.publish_update(env)
    try:
        fed.wait_until(lambda: rogue_seq(paris, rogue) == chain.seq, WAIT, "the live update")
    except rt.TestError as e:
        c.check("over credit: a live update is stored", False, str(e))
        return
    have = chain.seq
    commit_posts(chain, 3, "rogue held back")
    rogue.answer(overrun=True)
    hellos = rogue.hello_count()
    before = link(paris)
    env = chain.post("rogue after a gap")[1]
    chain.commit(env)
    rogue.publish_update(env)  # a gap of 3: paris asks
    try:
        fed.wait_until(lambda: link(paris).get("over_credit", 0) >= 4, WAIT,
                       "four batches counted over credit")
    except rt.TestError:
        pass
    after = link(paris)
    c.equal("over credit: paris asked once for the gap", rogue.hello_count() - hellos, 1)
    c.equal("over credit: the 4 batches after done counted as over_credit",
            after.get("over_credit", 0) - before.get("over_credit", 0), 4)
    c.equal("over credit: and as one gap", after.get("live_gaps", 0) - before.get("live_gaps", 0),
            1)
    c.equal("over credit: none of their updates stored", rogue_seq(paris, rogue), have)
    c.equal("over credit: one log line",
            len(log_lines(paris, "[peer rogue]: a batch of 1 updates beyond the credit")), 1)
    # rogue answers honestly again: the next gap brings everything
    commit_posts(chain, 1, "rogue after the overrun")
    env = chain.post("rogue, another gap")[1]
    chain.commit(env)
    rogue.publish_update(env)
    try:
        fed.wait_until(lambda: rogue_seq(paris, rogue) == chain.seq, WAIT, "every update")
        c.check("over credit: the next catch-up brings all %d updates" % chain.seq, True)
    except rt.TestError as e:
        c.check("over credit: the next catch-up brings every update", False, str(e))


def sync_socket(c, paris, rogue):
    """Part 3."""
    key = rg.key_bytes(paris.key)
    before = link(paris)
    beat = rg.msg_heartbeat({}, rg.hlc_now(), bytes(32))
    batch = rg.msg_batch([rogue.chain.since(0)[0]])
    messages = [b"\xc1"] * 4 + [[rg.msg_hello({}, 1), b"\x00"]] + [beat] * 3 + [batch]
    ctx = zmq.Context()
    try:
        answer = rg.send_sync(ctx, rogue.identity, paris.sync, key, messages)
    finally:
        ctx.term()
    c.equal("sync socket: paris still answers a hello after them", answer, rg.BATCH)
    after = link(paris)
    grew = {k: after.get(k, 0) - before.get(k, 0) for k in ("malformed", "misplaced")}
    c.equal("sync socket: 4 garbage and a 2-frame message malformed, 3 heartbeats and a batch "
            "misplaced", grew, {"malformed": 5, "misplaced": 4})
    c.equal("sync socket: /metrics has the malformed count",
            metric(paris, "ruche_peer_link_events_total", peer="rogue", event="malformed"),
            float(after.get("malformed", -1)))
    c.equal("sync socket: /metrics has the misplaced count",
            metric(paris, "ruche_peer_link_events_total", peer="rogue", event="misplaced"),
            float(after.get("misplaced", -1)))
    c.equal("sync socket: one log line for the malformed ones",
            len(log_lines(paris, "(malformed: ")), 1)
    c.equal("sync socket: one log line for the misplaced ones",
            len(log_lines(paris, "(misplaced: ")), 1)


def handshakes(c, paris):
    """Part 4."""
    key = rg.key_bytes(paris.key)
    before = metric(paris, "ruche_handshakes_refused_total") or 0
    ctx = zmq.Context()
    socks = []
    try:
        socks += rg.stranger_handshakes(ctx, paris.sync, key, STRANGERS)
        socks += rg.stranger_handshakes(ctx, paris.pub, key, STRANGERS // 2)
        socks += rg.stranger_handshakes(ctx, paris.sync, key, 3, source="127.0.0.2")
        want = before + STRANGERS + STRANGERS // 2 + 3
        try:
            fed.wait_until(lambda: (metric(paris, "ruche_handshakes_refused_total") or 0) >= want,
                           WAIT, "%d refused handshakes counted" % want)
        except rt.TestError:
            pass
        c.check("handshakes: every refusal counted",
                (metric(paris, "ruche_handshakes_refused_total") or 0) >= want,
                metric(paris, "ruche_handshakes_refused_total"))
    finally:
        for s in socks:
            s.close()
        ctx.term()
    c.equal("handshakes: one log line for %d refusals from 127.0.0.1" % (STRANGERS * 3 // 2),
            len(log_lines(paris, "refused a connection from 127.0.0.1:")), 1)
    c.equal("handshakes: one log line for 127.0.0.2",
            len(log_lines(paris, "refused a connection from 127.0.0.2:")), 1)
    c.equal("handshakes: paris still answers /healthz", paris.client().get("/healthz").status, 200)


def full_queue(c, paris, rogue):
    """Part 5."""
    chain = rogue.chain
    for i in range(BULK):
        chain.commit(chain.post("%d %s" % (i, BULK_TEXT))[1])
    env = chain.post("rogue after the bulk")[1]
    chain.commit(env)
    rogue.publish_update(env)  # a gap: paris asks for the bulk
    try:
        fed.wait_until(lambda: rogue_seq(paris, rogue) == chain.seq, 120, "the bulk at paris")
    except rt.TestError as e:
        c.check("full queue: paris stores rogue's %d posts" % BULK, False, str(e))
        return
    before = link(paris).get("sends_dropped", 0)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.rcvhwm = 1
    sock.rcvbuf = 4096
    rg._curve_client(sock, rogue.identity, rg.key_bytes(paris.key))
    try:
        sock.connect(paris.sync)
        sock.send(rg.msg_hello({}, 64))
        try:
            fed.wait_until(lambda: link(paris).get("sends_dropped", 0) > before, WAIT,
                           "a dropped send")
        except rt.TestError:
            pass
        dropped = link(paris).get("sends_dropped", 0) - before
        c.check("full queue: an asker granting 64 batches and reading none: %d of them "
                "dropped and counted" % dropped, 0 < dropped <= 64)
        # paris may drop more sends to the asker that reads nothing meanwhile
        counted = metric(paris, "ruche_peer_link_events_total", peer="rogue",
                         event="sends_dropped") or 0
        c.check("full queue: /metrics has the count (%d, at least the %d of the status)"
                % (counted, before + dropped), counted >= before + dropped)
        c.equal("full queue: one log line", len(log_lines(paris, "(sends_dropped: ")), 1)
    finally:
        sock.close()
        ctx.term()
    c.equal("full queue: paris still answers /healthz", paris.client().get("/healthz").status, 200)


def anon_mb(site):
    """The ruched process's anonymous resident memory, in MB."""
    with open("/proc/%d/status" % site.node.proc.pid) as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def live_flood(c, paris, rogue):
    """Part 6."""
    chain = rogue.chain
    envs = []
    for i in range(FLOOD):
        env = chain.post("%d %s" % (i, FLOOD_TEXT))[1]
        chain.commit(env)
        envs.append(env)
    peak = anon_mb(paris)
    for env in envs:
        rogue.publish_update(env)
    deadline = time.monotonic() + 180
    while rogue_seq(paris, rogue) < chain.seq and time.monotonic() < deadline:
        peak = max(peak, anon_mb(paris))
        time.sleep(0.05)  # a sampling period, not a wait for a condition
    c.equal("live flood: paris stores all %d posts" % FLOOD, rogue_seq(paris, rogue), chain.seq)
    pauses = metric(paris, "ruche_live_pauses_total") or 0
    c.check("live flood: paris left its live stream unread %d times while the updates to "
            "verify passed queue_mb" % pauses, pauses >= 1)
    c.check("live flood: paris's anonymous memory peaked at %.0f MB, under %d MB%s"
            % (peak, RSS_BOUND_MB, " (not checked: a sanitizer build)" if SANITIZED else ""),
            SANITIZED or peak < RSS_BOUND_MB)
    c.equal("live flood: paris still answers /healthz", paris.client().get("/healthz").status, 200)


def run(c, ruched):
    ident = rg.Identity()
    pub = "tcp://127.0.0.1:%d" % rt.free_port()
    sync = "tcp://127.0.0.1:%d" % rt.free_port()
    with fed.Federation(c, ruched, ["paris"], "mesh", "sync", extra=SETTINGS) as f:
        paris = f[0]
        paris.add_peer("rogue", ident.text, pub, sync)
        rogue = rg.Rogue(ident, pub, sync)
        commit_posts(rogue.chain, 3, "rogue before")
        rogue.answer(stall=1)
        rogue.start([(paris.pub, rg.key_bytes(paris.key))])
        try:
            f.start()
            f.require_replication()
            with c.section("a stalled catch-up"):
                stalled(c, paris, rogue)
            with c.section("batches beyond credit"):
                over_credit(c, paris, rogue)
            with c.section("the sync socket"):
                sync_socket(c, paris, rogue)
            with c.section("refused handshakes"):
                handshakes(c, paris)
            with c.section("a full queue"):
                full_queue(c, paris, rogue)
            with c.section("a live flood"):
                live_flood(c, paris, rogue)
            c.check("rogue's sync and PUB saw nothing it could not read", not rogue.errors,
                    rogue.errors[:3])
            f.stop()
        finally:
            rogue.close()


if __name__ == "__main__":
    rt.main_wrapper(run)
