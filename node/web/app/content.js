// content.js - a status's "content" as DOM nodes.
//
// The node makes that HTML itself from the post's text, escaped, with
// paragraphs, line breaks and links for mentions and hashtags. It is still
// not put into the page as markup: it is parsed into an inert document
// (nothing in it runs or loads) and rebuilt here element by element, from
// a short list of allowed tags and attributes. Links to mentions and tags
// (class "mention") become the application's own paths, whatever host the
// node wrote into them; any other link must be http or https and opens in
// a new tab. An address in a post is shown as the node shortened it:
// the "invisible" spans hidden, an "ellipsis" span followed by "…"
// (style.css), the whole address still in the link and in a copy.

const KEEP = new Set(["P", "BR", "A", "SPAN"]);
const DROP = new Set(["SCRIPT", "STYLE", "TEMPLATE", "IFRAME", "OBJECT", "EMBED", "NOSCRIPT"]);
const CLASSES = new Set(["mention", "hashtag", "h-card", "u-url", "invisible", "ellipsis"]);

// The href to give a link, or null to show it as plain text. A mention's
// or tag's link (mention) becomes the application's own path.
export function safeHref(href, mention = false) {
  let url;
  try {
    url = new URL(href, location.origin);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (mention && /^\/(tags\/[^/]+|@[^/]+)$/.test(url.pathname)) {
    return { href: url.pathname, internal: true };
  }
  return { href: url.href, internal: false };
}

function copyLink(from) {
  const target = safeHref(from.getAttribute("href") || "", from.classList.contains("mention"));
  if (!target) return document.createElement("span");
  const a = document.createElement("a");
  a.setAttribute("href", target.href);
  if (!target.internal) {
    a.setAttribute("rel", "noopener noreferrer nofollow");
    a.setAttribute("target", "_blank");
  }
  return a;
}

function copyInto(from, to) {
  for (const node of from.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) {
      to.append(document.createTextNode(node.data));
    } else if (node.nodeType === Node.ELEMENT_NODE && !DROP.has(node.tagName)) {
      if (!KEEP.has(node.tagName)) {
        copyInto(node, to); // an unknown element: its text only
        continue;
      }
      const el = node.tagName === "A" ? copyLink(node) : document.createElement(node.tagName);
      const classes = [...node.classList].filter((c) => CLASSES.has(c));
      if (classes.length) el.className = classes.join(" ");
      copyInto(node, el);
      to.append(el);
    }
  }
}

export function renderContent(html) {
  const doc = new DOMParser().parseFromString(String(html || ""), "text/html");
  const fragment = document.createDocumentFragment();
  copyInto(doc.body, fragment);
  return fragment;
}
