/*  ru_api_profile.c - the signed-in user's own account, in Mastodon's
 *  shapes: GET /api/v1/accounts/verify_credentials and PATCH
 *  /api/v1/accounts/update_credentials.
 *
 *  Both answer the Account with a "source" object as Mastodon's does:
 *  the note and the fields as the employee typed them (plain text, for an
 *  editor), and the posting defaults ruche has (privacy public, not
 *  sensitive, no language); its "ruche" object says which parts the
 *  company directory sets for this profile ("owned"), which an editor
 *  shows read-only.
 *
 *  update_credentials takes a form, multipart/form-data or JSON
 *  (ru_reqparse.h merges them): display_name, note, avatar and header
 *  (image files of a multipart body), fields_attributes (the form's
 *  fields_attributes[0][name]=...&fields_attributes[0][value]=..., in JSON
 *  an array of {name, value} or an object keyed "0".."3"; an empty name
 *  drops a field), and ruche's skills[] (a JSON array too; empty ones
 *  dropped, duplicates folded out, [""] or [] clears them). What else
 *  Mastodon takes (locked, bot, discoverable, source[privacy] ...) is
 *  accepted and ignored. Everything is checked against the protocol's
 *  limits (ru_limits.h) before anything changes: a refusal is a 422 that
 *  says what, and the profile stays as it was.
 *
 *  Order, so that a refusal never leaves half a change: the text is
 *  checked, then the images are made (the request waits for the upload
 *  queue: ru_api_media_image), then the change goes to the store actor as
 *  one ru_profile_change (state/ru_profile.h), merged there with the
 *  profile as it is then, and replicated to every site as a profile
 *  update.
 *
 *  The company directory's part: when the profile carries a directory
 *  entry (person.dir_id), the parts [directory] owned names are set by
 *  the directory sync. An edit that would change one is answered 422
 *  naming it ("display_name is set by the company directory"), and the
 *  rest of the edit is saved; a part sent as it already is (apps send the
 *  whole form) is no change. Without a directory entry the employee edits
 *  every part. The entry is read before the change is made: a sync that
 *  gives the employee an entry in between lets this one edit through.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ruche/ru_text.h"

#include "ru_api.h"
#include "ru_dbkey.h"
#include "ru_fold.h"
#include "ru_oauth.h"
#include "ru_profile.h"

#define S_MAX_FIELD_ENTRIES 64 /* fields_attributes entries read, empty ones included */
#define S_OWNED_TEXT 160

/*  The signed-in user's profile as it is, copied out of its transaction
 *  (views into rec point into bytes). */
typedef struct {
    ru_buf_t bytes;
    int has;
    ru_profile_rec_t rec;
    int has_person;
    ru_person_t person;
} s_current;

/*  An edit on its way: the change, the images' descriptors it points
 *  into, and the parts refused because the directory owns them. */
typedef struct {
    ru_profile_change_t c;
    ru_buf_t avatar, header;
    const ru_multipart_part_t *avatar_file, *header_file;
    char owned[S_OWNED_TEXT];
} s_edit;

static ru_str_t
s_str(const char *s)
{
    return (ru_str_t){s, (uint32_t) strlen(s)};
}

static int
s_same(ru_str_t a, ru_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/*  ---------------------------------------------------------------------
 *  The profile as it is
 */

static ru_err
s_current_read(ru_req_t *req, s_current *cur)
{
    memset(cur, 0, sizeof *cur);
    ru_buf_init(&cur->bytes);
    ru_txn_t txn;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return err;
    uint8_t key[RU_DBKEY_USER];
    size_t klen = ru_dbkey_user(key, ru_key_public(req->node->key), s_str(req->user.name));
    MDB_val val;
    err = ru_txn_get(&txn, RU_DB_profiles, key, klen, &val);
    if (!err) /* copied: the transaction ends here */
        ru_buf_append(&cur->bytes, val.mv_data, val.mv_size);
    ru_txn_abort(&txn);
    if (err == RU_E_NOT_FOUND)
        return RU_OK;
    if (!err)
        err = ru_buf_status(&cur->bytes);
    if (!err)
        err = ru_profile_rec_decode(cur->bytes.data, cur->bytes.len, &cur->rec);
    cur->has = !err;
    cur->has_person = cur->has && cur->rec.person.len &&
                      ru_person_unpack(cur->rec.person.ptr, cur->rec.person.len,
                                       &cur->person) == RU_OK;
    return err;
}

/*  ---------------------------------------------------------------------
 *  The answer: the Account with its source
 */

/*  The parts of the profile cur that the directory sets: [directory]
 *  owned's for a profile with a directory entry, else none. */
static json_t *
s_owned_list(ru_req_t *req, const s_current *cur)
{
    json_t *list = json_array();
    char parts[] = RU_CONFIG_PROFILE_PARTS;
    if (!cur->has_person || cur->person.dir_id.len == 0)
        return list;
    for (char *save = NULL, *w = strtok_r(parts, " ", &save); w; w = strtok_r(NULL, " ", &save))
        if (ru_config_dir_owns(&req->node->cfg, w))
            json_array_append_new(list, json_string(w));
    return list;
}

/*  Mastodon's source: what the editor shows, as typed; and ruche's
 *  "owned", the parts the directory sets, which the editor shows but
 *  cannot change. */
static json_t *
s_source(ru_req_t *req, const s_current *cur)
{
    json_t *fields = json_array();
    for (uint32_t i = 0; cur->has_person && i < cur->person.n_fields; i++) {
        const ru_pfield_t *f = &cur->person.fields[i];
        json_array_append_new(fields, json_pack("{s:s%, s:s%, s:n}", "name", f->name.ptr,
                                                (size_t) f->name.len, "value", f->value.ptr,
                                                (size_t) f->value.len, "verified_at"));
    }
    ru_str_t note = cur->has ? cur->rec.note : s_str("");
    return json_pack("{s:s%, s:o, s:s, s:b, s:s, s:i, s:{s:o}}", "note", note.ptr,
                     (size_t) note.len, "fields", fields, "privacy", "public", "sensitive", 0,
                     "language", "", "follow_requests_count", 0, "ruche", "owned",
                     s_owned_list(req, cur));
}

/*  Answers status with the signed-in user's Account and its source. */
static int
s_reply_credentials(ru_req_t *req, int status)
{
    s_current cur;
    ru_err err = s_current_read(req, &cur);
    ru_txn_t txn;
    if (!err)
        err = ru_store_read(req->node->store, &txn);
    json_t *j = NULL;
    if (!err) {
        ru_view_t v = ru_api_view(req, &txn);
        j = ru_view_account(&v, ru_key_public(req->node->key), s_str(req->user.name));
        ru_txn_abort(&txn);
        if (j)
            json_object_set_new(j, "source", s_source(req, &cur));
    }
    ru_buf_fini(&cur.bytes);
    if (err)
        return ru_http_fail(req, err);
    return j ? ru_http_json(req, status, j) : ru_http_fail(req, RU_E_NOMEM);
}

int
ru_api_verify_credentials(ru_req_t *req)
{
    return s_reply_credentials(req, 200);
}

/*  ---------------------------------------------------------------------
 *  Reading the edit
 */

/*  Sends 422 "Validation failed: " and the message; returns 0. */
static int __attribute__((format(printf, 2, 3)))
s_refuse(ru_req_t *req, const char *fmt, ...)
{
    char why[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    ru_http_error(req, 422, "Validation failed: %s", why);
    return 0;
}

/*  Checks text (UTF-8 of at most max code points) for the parameter
 *  what: 1, or 0 with a 422 sent. */
static int
s_text_ok(ru_req_t *req, const char *what, const char *text, size_t len, size_t max)
{
    size_t chars;
    if (ru_utf8_check(text, len, &chars) != RU_OK)
        return s_refuse(req, "%s is not valid UTF-8", what);
    if (chars > max)
        return s_refuse(req, "%s is over %zu characters", what, max);
    return 1;
}

/*  A string parameter of at most max code points into *set and *out,
 *  when present: 1, or 0 with a 422 sent. */
static int
s_text_param(ru_req_t *req, const char *name, size_t max, int *set, ru_str_t *out)
{
    json_t *v = json_object_get(req->params, name);
    if (!v || json_is_null(v))
        return 1;
    if (!json_is_string(v))
        return s_refuse(req, "%s must be text", name);
    *out = (ru_str_t){json_string_value(v), (uint32_t) json_string_length(v)};
    *set = 1;
    return s_text_ok(req, name, out->ptr, out->len, max);
}

/*  The form's fields_attributes[N][name] / [value] flattened keys into
 *  an object keyed N, as JSON's object form is: a new reference, or
 *  NULL when the request has none. */
static json_t *
s_form_fields(ru_req_t *req)
{
    static const char prefix[] = "fields_attributes[";
    json_t *out = NULL, *v;
    const char *key;
    json_object_foreach(req->params, key, v)
    {
        char index[24], part[8];
        int n = 0;
        if (strncmp(key, prefix, sizeof prefix - 1) != 0 ||
            sscanf(key + sizeof prefix - 1, "%20[0-9]][%5[a-z]]%n", index, part, &n) != 2 ||
            key[sizeof prefix - 1 + (size_t) n] != '\0' ||
            (strcmp(part, "name") != 0 && strcmp(part, "value") != 0))
            continue;
        if (!out)
            out = json_object();
        json_t *entry = json_object_get(out, index);
        if (!entry)
            json_object_set_new(out, index, entry = json_object());
        json_object_set(entry, part, v);
    }
    return out;
}

/*  The entries of fields_attributes, whichever form, as an array in
 *  their order (an object's by the number of its keys): a new reference,
 *  NULL when absent; *bad set when it is no list. */
static json_t *
s_field_entries(ru_req_t *req, int *bad)
{
    json_t *given = json_object_get(req->params, "fields_attributes");
    json_t *obj = given ? json_incref(given) : s_form_fields(req);
    *bad = 0;
    if (!obj || json_is_array(obj))
        return obj;
    if (!json_is_object(obj) || json_object_size(obj) > S_MAX_FIELD_ENTRIES) {
        *bad = 1;
        json_decref(obj);
        return NULL;
    }
    json_t *list = json_array();
    for (long i = 0; i < S_MAX_FIELD_ENTRIES && json_array_size(list) < json_object_size(obj);
         i++) {
        char k[24];
        snprintf(k, sizeof k, "%ld", i);
        json_t *e = json_object_get(obj, k);
        if (e)
            json_array_append(list, e);
    }
    if (json_array_size(list) != json_object_size(obj)) /* keys that are no number 0..63 */
        *bad = 1;
    json_decref(obj);
    if (*bad) {
        json_decref(list);
        return NULL;
    }
    return list;
}

/*  fields_attributes into e->c.person.fields: 1, or 0 with a 422 sent. */
static int
s_fields(ru_req_t *req, s_edit *e)
{
    int bad;
    json_t *list = s_field_entries(req, &bad);
    if (bad || json_array_size(list) > S_MAX_FIELD_ENTRIES) {
        json_decref(list);
        return s_refuse(req, "fields_attributes must be a list of at most %d {name, value}",
                        RU_MAX_FIELDS);
    }
    if (!list)
        return 1;
    ru_person_t *p = &e->c.person;
    e->c.set_fields = 1;
    size_t i;
    json_t *entry;
    int ok = 1;
    json_array_foreach(list, i, entry)
    {
        json_t *name = json_object_get(entry, "name"), *value = json_object_get(entry, "value");
        if ((name && !json_is_string(name)) || (value && !json_is_string(value)) ||
            !json_is_object(entry)) {
            ok = s_refuse(req, "a field is {name, value} of text");
            break;
        }
        if (!name || json_string_length(name) == 0)
            continue; /* an empty name drops the field */
        if (p->n_fields == RU_MAX_FIELDS) {
            ok = s_refuse(req, "a profile has at most %d fields", RU_MAX_FIELDS);
            break;
        }
        ru_pfield_t *f = &p->fields[p->n_fields++];
        f->name = (ru_str_t){json_string_value(name), (uint32_t) json_string_length(name)};
        f->value = value ? (ru_str_t){json_string_value(value), (uint32_t) json_string_length(value)}
                         : s_str("");
        ok = s_text_ok(req, "a field's name", f->name.ptr, f->name.len, RU_MAX_FIELD_CHARS) &&
             s_text_ok(req, "a field's value", f->value.ptr, f->value.len, RU_MAX_FIELD_CHARS);
        if (!ok)
            break;
    }
    json_decref(list); /* the strings stay: req->params holds them */
    return ok;
}

/*  The skill s without the blanks around it. */
static ru_str_t
s_trim(const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return (ru_str_t){s, (uint32_t) len};
}

/*  Bytes of the first n code points of s (valid UTF-8). */
static size_t
s_code_point_bytes(ru_str_t s, size_t n)
{
    size_t i = 0;
    for (; i < s.len && n; n--)
        for (i++; i < s.len && ((unsigned char) s.ptr[i] & 0xC0) == 0x80; i++)
            ;
    return i;
}

/*  Is the skill s (of folded form fs, fn bytes) one of p's already? */
static int
s_has_skill(const ru_person_t *p, ru_str_t s, const char *fs, size_t fn)
{
    for (uint32_t i = 0; i < p->n_skills; i++) {
        char other[RU_FOLD_WORD_MAX + 1];
        size_t on = ru_fold_tag(p->skills[i].ptr, p->skills[i].len, other);
        /* a folded form cut at its end: the skills' own bytes decide */
        if (fn == RU_FOLD_WORD_MAX ? s_same(s, p->skills[i]) : fn == on && !memcmp(fs, other, fn))
            return 1;
    }
    return 0;
}

/*  One skill into p: 1, or 0 with a 422 sent. */
static int
s_skill(ru_req_t *req, ru_person_t *p, json_t *v)
{
    if (!json_is_string(v))
        return s_refuse(req, "a skill is text");
    ru_str_t s = s_trim(json_string_value(v), json_string_length(v));
    size_t chars;
    char folded[RU_FOLD_WORD_MAX + 1];
    if (s.len == 0)
        return 1;
    if (ru_utf8_check(s.ptr, s.len, &chars) != RU_OK)
        return s_refuse(req, "a skill is not valid UTF-8");
    if (chars > RU_MAX_SKILL_CHARS)
        return s_refuse(req, "skill \"%.*s...\" is over %d characters",
                        (int) s_code_point_bytes(s, 30), s.ptr, RU_MAX_SKILL_CHARS);
    size_t fn = ru_fold_tag(s.ptr, s.len, folded);
    if (s_has_skill(p, s, folded, fn))
        return 1;
    if (p->n_skills == RU_MAX_SKILLS)
        return s_refuse(req, "a profile has at most %d skills", RU_MAX_SKILLS);
    p->skills[p->n_skills++] = s;
    return 1;
}

/*  skills (skills[] in a form, a JSON array, or one text) into
 *  e->c.person.skills: 1, or 0 with a 422 sent. */
static int
s_skills(ru_req_t *req, s_edit *e)
{
    json_t *v = json_object_get(req->params, "skills");
    if (!v)
        return 1;
    e->c.set_skills = 1;
    if (json_is_string(v))
        return s_skill(req, &e->c.person, v);
    if (!json_is_array(v))
        return s_refuse(req, "skills must be a list of text");
    size_t i;
    json_t *one;
    json_array_foreach(v, i, one)
    {
        if (!s_skill(req, &e->c.person, one))
            return 0;
    }
    return 1;
}

/*  The avatar and header files of a multipart body (a file part that is
 *  empty, as a form with no file chosen sends, is none): 0, or the
 *  status of the refusal sent. */
static int
s_files(ru_req_t *req, ru_multipart_t *mp, s_edit *e)
{
    const char *type = ru_http_req_header(req, "Content-Type");
    if (!type || strncasecmp(type, "multipart/form-data", 19) != 0)
        return 0;
    int status = ru_api_media_parts(req, mp);
    if (status)
        return status;
    const ru_multipart_part_t *a = ru_multipart_get(mp, "avatar");
    const ru_multipart_part_t *h = ru_multipart_get(mp, "header");
    e->avatar_file = a && a->filename && a->len ? a : NULL;
    e->header_file = h && h->filename && h->len ? h : NULL;
    return 0;
}

/*  ---------------------------------------------------------------------
 *  What the directory owns
 */

static int
s_same_fields(const ru_person_t *a, const ru_person_t *b)
{
    if (a->n_fields != b->n_fields)
        return 0;
    for (uint32_t i = 0; i < a->n_fields; i++)
        if (!s_same(a->fields[i].name, b->fields[i].name) ||
            !s_same(a->fields[i].value, b->fields[i].value))
            return 0;
    return 1;
}

static int
s_same_skills(const ru_person_t *a, const ru_person_t *b)
{
    if (a->n_skills != b->n_skills)
        return 0;
    for (uint32_t i = 0; i < a->n_skills; i++)
        if (!s_same(a->skills[i], b->skills[i]))
            return 0;
    return 1;
}

/*  Drops a change of part (*set, whether it changes anything) when the
 *  directory owns it, naming it in e->owned. */
static void
s_own(ru_req_t *req, s_edit *e, const char *part, int *set, int changes)
{
    if (!*set || !ru_config_dir_owns(&req->node->cfg, part))
        return;
    *set = 0;
    if (!changes)
        return;
    size_t used = strlen(e->owned);
    snprintf(e->owned + used, sizeof e->owned - used, "%s%s", used ? ", " : "", part);
}

/*  The parts of e that the directory owns, for a profile with a
 *  directory entry, dropped from it. */
static void
s_owned(ru_req_t *req, const s_current *cur, s_edit *e)
{
    if (!cur->has_person || cur->person.dir_id.len == 0)
        return;
    const ru_person_t *p = &cur->person;
    int has_avatar = e->avatar_file != NULL, has_header = e->header_file != NULL;
    s_own(req, e, "display_name", &e->c.set_display,
          !s_same(e->c.display_name, cur->rec.display_name));
    s_own(req, e, "note", &e->c.set_note, !s_same(e->c.note, cur->rec.note));
    s_own(req, e, "avatar", &has_avatar, 1);
    s_own(req, e, "header", &has_header, 1);
    s_own(req, e, "fields", &e->c.set_fields, !s_same_fields(&e->c.person, p));
    s_own(req, e, "skills", &e->c.set_skills, !s_same_skills(&e->c.person, p));
    if (!has_avatar)
        e->avatar_file = NULL;
    if (!has_header)
        e->header_file = NULL;
}

/*  ---------------------------------------------------------------------
 *  Making the change
 */

/*  The image of file (what: "avatar" or "header") into buf and *m,
 *  which points into it: 0, or the status of the refusal sent. */
static int
s_image(ru_req_t *req, const char *what, const ru_multipart_part_t *file, ru_buf_t *buf,
        int *set, int *has, ru_media_t *m)
{
    if (!file)
        return 0;
    int status = ru_api_media_image(req, what, file, buf);
    ru_media_t one[RU_MAX_MEDIA];
    uint32_t n = 0;
    if (!status && (ru_media_unpack(buf->data, buf->len, one, &n) != RU_OK || n != 1))
        status = ru_http_fail(req, RU_E_STORE);
    if (!status) {
        *m = one[0];
        *set = *has = 1;
    }
    return status;
}

/*  The status of a change the store refused: the update's own rules are
 *  the user's (422), the rest the node's. */
static int
s_change_failed(ru_req_t *req, ru_err err)
{
    if (err == RU_E_TOO_BIG || err == RU_E_TOO_MANY || err == RU_E_RANGE || err == RU_E_UTF8)
        return ru_http_error(req, 422, "Validation failed: the profile is refused: %s",
                             ru_err_str(err));
    return ru_http_fail(req, err);
}

/*  Reads, checks and makes the edit e of the signed-in user's profile
 *  cur: 0, or the status of the refusal sent. */
static int
s_apply(ru_req_t *req, const s_current *cur, s_edit *e, ru_multipart_t *mp)
{
    ru_profile_change_t *c = &e->c;
    if (!s_text_param(req, "display_name", RU_MAX_DISPLAY_CHARS, &c->set_display,
                      &c->display_name) ||
        !s_text_param(req, "note", RU_MAX_NOTE_CHARS, &c->set_note, &c->note) ||
        !s_fields(req, e) || !s_skills(req, e))
        return 422;
    int status = s_files(req, mp, e);
    if (status)
        return status;
    s_owned(req, cur, e);
    status = s_image(req, "avatar", e->avatar_file, &e->avatar, &c->set_avatar, &c->has_avatar,
                     &c->avatar);
    if (!status)
        status = s_image(req, "header", e->header_file, &e->header, &c->set_header,
                         &c->has_header, &c->header);
    if (status)
        return status;
    if (!(c->set_display || c->set_note || c->set_avatar || c->set_header || c->set_fields ||
          c->set_skills))
        return 0;
    ru_err err = ru_profile_change(req->node->writer, c, NULL);
    return err ? s_change_failed(req, err) : 0;
}

int
ru_api_update_credentials(ru_req_t *req)
{
    if (!ru_oauth_scope_subset("write:accounts", req->scope))
        return ru_http_error(req, 403, "This action needs the write:accounts scope");
    s_current cur;
    ru_err err = s_current_read(req, &cur);
    if (err) {
        ru_buf_fini(&cur.bytes);
        return ru_http_fail(req, err);
    }
    s_edit e;
    memset(&e, 0, sizeof e);
    e.c.name = req->user.name;
    ru_buf_init(&e.avatar);
    ru_buf_init(&e.header);
    ru_multipart_t mp;
    memset(&mp, 0, sizeof mp);
    int status = s_apply(req, &cur, &e, &mp);
    if (!status && e.owned[0])
        status = ru_http_error(req, 422, "Validation failed: %s %s set by the company directory",
                               e.owned, strchr(e.owned, ',') ? "are" : "is");
    else if (!status)
        status = s_reply_credentials(req, 200);
    ru_multipart_fini(&mp);
    ru_buf_fini(&e.avatar);
    ru_buf_fini(&e.header);
    ru_buf_fini(&cur.bytes);
    return status;
}
