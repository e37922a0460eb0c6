// session.mjs - what the browser sessions (browser.mjs, profile.mjs)
// share: their check lines ("ok: CHECK" or "FAILED: CHECK :: DETAIL",
// which test_browser.py and test_profile_web.py count), a person in a
// browser context of their own who signs in through the login page, with
// every script error and Content-Security-Policy violation noted, numbered
// screenshots, and a wait for a condition with a deadline.

import path from "node:path";

export const WAIT = 30000; // ms for anything to show up, replication included

export function report(name, passed, detail) {
  if (passed) console.log(`ok: ${name}`);
  else console.log(`FAILED: ${name} :: ${String(detail ?? "").replace(/\s+/g, " ").slice(0, 400)}`);
  return passed;
}

// Runs an async step; an exception is one failed check named name.
export async function check(name, fn) {
  try {
    const value = await fn();
    return report(name, value !== false, "the condition is false");
  } catch (err) {
    return report(name, false, err.message);
  }
}

let shot = 0;
export async function screenshot(shots, p, name) {
  shot += 1;
  const file = path.join(shots, `${String(shot).padStart(2, "0")}-${p.name}-${name}.png`);
  await p.page.screenshot({ path: file, fullPage: false });
}

// name's browser context at their site (config.users[name].site of
// config.sites), its page, and the problems seen on it.
export async function person(browser, config, name, options) {
  const user = config.users[name];
  const context = await browser.newContext({ baseURL: config.sites[user.site], ...options });
  const page = await context.newPage();
  const p = { name, user, page, context, problems: [], dialogs: [] };
  page.on("pageerror", (e) => p.problems.push(`script error: ${e.message}`));
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to (load|execute|apply|connect)/i.test(m.text())) {
      p.problems.push(`CSP: ${m.text()}`);
    }
  });
  page.on("dialog", (d) => {
    p.dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  return p;
}

export async function signIn(p) {
  await p.page.goto("/");
  await p.page.fill("input[name=username]", p.name);
  await p.page.fill("input[name=password]", p.user.password);
  await p.page.click("form button[type=submit]");
  await p.page.waitForSelector("nav.sidebar", { timeout: WAIT });
}

// Polls fn until it returns true, for at most WAIT.
export async function eventually(fn) {
  const deadline = Date.now() + WAIT;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

// The checks every session ends with: no script error, no CSP violation,
// no dialog, for each person.
export function reportProblems(people) {
  for (const p of people) {
    report(`${p.name}: no script error and no Content-Security-Policy violation`,
      p.problems.length === 0, p.problems.join(" | "));
    report(`${p.name}: no dialog opened`, p.dialogs.length === 0, p.dialogs.join(" | "));
  }
}
