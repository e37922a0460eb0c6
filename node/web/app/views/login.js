// login.js - the sign-in page: user name and password, sent to
// /auth/sign_in, which answers with the session cookie and its CSRF token;
// and, when the node signs in through the company's OpenID provider
// (GET /auth/oidc says whether and by which name), a "Sign in with
// <label>" link to /auth/oidc/start, which comes back to the page the user
// was on, signed in.

import * as api from "../api.js";
import { h, icon, uniqueId } from "../dom.js";
import { t } from "../i18n.js";
import { state, emit, siteName } from "../state.js";
import { errorText } from "../status.js";
import { languagePicker } from "./common.js";

// What a refused sign-in says. A refusal of the company directory's
// (the node names its reason) is not a wrong password: the directory
// cannot be reached (503), or the person may not sign in here (403, the
// node's own words).
function failure(err) {
  const reason = err.body && err.body.reason;
  if (err.status === 401) return t("login.wrong");
  if (reason === "directory") return t("login.directory");
  if (err.status === 403 && reason) return err.message;
  if (err.status === 403) return t("login.otherSite");
  return errorText(err);
}

// Adds the link to sign in through the OpenID provider to box, when the
// node has one; a node that cannot say leaves the password form alone.
async function offerProvider(box) {
  try {
    const { data } = await api.get("/auth/oidc");
    if (!data || data.enabled !== true) return;
    const back = location.pathname + location.search;
    box.append(h("p", { class: "login-or" }, t("login.or")),
      h("a", { id: "oidc-sign-in", class: "button primary",
        href: api.withQuery("/auth/oidc/start", { return: back }) },
      t("login.oidc", { label: data.label })));
  } catch {
    // the password form works without it
  }
}

export function loginView(root, message) {
  const userId = uniqueId("user");
  const passId = uniqueId("pass");
  const user = h("input", { id: userId, name: "username", autocomplete: "username", required: true,
    autocapitalize: "none", spellcheck: "false" });
  const pass = h("input", { id: passId, name: "password", type: "password", required: true,
    autocomplete: "current-password" });
  const error = h("p", { class: "form-error", role: "alert" }, message || "");
  const submit = h("button", { type: "submit", class: "primary" }, t("login.submit"));
  const form = h("form", { class: "stack" },
    h("label", { for: userId }, t("login.username")), user,
    h("label", { for: passId }, t("login.password")), pass, submit, error);
  const provider = h("div", { class: "login-provider stack" });
  offerProvider(provider);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!user.value || !pass.value) {
      error.textContent = t("login.missing");
      (user.value ? pass : user).focus();
      return;
    }
    submit.disabled = true;
    error.textContent = "";
    try {
      const { data } = await api.post("/auth/sign_in",
        { username: user.value.trim().toLowerCase(), password: pass.value });
      state.csrf = data.csrf_token;
      state.me = data.account;
      state.admin = data.admin === true;
      emit("signed-in");
    } catch (err) {
      error.textContent = failure(err);
      submit.disabled = false;
      pass.select();
      pass.focus();
    }
  });
  root.append(h("main", { id: "main", class: "login" },
    h("div", { class: "login-card" },
      h("p", { class: "brand" }, icon("groups"), "ruche", h("span", { class: "brand-site" },
        siteName())),
      h("h1", {}, t("login.title")),
      h("p", { class: "intro" }, t("login.intro", { site: siteName() })),
      form, provider,
      h("div", { class: "login-foot" }, languagePicker()))));
  user.focus();
}
