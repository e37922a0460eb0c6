// oidc.mjs - sign-in through the company's OpenID provider in headless
// Chromium, on the provider's real login page (Debian's glewlwyd, started
// by test_browser_oidc.py).
//
// jdoe opens the node's web front end, presses "Sign in with <label>",
// signs in on glewlwyd's login page (#username, #password, its OK
// button), grants the node access on its consent step ("Grant access",
// then "Continue"), and lands back on the web front end signed in, her
// user name shown. bob opens the /oauth/authorize page of a Mastodon app,
// presses its "Sign in with <label>", goes through the same login and
// consent, comes back to the authorization page signed in, authorizes the
// app and ends at the app's redirect_uri with a code and the app's state,
// which go to the results file for the test to exchange. Any script error
// or Content-Security-Policy violation on the node's pages fails the test;
// the provider's pages are its own business.
//
// Run by test_browser_oidc.py with one argument, a JSON configuration:
// {chromium, shots, results, node (its URL), provider (its URL), label,
// users: {name: password}, app: {client_id, redirect_uri, state}}. Prints
// "ok: CHECK" or "FAILED: CHECK :: DETAIL" lines (checks.mjs); exits 0
// when it ran to its end (failed checks included), 1 when it could not.

import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

import { attempt, check } from "./checks.mjs";

const require = createRequire(path.join(process.cwd(), "index.js"));
const { chromium } = require("playwright-core");

const config = JSON.parse(process.argv[2]);
const WAIT = 30000; // ms for a page or an element to show up
const results = {};

// A browser context of its own (cookies of the node and the provider
// alike), watching the node's pages for script errors and CSP reports.
async function person(browser, name) {
  const context = await browser.newContext({ baseURL: config.node });
  const page = await context.newPage();
  const p = { name, page, context, problems: [] };
  const onNode = () => page.url().startsWith(config.node);
  page.on("pageerror", (e) => {
    if (onNode()) p.problems.push(`script error: ${e.message}`);
  });
  page.on("console", (m) => {
    if (onNode() && /Content Security Policy|Refused to (load|execute|apply|connect)/i
      .test(m.text())) {
      p.problems.push(`CSP: ${m.text()}`);
    }
  });
  return p;
}

async function shot(p, name) {
  await p.page.screenshot({ path: path.join(config.shots, `oidc-${p.name}-${name}.png`) });
}

// From the provider's login page on: user name and password, then the
// consent to the node's access, which sends the browser back.
async function providerLogin(p) {
  const { page } = p;
  await attempt(`${p.name}: the provider's login page opens`, async () => {
    await page.waitForSelector("#username", { timeout: WAIT });
    return page.url().startsWith(config.provider);
  });
  await shot(p, "login");
  await page.fill("#username", p.name);
  await page.fill("#password", config.users[p.name]);
  await page.click("#loginbut");
  await attempt(`${p.name}: the provider asks for the consent`, () =>
    page.getByRole("button", { name: "Grant access" }).waitFor({ timeout: WAIT }));
  await shot(p, "consent");
  await page.getByRole("button", { name: "Grant access" }).click();
  const go = page.getByRole("button", { name: "Continue" });
  await go.waitFor({ timeout: WAIT });
  await go.click();
}

// Presses link, a page's "Sign in with <label>", and signs in at the
// provider.
async function throughProvider(p, link, where) {
  await attempt(`${where} offers Sign in with the provider`, async () =>
    (await link.innerText({ timeout: WAIT })) === `Sign in with ${config.label}`);
  await link.click();
  await providerLogin(p);
}

async function webFrontEnd(p) {
  await p.page.goto("/");
  await throughProvider(p, p.page.locator("#oidc-sign-in"), "the sign-in page");
  await attempt("jdoe lands back on the web front end, signed in", async () => {
    await p.page.waitForSelector("nav.sidebar", { timeout: WAIT });
    return new URL(p.page.url()).origin === new URL(config.node).origin;
  });
  await attempt("her user name is shown", async () =>
    (await p.page.locator(".me-link").innerText({ timeout: WAIT })).includes("@jdoe"));
  await shot(p, "home");
}

async function mastodonApp(p) {
  const { app } = config;
  const query = new URLSearchParams({ response_type: "code", client_id: app.client_id,
    redirect_uri: app.redirect_uri, scope: "read write", state: app.state });
  await p.page.goto(`/oauth/authorize?${query}`);
  await throughProvider(p, p.page.locator("a#oidc"), "the app's authorization page");
  await attempt("bob comes back to the authorization page, signed in", async () => {
    await p.page.waitForSelector("#authorize", { timeout: WAIT });
    return new URL(p.page.url()).pathname === "/oauth/authorize" &&
      (await p.page.locator("body").innerText()).includes("Signed in as bob");
  });
  await shot(p, "authorize");
  await p.page.click("#authorize");
  await attempt("he ends at the app's redirect_uri with a code and the app's state", async () => {
    await p.page.waitForURL((url) => url.href.startsWith(`${app.redirect_uri}?`),
      { timeout: WAIT });
    const got = new URL(p.page.url()).searchParams;
    results.code = got.get("code");
    return Boolean(results.code) && got.get("state") === app.state;
  });
}

async function main() {
  const browser = await chromium.launch({ executablePath: config.chromium,
    args: ["--no-sandbox"] });
  const people = [];
  try {
    for (const [name, part] of [["jdoe", webFrontEnd], ["bob", mastodonApp]]) {
      const p = await person(browser, name);
      people.push(p);
      await attempt(`${name}'s part runs to its end`, () => part(p));
    }
  } finally {
    for (const p of people) {
      check(`${p.name}: no script error and no Content-Security-Policy violation on the node's pages`,
        p.problems.length === 0, p.problems.join(" | "));
    }
    fs.writeFileSync(config.results, JSON.stringify(results, null, 1));
    await browser.close();
  }
}

main().then(() => process.exit(0), (err) => {
  console.log(`FAILED: the browser session runs :: ${err.stack || err}`);
  process.exit(1);
});
