"""fed.py - what the federation tests share: several real ruched processes
on loopback, peered in a given topology, and the means to drive and watch
them.

Site is one node: its key made beforehand with `ruched --keygen` (so that
the other nodes' configuration can name it), free ports for HTTP, its PUB
and its sync socket, its [peer NAME] settings, and HTTP helpers (admin
login, new users, GET /api/ruche/v1/replication). Federation makes N sites
and links them as a mesh (every pair), a line (each with the next) or a
star (the first with every other), both ways as the contract asks; every
site also trusts the sites it is not linked to, by a [peer NAME] section
with their key alone (no endpoints: their updates come through relays).
It starts and stops the sites together, kills and restarts one, and waits
for convergence (every running node with the same clock and digest,
nothing pending) in a deadline loop. The process handling and the HTTP client are those of the
API tests (tests/api/ruchetest.py).

When a test fails, or RUCHE_TEST_KEEP is set, the nodes' logs are copied
to RUCHE_REPL_LOGS (default: repl-logs/ in the current directory, the
build tree under CTest) and their last lines are printed.

Timers are shortened for tests (heartbeat 200 ms, anti-entropy 3 s), all
within what the contract lets an operator set.
"""

import concurrent.futures
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))
import ruchetest as rt  # noqa: E402

TestError = rt.TestError
wait_until = rt.wait_until

CONVERGE_TIMEOUT = 60.0  # seconds for a federation to converge
TEST_SETTINGS = ("replication.heartbeat_ms=200", "replication.anti_entropy_s=3")
REPLICATION = "/api/ruche/v1/replication"


def topology(kind, n):
    """The pairs (i, j), i < j, of sites peered in a topology of n sites."""
    if kind == "mesh":
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    if kind == "line":
        return [(i, i + 1) for i in range(n - 1)]
    if kind == "star":
        return [(0, j) for j in range(1, n)]
    raise ValueError("unknown topology %r" % kind)


def keygen(ruched, data_dir):
    """Runs ruched --keygen DIR; returns the public key it prints."""
    out = subprocess.run([ruched, "--keygen", data_dir], capture_output=True, text=True,
                         timeout=60, check=False)
    key = out.stdout.strip()
    if out.returncode != 0 or len(key) != 43:
        raise TestError("ruched --keygen %s: exit %d, %r %r"
                        % (data_dir, out.returncode, out.stdout, out.stderr))
    return key


def parallel(fn, items):
    """fn(item) for every item at once; the results in order. The first
    exception raised is raised again once all are done."""
    items = list(items)
    if not items:
        return []
    with concurrent.futures.ThreadPoolExecutor(len(items)) as pool:
        futures = [pool.submit(fn, item) for item in items]
        concurrent.futures.wait(futures)
    return [f.result() for f in futures]


class Site:
    """One node of a federation."""

    def __init__(self, ruched, name, extra=()):
        self.name = name
        self.node = rt.Node(ruched, site=name)
        self.key = keygen(ruched, self.node.data_dir)
        self.pub = "tcp://127.0.0.1:%d" % rt.free_port()
        self.sync = "tcp://127.0.0.1:%d" % rt.free_port()
        self.peers = []  # (name, key, pub, sync); pub and sync None: trusted, not linked
        self.extra = list(extra)
        self._admin = None

    def add_peer(self, name, key, pub=None, sync=None):
        self.peers.append((name, key, pub, sync))

    def remove_peer(self, name):
        """Drops a peer from the configuration of this site's next start."""
        self.peers = [p for p in self.peers if p[0] != name]

    def linked(self):
        """The names of the peers this site connects to."""
        return [name for name, _, pub, _ in self.peers if pub]

    def settings(self):
        out = ["replication.pub=" + self.pub, "replication.sync=" + self.sync]
        out += list(TEST_SETTINGS)
        for name, key, pub, sync in self.peers:
            out.append("peer %s.key=%s" % (name, key))
            if pub:
                out += ["peer %s.pub=%s" % (name, pub), "peer %s.sync=%s" % (name, sync)]
        return out + self.extra

    @property
    def running(self):
        return self.node.running

    def start(self):
        self.node.start(self.settings())

    def kill(self):
        self.node.kill()

    def stop(self):
        """SIGTERM; the exit status."""
        return self.node.stop()

    def client(self, token=None):
        return self.node.client(token)

    def admin(self):
        """A client logged in as admin (the token is kept: sessions are
        durable, so it outlives restarts)."""
        if self._admin is None:
            token = self.client().login("admin", self.node.admin_password())
            self._admin = self.client(token)
        return self._admin

    def new_user(self, username):
        """Creates username through the admin API; a client logged in as it."""
        r = self.admin().post("/api/ruche/v1/admin/users", json_body={"username": username})
        if r.status != 200 or not isinstance(r.json, dict) or "password" not in r.json:
            raise TestError("%s: create user %s: %d %s" % (self.name, username, r.status,
                                                          r.brief()))
        return self.client(self.client().login(username, r.json["password"]))

    def replication(self):
        """GET /api/ruche/v1/replication as a dict; None when the node does
        not answer it with 200 and a JSON object."""
        try:
            r = self.client().get(REPLICATION)
        except OSError:
            return None
        return r.json if r.status == 200 and isinstance(r.json, dict) else None

    def peer_status(self, name, state=None):
        """The entry of peer name in this node's replication status."""
        state = state or self.replication() or {}
        for p in state.get("peers") or []:
            if isinstance(p, dict) and p.get("site") == name:
                return p
        return None


class Federation:
    """N sites peered in a topology; a context manager that kills every
    process and removes every directory on the way out (keeping the logs
    of a failed test)."""

    def __init__(self, checks, ruched, names, kind="mesh", label="fed", extra=()):
        self.checks = checks
        self.label = label
        self.failed_before = checks.failed
        self.sites = []
        try:
            for name in names:
                self.sites.append(Site(ruched, name, extra))
        except Exception:
            self.close(keep=False)
            raise
        self.pairs = topology(kind, len(self.sites))
        for i, j in self.pairs:
            self.link(self.sites[i], self.sites[j])
        for a in self.sites:
            for b in self.sites:
                if b is not a and b.name not in a.linked():
                    a.add_peer(b.name, b.key)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        self.close(keep=kind is not None or self.checks.failed > self.failed_before)
        return False

    def __getitem__(self, i):
        return self.sites[i]

    @staticmethod
    def link(a, b):
        """Peers a and b, each in the other's configuration."""
        a.add_peer(b.name, b.key, b.pub, b.sync)
        b.add_peer(a.name, a.key, a.pub, a.sync)

    def names(self):
        """{key text: site name} of the federation's sites."""
        return {s.key: s.name for s in self.sites}

    def start(self, sites=None):
        parallel(Site.start, sites or self.sites)

    def running(self):
        return [s for s in self.sites if s.running]

    def require_replication(self):
        """Raises TestError unless every running node answers the
        replication status endpoint."""
        for s in self.running():
            if s.replication() is None:
                r = s.client().get(REPLICATION)
                raise TestError("%s: GET %s -> %d %s" % (s.name, REPLICATION, r.status, r.brief()))

    def states(self, sites=None):
        return parallel(Site.replication, sites or self.running())

    def converged(self, states):
        """True when every state answered with the same clock, digest
        (the wire's, over the heads) and state digest (the store's, over
        what was made of the updates), and nothing is pending."""
        if any(st is None for st in states):
            return False
        first = states[0]
        return all(all(st.get(k) == first.get(k) for k in ("clock", "digest", "state_digest"))
                   and st.get("pending") == 0 for st in states)

    def wait_converged(self, sites=None, timeout=CONVERGE_TIMEOUT):
        """Waits until the given (default: running) sites have converged;
        returns their common state, or raises TestError describing each."""
        sites = sites or self.running()
        last = []
        deadline = time.monotonic() + timeout
        while True:
            last = self.states(sites)
            if self.converged(last):
                return last[0]
            if time.monotonic() >= deadline:
                raise TestError("no convergence within %.0f s:\n%s"
                                % (timeout, self.describe(sites, last)))
            time.sleep(0.05)

    def describe(self, sites, states):
        """One line per site: its clock by site name, digest, pending."""
        names = self.names()
        lines = []
        for s, st in zip(sites, states):
            if st is None:
                lines.append("  %s: no replication status" % s.name)
                continue
            clock = {names.get(k, k[:8]): v for k, v in sorted((st.get("clock") or {}).items())}
            lines.append("  %s: clock %s digest %s pending %s"
                         % (s.name, clock, str(st.get("digest"))[:16], st.get("pending")))
        return "\n".join(lines)

    def stop(self):
        """SIGTERM to every running site at once; checks each exits with 0
        and that no sanitizer complained in its log."""
        sites = self.running()
        codes = parallel(Site.stop, sites)
        for s, code in zip(sites, codes):
            self.checks.equal("%s: %s exits with 0 on SIGTERM" % (self.label, s.name), code, 0)
        for s in self.sites:
            self.checks.check("%s: %s: no sanitizer report in its log" % (self.label, s.name),
                              not s.node.sanitizer_reports(), s.node.sanitizer_reports()[:5])

    def close(self, keep):
        for s in self.sites:
            s.kill()
        if keep or os.environ.get("RUCHE_TEST_KEEP"):
            self.keep_logs()
        for s in self.sites:
            s.node.close()

    def keep_logs(self):
        where = os.path.join(os.environ.get("RUCHE_REPL_LOGS") or
                             os.path.join(os.getcwd(), "repl-logs"), self.label)
        os.makedirs(where, exist_ok=True)
        for s in self.sites:
            if os.path.exists(s.node.log_path):
                shutil.copyfile(s.node.log_path, os.path.join(where, s.name + ".log"))
            print("--- %s: last lines of %s's log:\n%s" % (self.label, s.name, s.node.log_tail(15)),
                  flush=True)
        print("logs kept in %s" % where, flush=True)
