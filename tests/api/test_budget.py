#!/usr/bin/python3
"""test_budget.py - the work an anonymous request may make a real ruched
do is bounded, and nothing is lost to the bounds.

One node with a small [http] walk_budget (100) and max_search_offset (50):

- a timeline walk looks at walk_budget index entries at most: the public
  timeline, where 150 direct posts hide between older and newer public
  ones, answers pages cut short (maybe empty) whose Link goes on from
  where the walk stopped, newest first (max_id) and oldest first
  (min_id); following the links gives every public post, each once;
- a status search looks at walk_budget statuses at most, and refuses an
  offset over max_search_offset with 422;
- GET /api/v1/instance and NodeInfo count this site's users and statuses
  right after posts, replies, edits, deletes and a restart (counts kept
  as statuses come and go, read in constant time).

Usage: test_budget.py PATH/TO/ruched. Prints one line per check and
"N passed, M failed"; exits non-zero if any check failed.
"""

import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ruchetest as rt  # noqa: E402

BUDGET = 100
MAX_OFFSET = 50


def follow(client, path, rel):
    """The statuses of path and of every page its rel links lead to, in the
    order served, and the number of pages; stops when a page has no rel
    link (a walk that reached the end)."""
    statuses, pages, seen = [], 0, set()
    url = path
    while url and pages < 100:
        r = client.get(url)
        if r.status != 200 or not isinstance(r.json, list):
            raise rt.TestError("GET %s: %d %s" % (url, r.status, r.brief()))
        pages += 1
        statuses.extend(r.json)
        nxt = rt.link_targets(r).get(rel)
        url = rt.path_of(nxt) if nxt else None
        if url in seen:
            raise rt.TestError("GET %s: the %s link leads back to a page seen" % (url, rel))
        seen.add(url)
    return statuses, pages


def s_walk(c, node):
    admin = node.client(node.client().login("admin", node.admin_password()))
    older = [admin.post_status("older public kiwi %d" % i)["id"] for i in range(5)]
    hidden = [admin.post_status("hidden kiwi %d" % i, visibility="direct")["id"]
              for i in range(150)]
    newer = [admin.post_status("newer public %d" % i)["id"] for i in range(5)]
    anon = node.client()
    r = anon.get("/api/v1/timelines/public", query={"limit": 20})
    c.equal("the first page stops after walk_budget entries: the 5 newer posts",
            [s["id"] for s in r.json or []], newer[::-1])
    c.check("and links on", "next" in rt.link_targets(r), r.header("Link"))
    got, pages = follow(anon, "/api/v1/timelines/public?limit=20", "next")
    c.equal("following next (max_id) gives every public post once, newest first",
            [s["id"] for s in got], newer[::-1] + older[::-1])
    c.check("in more than one page (%d)" % pages, pages >= 2)
    r = anon.get("/api/v1/timelines/public", query={"min_id": older[-1], "limit": 20})
    c.equal("oldest first from min_id: the hidden posts fill the budget, an empty page",
            r.json, [])
    c.check("which links on (prev)", "prev" in rt.link_targets(r), r.header("Link"))
    got, pages = follow(anon, "/api/v1/timelines/public?limit=20&min_id=" + older[-1], "prev")
    c.equal("following prev (min_id) gives the newer posts",
            sorted(s["id"] for s in got), sorted(newer))
    mine, _ = follow(admin, "/api/v1/timelines/public?limit=40", "next")
    c.equal("the author walks every public post too (direct ones are not public)",
            len(mine), 10)
    r = anon.get("/api/v2/search", query={"q": "hidden kiwi", "type": "statuses"})
    c.equal("a search finds none of the hidden posts", (r.status, (r.json or {}).get("statuses")),
            (200, []))
    admin.post_status("newest kiwi, public")
    r = anon.get("/api/v2/search", query={"q": "kiwi", "type": "statuses"})
    c.equal("a search looks at walk_budget statuses: the newest public one, not the older "
            "ones behind the hidden posts", [s["text"] for s in
                                             (r.json or {}).get("statuses", [])],
            ["newest kiwi, public"])
    for offset, want in ((MAX_OFFSET, 200), (MAX_OFFSET + 1, 422), (100000, 422)):
        c.status("a search with offset %d" % offset,
                 anon.get("/api/v2/search", query={"q": "kiwi", "offset": offset}), want)
    return admin, len(older) + len(hidden) + len(newer) + 1


def stats(client):
    body = client.get("/api/v1/instance").json or {}
    v2 = client.get("/nodeinfo/2.0").json or {}
    return ((body.get("stats") or {}).get("status_count"),
            (body.get("stats") or {}).get("user_count"),
            ((v2.get("usage") or {}).get("localPosts")))


def s_counts(c, node, admin, posted):
    anon = node.client()
    c.equal("the instance counts every status of this site, and its users",
            stats(anon), (posted, 1, posted))
    sid = admin.post_status("to be deleted")["id"]
    admin.post("/api/ruche/v1/admin/users", json_body={"username": "bob"})
    c.equal("a post and a user more", stats(anon), (posted + 1, 2, posted + 1))
    rid = admin.post_status("a reply", in_reply_to_id=sid)["id"]
    admin.put("/api/v1/statuses/" + sid, json_body={"status": "edited, still one status"})
    c.equal("a reply counts, an edit does not", stats(anon)[0], posted + 2)
    admin.delete("/api/v1/statuses/" + rid)
    admin.delete("/api/v1/statuses/" + sid)
    c.equal("a delete counts", stats(anon)[0], posted)
    node.stop()
    node.start()
    c.equal("the counts survive a restart", stats(anon), (posted, 2, posted))


def run(c, ruched):
    with rt.Node(ruched, site="budget", settings=["http.walk_budget=%d" % BUDGET,
                                                  "http.max_search_offset=%d" % MAX_OFFSET]) as node:
        node.start()
        with c.section("walks"):
            admin, posted = s_walk(c, node)
        with c.section("instance counts"):
            s_counts(c, node, admin, posted)
        c.check("no sanitizer report in the node's log", not node.sanitizer_reports(),
                node.sanitizer_reports()[:5])


if __name__ == "__main__":
    rt.main_wrapper(run)
