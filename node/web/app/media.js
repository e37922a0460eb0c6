// media.js - a status's attachments (Mastodon MediaAttachment objects) in
// its card: images as a gallery, other files as rows to download.
//
// The gallery lays out 1 to 4 images as Mastodon does (one wide; two side
// by side; one tall beside two; four in a square), more in further
// groups of four. Each shows its thumbnail (preview_url) cropped around
// its focal point, with its alt text as the image's alt and a visible
// "ALT" badge, and opens the full-size viewer (viewer.js) when chosen.
// A file is a link that downloads it (its URL ends with its name), with
// an icon, its name, its type and its size.
//
// A pending attachment (ruche.pending: the file is still on its way from
// the site that has it; its URL answers 503 meanwhile) shows its blurhash
// drawn on a canvas (blurhash.js), or for a file a note, until its URL
// answers: the page asks again with a growing delay (RETRY_FIRST_MS,
// doubling up to RETRY_MAX_MS) while the card is on the page. The
// blurhash also sits behind every thumbnail while it loads.
//
// Sensitive media (status.sensitive) without a content warning are hidden
// behind a button that shows them; with a content warning, the warning's
// own "show more" (status.js) already asked, so nothing more is hidden.

import * as api from "./api.js";
import { drawBlurhash } from "./blurhash.js";
import { h, icon } from "./dom.js";
import { t, formatBytes } from "./i18n.js";
import { openViewer } from "./viewer.js";

const RETRY_FIRST_MS = 2000;
const RETRY_MAX_MS = 60000;

// Calls ready() once path answers 200 to HEAD; stops when el has left
// the page.
function whenServed(path, el, ready) {
  let wait = RETRY_FIRST_MS;
  const attempt = async () => {
    if (!el.isConnected) return;
    try {
      const res = await fetch(path, { method: "HEAD", credentials: "same-origin" });
      if (res.ok) {
        ready();
        return;
      }
    } catch {
      // the network: as for a 503
    }
    wait = Math.min(RETRY_MAX_MS, wait * 2);
    window.setTimeout(attempt, wait);
  };
  window.setTimeout(attempt, wait);
}

// The CSS object-position of a focal point (x, y from -1 to 1, up positive).
function focusPosition(meta) {
  const f = meta && meta.focus;
  if (!f || !Number.isFinite(f.x) || !Number.isFinite(f.y)) return "50% 50%";
  const clamp = (v) => Math.min(100, Math.max(0, v));
  return `${clamp(((f.x + 1) / 2) * 100)}% ${clamp(((1 - f.y) / 2) * 100)}%`;
}

function thumbnail(images, i, pending) {
  const a = images[i];
  const aspect = a.meta?.small?.aspect || a.meta?.original?.aspect || 1;
  const label = a.description ? t("media.openAlt", { alt: a.description })
    : t("media.open", { n: i + 1, total: images.length });
  const item = h("button", { type: "button", class: "media-item", "aria-label": label,
    dataset: { id: a.id } });
  const placeholder = drawBlurhash(a.blurhash, aspect);
  if (placeholder) item.append(placeholder);
  const path = api.mediaPath(a.preview_url || a.url);
  const addImage = () => {
    const img = h("img", { src: path, alt: a.description || "", loading: "lazy",
      decoding: "async" });
    img.style.objectPosition = focusPosition(a.meta);
    item.prepend(img);
    item.classList.remove("pending");
  };
  if (pending && path) {
    item.classList.add("pending");
    item.append(h("span", { class: "media-pending" }, t("media.pending")));
    whenServed(path, item, addImage);
  } else if (path) {
    addImage();
  }
  if (a.description) item.append(h("span", { class: "alt-badge", "aria-hidden": "true" }, "ALT"));
  item.addEventListener("click", () => openViewer(images.map((x) => ({ url: x.url,
    description: x.description, name: x.ruche?.name })), i, item));
  return item;
}

function gallery(images) {
  const groups = [];
  for (let start = 0; start < images.length; start += 4) {
    const group = h("div", { class: `gallery gallery-${Math.min(4, images.length - start)}` });
    for (let i = start; i < Math.min(images.length, start + 4); i += 1) {
      group.append(thumbnail(images, i, images[i].ruche?.pending));
    }
    groups.push(group);
  }
  return groups;
}

function fileRow(a) {
  const name = a.ruche?.name || t("media.file");
  const path = api.mediaPath(a.url);
  const parts = [icon("file"), h("span", { class: "file-name" }, name),
    h("span", { class: "file-meta" }, [a.ruche?.mime, Number.isFinite(a.ruche?.size)
      ? formatBytes(a.ruche.size) : null].filter(Boolean).join(" · "))];
  const row = h("li", { class: "file", dataset: { id: a.id } });
  const link = () => h("a", { class: "file-link", href: path, download: name,
    "aria-label": t("media.download", { name }) }, parts, icon("download"));
  if (a.ruche?.pending && path) {
    row.append(h("span", { class: "file-link pending" }, parts,
      h("span", { class: "media-pending" }, t("media.pending"))));
    whenServed(path, row, () => row.replaceChildren(link()));
  } else if (path) {
    row.append(link());
  } else {
    row.append(h("span", { class: "file-link" }, parts));
  }
  return row;
}

// The attachments of status as one element (null when it has none).
// revealed(): whether its sensitive media were shown already (kept by
// status.js across redraws); onReveal() says they are.
export function renderMedia(status, { revealed, onReveal }) {
  const all = status.media_attachments || [];
  if (!all.length) return null;
  const images = all.filter((a) => a.type === "image");
  const files = all.filter((a) => a.type !== "image");
  const body = h("div", { class: "media-body" }, gallery(images),
    files.length ? h("ul", { class: "files", "aria-label": t("media.files") },
      files.map(fileRow)) : null);
  const box = h("div", { class: "media" }, body);
  if (!status.sensitive || status.spoiler_text || revealed()) return box;
  body.hidden = true;
  const cover = h("button", { type: "button", class: "sensitive-cover" },
    h("strong", {}, t("media.sensitive")), h("span", {}, t("media.reveal")));
  const first = images[0];
  const placeholder = first && drawBlurhash(first.blurhash, first.meta?.small?.aspect || 1);
  if (placeholder) cover.prepend(placeholder);
  cover.addEventListener("click", () => {
    cover.remove();
    body.hidden = false;
    onReveal();
    const target = body.querySelector("button, a[href]");
    if (target) target.focus();
  });
  box.prepend(cover);
  return box;
}
