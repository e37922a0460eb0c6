#!/usr/bin/python3
"""test_api.py - the HTTP API of a real ruched, request by request.

Starts one node on a temporary data directory and goes through the client
API as users would: logging in, posting, editing, deleting, replying,
favouriting, following, paging through timelines, groups, the admin
endpoint, every error status of the contract, and the answers to odd paths.
Then it stops the node, starts it again on the same directory (with a small
[http] max_body, to see 413) and checks that nothing was lost: statuses,
tokens, timelines, groups and follows.

Usage: test_api.py PATH/TO/ruched. Prints one line per check and
"N passed, M failed"; exits non-zero if any check failed.
"""

import hashlib
import http.client
import os
import random
import signal
import string
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ruchetest as rt  # noqa: E402

SITE = "apitest"
MAX_BODY = 4096  # [http] max_body after the restart

STATUS_KEYS = ("id", "created_at", "in_reply_to_id", "in_reply_to_account_id", "visibility",
               "content", "text", "edited_at", "favourites_count", "replies_count",
               "reblogs_count", "favourited", "reblogged", "account", "mentions", "tags", "url",
               "uri", "ruche")
ACCOUNT_KEYS = ("id", "username", "acct", "display_name", "note", "followers_count",
                "following_count", "statuses_count", "created_at", "url", "avatar", "locked",
                "bot")
GROUP_KEYS = ("id", "name", "description", "members_count", "member", "created_at", "creator")


class World:
    """What the sections share: the node, clients per user, ids."""

    def __init__(self, node):
        self.node = node
        self.anon = node.client()
        self.tokens = {}
        self.users = {}  # name -> Client
        self.account_ids = {}  # name -> account id
        self.kept = []  # ids of statuses that must survive the restart
        self.deleted = []  # ids of deleted statuses
        self.paging = []  # ids of alice's 25 paging posts, oldest first
        self.followed_post = None  # a post of alice's that admin's home must show
        self.rnd = "".join(random.choice(string.ascii_lowercase) for _ in range(6))

    def user(self, name):
        return self.users[name]


def missing(obj, keys):
    """The keys of keys absent from the dict obj (all of them if obj is
    not a dict)."""
    if not isinstance(obj, dict):
        return list(keys)
    return [k for k in keys if k not in obj]


def ids_of(statuses):
    """The ids of a list of statuses; None for an answer that is not one."""
    if not isinstance(statuses, list) or not all(isinstance(s, dict) for s in statuses):
        return None
    return [s.get("id") for s in statuses]


def query_of(url):
    """The query parameters of a URL as {name: value}."""
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    return {k: v[0] for k, v in q.items()}


def strictly_decreasing(ids):
    return all(int(a) > int(b) for a, b in zip(ids, ids[1:]))


# ---------------------------------------------------------------------
# Start and authentication


def s_start(c, w):
    node = w.node
    node.start()
    c.check("ruched starts and answers /healthz", True)
    r = w.anon.get("/healthz")
    c.equal("GET /healthz is {\"status\": \"ok\"}", r.json, {"status": "ok"})
    path = os.path.join(node.data_dir, "admin-password")
    c.check("the first start writes DIR/admin-password", os.path.isfile(path))
    c.equal("DIR/admin-password has mode 0600", oct(os.stat(path).st_mode & 0o777), "0o600")
    password = node.admin_password()
    c.check("the admin password is not empty", len(password) > 0)
    log = node.log_text()
    c.check("the log says where the admin password is", "admin-password" in log, node.log_tail())
    c.check("the log does not contain the admin password", password not in log)
    c.check("a node key was made in DIR", os.path.exists(os.path.join(node.data_dir, "node.key")))


def s_login(c, w):
    anon = w.anon
    password = w.node.admin_password()
    r = anon.post("/oauth/token", json_body={
        "grant_type": "password", "username": "admin", "password": password})
    c.status("POST /oauth/token with the admin password", r, 200)
    body = r.json if isinstance(r.json, dict) else {}
    c.check("the token answer has access_token, token_type, scope, created_at",
            not missing(body, ("access_token", "token_type", "scope", "created_at")), r.brief())
    c.equal("token_type is Bearer", body.get("token_type"), "Bearer")
    c.check("access_token is a non-empty string",
            isinstance(body.get("access_token"), str) and body["access_token"] != "")
    c.check("created_at is a number", isinstance(body.get("created_at"), int))
    w.tokens["admin"] = body["access_token"]
    w.users["admin"] = anon.as_user(body["access_token"])

    r = anon.post("/oauth/token", form={
        "grant_type": "password", "username": "admin", "password": password})
    c.status("POST /oauth/token as a form", r, 200)
    c.check("two logins give two tokens",
            isinstance(r.json, dict) and r.json.get("access_token") != w.tokens["admin"])

    r = anon.post("/oauth/token", json_body={
        "grant_type": "password", "username": "admin", "password": password + "x"})
    c.error("POST /oauth/token with a wrong password", r, 400)
    c.check("a wrong password gives error invalid_grant",
            isinstance(r.json, dict) and r.json.get("error") == "invalid_grant", r.brief())
    r = anon.post("/oauth/token", json_body={
        "grant_type": "password", "username": "nobody", "password": password})
    c.error("POST /oauth/token for an unknown user", r, 400)
    c.check("an unknown user gives the same error as a wrong password",
            isinstance(r.json, dict) and r.json.get("error") == "invalid_grant", r.brief())


def s_credentials(c, w):
    admin, anon = w.user("admin"), w.anon
    r = admin.get("/api/v1/accounts/verify_credentials")
    c.status("GET verify_credentials with the token", r, 200)
    acct = r.json if isinstance(r.json, dict) else {}
    c.check("verify_credentials is an Account", not missing(acct, ACCOUNT_KEYS),
            missing(acct, ACCOUNT_KEYS))
    c.equal("verify_credentials: username", acct.get("username"), "admin")
    c.equal("verify_credentials: acct of a local user is the bare name", acct.get("acct"), "admin")
    c.check("verify_credentials: id is a string of digits",
            isinstance(acct.get("id"), str) and rt.ID_RE.match(acct["id"]), acct.get("id"))
    c.check("verify_credentials: created_at is ISO 8601 UTC with milliseconds",
            isinstance(acct.get("created_at"), str) and rt.TIME_RE.match(acct["created_at"]),
            acct.get("created_at"))
    c.equal("verify_credentials: locked and bot are false",
            (acct.get("locked"), acct.get("bot")), (False, False))
    w.account_ids["admin"] = acct["id"]

    c.error("verify_credentials without a token", anon.get("/api/v1/accounts/verify_credentials"),
            401)
    c.error("verify_credentials with a wrong token",
            anon.get("/api/v1/accounts/verify_credentials", token="x" * 43), 401)
    c.error("verify_credentials with a token one character off",
            anon.get("/api/v1/accounts/verify_credentials",
                     token=w.tokens["admin"][:-1] + ("A" if w.tokens["admin"][-1] != "A" else "B")),
            401)
    c.error("verify_credentials with Basic instead of Bearer",
            anon.get("/api/v1/accounts/verify_credentials",
                     headers={"Authorization": "Basic YWRtaW46YWRtaW4="}), 401)
    c.error("verify_credentials with an empty Bearer",
            anon.get("/api/v1/accounts/verify_credentials", headers={"Authorization": "Bearer "}),
            401)


def s_revoke(c, w):
    anon = w.anon
    token = anon.login("admin", w.node.admin_password())
    c.status("a second session works", anon.get("/api/v1/accounts/verify_credentials",
                                                token=token), 200)
    r = anon.post("/oauth/revoke", json_body={"token": token})
    c.status("POST /oauth/revoke", r, 200)
    c.equal("POST /oauth/revoke answers {}", r.json, {})
    c.error("a revoked token", anon.get("/api/v1/accounts/verify_credentials", token=token), 401)
    c.status("revoking one session keeps the others",
             w.user("admin").get("/api/v1/accounts/verify_credentials"), 200)


def s_admin_users(c, w):
    admin, anon = w.user("admin"), w.anon
    for name, is_admin in (("alice", False), ("bob", False), ("carol", True)):
        r = admin.post("/api/ruche/v1/admin/users", json_body={"username": name, "admin": is_admin})
        c.status("admin creates user %s" % name, r, 200)
        body = r.json if isinstance(r.json, dict) else {}
        c.equal("the new user's answer names %s" % name, body.get("username"), name)
        c.check("the new user's answer has a password",
                isinstance(body.get("password"), str) and body["password"] != "", r.brief())
        token = anon.login(name, body["password"])
        w.tokens[name] = token
        w.users[name] = anon.as_user(token)
        r = w.users[name].get("/api/v1/accounts/verify_credentials")
        c.equal("%s can log in with that password" % name,
                (r.status, (r.json or {}).get("username")), (200, name))
        w.account_ids[name] = r.json["id"]
    c.check("accounts have distinct ids", len(set(w.account_ids.values())) == 4, w.account_ids)

    alice = w.user("alice")
    c.error("a user who is not admin creates a user",
            alice.post("/api/ruche/v1/admin/users", json_body={"username": "mallory"}), 403)
    c.error("creating a user without a token",
            anon.post("/api/ruche/v1/admin/users", json_body={"username": "mallory"}), 401)
    c.error("the name of an existing user",
            admin.post("/api/ruche/v1/admin/users", json_body={"username": "alice"}), 422)
    for bad in ("Alice", "al ice", "", "x" * 65, "al/ice", "caf\u00e9"):
        c.error("a user name %r" % bad[:20],
                admin.post("/api/ruche/v1/admin/users", json_body={"username": bad}), 422)
    r = admin.post("/api/ruche/v1/admin/users", json_body={"username": "a" * 64})
    c.status("a user name of 64 characters", r, 200)
    r = w.user("carol").post("/api/ruche/v1/admin/users", form={"username": "dave"})
    c.status("a user made admin can create users (form body)", r, 200)


# ---------------------------------------------------------------------
# Statuses


def check_status_shape(c, name, st, w, author):
    """The fields of a Status, as the contract lists them."""
    c.check("%s: has every Status field" % name, not missing(st, STATUS_KEYS),
            missing(st, STATUS_KEYS))
    c.check("%s: id is a string of digits" % name,
            isinstance(st.get("id"), str) and rt.ID_RE.match(st["id"]), st.get("id"))
    c.check("%s: created_at is ISO 8601 UTC with milliseconds" % name,
            isinstance(st.get("created_at"), str) and rt.TIME_RE.match(st["created_at"]),
            st.get("created_at"))
    c.equal("%s: counters start at 0" % name,
            (st.get("favourites_count"), st.get("replies_count"), st.get("reblogs_count")),
            (0, 0, 0))
    c.equal("%s: favourited and reblogged are false" % name,
            (st.get("favourited"), st.get("reblogged")), (False, False))
    c.equal("%s: not a reply, not edited" % name,
            (st.get("in_reply_to_id"), st.get("in_reply_to_account_id"), st.get("edited_at")),
            (None, None, None))
    acct = st.get("account")
    c.check("%s: account is an Account" % name, not missing(acct, ACCOUNT_KEYS),
            missing(acct, ACCOUNT_KEYS))
    c.equal("%s: account is the author" % name, (acct or {}).get("id"), w.account_ids[author])
    ruche = st.get("ruche")
    c.check("%s: ruche has site and group" % name, not missing(ruche, ("site", "group")), ruche)
    c.equal("%s: ruche.site is the node's site" % name, (ruche or {}).get("site"), SITE)
    c.equal("%s: ruche.group is null" % name, (ruche or {}).get("group"), None)
    c.check("%s: url and uri are strings" % name,
            isinstance(st.get("url"), str) and isinstance(st.get("uri"), str))
    c.check("%s: mentions and tags are lists" % name,
            isinstance(st.get("mentions"), list) and isinstance(st.get("tags"), list))


def s_status_life(c, w):
    admin = w.user("admin")
    before = admin.get("/api/v1/accounts/verify_credentials").json["statuses_count"]
    r = admin.post("/api/v1/statuses", json_body={"status": "first post"})
    c.status("POST /api/v1/statuses", r, 200)
    st = r.json
    check_status_shape(c, "a new status", st, w, "admin")
    c.equal("the new status: text", st.get("text"), "first post")
    c.equal("the new status: content is HTML in <p>", st.get("content"), "<p>first post</p>")
    c.equal("the new status: visibility defaults to public", st.get("visibility"), "public")
    sid = st["id"]
    after = admin.get("/api/v1/accounts/verify_credentials").json["statuses_count"]
    c.equal("statuses_count grows by one", after, before + 1)

    r = w.anon.get("/api/v1/statuses/" + sid)
    c.status("GET /api/v1/statuses/:id", r, 200)
    c.equal("GET gives the posted status", (r.json or {}).get("text"), "first post")
    c.equal("GET gives the same created_at", (r.json or {}).get("created_at"), st["created_at"])

    r = admin.put("/api/v1/statuses/" + sid, json_body={"status": "first post, edited"})
    c.status("PUT /api/v1/statuses/:id", r, 200)
    c.equal("the edit answers the new text", (r.json or {}).get("text"), "first post, edited")
    c.check("the edit sets edited_at (ISO 8601 UTC)",
            isinstance((r.json or {}).get("edited_at"), str)
            and rt.TIME_RE.match(r.json["edited_at"]), r.brief())
    c.equal("the edit keeps the id", (r.json or {}).get("id"), sid)
    c.equal("the edit keeps created_at", (r.json or {}).get("created_at"), st["created_at"])
    r = admin.get("/api/v1/statuses/" + sid)
    c.equal("GET after the edit gives the new text and content",
            ((r.json or {}).get("text"), (r.json or {}).get("content")),
            ("first post, edited", "<p>first post, edited</p>"))

    r = admin.delete("/api/v1/statuses/" + sid)
    c.status("DELETE /api/v1/statuses/:id", r, 200)
    c.equal("DELETE answers the deleted status with its last text",
            ((r.json or {}).get("id"), (r.json or {}).get("text")), (sid, "first post, edited"))
    c.error("GET of a deleted status", admin.get("/api/v1/statuses/" + sid), 404)
    c.error("DELETE of a deleted status", admin.delete("/api/v1/statuses/" + sid), 404)
    c.error("PUT of a deleted status",
            admin.put("/api/v1/statuses/" + sid, json_body={"status": "again"}), 404)
    c.error("favourite of a deleted status",
            admin.post("/api/v1/statuses/%s/favourite" % sid), 404)
    c.error("reply to a deleted status",
            admin.post("/api/v1/statuses", json_body={"status": "re", "in_reply_to_id": sid}), 404)
    after_delete = admin.get("/api/v1/accounts/verify_credentials").json["statuses_count"]
    c.equal("statuses_count goes back after the delete", after_delete, before)
    public = w.anon.get("/api/v1/timelines/public?limit=40").json or []
    c.check("a deleted status is not in the public timeline", sid not in (ids_of(public) or []))
    w.deleted.append(sid)

    c.error("GET of an unknown status id", admin.get("/api/v1/statuses/1"), 404)
    c.error("GET of a status id that is not a number", admin.get("/api/v1/statuses/abc"), 404)
    c.error("GET of a status id over 128 bits", admin.get("/api/v1/statuses/" + "9" * 45), 404)
    c.error("POST a status without a token",
            w.anon.post("/api/v1/statuses", json_body={"status": "anonymous"}), 401)


def s_status_forms(c, w):
    """The three ways to pass parameters, visibility, escaping, mentions."""
    admin = w.user("admin")
    r = admin.post("/api/v1/statuses", form={"status": "from a form, caf\u00e9 & co"})
    c.status("POST a status as a form", r, 200)
    c.equal("a form status keeps its UTF-8 text", (r.json or {}).get("text"),
            "from a form, caf\u00e9 & co")
    r = admin.post("/api/v1/statuses", query={"status": "from the query"})
    c.status("POST a status in the query string", r, 200)
    c.equal("a query status keeps its text", (r.json or {}).get("text"), "from the query")
    if r.status == 200:
        w.kept.append(r.json["id"])

    for vis in ("public", "unlisted", "private", "direct"):
        r = admin.post("/api/v1/statuses", json_body={"status": "seen by " + vis,
                                                      "visibility": vis})
        c.equal("visibility %s is kept" % vis, (r.status, (r.json or {}).get("visibility")),
                (200, vis))
    c.error("visibility secret",
            admin.post("/api/v1/statuses", json_body={"status": "x", "visibility": "secret"}), 422)

    text = "<script>alert(1)</script> & \"quotes\""
    r = admin.post("/api/v1/statuses", json_body={"status": text})
    content = (r.json or {}).get("content", "")
    c.equal("markup in a status: text is kept as typed", (r.json or {}).get("text"), text)
    c.check("markup in a status is escaped in content",
            "<script" not in content and "&lt;script&gt;" in content and "&amp;" in content,
            content)

    r = w.user("alice").post("/api/v1/statuses", json_body={"status": "hello @bob, see you"})
    st = r.json or {}
    mentions = st.get("mentions") or []
    c.check("a mention of a local user is listed in mentions",
            any(m.get("id") == w.account_ids["bob"] for m in mentions), mentions)
    c.check("a mention is a link in content", "<a " in st.get("content", "")
            and "bob" in st.get("content", ""), st.get("content"))
    r = w.user("alice").post("/api/v1/statuses", json_body={"status": "hi @nobody and @"})
    c.equal("a mention of a user who does not exist: posted, not listed",
            (r.status, (r.json or {}).get("mentions")), (200, []))


def s_keep_alive(c, w):
    """Requests one after another on one connection, as clients send them:
    a body the node refuses unread must not be taken for the next request."""
    token = w.tokens["admin"]
    conn = http.client.HTTPConnection("127.0.0.1", w.node.port, timeout=rt.REQUEST_TIMEOUT)
    auth = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    plain = {"Content-Type": "application/json"}

    def send(method, path, body, headers):
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return rt.Reply(resp.status, resp.headers, resp.read())

    try:
        r = send("POST", "/api/v1/statuses", b'{"status": "kept alive"}', auth)
        c.status("keep-alive: a post", r, 200)
        sid = (r.json or {}).get("id", "1")
        c.status("keep-alive: a post without a token, body unread",
                 send("POST", "/api/v1/statuses", b'{"status": "GET / HTTP/1.1"}', plain), 401)
        c.status("keep-alive: malformed JSON", send("POST", "/api/v1/statuses", b"{", auth), 400)
        c.status("keep-alive: a refused content type",
                 send("POST", "/api/v1/statuses", b"status=x",
                      {"Authorization": "Bearer " + token, "Content-Type": "text/plain"}), 415)
        r = send("GET", "/api/v1/statuses/" + sid, None, {})
        c.equal("keep-alive: the next request is answered as itself",
                (r.status, (r.json or {}).get("text")), (200, "kept alive"))
    finally:
        conn.close()


def s_validation(c, w):
    admin = w.user("admin")
    post = "/api/v1/statuses"
    c.error("an empty status", admin.post(post, json_body={"status": ""}), 422)
    c.error("no status parameter", admin.post(post, json_body={"visibility": "public"}), 422)
    c.error("a status of 5001 ASCII characters", admin.post(post, json_body={"status": "a" * 5001}),
            422)
    multi = "\u00e9\u20ac\U0001F600\u00df" * 1250  # 2-, 3-, 4- and 2-byte characters
    c.error("a status of 5001 multibyte characters",
            admin.post(post, json_body={"status": multi + "x"}), 422)
    r = admin.post(post, json_body={"status": multi})
    c.status("a status of exactly 5000 multibyte characters (%d bytes)"
             % len(multi.encode("utf-8")), r, 200)
    c.check("the 5000 characters come back unchanged", (r.json or {}).get("text") == multi)
    if r.status == 200:
        w.kept.append(r.json["id"])
        got = admin.get(post + "/" + r.json["id"])
        c.check("GET gives the 5000 characters unchanged", (got.json or {}).get("text") == multi)
    r = admin.post(post, json_body={"status": "b" * 5000})
    c.status("a status of exactly 5000 ASCII characters", r, 200)

    form = "application/x-www-form-urlencoded"
    c.error("a form with invalid UTF-8 (percent-encoded)",
            admin.post(post, body=b"status=%FF%FEab", content_type=form), 400)
    c.error("a form with invalid UTF-8 (raw bytes)",
            admin.post(post, body=b"status=ab\xc3\x28", content_type=form), 400)
    c.error("a form with an overlong UTF-8 encoding",
            admin.post(post, body=b"status=%C0%AF", content_type=form), 400)
    c.error("malformed JSON",
            admin.post(post, body=b'{"status": "x"', content_type="application/json"), 400)
    c.error("JSON that is not an object",
            admin.post(post, body=b'["status"]', content_type="application/json"), 400)
    c.error("JSON with invalid UTF-8",
            admin.post(post, body=b'{"status": "\xff"}', content_type="application/json"), 400)
    c.error("a body of type text/plain",
            admin.post(post, body=b"status=hello", content_type="text/plain"), 415)
    c.error("a body of type application/x-unknown",
            admin.post(post, body=b"status=hello", content_type="application/x-unknown"), 415)

    sid = w.user("admin").post_status("to be edited badly")["id"]
    c.error("an edit to an empty status",
            admin.put(post + "/" + sid, json_body={"status": ""}), 422)
    c.error("an edit to 5001 characters",
            admin.put(post + "/" + sid, json_body={"status": "c" * 5001}), 422)
    r = admin.get(post + "/" + sid)
    c.equal("refused edits leave the status as it was",
            ((r.json or {}).get("text"), (r.json or {}).get("edited_at")),
            ("to be edited badly", None))


def s_nul(c, w):
    """A NUL byte in a parameter's text or name is refused with 422 however
    it is sent, never cut short ("abc%00def" stored as "abc"); nothing is
    stored."""
    admin, post = w.user("admin"), "/api/v1/statuses"
    mine = "/api/v1/accounts/%s/statuses" % w.account_ids["admin"]
    texts = [(x["id"], x["text"][:40]) for x in admin.get(mine, query={"limit": 40}).json or []]
    before = [i for i, _ in texts]
    form = "application/x-www-form-urlencoded"
    boundary = "ruche-nul-boundary"
    multipart = ("--%s\r\nContent-Disposition: form-data; name=\"status\"\r\n\r\nabc\0def\r\n"
                 "--%s--\r\n" % (boundary, boundary)).encode()
    for name, reply in (
            ("a form", admin.post(post, body=b"status=abc%00def", content_type=form)),
            ("a form, in a list", admin.post(post, body=b"status=abc&media_ids[]=1%002",
                                              content_type=form)),
            ("a form, in a name", admin.post(post, body=b"status=abc&sta%00tus=x",
                                              content_type=form)),
            ("the query string", admin.post(post + "?status=abc%00def")),
            ("JSON", admin.post(post, body=b'{"status": "abc\\u0000def"}',
                                content_type="application/json")),
            ("JSON, in a nested value", admin.post(post, body=b'{"status": "abc", "poll": '
                                                   b'{"options": ["a\\u0000b"]}}',
                                                   content_type="application/json")),
            ("multipart", admin.post(post, body=multipart,
                                     content_type="multipart/form-data; boundary=" + boundary)),
            ("an edit", admin.put(post + "/" + (before[0] if before else "1"),
                                  body=b"status=abc%00def", content_type=form))):
        c.error("a status with a NUL byte in %s" % name, reply, 422)
        c.check("the error says NUL (%s)" % name, "NUL" in str((reply.json or {}).get("error")),
                reply.brief())
    after = [(x["id"], x["text"][:40]) for x in admin.get(mine, query={"limit": 40}).json or []]
    c.equal("no status was stored, none edited", after, texts)
    c.error("a user name with a NUL byte",
            admin.post("/api/ruche/v1/admin/users", body=b"username=ab%00cd", content_type=form),
            422)
    c.error("the user \"ab\" was not made", w.anon.get("/api/v1/accounts/lookup",
                                                         query={"acct": "ab"}), 404)
    c.error("a search with a NUL byte in the query string",
            w.anon.get("/api/v2/search?q=abc%00def"), 422)
    c.status("a text without NUL still posts",
             admin.post(post, body=b"status=abc%20def", content_type=form), 200)


def s_context(c, w):
    admin, alice, bob = w.user("admin"), w.user("alice"), w.user("bob")
    root = admin.post_status("root of a thread")
    r1 = alice.post_status("first reply", in_reply_to_id=root["id"])
    r2 = admin.post_status("reply to the reply", in_reply_to_id=r1["id"])
    r3 = bob.post_status("second reply to the root", in_reply_to_id=root["id"])
    w.kept += [root["id"], r1["id"], r2["id"], r3["id"]]
    c.equal("a reply: in_reply_to_id", r1.get("in_reply_to_id"), root["id"])
    c.equal("a reply: in_reply_to_account_id", r1.get("in_reply_to_account_id"),
            w.account_ids["admin"])
    c.equal("a reply to a reply: in_reply_to_account_id", r2.get("in_reply_to_account_id"),
            w.account_ids["alice"])

    def context(st):
        r = w.anon.get("/api/v1/statuses/%s/context" % st["id"])
        c.status("GET context of %r" % st["text"], r, 200)
        body = r.json if isinstance(r.json, dict) else {}
        return ids_of(body.get("ancestors", [])), ids_of(body.get("descendants", []))

    c.equal("context of the root", context(root), ([], [r1["id"], r2["id"], r3["id"]]))
    c.equal("context of the first reply", context(r1), ([root["id"]], [r2["id"]]))
    c.equal("context of the reply to the reply", context(r2), ([root["id"], r1["id"]], []))
    c.equal("context of the second reply", context(r3), ([root["id"]], []))
    got = w.anon.get("/api/v1/statuses/" + root["id"]).json or {}
    c.equal("the root's replies_count counts direct replies", got.get("replies_count"), 2)
    got = w.anon.get("/api/v1/statuses/" + r1["id"]).json or {}
    c.equal("the first reply's replies_count", got.get("replies_count"), 1)
    c.error("context of an unknown status", w.anon.get("/api/v1/statuses/1/context"), 404)
    c.error("a reply to an unknown status",
            admin.post("/api/v1/statuses", json_body={"status": "x", "in_reply_to_id": "1"}), 404)


def s_favourites(c, w):
    admin, alice, bob = w.user("admin"), w.user("alice"), w.user("bob")
    sid = admin.post_status("like me")["id"]
    w.kept.append(sid)
    base = "/api/v1/statuses/" + sid

    def fav(client, verb):
        r = client.post("%s/%s" % (base, verb))
        body = r.json if isinstance(r.json, dict) else {}
        return r.status, body.get("favourited"), body.get("favourites_count")

    c.equal("alice favourites", fav(alice, "favourite"), (200, True, 1))
    c.equal("alice favourites again: still one", fav(alice, "favourite"), (200, True, 1))
    c.equal("bob favourites", fav(bob, "favourite"), (200, True, 2))
    got = admin.get(base).json or {}
    c.equal("the author sees 2 favourites, not favourited by them",
            (got.get("favourites_count"), got.get("favourited")), (2, False))
    got = bob.get(base).json or {}
    c.equal("bob sees it favourited by him", got.get("favourited"), True)
    c.equal("alice unfavourites", fav(alice, "unfavourite"), (200, False, 1))
    c.equal("alice unfavourites again: no change", fav(alice, "unfavourite"), (200, False, 1))
    c.error("favourite without a token", w.anon.post(base + "/favourite"), 401)
    c.error("favourite of an unknown status", alice.post("/api/v1/statuses/1/favourite"), 404)


def s_ownership(c, w):
    admin, alice = w.user("admin"), w.user("alice")
    st = admin.post_status("only mine")
    sid = st["id"]
    w.kept.append(sid)
    c.error("alice edits admin's status",
            alice.put("/api/v1/statuses/" + sid, json_body={"status": "hijacked"}), 403)
    c.error("alice deletes admin's status", alice.delete("/api/v1/statuses/" + sid), 403)
    mine = alice.post_status("alice's own")
    w.kept.append(mine["id"])
    c.error("admin edits alice's status",
            admin.put("/api/v1/statuses/" + mine["id"], json_body={"status": "admin was here"}),
            403)
    c.error("admin deletes alice's status", admin.delete("/api/v1/statuses/" + mine["id"]), 403)
    r = admin.get("/api/v1/statuses/" + sid)
    c.equal("refused edits and deletes change nothing",
            ((r.json or {}).get("text"), (r.json or {}).get("edited_at")), ("only mine", None))
    r = alice.get("/api/v1/statuses/" + mine["id"])
    c.equal("alice's status is intact", (r.json or {}).get("text"), "alice's own")


# ---------------------------------------------------------------------
# Timelines


def s_paging(c, w):
    alice, anon = w.user("alice"), w.anon
    tag = "pg" + w.rnd
    posted = [alice.post_status("page %d #%s" % (i, tag)) for i in range(25)]
    ids = ids_of(posted)
    w.kept += ids
    w.paging = ids
    newest = list(reversed(ids))
    c.check("ids of successive posts increase", all(int(a) < int(b) for a, b in zip(ids, ids[1:])),
            ids)
    c.equal("ids sort as strings by length then digits, as clients sort them",
            sorted(ids, key=lambda x: (len(x), x)), ids)

    path = "/api/v1/timelines/tag/" + tag
    statuses, pages = rt.walk_pages(anon, path, 10)
    c.equal("tag timeline in pages of 10 following rel=next: the 25 posts newest first",
            ids_of(statuses), newest)
    c.equal("tag timeline page sizes", pages, [10, 10, 5, 0])

    r = anon.get(path + "?limit=10")
    links = rt.link_targets(r)
    c.check("the first page has rel=next and rel=prev links", "next" in links and "prev" in links,
            r.header("Link"))
    c.check("the Link header lists next first",
            (r.header("Link") or "").find('"next"') < (r.header("Link") or "").find('"prev"'),
            r.header("Link"))
    c.equal("rel=next carries max_id of the page's last status",
            query_of(links.get("next", "")).get("max_id"), newest[9])
    c.equal("rel=prev carries min_id of the page's first status",
            query_of(links.get("prev", "")).get("min_id"), newest[0])
    c.equal("the links point at the same timeline",
            [urllib.parse.urlsplit(u).path for u in (links.get("next", ""), links.get("prev", ""))],
            [path, path])
    r = anon.get(rt.path_of(links["prev"]))
    c.equal("rel=prev of the newest page is empty", (r.status, r.json), (200, []))
    c.equal("an empty page has no Link header", r.header("Link"), None)
    page2 = anon.get(rt.with_limit(rt.path_of(links["next"]), 10))
    prev2 = rt.link_targets(page2).get("prev", "")
    r = anon.get(rt.with_limit(rt.path_of(prev2), 10))
    c.equal("rel=prev of the second page gives the first page", ids_of(r.json or []), newest[:10])

    def page(query):
        r = anon.get(path + "?" + query)
        return ids_of(r.json) if r.status == 200 else r.status

    check_window(c, anon, path, "tag timeline", ids)
    c.equal("tag timeline: since_id gives the newest 5 after it",
            page("limit=5&since_id=" + ids[10]), [ids[24], ids[23], ids[22], ids[21], ids[20]])
    c.equal("tag timeline: the default limit is 20", page(""), newest[:20])
    c.equal("tag timeline: since_id of the newest: nothing", page("since_id=" + ids[24]), [])
    c.equal("tag timeline: max_id of the oldest: nothing", page("max_id=" + ids[0]), [])


def check_window(c, client, path, name, ids):
    """max_id, min_id and since_id inside ids, statuses that follow each
    other in the timeline at path (oldest first)."""

    def page(query):
        r = client.get(path + "?" + query)
        return ids_of(r.json) if r.status == 200 else r.status

    c.equal("%s: max_id is exclusive: the 5 before it" % name,
            page("limit=5&max_id=" + ids[10]), [ids[9], ids[8], ids[7], ids[6], ids[5]])
    c.equal("%s: min_id gives the 5 just after it, newest first" % name,
            page("limit=5&min_id=" + ids[10]), [ids[15], ids[14], ids[13], ids[12], ids[11]])
    c.equal("%s: max_id with since_id gives the statuses between" % name,
            page("max_id=%s&since_id=%s" % (ids[20], ids[10])), list(reversed(ids[11:20])))
    c.equal("%s: max_id with min_id gives the oldest of those between" % name,
            page("limit=3&max_id=%s&min_id=%s" % (ids[20], ids[10])), [ids[13], ids[12], ids[11]])


def s_public_home(c, w):
    alice, anon = w.user("alice"), w.anon
    tag_ids = list(reversed(w.paging))  # newest first
    fine, _ = rt.walk_pages(anon, "/api/v1/timelines/public", 10)
    full, _ = rt.walk_pages(anon, "/api/v1/timelines/public", 40)
    fine_ids, full_ids = ids_of(fine), ids_of(full)
    c.check("public timeline: no status twice in pages of 10", len(set(fine_ids)) == len(fine_ids))
    c.check("public timeline: ids strictly decreasing", strictly_decreasing(fine_ids))
    c.equal("public timeline: pages of 10 concatenate to the pages of 40", fine_ids, full_ids)
    at = fine_ids.index(tag_ids[0]) if tag_ids[0] in fine_ids else -1
    c.equal("public timeline holds the 25 posts in order, together",
            fine_ids[at:at + 25] if at >= 0 else None, tag_ids)
    r = anon.get("/api/v1/timelines/public?limit=100")
    c.equal("limit=100 gives at most 40 (Mastodon caps it)", (r.status, len(r.json or [])),
            (200, min(40, len(full_ids))))
    r = anon.get("/api/v1/timelines/public?limit=40")
    c.equal("a page of limit=40 is the newest 40", ids_of(r.json), full_ids[:40])
    c.check("no deleted status in the public timeline", not set(w.deleted) & set(full_ids))

    check_window(c, anon, "/api/v1/timelines/public", "public timeline", w.paging)
    home, _ = rt.walk_pages(alice, "/api/v1/timelines/home", 10)
    home_ids = ids_of(home)
    c.check("home timeline: ids strictly decreasing, none twice",
            strictly_decreasing(home_ids) and len(set(home_ids)) == len(home_ids))
    c.equal("home timeline of alice starts with her 25 newest posts", home_ids[:25], tag_ids)
    c.error("home timeline without a token", anon.get("/api/v1/timelines/home"), 401)
    check_window(c, alice, "/api/v1/timelines/home", "home timeline", w.paging)

    mine, _ = rt.walk_pages(anon, "/api/v1/accounts/%s/statuses" % w.account_ids["alice"], 10)
    mine_ids = ids_of(mine)
    c.equal("account statuses start with alice's 25 newest", mine_ids[:25], tag_ids)
    c.check("account statuses are all alice's",
            all(s["account"]["id"] == w.account_ids["alice"] for s in mine))
    c.check("account statuses: ids strictly decreasing", strictly_decreasing(mine_ids))
    check_window(c, anon, "/api/v1/accounts/%s/statuses" % w.account_ids["alice"],
                 "account statuses", w.paging)
    count = anon.get("/api/v1/accounts/" + w.account_ids["alice"]).json["statuses_count"]
    c.equal("alice's statuses_count is the length of her statuses", count, len(mine_ids))


def s_tags(c, w):
    alice, anon = w.user("alice"), w.anon
    tag = "case" + w.rnd
    a = alice.post_status("mixed #Case%s" % w.rnd)
    b = alice.post_status("upper #%s here" % tag.upper())
    d = alice.post_status("lower #%s." % tag)
    alice.post_status("longer #%sx" % tag)
    alice.post_status("no hash %s" % tag)
    want = [d["id"], b["id"], a["id"]]
    for q in (tag, tag.upper(), "Case" + w.rnd):
        r = anon.get("/api/v1/timelines/tag/" + q)
        c.equal("tag timeline %s matches #tags whatever their case" % q, ids_of(r.json or []), want)
    tags = a.get("tags") or []
    c.check("a status lists its tag", [t.get("name", "").lower() for t in tags] == [tag], tags)
    c.check("a tag has a url", all(isinstance(t.get("url"), str) for t in tags), tags)
    c.check("a tag is a link in content", "<a " in a.get("content", "")
            and tag in a.get("content", "").lower(), a.get("content"))
    r = anon.get("/api/v1/timelines/tag/nosuchtag" + w.rnd)
    c.equal("a tag nobody used: an empty list", (r.status, r.json), (200, []))


# ---------------------------------------------------------------------
# Accounts, follows, groups


def s_accounts(c, w):
    anon = w.anon
    aid = w.account_ids["alice"]
    r = anon.get("/api/v1/accounts/" + aid)
    c.status("GET /api/v1/accounts/:id", r, 200)
    c.equal("the account is alice", ((r.json or {}).get("username"), (r.json or {}).get("acct")),
            ("alice", "alice"))
    c.check("the account has every Account field", not missing(r.json, ACCOUNT_KEYS))
    for acct in ("alice", "alice@" + SITE):
        r = anon.get("/api/v1/accounts/lookup", query={"acct": acct})
        c.equal("lookup acct=%s" % acct, (r.status, (r.json or {}).get("id")), (200, aid))
    c.error("lookup of an unknown name",
            anon.get("/api/v1/accounts/lookup", query={"acct": "nobody"}), 404)
    c.error("lookup on an unknown site",
            anon.get("/api/v1/accounts/lookup", query={"acct": "alice@elsewhere"}), 404)
    c.error("GET an unknown account id", anon.get("/api/v1/accounts/1"), 404)
    c.error("statuses of an unknown account id", anon.get("/api/v1/accounts/1/statuses"), 404)


def s_follows(c, w):
    alice, bob, admin = w.user("alice"), w.user("bob"), w.user("admin")
    aid, bid = w.account_ids["alice"], w.account_ids["bob"]
    r = alice.post("/api/v1/accounts/%s/follow" % bid)
    c.status("alice follows bob", r, 200)
    rel = r.json if isinstance(r.json, dict) else {}
    c.equal("the relationship: id, following, followed_by",
            (rel.get("id"), rel.get("following"), rel.get("followed_by")), (bid, True, False))
    r = bob.post("/api/v1/accounts/%s/follow" % aid)
    rel = r.json if isinstance(r.json, dict) else {}
    c.equal("bob follows alice back: followed_by is true",
            (r.status, rel.get("following"), rel.get("followed_by")), (200, True, True))
    c.equal("bob's followers_count", w.anon.get("/api/v1/accounts/" + bid).json["followers_count"],
            1)
    c.equal("alice's following_count",
            w.anon.get("/api/v1/accounts/" + aid).json["following_count"], 1)

    seen = bob.post_status("bob, seen by his followers")
    w.kept.append(seen["id"])
    home = ids_of(alice.get("/api/v1/timelines/home?limit=40").json) or []
    c.check("bob's post is in alice's home timeline", seen["id"] in home)
    home = ids_of(admin.get("/api/v1/timelines/home?limit=40").json) or []
    c.check("bob's post is not in the home timeline of admin, who does not follow him",
            seen["id"] not in home)

    r = alice.post("/api/v1/accounts/%s/unfollow" % bid)
    rel = r.json if isinstance(r.json, dict) else {}
    c.equal("alice unfollows bob", (r.status, rel.get("following"), rel.get("followed_by")),
            (200, False, True))
    unseen = bob.post_status("bob, after alice left")
    home = ids_of(alice.get("/api/v1/timelines/home?limit=40").json) or []
    c.check("bob's later post is not in alice's home timeline", unseen["id"] not in home)
    c.equal("bob's followers_count after the unfollow",
            w.anon.get("/api/v1/accounts/" + bid).json["followers_count"], 0)
    c.error("follow an unknown account", alice.post("/api/v1/accounts/1/follow"), 404)
    c.error("follow without a token", w.anon.post("/api/v1/accounts/%s/follow" % bid), 401)

    r = admin.post("/api/v1/accounts/%s/follow" % aid)
    c.status("admin follows alice (kept over the restart)", r, 200)
    w.followed_post = alice.post_status("alice, for admin's home")["id"]


def s_groups(c, w):
    admin, bob, alice = w.user("admin"), w.user("bob"), w.user("alice")
    base = "/api/ruche/v1/groups"
    name = "eng-" + w.rnd
    r = admin.post(base, json_body={"name": name, "description": "the engineers"})
    c.status("POST a group", r, 200)
    g = r.json if isinstance(r.json, dict) else {}
    c.check("a Group has every field", not missing(g, GROUP_KEYS), missing(g, GROUP_KEYS))
    c.equal("the new group: name, description, members_count, member",
            (g.get("name"), g.get("description"), g.get("members_count"), g.get("member")),
            (name, "the engineers", 1, True))
    c.equal("the creator is the caller", (g.get("creator") or {}).get("id"),
            w.account_ids["admin"])
    c.check("the group's created_at is ISO 8601", rt.TIME_RE.match(g.get("created_at") or ""),
            g.get("created_at"))
    gid = g["id"]
    c.error("a group's id is no account's", w.anon.get("/api/v1/accounts/" + gid), 404)
    c.error("a group's id has no account statuses",
            w.anon.get("/api/v1/accounts/%s/statuses" % gid), 404)
    r = admin.post("/api/ruche/v1/admin/users", json_body={"username": "bernard"})
    c.status("admin creates bernard, whose user key is as long as a group's ref", r, 200)
    r = w.anon.get("/api/v1/accounts/lookup", query={"acct": "bernard"})
    bid = (r.json or {}).get("id") or "0"
    c.equal("bernard's id is his account's",
            (w.anon.get("/api/v1/accounts/" + bid).json or {}).get("username"), "bernard")
    c.error("bernard's id is no group's", bob.get("%s/%s" % (base, bid)), 404)
    c.error("a group name with a space", admin.post(base, json_body={"name": "eng team"}), 422)
    c.error("an empty group name", admin.post(base, json_body={"name": ""}), 422)
    c.error("a group name of 65 characters", admin.post(base, json_body={"name": "g" * 65}), 422)
    c.error("a group without a token", w.anon.post(base, json_body={"name": "anon"}), 401)

    r = bob.get(base)
    c.check("the group list has the group", gid in [x.get("id") for x in (r.json or [])], r.brief())
    r = bob.get("%s/%s" % (base, gid))
    c.equal("GET the group as bob: not a member",
            (r.status, (r.json or {}).get("member"), (r.json or {}).get("members_count")),
            (200, False, 1))
    r = bob.post("%s/%s/join" % (base, gid))
    c.equal("bob joins", (r.status, (r.json or {}).get("member"),
                          (r.json or {}).get("members_count")), (200, True, 2))
    r = bob.post("%s/%s/join" % (base, gid))
    c.equal("bob joins again: still 2 members", (r.json or {}).get("members_count"), 2)

    r = bob.post("%s/%s/statuses" % (base, gid), json_body={"status": "hello group"})
    c.status("bob posts to the group", r, 200)
    gst = r.json if isinstance(r.json, dict) else {}
    group_of = (gst.get("ruche") or {}).get("group") or {}
    c.equal("the group status names its group", group_of.get("id"), gid)
    w.kept.append(gst.get("id"))
    r = admin.post("%s/%s/statuses" % (base, gid), json_body={"status": ""})
    c.error("an empty group status", r, 422)
    own = admin.post_status("not in the group")
    r = alice.get("%s/%s/timeline" % (base, gid))
    tl = ids_of(r.json) or []
    c.check("the group timeline has bob's group post", gst.get("id") in tl, r.brief())
    c.check("the group timeline has no post made outside it", own["id"] not in tl)
    walked, _ = rt.walk_pages(alice, "%s/%s/timeline" % (base, gid), 1)
    c.equal("the group timeline pages like the others", ids_of(walked), tl)

    r = bob.post("%s/%s/leave" % (base, gid))
    c.equal("bob leaves", (r.status, (r.json or {}).get("member"),
                           (r.json or {}).get("members_count")), (200, False, 1))
    r = admin.get("%s/%s" % (base, gid))
    c.equal("admin still a member", ((r.json or {}).get("member"),
                                     (r.json or {}).get("members_count")), (True, 1))
    c.error("an unknown group", bob.get(base + "/1"), 404)
    c.error("join an unknown group", bob.post(base + "/1/join"), 404)
    c.error("timeline of an unknown group", bob.get(base + "/1/timeline"), 404)


def s_instance(c, w):
    r = w.anon.get("/api/v1/instance")
    c.status("GET /api/v1/instance", r, 200)
    body = r.json if isinstance(r.json, dict) else {}
    c.check("instance v1 has uri, title, version as strings",
            all(isinstance(body.get(k), str) for k in ("uri", "title", "version")), r.brief())
    stats = body.get("stats")
    c.check("instance v1 stats has user_count, status_count, domain_count as numbers",
            isinstance(stats, dict) and all(isinstance(stats.get(k), int) for k in (
                "user_count", "status_count", "domain_count")), stats)
    c.equal("instance v1 max_characters is 5000",
            ((body.get("configuration") or {}).get("statuses") or {}).get("max_characters"), 5000)
    r = w.anon.get("/api/v2/instance")
    c.status("GET /api/v2/instance", r, 200)
    body = r.json if isinstance(r.json, dict) else {}
    c.check("instance v2 has domain as a string", isinstance(body.get("domain"), str), r.brief())
    c.equal("instance v2 max_characters is 5000",
            ((body.get("configuration") or {}).get("statuses") or {}).get("max_characters"), 5000)
    for v in ("v1", "v2"):
        ruche = (w.anon.get("/api/%s/instance" % v).json or {}).get("ruche") or {}
        direct = (ruche.get("visibility") or {}).get("direct") or {}
        c.equal("instance %s: the site" % v, ruche.get("site"), SITE)
        c.equal("instance %s: the largest body, [http] max_body" % v, ruche.get("max_body"),
                1048576)
        c.check("instance %s says direct posts are not sealed, and what that means" % v,
                direct.get("sealed") is False and
                all(w_ in direct.get("note", "") for w_ in ("plain text", "every site",
                                                             "administrators")), direct)


# ---------------------------------------------------------------------
# Errors and odd paths


def s_errors(c, w):
    anon, admin = w.anon, w.user("admin")
    c.error("an unknown API endpoint", anon.get("/api/v1/nothing_here"), 404)
    c.error("an unknown ruche endpoint", admin.get("/api/ruche/v1/nothing_here"), 404)
    c.error("DELETE on the public timeline", anon.delete("/api/v1/timelines/public"), 405)
    c.error("GET on POST /api/v1/statuses", admin.get("/api/v1/statuses"), 405)
    c.error("PATCH of a status", admin.request("PATCH", "/api/v1/statuses/1", json_body={}), 405)
    c.error("GET /oauth/token", anon.get("/oauth/token"), 405)
    # Path traversal: test_web.py (paths outside /api/ are the web front end's).


# ---------------------------------------------------------------------
# Restart


def snapshot(w):
    """What must survive a restart, as seen through the API."""
    admin = w.user("admin")
    snap = {"statuses": {}, "me": {}}
    for sid in w.kept:
        snap["statuses"][sid] = admin.get("/api/v1/statuses/" + sid).json
    for name in ("admin", "alice", "bob"):
        snap["me"][name] = w.user(name).get("/api/v1/accounts/verify_credentials").json
    snap["public"] = ids_of(rt.walk_pages(w.anon, "/api/v1/timelines/public", 40)[0])
    snap["home"] = ids_of(rt.walk_pages(admin, "/api/v1/timelines/home", 40)[0])
    snap["groups"] = w.user("bob").get("/api/ruche/v1/groups").json
    with open(os.path.join(w.node.data_dir, "node.key"), "rb") as f:
        snap["key"] = hashlib.sha256(f.read()).hexdigest()
    snap["password"] = w.node.admin_password()
    return snap


def s_restart(c, w):
    before = snapshot(w)
    c.check("admin's home timeline holds a post of alice, whom admin follows",
            w.followed_post in before["home"])
    c.equal("SIGTERM stops the node with exit status 0", w.node.stop(), 0)
    w.node.start(["http.max_body=%d" % MAX_BODY])
    c.check("the node starts again on the same directory", True)
    after = snapshot(w)
    c.equal("the node key is unchanged", after["key"], before["key"])
    c.equal("admin-password is not rewritten", after["password"], before["password"])
    r = w.anon.post("/oauth/token", json_body={
        "grant_type": "password", "username": "admin", "password": after["password"]})
    c.status("the admin password still logs in", r, 200)
    for name in ("admin", "alice", "bob"):
        c.equal("%s's token still works, same account" % name, after["me"][name],
                before["me"][name])
    changed = [sid for sid in w.kept if after["statuses"][sid] != before["statuses"][sid]]
    c.check("all %d kept statuses are unchanged" % len(w.kept), not changed,
            [(before["statuses"][s], after["statuses"][s]) for s in changed[:2]])
    c.equal("the public timeline is unchanged", after["public"], before["public"])
    c.equal("admin's home timeline is unchanged", after["home"], before["home"])
    c.equal("the group list is unchanged", after["groups"], before["groups"])
    for sid in w.deleted:
        c.error("a deleted status stays deleted", w.anon.get("/api/v1/statuses/" + sid), 404)
    st = w.user("alice").post_status("after the restart")
    c.check("a post after the restart is newest",
            int(st["id"]) > max(int(x) for x in before["public"]), st["id"])


def s_max_body(c, w):
    admin = w.user("admin")
    big = "d" * (MAX_BODY + 100)
    c.error("a JSON body over max_body", admin.post("/api/v1/statuses", json_body={"status": big}),
            413)
    c.error("a form body over max_body", admin.post("/api/v1/statuses", form={"status": big}), 413)
    r = admin.post("/api/v1/statuses", json_body={"status": "e" * (MAX_BODY - 100)})
    c.status("a body under max_body", r, 200)
    c.status("the node still answers after refused bodies", w.anon.get("/healthz"), 200)
    c.equal("the instance tells clients the new max_body",
            ((w.anon.get("/api/v2/instance").json or {}).get("ruche") or {}).get("max_body"),
            MAX_BODY)


def run(c, ruched):
    with rt.Node(ruched, site=SITE) as node:
        w = World(node)
        with c.section("start"):
            s_start(c, w)
        if not node.running:
            raise rt.TestError("the node did not start")
        sections = [("login", s_login), ("verify_credentials and 401", s_credentials),
                    ("revoke", s_revoke), ("admin users", s_admin_users),
                    ("status life", s_status_life), ("status parameters", s_status_forms),
                    ("keep-alive", s_keep_alive), ("validation", s_validation), ("NUL bytes", s_nul),
                    ("replies and context", s_context),
                    ("favourites", s_favourites), ("others' statuses", s_ownership),
                    ("paging", s_paging), ("public, home, account timelines", s_public_home),
                    ("tags", s_tags), ("accounts", s_accounts), ("follows", s_follows),
                    ("groups", s_groups), ("instance", s_instance), ("errors", s_errors),
                    ("restart", s_restart), ("max_body", s_max_body)]
        for name, fn in sections:
            with c.section(name):
                fn(c, w)
        c.check("every response was JSON", not w.anon.non_json, w.anon.non_json[:10])
        bad = [line for line in node.log_text().splitlines()
               if not line.startswith("===") and not (len(line) > 2 and line[0] == "<"
                                                       and line[1].isdigit())]
        c.check("every log line has a <N> priority prefix", not bad, bad[:5])
        c.equal("SIGINT stops the node with exit status 0", node.stop(signal.SIGINT), 0)
        c.check("no sanitizer report in the node's log", not node.sanitizer_reports(),
                node.sanitizer_reports()[:5])


if __name__ == "__main__":
    rt.main_wrapper(run)
