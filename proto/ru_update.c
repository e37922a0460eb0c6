/*  ru_update.c - encoding, verification and decoding of signed updates.
 *
 *  The body of each kind is a msgpack array of fields, and s_kinds below
 *  lists them in wire order, per payload version; one field writer and one
 *  field reader per field type serve every kind. Checks on values
 *  (s_check) are shared by the encoder and the decoder, so a node can
 *  never sign what its peers refuse.
 *
 *  The payload's first four bytes are fixed (fixarray 9, the version, bin
 *  8 header of 32) so that the origin key sits at bytes 4..35: a receiver
 *  finds the key to verify with, and the version that names the
 *  signature's domain, before decoding anything (PROTOCOL.md).
 */
#include "ruche/ru_update.h"

#include <sodium.h>
#include <string.h>

#include "ruche/ru_hlc.h"
#include "ruche/ru_text.h"

#define S_PAYLOAD_FIELDS 9
#define S_ORIGIN_AT 4
#define S_MEDIA_FIELDS 6
#define S_IMAGE_FIELDS 9
#define S_PERSON_FIELDS 11

typedef enum {
    F_TARGET,    /* ref */
    F_TEXT,      /* str, 1..RU_MAX_TEXT_CHARS (0.. beside media) */
    F_VIS,       /* uint 0..RU_VIS_MAX */
    F_GROUP,     /* nil or ref */
    F_USER,      /* [bin 32, str name] */
    F_DISPLAY,   /* str, 0..RU_MAX_DISPLAY_CHARS */
    F_NOTE,      /* str, 0..RU_MAX_NOTE_CHARS */
    F_NAME,      /* str, a name */
    F_ORIGIN,    /* bin 32, an origin other than the update's own */
    F_SEQ,       /* uint >= 1 */
    F_HASH,      /* bin 32 */
    F_SPOILER,   /* str, 0..RU_MAX_SPOILER_CHARS */
    F_SENSITIVE, /* uint 0 or 1 */
    F_MEDIA,     /* array of 0..RU_MAX_MEDIA attachments */
    F_AVATAR,    /* nil or an image attachment */
    F_HEADER,    /* nil or an image attachment */
    F_PERSON,    /* nil or a person */
    F_END
} s_field;

typedef struct {
    const char *name;
    s_field fields[7];
} s_kind_t;

/*  Version 2 adds fields at the end of four kinds' bodies, version 3 one
 *  at the end of a profile's; the other kinds are the same in every
 *  version. */
static const s_kind_t s_kinds_v1[RU_KIND_MAX + 1] = {
    [RU_KIND_POST] = {"post", {F_TEXT, F_VIS, F_GROUP, F_END}},
    [RU_KIND_REPLY] = {"reply", {F_TARGET, F_TEXT, F_VIS, F_END}},
    [RU_KIND_EDIT] = {"edit", {F_TARGET, F_TEXT, F_END}},
    [RU_KIND_DELETE] = {"delete", {F_TARGET, F_END}},
    [RU_KIND_LIKE] = {"like", {F_TARGET, F_END}},
    [RU_KIND_UNLIKE] = {"unlike", {F_TARGET, F_END}},
    [RU_KIND_FOLLOW] = {"follow", {F_USER, F_END}},
    [RU_KIND_UNFOLLOW] = {"unfollow", {F_USER, F_END}},
    [RU_KIND_PROFILE] = {"profile", {F_DISPLAY, F_NOTE, F_END}},
    [RU_KIND_GROUP_CREATE] = {"group_create", {F_NAME, F_NOTE, F_END}},
    [RU_KIND_GROUP_JOIN] = {"group_join", {F_TARGET, F_END}},
    [RU_KIND_GROUP_LEAVE] = {"group_leave", {F_TARGET, F_END}},
    [RU_KIND_RESOLVE] = {"resolve", {F_ORIGIN, F_SEQ, F_HASH, F_END}},
};

static const s_kind_t s_kinds_v2[RU_KIND_MAX + 1] = {
    [RU_KIND_POST] = {"post", {F_TEXT, F_VIS, F_GROUP, F_SPOILER, F_SENSITIVE, F_MEDIA, F_END}},
    [RU_KIND_REPLY] = {"reply", {F_TARGET, F_TEXT, F_VIS, F_SPOILER, F_SENSITIVE, F_MEDIA, F_END}},
    [RU_KIND_EDIT] = {"edit", {F_TARGET, F_TEXT, F_SPOILER, F_SENSITIVE, F_MEDIA, F_END}},
    [RU_KIND_DELETE] = {"delete", {F_TARGET, F_END}},
    [RU_KIND_LIKE] = {"like", {F_TARGET, F_END}},
    [RU_KIND_UNLIKE] = {"unlike", {F_TARGET, F_END}},
    [RU_KIND_FOLLOW] = {"follow", {F_USER, F_END}},
    [RU_KIND_UNFOLLOW] = {"unfollow", {F_USER, F_END}},
    [RU_KIND_PROFILE] = {"profile", {F_DISPLAY, F_NOTE, F_AVATAR, F_HEADER, F_END}},
    [RU_KIND_GROUP_CREATE] = {"group_create", {F_NAME, F_NOTE, F_END}},
    [RU_KIND_GROUP_JOIN] = {"group_join", {F_TARGET, F_END}},
    [RU_KIND_GROUP_LEAVE] = {"group_leave", {F_TARGET, F_END}},
    [RU_KIND_RESOLVE] = {"resolve", {F_ORIGIN, F_SEQ, F_HASH, F_END}},
};

static const s_field s_profile_v3[] = {F_DISPLAY, F_NOTE, F_AVATAR, F_HEADER, F_PERSON, F_END};

static const s_field *
s_body(unsigned version, ru_kind kind)
{
    if (version == 3 && kind == RU_KIND_PROFILE)
        return s_profile_v3;
    return (version >= 2 ? s_kinds_v2 : s_kinds_v1)[kind].fields;
}

static int
s_kind_known(uint64_t kind)
{
    return kind >= 1 && kind <= RU_KIND_MAX;
}

static uint32_t
s_field_count(const s_field *fields)
{
    uint32_t n = 0;
    while (fields[n] != F_END)
        n++;
    return n;
}

const char *
ru_kind_name(ru_kind kind)
{
    return s_kind_known(kind) ? s_kinds_v1[kind].name : NULL;
}

ru_kind
ru_kind_from_name(const char *name)
{
    for (int k = 1; k <= RU_KIND_MAX; k++)
        if (strcmp(s_kinds_v1[k].name, name) == 0)
            return (ru_kind) k;
    return 0;
}

/*  The least version whose body holds every field u sets. */
static unsigned
s_version_of(const ru_update_t *u)
{
    switch (u->kind) {
    case RU_KIND_POST:
    case RU_KIND_REPLY:
    case RU_KIND_EDIT:
        return u->spoiler.len || u->sensitive || u->n_media ? 2 : 1;
    case RU_KIND_PROFILE:
        return u->has_person ? 3 : u->has_avatar || u->has_header ? 2 : 1;
    default:
        return 1;
    }
}

static const char *
s_domain(unsigned version)
{
    static const char *const domains[] = {RU_UPDATE_DOMAIN, RU_UPDATE_DOMAIN_V2,
                                          RU_UPDATE_DOMAIN_V3};
    return domains[version - 1];
}

void
ru_update_init(ru_update_t *self)
{
    memset(self, 0, sizeof *self);
    ru_clock_init(&self->clock);
}

void
ru_update_fini(ru_update_t *self)
{
    ru_clock_fini(&self->clock);
    ru_update_init(self);
}

/*  ---------------------------------------------------------------------
 *  Rules on values, shared by encoder and decoder
 */

static ru_err
s_check_text(ru_str_t s, size_t min_chars, size_t max_chars)
{
    size_t chars;
    ru_err err = ru_utf8_check(s.ptr, s.len, &chars);
    if (err)
        return err;
    if (chars < min_chars)
        return RU_E_RANGE;
    return chars > max_chars ? RU_E_TOO_BIG : RU_OK;
}

/*  A ref's seq is at least 1; one naming u's own origin names an earlier
 *  update of it (a later one, or u itself, could never be applied first). */
static ru_err
s_check_ref(const ru_update_t *u, const ru_ref_t *ref)
{
    if (ref->seq < 1)
        return RU_E_RANGE;
    int own = memcmp(ref->origin, u->origin, RU_KEY_BYTES) == 0;
    return own && ref->seq >= u->seq ? RU_E_RANGE : RU_OK;
}

/*  A MIME type: "type/subtype", lowercase letters, digits and "+-.", each
 *  part starting with a letter or a digit. */
static ru_err
s_check_mime(ru_str_t t)
{
    uint32_t slash = 0, part = 0;
    for (uint32_t i = 0; i < t.len; i++, part++) {
        char c = t.ptr[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (c == '/' && !slash && part > 0) {
            slash = i;
            part = (uint32_t) -1;
        } else if (!alnum && (part == 0 || !strchr("+-.", c) || c == 0)) {
            return RU_E_RANGE;
        }
    }
    return slash && part > 0 ? RU_OK : RU_E_RANGE;
}

/*  A file's name as shown: text with no path in it (no '/' or '\\', not
 *  "." or ".."), no control character. */
static ru_err
s_check_file_name(ru_str_t n)
{
    size_t chars;
    ru_err err = ru_utf8_check(n.ptr, n.len, &chars);
    if (err)
        return err;
    for (uint32_t i = 0; i < n.len; i++) {
        unsigned char c = (unsigned char) n.ptr[i];
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
            return RU_E_NAME;
    }
    if ((n.len == 1 && n.ptr[0] == '.') || (n.len == 2 && memcmp(n.ptr, "..", 2) == 0))
        return RU_E_NAME;
    return RU_OK;
}

/*  A blurhash: characters of its base-83 alphabet. */
static ru_err
s_check_blurhash(ru_str_t b)
{
    static const char alphabet[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";
    if (b.len < 6)
        return RU_E_RANGE;
    for (uint32_t i = 0; i < b.len; i++)
        if (b.ptr[i] == 0 || !strchr(alphabet, b.ptr[i]))
            return RU_E_RANGE;
    return RU_OK;
}

static ru_err
s_check_image(const ru_media_t *m)
{
    if (m->type.len < 6 || memcmp(m->type.ptr, "image/", 6) != 0)
        return RU_E_RANGE;
    uint32_t sides[] = {m->width, m->height, m->thumb_width, m->thumb_height};
    for (size_t i = 0; i < sizeof sides / sizeof *sides; i++)
        if (sides[i] < 1 || sides[i] > RU_MAX_IMAGE_SIDE)
            return RU_E_RANGE;
    if (m->thumb_size < 1 || m->thumb_size > RU_MAX_BLOB_SIZE || m->focus_x > RU_MAX_FOCUS ||
        m->focus_y > RU_MAX_FOCUS)
        return RU_E_RANGE;
    return s_check_blurhash(m->blurhash);
}

static ru_err
s_check_media(const ru_media_t *m, int image_only)
{
    if (m->size < 1 || m->size > RU_MAX_BLOB_SIZE || (image_only && !m->is_image))
        return RU_E_RANGE;
    ru_err err = s_check_mime(m->type);
    if (!err)
        err = s_check_file_name(m->name);
    if (!err)
        err = s_check_text(m->description, 0, RU_MAX_ALT_CHARS);
    if (!err && m->is_image)
        err = s_check_image(m);
    return err;
}

static ru_err
s_check_media_list(const ru_media_t *media, uint32_t n)
{
    if (n > RU_MAX_MEDIA)
        return RU_E_TOO_MANY;
    ru_err err = RU_OK;
    for (uint32_t i = 0; !err && i < n; i++)
        err = s_check_media(&media[i], 0);
    return err;
}

/*  Text of at most max_bytes bytes and max_chars code points. */
static ru_err
s_check_bounded(ru_str_t s, size_t min_chars, size_t max_chars, uint32_t max_bytes)
{
    return s.len > max_bytes ? RU_E_TOO_BIG : s_check_text(s, min_chars, max_chars);
}

static ru_err
s_check_person(const ru_person_t *p)
{
    if (p->n_skills > RU_MAX_SKILLS || p->n_fields > RU_MAX_FIELDS)
        return RU_E_TOO_MANY;
    if (p->departed != 0 && p->departed != 1)
        return RU_E_RANGE;
    const struct {
        ru_str_t s;
        uint32_t max_bytes;
        size_t max_chars;
    } texts[] = {
        {p->dir_id, RU_MAX_DIR_ID, RU_MAX_DIR_ID},
        {p->title, RU_MAX_WORK_BYTES, RU_MAX_WORK_CHARS},
        {p->department, RU_MAX_WORK_BYTES, RU_MAX_WORK_CHARS},
        {p->site, RU_MAX_WORK_BYTES, RU_MAX_WORK_CHARS},
        {p->office, RU_MAX_WORK_BYTES, RU_MAX_WORK_CHARS},
        {p->phone, RU_MAX_PHONE, RU_MAX_PHONE},
        {p->email, RU_MAX_EMAIL, RU_MAX_EMAIL},
        {p->manager, RU_MAX_DIR_ID, RU_MAX_DIR_ID},
    };
    ru_err err = RU_OK;
    for (size_t i = 0; !err && i < sizeof texts / sizeof *texts; i++)
        err = s_check_bounded(texts[i].s, 0, texts[i].max_chars, texts[i].max_bytes);
    for (uint32_t i = 0; !err && i < p->n_skills; i++)
        err = s_check_bounded(p->skills[i], 1, RU_MAX_SKILL_CHARS, RU_MAX_SKILL_BYTES);
    for (uint32_t i = 0; !err && i < p->n_fields; i++) {
        err = s_check_bounded(p->fields[i].name, 1, RU_MAX_FIELD_CHARS, RU_MAX_FIELD_BYTES);
        if (!err)
            err = s_check_bounded(p->fields[i].value, 0, RU_MAX_FIELD_CHARS, RU_MAX_FIELD_BYTES);
    }
    return err;
}

static ru_err
s_check_field(const ru_update_t *u, s_field f)
{
    switch (f) {
    case F_TARGET:
        return s_check_ref(u, &u->target);
    case F_TEXT: /* a status with attachments may have no text */
        return s_check_text(u->text, u->n_media ? 0 : 1, RU_MAX_TEXT_CHARS);
    case F_VIS:
        return (unsigned) u->visibility <= RU_VIS_MAX ? RU_OK : RU_E_RANGE;
    case F_GROUP:
        return u->has_group ? s_check_ref(u, &u->group) : RU_OK;
    case F_USER:
        return ru_name_check(u->user.name.ptr, u->user.name.len);
    case F_DISPLAY:
        return s_check_text(u->display_name, 0, RU_MAX_DISPLAY_CHARS);
    case F_NOTE:
        return s_check_text(u->note, 0, RU_MAX_NOTE_CHARS);
    case F_NAME:
        return ru_name_check(u->name.ptr, u->name.len);
    case F_ORIGIN: /* a site does not resolve its own fork: it makes no more updates */
        return memcmp(u->fork.origin, u->origin, RU_KEY_BYTES) == 0 ? RU_E_RANGE : RU_OK;
    case F_SEQ:
        return u->fork.seq >= 1 ? RU_OK : RU_E_RANGE;
    case F_HASH:
        return RU_OK;
    case F_SPOILER:
        return s_check_text(u->spoiler, 0, RU_MAX_SPOILER_CHARS);
    case F_SENSITIVE:
        return u->sensitive == 0 || u->sensitive == 1 ? RU_OK : RU_E_RANGE;
    case F_MEDIA:
        return s_check_media_list(u->media, u->n_media);
    case F_AVATAR:
        return u->has_avatar ? s_check_media(&u->avatar, 1) : RU_OK;
    case F_HEADER:
        return u->has_header ? s_check_media(&u->header, 1) : RU_OK;
    case F_PERSON:
        return u->has_person ? s_check_person(&u->person) : RU_OK;
    case F_END:
        break;
    }
    return RU_E_INVALID;
}

/*  u against the rules of its fields in the given payload version. */
static ru_err
s_check(const ru_update_t *u, unsigned version)
{
    static const uint8_t zero[RU_HASH_BYTES];
    if (u->seq < 1)
        return RU_E_RANGE;
    if (u->seq == 1 && memcmp(u->prev, zero, RU_HASH_BYTES) != 0)
        return RU_E_RANGE;
    /*  The origin's own entry is implied (seq - 1) and never sent. */
    if (ru_clock_get(&u->clock, u->origin) != 0)
        return RU_E_RANGE;
    /*  No update is dated before ruche existed: HLC 0 would be 1970. */
    if (u->hlc >> RU_HLC_SHIFT < RU_MIN_HLC_MS)
        return RU_E_RANGE;
    ru_err err = ru_name_check(u->author.ptr, u->author.len);
    if (err)
        return err;
    if (!s_kind_known(u->kind))
        return RU_E_KIND;
    for (const s_field *f = s_body(version, u->kind); *f != F_END; f++)
        if ((err = s_check_field(u, *f)) != RU_OK)
            return err;
    return RU_OK;
}

/*  ---------------------------------------------------------------------
 *  Encoding
 */

static void
s_pack_key(msgpack_packer *pk, const uint8_t *key)
{
    msgpack_pack_bin(pk, RU_KEY_BYTES);
    msgpack_pack_bin_body(pk, key, RU_KEY_BYTES);
}

static void
s_pack_str(msgpack_packer *pk, ru_str_t s)
{
    msgpack_pack_str(pk, s.len);
    msgpack_pack_str_body(pk, s.ptr, s.len);
}

static void
s_pack_ref(msgpack_packer *pk, const ru_ref_t *ref)
{
    msgpack_pack_array(pk, 2);
    s_pack_key(pk, ref->origin);
    msgpack_pack_uint64(pk, ref->seq);
}

static void
s_pack_hash(msgpack_packer *pk, const uint8_t *hash)
{
    msgpack_pack_bin(pk, RU_HASH_BYTES);
    msgpack_pack_bin_body(pk, hash, RU_HASH_BYTES);
}

static void
s_pack_one_media(msgpack_packer *pk, const ru_media_t *m)
{
    msgpack_pack_array(pk, S_MEDIA_FIELDS);
    s_pack_hash(pk, m->hash);
    msgpack_pack_uint64(pk, m->size);
    s_pack_str(pk, m->type);
    s_pack_str(pk, m->name);
    s_pack_str(pk, m->description);
    if (!m->is_image) {
        msgpack_pack_nil(pk);
        return;
    }
    msgpack_pack_array(pk, S_IMAGE_FIELDS);
    msgpack_pack_uint32(pk, m->width);
    msgpack_pack_uint32(pk, m->height);
    s_pack_hash(pk, m->thumb);
    msgpack_pack_uint64(pk, m->thumb_size);
    msgpack_pack_uint32(pk, m->thumb_width);
    msgpack_pack_uint32(pk, m->thumb_height);
    s_pack_str(pk, m->blurhash);
    msgpack_pack_uint32(pk, m->focus_x);
    msgpack_pack_uint32(pk, m->focus_y);
}

void
ru_media_pack(msgpack_packer *pk, const ru_media_t *media, uint32_t n)
{
    msgpack_pack_array(pk, n);
    for (uint32_t i = 0; i < n; i++)
        s_pack_one_media(pk, &media[i]);
}

static void
s_pack_opt_media(msgpack_packer *pk, int has, const ru_media_t *m)
{
    if (has)
        s_pack_one_media(pk, m);
    else
        msgpack_pack_nil(pk);
}

void
ru_person_pack(msgpack_packer *pk, const ru_person_t *p)
{
    msgpack_pack_array(pk, S_PERSON_FIELDS);
    const ru_str_t *texts[] = {&p->dir_id, &p->title, &p->department, &p->site, &p->office,
                               &p->phone,  &p->email, &p->manager,    NULL};
    for (size_t i = 0; texts[i]; i++)
        s_pack_str(pk, *texts[i]);
    msgpack_pack_array(pk, p->n_skills);
    for (uint32_t i = 0; i < p->n_skills; i++)
        s_pack_str(pk, p->skills[i]);
    msgpack_pack_array(pk, p->n_fields);
    for (uint32_t i = 0; i < p->n_fields; i++) {
        msgpack_pack_array(pk, 2);
        s_pack_str(pk, p->fields[i].name);
        s_pack_str(pk, p->fields[i].value);
    }
    msgpack_pack_uint8(pk, (uint8_t) p->departed);
}

static void
s_pack_opt_ref(msgpack_packer *pk, int has, const ru_ref_t *ref)
{
    if (has)
        s_pack_ref(pk, ref);
    else
        msgpack_pack_nil(pk);
}

static void
s_pack_opt_person(msgpack_packer *pk, int has, const ru_person_t *p)
{
    if (has)
        ru_person_pack(pk, p);
    else
        msgpack_pack_nil(pk);
}

static void
s_pack_field(msgpack_packer *pk, const ru_update_t *u, s_field f)
{
    switch (f) {
    case F_TARGET:
        s_pack_ref(pk, &u->target);
        break;
    case F_TEXT:
        s_pack_str(pk, u->text);
        break;
    case F_VIS:
        msgpack_pack_uint8(pk, (uint8_t) u->visibility);
        break;
    case F_GROUP:
        s_pack_opt_ref(pk, u->has_group, &u->group);
        break;
    case F_USER:
        msgpack_pack_array(pk, 2);
        s_pack_key(pk, u->user.home);
        s_pack_str(pk, u->user.name);
        break;
    case F_DISPLAY:
        s_pack_str(pk, u->display_name);
        break;
    case F_NOTE:
        s_pack_str(pk, u->note);
        break;
    case F_NAME:
        s_pack_str(pk, u->name);
        break;
    case F_ORIGIN:
        s_pack_key(pk, u->fork.origin);
        break;
    case F_SEQ:
        msgpack_pack_uint64(pk, u->fork.seq);
        break;
    case F_HASH:
        s_pack_hash(pk, u->kept);
        break;
    case F_SPOILER:
        s_pack_str(pk, u->spoiler);
        break;
    case F_SENSITIVE:
        msgpack_pack_uint8(pk, (uint8_t) u->sensitive);
        break;
    case F_MEDIA:
        ru_media_pack(pk, u->media, u->n_media);
        break;
    case F_AVATAR:
        s_pack_opt_media(pk, u->has_avatar, &u->avatar);
        break;
    case F_HEADER:
        s_pack_opt_media(pk, u->has_header, &u->header);
        break;
    case F_PERSON:
        s_pack_opt_person(pk, u->has_person, &u->person);
        break;
    case F_END:
        break;
    }
}

static void
s_pack_payload(msgpack_packer *pk, const ru_update_t *u, unsigned version)
{
    const s_field *body = s_body(version, u->kind);
    msgpack_pack_array(pk, S_PAYLOAD_FIELDS);
    msgpack_pack_uint8(pk, (uint8_t) version);
    s_pack_key(pk, u->origin);
    msgpack_pack_uint64(pk, u->seq);
    msgpack_pack_bin(pk, RU_HASH_BYTES);
    msgpack_pack_bin_body(pk, u->prev, RU_HASH_BYTES);
    ru_clock_write(&u->clock, pk);
    msgpack_pack_uint64(pk, u->hlc);
    s_pack_str(pk, u->author);
    msgpack_pack_uint8(pk, (uint8_t) u->kind);
    msgpack_pack_array(pk, s_field_count(body));
    for (const s_field *f = body; *f != F_END; f++)
        s_pack_field(pk, u, *f);
}

ru_err
ru_update_encode(const ru_update_t *u, const ru_key_t *key, ru_buf_t *out)
{
    if (memcmp(ru_key_public(key), u->origin, RU_KEY_BYTES) != 0)
        return RU_E_INVALID;
    unsigned version = s_version_of(u);
    ru_err err = s_check(u, version);
    if (err)
        return err;
    ru_buf_t payload;
    ru_buf_init(&payload);
    msgpack_packer pk;
    ru_mp_packer_init(&pk, &payload);
    s_pack_payload(&pk, u, version);
    uint8_t sig[RU_SIG_BYTES];
    err = ru_buf_status(&payload);
    if (!err && payload.len > RU_MAX_PAYLOAD)
        err = RU_E_TOO_BIG;
    if (!err)
        err = ru_key_sign(key, s_domain(version), payload.data, payload.len, sig);
    if (!err) {
        ru_mp_packer_init(&pk, out);
        msgpack_pack_array(&pk, 2);
        msgpack_pack_bin(&pk, (uint32_t) payload.len);
        msgpack_pack_bin_body(&pk, payload.data, payload.len);
        msgpack_pack_bin(&pk, RU_SIG_BYTES);
        msgpack_pack_bin_body(&pk, sig, RU_SIG_BYTES);
        err = ru_buf_status(out);
    }
    ru_buf_fini(&payload);
    return err;
}

/*  ---------------------------------------------------------------------
 *  The envelope
 */

/*  Checks the fixed head of a payload: fixarray, version, origin header. */
static ru_err
s_payload_head(const uint8_t *p, uint32_t len)
{
    if (len < 2)
        return RU_E_TRUNCATED;
    if ((p[0] & 0xf0) != 0x90 || p[1] > 0x7f)
        return RU_E_TYPE;
    if (p[1] < 1 || p[1] > RU_PAYLOAD_VERSION_MAX)
        return RU_E_VERSION;
    if (p[0] != (0x90 | S_PAYLOAD_FIELDS))
        return RU_E_TYPE;
    if (len < S_ORIGIN_AT + RU_KEY_BYTES)
        return RU_E_TRUNCATED;
    if (p[2] != 0xc4 || p[3] != RU_KEY_BYTES)
        return RU_E_TYPE;
    return RU_OK;
}

ru_err
ru_envelope_read(ru_mp_t *mp, ru_envelope_t *env)
{
    ru_mp_t saved = *mp;
    const uint8_t *sig;
    uint32_t sig_len;
    ru_err err = ru_mp_array_of(mp, 2);
    if (!err)
        err = ru_mp_bin(mp, &env->payload, &env->payload_len, RU_MAX_PAYLOAD);
    if (!err) {
        err = ru_mp_bin(mp, &sig, &sig_len, RU_SIG_BYTES);
        if (err == RU_E_TOO_BIG || (!err && sig_len != RU_SIG_BYTES))
            err = RU_E_TYPE; /* a signature has exactly RU_SIG_BYTES */
    }
    if (!err)
        err = s_payload_head(env->payload, env->payload_len);
    if (err) {
        *mp = saved;
        return err;
    }
    env->wire = saved.p;
    env->wire_len = (uint32_t) (mp->p - saved.p);
    env->sig = sig;
    env->origin = env->payload + S_ORIGIN_AT;
    return RU_OK;
}

ru_err
ru_envelope_parse(const uint8_t *wire, size_t len, ru_envelope_t *env)
{
    ru_mp_t mp;
    ru_mp_init(&mp, wire, len);
    ru_err err = ru_envelope_read(&mp, env);
    return err ? err : ru_mp_end(&mp);
}

ru_err
ru_envelope_seq(const ru_envelope_t *env, uint64_t *seq)
{
    ru_mp_t mp;
    size_t at = S_ORIGIN_AT + RU_KEY_BYTES; /* ru_envelope_read checked it is there */
    ru_mp_init(&mp, env->payload + at, env->payload_len - at);
    return ru_mp_uint(&mp, seq);
}

ru_err
ru_envelope_verify(const ru_envelope_t *env)
{
    /*  ru_envelope_read checked that byte 1, the version, is a known one. */
    return ru_key_verify(env->origin, s_domain(env->payload[1]), env->payload, env->payload_len,
                         env->sig);
}

void
ru_update_hash(const ru_envelope_t *env, uint8_t *hash)
{
    crypto_generichash(hash, RU_HASH_BYTES, env->payload, env->payload_len, NULL, 0);
}

/*  ---------------------------------------------------------------------
 *  Decoding
 */

static ru_err
s_read_ref(ru_mp_t *mp, ru_ref_t *ref)
{
    ru_err err = ru_mp_array_of(mp, 2);
    if (!err)
        err = ru_mp_bin_exact(mp, ref->origin, RU_KEY_BYTES);
    return err ? err : ru_mp_uint(mp, &ref->seq);
}

static ru_err
s_read_str(ru_mp_t *mp, ru_str_t *s, uint32_t max)
{
    return ru_mp_str(mp, &s->ptr, &s->len, max);
}

/*  A uint that must fit 32 bits; the field's own rule narrows it later. */
static ru_err
s_read_u32(ru_mp_t *mp, uint32_t *out)
{
    uint64_t v;
    ru_err err = ru_mp_uint(mp, &v);
    if (!err && v > UINT32_MAX)
        err = RU_E_RANGE;
    *out = err ? 0 : (uint32_t) v;
    return err;
}

static ru_err
s_read_image(ru_mp_t *mp, ru_media_t *m)
{
    ru_err err = ru_mp_array_of(mp, S_IMAGE_FIELDS);
    if (!err)
        err = s_read_u32(mp, &m->width);
    if (!err)
        err = s_read_u32(mp, &m->height);
    if (!err)
        err = ru_mp_bin_exact(mp, m->thumb, RU_HASH_BYTES);
    if (!err)
        err = ru_mp_uint(mp, &m->thumb_size);
    if (!err)
        err = s_read_u32(mp, &m->thumb_width);
    if (!err)
        err = s_read_u32(mp, &m->thumb_height);
    if (!err)
        err = s_read_str(mp, &m->blurhash, RU_MAX_BLURHASH);
    if (!err)
        err = s_read_u32(mp, &m->focus_x);
    return err ? err : s_read_u32(mp, &m->focus_y);
}

static ru_err
s_read_one_media(ru_mp_t *mp, ru_media_t *m)
{
    memset(m, 0, sizeof *m);
    ru_err err = ru_mp_array_of(mp, S_MEDIA_FIELDS);
    if (!err)
        err = ru_mp_bin_exact(mp, m->hash, RU_HASH_BYTES);
    if (!err)
        err = ru_mp_uint(mp, &m->size);
    if (!err)
        err = s_read_str(mp, &m->type, RU_MAX_MEDIA_TYPE);
    if (!err)
        err = s_read_str(mp, &m->name, RU_MAX_FILE_NAME);
    if (!err)
        err = s_read_str(mp, &m->description, RU_MAX_ALT_BYTES);
    if (err)
        return err;
    if (ru_mp_peek_nil(mp))
        return ru_mp_nil(mp);
    m->is_image = 1;
    return s_read_image(mp, m);
}

static ru_err
s_read_media_list(ru_mp_t *mp, ru_media_t *media, uint32_t *n)
{
    uint32_t count;
    ru_err err = ru_mp_array(mp, &count);
    if (!err && count > RU_MAX_MEDIA)
        err = RU_E_TOO_MANY;
    for (uint32_t i = 0; !err && i < count; i++)
        err = s_read_one_media(mp, &media[i]);
    *n = err ? 0 : count;
    return err;
}

static ru_err
s_read_opt_media(ru_mp_t *mp, int *has, ru_media_t *m)
{
    if (ru_mp_peek_nil(mp))
        return ru_mp_nil(mp);
    *has = 1;
    return s_read_one_media(mp, m);
}

ru_err
ru_media_unpack(const uint8_t *bytes, size_t len, ru_media_t *media, uint32_t *n)
{
    ru_mp_t mp;
    ru_mp_init(&mp, bytes, len);
    ru_err err = s_read_media_list(&mp, media, n);
    if (!err)
        err = ru_mp_end(&mp);
    if (!err)
        err = s_check_media_list(media, *n);
    if (err)
        *n = 0;
    return err;
}

/*  A person's strings, read to the sizes of their fields' rules (whose
 *  code points s_check_person counts after). */
static ru_err
s_read_person(ru_mp_t *mp, ru_person_t *p)
{
    memset(p, 0, sizeof *p);
    const struct {
        ru_str_t *s;
        uint32_t max;
    } texts[] = {
        {&p->dir_id, RU_MAX_DIR_ID},     {&p->title, RU_MAX_WORK_BYTES},
        {&p->department, RU_MAX_WORK_BYTES}, {&p->site, RU_MAX_WORK_BYTES},
        {&p->office, RU_MAX_WORK_BYTES}, {&p->phone, RU_MAX_PHONE},
        {&p->email, RU_MAX_EMAIL},       {&p->manager, RU_MAX_DIR_ID},
    };
    ru_err err = ru_mp_array_of(mp, S_PERSON_FIELDS);
    for (size_t i = 0; !err && i < sizeof texts / sizeof *texts; i++)
        err = s_read_str(mp, texts[i].s, texts[i].max);
    uint32_t n = 0;
    if (!err)
        err = ru_mp_array(mp, &n);
    if (!err && n > RU_MAX_SKILLS)
        err = RU_E_TOO_MANY;
    for (uint32_t i = 0; !err && i < n; i++, p->n_skills++)
        err = s_read_str(mp, &p->skills[i], RU_MAX_SKILL_BYTES);
    if (!err)
        err = ru_mp_array(mp, &n);
    if (!err && n > RU_MAX_FIELDS)
        err = RU_E_TOO_MANY;
    for (uint32_t i = 0; !err && i < n; i++, p->n_fields++) {
        err = ru_mp_array_of(mp, 2);
        if (!err)
            err = s_read_str(mp, &p->fields[i].name, RU_MAX_FIELD_BYTES);
        if (!err)
            err = s_read_str(mp, &p->fields[i].value, RU_MAX_FIELD_BYTES);
    }
    uint64_t departed = 0;
    if (!err)
        err = ru_mp_uint(mp, &departed);
    if (!err && departed > 1)
        err = RU_E_RANGE;
    p->departed = (int) departed;
    return err;
}

ru_err
ru_person_unpack(const uint8_t *bytes, size_t len, ru_person_t *person)
{
    ru_mp_t mp;
    ru_mp_init(&mp, bytes, len);
    ru_err err = s_read_person(&mp, person);
    if (!err)
        err = ru_mp_end(&mp);
    return err ? err : s_check_person(person);
}

static ru_err
s_read_opt_person(ru_mp_t *mp, int *has, ru_person_t *p)
{
    if (ru_mp_peek_nil(mp))
        return ru_mp_nil(mp);
    *has = 1;
    return s_read_person(mp, p);
}

static ru_err
s_read_field(ru_mp_t *mp, ru_update_t *u, s_field f)
{
    uint64_t v;
    ru_err err;
    switch (f) {
    case F_TARGET:
        return s_read_ref(mp, &u->target);
    case F_TEXT:
        return s_read_str(mp, &u->text, RU_MAX_TEXT_BYTES);
    case F_VIS:
        if ((err = ru_mp_uint(mp, &v)) != RU_OK)
            return err;
        if (v > RU_VIS_MAX)
            return RU_E_RANGE;
        u->visibility = (ru_visibility) v;
        return RU_OK;
    case F_GROUP:
        if (ru_mp_peek_nil(mp))
            return ru_mp_nil(mp);
        u->has_group = 1;
        return s_read_ref(mp, &u->group);
    case F_USER:
        if ((err = ru_mp_array_of(mp, 2)) != RU_OK ||
            (err = ru_mp_bin_exact(mp, u->user.home, RU_KEY_BYTES)) != RU_OK)
            return err;
        return s_read_str(mp, &u->user.name, RU_MAX_NAME);
    case F_DISPLAY:
        return s_read_str(mp, &u->display_name, RU_MAX_DISPLAY_BYTES);
    case F_NOTE:
        return s_read_str(mp, &u->note, RU_MAX_NOTE_BYTES);
    case F_NAME:
        return s_read_str(mp, &u->name, RU_MAX_NAME);
    case F_ORIGIN:
        return ru_mp_bin_exact(mp, u->fork.origin, RU_KEY_BYTES);
    case F_SEQ:
        return ru_mp_uint(mp, &u->fork.seq);
    case F_HASH:
        return ru_mp_bin_exact(mp, u->kept, RU_HASH_BYTES);
    case F_SPOILER:
        return s_read_str(mp, &u->spoiler, RU_MAX_SPOILER_BYTES);
    case F_SENSITIVE:
        if ((err = ru_mp_uint(mp, &v)) != RU_OK)
            return err;
        if (v > 1)
            return RU_E_RANGE;
        u->sensitive = (int) v;
        return RU_OK;
    case F_MEDIA:
        return s_read_media_list(mp, u->media, &u->n_media);
    case F_AVATAR:
        return s_read_opt_media(mp, &u->has_avatar, &u->avatar);
    case F_HEADER:
        return s_read_opt_media(mp, &u->has_header, &u->header);
    case F_PERSON:
        return s_read_opt_person(mp, &u->has_person, &u->person);
    case F_END:
        break;
    }
    return RU_E_INVALID;
}

/*  Reads the fields after the version, in wire order. */
static ru_err
s_read_payload(ru_mp_t *mp, ru_update_t *u)
{
    uint64_t kind;
    uint32_t n;
    ru_err err;
    if ((err = ru_mp_bin_exact(mp, u->origin, RU_KEY_BYTES)) != RU_OK ||
        (err = ru_mp_uint(mp, &u->seq)) != RU_OK ||
        (err = ru_mp_bin_exact(mp, u->prev, RU_HASH_BYTES)) != RU_OK ||
        (err = ru_clock_read(&u->clock, mp)) != RU_OK || (err = ru_mp_uint(mp, &u->hlc)) != RU_OK ||
        (err = s_read_str(mp, &u->author, RU_MAX_NAME)) != RU_OK ||
        (err = ru_mp_uint(mp, &kind)) != RU_OK)
        return err;
    if (!s_kind_known(kind))
        return RU_E_KIND;
    u->kind = (ru_kind) kind;
    const s_field *body = s_body(u->version, u->kind);
    if ((err = ru_mp_array(mp, &n)) != RU_OK)
        return err;
    if (n != s_field_count(body))
        return RU_E_TYPE;
    for (const s_field *f = body; *f != F_END; f++)
        if ((err = s_read_field(mp, u, *f)) != RU_OK)
            return err;
    return ru_mp_end(mp);
}

ru_err
ru_update_decode(const ru_envelope_t *env, ru_update_t *u)
{
    ru_update_fini(u);
    ru_mp_t mp;
    ru_mp_init(&mp, env->payload, env->payload_len);
    uint64_t version;
    ru_err err = ru_mp_array_of(&mp, S_PAYLOAD_FIELDS);
    if (!err)
        err = ru_mp_uint(&mp, &version);
    if (!err && (version < 1 || version > RU_PAYLOAD_VERSION_MAX))
        err = RU_E_VERSION;
    if (!err) {
        u->version = (uint8_t) version;
        err = s_read_payload(&mp, u);
    }
    if (!err)
        err = s_check(u, u->version);
    if (err)
        ru_update_fini(u);
    return err;
}

ru_err
ru_update_open(const uint8_t *wire, size_t len, ru_envelope_t *env, ru_update_t *u)
{
    ru_err err = ru_envelope_parse(wire, len, env);
    if (!err)
        err = ru_envelope_verify(env);
    return err ? err : ru_update_decode(env, u);
}
