// checks.mjs - the reporting of the browser folder's Node.js checks
// (check_i18n.mjs, check_blurhash.mjs): one line per check, "ok: NAME" or
// "FAILED: NAME: DETAIL", then "N passed, M failed" and an exit status of
// 1 if any failed.

let passed = 0;
let failed = 0;

export function check(name, ok, detail) {
  if (ok) {
    passed += 1;
    console.log(`ok: ${name}`);
  } else {
    failed += 1;
    console.log(`FAILED: ${name}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
  }
  return Boolean(ok);
}

export function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
