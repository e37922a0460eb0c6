// blurhash.js - the placeholder of an image that is not here yet: its
// blurhash (the node's media/ru_blurhash.c writes it, Mastodon's format)
// decoded into a few pixels and drawn on a small canvas that the page
// stretches. A canvas needs nothing from the Content-Security-Policy.
//
// The string: one base-83 digit for the number of components (x and y),
// one for the largest AC value, four for the average colour (sRGB), then
// two per further component, three values from -1 to 1 on a square-root
// scale. Each pixel is the sum of every component times its cosines, in
// linear light, turned back to sRGB. decode() is plain computation (the
// tests run it under Node.js); draw() needs a document.

const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" +
  "#$%*+,-.:;=?@[]^_{|}~";
const VALUE = new Map([...DIGITS].map((ch, i) => [ch, i]));

// The number written in base 83 by text; NaN if a character is not a digit.
function base83(text) {
  let v = 0;
  for (const ch of text) {
    const d = VALUE.get(ch);
    if (d === undefined) return NaN;
    v = v * 83 + d;
  }
  return v;
}

function toLinear(byte) {
  const v = byte / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

function toByte(linear) {
  const v = Math.min(1, Math.max(0, linear));
  const s = v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055;
  return Math.round(s * 255);
}

// An AC value (0 to 18 on the wire) back to -1 .. 1, times the largest.
function acValue(q, max) {
  const v = (q - 9) / 9;
  return Math.sign(v) * v * v * max;
}

// The components [r, g, b] in linear light, with their counts; null when
// hash is not a well-formed blurhash.
export function components(hash) {
  if (typeof hash !== "string" || hash.length < 6) return null;
  const size = base83(hash[0]);
  const nx = (size % 9) + 1;
  const ny = Math.floor(size / 9) + 1;
  if (Number.isNaN(size) || hash.length !== 4 + 2 * nx * ny) return null;
  const max = (base83(hash[1]) + 1) / 166;
  const dc = base83(hash.slice(2, 6));
  if (Number.isNaN(max) || Number.isNaN(dc)) return null;
  const colours = [[toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]];
  for (let i = 1; i < nx * ny; i += 1) {
    const v = base83(hash.slice(4 + 2 * i, 6 + 2 * i));
    if (Number.isNaN(v) || v >= 19 * 19 * 19) return null;
    colours.push([acValue(Math.floor(v / 361), max), acValue(Math.floor(v / 19) % 19, max),
      acValue(v % 19, max)]);
  }
  return { nx, ny, colours };
}

// The RGBA pixels (width x height) of hash, or null when it is malformed.
export function decode(hash, width, height) {
  const c = components(hash);
  if (!c || !(width > 0) || !(height > 0)) return null;
  const px = new Uint8ClampedArray(width * height * 4);
  const cosX = [];
  const cosY = [];
  for (let i = 0; i < c.nx; i += 1) {
    cosX.push(Array.from({ length: width }, (_, x) => Math.cos((Math.PI * x * i) / width)));
  }
  for (let j = 0; j < c.ny; j += 1) {
    cosY.push(Array.from({ length: height }, (_, y) => Math.cos((Math.PI * y * j) / height)));
  }
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let j = 0; j < c.ny; j += 1) {
        for (let i = 0; i < c.nx; i += 1) {
          const basis = cosX[i][x] * cosY[j][y];
          const colour = c.colours[i + j * c.nx];
          r += colour[0] * basis;
          g += colour[1] * basis;
          b += colour[2] * basis;
        }
      }
      const at = 4 * (x + y * width);
      px[at] = toByte(r);
      px[at + 1] = toByte(g);
      px[at + 2] = toByte(b);
      px[at + 3] = 255;
    }
  }
  return px;
}

// A canvas of 32 pixels on its longer side (aspect: width / height) with
// hash drawn on it, for the page to stretch; null when hash is malformed.
export function drawBlurhash(hash, aspect = 1) {
  const a = aspect > 0 && Number.isFinite(aspect) ? Math.min(4, Math.max(0.25, aspect)) : 1;
  const width = a >= 1 ? 32 : Math.max(1, Math.round(32 * a));
  const height = a >= 1 ? Math.max(1, Math.round(32 / a)) : 32;
  const px = decode(hash, width, height);
  if (!px) return null;
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.className = "blurhash";
  canvas.setAttribute("aria-hidden", "true");
  canvas.getContext("2d").putImageData(new ImageData(px, width, height), 0, 0);
  return canvas;
}
