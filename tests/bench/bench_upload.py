#!/usr/bin/env python3
"""bench_upload.py - photos and files through real nodes, next to the raw
limits measured in the same run.

Usage: bench_upload.py RUCHED BENCH_MEDIA [--uploads N] [--clients C]
                       [--blob-mb M] [--quick]

Uploads: one 3.4 MB 4000 x 3000 photo (bench_media --write-photo), sent
N times by C clients at once to POST /api/v2/media, each then asking
GET /api/v1/media/:id until it answers 200: the uploads per second and
the p50 and p99 of one upload's time from its POST to its 200 (decode,
strip, resize, thumbnail, blurhash, the files stored and fsynced, the
record written). The raw limit beside it: bench_media on the very same
photo, libvips's own vips_thumbnail_buffer to the display size, with as
many threads as the node has media workers (2).

Blob replication: two sites peered over ZeroMQ with CURVE (as the
federation tests start them); paris posts a file of M MB (64 by
default), and the time until nozay serves it gives the fetch's MB/s (its
chunks are asked of paris over the sync channel, written and hashed as
they come, fsynced, and checked against their hash). The raw limit
beside it: a ZeroMQ DEALER and ROUTER with CURVE on loopback (pyzmq, the
same libzmq), the ROUTER sending the same bytes in 1 MiB messages.

--quick (the CTest smoke pass) uploads 4 photos and replicates a 4 MB
file; it fails only when something does not work.
"""

import argparse
import concurrent.futures
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
sys.path.insert(0, os.path.join(HERE, "..", "repl"))
import fed  # noqa: E402
import mediafiles as mf  # noqa: E402
import ruchetest as rt  # noqa: E402


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def upload_once(client, photo):
    t0 = time.monotonic()
    body, ctype = mf.multipart({}, [("file", "photo.jpg", "image/jpeg", photo)])
    r = client.post("/api/v2/media", body=body, content_type=ctype)
    if r.status != 202:
        raise rt.TestError("upload: %d %s" % (r.status, r.brief()))
    media_id = r.json["id"]
    while True:
        g = client.get("/api/v1/media/%s" % media_id)
        if g.status == 200:
            return time.monotonic() - t0
        if g.status != 206:
            raise rt.TestError("processing: %d %s" % (g.status, g.brief()))
        time.sleep(0.005)


def bench_uploads(args, tmp):
    photo_path = os.path.join(tmp, "photo.jpg")
    subprocess.run([args.bench_media, "--write-photo", photo_path], check=True)
    with open(photo_path, "rb") as f:
        photo = f.read()
    print("== raw: libvips on the same photo (bench_media)")
    sys.stdout.flush()
    subprocess.run([args.bench_media, "--photo", photo_path, "--images",
                    str(max(4, args.uploads // 2))], check=True)
    print("\n== uploads through a node: %d x %.2f MB, %d clients at once, [media] workers = 2"
          % (args.uploads, len(photo) / 1e6, args.clients))
    with rt.Node(args.ruched, site="benchup", settings=(
            "media.workers=2", "media.per_user=%d" % (args.clients + 2))) as node:
        node.start()
        client = node.client(node.client().login("admin", node.admin_password()))
        upload_once(client, photo)  # warm
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
            times = list(pool.map(lambda _: upload_once(client, photo), range(args.uploads)))
        wall = time.monotonic() - t0
    print("%-34s %9s %9s %9s" % ("", "uploads/s", "p50 ms", "p99 ms"))
    print("%-34s %9.2f %9.0f %9.0f" % ("POST, processed, ready (end to end)", args.uploads / wall,
                                       1000 * statistics.median(times),
                                       1000 * percentile(times, 99)))


def raw_curve(megabytes):
    """MB/s of megabytes sent in 1 MiB messages ROUTER -> DEALER with CURVE
    on loopback."""
    import zmq
    ctx = zmq.Context()
    server_pub, server_sec = zmq.curve_keypair()
    client_pub, client_sec = zmq.curve_keypair()
    router = ctx.socket(zmq.ROUTER)
    router.curve_server = True
    router.curve_secretkey = server_sec
    router.curve_publickey = server_pub
    port = router.bind_to_random_port("tcp://127.0.0.1")
    dealer = ctx.socket(zmq.DEALER)
    dealer.curve_serverkey = server_pub
    dealer.curve_publickey = client_pub
    dealer.curve_secretkey = client_sec
    dealer.connect("tcp://127.0.0.1:%d" % port)
    dealer.send(b"want")
    ident, _ = router.recv_multipart()
    piece = os.urandom(1 << 20)
    t0 = time.monotonic()

    def send():
        for _ in range(megabytes):
            router.send_multipart([ident, piece])
    th = threading.Thread(target=send)
    th.start()
    for _ in range(megabytes):
        dealer.recv()
    wall = time.monotonic() - t0
    th.join()
    router.close(0)
    dealer.close(0)
    ctx.term()
    return megabytes * 1.048576 / wall


def bench_blobs(args, checks):
    size = args.blob_mb << 20
    print("\n== blob replication: a %d MB file posted at paris, fetched by nozay" % args.blob_mb)
    settings = ("media.max_upload=%d" % (size + (1 << 20)), "media.queue_mb=%d" % (
        2 * args.blob_mb + 64), "media.fetch_now_mb=%d" % (args.blob_mb + 1))
    with fed.Federation(checks, args.ruched, ["paris", "nozay"], "line", "benchblob",
                        extra=settings) as f:
        f.start()
        f.require_replication()
        alice = f[0].new_user("alice")
        data = os.urandom(size)
        body, ctype = mf.multipart({}, [("file", "big.bin", "application/octet-stream", data)])
        r = alice.post("/api/v2/media", body=body, content_type=ctype)
        if r.status != 202:
            raise rt.TestError("upload: %d %s" % (r.status, r.brief()))
        media_id = r.json["id"]
        rt.wait_until(lambda: alice.get("/api/v1/media/%s" % media_id).status == 200, 120,
                      "the upload")
        st = alice.post("/api/v1/statuses", json_body={"status": "big", "media_ids": [media_id]})
        path = rt.path_of(st.json["media_attachments"][0]["url"])
        t0 = time.monotonic()
        nozay = f[1].client()
        rt.wait_until(lambda: nozay.request("HEAD", path, anonymous=True).status == 200, 300,
                      "nozay to hold the file", interval=0.005)
        wall = time.monotonic() - t0
        got = nozay.get(path)
        checks.check("nozay serves the very bytes", got.raw == data)
    raw = raw_curve(args.blob_mb)
    ours = args.blob_mb * 1.048576 / wall
    print("%-50s %9s %9s" % ("", "MB/s", "ratio"))
    print("%-50s %9.1f %9s" % ("raw: ZeroMQ ROUTER->DEALER, CURVE, 1 MiB messages", raw, "1.00 x"))
    print("%-50s %9.1f %8.2f x" % ("nozay fetches the blob from paris (post to served)", ours,
                                   ours / raw))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ruched")
    ap.add_argument("bench_media")
    ap.add_argument("--uploads", type=int, default=40)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--blob-mb", type=int, default=64)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.uploads, args.clients, args.blob_mb = 4, 2, 4
    checks = rt.Checks()
    with tempfile.TemporaryDirectory() as tmp:
        bench_uploads(args, tmp)
        bench_blobs(args, checks)
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
