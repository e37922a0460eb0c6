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
