// timelines.js - the home, public and hashtag views: a composer on top
// (a post from the tag view starts with the tag), and the timeline, fed
// live by the streaming API: home by the user stream (own posts and those
// of people followed), public and tags by the public stream of all sites.

import { createCompose } from "../compose.js";
import { h, append } from "../dom.js";
import { t } from "../i18n.js";
import { createTimeline } from "../timeline.js";
import { emit, on } from "../state.js";
import { heading } from "./common.js";

function timelineView(main, { title, intro, path, text, accepts, label, empty }) {
  const timeline = createTimeline({ path, label, empty });
  const compose = createCompose({
    kind: "post", text, onDone: (status) => emit("posted", status),
  });
  append(main, [heading(title), intro ? h("p", { class: "intro" }, intro) : null,
    compose.el, timeline.el]);
  const off = on("posted", (status) => { if (accepts(status, "self")) timeline.live(status); });
  return {
    title,
    compose,
    onUpdate(status, stream) { if (accepts(status, stream)) timeline.live(status); },
    catchUp: timeline.catchUp,
    destroy() { off(); timeline.destroy(); },
  };
}

export function homeView(main) {
  return timelineView(main, {
    title: t("nav.home"), path: "/api/v1/timelines/home", label: t("home.feed"),
    empty: t("home.empty"),
    accepts: (s, stream) => stream === "user" || stream === "self",
  });
}

export function publicView(main) {
  return timelineView(main, {
    title: t("nav.public"), intro: t("public.intro"), path: "/api/v1/timelines/public",
    label: t("public.feed"),
    accepts: (s, stream) => (stream === "public" || stream === "self") && s.visibility === "public",
  });
}

export function tagView(main, [tag]) {
  const name = decodeURIComponent(tag).toLowerCase();
  return timelineView(main, {
    title: `#${name}`, path: `/api/v1/timelines/tag/${encodeURIComponent(name)}`,
    label: t("tag.feed", { tag: name }), text: `#${name} `, empty: t("tag.empty"),
    accepts: (s, stream) => (stream === "public" || stream === "self") &&
      s.visibility === "public" && (s.tags || []).some((x) => x.name.toLowerCase() === name),
  });
}
