// browser.mjs - two people use ruche's web front end in headless Chromium:
// alice at the paris site (in English), bob at the nozay site (in French).
//
// Both see, in their language, what "mentioned people only" does not
// protect when they choose it in the composer. alice posts; bob sees the
// post appear live, marked as written at paris,
// replies and likes it; alice sees the reply in the thread and gets the
// notifications; she mentions bob, picked from the suggestions, and he is
// notified at his site; she searches, edits, deletes, pages back through older
// posts; a post holding <script> and <img onerror> shows as text on both
// sites and runs nothing; addresses in a post are shortened links out of
// the application; groups, follows, keyboard use and a phone-sized
// screen are tried too. alice attaches two photos by the paper-clip
// button, writes their alt text and posts them behind a content warning:
// the gallery shows them after "show more", with their alt text, and the
// viewer opens, moves with the arrow keys and closes with Escape; bob sees
// them at his site (from their blurhash while the files are on their
// way). She drops a PDF on the composer
// (its row downloads the same bytes, an edit keeps it), pastes an image
// (marked sensitive: hidden behind a button), and a PNG bomb is refused
// in the node's words. The site's admin opens the operator page: the
// replication matrix names the right sites, and alerts appear on it live
// when paris refuses a forged update and when the lyon site stops (asked of
// test_browser.py with "do: ..." lines); alice, not an admin, has no link
// to it and gets a 403 from its endpoint. Any Content-Security-Policy
// violation, script error or dialog fails the test.
//
// Run by test_browser.py with one argument, a JSON configuration:
// {chromium, shots, results, sites: {name: url}, users: {name: {site,
// password}}, ops: {sites, origins}, files: {photo, photo2, pdf, paste,
// bomb}} (ops: the matrix's rows and columns; files: paths of the files to
// attach). Prints "ok: CHECK" or "FAILED: CHECK :: DETAIL" lines;
// writes what it made (ids, texts) to the results file; exits 0 when it
// ran to its end (failed checks included), 1 when it could not.

import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

import { WAIT, report, check, screenshot as shot, person as newPerson, signIn, eventually,
  reportProblems } from "./session.mjs";

const require = createRequire(path.join(process.cwd(), "index.js"));
const { chromium } = require("playwright-core");

const config = JSON.parse(process.argv[2]);
const stamp = `t${Date.now().toString(36)}`;
const results = {};
const screenshot = (p, name) => shot(config.shots, p, name);
const person = (browser, name, options) => newPerson(browser, config, name, options);

const article = (p, text) => p.page.locator("article.status", { hasText: text }).first();

async function compose(p, text) {
  const area = p.page.locator("#main form.compose textarea").first();
  await area.fill(text);
  await p.page.locator("#main form.compose button[type=submit]").first().click();
  await article(p, text).waitFor({ timeout: WAIT });
  return article(p, text).getAttribute("data-id");
}

// ---------------------------------------------------------------------

async function signInBoth(alice, bob) {
  await check("alice signs in at paris", () => signIn(alice));
  await check("bob signs in at nozay", () => signIn(bob));
  await check("the first Tab reaches the skip link", async () => {
    await alice.page.keyboard.press("Tab");
    return alice.page.evaluate(() => document.activeElement.classList.contains("skip-link"));
  });
  await check("bob's page is in French (his browser's language)", async () =>
    (await bob.page.locator("nav.sidebar").innerText()).includes("Accueil"));
  for (const p of [alice, bob]) {
    await check(`${p.name}: live updates connect`, () =>
      p.page.waitForSelector("#live[data-state=on]", { timeout: WAIT }));
  }
  await screenshot(alice, "home");
}

// Choosing "mentioned people only" says plainly that such posts are not
// sealed: every site holds them in plain text.
async function directNote(alice, bob) {
  for (const [p, words] of [[alice, "not sealed"], [bob, "pas encore chiffrés"]]) {
    const form = p.page.locator("#main form.compose").first();
    const note = form.locator(".visibility-note");
    await check(`${p.name}: no note while the post is for everyone`, async () =>
      !(await note.isVisible()));
    await check(`${p.name}: choosing mentioned people only shows what it does not protect`,
      async () => {
        await form.locator("select.visibility-select").selectOption("direct");
        await note.waitFor({ state: "visible", timeout: WAIT });
        const described = await form.locator("select.visibility-select")
          .getAttribute("aria-describedby");
        return (await note.innerText()).includes(words) && described === await note.getAttribute("id");
      });
    if (p === alice) await screenshot(alice, "direct-note");
    await check(`${p.name}: back to everyone, the note goes`, async () => {
      await form.locator("select.visibility-select").selectOption("public");
      await note.waitFor({ state: "hidden", timeout: WAIT });
    });
  }
}

async function postAndSeeLive(alice, bob) {
  await check("bob opens the timeline of all sites", async () => {
    await bob.page.click("nav.sidebar a[href='/public']");
    await bob.page.waitForURL(/\/public$/);
  });
  const text = `Bonjour from paris ${stamp} #ruchetest`;
  await check("the character count follows the text", async () => {
    const area = alice.page.locator("#main form.compose textarea").first();
    await area.fill(text);
    const shown = await alice.page.locator("#main form.compose .counter").first().innerText();
    return shown.replace(/\D/g, "") === String(5000 - [...text].length);
  });
  await check("alice posts", async () => {
    results.post_id = await compose(alice, text);
    return Boolean(results.post_id);
  });
  await check("bob sees alice's post appear without reloading", () =>
    article(bob, text).waitFor({ timeout: WAIT }));
  await check("the post shows the site it was written at: paris", async () =>
    (await article(bob, text).locator(".site").innerText()).includes("paris"));
  await screenshot(bob, "live-post-from-paris");
  return text;
}

async function replyAndLike(alice, bob, text) {
  const reply = `Bien reçu à nozay ${stamp}`;
  await check("bob replies", async () => {
    const card = article(bob, text);
    await card.locator(".action-reply").click();
    const area = card.locator(".slot textarea");
    await area.waitFor();
    const start = await area.inputValue();
    if (!start.includes("@alice@paris")) throw new Error(`the reply starts with "${start}"`);
    await area.press("End");
    await area.type(reply);
    await card.locator(".slot button[type=submit]").click();
    await article(bob, reply).waitFor({ timeout: WAIT });
    results.reply_id = await article(bob, reply).getAttribute("data-id");
  });
  await check("bob likes alice's post", async () => {
    const like = article(bob, text).locator(".action-like");
    await like.click();
    await bob.page.waitForFunction((id) => {
      const b = document.querySelector(`article[data-id="${id}"] .action-like`);
      const count = b && b.querySelector(".count");
      return b && b.getAttribute("aria-pressed") === "true" && count && count.textContent === "1";
    }, results.post_id, { timeout: WAIT });
  });
  await screenshot(bob, "reply-and-like");
  await check("alice opens the thread and sees bob's reply, from nozay", async () => {
    await article(alice, text).locator("a.time").click();
    await alice.page.waitForURL(/\/statuses\//);
    await article(alice, reply).waitFor({ timeout: WAIT });
    return (await article(alice, reply).locator(".site").innerText()).includes("nozay");
  });
  await screenshot(alice, "thread");
  await check("alice's unread count shows bob's reply and like as they come", () =>
    alice.page.waitForFunction(() => {
      const badge = document.querySelector("nav.sidebar .badge");
      return badge && !badge.hidden && badge.textContent === "2";
    }, null, { timeout: WAIT }));
  await check("alice is notified of bob's reply and like", async () => {
    await alice.page.click("nav.sidebar a[href='/notifications']");
    await alice.page.locator("article.notification", { hasText: "bob" }).first()
      .waitFor({ timeout: WAIT });
    await alice.page.locator("article.notification-favourite").first().waitFor({ timeout: WAIT });
    return alice.page.evaluate(() => document.querySelector("nav.sidebar .badge").hidden);
  });
  await screenshot(alice, "notifications");
}

async function mention(alice, bob) {
  const text = `merci ${stamp}`;
  await check("alice mentions bob, picked from the suggestions while typing", async () => {
    await alice.page.click("nav.sidebar a[href='/']");
    const area = alice.page.locator("#main form.compose textarea").first();
    await area.fill("");
    await area.type("Thanks @bo");
    const option = alice.page.locator(".suggestions [role=option]", { hasText: "bob@nozay" });
    await option.waitFor({ timeout: WAIT });
    await area.press("Enter");
    const value = await area.inputValue();
    if (value !== "Thanks @bob@nozay ") throw new Error(`the text is "${value}"`);
    await area.type(text);
    await alice.page.locator("#main form.compose button[type=submit]").first().click();
    await article(alice, text).waitFor({ timeout: WAIT });
  });
  await check("bob, at the other site, is notified of the mention", async () => {
    await bob.page.click("nav.sidebar a[href='/notifications']");
    await bob.page.locator("article.notification-mention", { hasText: text }).first()
      .waitFor({ timeout: WAIT });
  });
  await screenshot(bob, "notified-across-sites");
}

async function search(alice) {
  await check("alice searches and finds her post", async () => {
    await alice.page.fill("#top-search", `bonjour ${stamp}`);
    await alice.page.press("#top-search", "Enter");
    await alice.page.waitForURL(/\/search\?q=/);
    await alice.page.locator(".search-results article.status", { hasText: stamp }).first()
      .waitFor({ timeout: WAIT });
  });
  await screenshot(alice, "search");
}

async function scriptAsText(alice, bob) {
  const text = `<script>window.__rucheXss = 1</script><img src=x onerror="window.__rucheXss = 2"> ${stamp} markup`;
  results.xss_text = text;
  await bob.page.click("nav.sidebar a[href='/public']");
  await alice.page.click("nav.sidebar a[href='/']");
  await check("alice posts text holding a script and an img onerror", async () => {
    results.xss_id = await compose(alice, text);
  });
  await check("bob sees it arrive live", () =>
    article(bob, `${stamp} markup`).waitFor({ timeout: WAIT }));
  for (const p of [alice, bob]) {
    await check(`${p.name}: the markup shows as text`, async () => {
      const shown = await article(p, `${stamp} markup`).locator(".content").innerText();
      return shown.includes("<script>window.__rucheXss = 1</script>") &&
        shown.includes('<img src=x onerror="window.__rucheXss = 2">');
    });
    await check(`${p.name}: no script or image element came of it`, async () =>
      (await article(p, `${stamp} markup`).locator(".content script, .content img").count()) === 0);
    await check(`${p.name}: nothing ran`, async () =>
      (await p.page.evaluate(() => typeof window.__rucheXss)) === "undefined");
  }
  await screenshot(bob, "markup-as-text");
}

// A post's addresses are links out of the application, shown shortened;
// one whose path looks like a profile's stays an outside link.
async function links(alice, bob) {
  const long = `https://intranet.example.com/projects/2026/plan?for=${stamp}`;
  const text = `Plans at ${long} and https://wiki.example.com/@team ${stamp} links`;
  await check("alice posts two addresses", async () => { await compose(alice, text); });
  await check("bob sees the post", () => article(bob, `${stamp} links`).waitFor({ timeout: WAIT }));
  for (const p of [alice, bob]) {
    const content = article(p, `${stamp} links`).locator(".content");
    await check(`${p.name}: the long address is a link out, opened in a new tab`, async () => {
      const a = content.locator(`a[href="${long}"]`);
      return (await a.getAttribute("target")) === "_blank" &&
        (await a.getAttribute("rel")).includes("noopener");
    });
    await check(`${p.name}: it shows shortened, without its scheme, with an ellipsis`, async () => {
      const seen = await content.locator(`a[href="${long}"]`).evaluate((a) => {
        const cut = a.querySelector(".ellipsis");
        return {
          hidden: [...a.querySelectorAll(".invisible")].map((el) => el.getBoundingClientRect().width),
          shown: cut && cut.textContent,
          after: cut && getComputedStyle(cut, "::after").content,
        };
      });
      if (seen.hidden.length === 2 && seen.hidden.every((w) => w === 0) &&
        seen.shown === "intranet.example.com/projects/" && seen.after === '"…"') return true;
      throw new Error(JSON.stringify(seen));
    });
    await check(`${p.name}: an address with /@ in it stays an outside link`, async () =>
      (await content.locator('a[href="https://wiki.example.com/@team"]').count()) === 1);
  }
  await screenshot(bob, "links");
}

async function editAndDelete(alice, bob) {
  const text = `Lunch at noon, mayby ${stamp}`;
  let id = null;
  await check("alice posts a typo", async () => { id = await compose(alice, text); });
  await check("bob sees it", () => article(bob, text).waitFor({ timeout: WAIT }));
  const fixed = `Lunch at noon, maybe ${stamp}`;
  await check("alice edits it", async () => {
    const card = article(alice, text);
    await card.locator(".action-edit").click();
    const area = card.locator(".slot textarea");
    await area.fill(fixed);
    await card.locator(".slot button[type=submit]").click();
    await article(alice, fixed).locator(".edited").waitFor({ timeout: WAIT });
  });
  await check("bob sees the edit live", () => article(bob, fixed).waitFor({ timeout: WAIT }));
  const bobHad = await bob.page.locator(`article[data-id="${id}"]`).count();
  await check("alice deletes it", async () => {
    const card = article(alice, fixed);
    await card.locator(".action-delete").click();
    await card.locator(".confirm button.danger").click();
    await alice.page.locator(`article[data-id="${id}"]`).waitFor({ state: "detached",
      timeout: WAIT });
  });
  await check("it disappears from bob's page too", async () => {
    if (!bobHad) throw new Error("bob never saw it");
    await bob.page.locator(`article[data-id="${id}"]`).waitFor({ state: "detached",
      timeout: WAIT });
  });
}

// Photos and files: a photo by the button with alt text, a post behind a
// content warning, the gallery and the viewer by keyboard; a PDF dropped
// on the composer and downloaded; an image pasted; a bomb refused in words.

// A DataTransfer holding the file at path, made in the page (as a drop
// or a paste brings one): a handle to it.
async function transfer(p, file, type) {
  const b64 = fs.readFileSync(file).toString("base64");
  return p.page.evaluateHandle(([data, name, mime]) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], name, { type: mime }));
    return dt;
  }, [b64, path.basename(file), type]);
}

const upload = (p, name) => p.page.locator("#main form.compose .upload", { hasText: name }).first();

async function attachByButton(p, files) {
  const [chooser] = await Promise.all([p.page.waitForEvent("filechooser", { timeout: WAIT }),
    p.page.locator("#main form.compose button.attach").first().click()]);
  await chooser.setFiles(files);
}

async function media(alice, bob) {
  const f = config.files;
  const text = `Whiteboard ${stamp}`;
  const alts = ["The whiteboard after the review", "The team in front of the board"];
  await check("alice goes home", async () => {
    await alice.page.click("nav.sidebar a[href='/']");
    await alice.page.locator("#main form.compose").first().waitFor({ timeout: WAIT });
  });
  await check("alice attaches two photos with the paper-clip button", async () => {
    await attachByButton(alice, [f.photo, f.photo2]);
    await upload(alice, path.basename(f.photo)).waitFor({ timeout: WAIT });
    await upload(alice, path.basename(f.photo2)).waitFor({ timeout: WAIT });
  });
  await check("each shows its own picture as a preview, from a blob: URL", async () => {
    const src = await upload(alice, path.basename(f.photo)).locator(".upload-preview img")
      .getAttribute("src");
    return src.startsWith("blob:");
  });
  await check("the uploads become ready (202, then processing)", () => alice.page.waitForFunction(
    () => [...document.querySelectorAll("#main form.compose .upload")]
      .every((li) => li.dataset.state === "ready"), null, { timeout: WAIT }));
  await check("alice writes alt text for both", async () => {
    await upload(alice, path.basename(f.photo)).locator("textarea.upload-alt").fill(alts[0]);
    await upload(alice, path.basename(f.photo2)).locator("textarea.upload-alt").fill(alts[1]);
  });
  await check("she adds a content warning and posts", async () => {
    const form = alice.page.locator("#main form.compose").first();
    await form.locator("textarea[name=status]").fill(text);
    await form.locator("button.cw-button").click();
    await form.locator("input.cw-input").fill(`Project Tulip ${stamp}`);
    await form.locator("button[type=submit]").click();
    await article(alice, `Project Tulip ${stamp}`).waitFor({ timeout: WAIT });
    results.media_id = await article(alice, `Project Tulip ${stamp}`).getAttribute("data-id");
    results.media_alts = alts;
    results.media_warning = `Project Tulip ${stamp}`;
    return (await form.locator(".upload").count()) === 0;
  });
  await screenshot(alice, "media-warning");
  const card = article(alice, `Project Tulip ${stamp}`);
  await check("behind the warning, the text and photos are hidden", async () =>
    !(await card.locator(".content").isVisible()) && !(await card.locator(".gallery").isVisible()));
  await check("show more uncovers them", async () => {
    await card.locator("button.cw-toggle").click();
    await card.locator(".gallery-2 img").first().waitFor({ state: "visible", timeout: WAIT });
    return (await card.locator(".content").innerText()).includes(text) &&
      (await card.locator("button.cw-toggle").getAttribute("aria-expanded")) === "true";
  });
  await check("each thumbnail has its blurhash drawn beneath it", async () =>
    (await card.locator(".gallery .media-item canvas.blurhash").count()) === 2);
  await check("the gallery shows the thumbnails with the alt text as their alt and an ALT badge",
    async () => {
      const imgs = card.locator(".gallery img");
      await alice.page.waitForFunction((id) => [...document.querySelectorAll(
        `article[data-id="${id}"] .gallery img`)].every((i) => i.complete && i.naturalWidth > 0),
      await card.getAttribute("data-id"), { timeout: WAIT });
      const got = await imgs.evaluateAll((list) => list.map((i) => [i.alt, i.getAttribute("src")]));
      const badges = await card.locator(".gallery .alt-badge").count();
      if (JSON.stringify(got.map((g) => g[0])) !== JSON.stringify(alts)) {
        throw new Error(`alts ${got}`);
      }
      return badges === 2 && got.every((g) => /^\/media\/[A-Za-z0-9_-]{43}\.jpg$/.test(g[1]));
    });
  await screenshot(alice, "media-gallery");
  const viewer = alice.page.locator("dialog.viewer");
  await check("a thumbnail opens the viewer, alt text beneath the image", async () => {
    await card.locator(".gallery .media-item").first().click();
    await viewer.waitFor({ state: "visible", timeout: WAIT });
    await alice.page.waitForFunction(() => {
      const i = document.querySelector("dialog.viewer img");
      return i && i.complete && i.naturalWidth > 0;
    }, null, { timeout: WAIT });
    return (await viewer.locator(".viewer-alt").innerText()) === alts[0] &&
      (await viewer.locator("img").getAttribute("alt")) === alts[0] &&
      (await viewer.locator(".viewer-count").innerText()).includes("1");
  });
  await screenshot(alice, "media-viewer");
  await check("Right shows the next image, Left the one before", async () => {
    await alice.page.keyboard.press("ArrowRight");
    const second = await viewer.locator(".viewer-alt").innerText();
    if (second !== alts[1]) throw new Error(`the second says "${second}"`);
    await alice.page.keyboard.press("ArrowLeft");
    return (await viewer.locator(".viewer-alt").innerText()) === alts[0];
  });
  await check("Tab stays inside the viewer", async () => {
    for (let i = 0; i < 6; i += 1) {
      await alice.page.keyboard.press("Tab");
      if (!(await alice.page.evaluate(() => Boolean(document.activeElement.closest("dialog"))))) {
        throw new Error(`left at tab ${i + 1}`);
      }
    }
  });
  await check("its download link is the display image", async () => {
    const href = await viewer.locator("a.viewer-download").getAttribute("href");
    return /^\/media\/[A-Za-z0-9_-]{43}\.jpg$/.test(href);
  });
  await check("Escape closes it and the focus is back on the thumbnail", async () => {
    await alice.page.keyboard.press("Escape");
    await viewer.waitFor({ state: "detached", timeout: WAIT });
    return alice.page.evaluate(() => document.activeElement.matches(".gallery .media-item"));
  });

  const pdfName = path.basename(f.pdf);
  const pdfBytes = fs.readFileSync(f.pdf);
  await check("a PDF dropped on the composer becomes an attachment", async () => {
    const dt = await transfer(alice, f.pdf, "application/pdf");
    const form = alice.page.locator("#main form.compose").first();
    await form.dispatchEvent("dragover", { dataTransfer: dt });
    await form.dispatchEvent("drop", { dataTransfer: dt });
    await upload(alice, pdfName).waitFor({ timeout: WAIT });
    await alice.page.waitForSelector("#main form.compose .upload[data-state=ready]",
      { timeout: WAIT });
    return !(await upload(alice, pdfName).locator(".upload-alt-field").isVisible());
  });
  await check("a post of the PDF alone, no text", async () => {
    await alice.page.locator("#main form.compose button[type=submit]").first().click();
    await alice.page.locator("article.status .files", { hasText: pdfName }).first()
      .waitFor({ timeout: WAIT });
  });
  const row = alice.page.locator("article.status .files li", { hasText: pdfName }).first();
  await check("its row names the file, its type and size", async () => {
    const shown = await row.innerText();
    const kb = (pdfBytes.length / 1024).toFixed(1);
    return shown.includes(pdfName) && shown.includes("application/pdf") &&
      shown.replace(/\s/g, " ").includes(`${kb} kB`);
  });
  await check("its link downloads the very bytes", async () => {
    const [download] = await Promise.all([alice.page.waitForEvent("download", { timeout: WAIT }),
      row.locator("a.file-link").click()]);
    const saved = fs.readFileSync(await download.path());
    if (download.suggestedFilename() !== pdfName) throw new Error(download.suggestedFilename());
    return Buffer.compare(saved, pdfBytes) === 0;
  });
  await screenshot(alice, "media-file");
  await check("editing the post's text keeps its file", async () => {
    const card = alice.page.locator("article.status", { has: alice.page.locator(".files li",
      { hasText: pdfName }) }).first();
    await card.locator(".action-edit").click();
    await card.locator(".slot .upload", { hasText: pdfName }).waitFor({ timeout: WAIT });
    await card.locator(".slot textarea[name=status]").fill(`The report ${stamp}`);
    await card.locator(".slot button[type=submit]").click();
    await article(alice, `The report ${stamp}`).locator(".edited").waitFor({ timeout: WAIT });
    return (await article(alice, `The report ${stamp}`).locator(".files li",
      { hasText: pdfName }).count()) === 1;
  });

  await check("an image pasted into the text becomes an attachment", async () => {
    const dt = await transfer(alice, f.paste, "image/png");
    const area = alice.page.locator("#main form.compose textarea[name=status]").first();
    await area.evaluate((el, data) => {
      el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true,
        cancelable: true }));
    }, dt);
    await upload(alice, path.basename(f.paste)).waitFor({ timeout: WAIT });
    await alice.page.waitForSelector("#main form.compose .upload[data-state=ready]",
      { timeout: WAIT });
    return (await area.inputValue()) === "";
  });
  const sensitive = `Sensitive ${stamp}`;
  await check("alice marks it sensitive and posts it", async () => {
    const form = alice.page.locator("#main form.compose").first();
    await form.locator("textarea[name=status]").fill(sensitive);
    await form.locator("input.sensitive-box").check();
    await form.locator("button[type=submit]").click();
    await article(alice, sensitive).waitFor({ timeout: WAIT });
  });
  await check("its image is hidden behind a button, which shows it", async () => {
    const cover = article(alice, sensitive).locator("button.sensitive-cover");
    await cover.waitFor({ timeout: WAIT });
    await screenshot(alice, "media-sensitive");
    if (await article(alice, sensitive).locator(".gallery").isVisible()) throw new Error("shown");
    await cover.click();
    await article(alice, sensitive).locator(".gallery img").waitFor({ state: "visible",
      timeout: WAIT });
    return alice.page.evaluate(() => document.activeElement.matches(".gallery .media-item"));
  });
  await check("a PNG bomb refused by the node shows the node's reason in words", async () => {
    await attachByButton(alice, [f.bomb]);
    const item = upload(alice, path.basename(f.bomb));
    await alice.page.waitForSelector("#main form.compose .upload[data-state=failed]",
      { timeout: WAIT });
    const said = await item.locator(".upload-state").innerText();
    if (!said.includes("wider, taller or holds more pixels")) throw new Error(said);
    return (await item.locator(".upload-state").getAttribute("role")) === "alert";
  });
  await screenshot(alice, "media-refused");
  await check("posting with it says to remove it first, and posts nothing", async () => {
    const form = alice.page.locator("#main form.compose").first();
    await form.locator("textarea[name=status]").fill(`not posted ${stamp}`);
    await form.locator("button[type=submit]").click();
    await form.locator(".form-error", { hasText: "remove them" }).waitFor({ timeout: WAIT });
    return (await article(alice, `not posted ${stamp}`).count()) === 0;
  });
  await check("its remove button takes it out of the post", async () => {
    const form = alice.page.locator("#main form.compose").first();
    await form.locator("button.upload-remove").click();
    await form.locator("textarea[name=status]").fill("");
    return (await form.locator(".upload").count()) === 0;
  });
  // nozay fetches the photos from paris as the post arrives: bob sees the
  // thumbnails his own site serves, over their blurhash, each named by its
  // alt text (drawn from the blurhash alone while a file is on its way).
  await check("bob, at nozay, sees the photos: his site's thumbnails over their blurhash, " +
    "named by their alt text", async () => {
    await bob.page.goto(`/statuses/${results.media_id}`);
    const there = article(bob, results.media_warning);
    await there.locator("button.cw-toggle").click({ timeout: WAIT });
    await bob.page.waitForFunction((id) => {
      const items = [...document.querySelectorAll(`article[data-id="${id}"] .media-item`)];
      return items.length === 2 && items.every((b) => {
        const img = b.querySelector("img");
        return img && img.complete && img.naturalWidth > 0 &&
          new URL(img.src).origin === location.origin && b.querySelector("canvas.blurhash");
      });
    }, results.media_id, { timeout: 60000 });
    const labels = await there.locator(".media-item").evaluateAll((l) =>
      l.map((b) => b.getAttribute("aria-label")));
    return labels.every((label, i) => label.includes(alts[i]));
  });
  await screenshot(bob, "media-at-nozay");
}

async function paging(alice) {
  await check("alice's home loads older posts as she scrolls", async () => {
    await alice.page.click("nav.sidebar a[href='/']");
    const cards = alice.page.locator("#main .feed > article.status");
    await cards.nth(19).waitFor({ timeout: WAIT });
    await alice.page.locator("#main .more").scrollIntoViewIfNeeded();
    await cards.nth(25).waitFor({ timeout: WAIT });
  });
}

async function groupsAndFollows(alice, bob) {
  const group = `garden-${stamp}`;
  await check("alice creates a group and posts in it", async () => {
    await alice.page.click("nav.sidebar a[href='/groups']");
    await alice.page.click("details.create-group summary");
    await alice.page.fill("details.create-group input[name=name]", group);
    await alice.page.fill("details.create-group textarea", "Seeds and seedlings");
    await alice.page.click("details.create-group button[type=submit]");
    await alice.page.click(`a:text-is("${group}")`);
    await alice.page.waitForURL(/\/groups\/\d+$/);
    await compose(alice, `Tomato seedlings to give away ${stamp}`);
  });
  await screenshot(alice, "group");
  await check("bob finds the group and joins it", async () => {
    const item = bob.page.locator("li.group-item", { hasText: group });
    await eventually(async () => { // the list is read when the page opens
      await bob.page.click("nav.sidebar a[href='/groups']");
      await bob.page.waitForSelector(".group-list[aria-busy=false]");
      return (await item.count()) > 0;
    });
    await item.locator("button").click();
    await bob.page.waitForFunction((name) => [...document.querySelectorAll("li.group-item")]
      .some((li) => li.textContent.includes(name) &&
        li.querySelector("button").getAttribute("aria-pressed") === "true"), group,
    { timeout: WAIT });
  });
  await check("bob follows alice from her profile", async () => {
    await bob.page.goto("/@alice@paris");
    const button = bob.page.locator("button.follow");
    await button.waitFor({ timeout: WAIT });
    await button.click();
    await bob.page.waitForSelector("button.follow[aria-pressed=true]", { timeout: WAIT });
  });
  await screenshot(bob, "profile");
}

async function keyboardAndPhone(browser, alice) {
  await check("the n key puts the cursor in the composer", async () => {
    await alice.page.click("nav.sidebar a[href='/']");
    await alice.page.locator("#main h1").focus();
    await alice.page.keyboard.press("n");
    return alice.page.evaluate(() => document.activeElement.matches("form.compose textarea"));
  });
  await check("j moves to the next post", async () => {
    await alice.page.locator("#main h1").focus();
    await alice.page.keyboard.press("j");
    return alice.page.evaluate(() => document.activeElement.matches("article.status"));
  });
  const phone = await person(browser, "alice", { viewport: { width: 390, height: 844 },
    locale: "en-GB", isMobile: true, hasTouch: true });
  await check("on a phone: signed in, navigation at the bottom, nothing wider than the screen",
    async () => {
      await signIn(phone);
      await phone.page.locator("article.status").first().waitFor({ timeout: WAIT });
      const box = await phone.page.locator("nav.sidebar").boundingBox();
      const wide = await phone.page.evaluate(() => document.documentElement.scrollWidth);
      return box.y > 700 && wide <= 390;
    });
  phone.name = "alice-phone";
  await screenshot(phone, "home");
  await phone.context.close();
}

// The texts of the cells that match selector, sorted.
async function texts(p, selector) {
  return (await p.page.locator(selector).allInnerTexts()).map((x) => x.trim()).sort();
}

async function notForOthers(alice) {
  await check("alice, not an admin, has no link to the operator page", async () => {
    await alice.page.click("nav.sidebar a[href='/']");
    return (await alice.page.locator("nav.sidebar a[href='/ops']").count()) === 0;
  });
  await check("alice gets 403 from the operator page's endpoint", async () =>
    (await alice.page.evaluate(async () =>
      (await fetch("/api/ruche/v1/admin/ops", { credentials: "same-origin" })).status)) === 403);
  await check("alice, opening /ops, is told it is for administrators", async () => {
    await alice.page.goto("/ops");
    await alice.page.locator(".ops-forbidden").waitFor({ timeout: WAIT });
    return (await alice.page.locator(".ops-matrix").count()) === 0;
  });
}

const alertOf = (p, kind, site) => p.page.locator(`.ops-alert[data-kind="${kind}"][data-site="${site}"]`);

async function operatorPage(browser, alice, people) {
  await notForOthers(alice);
  const admin = await person(browser, "admin", { locale: "en-US",
    viewport: { width: 1200, height: 900 } });
  people.push(admin);
  await check("the admin signs in at paris and opens the operator page from the menu", async () => {
    await signIn(admin);
    await admin.page.click("nav.sidebar a[href='/ops']");
    await admin.page.waitForURL(/\/ops$/);
    await admin.page.locator(".ops-matrix").waitFor({ timeout: WAIT });
  });
  await check("the matrix has a row per site and a column per origin", async () => {
    const rows = await texts(admin, ".ops-matrix tbody th");
    const cols = await admin.page.locator(".ops-matrix tbody tr").first().locator("td")
      .evaluateAll((tds) => tds.map((td) => td.dataset.origin).sort());
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    if (!same(rows.map((r) => r.split(" ")[0]), config.ops.sites)) throw new Error(`rows ${rows}`);
    if (!same(cols, config.ops.origins)) throw new Error(`columns ${cols}`);
  });
  await check("paris, nozay and lyon lack nothing; the peers are connected", async () => {
    await eventually(async () => (await texts(admin,
      ".ops-matrix tr:is([data-site=paris], [data-site=nozay], [data-site=lyon]) td"))
      .every((x) => x === "✓"));
    return (await admin.page.locator(".ops-peers tr[data-connected=false]").count()) === 0;
  });
  await check("no alert of a bad signature or a lost peer yet", async () =>
    (await alertOf(admin, "signature", "rogue").count()) === 0 &&
    (await alertOf(admin, "disconnected", "lyon").count()) === 0);
  await screenshot(admin, "operator-page");
  console.log("do: forge");
  await check("a forged update refused by paris shows as an alert without a reload", () =>
    alertOf(admin, "signature", "rogue").waitFor({ timeout: WAIT }));
  console.log("do: stop lyon");
  await check("lyon stopping shows as an alert and in the peers' table, live", async () => {
    await alertOf(admin, "disconnected", "lyon").waitFor({ timeout: WAIT });
    await admin.page.locator(".ops-peers tr[data-site=lyon][data-connected=false]")
      .waitFor({ timeout: WAIT });
    return (await alertOf(admin, "disconnected", "lyon").innerText()).includes("lyon");
  });
  await screenshot(admin, "operator-alerts");
}

async function main() {
  fs.mkdirSync(config.shots, { recursive: true });
  const browser = await chromium.launch({ executablePath: config.chromium,
    args: ["--no-sandbox"] });
  const alice = await person(browser, "alice", { locale: "en-US",
    viewport: { width: 1200, height: 900 } });
  const bob = await person(browser, "bob", { locale: "fr-FR",
    viewport: { width: 1200, height: 900 } });
  const people = [alice, bob];
  try {
    await signInBoth(alice, bob);
    await directNote(alice, bob);
    const text = await postAndSeeLive(alice, bob);
    await replyAndLike(alice, bob, text);
    await mention(alice, bob);
    await search(alice);
    await scriptAsText(alice, bob);
    await links(alice, bob);
    await editAndDelete(alice, bob);
    await media(alice, bob);
    await paging(alice);
    await groupsAndFollows(alice, bob);
    await keyboardAndPhone(browser, alice);
    await operatorPage(browser, alice, people);
  } finally {
    reportProblems(people);
    fs.writeFileSync(config.results, JSON.stringify(results, null, 1));
    await browser.close();
  }
}

main().then(() => process.exit(0), (err) => {
  console.log(`FAILED: the browser session runs :: ${err.stack || err}`);
  process.exit(1);
});
