// people.js - the company's people, every site's (/people): a search by
// name, title, department, site or skill with filters for each, or "who
// can help with" a subject (GET /api/ruche/v1/people: q and the filters,
// or help). Each person is a card: photo, name (a link to their profile
// page), account and site, their directory entry (title, department,
// site, office, phone and e-mail as tel: and mailto: links), their skills,
// and for "who can help" what made them a match: the subject among their
// skills, in their title or department, and their posts tagged with it.
//
// The search is in the address (/people?skill=bgp, /people?help=lasers),
// so it can be shared and Back works; with none, everyone is listed, in
// the order of sites and names. "More people" loads the next page (the
// offset) and moves the focus to the first person it added; the number
// found is announced, and a search that fails says why with a button to
// try again.

import * as api from "../api.js";
import { h, fill, icon, uniqueId, announce } from "../dom.js";
import { t } from "../i18n.js";
import { navigate } from "../router.js";
import { displayName, profilePath, siteChip, accountSite, errorText } from "../status.js";
import { heading } from "./common.js";

const PAGE = 20;
const FILTERS = [["department", "people.department"], ["site", "people.site"],
  ["skill", "people.skill"], ["title", "people.jobTitle"]];

// A labelled text field named name, holding value.
function field(name, label, value, extra) {
  const id = uniqueId(`people-${name}`);
  return h("div", { class: "stack people-field" }, h("label", { for: id }, label),
    h("input", { id, name, type: name === "q" ? "search" : "text", value: value || "",
      autocomplete: "off", ...extra }));
}

// The subject's words as the node reads its tags: "#a, #b".
function tagsOf(subject) {
  return subject.split(/[\s,]+/).map((w) => w.replace(/^#+/, "")).filter(Boolean)
    .map((w) => `#${w}`).join(", ");
}

// What made a person a match for "who can help with" subject.
function why(match, subject) {
  const reasons = [];
  if (match.skill > 0) reasons.push(t("people.whySkill"));
  if (match.work > 0) reasons.push(t("people.whyWork"));
  if (match.posts > 0) {
    reasons.push(t("people.whyPosts", { count: match.posts, tags: tagsOf(subject) }));
  }
  if (!reasons.length) return null;
  return h("p", { class: "person-why" }, h("span", { class: "why-label" }, t("people.why")),
    " ", reasons.join(" · "));
}

// The rows of a person's directory entry that are set.
function entry(r) {
  const rows = [
    ["profile.dirTitle", r.title], ["profile.dirDepartment", r.department],
    ["profile.dirSite", r.site], ["profile.dirOffice", r.office],
    ["profile.dirPhone", r.phone && h("a", { href: `tel:${r.phone}` }, r.phone)],
    ["profile.dirEmail", r.email && h("a", { href: `mailto:${r.email}` }, r.email)],
  ].filter(([, value]) => value);
  if (!rows.length) return null;
  return h("dl", { class: "person-entry" }, rows.map(([key, value]) => h("div", {},
    h("dt", {}, t(key)), h("dd", {}, value))));
}

function personCard(account, subject) {
  const r = account.ruche || {};
  const nameId = uniqueId("person");
  const avatar = api.profileImagePath(account.avatar);
  const skills = r.skills || [];
  return h("li", {}, h("article", { class: "person-card", "aria-labelledby": nameId,
    dataset: { acct: account.acct } },
  avatar ? h("img", { class: "person-avatar", src: avatar, alt: "", loading: "lazy" })
    : h("span", { class: "person-avatar" }),
  h("div", { class: "person-body" },
    h("h3", { class: "person-name" },
      h("a", { href: profilePath(account), id: nameId }, displayName(account))),
    h("p", { class: "person-acct" }, h("span", { class: "acct" }, `@${account.acct}`), " ",
      siteChip(accountSite(account))),
    entry(r),
    skills.length ? h("ul", { class: "chips", "aria-label": t("profile.skills") },
      skills.map((s) => h("li", {}, s))) : null,
    subject && r.match ? why(r.match, subject) : null)));
}

// The query in the address: {mode, q, department, site, skill, title,
// local, help}.
function readQuery(query) {
  const out = { mode: query.has("help") ? "help" : "find", local: query.get("local") === "true" };
  for (const name of ["q", "help", ...FILTERS.map(([n]) => n)]) {
    out[name] = (query.get(name) || "").trim();
  }
  return out;
}

// The API's parameters for what the page shows.
function apiQuery(s) {
  if (s.mode === "help") return { help: s.help, local: s.local ? "true" : undefined };
  const q = { q: s.q, local: s.local ? "true" : undefined };
  for (const [name] of FILTERS) q[name] = s[name];
  return q;
}

// The form: the mode's tabs, its fields, "only this site", the button.
// Submitting puts the search in the address.
function searchForm(s) {
  const find = h("div", { class: "people-find", hidden: s.mode !== "find" },
    field("q", t("people.q"), s.q, { enterkeyhint: "search" }),
    h("fieldset", { class: "people-filters" }, h("legend", {}, t("people.filters")),
      FILTERS.map(([name, label]) => field(name, t(label), s[name]))));
  const hintId = uniqueId("subject-hint");
  const help = h("div", { class: "people-help", hidden: s.mode !== "help" },
    field("help", t("people.subject"), s.help, { "aria-describedby": hintId }),
    h("p", { class: "hint", id: hintId }, t("people.subjectHint")));
  const local = h("input", { type: "checkbox", name: "local", checked: s.local });
  let mode = s.mode;
  const tabs = h("div", { class: "tabs people-modes", role: "group",
    "aria-label": t("people.modes") });
  const form = h("form", { class: "people-form", role: "search" }, tabs, find, help,
    h("label", { class: "check" }, local, t("people.local")),
    h("button", { type: "submit", class: "primary" }, icon("search"), t("people.search")));
  function show() {
    find.hidden = mode !== "find";
    help.hidden = mode !== "help";
    tabs.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed",
      String(b.dataset.mode === mode)));
  }
  for (const [name, label] of [["find", "people.modeFind"], ["help", "people.modeHelp"]]) {
    tabs.append(h("button", { type: "button", dataset: { mode: name }, onclick: () => {
      mode = name;
      show();
      (mode === "help" ? help : find).querySelector("input").focus();
    } }, t(label)));
  }
  show();
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const params = new URLSearchParams();
    const names = mode === "help" ? ["help"] : ["q", ...FILTERS.map(([n]) => n)];
    for (const name of names) {
      const value = form.elements[name].value.trim();
      if (value || name === "help") params.set(name, value);
    }
    if (local.checked) params.set("local", "true");
    navigate(`/people${params.toString() ? `?${params}` : ""}`);
  });
  return form;
}

export function peopleView(main, params, query) {
  const s = readQuery(query);
  const subject = s.mode === "help" ? s.help : "";
  const titleId = uniqueId("people-results");
  const list = h("ul", { class: "people-list" });
  const status = h("div", { class: "people-status" });
  const more = h("button", { type: "button", class: "more", hidden: true }, t("people.more"));
  const results = h("section", { class: "people-results", "aria-labelledby": titleId,
    "aria-busy": "false" },
  h("h2", { id: titleId, class: "visually-hidden" }, t("people.results")), status, list, more);
  main.append(heading(t("people.heading")), h("p", { class: "intro" }, t("people.intro")),
    searchForm(s), results);
  let offset = 0;
  let alive = true;

  async function load() {
    results.setAttribute("aria-busy", "true");
    more.disabled = true;
    if (!offset) fill(status, h("p", { class: "loading" }, t("timeline.loading")));
    try {
      const { data } = await api.get("/api/ruche/v1/people",
        { ...apiQuery(s), limit: PAGE, offset: offset || undefined });
      if (!alive) return;
      const cards = data.map((a) => personCard(a, subject));
      list.append(...cards);
      offset += data.length;
      more.hidden = data.length < PAGE;
      fill(status, offset ? null : h("p", { class: "empty" },
        subject ? t("people.emptyHelp", { subject }) : t("people.empty")));
      if (cards.length && offset > data.length) {
        cards[0].querySelector(".person-name a").focus();
        announce(t("people.moreLoaded", { count: data.length }));
      } else {
        announce(t("people.found", { count: data.length }));
      }
    } catch (err) {
      if (!alive) return;
      const retry = h("button", { type: "button", onclick: load }, t("people.retry"));
      fill(status, h("div", { class: "people-error", role: "alert" },
        h("p", { class: "form-error" }, errorText(err)), retry));
    } finally {
      results.setAttribute("aria-busy", "false");
      more.disabled = false;
    }
  }
  more.addEventListener("click", load);
  if (s.mode !== "help" || subject) load();
  return { title: t("people.heading"), destroy() { alive = false; } };
}
