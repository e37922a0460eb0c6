// groups.js - the groups: the list of every group of the network (those
// one belongs to first), a form to create one, and a group's page with
// its members count, join/leave, a composer that posts to the group, and
// its timeline, live from the public stream.

import * as api from "../api.js";
import { createCompose } from "../compose.js";
import { h, fill, toast, announce, uniqueId, icon } from "../dom.js";
import { t } from "../i18n.js";
import { emit, on } from "../state.js";
import { createTimeline } from "../timeline.js";
import { siteChip, accountSite, errorText } from "../status.js";
import { heading } from "./common.js";

function membership(group, onChange) {
  const button = h("button", { type: "button", class: group.member ? "" : "primary",
    "aria-pressed": String(group.member) },
  t(group.member ? "groups.leave" : "groups.join"));
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const { data } = await api.post(
        `/api/ruche/v1/groups/${group.id}/${group.member ? "leave" : "join"}`);
      announce(t(data.member ? "groups.joined" : "groups.left", { name: data.name }));
      onChange(data);
    } catch (err) {
      button.disabled = false;
      toast(errorText(err), "error");
    }
  });
  return button;
}

function membersLine(group) {
  return h("p", { class: "members" }, icon("groups"),
    t("groups.members", { count: group.members_count }), " · ",
    t("groups.createdAt"), " ", siteChip(accountSite(group.creator)));
}

function groupItem(group) {
  const item = h("li", { class: "group-item" });
  const draw = (g) => fill(item,
    h("div", { class: "group-text" },
      h("h2", {}, h("a", { href: `/groups/${g.id}` }, g.name)),
      g.description ? h("p", { class: "description" }, g.description) : null,
      membersLine(g)),
    membership(g, (changed) => { draw(changed); item.querySelector("button").focus(); }));
  draw(group);
  return item;
}

function createForm(onCreated) {
  const nameId = uniqueId("group-name");
  const descId = uniqueId("group-desc");
  const hintId = uniqueId("group-hint");
  const name = h("input", { id: nameId, name: "name", required: true, maxlength: "64",
    pattern: "[a-z0-9_.\\-]+", autocomplete: "off", "aria-describedby": hintId });
  const desc = h("textarea", { id: descId, name: "description", rows: "2" });
  const error = h("p", { class: "form-error", role: "alert" });
  const form = h("form", { class: "stack" },
    h("label", { for: nameId }, t("groups.name")), name,
    h("p", { class: "hint", id: hintId }, t("groups.nameHint")),
    h("label", { for: descId }, t("groups.description")), desc,
    h("button", { type: "submit", class: "primary" }, t("groups.create")), error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    if (!name.checkValidity()) {
      error.textContent = t("groups.nameHint");
      name.focus();
      return;
    }
    try {
      const { data } = await api.post("/api/ruche/v1/groups",
        { name: name.value, description: desc.value });
      form.reset();
      toast(t("groups.created", { name: data.name }));
      onCreated(data);
    } catch (err) {
      error.textContent = errorText(err);
    }
  });
  return h("details", { class: "create-group" },
    h("summary", {}, icon("plus"), t("groups.new")), form);
}

export function groupsView(main) {
  const list = h("ul", { class: "group-list", "aria-busy": "true" });
  const error = h("p", { class: "form-error", role: "alert" });
  main.append(heading(t("nav.groups")), h("p", { class: "intro" }, t("groups.intro")),
    createForm((group) => list.prepend(groupItem(group))), error, list);
  api.get("/api/ruche/v1/groups").then(({ data }) => {
    data.sort((a, b) => (b.member - a.member) || a.name.localeCompare(b.name));
    fill(list, data.length ? data.map(groupItem) : h("li", { class: "empty" }, t("groups.none")));
  }).catch((err) => { error.textContent = errorText(err); })
    .finally(() => list.setAttribute("aria-busy", "false"));
  return { title: t("nav.groups") };
}

export function groupView(main, [id]) {
  const about = h("div", { class: "group-about" });
  const body = h("div", {});
  main.append(heading(t("groups.one")), about, body);
  let timeline = null;

  const drawAbout = (g) => fill(about,
    g.description ? h("p", { class: "description" }, g.description) : null,
    h("div", { class: "group-actions" }, membersLine(g), membership(g, (changed) => {
      drawAbout(changed);
      about.querySelector("button").focus();
    })));

  api.get(`/api/ruche/v1/groups/${id}`).then(({ data: group }) => {
    main.querySelector("h1").textContent = group.name;
    document.title = group.name;
    drawAbout(group);
    const compose = createCompose({ kind: "group", group,
      onDone: (status) => emit("posted", status) });
    timeline = createTimeline({ path: `/api/ruche/v1/groups/${id}/timeline`,
      label: t("groups.feed", { name: group.name }), empty: t("groups.empty") });
    fill(body, compose.el, timeline.el);
  }).catch((err) => {
    fill(about, h("p", { class: "form-error", role: "alert" }, errorText(err)));
  });

  const accepts = (s) => timeline && s.ruche && s.ruche.group && s.ruche.group.id === id;
  const off = on("posted", (s) => { if (accepts(s)) timeline.live(s); });
  return {
    title: t("groups.one"),
    onUpdate(status, stream) { if (stream === "public" && accepts(status)) timeline.live(status); },
    catchUp() { if (timeline) timeline.catchUp(); },
    destroy() { off(); if (timeline) timeline.destroy(); },
  };
}

