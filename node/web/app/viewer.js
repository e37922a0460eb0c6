// viewer.js - a status's images at full size: a modal dialog over the
// page with the display image, its alt text written beneath it (or a
// note that it has none), its place among the status's images and a
// link that downloads it.
//
// Keyboard: Left and Right go to the previous and next image (around the
// ends), Escape closes; Tab stays inside the dialog (the page behind is
// inert while it is open), and closing gives the focus back to the
// thumbnail that opened it. A click outside the image closes it too. Keys
// pressed here go no further, so the page's shortcuts (j, k, n...) wait.

import * as api from "./api.js";
import { h, icon, announce } from "./dom.js";
import { t } from "./i18n.js";

// The controls Tab moves between, in order.
function focusables(dialog) {
  return [...dialog.querySelectorAll("button, a[href]")].filter((el) => !el.hidden &&
    !el.disabled);
}

// images: [{url, description, name}] (url as the node wrote it); index:
// the one to show first; opener: where the focus goes back.
export function openViewer(images, index, opener) {
  const img = h("img", { class: "viewer-image", alt: "" });
  const alt = h("p", { class: "viewer-alt" });
  const count = h("p", { class: "viewer-count", "aria-live": "polite" });
  const download = h("a", { class: "viewer-download", download: "" }, icon("download"),
    t("viewer.download"));
  const several = images.length > 1;
  const prev = h("button", { type: "button", class: "viewer-prev", hidden: !several,
    "aria-label": t("viewer.previous"), onclick: () => show(at - 1) }, icon("chevronLeft"));
  const next = h("button", { type: "button", class: "viewer-next", hidden: !several,
    "aria-label": t("viewer.next"), onclick: () => show(at + 1) }, icon("chevronRight"));
  const close = h("button", { type: "button", class: "viewer-close",
    "aria-label": t("viewer.close"), onclick: () => finish() }, icon("close"));
  const dialog = h("dialog", { class: "viewer", "aria-label": t("viewer.label") },
    h("div", { class: "viewer-bar" }, count, download, close),
    h("figure", { class: "viewer-figure" }, prev, img, next,
      h("figcaption", {}, alt)));
  let at = 0;

  function show(i) {
    at = (i + images.length) % images.length;
    const image = images[at];
    const path = api.mediaPath(image.url);
    if (path) img.setAttribute("src", path);
    else img.removeAttribute("src");
    img.alt = image.description || "";
    alt.textContent = image.description || t("viewer.noAlt");
    alt.classList.toggle("none", !image.description);
    count.textContent = several ? t("viewer.count", { n: at + 1, total: images.length }) : "";
    if (path) download.setAttribute("href", path);
    download.setAttribute("download", image.name || "");
  }

  function finish() {
    if (!dialog.open) return;
    dialog.close();
    dialog.remove();
    if (opener && opener.isConnected) opener.focus();
  }

  dialog.addEventListener("cancel", (e) => { // Escape, as the browser sees it
    e.preventDefault();
    finish();
  });
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog || e.target.classList.contains("viewer-figure")) finish();
  });
  dialog.addEventListener("keydown", (e) => {
    e.stopPropagation();
    if (e.key === "Escape") {
      e.preventDefault();
      finish();
    } else if ((e.key === "ArrowLeft" || e.key === "ArrowRight") && several) {
      e.preventDefault();
      show(at + (e.key === "ArrowRight" ? 1 : -1));
    } else if (e.key === "Tab") {
      const list = focusables(dialog);
      const here = list.indexOf(document.activeElement);
      const to = e.shiftKey ? (here <= 0 ? list.length - 1 : here - 1)
        : (here === list.length - 1 ? 0 : here + 1);
      e.preventDefault();
      list[to].focus();
    }
  });

  show(index);
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
  announce(t("viewer.opened"));
  return { close: finish };
}
