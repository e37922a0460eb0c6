"""rogue.py - a ruche protocol peer written from proto/PROTOCOL.md alone,
for the fault tests: it can behave as an honest peer or send a node what an
attacker or a broken peer would.

It shares no code with the C implementation: MessagePack comes from
python3-msgpack (which writes the shortest forms of section 2.2 by itself),
Ed25519 and the Ed25519 -> X25519 key conversion from python3-nacl, BLAKE2b
from hashlib, ZeroMQ and CURVE from python3-zmq.

What is here:
- Identity: an Ed25519 key pair, its text form (section 12), its CURVE keys
  (section 13) and update signatures (section 4).
- payload(), envelope(), the message builders and split_message(): the byte
  formats of sections 5, 6 and 8. Envelopes are always spliced into
  messages as the exact bytes received or made, never re-encoded. The
  blob messages (want, chunk, lack) are built as given, unchecked, so
  that a test can play a lying peer: answer_want() gives the chunks an
  honest peer answers a want with (section 13, blob fetch), or, under
  another hash, chunks whose bytes do not match it; msg_chunk() makes any
  other, such as one past what was asked.
  Payloads are of version 1 unless asked for version 2 or 3, whose fields
  a body then ends with (section 5.3); descriptor() and image() make the
  attachment descriptors of section 5.7, person() a profile's person of
  section 5.8. Signatures and their checks take the domain of the
  payload's version, its byte 1 (section 4).
- Chain: an origin's log (seq, prev hash); draft() makes the next update
  without taking it into the log, so that an update the node must refuse
  does not use up a seq, and commit() takes a good one in; post() and
  profile() write theirs in the least version that holds them, as a node
  does (section 10).
- Rogue: a peer in a thread, as a node sees one: it binds a PUB socket (an
  XPUB, so that it sees subscriptions come and go) and a ROUTER sync socket
  as CURVE servers, serves catch-up (hello -> batch... -> done, under
  credit), publishes heartbeats and whatever the test hands it, and
  subscribes to the nodes' PUB sockets, keeping what they publish. Its
  catch-up answers can be made to misbehave (answer()): no answer at all
  to the next hellos (a stalled answerer), or done at once and then every
  update as batches nobody granted credit for. It answers wants of the
  blobs it is given (serve_blob()), with their bytes or others, and lacks
  of the rest.
- fetch_catchup() and listen(): one-off client sockets, for asking a node
  for its log or trying to listen to it, with any key or none;
  send_sync(): raw messages (any frames) to a node's sync socket;
  stranger_handshakes(): CURVE handshakes a node must refuse.
"""

import base64
import hashlib
import os
import queue
import threading
import time

import msgpack
import nacl.bindings
import nacl.exceptions
import nacl.signing
import zmq

# Section 4: the signature domain of each payload version. Messages are
# of version 1 (section 10).
DOMAINS = {1: b"ruche/update/v1\n", 2: b"ruche/update/v2\n", 3: b"ruche/update/v3\n"}
VERSION = 1
MAX_PAYLOAD = 65536
MAX_MESSAGE = 4 * 1024 * 1024 + 64
MAX_BATCH = 256
MAX_BATCH_BYTES = 4 * 1024 * 1024
BLOB_CHUNK = 1024 * 1024  # bytes of every chunk of a blob but its last
MAX_WANT = 8  # chunks one want may ask for
ZERO_HASH = bytes(32)

UPDATE, HELLO, BATCH, DONE, HEARTBEAT, CREDIT = 1, 2, 3, 4, 5, 6
WANT, CHUNK, LACK = 7, 8, 9

KINDS = {
    "post": 1, "reply": 2, "edit": 3, "delete": 4, "like": 5, "unlike": 6,
    "follow": 7, "unfollow": 8, "profile": 9, "group_create": 10,
    "group_join": 11, "group_leave": 12,
}


# ---------------------------------------------------------------------
# Keys and bytes


def key_text(public):
    """The 43-character text form of a 32-byte key (section 12)."""
    return base64.urlsafe_b64encode(public).rstrip(b"=").decode("ascii")


def key_bytes(text):
    """The 32 bytes of a key's text form."""
    raw = base64.urlsafe_b64decode(text + "=")
    if len(raw) != 32 or key_text(raw) != text:
        raise ValueError("not a key: %r" % text)
    return raw


def curve_public(public):
    """The X25519 (CURVE) public key of an Ed25519 node key."""
    return nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(public)


def update_hash(payload):
    """BLAKE2b with a 32-byte digest over the payload bytes (section 4)."""
    return hashlib.blake2b(payload, digest_size=32).digest()


def hlc_now(ahead_ms=0):
    """An HLC timestamp for the wall clock plus ahead_ms (section 5.5)."""
    return (int(time.time() * 1000) + ahead_ms) << 16


def _pack(value):
    return msgpack.packb(value, use_bin_type=True)


def _clock(clock):
    """A clock {origin bytes: seq} in wire order: keys ascending."""
    return dict(sorted(clock.items()))


def _array_header(count):
    if count < 16:
        return bytes([0x90 | count])
    if count < 65536:
        return b"\xdc" + count.to_bytes(2, "big")
    return b"\xdd" + count.to_bytes(4, "big")


class Identity:
    """An Ed25519 node key pair; a fresh random one unless seed is given."""

    def __init__(self, seed=None):
        self.seed = seed if seed is not None else os.urandom(32)
        self.signer = nacl.signing.SigningKey(self.seed)
        self.public = bytes(self.signer.verify_key)
        self.text = key_text(self.public)
        self.curve_public = curve_public(self.public)
        self.curve_secret = nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(
            self.seed + self.public)

    def sign(self, payload):
        """The 64-byte signature of payload, with the domain prefix of its
        version (byte 1; version 1's for bytes of no known version)."""
        return self.signer.sign(_domain(payload) + payload).signature


def _domain(payload):
    return DOMAINS.get(payload[1] if len(payload) > 1 else 1, DOMAINS[1])


# ---------------------------------------------------------------------
# Updates and messages


def payload(origin, seq, prev, clock, hlc, author, kind, body, version=1):
    """The payload bytes of section 5.1; kind is a name of KINDS, body the
    list of its fields in version (section 5.3)."""
    return _pack([version, origin, seq, prev, _clock(clock), hlc, author, KINDS[kind], body])


def blob_id(data):
    """(hash, size) of a blob's bytes, as its descriptor names it."""
    return update_hash(data), len(data)


def image(width, height, thumb, thumb_size, thumb_width, thumb_height, blurhash,
          focus_x=100, focus_y=100):
    """The image fields of a descriptor (section 5.7); thumb is a hash."""
    return [width, height, thumb, thumb_size, thumb_width, thumb_height, blurhash, focus_x,
            focus_y]


def descriptor(hash_, size, mime_type, name="", description="", image_fields=None):
    """An attachment's descriptor (section 5.7): a file, or an image with
    image_fields."""
    return [hash_, size, mime_type, name, description, image_fields]


def person(dir_id="", title="", department="", site="", office="", phone="", email="",
           manager="", skills=(), fields=(), departed=0):
    """A profile's person (section 5.8): the employee as the company
    directory describes them; fields is a list of (name, value)."""
    return [dir_id, title, department, site, office, phone, email, manager, list(skills),
            [[name, value] for name, value in fields], departed]


def envelope(payload_bytes, signature):
    """[payload bin, signature bin 64] (section 6)."""
    return _pack([payload_bytes, signature])


def msg_update(env):
    return b"\x93\x01\x01" + env


def msg_hello(clock, credit):
    return _pack([VERSION, HELLO, _clock(clock), credit])


def msg_batch(envs):
    return b"\x93\x01\x03" + _array_header(len(envs)) + b"".join(envs)


def msg_done(clock):
    return _pack([VERSION, DONE, _clock(clock)])


def msg_heartbeat(clock, hlc, digest):
    return _pack([VERSION, HEARTBEAT, _clock(clock), hlc, digest])


def msg_credit(credit):
    return _pack([VERSION, CREDIT, credit])


def msg_want(hash_, offset, credit):
    """Asks for up to credit chunks of the blob hash_ from byte offset."""
    return _pack([VERSION, WANT, hash_, offset, credit])


def msg_chunk(hash_, size, offset, data):
    """data, the bytes from offset of the blob hash_ of size bytes in all."""
    return _pack([VERSION, CHUNK, hash_, size, offset, data])


def msg_lack(hash_):
    """Says that the blob hash_ is not held here."""
    return _pack([VERSION, LACK, hash_])


def answer_want(blob, offset, credit, hash_=None):
    """The chunk messages that answer a want of offset and credit for the
    blob whose bytes are blob: consecutive chunks of BLOB_CHUNK bytes from
    offset, the last of the blob possibly shorter, at most credit of them,
    none when offset is not below its size. They name the blob by hash_,
    its own hash by default; another makes them a lying peer's."""
    hash_ = blob_id(blob)[0] if hash_ is None else hash_
    starts = range(offset, min(len(blob), offset + credit * BLOB_CHUNK), BLOB_CHUNK)
    return [msg_chunk(hash_, len(blob), p, blob[p:p + BLOB_CHUNK]) for p in starts]


def split_message(data):
    """(type, fields) of a message from a node. An update's field is its
    envelope's bytes, a batch's a list of them (exact bytes, cut where
    each value ends); the others are decoded: hello (clock, credit), done
    (clock,), heartbeat (clock, hlc, digest), credit (credit,), want
    (hash, offset, credit), chunk (hash, size, offset, data), lack
    (hash,). Raises
    ValueError on anything that is not a version 1 message."""
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=MAX_MESSAGE)
    unpacker.feed(data)
    try:
        count = unpacker.read_array_header()
        version, kind = unpacker.unpack(), unpacker.unpack()
        if version != VERSION or count < 2:
            raise ValueError("version %r, %d elements" % (version, count))
        if kind == UPDATE:
            return kind, _cut(unpacker, data)
        if kind == BATCH:
            return kind, [_cut(unpacker, data) for _ in range(unpacker.read_array_header())]
        return kind, tuple(unpacker.unpack() for _ in range(count - 2))
    except (msgpack.OutOfData, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as e:
        raise ValueError("malformed message: %s" % e)


def _cut(unpacker, data):
    start = unpacker.tell()
    unpacker.skip()
    return data[start:unpacker.tell()]


def open_envelope(env):
    """The fields of an envelope as a dict (origin, seq, prev, clock, hlc,
    author, kind, body, payload, signature) and whether its signature
    verifies; raises ValueError when it does not decode."""
    try:
        payload_bytes, signature = msgpack.unpackb(env, raw=False)
        fields = msgpack.unpackb(payload_bytes, raw=False, strict_map_key=False)
    except (ValueError, TypeError, msgpack.UnpackException) as e:
        raise ValueError("malformed envelope: %s" % e)
    names = ("version", "origin", "seq", "prev", "clock", "hlc", "author", "kind", "body")
    out = dict(zip(names, fields))
    out.update(payload=payload_bytes, signature=signature)
    try:
        nacl.signing.VerifyKey(payload_bytes[4:36]).verify(_domain(payload_bytes) + payload_bytes,
                                                           signature)
        out["verified"] = True
    except (nacl.exceptions.BadSignatureError, ValueError, TypeError):
        out["verified"] = False
    return out


class Chain:
    """The log of one origin: the updates it made and took in, in seq
    order. Thread-safe: a Rogue serves it while a test adds to it."""

    def __init__(self, identity, author="mallory"):
        self.identity = identity
        self.author = author
        self.lock = threading.Lock()
        self.envelopes = []  # seq i + 1 at index i
        self.prev = ZERO_HASH

    @property
    def seq(self):
        """The seq of the last update taken in (0: none)."""
        with self.lock:
            return len(self.envelopes)

    def draft(self, kind, body, *, seq=None, prev=None, hlc=None, clock=None, author=None,
              signer=None, version=1):
        """(payload, envelope) of an update; by default the next one of
        this chain, signed by its identity. Not taken into the log."""
        with self.lock:
            seq = len(self.envelopes) + 1 if seq is None else seq
            prev = self.prev if prev is None else prev
        data = payload(self.identity.public, seq, prev, clock or {},
                       hlc_now() if hlc is None else hlc, author or self.author, kind, body,
                       version)
        return data, envelope(data, (signer or self.identity).sign(data))

    def post(self, text, *, spoiler="", sensitive=0, media=(), **kw):
        """A public post outside any group: (payload, envelope); of version
        2 when it has a content warning, the flag or attachments (a list
        of descriptor()), as a node writes it (section 10)."""
        if spoiler or sensitive or media:
            return self.draft("post", [text, 0, None, spoiler, sensitive, list(media)],
                              version=2, **kw)
        return self.draft("post", [text, 0, None], **kw)

    def profile(self, display_name, note="", *, avatar=None, header=None, person=None, **kw):
        """The author's profile: (payload, envelope); of version 3 with a
        person (person()), else of version 2 with an avatar or a header
        (descriptor()s of images), else of version 1, as a node writes
        it (section 10)."""
        if person is not None:
            return self.draft("profile", [display_name, note, avatar, header, person],
                              version=3, **kw)
        if avatar is not None or header is not None:
            return self.draft("profile", [display_name, note, avatar, header], version=2, **kw)
        return self.draft("profile", [display_name, note], **kw)

    def commit(self, env):
        """Takes env, the next update of the chain, into the log."""
        fields = open_envelope(env)
        with self.lock:
            if fields["seq"] != len(self.envelopes) + 1 or fields["prev"] != self.prev:
                raise ValueError("not the next update of the chain")
            self.envelopes.append(env)
            self.prev = update_hash(fields["payload"])

    def since(self, seq):
        """The envelopes after seq, in seq order."""
        with self.lock:
            return list(self.envelopes[seq:])

    def clock(self):
        with self.lock:
            return {self.identity.public: len(self.envelopes)} if self.envelopes else {}


# ---------------------------------------------------------------------
# Sockets


def _curve_client(sock, identity, server_public):
    """Makes sock a CURVE client of the node whose Ed25519 key is
    server_public; identity None leaves it without security (NULL)."""
    if identity is not None:
        sock.curve_secretkey = identity.curve_secret
        sock.curve_publickey = identity.curve_public
        sock.curve_serverkey = curve_public(server_public)


def _batches(envs):
    """envs cut into batches within the limits of section 8.2."""
    out, cur, size = [], [], 0
    for env in envs:
        if cur and (len(cur) == MAX_BATCH or size + len(env) > MAX_BATCH_BYTES):
            out.append(cur)
            cur, size = [], 0
        cur.append(env)
        size += len(env)
    return out + ([cur] if cur else [])


def fetch_catchup(ctx, identity, endpoint, server_public, clock=None, credit=8, timeout=10.0,
                  grant=True):
    """Asks the node at endpoint for what clock lacks: sends hello and
    collects the batches until done. Grants one more credit per batch
    received when grant is true. Returns (envelopes, done clock, batch
    sizes) as received within timeout; the clock is None if no done came."""
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    _curve_client(sock, identity, server_public)
    try:
        sock.connect(endpoint)
        envs, sizes = [], []
        try:
            sock.send(msg_hello(clock or {}, credit), zmq.NOBLOCK)
        except zmq.Again:
            return envs, None, sizes
        deadline = time.monotonic() + timeout
        while sock.poll(max(0, int((deadline - time.monotonic()) * 1000))):
            kind, fields = split_message(sock.recv())
            if kind == DONE:
                return envs, fields[0], sizes
            if kind == BATCH:
                envs.extend(fields)
                sizes.append(len(fields))
                if grant:
                    sock.send(msg_credit(1))
        return envs, None, sizes
    finally:
        sock.close()


def send_sync(ctx, identity, endpoint, server_public, messages, then_hello=True, timeout=10.0):
    """Sends messages (each bytes, or a list of frames for a multipart
    message) to the sync socket at endpoint from one DEALER; then, when
    then_hello, a hello with an empty clock on the same connection, and
    returns the type of the first answer to it (None if none came within
    timeout), so that the caller knows everything before it was read."""
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    _curve_client(sock, identity, server_public)
    try:
        sock.connect(endpoint)
        for m in messages:
            if isinstance(m, list):
                sock.send_multipart(m)
            else:
                sock.send(m)
        if not then_hello:
            return None
        sock.send(msg_hello({}, 1))
        if not sock.poll(int(timeout * 1000)):
            return None
        return split_message(sock.recv())[0]
    finally:
        sock.close()


def stranger_handshakes(ctx, endpoint, server_public, count, source=None):
    """Opens count DEALERs with fresh keys to endpoint (from the address
    source when given: "127.0.0.2"), each sending a hello the node must
    never answer; returns the sockets, to be closed by the caller once
    the node has refused them."""
    socks = []
    for _ in range(count):
        sock = ctx.socket(zmq.DEALER)
        sock.linger = 0
        _curve_client(sock, Identity(), server_public)
        host_port = endpoint[len("tcp://"):]
        sock.connect("tcp://%s:0;%s" % (source, host_port) if source else endpoint)
        try:
            sock.send(msg_hello({}, 1), zmq.NOBLOCK)
        except zmq.Again:
            pass
        socks.append(sock)
    return socks


def listen(ctx, identity, endpoint, server_public, timeout):
    """Subscribes to everything the PUB socket at endpoint sends, for
    timeout seconds; returns the messages received."""
    sock = ctx.socket(zmq.SUB)
    sock.linger = 0
    _curve_client(sock, identity, server_public)
    sock.setsockopt(zmq.SUBSCRIBE, b"")
    got = []
    try:
        sock.connect(endpoint)
        deadline = time.monotonic() + timeout
        while sock.poll(max(0, int((deadline - time.monotonic()) * 1000))):
            got.append(sock.recv())
        return got
    finally:
        sock.close()


class Rogue:
    """A peer in its own thread. Bind endpoints are given (ports chosen by
    the caller); start() binds, subscribes to the given nodes' PUB sockets
    and serves until close()."""

    def __init__(self, identity, pub, sync, author="mallory", heartbeat_ms=200):
        self.identity = identity
        self.chain = Chain(identity, author)
        self.pub = pub
        self.sync = sync
        self.heartbeat_ms = heartbeat_ms
        self.ctx = zmq.Context()
        self.outbox = queue.Queue()
        self.lock = threading.Lock()
        self.received = []  # (type, fields) from the nodes' PUB sockets
        self.subscriptions = 0
        self.hellos = 0
        self.hello_times = []  # time.monotonic() of each hello on the sync socket
        self.stall = 0  # hellos still to be left unanswered
        self.overrun = False  # answer the next hello with done, then batches past credit
        self.blobs = {}  # hash -> the bytes its wants are answered with (lack: absent)
        self.wants = 0  # wants received
        self.errors = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = None

    def start(self, nodes):
        """nodes: [(pub endpoint, Ed25519 public key)] to subscribe to."""
        self._thread = threading.Thread(target=self._run, args=(list(nodes),), daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self.errors:
            raise RuntimeError("rogue: %s" % self.errors[0])

    def close(self):
        self._stop.set()
        if self._thread:
            self._thread.join(30)
        self.ctx.term()

    def publish(self, message):
        """Queues raw bytes for the PUB socket."""
        self.outbox.put(message)

    def publish_update(self, env):
        self.publish(msg_update(env))

    def answer(self, stall=0, overrun=False):
        """How the next hellos are answered: the next stall ones not at
        all; then, with overrun, the next one with done at once (the
        asker's own clock: nothing to send) followed by every update it
        lacks, one batch each, none of them granted; then honestly."""
        with self.lock:
            self.stall = stall
            self.overrun = overrun

    def serve_blob(self, hash_, data):
        """Answers wants of the blob hash_ with data: its own bytes, or, for
        a lying peer, others under its hash; None: a lack."""
        with self.lock:
            if data is None:
                self.blobs.pop(hash_, None)
            else:
                self.blobs[hash_] = data

    def want_count(self):
        with self.lock:
            return self.wants

    def hello_count(self):
        with self.lock:
            return len(self.hello_times)

    def updates_seen(self):
        """The envelopes the nodes have published so far."""
        with self.lock:
            return [f for k, f in self.received if k == UPDATE]

    def heartbeats_seen(self):
        with self.lock:
            return sum(1 for k, _ in self.received if k == HEARTBEAT)

    def _server(self, kind, endpoint):
        sock = self.ctx.socket(kind)
        sock.linger = 0
        sock.curve_server = True
        sock.curve_secretkey = self.identity.curve_secret
        sock.curve_publickey = self.identity.curve_public
        sock.sndhwm = 100000  # before bind: the pipes of its connections take it then
        sock.bind(endpoint)
        return sock

    def _run(self, nodes):
        try:
            xpub = self._server(zmq.XPUB, self.pub)
            xpub.setsockopt(zmq.XPUB_VERBOSE, 1)
            router = self._server(zmq.ROUTER, self.sync)
            subs = []
            for endpoint, key in nodes:
                sub = self.ctx.socket(zmq.SUB)
                sub.linger = 0
                _curve_client(sub, self.identity, key)
                sub.setsockopt(zmq.SUBSCRIBE, b"")
                sub.connect(endpoint)
                subs.append(sub)
        except zmq.ZMQError as e:
            self.errors.append(str(e))
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop(xpub, router, subs)
        finally:
            for sock in [xpub, router] + subs:
                sock.close()

    def _loop(self, xpub, router, subs):
        poller = zmq.Poller()
        for sock in [xpub, router] + subs:
            poller.register(sock, zmq.POLLIN)
        serving = {}  # ROUTER identity -> [credit, batches left]
        next_beat = 0.0
        while not self._stop.is_set():
            for sock, _ in poller.poll(20):
                if sock is xpub:
                    self._on_subscription(xpub.recv())
                elif sock is router:
                    self._on_sync(router, serving, *router.recv_multipart())
                else:
                    self._on_published(sock.recv())
            while not self.outbox.empty():
                xpub.send(self.outbox.get())
            if time.monotonic() >= next_beat:
                xpub.send(msg_heartbeat(self.chain.clock(), hlc_now(), bytes(32)))
                next_beat = time.monotonic() + self.heartbeat_ms / 1000.0

    def _on_subscription(self, frame):
        with self.lock:
            if frame[:1] == b"\x01":
                self.subscriptions += 1

    def _on_published(self, data):
        try:
            item = split_message(data)
        except ValueError as e:
            item = (None, str(e))
        with self.lock:
            self.received.append(item)

    def _on_sync(self, router, serving, peer, data):
        try:
            kind, fields = split_message(data)
        except ValueError as e:
            self.errors.append("sync: %s" % e)
            return
        if kind == HELLO:
            with self.lock:
                self.hellos += 1
                self.hello_times.append(time.monotonic())
                stall, overrun = self.stall > 0, self.overrun and not self.stall
                self.stall -= stall
                self.overrun = self.overrun and not overrun
            have = fields[0].get(self.identity.public, 0)
            if stall:
                serving.pop(peer, None)
                return
            if overrun:
                serving.pop(peer, None)
                router.send_multipart([peer, msg_done(fields[0])])
                for env in self.chain.since(have):
                    router.send_multipart([peer, msg_batch([env])])
                return
            serving[peer] = [fields[1], _batches(self.chain.since(have))]
        elif kind == CREDIT:
            if peer not in serving:
                return  # credit that arrives after done
            serving[peer][0] += fields[0]
        elif kind == WANT:
            with self.lock:
                self.wants += 1
                data = self.blobs.get(fields[0])
            answers = [msg_lack(fields[0])] if data is None else \
                answer_want(data, fields[1], fields[2], fields[0])
            for message in answers:
                router.send_multipart([peer, message])
            return
        else:
            self.errors.append("sync: unexpected message type %r" % kind)
            return
        credit, left = serving[peer]
        while credit and left:
            router.send_multipart([peer, msg_batch(left.pop(0))])
            credit -= 1
        serving[peer][0] = credit
        if not left:
            router.send_multipart([peer, msg_done(self.chain.clock())])
            del serving[peer]
