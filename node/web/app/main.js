// main.js - the application: it loads the language and the node's
// description, asks whether a session exists (GET /auth/session), then
// shows the sign-in page or the shell (header, navigation, the page of
// the current address), starts the live stream, and hands each event to
// the page on screen. It also keeps the unread notifications count and
// the keyboard shortcuts.

import * as api from "./api.js";
import { h, fill, icon, toast, announce } from "./dom.js";
import { t, setLanguage, chooseLanguage } from "./i18n.js";
import { startRouter, currentRoute, navigate } from "./router.js";
import { state, on, siteName } from "./state.js";
import { startStream } from "./stream.js";
import { refreshStatus, removeStatus, tickTimes, displayName, profilePath, errorText }
  from "./status.js";
import { heading, languagePicker } from "./views/common.js";
import { groupsView, groupView } from "./views/groups.js";
import { loginView } from "./views/login.js";
import { notificationsView } from "./views/notifications.js";
import { opsView } from "./views/ops.js";
import { peopleView } from "./views/people.js";
import { editProfileView } from "./views/editprofile.js";
import { profileView } from "./views/profile.js";
import { searchView } from "./views/search.js";
import { threadView } from "./views/thread.js";
import { homeView, publicView, tagView } from "./views/timelines.js";

const VIEWS = {
  home: homeView, public: publicView, tag: tagView, groups: groupsView, group: groupView,
  profile: profileView, thread: threadView, notifications: notificationsView,
  search: searchView, people: peopleView, ops: opsView, editProfile: editProfileView,
  notFound: (main) => {
    main.append(heading(t("notFound.title")), h("p", {}, t("notFound.text")),
      h("p", {}, h("a", { href: "/" }, t("notFound.home"))));
    return { title: t("notFound.title") };
  },
};

const root = document.getElementById("app");
let view = null;
let stream = null;
let unread = 0;
let newestNotification = null;
let isLive = false;

// ---------------------------------------------------------------------
// Unread notifications

function seenKey() {
  return `ruche.seen.${state.me.acct}`;
}

// Compares two decimal ids.
function newer(a, b) {
  if (!b) return true;
  return a.length !== b.length ? a.length > b.length : a > b;
}

function drawBadge() {
  for (const badge of document.querySelectorAll(".badge")) {
    badge.textContent = unread > 39 ? "40+" : String(unread);
    badge.hidden = unread === 0;
  }
  for (const label of document.querySelectorAll(".unread-label")) {
    label.textContent = unread ? t("nav.unread", { count: unread }) : "";
  }
  if (view) document.title = pageTitle(view.title);
}

async function countUnread() {
  try {
    const seen = localStorage.getItem(seenKey());
    const { data } = await api.get("/api/v1/notifications", { limit: 40, since_id: seen });
    if (data.length) newestNotification = data[0].id;
    unread = data.length;
    drawBadge();
  } catch {
    // notifications may be unavailable: no badge
  }
}

function markSeen() {
  unread = 0;
  if (newestNotification) localStorage.setItem(seenKey(), newestNotification);
  drawBadge();
}

// ---------------------------------------------------------------------
// Live events

function onEvent(event, payload, streamName) {
  if (event === "update" && payload && payload.id) {
    if (view && view.onUpdate) view.onUpdate(payload, streamName);
  } else if (event === "status.update" && payload && payload.id) {
    refreshStatus(payload);
  } else if (event === "delete") {
    removeStatus(String(payload));
  } else if (event === "notification" && payload && payload.id) {
    if (newer(payload.id, newestNotification)) newestNotification = payload.id;
    if (view && view.onNotification) {
      view.onNotification(payload);
    } else {
      unread += 1;
      drawBadge();
      toast(t(`notif.${payload.type}`, { name: displayName(payload.account) }));
    }
  }
}

function setLive(live) {
  isLive = live;
  const mark = document.getElementById("live");
  if (!mark) return;
  mark.dataset.state = live ? "on" : "off";
  mark.title = t(live ? "live.on" : "live.off");
  fill(mark, h("span", { class: "dot", "aria-hidden": "true" }),
    h("span", { class: "live-text" }, t(live ? "live.short" : "live.offShort")));
}

// ---------------------------------------------------------------------
// The shell

function pageTitle(title) {
  return `${unread ? `(${unread}) ` : ""}${title} · ruche ${siteName()}`;
}

function navLink(path, iconName, label, extra) {
  return h("li", {}, h("a", { href: path, class: "nav-link", dataset: { path } }, icon(iconName),
    h("span", { class: "nav-text" }, label), extra || null));
}

function header() {
  const search = h("input", { type: "search", name: "q", id: "top-search",
    placeholder: t("search.placeholder"), "aria-label": t("search.label"), autocomplete: "off" });
  const form = h("form", { class: "top-search", role: "search", onsubmit: (e) => {
    e.preventDefault();
    if (search.value.trim()) navigate(`/search?q=${encodeURIComponent(search.value.trim())}`);
  } }, search);
  return h("header", { class: "topbar" },
    h("a", { class: "brand", href: "/" }, icon("groups"), "ruche",
      h("span", { class: "brand-site" }, siteName())),
    form,
    h("span", { id: "live", class: "live", role: "status", dataset: { state: "off" } }),
    h("div", { class: "me" },
      h("a", { href: profilePath(state.me), class: "me-link" }, icon("user"),
        h("span", { class: "me-name" }, `@${state.me.acct}`)),
      languagePicker(),
      h("button", { type: "button", class: "sign-out", onclick: signOut }, icon("logout"),
        h("span", { class: "sign-out-text" }, t("nav.signOut")))));
}

function navigation() {
  const badge = h("span", { class: "badge", "aria-hidden": "true", hidden: true });
  const unreadLabel = h("span", { class: "visually-hidden unread-label" });
  return h("nav", { class: "sidebar", "aria-label": t("nav.label") },
    h("ul", {},
      navLink("/", "home", t("nav.home")),
      navLink("/public", "globe", t("nav.public")),
      navLink("/groups", "groups", t("nav.groups")),
      navLink("/notifications", "bell", t("nav.notifications"), [badge, unreadLabel]),
      navLink("/search", "search", t("nav.search")),
      navLink("/people", "card", t("nav.people")),
      navLink(profilePath(state.me), "user", t("nav.profile")),
      state.admin ? navLink("/ops", "pulse", t("nav.ops")) : null),
    h("details", { class: "shortcuts" }, h("summary", {}, t("keys.title")),
      h("dl", {}, [["n", "keys.new"], ["/", "keys.search"], ["j / k", "keys.move"],
        ["l", "keys.like"], ["r", "keys.reply"]].map(([key, label]) =>
        h("div", {}, h("dt", {}, h("kbd", {}, key)), h("dd", {}, t(label)))))));
}

function markCurrent(path) {
  for (const a of document.querySelectorAll(".nav-link")) {
    const here = a.dataset.path === path;
    if (here) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function showView(route, { navigated } = {}) {
  if (!state.me) return;
  if (view && view.destroy) view.destroy();
  const main = document.getElementById("main");
  main.replaceChildren();
  view = (VIEWS[route.name] || VIEWS.notFound)(main, route.params, route.query);
  document.title = pageTitle(view.title);
  markCurrent(route.path);
  if (navigated) {
    window.scrollTo(0, 0);
    const title = main.querySelector("h1");
    if (title) title.focus({ preventScroll: true });
  }
}

function showShell() {
  fill(root,
    h("a", { class: "skip-link", href: "#main" }, t("nav.skip")),
    header(),
    h("div", { class: "layout" }, navigation(),
      h("main", { id: "main", tabindex: "-1" })));
  setLive(isLive);
  showView(currentRoute());
  drawBadge();
}

// ---------------------------------------------------------------------
// Sessions

function startSession() {
  isLive = false;
  showShell();
  countUnread();
  if (stream) stream.stop();
  stream = startStream({
    onEvent, onState: setLive,
    onReconnect: () => { if (view && view.catchUp) view.catchUp(); },
  });
}

function showLogin(message) {
  if (stream) stream.stop();
  stream = null;
  if (view && view.destroy) view.destroy();
  view = null;
  state.me = null;
  state.admin = false;
  state.csrf = null;
  document.title = `${t("login.title")} · ruche ${siteName()}`;
  root.replaceChildren();
  loginView(root, message);
}

async function signOut() {
  try {
    await api.post("/auth/sign_out");
  } catch (err) {
    toast(errorText(err), "error");
    return;
  }
  showLogin(t("login.signedOut"));
}

// ---------------------------------------------------------------------
// Keyboard shortcuts

function typing(target) {
  return target.closest("input, textarea, select, [contenteditable]");
}

function moveFocus(step) {
  const items = [...document.querySelectorAll("#main article[tabindex]")];
  if (!items.length) return;
  const at = items.findIndex((el) => el === document.activeElement ||
    el.contains(document.activeElement));
  const next = items[Math.max(0, Math.min(items.length - 1, at + step))] || items[0];
  next.focus();
}

function pressOnFocused(action) {
  const card = document.activeElement && document.activeElement.closest("article.status");
  const button = card && card.querySelector(`:scope > .actions [data-action="${action}"]`);
  if (button) button.click();
}

function onKey(e) {
  if (!state.me || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
  const compose = document.querySelector("#main .compose textarea");
  const actions = {
    n: () => (compose ? compose.focus() : navigate("/")),
    "/": () => {
      const search = document.getElementById("top-search");
      if (search && search.offsetParent) search.focus();
      else navigate("/search");
    },
    j: () => moveFocus(1), k: () => moveFocus(-1),
    l: () => pressOnFocused("like"), r: () => pressOnFocused("reply"),
  };
  if (!actions[e.key]) return;
  e.preventDefault();
  actions[e.key]();
}

// ---------------------------------------------------------------------
// Start

async function boot() {
  await setLanguage(chooseLanguage());
  try {
    const { data } = await api.get("/api/v2/instance");
    state.instance = data;
    state.maxChars = data.configuration?.statuses?.max_characters || state.maxChars;
  } catch {
    state.instance = null;
  }
  on("signed-in", startSession);
  on("session-lost", () => showLogin(t("login.expired")));
  on("notifications-seen", markSeen);
  on("language", async (code) => {
    await setLanguage(code, true);
    if (state.me) showShell();
    else showLogin();
    announce(t("common.languageChanged"));
  });
  startRouter(showView);
  document.addEventListener("keydown", onKey);
  window.setInterval(tickTimes, 60000);
  try {
    const { data } = await api.get("/auth/session");
    state.csrf = data.csrf_token;
    state.me = data.account;
    state.admin = data.admin === true;
    startSession();
  } catch (err) {
    showLogin(err.status === 401 ? "" : errorText(err));
  }
}

boot().catch(() => {
  root.textContent = "ruche could not start: reload the page.";
});

