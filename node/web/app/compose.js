// compose.js - the form that writes a post, a reply, a group post or an
// edit: a text area with a character count (the node's limit, counted in
// characters as the node counts them), the visibility, and suggestions
// of people to mention while typing "@na" (from /api/v1/accounts/search,
// which knows every employee of every site, whether or not they ever
// posted: each shown with their title and site from the company
// directory; arrow keys choose, Enter or Tab takes, Escape closes).
// Ctrl+Enter (or Cmd+Enter) sends. Choosing "Mentioned people only" shows
// what it does not protect: such posts are not sealed yet, every site
// holds them in plain text (the node's instance information says the same).
//
// Photos and files (upload.js) are attached by the paper-clip button, by
// dropping files on the form or by pasting an image into the text; a
// post with attachments may have no text. The post waits for its
// uploads: sending while they are under way says so and posts once they
// are ready. A content warning (its own field, behind a button) hides
// the text and media of the post until readers choose to see them; the
// "sensitive" box hides only the media. An edit sends the attachments,
// warning and flag again, as the node replaces them all.

import * as api from "./api.js";
import { h, announce, uniqueId, fill, icon } from "./dom.js";
import { t, formatNumber } from "./i18n.js";
import { state, siteName } from "./state.js";
import { createTray } from "./upload.js";

const VISIBILITIES = ["public", "unlisted", "private", "direct"];
const MENTION_AT_CARET = /(^|[^\w@/#])@([a-z0-9_.-]+(?:@[a-z0-9_.-]*)?)$/i;

export function countChars(text) {
  return [...text].length;
}

// content: {status, media_ids, spoiler_text, sensitive}.
function submitRequest(opts, content, visibility) {
  if (opts.kind === "edit") return api.put(`/api/v1/statuses/${opts.editing.id}`, content);
  if (opts.kind === "group") {
    return api.post(`/api/ruche/v1/groups/${opts.group.id}/statuses`, content);
  }
  const body = { ...content, visibility };
  if (opts.inReplyTo) body.in_reply_to_id = opts.inReplyTo.id;
  return api.post("/api/v1/statuses", body);
}

function labels(kind) {
  return {
    post: [t("compose.label"), t("compose.send")],
    group: [t("compose.groupLabel"), t("compose.send")],
    reply: [t("compose.replyLabel"), t("compose.sendReply")],
    edit: [t("compose.editLabel"), t("compose.save")],
  }[kind];
}

// Who a suggested account is: their title in the company directory and
// their site (the directory's name for it, else the site of the account).
function whoIs(account) {
  const r = account.ruche || {};
  const at = account.acct.indexOf("@");
  const site = r.site || (at >= 0 ? account.acct.slice(at + 1) : siteName());
  return [r.title, site].filter(Boolean).join(" · ");
}

// The mention suggestions of a text area: a listbox under it.
function mentionSuggester(area) {
  const list = h("ul", { class: "suggestions", role: "listbox", id: uniqueId("mentions"),
    hidden: true, "aria-label": t("compose.suggestions") });
  area.setAttribute("role", "combobox");
  area.setAttribute("aria-autocomplete", "list");
  area.setAttribute("aria-expanded", "false");
  area.setAttribute("aria-controls", list.id);
  let items = [];
  let active = -1;
  let timer = 0;
  let asked = "";

  function close() {
    list.hidden = true;
    items = [];
    active = -1;
    area.setAttribute("aria-expanded", "false");
    area.removeAttribute("aria-activedescendant");
  }
  function mark(i) {
    active = i;
    list.querySelectorAll("li").forEach((li, j) => li.setAttribute("aria-selected", String(j === i)));
    if (i >= 0) area.setAttribute("aria-activedescendant", `${list.id}-${i}`);
  }
  function take(i) {
    const before = area.value.slice(0, area.selectionStart);
    const m = before.match(MENTION_AT_CARET);
    if (!m || !items[i]) return close();
    const start = before.length - m[2].length - 1;
    const insert = `@${items[i].acct} `;
    area.value = area.value.slice(0, start) + insert + area.value.slice(area.selectionStart);
    area.selectionStart = area.selectionEnd = start + insert.length;
    area.dispatchEvent(new Event("input"));
    close();
  }
  function show(accounts) {
    items = accounts;
    fill(list, accounts.map((a, i) => h("li", {
      id: `${list.id}-${i}`, role: "option", "aria-selected": "false",
      onmousedown: (e) => { e.preventDefault(); take(i); },
    }, h("span", { class: "name" }, a.display_name || a.username),
    h("span", { class: "acct" }, `@${a.acct}`),
    whoIs(a) ? h("span", { class: "who" }, whoIs(a)) : null)));
    list.hidden = accounts.length === 0;
    area.setAttribute("aria-expanded", String(accounts.length > 0));
    mark(accounts.length ? 0 : -1);
  }
  async function lookup(q) {
    asked = q;
    try {
      const { data } = await api.get("/api/v1/accounts/search", { q, limit: 6 });
      if (asked === q && Array.isArray(data)) show(data);
    } catch {
      close(); // no suggestions is no harm
    }
  }
  area.addEventListener("input", () => {
    const m = area.value.slice(0, area.selectionStart).match(MENTION_AT_CARET);
    window.clearTimeout(timer);
    if (!m) return close();
    timer = window.setTimeout(() => lookup(m[2]), 150);
  });
  area.addEventListener("blur", () => window.setTimeout(close, 100));
  area.addEventListener("keydown", (e) => {
    if (list.hidden || !items.length) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      mark((active + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length);
    } else if ((e.key === "Enter" || e.key === "Tab") && active >= 0 && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      take(active);
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      close();
    }
  });
  return list;
}

// The visibility choice and the note shown under the form while "direct"
// is chosen, which the choice names as its description.
function visibilityPicker(initial) {
  const note = h("p", { class: "visibility-note", id: uniqueId("visibility-note"), role: "note" },
    t("visibility.directNote"));
  const select = h("select", { class: "visibility-select", "aria-label": t("compose.visibility"),
    "aria-describedby": note.id },
  VISIBILITIES.map((v) => h("option", { value: v }, t(`visibility.${v}`))));
  select.value = VISIBILITIES.includes(initial) ? initial : "public";
  const show = () => { note.hidden = select.value !== "direct"; };
  select.addEventListener("change", show);
  show();
  return { select, note };
}

// The content warning: a button that shows or hides its field. Returns
// {button, field, input, value(), reset()}.
function warningField(initial) {
  const id = uniqueId("cw");
  const input = h("input", { type: "text", id, class: "cw-input", autocomplete: "off",
    maxlength: "500", placeholder: t("compose.warningHint") });
  input.value = initial || "";
  const field = h("div", { class: "cw-field", id: uniqueId("cw-field"), hidden: !initial },
    h("label", { for: id }, t("compose.warning")), input);
  const button = h("button", { type: "button", class: "cw-button", "aria-controls": field.id,
    "aria-pressed": String(Boolean(initial)), "aria-label": t("compose.warningToggle") }, "CW");
  button.addEventListener("click", () => {
    field.hidden = !field.hidden;
    button.setAttribute("aria-pressed", String(!field.hidden));
    if (!field.hidden) input.focus();
  });
  return {
    button, field, input,
    value: () => (field.hidden ? "" : input.value.trim()),
    reset() {
      input.value = "";
      field.hidden = true;
      button.setAttribute("aria-pressed", "false");
    },
  };
}

// The paper clip: a button that opens the file picker (a hidden input).
function attachButton(tray) {
  const input = h("input", { type: "file", multiple: true, class: "visually-hidden",
    tabindex: "-1", "aria-hidden": "true" });
  input.addEventListener("change", () => {
    tray.add(input.files);
    input.value = "";
  });
  const button = h("button", { type: "button", class: "attach", "aria-label": t("media.attach"),
    title: t("media.attach"), onclick: () => input.click() }, icon("clip"));
  return [button, input];
}

// Files dropped on the form or pasted into the text go to the tray.
function takeFiles(form, area, tray) {
  const hasFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes("Files");
  form.addEventListener("dragover", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
    form.classList.add("dropping");
  });
  form.addEventListener("dragleave", (e) => {
    if (!form.contains(e.relatedTarget)) form.classList.remove("dropping");
  });
  form.addEventListener("drop", (e) => {
    form.classList.remove("dropping");
    if (!hasFiles(e) || !e.dataTransfer.files.length) return;
    e.preventDefault();
    tray.add(e.dataTransfer.files);
  });
  area.addEventListener("paste", (e) => {
    const files = e.clipboardData ? [...e.clipboardData.files] : [];
    if (!files.length) return; // text is pasted as text
    e.preventDefault();
    tray.add(files);
  });
}

// opts: {kind: "post"|"reply"|"group"|"edit", inReplyTo, editing, group,
// text, visibility, onDone(status), onCancel()}. Returns {el, focus}.
export function createCompose(opts) {
  const [label, sendText] = labels(opts.kind);
  const areaId = uniqueId("compose");
  const counterId = uniqueId("counter");
  const area = h("textarea", { id: areaId, name: "status", rows: opts.kind === "post" ? 3 : 2,
    "aria-describedby": counterId, spellcheck: "true", autocomplete: "off" });
  area.value = opts.text || "";
  const counter = h("span", { class: "counter", id: counterId });
  const spoken = h("span", { class: "visually-hidden", "aria-live": "polite" });
  const send = h("button", { type: "submit", class: "primary" }, sendText);
  const error = h("p", { class: "form-error", role: "alert" });
  const picker = opts.kind === "post" || opts.kind === "reply" ? visibilityPicker(opts.visibility)
    : null;
  const editing = opts.kind === "edit" ? opts.editing : null;
  const tray = createTray(editing ? editing.media_attachments || [] : []);
  const warning = warningField(editing && editing.spoiler_text);
  const sensitive = h("input", { type: "checkbox", class: "sensitive-box",
    checked: Boolean(editing && editing.sensitive) });
  const sensitiveLabel = h("label", { class: "sensitive-field" }, sensitive,
    t("compose.sensitive"));
  const form = h("form", { class: `compose compose-${opts.kind}`, novalidate: true },
    h("label", { for: areaId, class: opts.kind === "post" || opts.kind === "group" ? "compose-label"
      : "visually-hidden" },
      label),
    opts.inReplyTo ? h("p", { class: "replying" }, t("compose.replyingTo",
      { name: opts.inReplyTo.account.display_name || opts.inReplyTo.account.username })) : null,
    warning.field, area, mentionSuggester(area), tray.el, sensitiveLabel,
    h("div", { class: "compose-bar" }, attachButton(tray), warning.button,
      picker && picker.select, counter, spoken,
      opts.onCancel ? h("button", { type: "button", onclick: () => opts.onCancel() },
        t("common.cancel")) : null,
      send),
    picker && picker.note,
    error);
  takeFiles(form, area, tray);
  let sending = false;

  let lastBand = "";
  function update() {
    const left = state.maxChars - countChars(area.value);
    counter.textContent = formatNumber(left);
    counter.title = t("compose.left", { count: left });
    counter.className = `counter${left < 0 ? " over" : left < 100 ? " low" : ""}`;
    send.disabled = sending || (area.value.trim() === "" && !tray.has()) || left < 0;
    send.textContent = sending && tray.busy() ? t("media.waiting") : sendText;
    sensitiveLabel.hidden = !tray.has();
    const band = left < 0 ? "over" : left < 100 ? "low" : "";
    if (band !== lastBand && band) spoken.textContent = t("compose.left", { count: left });
    lastBand = band;
  }
  tray.onChange = update;
  area.addEventListener("input", update);
  area.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    } else if (e.key === "Escape" && opts.onCancel) {
      opts.onCancel();
    }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (send.disabled) return;
    sending = true;
    error.textContent = "";
    form.setAttribute("aria-busy", "true");
    update();
    if (tray.busy()) announce(t("media.waiting"));
    try {
      const ids = await tray.settle();
      const content = { status: area.value, media_ids: ids, spoiler_text: warning.value(),
        sensitive: tray.has() && sensitive.checked };
      const { data } = await submitRequest(opts, content, picker ? picker.select.value : undefined);
      if (opts.kind === "post" || opts.kind === "group") area.value = "";
      if (opts.kind !== "edit") { // the uploads are the post's now
        tray.clear();
        warning.reset();
        sensitive.checked = false;
      }
      announce(t(opts.kind === "edit" ? "compose.edited" : "compose.posted"));
      opts.onDone(data);
    } catch (err) {
      error.textContent = err.status === 0 ? t("error.network") : err.message;
    } finally {
      sending = false;
      form.removeAttribute("aria-busy");
      update();
    }
  });
  update();
  return {
    el: form,
    area,
    focus() {
      area.focus();
      area.selectionStart = area.selectionEnd = area.value.length;
    },
  };
}
