// router.js - the application's addresses. Every page has its own path
// (/@alice, /tags/lunch, /statuses/ID, /people?skill=bgp ...), which the
// node answers with index.html; links inside the page to those paths
// change the address with the History API instead of loading it again,
// and Back and Forward work. A link to any other path of the site is a
// page of the node's own (/auth/oidc/start, which sends the browser to the
// company's sign-in page; /oauth/authorize; files) and loads as links do.

const ROUTES = [
  [/^\/$/, "home"],
  [/^\/public\/?$/, "public"],
  [/^\/tags\/([^/]+)\/?$/, "tag"],
  [/^\/groups\/?$/, "groups"],
  [/^\/groups\/(\d+)\/?$/, "group"],
  [/^\/@([^/]+)\/?$/, "profile"],
  [/^\/statuses\/(\d+)\/?$/, "thread"],
  [/^\/notifications\/?$/, "notifications"],
  [/^\/search\/?$/, "search"],
  [/^\/people\/?$/, "people"],
  [/^\/ops\/?$/, "ops"],
  [/^\/settings\/profile\/?$/, "editProfile"],
];

let onChange = () => {};

// The route of path and its parameters, or null.
function routeOf(path) {
  for (const [pattern, name] of ROUTES) {
    const m = path.match(pattern);
    if (m) return { name, params: m.slice(1) };
  }
  return null;
}

export function currentRoute() {
  const path = location.pathname;
  const query = new URLSearchParams(location.search);
  return { ...(routeOf(path) || { name: "notFound", params: [] }), query, path };
}

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  onChange(currentRoute(), { navigated: true });
}

function onClick(e) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) {
    return;
  }
  const a = e.target.closest("a[href]");
  if (!a || a.target || a.hasAttribute("download")) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !routeOf(url.pathname)) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
}

export function startRouter(render) {
  onChange = render;
  window.addEventListener("popstate", () => onChange(currentRoute(), { navigated: true }));
  document.addEventListener("click", onClick);
}
