/*  ru_profile.c - a local user's profile changed in part (see
 *  ru_profile.h).
 */
#include "ru_profile.h"

#include <string.h>

#include "ruche/ru_mp.h"

#include "ru_dbkey.h"
#include "ru_record.h"

typedef struct {
    const ru_profile_change_t *c;
    size_t n;
    int *made;
} s_call;

static int
s_same_str(ru_str_t a, ru_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/*  Is anything set in p? (a person with nothing set is no person) */
static int
s_person_any(const ru_person_t *p)
{
    const ru_str_t *texts[] = {&p->dir_id, &p->title, &p->department, &p->site, &p->office,
                               &p->phone,  &p->email, &p->manager,    NULL};
    for (size_t i = 0; texts[i]; i++)
        if (texts[i]->len)
            return 1;
    return p->n_skills || p->n_fields || p->departed;
}

/*  The packed form of one image (has 0: none) or of a person (NULL:
 *  none) into buf, to compare with a record's. */
static ru_err
s_pack(ru_buf_t *buf, int has, const ru_media_t *image, const ru_person_t *person)
{
    ru_buf_reset(buf);
    msgpack_packer pk;
    ru_mp_packer_init(&pk, buf);
    if (image && has)
        ru_media_pack(&pk, image, 1);
    else if (person)
        ru_person_pack(&pk, person);
    return ru_buf_status(buf);
}

static int
s_same_packed(const ru_buf_t *buf, ru_packed_t rec)
{
    return buf->len == rec.len && (rec.len == 0 || memcmp(buf->data, rec.ptr, rec.len) == 0);
}

/*  The parts of the directory entry e into p. */
static void
s_merge_entry(unsigned parts, const ru_person_t *e, ru_person_t *p)
{
    p->dir_id = parts & RU_PROFILE_DIR_ID ? e->dir_id : p->dir_id;
    p->title = parts & RU_PROFILE_TITLE ? e->title : p->title;
    p->department = parts & RU_PROFILE_DEPARTMENT ? e->department : p->department;
    p->site = parts & RU_PROFILE_SITE ? e->site : p->site;
    p->office = parts & RU_PROFILE_OFFICE ? e->office : p->office;
    p->phone = parts & RU_PROFILE_PHONE ? e->phone : p->phone;
    p->email = parts & RU_PROFILE_EMAIL ? e->email : p->email;
    p->manager = parts & RU_PROFILE_MANAGER ? e->manager : p->manager;
    p->departed = parts & RU_PROFILE_DEPARTED ? e->departed : p->departed;
}

/*  u's profile fields from the current record cur (NULL: none) and c. */
static void
s_merge(const ru_profile_change_t *c, const ru_profile_rec_t *cur, ru_update_t *u)
{
    uint32_t n;
    ru_media_t one[RU_MAX_MEDIA];
    if (cur) {
        u->display_name = cur->display_name;
        u->note = cur->note;
        if (cur->avatar.len && ru_media_unpack(cur->avatar.ptr, cur->avatar.len, one, &n) == RU_OK)
            u->avatar = one[0], u->has_avatar = 1;
        if (cur->header.len && ru_media_unpack(cur->header.ptr, cur->header.len, one, &n) == RU_OK)
            u->header = one[0], u->has_header = 1;
        if (cur->person.len && ru_person_unpack(cur->person.ptr, cur->person.len, &u->person) != RU_OK)
            memset(&u->person, 0, sizeof u->person);
    }
    if (c->set_display)
        u->display_name = c->display_name;
    if (c->set_note)
        u->note = c->note;
    if (c->set_avatar)
        u->has_avatar = c->has_avatar, u->avatar = c->avatar;
    if (c->set_header)
        u->has_header = c->has_header, u->header = c->header;
    ru_person_t *p = &u->person;
    if (c->set_fields) {
        p->n_fields = c->person.n_fields;
        memcpy(p->fields, c->person.fields, sizeof p->fields);
    }
    if (c->set_skills) {
        p->n_skills = c->person.n_skills;
        memcpy(p->skills, c->person.skills, sizeof p->skills);
    }
    s_merge_entry(c->set_entry ? RU_PROFILE_ENTRY : c->set_parts, &c->person, p);
    u->has_person = s_person_any(p);
}

/*  Does u leave the profile cur as it is? */
static int
s_unchanged(const ru_update_t *u, const ru_profile_rec_t *cur, ru_buf_t *buf)
{
    if (!s_same_str(u->display_name, cur->display_name) || !s_same_str(u->note, cur->note))
        return 0;
    if (s_pack(buf, u->has_avatar, &u->avatar, NULL) || !s_same_packed(buf, cur->avatar))
        return 0;
    if (s_pack(buf, u->has_header, &u->header, NULL) || !s_same_packed(buf, cur->header))
        return 0;
    if (!u->has_person)
        return cur->person.len == 0;
    return s_pack(buf, 0, NULL, &u->person) == RU_OK && s_same_packed(buf, cur->person);
}

/*  One change c in the writer's transaction; *made: an update was made. */
static ru_err
s_change_one(const ru_writer_ctx_t *ctx, const ru_profile_change_t *c, int *made)
{
    *made = 0;
    ru_str_t name = {c->name, (uint32_t) strlen(c->name)};
    uint8_t key[RU_DBKEY_USER];
    size_t klen = ru_dbkey_user(key, ru_key_public(ctx->key), name);
    MDB_val val;
    ru_profile_rec_t cur;
    ru_err err = ru_txn_get(ctx->txn, RU_DB_profiles, key, klen, &val);
    int has_cur = err == RU_OK;
    if (err && err != RU_E_NOT_FOUND)
        return err;
    if (has_cur && (err = ru_profile_rec_decode(val.mv_data, val.mv_size, &cur)) != RU_OK)
        return err;
    ru_update_t u;
    ru_update_init(&u);
    u.kind = RU_KIND_PROFILE;
    u.author = name;
    u.display_name = u.note = (ru_str_t){"", 0};
    ru_buf_t buf, out;
    ru_buf_init(&buf);
    ru_buf_init(&out);
    s_merge(c, has_cur ? &cur : NULL, &u);
    if (!(has_cur && s_unchanged(&u, &cur, &buf))) {
        err = ru_apply_local(ctx->apply, ctx->key, &u, &out);
        *made = !err;
    }
    ru_buf_fini(&buf);
    ru_buf_fini(&out);
    ru_update_fini(&u);
    return err;
}

static ru_err
s_change(const ru_writer_ctx_t *ctx, void *arg)
{
    s_call *call = arg;
    ru_err err = RU_OK;
    for (size_t i = 0; i < call->n; i++)
        call->made[i] = 0; /* a retried batch starts over */
    for (size_t i = 0; !err && i < call->n; i++)
        err = s_change_one(ctx, &call->c[i], &call->made[i]);
    return err;
}

ru_err
ru_profile_change_many(ru_writer_t *writer, const ru_profile_change_t *c, size_t n, int *made)
{
    s_call call = {c, n, made};
    ru_err err = ru_writer_call(writer, s_change, &call);
    for (size_t i = 0; err && i < n; i++)
        made[i] = 0;
    return err;
}

ru_err
ru_profile_change(ru_writer_t *writer, const ru_profile_change_t *c, int *made)
{
    int one = 0;
    ru_err err = ru_profile_change_many(writer, c, 1, &one);
    if (made)
        *made = one;
    return err;
}
