#!/usr/bin/python3
"""test_links.py - addresses in posts, against a real ruched.

Links: a post's http(s) address becomes a link in the status's content
(rel nofollow noopener noreferrer, target _blank, Mastodon's shortened
text), escaped; a javascript: or data: address is no link at all; a tag
or a mention inside an address is neither in the content nor in the
status's tags and mentions, nor does the tag's timeline list it.

Usage: test_links.py PATH/TO/ruched. Prints one line per check and
"N passed, M failed"; exits non-zero if any check failed.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ruchetest as rt  # noqa: E402

HREF = re.compile(r'<a href="([^"]*)"([^>]*)>')


def users(c, node):
    """An admin client and a client of alice, a user the admin adds."""
    admin = node.client(node.client().login("admin", node.admin_password()))
    r = admin.post("/api/ruche/v1/admin/users", json_body={"username": "alice"})
    c.status("admin adds alice", r, 200)
    return admin, node.client(node.client().login("alice", r.json["password"]))


def s_links(c, node, alice):
    url = "https://intranet.example.com/projects/2026/plan?a=1&b=2"
    st = alice.post_status("the plan: %s." % url)
    links = HREF.findall(st["content"])
    c.equal("the address is the one link, escaped", [h for h, _ in links],
            [url.replace("&", "&amp;")])
    attrs = links[0][1] if links else ""
    c.check("it opens in a new tab, without referrer or follow",
            'rel="nofollow noopener noreferrer"' in attrs and 'target="_blank"' in attrs, attrs)
    c.check("its text is shortened as Mastodon apps expect",
            '<span class="invisible">https://</span><span class="ellipsis">'
            'intranet.example.com/projects/</span><span class="invisible">2026/plan?a=1&amp;b=2'
            '</span></a>.</p>' in st["content"], st["content"])
    shown = node.client().get("/api/v1/statuses/%s" % st["id"]).json
    c.equal("an anonymous reader gets the same content", shown and shown["content"],
            st["content"])

    st = alice.post_status("javascript:alert(document.cookie) and data:text/html,<b>x</b>")
    c.equal("javascript: and data: addresses are no links", HREF.findall(st["content"]), [])
    c.check("... and stay escaped text",
            "javascript:alert(document.cookie) and data:text/html,&lt;b&gt;x&lt;/b&gt;"
            in st["content"], st["content"])

    st = alice.post_status('see https://x.example/"onmouseover="alert(1)')
    c.equal("a quote ends an address: nothing leaves the attribute",
            [h for h, _ in HREF.findall(st["content"])], ["https://x.example/"])

    st = alice.post_status("https://x.example/?t=#inurl&u=@admin #outside")
    c.equal("a tag inside an address is no tag", [t["name"] for t in st["tags"]], ["outside"])
    c.equal("a mention inside an address is no mention", st["mentions"], [])
    r = node.client().get("/api/v1/timelines/tag/inurl")
    c.equal("the tag's timeline does not list it", [s["id"] for s in r.json or []], [])
    r = node.client().get("/api/v1/timelines/tag/outside")
    c.equal("the tag beside it does", [s["id"] for s in r.json or []], [st["id"]])


def run(c, ruched):
    with rt.Node(ruched, site="links") as node:
        node.start()
        admin, alice = users(c, node)
        with c.section("links in content"):
            s_links(c, node, alice)
        c.check("no sanitizer report", not node.sanitizer_reports(),
                node.sanitizer_reports()[:5])


if __name__ == "__main__":
    rt.main_wrapper(run)
