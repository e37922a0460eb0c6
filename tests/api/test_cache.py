#!/usr/bin/python3
"""test_cache.py - answers to anonymous reads kept until the store changes
([http] cache_kb, node/api/ru_cache.h), against a real ruched.

What a kept answer must never do, and what it must do:
- an anonymous read asked twice gets the same bytes, the second from the
  cache (ruche_http_cache_hits_total grows);
- a post, a like, an edit, a delete made since shows at once: no answer
  outlives the commit after which it was made;
- a signed-in reader (token, cookie, access_token parameter) is never
  answered from the cache: alice sees her private post in her own
  statuses right after an anonymous reader got the same page without it;
- an answer other than 200 is not kept; a request with a body is not
  answered from the cache;
- a connection whose requests are answered from the cache is busy, not
  idle: it stays open past keep_alive_ms as long as it asks;
- cache_kb = 0 keeps nothing.

Usage: test_cache.py PATH/TO/ruched. Prints one line per check and
"N passed, M failed"; exits non-zero if any check failed.
"""

import http.client
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ruchetest as rt  # noqa: E402

PUBLIC = "/api/v1/timelines/public?limit=20"


def hits(node):
    r = node.client().get("/metrics")
    m = re.search(rb"^ruche_http_cache_hits_total (\d+)$", r.raw, re.M)
    return int(m.group(1)) if m else None


def users(c, node):
    admin_token = node.client().login("admin", node.admin_password())
    admin = node.client(admin_token)
    r = admin.post("/api/ruche/v1/admin/users", json_body={"username": "alice"})
    c.status("admin adds alice", r, 200)
    alice_token = node.client().login("alice", r.json["password"])
    return admin, node.client(alice_token), alice_token


def s_kept_and_fresh(c, node, admin, alice):
    anon = node.client()
    first = alice.post_status("the first word #cache")
    a, before = anon.get(PUBLIC), hits(node)
    b = anon.get(PUBLIC)
    c.check("the same anonymous read twice: the same bytes", a.status == 200 and a.raw == b.raw,
            (a.status, b.status))
    c.check("the second from the cache", hits(node) == before + 1, (before, hits(node)))
    second = alice.post_status("the second word #cache")
    ids = [s["id"] for s in anon.get(PUBLIC).json]
    c.equal("a post made since shows at once", ids[:2], [second["id"], first["id"]])
    tag = "/api/v1/timelines/tag/cache"
    anon.get(tag)
    admin.post("/api/v1/statuses/%s/favourite" % first["id"])
    st = [s for s in anon.get(tag).json if s["id"] == first["id"]]
    c.equal("a like made since shows at once", st and st[0]["favourites_count"], 1)
    path = "/api/v1/statuses/%s" % second["id"]
    anon.get(path)
    alice.put(path, json_body={"status": "the second word, edited"})
    c.check("an edit made since shows at once",
            "edited" in (anon.get(path).json or {}).get("content", ""))
    alice.delete(path)
    c.status("a delete made since shows at once", anon.get(path), 404)
    c.status("and again: a 404 is not kept as a 200", anon.get(path), 404)


def s_signed_in(c, node, alice, alice_token):
    anon = node.client()
    me = alice.get("/api/v1/accounts/verify_credentials").json["id"]
    secret = alice.post_status("for my followers only", visibility="private")
    page = "/api/v1/accounts/%s/statuses" % me
    seen = [s["id"] for s in anon.get(page).json]
    seen2 = [s["id"] for s in anon.get(page).json]
    c.check("an anonymous reader does not see the private post (twice)",
            secret["id"] not in seen and seen == seen2)
    c.check("alice, with her token, sees it right after",
            secret["id"] in [s["id"] for s in alice.get(page).json])
    r = anon.get(page + "?access_token=" + alice_token)
    c.check("alice, with an access_token parameter, sees it",
            r.status == 200 and secret["id"] in [s["id"] for s in r.json], r.brief())
    before = hits(node)
    alice.get(page)
    alice.get(page)
    c.equal("signed-in reads are not answered from the cache", hits(node), before)


def s_busy(c, node):
    """Kept answers for longer than keep_alive_ms (1 s here) on one
    connection: every one on that connection, none cut."""
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=10)
    end, n, err = time.monotonic() + 2.5, 0, None
    try:
        while time.monotonic() < end:
            conn.request("GET", PUBLIC)
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                err = r.status
                break
            n += 1
    except (OSError, http.client.HTTPException) as e:
        err = repr(e)
    finally:
        conn.close()
    c.check("2.5 s of reads on one kept-alive connection, none cut (%d)" % n, err is None, err)


def s_off(c, ruched):
    with rt.Node(ruched, site="nocache", settings=["http.cache_kb=0"]) as node:
        node.start()
        anon = node.client()
        anon.get(PUBLIC)
        anon.get(PUBLIC)
        c.equal("cache_kb = 0: no cache figures at all", hits(node), None)


def main():
    if len(sys.argv) != 2:
        print("usage: test_cache.py PATH/TO/ruched", file=sys.stderr)
        return 2
    rt.stop_on_sigterm()
    c = rt.Checks()
    with rt.Node(sys.argv[1], site="cache", settings=["http.keep_alive_ms=1000"]) as node:
        node.start()
        admin, alice, alice_token = users(c, node)
        with c.section("kept, and fresh after every change"):
            s_kept_and_fresh(c, node, admin, alice)
        with c.section("signed-in readers"):
            s_signed_in(c, node, alice, alice_token)
        with c.section("a busy connection"):
            s_busy(c, node)
        c.check("no sanitizer report", not node.sanitizer_reports(),
                node.sanitizer_reports()[:5])
    with c.section("off"):
        s_off(c, sys.argv[1])
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
