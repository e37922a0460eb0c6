#!/usr/bin/python3
"""test_attach.py - files in posts through the ruche client: the real
`ruche` against a real ruched on loopback (its media API:
node/api/ru_api_media.c), as an employee would use them.

Checked, through the client and then through the node's API:
- `ruche post TEXT --attach PHOTO --alt TEXT --attach PDF --cw TEXT
  --sensitive` posts once both files are processed: the status has both
  attachments in the order given, the photo's alt text, the PDF under its
  base name, the content warning, sensitive; the PDF downloaded from its
  URL is the very file; nothing is printed on standard error while the
  client waits, since that is no terminal;
- a PNG claiming 100,000 x 100,000 pixels and a truncated JPEG are
  refused: exit 1, the node's reason and the file named on standard
  error, and nothing posted (a file before them in the command is
  uploaded, never posted);
- usage errors (an --alt before any --attach, two for one file, five
  files, a file that cannot be read, a directory, a bad --wait or --cw,
  an --alt that is not UTF-8, no TEXT and no file, an empty TEXT without
  files) exit 2 before any request: the node's request counters in
  /metrics do not move;
- a post of files alone: no TEXT, an empty TEXT, or an empty standard
  input with "-";
- reply and groups post take the same options: a reply with a photo, its
  alt text and a content warning; a reply and a group post of files alone;
- `ruche timeline` shows a post's attachment lines (type, alt text,
  sides, size, URL) and collapses a post with a content warning to it;
  `ruche thread` shows that post whole, its attachments marked
  sensitive.
How long the client waits (--wait) depends on what the node does with a
file, which a real node does not stretch on demand; it is a unit test of
the client's pieces (cli/ru_cmd_media_test.c).

Usage: test_attach.py PATH/TO/ruched PATH/TO/ruche. Prints one line per
check and "N passed, M failed"; exits non-zero if any check failed.
"""

import json
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "api"))
import mediafiles as mf  # noqa: E402
import ruchecli  # noqa: E402
import ruchetest as rt  # noqa: E402

ALT = "A cat, asleep on the keyboard"
CW = "office stuff"


def write(tmp, name, data):
    path = os.path.join(tmp, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def new_user(admin, node, name):
    """Creates name on node; its password."""
    r = admin.post("/api/ruche/v1/admin/users", json_body={"username": name})
    if r.status != 200:
        raise rt.TestError("create user %s: %d %s" % (name, r.status, r.brief()))
    return r.json["password"]


def status_of(reader, run):
    """The status whose id the run printed, read through the API."""
    sid = run.out.strip()
    if run.rc != 0 or not rt.ID_RE.match(sid):
        return None
    r = reader.get("/api/v1/statuses/%s" % sid)
    return r.json if r.status == 200 else None


def requests_answered(node):
    """The node's HTTP requests answered so far, /metrics itself aside."""
    text = node.client().get("/metrics").raw.decode()
    total = 0
    for m in re.finditer(r'^ruche_http_requests_total\{([^}]*)\} (\d+)', text, re.M):
        if 'route="/metrics"' not in m.group(1):
            total += int(m.group(2))
    return total


def statuses_of(reader, account_id):
    r = reader.get("/api/v1/accounts/%s/statuses?limit=40" % account_id)
    return [s["id"] for s in r.json] if r.status == 200 else None


def s_post(c, node, cli, bob, files):
    run = cli.run("post", "Look at this", "--attach", files["photo"], "--alt", ALT,
                  "--attach=" + files["pdf"], "--cw", CW, "--sensitive")
    c.check("post with a photo and a PDF exits 0", run.rc == 0, run.brief())
    c.check("it prints the status id", rt.ID_RE.match(run.out.strip() or "x") is not None,
            run.brief())
    c.equal("nothing on stderr while it waits (no terminal)", run.err, "")
    st = status_of(bob, run)
    if not c.check("the status reads back through the API", st is not None, run.brief()):
        return None
    atts = st["media_attachments"]
    c.equal("both attachments, in the order given", [a["type"] for a in atts],
            ["image", "unknown"])
    c.equal("the photo's alt text", atts[0].get("description"), ALT)
    c.equal("the PDF under its base name", atts[1]["ruche"]["name"], "report.pdf")
    c.equal("the content warning", st.get("spoiler_text"), CW)
    c.equal("sensitive", st.get("sensitive"), True)
    c.check("the text", "Look at this" in st.get("content", ""), st.get("content"))
    got = node.client().request("GET", rt.path_of(atts[1]["url"]), anonymous=True)
    c.check("the PDF downloaded from its URL is the file's bytes",
            got.status == 200 and got.raw == files["pdf_bytes"], (got.status, len(got.raw)))
    photo = node.client().request("GET", rt.path_of(atts[0]["url"]), anonymous=True)
    c.check("the photo is served", photo.status == 200 and photo.raw[:2] == b"\xff\xd8",
            photo.status)
    run = cli.run("--json", "post", "as JSON", "--attach", files["photo"])
    c.check("--json prints the status with its attachment",
            run.rc == 0 and '"media_attachments"' in run.out and '"image"' in run.out,
            run.brief())
    return st


def s_refused(c, cli, bob, alice_id, files):
    before = statuses_of(bob, alice_id)
    for name, why in (("bomb.png", "wider, taller"), ("cut.jpg", "damaged or incomplete")):
        run = cli.run("post", "should not appear", "--attach", files["photo"],
                      "--attach", files[name])
        c.equal("%s: exit 1" % name, run.rc, 1)
        c.check("%s: the node's reason on stderr" % name,
                why in run.err and "(HTTP 422)" in run.err, run.brief())
        c.check("%s: the file named, nothing posted" % name,
                files[name] + " was not attached; nothing was posted" in run.err, run.brief())
        c.equal("%s: nothing on stdout" % name, run.out, "")
    c.equal("no status posted by a refused command", statuses_of(bob, alice_id), before)


def s_usage(c, node, cli, tmp, files):
    photo = files["photo"]
    cases = [
        (["post", "x", "--alt", "x", "--attach", photo], "--alt describes the --attach before it"),
        (["post", "x", "--attach", photo, "--alt", "a", "--alt", "b"], "one --alt after each"),
        (["post", "x"] + ["--attach", photo] * 5, "at most 4 --attach"),
        (["post", "x", "--attach", os.path.join(tmp, "missing.png")], "cannot read"),
        (["post", "x", "--attach", tmp], "is not a file"),
        (["post", "x", "--attach", photo, "--wait", "0"], "--wait is a number of seconds"),
        (["post", "x", "--cw", ""], "--cw is 1 to 500 characters"),
        (["post", "x", "--attach", photo, "--alt", b"\xff"], "--alt is not valid UTF-8"),
        (["post"], "missing argument"),
        (["post", "--cw", "a warning"], "missing argument"),
        (["post", ""], "the text is empty"),
        (["reply", "1", "--alt", "x"], "--alt describes the --attach before it"),
        (["reply", "1"], "missing argument"),
        (["groups", "post", "1", "--attach", photo, "--wait", "x"], "--wait is a number"),
        (["groups", "post", "1"], "missing argument"),
        (["groups", "post", "1", "x", "--visibility", "public"], "--visibility"),
    ]
    before = requests_answered(node)
    c.check("the node counts the requests it answered", before > 0, before)
    for args, says in cases:
        run = cli.run(*args)
        c.check("usage error, exit 2: ruche %s ...: %s" % (" ".join(args[:2]), says),
                run.rc == 2 and says in run.err, run.brief())
    run = cli.run("post")
    c.check("a post with neither TEXT nor file shows the usage",
            "Usage: ruche post" in run.err, run.brief())
    c.equal("no request for a usage error (the node's counters)", requests_answered(node), before)


def s_files_alone(c, cli, bob, files):
    for what, args, stdin in (
            ("no TEXT", ["post", "--attach", files["photo"], "--alt", ALT], b""),
            ("an empty TEXT", ["post", "", "--attach", files["pdf"]], b""),
            ("an empty standard input", ["post", "-", "--attach", files["photo"]], b"")):
        run = cli.run(*args, stdin=stdin)
        c.check("files alone, %s: exit 0" % what, run.rc == 0, run.brief())
        st = status_of(bob, run)
        c.check("files alone, %s: one attachment, no text" % what,
                st is not None and len(st["media_attachments"]) == 1 and
                st.get("text") == "", st)


def s_reply_group(c, cli, bob, first, files):
    run = cli.run("reply", first["id"], "Same cat, awake", "--attach", files["photo"],
                  "--alt", "The cat, awake", "--cw", "cats again")
    c.check("reply with a photo: exit 0", run.rc == 0, run.brief())
    st = status_of(bob, run)
    c.check("the reply names its parent, its photo, its alt text, its warning",
            st is not None and st.get("in_reply_to_id") == first["id"] and
            [a.get("description") for a in st["media_attachments"]] == ["The cat, awake"] and
            st.get("spoiler_text") == "cats again", st)
    run = cli.run("reply", first["id"], "--attach", files["pdf"])
    st = status_of(bob, run)
    c.check("a reply of a file alone",
            st is not None and st.get("in_reply_to_id") == first["id"] and
            [a["type"] for a in st["media_attachments"]] == ["unknown"], (run.brief(), st))
    run = cli.run("--json", "groups", "create", "cats")
    gid = re.search(r'"id": "([0-9A-Za-z_-]+)"', run.out)
    if not c.check("groups create", run.rc == 0 and gid, run.brief()):
        return
    gid = gid.group(1)
    run = cli.run("groups", "post", gid, "Office cats", "--attach", files["photo"],
                  "--alt", ALT, "--sensitive")
    c.check("groups post with a photo: exit 0", run.rc == 0, run.brief())
    st = status_of(bob, run)
    c.check("the group post is in the group, with its photo, sensitive",
            st is not None and (st.get("ruche", {}).get("group") or {}).get("id") == gid and
            [a.get("description") for a in st["media_attachments"]] == [ALT] and
            st.get("sensitive") is True, st)
    run = cli.run("groups", "post", gid, "--attach", files["pdf"])
    st = status_of(bob, run)
    c.check("a group post of a file alone",
            st is not None and [a["type"] for a in st["media_attachments"]] == ["unknown"],
            (run.brief(), st))


def s_timeline(c, cli, first, files):
    run = cli.run("post", "Whiteboard", "--attach", files["photo"], "--alt", ALT)
    c.check("a post with a photo, no warning", run.rc == 0, run.brief())
    run = cli.run("timeline", "public", "--limit", "40")
    c.check("ruche timeline public: exit 0", run.rc == 0, run.brief())
    line = re.search(r"^  \[image\] " + re.escape(ALT) +
                     r" · \d+×\d+ · [0-9.]+ [KM]?B · (http://\S+/media/\S+)$", run.out, re.M)
    c.check("the photo's attachment line: type, alt text, sides, size, URL", line, run.out)
    c.check("the post with a warning collapsed to it, its attachments counted",
            "CW: %s (ruche thread %s to read; 2 attachments)" % (CW, first["id"]) in run.out,
            run.out)
    c.check("its text is not shown", "Look at this" not in run.out, run.out)
    run = cli.run("thread", first["id"])
    c.check("ruche thread shows it whole: the text", "Look at this" in run.out, run.brief())
    c.check("its photo, sensitive, with its alt text",
            re.search(r"^  \[image, sensitive\] " + re.escape(ALT) + " · ", run.out, re.M),
            run.out)
    c.check("its PDF, sensitive, by its name",
            re.search(r"^  \[unknown, sensitive\] report\.pdf · \d+ KB · http://", run.out,
                      re.M), run.out)


def s_edit(c, cli, bob, first):
    """An edit of the text keeps the attachments, warning and flag (the
    node replaces them with an edit's: the CLI sends them again)."""
    run = cli.run("edit", first["id"], "Look at this, edited")
    c.check("edit exits 0", run.rc == 0, run.brief())
    st = bob.get("/api/v1/statuses/%s" % first["id"]).json or {}
    c.check("the new text", "edited" in st.get("content", ""), st.get("content"))
    c.equal("its attachments are kept", [a["id"] for a in st.get("media_attachments", [])],
            [a["id"] for a in first["media_attachments"]])
    c.equal("and its content warning and flag", (st.get("spoiler_text"), st.get("sensitive")),
            (first["spoiler_text"], True))


def run_all(c, ruched, ruche):
    with rt.Node(ruched, site="attach") as node, tempfile.TemporaryDirectory() as tmp:
        node.start()
        admin = node.client(node.client().login("admin", node.admin_password()))
        alice_pw = new_user(admin, node, "alice")
        bob = node.client(node.client().login("bob", new_user(admin, node, "bob")))
        pdf = mf.pdf(200000)
        files = {"photo": write(tmp, "cat.jpg", mf.exif_jpeg(1600, 1200)),
                 "pdf": write(tmp, "sub/report.pdf", pdf), "pdf_bytes": pdf,
                 "bomb.png": write(tmp, "bomb.png", mf.png_bomb()),
                 "cut.jpg": write(tmp, "cut.jpg", mf.exif_jpeg(800, 600)[:20000])}
        url = "http://127.0.0.1:%d" % node.port
        with ruchecli.Cli(ruche, url, "alice", alice_pw) as cli:
            alice_id = json.loads(cli.run("--json", "whoami").out)["id"]
            first = None
            with c.section("a photo and a PDF"):
                first = s_post(c, node, cli, bob, files)
            with c.section("refused files"):
                s_refused(c, cli, bob, alice_id, files)
            with c.section("usage errors"):
                s_usage(c, node, cli, tmp, files)
            with c.section("files alone"):
                s_files_alone(c, cli, bob, files)
            if first is not None:
                with c.section("replies and group posts"):
                    s_reply_group(c, cli, bob, first, files)
                with c.section("timeline and thread"):
                    s_timeline(c, cli, first, files)
                with c.section("an edit of the text"):
                    s_edit(c, cli, bob, first)
        c.equal("no sanitizer report", node.sanitizer_reports(), [])


def main():
    if len(sys.argv) != 3:
        print("usage: test_attach.py PATH/TO/ruched PATH/TO/ruche", file=sys.stderr)
        return 2
    rt.stop_on_sigterm()
    c = rt.Checks()
    with c.section("the client against a node"):
        run_all(c, sys.argv[1], sys.argv[2])
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
