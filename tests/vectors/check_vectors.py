#!/usr/bin/python3
"""check_vectors.py - a second implementation of the ruche wire format,
written from proto/PROTOCOL.md alone, held to the frozen test vectors.

    /usr/bin/python3 tests/vectors/check_vectors.py proto/vectors.json

It shares no code with the C implementation: MessagePack comes from
Debian's python3-msgpack, Ed25519 from python3-nacl, BLAKE2b from hashlib,
and the strict decoding rules (sections 2.3, 3, 5.7, 5.8, 7 and 8.3 of the
spec) are written out here, for payloads of all three versions: version
2's bodies, attachment descriptors and signature domain included, and
version 3's profiles with their person and its domain, and for
all nine messages, the blob messages (want, chunk, lack) with their
ranges checked once their fields are read. For every vector it rebuilds the bytes from the fields,
checks signatures and hashes, decodes the bytes back, and checks that every
invalid case is refused with the error the vector names. For every sequence
it runs a receiving node of its own (section 7.1: trust, duplicates,
forks and their quarantine, the causal context, the chain, the clock
delta) over the steps and checks each
result and clock, and the digest of section 8.2 at the end. It prints one line
per failure, then "N passed, M failed", and exits non-zero on any failure.
"""
import base64
import hashlib
import json
import re
import sys

import msgpack
import nacl.exceptions
import nacl.signing

# Section 4: the signature domain of each payload version; section 10:
# messages are of version 1.
DOMAINS = {1: b"ruche/update/v1\n", 2: b"ruche/update/v2\n", 3: b"ruche/update/v3\n"}
VERSION = 1
# Section 4: the order of the Ed25519 group.
ORDER_L = 2**252 + 27742317777372353535851937790883648493
# Section 9.
MAX_PAYLOAD = 65536
MAX_CLOCK = 1024
MAX_TEXT_CHARS, MAX_TEXT_BYTES = 5000, 20000
MAX_NAME = 64
MAX_DISPLAY_CHARS, MAX_NOTE_CHARS = 100, 1000
MAX_SPOILER_CHARS = 500
MAX_MEDIA = 8
MAX_MEDIA_TYPE, MAX_FILE_NAME, MAX_ALT_CHARS, MAX_BLURHASH = 127, 255, 1500, 166
MAX_BLOB_SIZE = 2**40 - 1
MAX_SIDE, MAX_FOCUS = 65535, 200
# Sections 5.8 and 9: a person's strings (name, most bytes, most code
# points) in wire order, its skills and its profile fields.
PERSON_TEXTS = [("dir_id", 128, 128), ("title", 400, 100), ("department", 400, 100),
                ("site", 400, 100), ("office", 400, 100), ("phone", 64, 64),
                ("email", 254, 254), ("manager", 128, 128)]
MAX_SKILLS, MAX_SKILL_CHARS, MAX_SKILL_BYTES = 32, 50, 200
MAX_FIELDS, MAX_FIELD_CHARS, MAX_FIELD_BYTES = 4, 255, 1020
MAX_BATCH = 256
MAX_CREDIT = 64
MAX_WANT = 8
BLOB_CHUNK = 1024 * 1024
MAX_MESSAGE = 4 * 1024 * 1024 + 64
# Section 7, step 22: 2025-01-01T00:00:00Z in ms.
MIN_HLC_MS = 1735689600000

# Section 5.3: kind number -> (name, body fields in order).
KINDS = {
    1: ("post", ["text", "visibility", "group"]),
    2: ("reply", ["target", "text", "visibility"]),
    3: ("edit", ["target", "text"]),
    4: ("delete", ["target"]),
    5: ("like", ["target"]),
    6: ("unlike", ["target"]),
    7: ("follow", ["user"]),
    8: ("unfollow", ["user"]),
    9: ("profile", ["display_name", "note"]),
    10: ("group_create", ["name", "note"]),
    11: ("group_join", ["target"]),
    12: ("group_leave", ["target"]),
    13: ("resolve", ["origin", "seq", "hash"]),
}
KIND_NUMBERS = {name: num for num, (name, _) in KINDS.items()}
# Section 5.3: the fields version 2 adds at the end of four kinds' bodies.
V2_FIELDS = {
    1: ["spoiler", "sensitive", "media"],
    2: ["spoiler", "sensitive", "media"],
    3: ["spoiler", "sensitive", "media"],
    9: ["avatar", "header"],
}
# Section 5.3: the field version 3 adds at the end of a profile's body;
# every other kind's body is the one of version 2.
V3_FIELDS = {9: ["person"]}


def body_fields(version, kind):
    """The body of kind in a payload of version, in wire order."""
    return (KINDS[kind][1] + (V2_FIELDS.get(kind, []) if version >= 2 else [])
            + (V3_FIELDS.get(kind, []) if version >= 3 else []))

# Section 8.1: message type number -> (name, fields in order).
MESSAGES = {
    1: ("update", ["envelope"]),
    2: ("hello", ["clock", "credit"]),
    3: ("batch", ["envelopes"]),
    4: ("done", ["clock"]),
    5: ("heartbeat", ["clock", "hlc", "digest"]),
    6: ("credit", ["credit"]),
    7: ("want", ["hash", "offset", "credit"]),
    8: ("chunk", ["hash", "size", "offset", "data"]),
    9: ("lack", ["hash"]),
}
MESSAGE_NUMBERS = {name: num for num, (name, _) in MESSAGES.items()}


class Refused(Exception):
    """An input refused with one of the error names of section 11."""

    def __init__(self, error):
        super().__init__(error)
        self.error = error


# ---------------------------------------------------------------------------
# Section 2: the strict MessagePack reader

# type -> (first byte of the fix form, last byte, {tag: (width, least)})
FORMS = {
    "uint": (0x00, 0x7F, {0xCC: (1, 0x80), 0xCD: (2, 0x100), 0xCE: (4, 0x10000),
                          0xCF: (8, 0x100000000)}),
    "str": (0xA0, 0xBF, {0xD9: (1, 32), 0xDA: (2, 0x100), 0xDB: (4, 0x10000)}),
    "bin": (None, None, {0xC4: (1, 0), 0xC5: (2, 0x100), 0xC6: (4, 0x10000)}),
    "array": (0x90, 0x9F, {0xDC: (2, 16), 0xDD: (4, 0x10000)}),
    "map": (0x80, 0x8F, {0xDE: (2, 16), 0xDF: (4, 0x10000)}),
}


class Reader:
    """A cursor over untrusted bytes, reading one expected type at a time."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def left(self):
        return len(self.data) - self.pos

    def _header(self, kind):
        """Steps 1 to 4 of section 2.3: (value, bytes the header takes)."""
        fix_lo, fix_hi, tails = FORMS[kind]
        if self.left() < 1:
            raise Refused("truncated")
        first = self.data[self.pos]
        if fix_lo is not None and fix_lo <= first <= fix_hi:
            return first - fix_lo, 1
        if first not in tails:
            raise Refused("type")
        width, least = tails[first]
        if self.left() < 1 + width:
            raise Refused("truncated")
        value = int.from_bytes(self.data[self.pos + 1:self.pos + 1 + width], "big")
        if value < least:
            raise Refused("noncanonical")
        return value, 1 + width

    def uint(self):
        value, used = self._header("uint")
        self.pos += used
        return value

    def count(self, kind):
        """An array or map header (step 6: the count is bounded by the bytes left)."""
        n, used = self._header(kind)
        if n > self.left() - used:
            raise Refused("truncated")
        self.pos += used
        return n

    def array_of(self, n):
        if self.count("array") != n:
            raise Refused("type")

    def blob(self, kind, most, fixed=False):
        """A str or bin of at most `most` bytes, or of exactly `most` if fixed."""
        n, used = self._header(kind)
        if n > most:
            raise Refused("type" if fixed else "too_big")
        if n > self.left() - used:
            raise Refused("truncated")
        if fixed and n != most:
            raise Refused("type")
        start = self.pos + used
        self.pos = start + n
        return bytes(self.data[start:start + n])

    def key(self):
        return self.blob("bin", 32, fixed=True)

    def take_nil(self):
        """Consumes a nil if one is next; says whether it did."""
        if self.left() >= 1 and self.data[self.pos] == 0xC0:
            self.pos += 1
            return True
        return False

    def end(self):
        if self.left():
            raise Refused("trailing")


# ---------------------------------------------------------------------------
# Section 3: text and names

# Section 3.1, table: first byte range -> ranges of the following bytes.
UTF8_TABLE = [
    ((0x01, 0x7F), []),
    ((0xC2, 0xDF), [(0x80, 0xBF)]),
    ((0xE0, 0xE0), [(0xA0, 0xBF), (0x80, 0xBF)]),
    ((0xE1, 0xEC), [(0x80, 0xBF), (0x80, 0xBF)]),
    ((0xED, 0xED), [(0x80, 0x9F), (0x80, 0xBF)]),
    ((0xEE, 0xEF), [(0x80, 0xBF), (0x80, 0xBF)]),
    ((0xF0, 0xF0), [(0x90, 0xBF), (0x80, 0xBF), (0x80, 0xBF)]),
    ((0xF1, 0xF3), [(0x80, 0xBF), (0x80, 0xBF), (0x80, 0xBF)]),
    ((0xF4, 0xF4), [(0x80, 0x8F), (0x80, 0xBF), (0x80, 0xBF)]),
]


def code_points(text):
    """The count of code points of text, or Refused("utf8")."""
    i = count = 0
    while i < len(text):
        rest = next((r for (lo, hi), r in UTF8_TABLE if lo <= text[i] <= hi), None)
        if rest is None or i + 1 + len(rest) > len(text):
            raise Refused("utf8")
        for k, (lo, hi) in enumerate(rest):
            if not lo <= text[i + 1 + k] <= hi:
                raise Refused("utf8")
        i += 1 + len(rest)
        count += 1
    assert count == len(text.decode("utf-8")), "the UTF-8 table disagrees with Python"
    return count


NAME = re.compile(rb"[a-z0-9][a-z0-9_.-]{0,63}")


def check_name(name):
    if not NAME.fullmatch(name):
        raise Refused("name")


def check_text(text, least, most):
    n = code_points(text)
    if n < least:
        raise Refused("range")
    if n > most:
        raise Refused("too_big")


# Section 12: unpadded base64url, 43 characters for 32 bytes, strict.
B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def key_from_text(text):
    if len(text) != 43 or any(c not in B64_ALPHABET for c in text):
        raise Refused("text_form")
    if B64_ALPHABET.index(text[-1]) & 3:
        raise Refused("text_form")
    return base64.urlsafe_b64decode(text + "=")


def key_to_text(key):
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode()


# ---------------------------------------------------------------------------
# Section 5.7: attachment descriptors (version 2)

IMAGE_FIELDS = ["width", "height", "thumb", "thumb_size", "thumb_width", "thumb_height",
                "blurhash", "focus_x", "focus_y"]
MIME = re.compile(rb"[a-z0-9][a-z0-9+.-]*/[a-z0-9][a-z0-9+.-]*")
BLURHASH = re.compile(rb"[0-9A-Za-z#$%*+,\-.:;=?@\[\]^_{|}~]{6,}")


def read_u32(r):
    """A uint of at most 2^32 - 1, whose own range is checked later."""
    value = r.uint()
    if value >= 2**32:
        raise Refused("range")
    return value


def read_descriptor(r):
    """One descriptor with its read-time checks: a dict, strs as bytes."""
    r.array_of(6)
    d = {"hash": r.key(), "size": r.uint(), "type": r.blob("str", MAX_MEDIA_TYPE),
         "name": r.blob("str", MAX_FILE_NAME), "description": r.blob("str", 4 * MAX_ALT_CHARS)}
    if r.take_nil():
        d["image"] = None
        return d
    r.array_of(len(IMAGE_FIELDS))
    image = {}
    for field in IMAGE_FIELDS:
        if field == "thumb":
            image[field] = r.key()
        elif field == "thumb_size":
            image[field] = r.uint()
        elif field == "blurhash":
            image[field] = r.blob("str", MAX_BLURHASH)
        else:
            image[field] = read_u32(r)
    d["image"] = image
    return d


def read_media(r):
    n = r.count("array")
    if n > MAX_MEDIA:
        raise Refused("too_many")
    return [read_descriptor(r) for _ in range(n)]


def check_descriptor(d, must_be_image=False):
    """The checks of section 5.7, in their order."""
    image = d["image"]
    if not 1 <= d["size"] <= MAX_BLOB_SIZE or (must_be_image and image is None):
        raise Refused("range")
    if not MIME.fullmatch(d["type"]):
        raise Refused("range")
    code_points(d["name"])
    if re.search(rb"[\x00-\x1f\x7f/\\]", d["name"]) or d["name"] in (b".", b".."):
        raise Refused("name")
    check_text(d["description"], 0, MAX_ALT_CHARS)
    if image is None:
        return
    if not d["type"].startswith(b"image/"):
        raise Refused("range")
    sides = [image[k] for k in ("width", "height", "thumb_width", "thumb_height")]
    if not all(1 <= side <= MAX_SIDE for side in sides):
        raise Refused("range")
    if not 1 <= image["thumb_size"] <= MAX_BLOB_SIZE or \
            max(image["focus_x"], image["focus_y"]) > MAX_FOCUS:
        raise Refused("range")
    if not BLURHASH.fullmatch(image["blurhash"]):
        raise Refused("range")


def descriptor_to_json(d):
    out = {k: (v.hex() if k == "hash" else v.decode("utf-8") if isinstance(v, bytes) else v)
           for k, v in d.items() if k != "image"}
    image = d["image"]
    out["image"] = None if image is None else {
        k: (v.hex() if k == "thumb" else v.decode("ascii") if k == "blurhash" else v)
        for k, v in image.items()}
    return out


def descriptor_to_wire(j):
    members(j, ["hash", "size", "type", "name", "description", "image"])
    image = j["image"]
    if image is not None:
        members(image, IMAGE_FIELDS)
        image = [bytes.fromhex(image[k]) if k == "thumb" else image[k] for k in IMAGE_FIELDS]
    return [bytes.fromhex(j["hash"]), j["size"], j["type"], j["name"], j["description"], image]


# ---------------------------------------------------------------------------
# Section 5.8: a profile's person (version 3)

def read_person(r):
    """A person with its read-time checks: a dict, strs as bytes."""
    r.array_of(11)
    person = {name: r.blob("str", most) for name, most, _ in PERSON_TEXTS}
    n = r.count("array")
    if n > MAX_SKILLS:
        raise Refused("too_many")
    person["skills"] = [r.blob("str", MAX_SKILL_BYTES) for _ in range(n)]
    n = r.count("array")
    if n > MAX_FIELDS:
        raise Refused("too_many")
    person["fields"] = []
    for _ in range(n):
        r.array_of(2)
        name = r.blob("str", MAX_FIELD_BYTES)
        person["fields"].append((name, r.blob("str", MAX_FIELD_BYTES)))
    person["departed"] = r.uint()
    if person["departed"] > 1:
        raise Refused("range")
    return person


def check_person(person):
    """The checks of section 5.8, in their order."""
    for name, _, most in PERSON_TEXTS:
        check_text(person[name], 0, most)
    for skill in person["skills"]:
        check_text(skill, 1, MAX_SKILL_CHARS)
    for name, value in person["fields"]:
        check_text(name, 1, MAX_FIELD_CHARS)
        check_text(value, 0, MAX_FIELD_CHARS)


def person_to_json(person):
    out = {name: person[name].decode("utf-8") for name, _, _ in PERSON_TEXTS}
    out["skills"] = [skill.decode("utf-8") for skill in person["skills"]]
    out["fields"] = [{"name": name.decode("utf-8"), "value": value.decode("utf-8")}
                     for name, value in person["fields"]]
    out["departed"] = person["departed"]
    return out


def person_to_wire(j):
    members(j, [name for name, _, _ in PERSON_TEXTS] + ["skills", "fields", "departed"])
    for field in j["fields"]:
        members(field, ["name", "value"])
    return ([j[name] for name, _, _ in PERSON_TEXTS]
            + [j["skills"], [[f["name"], f["value"]] for f in j["fields"]], j["departed"]])


# ---------------------------------------------------------------------------
# Sections 4 to 7: updates

def clock_to_wire(entries):
    """The wire map of a JSON clock, keys sorted as section 5.4 says."""
    return {bytes.fromhex(origin): seq for origin, seq in sorted(entries)}


def ref_to_wire(ref):
    return [bytes.fromhex(ref["origin"]), ref["seq"]]


def body_version(kind, body):
    """The payload version of a JSON body: 3 when it holds a person, 2
    when it holds the fields version 2 adds to its kind (section 15),
    which the least version (section 10) allows only when a person is
    there, or one of the fields of version 2 is set."""
    if "person" in body:
        expect(body["person"] is not None, "a body of version 3 has a person")
        return 3
    extra = V2_FIELDS.get(kind, [])
    if not extra or not all(field in body for field in extra):
        return 1
    expect(body.get("spoiler") or body.get("sensitive") or body.get("media") or
           body.get("avatar") is not None or body.get("header") is not None,
           "a body of version 2 sets a field of version 2")
    return 2


def body_to_wire(version, kind, body):
    out = []
    for field in body_fields(version, kind):
        value = body[field]
        if field == "media":
            out.append([descriptor_to_wire(d) for d in value])
        elif field in ("avatar", "header"):
            out.append(None if value is None else descriptor_to_wire(value))
        elif field == "person":
            out.append(None if value is None else person_to_wire(value))
        elif field in ("target",):
            out.append(ref_to_wire(value))
        elif field == "group":
            out.append(None if value is None else ref_to_wire(value))
        elif field == "user":
            out.append([bytes.fromhex(value["home"]), value["name"]])
        elif field in ("origin", "hash"):
            out.append(bytes.fromhex(value))
        else:
            out.append(value)
    if sorted(body) != sorted(body_fields(version, kind)):
        raise KeyError("body members of %s" % KINDS[kind][0])
    return out


def encode_payload(fields):
    kind = KIND_NUMBERS[fields["kind"]]
    version = body_version(kind, fields["body"])
    return msgpack.packb([
        version,
        bytes.fromhex(fields["origin"]),
        fields["seq"],
        bytes.fromhex(fields["prev"]),
        clock_to_wire(fields["clock"]),
        fields["hlc"],
        fields["author"],
        kind,
        body_to_wire(version, kind, fields["body"]),
    ], use_bin_type=True)


def read_envelope(r):
    """Stage 1 of section 7, steps 1 to 4: (payload, signature)."""
    r.array_of(2)
    payload = r.blob("bin", MAX_PAYLOAD)
    signature = r.blob("bin", 64, fixed=True)
    if len(payload) < 2:
        raise Refused("truncated")
    if not 0x90 <= payload[0] <= 0x9F or payload[1] > 0x7F:
        raise Refused("type")
    if payload[1] not in DOMAINS:
        raise Refused("version")
    if payload[0] != 0x99:
        raise Refused("type")
    if len(payload) < 36:
        raise Refused("truncated")
    if payload[2:4] != b"\xc4\x20":
        raise Refused("type")
    return payload, signature


def verify(payload, signature):
    """Stage 2 of section 7, under the domain of the version in byte 1."""
    if int.from_bytes(signature[32:], "little") >= ORDER_L:
        raise Refused("signature")
    try:
        nacl.signing.VerifyKey(payload[4:36]).verify(DOMAINS[payload[1]] + payload, signature)
    except (nacl.exceptions.CryptoError, ValueError):
        raise Refused("signature") from None


def read_clock(r):
    """Section 5.4: the wire form of a clock, as a JSON clock."""
    n = r.count("map")
    if n > MAX_CLOCK:
        raise Refused("too_many")
    entries = []
    for _ in range(n):
        origin = r.key()
        seq = r.uint()
        if seq == 0:
            raise Refused("range")
        if entries and bytes.fromhex(entries[-1][0]) >= origin:
            raise Refused("order")
        entries.append([origin.hex(), seq])
    return entries


def read_ref(r):
    r.array_of(2)
    origin = r.key()
    return {"origin": origin.hex(), "seq": r.uint()}


# Step 17 of section 7: the byte limits of the str fields of a body.
STR_LIMITS = {"text": MAX_TEXT_BYTES, "display_name": 4 * MAX_DISPLAY_CHARS,
              "note": 4 * MAX_NOTE_CHARS, "name": MAX_NAME, "spoiler": 4 * MAX_SPOILER_CHARS}


def read_field(r, field):
    """One body field with its read-time checks; str values stay bytes."""
    if field == "target":
        return read_ref(r)
    if field == "group":
        return None if r.take_nil() else read_ref(r)
    if field == "visibility":
        value = r.uint()
        if value > 3:
            raise Refused("range")
        return value
    if field == "user":
        r.array_of(2)
        home = r.key()
        return {"home": home.hex(), "name": r.blob("str", MAX_NAME)}
    if field in ("origin", "hash"):
        return r.key().hex()
    if field == "seq":
        return r.uint()
    if field == "sensitive":
        value = r.uint()
        if value > 1:
            raise Refused("range")
        return value
    if field == "media":
        return read_media(r)
    if field in ("avatar", "header"):
        return None if r.take_nil() else read_descriptor(r)
    if field == "person":
        return None if r.take_nil() else read_person(r)
    return r.blob("str", STR_LIMITS[field])


def check_field(field, value, origin, seq, body):
    """Step 24 of section 7; body: the whole body, as read."""
    if field in ("target", "group"):
        if value is not None and value["seq"] < 1:
            raise Refused("range")
        if value is not None and value["origin"] == origin.hex() and value["seq"] >= seq:
            raise Refused("range")
    elif field == "text":  # version 2: may be empty beside attachments
        check_text(value, 0 if body.get("media") else 1, MAX_TEXT_CHARS)
    elif field == "spoiler":
        check_text(value, 0, MAX_SPOILER_CHARS)
    elif field == "media":
        for d in value:
            check_descriptor(d)
    elif field in ("avatar", "header") and value is not None:
        check_descriptor(value, must_be_image=True)
    elif field == "person" and value is not None:
        check_person(value)
    elif field == "user":
        check_name(value["name"])
    elif field == "display_name":
        check_text(value, 0, MAX_DISPLAY_CHARS)
    elif field == "note":
        check_text(value, 0, MAX_NOTE_CHARS)
    elif field == "name":
        check_name(value)
    elif field == "origin" and value == origin.hex():
        raise Refused("range")  # a site does not resolve its own fork
    elif field == "seq" and value < 1:
        raise Refused("range")


def field_to_json(field, value):
    if field == "media":
        return [descriptor_to_json(d) for d in value]
    if field in ("avatar", "header"):
        return None if value is None else descriptor_to_json(value)
    if field == "person":
        return None if value is None else person_to_json(value)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, dict) and "home" in value:
        return {"home": value["home"], "name": value["name"].decode("utf-8")}
    return value


def decode_payload(payload):
    """Stages 3 and 4 of section 7: the fields, in the vectors' JSON shape."""
    r = Reader(payload)
    r.array_of(9)
    version = r.uint()
    if version not in DOMAINS:
        raise Refused("version")
    origin, seq, prev = r.key(), r.uint(), r.key()
    clock, hlc = read_clock(r), r.uint()
    author = r.blob("str", MAX_NAME)
    kind = r.uint()
    if kind not in KINDS:
        raise Refused("kind")
    names = body_fields(version, kind)
    r.array_of(len(names))
    body = [(field, read_field(r, field)) for field in names]
    r.end()
    if seq < 1 or (seq == 1 and prev != bytes(32)):
        raise Refused("range")
    if any(entry[0] == origin.hex() for entry in clock):
        raise Refused("range")
    if hlc >> 16 < MIN_HLC_MS:
        raise Refused("range")
    check_name(author)
    for field, value in body:
        check_field(field, value, origin, seq, dict(body))
    return {"origin": origin.hex(), "seq": seq, "prev": prev.hex(), "clock": clock,
            "hlc": hlc, "author": author.decode(), "kind": KINDS[kind][0],
            "body": {field: field_to_json(field, value) for field, value in body}}


def open_update(data):
    """Section 7, all stages, on an envelope alone."""
    r = Reader(data)
    payload, signature = read_envelope(r)
    r.end()
    verify(payload, signature)
    return decode_payload(payload)


# ---------------------------------------------------------------------------
# Section 7.1: what a receiving node makes of updates, in order

class Receiver:
    """A node with an empty log trusting the origins in trust (hex)."""

    def __init__(self, trust):
        self.trust = set(trust)
        self.heads = {}    # origin hex -> (seq, hash bytes)
        self.full = {}     # origin hex -> its full clock K(head), section 5.4
        self.held = {}     # (origin hex, seq) -> payload: applied or waiting
        self.waiting = {}  # (origin hex, seq) -> (fields, payload)
        self.forks = {}    # origin hex -> the lowest seq it forked at, section 16

    def applied(self, origin, seq):
        return self.heads.get(origin, (0, None))[0] >= seq

    def quarantined(self, f):
        return f["seq"] >= self.forks.get(f["origin"], f["seq"] + 1)

    def fork(self, origin, seq):
        """Records a fork at seq; True when it is new (or lower)."""
        new = seq < self.forks.get(origin, seq + 1)
        if new:
            self.forks[origin] = seq
        return new

    def ready(self, f):
        """Not quarantined, and its origin's update seq - 1 and its whole
        causal context (the clock, and the updates its refs name) are
        applied."""
        deps = [(f["origin"], f["seq"] - 1)] + [tuple(entry) for entry in f["clock"]]
        if f["kind"] == "resolve":  # section 16: it waits for the forked origin up to f - 1
            forked, before = f["body"]["origin"], f["body"]["seq"] - 1
            deps = [(o, min(n, before) if o == forked else n) for o, n in deps]
        deps += [(ref["origin"], ref["seq"]) for name, ref in f["body"].items()
                 if name in ("target", "group") and ref is not None]
        return not self.quarantined(f) and all(self.applied(o, n) for o, n in deps)

    def apply(self, f, payload):
        """Applies f, ready: "applied", "fork" (its prev proves one, and it
        is held), "pending" (the same, a fork known already) or "range"."""
        head = self.heads.get(f["origin"], (0, bytes(32)))[1]
        if f["prev"] != head.hex():
            return "fork" if self.fork(f["origin"], f["seq"] - 1) else "pending"
        full = self.full.setdefault(f["origin"], {})
        if any(seq <= full.get(origin, 0) for origin, seq in f["clock"]):
            return "range"
        full.update(f["clock"])
        self.heads[f["origin"]] = (f["seq"], hashlib.blake2b(payload, digest_size=32).digest())
        return "applied"

    def wake(self):
        """Applies waiting updates as they become ready; one whose clock
        delta does not raise is dropped, one whose chain breaks stays."""
        woken = True
        while woken:
            woken = False
            for key, (f, payload) in sorted(self.waiting.items()):
                if self.ready(f):
                    outcome = self.apply(f, payload)
                    if outcome in ("applied", "range"):
                        del self.waiting[key]
                        woken = True
                    if outcome == "range":
                        del self.held[key]

    def feed(self, data):
        """(result, error) for one envelope."""
        try:
            r = Reader(data)
            payload, signature = read_envelope(r)
            r.end()
            verify(payload, signature)
            f = decode_payload(payload)
        except Refused as refusal:
            return "refused", refusal.error
        if f["origin"] not in self.trust:
            return "refused", "untrusted"
        key = (f["origin"], f["seq"])
        if key in self.held:
            if self.held[key] == payload:
                return "duplicate", None
            return ("fork" if self.fork(*key) else "duplicate"), None
        if not self.ready(f):
            self.held[key] = payload
            self.waiting[key] = (f, payload)
            return "pending", None
        outcome = self.apply(f, payload)
        if outcome == "range":
            return "refused", "range"
        self.held[key] = payload
        if outcome != "applied":
            self.waiting[key] = (f, payload)
            return outcome, None
        self.wake()
        return "applied", None

    def clock(self):
        return [[origin, self.heads[origin][0]] for origin in sorted(self.heads)]

    def digest(self):
        """Section 8.2: BLAKE2b over every origin's head, in origin order."""
        h = hashlib.blake2b(b"ruche/digest/v1\n", digest_size=32)
        for origin in sorted(self.heads):
            seq, head = self.heads[origin]
            h.update(bytes.fromhex(origin) + seq.to_bytes(8, "big") + head)
        return h.hexdigest()


# ---------------------------------------------------------------------------
# Section 8: messages

def encode_message(type_name, fields):
    number = MESSAGE_NUMBERS[type_name]
    members = MESSAGES[number][1]
    if sorted(fields) != sorted(members):
        raise KeyError("members of a %s message" % type_name)
    pk = msgpack.Packer(use_bin_type=True)
    out = pk.pack_array_header(2 + len(members)) + pk.pack(VERSION) + pk.pack(number)
    for member in members:
        value = fields[member]
        if member == "envelope":
            out += bytes.fromhex(value)  # spliced in, never re-encoded
        elif member == "envelopes":
            out += pk.pack_array_header(len(value))
            out += b"".join(bytes.fromhex(e) for e in value)
        elif member == "clock":
            out += pk.pack(clock_to_wire(value))
        elif member in ("digest", "hash", "data"):
            out += pk.pack(bytes.fromhex(value))
        else:
            out += pk.pack(value)
    return out


def read_member(r, member, message):
    if member == "envelope":
        start = r.pos
        read_envelope(r)
        return r.data[start:r.pos].hex()
    if member == "envelopes":
        n = r.count("array")
        if n == 0:
            raise Refused("range")
        if n > MAX_BATCH:
            raise Refused("too_many")
        return [read_member(r, "envelope", message) for _ in range(n)]
    if member == "clock":
        return read_clock(r)
    if member == "credit" and message != "want":
        credit = r.uint()
        if not 1 <= credit <= MAX_CREDIT:
            raise Refused("range")
        return credit
    if member in ("hlc", "credit", "offset", "size"):
        return r.uint()  # a want's credit, offsets and sizes: ranges once all is read
    if member == "data":
        return r.blob("bin", BLOB_CHUNK).hex()
    return r.key().hex()  # digest, hash


def check_blob_ranges(name, fields):
    """Section 8.3, step 6: the ranges of a want or a chunk, once every
    field is read."""
    if name == "want":
        if not 1 <= fields["credit"] <= MAX_WANT or fields["offset"] >= MAX_BLOB_SIZE:
            raise Refused("range")
    elif name == "chunk":
        size, offset, length = fields["size"], fields["offset"], len(fields["data"]) // 2
        if not (1 <= size <= MAX_BLOB_SIZE and length >= 1 and offset < size
                and offset + length <= size):
            raise Refused("range")


def decode_message(data):
    """Section 8.3: (type name, fields)."""
    if len(data) > MAX_MESSAGE:
        raise Refused("too_big")
    r = Reader(data)
    n = r.count("array")
    if n < 2:
        raise Refused("type")
    if r.uint() != VERSION:
        raise Refused("version")
    number = r.uint()
    if number not in MESSAGES:
        raise Refused("msgtype")
    name, members = MESSAGES[number]
    if n != 2 + len(members):
        raise Refused("type")
    fields = {member: read_member(r, member, name) for member in members}
    check_blob_ranges(name, fields)
    r.end()
    return name, fields


# ---------------------------------------------------------------------------
# The checks

def expect(ok, what):
    if not ok:
        raise AssertionError(what)


def members(obj, names):
    expect(isinstance(obj, dict) and sorted(obj) == sorted(names),
           "members are %s, expected %s" % (sorted(obj) if isinstance(obj, dict) else obj,
                                            sorted(names)))


def check_key(k):
    members(k, ["name", "seed", "public", "public_text"])
    signer = nacl.signing.SigningKey(bytes.fromhex(k["seed"]))
    public = bytes(signer.verify_key)
    expect(public.hex() == k["public"], "public key")
    expect(key_to_text(public) == k["public_text"], "public_text")
    expect(key_from_text(k["public_text"]) == public, "public_text decodes")


def check_text_forms(keys):
    """Section 12: the strict decoding refuses every other spelling."""
    text = keys[0]["public_text"]
    low_bits = B64_ALPHABET[B64_ALPHABET.index(text[-1]) | 1]
    for bad in [text + "=", text[:-1], text[:-1] + "+", text[:-1] + low_bits, " " + text[1:]]:
        try:
            key_from_text(bad)
        except Refused as refusal:
            expect(refusal.error == "text_form", "error for %r" % bad)
        else:
            raise AssertionError("accepted %r" % bad)


def check_chain(chains, fields, payload_hash):
    """Section 5.6: each origin's updates follow one another."""
    origin, seq, prev = fields["origin"], fields["seq"], fields["prev"]
    last = chains.get(origin)
    if last is None:
        expect(seq == 1 and prev == "00" * 32, "the first update of an origin")
    else:
        expect(seq == last[0] + 1 and prev == last[1], "seq and prev follow the previous")
    expect(all(entry[0] != origin for entry in fields["clock"]), "clock holds the origin")
    chains[origin] = (seq, payload_hash)


def check_update(u, seeds, chains):
    members(u, ["name", "key", "fields", "payload", "signature", "envelope", "hash"])
    fields = u["fields"]
    members(fields, ["origin", "seq", "prev", "clock", "hlc", "author", "kind", "body"])
    signer = nacl.signing.SigningKey(seeds[u["key"]])
    expect(bytes(signer.verify_key).hex() == fields["origin"], "origin is the key")
    payload = encode_payload(fields)
    expect(payload.hex() == u["payload"], "payload")
    signature = signer.sign(DOMAINS[payload[1]] + payload).signature
    expect(signature.hex() == u["signature"], "signature")
    verify(payload, signature)
    envelope = msgpack.packb([payload, signature], use_bin_type=True)
    expect(envelope.hex() == u["envelope"], "envelope")
    payload_hash = hashlib.blake2b(payload, digest_size=32).hexdigest()
    expect(payload_hash == u["hash"], "hash")
    expect(open_update(bytes.fromhex(u["envelope"])) == fields, "decoded fields")
    if chains is not None:
        check_chain(chains, fields, payload_hash)


def check_variant(u, seeds):
    """An authentic update no honest node makes: as an update, off chain."""
    check_update(u, seeds, None)


def check_sequence(q, publics, envelopes):
    members(q, ["name", "trust", "steps", "digest"])
    node = Receiver(publics[name] for name in q["trust"])
    for step in q["steps"]:
        want = (step["result"], step.get("error"))
        members(step, ["update", "result", "clock"] + (["error"] if want[1] else []))
        got = node.feed(envelopes[step["update"]])
        expect(got == want, "%s: %s %s, expected %s %s" % ((step["update"],) + got + want))
        expect(node.clock() == step["clock"], "%s: clock %s, expected %s"
               % (step["update"], node.clock(), step["clock"]))
    expect(node.digest() == q["digest"], "digest")


def check_message(m):
    members(m, ["name", "type", "fields", "bytes"])
    data = encode_message(m["type"], m["fields"])
    expect(data.hex() == m["bytes"], "bytes")
    name, fields = decode_message(data)
    expect(name == m["type"] and fields == m["fields"], "decoded fields")
    for envelope in fields.get("envelopes", [fields.get("envelope")]):
        if envelope is not None:
            open_update(bytes.fromhex(envelope))


def check_blob_named(m):
    """Section 15: a blob message names a made-up blob of the vectors (32
    times one byte), or carries a whole blob under its real hash."""
    fields = m["fields"]
    if "hash" not in fields:
        return
    made_up = len(set(fields["hash"][i:i + 2] for i in range(0, 64, 2))) == 1
    whole = fields.get("offset") == 0 and fields.get("size", -1) * 2 == len(fields.get("data", ""))
    real = whole and hashlib.blake2b(bytes.fromhex(fields["data"]),
                                     digest_size=32).hexdigest() == fields["hash"]
    expect(made_up or real, "%s names no blob of the vectors" % m["name"])


def check_invalid(v):
    members(v, ["name", "decoder", "bytes", "error"])
    decode = {"update": open_update, "message": decode_message}[v["decoder"]]
    try:
        decode(bytes.fromhex(v["bytes"]))
    except Refused as refusal:
        expect(refusal.error == v["error"], "refused with %s, expected %s"
               % (refusal.error, v["error"]))
    else:
        raise AssertionError("accepted, expected %s" % v["error"])


def check_file(doc):
    members(doc, ["version", "domain", "domain_v2", "domain_v3", "keys", "updates", "messages",
                  "invalid", "variants", "sequences"])
    expect(doc["version"] == VERSION and doc["domain"] == DOMAINS[1].decode() and
           doc["domain_v2"] == DOMAINS[2].decode() and doc["domain_v3"] == DOMAINS[3].decode(),
           "version, domains")
    kinds = {u["fields"]["kind"] for u in doc["updates"]}
    expect(kinds == set(KIND_NUMBERS), "every kind: missing %s" % (set(KIND_NUMBERS) - kinds))
    kinds_v2 = {u["fields"]["kind"] for u in doc["updates"] if u["payload"][2:4] == "02"}
    expect(kinds_v2 == {KINDS[k][0] for k in V2_FIELDS}, "every kind version 2 changes, in it")
    kinds_v3 = {u["fields"]["kind"] for u in doc["updates"] if u["payload"][2:4] == "03"}
    expect(kinds_v3 == {KINDS[k][0] for k in V3_FIELDS}, "every kind version 3 changes, in it")
    types = {m["type"] for m in doc["messages"]}
    expect(types == set(MESSAGE_NUMBERS), "every message type")
    for m in doc["messages"]:
        check_blob_named(m)
    expect(len(doc["invalid"]) >= 20, "at least 20 invalid cases")


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def run(self, label, check, *args):
        try:
            check(*args)
        except Refused as refusal:
            self.failed += 1
            print("FAIL %s: refused with %s" % (label, refusal.error))
        except Exception as e:  # a damaged vector is a failure, not a crash
            self.failed += 1
            print("FAIL %s: %s: %s" % (label, type(e).__name__, e))
        else:
            self.passed += 1


def main(argv):
    if len(argv) != 2:
        print("usage: check_vectors.py proto/vectors.json", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    tally = Tally()
    tally.run("file", check_file, doc)
    keys = doc.get("keys", [])
    for k in keys:
        tally.run("key " + str(k.get("name")), check_key, k)
    tally.run("text forms", check_text_forms, keys)
    seeds = {k.get("name"): bytes.fromhex(k.get("seed", "")) for k in keys}
    chains = {}
    for u in doc.get("updates", []):
        tally.run("update " + str(u.get("name")), check_update, u, seeds, chains)
    for m in doc.get("messages", []):
        tally.run("message " + str(m.get("name")), check_message, m)
    for v in doc.get("invalid", []):
        tally.run("invalid " + str(v.get("name")), check_invalid, v)
    for u in doc.get("variants", []):
        tally.run("variant " + str(u.get("name")), check_variant, u, seeds)
    publics = {k.get("name"): k.get("public") for k in keys}
    envelopes = {u.get("name"): bytes.fromhex(u.get("envelope", ""))
                 for u in doc.get("updates", []) + doc.get("variants", [])}
    for q in doc.get("sequences", []):
        tally.run("sequence " + str(q.get("name")), check_sequence, q, publics, envelopes)
    print("%d passed, %d failed" % (tally.passed, tally.failed))
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
