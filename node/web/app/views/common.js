// common.js - pieces the views share.

import { h, uniqueId } from "../dom.js";
import { LANGUAGES, currentLanguage, t } from "../i18n.js";
import { emit } from "../state.js";

// The view's title: the first thing a screen reader hears after a page
// change, where the keyboard focus goes (main.js).
export function heading(text, extra) {
  return h("div", { class: "view-head" }, h("h1", { tabindex: "-1" }, text), extra || null);
}

// The language menu; changing it reloads the page's texts (main.js).
export function languagePicker() {
  const id = uniqueId("lang");
  const select = h("select", { id, class: "language" },
    Object.entries(LANGUAGES).map(([code, name]) => h("option", { value: code, lang: code }, name)));
  select.value = currentLanguage();
  select.addEventListener("change", () => emit("language", select.value));
  return h("span", { class: "language-picker" },
    h("label", { for: id, class: "visually-hidden" }, t("common.language")), select);
}
