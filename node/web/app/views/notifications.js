// notifications.js - what others did that concerns me: mentions, replies,
// likes of my posts, new followers; all of them or mentions only, paged
// as I scroll, new ones live from the user stream. Opening the page
// marks them seen (main.js keeps the unread count).

import { h, icon } from "../dom.js";
import { t, relativeTime, formatDate } from "../i18n.js";
import { createTimeline } from "../timeline.js";
import { renderStatus, displayName, profilePath } from "../status.js";
import { emit } from "../state.js";
import { heading } from "./common.js";

const ICON = { mention: "at", reply: "reply", favourite: "heart", follow: "user" };
const FILTERS = { all: null, mentions: ["mention", "reply"] };

export function renderNotification(n) {
  const who = h("a", { href: profilePath(n.account), class: "who" }, displayName(n.account));
  const known = Object.hasOwn(ICON, n.type);
  const text = t(known ? `notif.${n.type}` : "notif.other", { name: "\u0000" }).split("\u0000");
  return h("article", { class: `notification notification-${n.type}`, tabindex: "0",
    dataset: { id: n.id } },
  h("p", { class: "what" }, icon(ICON[n.type] || "bell"), text[0], who, text[1] || "",
    " ", h("time", { datetime: n.created_at, title: formatDate(n.created_at) },
      relativeTime(n.created_at))),
  n.status ? renderStatus(n.status, { compact: true }) : null);
}

export function notificationsView(main) {
  const body = h("div", {});
  let timeline = null;
  let filter = "all";
  const tabs = h("div", { class: "tabs", role: "group", "aria-label": t("notif.filter") });

  function show() {
    if (timeline) timeline.destroy();
    const types = FILTERS[filter];
    timeline = createTimeline({ path: "/api/v1/notifications", render: renderNotification,
      query: types ? { types } : {}, label: t("nav.notifications"),
      empty: t("notif.empty") });
    body.replaceChildren(timeline.el);
    tabs.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed",
      String(b.dataset.filter === filter)));
  }
  for (const name of Object.keys(FILTERS)) {
    tabs.append(h("button", { type: "button", dataset: { filter: name },
      onclick: () => { filter = name; show(); } }, t(`notif.${name}`)));
  }
  main.append(heading(t("nav.notifications"), tabs), body);
  show();
  emit("notifications-seen");
  return {
    title: t("nav.notifications"),
    onNotification(n) {
      const types = FILTERS[filter];
      if (!types || types.includes(n.type)) timeline.live(n);
      emit("notifications-seen");
    },
    catchUp() { timeline.catchUp(); },
    destroy() { timeline.destroy(); },
  };
}
