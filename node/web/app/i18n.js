// i18n.js - English and French. The dictionaries are /i18n/LANG.json: a
// key maps to a string with {name} placeholders, or for counted things to
// {"one": ..., "other": ...} chosen with the language's plural rules.
// The language is the one picked in the menu (kept in localStorage), else
// the browser's first of French or English, else English.

export const LANGUAGES = { en: "English", fr: "Français" };
const STORE_KEY = "ruche.lang";

let lang = "en";
let dict = {};
let fallback = {};
let plurals = new Intl.PluralRules("en");

export function chooseLanguage() {
  const stored = localStorage.getItem(STORE_KEY);
  if (stored && LANGUAGES[stored]) return stored;
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (LANGUAGES[base]) return base;
  }
  return "en";
}

async function fetchDict(code) {
  const res = await fetch(`/i18n/${code}.json`, { credentials: "same-origin" });
  if (!res.ok) throw new Error(`cannot load the ${code} translation`);
  return res.json();
}

export async function setLanguage(code, remember = false) {
  const wanted = LANGUAGES[code] ? code : "en";
  const [main, base] = await Promise.all([
    fetchDict(wanted), wanted === "en" ? Promise.resolve(null) : fetchDict("en"),
  ]);
  lang = wanted;
  dict = main;
  fallback = base || main;
  plurals = new Intl.PluralRules(lang);
  document.documentElement.lang = lang;
  if (remember) localStorage.setItem(STORE_KEY, lang);
}

export function currentLanguage() {
  return lang;
}

// t("compose.left", {count: 12}) -> "12 characters left"
export function t(key, vars = {}) {
  let entry = dict[key] ?? fallback[key] ?? key;
  if (typeof entry === "object") {
    entry = entry[plurals.select(vars.count ?? 0)] ?? entry.other ?? key;
  }
  return entry.replace(/\{(\w+)\}/g, (whole, name) => (
    name in vars ? (name === "count" ? formatNumber(vars[name]) : String(vars[name])) : whole));
}

export function formatNumber(n) {
  return new Intl.NumberFormat(lang).format(n);
}

// "340 kB", "1.2 MB", "1,2 Go": a size in bytes, in binary units.
export function formatBytes(n) {
  const units = [["gigabyte", 2 ** 30], ["megabyte", 2 ** 20], ["kilobyte", 2 ** 10]];
  const [unit, size] = units.find(([, s]) => n >= s) || ["byte", 1];
  return new Intl.NumberFormat(lang, { style: "unit", unit, maximumFractionDigits: 1 })
    .format(n / size);
}

export function formatDate(iso) {
  return new Intl.DateTimeFormat(lang, { dateStyle: "long", timeStyle: "short" })
    .format(new Date(iso));
}

// "5 min ago", "il y a 5 min"; the date itself past a week.
export function relativeTime(iso, now = Date.now()) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return t("time.now");
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: "auto", style: "short" });
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), "hour");
  if (abs < 7 * 86400) return rtf.format(Math.round(seconds / 86400), "day");
  return new Intl.DateTimeFormat(lang, { dateStyle: "medium" }).format(new Date(iso));
}
