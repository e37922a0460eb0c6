#!/usr/bin/python3
"""test_media.py - photos and files in posts, on one real ruched
(node/api/ru_api_media.c, ru_mediaq.c, node/media, store/ru_blob).

What an employee does and what they must get:
- a phone photo (EXIF orientation 6, a GPS position, the camera's serial
  number) uploaded in Mastodon's shape: 202 at once, then 206 while it is
  processed and 200 when it is ready, upright, at the display size, with
  a thumbnail and a blurhash; the file served has no EXIF, no GPS, no
  serial number; its URL names its content (BLAKE2b of the bytes), with an
  immutable cache lifetime, its ETag (304 when asked again), byte ranges
  and HEAD;
- alt text and a focal point set before posting, a content warning and
  the sensitive flag: the status shows them, and an edit keeps an
  attachment by its id or drops it;
- a PDF: a download (Content-Disposition attachment, a sandboxing CSP,
  nosniff), the very bytes uploaded, its name without any path.
What an attacker or a careless client sends, and what the node does:
- a PNG claiming 100,000 x 100,000 pixels, a truncated JPEG, a PDF named
  photo.jpg and sent as image/jpeg, a GIF with an HTML page behind it, an
  SVG and an HTML page with script, an empty file, no file part, a body
  that is not multipart, a file over [media] max_upload: each a clear
  error or a harmless download, and nothing stored before is harmed;
- 100 uploads at once from one user: each one accepted or refused with
  429 ([media] per_user) or 503, the node's memory under its bound, every
  accepted one ready in the end, others answered meanwhile;
- the site's quota ([media] quota_mb) and a user's ([media] user_quota_mb):
  507, saying how much the user uses;
- the instance information (v1 and v2) tells clients what a status may
  carry, from [media]: max_media_attachments, the image types, the
  largest upload and image, the longest alt text, and that files of
  any type are taken;
- a deleted status's files go once its upload expired and the grace
  period passed ([media] upload_s, grace_s), and not before.

Usage: test_media.py PATH/TO/ruched. Prints one line per check and
"N passed, M failed"; exits non-zero if any check failed.
"""

import base64
import concurrent.futures
import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mediafiles as mf  # noqa: E402
import ruchetest as rt  # noqa: E402

READY_S = 60  # for an upload to be processed
RSS_BOUND_MB = 600  # the node's memory while 100 uploads arrive (queue_mb 64, 2 workers)
IMAGE_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"]
SANITIZED = os.environ.get("RUCHE_SANITIZE", "").upper() in ("1", "ON", "TRUE")


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def upload(client, data, filename="photo.jpg", ctype="image/jpeg", fields=None):
    body, content_type = mf.multipart(fields or {}, [("file", filename, ctype, data)])
    return client.post("/api/v2/media", body=body, content_type=content_type)


def wait_ready(client, media_id):
    """The last answer of GET /api/v1/media/:id once it is not 206."""
    last = {}

    def done():
        last["r"] = client.get("/api/v1/media/%s" % media_id)
        return last["r"].status != 206
    rt.wait_until(done, READY_S, "upload %s to be processed" % media_id, interval=0.05)
    return last["r"]


def upload_ready(c, client, data, name, **kw):
    r = upload(client, data, **kw)
    c.status("%s: 202 at once" % name, r, 202)
    if r.status != 202:
        return None
    return wait_ready(client, r.json["id"])


def fetch(node, url, headers=None, method="GET"):
    return node.client().request(method, rt.path_of(url), headers=headers or {}, anonymous=True)


def users(c, node):
    admin = node.client(node.client().login("admin", node.admin_password()))
    out = []
    for name in ("alice", "bob"):
        r = admin.post("/api/ruche/v1/admin/users", json_body={"username": name})
        c.status("admin adds %s" % name, r, 200)
        out.append(node.client(node.client().login(name, r.json["password"])))
    return out


def s_photo(c, node, alice):
    photo = mf.exif_jpeg(2400, 1800)
    c.check("the photo carries GPS and a serial number",
            b"CAM-SERIAL-4242" in photo and b"Exif" in photo)
    r = upload(alice, photo, fields={"description": "The whiteboard after the review",
                                     "focus": "0.5,-0.25"})
    c.status("POST /api/v2/media: 202 at once", r, 202)
    media_id = r.json["id"]
    c.check("its url is null while it is processed", r.json.get("url") is None, r.brief())
    r = wait_ready(alice, media_id)
    c.status("then GET /api/v1/media/:id: 200", r, 200)
    m = r.json
    c.equal("an image", m.get("type"), "image")
    orig, small = m["meta"]["original"], m["meta"]["small"]
    c.equal("upright (orientation 6: 1800 x 2400) at the display size, 1920 high",
            (orig["width"], orig["height"]), (1440, 1920))
    c.equal("a thumbnail within 480", (small["width"], small["height"]), (360, 480))
    c.check("a blurhash", isinstance(m.get("blurhash"), str) and len(m["blurhash"]) >= 6,
            m.get("blurhash"))
    c.equal("its alt text", m.get("description"), "The whiteboard after the review")
    c.equal("its focus", (m["meta"]["focus"]["x"], m["meta"]["focus"]["y"]), (0.5, -0.25))
    f = fetch(node, m["url"])
    c.status("the display image is served", f, 200)
    c.equal("as image/jpeg", f.header("Content-Type"), "image/jpeg")
    segments = mf.jpeg_segments(f.raw)
    c.check("no EXIF (GPS, serial number), XMP or ICC segment left (%s)" % [hex(m) for m in
                                                                          segments],
            0xda in segments and not any(0xe1 <= m <= 0xef for m in segments) and
            b"CAM-SERIAL" not in f.raw)
    name = m["url"].rsplit("/", 1)[1].split(".")[0]
    c.equal("its URL names its content (BLAKE2b-256)", name,
            b64(hashlib.blake2b(f.raw, digest_size=32).digest()))
    c.equal("an immutable cache lifetime", f.header("Cache-Control"),
            "public, max-age=31536000, immutable")
    c.equal("nosniff", f.header("X-Content-Type-Options"), "nosniff")
    etag = f.header("ETag")
    c.equal("its ETag is the hash", etag, '"%s"' % name)
    c.status("asked again with If-None-Match: 304",
             fetch(node, m["url"], {"If-None-Match": etag}), 304)
    part = fetch(node, m["url"], {"Range": "bytes=100-199"})
    c.check("a range: 206 with those bytes", part.status == 206 and part.raw == f.raw[100:200],
            part.status)
    head = fetch(node, m["url"], method="HEAD")
    c.check("HEAD: the length, no body",
            head.status == 200 and head.header("Content-Length") == str(len(f.raw)) and
            not head.raw, (head.status, head.header("Content-Length")))
    thumb = fetch(node, m["preview_url"])
    c.check("the thumbnail is served", thumb.status == 200 and thumb.raw[:2] == b"\xff\xd8")
    r = alice.put("/api/v1/media/%s" % media_id, json_body={"description": "The whiteboard"})
    c.check("PUT /api/v1/media/:id changes the alt text",
            r.status == 200 and r.json.get("description") == "The whiteboard", r.brief())
    return media_id, m


def s_post(c, node, alice, bob, media_id, pdf_id):
    r = alice.post("/api/v1/statuses", json_body={
        "status": "Review notes #photo", "media_ids": [media_id, pdf_id],
        "spoiler_text": "Project Tulip, not public yet"})
    c.status("a status with a photo and a PDF", r, 200)
    st = r.json
    atts = st.get("media_attachments", [])
    c.equal("both attachments, in order", [a.get("type") for a in atts], ["image", "unknown"])
    c.equal("the photo's alt text as set last", atts[0].get("description"), "The whiteboard")
    c.equal("the content warning", st.get("spoiler_text"), "Project Tulip, not public yet")
    c.equal("sensitive, since it has a warning", st.get("sensitive"), True)
    seen = bob.get("/api/v1/statuses/%s" % st["id"]).json
    c.equal("another user sees the same attachments",
            [a["url"] for a in seen["media_attachments"]], [a["url"] for a in atts])
    r = alice.post("/api/v1/statuses", json_body={"media_ids": [media_id]})
    c.check("a status of a photo alone, no text", r.status == 200 and r.json["content"] is not None,
            r.brief())
    r = alice.put("/api/v1/statuses/%s" % st["id"], json_body={
        "status": "Review notes, the PDF only", "media_ids": [atts[1]["id"]]})
    c.check("an edit keeps an attachment by its id and drops the other",
            r.status == 200 and [a["id"] for a in r.json["media_attachments"]] == [atts[1]["id"]],
            r.brief())
    r = bob.post("/api/v1/statuses", json_body={"status": "mine?", "media_ids": [media_id]})
    c.error("someone else's upload: 422", r, 422)
    r = alice.post("/api/v1/statuses", json_body={"status": "x", "media_ids": ["12345"]})
    c.error("an id that does not exist: 422", r, 422)
    many = [media_id] * 5
    r = alice.post("/api/v1/statuses", json_body={"status": "x", "media_ids": many})
    c.error("five attachments, [media] attachments = 4: 422", r, 422)
    return st


def s_pdf(c, node, alice):
    data = mf.pdf()
    r = upload_ready(c, alice, data, "a PDF", filename="../../etc/Rapport d'été.pdf",
                     ctype="application/pdf")
    c.status("a PDF: ready", r, 200)
    m = r.json
    c.equal("a file, not an image", m.get("type"), "unknown")
    c.equal("its name without the path", m["ruche"]["name"], "Rapport d'été.pdf")
    c.equal("its type from its content", m["ruche"]["mime"], "application/pdf")
    f = fetch(node, m["url"])
    c.check("the very bytes uploaded", f.status == 200 and f.raw == data, f.status)
    c.check("a download, with its name",
            (f.header("Content-Disposition") or "").startswith("attachment; filename="),
            f.header("Content-Disposition"))
    c.check("a sandboxing Content-Security-Policy",
            "sandbox" in (f.header("Content-Security-Policy") or ""),
            f.header("Content-Security-Policy"))
    return m["id"], data


def s_hostile(c, node, alice, bob):
    cases = [
        ("a 100,000 x 100,000 PNG", mf.png_bomb(), "bomb.png", "image/png", "wider, taller"),
        ("a truncated JPEG", mf.exif_jpeg(800, 600)[:20000], "cut.jpg", "image/jpeg",
         "damaged or incomplete"),
    ]
    for name, data, filename, ctype, why in cases:
        t0 = time.monotonic()
        r = upload_ready(c, alice, data, name, filename=filename, ctype=ctype)
        c.check("%s: refused (422) with a clear reason" % name,
                r is not None and r.status == 422 and why in (r.json or {}).get("error", ""),
                r.brief() if r else None)
        c.check("%s: in under 10 s" % name, time.monotonic() - t0 < 10)
    liar = upload_ready(c, alice, mf.pdf(20000), "a PDF named photo.jpg sent as image/jpeg",
                        filename="photo.jpg", ctype="image/jpeg")
    c.check("the lying PDF is a PDF file, not an image",
            liar.status == 200 and liar.json["type"] == "unknown" and
            liar.json["ruche"]["mime"] == "application/pdf", liar.brief())
    poly = upload_ready(c, alice, mf.polyglot_gif(), "a GIF with HTML behind it",
                        filename="x.gif", ctype="image/gif")
    c.check("the polyglot is an image, re-encoded", poly.status == 200 and
            poly.json["type"] == "image", poly.brief())
    served = fetch(node, poly.json["url"])
    c.check("and its HTML is gone", served.status == 200 and b"<script" not in served.raw and
            b"<html" not in served.raw)
    for name, data, filename in (("an SVG with script", mf.SVG, "x.svg"),
                                 ("an HTML page", mf.HTML, "x.html")):
        r = upload_ready(c, alice, data, name, filename=filename, ctype="text/html")
        c.check("%s: kept as a file" % name, r.status == 200 and r.json["type"] == "unknown",
                r.brief())
        f = fetch(node, r.json["url"])
        c.check("%s: served as a download in a sandbox, never as a page" % name,
                f.status == 200 and
                (f.header("Content-Disposition") or "").startswith("attachment") and
                "sandbox" in (f.header("Content-Security-Policy") or "") and
                f.header("X-Content-Type-Options") == "nosniff",
                (f.status, f.header("Content-Disposition"), f.header("Content-Type")))
    r = upload(alice, b"")
    c.error("an empty file: 422", r, 422)
    body, ctype = mf.multipart({"description": "no file"}, [])
    c.error("no file part: 422", alice.post("/api/v2/media", body=body, content_type=ctype), 422)
    c.error("a body that is not multipart: 415",
            alice.post("/api/v2/media", json_body={"file": "x"}), 415)
    c.error("anonymous: 401", node.client().post("/api/v2/media", body=body, content_type=ctype),
            401)
    c.error("a bad focus: 422", upload(alice, mf.pdf(100), fields={"focus": "2,0"}), 422)
    mine = upload(alice, mf.pdf(100))
    c.error("somebody else's upload: 404", bob.get("/api/v1/media/%s" % mine.json["id"]), 404)
    c.error("a file that is not here: 404",
            node.client().get("/media/" + "A" * 43 + ".jpg"), 404)
    with open(os.path.join(node.data_dir, "node.key"), "rb") as f:
        key = f.read()
    for path in ("/media/..%2F..%2Fnode.key", "/media/../node.key", "/media/%2e%2e/node.key"):
        r = node.client().get(path)
        c.check("%s: not the node's key (%d)" % (path, r.status), key not in r.raw)


def s_many(c, node, alice, bob, photo):
    """100 uploads at once from one user."""
    def one(_):
        return upload(alice, photo)
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        futures = [pool.submit(one, i) for i in range(100)]
        other = bob.get("/api/v1/timelines/public")
        rss = rss_mb(node)
        replies = [f.result() for f in futures]
    statuses = sorted(set(r.status for r in replies))
    c.check("100 uploads at once: each 202, 429 or 503 (%s)" % statuses,
            set(statuses) <= {202, 429, 503} and 202 in statuses)
    c.check("the refusals say why", all("error" in (r.json or {}) for r in replies
                                        if r.status != 202))
    c.status("another user is answered meanwhile", other, 200)
    c.check("memory under %d MB meanwhile (%s MB)%s" % (RSS_BOUND_MB, rss,
            " (not checked: a sanitizer build)" if SANITIZED else ""),
            SANITIZED or (rss is not None and rss < RSS_BOUND_MB))
    ids = [r.json["id"] for r in replies if r.status == 202]
    done = [wait_ready(alice, i) for i in ids]
    c.check("every one accepted is ready in the end (%d)" % len(ids),
            all(r.status == 200 for r in done))
    c.check("in %.1f s" % (time.monotonic() - t0), True)


def rss_mb(node):
    try:
        with open("/proc/%d/status" % node.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def s_still_there(c, node, alice, status, pdf_data):
    st = alice.get("/api/v1/statuses/%s" % status["id"]).json
    f = fetch(node, st["media_attachments"][0]["url"])
    c.check("after all that, the first status's PDF is served as it was",
            f.status == 200 and f.raw == pdf_data)


def s_instance(c, node, attachments, max_upload, max_pixels, types):
    """What GET /api/v1/instance and /api/v2/instance tell clients of
    the [media] settings."""
    for v in ("v1", "v2"):
        body = node.client().get("/api/%s/instance" % v).json or {}
        conf = body.get("configuration") or {}
        c.equal("instance %s: max_media_attachments is [media] attachments" % v,
                (conf.get("statuses") or {}).get("max_media_attachments"), attachments)
        media = conf.get("media_attachments") or {}
        c.equal("instance %s: the image types shown inline" % v,
                media.get("supported_mime_types"), types)
        c.equal("instance %s: image and video size limits are [media] max_upload" % v,
                (media.get("image_size_limit"), media.get("video_size_limit")),
                (max_upload, max_upload))
        c.equal("instance %s: image_matrix_limit is [media] max_pixels" % v,
                media.get("image_matrix_limit"), max_pixels)
        c.equal("instance %s: the longest alt text" % v, media.get("description_limit"), 1500)
        c.equal("instance %s: files of any type are taken" % v,
                ((body.get("ruche") or {}).get("media") or {}).get("any_file"), True)


def s_limits(c, ruched):
    with rt.Node(ruched, site="mlimits", settings=("media.max_upload=2000000",
                                                   "media.quota_mb=1", "media.attachments=6",
                                                   "media.max_pixels=1000000",
                                                   "media.heic=1")) as node:
        node.start()
        s_instance(c, node, 6, 2000000, 1000000, IMAGE_TYPES + ["image/heic", "image/heif"])
        admin = node.client(node.client().login("admin", node.admin_password()))
        r = upload(admin, mf.pdf(2100000))
        c.error("a file over [media] max_upload: 413", r, 413)
        r = upload(admin, mf.pdf(1200000))
        c.error("a file past the site's quota: 507", r, 507)
        r = admin.post("/api/v1/statuses", body=b"x" * 1200000, content_type="text/plain")
        c.error("another route keeps [http] max_body: 413", r, 413)
        c.equal("no sanitizer report", node.sanitizer_reports(), [])


def s_user_quota(c, ruched):
    with rt.Node(ruched, site="mquota", settings=(
            "media.user_quota_mb=1", "media.upload_s=3", "media.gc_interval_s=1")) as node:
        node.start()
        admin = node.client(node.client().login("admin", node.admin_password()))
        r = admin.post("/api/ruche/v1/admin/users", json_body={"username": "carol"})
        carol = node.client(node.client().login("carol", r.json["password"]))
        first = upload(carol, mf.pdf(600000), filename="a.pdf")
        c.status("carol's first 600 KB file fits her 1 MiB", first, 202)
        m = wait_ready(carol, first.json["id"]).json
        st = carol.post("/api/v1/statuses", json_body={"status": "x", "media_ids": [m["id"]]})
        c.status("she posts it", st, 200)
        r = upload(carol, mf.pdf(600000), filename="b.pdf")
        c.error("a second one does not fit: 507", r, 507)
        c.check("and says how much she uses", "MiB" in (r.json or {}).get("error", ""),
                r.brief())
        c.status("another user's upload is not hers", upload(admin, mf.pdf(600000)), 202)
        rt.wait_until(lambda: carol.get("/api/v1/media/%s" % m["id"]).status == 404, 30,
                      "her upload to expire")
        c.error("once her upload expired, her status's file still counts: 507",
                upload(carol, mf.pdf(600000), filename="c.pdf"), 507)
        carol.delete("/api/v1/statuses/%s" % st.json["id"])
        c.status("deleting the status gives its room back",
                 upload(carol, mf.pdf(600000), filename="d.pdf"), 202)
        c.equal("no sanitizer report", node.sanitizer_reports(), [])


def s_collected(c, ruched):
    with rt.Node(ruched, site="mgc", settings=("media.upload_s=3", "media.grace_s=1",
                                               "media.gc_interval_s=1")) as node:
        node.start()
        admin = node.client(node.client().login("admin", node.admin_password()))
        r = upload(admin, mf.pdf(5000), filename="a.pdf")
        m = wait_ready(admin, r.json["id"]).json
        st = admin.post("/api/v1/statuses", json_body={"status": "gone soon",
                                                       "media_ids": [m["id"]]}).json
        rt.wait_until(lambda: admin.get("/api/v1/media/%s" % m["id"]).status == 404, 30,
                      "the upload record to expire")
        c.status("its upload expired, the status still holds the file", fetch(node, m["url"]), 200)
        admin.delete("/api/v1/statuses/%s" % st["id"])
        rt.wait_until(lambda: fetch(node, m["url"]).status == 404, 30,
                      "the file to be collected")
        c.check("once the status is deleted, the file goes after the grace period", True)
        c.equal("no sanitizer report", node.sanitizer_reports(), [])


def run(c, ruched):
    with rt.Node(ruched, site="media", settings=("media.queue_mb=64",)) as node:
        node.start()
        alice, bob = users(c, node)
        with c.section("what the instance tells clients"):
            s_instance(c, node, 4, 41943040, 50000000, IMAGE_TYPES)
        with c.section("a photo"):
            media_id, _ = s_photo(c, node, alice)
        with c.section("a PDF"):
            pdf_id, pdf_data = s_pdf(c, node, alice)
        with c.section("a status with them"):
            status = s_post(c, node, alice, bob, media_id, pdf_id)
        with c.section("hostile files"):
            s_hostile(c, node, alice, bob)
        with c.section("100 uploads at once"):
            s_many(c, node, alice, bob, mf.exif_jpeg(1600, 1200))
        with c.section("nothing harmed"):
            s_still_there(c, node, alice, status, pdf_data)
        c.equal("no sanitizer report", node.sanitizer_reports(), [])
    with c.section("limits"):
        s_limits(c, ruched)
    with c.section("a user's quota"):
        s_user_quota(c, ruched)
    with c.section("collection"):
        s_collected(c, ruched)


if __name__ == "__main__":
    rt.main_wrapper(run)
