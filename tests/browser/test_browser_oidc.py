#!/usr/bin/python3
"""test_browser_oidc.py - sign-in through the company's OpenID provider in
a real browser, on the provider's real login page.

Starts Debian's glewlwyd as the provider (tests/support/oidc.py, which
serves its login pages from the package's static web app), a ruched site
signing in through it ([oidc], label "Corp"), and a page on loopback that
stands for a Mastodon app's redirect_uri; registers the app at the site;
then runs oidc.mjs in Debian's headless Chromium (browserrun.py): jdoe
signs in to the web front end with "Sign in with Corp", bob authorizes the
app through its /oauth/authorize page the same way. Afterwards the app's
code is exchanged for a token, whose verify_credentials must be bob's, and
jdoe's account must carry the display name and department of her claims.

Usage: test_browser_oidc.py PATH/TO/ruched NODE_MODULES_DIR SCREENSHOT_DIR.
Prints "N passed, M failed"; exits non-zero if any check failed.
"""

import http.server
import os
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import browserrun as br  # noqa: E402
import oidc  # noqa: E402
import ruchetest as rt  # noqa: E402

LABEL = "Corp"
USERS = [
    {"username": "jdoe", "password": "Jane-pass-1", "name": "Jane Doé",
     "email": "jane.doe@corp.example", "department": "R&D", "site": "paris",
     "groups": ["staff"]},
    {"username": "bob", "password": "Bob-pass-12", "name": "Bob Martin",
     "email": "bob@corp.example", "department": "Sales", "site": "paris", "groups": ["staff"]},
]


class AppPage:
    """The redirect_uri of a Mastodon app: a page on loopback that answers
    every GET with 200."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                body = b"<!DOCTYPE html><title>App</title><p>The app has its code.</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.redirect_uri = "http://127.0.0.1:%d/app-callback" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def start_node(node, provider):
    secret = os.path.join(node.tmp, "oidc.secret")
    with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(provider.client_secret + "\n")
    node.start(["oidc.issuer=%s" % provider.issuer, "oidc.client_id=%s" % provider.client_id,
                "oidc.client_secret_file=%s" % secret, "oidc.label=%s" % LABEL,
                "oidc.allow_group=staff"])


def check_after(c, node, app, redirect_uri, code):
    """The app's code, exchanged, is bob's; jdoe's account has her claims."""
    anon = node.client()
    r = anon.post("/oauth/token", form={"grant_type": "authorization_code", "code": code or "",
                                        "client_id": app["client_id"],
                                        "client_secret": app["client_secret"],
                                        "redirect_uri": redirect_uri})
    c.status("the app exchanges its code for a token", r, 200)
    token = (r.json or {}).get("access_token")
    r = anon.get("/api/v1/accounts/verify_credentials", token=token)
    c.equal("the token is bob's", (r.json or {}).get("username"), "bob")
    r = anon.get("/api/v1/accounts/lookup", query={"acct": "jdoe"}, token=token)
    body = r.json or {}
    c.equal("jdoe's account has the display name and department of her claims",
            (body.get("display_name"), (body.get("ruche") or {}).get("department")),
            ("Jane Doé", "R&D"))


def run(c, ruched, modules, shots):
    app_page = AppPage()
    try:
        with rt.Node(ruched) as node:
            callback = "http://127.0.0.1:%d/auth/oidc/callback" % node.port
            with oidc.Provider(users=USERS, redirect_uris=[callback]) as provider:
                with c.section("the provider and the site start"):
                    provider.start()
                    start_node(node, provider)
                r = node.client().post("/api/v1/apps", form={
                    "client_name": "Pinafore", "redirect_uris": app_page.redirect_uri,
                    "scopes": "read write"})
                c.status("a Mastodon app registers", r, 200)
                app = r.json or {}
                config = {
                    "chromium": br.CHROMIUM, "shots": shots,
                    "results": os.path.join(shots, "oidc-results.json"),
                    "node": "http://127.0.0.1:%d" % node.port, "provider": provider.base,
                    "label": LABEL, "users": {u["username"]: u["password"] for u in USERS},
                    "app": {"client_id": app.get("client_id"),
                            "redirect_uri": app_page.redirect_uri, "state": "st&1"},
                }
                with c.section("in the browser"):
                    seen = br.run_script(c, "oidc.mjs", config, modules)
                with c.section("afterwards, through the API"):
                    check_after(c, node, app, app_page.redirect_uri, seen.get("code"))
                reports = node.sanitizer_reports()
                c.check("no sanitizer reports", not reports, reports[:5])
    finally:
        app_page.close()


if __name__ == "__main__":
    br.main(run, rt)
