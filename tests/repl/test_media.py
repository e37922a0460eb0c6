#!/usr/bin/python3
"""test_media.py - photos and files that travel: real ruched processes on
loopback, peered over ZeroMQ with CURVE (node/repl/ru_fetch.c,
ru_serve.c).

Three sites in a line, paris - nozay - murray-hill: murray-hill hears of
paris's posts through nozay, and fetches their files from nozay, which
fetched them from paris.

- alice@paris posts a photo with alt text and a 3 MB PDF: at nozay and
  murray-hill the status shows them with the thumbnail, the blurhash and
  the alt text, and once fetched every file is served there with the very
  bytes paris serves (their hash is their name), and is no longer pending;
- `ruche timeline public`, logged in at nozay, shows the photo's line with
  its alt text and a URL that nozay serves with paris's bytes (the CLI
  from RUCHE_CLI, else beside ruched in the build tree);
- murray-hill fetches files over 1 MB only on first read ([media]
  fetch_now_mb = 1): its PDF is pending, answers 503 with Retry-After when
  first asked, then arrives and is served identical;
- nozay is stopped while alice posts another photo: once it is back and
  has caught up, the photo reaches nozay and murray-hill (a blob a peer
  lacked is asked again later);
- nozay loses its files (a store restored without its blobs folder): they
  are asked of paris again at its start and served as before;
- alice deletes the status: with short [media] upload_s and grace_s, its
  files go at every site, not before the grace period.
The figures: blobs fetched and served in /metrics, no bad blob.

Usage: test_media.py PATH/TO/ruched; prints one line per check and
"N passed, M failed", exits non-zero if any check failed.
"""

import base64
import hashlib
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import fed  # noqa: E402
import mediafiles as mf  # noqa: E402
import ruchecli  # noqa: E402
import ruchetest as rt  # noqa: E402

WAIT = 60.0  # seconds for a status or a file to travel
SETTINGS = ("media.upload_s=20", "media.grace_s=2", "media.gc_interval_s=1")


def upload(client, data, filename, ctype, description=""):
    body, content_type = mf.multipart({"description": description} if description else {},
                                      [("file", filename, ctype, data)])
    r = client.post("/api/v2/media", body=body, content_type=content_type)
    if r.status != 202:
        raise rt.TestError("upload %s: %d %s" % (filename, r.status, r.brief()))
    media_id = r.json["id"]
    rt.wait_until(lambda: client.get("/api/v1/media/%s" % media_id).status == 200, WAIT,
                  "upload %s to be processed" % filename)
    return media_id


def status_at(client, sid):
    r = client.get("/api/v1/statuses/%s" % sid)
    return r.json if r.status == 200 else None


def fetch(site, url):
    return site.client().request("GET", rt.path_of(url), anonymous=True)


def name_of(url):
    return url.split("/media/", 1)[1].split("/")[0].split(".")[0]


def b64hash(raw):
    return base64.urlsafe_b64encode(hashlib.blake2b(raw, digest_size=32).digest()).rstrip(
        b"=").decode()


def served(site, url):
    """The bytes site serves at url once it has them (200), or None."""
    got = {}

    def ready():
        r = fetch(site, url)
        got["r"] = r
        return r.status == 200
    try:
        rt.wait_until(ready, WAIT, "%s to serve %s" % (site.name, url), interval=0.2)
    except rt.TestError:
        return None
    return got["r"].raw


def metric(site, name):
    r = site.client().get("/metrics")
    m = re.search(rb"^%s (\d+)" % name.encode(), r.raw, re.M)
    return int(m.group(1)) if m else None


def s_travel(c, f, alice, readers):
    paris = f[0]
    photo_id = upload(alice, mf.exif_jpeg(2000, 1500), "whiteboard.jpg", "image/jpeg",
                      "The whiteboard after the review")
    pdf = mf.pdf(3 * 1024 * 1024)
    pdf_id = upload(alice, pdf, "plan.pdf", "application/pdf")
    st = alice.post("/api/v1/statuses", json_body={"status": "Review notes #tulip",
                                                  "media_ids": [photo_id, pdf_id]}).json
    atts = st["media_attachments"]
    originals = {a["url"]: fetch(paris, a["url"]).raw for a in atts}
    originals[atts[0]["preview_url"]] = fetch(paris, atts[0]["preview_url"]).raw
    c.check("paris serves its files by their hash",
            all(name_of(u) == b64hash(b) for u, b in originals.items()))
    for site, reader in readers:
        seen = {}
        rt.wait_until(lambda: seen.update(s=status_at(reader, st["id"])) or seen["s"], WAIT,
                      "the status at %s" % site.name)
        got = seen["s"]["media_attachments"]
        c.equal("%s: the status has both attachments" % site.name,
                [a["type"] for a in got], ["image", "unknown"])
        c.equal("%s: the photo's alt text" % site.name, got[0]["description"],
                "The whiteboard after the review")
        c.equal("%s: its blurhash and sides" % site.name,
                (got[0]["blurhash"], got[0]["meta"]), (atts[0]["blurhash"], atts[0]["meta"]))
        c.equal("%s: the same URLs' names (the hashes)" % site.name,
                [name_of(a["url"]) for a in got], [name_of(a["url"]) for a in atts])
        for a, orig in zip(got, atts):
            urls = [(a["url"], orig["url"])]
            if a.get("preview_url"):
                urls.append((a["preview_url"], orig["preview_url"]))
            for here, there in urls:
                first = fetch(site, here)
                if site.name == "murray-hill" and a["type"] == "unknown":
                    c.check("murray-hill: the 3 MB PDF waits for its first read (%d)" %
                            first.status, first.status == 503 and
                            first.header("Retry-After") is not None, first.brief())
                raw = served(site, here)
                c.check("%s: %s served identical to paris's" % (site.name, name_of(here)[:8]),
                        raw == originals[there], None if raw is None else len(raw))
        again = status_at(reader, st["id"])["media_attachments"]
        rt.wait_until(lambda: not any(a["ruche"]["pending"] for a in
                                      status_at(reader, st["id"])["media_attachments"]),
                      WAIT, "%s to show no attachment pending" % site.name)
        c.check("%s: no attachment pending once fetched" % site.name, again is not None)
    return st, atts


def s_cli(c, f, ruched, photo):
    """The photo posted at paris, as ruche shows it to someone at nozay."""
    nozay = f[1]
    url = "http://127.0.0.1:%d" % nozay.node.port
    with ruchecli.Cli(ruchecli.ruche_path(ruched), url, "admin",
                      nozay.node.admin_password()) as cli:
        run = cli.run("timeline", "public")
    line = re.search(r"^  \[image\] The whiteboard after the review · \d+×\d+ · .* · (\S+)$",
                     run.out, re.M)
    c.check("nozay: ruche timeline shows the photo's line with its alt text", line, run.brief())
    if line:
        c.check("nozay: its URL is nozay's", line.group(1).startswith(url + "/media/"),
                line.group(1))
        c.check("nozay: serves it with paris's bytes",
                served(nozay, line.group(1)) == fetch(f[0], photo["url"]).raw)


def s_cut_off(c, f, alice, readers):
    nozay = f[1]
    nozay.stop()
    photo_id = upload(alice, mf.exif_jpeg(1200, 900), "later.jpg", "image/jpeg")
    st = alice.post("/api/v1/statuses", json_body={"status": "while nozay was away",
                                                  "media_ids": [photo_id]}).json
    url = st["media_attachments"][0]["url"]
    original = fetch(f[0], url).raw
    nozay.start()
    f.wait_converged()
    for site, reader in readers:
        raw = served(site, url)
        c.check("%s: the photo posted while nozay was away arrives" % site.name, raw == original)


def s_files_lost(c, f, st, atts):
    """nozay loses its blobs folder (a store restored without it): its
    files come back from paris."""
    nozay = f[1]
    nozay.stop()
    shutil.rmtree(os.path.join(nozay.node.data_dir, "blobs"))
    nozay.start()
    for a in atts:
        raw = served(nozay, a["url"])
        c.check("nozay: %s back from paris after its files were lost" % a["type"],
                raw is not None and name_of(a["url"]) == b64hash(raw))


def s_deleted(c, f, alice, st, atts):
    alice.delete("/api/v1/statuses/%s" % st["id"])
    f.wait_converged()
    for site in f.sites:
        for a in atts:
            try:
                rt.wait_until(lambda: fetch(site, a["url"]).status == 404, WAIT,
                              "%s to remove %s" % (site.name, name_of(a["url"])))
                gone = True
            except rt.TestError:
                gone = False
            c.check("%s: %s removed once the status is deleted" % (site.name, a["type"]), gone)


def run(c, ruched):
    with fed.Federation(c, ruched, ["paris", "nozay", "murray-hill"], "line", "media",
                        extra=SETTINGS) as f:
        f[2].extra.append("media.fetch_now_mb=1")
        f.start()
        f.require_replication()
        alice = f[0].new_user("alice")
        readers = [(f[1], f[1].new_user("bob")), (f[2], f[2].new_user("carol"))]
        with c.section("a photo and a PDF travel"):
            st, atts = s_travel(c, f, alice, readers)
        with c.section("through the CLI at nozay"):
            s_cli(c, f, ruched, atts[0])
        with c.section("figures"):
            c.check("nozay fetched the 3 blobs from paris and served them to murray-hill",
                    (metric(f[1], "ruche_blobs_fetched_total") or 0) >= 3 and
                    (metric(f[1], "ruche_blobs_served_total") or 0) >= 3,
                    (metric(f[1], "ruche_blobs_fetched_total"),
                     metric(f[1], "ruche_blobs_served_total")))
            media = (f[1].replication() or {}).get("media") or {}
            c.check("its replication status says so", media.get("fetched", 0) >= 3 and
                    media.get("served", 0) >= 3 and media.get("files", 0) >= 3, media)
            c.equal("no bad blob anywhere",
                    [metric(s, "ruche_blobs_bad_total") for s in f.sites], [0, 0, 0])
        with c.section("a site cut off catches up"):
            s_cut_off(c, f, alice, readers)
        with c.section("files lost"):
            s_files_lost(c, f, st, atts)
        with c.section("deleted everywhere"):
            s_deleted(c, f, alice, st, atts)
        for s in f.sites:
            c.equal("%s: no sanitizer report" % s.name, s.node.sanitizer_reports(), [])


if __name__ == "__main__":
    rt.main_wrapper(run)
