#!/usr/bin/python3
"""test_notify_search.py - notifications and search on a real ruched.

Starts one node with users alice, bob and carol and goes through what they
would see:

- notifications: mentions, replies (one notification, type mention, for a
  reply that also mentions), favourites, follows, none for one's own
  doings; unlike and unfollow take theirs back, a deleted status's go
  away; an edit that adds a mention notifies once; paging with limit,
  max_id, since_id, min_id and Link headers; types[] / exclude_types[] /
  account_id filters; one by id, dismiss, clear; every error as JSON;
- search (/api/v2/search, /api/v1/accounts/search): statuses by every word
  of the query with case and accent folding (French and English), the last
  word unfinished, newest first, only what the viewer may see, kept up to
  date by edits and deletes; accounts by name and display name; hashtags
  by prefix; type, limit, offset, following, account_id; every error.

Usage: test_notify_search.py PATH/TO/ruched. Prints one line per check and
"N passed, M failed"; exits non-zero if any check failed.
"""

import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ruchetest as rt  # noqa: E402

NOTIFICATION_KEYS = ("id", "type", "created_at", "account")


class World:
    """What the sections share: the node and a client per user."""

    def __init__(self, node):
        self.node = node
        self.anon = node.client()
        self.users = {}
        self.account_ids = {}

    def __getitem__(self, name):
        return self.users[name]


def notes(client, query=""):
    """The signed-in user's notifications (a list), or TestError."""
    r = client.get("/api/v1/notifications" + query)
    if r.status != 200 or not isinstance(r.json, list):
        raise rt.TestError("GET /api/v1/notifications%s: %d %s" % (query, r.status, r.brief()))
    return r.json


def summary(items):
    """[(type, actor's username, status text or None)], newest first."""
    return [(n.get("type"), (n.get("account") or {}).get("username"),
             (n.get("status") or {}).get("text")) for n in items]


def s_start(c, w):
    w.node.start()
    admin = w.anon.as_user(w.anon.login("admin", w.node.admin_password()))
    for name in ("alice", "bob", "carol", "jean-pierre"):
        r = admin.post("/api/ruche/v1/admin/users", json_body={"username": name})
        c.status("admin creates %s" % name, r, 200)
        w.users[name] = w.anon.as_user(w.anon.login(name, r.json["password"]))
        w.account_ids[name] = w.users[name].get("/api/v1/accounts/verify_credentials").json["id"]


def s_kinds(c, w):
    alice, bob, carol = w["alice"], w["bob"], w["carol"]
    c.equal("a new user has no notifications", notes(alice), [])
    post = alice.post_status("alice's first post")
    bob.post_status("hello @alice, and again @alice")
    bob.post_status("a reply without a mention", in_reply_to_id=post["id"])
    carol.post_status("@alice a reply that mentions her", in_reply_to_id=post["id"])
    alice.post_status("a note to myself @alice")
    alice.post_status("my own reply", in_reply_to_id=post["id"])
    c.status("bob likes alice's post",
             bob.post("/api/v1/statuses/%s/favourite" % post["id"]), 200)
    c.status("alice likes her own post",
             alice.post("/api/v1/statuses/%s/favourite" % post["id"]), 200)
    c.status("carol follows alice",
             carol.post("/api/v1/accounts/%s/follow" % w.account_ids["alice"]), 200)
    got = notes(alice)
    c.equal("alice's notifications, newest first", summary(got), [
        ("follow", "carol", None),
        ("favourite", "bob", "alice's first post"),
        ("mention", "carol", "@alice a reply that mentions her"),
        ("reply", "bob", "a reply without a mention"),
        ("mention", "bob", "hello @alice, and again @alice"),
    ])
    for n in got:
        c.check("a %s notification has id, type, created_at, account" % n.get("type"),
                all(k in n for k in NOTIFICATION_KEYS), n)
        c.check("its id is a decimal string", rt.ID_RE.match(str(n.get("id"))), n.get("id"))
        c.check("its created_at is a time", rt.TIME_RE.match(str(n.get("created_at"))))
    c.check("notification ids decrease down the list",
            all(int(a["id"]) > int(b["id"]) for a, b in zip(got, got[1:])), [n["id"] for n in got])
    c.check("a follow has no status", "status" not in got[0] or got[0]["status"] is None, got[0])
    c.equal("the favourite's status is alice's post", got[1]["status"]["id"], post["id"])
    c.equal("the account is the actor's", got[2]["account"]["id"], w.account_ids["carol"])
    c.equal("bob has no notifications of his own doings", notes(bob), [])

    c.status("bob unlikes", bob.post("/api/v1/statuses/%s/unfavourite" % post["id"]), 200)
    c.status("carol unfollows",
             carol.post("/api/v1/accounts/%s/unfollow" % w.account_ids["alice"]), 200)
    c.equal("unlike and unfollow take their notifications back",
            [t for t, _, _ in summary(notes(alice))], ["mention", "reply", "mention"])
    c.status("bob likes again", bob.post("/api/v1/statuses/%s/favourite" % post["id"]), 200)
    c.equal("a new like is news again", summary(notes(alice))[0],
            ("favourite", "bob", "alice's first post"))


def s_visibility(c, w):
    alice, bob, carol = w["alice"], w["bob"], w["carol"]
    gone = bob.post_status("soon gone, @carol")
    c.equal("carol is told of bob's mention", summary(notes(carol))[0][2], "soon gone, @carol")
    c.status("bob deletes it", bob.delete("/api/v1/statuses/" + gone["id"]), 200)
    c.check("a deleted status's notification goes away",
            all(n.get("status", {}).get("id") != gone["id"] for n in notes(carol)))
    secret = bob.post_status("only for you @carol", visibility="direct")
    c.equal("a direct mention notifies the user mentioned", summary(notes(carol))[0][2],
            "only for you @carol")
    c.equal("...and only them", notes(alice, "?limit=1")[0]["type"], "favourite")
    plain = bob.post_status("an edit will mention someone")
    r = bob.put("/api/v1/statuses/" + plain["id"], json_body={"status": "now with @carol"})
    c.status("bob edits his post to mention carol", r, 200)
    c.equal("the edit notifies carol", summary(notes(carol))[0],
            ("mention", "bob", "now with @carol"))
    r = bob.put("/api/v1/statuses/" + plain["id"], json_body={"status": "still with @carol"})
    c.status("bob edits it again", r, 200)
    top = notes(carol)
    c.equal("a second edit does not notify again",
            [n["status"]["id"] for n in top[:2]], [plain["id"], secret["id"]])


def s_paging(c, w):
    alice, carol = w["alice"], w["carol"]
    for i in range(25):
        alice.post_status("page %d for @carol" % i)
    everything = notes(carol, "?limit=80")
    c.check("carol has 25 and more notifications", len(everything) >= 27, len(everything))
    got, pages = rt.walk_pages(carol, "/api/v1/notifications", 10)
    c.equal("walking the Link headers by 10 gives every notification once",
            [n["id"] for n in got], [n["id"] for n in everything])
    c.check("pages of 10, then the rest, then an empty one",
            pages[-1] == 0 and all(p == 10 for p in pages[:-2]), pages)
    ids = [n["id"] for n in everything]
    c.equal("max_id: the ones older than it", [n["id"] for n in notes(
        carol, "?limit=3&max_id=" + ids[4])], ids[5:8])
    c.equal("since_id: the newest ones newer than it", [n["id"] for n in notes(
        carol, "?limit=3&since_id=" + ids[10])], ids[0:3])
    c.equal("min_id: the ones just after it, newest first", [n["id"] for n in notes(
        carol, "?limit=3&min_id=" + ids[10])], ids[7:10])
    c.equal("max_id and since_id together", [n["id"] for n in notes(
        carol, "?max_id=%s&since_id=%s" % (ids[2], ids[6]))], ids[3:6])
    c.equal("a limit over 80 gives 80 at most", len(notes(carol, "?limit=500")),
            min(80, len(everything)))
    r = carol.get("/api/v1/notifications?limit=2")
    links = rt.link_targets(r)
    c.check("the Link header has next and prev", "next" in links and "prev" in links, links)
    nxt = urllib.parse.parse_qs(urllib.parse.urlsplit(links.get("next", "")).query)
    c.equal("next asks for what is older than the page", nxt.get("max_id"), [ids[1]])


def s_filters(c, w):
    alice = w["alice"]
    c.equal("types[]=favourite&types[]=follow (repeated form keys)",
            sorted({n["type"] for n in notes(alice, "?types[]=favourite&types[]=follow")}),
            ["favourite"])
    c.equal("types=reply", {n["type"] for n in notes(alice, "?types=reply")}, {"reply"})
    c.check("exclude_types[]=mention",
            "mention" not in {n["type"] for n in notes(alice, "?exclude_types[]=mention")})
    c.equal("a type this node never makes is ignored in exclude_types",
            len(notes(alice, "?exclude_types[]=reblog&exclude_types[]=poll")), len(notes(alice)))
    c.equal("only unknown types: nothing", notes(alice, "?types[]=reblog"), [])
    r = alice.get("/api/v1/notifications", json_body={"types": ["reply"]})
    c.equal("types as a JSON list", {n["type"] for n in (r.json or [])}, {"reply"})
    got = notes(alice, "?account_id=" + w.account_ids["carol"])
    c.check("account_id keeps that actor's only",
            got and all(n["account"]["username"] == "carol" for n in got), summary(got))


def s_one_and_dismiss(c, w):
    carol, alice = w["carol"], w["alice"]
    first = notes(carol)[0]
    r = carol.get("/api/v1/notifications/" + first["id"])
    c.status("GET one notification", r, 200)
    c.equal("it is the same as in the list", r.json, first)
    c.error("another user's notification is not found",
            alice.get("/api/v1/notifications/" + first["id"]), 404)
    c.status("dismiss it", carol.post("/api/v1/notifications/%s/dismiss" % first["id"]), 200)
    c.error("a dismissed notification is gone", carol.get("/api/v1/notifications/" + first["id"]),
            404)
    c.check("and not listed", first["id"] not in [n["id"] for n in notes(carol, "?limit=80")])
    c.error("dismissing it again", carol.post("/api/v1/notifications/%s/dismiss" % first["id"]),
            404)
    c.status("clear all", carol.post("/api/v1/notifications/clear"), 200)
    c.equal("nothing left after clear", notes(carol), [])
    c.check("alice's are untouched", len(notes(alice)) > 0)


def s_errors(c, w):
    anon, alice = w.anon, w["alice"]
    c.error("the list without a token", anon.get("/api/v1/notifications"), 401)
    c.error("one without a token", anon.get("/api/v1/notifications/1"), 401)
    c.error("clear without a token", anon.post("/api/v1/notifications/clear"), 401)
    c.error("dismiss without a token", anon.post("/api/v1/notifications/1/dismiss"), 401)
    for q in ("max_id=abc", "since_id=-1", "min_id=99999999999999999999999", "limit=0",
              "limit=x", "account_id=zz"):
        c.error("a bad parameter %s" % q, alice.get("/api/v1/notifications?" + q), 422)
    for bad in ("abc", "0x10", "123456789012345678901234", "-5"):
        c.error("a notification id %r" % bad, alice.get("/api/v1/notifications/" + bad), 404)
    c.error("a method not allowed", alice.delete("/api/v1/notifications"), 405)


def search(client, q, **params):
    """The answer of /api/v2/search for q (a dict), or TestError."""
    params["q"] = q
    r = client.get("/api/v2/search", query=params)
    if r.status != 200 or not isinstance(r.json, dict):
        raise rt.TestError("search %r: %d %s" % (q, r.status, r.brief()))
    return r.json


def texts(answer):
    return [st.get("text") for st in answer.get("statuses", [])]


def s_search_statuses(c, w):
    alice, bob, anon = w["alice"], w["bob"], w.anon
    first = alice.post_status("Réunion à l'École demain, salle Bâtiment #Rentrée")
    bob.post_status("La RÉUNION du comité : cœur du sujet")
    bob.post_status("réunion secrète", visibility="private")
    bob.post_status("Œuvres complètes de Molière")
    last = alice.post_status("Meeting at the CAFÉ: naïve coöperation")
    got = search(anon, "reunion")
    c.check("the answer has accounts, statuses and hashtags lists",
            all(isinstance(got.get(k), list) for k in ("accounts", "statuses", "hashtags")), got)
    c.equal("'reunion' finds both public reunions, newest first", texts(got), [
        "La RÉUNION du comité : cœur du sujet",
        "Réunion à l'École demain, salle Bâtiment #Rentrée"])
    c.equal("nobody signed in: no private status", "réunion secrète" in texts(got), False)
    c.equal("bob sees his private one too", texts(search(bob, "Réunion"))[0], "réunion secrète")
    c.equal("alice (not a follower) does not", "réunion secrète" in texts(search(alice, "reunion")),
            False)
    for q, want in (("ÉCOLE", first["text"]), ("coeur", "La RÉUNION du comité : cœur du sujet"),
                    ("oeuvres moliere", "Œuvres complètes de Molière"),
                    ("batiment salle", first["text"]), ("cafe naive", last["text"]),
                    ("cooperation", last["text"]), ("rentree", first["text"]),
                    ("reunion demain sal", first["text"])):
        c.equal("search %r" % q, texts(search(anon, q, type="statuses")), [want])
    c.equal("every word must be there", texts(search(anon, "reunion moliere")), [])
    c.equal("a word that is nowhere", texts(search(anon, "xylophone")), [])
    c.equal("type=accounts leaves statuses out", texts(search(anon, "reunion", type="accounts")),
            [])
    c.equal("limit=1", len(search(anon, "reunion", limit=1)["statuses"]), 1)
    c.equal("offset=1", texts(search(anon, "reunion", offset=1)),
            ["Réunion à l'École demain, salle Bâtiment #Rentrée"])
    c.equal("account_id keeps that author's",
            texts(search(anon, "reunion", account_id=w.account_ids["alice"])),
            ["Réunion à l'École demain, salle Bâtiment #Rentrée"])
    c.equal("a status's address finds it", texts(search(anon, last["url"])), [last["text"]])
    c.equal("so does its address at another site, in the /@user/ID form",
            texts(search(anon, "https://nozay.example/@alice/%s?x=1" % last["id"])),
            [last["text"]])
    c.equal("the address of an unknown status finds nothing",
            texts(search(anon, "https://nozay.example/statuses/12345")), [])
    r = alice.put("/api/v1/statuses/" + first["id"], json_body={"status": "Déjeuner au jardin"})
    c.status("alice edits her post", r, 200)
    c.equal("the old words no longer find it", texts(search(anon, "ecole")), [])
    c.equal("the new ones do", texts(search(anon, "dejeuner")), ["Déjeuner au jardin"])
    c.status("alice deletes it", alice.delete("/api/v1/statuses/" + first["id"]), 200)
    c.equal("a deleted status is not found", texts(search(anon, "jardin")), [])


def s_search_accounts(c, w):
    alice, bob, anon = w["alice"], w["bob"], w.anon
    got = search(anon, "ali", type="accounts")["accounts"]
    c.equal("accounts by name prefix", [a.get("acct") for a in got], ["alice"])
    c.check("an account has its id, username, acct", all(
        k in got[0] for k in ("id", "username", "acct", "display_name")), got)
    c.equal("@alice finds alice", [a["acct"] for a in search(anon, "@alice")["accounts"]],
            ["alice"])
    c.equal("alice@<this site> finds alice",
            [a["acct"] for a in search(anon, "alice@notifytest")["accounts"]], ["alice"])
    c.equal("a name at an unknown site finds nobody",
            search(anon, "alice@nowhere")["accounts"], [])
    c.equal("jean-pierre, who never posted, is found by either part of his name", [
        [a["acct"] for a in search(anon, q, type="accounts")["accounts"]]
        for q in ("jean", "pierre", "jean-pi")], [["jean-pierre"]] * 3)
    c.status("bob follows alice", bob.post("/api/v1/accounts/%s/follow" % w.account_ids["alice"]),
             200)
    c.equal("following=true: only those the viewer follows", [
        a["acct"] for a in search(bob, "a", type="accounts", following="true")["accounts"]],
        ["alice"])
    r = anon.get("/api/v1/accounts/search", query={"q": "bo"})
    c.status("GET /api/v1/accounts/search", r, 200)
    c.equal("it lists accounts", [a.get("acct") for a in (r.json or [])], ["bob"])
    c.equal("limit on /api/v1/accounts/search", len(anon.get(
        "/api/v1/accounts/search", query={"q": "a", "limit": 1}).json or []), 1)


def s_search_tags(c, w):
    bob, anon = w["bob"], w.anon
    bob.post_status("#Café #cafeteria #jardinage")
    got = search(anon, "#caf", type="hashtags")["hashtags"]
    c.equal("hashtags by prefix, folded", [t.get("name") for t in got], ["café", "cafeteria"])
    c.check("a tag has name, url, history",
            all(isinstance(t.get("url"), str) and t.get("history") == [] for t in got), got)
    c.equal("without '#' too", [t["name"] for t in search(anon, "jardin")["hashtags"]],
            ["jardinage"])
    c.equal("a tag of a deleted status only is gone",
            [t["name"] for t in search(anon, "rentr")["hashtags"]], [])
    r = anon.get("/api/v1/timelines/tag/jardinage")
    c.equal("its tag timeline", [st.get("text") for st in (r.json or [])],
            ["#Café #cafeteria #jardinage"])


def s_search_index(c, w):
    """Past 256 statuses the older ones are searched through the words
    index rather than read one by one: the same answers."""
    bob, anon = w["bob"], w.anon
    comite = texts(search(anon, "comite"))
    c.equal("before: the comité post is found", comite, ["La RÉUNION du comité : cœur du sujet"])
    posted = [bob.post_status("bulk number %d" % i)["id"] for i in range(300)]
    got = search(anon, "bulk", limit=40)["statuses"]
    c.equal("the newest 40 of 300, newest first", [st["id"] for st in got], posted[::-1][:40])
    got = search(anon, "bulk number", limit=40, offset=280)["statuses"]
    c.equal("offset 280: the oldest 20", [st["id"] for st in got], posted[::-1][280:])
    c.equal("an old status, now indexed, is still found", texts(search(anon, "comite")), comite)
    c.equal("'number 7' finds 7 and 70-79", sorted(texts(search(anon, "number 7")),
                                                   key=lambda t: int(t.split()[-1])),
            ["bulk number %d" % i for i in [7] + list(range(70, 80))])
    old = search(anon, "comite")["statuses"][0]["id"]
    c.status("bob edits the indexed post", bob.put("/api/v1/statuses/" + old, json_body={
        "status": "Comité reporté"}), 200)
    c.equal("the edit shows in the index", texts(search(anon, "comite report")), ["Comité reporté"])
    c.equal("the old words are gone", texts(search(anon, "coeur sujet")), [])
    c.status("bob deletes it", bob.delete("/api/v1/statuses/" + old), 200)
    c.equal("a deleted indexed post is not found", texts(search(anon, "comite")), [])
    c.status("bob deletes a bulk post", bob.delete("/api/v1/statuses/" + posted[0]), 200)
    c.equal("...and it is gone from the results", len(search(anon, "bulk", limit=40,
                                                             offset=280)["statuses"]), 19)


def s_search_errors(c, w):
    anon = w.anon
    c.error("search without q", anon.get("/api/v2/search"), 400)
    c.error("search with an empty q", anon.get("/api/v2/search?q="), 400)
    c.error("an unknown type", anon.get("/api/v2/search?q=x&type=people"), 400)
    c.error("a bad limit", anon.get("/api/v2/search?q=x&limit=0"), 422)
    c.error("a bad offset", anon.get("/api/v2/search?q=x&offset=-1"), 422)
    c.error("a bad account_id", anon.get("/api/v2/search?q=x&account_id=abc"), 422)
    c.error("a q too long", anon.get("/api/v2/search", query={"q": "a" * 1001}), 422)
    c.error("a q that is not UTF-8", anon.get("/api/v2/search?q=%ff"), 400)
    c.error("accounts/search without q", anon.get("/api/v1/accounts/search"), 400)
    c.error("POST to search", anon.post("/api/v2/search?q=x"), 405)
    for q in ("%", "#", "@", "@@@", "'", " ", "#@", "a" * 1000):
        r = anon.get("/api/v2/search", query={"q": q})
        c.check("an odd q %r is answered" % q[:10], r.status in (200, 400), r.brief())
    c.error("a q with a NUL byte", anon.get("/api/v2/search", query={"q": "\u0000"}), 422)


def run(c, ruched):
    with rt.Node(ruched, site="notifytest") as node:
        w = World(node)
        with c.section("start"):
            s_start(c, w)
        if not node.running:
            raise rt.TestError("the node did not start")
        for name, fn in (("notification kinds", s_kinds), ("visibility and edits", s_visibility),
                         ("paging", s_paging), ("filters", s_filters),
                         ("one, dismiss, clear", s_one_and_dismiss), ("errors", s_errors),
                         ("search statuses", s_search_statuses),
                         ("search accounts", s_search_accounts),
                         ("search hashtags", s_search_tags), ("search index", s_search_index),
                         ("search errors", s_search_errors)):
            with c.section(name):
                fn(c, w)
        c.check("every response was JSON", not w.anon.non_json, w.anon.non_json[:10])
        c.equal("SIGTERM stops the node with exit status 0", node.stop(), 0)
        c.check("no sanitizer report in the node's log", not node.sanitizer_reports(),
                node.sanitizer_reports()[:5])


if __name__ == "__main__":
    rt.main_wrapper(run)
