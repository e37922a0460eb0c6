#!/usr/bin/python3
"""test_partition.py - three real ruched processes, each in its own Linux
network namespace, replicating over veth links; one of them is cut off
and rejoins.

The namespaces (named after this process's id) are joined pairwise by veth
pairs placed directly between them, a-b, b-c and a-c, each link a /30 of
10.77.0.0/16 with both addresses inside the namespaces. Nothing is added to
the root namespace: no address, route or interface. Every node serves HTTP
on 127.0.0.1 inside its namespace; the test reaches it through an agent, a
copy of this script run with `ip netns exec` that forwards requests read as
JSON lines on its stdin. Replication binds 0.0.0.0 inside the namespace,
and each [peer] names the peer's address on the link between them.

Scenario: the mesh converges after a few posts on every node. Then node C
loses both its links (set down inside C). While cut, every side posts; on
A the author of a status made before the cut (so C has it) edits it twice
and deletes it, while users of C reply to it and like it; A edits another
status that C likes; a user of C follows the author. A and B converge
together while C diverges. Once the links are up again, all three must
reach the same clock and digest; the deleted status answers 404
everywhere, its replies answer alike on every node, the edited one shows
its last text everywhere, and every other status made anywhere is visible
on every node.

Usage: test_partition.py PATH/TO/ruched. Needs root (namespaces, veth);
otherwise prints "skipped: needs root" and exits 77. Prints one line per
check and "N passed, M failed"; exits non-zero if any check failed. The
nodes' logs of a failed run are copied to RUCHE_NETNS_LOGS (default:
netns-logs/ in the current directory, the build tree under CTest) and
their last lines printed; RUCHE_TEST_KEEP=1 keeps them, and the data
directories, whatever the outcome.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))
import ruchetest as rt  # noqa: E402

PYTHON = "/usr/bin/python3"
HTTP_PORT = 8080  # inside each namespace: every one has its own loopback
PUB_PORT = 7101
SYNC_PORT = 7102
SETTINGS = ("replication.heartbeat_ms=200", "replication.anti_entropy_s=2")
REPLICATION = "/api/ruche/v1/replication"
START_TIMEOUT = 30.0  # seconds for a node to answer /healthz and accept posts
CONVERGE_TIMEOUT = 30.0  # seconds for nodes to converge
NAMES = ("a", "b", "c")
# (x, y, n): a veth between x and y on 10.77.n.0/30, x at .1 and y at .2
LINKS = (("a", "b", 1), ("b", "c", 2), ("a", "c", 3))


# ---------------------------------------------------------------------
# The agent: runs inside a namespace, forwards requests to the node there


def agent_main(port):
    """Reads {"method","path","body","token"} lines; writes one
    {"status","raw"} line per request (status 0: no connection)."""
    client = rt.Client("127.0.0.1", port)
    for line in sys.stdin:
        req = json.loads(line)
        try:
            r = client.request(req["method"], req["path"], json_body=req.get("body"),
                               token=req.get("token"))
            out = {"status": r.status, "raw": r.raw.decode("utf-8", "replace")}
        except OSError as e:
            out = {"status": 0, "raw": json.dumps({"error": str(e)})}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


class Agent:
    """The test's side of an agent: one request at a time."""

    def __init__(self, ns, port):
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, PYTHON, os.path.abspath(__file__), "--agent", str(port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def request(self, method, path, body=None, token=None):
        """An rt.Reply (status 0 when the node did not answer)."""
        line = json.dumps({"method": method, "path": path, "body": body, "token": token})
        with self.lock:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
            answer = self.proc.stdout.readline()
        if not answer:
            raise rt.TestError("the agent exited")
        out = json.loads(answer)
        return rt.Reply(out["status"], {}, out["raw"].encode("utf-8"))

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------------
# Namespaces and links


def ip(*args):
    """Runs ip ARGS; raises TestError when it fails."""
    out = subprocess.run(["ip"] + list(args), capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise rt.TestError("ip %s: %s" % (" ".join(args), out.stderr.strip()))


class Net:
    """Three namespaces and the veth links between them."""

    def __init__(self):
        self.ns = {n: "ruche-part-%d-%s" % (os.getpid(), n) for n in NAMES}
        self.made = []

    def build(self):
        for n in NAMES:
            ip("netns", "add", self.ns[n])
            self.made.append(self.ns[n])
            ip("-n", self.ns[n], "link", "set", "lo", "up")
        for x, y, k in LINKS:
            ip("-n", self.ns[x], "link", "add", self.dev(x, y), "type", "veth", "peer", "name",
               self.dev(y, x), "netns", self.ns[y])
            for end, other, host in ((x, y, 1), (y, x, 2)):
                ip("-n", self.ns[end], "addr", "add", "10.77.%d.%d/30" % (k, host), "dev",
                   self.dev(end, other))
                ip("-n", self.ns[end], "link", "set", self.dev(end, other), "up")

    @staticmethod
    def dev(x, y):
        """The name, inside x's namespace, of x's end of the x-y link."""
        return "veth-%s%s" % (x, y)

    @staticmethod
    def addr(x, y):
        """x's address on the x-y link."""
        for p, q, k in LINKS:
            if (p, q) == (x, y):
                return "10.77.%d.1" % k
            if (q, p) == (x, y):
                return "10.77.%d.2" % k
        raise ValueError("no link %s-%s" % (x, y))

    def set_links(self, n, state):
        """Sets every veth end in n's namespace up or down."""
        for other in NAMES:
            if other != n:
                ip("-n", self.ns[n], "link", "set", self.dev(n, other), state)

    def destroy(self):
        for name in self.made:
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
        self.made = []


# ---------------------------------------------------------------------
# Nodes


class Node:
    """One ruched in one namespace."""

    def __init__(self, ruched, net, name, tmp):
        self.ruched = ruched
        self.net = net
        self.name = name
        self.site = "site" + name
        self.data_dir = os.path.join(tmp, name)
        self.log_path = os.path.join(tmp, name + ".log")
        self.key = self._keygen()
        self.proc = None
        self.agent = None
        self.admin_token = None

    def _keygen(self):
        out = subprocess.run([self.ruched, "--keygen", self.data_dir], capture_output=True,
                             text=True, timeout=60, check=False)
        key = out.stdout.strip()
        if out.returncode != 0 or len(key) != 43:
            raise rt.TestError("ruched --keygen: exit %d %r" % (out.returncode, out.stderr))
        return key

    def args(self, others):
        out = [self.ruched, "--data-dir", self.data_dir, "--site", self.site,
               "--set", "http.listen=127.0.0.1:%d" % HTTP_PORT,
               "--set", "replication.pub=tcp://0.0.0.0:%d" % PUB_PORT,
               "--set", "replication.sync=tcp://0.0.0.0:%d" % SYNC_PORT]
        for s in SETTINGS:
            out += ["--set", s]
        for o in others:
            where = self.net.addr(o.name, self.name)
            out += ["--set", "peer %s.key=%s" % (o.site, o.key),
                    "--set", "peer %s.pub=tcp://%s:%d" % (o.site, where, PUB_PORT),
                    "--set", "peer %s.sync=tcp://%s:%d" % (o.site, where, SYNC_PORT)]
        return out

    def start(self, others):
        ns = self.net.ns[self.name]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(["ip", "netns", "exec", ns] + self.args(others),
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        self.agent = Agent(ns, HTTP_PORT)

    def wait_ready(self):
        """Waits for /healthz, then logs in as admin."""
        rt.wait_until(self._healthy, START_TIMEOUT, "%s: GET /healthz" % self.site, 0.05)
        with open(os.path.join(self.data_dir, "admin-password"), encoding="utf-8") as f:
            password = f.read().strip()
        r = self.request("POST", "/oauth/token", {"grant_type": "password",
                                                  "username": "admin", "password": password})
        if r.status != 200 or not isinstance(r.json, dict):
            raise rt.TestError("%s: admin login: %d %s" % (self.site, r.status, r.brief()))
        self.admin_token = r.json["access_token"]

    def _healthy(self):
        if self.proc.poll() is not None:
            raise rt.TestError("%s: ruched exited with %d:\n%s"
                               % (self.site, self.proc.returncode, self.log_tail()))
        return self.request("GET", "/healthz").status == 200

    def request(self, method, path, body=None, token=None):
        return self.agent.request(method, path, body, token)

    def new_user(self, username):
        """Creates username; its token. A node whose key is older than its
        store answers 503 until its peers told it what they hold of it."""
        def attempt():
            r = self.request("POST", "/api/ruche/v1/admin/users", {"username": username},
                             self.admin_token)
            if r.status == 503:
                return None
            if r.status != 200 or not isinstance(r.json, dict):
                raise rt.TestError("%s: new user %s: %d %s"
                                   % (self.site, username, r.status, r.brief()))
            return r.json["password"]
        password = rt.wait_until(attempt, START_TIMEOUT, "%s accepting writes" % self.site, 0.05)
        r = self.request("POST", "/oauth/token", {"grant_type": "password",
                                                  "username": username, "password": password})
        return r.json["access_token"]

    def replication(self):
        r = self.request("GET", REPLICATION)
        return r.json if r.status == 200 and isinstance(r.json, dict) else None

    def stop(self):
        """SIGTERM; the exit status (None if it was not running)."""
        if self.proc is None or self.proc.poll() is not None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            return "no exit within 30 s"

    def kill(self):
        if self.agent:
            self.agent.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()

    # the API tests' node reads its log (log_path) the same way
    log_text = rt.Node.log_text
    log_tail = rt.Node.log_tail
    sanitizer_reports = rt.Node.sanitizer_reports


# ---------------------------------------------------------------------
# Convergence


def states(nodes):
    return [n.replication() for n in nodes]


def same(sts):
    """True when every state has the same clock and digest."""
    if any(st is None for st in sts):
        return False
    return all(st.get("clock") == sts[0].get("clock") and st.get("digest") == sts[0].get("digest")
               for st in sts)


def describe(nodes, sts):
    """One line per node: its clock (origins by node name), the start of
    its digest, and which peers it sees connected."""
    short = {n.key: n.name for n in nodes}

    def line(node, st):
        if st is None:
            return "  %s: no replication status" % node.site
        clock = " ".join("%s=%s" % (short.get(k, k[:8]), st["clock"][k])
                         for k in sorted(st.get("clock") or {}, key=lambda k: short.get(k, k)))
        up = ",".join(p.get("site", "?") for p in st.get("peers") or [] if p.get("connected"))
        return "  %s: clock [%s] digest %.16s pending %s connected to [%s]" % (
            node.site, clock, st.get("digest"), st.get("pending"), up)
    return "\n".join(line(n, st) for n, st in zip(nodes, sts))


def wait_converged(nodes, timeout=CONVERGE_TIMEOUT):
    """Waits for nodes to reach one clock and digest; their common state."""
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    while True:
        sts = states(nodes)
        if same(sts):
            print("   converged in %.1f s" % (time.monotonic() - started), flush=True)
            return sts[0]
        if time.monotonic() >= deadline:
            raise rt.TestError("no convergence of %s within %.0f s:\n%s"
                               % ([n.site for n in nodes], timeout, describe(nodes, sts)))
        time.sleep(0.1)


# ---------------------------------------------------------------------
# The scenario


class World:
    """The nodes, their users, and what every node must show in the end."""

    def __init__(self, checks, net, nodes):
        self.checks = checks
        self.net = net
        self.a, self.b, self.c = nodes
        self.nodes = nodes
        self.tokens = {}  # username -> (node, token)
        self.visible = []  # ids every node must show at the end
        self.replies = []  # replies to the deleted status
        self.doomed = None  # the status A edits twice and deletes
        self.edited = None  # the status A edits while C likes it
        self.last_text = None  # the edited status's last text
        self.authored = {}  # username -> id of a status of theirs that stays

    def user(self, node, username):
        self.tokens[username] = (node, node.new_user(username))

    def call(self, username, method, path, body=None):
        node, token = self.tokens[username]
        return node.request(method, path, body, token)

    def post(self, username, text, **fields):
        """Posts as username; the Status (raises TestError on failure)."""
        fields["status"] = text
        r = self.call(username, "POST", "/api/v1/statuses", fields)
        if r.status != 200 or not isinstance(r.json, dict) or "id" not in r.json:
            raise rt.TestError("%s posts %r: %d %s" % (username, text, r.status, r.brief()))
        return r.json

    def keep(self, username, text):
        """Posts a status that every node must show in the end."""
        sid = self.post(username, text)["id"]
        self.visible.append(sid)
        self.authored.setdefault(username, sid)

    def get(self, node, status_id):
        return node.request("GET", "/api/v1/statuses/%s" % status_id)

    def account(self, node, username):
        """username's Account as node shows it, found through one of their
        statuses (lookup knows local accounts only); None if unknown."""
        st = self.get(node, self.authored[username]).json
        account_id = ((st or {}).get("account") or {}).get("id")
        if account_id is None:
            return None
        r = node.request("GET", "/api/v1/accounts/%s" % account_id)
        return r.json if r.status == 200 and isinstance(r.json, dict) else None


def peers_connected(node):
    """{peer site: connected} from node's replication status."""
    st = node.replication() or {}
    return {p.get("site"): p.get("connected") for p in st.get("peers") or []}


def wait_connected(w, node, peer_sites, connected, what):
    """Waits until node reports each of peer_sites as connected (or not)."""
    def done():
        seen = peers_connected(node)
        return all(seen.get(p) is connected for p in peer_sites)
    try:
        rt.wait_until(done, CONVERGE_TIMEOUT, what, 0.1)
        w.checks.check(what, True)
    except rt.TestError:
        w.checks.check(what, False, peers_connected(node))


def phase_mesh(w):
    """Posts on every node; the mesh converges; C has what A posted."""
    ck = w.checks
    for node, names in ((w.a, ("alice",)), (w.b, ("bob",)), (w.c, ("carol", "dave"))):
        for name in names:
            w.user(node, name)
    w.doomed = w.post("alice", "this one will be edited twice and deleted")["id"]
    w.edited = w.post("alice", "this one will be edited once")["id"]
    w.visible.append(w.edited)
    for username, text in (("alice", "alice before the cut"), ("bob", "bob before the cut"),
                           ("bob", "bob again"), ("carol", "carol before the cut"),
                           ("dave", "dave before the cut")):
        w.keep(username, text)
    wait_converged(w.nodes)
    ck.check("mesh: all three nodes converge", True)
    for sid in (w.doomed, w.edited):
        ck.status("mesh: C has A's status %s" % sid, w.get(w.c, sid), 200)


def cut_writes(w):
    """What every side does while C is cut off; A's and C's changes to the
    same statuses interleave, but neither side can see the other's."""
    ck = w.checks
    doomed = "/api/v1/statuses/%s" % w.doomed
    ck.status("cut: A edits its status (1)", w.call("alice", "PUT", doomed, {"status": "edit 1"}),
              200)
    w.replies.append(w.post("carol", "a reply from C", in_reply_to_id=w.doomed)["id"])
    ck.status("cut: A edits its status (2)", w.call("alice", "PUT", doomed, {"status": "edit 2"}),
              200)
    w.replies.append(w.post("dave", "another reply from C", in_reply_to_id=w.doomed)["id"])
    ck.status("cut: carol on C likes it", w.call("carol", "POST", doomed + "/favourite"), 200)
    r = w.call("alice", "DELETE", doomed)
    ck.status("cut: A deletes it", r, 200)
    ck.equal("cut: the deleted status shows its last text", (r.json or {}).get("text"), "edit 2")
    ck.status("cut: dave on C likes it", w.call("dave", "POST", doomed + "/favourite"), 200)
    w.last_text = "edited while C was cut off"
    r = w.call("alice", "PUT", "/api/v1/statuses/%s" % w.edited, {"status": w.last_text})
    ck.status("cut: A edits its other status", r, 200)
    r = w.call("carol", "POST", "/api/v1/statuses/%s/favourite" % w.edited)
    ck.status("cut: carol on C likes that other status", r, 200)
    alice = w.account(w.c, "alice")
    ck.check("cut: C knows alice", alice is not None)
    if alice:
        r = w.call("carol", "POST", "/api/v1/accounts/%s/follow" % alice["id"])
        ck.check("cut: carol on C follows alice", r.status == 200 and
                 isinstance(r.json, dict) and r.json.get("following") is True, r.brief())
    for username in ("alice", "bob", "bob", "carol", "dave"):
        w.keep(username, "%s during the cut" % username)


def phase_cut(w):
    """C loses its links; both sides write; A and B converge, C diverges."""
    ck = w.checks
    w.net.set_links("c", "down")
    cut_writes(w)
    wait_connected(w, w.c, (w.a.site, w.b.site), False, "cut: C sees A and B disconnected")
    wait_connected(w, w.a, (w.c.site,), False, "cut: A sees C disconnected")
    wait_connected(w, w.b, (w.c.site,), False, "cut: B sees C disconnected")
    ab = wait_converged([w.a, w.b])
    ck.check("cut: A and B converge together", True)
    st_c = w.c.replication()
    ck.check("cut: C's digest differs from A's and B's",
             st_c is not None and st_c.get("digest") != ab.get("digest"),
             describe(w.nodes, states(w.nodes)))
    clock_c = (st_c or {}).get("clock") or {}
    clock_ab = ab.get("clock") or {}
    ck.check("cut: A and B lack C's latest updates",
             clock_ab.get(w.c.key, 0) < clock_c.get(w.c.key, 0), (clock_ab, clock_c))
    ck.check("cut: C lacks A's latest updates",
             clock_c.get(w.a.key, 0) < clock_ab.get(w.a.key, 0), (clock_ab, clock_c))
    ck.status("cut: the deleted status is gone on B", w.get(w.b, w.doomed), 404)
    ck.status("cut: C still has the deleted status", w.get(w.c, w.doomed), 200)
    print(describe(w.nodes, states(w.nodes)), flush=True)


def check_same_everywhere(w, what, values):
    """values: one per node; checks they are all equal."""
    w.checks.check("healed: %s is the same on every node" % what,
                   all(v == values[0] for v in values),
                   dict(zip([n.site for n in w.nodes], values)))


def check_healed(w):
    """What every node must show once C is back."""
    ck = w.checks
    for n in w.nodes:
        ck.status("healed: %s: the deleted status" % n.site, w.get(n, w.doomed), 404)
    for rid in w.replies:
        codes = [w.get(n, rid).status for n in w.nodes]
        check_same_everywhere(w, "the answer for reply %s to the deleted status" % rid, codes)
        ck.check("healed: reply %s answers 200 or 404 (%d)" % (rid, codes[0]),
                 codes[0] in (200, 404), codes)
    edited = [w.get(n, w.edited).json or {} for n in w.nodes]
    for n, st in zip(w.nodes, edited):
        ck.equal("healed: %s: the edited status's text" % n.site, st.get("text"), w.last_text)
        ck.equal("healed: %s: the edited status's likes" % n.site, st.get("favourites_count"), 1)
    for n in w.nodes:
        missing = [(sid, w.get(n, sid).status) for sid in w.visible]
        missing = [m for m in missing if m[1] != 200]
        ck.check("healed: %s shows all %d statuses" % (n.site, len(w.visible)), not missing,
                 missing)
    alice = [(w.account(n, "alice") or {}).get("followers_count") for n in w.nodes]
    carol = [(w.account(n, "carol") or {}).get("following_count") for n in w.nodes]
    check_same_everywhere(w, "alice's followers_count", alice)
    check_same_everywhere(w, "carol's following_count", carol)
    ck.equal("healed: alice's followers_count", alice[0], 1)
    ck.equal("healed: carol's following_count", carol[0], 1)


def phase_heal(w):
    w.net.set_links("c", "up")
    wait_converged(w.nodes)
    w.checks.check("healed: all three nodes converge", True)
    for n in w.nodes:
        others = [o.site for o in w.nodes if o is not n]
        wait_connected(w, n, others, True, "healed: %s sees its peers connected" % n.site)
    check_healed(w)


# ---------------------------------------------------------------------
# Main


def keep_logs(nodes):
    where = os.environ.get("RUCHE_NETNS_LOGS") or os.path.join(os.getcwd(), "netns-logs")
    os.makedirs(where, exist_ok=True)
    for n in nodes:
        if os.path.exists(n.log_path):
            shutil.copyfile(n.log_path, os.path.join(where, n.site + ".log"))
        print("--- last lines of %s's log:\n%s" % (n.site, n.log_tail()), flush=True)
    print("logs kept in %s" % where, flush=True)


def teardown(checks, net, nodes, failed_before):
    """Stops every node (SIGTERM, exit 0 expected), kills what is left,
    deletes the namespaces."""
    for n in nodes:
        code = n.stop()
        if code is not None:
            checks.equal("%s exits with 0 on SIGTERM" % n.site, code, 0)
    for n in nodes:
        n.kill()
        checks.check("%s: no sanitizer report in its log" % n.site, not n.sanitizer_reports(),
                     n.sanitizer_reports()[:5])
    net.destroy()
    if checks.failed > failed_before or os.environ.get("RUCHE_TEST_KEEP"):
        keep_logs(nodes)


def run(checks, ruched):
    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="ruche_netns.")
    net = Net()
    nodes = []
    failed_before = checks.failed
    try:
        net.build()
        nodes = [Node(ruched, net, name, tmp) for name in NAMES]
        for n in nodes:
            n.start([o for o in nodes if o is not n])
        for n in nodes:
            n.wait_ready()
        w = World(checks, net, nodes)
        phase_mesh(w)
        phase_cut(w)
        phase_heal(w)
    except Exception:
        checks.check("the test runs to its end", False, traceback.format_exc().rstrip())
    finally:
        teardown(checks, net, nodes, failed_before)
        if not os.environ.get("RUCHE_TEST_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
        print("took %.1f s" % (time.monotonic() - started), flush=True)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--agent":
        agent_main(int(sys.argv[2]))
        return
    if os.geteuid() != 0:
        print("skipped: needs root")
        sys.exit(77)
    if shutil.which("ip") is None:
        print("skipped: needs ip (iproute2)")
        sys.exit(77)
    rt.main_wrapper(run)


if __name__ == "__main__":
    main()
