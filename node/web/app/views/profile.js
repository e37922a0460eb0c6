// profile.js - a person's page (/@name or /@name@site): their header and
// avatar, who they are, where they work from, their bio and profile
// fields, their entry in the company directory when there is one (title,
// department, site, office, phone, e-mail, manager), their skills, their
// counts, a follow button (an "Edit profile" link on one's own), and
// their posts, live from the public stream.

import * as api from "../api.js";
import { renderContent } from "../content.js";
import { h, fill, toast, announce } from "../dom.js";
import { t, formatNumber, formatDate } from "../i18n.js";
import { isMe, on } from "../state.js";
import { createTimeline } from "../timeline.js";
import { displayName, siteChip, accountSite, errorText, profilePath } from "../status.js";
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

// The header and the avatar, from the node's files or the site's default
// images (decorative: the name beside them says whose they are).
function images(account) {
  const header = api.profileImagePath(account.header);
  const avatar = api.profileImagePath(account.avatar);
  return h("div", { class: "profile-images" },
    header ? h("img", { class: "profile-header", src: header, alt: "" }) : null,
    avatar ? h("img", { class: "profile-avatar", src: avatar, alt: "" }) : null);
}

// Mastodon's fields: a name, and a value in the node's HTML (links).
function fieldList(account) {
  const fields = account.fields || [];
  if (!fields.length) return null;
  return h("dl", { class: "profile-fields" }, fields.map((f) => h("div", {},
    h("dt", {}, f.name), h("dd", {}, renderContent(f.value)))));
}

// The manager's name, as a link to their page, once looked up.
function manager(id) {
  const link = h("a", { href: "#" }, "…");
  api.get(`/api/v1/accounts/${encodeURIComponent(id)}`).then(({ data }) => {
    link.href = profilePath(data);
    link.textContent = displayName(data);
  }).catch(() => { link.replaceWith(h("span", {}, t("profile.unknownManager"))); });
  return link;
}

// The employee's entry in the company directory, and their skills.
function directory(account) {
  const r = account.ruche || {};
  const rows = r.directory ? [
    ["profile.dirTitle", r.title], ["profile.dirDepartment", r.department],
    ["profile.dirSite", r.site], ["profile.dirOffice", r.office],
    ["profile.dirPhone", r.phone && h("a", { href: `tel:${r.phone}` }, r.phone)],
    ["profile.dirEmail", r.email && h("a", { href: `mailto:${r.email}` }, r.email)],
    ["profile.dirManager", r.manager_id && manager(r.manager_id)],
  ].filter(([, value]) => value) : [];
  const skills = r.skills || [];
  if (!rows.length && !skills.length && !r.departed) return null;
  return h("section", { class: "directory", "aria-label": t("profile.directory") },
    r.departed ? h("p", { class: "departed" }, t("profile.departed")) : null,
    rows.length ? h("dl", { class: "directory-entry" }, rows.map(([key, value]) => h("div", {},
      h("dt", {}, t(key)), h("dd", {}, value)))) : null,
    skills.length ? h("div", { class: "skills" }, h("h2", {}, t("profile.skills")),
      h("ul", {}, skills.map((s) => h("li", {}, s)))) : null);
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
    images(account),
    h("p", { class: "acct" }, `@${account.acct}`, " ", siteChip(accountSite(account))),
    note.textContent.trim() ? h("div", { class: "note" }, note) : null,
    fieldList(account),
    directory(account),
    h("dl", { class: "counts" }, counts.map(([key, label]) => h("div", {},
      h("dt", {}, t(label)), h("dd", { dataset: { key } }, formatNumber(account[key] || 0))))),
    known(account.created_at) ? h("p", { class: "since" },
      t("profile.since", { date: formatDate(account.created_at) })) : null,
    isMe(account) ? h("a", { class: "button edit-profile", href: "/settings/profile" },
      t("profile.edit")) : followButton(account, (following) => {
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
