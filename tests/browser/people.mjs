// people.mjs - alice, at paris, finds a colleague of the nozay site who
// never posted, in ruche's web front end in headless Chromium, and
// mentions him; he, at his own site, is told.
//
// alice opens People from the navigation: everyone is listed. She looks
// for the skill Kubernetes in the filters (the address says
// ?skill=Kubernetes) and finds Karim Dubois of nozay: his card shows his
// photo, name, account and site, title, department, site, office, phone
// (a tel: link) and e-mail (a mailto: link), his skills as chips, and the
// number found is announced. "Who can help with…" kubernetes puts him
// first for his skill and bob after him for his two posts tagged
// #kubernetes. A search for the Helm skill pages: "More people" adds the
// rest and takes the focus to the first one added, then goes away. A
// search that finds nobody says so; one the node fails says why, and
// "Try again" brings the results; the search box works from the keyboard
// alone (Enter); on a phone-sized screen the cards fit. She opens Karim's profile from his card (his directory
// entry, no post), then writes "@kdub" in the home composer: the
// suggestion shows his title and site, Enter takes it, and she posts.
// Karim signs in at nozay (in French): his People page is in French, and
// he has the mention notification. Any Content-Security-Policy violation,
// script error or dialog fails the test.
//
// Run by test_people_web.py with one argument, a JSON configuration:
// {chromium, shots, results, sites: {name: url}, users: {name: {site,
// password}}, karim: his directory entry, helpers: how many know Helm}.
// Prints "ok: CHECK" or "FAILED: CHECK :: DETAIL" lines; exits 0 when it
// ran to its end (failed checks included), 1 when it could not.

import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

import { WAIT, report, check, screenshot, person, signIn, eventually, reportProblems }
  from "./session.mjs";

const require = createRequire(path.join(process.cwd(), "index.js"));
const { chromium } = require("playwright-core");

const config = JSON.parse(process.argv[2]);
const karim = config.karim;
const KARIM_ACCT = `${karim.username}@nozay`;
const stamp = `p${Date.now().toString(36)}`;

const card = (p, acct) => p.page.locator(`.person-card[data-acct="${acct}"]`);
const cards = (p) => p.page.locator(".people-list .person-card");
const announced = (p) => p.page.locator("#announcer").textContent();

async function openPeople(alice) {
  const { page } = alice;
  await check("alice opens People from the navigation: everyone is listed", async () => {
    await page.click("nav.sidebar a.nav-link[data-path='/people']");
    await page.waitForURL("**/people");
    await cards(alice).first().waitFor({ timeout: WAIT });
    return (await page.locator("#main h1").textContent()) === "People" &&
      (await page.locator("nav.sidebar a[data-path='/people']").getAttribute("aria-current")) ===
        "page";
  });
}

async function bySkill(alice) {
  const { page } = alice;
  await check("she looks for the skill Kubernetes: the address holds the search", async () => {
    await page.getByLabel("Skill", { exact: true }).fill("Kubernetes");
    await page.locator("form.people-form button[type=submit]").click();
    await page.waitForURL(/\/people\?skill=Kubernetes$/);
    await card(alice, KARIM_ACCT).waitFor({ timeout: WAIT });
    return (await cards(alice).count()) === 1;
  });
  await check("the number found is announced", () =>
    eventually(async () => (await announced(alice)) === "1 person found"));
  const c = card(alice, KARIM_ACCT);
  await check("his card: name (a link to his profile), account and site", async () =>
    (await c.locator(".person-name a").textContent()) === karim.display_name &&
    (await c.locator(".person-name a").getAttribute("href")) === `/@${KARIM_ACCT}` &&
    (await c.locator(".person-acct").textContent()).includes(`@${KARIM_ACCT}`) &&
    (await c.locator(".person-acct .site").textContent()).includes("nozay"));
  await check("his photo, the site's default one, loaded", () => eventually(() =>
    c.locator("img.person-avatar").evaluate((img) => img.complete && img.naturalWidth > 0 &&
      img.getAttribute("src") === "/avatar.png")));
  await check("his title, department, site and office", async () => {
    const dd = await c.locator(".person-entry dd").allTextContents();
    const want = [karim.title, karim.department, karim.site, karim.office];
    return want.every((x) => dd.includes(x)) || new Error(JSON.stringify(dd));
  });
  await check("his phone as a tel: link and his e-mail as a mailto: link", async () =>
    (await c.locator(`a[href="tel:${karim.phone}"]`).textContent()) === karim.phone &&
    (await c.locator(`a[href="mailto:${karim.email}"]`).textContent()) === karim.email);
  await check("his skills as chips", async () =>
    JSON.stringify(await c.locator("ul.chips li").allTextContents()) ===
      JSON.stringify(karim.skills));
  await screenshot(config.shots, alice, "people-skill");
}

async function whoCanHelp(alice) {
  const { page } = alice;
  await check("who can help with kubernetes: Karim for his skill, then bob for his posts",
    async () => {
      await page.click(".people-modes button[data-mode=help]");
      const subject = page.getByLabel("Subject");
      if (!(await subject.evaluate((el) => el === document.activeElement))) {
        throw new Error("the subject field has not the focus");
      }
      await subject.fill("kubernetes");
      await subject.press("Enter");
      await page.waitForURL(/\/people\?help=kubernetes$/);
      await card(alice, "bob").waitFor({ timeout: WAIT });
      const order = await page.locator(".person-card").evaluateAll((els) =>
        els.map((el) => el.dataset.acct));
      return JSON.stringify(order.slice(0, 2)) === JSON.stringify([KARIM_ACCT, "bob"]) ||
        new Error(JSON.stringify(order));
    });
  await check("and why: his skill; bob's two posts tagged #kubernetes", async () =>
    (await card(alice, KARIM_ACCT).locator(".person-why").textContent()) === "Why: skill" &&
    (await card(alice, "bob").locator(".person-why").textContent()) ===
      "Why: 2 posts tagged #kubernetes");
  await check("the mode's button is pressed", async () =>
    (await page.locator(".people-modes button[data-mode=help]").getAttribute("aria-pressed")) ===
      "true");
  await screenshot(config.shots, alice, "people-help");
}

async function paging(alice) {
  const { page } = alice;
  await check("the Helm skill: a first page, and a button for more", async () => {
    await page.goto("/people?skill=Helm");
    await eventually(async () => (await cards(alice).count()) === 20);
    return page.locator("button.more").isVisible();
  });
  await check("More people adds the rest, focuses the first added, and goes away", async () => {
    await page.click("button.more");
    await eventually(async () => (await cards(alice).count()) === config.helpers);
    await eventually(async () => (await announced(alice)) ===
      `${config.helpers - 20} more people`);
    const focused = await page.evaluate(() => document.activeElement.closest(".person-card")
      ?.dataset.acct);
    const twentyFirst = await cards(alice).nth(20).getAttribute("data-acct");
    return (focused === twentyFirst && !(await page.locator("button.more").isVisible())) ||
      new Error(`focus on ${focused}, the 21st is ${twentyFirst}`);
  });
}

async function emptyAndError(alice) {
  const { page } = alice;
  await check("a search from the keyboard that finds nobody says so", async () => {
    await page.goto("/people");
    await cards(alice).first().waitFor({ timeout: WAIT });
    const box = page.getByLabel("Name, title, department, site or skill");
    await box.focus();
    await page.keyboard.type(`nobody ${stamp}`);
    await page.keyboard.press("Enter");
    await page.locator(".people-status .empty").waitFor({ timeout: WAIT });
    return (await page.locator(".people-status .empty").textContent()) ===
      "Nobody matches this search." && (await cards(alice).count()) === 0;
  });
  await check("a search the node fails says why; Try again brings the results", async () => {
    let failed = 0;
    const search = /\/api\/ruche\/v1\/people\?/;
    await page.route(search, (route) => {
      failed += 1;
      return route.fulfill({ status: 503, contentType: "application/json",
        body: JSON.stringify({ error: "The directory is resting" }) });
    });
    await page.goto("/people?department=Infrastructure");
    const alert = page.locator(".people-error[role=alert]");
    await alert.waitFor({ timeout: WAIT });
    const said = await alert.locator(".form-error").textContent();
    await page.unroute(search);
    await alert.locator("button").click();
    await card(alice, KARIM_ACCT).waitFor({ timeout: WAIT });
    return (said === "The directory is resting" && failed === 1 &&
      (await page.locator(".people-error").count()) === 0) || new Error(`${said}, ${failed}`);
  });
  await screenshot(config.shots, alice, "people-retried");
}

async function onAPhone(alice) {
  const { page } = alice;
  await check("on a phone-sized screen the cards fit the width", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto("/people?skill=Kubernetes");
    await card(alice, KARIM_ACCT).waitFor({ timeout: WAIT });
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    return wide <= 390 || new Error(`the page is ${wide} px wide`);
  });
  await screenshot(config.shots, alice, "people-phone");
  await page.setViewportSize({ width: 1200, height: 900 });
}

async function profileAndMention(alice) {
  const { page } = alice;
  await check("alice opens Karim's profile from his card: his directory entry, no post",
    async () => {
      await card(alice, KARIM_ACCT).locator(".person-name a").click();
      await page.waitForURL(`**/@${KARIM_ACCT}`);
      await page.locator(".profile-card .directory-entry").waitFor({ timeout: WAIT });
      const dd = await page.locator(".directory-entry dd").allTextContents();
      await page.getByText("No posts yet.").first().waitFor({ timeout: WAIT });
      return (dd.includes(karim.title) && (await page.locator("#main h1").textContent()) ===
        karim.display_name) || new Error(JSON.stringify(dd));
    });
  await screenshot(config.shots, alice, "karim-profile");
  const text = `can you look at our cluster? ${stamp}`;
  await check("she mentions him from the composer: the suggestion shows his title and site",
    async () => {
      await page.click("nav.sidebar a[href='/']");
      const area = page.locator("#main form.compose textarea").first();
      await area.type("Karim, @kdub");
      const option = page.locator(".suggestions [role=option]", { hasText: KARIM_ACCT });
      await option.waitFor({ timeout: WAIT });
      const who = await option.locator(".who").textContent();
      if (who !== `${karim.title} · ${karim.site}`) throw new Error(`it shows "${who}"`);
      await screenshot(config.shots, alice, "mention-suggestion");
      await area.press("Enter");
      const value = await area.inputValue();
      if (value !== `Karim, @${KARIM_ACCT} `) throw new Error(`the text is "${value}"`);
      await area.type(text);
      await page.locator("#main form.compose button[type=submit]").first().click();
      await page.locator("article.status", { hasText: stamp }).first()
        .waitFor({ timeout: WAIT });
    });
  return text;
}

async function karimIsTold(browser, text) {
  const k = await person(browser, config, karim.username,
    { locale: "fr-FR", viewport: { width: 1200, height: 900 } });
  await check("Karim signs in at nozay, in French", () => signIn(k));
  await check("his People page is in French", async () => {
    await k.page.click("nav.sidebar a.nav-link[data-path='/people']");
    await k.page.locator(".people-list .person-card").first().waitFor({ timeout: WAIT });
    return (await k.page.locator("#main h1").textContent()) === "Personnes" &&
      (await k.page.locator(".people-modes button[data-mode=help]").textContent()) ===
        "Qui peut aider sur…";
  });
  await check("Karim has alice's mention among his notifications", async () => {
    await k.page.click("nav.sidebar a[href='/notifications']");
    const note = k.page.locator("article.notification-mention", { hasText: text }).first();
    await note.waitFor({ timeout: WAIT });
    return (await note.locator(".who").textContent()) !== "";
  });
  await screenshot(config.shots, k, "karim-notified");
  return k;
}

async function main() {
  fs.mkdirSync(config.shots, { recursive: true });
  const browser = await chromium.launch({ executablePath: config.chromium,
    args: ["--no-sandbox"] });
  const alice = await person(browser, config, "alice",
    { locale: "en-US", viewport: { width: 1200, height: 900 } });
  const people = [alice];
  try {
    await check("alice signs in at paris", () => signIn(alice));
    await openPeople(alice);
    await bySkill(alice);
    await whoCanHelp(alice);
    await paging(alice);
    await emptyAndError(alice);
    await onAPhone(alice);
    const text = await profileAndMention(alice);
    people.push(await karimIsTold(browser, text));
  } finally {
    reportProblems(people);
    fs.writeFileSync(config.results, JSON.stringify({}, null, 1));
    await browser.close();
  }
  report("the session ran to its end", true);
}

main().then(() => process.exit(0), (err) => {
  console.log(`FAILED: the browser session runs :: ${err.stack || err}`);
  process.exit(1);
});
