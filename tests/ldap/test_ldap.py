#!/usr/bin/python3
"""test_ldap.py - employees sign in to a real ruched with their company
account, held by a real slapd (slapd.py).

The directory has alice (in the allowed and the administrators' groups),
bob (allowed), carol (in no group), dave (allowed, whose name is also a
local account's), gina (allowed, disabled as Active Directory marks it) and
twenty generated colleagues. Against a node that reaches it with StartTLS
and its CA:
- alice signs in through the web front end's form; the first sign-in
  creates her account (verify_credentials shows it, the log says so),
  an administrator from the directory's group; she loses that right at
  her next sign-in once taken out of the group;
- bob through the OAuth password grant (as the CLI does) and through the
  /oauth/authorize login form, names given in upper case too;
- a wrong password is 401 (invalid_grant for the grant), an empty one is
  refused (slapd would take it as an unauthenticated bind), carol (outside the allowed group) and gina (disabled) are
  refused with 403 and the reason, and none of them gets an account;
- injection names (*, a*, )(uid=*, x NUL, admin)(|(uid=*) never sign in
  anyone, with any of the passwords that exist;
- dave's directory password is refused, and logged as a clash with the
  local account dave, whose own password still signs in;
- with slapd stopped, a directory person is refused within timeout_ms
  and a margin with 503 "The company directory cannot be reached; try
  again later." (the password grant: temporarily_unavailable), the local
  admin still signs in, and the directory is used again once it is back.
Other nodes: one over ldaps:// signs bob in, and counts a directory's
wrong passwords in the login limiter; one with a CA that did not
sign slapd's certificate refuses with the same clear message and logs the
TLS failure; one with a wrong password for the service account refuses
the same way and logs it; one whose service account's password file
cannot be read does not start.

Usage: test_ldap.py PATH/TO/ruched. Prints one line per check and
"N passed, M failed"; exits non-zero if any check failed.
"""

import os
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "api"))
import slapd  # noqa: E402
import ruchetest as rt  # noqa: E402
import test_oauth as oauth  # noqa: E402

TIMEOUT_MS = 1500
MARGIN_S = 1.5
UNREACHABLE = "The company directory cannot be reached; try again later."
INJECTIONS = ["*", "a*", ")(uid=*", "x\0", "admin)(|(uid=*", "*)(userPassword=*"]

PEOPLE = [
    ("alice", {"cn": ["Alice Ådahl"], "userPassword": ["alice-pw"]}, ("users", "admins")),
    ("bob", {"cn": ["Bob Bérenger"], "userPassword": ["bob-pw"]}, ("users",)),
    ("carol", {"cn": ["Carol Çelik"], "userPassword": ["carol-pw"]}, ()),
    ("dave", {"cn": ["Dave Directory"], "userPassword": ["dave-dir-pw"]}, ("users",)),
    ("gina", {"cn": ["Gina Gone"], "userPassword": ["gina-pw"], "userAccountControl": ["514"]},
     ("users",)),
]


def node_settings(s, **keys):
    """The node's settings for slapd s: its [ldap] section, and no scheduled
    directory sync, which would publish every person before the sign-ins
    this test makes (the sync has its own test, test_dirsync.py)."""
    return s.settings(**keys) + ["directory.sync_interval_s=0"]


def web_sign_in(client, name, password):
    return client.post("/auth/sign_in", form={"username": name, "password": password})


def grant(client, name, password):
    return client.post("/oauth/token", anonymous=True, form={
        "grant_type": "password", "username": name, "password": password})


def exists(client, name):
    return client.get("/api/v1/accounts/lookup", query={"acct": name}).status == 200


def s_first_sign_in(c, node, s):
    anon = node.client()
    r = web_sign_in(anon, "alice", "alice-pw")
    c.status("alice signs in through the web front end", r, 200)
    body = r.json if isinstance(r.json, dict) else {}
    c.equal("as alice", (body.get("account") or {}).get("username"), "alice")
    c.equal("an administrator, from the directory's group", body.get("admin"), True)
    c.check("the log says her account was made at her first sign-in",
            "account alice created at the first sign-in of uid=alice,ou=people" in
            node.log_text(), node.log_tail())
    token = anon.login("alice", "alice-pw")
    r = anon.get("/api/v1/accounts/verify_credentials", token=token)
    c.status("verify_credentials", r, 200)
    c.equal("shows her account", (r.json or {}).get("username"), "alice")
    r = anon.get("/api/ruche/v1/admin/users/alice", token=token)
    c.check("her token may use the administrators' endpoints", r.status != 403, r.brief())
    s.modify("dn: %s\nchangetype: modify\ndelete: member\nmember: %s\n"
             % (slapd.ADMINS_GROUP, s.dn("alice")))
    r = web_sign_in(anon, "alice", "alice-pw")
    c.status("alice signs in again, out of the administrators' group", r, 200)
    c.equal("no longer an administrator", (r.json or {}).get("admin"), False)


def s_bob(c, node):
    anon = node.client()
    r = grant(anon, "bob", "bob-pw")
    c.status("bob through the OAuth password grant", r, 200)
    token = (r.json or {}).get("access_token")
    r = anon.get("/api/v1/accounts/verify_credentials", token=token)
    c.equal("verify_credentials shows bob", (r.json or {}).get("username"), "bob")
    r = grant(anon, "BOB", "bob-pw")
    c.status("BOB in upper case", r, 200)
    r = anon.get("/api/v1/accounts/verify_credentials", token=(r.json or {}).get("access_token"))
    c.equal("is bob", (r.json or {}).get("username"), "bob")
    app = oauth.register(anon, client_name="ldap app", redirect_uris=oauth.REDIRECT,
                         scopes="read write")
    page = oauth.authorize_page(anon, app)
    csrf = oauth.cookie_of(page, "ruche_oauth_csrf")[0]
    r = oauth.sign_in(anon, page, "bob", "wrong", csrf)
    c.status("the /oauth/authorize form with a wrong password", r, 401)
    c.check("says so", b"Wrong user name or password" in r.raw)
    r = oauth.sign_in(anon, page, "bob", "bob-pw", csrf)
    c.status("the /oauth/authorize form with bob's company password", r, 302)
    loc = r.header("Location") or ""
    code = (urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query).get("code") or [""])[0]
    r = anon.post("/oauth/token", form={
        "grant_type": "authorization_code", "code": code, "client_id": app["client_id"],
        "client_secret": app["client_secret"], "redirect_uri": oauth.REDIRECT})
    c.status("its code gives a token", r, 200)
    r = anon.get("/api/v1/accounts/verify_credentials", token=(r.json or {}).get("access_token"))
    c.equal("of bob", (r.json or {}).get("username"), "bob")


def s_refusals(c, node, s):
    anon = node.client()
    r = web_sign_in(anon, "bob", "wrong")
    c.error("a wrong password", r, 401)
    oauth.oauth_error(c, "a wrong password through the grant", grant(anon, "bob", "wrong"),
                      400, "invalid_grant")
    c.check("slapd takes bob's DN with an empty password (an unauthenticated bind)",
            s.binds(s.dn("bob"), ""))
    c.error("an empty password", web_sign_in(anon, "bob", ""), 422)
    oauth.oauth_error(c, "an empty password through the grant", grant(anon, "bob", ""), 400,
                      "invalid_grant")
    oauth.oauth_error(c, "an empty password through the grant, for a new name",
                      grant(anon, "e000007", ""), 400, "invalid_grant")
    c.check("makes no account", not exists(anon, "e000007"))
    for name, why in (("carol", "outside the allowed group"), ("gina", "disabled")):
        r = web_sign_in(anon, name, name + "-pw")
        c.error("%s, %s" % (name, why), r, 403)
        c.equal("%s: the reason" % name, (r.json or {}).get("reason"), "denied")
        oauth.oauth_error(c, "%s through the grant" % name, grant(anon, name, name + "-pw"), 400,
                          "invalid_grant")
        c.check("%s has no account" % name, not exists(anon, name))
    c.check("the log says why carol may not", "not in [ldap] allow_group" in node.log_text())
    c.check("and gina", "disabled in the directory" in node.log_text())


def s_injections(c, node):
    anon = node.client()
    passwords = ["alice-pw", "bob-pw", "pw-e000000", "x", "*"]
    signed_in = []
    for name in INJECTIONS:
        for pw in passwords:
            r = web_sign_in(anon, name, pw)
            g = grant(anon, name, pw)
            if r.status == 200 or g.status == 200 or r.status >= 500 or g.status >= 500:
                signed_in.append((name, pw, r.status, g.status))
    c.equal("injection names sign in nobody", signed_in, [])
    r = web_sign_in(anon, ")(uid=*", "alice-pw")
    c.error("a name that is no user name: a wrong name", r, 401)
    c.check("no search was made for it", ")(uid=" not in node.log_text())


def s_clash(c, node, s):
    anon = node.client()
    admin = anon.as_user(anon.login("admin", node.admin_password()))
    r = admin.post("/api/ruche/v1/admin/users", form={"username": "dave"})
    c.status("a local account dave", r, 200)
    local_pw = (r.json or {}).get("password", "")
    r = web_sign_in(anon, "dave", "dave-dir-pw")
    c.error("dave's directory password", r, 403)
    c.equal("the reason", (r.json or {}).get("reason"), "exists")
    log = node.log_text()
    c.check("the clash is logged, not merged",
            "uid=dave,ou=people,dc=example,dc=com (ldap" in log and "not merged" in log,
            node.log_tail())
    r = web_sign_in(anon, "dave", local_pw)
    c.status("the local dave's password signs in", r, 200)


def s_directory_down(c, node, s):
    anon = node.client()
    s.stop()
    for name, pw in (("bob", "bob-pw"), ("e000003", "pw-e000003")):
        t0 = time.monotonic()
        r = web_sign_in(anon, name, pw)
        took = time.monotonic() - t0
        c.error("%s with slapd stopped" % name, r, 503)
        c.equal("%s: the message" % name, (r.json or {}).get("error"), UNREACHABLE)
        c.check("%s: within timeout_ms and %.1f s" % (name, MARGIN_S),
                took < TIMEOUT_MS / 1000 + MARGIN_S, "%.2f s" % took)
    oauth.oauth_error(c, "the grant with slapd stopped", grant(anon, "bob", "bob-pw"), 503,
                      "temporarily_unavailable")
    c.check("the log says why", "Can't contact LDAP server" in node.log_text(), node.log_tail())
    r = web_sign_in(anon, "admin", node.admin_password())
    c.status("the local admin still signs in", r, 200)
    s.start()
    c.status("bob signs in once slapd is back", web_sign_in(anon, "bob", "bob-pw"), 200)
    c.status("a colleague too", web_sign_in(anon, "e000003", "pw-e000003"), 200)


def finish(c, node, what):
    """Stops node: a clean exit, and no sanitizer report (a sanitized
    build checks leaks at exit)."""
    c.equal("%s: ruched exits 0 on SIGTERM" % what, node.stop(), 0)
    c.equal("%s: no sanitizer report" % what, node.sanitizer_reports(), [])


def run(c, ruched):
    with slapd.Slapd(generated=20, extra=PEOPLE) as s:
        timeout = "ldap.timeout_ms=%d" % TIMEOUT_MS
        many = "http.login_failures=1000"  # the injections are many failures
        with rt.Node(ruched, settings=node_settings(s, starttls="yes") + [timeout, many]) as node:
            node.start()
            for name, section in (("the first sign-in", s_first_sign_in),
                                  ("bob", s_bob), ("refusals", s_refusals),
                                  ("injections", s_injections), ("a local name", s_clash),
                                  ("the directory down", s_directory_down)):
                with c.section(name):
                    if section in (s_first_sign_in, s_refusals, s_clash, s_directory_down):
                        section(c, node, s)
                    else:
                        section(c, node)
            finish(c, node, "StartTLS")
        with c.section("ldaps://, and the login limiter"):
            settings = node_settings(s, uri=s.ldaps_uri) + [timeout, "http.login_failures=3"]
            with rt.Node(ruched, settings=settings) as node:
                node.start()
                anon = node.client()
                c.status("bob signs in over ldaps://", web_sign_in(anon, "bob", "bob-pw"), 200)
                for i in range(3):
                    c.status("a wrong password for e000001 (%d)" % (i + 1),
                             web_sign_in(anon, "e000001", "wrong"), 401)
                c.status("then the right one is too many failed sign-ins",
                         web_sign_in(anon, "e000001", "pw-e000001"), 429)
                finish(c, node, "ldaps")
        with c.section("a bind password file that cannot be read"):
            settings = node_settings(s, bind_password_file=os.path.join(s.tmp, "missing"))
            with rt.Node(ruched, settings=settings) as node:
                try:
                    node.start()
                    started = True
                except rt.TestError:
                    started = False
                c.check("ruched does not start", not started)
                c.check("and says why", "bind_password_file" in node.log_text(), node.log_tail())
        with c.section("a wrong service account password"):
            wrong = os.path.join(s.tmp, "wrong.password")
            with open(wrong, "w") as f:
                f.write("not-the-password\n")
            os.chmod(wrong, 0o600)
            with rt.Node(ruched, settings=node_settings(s, bind_password_file=wrong)) as node:
                node.start()
                r = web_sign_in(node.client(), "bob", "bob-pw")
                c.error("bob is refused", r, 503)
                c.equal("with the clear message", (r.json or {}).get("error"), UNREACHABLE)
                c.check("the log says the service account was refused",
                        "refused the service account" in node.log_text(), node.log_tail())
                finish(c, node, "a wrong service password")
        with c.section("a CA that did not sign the directory's certificate"):
            settings = node_settings(s, starttls="yes", ca_file=s.another_ca()) + [timeout]
            with rt.Node(ruched, settings=settings) as node:
                node.start()
                r = web_sign_in(node.client(), "bob", "bob-pw")
                c.error("bob is refused", r, 503)
                c.equal("with the clear message", (r.json or {}).get("error"), UNREACHABLE)
                c.check("the log names the TLS failure", "StartTLS" in node.log_text(),
                        node.log_tail())
                c.status("the local admin signs in",
                         web_sign_in(node.client(), "admin", node.admin_password()), 200)
                finish(c, node, "a wrong CA")


if __name__ == "__main__":
    rt.main_wrapper(run)
