/*  ru_search_query.c - the searches (see ru_search_query.h).
 *
 *  A status search takes the statuses that may match from the words index
 *  (ru_words.h), newest first, and checks each against every word of the
 *  query, reading its text and whether the viewer may see it. At most
 *  the query's budget of statuses ([http] walk_budget) are looked at per
 *  search, so a query of common words answers quickly, with what it found.
 */
#include "ru_search_query.h"

#include <stdlib.h>
#include <string.h>

#include "ruche/ru_text.h"

#include "ru_dbkey.h"
#include "ru_directory.h"
#include "ru_entity.h"
#include "ru_fold.h"
#include "ru_pubid.h"
#include "ru_record.h"
#include "ru_state.h"
#include "ru_words.h"

#define S_MAX_PEOPLE 1000    /* accounts considered per search */
#define S_MAX_TAGS_SEEN 1000 /* tag names looked at per search */

/*  ---------------------------------------------------------------------
 *  Statuses
 */

typedef struct {
    const ru_view_t *v;
    const ru_search_query_t *q;
    const ru_fold_terms_t *t;
    long skipped;
    json_t *out;
} s_hits;

/*  Adds the status ref if it matches and the viewer may see it. */
static void
s_consider(s_hits *h, const ru_ref_t *ref)
{
    ru_post_rec_t rec;
    unsigned found = 0;
    if (ru_post_rec_get(h->v->txn, ref, &rec) != RU_OK || !ru_view_visible(h->v, ref, &rec) ||
        (h->q->has_account && ru_pubid_user(ref->origin, rec.author) != h->q->account_id))
        return;
    ru_fold_match(h->t, rec.text.ptr, rec.text.len, 0, &found);
    if (found != ru_fold_all(h->t) || h->skipped++ < h->q->offset)
        return;
    json_t *j = ru_view_status(h->v, ref, &rec);
    if (j)
        json_array_append_new(h->out, j);
}

/*  A query that is the address of a status (http://SITE/statuses/ID or
 *  http://SITE/@user/ID: ids are the same on every site) names it: 1 and
 *  *ref when it does and the status is here. */
static int
s_status_url(ru_txn_t *txn, const char *q, ru_ref_t *ref)
{
    if (strncmp(q, "http://", 7) != 0 && strncmp(q, "https://", 8) != 0)
        return 0;
    size_t end = strcspn(q, "?# ");
    while (end > 0 && q[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && q[start - 1] >= '0' && q[start - 1] <= '9')
        start--;
    char id[RU_PUBID_SIZE];
    uint8_t pos[RU_PUBID_POS];
    if (start == end || end - start >= sizeof id || q[start - 1] != '/')
        return 0;
    memcpy(id, q + start, end - start);
    id[end - start] = '\0';
    return ru_pubid_status_parse(id, pos) == RU_OK && ru_pubid_status_ref(txn, pos, ref) == RU_OK;
}

ru_err
ru_search_statuses(const ru_view_t *v, const ru_search_query_t *q, json_t *out)
{
    ru_fold_terms_t t;
    ru_fold_terms(q->q, strlen(q->q), &t);
    s_hits h = {v, q, &t, 0, out};
    ru_ref_t ref;
    if (s_status_url(v->txn, q->q, &ref)) {
        t.n = 0; /* the address alone: no words to check */
        s_consider(&h, &ref);
        return RU_OK;
    }
    if (t.n == 0)
        return RU_OK;
    ru_words_iter_t *it;
    ru_err err = ru_words_iter_new(v->txn, &t, &it);
    for (long seen = 0; !err && seen < q->budget && (long) json_array_size(out) < q->limit &&
                        ru_words_iter_next(it, &ref);
         seen++)
        s_consider(&h, &ref);
    ru_words_iter_destroy(&it);
    return err;
}

/*  ---------------------------------------------------------------------
 *  Accounts
 */

typedef struct {
    uint8_t key[RU_DBKEY_USER]; /* home | name | 0 */
    size_t len;
    int rank; /* 0: the exact name, 1: of this site, 2: of another */
} s_person;

typedef struct {
    const ru_view_t *v;
    const ru_search_query_t *q;
    char name[RU_MAX_NAME + 1]; /* what the query says of a user name */
    size_t name_len;
    int has_home; /* name@site: only that site's */
    uint8_t home[RU_KEY_BYTES];
    ru_fold_terms_t t;
    s_person *found;
    int n;
} s_people;

static ru_str_t
s_person_name(const s_person *p)
{
    return (ru_str_t){(const char *) p->key + RU_KEY_BYTES, (uint32_t) (p->len - RU_KEY_BYTES - 1)};
}

/*  The display name of user key (empty if none), a view into txn. */
static ru_str_t
s_display_name(ru_txn_t *txn, const uint8_t *key, size_t len)
{
    MDB_val val;
    ru_profile_rec_t prof;
    if (ru_txn_get(txn, RU_DB_profiles, key, len, &val) == RU_OK &&
        ru_profile_rec_decode(val.mv_data, val.mv_size, &prof) == RU_OK)
        return prof.display_name;
    return (ru_str_t){"", 0};
}

/*  Does the viewer follow the user key? */
static int
s_followed(const ru_view_t *v, const uint8_t *key, size_t len)
{
    if (!v->viewer)
        return 0;
    uint8_t k[2 * RU_DBKEY_USER];
    size_t n = ru_dbkey_user(k, ru_key_public(v->node->key),
                             (ru_str_t){v->viewer, (uint32_t) strlen(v->viewer)});
    memcpy(k + n, key, len);
    MDB_val val;
    return ru_txn_get(v->txn, RU_DB_follows, k, n + len, &val) == RU_OK;
}

/*  Keeps the user key if the query fits them and they are not listed. */
static void
s_person_add(s_people *s, const uint8_t *key, size_t len)
{
    if (s->n == S_MAX_PEOPLE || len < RU_KEY_BYTES + 2 || len > RU_DBKEY_USER ||
        (s->has_home && memcmp(key, s->home, RU_KEY_BYTES) != 0))
        return;
    for (int i = 0; i < s->n; i++)
        if (s->found[i].len == len && memcmp(s->found[i].key, key, len) == 0)
            return;
    s_person *p = &s->found[s->n];
    memcpy(p->key, key, len);
    p->len = len;
    ru_str_t name = s_person_name(p);
    unsigned terms = 0;
    int by_name =
        s->name_len && name.len >= s->name_len && memcmp(name.ptr, s->name, s->name_len) == 0;
    if (!by_name && s->t.n) {
        ru_fold_match(&s->t, name.ptr, name.len, 1, &terms);
        ru_str_t display = s_display_name(s->v->txn, key, len);
        ru_fold_match(&s->t, display.ptr, display.len, 1, &terms);
    }
    if ((!by_name && (!s->t.n || terms != ru_fold_all(&s->t))) ||
        (s->q->following && !s_followed(s->v, key, len)) ||
        ru_directory_hidden(s->v->txn, key, len))
        return;
    int local = memcmp(key, ru_key_public(s->v->node->key), RU_KEY_BYTES) == 0;
    p->rank = by_name && name.len == s->name_len ? 0 : local ? 1 : 2;
    s->n++;
}

/*  Adds the people of a scan of the people database (term | 0 | user). */
static int
s_people_entry(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    s_people *s = ctx;
    const uint8_t *end = memchr(key->mv_data, 0, key->mv_size);
    if (end) {
        size_t skip = (size_t) (end - (const uint8_t *) key->mv_data) + 1;
        s_person_add(s, (const uint8_t *) key->mv_data + skip, key->mv_size - skip);
    }
    return s->n == S_MAX_PEOPLE;
}

/*  Adds this site's accounts of a scan of the users database. */
static int
s_local_entry(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    s_people *s = ctx;
    if (key->mv_size <= RU_MAX_NAME) {
        uint8_t user[RU_DBKEY_USER];
        ru_str_t name = {key->mv_data, (uint32_t) key->mv_size};
        s_person_add(s, user, ru_dbkey_user(user, ru_key_public(s->v->node->key), name));
    }
    return s->n == S_MAX_PEOPLE;
}

/*  Reads "@name@site", "name" or words into s; 0 when nothing can match. */
static int
s_people_query(s_people *s)
{
    const char *q = s->q->q;
    while (*q == ' ' || *q == '@')
        q++;
    size_t len = strlen(q);
    while (len && q[len - 1] == ' ')
        len--;
    const char *at = memchr(q, '@', len);
    size_t n = at ? (size_t) (at - q) : len;
    if (at) {
        char site[RU_MAX_NAME + 1];
        size_t slen = len - n - 1;
        if (slen > RU_MAX_NAME)
            return 0;
        memcpy(site, at + 1, slen);
        site[slen] = '\0';
        if (!ru_view_site_key(s->v->node, site, s->home))
            return 0;
        s->has_home = 1;
    }
    for (size_t i = 0; i < n && i < RU_MAX_NAME; i++)
        s->name[i] = (char) (q[i] >= 'A' && q[i] <= 'Z' ? q[i] + 32 : q[i]);
    s->name_len = n <= RU_MAX_NAME && ru_name_check(s->name, n) == RU_OK ? n : 0;
    ru_fold_terms(q, n, &s->t);
    return s->name_len > 0 || s->t.n > 0;
}

static int
s_person_cmp(const void *a, const void *b)
{
    const s_person *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank - y->rank;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key + RU_KEY_BYTES, y->key + RU_KEY_BYTES, n - RU_KEY_BYTES);
    return c ? c : memcmp(x->key, y->key, RU_KEY_BYTES);
}

/*  Finds the candidates: by user name in people and users, by the first
 *  word in people. */
static ru_err
s_people_scan(s_people *s)
{
    ru_txn_t *txn = s->v->txn;
    ru_err err = RU_OK;
    if (s->name_len) {
        err = ru_txn_scan(txn, RU_DB_people, s->name, s->name_len, 0, s_people_entry, s);
        if (!err)
            err = ru_txn_scan(txn, RU_DB_users, s->name, s->name_len, 0, s_local_entry, s);
    }
    if (!err && s->t.n)
        err = ru_txn_scan(txn, RU_DB_people, s->t.w[0], s->t.len[0], 0, s_people_entry, s);
    return err;
}

ru_err
ru_search_accounts(const ru_view_t *v, const ru_search_query_t *q, json_t *out)
{
    s_people *s = calloc(1, sizeof *s);
    if (s)
        s->found = malloc(S_MAX_PEOPLE * sizeof *s->found);
    if (!s || !s->found) {
        free(s);
        return RU_E_NOMEM;
    }
    s->v = v;
    s->q = q;
    ru_err err = s_people_query(s) ? s_people_scan(s) : RU_OK;
    qsort(s->found, (size_t) s->n, sizeof *s->found, s_person_cmp);
    for (long i = q->offset; !err && i < s->n && (long) json_array_size(out) < q->limit; i++) {
        json_t *j = ru_view_account(v, s->found[i].key, s_person_name(&s->found[i]));
        if (j)
            json_array_append_new(out, j);
    }
    free(s->found);
    free(s);
    return err;
}

/*  ---------------------------------------------------------------------
 *  Hashtags
 */

typedef struct {
    const ru_view_t *v;
    const ru_search_query_t *q;
    long skipped, seen;
    json_t *out;
} s_tags;

/*  Is the tag (tagnames' copy) still on some status? */
static int
s_tag_used(ru_txn_t *txn, const uint8_t *tag, size_t len)
{
    uint8_t key[RU_MAX_TAG + 1];
    MDB_cursor *cur;
    if (len > RU_MAX_TAG ||
        mdb_cursor_open(txn->txn, ru_store_dbi(txn->store, RU_DB_tags), &cur) != MDB_SUCCESS)
        return 0;
    memcpy(key, tag, len);
    key[len] = 0;
    MDB_val k = {len + 1, key}, v;
    int used = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) == MDB_SUCCESS && k.mv_size > len + 1 &&
               memcmp(k.mv_data, key, len + 1) == 0;
    mdb_cursor_close(cur);
    return used;
}

static int
s_tag_entry(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    s_tags *s = ctx;
    const uint8_t *end = memchr(key->mv_data, 0, key->mv_size);
    size_t skip = end ? (size_t) (end - (const uint8_t *) key->mv_data) + 1 : key->mv_size;
    const uint8_t *tag = (const uint8_t *) key->mv_data + skip;
    size_t len = key->mv_size - skip;
    if (len && s_tag_used(s->v->txn, tag, len) && s->skipped++ >= s->q->offset) {
        char url[RU_CONFIG_PATH_MAX + RU_MAX_TAG + 8];
        snprintf(url, sizeof url, "%s/tags/%.*s", s->v->node->public_url, (int) len, tag);
        json_array_append_new(s->out,
                              json_pack("{s:s%, s:s, s:[], s:b}", "name", (const char *) tag, len,
                                        "url", url, "history", "following", 0));
    }
    return ++s->seen == S_MAX_TAGS_SEEN || (long) json_array_size(s->out) >= s->q->limit;
}

ru_err
ru_search_tags(const ru_view_t *v, const ru_search_query_t *q, json_t *out)
{
    const char *tag = q->q;
    while (*tag == ' ' || *tag == '#')
        tag++;
    char folded[RU_FOLD_WORD_MAX + 1];
    size_t len = ru_fold_tag(tag, strcspn(tag, " "), folded);
    s_tags s = {v, q, 0, 0, out};
    return len ? ru_txn_scan(v->txn, RU_DB_tagnames, folded, len, 0, s_tag_entry, &s) : RU_OK;
}
