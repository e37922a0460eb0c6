// ops.js - the operator page (/ops), for the site's administrators: the
// alerts (a peer not connected, updates refused for a bad signature, forks,
// clock skew, other refusals, updates waiting too long or too many for
// their dependencies, the disk or the store filling up), the replication
// matrix (every site by every origin: how many of that origin's updates
// the site lacks), each peer's health, the updates waiting here per
// origin, the forks (an origin that signed two updates with one number:
// quarantined until an operator resolves it, with the command to do so,
// then shown as resolved), and the store and disk. All of it is GET /api/ruche/v1/admin/ops (node/ops/ru_oppage.c),
// which answers 403 to anyone else; the link shows to administrators only.
//
// Kept live by polling every few seconds while the page is open, rather
// than by the streaming API: the figures are counters and clocks that
// change all the time, a poll reads them whole (nothing is missed after a
// dropped connection), and it also tells when the node itself stops
// answering. New alerts are announced to screen readers.

import * as api from "../api.js";
import { h, fill, announce, uniqueId } from "../dom.js";
import { t, formatNumber, formatBytes, relativeTime, formatDate, currentLanguage } from "../i18n.js";
import { errorText } from "../status.js";
import { heading } from "./common.js";

const POLL_MS = 3000;

// "12 s ago" for the last two minutes (heartbeats come every second or
// so), then "5 min ago" and so on.
function ago(iso) {
  if (!iso) return t("ops.never");
  const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  return seconds < 120 ? t("ops.secondsAgo", { count: Math.max(0, seconds) }) : relativeTime(iso);
}

const ALERT_TEXT = {
  disconnected: (a) => (a.last_heartbeat
    ? t("alert.disconnected", { site: a.site, when: ago(a.last_heartbeat) })
    : t("alert.neverConnected", { site: a.site })),
  signature: (a) => t("alert.signature", { site: a.site, count: a.count }),
  fork: (a) => t("alert.fork", { site: a.site, count: a.count }),
  skew: (a) => t("alert.skew", { site: a.site, count: a.count,
    seconds: formatNumber(Math.round((a.clock_ahead_ms || 0) / 100) / 10) }),
  refused: (a) => t("alert.refused", { site: a.site, count: a.count, reason: a.reason }),
  disk: (a) => t("alert.disk", { free: formatBytes(a.free), size: formatBytes(a.size) }),
  store: (a) => t("alert.store", { used: formatBytes(a.used), max: formatBytes(a.max) }),
  pending: (a) => (a.max
    ? t("alert.pendingFull", { count: a.count, max: formatNumber(a.max) })
    : t("alert.pending", { site: a.site, count: a.count, when: waited(a.oldest_age_s) })),
};

// "for 3 h" from a number of seconds.
function waited(seconds) {
  const [unit, size] = seconds >= 3600 ? ["hour", 3600] : seconds >= 60 ? ["minute", 60]
    : ["second", 1];
  return new Intl.NumberFormat(currentLanguage(), { style: "unit", unit, unitDisplay: "long",
    maximumFractionDigits: 0 }).format(Math.floor(seconds / size));
}

function alertText(a) {
  return (ALERT_TEXT[a.kind] || ((x) => `${x.kind}: ${x.site}`))(a);
}

function section(title, ...children) {
  const id = uniqueId("ops");
  return h("section", { class: "ops-section", "aria-labelledby": id }, h("h2", { id }, title),
    children);
}

function alertList(alerts) {
  if (!alerts.length) return h("p", { class: "ops-ok" }, t("ops.noAlerts"));
  return h("ul", { class: "ops-alerts" }, alerts.map((a) => h("li", {
    class: `ops-alert ops-${a.severity}`, dataset: { kind: a.kind, site: a.site },
  }, h("span", { class: "ops-severity" }, t(a.severity === "critical" ? "ops.critical"
    : "ops.warning")), " ", alertText(a))));
}

// The rows of the matrix: this site, then its peers by name.
function sites(data) {
  const peers = [...data.peers].sort((a, b) => a.site.localeCompare(b.site));
  return [{ site: data.site, self: true, connected: true, heard: true, clock: data.clock },
    ...peers.map((p) => ({ ...p, heard: Boolean(p.last_heartbeat) }))];
}

function matrixCell(site, origin) {
  if (!site.heard) return h("td", { class: "ops-unknown", dataset: { origin: origin.site } }, "?");
  const lag = Math.max(0, origin.head - (site.clock[origin.key] || 0));
  return h("td", { class: lag ? "ops-behind" : "ops-even", dataset: { origin: origin.site, lag },
    title: t("ops.cellTitle", { site: site.site, origin: origin.site, count: lag }) },
  lag ? formatNumber(lag) : "✓");
}

function matrix(data) {
  const origins = [...data.origins].sort((a, b) => a.site.localeCompare(b.site));
  return h("div", { class: "ops-scroll" }, h("table", { class: "ops-matrix" },
    h("caption", {}, t("ops.matrixCaption")),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("ops.site")),
      origins.map((o) => h("th", { scope: "col" }, o.site, h("small", {}, ` #${o.head}`))))),
    h("tbody", {}, sites(data).map((s) => h("tr", { dataset: { site: s.site } },
      h("th", { scope: "row" }, s.site, s.self ? h("small", {}, ` (${t("ops.thisSite")})`) : null),
      origins.map((o) => matrixCell(s, o)))))));
}

function peerState(p) {
  if (p.connected) return t("ops.connected");
  return p.direct ? t("ops.disconnected") : t("ops.relayed");
}

function peerRow(p, ours) {
  const refused = Object.values(p.rejected || {}).reduce((a, b) => a + b, 0);
  const cells = [
    peerState(p), ago(p.last_heartbeat), formatNumber(p.behind), formatNumber(p.ahead),
    formatNumber(Math.round(p.seconds_behind)),
    p.digest === null ? "?" : t(p.digest === ours ? "ops.same" : "ops.differs"),
    p.clock_ahead_ms === null ? "?" : formatNumber(p.clock_ahead_ms), formatNumber(refused),
    formatNumber(p.updates?.stored ?? 0),
  ];
  return h("tr", { dataset: { site: p.site, connected: String(p.connected) } },
    h("th", { scope: "row" }, p.site),
    cells.map((c, i) => h("td", { class: i === 0 ? `ops-state-${p.connected ? "on" : "off"}`
      : null, title: i === 1 && p.last_heartbeat ? formatDate(p.last_heartbeat) : null }, c)));
}

function peerTable(data) {
  if (!data.peers.length) return h("p", { class: "empty" }, t("ops.noPeers"));
  const heads = ["ops.site", "ops.state", "ops.heartbeat", "ops.behind", "ops.ahead",
    "ops.secondsBehind", "ops.digest", "ops.skew", "ops.refused", "ops.stored"];
  return h("div", { class: "ops-scroll" }, h("table", { class: "ops-peers" },
    h("caption", {}, t("ops.peersCaption")),
    h("thead", {}, h("tr", {}, heads.map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, [...data.peers].sort((a, b) => a.site.localeCompare(b.site))
      .map((p) => peerRow(p, data.digest)))));
}

// The updates waiting here for their dependencies, per origin.
function pendingTable(data) {
  if (!data.pending_origins.length) return h("p", { class: "empty" }, t("ops.noPending"));
  const heads = ["ops.origin", "ops.waiting", "ops.oldest"];
  return h("div", { class: "ops-scroll" }, h("table", { class: "ops-pending" },
    h("caption", {}, t("ops.pendingCaption", { count: data.pending,
      max: formatNumber(data.pending_limits.max) })),
    h("thead", {}, h("tr", {}, heads.map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, data.pending_origins.map((o) => h("tr", { dataset: { site: o.site } },
      h("th", { scope: "row" }, o.site), h("td", {}, formatNumber(o.count)),
      h("td", { title: formatDate(o.oldest) }, waited(o.oldest_age_s)))))));
}

// A hash, short, whole in its title.
function hash(hex) {
  return h("code", { title: hex }, hex ? `${hex.slice(0, 12)}…` : "?");
}

function forkState(k) {
  if (k.resolved) {
    return h("td", { class: "ops-fork-resolved" }, t("ops.forkResolved", { by: k.resolved_by,
      when: relativeTime(k.resolved_at) }), " ", hash(k.kept));
  }
  return h("td", { class: "ops-fork-open" }, t("ops.forkOpen"), " ",
    h("code", {}, `ruche admin resolve-fork ${k.origin}`));
}

// The forks this site knows of, from the replication status.
function forkTable(data) {
  if (!data.forks.length) return h("p", { class: "empty" }, t("ops.noForks"));
  const heads = ["ops.origin", "ops.forkSeq", "ops.forkFound", "ops.forkHashes", "ops.forkHeld",
    "ops.forkState"];
  return h("div", { class: "ops-scroll" }, h("table", { class: "ops-forks" },
    h("caption", {}, t("ops.forksCaption")),
    h("thead", {}, h("tr", {}, heads.map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, data.forks.map((k) => h("tr", { dataset: { site: k.origin,
      resolved: String(k.resolved) } },
    h("th", { scope: "row" }, k.origin), h("td", {}, formatNumber(k.seq)),
    h("td", { title: formatDate(k.found_at) }, relativeTime(k.found_at)),
    h("td", {}, hash(k.hashes[0]), " ", hash(k.hashes[1])), h("td", {}, formatNumber(k.held)),
    forkState(k))))));
}

function diskList(d) {
  const item = (label, value) => h("div", {}, h("dt", {}, label), h("dd", {}, value));
  return h("dl", { class: "ops-disk" },
    item(t("ops.storeUsed"), t("ops.of", { used: formatBytes(d.map_used),
      size: formatBytes(d.map_size) })),
    item(t("ops.storeMax"), d.map_max ? formatBytes(d.map_max) : t("ops.noMax")),
    item(t("ops.diskFree"), t("ops.of", { used: formatBytes(d.disk_free),
      size: formatBytes(d.disk_size) })));
}

export function opsView(main) {
  const checked = h("p", { class: "ops-checked" });
  const body = h("div", { class: "ops", "aria-busy": "true" }, h("p", { class: "loading" },
    t("ops.loading")));
  main.append(heading(t("ops.title"), checked), body);
  let timer = null;
  let stopped = false;
  let known = null; // the alerts on screen, to announce new ones

  function announceNew(alerts) {
    const keys = alerts.map((a) => `${a.kind}/${a.site}`);
    const fresh = known ? alerts.filter((a, i) => !known.has(keys[i])) : [];
    known = new Set(keys);
    if (fresh.length) announce(fresh.map(alertText).join(". "));
  }

  function draw(data) {
    announceNew(data.alerts);
    fill(body, section(t("ops.alerts"), alertList(data.alerts)),
      section(t("ops.matrix"), matrix(data)), section(t("ops.peers"), peerTable(data)),
      section(t("ops.pending"), pendingTable(data)), section(t("ops.forks"), forkTable(data)),
      section(t("ops.disk"), diskList(data.disk)));
    body.setAttribute("aria-busy", "false");
    fill(checked, t("ops.checked", { time: new Date(data.checked_at).toLocaleTimeString(
      currentLanguage()) }));
    checked.classList.remove("ops-stale");
  }

  async function refresh() {
    try {
      draw((await api.get("/api/ruche/v1/admin/ops")).data);
    } catch (err) {
      if (err.status === 403) {
        fill(body, h("p", { class: "ops-forbidden" }, t("ops.forbidden")));
        body.setAttribute("aria-busy", "false");
        return;
      }
      fill(checked, t("ops.stale", { error: errorText(err) }));
      checked.classList.add("ops-stale");
    }
    if (!stopped) timer = window.setTimeout(refresh, POLL_MS);
  }
  refresh();
  return {
    title: t("ops.title"),
    destroy() {
      stopped = true;
      window.clearTimeout(timer);
    },
  };
}
