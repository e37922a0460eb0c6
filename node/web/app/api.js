// api.js - the node's HTTP API, as any Mastodon client uses it, signed in
// by the session cookie (sent by the browser, never readable here) plus
// the CSRF token in X-CSRF-Token on every request that changes something.
// Paging follows the Link header's rel="next" and rel="prev", kept as
// paths: the node writes its public URL there, which may name the host
// otherwise than the address bar does.

import { state, emit } from "./state.js";

export class ApiError extends Error {
  constructor(status, message, body, retryAfter) {
    super(message);
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

// {rel: "/path?query"} of a Link header.
export function parseLinks(header) {
  const out = {};
  for (const part of (header || "").split(",")) {
    const m = part.match(/<([^>]*)>\s*;\s*rel="?([a-z]+)"?/);
    if (!m) continue;
    try {
      const url = new URL(m[1], location.origin);
      out[m[2]] = url.pathname + url.search;
    } catch {
      // a malformed link is no link
    }
  }
  return out;
}

// path with the query added (arrays as key[]=a&key[]=b, as Mastodon reads them).
export function withQuery(path, query) {
  if (!query) return path;
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => url.searchParams.append(`${key}[]`, v));
    else url.searchParams.set(key, value);
  }
  return url.pathname + url.search;
}

// Sends one request; resolves to {data, links}, rejects with ApiError.
export async function request(method, path, { body, query } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
  let res;
  try {
    res = await fetch(withQuery(path, query), {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", null);
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const message = (data && (data.error_description || data.error)) || res.statusText;
    if (res.status === 401 && state.me) emit("session-lost");
    throw new ApiError(res.status, message, data, Number(res.headers.get("Retry-After")) || 0);
  }
  return { data, links: parseLinks(res.headers.get("Link")) };
}

export const get = (path, query) => request("GET", path, { query });
export const post = (path, body) => request("POST", path, { body: body ?? {} });
export const put = (path, body) => request("PUT", path, { body: body ?? {} });
export const del = (path) => request("DELETE", path);
