#!/usr/bin/python3
"""test_faults.py - what real ruched nodes do with peers that misbehave.

Two nodes, paris and nozay, are peered with each other and with "rogue", a
protocol peer written from proto/PROTOCOL.md (rogue.py) that runs in this
process with its own Ed25519 key. rogue is first checked against the
frozen test vectors (a post of version 1 and one of version 2 with an
image, the profiles of versions 1, 2 and 3, every message, the blob
messages included, and the answer to a want), so that what it sends is
what it means to send.

1. Strangers: a key in no node's configuration, and a socket without
   CURVE at all, try the sync socket (hello) and the PUB socket (SUB) of
   paris: nothing comes back within a deadline, while rogue, trusted, gets
   its catch-up (batches then done, every envelope signed by a trusted
   origin, done carrying paris's clock) and heartbeats over the very same
   sockets; paris keeps serving.
   Then catch-up honours credit: with paris's log longer than a batch, a
   hello granting one batch gets one and no more, and granting one more
   per batch gets it all, then done.
2. rogue, trusted (in both nodes' [peer] sections), publishes a good post,
   then: a forged signature, a tampered payload, an update passed off as
   paris's, a payload over the limit, malformed messages, an update of an
    origin outside the trust store, an hlc an hour ahead, replays of stored
    updates, a message 2 KiB over the largest update message, one byte over
    the 4 MiB + 64 limit and one of 6 MiB, and last a fork of its own log
    (which quarantines rogue). Each refusal must show in both nodes'
   "rejected" counts for rogue under its reason (replays under none: they
   count as duplicates, dropped before their signatures are checked), with
   clock and digest unchanged; nothing bad is stored, shown or relayed; the
   good updates are; the nodes keep serving, replicating and converge; and
   they exit with 0 on SIGTERM.

Usage: test_faults.py PATH/TO/ruched; prints one line per check and
"N passed, M failed", exits non-zero if any check failed.
"""

import json
import os
import sys

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fed  # noqa: E402
import rogue as rg  # noqa: E402
import ruchetest as rt  # noqa: E402

REASONS = ("signature", "untrusted", "chain", "fork", "skew", "malformed", "too_big", "clock",
           "pending_full")
REJECT_TIMEOUT = 15.0  # seconds for a node to count a refusal
SILENCE = 2.0  # seconds a stranger listens; paris beats every 0.2 s
BULK = 300  # posts that make paris's log longer than one batch
LIVE_MAX = 65611  # the largest update message (PROTOCOL.md 13)
VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "proto",
                       "vectors.json")


def _descriptor(d):
    """rogue's form of a descriptor of the vectors (None for null)."""
    if d is None:
        return None
    image = d["image"] and rg.image(**dict(d["image"], thumb=bytes.fromhex(d["image"]["thumb"])))
    return rg.descriptor(bytes.fromhex(d["hash"]), d["size"], d["type"], d["name"],
                         d["description"], image)


def _remade(keys, u, make):
    """Whether make(chain, seq=, prev=, hlc=, clock=) gives update vector
    u byte for byte, and its signature verifies."""
    f = u["fields"]
    p, env = make(rg.Chain(keys[u["key"]], f["author"]), seq=f["seq"],
                  prev=bytes.fromhex(f["prev"]), hlc=f["hlc"],
                  clock={bytes.fromhex(o): n for o, n in f["clock"]})
    return (p.hex(), env.hex()) == (u["payload"], u["envelope"]) and \
        rg.open_envelope(env)["verified"]


def _person(j):
    """rogue's form of a person of the vectors (None for null)."""
    if j is None:
        return None
    return rg.person(**dict(j, fields=[(f["name"], f["value"]) for f in j["fields"]]))


def check_rogue(c):
    """rogue makes the vectors' keys, payload, signature, envelope, hash
    and messages byte for byte, and profiles of every payload version."""
    with open(VECTORS, encoding="utf-8") as f:
        v = json.load(f)
    keys = {k["name"]: rg.Identity(bytes.fromhex(k["seed"])) for k in v["keys"]}
    c.check("rogue: key texts as in the vectors",
            all(keys[k["name"]].text == k["public_text"] for k in v["keys"]))
    u = v["updates"][0]
    f = u["fields"]
    ident = keys[u["key"]]
    p = rg.payload(ident.public, f["seq"], bytes.fromhex(f["prev"]), {}, f["hlc"], f["author"],
                   f["kind"], [f["body"]["text"], f["body"]["visibility"], None])
    env = rg.envelope(p, ident.sign(p))
    c.check("rogue: %s byte for byte" % u["name"],
            (p.hex(), env.hex(), rg.update_hash(p).hex())
            == (u["payload"], u["envelope"], u["hash"]))
    u = next(u for u in v["updates"] if u["name"] == "paris-15-post-image")
    b = u["fields"]["body"]
    c.check("rogue: %s, of version 2, byte for byte and verified" % u["name"],
            _remade(keys, u, lambda chain, **kw: chain.post(
                b["text"], spoiler=b["spoiler"], sensitive=b["sensitive"],
                media=[_descriptor(d) for d in b["media"]], **kw)))
    profiles = [u for u in v["updates"] if u["fields"]["kind"] == "profile"]
    same = {}
    for u in profiles:
        b = u["fields"]["body"]
        same[u["name"]] = _remade(keys, u, lambda chain, b=b, **kw: chain.profile(
            b["display_name"], b["note"], avatar=_descriptor(b.get("avatar")),
            header=_descriptor(b.get("header")), person=_person(b.get("person")), **kw))
    c.check("rogue: the profiles of the vectors, of versions %s, byte for byte and verified"
            % sorted({int(u["payload"][2:4], 16) for u in profiles}), all(same.values()), same)
    same = []
    for m in v["messages"]:
        data = bytes.fromhex(m["bytes"])
        kind, fields = rg.split_message(data)
        remade = {rg.UPDATE: lambda: rg.msg_update(fields), rg.BATCH: lambda: rg.msg_batch(fields),
                  rg.HELLO: lambda: rg.msg_hello(*fields), rg.DONE: lambda: rg.msg_done(*fields),
                  rg.HEARTBEAT: lambda: rg.msg_heartbeat(*fields),
                  rg.CREDIT: lambda: rg.msg_credit(*fields), rg.WANT: lambda: rg.msg_want(*fields),
                  rg.CHUNK: lambda: rg.msg_chunk(*fields),
                  rg.LACK: lambda: rg.msg_lack(*fields)}[kind]()
        same.append(remade == data)
    c.check("rogue: every message of the vectors split and made again byte for byte", all(same))
    abc = next(m for m in v["messages"] if m["name"] == "chunk-whole-blob-abc")
    c.check("rogue: the answer to a want of \"abc\" is the vectors' chunk",
            [m.hex() for m in rg.answer_want(b"abc", 0, rg.MAX_WANT)] == [abc["bytes"]])
    photo = bytes(range(256)) * 9703 + b"xyz"  # 2483771 bytes: chunks of 1 MiB, 1 MiB, 380 KiB
    got = [rg.split_message(m)[1][1:4] for m in rg.answer_want(photo, 0, rg.MAX_WANT)]
    c.check("rogue: a want answered with consecutive chunks until the blob ends",
            [(size, offset, len(data)) for size, offset, data in got]
            == [(len(photo), 0, rg.BLOB_CHUNK), (len(photo), rg.BLOB_CHUNK, rg.BLOB_CHUNK),
                (len(photo), 2 * rg.BLOB_CHUNK, len(photo) - 2 * rg.BLOB_CHUNK)]
            and b"".join(data for _, _, data in got) == photo)
    c.check("rogue: a want answered with no more chunks than its credit, from its offset",
            [rg.split_message(m)[1][2] for m in rg.answer_want(photo, rg.BLOB_CHUNK, 1)]
            == [rg.BLOB_CHUNK] and rg.answer_want(photo, len(photo), 8) == [])


def rejected(site):
    """The rejected counts of site for the peer rogue ({} if none)."""
    p = site.peer_status("rogue") or {}
    return p.get("rejected") or {}


def updates(site):
    """The counts of updates site took from the peer rogue ({} if none)."""
    p = site.peer_status("rogue") or {}
    return p.get("updates") or {}


def clock_and_digest(site):
    st = site.replication() or {}
    return st.get("clock"), st.get("digest")


class Attack:
    """Sends what rogue is told to and checks what each node makes of it."""

    def __init__(self, c, f, rogue):
        self.c, self.f, self.rogue = c, f, rogue
        self.chain = rogue.chain
        self.bad = []  # envelopes no node may store or relay
        self.good = []  # texts of the rogue's updates the nodes must show

    def counts(self):
        return [rejected(s) for s in self.f.sites]

    def refused(self, name, reason, message, env=None):
        """Publishes message; each node must count it once under reason
        (None: under no reason; then it is followed by a forged update, a
        barrier counted under signature) and keep clock and digest."""
        if env is not None:
            self.bad.append(env)
        before = self.counts()
        states = [clock_and_digest(s) for s in self.f.sites]
        self.rogue.publish(message)
        counted = reason or "signature"
        if reason is None:
            self.rogue.publish_update(self.forged("barrier after %s" % name))
        want = [dict(b, **{counted: b.get(counted, 0) + 1}) for b in before]
        try:
            fed.wait_until(lambda: all(_same(now, w) for now, w in zip(self.counts(), want)),
                           REJECT_TIMEOUT, "the refusal of %s" % name)
        except rt.TestError:
            pass
        for s, now, w, st in zip(self.f.sites, self.counts(), want, states):
            what = "counted under no reason" if reason is None else "counted as %s" % reason
            self.c.check("%s: %s %s, nothing else" % (name, s.name, what), _same(now, w),
                         "rejected %r, expected %r" % (now, w))
            self.c.equal("%s: %s's clock and digest are unchanged" % (name, s.name),
                         clock_and_digest(s), st)

    def forged(self, text):
        """The chain's next post with one bit of its signature flipped."""
        data, env = self.chain.post("BAD " + text)
        sig = bytearray(rg.open_envelope(env)["signature"])
        sig[0] ^= 0x01
        env = rg.envelope(data, bytes(sig))
        self.bad.append(env)
        return env

    def accepted(self, name, env, text):
        """Publishes a good update of the chain; both nodes must store it."""
        self.chain.commit(env)
        self.good.append(text)
        self.rogue.publish_update(env)
        seq = self.chain.seq
        try:
            fed.wait_until(lambda: all((s.replication() or {}).get("clock", {}).get(
                self.rogue.identity.text, 0) >= seq for s in self.f.sites),
                fed.CONVERGE_TIMEOUT, name)
            ok = True
        except rt.TestError:
            ok = False
        self.c.check("%s: both nodes store rogue's seq %d" % (name, seq), ok,
                     self.f.describe(self.f.sites, self.f.states()))


def _same(counts, want):
    return all(counts.get(r, 0) == want.get(r, 0) for r in REASONS)


def strangers(c, f, rogue):
    """Part 1."""
    paris = f[0]
    key = rg.key_bytes(paris.key)
    stranger = rg.Identity()
    ctx = zmq.Context()
    try:
        jobs = [
            lambda: rg.fetch_catchup(ctx, stranger, paris.sync, key, timeout=SILENCE),
            lambda: rg.fetch_catchup(ctx, None, paris.sync, key, timeout=SILENCE),
            lambda: rg.fetch_catchup(ctx, rogue.identity, paris.sync, key, timeout=10),
            lambda: rg.listen(ctx, stranger, paris.pub, key, SILENCE),
            lambda: rg.listen(ctx, None, paris.pub, key, SILENCE),
            lambda: rg.listen(ctx, rogue.identity, paris.pub, key, SILENCE),
        ]
        sync_stranger, sync_null, sync_rogue, pub_stranger, pub_null, pub_rogue = fed.parallel(
            lambda job: job(), jobs)
    finally:
        ctx.term()
    c.equal("strangers: an untrusted key gets no answer to hello on paris's sync socket",
            sync_stranger, ([], None, []))
    c.equal("strangers: a socket without CURVE gets no answer to hello", sync_null,
            ([], None, []))
    c.equal("strangers: an untrusted key hears nothing on paris's PUB in %.0f s" % SILENCE,
            len(pub_stranger), 0)
    c.equal("strangers: a socket without CURVE hears nothing on paris's PUB", len(pub_null), 0)
    beats = [m for m in pub_rogue if m[:3] == b"\x95\x01\x05"]
    c.check("strangers: meanwhile rogue, trusted, hears paris's heartbeats (%d)" % len(beats),
            beats)
    envs, clock, _ = sync_rogue
    if c.check("strangers: rogue's hello gets batches and done", clock is not None):
        opened = [rg.open_envelope(e) for e in envs]
        trusted = {rg.key_bytes(s.key) for s in f.sites}
        c.check("strangers: %d envelopes in the catch-up, all signed by a trusted origin"
                % len(envs), envs and all(o["verified"] and o["origin"] in trusted
                                          for o in opened))
        c.equal("strangers: done carries paris's clock",
                {rg.key_text(k): v for k, v in clock.items()},
                (paris.replication() or {}).get("clock"))
    c.equal("strangers: paris still answers /healthz", paris.client().get("/healthz").status, 200)


def attacks(c, f, rogue):
    """Part 2."""
    a = Attack(c, f, rogue)
    paris, nozay = f.sites
    chain = a.chain
    data, env = chain.post("rogue says hello")
    a.accepted("a good post", env, "rogue says hello")

    a.refused("a forged signature", "signature", rg.msg_update(a.forged("forged signature")))

    data, env = chain.post("BAD tampered payload!")
    signature = rg.open_envelope(env)["signature"]
    tampered = rg.envelope(data.replace(b"payload!", b"payload?"), signature)
    a.refused("a tampered payload byte", "signature", rg.msg_update(tampered), tampered)

    p = rg.key_bytes(paris.key)
    seq = (paris.replication() or {}).get("clock", {}).get(paris.key, 0) + 1
    fake = rg.payload(p, seq, bytes(32) if seq == 1 else b"\x11" * 32, {}, rg.hlc_now(), "admin",
                      "post", ["BAD passed off as paris", 0, None])
    env = rg.envelope(fake, rogue.identity.sign(fake))
    a.refused("an update claiming paris as origin", "signature", rg.msg_update(env), env)

    big = b"\x99\x01\xc4\x20" + rogue.identity.public + b"\x00" * (rg.MAX_PAYLOAD + 100)
    env = rg.envelope(big, rogue.identity.sign(big))
    a.refused("a payload of %d bytes" % len(big), "too_big", rg.msg_update(env), env)

    malformed(a)

    eve = rg.Chain(rg.Identity(), "eve")
    data, env = eve.post("BAD from an unknown origin")
    a.refused("an update of an origin outside the trust store", "untrusted", rg.msg_update(env),
              env)

    data, env = chain.post("BAD an hour ahead", hlc=rg.hlc_now(3600 * 1000))
    a.refused("an update with an hlc an hour ahead", "skew", rg.msg_update(env), env)

    replays(a, paris)
    oversize(a)
    fork(a)  # the last: rogue is quarantined from then on (test_fork.py)
    return a


def malformed(a):
    """Messages that are not well-formed; each counts once as malformed."""
    a.refused("a message of a byte msgpack never uses", "malformed", b"\x93\x01\x01\xc1")
    data, env = a.chain.post("BAD cut short")
    a.refused("an update message cut short", "malformed", rg.msg_update(env)[:-10], env)
    data, env = a.chain.post("BAD with a byte after it")
    a.refused("an update message with a trailing byte", "malformed", rg.msg_update(env) + b"\x00",
              env)
    data, _ = a.chain.post("BAD-bytes-xx")
    data = data.replace(b"BAD-bytes-xx", b"BAD-\xc0\xaf-bytes")
    env = rg.envelope(data, a.rogue.identity.sign(data))
    a.refused("a signed update whose text is not UTF-8", "malformed", rg.msg_update(env), env)


def replays(a, paris):
    """Stored updates sent again: dropped as duplicates, counted nowhere."""
    cl = paris.admin()
    cl.post_status("paris before the replays")
    own = lambda: [e for e in a.rogue.updates_seen()  # noqa: E731
                   if rg.open_envelope(e)["origin"] == rg.key_bytes(paris.key)]
    try:
        fed.wait_until(own, 10, "paris's post on its PUB")
        a.f.wait_converged()  # so that its arrival at nozay is not taken for a replay's effect
    except rt.TestError as e:
        a.c.check("replays: rogue hears paris's post on its PUB and nozay gets it", False, str(e))
        return
    first = a.chain.since(0)[0]
    before = [updates(s) for s in a.f.sites]
    a.refused("a replay of rogue's stored seq 1", None, rg.msg_update(first))
    a.refused("a replay of paris's own update", None, rg.msg_update(own()[-1]))
    grew = lambda s, b, k: updates(s).get(k, 0) - b.get(k, 0)  # noqa: E731
    for s, b in zip(a.f.sites, before):
        try:  # the replay and its barrier may be checked by different workers
            fed.wait_until(lambda: grew(s, b, "duplicates") >= 2, REJECT_TIMEOUT,
                           "the replays counted by %s" % s.name)
        except rt.TestError:
            pass
        a.c.equal("replays: %s counts both as duplicates from rogue" % s.name,
                  grew(s, b, "duplicates"), 2)
        a.c.equal("replays: %s checked the signatures of the two barriers only" % s.name,
                  grew(s, b, "verified"), 2)


def fork(a):
    """Two different updates with one (origin, seq): the first kept, the
    second counted as a fork. A prev that breaks the chain is a fork too
    (PROTOCOL.md section 16); both quarantine rogue, which test_fork.py
    follows further."""
    prev, seq = a.chain.prev, a.chain.seq + 1
    data, env = a.chain.post("fork, first version")
    a.accepted("the first update of seq %d" % seq, env, "fork, first version")
    data, env = a.chain.post("BAD fork, second version", seq=seq, prev=prev)
    states = [clock_and_digest(s) for s in a.f.sites]
    a.rogue.publish_update(env)  # each node may learn it from rogue or from the other
    forked = lambda s: [k for k in (s.replication() or {}).get("forks", [])  # noqa: E731
                        if k.get("origin") == "rogue" and k.get("seq") == seq]
    try:
        fed.wait_until(lambda: all(forked(s) for s in a.f.sites), REJECT_TIMEOUT,
                       "the fork at both nodes")
    except rt.TestError:
        pass
    for s, st in zip(a.f.sites, states):
        a.c.check("a second update with seq %d: %s quarantines rogue from seq %d" % (
            seq, s.name, seq), forked(s), (s.replication() or {}).get("forks"))
        a.c.equal("a second update with seq %d: %s's clock and digest are unchanged" % (
            seq, s.name), clock_and_digest(s), st)


def oversize(a):
    """An update message 2 KiB over the largest one the live stream
    carries (65611 bytes: a payload at the limit), within the 4 KiB more
    that ruched's SUBs read (PROTOCOL.md, section 13), is read and counted
    as too_big. One over the 4 MiB + 64 limit of any message, and
    one of 6 MiB, are dropped by ZeroMQ before the node reads them, which
    also drops the connection (or, were they read, counted as too_big);
    either way nothing is stored, and the link comes back: the next good
    update arrives."""
    # a message is its payload and 75 bytes: 93 01 01, the envelope's
    # array, bin32 and bin8 headers (1 + 5 + 2) and the signature
    over = b"\x99\x01\xc4\x20" + a.rogue.identity.public + bytes(LIVE_MAX + 2048 - 75 - 36)
    env = rg.envelope(over, a.rogue.identity.sign(over))
    msg = rg.msg_update(env)
    a.refused("a message of %d bytes, 2 KiB over the largest update" % len(msg), "too_big",
              msg, env)
    for size in (rg.MAX_MESSAGE + 1, 6 << 20):
        before = a.counts()
        huge = b"\x99\x01\xc4\x20" + a.rogue.identity.public + bytes(size - 75 - 36)
        env = rg.envelope(huge, a.rogue.identity.sign(huge))
        size = len(rg.msg_update(env))
        a.rogue.publish_update(env)
        a.bad.append(env)
        text = "rogue after a message of %d bytes" % size
        data, env = a.chain.post(text)
        a.accepted("after a message of %d bytes" % size, env, text)
        for s, b, now in zip(a.f.sites, before, a.counts()):
            a.c.check("after %d bytes: %s counted it as too_big or never read it" % (size, s.name),
                      now.get("too_big", 0) - b.get("too_big", 0) in (0, 1) and _same(
                          dict(now, too_big=b.get("too_big", 0)), b), "%r then %r" % (b, now))


def credit(c, f, rogue):
    """Catch-up under credit (PROTOCOL.md, section 13): with paris holding
    more than one batch, a hello granting one batch gets exactly one batch
    and no done while no more credit comes; granting one more per batch
    gets every update, in batches of 1 to 256, then done."""
    paris = f[0]
    fed.parallel(lambda n: [paris.admin().post_status("paris bulk %d %d" % (n, i))
                            for i in range(BULK // 3)], range(3))
    total = sum(((paris.replication() or {}).get("clock") or {}).values())
    key = rg.key_bytes(paris.key)
    ctx = zmq.Context()
    try:
        held = rg.fetch_catchup(ctx, rogue.identity, paris.sync, key, credit=1, timeout=SILENCE,
                                grant=False)
        full = rg.fetch_catchup(ctx, rogue.identity, paris.sync, key, credit=1, timeout=30)
    finally:
        ctx.term()
    c.check("credit: one credit and no more: one batch, no done within %.0f s" % SILENCE,
            len(held[2]) == 1 and held[1] is None, "batches %r, done %r" % (held[2], held[1]))
    c.check("credit: one more per batch: all %d updates, batches of 1-256, then done" % total,
            full[1] is not None and len(full[0]) == total and len(full[2]) >= 2
            and all(1 <= n <= 256 for n in full[2]),
            "%d updates in batches %r, done %r" % (len(full[0]), full[2], full[1] is not None))


def final_checks(c, f, a):
    paris, nozay = f.sites
    shown = [set(st["text"] for st in rt.walk_pages(s.client(), "/api/v1/timelines/public", 40)[0])
             for s in f.sites]
    for s, texts in zip(f.sites, shown):
        c.check("%s shows none of the refused updates" % s.name,
                not [t for t in texts if t.startswith("BAD")], sorted(texts)[:5])
        c.check("%s shows rogue's good posts" % s.name, set(a.good) <= texts,
                sorted(set(a.good) - texts))
    relayed = set(a.rogue.updates_seen())
    c.check("no node published a refused update", not relayed & set(a.bad),
            len(relayed & set(a.bad)))
    for s in f.sites:
        r = rejected(s)
        c.equal("%s: rejected has every reason" % s.name, sorted(r), sorted(REASONS))
        other = [p for p in (s.replication() or {}).get("peers", []) if p.get("site") != "rogue"]
        c.check("%s: nothing refused from its honest peer but rogue's fork it relayed" % s.name,
                other and not any(n for k, n in (other[0].get("rejected") or {}).items()
                                  if k != "fork"), other)
    for s, other in ((paris, nozay), (nozay, paris)):
        st = s.admin().post_status("%s still posting" % s.name)
        c.check("%s still takes posts" % s.name, st.get("id"))
        try:
            fed.wait_until(lambda: other.admin().get("/api/v1/statuses/%s" % st["id"]).status
                           == 200, fed.CONVERGE_TIMEOUT, "the post at %s" % other.name)
            c.check("%s's post reaches %s" % (s.name, other.name), True)
        except rt.TestError as e:
            c.check("%s's post reaches %s" % (s.name, other.name), False, str(e))
    try:
        state = f.wait_converged()
        c.equal("paris and nozay converge, with rogue's %d updates" % a.chain.seq,
                state["clock"].get(a.rogue.identity.text), a.chain.seq)
    except rt.TestError as e:
        c.check("paris and nozay converge", False, str(e))
    c.check("rogue's sync and PUB saw nothing it could not read", not a.rogue.errors,
            a.rogue.errors[:3])


def lying_blob(c, f, rogue):
    """rogue posts a file and answers nozay's wants of it with other bytes:
    refused unstored and counted against rogue (bad_blobs), the status
    still shown with its file pending; once rogue sends the true bytes, a
    reader's ask fetches them."""
    nozay = f[1]
    data = os.urandom(300000)
    hash_, size = rg.blob_id(data)
    lie = bytes(b ^ 0x55 for b in data)
    rogue.serve_blob(hash_, lie)
    payload_, env = rogue.chain.post("the plan, attached",
                                     media=[rg.descriptor(hash_, size, "application/pdf",
                                                          "plan.pdf")])
    rogue.chain.commit(env)
    rogue.publish_update(env)
    fed.wait_until(lambda: ((nozay.peer_status("rogue") or {}).get("link") or {}).get(
        "bad_blobs", 0) >= 1, 60, "nozay to refuse rogue's lying bytes")
    c.check("nozay refused the bytes that do not match the hash, counted against rogue", True)
    admin = nozay.admin()
    home = admin.get("/api/v1/timelines/public?limit=40").json or []
    st = next((x for x in home if x.get("text") == "the plan, attached"), None)
    c.check("the status is shown, its file pending", st is not None and
            st["media_attachments"][0]["ruche"]["pending"], st and st["media_attachments"])
    if not st:
        return
    path = rt.path_of(st["media_attachments"][0]["url"])
    r = admin.get(path)
    c.check("the file answers 503 meanwhile, never the lie (%d)" % r.status,
            r.status == 503 and lie not in r.raw)
    rogue.serve_blob(hash_, data)
    fed.wait_until(lambda: admin.get(path).status == 200, 60,
                   "the true bytes, asked again on a read")
    c.check("once rogue sends the true bytes, a read fetches them: served identical",
            admin.get(path).raw == data)


def run(c, ruched):
    with c.section("rogue against the test vectors"):
        check_rogue(c)
    ident = rg.Identity()
    pub = "tcp://127.0.0.1:%d" % rt.free_port()
    sync = "tcp://127.0.0.1:%d" % rt.free_port()
    with fed.Federation(c, ruched, ["paris", "nozay"], "mesh", "faults") as f:
        for s in f.sites:
            s.add_peer("rogue", ident.text, pub, sync)
        rogue = rg.Rogue(ident, pub, sync)
        rogue.start([(s.pub, rg.key_bytes(s.key)) for s in f.sites])
        try:
            f.start()
            f.require_replication()
            f[0].admin().post_status("paris before the strangers")
            fed.wait_until(lambda: all((s.peer_status("rogue") or {}).get("connected")
                                       for s in f.sites), 30, "both nodes connected to rogue")
            with c.section("strangers"):
                strangers(c, f, rogue)
            with c.section("catch-up under credit"):
                credit(c, f, rogue)
            with c.section("a trusted peer sends a file's bytes that lie"):
                lying_blob(c, f, rogue)
            with c.section("a trusted peer sends bad updates"):
                a = attacks(c, f, rogue)
                final_checks(c, f, a)
            f.stop()
        finally:
            rogue.close()


if __name__ == "__main__":
    rt.main_wrapper(run)
