// profile.js - a person's page (/@name or /@name@site): who they are,
// where they work from, their counts, a follow button, and their posts,
// live from the public stream.

import * as api from "../api.js";
import { renderContent } from "../content.js";
import { h, fill, toast, announce } from "../dom.js";
import { t, formatNumber, formatDate } from "../i18n.js";
import { isMe, on } from "../state.js";
import { createTimeline } from "../timeline.js";
import { displayName, siteChip, accountSite, errorText } from "../status.js";
import { heading } from "./common.js";

// onChange(following) after each click that changed it.
function followButton(account, onChange) {
  const button = h("button", { type: "button", class: "primary follow", hidden: true });
  let following = false;
  function draw() {
    button.textContent = t(following ? "profile.unfollow" : "profile.follow");
    button.setAttribute("aria-pressed", String(following));
    button.className = following ? "follow" : "primary follow";
  }
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const verb = following ? "unfollow" : "follow";
      const { data } = await api.post(`/api/v1/accounts/${account.id}/${verb}`);
      following = Boolean(data.following);
      draw();
      onChange(following);
      announce(t(following ? "profile.nowFollowing" : "profile.noLongerFollowing",
        { name: displayName(account) }));
    } catch (err) {
      toast(errorText(err), "error");
    } finally {
      button.disabled = false;
    }
  });
  api.get("/api/v1/accounts/relationships", { id: [account.id] }).then(({ data }) => {
    following = Boolean(data[0] && data[0].following);
    draw();
    button.hidden = false;
  }).catch(() => { draw(); button.hidden = false; });
  return button;
}

// A site that has not told us when an account was made says 1970.
function known(iso) {
  return new Date(iso).getUTCFullYear() > 2000;
}

function card(account) {
  const counts = [["statuses_count", "profile.posts"], ["following_count", "profile.following"],
    ["followers_count", "profile.followers"]];
  const note = renderContent(account.note);
  const section = h("section", { class: "profile-card", "aria-label": t("profile.about") },
    h("p", { class: "acct" }, `@${account.acct}`, " ", siteChip(accountSite(account))),
    note.textContent.trim() ? h("div", { class: "note" }, note) : null,
    h("dl", { class: "counts" }, counts.map(([key, label]) => h("div", {},
      h("dt", {}, t(label)), h("dd", { dataset: { key } }, formatNumber(account[key] || 0))))),
    known(account.created_at) ? h("p", { class: "since" },
      t("profile.since", { date: formatDate(account.created_at) })) : null,
    isMe(account) ? null : followButton(account, (following) => {
      account.followers_count = Math.max(0, (account.followers_count || 0) + (following ? 1 : -1));
      const shown = section.querySelector(".counts dd[data-key=followers_count]");
      if (shown) shown.textContent = formatNumber(account.followers_count);
    }));
  return section;
}

export function profileView(main, [acct]) {
  const name = decodeURIComponent(acct);
  const body = h("div", { class: "profile" }, h("p", { class: "loading" }, t("timeline.loading")));
  main.append(heading(`@${name}`), body);
  let account = null;
  let timeline = null;

  api.get("/api/v1/accounts/lookup", { acct: name }).then(({ data }) => {
    account = data;
    main.querySelector("h1").textContent = displayName(account);
    document.title = `${displayName(account)} (@${account.acct})`;
    timeline = createTimeline({ path: `/api/v1/accounts/${account.id}/statuses`,
      label: t("profile.feed", { name: displayName(account) }), empty: t("profile.empty") });
    fill(body, card(account), timeline.el);
  }).catch((err) => {
    fill(body, h("p", { class: "form-error", role: "alert" },
      err.status === 404 ? t("profile.unknown", { acct: name }) : errorText(err)));
  });

  const accepts = (s) => account && timeline && s.account.id === account.id;
  const off = on("posted", (s) => { if (accepts(s)) timeline.live(s); });
  return {
    title: `@${name}`,
    onUpdate(status, stream) { if (stream === "public" && accepts(status)) timeline.live(status); },
    catchUp() { if (timeline) timeline.catchUp(); },
    destroy() { off(); if (timeline) timeline.destroy(); },
  };
}
