// profile.mjs - alice edits her profile in ruche's web front end, in
// headless Chromium, and bob, at the same site, sees it.
//
// alice opens her profile from the navigation and its "Edit profile" link;
// a PDF chosen as her photo is refused in the node's words, under the
// form, and nothing is saved. She then chooses a photo and a banner (each
// previewed from her own file, a blob: URL, before anything is sent),
// types a display name, a bio, two profile fields (one a link) and three
// skills, and saves: her page shows the photo and the banner as the node
// serves them (loaded, not broken), the fields, the link, the skills, and
// the editor shows them again. bob opens her page and sees the same, with
// a follow button where she has her edit link. Any Content-Security-Policy
// violation, script error or dialog fails the test.
//
// Run by test_profile_web.py with one argument, a JSON configuration:
// {chromium, shots, results, sites: {name: url}, users: {name: {site,
// password}}, files: {photo, banner, pdf}}. Prints "ok: CHECK" or "FAILED:
// CHECK :: DETAIL" lines; writes what it saw to the results file; exits 0
// when it ran to its end (failed checks included), 1 when it could not.

import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

import { WAIT, report, check, screenshot, person, signIn, eventually, reportProblems }
  from "./session.mjs";

const require = createRequire(path.join(process.cwd(), "index.js"));
const { chromium } = require("playwright-core");

const config = JSON.parse(process.argv[2]);
const results = {};
const PROFILE = {
  name: "Alice Martin", note: "Storage and replication, at the Paris site.",
  fields: [["Team", "Platform"], ["Wiki", "https://wiki.example/alice"]],
  skills: ["LMDB", "ZeroMQ", "C"],
};

// Has the image at selector loaded from one of the node's files?
async function imageShown(page, selector) {
  const img = page.locator(selector).first();
  await img.waitFor({ timeout: WAIT });
  await eventually(() => img.evaluate((el) => el.complete && el.naturalWidth > 0));
  const src = await img.getAttribute("src");
  return /^\/media\//.test(src) || new Error(`src is ${src}`);
}

async function openEditor(alice) {
  const { page } = alice;
  await check("alice opens her profile from the navigation", async () => {
    await page.click("nav.sidebar a.nav-link[data-path='/@alice']");
    await page.locator(".profile-card").waitFor({ timeout: WAIT });
  });
  await check("her page shows the site's default photo", async () => {
    await page.locator(".profile-avatar").waitFor({ timeout: WAIT });
    return (await page.locator(".profile-avatar").getAttribute("src")) === "/avatar.png";
  });
  await check("her page has an Edit profile link, and no follow button", async () => {
    if (await page.locator(".profile-card button.follow").count()) return false;
    await page.click("a.edit-profile");
    await page.locator("form.profile-editor").waitFor({ timeout: WAIT });
    return new URL(page.url()).pathname === "/settings/profile";
  });
}

async function refusedPdf(alice) {
  const { page } = alice;
  await check("a PDF as her photo is refused in the node's words", async () => {
    await page.setInputFiles("form.profile-editor input[name=avatar]", config.files.pdf);
    await page.click("form.profile-editor button[type=submit]");
    const error = page.locator("form.profile-editor .form-error");
    await eventually(async () => /must be an image/.test(await error.textContent()));
    return new URL(page.url()).pathname === "/settings/profile";
  });
  await screenshot(config.shots, alice, "editor-refused");
}

async function fillAndSave(alice) {
  const { page } = alice;
  const form = page.locator("form.profile-editor");
  await check("her photo is previewed from her own file before it is sent", async () => {
    await page.setInputFiles("form.profile-editor input[name=avatar]", config.files.photo);
    await eventually(async () => /^blob:/.test(await form.locator("img.edit-avatar")
      .getAttribute("src")));
  });
  await check("and her banner", async () => {
    await page.setInputFiles("form.profile-editor input[name=header]", config.files.banner);
    await eventually(async () => /^blob:/.test(await form.locator("img.edit-header")
      .getAttribute("src")));
  });
  await check("she types her name, bio, fields and skills and saves", async () => {
    await form.getByLabel("Display name").fill(PROFILE.name);
    await form.getByLabel("Bio").fill(PROFILE.note);
    for (const [i, [name, value]] of PROFILE.fields.entries()) {
      await form.locator(`input[data-field='${i}-name']`).fill(name);
      await form.locator(`input[data-field='${i}-value']`).fill(value);
    }
    await form.getByLabel("Skills").fill(PROFILE.skills.join(", "));
    await form.locator("button[type=submit]").click();
    await page.waitForURL("**/@alice", { timeout: WAIT });
    await page.locator(".profile-card .profile-fields").waitFor({ timeout: WAIT });
  });
  await screenshot(config.shots, alice, "profile-saved");
}

// What a page of alice's profile must show, for who is looking.
async function profileShows(p, who) {
  const { page } = p;
  await check(`${who}: her display name is the page's title`, async () =>
    (await page.locator("#main h1").textContent()) === PROFILE.name);
  await check(`${who}: her photo, from the node`, () => imageShown(page, ".profile-avatar"));
  await check(`${who}: her banner, from the node`, () => imageShown(page, ".profile-header"));
  await check(`${who}: her bio`, async () =>
    (await page.locator(".profile-card .note").textContent()).includes(PROFILE.note));
  await check(`${who}: her fields`, async () => {
    const names = await page.locator(".profile-fields dt").allTextContents();
    const values = await page.locator(".profile-fields dd").allTextContents();
    return JSON.stringify(names.map((n, i) => [n, values[i]])) ===
      JSON.stringify(PROFILE.fields) || new Error(JSON.stringify([names, values]));
  });
  await check(`${who}: the link of a field opens outside the application`, async () =>
    (await page.locator(".profile-fields a").first().getAttribute("target")) === "_blank");
  await check(`${who}: her skills`, async () =>
    JSON.stringify(await page.locator(".skills li").allTextContents()) ===
      JSON.stringify(PROFILE.skills));
}

async function editorAgain(alice) {
  const { page } = alice;
  await check("the editor shows what she saved", async () => {
    await page.click("a.edit-profile");
    const form = page.locator("form.profile-editor");
    await form.waitFor({ timeout: WAIT });
    const got = [await form.getByLabel("Display name").inputValue(),
      await form.locator("input[data-field='1-value']").inputValue(),
      await form.getByLabel("Skills").inputValue()];
    results.alice_avatar = await form.locator("img.edit-avatar").getAttribute("src");
    return JSON.stringify(got) === JSON.stringify([PROFILE.name, PROFILE.fields[1][1],
      PROFILE.skills.join(", ")]) || new Error(JSON.stringify(got));
  });
}

async function main() {
  fs.mkdirSync(config.shots, { recursive: true });
  const browser = await chromium.launch({ executablePath: config.chromium,
    args: ["--no-sandbox"] });
  const viewport = { width: 1200, height: 900 };
  const alice = await person(browser, config, "alice", { locale: "en-US", viewport });
  const bob = await person(browser, config, "bob", { locale: "en-US", viewport });
  try {
    await check("alice signs in", () => signIn(alice));
    await openEditor(alice);
    await refusedPdf(alice);
    await fillAndSave(alice);
    await profileShows(alice, "alice");
    await editorAgain(alice);
    await check("bob signs in", () => signIn(bob));
    await check("bob opens alice's page", async () => {
      await bob.page.goto("/@alice");
      await bob.page.locator(".profile-card .profile-fields").waitFor({ timeout: WAIT });
    });
    await profileShows(bob, "bob");
    await check("bob: a follow button, no edit link", async () =>
      (await bob.page.locator(".profile-card button.follow").count()) === 1 &&
      (await bob.page.locator("a.edit-profile").count()) === 0);
    await screenshot(config.shots, bob, "alice-profile");
  } finally {
    reportProblems([alice, bob]);
    fs.writeFileSync(config.results, JSON.stringify(results, null, 1));
    await browser.close();
  }
  report("the session ran to its end", true);
}

main().then(() => process.exit(0), (err) => {
  console.log(`FAILED: the browser session runs :: ${err.stack || err}`);
  process.exit(1);
});
