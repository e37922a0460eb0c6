/*  vec_json.c - updates and messages to and from their JSON form in the
 *  test vectors.
 *
 *  The body members of each update kind, per payload version, and the
 *  members of each message type, are listed in tables in wire order; one
 *  writer and one reader per member serve every kind and type. A body
 *  holds the members version 2 adds exactly when its payload is of
 *  version 2 or 3, and a profile's person exactly when it is of version
 *  3, so the JSON says which version the encoder must write. An
 *  attachment's descriptor mirrors its wire form (PROTOCOL.md section
 *  5.7): an object with an "image" member that is null for a plain file;
 *  a person (section 5.8) is an object of its eleven fields, whose
 *  profile fields are objects {"name", "value"}.
 *  The blob messages (want, chunk, lack) name their blob by its hash in
 *  hex, and a chunk's bytes are hex too (section 15).
 *  Hex is always lowercase, and the reader refuses anything else, so every
 *  vector has one spelling.
 */
#include "vec_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  ---------------------------------------------------------------------
 *  Hex and members
 */

json_t *
vec_json_hex(const uint8_t *bytes, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *text = malloc(2 * n + 1);
    if (!text)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        text[2 * i] = digits[bytes[i] >> 4];
        text[2 * i + 1] = digits[bytes[i] & 15];
    }
    json_t *s = json_stringn(text, 2 * n);
    free(text);
    return s;
}

static int
s_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/*  Decodes text (len characters, even) into out. */
static ru_err
s_unhex(const char *text, size_t len, uint8_t *out)
{
    for (size_t i = 0; i < len / 2; i++) {
        int hi = s_nibble(text[2 * i]), lo = s_nibble(text[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            (void) fprintf(stderr, "vectors: not lowercase hex: %.40s\n", text);
            return RU_E_INVALID;
        }
        out[i] = (uint8_t) (hi << 4 | lo);
    }
    return RU_OK;
}

ru_err
vec_json_unhex(const json_t *hex, uint8_t *out, size_t n)
{
    if (!json_is_string(hex) || json_string_length(hex) != 2 * n) {
        (void) fprintf(stderr, "vectors: expected the hex of %zu bytes\n", n);
        return RU_E_INVALID;
    }
    return s_unhex(json_string_value(hex), 2 * n, out);
}

ru_err
vec_json_unhex_buf(const json_t *hex, ru_buf_t *out)
{
    size_t len = json_is_string(hex) ? json_string_length(hex) : 1;
    if (len % 2) {
        (void) fprintf(stderr, "vectors: expected a hex string\n");
        return RU_E_INVALID;
    }
    uint8_t *bytes = malloc(len / 2 + 1);
    if (!bytes)
        return RU_E_NOMEM;
    ru_err err = s_unhex(json_string_value(hex), len, bytes);
    if (!err) {
        ru_buf_append(out, bytes, len / 2);
        err = ru_buf_status(out);
    }
    free(bytes);
    return err;
}

json_t *
vec_json_get(const json_t *obj, const char *key, json_type type)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!v || json_typeof(v) != type) {
        (void) fprintf(stderr, "vectors: member \"%s\" is missing or of the wrong type\n", key);
        return NULL;
    }
    return v;
}

ru_err
vec_json_uint(const json_t *obj, const char *key, uint64_t *v)
{
    json_t *n = vec_json_get(obj, key, JSON_INTEGER);
    if (!n || json_integer_value(n) < 0) {
        (void) fprintf(stderr, "vectors: member \"%s\" is not a non-negative integer\n", key);
        return RU_E_INVALID;
    }
    *v = (uint64_t) json_integer_value(n);
    return RU_OK;
}

ru_err
vec_json_size(const json_t *obj, size_t n)
{
    if (json_object_size(obj) != n) {
        (void) fprintf(stderr, "vectors: an object has %zu members, expected %zu\n",
                       json_object_size(obj), n);
        return RU_E_INVALID;
    }
    return RU_OK;
}

static ru_err
s_get_hex(const json_t *obj, const char *key, uint8_t *out, size_t n)
{
    json_t *v = vec_json_get(obj, key, JSON_STRING);
    return v ? vec_json_unhex(v, out, n) : RU_E_INVALID;
}

/*  The JSON string v as a view. */
static ru_err
s_str_of(const json_t *v, ru_str_t *s)
{
    if (!json_is_string(v)) {
        (void) fprintf(stderr, "vectors: expected a string\n");
        return RU_E_INVALID;
    }
    s->ptr = json_string_value(v);
    s->len = (uint32_t) json_string_length(v);
    return RU_OK;
}

static ru_err
s_get_str(const json_t *obj, const char *key, ru_str_t *s)
{
    json_t *v = vec_json_get(obj, key, JSON_STRING);
    return v ? s_str_of(v, s) : RU_E_INVALID;
}

/*  ---------------------------------------------------------------------
 *  Clocks: [[origin hex, seq], ...] in wire order
 */

json_t *
vec_json_from_clock(const ru_clock_t *clock)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; i < clock->n; i++)
        json_array_append_new(arr,
                              json_pack("[o,I]", vec_json_hex(clock->v[i].origin, RU_KEY_BYTES),
                                        (json_int_t) clock->v[i].seq));
    return arr;
}

ru_err
vec_json_to_clock(const json_t *obj, const char *key, ru_clock_t *clock)
{
    json_t *arr = vec_json_get(obj, key, JSON_ARRAY);
    if (!arr)
        return RU_E_INVALID;
    size_t i;
    json_t *entry;
    json_array_foreach(arr, i, entry)
    {
        uint8_t origin[RU_KEY_BYTES];
        json_t *seq = json_array_get(entry, 1);
        if (json_array_size(entry) != 2 || !json_is_integer(seq) || json_integer_value(seq) < 1 ||
            vec_json_unhex(json_array_get(entry, 0), origin, RU_KEY_BYTES)) {
            (void) fprintf(stderr, "vectors: clock entry %zu is not [origin hex, seq >= 1]\n", i);
            return RU_E_INVALID;
        }
        ru_err err = ru_clock_set(clock, origin, (uint64_t) json_integer_value(seq));
        if (err)
            return err;
    }
    return RU_OK;
}

/*  ---------------------------------------------------------------------
 *  Update bodies
 */

typedef enum {
    B_END,
    B_TARGET,
    B_TEXT,
    B_VIS,
    B_GROUP,
    B_USER,
    B_DISPLAY,
    B_NOTE,
    B_NAME,
    B_ORIGIN,
    B_SEQ,
    B_HASH,
    B_SPOILER,
    B_SENSITIVE,
    B_MEDIA,
    B_AVATAR,
    B_HEADER,
    B_PERSON
} s_field;

static const char *const s_field_names[] = {
    [B_TARGET] = "target",       [B_TEXT] = "text",
    [B_VIS] = "visibility",      [B_GROUP] = "group",
    [B_USER] = "user",           [B_DISPLAY] = "display_name",
    [B_NOTE] = "note",           [B_NAME] = "name",
    [B_ORIGIN] = "origin",       [B_SEQ] = "seq",
    [B_HASH] = "hash",           [B_SPOILER] = "spoiler",
    [B_SENSITIVE] = "sensitive", [B_MEDIA] = "media",
    [B_AVATAR] = "avatar",       [B_HEADER] = "header",
    [B_PERSON] = "person",
};

/*  Body members of each kind, in wire order, ending with B_END: in
 *  version 1, where version 2 adds some, and where version 3 does. */
static const s_field s_bodies[RU_KIND_MAX + 1][7] = {
    [RU_KIND_POST] = {B_TEXT, B_VIS, B_GROUP, B_END},
    [RU_KIND_REPLY] = {B_TARGET, B_TEXT, B_VIS, B_END},
    [RU_KIND_EDIT] = {B_TARGET, B_TEXT, B_END},
    [RU_KIND_DELETE] = {B_TARGET, B_END},
    [RU_KIND_LIKE] = {B_TARGET, B_END},
    [RU_KIND_UNLIKE] = {B_TARGET, B_END},
    [RU_KIND_FOLLOW] = {B_USER, B_END},
    [RU_KIND_UNFOLLOW] = {B_USER, B_END},
    [RU_KIND_PROFILE] = {B_DISPLAY, B_NOTE, B_END},
    [RU_KIND_GROUP_CREATE] = {B_NAME, B_NOTE, B_END},
    [RU_KIND_GROUP_JOIN] = {B_TARGET, B_END},
    [RU_KIND_GROUP_LEAVE] = {B_TARGET, B_END},
    [RU_KIND_RESOLVE] = {B_ORIGIN, B_SEQ, B_HASH, B_END},
};

static const s_field s_bodies_v2[RU_KIND_MAX + 1][7] = {
    [RU_KIND_POST] = {B_TEXT, B_VIS, B_GROUP, B_SPOILER, B_SENSITIVE, B_MEDIA, B_END},
    [RU_KIND_REPLY] = {B_TARGET, B_TEXT, B_VIS, B_SPOILER, B_SENSITIVE, B_MEDIA, B_END},
    [RU_KIND_EDIT] = {B_TARGET, B_TEXT, B_SPOILER, B_SENSITIVE, B_MEDIA, B_END},
    [RU_KIND_PROFILE] = {B_DISPLAY, B_NOTE, B_AVATAR, B_HEADER, B_END},
};

static const s_field s_bodies_v3[RU_KIND_MAX + 1][7] = {
    [RU_KIND_PROFILE] = {B_DISPLAY, B_NOTE, B_AVATAR, B_HEADER, B_PERSON, B_END},
};

/*  The body of kind in a payload of version; kinds a version leaves alone
 *  have the body of the version before. */
static const s_field *
s_body_of(unsigned version, ru_kind kind)
{
    if (version >= 3 && s_bodies_v3[kind][0] != B_END)
        return s_bodies_v3[kind];
    return version >= 2 && s_bodies_v2[kind][0] != B_END ? s_bodies_v2[kind] : s_bodies[kind];
}

static size_t
s_body_count(const s_field *body)
{
    size_t n = 0;
    while (body[n] != B_END)
        n++;
    return n;
}

static json_t *
s_from_str(ru_str_t s)
{
    return json_stringn(s.ptr ? s.ptr : "", s.len);
}

static json_t *
s_from_ref(const ru_ref_t *ref)
{
    return json_pack("{s:o,s:I}", "origin", vec_json_hex(ref->origin, RU_KEY_BYTES), "seq",
                     (json_int_t) ref->seq);
}

static json_t *
s_from_image(const ru_media_t *m)
{
    return json_pack(
        "{s:I,s:I,s:o,s:I,s:I,s:I,s:o,s:I,s:I}", "width", (json_int_t) m->width, "height",
        (json_int_t) m->height, "thumb", vec_json_hex(m->thumb, RU_HASH_BYTES), "thumb_size",
        (json_int_t) m->thumb_size, "thumb_width", (json_int_t) m->thumb_width, "thumb_height",
        (json_int_t) m->thumb_height, "blurhash", s_from_str(m->blurhash), "focus_x",
        (json_int_t) m->focus_x, "focus_y", (json_int_t) m->focus_y);
}

static json_t *
s_from_media(const ru_media_t *m)
{
    return json_pack("{s:o,s:I,s:o,s:o,s:o,s:o}", "hash", vec_json_hex(m->hash, RU_HASH_BYTES),
                     "size", (json_int_t) m->size, "type", s_from_str(m->type), "name",
                     s_from_str(m->name), "description", s_from_str(m->description), "image",
                     m->is_image ? s_from_image(m) : json_null());
}

static json_t *
s_from_media_list(const ru_update_t *u)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; i < u->n_media; i++)
        json_array_append_new(arr, s_from_media(&u->media[i]));
    return arr;
}

/*  A person's eight strings, in wire order (PROTOCOL.md section 5.8). */
static const struct {
    const char *name;
    size_t offset;
} s_person_texts[] = {
    {"dir_id", offsetof(ru_person_t, dir_id)},         {"title", offsetof(ru_person_t, title)},
    {"department", offsetof(ru_person_t, department)}, {"site", offsetof(ru_person_t, site)},
    {"office", offsetof(ru_person_t, office)},         {"phone", offsetof(ru_person_t, phone)},
    {"email", offsetof(ru_person_t, email)},           {"manager", offsetof(ru_person_t, manager)},
};

#define S_PERSON_TEXTS (sizeof s_person_texts / sizeof s_person_texts[0])

static json_t *
s_from_person(const ru_person_t *p)
{
    json_t *j = json_object(), *skills = json_array(), *fields = json_array();
    for (size_t i = 0; i < S_PERSON_TEXTS; i++)
        json_object_set_new(
            j, s_person_texts[i].name,
            s_from_str(*(const ru_str_t *) ((const char *) p + s_person_texts[i].offset)));
    for (uint32_t i = 0; i < p->n_skills; i++)
        json_array_append_new(skills, s_from_str(p->skills[i]));
    for (uint32_t i = 0; i < p->n_fields; i++)
        json_array_append_new(fields, json_pack("{s:o,s:o}", "name", s_from_str(p->fields[i].name),
                                                "value", s_from_str(p->fields[i].value)));
    json_object_set_new(j, "skills", skills);
    json_object_set_new(j, "fields", fields);
    json_object_set_new(j, "departed", json_integer(p->departed));
    return j;
}

static json_t *
s_from_field(const ru_update_t *u, s_field f)
{
    switch (f) {
    case B_TARGET:
        return s_from_ref(&u->target);
    case B_TEXT:
        return s_from_str(u->text);
    case B_VIS:
        return json_integer(u->visibility);
    case B_GROUP:
        return u->has_group ? s_from_ref(&u->group) : json_null();
    case B_USER:
        return json_pack("{s:o,s:o}", "home", vec_json_hex(u->user.home, RU_KEY_BYTES), "name",
                         s_from_str(u->user.name));
    case B_DISPLAY:
        return s_from_str(u->display_name);
    case B_NOTE:
        return s_from_str(u->note);
    case B_NAME:
        return s_from_str(u->name);
    case B_ORIGIN:
        return vec_json_hex(u->fork.origin, RU_KEY_BYTES);
    case B_SEQ:
        return json_integer((json_int_t) u->fork.seq);
    case B_HASH:
        return vec_json_hex(u->kept, RU_HASH_BYTES);
    case B_SPOILER:
        return s_from_str(u->spoiler);
    case B_SENSITIVE:
        return json_integer(u->sensitive);
    case B_MEDIA:
        return s_from_media_list(u);
    case B_AVATAR:
        return u->has_avatar ? s_from_media(&u->avatar) : json_null();
    case B_HEADER:
        return u->has_header ? s_from_media(&u->header) : json_null();
    case B_PERSON:
        return u->has_person ? s_from_person(&u->person) : json_null();
    case B_END:
        break;
    }
    return NULL;
}

json_t *
vec_json_from_update(const ru_update_t *u)
{
    json_t *body = json_object();
    for (const s_field *f = s_body_of(u->version, u->kind); *f != B_END; f++)
        json_object_set_new(body, s_field_names[*f], s_from_field(u, *f));
    const char *kind = ru_kind_name(u->kind);
    return json_pack("{s:o,s:I,s:o,s:o,s:I,s:o,s:s,s:o}", "origin",
                     vec_json_hex(u->origin, RU_KEY_BYTES), "seq", (json_int_t) u->seq, "prev",
                     vec_json_hex(u->prev, RU_HASH_BYTES), "clock", vec_json_from_clock(&u->clock), "hlc",
                     (json_int_t) u->hlc, "author", s_from_str(u->author), "kind",
                     kind ? kind : "?", "body", body);
}

static ru_err
s_to_ref(const json_t *obj, const char *key, ru_ref_t *ref)
{
    json_t *r = vec_json_get(obj, key, JSON_OBJECT);
    if (!r || vec_json_size(r, 2))
        return RU_E_INVALID;
    ru_err err = s_get_hex(r, "origin", ref->origin, RU_KEY_BYTES);
    return err ? err : vec_json_uint(r, "seq", &ref->seq);
}

static ru_err
s_to_user(const json_t *obj, ru_user_t *user)
{
    json_t *r = vec_json_get(obj, "user", JSON_OBJECT);
    if (!r || vec_json_size(r, 2))
        return RU_E_INVALID;
    ru_err err = s_get_hex(r, "home", user->home, RU_KEY_BYTES);
    return err ? err : s_get_str(r, "name", &user->name);
}

/*  Member key of obj as an integer of 0 .. max. */
static ru_err
s_get_uint(const json_t *obj, const char *key, uint64_t max, uint64_t *v)
{
    if (vec_json_uint(obj, key, v))
        return RU_E_INVALID;
    if (*v > max) {
        (void) fprintf(stderr, "vectors: member \"%s\" is above %llu\n", key,
                       (unsigned long long) max);
        return RU_E_INVALID;
    }
    return RU_OK;
}

static ru_err
s_get_u32(const json_t *obj, const char *key, uint32_t *v)
{
    uint64_t wide;
    ru_err err = s_get_uint(obj, key, UINT32_MAX, &wide);
    *v = (uint32_t) wide;
    return err;
}

static ru_err
s_to_image(const json_t *img, ru_media_t *m)
{
    ru_err err = vec_json_size(img, 9);
    if (!err)
        err = s_get_u32(img, "width", &m->width);
    if (!err)
        err = s_get_u32(img, "height", &m->height);
    if (!err)
        err = s_get_hex(img, "thumb", m->thumb, RU_HASH_BYTES);
    if (!err)
        err = vec_json_uint(img, "thumb_size", &m->thumb_size);
    if (!err)
        err = s_get_u32(img, "thumb_width", &m->thumb_width);
    if (!err)
        err = s_get_u32(img, "thumb_height", &m->thumb_height);
    if (!err)
        err = s_get_str(img, "blurhash", &m->blurhash);
    if (!err)
        err = s_get_u32(img, "focus_x", &m->focus_x);
    return err ? err : s_get_u32(img, "focus_y", &m->focus_y);
}

/*  One descriptor from the JSON object d. */
static ru_err
s_to_media(const json_t *d, ru_media_t *m)
{
    memset(m, 0, sizeof *m);
    json_t *img = json_is_object(d) ? json_object_get(d, "image") : NULL;
    ru_err err = img && vec_json_size(d, 6) == RU_OK ? RU_OK : RU_E_INVALID;
    if (!err)
        err = s_get_hex(d, "hash", m->hash, RU_HASH_BYTES);
    if (!err)
        err = vec_json_uint(d, "size", &m->size);
    if (!err)
        err = s_get_str(d, "type", &m->type);
    if (!err)
        err = s_get_str(d, "name", &m->name);
    if (!err)
        err = s_get_str(d, "description", &m->description);
    m->is_image = img && !json_is_null(img);
    if (!err && m->is_image)
        err = vec_json_get(d, "image", JSON_OBJECT) ? s_to_image(img, m) : RU_E_INVALID;
    if (err)
        (void) fprintf(stderr, "vectors: malformed attachment descriptor\n");
    return err;
}

static ru_err
s_to_media_list(const json_t *body, const char *key, ru_update_t *u)
{
    json_t *arr = vec_json_get(body, key, JSON_ARRAY);
    if (!arr || json_array_size(arr) > RU_MAX_MEDIA)
        return RU_E_INVALID;
    size_t i;
    json_t *d;
    json_array_foreach(arr, i, d)
    {
        ru_err err = s_to_media(d, &u->media[i]);
        if (err)
            return err;
    }
    u->n_media = (uint32_t) json_array_size(arr);
    return RU_OK;
}

/*  Member key of body: null, or a descriptor into m (has says which). */
static ru_err
s_to_opt_media(const json_t *body, const char *key, int *has, ru_media_t *m)
{
    json_t *d = json_object_get(body, key);
    if (!d) {
        (void) fprintf(stderr, "vectors: member \"%s\" is missing\n", key);
        return RU_E_INVALID;
    }
    *has = !json_is_null(d);
    return *has ? s_to_media(d, m) : RU_OK;
}

/*  One profile field from the JSON object f. */
static ru_err
s_to_pfield(const json_t *f, ru_pfield_t *field)
{
    ru_err err = vec_json_size(f, 2);
    if (!err)
        err = s_get_str(f, "name", &field->name);
    return err ? err : s_get_str(f, "value", &field->value);
}

/*  A person from the JSON object j. */
static ru_err
s_to_person(const json_t *j, ru_person_t *p)
{
    memset(p, 0, sizeof *p);
    json_t *skills = vec_json_get(j, "skills", JSON_ARRAY);
    json_t *fields = vec_json_get(j, "fields", JSON_ARRAY);
    ru_err err = skills && fields && json_array_size(skills) <= RU_MAX_SKILLS &&
                         json_array_size(fields) <= RU_MAX_FIELDS
                     ? vec_json_size(j, S_PERSON_TEXTS + 3)
                     : RU_E_INVALID;
    for (size_t i = 0; !err && i < S_PERSON_TEXTS; i++)
        err = s_get_str(j, s_person_texts[i].name,
                        (ru_str_t *) ((char *) p + s_person_texts[i].offset));
    for (size_t i = 0; !err && i < json_array_size(skills); i++, p->n_skills++)
        err = s_str_of(json_array_get(skills, i), &p->skills[i]);
    for (size_t i = 0; !err && i < json_array_size(fields); i++, p->n_fields++)
        err = s_to_pfield(json_array_get(fields, i), &p->fields[i]);
    uint64_t departed = 0;
    if (!err)
        err = s_get_uint(j, "departed", 1, &departed);
    p->departed = (int) departed;
    if (err)
        (void) fprintf(stderr, "vectors: malformed person\n");
    return err;
}

static ru_err
s_to_person_member(const json_t *body, const char *key, ru_update_t *u)
{
    json_t *j = json_object_get(body, key);
    if (!j) {
        (void) fprintf(stderr, "vectors: member \"%s\" is missing\n", key);
        return RU_E_INVALID;
    }
    u->has_person = !json_is_null(j);
    return u->has_person ? s_to_person(j, &u->person) : RU_OK;
}

static ru_err
s_to_field(const json_t *body, s_field f, ru_update_t *u)
{
    const char *key = s_field_names[f];
    uint64_t v;
    switch (f) {
    case B_TARGET:
        return s_to_ref(body, key, &u->target);
    case B_TEXT:
        return s_get_str(body, key, &u->text);
    case B_VIS:
        if (vec_json_uint(body, key, &v) || v > RU_VIS_MAX)
            return RU_E_INVALID;
        u->visibility = (ru_visibility) v;
        return RU_OK;
    case B_GROUP:
        u->has_group = !json_is_null(json_object_get(body, key));
        return u->has_group ? s_to_ref(body, key, &u->group) : RU_OK;
    case B_USER:
        return s_to_user(body, &u->user);
    case B_DISPLAY:
        return s_get_str(body, key, &u->display_name);
    case B_NOTE:
        return s_get_str(body, key, &u->note);
    case B_NAME:
        return s_get_str(body, key, &u->name);
    case B_ORIGIN:
        return s_get_hex(body, key, u->fork.origin, RU_KEY_BYTES);
    case B_SEQ:
        return vec_json_uint(body, key, &u->fork.seq);
    case B_HASH:
        return s_get_hex(body, key, u->kept, RU_HASH_BYTES);
    case B_SPOILER:
        return s_get_str(body, key, &u->spoiler);
    case B_SENSITIVE:
        if (s_get_uint(body, key, 1, &v))
            return RU_E_INVALID;
        u->sensitive = (int) v;
        return RU_OK;
    case B_MEDIA:
        return s_to_media_list(body, key, u);
    case B_AVATAR:
        return s_to_opt_media(body, key, &u->has_avatar, &u->avatar);
    case B_HEADER:
        return s_to_opt_media(body, key, &u->has_header, &u->header);
    case B_PERSON:
        return s_to_person_member(body, key, u);
    case B_END:
        break;
    }
    return RU_E_INVALID;
}

/*  The body of u->kind from the "body" member of fields: of the highest
 *  version whose members for the kind it has as many of, else of version
 *  1 (the members are checked by name as they are read). */
static ru_err
s_to_body(const json_t *fields, ru_update_t *u)
{
    json_t *body = vec_json_get(fields, "body", JSON_OBJECT);
    const s_field *want = s_bodies[u->kind];
    for (unsigned version = RU_PAYLOAD_VERSION_MAX; body && version > 1; version--)
        if (json_object_size(body) == s_body_count(s_body_of(version, u->kind))) {
            want = s_body_of(version, u->kind);
            break;
        }
    if (!body || vec_json_size(body, s_body_count(want)))
        return RU_E_INVALID;
    for (const s_field *f = want; *f != B_END; f++) {
        ru_err err = s_to_field(body, *f, u);
        if (err)
            return err;
    }
    return RU_OK;
}

ru_err
vec_json_to_update(const json_t *fields, ru_update_t *u)
{
    json_t *kind = vec_json_get(fields, "kind", JSON_STRING);
    if (!kind || vec_json_size(fields, 8))
        return RU_E_INVALID;
    u->kind = ru_kind_from_name(json_string_value(kind));
    if (!u->kind) {
        (void) fprintf(stderr, "vectors: unknown kind \"%s\"\n", json_string_value(kind));
        return RU_E_INVALID;
    }
    ru_err err;
    if ((err = s_get_hex(fields, "origin", u->origin, RU_KEY_BYTES)) != RU_OK ||
        (err = vec_json_uint(fields, "seq", &u->seq)) != RU_OK ||
        (err = s_get_hex(fields, "prev", u->prev, RU_HASH_BYTES)) != RU_OK ||
        (err = vec_json_to_clock(fields, "clock", &u->clock)) != RU_OK ||
        (err = vec_json_uint(fields, "hlc", &u->hlc)) != RU_OK ||
        (err = s_get_str(fields, "author", &u->author)) != RU_OK)
        return err;
    return s_to_body(fields, u);
}

/*  ---------------------------------------------------------------------
 *  Messages
 */

typedef enum {
    M_END,
    M_ENVELOPE,
    M_ENVELOPES,
    M_CLOCK,
    M_CREDIT,
    M_HLC,
    M_DIGEST,
    M_HASH,
    M_SIZE,
    M_OFFSET,
    M_DATA
} s_member;

static const char *const s_member_names[] = {
    [M_ENVELOPE] = "envelope", [M_ENVELOPES] = "envelopes",
    [M_CLOCK] = "clock",       [M_CREDIT] = "credit",
    [M_HLC] = "hlc",           [M_DIGEST] = "digest",
    [M_HASH] = "hash",         [M_SIZE] = "size",
    [M_OFFSET] = "offset",     [M_DATA] = "data",
};

/*  Members of each message type, in wire order, ending with M_END. */
static const s_member s_messages[RU_MSG_MAX + 1][5] = {
    [RU_MSG_UPDATE] = {M_ENVELOPE, M_END},
    [RU_MSG_HELLO] = {M_CLOCK, M_CREDIT, M_END},
    [RU_MSG_BATCH] = {M_ENVELOPES, M_END},
    [RU_MSG_DONE] = {M_CLOCK, M_END},
    [RU_MSG_HEARTBEAT] = {M_CLOCK, M_HLC, M_DIGEST, M_END},
    [RU_MSG_CREDIT] = {M_CREDIT, M_END},
    [RU_MSG_WANT] = {M_HASH, M_OFFSET, M_CREDIT, M_END},
    [RU_MSG_CHUNK] = {M_HASH, M_SIZE, M_OFFSET, M_DATA, M_END},
    [RU_MSG_LACK] = {M_HASH, M_END},
};

ru_msg_type
vec_json_msg_type(const char *name)
{
    for (int t = 1; t <= RU_MSG_MAX; t++)
        if (strcmp(ru_msg_type_name((ru_msg_type) t), name) == 0)
            return (ru_msg_type) t;
    return 0;
}

static json_t *
s_from_member(const ru_msg_t *msg, s_member m)
{
    json_t *arr;
    switch (m) {
    case M_ENVELOPE:
        return vec_json_hex(msg->updates[0].wire, msg->updates[0].wire_len);
    case M_ENVELOPES:
        arr = json_array();
        for (uint32_t i = 0; i < msg->n_updates; i++)
            json_array_append_new(arr,
                                  vec_json_hex(msg->updates[i].wire, msg->updates[i].wire_len));
        return arr;
    case M_CLOCK:
        return vec_json_from_clock(&msg->clock);
    case M_CREDIT:
        return json_integer(msg->credit);
    case M_HLC:
        return json_integer((json_int_t) msg->hlc);
    case M_DIGEST:
        return vec_json_hex(msg->digest, RU_HASH_BYTES);
    case M_HASH:
        return vec_json_hex(msg->blob, RU_HASH_BYTES);
    case M_SIZE:
        return json_integer((json_int_t) msg->blob_size);
    case M_OFFSET:
        return json_integer((json_int_t) msg->offset);
    case M_DATA:
        return vec_json_hex(msg->data.ptr, msg->data.len);
    case M_END:
        break;
    }
    return NULL;
}

json_t *
vec_json_from_msg(const ru_msg_t *msg)
{
    json_t *fields = json_object();
    for (const s_member *m = s_messages[msg->type]; *m != M_END; m++)
        json_object_set_new(fields, s_member_names[*m], s_from_member(msg, *m));
    return fields;
}

/*  A message's members read from JSON: envelopes are views into raw, a
 *  chunk's bytes are in data. */
typedef struct {
    ru_clock_t clock;
    uint64_t credit;
    uint64_t hlc;
    uint8_t digest[RU_HASH_BYTES];
    uint8_t hash[RU_HASH_BYTES];
    uint64_t size, offset;
    ru_buf_t data;
    ru_buf_t raw;
    size_t ends[RU_MAX_BATCH];
    ru_bytes_t envelopes[RU_MAX_BATCH];
    uint32_t n;
} s_msg_in_t;

/*  Appends the envelope hex to in->raw. */
static ru_err
s_to_envelope(s_msg_in_t *in, const json_t *hex)
{
    if (in->n == RU_MAX_BATCH)
        return RU_E_INVALID;
    ru_err err = vec_json_unhex_buf(hex, &in->raw);
    if (!err)
        in->ends[in->n++] = in->raw.len;
    return err;
}

static ru_err
s_to_member(const json_t *fields, s_member m, s_msg_in_t *in)
{
    const char *key = s_member_names[m];
    json_t *v;
    size_t i;
    switch (m) {
    case M_ENVELOPE:
        v = vec_json_get(fields, key, JSON_STRING);
        return v ? s_to_envelope(in, v) : RU_E_INVALID;
    case M_ENVELOPES:
        if (!vec_json_get(fields, key, JSON_ARRAY))
            return RU_E_INVALID;
        json_array_foreach(json_object_get(fields, key), i, v)
        {
            if (s_to_envelope(in, v))
                return RU_E_INVALID;
        }
        return RU_OK;
    case M_CLOCK:
        return vec_json_to_clock(fields, key, &in->clock);
    case M_CREDIT:
        return vec_json_uint(fields, key, &in->credit);
    case M_HLC:
        return vec_json_uint(fields, key, &in->hlc);
    case M_DIGEST:
        return s_get_hex(fields, key, in->digest, RU_HASH_BYTES);
    case M_HASH:
        return s_get_hex(fields, key, in->hash, RU_HASH_BYTES);
    case M_SIZE:
        return vec_json_uint(fields, key, &in->size);
    case M_OFFSET:
        return vec_json_uint(fields, key, &in->offset);
    case M_DATA:
        v = vec_json_get(fields, key, JSON_STRING);
        return v ? vec_json_unhex_buf(v, &in->data) : RU_E_INVALID;
    case M_END:
        break;
    }
    return RU_E_INVALID;
}

/*  Encodes a message of type from the members in in. */
static ru_err
s_encode(ru_msg_type type, s_msg_in_t *in, ru_buf_t *out)
{
    for (uint32_t i = 0; i < in->n; i++) {
        size_t start = i ? in->ends[i - 1] : 0;
        in->envelopes[i] = (ru_bytes_t){in->raw.data + start, in->ends[i] - start};
    }
    uint32_t credit = in->credit > UINT32_MAX ? 0 : (uint32_t) in->credit;
    switch (type) {
    case RU_MSG_UPDATE:
        return ru_msg_encode_update(in->envelopes[0], out);
    case RU_MSG_HELLO:
        return ru_msg_encode_hello(&in->clock, credit, out);
    case RU_MSG_BATCH:
        return ru_msg_encode_batch(in->envelopes, in->n, out);
    case RU_MSG_DONE:
        return ru_msg_encode_done(&in->clock, out);
    case RU_MSG_HEARTBEAT:
        return ru_msg_encode_heartbeat(&in->clock, in->hlc, in->digest, out);
    case RU_MSG_CREDIT:
        return ru_msg_encode_credit(credit, out);
    case RU_MSG_WANT:
        return ru_msg_encode_want(in->hash, in->offset, credit, out);
    case RU_MSG_CHUNK:
        return ru_msg_encode_chunk(in->hash, in->size, in->offset, in->data.data, in->data.len,
                                   out);
    case RU_MSG_LACK:
        return ru_msg_encode_lack(in->hash, out);
    }
    return RU_E_INVALID;
}

ru_err
vec_json_encode_msg(const char *type_name, const json_t *fields, ru_buf_t *out)
{
    ru_msg_type type = vec_json_msg_type(type_name);
    if (!type || !json_is_object(fields)) {
        (void) fprintf(stderr, "vectors: unknown message type \"%s\"\n", type_name);
        return RU_E_INVALID;
    }
    s_msg_in_t in;
    memset(&in, 0, sizeof in);
    ru_clock_init(&in.clock);
    ru_buf_init(&in.raw);
    ru_buf_init(&in.data);
    size_t n = 0;
    ru_err err = RU_OK;
    for (const s_member *m = s_messages[type]; !err && *m != M_END; m++, n++)
        err = s_to_member(fields, *m, &in);
    if (!err)
        err = vec_json_size(fields, n);
    if (!err)
        err = s_encode(type, &in, out);
    ru_clock_fini(&in.clock);
    ru_buf_fini(&in.raw);
    ru_buf_fini(&in.data);
    return err;
}
