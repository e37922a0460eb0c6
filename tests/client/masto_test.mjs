// masto_test.mjs - masto.js, a real Mastodon client library, against a real
// ruched: register an app, get tokens through the authorization code flow
// (the login page driven with plain HTTP, as a browser would post it) and
// the password grant, verify credentials, post and reply, page the home
// timeline through Link headers, favourite, upload a photo with masto's
// media API (v2, which polls until the node has processed it), give it
// alt text and post it, read it back as another user (blurhash, meta,
// description), read it at a second site once it has travelled there
// (its thumbnail and file served by that site, the same bytes), edit the
// profile with updateCredentials (display name, note, fields, the photo
// as avatar), receive an update over the streaming API, and revoke.
//
// Run by test_masto.py, which starts two sites, paris and nozay, peered,
// and passes RUCHE_URL and RUCHE_ADMIN_PASSWORD (paris), RUCHE_PEER_URL
// and RUCHE_PEER_ADMIN_PASSWORD (nozay) and RUCHE_PHOTO (a JPEG it made). Prints "ok: NAME" or "FAILED: NAME: DETAIL" per
// check; exits 0 when it ran to its end (the wrapper counts the checks).

import fs from "node:fs";

import { createOAuthAPIClient, createRestAPIClient, createStreamingAPIClient } from "masto";
import { WebSocket } from "ws";

const url = process.env.RUCHE_URL;
const adminPassword = process.env.RUCHE_ADMIN_PASSWORD;
const redirectUri = "https://client.example/callback";
const scopes = "read write follow";
// The admin's token also adds users: an administrators' endpoint, which
// needs admin:write as Mastodon's do.
const adminScopes = `${scopes} admin:write`;
const STREAM_TIMEOUT_MS = 20000;
const PHOTO = process.env.RUCHE_PHOTO;
const PHOTO_SIDES = [1600, 1200]; // as test_masto.py makes it
const peerUrl = process.env.RUCHE_PEER_URL;
const peerPassword = process.env.RUCHE_PEER_ADMIN_PASSWORD;
const TRAVEL_TIMEOUT_MS = 60000; // for a status and its files to reach the other site

function check(name, condition, detail) {
  if (condition) console.log(`ok: ${name}`);
  else console.log(`FAILED: ${name}: ${JSON.stringify(detail)}`);
  return Boolean(condition);
}

function equal(name, got, expected) {
  return check(name, JSON.stringify(got) === JSON.stringify(expected), { got, expected });
}

// The authorization code flow as a browser runs it: the login page, its
// CSRF cookie and hidden fields, the form posted back, the redirect.
async function authorizationCode(app, username, password) {
  const query = new URLSearchParams({
    response_type: "code", client_id: app.clientId, redirect_uri: redirectUri, scope: adminScopes,
    state: "masto-state",
  });
  const page = await fetch(`${url}/oauth/authorize?${query}`);
  check("GET /oauth/authorize answers a page", page.status === 200, page.status);
  const cookie = (page.headers.get("set-cookie") || "").split(";")[0];
  const html = await page.text();
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([a-z_]+)" value="([^"]*)">/g)) {
    form.set(m[1], m[2].replaceAll("&amp;", "&").replaceAll("&quot;", '"'));
  }
  form.set("username", username);
  form.set("password", password);
  const posted = await fetch(`${url}/oauth/authorize`, {
    method: "POST", body: form, redirect: "manual", headers: { Cookie: cookie },
  });
  const location = new URL(posted.headers.get("location") || "about:blank");
  check("signing in redirects to the app", posted.status === 302 &&
        location.href.startsWith(redirectUri), { status: posted.status, location: location.href });
  equal("the state comes back", location.searchParams.get("state"), "masto-state");
  return location.searchParams.get("code");
}

async function makeUser(adminRest, token, name) {
  const r = await fetch(`${url}/api/ruche/v1/admin/users`, {
    method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ username: name }),
  });
  const body = await r.json();
  check(`the admin adds ${name}`, r.status === 200, body);
  return body.password;
}

async function signIn(oauth, app) {
  const code = await authorizationCode(app, "admin", adminPassword);
  const admin = await oauth.token.create({
    grantType: "authorization_code", clientId: app.clientId, clientSecret: app.clientSecret,
    redirectUri, code, scope: adminScopes,
  });
  check("a token from the authorization code", typeof admin.accessToken === "string", admin);
  equal("its scope", admin.scope, adminScopes);
  const adminRest = createRestAPIClient({ url, accessToken: admin.accessToken });
  const alicePassword = await makeUser(adminRest, admin.accessToken, "alice");
  const alice = await oauth.token.create({
    grantType: "password", clientId: app.clientId, clientSecret: app.clientSecret,
    username: "alice", password: alicePassword, scope: scopes,
  });
  check("a token from the password grant", typeof alice.accessToken === "string", alice);
  return { admin, adminRest, alice, aliceRest: createRestAPIClient({ url, accessToken: alice.accessToken }) };
}

async function postAndReply(s) {
  const me = await s.adminRest.v1.accounts.verifyCredentials();
  equal("verifyCredentials names admin", me.username, "admin");
  const alice = await s.aliceRest.v1.accounts.verifyCredentials();
  equal("verifyCredentials names alice", alice.username, "alice");
  const post = await s.adminRest.v1.statuses.create({ status: "Hello from masto.js #masto" });
  equal("statuses.create posts", post.content.includes("Hello from masto.js"), true);
  const reply = await s.aliceRest.v1.statuses.create({ status: "@admin hi back", inReplyToId: post.id });
  equal("a reply names its parent", reply.inReplyToId, post.id);
  const context = await s.adminRest.v1.statuses.$select(post.id).context.fetch();
  equal("the context has the reply", context.descendants.map((x) => x.id), [reply.id]);
  const liked = await s.aliceRest.v1.statuses.$select(post.id).favourite();
  equal("favourite marks the status", [liked.favourited, liked.favouritesCount], [true, 1]);
  const seen = await s.adminRest.v1.statuses.$select(post.id).fetch();
  equal("the author sees the favourite", seen.favouritesCount, 1);
  return post;
}

async function pageHome(s) {
  const made = [];
  for (let i = 0; i < 5; i++) {
    made.push((await s.adminRest.v1.statuses.create({ status: `page ${i}` })).id);
  }
  const ids = [];
  let pages = 0;
  for await (const page of s.adminRest.v1.timelines.home.list({ limit: 2 })) {
    if (page.length === 0 || ++pages > 50) break;
    ids.push(...page.map((x) => x.id));
  }
  check("the home timeline comes in pages of 2 through Link", pages >= 3 && ids.length >= 6,
        { pages, ids });
  check("every page's statuses are new", new Set(ids).size === ids.length, ids);
  check("the pages hold the posts, newest first",
        JSON.stringify(ids.slice(0, 5)) === JSON.stringify([...made].reverse()), { ids, made });
}

// A photo through masto's media API, posted with alt text and read back
// by another user.
async function photo(s) {
  const instance = await s.aliceRest.v2.instance.fetch();
  equal("the instance says how many attachments a status takes",
        instance.configuration.statuses.maxMediaAttachments, 4);
  check("and which image types it shows",
        (instance.configuration.mediaAttachments?.supportedMimeTypes || []).includes("image/jpeg"),
        instance.configuration.mediaAttachments);
  const file = new Blob([fs.readFileSync(PHOTO)], { type: "image/jpeg" });
  const uploaded = await s.aliceRest.v2.media.create({ file, focus: "0.5,0.5" });
  check("v2 media.create waits until the photo is processed",
        uploaded.type === "image" && typeof uploaded.url === "string", uploaded);
  const alt = "Three colleagues at the whiteboard, sketching the new plant's layout";
  const described = await s.aliceRest.v1.media.$select(uploaded.id).update({ description: alt });
  equal("media update sets the alt text", described.description, alt);
  const post = await s.aliceRest.v1.statuses.create({
    status: "The layout, as sketched #plant", mediaIds: [uploaded.id],
    spoilerText: "Project Tulip",
  });
  equal("the status has the photo", post.mediaAttachments.map((m) => m.type), ["image"]);
  const seen = await s.adminRest.v1.statuses.$select(post.id).fetch();
  const m = seen.mediaAttachments[0] || {};
  equal("another user reads its alt text", m.description, alt);
  check("and its blurhash", typeof m.blurhash === "string" && /^[0-9A-Za-z#$%*+,\-.:;=?@[\]^_{|}~]{6,}$/
        .test(m.blurhash), m.blurhash);
  equal("its sides in meta.original", [m.meta?.original?.width, m.meta?.original?.height],
        PHOTO_SIDES);
  check("its thumbnail's sides in meta.small, within 480",
        m.meta?.small?.width === 480 && m.meta?.small?.height === 360, m.meta?.small);
  equal("its focal point in meta.focus", [m.meta?.focus?.x, m.meta?.focus?.y], [0.5, 0.5]);
  equal("the content warning and the sensitive flag", [seen.spoilerText, seen.sensitive],
        ["Project Tulip", true]);
  const served = await fetch(m.url);
  const bytes = new Uint8Array(await served.arrayBuffer());
  check("its URL serves the JPEG", served.status === 200 && bytes[0] === 0xff && bytes[1] === 0xd8,
        served.status);
  const thumb = await fetch(m.previewUrl);
  equal("its preview URL serves the thumbnail", thumb.status, 200);
  if (peerUrl) await photoElsewhere(post, m, bytes, new Uint8Array(await thumb.arrayBuffer()));
}

// The profile through masto's own updateCredentials (multipart: display
// name, note, two fields, the photo as avatar, and what else Mastodon
// takes), read back through verifyCredentials and by another user.
async function profile(s) {
  const avatar = new Blob([fs.readFileSync(PHOTO)], { type: "image/jpeg" });
  const fields = [["Team", "Platform"], ["Site", "paris"]];
  const me = await s.aliceRest.v1.accounts.updateCredentials({
    displayName: "Alice (masto.js)", note: "Edited through masto.js", avatar,
    fieldsAttributes: fields.map(([name, value]) => ({ name, value })),
    locked: false, bot: false, source: { privacy: "public", sensitive: false },
  });
  equal("updateCredentials answers the new display name", me.displayName, "Alice (masto.js)");
  equal("and the fields as typed, in source", (me.source?.fields || []).map((f) => [f.name, f.value]),
        fields);
  equal("and the note as typed, in source", me.source?.note, "Edited through masto.js");
  check("and an avatar among the site's files, the same when static",
        /\/media\//.test(me.avatar || "") && me.avatarStatic === me.avatar, me.avatar);
  const served = await fetch(me.avatar);
  const bytes = new Uint8Array(await served.arrayBuffer());
  check("the avatar's URL serves a JPEG", served.status === 200 && bytes[0] === 0xff &&
        bytes[1] === 0xd8, served.status);
  const again = await s.aliceRest.v1.accounts.verifyCredentials();
  equal("verifyCredentials agrees", [again.displayName, again.avatar, again.source?.note],
        [me.displayName, me.avatar, me.source?.note]);
  const seen = await s.adminRest.v1.accounts.$select(me.id).fetch();
  equal("another user sees the display name, fields and avatar",
        [seen.displayName, seen.fields.map((f) => f.name), seen.avatar],
        [me.displayName, ["Team", "Site"], me.avatar]);
}

const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// The photo read at the other site through masto, once it and its files
// have travelled there: the same alt text, blurhash and sides, and files
// that the other site serves itself, byte for byte paris's.
async function photoElsewhere(post, m, bytes, thumbBytes) {
  const rest = createRestAPIClient({ url: peerUrl });
  const app = await rest.v1.apps.create({ clientName: "masto.js at nozay", redirectUris: redirectUri,
                                          scopes });
  const token = await createOAuthAPIClient({ url: peerUrl }).token.create({
    grantType: "password", clientId: app.clientId, clientSecret: app.clientSecret,
    username: "admin", password: peerPassword, scope: scopes,
  });
  const nozay = createRestAPIClient({ url: peerUrl, accessToken: token.accessToken });
  let there = null;
  for (const until = Date.now() + TRAVEL_TIMEOUT_MS; Date.now() < until;) {
    const page = await nozay.v1.timelines.public.list({ limit: 40 });
    there = page.find((x) => x.text === post.text) || null;
    if (there && there.mediaAttachments.every((a) => !a.ruche?.pending)) break;
    await sleep(200);
  }
  const a = there?.mediaAttachments?.[0] || {};
  check("the status reaches the other site, its photo fetched there", there && !a.ruche?.pending,
        there);
  equal("there: the alt text, blurhash and sides", [a.description, a.blurhash, a.meta?.original],
        [m.description, m.blurhash, m.meta?.original]);
  check("there: the files are the other site's own URLs",
        a.url?.startsWith(peerUrl) && a.previewUrl?.startsWith(peerUrl), [a.url, a.previewUrl]);
  const file = new Uint8Array(await (await fetch(a.url)).arrayBuffer());
  const thumb = new Uint8Array(await (await fetch(a.previewUrl)).arrayBuffer());
  check("there: the photo and its thumbnail are paris's bytes",
        sameBytes(file, bytes) && sameBytes(thumb, thumbBytes), [file.length, bytes.length]);
}

const sleep = (ms, value) => new Promise((resolve) => setTimeout(resolve, ms, value));

async function streamUpdate(s) {
  const instance = await s.adminRest.v2.instance.fetch();
  const streamingApiUrl = instance.configuration.urls.streaming;
  check("instance v2 gives the streaming URL", /^wss?:\/\//.test(streamingApiUrl), streamingApiUrl);
  const alice = await s.aliceRest.v1.accounts.verifyCredentials();
  await s.adminRest.v1.accounts.$select(alice.id).follow();
  const streaming = createStreamingAPIClient({
    streamingApiUrl, accessToken: s.admin.accessToken, implementation: WebSocket, retry: 3,
  });
  const events = streaming.user.subscribe()[Symbol.asyncIterator]();
  let next = events.next(); // connects, then subscribes
  // No event says the subscription is in place: alice posts every half
  // second until one of her posts arrives on admin's user stream (her
  // posts are in his home timeline since he follows her).
  let streamed = null;
  let posts = 0;
  const poster = (async () => {
    for (let i = 0; i < STREAM_TIMEOUT_MS / 500 && !streamed; i++) {
      await s.aliceRest.v1.statuses.create({ status: `streamed ${i}` }).then(() => posts++);
      await sleep(500);
    }
  })();
  const deadline = sleep(STREAM_TIMEOUT_MS, "timeout");
  while (!streamed) {
    const got = await Promise.race([next, deadline]);
    if (got === "timeout" || got.done) break;
    if (got.value.event === "update" && got.value.payload.account.username === "alice") {
      streamed = got.value;
    }
    next = events.next();
  }
  check("an update arrives over the user stream", streamed, `none in ${STREAM_TIMEOUT_MS} ms`);
  if (streamed) {
    check("its payload is a Status", /^streamed \d+$/.test(streamed.payload.text || "") ||
          streamed.payload.content.includes("streamed"), streamed.payload);
    equal("on the user stream", streamed.stream, ["user"]);
  }
  streamed = streamed || "stop";
  await poster;
  check("alice's posts were accepted", posts > 0, posts);
  streaming.close();
}

async function main() {
  const rest = createRestAPIClient({ url });
  const app = await rest.v1.apps.create({
    clientName: "masto.js test", redirectUris: redirectUri, scopes: adminScopes, website: "https://client.example",
  });
  check("apps.create answers client_id and client_secret",
        typeof app.clientId === "string" && typeof app.clientSecret === "string", app);
  const oauth = createOAuthAPIClient({ url });
  const s = await signIn(oauth, app);
  await postAndReply(s);
  await pageHome(s);
  await photo(s);
  await profile(s);
  if (process.env.RUCHE_STREAMING !== "0") await streamUpdate(s);
  await oauth.token.revoke({ clientId: app.clientId, clientSecret: app.clientSecret, token: s.alice.accessToken });
  const refused = await s.aliceRest.v1.accounts.verifyCredentials().then(() => 200, (e) => e.statusCode);
  equal("a revoked token is refused", refused, 401);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.log(`FAILED: the client runs to its end: ${error && error.stack ? error.stack : error}`);
    process.exit(1);
  },
);
