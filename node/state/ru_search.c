/*  ru_search.c - the indexes of accounts and tags that searches read (see
 *  ru_search.h).
 */
#include "ru_search.h"

#include <string.h>

#include "ru_dbkey.h"
#include "ru_entity.h"
#include "ru_fold.h"
#include "ru_pubid.h"
#include "ru_record.h"

/*  ---------------------------------------------------------------------
 *  Indexes
 */

/*  Puts term | 0 | rest into db unless it is there (*had). */
static ru_err
s_put_once(ru_txn_t *txn, ru_db db, const char *term, size_t len, const void *rest, size_t rlen,
           int *had)
{
    uint8_t key[RU_FOLD_WORD_MAX + 1 + RU_DBKEY_USER + RU_MAX_TAG];
    memcpy(key, term, len);
    key[len] = 0;
    memcpy(key + len + 1, rest, rlen);
    MDB_val val;
    ru_err err = ru_txn_get(txn, db, key, len + 1 + rlen, &val);
    *had = err == RU_OK;
    return err == RU_E_NOT_FOUND ? ru_txn_put(txn, db, key, len + 1 + rlen, "", 0) : err;
}

/*  Makes user findable by each word of text. */
static ru_err
s_note_words(ru_txn_t *txn, const uint8_t *user, size_t ulen, ru_str_t text)
{
    char word[RU_FOLD_WORD_MAX + 1];
    size_t at = 0, n;
    int had;
    ru_err err = RU_OK;
    while (!err && (n = ru_fold_word(text.ptr, text.len, &at, word)) > 0)
        err = s_put_once(txn, RU_DB_people, word, n, user, ulen, &had);
    return err;
}

static ru_err
s_note_user(ru_txn_t *txn, const uint8_t *user, size_t ulen, ru_str_t display_name)
{
    ru_str_t name = {(const char *) user + RU_KEY_BYTES, (uint32_t) (ulen - RU_KEY_BYTES - 1)};
    int had;
    ru_err err = s_put_once(txn, RU_DB_people, name.ptr, name.len, user, ulen, &had);
    if (!err && !had) /* a name seen before has its words noted already */
        err = s_note_words(txn, user, ulen, name);
    return err ? err : s_note_words(txn, user, ulen, display_name);
}

/*  Makes user findable by each word of text, as a term of kind. */
static ru_err
s_note_kind_words(ru_txn_t *txn, const uint8_t *user, size_t ulen, ru_people_kind kind,
                  ru_str_t text)
{
    char word[RU_FOLD_WORD_MAX + 2];
    size_t at = 0, n;
    int had;
    ru_err err = RU_OK;
    word[0] = (char) kind;
    while (!err && (n = ru_fold_word(text.ptr, text.len, &at, word + 1)) > 0)
        err = s_put_once(txn, RU_DB_people, word, n + 1, user, ulen, &had);
    return err;
}

/*  dir id | 0, into key; its length, 0 if the id is empty or has a 0 byte
 *  (it could not be found by its prefix). */
static size_t
s_dirid_prefix(uint8_t *key, ru_str_t id)
{
    if (id.len == 0 || id.len > RU_MAX_DIR_ID || memchr(id.ptr, 0, id.len))
        return 0;
    memcpy(key, id.ptr, id.len);
    key[id.len] = 0;
    return id.len + 1;
}

/*  dir id | 0 | user, into key; its length, 0 as s_dirid_prefix. */
static size_t
s_dirid_key(uint8_t *key, ru_str_t id, const uint8_t *user, size_t ulen)
{
    size_t n = s_dirid_prefix(key, id);
    if (n)
        memcpy(key + n, user, ulen);
    return n ? n + ulen : 0;
}

ru_err
ru_search_note_person(ru_txn_t *txn, const uint8_t *home, ru_str_t name,
                      const ru_person_t *person, ru_str_t old_dir_id, uint64_t hlc)
{
    uint8_t user[RU_DBKEY_USER];
    size_t ulen = ru_dbkey_user(user, home, name);
    const struct {
        ru_people_kind kind;
        ru_str_t text;
    } fields[] = {
        {RU_PEOPLE_TITLE, person->title},
        {RU_PEOPLE_DEPARTMENT, person->department},
        {RU_PEOPLE_SITE, person->site},
        {RU_PEOPLE_OFFICE, person->office},
    };
    ru_err err = RU_OK;
    for (size_t i = 0; !err && i < sizeof fields / sizeof *fields; i++)
        err = s_note_kind_words(txn, user, ulen, fields[i].kind, fields[i].text);
    for (uint32_t i = 0; !err && i < person->n_skills; i++)
        err = s_note_kind_words(txn, user, ulen, RU_PEOPLE_SKILL, person->skills[i]);
    uint8_t key[RU_MAX_DIR_ID + 1 + RU_DBKEY_USER];
    size_t klen;
    int same = old_dir_id.len == person->dir_id.len &&
               (old_dir_id.len == 0 || memcmp(old_dir_id.ptr, person->dir_id.ptr,
                                              old_dir_id.len) == 0); /* "" may be NULL */
    if (!err && !same && (klen = s_dirid_key(key, old_dir_id, user, ulen)) > 0) {
        err = ru_txn_del(txn, RU_DB_dirids, key, klen);
        err = err == RU_E_NOT_FOUND ? RU_OK : err;
    }
    if (!err && (klen = s_dirid_key(key, person->dir_id, user, ulen)) > 0) {
        uint8_t val[9];
        ru_dbkey_be64(val, hlc);
        val[8] = (uint8_t) person->departed;
        err = ru_txn_put(txn, RU_DB_dirids, key, klen, val, sizeof val);
    }
    return err;
}

typedef struct {
    size_t id_len;
    uint8_t *user;
    size_t len;
    int departed;
    uint64_t hlc;
} s_current;

static int
s_dir_entry(void *ctx, const MDB_val *key, const MDB_val *val)
{
    s_current *c = ctx;
    size_t ulen = key->mv_size - c->id_len - 1;
    if (val->mv_size != 9 || ulen < RU_KEY_BYTES + 2 || ulen > RU_DBKEY_USER ||
        ((const uint8_t *) key->mv_data)[c->id_len] != 0)
        return 0;
    int departed = ((const uint8_t *) val->mv_data)[8] != 0;
    uint64_t hlc = ru_dbkey_get64(val->mv_data);
    /*  Keys come in order, so a tie on both keeps the least key. */
    if (c->len && (departed > c->departed || (departed == c->departed && hlc <= c->hlc)))
        return 0;
    memcpy(c->user, (const uint8_t *) key->mv_data + c->id_len + 1, ulen);
    c->len = ulen;
    c->departed = departed;
    c->hlc = hlc;
    return 0;
}

size_t
ru_search_dir_current(ru_txn_t *txn, ru_str_t id, uint8_t *user)
{
    uint8_t prefix[RU_MAX_DIR_ID + 1];
    size_t n = s_dirid_prefix(prefix, id);
    s_current c = {id.len, user, 0, 0, 0};
    if (!n || ru_txn_scan(txn, RU_DB_dirids, prefix, n, 0, s_dir_entry, &c) != RU_OK)
        return 0;
    return c.len;
}

int
ru_search_person(ru_txn_t *txn, const uint8_t *user, size_t len, ru_person_t *p)
{
    MDB_val val;
    ru_profile_rec_t rec;
    return ru_txn_get(txn, RU_DB_profiles, user, len, &val) == RU_OK &&
           ru_profile_rec_decode(val.mv_data, val.mv_size, &rec) == RU_OK && rec.person.len &&
           ru_person_unpack(rec.person.ptr, rec.person.len, p) == RU_OK;
}

size_t
ru_search_dir_elsewhere(ru_txn_t *txn, ru_str_t id, const uint8_t *user, size_t len, uint8_t *out)
{
    size_t n = ru_search_dir_current(txn, id, out);
    return n && (n != len || memcmp(out, user, n) != 0) ? n : 0;
}

ru_err
ru_search_note_tag(ru_txn_t *txn, const char *tag)
{
    char folded[RU_FOLD_WORD_MAX + 1];
    size_t len = strlen(tag);
    int had;
    return s_put_once(txn, RU_DB_tagnames, folded, ru_fold_tag(tag, len, folded), tag, len, &had);
}

/*  A store that held users and tags before it had these indexes (an
 *  upgrade) has them noted once, from the ids and tags databases, when it
 *  applies its next update; meta search_version says it is done. */
typedef struct {
    ru_txn_t *txn;
    char tag[RU_MAX_TAG + 1]; /* the last tag noted */
    ru_err err;
} s_upgrade;

static int
s_upgrade_user(void *ctx, const uint8_t *user, size_t len)
{
    s_upgrade *up = ctx;
    MDB_val prof;
    ru_profile_rec_t rec = {.display_name = {"", 0}, .note = {"", 0}};
    if (ru_txn_get(up->txn, RU_DB_profiles, user, len, &prof) == RU_OK &&
        ru_profile_rec_decode(prof.mv_data, prof.mv_size, &rec) != RU_OK)
        rec.display_name = (ru_str_t){"", 0};
    up->err = s_note_user(up->txn, user, len, rec.display_name);
    return up->err != RU_OK;
}

static int
s_upgrade_tag(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    s_upgrade *up = ctx;
    const char *tag = key->mv_data;
    size_t len = strnlen(tag, key->mv_size);
    if (len == 0 || len > RU_MAX_TAG || len == key->mv_size || strcmp(tag, up->tag) == 0)
        return 0;
    memcpy(up->tag, tag, len + 1);
    up->err = ru_search_note_tag(up->txn, up->tag);
    return up->err != RU_OK;
}

static ru_err
s_upgrade_once(ru_txn_t *txn)
{
    static const char version[] = "search_version";
    MDB_val val;
    ru_err err = ru_txn_get(txn, RU_DB_meta, version, strlen(version), &val);
    if (err != RU_E_NOT_FOUND)
        return err;
    s_upgrade up = {txn, "", RU_OK};
    err = ru_pubid_each_user(txn, s_upgrade_user, &up);
    if (!err && !up.err)
        err = ru_txn_scan(txn, RU_DB_tags, NULL, 0, 0, s_upgrade_tag, &up);
    err = err ? err : up.err;
    return err ? err : ru_txn_put(txn, RU_DB_meta, version, strlen(version), "1", 1);
}

ru_err
ru_search_note_user(ru_txn_t *txn, const uint8_t *home, ru_str_t name, ru_str_t display_name)
{
    uint8_t user[RU_DBKEY_USER];
    ru_err err = s_upgrade_once(txn);
    return err ? err : s_note_user(txn, user, ru_dbkey_user(user, home, name), display_name);
}
