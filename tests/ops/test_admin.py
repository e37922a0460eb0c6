"""test_admin.py - `ruche admin` against real nodes: users (adduser,
passwd, disable, enable, promote, demote), the node key, add-peer and
remove-peer on two real sites started with config files, a non-admin
refused (403) by every admin endpoint, ruched --verify on the live store
(its recomputed digest matches, and is the node's), and a backup taken
while several threads post, restored with ruched --restore into a new
data directory:
the node started on it holds every post acknowledged before the backup
began; restored at a site with peers, the node first takes back from them
its own posts made after the backup, then posts again with the next seq;
and an export of posts, replies, edits and deletes whose every
signature the test verifies itself with PyNaCl.

Usage: test_admin.py PATH/TO/ruched PATH/TO/ruche
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "repl"))
sys.path.insert(0, os.path.join(HERE, "..", "api"))
import base64  # noqa: E402
import json  # noqa: E402

import nacl.exceptions  # noqa: E402
import nacl.signing  # noqa: E402

import fed  # noqa: E402
import ruchetest as rt  # noqa: E402

ADMIN = "/api/ruche/v1/admin"
CONFIG_HEAD = "# the operators' own notes, kept by add-peer and remove-peer\n[node]\nlog_level = info\n"


class Cli:
    """The ruche client logged in as one user of one node, with its own
    credentials directory."""

    def __init__(self, ruche, site, home):
        self.ruche = ruche
        self.url = "http://127.0.0.1:%d" % site.node.port
        self.env = dict(os.environ, XDG_CONFIG_HOME=home)
        self.env.pop("RUCHE_SERVER", None)

    def run(self, *args, stdin=None):
        """(exit status, stdout, stderr) of ruche --server URL ARGS."""
        p = subprocess.run([self.ruche, "--server", self.url] + list(args), input=stdin,
                           capture_output=True, text=True, timeout=120, env=self.env, check=False,
                           umask=0o022)
        return p.returncode, p.stdout, p.stderr


def login_ok(site, name, password):
    """Whether name signs in at site (a Site or an rt.Node)."""
    try:
        site.client().login(name, password)
        return True
    except Exception:
        return False


def check_users(checks, site, cli):
    """adduser, passwd, disable, enable, promote, demote and the 403s."""
    rc, out, err = cli.run("admin", "adduser", "alice")
    checks.equal("admin adduser alice exits 0", rc, 0)
    pw = [l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("password: ")]
    checks.check("adduser prints the password", len(pw) == 1, out + err)
    token = site.client().login("alice", pw[0])
    alice = site.client(token)
    for method, path in (("POST", "/users"), ("POST", "/users/admin/password"),
                         ("POST", "/users/admin/disable"), ("POST", "/users/alice/promote"),
                         ("POST", "/users/admin/demote"), ("GET", "/key"), ("POST", "/peers"),
                         ("DELETE", "/peers/x"), ("GET", "/backup"),
                         ("GET", "/export")):
        checks.error("non-admin %s %s" % (method, path), alice.request(method, ADMIN + path), 403)
    checks.error("no token: GET key", site.client().get(ADMIN + "/key"), 401)
    rc, out, err = cli.run("admin", "passwd", "alice")
    new = [l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("password: ")]
    checks.check("admin passwd prints a new password", rc == 0 and len(new) == 1, out + err)
    checks.error("after passwd the old session ends", alice.get("/api/v1/accounts/verify_credentials"), 401)
    checks.check("the old password is refused", not login_ok(site, "alice", pw[0]))
    alice = site.client(site.client().login("alice", new[0]))
    rc, out, err = cli.run("admin", "disable", "alice")
    checks.check("admin disable alice", rc == 0 and "disabled" in out, out + err)
    checks.error("a disabled user's session ends", alice.get("/api/v1/accounts/verify_credentials"), 401)
    checks.check("a disabled user cannot sign in", not login_ok(site, "alice", new[0]))
    r = site.client().post("/auth/sign_in", form={"username": "alice", "password": new[0]})
    checks.check("web sign-in of a disabled user refused", r.status in (401, 403, 422), r.brief())
    rc, out, err = cli.run("admin", "enable", "alice")
    checks.check("admin enable alice", rc == 0 and "enabled" in out, out + err)
    alice = site.client(site.client().login("alice", new[0]))
    rc, out, err = cli.run("--json", "admin", "promote", "alice")
    checks.check("admin promote alice (--json)", rc == 0 and '"admin": true' in out, out + err)
    checks.status("a promoted user reads the key", alice.get(ADMIN + "/key"), 200)
    rc, out, err = cli.run("admin", "demote", "alice")
    checks.check("admin demote alice", rc == 0 and "user, enabled" in out, out + err)
    checks.error("a demoted user is refused again", alice.get(ADMIN + "/key"), 403)
    rc, out, err = cli.run("admin", "disable", "admin")
    checks.check("an admin cannot disable themselves", rc == 1 and "themselves" in err, out + err)
    rc, out, err = cli.run("admin", "passwd", "nobody")
    checks.check("passwd of an unknown user fails (404)", rc == 1 and "404" in err, out + err)
    rc, out, err = cli.run("admin", "disable", "NOT a name")
    checks.equal("a malformed name is a usage error", rc, 2)
    return alice


def write_config(site):
    path = os.path.join(site.node.tmp, "ruched.conf")
    with open(path, "w") as f:
        f.write(CONFIG_HEAD)
    site.node.config = path
    return path


def peered(a, b):
    st = a.peer_status(b.name)
    return st is not None and st.get("connected") is True


def check_peers(checks, fd, clis, alice):
    """key, add-peer both ways, convergence, remove-peer, disconnection."""
    a, b = fd[0], fd[1]
    rc, out, err = clis[0].run("--json", "admin", "key")
    key = json.loads(out) if rc == 0 else {}
    checks.equal("admin key: the node key", key.get("key"), a.key)
    checks.check("admin key: a CURVE key in Z85", len(key.get("curve_key", "")) == 40, key)
    checks.equal("admin key: pub endpoint", key.get("pub"), a.pub)
    checks.check("admin key: a [peer] section", "[peer %s]" % a.name in key.get("peer_section", ""))
    rc, out, err = clis[0].run("admin", "key")
    checks.check("admin key as text", rc == 0 and "key = %s" % a.key in out, out + err)
    rc, out, err = clis[0].run("admin", "add-peer", b.name, "not-a-key")
    checks.check("add-peer with a bad key is refused (422)", rc == 1 and "422" in err, out + err)
    rc, out, err = clis[0].run("admin", "add-peer", b.name, "--", b.key, b.pub, "x; rm -rf /")
    checks.check("add-peer with a bad endpoint is refused", rc == 1 and "422" in err, out + err)
    for i, (x, y) in enumerate(((a, b), (b, a))):
        rc, out, err = clis[i].run("admin", "add-peer", y.name, "--", y.key, y.pub, y.sync)
        checks.check("%s: add-peer %s" % (x.name, y.name), rc == 0 and "added" in out, out + err)
    rc, out, err = clis[0].run("admin", "add-peer", b.name, "--", b.key, b.pub, b.sync)
    checks.check("add-peer twice is refused (409)", rc == 1 and "409" in err, out + err)
    with open(a.node.config) as f:
        text = f.read()
    checks.check("the config keeps its comments and has the peer",
                 text.startswith(CONFIG_HEAD) and "[peer %s]" % b.name in text, text)
    rt.wait_until(lambda: peered(a, b) and peered(b, a), 60, "the sites to connect")
    checks.check("after add-peer both sites are connected", True)
    alice.post_status("after add-peer, from paris")
    state = fd.wait_converged()
    checks.check("the two sites converge", state is not None)
    tl = b.client().get("/api/v1/timelines/public").json or []
    checks.check("nozay holds paris's post", any("after add-peer" in s.get("content", "") for s in tl))
    rc, out, err = clis[0].run("admin", "remove-peer", b.name)
    checks.check("paris: remove-peer nozay", rc == 0 and "removed" in out, out + err)
    with open(a.node.config) as f:
        text = f.read()
    checks.check("the config keeps its comments, without the peer",
                 text.startswith(CONFIG_HEAD) and "[peer %s]" % b.name not in text, text)
    rt.wait_until(lambda: a.peer_status(b.name) is None, 30, "paris to drop nozay")
    checks.check("paris no longer lists nozay", True)
    # paris drops the connections nozay made while it was trusted: nozay
    # hears no more heartbeats, and a post at paris stays missing at nozay.
    rt.wait_until(lambda: not (b.peer_status(a.name) or {}).get("connected"), 30,
                  "nozay to see paris disconnected")
    checks.check("nozay, still listing paris, sees it disconnected", True)
    alice.post_status("after remove-peer, from paris")
    since = time.monotonic()
    rt.wait_until(lambda: time.monotonic() - since > 7, 30, "two anti-entropy rounds")
    tl = b.client().get("/api/v1/timelines/public").json or []
    checks.check("nozay does not get paris's post made after remove-peer",
                 not any("after remove-peer, from paris" in s.get("content", "") for s in tl))
    # paris no longer takes nozay's updates: a post at nozay stays missing at
    # paris, past two anti-entropy rounds (3 s each), as nozay sees it.
    b.new_user("bob").post_status("after remove-peer, from nozay")
    since = time.monotonic()
    rt.wait_until(lambda: time.monotonic() - since > 7 and
                  ((b.peer_status(a.name) or {}).get("ahead") or 0) >= 1, 30,
                  "paris to stay behind nozay")
    checks.check("after remove-peer paris no longer takes nozay's updates", True)
    rc, out, err = clis[0].run("admin", "remove-peer", b.name)
    checks.check("remove-peer of an unknown peer (404)", rc == 1 and "404" in err, out + err)


def post_stream(site, users, stop):
    """Threads posting as users until stop is set; returns the threads and
    the list they fill with (acknowledgement time, status id)."""
    acked = []
    lock = threading.Lock()

    def poster(client, name):
        n = 0
        while not stop.is_set():
            n += 1
            st = client.post_status("%s streams post %d" % (name, n))
            with lock:
                acked.append((time.monotonic(), st["id"]))

    threads = [threading.Thread(target=poster, args=(site.new_user(u), u)) for u in users]
    for t in threads:
        t.start()
    return threads, acked


def restore(ruched, *args):
    """(exit status, stderr) of ruched --restore ARGS; a sanitizer report
    on stderr counts as a failure (exit 99)."""
    p = subprocess.run([ruched, "--restore"] + list(args), capture_output=True, text=True,
                       timeout=120, check=False)
    bad = "runtime error:" in p.stderr or "Sanitizer" in p.stderr
    return (99 if bad else p.returncode), p.stderr


def verify(ruched, data_dir):
    """(exit status, stdout, stderr) of ruched --verify DATA_DIR; a
    sanitizer report counts as a failure (exit 99)."""
    p = subprocess.run([ruched, "--verify", data_dir], capture_output=True, text=True,
                       timeout=120, check=False)
    bad = "runtime error:" in p.stderr or "Sanitizer" in p.stderr
    return (99 if bad else p.returncode), p.stdout, p.stderr


def check_backup(checks, ruched, site, cli, tmp):
    """A backup during a stream of posts, restored and started."""
    stop = threading.Event()
    threads, acked = post_stream(site, ["carol", "dave", "erin"], stop)
    rt.wait_until(lambda: len(acked) >= 30, 60, "30 posts before the backup")
    backup = os.path.join(tmp, "paris.mdb")
    began = time.monotonic()
    rc, out, err = cli.run("admin", "backup", backup)
    ended = time.monotonic()
    count = len(acked)
    rt.wait_until(lambda: len(acked) >= count + 10, 30, "10 posts after the backup")
    rc, out, err = verify(ruched, site.node.data_dir)
    checks.check("ruched --verify reads the live store while posts go on: its digest matches",
                 rc == 0 and re.fullmatch(r"[0-9a-f]{64} match\n", out), out + err)
    stop.set()
    for t in threads:
        t.join(60)
    rc, out, err = verify(ruched, site.node.data_dir)
    checks.equal("ruched --verify prints the node's state digest, recomputed",
                 (rc, out.split(" ")[0]), (0, (site.replication() or {}).get("state_digest")))
    checks.check("admin backup exits 0 and writes FILE", rc == 0 and os.path.getsize(backup) > 0,
                 out + err)
    checks.equal("the backup (password hashes, every post) is its owner's only",
                 oct(os.stat(backup).st_mode & 0o777), oct(0o600))
    before = [i for at, i in acked if at < began]
    checks.check("posts acknowledged before the backup began (%d) and after (%d)"
                 % (len(before), len(acked) - len(before)), len(before) >= 30)
    rc, err = restore(ruched, backup, "--data-dir", site.node.data_dir)
    checks.check("restore over a directory holding a store is refused", rc == 1 and "--force" in err, err)
    junk = os.path.join(tmp, "junk.mdb")
    with open(junk, "wb") as f:
        f.write(os.urandom(65536))
    with rt.Node(ruched, site="paris") as node:
        rc, err = restore(ruched, junk, "--data-dir", node.data_dir)
        checks.check("restore of a file that is no store is refused", rc == 1, err)
        checks.check("a refused restore leaves the directory as it was",
                     not os.path.exists(os.path.join(node.data_dir, "data.mdb")) and
                     not os.path.exists(os.path.join(node.data_dir, "restore.tmp")))
        env = dict(cli.env, RUCHED=ruched)
        p = subprocess.run([cli.ruche, "admin", "restore", backup, "--data-dir", node.data_dir],
                           capture_output=True, text=True, timeout=120, env=env, check=False)
        checks.check("ruche admin restore runs ruched --restore", p.returncode == 0, p.stderr)
        shutil.copy(os.path.join(site.node.data_dir, "node.key"), node.data_dir)
        node.start()
        c = node.client()
        missing = [i for i in before if c.get("/api/v1/statuses/" + i).status != 200]
        checks.check("the restored node holds every post acknowledged before the backup began",
                     not missing, "%d missing, e.g. %s" % (len(missing), missing[:3]))
        later = [i for at, i in acked if at > ended]
        checks.check("posts made after the backup ended are not in it (%d)" % len(later),
                     later and all(c.get("/api/v1/statuses/" + i).status == 404 for i in later))
        checks.check("the restored node's admin signs in", login_ok(node, "admin",
                                                                    site.node.admin_password()))
        rc, err = restore(ruched, backup, "--data-dir", node.data_dir)
        checks.check("restore without --force refused on a restored directory", rc == 1, err)
        checks.equal("the restored node exits with 0 on SIGTERM", node.stop(), 0)
        checks.check("no sanitizer report in the restored node's log",
                     not node.sanitizer_reports(), node.sanitizer_reports()[:5])
        rc, err = restore(ruched, backup, "--data-dir", node.data_dir, "--force")
        checks.check("restore --force replaces a stopped node's store", rc == 0, err)


DOMAIN = b"ruche/update/v1\n"


def b64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signed(line):
    """Checks a line's signature with PyNaCl, from the line alone."""
    try:
        key = nacl.signing.VerifyKey(b64url(line["origin"]))
        key.verify(DOMAIN + base64.b64decode(line["payload"]), base64.b64decode(line["signature"]))
        return True
    except (nacl.exceptions.BadSignatureError, KeyError, ValueError):
        return False


def export(cli, *args):
    """The lines of ruche admin export ARGS, parsed; (exit, lines, stderr)."""
    rc, out, err = cli.run("admin", "export", *args)
    return rc, [json.loads(l) for l in out.splitlines() if l.strip()], err


def check_export(checks, site, cli, alice):
    """Exports: all, by range, edits and deletes, every signature checked."""
    start_ms = int(time.time() * 1000) - 1
    edited = alice.post_status("to be edited")
    r = alice.put("/api/v1/statuses/" + edited["id"], json_body={"status": "edited text"})
    checks.status("alice edits her post", r, 200)
    secret = alice.post_status("a salary review, @admin", visibility="direct")
    r = alice.put("/api/v1/statuses/" + secret["id"], json_body={"status": "a salary review, again"})
    checks.status("alice edits her direct post", r, 200)
    gone = alice.post_status("to be deleted")
    checks.status("alice deletes a post", alice.delete("/api/v1/statuses/" + gone["id"]), 200)
    rc, lines, err = export(cli)
    checks.check("admin export exits 0", rc == 0 and "0 of them not verified" in err, err)
    checks.check("every line verified by the node", lines and all(l.get("verified") for l in lines))
    checks.check("every line's signature verifies with PyNaCl (%d lines)" % len(lines),
                 lines and all(signed(l) for l in lines))
    checks.check("every text is in its signed payload",
                 all(l["text"].encode() in base64.b64decode(l["payload"]) for l in lines if "text" in l))
    bad = dict(lines[0], payload=base64.b64encode(b"x" + base64.b64decode(lines[0]["payload"])[1:]).decode())
    checks.check("a tampered payload fails the check", not signed(bad))
    posts = [l for l in lines if l.get("kind") == "post" and l.get("author") in ("carol", "dave", "erin")]
    checks.check("the streamed posts are exported (%d)" % len(posts), len(posts) >= 40)
    checks.check("lines carry origin, seq, site, author, created_at",
                 all({"origin", "seq", "site", "author", "created_at"} <= set(l) for l in lines))
    rc, mine, err = export(cli, "--since", str(start_ms))
    kinds = sorted(l["kind"] for l in mine)
    checks.equal("export --since: alice's three posts, the two edits and the delete", kinds,
                 ["delete", "edit", "edit", "post", "post", "post"])
    marked = [(l["kind"], l.get("visibility"), l.get("direct")) for l in mine if "salary" in
              l.get("text", "") or "salary" in l.get("last_text", "")]
    checks.equal("the direct post and its edit are marked direct", sorted(marked),
                 [("edit", "direct", True), ("post", "direct", True)])
    checks.check("the other lines say their visibility, and are not marked direct",
                 all(l.get("visibility") == "public" and "direct" not in l for l in mine
                     if "salary" not in l.get("text", "") + l.get("last_text", "")), mine)
    post = {l["text"]: l for l in mine if l["kind"] == "post"}
    e = post.get("to be edited", {})
    checks.check("the edited post: last text and edited", e.get("last_text") == "edited text"
                 and e.get("edited") is True and e.get("deleted") is False, e)
    d = post.get("to be deleted", {})
    checks.check("the deleted post: deleted", d.get("deleted") is True, d)
    edit = [l for l in mine if l["kind"] == "edit"]
    checks.check("the edit names its post", edit and edit[0]["target"] == {"origin": e.get("origin"),
                                                                          "seq": e.get("seq")}, edit)
    checks.check("every line is alice's at paris",
                 all(l["author"] == "alice" and l["site"] == "paris" for l in mine), mine)
    rc, none, err = export(cli, "--until", "1970-01-02")
    checks.check("export --until 1970-01-02: nothing", rc == 0 and none == [], err)
    rc, none, err = export(cli, "--since", time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                          time.gmtime(time.time() + 86400)))
    checks.check("export --since tomorrow: nothing", rc == 0 and none == [], err)
    rc, out, err = cli.run("admin", "export", "--since", "yesterday")
    checks.equal("export --since yesterday is a usage error", rc, 2)
    r = site.admin().get(ADMIN + "/export", query={"since": "2026-13-45"})
    checks.error("export of a malformed date", r, 422)
    path = os.path.join(site.node.tmp, "export.jsonl")
    with open(path, "w") as f:
        f.write("an older file, readable by all\n")
    os.chmod(path, 0o644)
    rc, out, err = cli.run("admin", "export", "--output", path)
    with open(path) as f:
        checks.equal("export --output FILE", len(f.read().splitlines()), len(lines) if rc == 0 else -1)
    checks.equal("the export FILE is its owner's only, though it was there before",
                 oct(os.stat(path).st_mode & 0o777), oct(0o600))


def own_seq(site):
    """The seq this site has of its own updates, from its clock."""
    return ((site.replication() or {}).get("clock") or {}).get(site.key, 0)


def check_restore_with_peers(checks, ruched):
    """A site restored from an old backup recovers its later posts from
    its peer before it posts again: no seq is reused, no fork."""
    with fed.Federation(checks, ruched, ["paris", "nozay"], "line", "restore") as f:
        paris, nozay = f[0], f[1]
        f.start()
        paris.admin().post_status("before the backup")
        backup = os.path.join(paris.node.tmp, "old.mdb")
        r = paris.admin().get(ADMIN + "/backup")
        checks.status("backup over the API", r, 200)
        with open(backup, "wb") as out:
            out.write(r.raw)
        later = paris.admin().post_status("after the backup")["id"]
        f.wait_converged()
        head = own_seq(paris)
        checks.equal("paris stops", paris.stop(), 0)
        sets = [a for kv in paris.settings() for a in ("--set", kv)]
        rc, err = restore(ruched, backup, "--data-dir", paris.node.data_dir, "--force", *sets)
        checks.check("restore --force with peers configured", rc == 0 and "take its own" in err, err)
        paris.start()
        post = {"status": "after the restore"}
        rt.wait_until(lambda: paris.admin().post("/api/v1/statuses", json_body=post).status == 200,
                      60, "the restored paris to accept posts")
        checks.equal("the restored paris's next post follows its last one", own_seq(paris), head + 1)
        checks.status("the restored paris has its post made after the backup",
                      paris.client().get("/api/v1/statuses/" + later), 200)
        f.wait_converged()
        checks.check("paris and nozay converge, no fork",
                     not any((p.get("rejected") or {}).get("fork")
                             for p in (nozay.replication() or {}).get("peers", [])))
        f.stop()


def run(checks, ruched, ruche, home):
    with fed.Federation(checks, ruched, ["paris", "nozay"], kind="line", label="admin") as fd:
        for s in fd.sites:
            s.peers = []  # no peers at start: add-peer makes them
            write_config(s)
        fd.start()
        clis = []
        for i, s in enumerate(fd.sites):
            cli = Cli(ruche, s, os.path.join(home, s.name))
            rc, out, err = cli.run("login", "admin", "--password-stdin",
                                   stdin=s.node.admin_password() + "\n")
            checks.equal("%s: ruche login admin" % s.name, rc, 0)
            clis.append(cli)
        alice = None
        with checks.section("users"):
            alice = check_users(checks, fd[0], clis[0])
        with checks.section("peers"):
            check_peers(checks, fd, clis, alice)
        with checks.section("backup and restore"):
            check_backup(checks, ruched, fd[0], clis[0], home)
        with checks.section("export"):
            check_export(checks, fd[0], clis[0], alice)
        fd.stop()
    with checks.section("restore at a site with peers"):
        check_restore_with_peers(checks, ruched)


def main():
    if len(sys.argv) != 3:
        print("usage: %s PATH/TO/ruched PATH/TO/ruche" % sys.argv[0], file=sys.stderr)
        sys.exit(2)
    rt.stop_on_sigterm()
    checks = rt.Checks()
    with tempfile.TemporaryDirectory(prefix="ruche_admin.") as home:
        try:
            run(checks, sys.argv[1], sys.argv[2], home)
        except Exception:
            checks.check("the test runs to its end", False, traceback.format_exc().rstrip())
    sys.exit(checks.summary())


if __name__ == "__main__":
    main()
