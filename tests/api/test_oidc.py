"""test_oidc.py - sign-in through an OpenID provider against a real ruched
and a real provider, Debian's glewlwyd (tests/support/oidc.py), started
by the test.

The web front end's sign-in: /auth/oidc/start, the provider's login, the
callback, the session cookie; the first sign-in makes the account with the
display name of the claims, the second finds it again; groups make an
administrator; a user outside allow_group, a wrong, unknown or replayed
state, a replayed callback and a name that a local account has are refused.
The claims are the profile: the people search finds a user under the
department of their claims with their site and e-mail; a sign-in whose
claims did not change publishes nothing, one after the user changed at
the provider (through the fixture, as IT would) publishes them. With
[oidc] id_claim naming the employee id that the directory import uses,
the import and the sign-ins describe one employee: the import takes the
account as its own, and a sign-in keeps the title, office and phone it
set; a user whose directory id came from sub is refused by the import.
A Mastodon app: its /oauth/authorize page offers "Sign in with Corp", which
goes through the provider, comes back to the page signed in, asks for the
consent alone and hands the app its code, whose token's verify_credentials
shows the account. [oidc] pending bounds the sign-ins under way.

A provider that is stopped: the start fails with a clear message, the
next ones fail at once with the same message for [oidc] retry_s (its
default, 10 s) even once it runs again, then one reaches it and sign-ins
work again. A provider that accepts and never answers (a listening socket
the test holds): the start fails after timeout_ms saying so, the second
fails at once with the same message without connecting, the local admin
still signs in with the password; after retry_s one sign-in connects again
while another fails at once; with retry_s = 0 every one waits.

Tokens the real provider would never sign (signed by another key, expired,
for another audience, with the nonce of an earlier sign-in) come from a
token endpoint of the test's own (TokenShop below: a discovery document,
a key set and a token endpoint on loopback that hands out the token the
test crafted), used as the node's provider in place of glewlwyd; each is
refused with a message saying why, and logged.
"""

import base64
import hashlib
import html
import http.server
import json
import os
import re
import select
import socket
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))

import ruchetest as rt  # noqa: E402
import oidc  # noqa: E402

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402

TIMEOUT_MS = 1500
MARGIN_S = 2.0
FAST_S = 0.5  # an answer "at once": well under TIMEOUT_MS
RETRY_S = 3
RETRY_DEFAULT_S = 10  # [oidc] retry_s when not set
REDIRECT = "http://127.0.0.1:1/app-callback"

USERS = [
    {"username": "jdoe", "password": "Jane-pass-1", "name": "Jane Doé",
     "email": "jane.doe@corp.example", "department": "R&D", "site": "paris",
     "groups": ["staff", "ruche-admins"]},
    {"username": "bob", "password": "Bob-pass-12", "name": "Bob Martin",
     "email": "bob@corp.example", "department": "Sales", "site": "paris", "groups": ["staff"]},
    {"username": "eve", "password": "Eve-pass-12", "name": "Eve Outsider",
     "email": "eve@contractor.example", "department": "", "site": "", "groups": ["contractors"]},
    {"username": "carol", "password": "Carol-pass1", "name": "Carol Local",
     "email": "carol@corp.example", "department": "IT", "site": "paris", "groups": ["staff"]},
    {"username": "dave", "password": "Dave-pass-12", "name": "Dave Lee",
     "email": "dave@corp.example", "department": "Finance", "site": "paris",
     "groups": ["staff"], "employee_id": "E2002"},
]
PASSWORDS = {u["username"]: u["password"] for u in USERS}


class Browser:
    """Requests to the node with a cookie jar, as one browser."""

    def __init__(self, node):
        self.client = node.client()
        self.cookies = {}

    def get(self, path, **kw):
        return self._keep(self.client.get(path, headers=self._headers(kw), **kw))

    def post(self, path, **kw):
        return self._keep(self.client.post(path, headers=self._headers(kw), **kw))

    def _headers(self, kw):
        h = dict(kw.pop("headers", None) or {})
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        return h

    def _keep(self, reply):
        for line in reply.headers.get_all("Set-Cookie") or []:
            first = line.split(";")[0].strip()
            k, _, v = first.partition("=")
            if "Max-Age=0" in line or not v:
                self.cookies.pop(k, None)
            else:
                self.cookies[k] = v
        return reply


def next_of(page):
    """Where the page after a sign-in sends the browser."""
    m = re.search(r'http-equiv="refresh" content="0;url=([^"]*)"', page.raw.decode())
    return html.unescape(m.group(1)) if m else None


def start(browser, ret=None):
    """GET /auth/oidc/start: the reply and the provider URL it sends to."""
    r = browser.get("/auth/oidc/start", query={"return": ret} if ret else None)
    return r, r.header("Location")


def sign_in(provider, browser, user, ret=None):
    """The whole flow for user; the callback's reply."""
    r, to = start(browser, ret)
    if r.status != 302 or not to:
        raise rt.TestError("start: %d %s" % (r.status, r.brief()))
    back = provider.sign_in(to, user, PASSWORDS[user])
    return browser.get(rt.path_of(back))


def oidc_settings(issuer, secret_file, **more):
    s = {"oidc.issuer": issuer, "oidc.client_id": "ruche-node",
         "oidc.client_secret_file": secret_file, "oidc.label": "Corp",
         "oidc.allow_group": "staff", "oidc.admin_group": "ruche-admins",
         "oidc.timeout_ms": str(TIMEOUT_MS)}
    s.update(more)
    return ["%s=%s" % kv for kv in s.items()]


# ---------------------------------------------------------------------
# The test's own token endpoint


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenShop:
    """A discovery document, a key set (one RSA key, kid k1) and a token
    endpoint on loopback that answers every code with self.token."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.token = None
        shop = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, doc):
                body = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path.endswith("/.well-known/openid-configuration"):
                    self._json({"issuer": shop.issuer, "authorization_endpoint": shop.base + "/auth",
                                "token_endpoint": shop.base + "/token",
                                "jwks_uri": shop.base + "/jwks"})
                elif self.path == "/jwks":
                    n = shop.key.public_key().public_numbers()
                    self._json({"keys": [{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
                                          "n": b64url(n.n.to_bytes(256, "big")),
                                          "e": b64url(n.e.to_bytes(3, "big"))}]})
                else:
                    self.send_error(404)

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._json({"access_token": "x", "token_type": "Bearer", "id_token": shop.token})

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.issuer = self.base + "/shop"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def sign(self, claims, key=None, kid="k1"):
        head = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": kid}).encode())
        body = b64url(json.dumps(claims).encode())
        signing = ("%s.%s" % (head, body)).encode()
        sig = (key or self.key).sign(signing, padding.PKCS1v15(), hashes.SHA256())
        return "%s.%s.%s" % (head, body, b64url(sig))

    def claims(self, nonce, **over):
        now = int(time.time())
        c = {"iss": self.issuer, "sub": "shop-user-1", "aud": "ruche-node", "exp": now + 300,
             "iat": now, "nonce": nonce, "preferred_username": "shopper", "name": "Shop Per",
             "groups": ["staff"]}
        c.update(over)
        return c


def hanging_listener():
    """A socket on loopback that accepts and never answers."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    return s


# ---------------------------------------------------------------------
# Sections


def s_web(c, node, provider):
    anon = node.client()
    r = anon.get("/auth/oidc")
    c.equal("GET /auth/oidc says it is on, with its label", r.json,
            {"enabled": True, "label": "Corp", "start": "/auth/oidc/start"})
    b = Browser(node)
    r, to = start(b)
    c.status("GET /auth/oidc/start", r, 302)
    c.check("it sends the browser to the provider's authorization endpoint",
            (to or "").startswith(provider.issuer + "/auth?"), to)
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(to or "").query)
    c.equal("with PKCE S256", q.get("code_challenge_method"), ["S256"])
    c.check("a challenge, a state and a nonce of 43 characters",
            all(len((q.get(k) or [""])[0]) == 43 for k in ("code_challenge", "state", "nonce")))
    c.equal("the state is also the browser's cookie", b.cookies.get("ruche_oidc"),
            (q.get("state") or [None])[0])
    back = provider.sign_in(to, "jdoe", PASSWORDS["jdoe"])
    r = b.get(rt.path_of(back))
    c.status("the callback", r, 200)
    c.equal("the page sends the browser on to /", next_of(r), "/")
    c.check("the session cookie is set", "ruche_session" in b.cookies)
    r = b.get("/auth/session")
    c.status("GET /auth/session with the cookie", r, 200)
    body = r.json or {}
    acct = body.get("account") or {}
    c.equal("signed in as jdoe", acct.get("username"), "jdoe")
    c.equal("the display name from the claims", acct.get("display_name"), "Jane Doé")
    c.equal("ruche-admins makes an administrator", body.get("admin"), True)
    first_id = acct.get("id")
    b2 = Browser(node)
    r = sign_in(provider, b2, "jdoe")
    c.status("a second sign-in", r, 200)
    acct2 = (b2.get("/auth/session").json or {}).get("account") or {}
    c.equal("finds the same account", acct2.get("id"), first_id)
    r = anon.post("/oauth/token", json_body={"grant_type": "password", "username": "jdoe",
                                             "password": PASSWORDS["jdoe"]})
    c.check("the account has no password here", r.status in (400, 401), r.brief())
    b3 = Browser(node)
    r = sign_in(provider, b3, "bob", ret="/tags/lunch?x=1")
    c.equal("bob goes on to the path he came from", next_of(r), "/tags/lunch?x=1")
    body = b3.get("/auth/session").json or {}
    c.equal("bob is no administrator", body.get("admin"), False)
    c.check("his sign-in is logged", "bob signed in from 127.0.0.1" in node.log_text())


def own_seq(admin):
    """How many updates this site has made (its own entry of its clock)."""
    r = admin.get("/api/ruche/v1/replication").json or {}
    return (r.get("clock") or {}).get(r.get("key"), 0)


def people(client, **query):
    """GET /api/ruche/v1/people: {username: its "ruche" entry}."""
    r = client.get("/api/ruche/v1/people", query=dict(query, limit=80))
    if r.status != 200 or not isinstance(r.json, list):
        raise rt.TestError("people %r: %d %s" % (query, r.status, r.brief()))
    return {a.get("username"): a.get("ruche") or {} for a in r.json}


def s_claims(c, node, provider):
    admin = node.client(node.client().login("admin", node.admin_password()))
    rd = people(admin, department="R&D")
    c.check("people?department=R&D finds jdoe once she signed in", "jdoe" in rd, sorted(rd))
    c.check("and not bob, of Sales", "bob" not in rd, sorted(rd))
    jane = rd.get("jdoe", {})
    c.equal("with her site and e-mail from the claims, and a directory id",
            (jane.get("department"), jane.get("site"), jane.get("email"), jane.get("directory")),
            ("R&D", "paris", "jane.doe@corp.example", True))
    c.check("bob is found under Sales", "bob" in people(admin, department="Sales"))
    seq = own_seq(admin)
    c.status("a sign-in whose claims did not change", sign_in(provider, Browser(node), "jdoe"),
             200)
    c.equal("publishes nothing", own_seq(admin), seq)
    provider.update_user("jdoe", name="Jane Doé-Martin", department="Platform", site="nozay",
                         email="jane.martin@corp.example")
    c.status("a sign-in after her entry changed at the provider",
             sign_in(provider, Browser(node), "jdoe"), 200)
    c.equal("publishes one profile", own_seq(admin), seq + 1)
    moved = people(admin, department="Platform")
    jane = moved.get("jdoe", {})
    c.check("people?department=Platform finds her", "jdoe" in moved, sorted(moved))
    c.equal("with her new site and e-mail", (jane.get("site"), jane.get("email")),
            ("nozay", "jane.martin@corp.example"))
    c.check("R&D finds her no more", "jdoe" not in people(admin, department="R&D"))
    r = admin.get("/api/v1/accounts/lookup", query={"acct": "jdoe"})
    c.equal("her display name is the new one", (r.json or {}).get("display_name"),
            "Jane Doé-Martin")
    log = node.log_text()
    c.check("the updates are logged",
            "the profile of jdoe updated from the provider's claims" in log, log[-1500:])


def s_with_directory(c, node, provider, secret):
    """[oidc] id_claim naming the id the directory import uses: the
    sign-in and the import describe one employee and keep each other's
    parts."""
    node.stop()
    node.start(oidc_settings(provider.issuer, secret, **{"oidc.id_claim": "employee_id"}))
    admin = node.client(node.client().login("admin", node.admin_password()))
    entry = {"username": "dave", "display_name": "Dave Lee", "dir_id": "E2002",
             "title": "Controller", "department": "Finance", "site": "paris",
             "office": "B-204", "phone": "+33 1 23 45 67 89", "email": "dave@corp.example",
             "manager": "E0001"}
    r = admin.post("/api/ruche/v1/admin/directory", json_body={"entries": [entry]})
    c.equal("the directory import publishes dave", (r.json or {}).get("published"), 1)
    c.status("dave signs in through the provider", sign_in(provider, Browser(node), "dave"),
             200)
    provider.update_user("dave", department="Treasury", email="d.lee@corp.example")
    c.status("and again, once his department changed there",
             sign_in(provider, Browser(node), "dave"), 200)
    dave = people(admin, department="Treasury").get("dave", {})
    c.equal("the claims' department and e-mail are published",
            (dave.get("department"), dave.get("email")), ("Treasury", "d.lee@corp.example"))
    c.equal("the directory's title, office and phone are kept",
            (dave.get("title"), dave.get("office"), dave.get("phone")),
            ("Controller", "B-204", "+33 1 23 45 67 89"))
    r = admin.post("/api/ruche/v1/admin/directory", json_body={"entries": [entry]})
    c.equal("the next import takes dave's account as the directory's own",
            ((r.json or {}).get("published"), (r.json or {}).get("refused")), (1, 0))
    r = admin.post("/api/ruche/v1/admin/directory", json_body={"entries": [
        {"username": "bob", "dir_id": "E1003", "title": "Sales rep"}]})
    c.equal("bob signed in while id_claim was sub: the import refuses him",
            (r.json or {}).get("refused"), 1)
    c.check("as another employee's", "bob is another employee's here" in
            " ".join((r.json or {}).get("reasons") or []), r.brief())


def s_refusals(c, node, provider):
    b = Browser(node)
    r = sign_in(provider, b, "eve")
    c.error("a user outside allow_group", r, 403)
    c.check("the message says why", "not in the group allowed" in r.brief(), r.brief())
    c.status("eve has no account", node.client().get("/api/v1/accounts/lookup",
                                                       query={"acct": "eve"}), 404)
    # a wrong state, with the browser's cookie
    b = Browser(node)
    r, to = start(b)
    back = provider.sign_in(to, "bob", PASSWORDS["bob"])
    parts = urllib.parse.urlsplit(back)
    q = dict(urllib.parse.parse_qsl(parts.query))
    wrong = dict(q, state="B" * 43)
    r = b.get(parts.path + "?" + urllib.parse.urlencode(wrong))
    c.error("a callback with a wrong state", r, 400)
    c.check("it says the state is wrong", "state is wrong" in r.brief(), r.brief())
    # an unknown state that the cookie matches (a browser that forged both)
    b.cookies["ruche_oidc"] = "C" * 43
    r = b.get(parts.path + "?" + urllib.parse.urlencode(dict(q, state="C" * 43)))
    c.error("an unknown state", r, 400)
    c.check("it says the sign-in is unknown", "unknown, expired or already finished" in r.brief())
    # the real callback, then the same again with the cookie kept
    b = Browser(node)
    r, to = start(b)
    back = provider.sign_in(to, "bob", PASSWORDS["bob"])
    cookie = b.cookies.get("ruche_oidc")
    c.status("the callback", b.get(rt.path_of(back)), 200)
    b.cookies["ruche_oidc"] = cookie
    r = b.get(rt.path_of(back))
    c.error("the same callback replayed", r, 400)
    c.check("refused as already finished", "already finished" in r.brief(), r.brief())
    r = Browser(node).get(rt.path_of(back))
    c.error("the callback in another browser", r, 400)
    r = b.get("/auth/oidc/callback", query={"error": "access_denied", "state": cookie})
    c.error("the provider's error", r, 401)
    c.check("named", "access_denied" in r.brief(), r.brief())
    for bad in ("//evil.example/", "https://evil.example/", "/\\evil.example", "/a b"):
        c.error("return=%r" % bad, Browser(node).get("/auth/oidc/start",
                                                      query={"return": bad}), 422)
    # carol is a local account: not taken over
    admin = node.client(node.client().login("admin", node.admin_password()))
    r = admin.post("/api/ruche/v1/admin/users", json_body={"username": "carol"})
    c.status("a local account carol", r, 200)
    r = sign_in(provider, Browser(node), "carol")
    c.error("carol through the provider", r, 409)
    c.check("it says the account belongs to someone else", "someone else" in r.brief())
    c.check("refusals are logged", node.log_text().count("refused:") >= 5)


def s_app(c, node, provider):
    anon = node.client()
    app = anon.post("/api/v1/apps", form={"client_name": "Pinafore", "redirect_uris": REDIRECT,
                                         "scopes": "read write"}).json
    b = Browser(node)
    page = b.get("/oauth/authorize", query={"response_type": "code",
                                            "client_id": app["client_id"],
                                            "redirect_uri": REDIRECT, "scope": "read write",
                                            "state": "st&1"})
    c.status("the app's authorization page", page, 200)
    m = re.search(r'<a id="oidc" href="([^"]*)">Sign in with Corp</a>', page.raw.decode())
    c.check("it offers Sign in with Corp", m, page.brief(600))
    if not m:
        return
    r = b.get(html.unescape(m.group(1)))
    c.status("the link starts a sign-in", r, 302)
    back = provider.sign_in(r.header("Location"), "bob", PASSWORDS["bob"])
    r = b.get(rt.path_of(back))
    c.status("the callback", r, 200)
    to = next_of(r) or ""
    c.check("it goes back to the authorization request", to.startswith("/oauth/authorize?"), to)
    page = b.get(to)
    c.status("the authorization page again", page, 200)
    text = page.raw.decode()
    c.check("signed in: the consent alone", "Signed in as <strong>bob</strong>" in text and
            'name="password"' not in text, page.brief(800))
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', text))
    fields = {k: html.unescape(v) for k, v in fields.items()}
    r = b.post("/oauth/authorize", form=fields)
    c.status("the consent", r, 302)
    loc = r.header("Location") or ""
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
    c.check("the code goes to the app's redirect URI", loc.startswith(REDIRECT + "?code="), loc)
    c.equal("with its state", q.get("state"), ["st&1"])
    r = anon.post("/oauth/token", form={"grant_type": "authorization_code",
                                        "code": (q.get("code") or [""])[0],
                                        "client_id": app["client_id"],
                                        "client_secret": app["client_secret"],
                                        "redirect_uri": REDIRECT})
    c.status("the app's token", r, 200)
    token = (r.json or {}).get("access_token")
    r = anon.get("/api/v1/accounts/verify_credentials", token=token)
    c.equal("verify_credentials: bob", (r.json or {}).get("username"), "bob")
    c.equal("with the display name of the claims", (r.json or {}).get("display_name"),
            "Bob Martin")


def s_pending(c, node, provider, secret):
    node.stop()
    node.start(oidc_settings(provider.issuer, secret, **{"oidc.pending": "3"}))
    got = [start(Browser(node))[0].status for _ in range(3)]
    c.equal("three sign-ins under way with [oidc] pending = 3", got, [302, 302, 302])
    r = start(Browser(node))[0]
    c.error("a fourth", r, 503)
    c.check("it says too many are under way", "too many sign-ins" in r.brief(), r.brief())
    c.check("with Retry-After", r.header("Retry-After") is not None)


def timed_start(node):
    """GET /auth/oidc/start in a new browser: the reply and the seconds it took."""
    t0 = time.monotonic()
    r = start(Browser(node))[0]
    return r, time.monotonic() - t0


def error_of(reply):
    return (reply.json or {}).get("error") if isinstance(reply.json, dict) else None


def take_connections(listener, wait_s=0.0):
    """The connections waiting on listener, taken off its queue (held
    open, never answered), waiting up to wait_s for the first."""
    ready, _, _ = select.select([listener], [], [], wait_s)
    taken = []
    listener.setblocking(False)
    try:
        while ready:
            try:
                taken.append(listener.accept()[0])
            except BlockingIOError:
                break
    finally:
        listener.setblocking(True)
    return taken


def s_provider_back(c, node, provider, secret):
    """A stopped provider, then started again: within [oidc] retry_s (its
    default here) sign-ins fail at once; the first after it reaches the
    provider, which answers, and sign-ins work again."""
    provider.stop()
    node.stop()
    node.start(oidc_settings(provider.issuer, secret))
    r, took = timed_start(node)
    failed_at = time.monotonic()
    c.error("a stopped provider", r, 502)
    c.check("the message says so and that passwords still work",
            "cannot be reached" in r.brief() and "password" in r.brief(), r.brief())
    c.check("within timeout_ms and a margin (%.2f s)" % took, took < TIMEOUT_MS / 1000 + MARGIN_S)
    r2, took = timed_start(node)
    c.error("the next sign-in", r2, 502)
    c.equal("fails with the same message", error_of(r2), error_of(r))
    c.check("at once (%.3f s)" % took, took < FAST_S)
    provider.start()
    deadline = failed_at + RETRY_DEFAULT_S + MARGIN_S + 10
    waits = []
    while True:
        r, took = timed_start(node)
        if r.status != 502 or time.monotonic() > deadline:
            break
        waits.append(took)
        time.sleep(0.1)  # polling the condition, with the deadline above
    back_after = time.monotonic() - failed_at
    c.check("until then, each of %d sign-ins failed at once (the longest: %.3f s)"
            % (len(waits), max(waits or [0])), waits and max(waits) < FAST_S)
    c.status("once the provider runs again, a sign-in starts", r, 302)
    c.check("not before retry_s = %d s, its default (%.2f s)" % (RETRY_DEFAULT_S, back_after),
            back_after >= RETRY_DEFAULT_S - 0.3)
    c.status("and goes through", sign_in(provider, Browser(node), "bob"), 200)
    log = node.log_text()
    c.check("the window and the provider's return are logged",
            "fail at once for 10 s" in log and "the identity provider answers again" in log,
            log[-1500:])


def s_hanging(c, node, provider, secret):
    """A provider that accepts connections and never answers: one sign-in
    waits timeout_ms; for [oidc] retry_s the others fail at once without
    trying it; then one tries again while the others still fail at once."""
    pw = node.admin_password()
    hang = hanging_listener()
    held = []
    issuer = "http://127.0.0.1:%d/hang" % hang.getsockname()[1]
    try:
        node.stop()
        node.start(oidc_settings(issuer, secret, **{"oidc.retry_s": str(RETRY_S)}))
        r, took = timed_start(node)
        failed_at = time.monotonic()
        c.error("a provider that never answers", r, 502)
        c.check("it says it did not answer in time", "did not answer in time" in r.brief(),
                r.brief())
        c.check("after timeout_ms, within a margin (%.2f s)" % took,
                TIMEOUT_MS / 1000 - 0.1 <= took < TIMEOUT_MS / 1000 + MARGIN_S)
        held += take_connections(hang)
        c.check("it was tried", len(held) >= 1, len(held))
        r2, took = timed_start(node)
        c.error("the second sign-in", r2, 502)
        c.equal("fails with the same message", error_of(r2), error_of(r))
        c.check("at once (%.3f s)" % took, took < FAST_S)
        c.equal("without trying the provider", len(take_connections(hang)), 0)
        c.check("the local admin still gets a token", node.client().login("admin", pw))
        r = node.client().post("/auth/sign_in", json_body={"username": "admin", "password": pw})
        c.status("and signs in to the web front end", r, 200)
        # past the window: one sign-in tries the provider again
        results = []

        def poll():
            end = failed_at + RETRY_S + MARGIN_S + 10
            while time.monotonic() < end:
                got, t = timed_start(node)
                results.append((got, t))
                if t >= TIMEOUT_MS / 1000 - 0.1:
                    return
                time.sleep(0.1)  # polling the condition, with the deadline above

        poller = threading.Thread(target=poll)
        poller.start()
        probe = take_connections(hang, RETRY_S + MARGIN_S + 10)
        probed_after = time.monotonic() - failed_at
        held += probe
        c.check("after the window, a sign-in tries the provider again", len(probe) == 1,
                len(probe))
        c.check("not before retry_s = %d s (%.2f s)" % (RETRY_S, probed_after),
                probed_after >= RETRY_S - 0.3)
        r3, took = timed_start(node)
        c.equal("while it waits for it, another fails with the same message",
                (r3.status, error_of(r3)), (502, error_of(r2)))
        c.check("at once (%.3f s)" % took, took < FAST_S)
        c.equal("without trying the provider too", len(take_connections(hang)), 0)
        poller.join()
        last, took = results[-1] if results else (None, 0)
        c.check("the one that tried waited timeout_ms (%.2f s)" % took,
                took >= TIMEOUT_MS / 1000 - 0.1)
        c.check("and failed with the same message", last is not None and
                error_of(last) == error_of(r2), last and last.brief())
        c.check("the window is logged", "fail at once for %d s" % RETRY_S in node.log_text())
        # retry_s = 0: every sign-in tries the provider
        node.stop()
        node.start(oidc_settings(issuer, secret, **{"oidc.retry_s": "0"}))
        for n in ("first", "second"):
            r, took = timed_start(node)
            held += take_connections(hang)
            c.check("retry_s = 0: the %s sign-in waits timeout_ms (%.2f s)" % (n, took),
                    r.status == 502 and took >= TIMEOUT_MS / 1000 - 0.1, r.brief())
        c.equal("both tried the provider", len(held), 4)
    finally:
        for conn in held:
            conn.close()
        hang.close()


def s_forged(c, node, secret):
    shop = TokenShop()
    try:
        node.stop()
        node.start(oidc_settings(shop.issuer, secret))

        def attempt(make):
            b = Browser(node)
            r, to = start(b)
            q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(to or "").query))
            shop.token = make(q.get("nonce", ""))
            return b.get("/auth/oidc/callback", query={"state": q.get("state", ""),
                                                       "code": "c1"}), q.get("nonce")

        r, first_nonce = attempt(lambda n: shop.sign(shop.claims(n)))
        c.status("a good token of the test's provider", r, 200)
        cases = [
            ("a token signed by another key", "signature",
             lambda n: shop.sign(shop.claims(n), key=shop.forger)),
            ("an expired token", "expired",
             lambda n: shop.sign(shop.claims(n, exp=int(time.time()) - 3600,
                                             iat=int(time.time()) - 7200))),
            ("a token for another audience", "audience",
             lambda n: shop.sign(shop.claims(n, aud="another-app"))),
            ("a token with the nonce of an earlier sign-in", "nonce",
             lambda n: shop.sign(shop.claims(first_nonce))),
            ("a token of another issuer", "issuer",
             lambda n: shop.sign(shop.claims(n, iss="https://evil.example"))),
            ("a token signed by a key the set lacks", "key",
             lambda n: shop.sign(shop.claims(n), key=shop.forger, kid="k9")),
        ]
        for name, word, make in cases:
            r, _ = attempt(make)
            c.error(name, r, 401)
            c.check("%s: the message says %s" % (name, word), word in r.brief(), r.brief())
        log = node.log_text()
        c.check("each is logged", log.count("sign-in from 127.0.0.1 refused: the ID token") >= 6,
                log[-2000:])
    finally:
        shop.close()


def run(c, ruched):
    with rt.Node(ruched) as node:
        callback = "http://127.0.0.1:%d/auth/oidc/callback" % node.port
        secret = os.path.join(node.tmp, "oidc.secret")
        with oidc.Provider(users=USERS, redirect_uris=[callback]) as provider:
            with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(provider.client_secret + "\n")
            with c.section("the provider starts"):
                provider.start()
            node.start(oidc_settings(provider.issuer, secret))
            with c.section("the web front end's sign-in"):
                s_web(c, node, provider)
            with c.section("the profile from the claims"):
                s_claims(c, node, provider)
            with c.section("refusals"):
                s_refusals(c, node, provider)
            with c.section("a Mastodon app"):
                s_app(c, node, provider)
            with c.section("id_claim and the directory import"):
                s_with_directory(c, node, provider, secret)
            with c.section("sign-ins under way are bounded"):
                s_pending(c, node, provider, secret)
            with c.section("a provider that is stopped, then back"):
                s_provider_back(c, node, provider, secret)
            with c.section("a provider that never answers"):
                s_hanging(c, node, provider, secret)
            with c.section("tokens the node must refuse"):
                s_forged(c, node, secret)
            with c.section("off"):
                node.stop()
                node.start()
                c.equal("GET /auth/oidc without [oidc]", node.client().get("/auth/oidc").json,
                        {"enabled": False})
                c.error("/auth/oidc/start without [oidc]",
                        node.client().get("/auth/oidc/start"), 404)
            reports = node.sanitizer_reports()
            c.check("no sanitizer reports", not reports, reports[:5])


if __name__ == "__main__":
    rt.main_wrapper(run)
