#!/usr/bin/python3
"""test_links.py - addresses in posts and their previews, against a real
ruched and a small HTTP server of the test's own on 127.0.0.1.

Links: a post's http(s) address becomes a link in the status's content
(rel nofollow noopener noreferrer, target _blank, Mastodon's shortened
text), escaped; a javascript: or data: address is no link at all; a tag
or a mention inside an address is neither in the content nor in the
status's tags and mentions, nor does the tag's timeline list it.

Cards ([cards] allowed_hosts = 127.0.0.1; "localhost", the same server
under a name the list lacks, stands for a host not allowed):
- a page with Open Graph tags gives a card, in Mastodon's shape, at
  GET /api/v1/statuses/:id/card and in the status's "card"; the image is
  resolved against the page; a second post of the address is not fetched
  again; a status without one answers {}, an unknown status 404;
- a host not in the list is never contacted, neither from a post nor
  from a redirect; redirects within the list are followed up to
  max_redirects, one more is not;
- a page that drips a byte at a time is cut at timeout_ms and the node
  answers meanwhile; a 5 MB page is read up to max_kb (its card comes from
  the head) and the server sees the rest refused; a title past max_kb is
  not seen; a 404 and a PDF give no card;
- a page that gave no card is asked again after retry_s;
- the queue holds [cards] queue addresses; more are dropped and asked
  again by later readers;
- the environment's http_proxy is not used; [cards] proxy is;
- with no allowed_hosts (the default) there are no cards and no fetches.

Usage: test_links.py PATH/TO/ruched. Prints one line per check and
"N passed, M failed"; exits non-zero if any check failed.
"""

import http.server
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ruchetest as rt  # noqa: E402

HREF = re.compile(r'<a href="([^"]*)"([^>]*)>')
TIMEOUT_MS = 2000  # [cards] timeout_ms of the node under test
MAX_KB = 64  # [cards] max_kb
BIG = 5 * 1024 * 1024  # bytes of the large page
WAIT = 30.0  # seconds for a card to appear


class Pages(http.server.BaseHTTPRequestHandler):
    """The pages the node fetches; every request is noted (path, Host)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except OSError:
            pass  # the node closed a connection it had read enough of

    def note(self):
        with self.server.lock:
            self.server.seen.append((self.path, self.headers.get("Host", "")))

    def send(self, code, body, ctype="text/html; charset=utf-8", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass  # the node read what it wanted: max_kb

    def og(self, name):
        return ("<!doctype html><html><head><title>plain %s</title>"
                '<meta property="og:title" content="Plan &amp; %s">'
                '<meta property="og:description" content="What we do in 2026">'
                '<meta property="og:image" content="/img/%s.png">'
                '<meta property="og:site_name" content="Intranet">'
                "</head><body>hello</body></html>" % (name, name, name)).encode()

    def do_GET(self):
        self.note()
        path = self.path.split("://", 1)[-1]  # through a proxy: an absolute address
        path = path[path.index("/"):] if "://" in self.path else path
        name = path.rsplit("/", 1)[-1]
        if path.startswith("/og/"):
            self.send(200, self.og(name))
        elif path == "/away":
            self.send(302, b"", extra=[("Location", "http://localhost:%d/og/away"
                                        % self.server.server_port)])
        elif path.startswith("/hop/"):
            left = int(name)
            where = "/og/hops" if left == 0 else "/hop/%d" % (left - 1)
            self.send(302 if left else 200, b"" if left else self.og("hops"),
                      extra=[("Location", where)] if left else [])
        elif path == "/drip":
            self.drip()
        elif path == "/big":
            self.big()
        elif path == "/late":
            self.send(200, b"<head>" + b" " * (2 * MAX_KB * 1024) + b"<title>late</title>")
        elif path == "/missing":
            self.send(404, b"<title>not here</title>")
        elif path == "/doc.pdf":
            self.send(200, b"<title>not html</title>", ctype="application/pdf")
        elif path == "/flaky":
            with self.server.lock:
                self.server.flaky += 1
                first = self.server.flaky == 1
            self.send(503 if first else 200, self.og("flaky"))
        else:
            self.send(404, b"")

    def drip(self):
        """A page that never ends: a byte every 100 ms until the client goes."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(BIG))
        self.end_headers()
        self.server.dripping.set()
        try:
            for _ in range(BIG):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            self.server.drip_cut.set()

    def big(self):
        """5 MB: the head first, then padding; notes how much was taken."""
        head = self.og("big")
        # a small send buffer: what the node does not read shows here soon
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(BIG))
        self.end_headers()
        sent = 0
        try:
            self.wfile.write(head)
            sent = len(head)
            chunk = b" " * 16384
            while sent < BIG:
                n = min(len(chunk), BIG - sent)
                self.wfile.write(chunk[:n])
                sent += n
        except OSError:
            pass
        self.server.big_sent = sent
        self.server.big_done.set()


def serve():
    """The pages, on a free port of 127.0.0.1, served from a thread."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    server.daemon_threads = True
    server.lock = threading.Lock()
    server.seen = []
    server.flaky = 0
    server.dripping = threading.Event()
    server.drip_cut = threading.Event()
    server.big_done = threading.Event()
    server.big_sent = None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def seen(server, part):
    """The requests the server has had whose path holds part."""
    with server.lock:
        return [p for p, _ in server.seen if part in p]


def metric(node, name, result=None):
    """A sample of /metrics (None when absent)."""
    label = '{result="%s"}' % result if result else ""
    r = node.client().get("/metrics")
    m = re.search(rb"^" + re.escape((name + label).encode()) + rb" (\d+)$", r.raw, re.M)
    return int(m.group(1)) if m else None


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


def card_of(client, status_id):
    r = client.get("/api/v1/statuses/%s/card" % status_id)
    return r.json if r.status == 200 else None


def wait_card(client, status_id):
    """The status's card once it has a title (TestError after WAIT)."""
    return rt.wait_until(lambda: (card_of(client, status_id) or {}).get("title") and
                         card_of(client, status_id), WAIT, "the card of %s" % status_id, 0.1)


def wait_metric(node, name, result, at_least):
    return rt.wait_until(lambda: (metric(node, name, result) or 0) >= at_least, WAIT,
                         "%s{result=%s} >= %d" % (name, result, at_least), 0.1)


def s_card(c, node, alice, server, base):
    st = alice.post_status("the plan: %s/og/one." % base)
    card = wait_card(alice, st["id"])
    c.equal("a page with og: tags gives its card", {k: card.get(k) for k in (
        "url", "title", "description", "type", "provider_name", "image")}, {
        "url": base + "/og/one", "title": "Plan & one", "description": "What we do in 2026",
        "type": "link", "provider_name": "Intranet", "image": base + "/img/one.png"})
    keys = {"url", "title", "description", "type", "author_name", "author_url",
            "provider_name", "provider_url", "html", "width", "height", "image", "embed_url",
            "blurhash"}
    c.check("in Mastodon's shape", keys <= set(card), sorted(set(card)))
    shown = node.client().get("/api/v1/statuses/%s" % st["id"]).json
    c.equal("the status's card is the same, for an anonymous reader too",
            shown and shown.get("card"), card)
    again = alice.post_status("again %s/og/one" % base)
    c.equal("a second post of the address has its card at once", again.get("card"), card)
    c.equal("... and the page was fetched once", len(seen(server, "/og/one")), 1)
    plain = alice.post_status("no address here")
    c.equal("a status without an address: {}", card_of(alice, plain["id"]), {})
    c.equal("... and its card is null", plain.get("card"), None)
    c.status("an unknown status: 404", alice.get("/api/v1/statuses/1234567/card"), 404)


def s_hosts(c, node, alice, server, base, port):
    other = "http://localhost:%d" % port
    never = alice.post_status("elsewhere %s/og/never" % other)
    away = alice.post_status("moved %s/away" % base)
    wait_metric(node, "ruche_cards_fetches_total", "redirect", 1)
    c.equal("a redirect to a host not allowed gives no card", card_of(alice, away["id"]), {})
    c.equal("... and that host was never asked", seen(server, "/og/away"), [])
    c.equal("a host not allowed gives no card", card_of(alice, never["id"]), {})
    c.equal("... and was never contacted",
            [h for _, h in server.seen if h.startswith("localhost")], [])
    three = alice.post_status("three hops %s/hop/3" % base)
    c.equal("three redirects within the list are followed",
            wait_card(alice, three["id"]).get("title"), "Plan & hops")
    four = alice.post_status("four hops %s/hop/4" % base)
    wait_metric(node, "ruche_cards_fetches_total", "redirect", 2)
    c.equal("a fourth is not", card_of(alice, four["id"]), {})
    c.equal("... nor asked for", len(seen(server, "/hop/0")), 1)


def s_limits(c, node, alice, server, base):
    drip = alice.post_status("slow %s/drip" % base)
    rt.wait_until(server.dripping.is_set, WAIT, "the page to drip")
    started = time.monotonic()
    queued = [alice.post_status("queued %s/og/q%d" % (base, i)) for i in range(4)]
    c.equal("the queue holds 2 ([cards] queue)", metric(node, "ruche_cards_queued"), 2)
    c.equal("... the 2 others are dropped", metric(node, "ruche_cards_dropped_total"), 2)
    t0 = time.monotonic()
    r = node.client().get("/api/v1/timelines/public")
    c.check("the node answers while a page drips (%.0f ms)" % (1000 * (time.monotonic() - t0)),
            r.status == 200 and time.monotonic() - t0 < 1.0)
    wait_metric(node, "ruche_cards_fetches_total", "timeout", 1)
    took = time.monotonic() - started
    c.check("the drip is cut at timeout_ms (%.1f s)" % took, took < TIMEOUT_MS / 1000 + 3, took)
    c.equal("... with no card", card_of(alice, drip["id"]), {})
    for i, st in enumerate(queued):
        c.equal("queued or dropped, %d has its card once read again" % i,
                wait_card(alice, st["id"]).get("title"), "Plan & q%d" % i)

    big = alice.post_status("big %s/big" % base)
    c.equal("a 5 MB page gives the card of its head", wait_card(alice, big["id"]).get("title"),
            "Plan & big")
    rt.wait_until(server.big_done.is_set, WAIT, "the server to stop sending")
    c.check("... and the rest refused: the node closed it (%d of %d bytes sent)"
            % (server.big_sent, BIG), server.big_sent < BIG, server.big_sent)
    oks = metric(node, "ruche_cards_fetches_total", "ok")
    late = alice.post_status("late %s/late" % base)
    wait_metric(node, "ruche_cards_fetches_total", "ok", oks + 1)
    c.equal("a title past max_kb is not seen", card_of(alice, late["id"]), {})
    missing = alice.post_status("gone %s/missing" % base)
    wait_metric(node, "ruche_cards_fetches_total", "status", 1)
    c.equal("a 404 gives no card", card_of(alice, missing["id"]), {})
    pdf = alice.post_status("a file %s/doc.pdf" % base)
    wait_metric(node, "ruche_cards_fetches_total", "type", 1)
    c.equal("a PDF gives no card", card_of(alice, pdf["id"]), {})


def s_retry(c, node, alice, server, base):
    flaky = alice.post_status("flaky %s/flaky" % base)
    wait_metric(node, "ruche_cards_fetches_total", "status", 2)
    c.equal("a page that failed has no card", card_of(alice, flaky["id"]), {})
    c.equal("a page that failed is asked again after retry_s (1 s)",
            wait_card(alice, flaky["id"]).get("title"), "Plan & flaky")
    c.equal("... once", server.flaky, 2)


def s_unconfigured(c, ruched, server, base):
    with rt.Node(ruched, site="nocards") as node:
        node.start()
        admin, alice = users(c, node)
        st = alice.post_status("the plan: %s/og/unconfigured" % base)
        c.equal("no allowed_hosts: the card is null", st.get("card"), None)
        c.equal("... and {}", card_of(alice, st["id"]), {})
        c.equal("... and no card figures", metric(node, "ruche_cards_made_total"), None)
    c.equal("... and nothing was fetched", seen(server, "unconfigured"), [])


def s_proxy(c, ruched, server, port):
    with rt.Node(ruched, site="proxied", settings=[
            "cards.allowed_hosts=wiki.invalid",
            "cards.proxy=http://127.0.0.1:%d" % port]) as node:
        node.start()
        admin, alice = users(c, node)
        st = alice.post_status("see http://wiki.invalid/og/proxied")
        c.equal("[cards] proxy: the page comes through it",
                wait_card(alice, st["id"]).get("title"), "Plan & proxied")
        c.equal("... asked by its whole address", seen(server, "/og/proxied"),
                ["http://wiki.invalid/og/proxied"])


def run(c, ruched):
    server = serve()
    port = server.server_port
    base = "http://127.0.0.1:%d" % port
    # A proxy from the environment must not be used: this one does not exist.
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                "ALL_PROXY"):
        os.environ[var] = "http://127.0.0.1:%d" % rt.free_port()
    os.environ.pop("no_proxy", None)
    os.environ.pop("NO_PROXY", None)
    settings = ["cards.allowed_hosts=127.0.0.1", "cards.timeout_ms=%d" % TIMEOUT_MS,
                "cards.max_kb=%d" % MAX_KB, "cards.queue=2", "cards.retry_s=1"]
    with rt.Node(ruched, site="links", settings=settings) as node:
        node.start()
        admin, alice = users(c, node)
        with c.section("links in content"):
            s_links(c, node, alice)
        with c.section("cards"):
            s_card(c, node, alice, server, base)
        with c.section("allowed hosts and redirects"):
            s_hosts(c, node, alice, server, base, port)
        with c.section("timeout, sizes, queue"):
            s_limits(c, node, alice, server, base)
        with c.section("retry"):
            s_retry(c, node, alice, server, base)
        c.check("no sanitizer report", not node.sanitizer_reports(),
                node.sanitizer_reports()[:5])
    with c.section("no allowed hosts"):
        s_unconfigured(c, ruched, server, base)
    with c.section("a configured proxy"):
        s_proxy(c, ruched, server, port)
    server.shutdown()


if __name__ == "__main__":
    rt.main_wrapper(run)
