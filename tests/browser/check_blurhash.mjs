// check_blurhash.mjs - the web front end's blurhash decoder
// (node/web/app/blurhash.js) against strings the node's encoder writes:
// the known answers of node/media/ru_blurhash_test.c, made by another
// implementation from images given there. A solid colour must come back
// as that colour, a gradient as a gradient in the right directions, and
// a malformed string as nothing (the page then draws no placeholder).
//
// Usage: node check_blurhash.mjs PATH/TO/node/web. Prints one line per
// check and "N passed, M failed"; exits 1 if any failed.

import path from "node:path";
import { pathToFileURL } from "node:url";

import { check, finish } from "./checks.mjs";

const web = process.argv[2];
const { decode, components } = await import(pathToFileURL(path.join(web, "app", "blurhash.js")));

// The mean difference of the pixels' r, g, b from rgb, and the largest.
function difference(px, rgb) {
  let sum = 0;
  let worst = 0;
  for (let i = 0; i < px.length; i += 4) {
    for (let k = 0; k < 3; k += 1) {
      const d = Math.abs(px[i + k] - rgb[k]);
      sum += d;
      worst = Math.max(worst, d);
    }
  }
  return { mean: sum / (px.length * 0.75), worst };
}

// The solid colour (200, 100, 50): with one component, exactly; with 4 x 3
// and 3 x 5, close (the encoder's cosines are not orthogonal on 16
// pixels, so its strings hold small AC values that brighten the corners).
{
  const px = decode("00M|T9", 16, 12);
  const d = px && difference(px, [200, 100, 50]);
  check("00M|T9: a solid (200, 100, 50) comes back within 1", d && d.worst <= 1, d);
}
for (const hash of ["LBM|T9}XfQ}X}XoLfQoLfQfQfQfQ", "cBM|T9}XfQ}XoLfQfQfQfQ}XoLfQfQfQfQ"]) {
  const px = decode(hash, 16, 16);
  const d = px && difference(px, [200, 100, 50]);
  check(`${hash.slice(0, 8)}…: a solid (200, 100, 50) comes back within 10 on average`,
    d && d.mean < 10, d);
  check(`${hash.slice(0, 8)}…: the centre is the colour`, px &&
    difference(px.slice(4 * (8 + 8 * 16), 4 * (8 + 8 * 16) + 4), [200, 100, 50]).worst <= 1);
  check(`${hash.slice(0, 8)}…: opaque`, px && px.every((v, i) => i % 4 !== 3 || v === 255));
}

// The gradient: red from 0 at the left to 255 at the right, green from 0
// at the top to 255 at the bottom, blue 128.
const W = 32;
const H = 24;
const px = decode("L$HewF2swxX8l}WDjte;gJfjfQfj", W, H);
check("the gradient decodes to 32 x 24 RGBA pixels", px && px.length === W * H * 4, px && px.length);
if (px) {
  const at = (x, y, k) => px[4 * (x + y * W) + k];
  let error = 0;
  for (let y = 0; y < H; y += 1) {
    for (let x = 0; x < W; x += 1) {
      error += Math.abs(at(x, y, 0) - (x * 255) / (W - 1)) + Math.abs(at(x, y, 1) - (y * 255) / (H - 1)) +
        Math.abs(at(x, y, 2) - 128);
    }
  }
  const mean = error / (W * H * 3);
  check(`the gradient is close to the image encoded (mean error ${mean.toFixed(1)} of 255)`,
    mean < 20, mean);
  check("red grows from left to right", at(2, 12, 0) + 100 < at(29, 12, 0),
    [at(2, 12, 0), at(29, 12, 0)]);
  check("green grows from top to bottom", at(16, 2, 1) + 100 < at(16, 21, 1),
    [at(16, 2, 1), at(16, 21, 1)]);
}
const nine = components("|$HewF2swxX8a|ofWpofWpl}WDjte;fQe;fQe;fQgJfjfQfjfQfjfQfjfQn,WpjtfQfQfQfQfQfQe;fQfQfQfQfQfQfQfQofWpjtfQfQfQfQfQfQeqfQfQfQfQfQfQfQfQoyWpjtfQfQfQfQfQfQeqfQfQfQfQfQfQfQfQ");
check("9 x 9 components are read", nine && nine.nx === 9 && nine.ny === 9 &&
  nine.colours.length === 81, nine && [nine.nx, nine.ny]);
const tall = components("c$HewF2swxl}WDjtgJfjfQn,Wpjte;fQfQ");
check("3 x 5 components are read", tall && tall.nx === 3 && tall.ny === 5, tall && [tall.nx, tall.ny]);

for (const [what, hash] of [["too short", "00M|T"], ["one character too many", "00M|T9a"],
  ["a character outside base 83", "00M|T\""], ["a length the size digit does not say",
    "LBM|T9}XfQ}X}XoLfQoLfQfQfQ"], ["not a string", null], ["empty", ""]]) {
  check(`malformed (${what}): nothing`, decode(hash, 8, 8) === null, what);
}
check("no pixels for a width of 0", decode("00M|T9", 0, 8) === null);

finish();
