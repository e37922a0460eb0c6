#!/usr/bin/python3
"""test_web.py - what a real ruched serves to browsers: the web front end's
static files, the security headers of every response, and the web
sessions (/auth/sign_in, /auth/session, /auth/sign_out) with their cookie
and CSRF token, and the relationships a profile page shows.

The first node runs from the build tree with the default web root, which
must be the source tree's node/web. A second node gets a web root made by
the test, holding what must never be served (a hidden file, a link out of
the root, a file of unknown type, a folder) and an https public URL (the
cookie becomes Secure).

Usage: test_web.py PATH/TO/ruched. Prints one line per check and
"N passed, M failed"; exits non-zero if any check failed.
"""

import os
import socket
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ruchetest as rt  # noqa: E402

SOURCE_WEB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "node", "web")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
       "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; "
       "form-action 'self'")
SECURITY = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}

TRAVERSALS = ("/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
              "/..%2f..%2f..%2fetc%2fpasswd", "/app/../../../etc/passwd",
              "/%2e%2e%2f%2e%2e%2fetc%2fpasswd.txt", "/..%5c..%5cetc%5cpasswd",
              "/%252e%252e/%252e%252e/etc/passwd", "/.%2e/.%2e/etc/hostname.txt",
              "/api/v1/../../etc/passwd", "/api/v1/%2e%2e/%2e%2e/etc/passwd",
              "/api/v1/statuses/..%2f..%2f..%2f..%2fetc%2fpasswd",
              "/api/v1/%2E%2E/%2E%2E/%2E%2E/etc/passwd")


def source_file(name):
    with open(os.path.join(SOURCE_WEB, name), "rb") as f:
        return f.read()


def check_security(c, name, reply):
    for header, value in SECURITY.items():
        c.equal("%s: %s" % (name, header), reply.header(header), value)


def cookie_of(reply):
    """(value, attributes in lower case) of the ruche_session Set-Cookie."""
    for line in reply.headers.get_all("Set-Cookie") or []:
        if line.startswith("ruche_session="):
            value, _, rest = line.partition(";")
            attrs = [a.strip().lower() for a in rest.split(";") if a.strip()]
            return value.split("=", 1)[1], attrs
    return None, []


def raw_request(port, data):
    """Sends bytes as they are; the first line and the body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    head, _, body = out.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


# ---------------------------------------------------------------------
# The default web root


def s_files(c, node):
    anon = node.client()
    index = source_file("index.html")
    r = anon.get("/")
    c.status("GET /", r, 200)
    c.equal("GET / is node/web/index.html of the source tree", r.raw, index)
    c.equal("GET /: text/html", r.header("Content-Type"), "text/html; charset=utf-8")
    c.equal("GET /: Cache-Control no-cache", r.header("Cache-Control"), "no-cache")
    c.check("GET /: an ETag", bool(r.header("ETag")), r.headers)
    c.check("GET /: a Last-Modified", bool(r.header("Last-Modified")), r.headers)
    check_security(c, "GET /", r)
    for path in ("/index.html", "/@alice", "/@john.smith", "/@bob@nozay", "/tags/lunch",
                 "/statuses/123456", "/groups", "/notifications", "/search?q=x", "/public/local",
                 "/ops"):
        r = anon.get(path)
        c.check("GET %s is the application" % path, r.status == 200 and r.raw == index,
                "%d %s" % (r.status, r.brief(80)))
    for name, ctype in (("app/main.js", "text/javascript; charset=utf-8"),
                        ("app/views/timelines.js", "text/javascript; charset=utf-8"),
                        ("style.css", "text/css; charset=utf-8"),
                        ("i18n/fr.json", "application/json; charset=utf-8"),
                        ("favicon.svg", "image/svg+xml")):
        r = anon.get("/" + name)
        c.check("GET /%s is the file" % name, r.status == 200 and r.raw == source_file(name),
                "%d" % r.status)
        c.equal("GET /%s: Content-Type" % name, r.header("Content-Type"), ctype)
    r = anon.request("HEAD", "/")
    c.check("HEAD /: 200, the length, no body", r.status == 200 and r.raw == b"" and
            r.header("Content-Length") == str(len(index)), (r.status, r.headers))


def s_revalidation(c, node):
    anon = node.client()
    r = anon.get("/")
    etag, modified = r.header("ETag"), r.header("Last-Modified")
    r2 = anon.get("/", headers={"If-None-Match": etag})
    c.check("If-None-Match with the ETag: 304 without a body",
            r2.status == 304 and r2.raw == b"", (r2.status, r2.brief(80)))
    check_security(c, "304", r2)
    r2 = anon.get("/", headers={"If-None-Match": '"other"'})
    c.status("If-None-Match with another ETag", r2, 200)
    r2 = anon.get("/", headers={"If-Modified-Since": modified})
    c.status("If-Modified-Since with Last-Modified", r2, 304)
    r2 = anon.get("/", headers={"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"})
    c.status("If-Modified-Since long ago", r2, 200)


def s_not_web(c, node):
    anon = node.client()
    for path in ("/missing.js", "/no/such/file.css", "/favicon-none.ico", "/.env.json",
                 "/.git/config.txt"):
        r = anon.get(path)
        c.error("GET %s (a file that is not there)" % path, r, 404)
        check_security(c, "GET %s" % path, r)
    for path in ("/api/v1/nothing", "/api", "/oauth/nothing", "/auth/nothing", "/auth",
                 "/.well-known/nothing", "/nodeinfo/9.9"):
        c.error("GET %s is the API's, not the application" % path, anon.get(path), 404)
    c.error("POST / is not the application", anon.post("/", json_body={}), 404)
    c.error("DELETE /index.html", anon.delete("/index.html"), 404)
    for path in TRAVERSALS:
        r = anon.get(path)
        ok = (r.status == 404 and r.json is not None) or (r.status == 200 and
                                                           r.raw == source_file("index.html"))
        c.check("%s: a JSON 404 or the application" % path, ok, "%d %s" % (r.status, r.brief(80)))
        c.check("%s: no file of the system" % path, b"root:" not in r.raw, r.brief(80))
    head, body = raw_request(node.port, b"GET /\x01bad HTTP/1.1\r\nHost: x\r\n\r\n")
    c.check("a malformed request: an error, JSON", head.startswith("HTTP/1.1 4") and
            body.startswith(b"{"), head.splitlines()[:1])


def s_api_headers(c, node):
    anon = node.client()
    for name, r in (("GET /api/v1/instance", anon.get("/api/v1/instance")),
                    ("a 404 of the API", anon.get("/api/v1/nothing")),
                    ("a 401", anon.get("/api/v1/accounts/verify_credentials")),
                    ("a 405", anon.delete("/api/v1/timelines/public"))):
        check_security(c, name, r)
        c.equal("%s: Cache-Control no-store" % name, r.header("Cache-Control"), "no-store")


# ---------------------------------------------------------------------
# Sessions


class Browser:
    """A client that keeps the session cookie, as a browser does."""

    def __init__(self, node):
        self.client = node.client()
        self.cookie = None
        self.csrf = None

    def send(self, method, path, csrf=False, **kw):
        headers = dict(kw.pop("headers", {}))
        if self.cookie:
            headers["Cookie"] = "ruche_session=" + self.cookie
        if csrf and self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        r = self.client.request(method, path, headers=headers, **kw)
        value, attrs = cookie_of(r)
        if value is not None:
            self.cookie = value or None
        return r

    def sign_in(self, user, password, **kw):
        r = self.send("POST", "/auth/sign_in", json_body={"username": user, "password": password},
                      **kw)
        if r.status == 200:
            self.csrf = r.json.get("csrf_token")
        return r


def s_sign_in(c, node, ctx):
    password = node.admin_password()
    b = Browser(node)
    c.error("sign in without a password", b.send("POST", "/auth/sign_in",
                                                 json_body={"username": "admin"}), 422)
    c.error("sign in with no body", b.send("POST", "/auth/sign_in"), 422)
    c.error("sign in with a wrong password", b.sign_in("admin", password + "x"), 401)
    c.error("sign in as nobody", b.sign_in("nobody", password), 401)
    c.check("no cookie after failures", b.cookie is None, b.cookie)
    c.error("sign in from another site's page", b.sign_in(
        "admin", password, headers={"Origin": "http://evil.example"}), 403)
    c.check("no cookie after a cross-site sign-in", b.cookie is None, b.cookie)
    r = b.sign_in("admin", password, headers={"Origin": "http://127.0.0.1:%d" % node.port})
    c.status("sign in (JSON)", r, 200)
    value, attrs = cookie_of(r)
    c.check("the session cookie is set", bool(value) and len(value) == 43, value)
    for attr in ("httponly", "samesite=strict", "path=/"):
        c.check("the cookie has %s" % attr, attr in attrs, attrs)
    c.check("the cookie is not Secure on http", "secure" not in attrs, attrs)
    c.check("the cookie lasts 30 days", "max-age=2592000" in attrs, attrs)
    body = r.json or {}
    c.check("the answer has a csrf_token", isinstance(body.get("csrf_token"), str) and
            len(body["csrf_token"]) == 43, body)
    c.equal("the answer has the account", (body.get("account") or {}).get("username"), "admin")
    c.check("the token is not in the body", value not in r.raw.decode(), r.brief())
    form = node.client().post("/auth/sign_in", form={"username": "admin", "password": password})
    c.status("sign in (form)", form, 200)
    c.check("a form sign-in sets a cookie too", cookie_of(form)[0], form.headers)
    ctx["browser"] = b


def s_session(c, node, ctx):
    b = ctx["browser"]
    r = b.send("GET", "/auth/session")
    c.status("GET /auth/session with the cookie", r, 200)
    c.equal("it gives the same CSRF token", (r.json or {}).get("csrf_token"), b.csrf)
    c.equal("it gives the account", ((r.json or {}).get("account") or {}).get("acct"), "admin")
    c.error("GET /auth/session without the cookie", node.client().get("/auth/session"), 401)
    c.error("GET /auth/session with a made-up cookie", node.client().get(
        "/auth/session", headers={"Cookie": "ruche_session=" + "A" * 43}), 401)
    r = b.send("GET", "/api/v1/accounts/verify_credentials")
    c.status("the cookie signs API reads in", r, 200)
    r = b.send("POST", "/api/v1/statuses", json_body={"status": "no token"})
    c.error("a cookie-signed post without the CSRF token", r, 403)
    r = b.send("POST", "/api/v1/statuses", json_body={"status": "bad token"},
               headers={"X-CSRF-Token": "A" * 43})
    c.error("a cookie-signed post with a wrong CSRF token", r, 403)
    r = b.send("POST", "/api/v1/statuses", csrf=True, json_body={"status": "from the web"})
    c.status("a cookie-signed post with X-CSRF-Token", r, 200)
    r = b.send("POST", "/api/v1/statuses", form={"status": "form post",
                                                  "authenticity_token": b.csrf})
    c.status("a cookie-signed form post with authenticity_token", r, 200)


def s_sign_out(c, node, ctx):
    b = ctx["browser"]
    old = b.cookie
    c.error("sign out without the CSRF token", b.send("POST", "/auth/sign_out"), 403)
    r = b.send("POST", "/auth/sign_out", csrf=True)
    c.status("sign out", r, 200)
    value, attrs = cookie_of(r)
    c.check("sign out clears the cookie", value == "" and "max-age=0" in attrs, (value, attrs))
    stale = node.client().get("/auth/session", headers={"Cookie": "ruche_session=" + old})
    c.error("the old cookie no longer signs in", stale, 401)
    r = node.client().post("/auth/sign_out")
    c.status("sign out without a session", r, 200)


def s_relationships(c, node, ctx):
    """What the profile page needs: a new user's account (no post yet)
    found by id, followed, and the relationships of both sides."""
    admin = node.client(node.client().login("admin", node.admin_password()))
    r = admin.post("/api/ruche/v1/admin/users", json_body={"username": "newcomer"})
    c.status("create newcomer", r, 200)
    newcomer = node.client(node.client().login("newcomer", r.json["password"]))
    acct = admin.get("/api/v1/accounts/lookup", query={"acct": "newcomer"}).json or {}
    me = admin.get("/api/v1/accounts/verify_credentials").json or {}
    c.status("a user without posts: GET /api/v1/accounts/:id",
             admin.get("/api/v1/accounts/%s" % acct.get("id")), 200)
    c.status("... their statuses", admin.get("/api/v1/accounts/%s/statuses" % acct.get("id")), 200)
    r = admin.get("/api/v1/accounts/relationships", query={"id[]": acct.get("id")})
    c.equal("relationships before following",
            [(x.get("id"), x.get("following")) for x in r.json or []], [(acct.get("id"), False)])
    c.status("follow a user without posts", admin.post("/api/v1/accounts/%s/follow"
                                                       % acct.get("id")), 200)
    path = "/api/v1/accounts/relationships?id[]=%s&id[]=%s&id[]=999" % (acct.get("id"),
                                                                        me.get("id"))
    r = admin.get(path)
    c.equal("relationships of two ids (an unknown one left out)",
            [(x.get("id"), x.get("following")) for x in r.json or []],
            [(acct.get("id"), True), (me.get("id"), False)])
    r = newcomer.get("/api/v1/accounts/relationships", query={"id": me.get("id")})
    c.equal("the other side: followed_by", [(x.get("following"), x.get("followed_by"))
                                             for x in r.json or []], [(False, True)])
    c.error("relationships need a session", node.client().get(path), 401)
    c.equal("relationships without ids", admin.get("/api/v1/accounts/relationships").json, [])


# ---------------------------------------------------------------------
# A web root of the test's own


def make_root(tmp):
    root = os.path.join(tmp, "web")
    os.makedirs(os.path.join(root, "sub", "deeper"))
    files = {"index.html": b"<!doctype html><title>test root</title>\n",
             "sub/page.css": b"body{}\n", ".hidden.js": b"secret()\n",
             "notes.secret": b"secret notes\n", "sub/deeper/x.js": b"x()\n"}
    for name, data in files.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
    outside = os.path.join(tmp, "outside.js")
    with open(outside, "wb") as f:
        f.write(b"outside()\n")
    os.symlink(outside, os.path.join(root, "link.js"))
    return root


def s_rate_limit(c, node):
    """[http] login_failures is 3 on this node."""
    anon, password = node.client(), node.admin_password()
    for i in range(3):
        r = anon.post("/auth/sign_in", json_body={"username": "admin", "password": "wrong"})
        c.error("wrong password %d" % (i + 1), r, 401)
    r = anon.post("/auth/sign_in", json_body={"username": "admin", "password": password})
    c.error("a fourth sign-in, even with the right password", r, 429)
    c.check("429 says when to retry", (r.header("Retry-After") or "").isdigit(), r.headers)
    c.check("429 sets no cookie", cookie_of(r)[0] is None, r.headers.get_all("Set-Cookie"))
    r = anon.post("/oauth/token", json_body={"grant_type": "password", "username": "admin",
                                             "password": password})
    c.error("the password grant shares the limit", r, 429)


def s_own_root(c, ruched):
    with tempfile.TemporaryDirectory(prefix="ruche_web.") as tmp:
        root = make_root(tmp)
        settings = ["http.web_root=" + root, "http.public_url=https://ruche.example.com",
                    "http.login_failures=3"]
        with rt.Node(ruched, site="webroot", settings=settings) as node:
            node.start()
            anon = node.client()
            r = anon.get("/")
            c.equal("[http] web_root: its index.html", r.raw,
                    b"<!doctype html><title>test root</title>\n")
            r = anon.get("/sub/page.css")
            c.check("a file in a folder", r.status == 200 and r.raw == b"body{}\n", r.status)
            c.check("a file two folders down", anon.get("/sub/deeper/x.js").raw == b"x()\n")
            c.error("a hidden file", anon.get("/.hidden.js"), 404)
            c.error("a link out of the root", anon.get("/link.js"), 404)
            r = anon.get("/notes.secret")
            c.check("a file of unknown type is not served", b"secret" not in r.raw, r.brief(80))
            for path in ("/sub", "/sub/", "/sub/deeper/"):
                r = anon.get(path)
                c.check("%s: no listing" % path, b"page.css" not in r.raw and
                        b"x.js" not in r.raw, r.brief(80))
            r = node.client().post("/auth/sign_in", json_body={
                "username": "admin", "password": node.admin_password()})
            c.check("an https public URL makes the cookie Secure", "secure" in cookie_of(r)[1],
                    r.headers.get_all("Set-Cookie"))
            s_rate_limit(c, node)
            c.equal("SIGTERM stops it with 0", node.stop(), 0)
            c.check("no sanitizer report", not node.sanitizer_reports(),
                    node.sanitizer_reports()[:5])


def run(c, ruched):
    with rt.Node(ruched, site="webtest") as node:
        node.start()
        c.check("the log names the web root", "web front end served from" in node.log_text(),
                node.log_tail())
        ctx = {}
        for name, fn in (("static files", s_files), ("revalidation", s_revalidation),
                         ("not the application", s_not_web), ("API headers", s_api_headers)):
            with c.section(name):
                fn(c, node)
        for name, fn in (("sign in", s_sign_in), ("session", s_session), ("sign out", s_sign_out),
                         ("relationships", s_relationships)):
            with c.section(name):
                fn(c, node, ctx)
        c.equal("SIGTERM stops the node with 0", node.stop(), 0)
        c.check("no sanitizer report in the node's log", not node.sanitizer_reports(),
                node.sanitizer_reports()[:5])
    with c.section("a web root of its own"):
        s_own_root(c, ruched)


if __name__ == "__main__":
    rt.main_wrapper(run)
