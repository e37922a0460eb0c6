// dom.js - building the page with DOM calls only. Text goes in as text
// nodes (textContent), attributes through setAttribute: nothing a user
// wrote is ever parsed as markup here. Icons are inline SVG made the same
// way, decorative (hidden from screen readers: every control has a label).

const SVG = "http://www.w3.org/2000/svg";

// h("a", {href: "/x", class: "y", onclick: fn}, "text", child, [more])
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  append(el, children);
  return el;
}

function setProps(el, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "value" || key === "checked" || key === "disabled") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Replaces the children of el.
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// Stroke paths of 24x24 icons.
const ICONS = {
  home: ["M3 11 12 3l9 8", "M5 9.5V21h5v-6h4v6h5V9.5"],
  globe: ["M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z", "M3 12h18", "M12 3c3 3 3 15 0 18",
    "M12 3c-3 3-3 15 0 18"],
  groups: ["M9 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6z", "M3 20c0-3.5 2.7-6 6-6s6 2.5 6 6",
    "M16 11a2.5 2.5 0 1 0 0-5", "M17 14c2.4.4 4 2.6 4 5.5"],
  bell: ["M6 16v-5a6 6 0 0 1 12 0v5l2 2H4z", "M10 20.5a2 2 0 0 0 4 0"],
  search: ["M10.5 4a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13z", "m15.5 15.5 5 5"],
  user: ["M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8z", "M4 21c0-4 3.6-7 8-7s8 3 8 7"],
  card: ["M3 5h18v14H3z", "M9 12a2.2 2.2 0 1 0 0-4.4A2.2 2.2 0 0 0 9 12z",
    "M5.5 16.5c.6-1.8 1.9-2.8 3.5-2.8s2.9 1 3.5 2.8", "M15 9.5h3.5", "M15 13h3.5"],
  heart: ["M12 20s-7.5-4.6-7.5-10.2A4.2 4.2 0 0 1 12 7.3a4.2 4.2 0 0 1 7.5 2.5C19.5 15.4 12 20 12 20z"],
  reply: ["M9 7 4 12l5 5", "M4 12h10a6 6 0 0 1 6 6v1"],
  edit: ["M4 20h4L19 9l-4-4L4 16z", "m13.5 6.5 4 4"],
  trash: ["M4 7h16", "M9 7V4h6v3", "M6 7l1 13h10l1-13"],
  logout: ["M14 4h5v16h-5", "M10 8l-4 4 4 4", "M6 12h11"],
  at: ["M16 12a4 4 0 1 1-8 0 4 4 0 0 1 8 0z", "M16 12v1.5a2.5 2.5 0 0 0 5 0V12a9 9 0 1 0-3.5 7.1"],
  pin: ["M12 21s-6-5.7-6-11a6 6 0 0 1 12 0c0 5.3-6 11-6 11z", "M12 12a2 2 0 1 0 0-4 2 2 0 0 0 0 4z"],
  lock: ["M6 11h12v9H6z", "M8.5 11V8a3.5 3.5 0 0 1 7 0v3"],
  plus: ["M12 5v14", "M5 12h14"],
  arrowUp: ["M12 19V5", "m6 11 6-6 6 6"],
  pulse: ["M3 12h4l3-8 4 16 3-8h4"],
  clip: ["M20 11.5 12 19.5a5 5 0 0 1-7-7l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7L9.7 17.2",
    "M9.7 17.2a1.7 1.7 0 0 1-2.4-2.4L15 7"],
  close: ["M6 6l12 12", "M18 6 6 18"],
  file: ["M6 3h8l5 5v13H6z", "M14 3v5h5"],
  download: ["M12 4v11", "m7 10 5 5 5-5", "M5 20h14"],
  chevronLeft: ["m15 5-7 7 7 7"],
  chevronRight: ["m9 5 7 7-7 7"],
};

export function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const d of ICONS[name] || []) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

// A polite announcement for screen readers (the region is in index.html).
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  window.setTimeout(() => { region.textContent = text; }, 50);
}

// A short message at the bottom of the screen (also announced).
export function toast(text, kind = "info") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const item = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" },
    text);
  box.append(item);
  window.setTimeout(() => item.remove(), 6000);
}

let uid = 0;
// A fresh id for label/aria wiring.
export function uniqueId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}
