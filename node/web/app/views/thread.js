// thread.js - a status with its thread: the posts it answers above, the
// replies below it, indented by depth, and a reply box. Replies made here
// or arriving live (from any site) take their place under their parent.

import * as api from "../api.js";
import { createCompose } from "../compose.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { emit, on, isMe } from "../state.js";
import { renderStatus, errorText, displayName } from "../status.js";
import { heading } from "./common.js";

// Depth of each status under the root of the page (ancestors are 0).
function depths(focused, descendants) {
  const depth = new Map([[focused.id, 0]]);
  for (const s of descendants) depth.set(s.id, (depth.get(s.in_reply_to_id) ?? 0) + 1);
  return depth;
}

function depthOf(el) {
  return el.dataset.depth === undefined ? Infinity : Number(el.dataset.depth);
}

export function threadView(main, [id]) {
  const list = h("div", { class: "thread", role: "feed", "aria-busy": "true",
    "aria-label": t("thread.label") });
  const error = h("p", { class: "form-error", role: "alert" });
  main.append(heading(t("thread.title")), error, list);
  const inThread = new Set();

  function place(status) {
    if (inThread.has(status.id) || !inThread.has(status.in_reply_to_id)) return;
    const parent = list.querySelector(`article[data-id="${CSS.escape(status.in_reply_to_id)}"]`);
    const depth = Number(parent.dataset.depth) + 1;
    let after = parent; // past the parent's replies (and the reply box: no depth)
    while (after.nextElementSibling && depthOf(after.nextElementSibling) >= depth) {
      after = after.nextElementSibling;
    }
    after.after(renderStatus(status, { depth }));
    inThread.add(status.id);
  }

  async function load() {
    try {
      const [{ data: status }, { data: context }] = await Promise.all([
        api.get(`/api/v1/statuses/${id}`), api.get(`/api/v1/statuses/${id}/context`)]);
      const depth = depths(status, context.descendants);
      context.ancestors.forEach((s) => list.append(renderStatus(s)));
      const focused = renderStatus(status, { focused: true });
      list.append(focused);
      context.descendants.forEach((s) => list.append(renderStatus(s, { depth: depth.get(s.id) })));
      [...context.ancestors, status, ...context.descendants].forEach((s) => inThread.add(s.id));
      const mention = isMe(status.account) ? "" : `@${status.account.acct} `;
      const reply = createCompose({ kind: "reply", inReplyTo: status, text: mention,
        visibility: status.visibility, onDone: (posted) => { emit("posted", posted); } });
      focused.after(h("section", { class: "thread-reply", "aria-label":
        t("compose.replyingTo", { name: displayName(status.account) }) }, reply.el));
      document.title = `${displayName(status.account)}: ${status.text || ""}`.slice(0, 80);
    } catch (err) {
      error.textContent = errorText(err);
    } finally {
      list.setAttribute("aria-busy", "false");
    }
  }
  load();
  const off = on("posted", place);
  return {
    title: t("thread.title"),
    onUpdate(status) { place(status); },
    destroy: off,
  };
}
