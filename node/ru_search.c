/*  ru_search.c - the search indexes and the searches (see ru_search.h).
 *
 *  A status search walks the postings of one word newest first and checks
 *  each status it names against every word of the query (reading its
 *  text, which also checks visibility): the word chosen is the query's
 *  rarest complete word, or, when the query is one unfinished word, the
 *  words that start with it (up to S_MAX_EXPANSIONS of them, merged
 *  newest first). At most S_MAX_EXAMINED statuses are looked at per
 *  search, so a query of common words answers quickly, with what it found.
 */
#include "ru_search.h"

#include <stdlib.h>
#include <string.h>

#include "ruche/ru_text.h"

#include "ru_account.h"
#include "ru_dbkey.h"
#include "ru_entity.h"
#include "ru_fold.h"
#include "ru_pubid.h"
#include "ru_record.h"
#include "ru_state.h"

#define S_MAX_TERMS 8        /* words of a query that count */
#define S_MAX_EXPANSIONS 64  /* words an unfinished word stands for */
#define S_MAX_EXAMINED 20000 /* statuses looked at per search */
#define S_COUNT_CAP 10000    /* postings counted to find the rarest word */
#define S_MAX_PEOPLE 1000    /* accounts considered per search */
#define S_MAX_TAGS_SEEN 1000 /* tag names looked at per search */

/*  ---------------------------------------------------------------------
 *  Indexes
 */

ru_err
ru_search_index_status(ru_txn_t *txn, const uint8_t *pos, ru_str_t text, int add)
{
    uint8_t key[RU_FOLD_WORD_MAX + 1 + RU_DBKEY_POS];
    size_t at = 0, n;
    ru_err err = RU_OK;
    while (!err && (n = ru_fold_word(text.ptr, text.len, &at, (char *) key)) > 0) {
        memcpy(key + n + 1, pos, RU_DBKEY_POS);
        err = add ? ru_txn_put(txn, RU_DB_words, key, n + 1 + RU_DBKEY_POS, "", 0)
                  : ru_txn_del(txn, RU_DB_words, key, n + 1 + RU_DBKEY_POS);
    }
    return err;
}

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

ru_err
ru_search_note_user(ru_txn_t *txn, const uint8_t *home, ru_str_t name, ru_str_t display_name)
{
    uint8_t user[RU_DBKEY_USER];
    size_t ulen = ru_dbkey_user(user, home, name);
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

/*  ---------------------------------------------------------------------
 *  Matching
 */

typedef struct {
    char w[S_MAX_TERMS][RU_FOLD_WORD_MAX + 1];
    size_t len[S_MAX_TERMS];
    int n;
} s_terms;

static void
s_terms_of(const char *q, size_t len, s_terms *t)
{
    size_t at = 0;
    t->n = 0;
    while (t->n < S_MAX_TERMS && (t->len[t->n] = ru_fold_word(q, len, &at, t->w[t->n])) > 0)
        t->n++;
}

/*  Marks in *found the terms that text holds: the same word, or a word
 *  that starts with the term (every term when all_prefix, else only the
 *  last, which a user may not have finished typing). */
static void
s_find_terms(const s_terms *t, ru_str_t text, int all_prefix, unsigned *found)
{
    char word[RU_FOLD_WORD_MAX + 1];
    size_t at = 0, n;
    while ((n = ru_fold_word(text.ptr, text.len, &at, word)) > 0)
        for (int i = 0; i < t->n; i++) {
            int prefix = all_prefix || i == t->n - 1;
            if (n >= t->len[i] && (prefix || n == t->len[i]) &&
                memcmp(word, t->w[i], t->len[i]) == 0)
                *found |= 1u << i;
        }
}

static unsigned
s_all(const s_terms *t)
{
    return (1u << t->n) - 1;
}

/*  ---------------------------------------------------------------------
 *  Postings: the statuses of one word or of several, newest first
 */

typedef struct {
    MDB_cursor *cur[S_MAX_EXPANSIONS];
    size_t plen[S_MAX_EXPANSIONS]; /* word | 0 */
    MDB_val key[S_MAX_EXPANSIONS]; /* the current entry; mv_data NULL when done */
    int n;
} s_postings;

static int
s_has_prefix(const MDB_val *k, const void *prefix, size_t plen)
{
    return k->mv_size >= plen && memcmp(k->mv_data, prefix, plen) == 0;
}

/*  Adds a cursor on the newest posting of word (len bytes). */
static ru_err
s_postings_add(s_postings *p, ru_txn_t *txn, const void *word, size_t len)
{
    uint8_t seek[RU_FOLD_WORD_MAX + 1];
    MDB_cursor *cur;
    if (mdb_cursor_open(txn->txn, ru_store_dbi(txn->store, RU_DB_words), &cur) != MDB_SUCCESS)
        return RU_E_STORE;
    memcpy(seek, word, len);
    seek[len] = 1; /* just past every word | 0 | ... */
    MDB_val k = {len + 1, seek}, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    rc = mdb_cursor_get(cur, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
    seek[len] = 0;
    p->cur[p->n] = cur;
    p->plen[p->n] = len + 1;
    p->key[p->n++] =
        rc == MDB_SUCCESS && s_has_prefix(&k, seek, len + 1) && k.mv_size == len + 1 + RU_DBKEY_POS
            ? k
            : (MDB_val){0, NULL};
    return RU_OK;
}

/*  How many postings word has, counting up to S_COUNT_CAP. */
static size_t
s_postings_count(ru_txn_t *txn, const char *word, size_t len)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(txn->txn, ru_store_dbi(txn->store, RU_DB_words), &cur) != MDB_SUCCESS)
        return 0;
    MDB_val k = {len + 1, (void *) word}, v; /* word and its NUL */
    size_t n = 0;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == MDB_SUCCESS && n < S_COUNT_CAP && s_has_prefix(&k, word, len + 1);
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        n++;
    mdb_cursor_close(cur);
    return n;
}

/*  Cursors on every word starting with prefix (the first S_MAX_EXPANSIONS
 *  in alphabetical order, the prefix itself first). */
static ru_err
s_postings_expand(s_postings *p, ru_txn_t *txn, const char *prefix, size_t len)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(txn->txn, ru_store_dbi(txn->store, RU_DB_words), &cur) != MDB_SUCCESS)
        return RU_E_STORE;
    uint8_t seek[RU_FOLD_WORD_MAX + 1];
    MDB_val k = {len, (void *) prefix}, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    ru_err err = RU_OK;
    while (!err && rc == MDB_SUCCESS && p->n < S_MAX_EXPANSIONS && s_has_prefix(&k, prefix, len)) {
        const uint8_t *end = memchr(k.mv_data, 0, k.mv_size);
        size_t wlen = end ? (size_t) (end - (const uint8_t *) k.mv_data) : 0;
        if (wlen == 0 || wlen > RU_FOLD_WORD_MAX)
            break; /* not a words key: a damaged store */
        memcpy(seek, k.mv_data, wlen);
        err = s_postings_add(p, txn, seek, wlen);
        seek[wlen] = 1; /* on to the next word */
        k = (MDB_val){wlen + 1, seek};
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }
    mdb_cursor_close(cur);
    return err;
}

/*  Opens the postings that drive a search for t. */
static ru_err
s_postings_open(s_postings *p, ru_txn_t *txn, const s_terms *t)
{
    if (t->n == 1)
        return s_postings_expand(p, txn, t->w[0], t->len[0]);
    int best = 0;
    size_t fewest = SIZE_MAX;
    for (int i = 0; i < t->n - 1; i++) {
        size_t n = s_postings_count(txn, t->w[i], t->len[i]);
        if (n < fewest) {
            fewest = n;
            best = i;
        }
    }
    return s_postings_add(p, txn, t->w[best], t->len[best]);
}

static void
s_postings_close(s_postings *p)
{
    for (int i = 0; i < p->n; i++)
        mdb_cursor_close(p->cur[i]);
    p->n = 0;
}

static const uint8_t *
s_pos_of(const s_postings *p, int i)
{
    return (const uint8_t *) p->key[i].mv_data + p->plen[i];
}

/*  The newest position left, into pos; 0 when none is left. */
static int
s_postings_next(s_postings *p, uint8_t *pos)
{
    int best = -1;
    for (int i = 0; i < p->n; i++)
        if (p->key[i].mv_data &&
            (best < 0 || memcmp(s_pos_of(p, i), s_pos_of(p, best), RU_DBKEY_POS) > 0))
            best = i;
    if (best < 0)
        return 0;
    memcpy(pos, s_pos_of(p, best), RU_DBKEY_POS);
    for (int i = 0; i < p->n; i++) {
        if (!p->key[i].mv_data || memcmp(s_pos_of(p, i), pos, RU_DBKEY_POS) != 0)
            continue;
        uint8_t prefix[RU_FOLD_WORD_MAX + 1];
        memcpy(prefix, p->key[i].mv_data, p->plen[i]);
        MDB_val v;
        int rc = mdb_cursor_get(p->cur[i], &p->key[i], &v, MDB_PREV);
        if (rc != MDB_SUCCESS || !s_has_prefix(&p->key[i], prefix, p->plen[i]) ||
            p->key[i].mv_size != p->plen[i] + RU_DBKEY_POS)
            p->key[i] = (MDB_val){0, NULL};
    }
    return 1;
}

/*  ---------------------------------------------------------------------
 *  Statuses
 */

typedef struct {
    const ru_view_t *v;
    const ru_search_query_t *q;
    const s_terms *t;
    long skipped;
    json_t *out;
} s_hits;

/*  Adds the status at pos if it matches and the viewer may see it. */
static void
s_consider(s_hits *h, const uint8_t *pos)
{
    ru_ref_t ref;
    ru_post_rec_t rec;
    unsigned found = 0;
    memcpy(ref.origin, pos + 8, RU_KEY_BYTES);
    ref.seq = ru_dbkey_get64(pos + 8 + RU_KEY_BYTES);
    if (ru_state_get_post(h->v->txn, &ref, &rec) != RU_OK || !ru_view_visible(h->v, &ref, &rec) ||
        (h->q->has_account && ru_pubid_user(ref.origin, rec.author) != h->q->account_id))
        return;
    s_find_terms(h->t, rec.text, 0, &found);
    if (found != s_all(h->t) || h->skipped++ < h->q->offset)
        return;
    json_t *j = ru_view_status(h->v, &ref, &rec);
    if (j)
        json_array_append_new(h->out, j);
}

ru_err
ru_search_statuses(const ru_view_t *v, const ru_search_query_t *q, json_t *out)
{
    s_terms t;
    s_terms_of(q->q, strlen(q->q), &t);
    if (t.n == 0)
        return RU_OK;
    s_postings *p = calloc(1, sizeof *p);
    if (!p)
        return RU_E_NOMEM;
    ru_err err = s_postings_open(p, v->txn, &t);
    s_hits h = {v, q, &t, 0, out};
    uint8_t pos[RU_DBKEY_POS];
    for (long seen = 0; !err && seen < S_MAX_EXAMINED && (long) json_array_size(out) < q->limit &&
                        s_postings_next(p, pos);
         seen++)
        s_consider(&h, pos);
    s_postings_close(p);
    free(p);
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
    s_terms t;
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
        s_find_terms(&s->t, name, 1, &terms);
        s_find_terms(&s->t, s_display_name(s->v->txn, key, len), 1, &terms);
    }
    if ((!by_name && (!s->t.n || terms != s_all(&s->t))) ||
        (s->q->following && !s_followed(s->v, key, len)))
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
    s_terms_of(q, n, &s->t);
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
    int used =
        mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) == MDB_SUCCESS && s_has_prefix(&k, key, len + 1);
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
