"""streamclient.py - clients of ruched's streaming API for the tests: a
WebSocket client (RFC 6455, written here on the standard library: Debian's
python3 has none) and a Server-Sent Events reader.

WebSocket(host, port, path, headers, protocols) sends the upgrade request
and reads the answer: .status, .headers and, for anything but 101, .body.
With kept_alive=N it first sends N plain GET /healthz requests on the same
connection, kept alive, and reads their answers: the handshake then comes
on a connection that has served requests before.
Once open, send_json() and send_frame() write masked frames as a client
must, and recv() returns the next data or close frame as (opcode, bytes),
answering pings by itself and recording them in .pings. event() returns the
next Mastodon event {"stream", "event", "payload"} with its payload decoded
(a delete's payload is an id, kept as text), or an error message as it is.

EventStream(host, port, path, headers) sends the GET and reads the status
and headers; event() returns the next (event, data) pair, data decoded as
JSON when it is JSON, and counts ":" comments (heartbeats) in .comments.

Both take a deadline on every read and raise rt.TestError when it passes:
tests wait for conditions, never for fixed times.
"""

import base64
import hashlib
import json
import os
import socket
import struct
import time

import ruchetest as rt

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x2, 0x8, 0x9, 0xA


def status_id(ev):
    """The id of the status a WebSocket event is about (a delete's payload
    is the id itself); None for anything else."""
    payload = ev.get("payload")
    if ev.get("event") == "delete":
        return payload
    if ev.get("event") in ("update", "status.update") and isinstance(payload, dict):
        return payload.get("id")
    return None


class Closed(Exception):
    """The server closed the connection (or sent a close frame)."""


def _read_head(sock, buf):
    """Reads an HTTP response head; returns (status, headers, rest)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise Closed("closed before the response head")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, rest


class _Conn:
    """A socket with a byte buffer and deadlines."""

    def __init__(self, host, port, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(rt.REQUEST_TIMEOUT)
        self.sock.connect((host, port))
        self.buf = b""

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise rt.TestError("timed out waiting for the server")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise rt.TestError("timed out waiting for the server") from None
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise Closed("the server closed the connection")
        self.buf += chunk

    def _take(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _refused(self):
        """Reads the body of a refusal and closes."""
        length = int(self.headers.get("content-length", "0"))
        self.body = self._take(length, time.monotonic() + rt.REQUEST_TIMEOUT)
        self.close()

    def error_json(self):
        """The refusal's body as JSON, or None."""
        try:
            return json.loads(self.body.decode())
        except (ValueError, AttributeError, UnicodeDecodeError):
            return None


class WebSocket(_Conn):
    """A client WebSocket to ruched (see the module's comment)."""

    def __init__(self, host, port, path="/api/v1/streaming", headers=None, protocols=None,
                 rcvbuf=None, kept_alive=0):
        super().__init__(host, port, rcvbuf)
        for _ in range(kept_alive):
            self._plain_request(host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % path, "Host: %s:%d" % (host, port), "Upgrade: websocket",
                 "Connection: Upgrade", "Sec-WebSocket-Version: 13"]
        hdrs = {"Sec-WebSocket-Key": key}
        if protocols:
            hdrs["Sec-WebSocket-Protocol"] = ", ".join(protocols)
        hdrs.update(headers or {})
        lines += ["%s: %s" % kv for kv in hdrs.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.status, self.headers, self.buf = _read_head(self.sock, b"")
        self.accept_ok = self.headers.get("sec-websocket-accept") == base64.b64encode(
            hashlib.sha1((key + GUID).encode()).digest()).decode()
        self.body = None
        self.pings = 0
        if self.status != 101:
            self._refused()

    def _plain_request(self, host, port):
        """GET /healthz on this connection, kept alive; its answer is read
        whole and dropped."""
        self.sock.sendall(("GET /healthz HTTP/1.1\r\nHost: %s:%d\r\n"
                           "Connection: keep-alive\r\n\r\n" % (host, port)).encode())
        status, headers, self.buf = _read_head(self.sock, b"")
        if status != 200 or headers.get("connection", "").lower() == "close":
            raise rt.TestError("GET /healthz before the handshake: %d %r" % (status, headers))
        self._take(int(headers.get("content-length", "0")),
                   time.monotonic() + rt.REQUEST_TIMEOUT)

    def send_frame(self, opcode, data, fin=True):
        mask = os.urandom(4)
        n = len(data)
        head = bytes([(0x80 if fin else 0) | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(head + mask + body)

    def send_json(self, obj):
        self.send_frame(OP_TEXT, json.dumps(obj).encode())

    def send_close(self, code=1000):
        self.send_frame(OP_CLOSE, struct.pack("!H", code))

    def recv(self, timeout=10.0):
        """The next data or close frame, (opcode, payload)."""
        deadline = time.monotonic() + timeout
        while True:
            b0, b1 = self._take(2, deadline)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._take(2, deadline))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._take(8, deadline))[0]
            if b1 & 0x80:
                raise rt.TestError("the server masked a frame")
            data = self._take(n, deadline)
            opcode = b0 & 0x0F
            if opcode == OP_PING:
                self.pings += 1
                self.send_frame(OP_PONG, data)
                continue
            if opcode == OP_PONG:
                continue
            return opcode, data

    def message(self, timeout=10.0):
        """The next text message as JSON; Closed on a close frame (its
        code in .close_code)."""
        opcode, data = self.recv(timeout)
        if opcode == OP_CLOSE:
            self.close_code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
            raise Closed("close frame %r" % (self.close_code,))
        if opcode != OP_TEXT:
            raise rt.TestError("a frame of opcode %d" % opcode)
        return json.loads(data.decode())

    def event(self, timeout=10.0):
        """The next message, its payload decoded when it is JSON."""
        msg = self.message(timeout)
        if isinstance(msg.get("payload"), str) and msg.get("event") != "delete":
            msg["payload"] = json.loads(msg["payload"])
        return msg


class EventStream(_Conn):
    """A Server-Sent Events reader (see the module's comment)."""

    def __init__(self, host, port, path, headers=None):
        super().__init__(host, port)
        lines = ["GET %s HTTP/1.1" % path, "Host: %s:%d" % (host, port),
                 "Accept: text/event-stream"]
        lines += ["%s: %s" % kv for kv in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.status, self.headers, self.buf = _read_head(self.sock, b"")
        self.comments = 0
        self.body = None
        if self.status != 200:
            self._refused()

    def event(self, timeout=10.0):
        """The next (event name, data); comments are counted, not returned."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n\n" not in self.buf:
                self._fill(deadline)
            block, self.buf = self.buf.split(b"\n\n", 1)
            name, data = "message", []
            for line in block.decode().split("\n"):
                if line.startswith(":"):
                    self.comments += 1
                elif line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
            if not data:
                continue
            text = "\n".join(data)
            try:
                return name, json.loads(text) if name != "delete" else text
            except ValueError:
                return name, text

    def wait_comments(self, count, timeout=10.0):
        """Reads until count comments were seen in all (events are kept
        for later calls to event())."""
        deadline = time.monotonic() + timeout
        while True:
            kept = []
            for block in self.buf.split(b"\n\n")[:-1]:
                if block.startswith(b":"):
                    self.comments += 1
                else:
                    kept.append(block + b"\n\n")
            self.buf = b"".join(kept) + self.buf.split(b"\n\n")[-1]
            if self.comments >= count:
                return
            self._fill(deadline)
