// check_i18n.mjs - the web front end's translations agree with each other
// and with the code: English and French have the same keys, the same
// plural forms and the same {placeholders}; every key a t(...) call
// names (a string such as "compose.left", or a family such as
// `visibility.${v}`) is in both, and every key is named somewhere.
//
// Usage: node check_i18n.mjs PATH/TO/node/web. Prints one line per check
// and "N passed, M failed"; exits 1 if any failed.

import fs from "node:fs";
import path from "node:path";

import { check, finish } from "./checks.mjs";

const web = process.argv[2];

function load(lang) {
  return JSON.parse(fs.readFileSync(path.join(web, "i18n", `${lang}.json`), "utf8"));
}

function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.name.endsWith(".js") ? [fs.readFileSync(full, "utf8")] : [];
  });
}

// The placeholders of an entry, with its plural forms, e.g. "one:count,name".
function shape(entry) {
  const forms = typeof entry === "string" ? { text: entry } : entry;
  return Object.keys(forms).sort().map((form) => {
    const names = [...forms[form].matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    return `${form}:${names.join(",")}`;
  }).join(" ");
}

const en = load("en");
const fr = load("fr");
const namespaces = new Set(Object.keys(en).map((k) => k.split(".")[0]));
const code = sources(path.join(web, "app")).join("\n");

check("en and fr have the same keys",
  JSON.stringify(Object.keys(en).sort()) === JSON.stringify(Object.keys(fr).sort()),
  [...Object.keys(en).filter((k) => !(k in fr)), ...Object.keys(fr).filter((k) => !(k in en))]);
const mismatched = Object.keys(en).filter((k) => k in fr && shape(en[k]) !== shape(fr[k]));
check("en and fr have the same plural forms and placeholders", mismatched.length === 0, mismatched);

// The text of every t(...) call: from "t(" to its closing parenthesis.
function calls(text) {
  const out = [];
  for (const m of text.matchAll(/\bt\(/g)) {
    let depth = 0;
    let end = m.index + 1;
    for (; end < text.length; end += 1) {
      if (text[end] === "(") depth += 1;
      else if (text[end] === ")" && --depth === 0) break;
    }
    out.push(text.slice(m.index, end + 1));
  }
  return out;
}

const named = new Set(calls(code).flatMap((call) =>
  [...call.matchAll(/"([a-z][a-zA-Z]*\.[a-zA-Z]+)"/g)].map((m) => m[1]))
  .filter((k) => namespaces.has(k.split(".")[0])));
const families = {
  "visibility.": ["public", "unlisted", "private", "direct"],
  "notif.": ["mention", "reply", "favourite", "follow", "other", "all", "mentions"],
};
for (const [prefix, names] of Object.entries(families)) {
  check(`the code names the ${prefix}* family`, code.includes(`\`${prefix}\${`), prefix);
  names.forEach((n) => named.add(prefix + n));
}
const missing = [...named].filter((k) => !(k in en) || !(k in fr));
check(`every key the code names is translated (${named.size} keys)`, missing.length === 0, missing);
const literals = new Set([...code.matchAll(/"([a-z][a-zA-Z]*\.[a-zA-Z]+)"/g)].map((m) => m[1]));
const unused = Object.keys(en).filter((k) => !named.has(k) && !literals.has(k));
check("every translated key is used", unused.length === 0, unused);

finish();
