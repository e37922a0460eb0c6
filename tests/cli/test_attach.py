#!/usr/bin/python3
"""test_attach.py - "ruche post TEXT --attach FILE [--alt TEXT]" against a
small HTTP server on loopback that answers as the Mastodon media API does:
POST /api/v2/media (202 and the attachment, its url null while it is
processed), GET /api/v1/media/ID (206 while processing, 200 when ready,
422 with the reason for a refused file) and POST /api/v1/statuses. The
node's own media endpoints are being written; until ruched serves them,
this server stands in for them, in their documented shapes, and the
checks are on what the client sends and how it waits.

Checked: each file goes as a multipart/form-data body with a part "file"
(its bytes as they are, its base name as filename) and, with --alt, a
part "description"; the client asks for each attachment again while it
answers 206 and posts once every one is ready, with media_ids in the
order given, spoiler_text and sensitive; a refused file and one still
processing at the deadline (--wait) stop the command with exit 1 before
anything is posted; usage errors (an --alt before any --attach, two for
one file, five files, a file that cannot be read, a bad --wait or --cw)
exit 2 before any request; nothing is printed to standard error while it
waits when that is no terminal.

Usage: test_attach.py PATH/TO/ruche. Prints one line per check and
"N passed, M failed"; exits non-zero if any check failed.
"""

import email.parser
import email.policy
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

TOKEN = "t0ken-of-alice"


class Fake(http.server.BaseHTTPRequestHandler):
    """The media and statuses endpoints; what they received is kept in
    the server's lists (uploads, polls, posts)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_POST(self):
        srv = self.server
        body = self._body()
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            return self._answer(401, {"error": "The access token is invalid"})
        if self.path == "/api/v2/media":
            head = b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n"
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
            parts = {p.get_param("name", header="content-disposition"): p
                     for p in msg.iter_parts()}
            file = parts.get("file")
            desc = parts.get("description")
            up = {"filename": file.get_filename() if file else None,
                  "bytes": file.get_payload(decode=True) if file else None,
                  "description": desc.get_content() if desc else None,
                  "names": sorted(parts)}
            srv.uploads.append(up)
            mid = "m%d" % len(srv.uploads)
            srv.media[mid] = up
            if srv.ready_at_once:
                return self._answer(200, {"id": mid, "type": "image", "url": "http://x/" + mid})
            return self._answer(202, {"id": mid, "type": "image", "url": None})
        if self.path == "/api/v1/statuses":
            srv.posts.append(json.loads(body))
            return self._answer(200, {"id": "109", "content": "<p>ok</p>"})
        return self._answer(404, {"error": "Record not found"})

    def do_GET(self):
        srv = self.server
        mid = self.path.rsplit("/", 1)[-1]
        up = srv.media.get(mid)
        if not self.path.startswith("/api/v1/media/") or up is None:
            return self._answer(404, {"error": "Record not found"})
        srv.polls.append(mid)
        name = up["filename"] or ""
        if name.startswith("bad"):
            return self._answer(422, {"error": "the file is neither an image nor a video"})
        if name.startswith("slow") or srv.polls.count(mid) <= srv.processing_polls:
            return self._answer(206, {"id": mid, "type": "image", "url": None})
        return self._answer(200, {"id": mid, "type": "image", "url": "http://x/" + mid})


class Server(http.server.ThreadingHTTPServer):
    def reset(self, processing_polls=2, ready_at_once=False):
        self.uploads, self.media, self.polls, self.posts = [], {}, [], []
        self.processing_polls = processing_polls
        self.ready_at_once = ready_at_once


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def ok(self, what, cond, detail=""):
        if cond:
            self.passed += 1
            print("ok: " + what)
        else:
            self.failed += 1
            print("FAILED: %s %s" % (what, detail))


def main():
    ruche = sys.argv[1]
    c = Checks()
    srv = Server(("127.0.0.1", 0), Fake)
    srv.reset()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d" % srv.server_address[1]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "cfg")
        os.makedirs(os.path.join(cfg, "ruche"), mode=0o700)
        creds = os.path.join(cfg, "ruche", "credentials.json")
        with open(os.open(creds, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            json.dump({"server": url, "username": "alice", "access_token": TOKEN}, f)
        files = {}
        for name, data in [("cat.png", b"\x89PNG\r\n\x1a\n\0--\r\n" * 300),
                           ("sub/report.pdf", b"%PDF-1.4\r\n--boundary\r\n"),
                           ("bad.png", b"not an image"), ("slow.mov", b"\0\0\0 ftypqt  ")]:
            path = os.path.join(tmp, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
            files[name] = (path, data)
        env = dict(os.environ, XDG_CONFIG_HOME=cfg)
        env.pop("RUCHE_SERVER", None)

        def run(*args, timeout=60):
            t0 = time.monotonic()
            p = subprocess.run([ruche] + list(args), env=env, capture_output=True,
                               stdin=subprocess.DEVNULL, timeout=timeout)
            return (p.returncode, p.stdout.decode(), p.stderr.decode(errors="replace"),
                    time.monotonic() - t0)

        cat, pdf = files["cat.png"], files["sub/report.pdf"]

        # two files, the first described, a content warning, sensitive
        srv.reset(processing_polls=2)
        rc, out, err, _ = run("post", "Look at this", "--attach", cat[0], "--alt", "A cat, asleep",
                              "--attach=" + pdf[0], "--cw", "office stuff", "--sensitive")
        c.ok("post with two attachments exits 0", rc == 0, err)
        c.ok("it prints the status id", out == "109\n", repr(out))
        c.ok("nothing on stderr when it is no terminal", err == "", repr(err))
        ups = srv.uploads
        c.ok("two uploads", len(ups) == 2, ups)
        if len(ups) == 2:
            c.ok("the file's bytes as they are", ups[0]["bytes"] == cat[1])
            c.ok("its base name as filename", ups[0]["filename"] == "cat.png", ups[0]["filename"])
            c.ok("its --alt as description", ups[0]["description"] == "A cat, asleep")
            c.ok("a file without --alt has no description part",
                 ups[1]["names"] == ["file"], ups[1]["names"])
            c.ok("the second file's base name", ups[1]["filename"] == "report.pdf")
            c.ok("the second file's bytes", ups[1]["bytes"] == pdf[1])
        c.ok("each attachment asked for until ready (206, 206, 200)",
             srv.polls == ["m1", "m1", "m1", "m2", "m2", "m2"], srv.polls)
        c.ok("one status posted", len(srv.posts) == 1, srv.posts)
        if srv.posts:
            c.ok("its fields", srv.posts[0] == {
                "status": "Look at this", "media_ids": ["m1", "m2"],
                "spoiler_text": "office stuff", "sensitive": True}, srv.posts[0])

        # an attachment ready at once is not asked for again
        srv.reset(ready_at_once=True)
        rc, out, err, _ = run("post", "now", "--attach", cat[0], "--json")
        c.ok("an attachment ready at once (200): no poll", rc == 0 and srv.polls == [],
             (rc, err, srv.polls))
        c.ok("--json prints the status", rc == 0 and json.loads(out)["id"] == "109", out)

        # a post without attachments has no media fields
        srv.reset()
        rc, out, err, _ = run("post", "plain")
        c.ok("a plain post", rc == 0 and srv.posts == [{"status": "plain"}], (err, srv.posts))

        # a refused file: the reason, and nothing posted
        srv.reset()
        rc, out, err, _ = run("post", "x", "--attach", cat[0], "--attach", files["bad.png"][0])
        c.ok("a refused file exits 1", rc == 1, (rc, err))
        c.ok("with the server's reason",
             "the file is neither an image nor a video (HTTP 422)" in err, err)
        c.ok("naming the file", files["bad.png"][0] + " was not attached; nothing was posted"
             in err, err)
        c.ok("nothing posted after a refusal", srv.posts == [], srv.posts)

        # still processing at the deadline
        srv.reset()
        rc, out, err, took = run("post", "x", "--attach", files["slow.mov"][0], "--wait", "1")
        c.ok("still processing after --wait 1: exit 1", rc == 1, (rc, err))
        c.ok("it says so", "still processing after 1 s" in err, err)
        c.ok("within the deadline and a poll", took < 4, took)
        c.ok("nothing posted after the deadline", srv.posts == [], srv.posts)

        # usage errors, before any request
        srv.reset()
        usage = [
            (["--alt", "x", "--attach", cat[0]], "--alt describes the --attach before it"),
            (["--attach", cat[0], "--alt", "a", "--alt", "b"], "one --alt after each"),
            (sum([["--attach", cat[0]] for _ in range(5)], []), "at most 4 --attach"),
            (["--attach", os.path.join(tmp, "missing.png")], "cannot read"),
            (["--attach", tmp], "is not a file"),
            (["--attach", cat[0], "--wait", "0"], "--wait is a number of seconds"),
            (["--cw", ""], "--cw is 1 to 500 characters"),
            (["--attach", cat[0], "--alt", b"\xff"], "--alt is not valid UTF-8"),
        ]
        for extra, says in usage:
            rc, _, err, _ = run("post", "x", *extra)
            c.ok("usage error exit 2: %s" % says, rc == 2 and says in err, (rc, err))
        c.ok("no request for a usage error", srv.uploads == [] and srv.posts == [],
             (srv.uploads, srv.posts))
    srv.shutdown()
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
