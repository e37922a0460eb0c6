#!/usr/bin/python3
"""test_profile.py - an employee edits their profile, on one real ruched
(node/api/ru_api_profile.c, ru_api_media.c, state/ru_profile.c).

What an employee does and what they must get:
- GET /api/v1/accounts/verify_credentials: their Account with a source
  (note and fields as typed, privacy public, sensitive false, language
  ""), a created_at that is when the administrator made the account, the
  site's default avatar and header;
- PATCH /api/v1/accounts/update_credentials as a form, as JSON and as
  multipart/form-data: display_name, note, fields_attributes in the
  form's shape (fields_attributes[0][name]=...), as a JSON array and as
  a JSON object keyed "0".."3", an empty name dropping a field, skills[]
  (blank ones dropped, duplicates folded out whatever their case and
  accents); the answer is the updated Account with its source, and
  verify_credentials and the account's public page agree;
- a JPEG avatar and a PNG header uploaded with the rest: URLs (avatar,
  avatar_static, header, header_static) that serve the re-encoded images
  (an opaque PNG becomes a JPEG, as any upload's does);
- what else Mastodon apps send (locked, bot, discoverable,
  source[privacy], source[sensitive], source[language]) is taken and
  ignored;
- [directory] owned lists display_name, avatar and note here, but
  alice's profile carries no directory entry: she edits them all the same;
- then the node is stopped and her profile given a directory entry
  through the state layer, as the directory sync will do it (direntry.c,
  from RUCHE_DIRENTRY): source.ruche.owned names the three parts, a
  display name sent as it is passes, and an edit that changes the display
  name, the note and the avatar besides fields, skills and a header is
  answered 422 naming the three, while the fields, skills and header are
  saved and the entry stays (state/ru_profile_test.c checks how the two
  writers' parts merge).
What is refused, each with 422 and a message, the profile unchanged:
- a 5th field, a 33rd skill, a skill of 51 characters, a display name of
  101, a note of 1001, a field name or value of 256, fields_attributes or
  skills of the wrong shape;
- a PDF as avatar, a PNG claiming 100,000 x 100,000 pixels as header, a
  body over [media] max_upload (413, before it is read);
- a token without write:accounts (403);
- an image not made within [media] profile_wait_ms (503, Retry-After).

Usage: test_profile.py PATH/TO/ruched. Prints one line per check and
"N passed, M failed"; exits non-zero if any check failed.
"""

import datetime
import os
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mediafiles as mf  # noqa: E402
import ruchetest as rt  # noqa: E402

PATH = "/api/v1/accounts/update_credentials"
MAX_UPLOAD = 16 * 1024 * 1024
SETTINGS = ["directory.owned=display_name avatar note",
            "media.max_upload=%d" % MAX_UPLOAD]


def iso_ms(text):
    """Milliseconds since the epoch of "2026-12-08T01:02:03.456Z"."""
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def patch_form(client, pairs):
    """PATCH with a form body of (name, value) pairs, names repeating."""
    body = urllib.parse.urlencode(pairs).encode("ascii")
    return client.request("PATCH", PATH, body=body,
                          content_type="application/x-www-form-urlencoded")


def patch_json(client, body):
    return client.request("PATCH", PATH, json_body=body)


def patch_multipart(client, pairs, files=()):
    body, ctype = mf.multipart(pairs, list(files))
    return client.request("PATCH", PATH, body=body, content_type=ctype)


def me(client):
    r = client.get("/api/v1/accounts/verify_credentials")
    if r.status != 200:
        raise rt.TestError("verify_credentials: %d %s" % (r.status, r.brief()))
    return r.json


def plain_fields(account):
    return [(f["name"], f["value"]) for f in account["source"]["fields"]]


def s_credentials(c, node, alice, made_ms):
    a = me(alice)
    c.equal("verify_credentials has Mastodon's source",
            {k: a.get("source", {}).get(k) for k in ("note", "fields", "privacy", "sensitive",
                                                       "language")},
            {"note": "", "fields": [], "privacy": "public", "sensitive": False, "language": ""})
    c.equal("no part is the directory's without a directory entry ([directory] owned or not)",
            a.get("source", {}).get("ruche"), {"owned": []})
    created = iso_ms(a["created_at"])
    c.check("created_at is when the account was made (%s)" % a["created_at"],
            made_ms[0] - 1000 <= created <= made_ms[1] + 1000, made_ms)
    for key, file in (("avatar", "avatar.png"), ("header", "header.png")):
        c.check("%s: the site's default image" % key, a[key].endswith("/" + file), a[key])
        c.equal("%s_static: the same" % key, a[key + "_static"], a[key])
        r = node.client().get(rt.path_of(a[key]), anonymous=True)
        c.equal("the default %s is served as a PNG" % key,
                (r.status, r.header("Content-Type")), (200, "image/png"))


def s_form(c, alice):
    r = patch_form(alice, [("display_name", "Alice Martin"),
                           ("note", "Storage & <replication>\nat paris"),
                           ("fields_attributes[0][name]", "Team"),
                           ("fields_attributes[0][value]", "Platform"),
                           ("fields_attributes[1][name]", "Wiki"),
                           ("fields_attributes[1][value]", "https://wiki.example/alice"),
                           ("fields_attributes[2][name]", ""),
                           ("fields_attributes[2][value]", "dropped"),
                           ("skills[]", "LMDB"), ("skills[]", "C"), ("skills[]", " c "),
                           ("skills[]", ""), ("skills[]", "Réplication"),
                           ("skills[]", "replication")])
    c.status("a form", r, 200)
    a = r.json or {}
    c.equal("the display name", a.get("display_name"), "Alice Martin")
    c.equal("the note (owned by the directory here, but alice has no directory entry), as HTML",
            a.get("note"), "<p>Storage &amp; &lt;replication&gt;<br>at paris</p>")
    c.equal("the note as typed in source", a.get("source", {}).get("note"),
            "Storage & <replication>\nat paris")
    c.equal("fields: an empty name dropped one", [f["name"] for f in a.get("fields", [])],
            ["Team", "Wiki"])
    c.check("a field's value as HTML, its link a link",
            'href="https://wiki.example/alice"' in a["fields"][1]["value"], a.get("fields"))
    c.equal("fields as typed in source", plain_fields(a),
            [("Team", "Platform"), ("Wiki", "https://wiki.example/alice")])
    c.equal("skills: blanks dropped, duplicates folded out (case, accents, spaces)",
            a.get("ruche", {}).get("skills"), ["LMDB", "C", "Réplication"])
    v = me(alice)
    c.equal("verify_credentials agrees", (v["display_name"], v["note"], v["fields"], v["ruche"]),
            (a["display_name"], a["note"], a["fields"], a["ruche"]))
    pub = alice.get("/api/v1/accounts/%s" % a["id"], anonymous=True).json or {}
    c.equal("the public account agrees", (pub.get("display_name"), pub.get("fields")),
            (a["display_name"], a["fields"]))
    c.check("the public account has no source", "source" not in pub, pub.keys())


def s_json(c, alice):
    r = patch_json(alice, {"fields_attributes": [{"name": "Office", "value": "B2-114"},
                                                 {"name": "", "value": "gone"},
                                                 {"name": "Languages", "value": "fr, en"}],
                           "skills": ["Go", "go", "ZeroMQ"]})
    c.status("JSON: fields_attributes as an array", r, 200)
    c.equal("its fields", plain_fields(r.json or {"source": {"fields": []}}),
            [("Office", "B2-114"), ("Languages", "fr, en")])
    c.equal("its skills", (r.json or {}).get("ruche", {}).get("skills"), ["Go", "ZeroMQ"])
    c.equal("what it did not name stays", (r.json or {}).get("display_name"), "Alice Martin")
    r = patch_json(alice, {"fields_attributes": {"1": {"name": "B", "value": "2"},
                                                 "0": {"name": "A", "value": "1"},
                                                 "3": {"name": "D", "value": ""}}})
    c.status("JSON: fields_attributes as an object keyed by number", r, 200)
    c.equal("in the order of the numbers", plain_fields(r.json or {"source": {"fields": []}}),
            [("A", "1"), ("B", "2"), ("D", "")])
    r = patch_json(alice, {"display_name": "Alice M.", "locked": True, "bot": False,
                           "discoverable": True, "source": {"privacy": "private",
                                                            "sensitive": True,
                                                            "language": "fr"}})
    c.status("what Mastodon takes beside is accepted", r, 200)
    src = (r.json or {}).get("source", {})
    c.equal("and ignored", ((r.json or {}).get("display_name"), src.get("privacy"),
                            src.get("sensitive"), (r.json or {}).get("locked")),
            ("Alice M.", "public", False, False))
    r = patch_form(alice, [("source[privacy]", "unlisted"), ("source[sensitive]", "true"),
                           ("discoverable", "1")])
    c.status("the same as a form", r, 200)
    r = patch_json(alice, {"skills": []})
    c.equal("an empty list clears the skills", (r.status, (r.json or {}).get("ruche", {})
                                                 .get("skills")), (200, []))


def s_images(c, node, alice):
    jpeg = mf.vips_image(800, 600, ".jpg[Q=90,strip]")
    png = mf.vips_image(900, 300, ".png")
    r = patch_multipart(alice, [("display_name", "Alice Martin"),
                                ("fields_attributes[0][name]", "Team"),
                                ("fields_attributes[0][value]", "Platform"),
                                ("skills[]", "LMDB"), ("skills[]", "C")],
                        [("avatar", "me.jpg", "image/jpeg", jpeg),
                         ("header", "banner.png", "image/png", png)])
    c.status("multipart with an avatar and a header", r, 200)
    a = r.json or {}
    c.equal("its text", (a.get("display_name"), plain_fields(a) if a else None,
                         a.get("ruche", {}).get("skills")),
            ("Alice Martin", [("Team", "Platform")], ["LMDB", "C"]))
    for key, kind in (("avatar", "image/jpeg"), ("header", "image/jpeg")):
        url = a.get(key, "")
        c.check("%s: a file of this site's, not the default" % key, "/media/" in url, url)
        c.equal("%s_static: the same" % key, a.get(key + "_static"), url)
        f = node.client().get(rt.path_of(url), anonymous=True) if url else None
        c.check("%s: served as %s" % (key, kind),
                f is not None and f.status == 200 and f.header("Content-Type") == kind and
                len(f.raw) > 1000, f and (f.status, f.header("Content-Type")))
    return a


def refused(c, alice, name, reply, status=422, says=None):
    """Checks a refusal and that the profile did not change."""
    c.error(name, reply, status)
    if says:
        c.check("%s: the message says %r" % (name, says), says in (reply.json or {}).get(
            "error", ""), reply.brief())


def s_refusals(c, node, alice, before):
    cases = [
        ("a 5th field", patch_json(alice, {"fields_attributes": [
            {"name": "f%d" % i, "value": "v"} for i in range(5)]}), "at most 4 fields"),
        ("a 5th field in a form", patch_form(alice, [
            ("fields_attributes[%d][%s]" % (i, k), "x") for i in range(5)
            for k in ("name", "value")]), "at most 4 fields"),
        ("a 33rd skill", patch_json(alice, {"skills": ["skill %d" % i for i in range(33)]}),
         "at most 32 skills"),
        ("a skill of 51 characters", patch_json(alice, {"skills": ["é" * 51]}),
         "over 50 characters"),
        ("a display name of 101 characters", patch_json(alice, {"display_name": "d" * 101}),
         "display_name is over 100 characters"),
        ("a note of 1001 characters", patch_form(alice, [("note", "n" * 1001)]),
         "note is over 1000 characters"),
        ("a field name of 256 characters", patch_json(alice, {"fields_attributes": [
            {"name": "n" * 256, "value": "v"}]}), "over 255 characters"),
        ("a field value of 256 characters", patch_json(alice, {"fields_attributes": [
            {"name": "n", "value": "v" * 256}]}), "over 255 characters"),
        ("fields_attributes as text", patch_json(alice, {"fields_attributes": "Team"}),
         "fields_attributes"),
        ("a field that is no object", patch_json(alice, {"fields_attributes": ["Team"]}),
         "{name, value}"),
        ("skills as an object", patch_json(alice, {"skills": {"a": 1}}), "skills"),
        ("a display name that is a number", patch_json(alice, {"display_name": 7}), "text"),
        ("a PDF as avatar", patch_multipart(alice, [("display_name", "Not saved")],
                                            [("avatar", "cv.pdf", "application/pdf",
                                              mf.pdf(20000))]), "avatar must be an image"),
        ("a PDF named .jpg as avatar", patch_multipart(alice, [], [
            ("avatar", "me.jpg", "image/jpeg", mf.pdf(20000))]), "application/pdf"),
        ("a PNG bomb as header", patch_multipart(alice, [("note", "Not saved")], [
            ("header", "bomb.png", "image/png", mf.png_bomb())]), "header"),
    ]
    for name, reply, says in cases:
        refused(c, alice, name, reply, 422, says)
    big = patch_multipart(alice, [], [("avatar", "big.jpg", "image/jpeg",
                                       os.urandom(MAX_UPLOAD + 1))])
    c.error("a body over [media] max_upload", big, 413)
    after = me(alice)
    c.equal("after every refusal the profile is as it was",
            {k: after.get(k) for k in ("display_name", "note", "fields", "avatar", "header",
                                       "ruche", "source")},
            {k: before.get(k) for k in ("display_name", "note", "fields", "avatar", "header",
                                        "ruche", "source")})


def app_token(node, name, password, scopes):
    anon = node.client()
    app = anon.post("/api/v1/apps", json_body={"client_name": "scopes", "redirect_uris":
                                               "urn:ietf:wg:oauth:2.0:oob",
                                               "scopes": scopes}).json
    r = anon.post("/oauth/token", json_body={"grant_type": "password", "username": name,
                                             "password": password, "scope": scopes,
                                             "client_id": app["client_id"],
                                             "client_secret": app["client_secret"]})
    if r.status != 200:
        raise rt.TestError("token of scope %s: %d %s" % (scopes, r.status, r.brief()))
    return r.json["access_token"]


def s_scopes(c, node, password):
    for scopes, status in (("read", 403), ("read write:statuses", 403),
                           ("read write:accounts", 200), ("write", 200)):
        token = app_token(node, "alice", password, scopes)
        r = node.client(token).request("PATCH", PATH, json_body={"note": "scope " + scopes})
        c.status("a token of scope %r" % scopes, r, status)


def s_owned(c, node, alice):
    """alice's profile carries a directory entry now: display_name, note
    and avatar are the directory's ([directory] owned)."""
    before = me(alice)
    c.equal("source.ruche.owned names what the directory sets",
            before["source"].get("ruche"), {"owned": ["display_name", "note", "avatar"]})
    c.equal("her account shows the entry", (before["ruche"].get("directory"),
                                            before["ruche"].get("title")), (True, "Engineer"))
    r = patch_json(alice, {"display_name": before["display_name"], "fields_attributes": [
        {"name": "Desk", "value": "B2"}]})
    c.status("an owned part sent as it is (apps send the whole form) is no change", r, 200)
    c.equal("and the rest is saved", plain_fields(r.json or {"source": {"fields": []}}),
            [("Desk", "B2")])
    r = patch_multipart(alice, [("display_name", "Not Alice"), ("note", "not hers to set"),
                                ("fields_attributes[0][name]", "Desk"),
                                ("fields_attributes[0][value]", "C3"), ("skills[]", "LMDB"),
                                ("skills[]", "Rust")],
                        [("avatar", "me.jpg", "image/jpeg", mf.vips_image(300, 300, ".jpg")),
                         ("header", "new.png", "image/png", mf.vips_image(600, 200, ".png"))])
    refused(c, alice, "an edit of owned parts", r, 422,
            "display_name, note, avatar are set by the company directory")
    after = me(alice)
    c.equal("the owned parts are as they were",
            (after["display_name"], after["note"], after["avatar"]),
            (before["display_name"], before["note"], before["avatar"]))
    c.equal("the rest is saved: fields, skills", (plain_fields(after), after["ruche"]["skills"]),
            ([("Desk", "C3")], ["LMDB", "Rust"]))
    c.check("and the header", after["header"] != before["header"] and "/media/" in
            after["header"], (before["header"], after["header"]))
    c.equal("the entry stays", (after["ruche"].get("directory"), after["ruche"].get("title")),
            (True, "Engineer"))


def give_entry(c, node):
    """Gives alice a directory entry on the stopped node's store."""
    tool = os.environ.get("RUCHE_DIRENTRY")
    if not tool:
        raise rt.TestError("RUCHE_DIRENTRY is not set (the direntry tool of tests/api)")
    proc = subprocess.run([tool, node.data_dir, "alice", "E1234", "Engineer"],
                          capture_output=True, text=True, timeout=60)
    c.equal("direntry gives alice a directory entry", (proc.returncode, proc.stderr), (0, ""))


def s_slow_image(c, node, alice):
    """Restarted with [media] profile_wait_ms = 100: a large photo is not
    made in time; the answer says so and the profile stays."""
    before = me(alice)
    photo = mf.vips_image(5000, 4000, ".jpg[Q=60,strip]")
    r = patch_multipart(alice, [("fields_attributes[0][name]", "Too slow"),
                                ("fields_attributes[0][value]", "not saved")],
                        [("header", "big.jpg", "image/jpeg", photo)])
    c.error("a header not made within profile_wait_ms", r, 503)
    c.check("with Retry-After", r.header("Retry-After") is not None, r.headers)
    c.check("saying which setting", "profile_wait_ms" in (r.json or {}).get("error", ""),
            r.brief())
    after = me(alice)
    c.equal("the profile is as it was", (after["fields"], after["header"]),
            (before["fields"], before["header"]))


def run(c, ruched):
    with rt.Node(ruched, settings=SETTINGS) as node:
        node.start()
        admin = node.client(node.client().login("admin", node.admin_password()))
        t0 = int(time.time() * 1000)
        r = admin.post("/api/ruche/v1/admin/users", json_body={"username": "alice"})
        t1 = int(time.time() * 1000)
        c.status("admin adds alice", r, 200)
        password = r.json["password"]
        alice = node.client(node.client().login("alice", password))
        with c.section("verify_credentials"):
            s_credentials(c, node, alice, (t0, t1))
        with c.section("a form"):
            s_form(c, alice)
        with c.section("JSON"):
            s_json(c, alice)
        with c.section("multipart with images"):
            s_images(c, node, alice)
        with c.section("refusals"):
            s_refusals(c, node, alice, me(alice))
        with c.section("scopes"):
            s_scopes(c, node, password)
        c.equal("the node exits with 0 on SIGTERM", node.stop(), 0)
        give_entry(c, node)
        node.start()
        with c.section("a profile with a directory entry"):
            s_owned(c, node, node.client(node.client().login("alice", password)))
        c.equal("the node exits with 0 on SIGTERM", node.stop(), 0)
        node.start(["media.profile_wait_ms=100"])
        with c.section("an image that takes longer than profile_wait_ms"):
            s_slow_image(c, node, node.client(node.client().login("alice", password)))
        c.equal("every answer was JSON", alice.non_json, [])
        c.equal("the node exits with 0 on SIGTERM", node.stop(), 0)


if __name__ == "__main__":
    rt.main_wrapper(run)
