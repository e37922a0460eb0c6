// state.js - what the whole application shares: the signed-in account,
// the session's CSRF token, the node's instance information, and an event
// bus the parts talk through ("signed-in", "signed-out", "notification"...).

export const state = {
  me: null, // the signed-in Account
  admin: false, // the signed-in user administers this site (the operator page)
  csrf: null, // the session's CSRF token, sent as X-CSRF-Token
  instance: null, // GET /api/v2/instance
  maxChars: 5000,
};

export const bus = new EventTarget();

export function emit(name, detail) {
  bus.dispatchEvent(new CustomEvent(name, { detail }));
}

export function on(name, fn) {
  const listener = (e) => fn(e.detail);
  bus.addEventListener(name, listener);
  return () => bus.removeEventListener(name, listener);
}

// Is the account the signed-in user (a local account has no "@site")?
export function isMe(account) {
  return Boolean(state.me && account && account.acct === state.me.acct);
}

// The site of this node, e.g. "paris".
export function siteName() {
  return state.instance?.ruche?.site || state.instance?.domain || "";
}
