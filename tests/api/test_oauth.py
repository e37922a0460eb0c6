#!/usr/bin/python3
"""test_oauth.py - OAuth 2 for apps, compatibility and sign-in limits of a
real ruched.

One node goes through what a Mastodon app does: registering (form, JSON
and multipart bodies), the login page of the authorization code flow
driven with plain HTTP (its CSRF cookie, escaping, security headers, error
pages that never redirect to an unregistered address, the out-of-band
code), the token endpoint's three grants and every error of RFC 6749,
scopes (a read token cannot write; the administrators' endpoints need
admin:read or admin:write, the backup admin:write), tokens of the app
alone, revocation,
trailing slashes, multipart bodies, the version, instance v1/v2 streaming
URLs and NodeInfo. A second node with a small limit (3 failures in 2 s)
shows failed sign-ins refused with 429 and Retry-After on the password
grant and the login page, by address and by user name, until the window
ends, and app registrations limited per address the same way.

Usage: test_oauth.py PATH/TO/ruched. Prints one line per check and
"N passed, M failed"; exits non-zero if any check failed.
"""

import base64
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ruchetest as rt  # noqa: E402

OOB = "urn:ietf:wg:oauth:2.0:oob"
REDIRECT = "https://app.example/callback?from=ruche"
VERSION_RE = re.compile(r"^4\.\d+\.\d+ \(compatible; ruche \d+\.\d+\)$")
HIDDEN_RE = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


class World:
    """What the sections share."""

    def __init__(self, node):
        self.node = node
        self.anon = node.client()
        self.password = None
        self.app = None  # the app registered with a form body
        self.other = None  # a second app
        self.user_token = None  # from the authorization code flow (read write)


def cookie_of(reply, name):
    """The value set for cookie name by a reply, and its attributes."""
    for line in reply.headers.get_all("Set-Cookie") or []:
        first, _, attrs = line.partition(";")
        k, _, v = first.strip().partition("=")
        if k == name:
            return v, attrs
    return None, ""


def form_fields(html):
    """The hidden fields of the login form as {name: value}."""
    import html as htmlmod
    return {k: htmlmod.unescape(v) for k, v in HIDDEN_RE.findall(html)}


def oauth_error(c, name, reply, status, error):
    """Checks an OAuth error answer: status, error and a description."""
    c.status(name, reply, status)
    body = reply.json if isinstance(reply.json, dict) else {}
    c.equal("%s: error is %s" % (name, error), body.get("error"), error)
    c.check("%s: has an error_description" % name,
            isinstance(body.get("error_description"), str), reply.brief())


def register(client, **fields):
    r = client.post("/api/v1/apps", form=fields)
    if r.status != 200 or not isinstance(r.json, dict):
        raise rt.TestError("POST /api/v1/apps: %d %s" % (r.status, r.brief()))
    return r.json


def authorize_page(client, app, redirect_uri=REDIRECT, scope="read write", state="s<1>&\"x",
                   cookie=None):
    query = {"response_type": "code", "client_id": app["client_id"],
             "redirect_uri": redirect_uri, "scope": scope, "state": state}
    headers = {"Cookie": cookie} if cookie else None
    return client.get("/oauth/authorize", query=query, headers=headers)


def sign_in(client, page, username, password, csrf_cookie, **override):
    """Posts the login form of page as a browser holding csrf_cookie."""
    fields = form_fields(page.raw.decode())
    fields.update({"username": username, "password": password})
    fields.update(override)
    headers = {"Cookie": "ruche_oauth_csrf=%s" % csrf_cookie} if csrf_cookie else None
    return client.post("/oauth/authorize", form=fields, headers=headers)


# ---------------------------------------------------------------------
# Sections


def s_apps(c, w):
    anon = w.anon
    r = anon.post("/api/v1/apps", form={"client_name": "Test app",
                                        "redirect_uris": "%s\n%s" % (OOB, REDIRECT),
                                        "scopes": "read write", "website": "https://app.example"})
    c.status("POST /api/v1/apps (form)", r, 200)
    app = r.json if isinstance(r.json, dict) else {}
    w.app = app
    for key in ("id", "name", "website", "redirect_uri", "client_id", "client_secret"):
        c.check("the app has %s as a string" % key, isinstance(app.get(key), str), app)
    c.equal("vapid_key is empty", app.get("vapid_key"), "")
    c.equal("redirect_uris lists both", app.get("redirect_uris"), [OOB, REDIRECT])
    c.equal("redirect_uri joins them with a newline", app.get("redirect_uri"),
            "%s\n%s" % (OOB, REDIRECT))
    c.equal("scopes", app.get("scopes"), ["read", "write"])
    c.check("the id is numeric", rt.ID_RE.match(app.get("id", "")), app.get("id"))
    r = anon.post("/api/v1/apps", json_body={"client_name": "JSON app",
                                             "redirect_uris": [OOB]})
    c.status("POST /api/v1/apps (JSON, redirect_uris as a list)", r, 200)
    c.equal("scopes default to read", (r.json or {}).get("scopes"), ["read"])
    c.equal("no website is null", (r.json or {}).get("website"), None)
    w.other = r.json
    body, ctype = multipart({"client_name": "Multipart app", "redirect_uris": OOB,
                             "scopes": "read write follow push"})
    r = anon.post("/api/v1/apps/", body=body, content_type=ctype)
    c.status("POST /api/v1/apps/ (multipart, trailing slash)", r, 200)
    c.equal("multipart scopes", (r.json or {}).get("scopes"),
            ["read", "write", "follow", "push"])
    bad = [({"redirect_uris": OOB}, "no client_name"),
           ({"client_name": "", "redirect_uris": OOB}, "an empty client_name"),
           ({"client_name": "x" * 201, "redirect_uris": OOB}, "a client_name over 200"),
           ({"client_name": "x"}, "no redirect_uris"),
           ({"client_name": "x", "redirect_uris": "javascript:alert(1)"}, "a javascript: URI"),
           ({"client_name": "x", "redirect_uris": "https://a.example/#frag"}, "a fragment"),
           ({"client_name": "x", "redirect_uris": "/relative"}, "a relative URI"),
           ({"client_name": "x", "redirect_uris": "https:no-slashes"}, "https without //"),
           ({"client_name": "x", "redirect_uris": OOB, "scopes": "read launch"},
            "an unknown scope"),
           ({"client_name": "x", "redirect_uris": OOB, "website": "ftp://x.example"},
            "a website that is not http(s)")]
    for fields, what in bad:
        c.error("POST /api/v1/apps with %s" % what, anon.post("/api/v1/apps", form=fields), 422)
    c.error("GET /api/v1/apps", anon.get("/api/v1/apps"), 405)


def multipart(fields, files=()):
    """A multipart/form-data body of fields and (name, filename, bytes)
    files, and its content type."""
    boundary = "----rucheTestBoundary7MA4YWxk"
    out = []
    for k, v in fields.items():
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                    % (boundary, k, v)).encode())
    for name, filename, data in files:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                    "Content-Type: application/octet-stream\r\n\r\n"
                    % (boundary, name, filename)).encode() + data + b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return b"".join(out), "multipart/form-data; boundary=%s" % boundary


def s_login_page(c, w):
    anon = w.anon
    r = authorize_page(anon, w.app)
    c.status("GET /oauth/authorize", r, 200)
    c.check("the login page is HTML", (r.header("Content-Type") or "").startswith("text/html"))
    html = r.raw.decode()
    csp = r.header("Content-Security-Policy") or ""
    c.check("its CSP allows no script", "default-src 'none'" in csp and "script-src" not in csp,
            csp)
    c.check("its CSP lets the form go to this site and the app's origin",
            "form-action 'self' https://app.example;" in csp, csp)
    c.check("its CSP forbids framing", "frame-ancestors 'none'" in csp, csp)
    c.equal("X-Frame-Options", r.header("X-Frame-Options"), "DENY")
    value, attrs = cookie_of(r, "ruche_oauth_csrf")
    c.check("it sets a CSRF cookie", value and len(value) == 43, r.headers.get_all("Set-Cookie"))
    c.check("the cookie is HttpOnly and SameSite=Strict",
            "HttpOnly" in attrs and "SameSite=Strict" in attrs, attrs)
    fields = form_fields(html)
    c.equal("the form carries the cookie's value", fields.get("authenticity_token"), value)
    c.equal("the form keeps the state as sent", fields.get("state"), "s<1>&\"x")
    c.check("the state is escaped in the page", "s&lt;1&gt;&amp;&quot;x" in html)
    c.check("the page names the app and the scopes", "Test app" in html and "read write" in html)
    c.equal("a second visit keeps the browser's cookie",
            cookie_of(authorize_page(anon, w.app, cookie="ruche_oauth_csrf=" + value),
                      "ruche_oauth_csrf")[0], value)
    evil = register(anon, client_name="<script>alert(1)</script>", redirect_uris=OOB)
    r = authorize_page(anon, evil, redirect_uri=OOB, scope="read")
    c.check("an app's name is escaped", b"<script>" not in r.raw and
            b"&lt;script&gt;alert(1)&lt;/script&gt;" in r.raw, r.brief())
    c.check("an out-of-band app's form goes to this site only",
            "form-action 'self';" in (r.header("Content-Security-Policy") or ""))


def s_login_page_errors(c, w):
    anon = w.anon
    cases = [({"client_id": "nope"}, "an unknown client_id"),
             ({"redirect_uri": "https://evil.example/steal"}, "an unregistered redirect_uri"),
             ({"response_type": "token"}, "response_type=token"),
             ({"scope": "read write push"}, "a scope the app did not register"),
             ({"state": "s" * 600}, "a state over 512 characters")]
    for change, what in cases:
        query = {"response_type": "code", "client_id": w.app["client_id"],
                 "redirect_uri": REDIRECT, "scope": "read"}
        query.update(change)
        r = anon.get("/oauth/authorize", query=query)
        c.status("GET /oauth/authorize with %s" % what, r, 400)
        c.check("%s: an error page, no redirect" % what,
                r.header("Location") is None and b"Authorization failed" in r.raw, r.brief())
    fields = {"response_type": "code", "client_id": w.app["client_id"],
              "redirect_uri": "https://evil.example/", "username": "admin",
              "password": w.password}
    r = anon.post("/oauth/authorize", form=fields)
    c.status("POST /oauth/authorize to an unregistered redirect_uri", r, 400)
    c.check("no redirect to it", r.header("Location") is None)


def s_code_flow(c, w):
    anon = w.anon
    page = authorize_page(anon, w.app)
    csrf = cookie_of(page, "ruche_oauth_csrf")[0]
    r = sign_in(anon, page, "admin", w.password, None)
    c.status("the form without the CSRF cookie", r, 403)
    c.check("no code without the CSRF cookie", r.header("Location") is None)
    r = sign_in(anon, page, "admin", w.password, "A" * 43)
    c.status("the form with another CSRF cookie", r, 403)
    r = sign_in(anon, page, "admin", "wrong", csrf)
    c.status("the form with a wrong password", r, 401)
    c.check("the page says so", b"Wrong user name or password" in r.raw)
    r = sign_in(anon, page, "admin", w.password, csrf)
    c.status("the form with the right password", r, 302)
    loc = r.header("Location") or ""
    c.check("it redirects to the registered URI", loc.startswith(REDIRECT + "&code="), loc)
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
    c.equal("the state comes back unchanged", q.get("state"), ["s<1>&\"x"])
    c.equal("the URI's own query is kept", q.get("from"), ["ruche"])
    code = (q.get("code") or [""])[0]
    secret = w.app["client_secret"]
    token_req = {"grant_type": "authorization_code", "code": code,
                 "client_id": w.app["client_id"], "redirect_uri": REDIRECT}
    oauth_error(c, "the code with a wrong client secret",
                anon.post("/oauth/token", form=dict(token_req, client_secret="x")), 401,
                "invalid_client")
    oauth_error(c, "the code with another redirect_uri",
                anon.post("/oauth/token", form=dict(token_req, client_secret=secret,
                                                    redirect_uri=OOB)), 400, "invalid_grant")
    oauth_error(c, "the code for another client",
                anon.post("/oauth/token", form=dict(token_req, client_id=w.other["client_id"],
                                                    client_secret=w.other["client_secret"])),
                400, "invalid_grant")
    r = anon.post("/oauth/token", form=dict(token_req, client_secret=secret))
    c.status("POST /oauth/token with the code", r, 200)
    body = r.json if isinstance(r.json, dict) else {}
    c.equal("token_type", body.get("token_type"), "Bearer")
    c.equal("scope", body.get("scope"), "read write")
    c.check("created_at is a number", isinstance(body.get("created_at"), int))
    w.user_token = body.get("access_token")
    r = anon.get("/api/v1/accounts/verify_credentials", token=w.user_token)
    c.status("the token signs its user in", r, 200)
    c.equal("as admin", (r.json or {}).get("username"), "admin")
    oauth_error(c, "the code a second time",
                anon.post("/oauth/token", form=dict(token_req, client_secret=secret)), 400,
                "invalid_grant")


def s_oob(c, w):
    anon = w.anon
    page = authorize_page(anon, w.app, redirect_uri=OOB, scope="read", state="")
    csrf = cookie_of(page, "ruche_oauth_csrf")[0]
    r = sign_in(anon, page, "admin", w.password, csrf)
    c.status("signing in for an out-of-band app", r, 200)
    m = re.search(rb'id="code">([A-Za-z0-9_-]{43})<', r.raw)
    c.check("the page shows the code", m, r.brief())
    if not m:
        return
    basic = base64.b64encode(("%s:%s" % (w.app["client_id"], w.app["client_secret"])).encode())
    r = anon.post("/oauth/token", form={"grant_type": "authorization_code",
                                        "code": m.group(1).decode(), "redirect_uri": OOB},
                  headers={"Authorization": "Basic " + basic.decode()})
    c.status("the code for a token, the client by HTTP Basic", r, 200)
    c.equal("the out-of-band token's scope", (r.json or {}).get("scope"), "read")


def s_grants(c, w):
    anon = w.anon
    app = w.app
    cid, secret = app["client_id"], app["client_secret"]
    oauth_error(c, "no grant_type", anon.post("/oauth/token", form={}), 400, "invalid_request")
    oauth_error(c, "grant_type=refresh_token",
                anon.post("/oauth/token", form={"grant_type": "refresh_token"}), 400,
                "unsupported_grant_type")
    oauth_error(c, "authorization_code without a client",
                anon.post("/oauth/token", form={"grant_type": "authorization_code", "code": "x"}),
                401, "invalid_client")
    oauth_error(c, "authorization_code without a code",
                anon.post("/oauth/token", form={"grant_type": "authorization_code",
                                                "client_id": cid, "client_secret": secret}),
                400, "invalid_request")
    r = anon.post("/oauth/token", json_body={"grant_type": "password", "username": "admin",
                                             "password": w.password, "client_id": cid,
                                             "client_secret": secret, "scope": "read"})
    c.status("the password grant of an app, scope read", r, 200)
    read_token = (r.json or {}).get("access_token")
    c.equal("its scope", (r.json or {}).get("scope"), "read")
    c.status("a read token reads", anon.get("/api/v1/timelines/home", token=read_token), 200)
    c.error("a read token cannot post",
            anon.post("/api/v1/statuses", json_body={"status": "no"}, token=read_token), 403)
    c.status("a read write token posts",
             anon.post("/api/v1/statuses", json_body={"status": "yes"}, token=w.user_token), 200)
    oauth_error(c, "the password grant asking for a scope the app lacks",
                anon.post("/oauth/token", form={"grant_type": "password", "username": "admin",
                                                "password": w.password, "client_id": cid,
                                                "client_secret": secret, "scope": "push"}),
                400, "invalid_scope")
    oauth_error(c, "the password grant with a wrong client secret",
                anon.post("/oauth/token", form={"grant_type": "password", "username": "admin",
                                                "password": w.password, "client_id": cid,
                                                "client_secret": "nope"}), 401, "invalid_client")
    oauth_error(c, "the password grant with a wrong password",
                anon.post("/oauth/token", form={"grant_type": "password", "username": "admin",
                                                "password": "nope"}), 400, "invalid_grant")


def s_admin_scopes(c, w):
    """The administrators' endpoints need admin:read or admin:write, as
    Mastodon's do; the backup needs admin:write; a session that no app
    holds (ruche login, the web front end) has both for an administrator."""
    anon = w.anon
    app = register(anon, client_name="Admin app", redirect_uris=OOB,
                   scopes="read write admin:read admin:write admin:read:accounts")

    def token(user, password, scope):
        r = anon.post("/oauth/token", form={"grant_type": "password", "username": user,
                                            "password": password, "client_id": app["client_id"],
                                            "client_secret": app["client_secret"], "scope": scope})
        c.status("%s's token of scope %s" % (user, scope), r, 200)
        return (r.json or {}).get("access_token")

    admin = w.node.client(w.node.client().login("admin", w.password))
    r = admin.post("/api/ruche/v1/admin/users", json_body={"username": "mallory"})
    c.status("the admin's own session adds a user", r, 200)
    mallory_pw = (r.json or {}).get("password")
    reads = ("/key", "/export", "/ops")
    every = [("GET", p) for p in reads] + [("GET", "/backup"), ("POST", "/users/mallory/enable")]
    for scope, allowed in (("read", ()), ("read write", ()), ("admin:read:accounts", ()),
                           ("admin:read", [("GET", p) for p in reads]),
                           ("admin:write", [("GET", "/backup"), ("POST", "/users/mallory/enable")]),
                           ("admin:read admin:write", every)):
        t = token("admin", w.password, scope)
        for method, path in every:
            r = anon.request(method, "/api/ruche/v1/admin" + path, token=t)
            want = 200 if (method, path) in allowed else 403
            c.status("the admin's token of scope %s: %s %s" % (scope, method, path), r, want)
    t = token("admin", w.password, "read")
    c.error("a read token does not download the backup",
            anon.get("/api/ruche/v1/admin/backup", token=t), 403)
    t = token("mallory", mallory_pw, "admin:read admin:write")
    for method, path in every:
        c.error("a user's token with the admin scopes: %s %s" % (method, path),
                anon.request(method, "/api/ruche/v1/admin" + path, token=t), 403)
    for method, path in every:
        c.status("the admin's session of no app: %s %s" % (method, path),
                 admin.request(method, "/api/ruche/v1/admin" + path), 200)


def s_client_credentials(c, w):
    anon = w.anon
    cid, secret = w.app["client_id"], w.app["client_secret"]
    oauth_error(c, "client_credentials without a secret",
                anon.post("/oauth/token", form={"grant_type": "client_credentials",
                                                "client_id": cid}), 401, "invalid_client")
    r = anon.post("/oauth/token", form={"grant_type": "client_credentials", "client_id": cid,
                                        "client_secret": secret})
    c.status("client_credentials", r, 200)
    token = (r.json or {}).get("access_token")
    c.equal("its scope defaults to read", (r.json or {}).get("scope"), "read")
    c.error("an app token signs no user in",
            anon.get("/api/v1/accounts/verify_credentials", token=token), 401)
    r = anon.get("/api/v1/apps/verify_credentials", token=token)
    c.status("GET /api/v1/apps/verify_credentials with the app token", r, 200)
    body = r.json if isinstance(r.json, dict) else {}
    c.equal("it names the app", body.get("name"), "Test app")
    c.check("it does not show the client secret",
            "client_secret" not in body and "client_id" not in body, body)
    r = anon.get("/api/v1/apps/verify_credentials", token=w.user_token)
    c.status("apps/verify_credentials with a user's token of the app", r, 200)
    c.equal("the token's scopes", (r.json or {}).get("scopes"), ["read", "write"])
    c.error("apps/verify_credentials without a token",
            anon.get("/api/v1/apps/verify_credentials"), 401)
    c.error("apps/verify_credentials with an unknown token",
            anon.get("/api/v1/apps/verify_credentials", token="x" * 43), 401)
    c.status("an app token reads public timelines as nobody",
             anon.get("/api/v1/timelines/public", token=token), 200)


def s_revoke(c, w):
    anon = w.anon
    app, other = w.app, w.other
    oauth_error(c, "revoke without a token", anon.post("/oauth/revoke", form={}), 400,
                "invalid_request")
    r = anon.post("/oauth/token", form={"grant_type": "password", "username": "admin",
                                        "password": w.password, "client_id": app["client_id"],
                                        "client_secret": app["client_secret"]})
    token = (r.json or {}).get("access_token", "")
    oauth_error(c, "revoke by another app",
                anon.post("/oauth/revoke", form={"token": token, "client_id": other["client_id"],
                                                 "client_secret": other["client_secret"]}),
                403, "unauthorized_client")
    oauth_error(c, "revoke with a wrong client secret",
                anon.post("/oauth/revoke", form={"token": token, "client_id": app["client_id"],
                                                 "client_secret": "x"}), 401, "invalid_client")
    c.status("the token still works", anon.get("/api/v1/accounts/verify_credentials",
                                               token=token), 200)
    r = anon.post("/oauth/revoke", form={"token": token, "client_id": app["client_id"],
                                         "client_secret": app["client_secret"]})
    c.status("revoke by its app", r, 200)
    c.equal("revoke answers {}", r.json, {})
    c.error("the revoked token", anon.get("/api/v1/accounts/verify_credentials", token=token),
            401)
    c.error("nor is it an app's any more", anon.get("/api/v1/apps/verify_credentials",
                                                    token=token), 401)
    c.status("revoking an unknown token", anon.post("/oauth/revoke", form={"token": "nope"}), 200)


def s_compat(c, w):
    anon, token = w.anon, w.user_token
    r = anon.get("/api/v1/instance/")
    c.status("GET /api/v1/instance/", r, 200)
    c.equal("answers say how long an idle connection stays open", r.header("Keep-Alive"),
            "timeout=5")
    r = anon.post("/api/v1/statuses/", json_body={"status": "trailing slash"}, token=token)
    c.status("POST /api/v1/statuses/", r, 200)
    sid = (r.json or {}).get("id", "0")
    c.status("GET /api/v1/statuses/ID/", anon.get("/api/v1/statuses/%s/" % sid), 200)
    c.status("GET /api/v1/statuses/ID/context/", anon.get("/api/v1/statuses/%s/context/" % sid),
             200)
    c.error("a trailing slash does not make a path of another", anon.get("/api/v1/instances/"),
            404)
    body, ctype = multipart({"status": "multipart café", "in_reply_to_id": sid,
                             "visibility": "public"},
                            [("file", "a.bin", b"\x00\xff binary \r\n--not-a-boundary")])
    r = anon.post("/api/v1/statuses", body=body, content_type=ctype, token=token)
    c.status("POST /api/v1/statuses as multipart/form-data with a file part", r, 200)
    st = r.json if isinstance(r.json, dict) else {}
    c.equal("the multipart text", st.get("text"), "multipart café")
    c.equal("the multipart reply", st.get("in_reply_to_id"), sid)
    for raw, what in [(b"no boundary at all", "without its boundary"),
                      (b"------rucheTestBoundary7MA4YWxk\r\nContent-Disposition: form-data; "
                       b"name=\"status\"\r\n\r\nunterminated", "cut short"),
                      (b"------rucheTestBoundary7MA4YWxk\r\nContent-Disposition: form-data; "
                       b"name=\"status\"\r\n\r\n\xff\xfe\r\n------rucheTestBoundary7MA4YWxk--\r\n",
                       "with a value that is not UTF-8")]:
        r = anon.post("/api/v1/statuses", body=raw, token=token,
                      content_type="multipart/form-data; boundary=----rucheTestBoundary7MA4YWxk")
        c.error("a multipart body %s" % what, r, 400)
    c.error("multipart/form-data without a boundary parameter",
            anon.post("/api/v1/statuses", body=b"x", content_type="multipart/form-data",
                      token=token), 400)
    c.error("a body of another type", anon.post("/api/v1/statuses", body=b"x",
                                                content_type="text/plain", token=token), 415)


def s_instance(c, w):
    anon, port = w.anon, w.node.port
    r = anon.get("/api/v1/instance")
    body = r.json if isinstance(r.json, dict) else {}
    c.check("the v1 version reads 4.x.y (compatible; ruche x.y)",
            VERSION_RE.match(body.get("version", "")), body.get("version"))
    c.equal("v1 urls.streaming_api", (body.get("urls") or {}).get("streaming_api"),
            "ws://127.0.0.1:%d" % port)
    r = anon.get("/api/v2/instance")
    body = r.json if isinstance(r.json, dict) else {}
    c.check("the v2 version too", VERSION_RE.match(body.get("version", "")), body.get("version"))
    c.equal("v2 configuration.urls.streaming",
            ((body.get("configuration") or {}).get("urls") or {}).get("streaming"),
            "ws://127.0.0.1:%d" % port)
    r = anon.get("/.well-known/nodeinfo")
    c.status("GET /.well-known/nodeinfo", r, 200)
    links = (r.json or {}).get("links") or [{}]
    c.equal("it links NodeInfo 2.0", links[0].get("href"),
            "http://127.0.0.1:%d/nodeinfo/2.0" % port)
    c.equal("with the 2.0 schema", links[0].get("rel"),
            "http://nodeinfo.diaspora.software/ns/schema/2.0")
    r = anon.get("/nodeinfo/2.0")
    c.status("GET /nodeinfo/2.0", r, 200)
    info = r.json if isinstance(r.json, dict) else {}
    c.equal("nodeinfo version", info.get("version"), "2.0")
    c.equal("software name", (info.get("software") or {}).get("name"), "ruche")
    c.check("software version", re.match(r"^\d+\.\d+\.\d+$",
                                         (info.get("software") or {}).get("version", "")), info)
    c.equal("protocols", info.get("protocols"), [])
    c.equal("openRegistrations", info.get("openRegistrations"), False)
    c.equal("usage.users.total", ((info.get("usage") or {}).get("users") or {}).get("total"), 1)


def s_rate_limit(c, ruched):
    """A node allowing 3 failures in 2 s."""
    with rt.Node(ruched, site="limits", settings=["http.login_failures=3",
                                                  "http.login_window_s=2",
                                                  "http.app_registrations=3",
                                                  "http.app_window_s=2"]) as node:
        node.start()
        anon = node.client()
        password = node.admin_password()
        grant = {"grant_type": "password", "username": "admin", "password": "wrong"}
        statuses = [anon.post("/oauth/token", form=grant).status for _ in range(3)]
        c.equal("three wrong passwords", statuses, [400, 400, 400])
        r = anon.post("/oauth/token", form=dict(grant, password=password))
        c.error("then even the right one", r, 429)
        retry = r.header("Retry-After") or ""
        c.check("with Retry-After in seconds", retry.isdigit() and 1 <= int(retry) <= 2, retry)
        c.error("another user name from the same address",
                anon.post("/oauth/token", form=dict(grant, username="bob")), 429)
        app = register(anon, client_name="limits", redirect_uris=OOB)
        app_window_ends = time.monotonic() + 2.2  # that registration's window, with a margin
        page = authorize_page(anon, app, redirect_uri=OOB, scope="read", state="")
        r = sign_in(anon, page, "admin", password, cookie_of(page, "ruche_oauth_csrf")[0])
        c.status("the login page refuses too", r, 429)
        c.check("it says so, with Retry-After", b"Too many failed sign-ins" in r.raw and
                r.header("Retry-After"), r.brief())
        rt.wait_until(lambda: anon.post("/oauth/token", form=dict(
            grant, password=password)).status == 200, 10, "the window to end")
        c.check("the right password works once the window ends", True)
        c.equal("a success does not count", [anon.post("/oauth/token", form=grant).status
                                             for _ in range(3)], [400, 400, 400])
        c.error("three failures again", anon.post("/oauth/token", form=grant), 429)
        apps = "/api/v1/apps"
        # The registration above opened a window of 2 s that counts it: wait
        # for its end (a refused registration, 422, counts for nothing).
        rt.wait_until(lambda: time.monotonic() >= app_window_ends and
                      anon.post(apps, form={"client_name": "x"}).status == 422, 10,
                      "the app window to end")
        c.equal("a refused registration does not count; three apps are stored",
                [anon.post(apps, form={"client_name": "a%d" % i, "redirect_uris": OOB}).status
                 for i in range(3)], [200, 200, 200])
        r = anon.post(apps, form={"client_name": "a4", "redirect_uris": OOB})
        c.error("a fourth from the same address", r, 429)
        retry = r.header("Retry-After") or ""
        c.check("with Retry-After in seconds", retry.isdigit() and 1 <= int(retry) <= 2, retry)
        rt.wait_until(lambda: anon.post(apps, form={"client_name": "again",
                                                    "redirect_uris": OOB}).status == 200, 10,
                      "the app window to end")
        c.check("registrations are taken again once the window ends", True)
        c.check("no sanitizer report in the limits node's log", not node.sanitizer_reports(),
                node.sanitizer_reports()[:5])


def run(c, ruched):
    with rt.Node(ruched, site="oauth", settings=["http.app_registrations=100"]) as node:
        w = World(node)
        node.start()
        w.password = node.admin_password()
        sections = [("apps", s_apps), ("login page", s_login_page),
                    ("login page errors", s_login_page_errors), ("code flow", s_code_flow),
                    ("out of band", s_oob), ("grants and scopes", s_grants),
                    ("client credentials", s_client_credentials), ("revoke", s_revoke),
                    ("compatibility", s_compat), ("instance and nodeinfo", s_instance),
                    ("admin scopes", s_admin_scopes)]
        for name, fn in sections:
            with c.section(name):
                fn(c, w)
        html = [x for x in w.anon.non_json if not x[1].startswith("/oauth/authorize") and
                not (x[1] in ("/api/ruche/v1/admin/backup", "/api/ruche/v1/admin/export")
                     and x[2] == 200)]
        c.check("every response but the login pages, backups and exports was JSON", not html,
                html[:10])
        c.check("no sanitizer report in the node's log", not node.sanitizer_reports(),
                node.sanitizer_reports()[:5])
    with c.section("rate limit"):
        s_rate_limit(c, ruched)


if __name__ == "__main__":
    rt.main_wrapper(run)
