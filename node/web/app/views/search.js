// search.js - search over people, hashtags and posts (/api/v2/search:
// every word must match, accents and case do not matter). The query is
// in the address (/search?q=...), so a search can be shared and the back
// button works; more posts load with the offset.

import * as api from "../api.js";
import { h, fill, icon, uniqueId, announce } from "../dom.js";
import { t } from "../i18n.js";
import { navigate } from "../router.js";
import { renderStatus, displayName, profilePath, siteChip, accountSite, errorText }
  from "../status.js";
import { heading } from "./common.js";

const PAGE = 20;

function section(title, items) {
  const id = uniqueId("results");
  return h("section", { class: "results", "aria-labelledby": id },
    h("h2", { id }, title), items);
}

function accountItem(a) {
  return h("li", {}, h("a", { href: profilePath(a), class: "account-link" },
    icon("user"), h("span", { class: "name" }, displayName(a)),
    h("span", { class: "acct" }, `@${a.acct}`)), siteChip(accountSite(a)));
}

function statusesSection(q, first) {
  const feed = h("div", { class: "feed", role: "feed", "aria-label": t("search.posts") },
    first.map((s) => renderStatus(s)));
  let offset = first.length;
  const more = h("button", { type: "button", class: "more", hidden: first.length < PAGE },
    t("timeline.more"));
  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      const { data } = await api.get("/api/v2/search", { q, type: "statuses", limit: PAGE,
        offset });
      data.statuses.forEach((s) => feed.append(renderStatus(s)));
      offset += data.statuses.length;
      more.hidden = data.statuses.length < PAGE;
    } finally {
      more.disabled = false;
    }
  });
  return section(t("search.posts"), [first.length ? feed
    : h("p", { class: "empty" }, t("search.noPosts")), more]);
}

function results(q, data) {
  const out = [];
  if (data.accounts.length) {
    out.push(section(t("search.people"), h("ul", { class: "account-list" },
      data.accounts.map(accountItem))));
  }
  if (data.hashtags.length) {
    out.push(section(t("search.tags"), h("ul", { class: "tag-list" }, data.hashtags.map((tag) =>
      h("li", {}, h("a", { href: `/tags/${encodeURIComponent(tag.name)}` }, `#${tag.name}`))))));
  }
  out.push(statusesSection(q, data.statuses));
  return out;
}

export function searchView(main, params, query) {
  const q = (query.get("q") || "").trim();
  const inputId = uniqueId("search");
  const input = h("input", { id: inputId, type: "search", name: "q", value: q,
    autocomplete: "off", enterkeyhint: "search" });
  const form = h("form", { class: "search-form", role: "search" },
    h("label", { for: inputId }, t("search.label")), input,
    h("button", { type: "submit", class: "primary" }, icon("search"), t("search.button")));
  const out = h("div", { class: "search-results", "aria-busy": "false" });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (text) navigate(`/search?q=${encodeURIComponent(text)}`);
  });
  main.append(heading(q ? t("search.titleFor", { q }) : t("search.title")), form, out);
  if (q) {
    out.setAttribute("aria-busy", "true");
    fill(out, h("p", { class: "loading" }, t("timeline.loading")));
    api.get("/api/v2/search", { q, limit: PAGE, resolve: "false" })
      .then(({ data }) => {
        fill(out, results(q, data));
        announce(t("search.found", { count: data.accounts.length + data.hashtags.length +
          data.statuses.length }));
      })
      .catch((err) => fill(out, h("p", { class: "form-error", role: "alert" }, errorText(err))))
      .finally(() => out.setAttribute("aria-busy", "false"));
  } else {
    window.setTimeout(() => input.focus(), 0);
  }
  return { title: q ? t("search.titleFor", { q }) : t("search.title") };
}
