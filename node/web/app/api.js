// api.js - the node's HTTP API, as any Mastodon client uses it, signed in
// by the session cookie (sent by the browser, never readable here) plus
// the CSRF token in X-CSRF-Token on every request that changes something.
// Uploads go through XMLHttpRequest, for their progress; a form with
// files that needs none (the profile editor's) goes through fetch.
// Paging follows the Link header's rel="next" and rel="prev", kept as
// paths, and files are loaded by their paths: the node writes its public
// URL there, which may name the host otherwise than the address bar does.

import { state, emit } from "./state.js";

export class ApiError extends Error {
  constructor(status, message, body, retryAfter) {
    super(message);
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

// "/path?query" of a URL the node wrote, whatever host it names; null
// when it is malformed.
export function pathOf(href) {
  try {
    const url = new URL(href, location.origin);
    return url.pathname + url.search;
  } catch {
    return null;
  }
}

// The path of one of the node's files (/media/...) from its URL; null for
// anything else, which the page does not load.
export function mediaPath(href) {
  const path = typeof href === "string" ? pathOf(href) : null;
  return path && path.startsWith("/media/") ? path : null;
}

// The path of an account's avatar or header from its URL: one of the
// node's files, or the site's default image; null for anything else.
export function profileImagePath(href) {
  const path = typeof href === "string" ? pathOf(href) : null;
  if (path === "/avatar.png" || path === "/header.png") return path;
  return path && path.startsWith("/media/") ? path : null;
}

// {rel: "/path?query"} of a Link header.
export function parseLinks(header) {
  const out = {};
  for (const part of (header || "").split(",")) {
    const m = part.match(/<([^>]*)>\s*;\s*rel="?([a-z]+)"?/);
    const path = m && pathOf(m[1]);
    if (path) out[m[2]] = path; // a malformed link is no link
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

// The ApiError of an answer that is not a success: the node's own words
// (its "error"), else the status text.
function failure(status, statusText, data, retryAfter) {
  const message = (data && (data.error_description || data.error)) || statusText;
  if (status === 401 && state.me) emit("session-lost");
  return new ApiError(status, message, data, Number(retryAfter) || 0);
}

// Sends one request; resolves to {data, links, status}, rejects with
// ApiError. body goes as JSON; form (a FormData, files and all) as
// multipart/form-data, whose boundary the browser writes.
export async function request(method, path, { body, query, form } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
  let res;
  try {
    res = await fetch(withQuery(path, query), {
      method, headers, credentials: "same-origin",
      body: form ?? (body === undefined ? undefined : JSON.stringify(body)),
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
  if (!res.ok) throw failure(res.status, res.statusText, data, res.headers.get("Retry-After"));
  return { data, links: parseLinks(res.headers.get("Link")), status: res.status };
}

// Uploads file as the "file" part of a multipart/form-data POST to path,
// through XMLHttpRequest, which reports the progress of the bytes sent
// (fetch does not): onProgress(fraction) as they go. Returns {done, abort}:
// done resolves to {data, status} or rejects with ApiError (status 0 for
// the network, -1 when aborted).
export function upload(path, file, onProgress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open("POST", path);
    xhr.setRequestHeader("Accept", "application/json");
    if (state.csrf) xhr.setRequestHeader("X-CSRF-Token", state.csrf);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener("load", () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve({ data, status: xhr.status });
      else reject(failure(xhr.status, xhr.statusText, data, xhr.getResponseHeader("Retry-After")));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network", null)));
    xhr.addEventListener("abort", () => reject(new ApiError(-1, "aborted", null)));
    const form = new FormData();
    form.append("file", file, file.name || "file");
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}

export const get = (path, query) => request("GET", path, { query });
export const post = (path, body) => request("POST", path, { body: body ?? {} });
export const put = (path, body) => request("PUT", path, { body: body ?? {} });
export const del = (path) => request("DELETE", path);
export const patchForm = (path, form) => request("PATCH", path, { form });
