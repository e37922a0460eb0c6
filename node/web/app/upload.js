// upload.js - the photos and files attached to the post being written:
// added by the composer's button, by dropping files on it or by pasting
// an image, each sent at once and shown as a row of the tray with its
// preview (the picture itself for images, drawn from the user's own file
// through a blob: URL; name, type and size for files), its progress, an
// alt-text field and a remove button.
//
// An upload goes in two steps, as in Mastodon: POST /api/v2/media sends
// the bytes (XMLHttpRequest, for the progress bar) and the node answers
// 202 at once; GET /api/v1/media/:id then answers 206 while the node
// processes it ("Processing…" here), 200 when it is ready, 422 with the
// reason when it refused it (a damaged image, a decompression bomb). That
// polling gives up after READY_MS. Whatever the node refuses shows in the
// node's own words.
//
// The composer waits for the tray before it posts (settle()): every
// upload must be ready, and alt text typed since the upload is sent with
// PUT /api/v1/media/:id. When editing, the post's attachments are in the
// tray too, kept by their ids; their alt text cannot change here (the
// node takes new alt text only for uploads), so it is shown as it is.

import * as api from "./api.js";
import { h, icon, uniqueId, announce } from "./dom.js";
import { t, formatBytes, formatNumber } from "./i18n.js";
import { state } from "./state.js";

const READY_MS = 120000; // for the node to process an upload
const POLL_FIRST_MS = 250;
const POLL_MAX_MS = 2000;

// What the node says it takes (its instance information), else Mastodon's
// defaults.
export function mediaLimits() {
  const conf = state.instance?.configuration || {};
  return {
    count: conf.statuses?.max_media_attachments || 4,
    bytes: conf.media_attachments?.image_size_limit || 0,
    alt: conf.media_attachments?.description_limit || 1500,
  };
}

// The words for an upload the node (or the network) refused.
function refusal(err) {
  if (err.status === 0) return t("error.network");
  return err.message || t("error.generic");
}

const pause = (ms) => new Promise((resolve) => { window.setTimeout(resolve, ms); });

// Polls the upload until it is ready: its attachment, or an ApiError
// (422 with the node's reason). item.removed stops it.
async function untilReady(item) {
  const deadline = Date.now() + READY_MS;
  let wait = POLL_FIRST_MS;
  for (;;) {
    const { data, status } = await api.get(`/api/v1/media/${encodeURIComponent(item.id)}`);
    if (status === 200) return data;
    if (item.removed) throw new api.ApiError(-1, "aborted", null);
    if (Date.now() > deadline) throw new api.ApiError(408, t("media.timeout"), null);
    await pause(wait);
    wait = Math.min(POLL_MAX_MS, wait * 2);
  }
}

// One row of the tray. item: {file} for a new upload or {attachment} for
// one the post has; the row fills in the rest.
function row(item, tray) {
  const image = item.attachment ? item.attachment.type === "image"
    : /^image\//.test(item.file.type);
  const name = item.attachment ? item.attachment.ruche?.name || t("media.file") : item.file.name;
  const size = item.attachment ? item.attachment.ruche?.size : item.file.size;
  const type = item.attachment ? item.attachment.ruche?.mime : item.file.type;
  item.name = name || t("media.file");
  const preview = h("div", { class: "upload-preview", "aria-hidden": "true" }, icon("file"));
  const src = item.attachment ? api.mediaPath(item.attachment.preview_url)
    : image && URL.createObjectURL(item.file);
  if (item.file && src) item.objectUrl = src;
  if (src) {
    const img = h("img", { src, alt: "" });
    img.addEventListener("error", () => img.remove()); // a type the browser cannot show
    preview.append(img);
  }
  const progress = h("progress", { max: "100", value: "0", "aria-label":
    t("media.uploading", { name: item.name }) });
  const said = h("span", { class: "upload-state", role: "status" });
  const altId = uniqueId("alt");
  const alt = h("textarea", { id: altId, class: "upload-alt", rows: 2,
    maxlength: String(mediaLimits().alt), placeholder: t("media.altHint") });
  alt.value = item.description;
  alt.addEventListener("input", () => { item.description = alt.value; });
  const altField = item.attachment
    ? (item.description ? h("p", { class: "upload-alt-text" }, h("span", { class: "alt-badge" },
      "ALT"), " ", item.description) : null)
    : h("div", { class: "upload-alt-field", hidden: !image },
      h("label", { for: altId }, t("media.alt")), alt);
  const remove = h("button", { type: "button", class: "upload-remove",
    "aria-label": t("media.remove", { name: item.name }), onclick: () => tray.remove(item) },
  icon("close"));
  const phase = item.attachment ? "ready" : "uploading";
  const el = h("li", { class: "upload", dataset: { state: phase } },
    preview,
    h("div", { class: "upload-body" },
      h("p", { class: "upload-name" }, h("span", { class: "name" }, item.name),
        h("span", { class: "upload-meta" }, [type, size !== undefined ? formatBytes(size) : null]
          .filter(Boolean).join(" · "))),
      item.attachment ? null : progress, said, altField),
    remove);
  item.el = el;
  item.show = (phase, text, fraction) => {
    el.dataset.state = phase;
    said.textContent = text || "";
    if (fraction !== undefined) progress.value = String(Math.round(fraction * 100));
    progress.hidden = phase !== "uploading";
    if (phase === "failed") {
      said.setAttribute("role", "alert");
      if (altField) altField.hidden = true;
    }
  };
  item.showAlt = (shown) => {
    if (!item.attachment) altField.hidden = !shown;
  };
  return el;
}

// Sends item's file and follows it until it is ready or refused.
async function send(item) {
  const limit = mediaLimits().bytes;
  const percent = (fraction) => {
    const shown = formatNumber(Math.round(fraction * 100));
    item.show("uploading", t("media.percent", { percent: shown }), fraction);
  };
  try {
    if (limit && item.file.size > limit) {
      throw new api.ApiError(413, t("media.tooBig", { size: formatBytes(limit) }), null);
    }
    percent(0);
    const request = api.upload("/api/v2/media", item.file, percent);
    item.abort = request.abort;
    const { data } = await request.done;
    item.id = data.id;
    item.showAlt(data.type === "image");
    item.show("processing", t("media.processing"));
    item.attachment = await untilReady(item);
    item.saved = item.attachment.description || "";
    item.show("ready", t("media.ready"));
    announce(t("media.readyNamed", { name: item.name }));
  } catch (err) {
    if (!item.removed) item.show("failed", refusal(err));
    throw err;
  } finally {
    item.abort = null;
  }
}

// The tray: returns {el, add(files), has(), busy(), settle(), clear(),
// onChange}. attachments: those the post has already (an edit).
export function createTray(attachments = []) {
  const list = h("ul", { class: "uploads", "aria-label": t("media.list") });
  const note = h("p", { class: "form-error", role: "alert" });
  const items = [];
  const tray = {
    el: h("div", { class: "tray" }, list, note),
    onChange: () => {},
    has: () => items.length > 0,
    busy: () => items.some((i) => i.pending),
    add(files) {
      note.textContent = "";
      const room = mediaLimits().count - items.length;
      const taken = [...files].slice(0, Math.max(0, room));
      if (taken.length < files.length) {
        note.textContent = t("media.tooMany", { count: mediaLimits().count });
      }
      for (const file of taken) {
        const item = { file, description: "", saved: "", pending: true };
        items.push(item);
        list.append(row(item, tray));
        item.done = send(item).finally(() => { item.pending = false; tray.onChange(); });
        item.done.catch(() => {}); // shown in its row; settle() reports it
      }
      tray.onChange();
    },
    remove(item) {
      item.removed = true;
      if (item.abort) item.abort();
      if (item.objectUrl) URL.revokeObjectURL(item.objectUrl);
      items.splice(items.indexOf(item), 1);
      const next = item.el.nextElementSibling || item.el.previousElementSibling;
      item.el.remove();
      note.textContent = "";
      announce(t("media.removed", { name: item.name }));
      const focus = next && next.querySelector(".upload-remove");
      if (focus) focus.focus();
      tray.onChange();
    },
    // Waits for every upload; sends the alt text typed meanwhile. Resolves
    // to the media ids in order, or rejects with the words to show.
    async settle() {
      await Promise.allSettled(items.map((i) => i.done));
      if (items.some((i) => !i.attachment)) throw new Error(t("media.fixFirst"));
      for (const item of items.filter((i) => i.file && i.description !== i.saved)) {
        const { data } = await api.put(`/api/v1/media/${encodeURIComponent(item.id)}`,
          { description: item.description });
        item.saved = data.description || "";
      }
      return items.map((i) => (i.file ? i.id : i.attachment.id));
    },
    clear() {
      for (const item of [...items]) {
        if (item.objectUrl) URL.revokeObjectURL(item.objectUrl);
        item.removed = true;
      }
      items.splice(0);
      list.replaceChildren();
      note.textContent = "";
      tray.onChange();
    },
  };
  for (const attachment of attachments) {
    const item = { attachment, description: attachment.description || "", pending: false };
    items.push(item);
    list.append(row(item, tray));
  }
  return tray;
}
