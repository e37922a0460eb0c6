// checks.mjs - the reporting of the browser folder's Node.js checks
// (check_i18n.mjs, check_blurhash.mjs, oidc.mjs): one line per check,
// "ok: NAME" or "FAILED: NAME :: DETAIL" (as browser.mjs writes them and
// browserrun.py reads them), then, from finish(), "N passed, M failed"
// and an exit status of 1 if any failed.

let passed = 0;
let failed = 0;

export function check(name, ok, detail) {
  if (ok) {
    passed += 1;
    console.log(`ok: ${name}`);
  } else {
    failed += 1;
    const text = typeof detail === "string" ? detail : JSON.stringify(detail);
    const flat = String(text ?? "").replace(/\u001b\[[0-9;]*m/g, "").replace(/\s+/g, " ");
    console.log(`FAILED: ${name} :: ${flat.slice(0, 400)}`);
  }
  return Boolean(ok);
}

// Runs an async step: one check, failed when it throws or returns false.
export async function attempt(name, fn) {
  try {
    const value = await fn();
    return check(name, value !== false, "the condition is false");
  } catch (err) {
    return check(name, false, err.message);
  }
}

export function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
