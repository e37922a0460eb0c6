// timeline.js - a feed of statuses (or notifications) from one API path,
// newest first.
//
// Older pages load as the end of the feed scrolls into view (and with the
// "Load more" button, for keyboards), following the Link header's
// rel="next". Statuses that arrive live go to the top at once when the
// reader is at the top; otherwise they wait behind a "N new posts" button,
// so that the text being read does not move. After the live stream was
// cut, catchUp() asks for what is newer than the newest shown.

import * as api from "./api.js";
import { h, announce } from "./dom.js";
import { t } from "./i18n.js";
import { renderStatus, errorText } from "./status.js";

const PAGE = 20;

// opts: {path, label, empty, query, render}: render draws one item (by
// default a status card; the notifications use their own). Returns the
// feed's element and calls.
export function createTimeline(opts) {
  const render = opts.render || renderStatus;
  const feed = h("div", { class: "feed", role: "feed", "aria-busy": "false",
    "aria-label": opts.label });
  const empty = h("p", { class: "empty", hidden: true }, opts.empty || t("timeline.empty"));
  const error = h("p", { class: "form-error", role: "alert" });
  const more = h("button", { type: "button", class: "more" }, t("timeline.more"));
  const fresh = h("button", { type: "button", class: "new-posts", hidden: true });
  const el = h("section", { class: "timeline" }, fresh, feed, empty, error, more);
  const shown = new Set();
  const waiting = [];
  let next = api.withQuery(opts.path, { limit: PAGE, ...(opts.query || {}) });
  let loading = false;
  let ended = false;

  function add(item, atTop) {
    if (shown.has(item.id)) return;
    shown.add(item.id);
    const card = render(item);
    if (atTop) feed.prepend(card);
    else feed.append(card);
    empty.hidden = true;
  }

  async function loadMore() {
    if (loading || ended) return;
    loading = true;
    feed.setAttribute("aria-busy", "true");
    more.disabled = true;
    more.textContent = t("timeline.loading");
    let failed = false;
    try {
      const { data, links } = await api.get(next);
      data.forEach((s) => add(s, false));
      error.textContent = "";
      ended = !data.length || !links.next;
      if (links.next) next = links.next;
      empty.hidden = shown.size > 0;
    } catch (err) {
      failed = true;
      error.textContent = errorText(err);
    } finally {
      loading = false;
      feed.setAttribute("aria-busy", "false");
      more.disabled = false;
      more.textContent = t("timeline.more");
      more.hidden = ended;
    }
    // A short page leaves the button in sight: the observer will not fire again.
    if (!failed && !ended) window.requestAnimationFrame(fillScreen);
  }

  function fillScreen() {
    if (more.isConnected && more.getBoundingClientRect().top < window.innerHeight + 600) {
      loadMore();
    }
  }

  function showWaiting() {
    waiting.splice(0).reverse().forEach((s) => add(s, true));
    fresh.hidden = true;
    const first = feed.querySelector("article");
    if (first) first.focus();
  }
  fresh.addEventListener("click", showWaiting);
  more.addEventListener("click", loadMore);
  const watcher = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) loadMore();
  }, { rootMargin: "600px 0px" });
  watcher.observe(more);

  // An item from the stream (or a status just posted here).
  function live(item) {
    if (shown.has(item.id) || waiting.some((s) => s.id === item.id)) return;
    const reading = window.scrollY > 150 || feed.contains(document.activeElement);
    if (!reading) {
      add(item, true);
      announce(t("timeline.arrived", { count: 1 }));
      return;
    }
    waiting.push(item);
    fresh.textContent = t("timeline.newPosts", { count: waiting.length });
    if (fresh.hidden) announce(t("timeline.arrived", { count: 1 }));
    fresh.hidden = false;
  }

  async function catchUp() {
    const newest = feed.querySelector("article[data-id]");
    if (!newest) return loadMore();
    try {
      const { data } = await api.get(opts.path, { ...(opts.query || {}), limit: 40,
        since_id: newest.dataset.id });
      data.reverse().forEach(live);
    } catch {
      // the next event or reload will do
    }
  }

  loadMore();
  return {
    el, live, catchUp,
    destroy() { watcher.disconnect(); },
  };
}
