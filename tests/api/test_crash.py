#!/usr/bin/python3
"""test_crash.py - an acknowledged post survives kill -9.

The contract answers POST /api/v1/statuses only after the durable commit.
This test holds the node to it: several threads post as fast as the node
answers, each recording a post's id only when its 200 arrives; once at
least KILL_AFTER posts of the round are acknowledged the node gets SIGKILL
in the middle of the stream. It is started again on the same directory and
must show every acknowledged post (by id, with its text, and in the public
timeline), no id or post twice, no post nobody sent, counts that agree with
the timeline, and it must accept new posts, which sort after everything
before the crash. Posts in flight at the kill may or may not be there.
Three rounds, each checking everything acknowledged so far.

Usage: test_crash.py PATH/TO/ruched. Prints one line per check and
"N passed, M failed"; exits non-zero if any check failed.
"""

import http.client
import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ruchetest as rt  # noqa: E402

THREADS = 4
KILL_AFTER = 200  # acknowledged posts per round before the kill
ROUNDS = 3
POST_TIMEOUT = 120.0  # seconds for a round to reach KILL_AFTER


class Ledger:
    """Every post sent (by text) and every one acknowledged (text -> id)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent = set()
        self.acked = {}
        self.refused = []  # (status, body) of non-200 answers before the kill

    def count(self):
        with self.lock:
            return len(self.acked)


class Poster(threading.Thread):
    """Posts "crash rR tT nN" until stopped or the node goes away."""

    def __init__(self, client, round_no, thread_no, ledger, stop):
        super().__init__(daemon=True)
        self.client = client
        self.prefix = "crash r%d t%d n" % (round_no, thread_no)
        self.ledger = ledger
        self.stop = stop
        self.sent = 0

    def run(self):
        while not self.stop.is_set():
            text = "%s%d" % (self.prefix, self.sent)
            self.sent += 1
            with self.ledger.lock:
                self.ledger.sent.add(text)
            try:
                r = self.client.post("/api/v1/statuses", json_body={"status": text})
            except (OSError, http.client.HTTPException):
                return  # the node is gone: this post was in flight
            with self.ledger.lock:
                if r.status == 200 and isinstance(r.json, dict) and "id" in r.json:
                    self.ledger.acked[text] = r.json["id"]
                elif not self.stop.is_set():
                    self.ledger.refused.append((r.status, r.brief()))


def run_round(c, node, client, round_no, ledger):
    """Posts from THREADS threads, kills the node after KILL_AFTER more
    acknowledgements, waits for the threads."""
    stop = threading.Event()
    start = ledger.count()
    target = start + KILL_AFTER + random.randrange(50)
    threads = [Poster(client, round_no, t, ledger, stop) for t in range(THREADS)]
    for t in threads:
        t.start()
    began = time.monotonic()
    try:
        rt.wait_until(lambda: ledger.count() >= target or not any(t.is_alive() for t in threads),
                      POST_TIMEOUT, "%d acknowledged posts" % (target - start))
    finally:
        node.kill()
        stop.set()
        for t in threads:
            t.join(timeout=rt.REQUEST_TIMEOUT + 10)
    done = ledger.count() - start
    print("round %d: %d posts acknowledged in %.1f s, %d sent, then SIGKILL"
          % (round_no, done, time.monotonic() - began, sum(t.sent for t in threads)), flush=True)
    c.check("round %d: at least %d posts acknowledged before the kill" % (round_no, KILL_AFTER),
            done >= KILL_AFTER, "only %d" % done)
    c.equal("round %d: the node died of SIGKILL" % round_no, node.proc.returncode, -signal.SIGKILL)
    c.check("round %d: no post refused before the kill" % round_no, not ledger.refused,
            ledger.refused[:3])
    c.check("round %d: no poster thread hangs" % round_no, not any(t.is_alive() for t in threads))


def check_statuses(c, client, round_no, ledger):
    """Every acknowledged post answers GET /statuses/:id with its text."""
    lost, changed = [], []
    for text, sid in sorted(ledger.acked.items()):
        r = client.get("/api/v1/statuses/" + sid)
        if r.status != 200:
            lost.append((sid, text, r.status))
        elif not isinstance(r.json, dict) or r.json.get("text") != text:
            changed.append((sid, text, r.brief()))
    n = len(ledger.acked)
    c.check("round %d: all %d acknowledged posts answer GET /statuses/:id" % (round_no, n),
            not lost, "%d lost, first: %s" % (len(lost), lost[:3]))
    c.check("round %d: each has the text that was posted" % round_no, not changed, changed[:3])


def check_timeline(c, client, round_no, ledger):
    """The public timeline holds every acknowledged post once and nothing
    that was never sent; returns its length."""
    statuses, _ = rt.walk_pages(client, "/api/v1/timelines/public", 40)
    ids = [s["id"] for s in statuses]
    texts = [s.get("text") for s in statuses]
    by_text = dict(zip(texts, ids))
    c.check("round %d: public timeline ids strictly decreasing" % round_no,
            all(int(a) > int(b) for a, b in zip(ids, ids[1:])))
    c.equal("round %d: no id twice in the public timeline" % round_no, len(set(ids)), len(ids))
    c.equal("round %d: no post twice in the public timeline" % round_no, len(set(texts)),
            len(texts))
    absent = [t for t, sid in ledger.acked.items() if by_text.get(t) != sid]
    c.check("round %d: every acknowledged post is in the public timeline with its id" % round_no,
            not absent, "%d missing, first: %s" % (len(absent), absent[:3]))
    unknown = [t for t in texts if t not in ledger.sent]
    c.check("round %d: the timeline holds only posts that were sent" % round_no, not unknown,
            unknown[:3])
    c.check("round %d: the timeline has at least the %d acknowledged posts"
            % (round_no, len(ledger.acked)), len(ids) >= len(ledger.acked), len(ids))
    print("round %d: %d statuses, of which %d were in flight at a kill"
          % (round_no, len(ids), len(ids) - len(ledger.acked)), flush=True)
    return ids


def check_counts(c, client, round_no, ids):
    """Counters kept beside the log agree with the timeline."""
    me = client.get("/api/v1/accounts/verify_credentials").json or {}
    c.equal("round %d: statuses_count equals the statuses in the timeline" % round_no,
            me.get("statuses_count"), len(ids))
    inst = client.get("/api/v1/instance").json or {}
    stats = inst.get("stats") if isinstance(inst, dict) else None
    if isinstance(stats, dict) and "status_count" in stats:
        c.equal("round %d: instance stats.status_count equals the timeline" % round_no,
                stats["status_count"], len(ids))


def check_new_post(c, client, round_no, ledger, ids):
    """The node takes new posts after the crash, sorted after the old."""
    text = "after crash %d" % round_no
    with ledger.lock:
        ledger.sent.add(text)
    r = client.post("/api/v1/statuses", json_body={"status": text})
    c.status("round %d: a post after the restart" % round_no, r, 200)
    if r.status != 200:
        return
    sid = r.json["id"]
    ledger.acked[text] = sid
    c.check("round %d: the new post sorts after every older one" % round_no,
            not ids or int(sid) > int(ids[0]), (sid, ids[:1]))
    r = client.get("/api/v1/statuses/" + sid)
    c.equal("round %d: the new post can be read back" % round_no, (r.status, (r.json or {}).get(
        "text")), (200, text))


def run(c, ruched):
    ledger = Ledger()
    with rt.Node(ruched, site="crashtest") as node:
        node.start()
        client = node.client()
        client.token = client.login("admin", node.admin_password())
        for round_no in range(1, ROUNDS + 1):
            with c.section("round %d" % round_no):
                run_round(c, node, client, round_no, ledger)
                node.start()
                c.check("round %d: the node starts again after SIGKILL" % round_no, True)
                c.status("round %d: the token from before the kills still works" % round_no,
                         client.get("/api/v1/accounts/verify_credentials"), 200)
                check_statuses(c, client, round_no, ledger)
                ids = check_timeline(c, client, round_no, ledger)
                check_counts(c, client, round_no, ids)
                check_new_post(c, client, round_no, ledger, ids)
            if not node.running:
                break
        c.check("every response was JSON", not client.non_json, client.non_json[:5])
        c.equal("SIGTERM stops the node with exit status 0", node.stop(), 0)
        c.check("no sanitizer report in the node's log", not node.sanitizer_reports(),
                node.sanitizer_reports()[:5])


if __name__ == "__main__":
    rt.main_wrapper(run)
