// editprofile.js - the signed-in person's profile editor
// (/settings/profile), reached from their own profile page: display name,
// bio, avatar and header (each previewed from the chosen file through a
// blob: URL before it is sent), up to four profile fields and their
// skills.
//
// It reads GET /api/v1/accounts/verify_credentials, whose source holds the
// bio and the fields as typed and, in source.ruche.owned, the parts the
// company directory sets for this person: those are shown read-only with
// a note. Saving sends one PATCH /api/v1/accounts/update_credentials as
// multipart/form-data (the files with the rest), with the parts the
// directory owns left out; the node answers the updated account, or
// refuses with its own words, shown under the form (the profile is then
// unchanged).

import * as api from "../api.js";
import { h, fill, toast, uniqueId } from "../dom.js";
import { t } from "../i18n.js";
import { state } from "../state.js";
import { navigate } from "../router.js";
import { profilePath, errorText } from "../status.js";
import { heading } from "./common.js";

const MAX_FIELDS = 4;
const MAX_SKILLS = 32;

// A labelled control; owned: shown read-only, with the directory's note.
function row(label, control, { owned, hint } = {}) {
  const id = uniqueId("profile");
  const noteId = uniqueId("profile-note");
  control.id = id;
  if (owned) {
    control.disabled = true;
    control.setAttribute("aria-describedby", noteId);
  }
  return h("div", { class: "stack edit-row" }, h("label", { for: id }, label), control,
    hint ? h("p", { class: "hint" }, hint) : null,
    owned ? h("p", { class: "hint owned", id: noteId }, t("editProfile.owned")) : null);
}

// An image chooser for kind ("avatar" or "header", the parameter's name)
// with its preview (the current image, then the file chosen) and its
// texts; file() is the chosen File or null.
function imageChooser(kind, current, owned, label, alt) {
  const preview = h("img", { class: `edit-${kind}`, alt });
  const shown = api.profileImagePath(current);
  if (shown) preview.src = shown;
  let url = null;
  const input = h("input", { type: "file", name: kind,
    accept: "image/jpeg,image/png,image/gif,image/webp" });
  input.addEventListener("change", () => {
    if (url) URL.revokeObjectURL(url);
    const file = input.files[0];
    url = file ? URL.createObjectURL(file) : null;
    preview.src = url || shown || "";
  });
  const el = h("div", { class: "edit-image" }, preview,
    row(label, input, { owned }));
  return { el, file: () => (owned ? null : input.files[0] || null),
    release: () => { if (url) URL.revokeObjectURL(url); } };
}

function fieldRows(fields, owned) {
  const rows = [];
  for (let i = 0; i < MAX_FIELDS; i += 1) {
    const f = fields[i] || { name: "", value: "" };
    const name = h("input", { maxlength: "255", value: f.name, dataset: { field: `${i}-name` } });
    const value = h("input", { maxlength: "255", value: f.value, dataset: { field: `${i}-value` } });
    rows.push({ name, value, el: h("div", { class: "field-row" },
      row(t("editProfile.fieldName", { count: i + 1 }), name, { owned }),
      row(t("editProfile.fieldValue", { count: i + 1 }), value, { owned })) });
  }
  return rows;
}

// The skills typed, comma-separated, as a list.
function skillList(text) {
  return text.split(",").map((s) => s.trim()).filter((s) => s);
}

function editor(me) {
  const owned = new Set(me.source?.ruche?.owned || []);
  const name = h("input", { maxlength: "100", value: me.display_name || "" });
  const note = h("textarea", { rows: "4", maxlength: "1000" });
  note.value = me.source?.note || "";
  const avatar = imageChooser("avatar", me.avatar, owned.has("avatar"), t("editProfile.avatar"),
    t("editProfile.avatarPreview"));
  const header = imageChooser("header", me.header, owned.has("header"), t("editProfile.header"),
    t("editProfile.headerPreview"));
  const fields = fieldRows(me.source?.fields || [], owned.has("fields"));
  const skills = h("input", { value: (me.ruche?.skills || []).join(", ") });
  const error = h("p", { class: "form-error", role: "alert" });
  const save = h("button", { type: "submit", class: "primary" }, t("editProfile.save"));
  const form = h("form", { class: "profile-editor stack", novalidate: true },
    header.el, avatar.el,
    row(t("editProfile.displayName"), name, { owned: owned.has("display_name") }),
    row(t("editProfile.note"), note, { owned: owned.has("note") }),
    h("fieldset", { class: "fields" }, h("legend", {}, t("editProfile.fields")),
      h("p", { class: "hint" }, t("editProfile.fieldsHint")), fields.map((f) => f.el)),
    row(t("editProfile.skills"), skills, { owned: owned.has("skills"),
      hint: t("editProfile.skillsHint", { count: MAX_SKILLS }) }),
    h("div", { class: "edit-actions" }, save,
      h("a", { href: profilePath(me) }, t("common.cancel"))),
    error);

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    const body = new FormData();
    if (!owned.has("display_name")) body.append("display_name", name.value);
    if (!owned.has("note")) body.append("note", note.value);
    if (!owned.has("fields")) {
      fields.forEach((f, i) => {
        body.append(`fields_attributes[${i}][name]`, f.name.value.trim());
        body.append(`fields_attributes[${i}][value]`, f.value.value.trim());
      });
    }
    if (!owned.has("skills")) {
      const list = skillList(skills.value);
      if (list.length) list.forEach((s) => body.append("skills[]", s));
      else body.append("skills[]", ""); // none: clears them
    }
    for (const [kind, chooser] of [["avatar", avatar], ["header", header]]) {
      const file = chooser.file();
      if (file) body.append(kind, file, file.name || kind);
    }
    save.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      const { data } = await api.patchForm("/api/v1/accounts/update_credentials", body);
      state.me = data;
      toast(t("editProfile.saved"));
      navigate(profilePath(data));
    } catch (err) {
      error.textContent = errorText(err);
    } finally {
      save.disabled = false;
      form.setAttribute("aria-busy", "false");
    }
  });
  return { el: form, release: () => { avatar.release(); header.release(); } };
}

export function editProfileView(main) {
  const body = h("div", {}, h("p", { class: "loading" }, t("timeline.loading")));
  main.append(heading(t("editProfile.title")), body);
  let made = null;
  api.get("/api/v1/accounts/verify_credentials").then(({ data }) => {
    made = editor(data);
    fill(body, made.el);
  }).catch((err) => {
    fill(body, h("p", { class: "form-error", role: "alert" }, errorText(err)));
  });
  return { title: t("editProfile.title"), destroy() { if (made) made.release(); } };
}
