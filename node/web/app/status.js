// status.js - one status as a card: author, site, time, the text, its
// photos and files (media.js), and the actions (reply, like, edit and
// delete for one's own). A content warning (spoiler_text) shows alone,
// with a "show more" button that uncovers the text and the media. A card
// knows how it was drawn (its options), so that an edit, a like or a live
// "status.update" redraws every card of that status on the page, and a
// delete removes them all; what the reader uncovered stays uncovered.

import * as api from "./api.js";
import { createCompose } from "./compose.js";
import { renderContent } from "./content.js";
import { renderMedia } from "./media.js";
import { h, append, icon, announce, toast, uniqueId, fill } from "./dom.js";
import { t, relativeTime, formatDate, formatNumber } from "./i18n.js";
import { isMe, siteName, emit } from "./state.js";

const drawn = new WeakMap(); // card -> {status, options}
const uncovered = new Set(); // "id cw" and "id media": what the reader chose to see

export function profilePath(account) {
  return `/@${account.acct}`;
}

export function displayName(account) {
  return account.display_name || account.username;
}

// The site of an account: after the "@" of its acct, else this node's.
export function accountSite(account) {
  const at = account.acct.indexOf("@");
  return at >= 0 ? account.acct.slice(at + 1) : siteName();
}

export function siteChip(site) {
  return h("span", { class: "site", title: t("status.siteTitle", { site }) }, icon("pin"),
    h("span", { class: "visually-hidden" }, t("status.siteLabel")), site);
}

export function timeLink(status) {
  return h("a", { class: "time", href: `/statuses/${status.id}` },
    h("time", { datetime: status.created_at, title: formatDate(status.created_at) },
      relativeTime(status.created_at)));
}

function header(status, nameId) {
  const account = status.account;
  const group = status.ruche && status.ruche.group;
  return h("header", { class: "status-head" },
    h("a", { class: "author", href: profilePath(account) },
      h("span", { class: "name", id: nameId }, displayName(account)),
      h("span", { class: "acct" }, `@${account.acct}`)),
    h("span", { class: "meta" },
      siteChip(status.ruche?.site || accountSite(account)),
      timeLink(status),
      status.edited_at ? h("span", { class: "edited", title: formatDate(status.edited_at) },
        t("status.edited")) : null,
      status.visibility !== "public" ? h("span", { class: "visibility" }, icon("lock"),
        t(`visibility.${status.visibility}`)) : null),
    group ? h("a", { class: "group-chip", href: `/groups/${group.id}` }, icon("groups"),
      group.name) : null);
}

function countButton(name, label, count, props) {
  return h("button", { type: "button", class: `action action-${name}`, dataset: { action: name },
    ...props },
    icon(name === "like" ? "heart" : name),
    h("span", { class: "visually-hidden" }, label),
    count > 0 ? h("span", { class: "count", "aria-hidden": "true" }, formatNumber(count)) : null);
}

function actions(card, status) {
  const author = displayName(status.account);
  const bar = h("div", { class: "actions", role: "group", "aria-label": t("status.actions") });
  bar.append(
    countButton("reply", t("status.replyTo", { name: author, count: status.replies_count }),
      status.replies_count, { onclick: () => openReply(card, status) }),
    countButton("like", t(status.favourited ? "status.unlike" : "status.like",
      { name: author, count: status.favourites_count }), status.favourites_count, {
      "aria-pressed": status.favourited ? "true" : "false",
      onclick: (e) => toggleLike(e.currentTarget, status),
    }));
  if (isMe(status.account)) {
    bar.append(
      h("button", { type: "button", class: "action action-edit", dataset: { action: "edit" },
        "aria-label": t("status.edit"), onclick: () => openEdit(card, status) },
      icon("edit"), h("span", { class: "label" }, t("status.edit"))),
      h("button", { type: "button", class: "action action-delete", dataset: { action: "delete" },
        "aria-label": t("status.delete"), onclick: () => confirmDelete(card, status) },
      icon("trash"), h("span", { class: "label" }, t("status.delete"))));
  }
  return bar;
}

// The text and media of status; behind its content warning, if it has one.
// Returns {el, describedBy}: the element that describes the card.
function body(status) {
  const contentId = uniqueId("content");
  const content = h("div", { class: "content", id: contentId }, renderContent(status.content));
  const mediaKey = `${status.id} media`;
  const media = renderMedia(status, { revealed: () => uncovered.has(mediaKey),
    onReveal: () => uncovered.add(mediaKey) });
  if (!status.spoiler_text) return { el: [content, media], describedBy: contentId };
  const key = `${status.id} cw`;
  const hiddenId = uniqueId("cw-body");
  const warningId = uniqueId("cw");
  const behind = h("div", { class: "cw-body", id: hiddenId, hidden: !uncovered.has(key) },
    content, media);
  const toggle = h("button", { type: "button", class: "cw-toggle", "aria-controls": hiddenId,
    "aria-expanded": String(uncovered.has(key)), dataset: { action: "cw" } });
  const label = () => {
    toggle.textContent = t(behind.hidden ? "status.showMore" : "status.showLess");
  };
  toggle.addEventListener("click", () => {
    behind.hidden = !behind.hidden;
    if (behind.hidden) uncovered.delete(key);
    else uncovered.add(key);
    toggle.setAttribute("aria-expanded", String(!behind.hidden));
    label();
  });
  label();
  const warning = h("div", { class: "cw" }, h("p", { class: "cw-text", id: warningId },
    h("span", { class: "visually-hidden" }, t("status.warning")), status.spoiler_text), toggle);
  return { el: [warning, behind], describedBy: warningId };
}

export function renderStatus(status, options = {}) {
  const nameId = uniqueId("author");
  const card = h("article", {
    class: `status${options.focused ? " focused" : ""}${options.depth ? " nested" : ""}`,
    tabindex: "0", "aria-labelledby": nameId,
    dataset: { id: status.id, depth: options.depth || 0 },
  });
  const replyTo = status.in_reply_to_id ? h("a", { class: "in-reply-to",
    href: `/statuses/${status.in_reply_to_id}` }, icon("reply"), t("status.inReplyTo")) : null;
  const { el, describedBy } = body(status);
  card.setAttribute("aria-describedby", describedBy);
  append(card, [header(status, nameId), replyTo, el, actions(card, status),
    h("div", { class: "slot" })]);
  drawn.set(card, { status, options });
  return card;
}

function cardsOf(id) {
  return document.querySelectorAll(`article.status[data-id="${CSS.escape(id)}"]`);
}

// Redraws every card of the status (after an edit, a like, a live update),
// keeping the keyboard focus on the same control.
export function refreshStatus(status) {
  for (const card of cardsOf(status.id)) {
    const was = drawn.get(card);
    const focused = card.contains(document.activeElement) ? document.activeElement : null;
    const fresh = renderStatus(status, was ? was.options : {});
    card.replaceWith(fresh);
    if (!focused) continue;
    const action = focused.dataset && focused.dataset.action;
    const same = action && fresh.querySelector(`[data-action="${action}"]`);
    (same || fresh).focus();
  }
}

export function removeStatus(id) {
  for (const card of cardsOf(id)) card.remove();
}

async function toggleLike(button, status) {
  button.disabled = true;
  try {
    const path = `/api/v1/statuses/${status.id}/${status.favourited ? "unfavourite" : "favourite"}`;
    const { data } = await api.post(path);
    button.disabled = false;
    refreshStatus(data);
    announce(t(data.favourited ? "status.liked" : "status.unliked"));
  } catch (err) {
    button.disabled = false;
    toast(errorText(err), "error");
  }
}

function slotOf(card) {
  return card.querySelector(":scope > .slot");
}

function openReply(card, status) {
  const slot = slotOf(card);
  const mentions = [status.account, ...(status.mentions || [])]
    .filter((a) => a && !isMe(a)).map((a) => `@${a.acct}`);
  const text = [...new Set(mentions)].map((m) => `${m} `).join("");
  const compose = createCompose({
    kind: "reply", inReplyTo: status, text, visibility: status.visibility,
    onDone: (posted) => {
      fill(slot);
      status.replies_count += 1;
      refreshStatus(status);
      emit("posted", posted);
      toast(t("compose.replied"));
    },
    onCancel: () => { fill(slot); card.focus(); },
  });
  fill(slot, compose.el);
  compose.focus();
}

function openEdit(card, status) {
  const slot = slotOf(card);
  const shown = card.querySelectorAll(":scope > .content, :scope > .media, :scope > .cw, " +
    ":scope > .cw-body");
  const content = card.querySelector(".content");
  shown.forEach((el) => el.classList.add("editing"));
  const compose = createCompose({
    kind: "edit", editing: status, text: status.text ?? content.textContent,
    onDone: (edited) => { refreshStatus(edited); toast(t("compose.edited")); },
    onCancel: () => {
      fill(slot);
      shown.forEach((el) => el.classList.remove("editing"));
      card.focus();
    },
  });
  fill(slot, compose.el);
  compose.focus();
}

function confirmDelete(card, status) {
  const slot = slotOf(card);
  const yes = h("button", { type: "button", class: "danger", onclick: async () => {
    yes.disabled = true;
    try {
      await api.del(`/api/v1/statuses/${status.id}`);
      removeStatus(status.id);
      toast(t("status.deleted"));
    } catch (err) {
      yes.disabled = false;
      toast(errorText(err), "error");
    }
  } }, t("status.deleteConfirm"));
  const no = h("button", { type: "button", onclick: () => { fill(slot); card.focus(); } },
    t("common.cancel"));
  fill(slot, h("div", { class: "confirm", role: "group", "aria-label": t("status.deleteQuestion") },
    h("p", {}, t("status.deleteQuestion")), yes, no));
  no.focus();
}

// A message for people from an API error.
export function errorText(err) {
  if (!err || err.status === undefined) return t("error.generic");
  if (err.status === 0) return t("error.network");
  if (err.status === 429) return t("error.tooMany", { count: err.retryAfter || 60 });
  if (err.status === 404) return t("error.notFound");
  return err.message || t("error.generic");
}

// Updates the relative times on the page.
export function tickTimes() {
  for (const el of document.querySelectorAll("time[datetime]")) {
    el.textContent = relativeTime(el.getAttribute("datetime"));
  }
}

