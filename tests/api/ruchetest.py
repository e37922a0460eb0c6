"""ruchetest.py - what the API tests share: a real ruched on loopback,
an HTTP client for it, and a tally of named checks.

Node starts ruched on a free 127.0.0.1 port in a temporary data directory,
waits for GET /healthz with a deadline (no fixed sleeps), stops it with
SIGTERM (and reports its exit status) or SIGKILL, and starts it again on the
same directory. Used as a context manager it always kills a process still
running and removes the directory, whatever happened in between; set
RUCHE_TEST_KEEP=1 to keep the directory (and the node's log) for a post
mortem.

Client sends one request per connection with http.client and returns a
Reply, which unpacks as (status, headers, json); json is None when the body
is not JSON, and Client.non_json lists every such response, because the
contract says every answer, errors included, is JSON.

Checks counts outcomes and prints one line per check; its summary() prints
"N passed, M failed" and gives the exit status.

Only the Python standard library is used.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

START_TIMEOUT = 60.0  # seconds for a node to answer /healthz
STOP_TIMEOUT = 60.0  # seconds for a node to exit after SIGTERM
REQUEST_TIMEOUT = 60.0  # seconds for one HTTP request

ID_RE = re.compile(r"^[0-9]+$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class TestError(Exception):
    """A condition a test cannot go on without."""


def wait_until(condition, timeout, what, interval=0.02):
    """Polls condition() until it returns a true value, which is returned;
    raises TestError naming what after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TestError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


_PORTS_GIVEN = set()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now, and that
    this process has not been given before (the kernel may hand a port
    just released out again, and a federation asks for many before any
    node binds them)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _PORTS_GIVEN:
            _PORTS_GIVEN.add(port)
            return port


def stop_on_sigterm():
    """Turns SIGTERM (a CTest timeout) into SystemExit, so that the
    cleanup of Node still runs and no ruched is left behind."""

    def handler(signum, frame):
        raise SystemExit("terminated by signal %d" % signum)

    signal.signal(signal.SIGTERM, handler)


# ---------------------------------------------------------------------
# Checks


class Checks:
    """Named checks, counted; one output line each."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.lock = threading.Lock()

    def check(self, name, condition, detail=None):
        """Records one check; detail (anything) is printed when it fails.
        Returns the condition, so a caller can skip what depends on it."""
        with self.lock:
            if condition:
                self.passed += 1
                print("ok: %s" % name, flush=True)
            else:
                self.failed += 1
                extra = "" if detail is None else ": %s" % (detail,)
                print("FAILED: %s%s" % (name, extra), flush=True)
        return bool(condition)

    def equal(self, name, got, expected):
        """Checks got == expected, printing both when they differ."""
        return self.check(name, got == expected, "got %r, expected %r" % (got, expected))

    def status(self, name, reply, expected):
        """Checks the status of a reply, printing its body when wrong."""
        return self.check(
            "%s -> %d" % (name, expected),
            reply.status == expected,
            "got %d %s" % (reply.status, reply.brief()),
        )

    def error(self, name, reply, expected):
        """Checks an error reply: the status and a JSON {"error": string}."""
        ok = self.status(name, reply, expected)
        body = reply.json
        self.check(
            "%s: body is JSON {\"error\": ...}" % name,
            isinstance(body, dict) and isinstance(body.get("error"), str),
            reply.brief(),
        )
        return ok

    def section(self, name):
        """A context manager: an exception inside counts as one failed
        check and the test goes on with the next section."""
        return _Section(self, name)

    def summary(self):
        """Prints the tally; returns the exit status (0: all passed)."""
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        return 0 if self.failed == 0 and self.passed > 0 else 1


class _Section:
    def __init__(self, checks, name):
        self.checks = checks
        self.name = name

    def __enter__(self):
        print("-- %s" % self.name, flush=True)
        return self

    def __exit__(self, kind, value, tb):
        if kind is None or not issubclass(kind, Exception):
            return False
        text = "".join(traceback.format_exception(kind, value, tb))
        self.checks.check("%s completes" % self.name, False, text.rstrip())
        return True


# ---------------------------------------------------------------------
# HTTP


class Reply:
    """One HTTP response; unpacks as (status, headers, json)."""

    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw
        try:
            self.json = json.loads(raw.decode("utf-8")) if raw else None
            self.is_json = bool(raw)
        except (UnicodeDecodeError, ValueError):
            self.json = None
            self.is_json = False

    def __iter__(self):
        return iter((self.status, self.headers, self.json))

    def header(self, name):
        return self.headers.get(name)

    def brief(self, limit=300):
        text = self.raw.decode("utf-8", "replace")
        return text if len(text) <= limit else text[:limit] + "..."


class Client:
    """Requests to one node, as one user (token) or anonymously."""

    def __init__(self, host, port, token=None):
        self.host = host
        self.port = port
        self.token = token
        self.non_json = []  # (method, path, status) of bodies that were not JSON

    def as_user(self, token):
        """A client of the same node with another token (None: anonymous)."""
        other = Client(self.host, self.port, token)
        other.non_json = self.non_json
        return other

    def request(self, method, path, *, json_body=None, form=None, query=None, body=None,
                content_type=None, headers=None, token=None, anonymous=False):
        """Sends one request. The body is json_body (encoded as JSON), form
        (a dict, URL-encoded) or body (bytes, sent as they are, with
        content_type). path is sent byte for byte as given, plus query."""
        if query:
            path = path + ("&" if "?" in path else "?") + urllib.parse.urlencode(query)
        hdrs = {"Accept": "application/json"}
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            content_type = content_type or "application/json"
        elif form is not None:
            body = urllib.parse.urlencode(form).encode("ascii")
            content_type = content_type or "application/x-www-form-urlencoded"
        if content_type:
            hdrs["Content-Type"] = content_type
        bearer = None if anonymous else (token or self.token)
        if bearer:
            hdrs["Authorization"] = "Bearer " + bearer
        hdrs.update(headers or {})
        reply = self._send(method, path, body, hdrs)
        if not reply.is_json:
            self.non_json.append((method, path, reply.status))
        return reply

    def _send(self, method, path, body, hdrs):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in hdrs.items():
                conn.putheader(k, v)
            if body is not None or method in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body or b"")))
            conn.endheaders()
            try:
                if body:
                    conn.send(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may answer (413) before reading the body
            resp = conn.getresponse()
            return Reply(resp.status, resp.headers, resp.read())
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def login(self, username, password):
        """A token for username, or TestError."""
        r = self.post("/oauth/token", anonymous=True, json_body={
            "grant_type": "password", "username": username, "password": password})
        if r.status != 200 or not isinstance(r.json, dict) or "access_token" not in r.json:
            raise TestError("login as %s: %d %s" % (username, r.status, r.brief()))
        return r.json["access_token"]

    def post_status(self, text, **fields):
        """Posts a status as this client's user; the Status, or TestError."""
        fields["status"] = text
        r = self.post("/api/v1/statuses", json_body=fields)
        if r.status != 200 or not isinstance(r.json, dict) or "id" not in r.json:
            raise TestError("post %r: %d %s" % (text[:40], r.status, r.brief()))
        return r.json


def link_targets(reply):
    """The Link header of a reply as {rel: URL}."""
    value = reply.header("Link") or ""
    out = {}
    for part in value.split(","):
        m = re.match(r'\s*<([^>]*)>\s*;\s*rel="?([a-z]+)"?\s*$', part)
        if m:
            out[m.group(2)] = m.group(1)
    return out


def path_of(url):
    """The path and query of a URL, for sending it to the node."""
    parts = urllib.parse.urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def with_limit(url, limit):
    """url with limit=limit added unless it has a limit already."""
    if "limit" in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query):
        return url
    return url + ("&" if "?" in url else "?") + "limit=%d" % limit


def walk_pages(client, path, limit, max_pages=1000):
    """Follows rel="next" from path?limit=limit until an empty page.
    Returns (statuses, pages) where pages lists the page sizes; raises
    TestError on an error status or a non-empty page without a next link.
    The limit is added to a next link that does not carry one."""
    sep = "&" if "?" in path else "?"
    url = "%s%slimit=%d" % (path, sep, limit)
    statuses, pages = [], []
    for _ in range(max_pages):
        r = client.get(url)
        if r.status != 200 or not isinstance(r.json, list):
            raise TestError("GET %s: %d %s" % (url, r.status, r.brief()))
        pages.append(len(r.json))
        if not r.json:
            return statuses, pages
        statuses.extend(r.json)
        nxt = link_targets(r).get("next")
        if not nxt:
            raise TestError("GET %s: a page of %d without a rel=\"next\" link" % (url, len(r.json)))
        url = with_limit(path_of(nxt), limit)
    raise TestError("GET %s: more than %d pages" % (path, max_pages))


def id_key(status_id):
    """How clients order ids: numerically (shorter strings first)."""
    return int(status_id)


# ---------------------------------------------------------------------
# The node


class Child:
    """A program the test runs as its child (self.proc, a subprocess.Popen,
    or None before it starts); self.name names it in errors."""

    name = "the program"
    proc = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM):
        """Sends sig (SIGTERM or SIGINT), then waits; returns the exit
        status (negative: killed by that signal). A program that does not
        exit in time is killed and TestError raised."""
        if not self.running:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise TestError("%s did not exit within %.0f s of signal %d"
                            % (self.name, STOP_TIMEOUT, sig))

    def kill(self):
        """SIGKILL, as a crash or power loss would."""
        if self.running:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()


def remove_tmp(path):
    """Removes a test's temporary directory, or keeps it (and says so)
    when RUCHE_TEST_KEEP is set."""
    if os.environ.get("RUCHE_TEST_KEEP"):
        print("kept %s" % path, flush=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


class Node(Child):
    """A ruched process on a temporary data directory."""

    name = "ruched"

    def __init__(self, ruched, site="apitest", settings=()):
        self.ruched = ruched
        self.site = site
        self.settings = list(settings)
        self.tmp = tempfile.mkdtemp(prefix="ruche_api.")
        self.data_dir = os.path.join(self.tmp, "data")
        os.mkdir(self.data_dir, 0o700)
        self.log_path = os.path.join(self.tmp, "ruched.log")
        self.port = free_port()
        self.proc = None
        self.starts = 0
        self.config = None  # a config file to pass with --config, if any

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        self.close()
        return False

    def client(self, token=None):
        return Client("127.0.0.1", self.port, token)

    def start(self, extra_settings=()):
        """Starts ruched and waits until /healthz answers 200."""
        if self.running:
            raise TestError("the node is already running")
        args = [self.ruched, "--data-dir", self.data_dir, "--site", self.site,
                "--set", "http.listen=127.0.0.1:%d" % self.port]
        if self.config:
            args += ["--config", self.config]
        for s in self.settings + list(extra_settings):
            args += ["--set", s]
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(("=== start %d: %s\n" % (self.starts, " ".join(args))).encode())
            log.flush()
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, close_fds=True)
        try:
            wait_until(self._healthy, START_TIMEOUT, "GET /healthz on port %d" % self.port)
        except TestError as e:
            self.kill()
            raise TestError("ruched did not become ready (%s); its log ends with:\n%s"
                            % (e, self.log_tail()))

    def _healthy(self):
        if self.proc.poll() is not None:
            raise TestError("it exited with status %d" % self.proc.returncode)
        try:
            r = self.client().get("/healthz")
        except OSError:
            return False
        return r.status == 200 and r.json == {"status": "ok"}

    def close(self):
        """Kills a process still running, removes the directory."""
        self.kill()
        remove_tmp(self.tmp)

    def admin_password(self):
        """The admin password ruched wrote on its first start."""
        with open(os.path.join(self.data_dir, "admin-password"), encoding="utf-8") as f:
            return f.read().strip()

    def log_text(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def sanitizer_reports(self):
        """Lines of the log in which AddressSanitizer, LeakSanitizer,
        UndefinedBehaviorSanitizer or ThreadSanitizer report an error (a
        sanitizer build)."""
        marks = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                 "WARNING: ThreadSanitizer")
        return [line for line in self.log_text().splitlines() if any(m in line for m in marks)]

    def log_tail(self, lines=30):
        return "\n".join(self.log_text().splitlines()[-lines:])


def main_wrapper(run):
    """Runs run(checks, ruched) with the path given on the command line and
    exits with the summary's status."""
    if len(sys.argv) != 2:
        print("usage: %s PATH/TO/ruched" % sys.argv[0], file=sys.stderr)
        sys.exit(2)
    stop_on_sigterm()
    checks = Checks()
    try:
        run(checks, sys.argv[1])
    except Exception:
        checks.check("the test runs to its end", False, traceback.format_exc().rstrip())
    sys.exit(checks.summary())
