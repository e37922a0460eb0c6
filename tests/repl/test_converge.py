#!/usr/bin/python3
"""test_converge.py - real ruched processes replicating over ZeroMQ on
loopback converge, whatever the topology, the concurrency and the crashes.

1. Three nodes in a mesh. On every node at once, two users post, reply to
   and like other sites' statuses, take likes back, edit and delete their
   own statuses, follow users of other sites, and join and post in a group
   created on the first node. Then every node must reach the same clock and
   digest within a deadline, nothing pending, and show every acknowledged
   status (same id everywhere) with its last text, 404 for the deleted
   ones, the same counts, the same public and group timelines and the same
   account counts, and each node's instance information counts its own
   live statuses; each node lists its peers as connected, none behind.
2. The same mesh: one node gets SIGKILL in the middle of posting on every
   node, and is started again. It catches up; nothing any node
   acknowledged is lost, and its next post takes a seq above all it had
   acknowledged (no seq reused).
3. A line A-B-C, with a site name holding a dot: A's posts reach C through
   B although C is not linked to A (each trusts the other by a [peer]
   section with its key alone), and C's reach A.
4. Five nodes in a mesh, and five in a line, with posts on every node:
   all converge.

In every topology each site also trusts the sites it is not linked to, by
their key alone (fed.py), as a company's sites would all know each other.

Every node is stopped with SIGTERM at the end of its scenario and must exit
with 0. Usage: test_converge.py PATH/TO/ruched; prints one line per check
and "N passed, M failed", exits non-zero if any check failed.
"""

import http.client
import os
import random
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fed  # noqa: E402
import ruchetest as rt  # noqa: E402

OPS = 30  # operations per user of a site in the mesh scenario
SCHEDULE = ("post", "reply", "post", "like", "edit", "follow", "group", "delete", "like", "unlike")
KILL_AFTER = 40  # posts the victim acknowledges before its SIGKILL
AFTER_KILL = 15  # posts each other site makes after the kill


class Ledger:
    """Every acknowledged status and what it must look like in the end."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = {}  # id -> {"site", "user", "seq", "origin", "text", "deleted", "kind"}
        self.likers = {}  # id -> set of (site, user)
        self.follows = set()  # (site, user, acct followed)

    def add(self, site, st, kind):
        with self.lock:
            self.statuses[st["id"]] = {
                "site": site.name, "user": (st.get("account") or {}).get("username"),
                "origin": site.key, "seq": st.get("ruche", {}).get("seq"),
                "text": st.get("text"), "deleted": False, "kind": kind}

    def others(self, site_name):
        """Ids of live statuses made on other sites."""
        with self.lock:
            return [i for i, s in self.statuses.items()
                    if s["site"] != site_name and not s["deleted"]]

    def set(self, status_id, **values):
        with self.lock:
            self.statuses[status_id].update(values)

    def snapshot(self):
        with self.lock:
            return {i: dict(s) for i, s in self.statuses.items()}


class Actor:
    """One user of one site, doing the SCHEDULE's operations in turn."""

    def __init__(self, site, username, client, ledger, group_creator):
        self.site = site
        self.username = username
        self.client = client
        self.ledger = ledger
        self.group_creator = group_creator
        self.rng = random.Random("%s %s" % (site.name, username))
        self.mine = []  # ids of this user's live statuses
        self.liked = []

    def run(self, ops):
        for i in range(ops):
            op = SCHEDULE[i % len(SCHEDULE)]
            getattr(self, "op_" + op)(i)

    def text(self, i, what):
        return "%s %s %s %d #fed" % (self.site.name, self.username, what, i)

    def _post(self, body, kind):
        r = self.client.post("/api/v1/statuses", json_body=body)
        if r.status != 200 or not isinstance(r.json, dict) or "id" not in r.json:
            raise rt.TestError("%s: post %r: %d %s" % (self.site.name, body, r.status, r.brief()))
        self.ledger.add(self.site, r.json, kind)
        self.mine.append(r.json["id"])
        return r.json

    def op_post(self, i):
        self._post({"status": self.text(i, "post")}, "post")

    def _on_remote(self, fn):
        """fn(id) on up to six random live statuses of other sites, until
        one answers 200 (this node has it); that id, or None."""
        ids = self.ledger.others(self.site.name)
        for sid in self.rng.sample(ids, min(len(ids), 6)):
            r = fn(sid)
            if r.status == 200:
                return sid
            if r.status != 404:  # 404: not replicated here yet, or deleted
                raise rt.TestError("%s: %d %s" % (self.site.name, r.status, r.brief()))
        return None

    def op_reply(self, i):
        def reply(sid):
            r = self.client.post("/api/v1/statuses", json_body={
                "status": self.text(i, "reply"), "in_reply_to_id": sid})
            if r.status == 200:
                self.ledger.add(self.site, r.json, "reply")
                self.mine.append(r.json["id"])
            return r
        self._on_remote(reply)

    def op_like(self, i):
        sid = self._on_remote(lambda s: self.client.post("/api/v1/statuses/%s/favourite" % s))
        if sid:
            self.liked.append(sid)
            with self.ledger.lock:
                self.ledger.likers.setdefault(sid, set()).add((self.site.name, self.username))

    def op_unlike(self, i):
        if not self.liked:
            return
        sid = self.liked.pop(self.rng.randrange(len(self.liked)))
        r = self.client.post("/api/v1/statuses/%s/unfavourite" % sid)
        if r.status == 200:
            with self.ledger.lock:
                self.ledger.likers.get(sid, set()).discard((self.site.name, self.username))
        elif r.status != 404:
            raise rt.TestError("%s: unfavourite: %d %s" % (self.site.name, r.status, r.brief()))

    def op_edit(self, i):
        if not self.mine:
            return
        sid = self.rng.choice(self.mine)
        text = self.text(i, "edited")
        r = self.client.put("/api/v1/statuses/%s" % sid, json_body={"status": text})
        if r.status != 200:
            raise rt.TestError("%s: edit %s: %d %s" % (self.site.name, sid, r.status, r.brief()))
        self.ledger.set(sid, text=text)

    def op_delete(self, i):
        if len(self.mine) < 2:
            return
        sid = self.mine.pop(self.rng.randrange(len(self.mine)))
        r = self.client.delete("/api/v1/statuses/%s" % sid)
        if r.status != 200:
            raise rt.TestError("%s: delete %s: %d %s" % (self.site.name, sid, r.status, r.brief()))
        self.ledger.set(sid, deleted=True)

    def op_follow(self, i):
        """Follows the author of a status of another site."""
        account = {}

        def author(sid):
            r = self.client.get("/api/v1/statuses/%s" % sid)
            account.update((r.json or {}).get("account") or {} if r.status == 200 else {})
            return r
        if not self._on_remote(author):
            return
        acct = account.get("acct")
        f = self.client.post("/api/v1/accounts/%s/follow" % account.get("id"))
        if f.status != 200 or not (f.json or {}).get("following"):
            raise rt.TestError("%s: follow %s: %d %s" % (self.site.name, acct, f.status, f.brief()))
        with self.ledger.lock:
            self.ledger.follows.add((self.site.name, self.username, acct))

    def op_group(self, i):
        """The group's creator makes it; the others join it once it has
        arrived and then post in it."""
        if self.group_creator and i == SCHEDULE.index("group"):
            r = self.client.post("/api/ruche/v1/groups", json_body={
                "name": "crew", "description": "the federation test group"})
            if r.status != 200:
                raise rt.TestError("%s: create group: %d %s"
                                   % (self.site.name, r.status, r.brief()))
            return
        r = self.client.get("/api/ruche/v1/groups")
        group = [g for g in (r.json or []) if g.get("name") == "crew"] if r.status == 200 else []
        if not group:
            return
        gid = group[0]["id"]
        if not group[0].get("member"):
            j = self.client.post("/api/ruche/v1/groups/%s/join" % gid)
            if j.status != 200:
                raise rt.TestError("%s: join: %d %s" % (self.site.name, j.status, j.brief()))
        self._post_group(gid, i)

    def _post_group(self, gid, i):
        r = self.client.post("/api/ruche/v1/groups/%s/statuses" % gid,
                             json_body={"status": self.text(i, "in crew")})
        if r.status != 200 or "id" not in (r.json or {}):
            raise rt.TestError("%s: group post: %d %s" % (self.site.name, r.status, r.brief()))
        self.ledger.add(self.site, r.json, "group")
        self.mine.append(r.json["id"])


def run_actors(actors, ops):
    """Runs every actor in its own thread; raises the first error."""
    fed.parallel(lambda a: a.run(ops), actors)


# ---------------------------------------------------------------------
# What every node must show


def projection(st):
    """The parts of a Status that must be equal on every node."""
    ruche = st.get("ruche") or {}
    group = ruche.get("group") or {}
    return (st.get("id"), st.get("text"), st.get("created_at"), st.get("edited_at"),
            st.get("in_reply_to_id"), st.get("visibility"), st.get("favourites_count"),
            st.get("replies_count"), (st.get("account") or {}).get("username"),
            ruche.get("site"), ruche.get("origin"), ruche.get("seq"), group.get("id"))


def check_statuses(c, label, sites, ledger):
    """Every status of the ledger on every site: its text, or 404 once
    deleted; the same projection everywhere; likes as the ledger says."""
    want = ledger.snapshot()
    with ledger.lock:
        likes = {i: len(s) for i, s in ledger.likers.items()}

    def fetch(site):
        cl = site.admin()
        return {sid: cl.get("/api/v1/statuses/%s" % sid) for sid in want}

    seen = fed.parallel(fetch, sites)
    views = []
    for site, got in zip(sites, seen):
        bad, view = [], {}
        for sid, w in want.items():
            r = got[sid]
            if w["deleted"]:
                if r.status != 404:
                    bad.append("%s (deleted): %d" % (sid, r.status))
                continue
            st = r.json if r.status == 200 and isinstance(r.json, dict) else {}
            ru = st.get("ruche") or {}
            if (st.get("text"), ru.get("site"), ru.get("origin"), ru.get("seq")) != (
                    w["text"], w["site"], w["origin"], w["seq"]):
                bad.append("%s: %d %s, expected %r from %s seq %s"
                           % (sid, r.status, r.brief(200), w["text"], w["site"], w["seq"]))
            elif sid in likes and st.get("favourites_count") != likes[sid]:
                bad.append("%s: favourites_count %r, expected %d"
                           % (sid, st.get("favourites_count"), likes[sid]))
            view[sid] = projection(st)
        c.check("%s: %s shows all %d statuses as their origin acknowledged them"
                % (label, site.name, len(want)), not bad, "; ".join(bad[:5]))
        views.append(view)
    diff = [sid for sid in views[0] if any(v.get(sid) != views[0][sid] for v in views[1:])]
    c.check("%s: every status looks the same on every node" % label, not diff,
            [[v.get(sid) for v in views] for sid in diff[:3]])


def check_timelines(c, label, sites, ledger):
    """The public timeline, walked page by page, is the same everywhere
    and holds every live top-level post."""
    lists = fed.parallel(lambda s: [st["id"] for st in rt.walk_pages(
        s.client(), "/api/v1/timelines/public", 40)[0]], sites)
    c.check("%s: the public timeline is the same on every node (%d statuses)"
            % (label, len(lists[0])), all(lst == lists[0] for lst in lists[1:]),
            [len(lst) for lst in lists])
    posts = {i for i, s in ledger.snapshot().items() if s["kind"] == "post" and not s["deleted"]}
    c.check("%s: the public timeline holds every live post" % label, posts <= set(lists[0]),
            sorted(posts - set(lists[0]))[:5])


def _users(ledger):
    """{(home site, username): id of a live status of theirs}."""
    out = {}
    for sid, w in ledger.snapshot().items():
        if not w["deleted"]:
            out[(w["site"], w["user"])] = sid
    return out


def check_accounts(c, label, sites, ledger):
    """Each user's counts are the same on every node (the account found
    through one of the user's statuses)."""
    bad = []
    for (home, username), sid in sorted(_users(ledger).items()):
        views = []
        for s in sites:
            st = s.admin().get("/api/v1/statuses/%s" % sid).json or {}
            r = s.admin().get("/api/v1/accounts/%s" % (st.get("account") or {}).get("id"))
            a = r.json if r.status == 200 and isinstance(r.json, dict) else {}
            views.append((r.status, a.get("username"), a.get("followers_count"),
                          a.get("following_count"), a.get("statuses_count")))
        if any(v != views[0] for v in views[1:]) or views[0][0] != 200:
            bad.append("%s@%s: %s" % (username, home, views))
    c.check("%s: every user's follower, following and status counts agree" % label, not bad,
            "; ".join(bad[:4]))


def check_instance(c, label, sites, ledger):
    """Each node's instance information counts its own live statuses, the
    replicated ones of others left out, and every other site."""
    got, want = [], []
    for s in sites:
        stats = (s.admin().get("/api/v1/instance").json or {}).get("stats") or {}
        got.append((s.name, stats.get("status_count"), stats.get("domain_count")))
        want.append((s.name, sum(1 for w in ledger.snapshot().values()
                                 if w["site"] == s.name and not w["deleted"]), len(sites) - 1))
    c.equal("%s: each site's instance counts its live statuses and the other sites" % label,
            got, want)


def check_lookup(c, label, sites, ledger):
    """GET /api/v1/accounts/lookup?acct=name@site finds the users of the
    other sites."""
    for s in sites:
        bad = []
        for home, username in sorted(_users(ledger)):
            if home == s.name:
                continue
            acct = "%s@%s" % (username, home)
            r = s.admin().get("/api/v1/accounts/lookup", query={"acct": acct})
            if r.status != 200 or (r.json or {}).get("acct") != acct:
                bad.append("%s: %d %s" % (acct, r.status, r.brief(80)))
        c.check("%s: %s looks up the other sites' users by name@site" % (label, s.name), not bad,
                "; ".join(bad[:3]))


def check_group(c, label, sites):
    """The group exists everywhere with one id, one member count, one
    timeline."""
    views = []
    for s in sites:
        r = s.admin().get("/api/ruche/v1/groups")
        g = [x for x in (r.json or []) if x.get("name") == "crew"] if r.status == 200 else []
        if not g:
            views.append(None)
            continue
        path = "/api/ruche/v1/groups/%s/timeline" % g[0]["id"]
        ids = [st["id"] for st in rt.walk_pages(s.admin(), path, 40)[0]]
        views.append((g[0]["id"], g[0].get("members_count"), ids))
    c.check("%s: the group has one id, member count and timeline everywhere" % label,
            views[0] is not None and all(v == views[0] for v in views[1:]),
            [(v[0], v[1], len(v[2])) if v else None for v in views])


def check_peers(c, label, f):
    """Once converged, each node lists exactly its configured peers; those
    it is linked to are connected, neither behind nor ahead, with its own
    digest; the others, known by their key alone, are not connected."""
    def settled(s):
        st = s.replication() or {}
        peers = st.get("peers") or []
        if sorted(p.get("site") for p in peers) != sorted(p[0] for p in s.peers):
            return False
        for p in peers:
            if p.get("site") not in s.linked():
                if p.get("connected"):
                    return False
            elif not (p.get("connected") and p.get("behind") == 0 and p.get("ahead") == 0
                      and p.get("digest") == st.get("digest")):
                return False
        return True

    try:
        ok = fed.wait_until(lambda: all(settled(s) for s in f.running()), 15, "peers in sync")
    except rt.TestError:
        ok = False
    c.check("%s: every node lists its peers; the linked ones connected, 0 behind, 0 ahead, "
            "same digest" % label, ok,
            [(s.name, (s.replication() or {}).get("peers")) for s in f.running()
             if not settled(s)][:1])


def converge(c, label, f, timeout=fed.CONVERGE_TIMEOUT):
    """Waits for f to converge; one check. The common state, or None."""
    try:
        state = f.wait_converged(timeout=timeout)
    except rt.TestError as e:
        c.check("%s: all nodes converge" % label, False, str(e))
        return None
    c.check("%s: all nodes converge (clock %s)" % (label, sorted(
        (f.names().get(k, k), v) for k, v in state["clock"].items())), True)
    return state


# ---------------------------------------------------------------------
# Scenarios


def mesh_traffic(c, f):
    """Scenario 1; returns the ledger for scenario 2."""
    f.require_replication()
    ledger = Ledger()
    actors = [Actor(s, u, s.new_user(u), ledger, s is f[0] and u == "alice")
              for s in f.sites for u in ("alice", "bob")]
    run_actors(actors, OPS)
    c.check("mesh3: %d statuses acknowledged, %d deleted, %d likes, %d follows"
            % (len(ledger.statuses), sum(s["deleted"] for s in ledger.statuses.values()),
               sum(len(v) for v in ledger.likers.values()), len(ledger.follows)),
            len(ledger.statuses) >= len(actors) * OPS // 4 and ledger.likers and ledger.follows)
    if converge(c, "mesh3", f):
        check_statuses(c, "mesh3", f.sites, ledger)
        check_timelines(c, "mesh3", f.sites, ledger)
        check_accounts(c, "mesh3", f.sites, ledger)
        check_instance(c, "mesh3", f.sites, ledger)
        check_lookup(c, "mesh3", f.sites, ledger)
        check_group(c, "mesh3", f.sites)
        check_peers(c, "mesh3", f)
    return ledger


class Poster(threading.Thread):
    """Posts on one site until told to stop or the node goes away; counts
    what was acknowledged."""

    def __init__(self, site, client, ledger, stop):
        super().__init__(daemon=True)
        self.site, self.client, self.ledger, self.stop = site, client, ledger, stop
        self.acked = []  # statuses
        self.error = None

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                r = self.client.post("/api/v1/statuses", json_body={
                    "status": "%s crash-phase %d" % (self.site.name, n)})
            except (OSError, http.client.HTTPException):
                return  # the node was killed with this post in flight
            if r.status == 200:
                self.ledger.add(self.site, r.json, "post")
                self.acked.append(r.json)
            elif not self.stop.is_set():
                self.error = "%d %s" % (r.status, r.brief())
                return


def mesh_kill(c, f, ledger):
    """Scenario 2."""
    victim = f[1]
    stop_victim, stop_others = threading.Event(), threading.Event()
    posters = [Poster(s, s.admin(), ledger, stop_victim if s is victim else stop_others)
               for s in f.sites]
    for p in posters:
        p.start()
    vp = posters[1]
    try:
        fed.wait_until(lambda: len(vp.acked) >= KILL_AFTER or not vp.is_alive(), 60,
                       "%d posts on %s" % (KILL_AFTER, victim.name))
        victim.kill()
        marks = [len(p.acked) for p in posters]
        fed.wait_until(lambda: all(len(p.acked) >= m + AFTER_KILL or not p.is_alive()
                                   for p, m in zip(posters, marks) if p is not vp), 60,
                       "posts on the other sites")
    finally:
        stop_victim.set()
        stop_others.set()
        for p in posters:
            p.join(60)
    c.check("kill: every poster ran without error", all(p.error is None for p in posters),
            [p.error for p in posters])
    acked_seq = max((st["ruche"]["seq"] for st in vp.acked), default=0)
    victim.start()
    if not converge(c, "kill: after %s's restart" % victim.name, f):
        return
    state = victim.replication()
    c.check("kill: %s's own clock entry covers its %d acknowledged posts (seq %d)"
            % (victim.name, len(vp.acked), acked_seq),
            state["clock"].get(victim.key, 0) >= acked_seq, state["clock"].get(victim.key))
    check_statuses(c, "kill", f.sites, ledger)
    after = victim.admin().post_status("%s after the restart" % victim.name)
    c.check("kill: %s's next post takes a new seq (%s > %d)"
            % (victim.name, after["ruche"]["seq"], state["clock"].get(victim.key, 0)),
            after["ruche"]["seq"] > state["clock"].get(victim.key, 0) >= acked_seq)
    ledger.add(victim, after, "post")
    if converge(c, "kill: the post made after the restart", f):
        check_statuses(c, "kill: in the end", f.sites, ledger)


def post_round(f, ledger, per_site, sites=None):
    """per_site posts on each of sites (default: all), all sites at once."""
    def posts(s):
        cl = s.admin()
        for n in range(per_site):
            ledger.add(s, cl.post_status("%s round post %d" % (s.name, n)), "post")
    fed.parallel(posts, sites or f.sites)


def line3(c, ruched):
    """Scenario 3."""
    with fed.Federation(c, ruched, ["lyon", "eu.oslo", "rome"], "line", "line3") as f:
        f.start()
        f.require_replication()
        a, b, cc = f.sites
        ledger = Ledger()
        post_round(f, ledger, 10, [a])
        c_has = lambda: (cc.replication() or {}).get("clock", {}).get(a.key, 0) >= 10  # noqa
        try:
            fed.wait_until(c_has, fed.CONVERGE_TIMEOUT, "lyon's posts at rome")
            reached = True
        except rt.TestError as e:
            reached = False
            detail = "%s\n%s" % (e, f.describe(f.sites, f.states()))
        if c.check("line3: lyon's 10 posts reach rome through eu.oslo", reached,
                   None if reached else detail):
            lyon = cc.peer_status("lyon") or {}
            c.check("line3: rome never heard from lyon directly", lyon.get("site") == "lyon"
                    and not lyon.get("connected") and lyon.get("last_heartbeat") is None, lyon)
            post_round(f, ledger, 8)
            if converge(c, "line3", f):
                check_statuses(c, "line3", f.sites, ledger)
                check_peers(c, "line3", f)
        f.stop()


def five(c, ruched, kind):
    """Scenario 4 for one topology."""
    label = "%s5" % kind
    names = ["paris", "nozay", "murray-hill", "eu.lannion", "oslo"]
    with fed.Federation(c, ruched, names, kind, label) as f:
        f.start()
        f.require_replication()
        ledger = Ledger()
        post_round(f, ledger, 8)
        if converge(c, label, f):
            check_statuses(c, label, f.sites, ledger)
            check_timelines(c, label, f.sites, ledger)
            check_peers(c, label, f)
        f.stop()


def run(c, ruched):
    with c.section("mesh of three: concurrent traffic, then kill -9"):
        with fed.Federation(c, ruched, ["paris", "nozay", "murray.hill"], "mesh", "mesh3") as f:
            f.start()
            ledger = mesh_traffic(c, f)
            mesh_kill(c, f, ledger)
            f.stop()
    with c.section("line of three"):
        line3(c, ruched)
    with c.section("mesh of five"):
        five(c, ruched, "mesh")
    with c.section("line of five"):
        five(c, ruched, "line")


if __name__ == "__main__":
    rt.main_wrapper(run)
