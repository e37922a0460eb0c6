/*  ru_words.c - the full-text index of statuses (see ru_words.h).
 *
 *  words:  word | 0 | newest id of the block -> ids, 16 bytes each, ascending
 *  meta search_mark: the mark (a status id) | statuses in the tail (u64)
 *
 *  A word's postings are blocks of up to S_BLOCK status ids, one record
 *  each: indexing many statuses at once costs one put per word, not per
 *  word and status, and an id costs 16 bytes, not a key of its own. The
 *  blocks of a word hold disjoint, increasing ranges of ids, so the block
 *  an id belongs in is the first whose key is not below it (or, for an id
 *  above them all, the last block, topped up). A merge adds ids above all
 *  indexed ones; a status below the mark adds or removes one id: either
 *  rewrites the one block concerned (split in two when it overflows).
 *
 *  A merge groups its postings by word in a hash table: the statuses come
 *  in timeline order, so each word's ids come in ascending order already.
 *
 *  A walk reads the tail back from the newest timeline entry down to the
 *  mark, then merges the postings of the words it was given (one cursor
 *  per word, walking back from its newest id) into one list, newest first.
 */
#include "ru_words.h"

#include <stdlib.h>
#include <string.h>

#include "ru_dbkey.h"
#include "ru_pubid.h"
#include "ru_record.h"

#define S_META_MARK "search_mark"
#define S_ID RU_PUBID_POS /* bytes of a status id */
#define S_BLOCK 96        /* ids in a block: 1,536 bytes, kept in a page */
#define S_MERGE_MAX 1024  /* statuses indexed at once */
#define S_COUNT_CAP 10000 /* postings counted to find the rarest word */
#define S_KEY_MAX (RU_FOLD_WORD_MAX + 1 + S_ID)

typedef struct {
    uint8_t b[S_ID];
} s_id; /* a status id: arrays of them are blocks */

/*  ---------------------------------------------------------------------
 *  The mark and the tail
 */

typedef struct {
    uint8_t id[S_ID]; /* statuses above it are in the tail */
    uint64_t tail;
} s_mark;

/*  Reads the mark; a store without one has every status in its tail
 *  (*fresh set: the count includes the change being made). */
static ru_err
s_mark_get(ru_txn_t *txn, s_mark *m, int *fresh)
{
    MDB_val val;
    ru_err err = ru_txn_get(txn, RU_DB_meta, S_META_MARK, strlen(S_META_MARK), &val);
    *fresh = err == RU_E_NOT_FOUND;
    if (!err && val.mv_size == S_ID + 8) {
        memcpy(m->id, val.mv_data, S_ID);
        m->tail = ru_dbkey_get64((const uint8_t *) val.mv_data + S_ID);
        return RU_OK;
    }
    if (!err)
        return RU_E_STORE;
    MDB_stat st;
    if (*fresh && mdb_stat(txn->txn, ru_store_dbi(txn->store, RU_DB_timeline), &st) != MDB_SUCCESS)
        return RU_E_STORE;
    memset(m->id, 0, S_ID);
    m->tail = *fresh ? st.ms_entries : 0;
    return *fresh ? RU_OK : err;
}

static ru_err
s_mark_put(ru_txn_t *txn, const s_mark *m)
{
    uint8_t v[S_ID + 8];
    memcpy(v, m->id, S_ID);
    ru_dbkey_be64(v + S_ID, m->tail);
    return ru_txn_put(txn, RU_DB_meta, S_META_MARK, strlen(S_META_MARK), v, sizeof v);
}

/*  ---------------------------------------------------------------------
 *  Blocks
 */

static size_t
s_key(uint8_t *key, const char *word, size_t wlen, const uint8_t *id)
{
    memcpy(key, word, wlen);
    key[wlen] = 0;
    memcpy(key + wlen + 1, id, S_ID);
    return wlen + 1 + S_ID;
}

/*  Is k a block key of word? */
static int
s_of_word(const MDB_val *k, const char *word, size_t wlen)
{
    const uint8_t *p = k->mv_data;
    return k->mv_size == wlen + 1 + S_ID && memcmp(p, word, wlen) == 0 && p[wlen] == 0;
}

/*  The ids of a block record (a view); 0 for a damaged one. */
static size_t
s_block_ids(const MDB_val *v, const s_id **ids)
{
    *ids = v->mv_data;
    return v->mv_size % S_ID == 0 && v->mv_size <= S_BLOCK * S_ID ? v->mv_size / S_ID : 0;
}

/*  Positions cur on the block of word where id belongs: the first whose
 *  key is not below id, else the word's last one. Copies its ids to ids
 *  and returns how many; 0 when the word has no block. */
static size_t
s_block_find(MDB_cursor *cur, const char *word, size_t wlen, const uint8_t *id, s_id *ids)
{
    uint8_t key[S_KEY_MAX];
    MDB_val k = {s_key(key, word, wlen, id), key}, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc != MDB_SUCCESS || !s_of_word(&k, word, wlen))
        rc = mdb_cursor_get(cur, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
    const s_id *found = NULL;
    size_t n = rc == MDB_SUCCESS && s_of_word(&k, word, wlen) ? s_block_ids(&v, &found) : 0;
    if (n)
        memcpy(ids, found, n * S_ID);
    return n;
}

/*  Writes ids (n, ascending) as blocks of word. */
static ru_err
s_blocks_put(MDB_cursor *cur, const char *word, size_t wlen, const s_id *ids, size_t n)
{
    for (size_t at = 0; at < n; at += S_BLOCK) {
        size_t c = n - at < S_BLOCK ? n - at : S_BLOCK;
        uint8_t key[S_KEY_MAX];
        MDB_val k = {s_key(key, word, wlen, ids[at + c - 1].b), key};
        MDB_val v = {c * S_ID, (void *) &ids[at]};
        int rc = mdb_cursor_put(cur, &k, &v, 0);
        if (rc != MDB_SUCCESS)
            return ru_store_err(rc, "words put");
    }
    return RU_OK;
}

/*  Merges the ascending lists a (na) and b (nb) into out, each id once;
 *  returns the length. */
static size_t
s_union(const s_id *a, size_t na, const s_id *b, size_t nb, s_id *out)
{
    size_t i = 0, j = 0, n = 0;
    while (i < na || j < nb) {
        int c = i == na ? 1 : j == nb ? -1 : memcmp(a[i].b, b[j].b, S_ID);
        out[n++] = c <= 0 ? a[i] : b[j];
        i += c <= 0;
        j += c >= 0;
    }
    return n;
}

/*  Adds ids (n, ascending: one id, or ids above every indexed one) to the
 *  postings of word, or removes one id (add = 0, n = 1). */
static ru_err
s_word_change(MDB_cursor *cur, const char *word, size_t wlen, const s_id *ids, size_t n, int add)
{
    s_id *old = malloc(S_BLOCK * sizeof *old), *all = malloc((S_BLOCK + n) * sizeof *all);
    ru_err err = old && all ? RU_OK : RU_E_NOMEM;
    size_t have = err ? 0 : s_block_find(cur, word, wlen, ids[0].b, old), keep = 0;
    for (size_t i = 0; !add && i < have; i++)
        if (memcmp(old[i].b, ids[0].b, S_ID) != 0)
            all[keep++] = old[i];
    int changed = add || keep < have;
    if (!err && have && changed)
        err = ru_store_err(mdb_cursor_del(cur, 0), "words del");
    if (!err && changed)
        err = s_blocks_put(cur, word, wlen, all, add ? s_union(old, have, ids, n, all) : keep);
    free(old);
    free(all);
    return err;
}

/*  ---------------------------------------------------------------------
 *  Batches: the postings of several statuses, by word
 */

/*  A word of the batch, in an open-addressing table. */
typedef struct {
    uint32_t word;       /* its offset in words, + 1; 0: an empty slot */
    uint32_t head, tail; /* its first and last posting in ids */
} s_slot;

/*  Statuses are added in timeline order, so each word's ids come in
 *  ascending order, each status once per word. */
typedef struct {
    ru_buf_t words; /* the words, each with its NUL */
    s_slot *slots;
    size_t nslots, nwords;
    s_id *ids;
    uint32_t *next; /* the next posting of the same word; UINT32_MAX: none */
    size_t n, cap;
    int nomem;
} s_batch;

static void
s_batch_init(s_batch *b)
{
    *b = (s_batch){.nomem = 0};
    ru_buf_init(&b->words);
}

static void
s_batch_fini(s_batch *b)
{
    ru_buf_fini(&b->words);
    free(b->slots);
    free(b->ids);
    free(b->next);
}

static uint32_t
s_hash(const char *word, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t) word[i]) * 16777619u;
    return h;
}

/*  The slot of word: its own, or the empty one where it goes. */
static s_slot *
s_slot_of(const s_batch *b, const char *word, size_t len)
{
    size_t i = s_hash(word, len) & (b->nslots - 1);
    while (b->slots[i].word &&
           strcmp((const char *) b->words.data + b->slots[i].word - 1, word) != 0)
        i = (i + 1) & (b->nslots - 1);
    return &b->slots[i];
}

/*  Makes room for one more word and one more posting. */
static int
s_batch_grow(s_batch *b)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 1024;
        s_id *ids = realloc(b->ids, cap * sizeof *ids);
        uint32_t *next = ids ? realloc(b->next, cap * sizeof *next) : NULL;
        b->ids = ids ? ids : b->ids;
        b->next = next ? next : b->next;
        if (!ids || !next)
            return 0;
        b->cap = cap;
    }
    if (2 * (b->nwords + 1) <= b->nslots)
        return 1;
    size_t nslots = b->nslots ? 2 * b->nslots : 256;
    s_slot *old = b->slots, *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return 0;
    size_t before = b->nslots;
    b->slots = slots;
    b->nslots = nslots;
    for (size_t i = 0; i < before; i++)
        if (old[i].word) {
            const char *w = (const char *) b->words.data + old[i].word - 1;
            *s_slot_of(b, w, strlen(w)) = old[i];
        }
    free(old);
    return 1;
}

/*  Adds the posting of word for the status id. */
static void
s_batch_post(s_batch *b, const char *word, size_t len, const uint8_t *id)
{
    if (b->nomem || (b->nomem = !s_batch_grow(b)))
        return;
    s_slot *slot = s_slot_of(b, word, len);
    if (slot->word && memcmp(b->ids[slot->tail].b, id, S_ID) == 0)
        return; /* a word said twice */
    uint32_t at = (uint32_t) b->n++;
    memcpy(b->ids[at].b, id, S_ID);
    b->next[at] = UINT32_MAX;
    if (slot->word)
        b->next[slot->tail] = at;
    else {
        *slot = (s_slot){(uint32_t) b->words.len + 1, at, at};
        ru_buf_append(&b->words, word, len + 1);
        b->nwords++;
    }
    slot->tail = at;
}

static void
s_batch_add(s_batch *b, const uint8_t *id, ru_str_t text)
{
    size_t at = 0, n;
    char word[RU_FOLD_WORD_MAX + 1];
    while ((n = ru_fold_word(text.ptr, text.len, &at, word)) > 0)
        s_batch_post(b, word, n, id);
}

/*  Applies the batch (add, or remove one status's words). */
static ru_err
s_batch_write(ru_txn_t *txn, s_batch *b, int add)
{
    ru_err err = b->nomem ? RU_E_NOMEM : ru_buf_status(&b->words);
    s_id *ids = err ? NULL : malloc((b->n + 1) * sizeof *ids);
    MDB_cursor *cur = NULL;
    if (!err && !ids)
        err = RU_E_NOMEM;
    if (!err)
        err = ru_store_err(mdb_cursor_open(txn->txn, ru_store_dbi(txn->store, RU_DB_words), &cur),
                           "words cursor");
    for (size_t i = 0; !err && i < b->nslots; i++) {
        if (!b->slots[i].word)
            continue;
        const char *word = (const char *) b->words.data + b->slots[i].word - 1;
        size_t k = 0;
        for (uint32_t p = b->slots[i].head; p != UINT32_MAX; p = b->next[p])
            ids[k++] = b->ids[p];
        err = s_word_change(cur, word, strlen(word), ids, k, add);
    }
    if (cur)
        mdb_cursor_close(cur);
    free(ids);
    return err;
}

/*  ---------------------------------------------------------------------
 *  Updates
 */

/*  Indexes the older statuses of the tail, down to half its size (at most
 *  S_MERGE_MAX), and moves the mark past them. */
static ru_err
s_merge(ru_txn_t *txn, s_mark *m, s_batch *b)
{
    uint64_t want = m->tail - RU_WORDS_TAIL / 2, taken = 0;
    MDB_cursor *cur;
    if (mdb_cursor_open(txn->txn, ru_store_dbi(txn->store, RU_DB_timeline), &cur) != MDB_SUCCESS)
        return RU_E_STORE;
    MDB_val k = {S_ID, m->id}, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == MDB_SUCCESS && taken < want && taken < S_MERGE_MAX) {
        const uint8_t *key = k.mv_data;
        ru_ref_t ref;
        ru_post_rec_t rec;
        memcpy(ref.origin, key + 8, RU_KEY_BYTES);
        ref.seq = ru_dbkey_get64(key + 8 + RU_KEY_BYTES);
        if (k.mv_size == RU_DBKEY_POS && memcmp(key, m->id, S_ID) > 0) {
            if (ru_post_rec_get(txn, &ref, &rec) == RU_OK)
                s_batch_add(b, key, rec.text);
            memcpy(m->id, key, S_ID);
            taken++;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    m->tail = rc == MDB_SUCCESS ? m->tail - taken : 0; /* at the end: nothing is left above */
    return s_batch_write(txn, b, 1);
}

ru_err
ru_words_update(ru_txn_t *txn, const uint8_t *pos, ru_str_t text, int add)
{
    s_mark m;
    int fresh;
    s_batch b;
    s_batch_init(&b);
    ru_err err = s_mark_get(txn, &m, &fresh);
    int indexed = !err && memcmp(pos, m.id, S_ID) <= 0;
    if (indexed)
        s_batch_add(&b, pos, text);
    if (indexed)
        err = s_batch_write(txn, &b, add);
    else if (!err && !fresh)
        m.tail = add ? m.tail + 1 : m.tail > 0 ? m.tail - 1 : 0;
    if (!err && !indexed && add && m.tail >= RU_WORDS_TAIL)
        err = s_merge(txn, &m, &b);
    if (!err && !indexed)
        err = s_mark_put(txn, &m);
    s_batch_fini(&b);
    return err;
}

/*  ---------------------------------------------------------------------
 *  Walks
 */

/*  One word's postings, walked back from the newest. */
typedef struct {
    MDB_cursor *cur;
    char word[RU_FOLD_WORD_MAX + 1];
    size_t wlen;
    const s_id *ids; /* the current block (a view); NULL when done */
    size_t i;        /* the current id in it */
} s_postings;

struct ru_words_iter {
    ru_txn_t *txn;
    s_mark mark;
    MDB_cursor *tail; /* on the timeline, walking back to the mark */
    MDB_val tail_key; /* mv_data NULL when done */
    s_postings p[RU_WORDS_EXPANSIONS];
    int n;
};

/*  Loads the block under the cursor (op: MDB_PREV, or a positioning one
 *  done already when op is 0); ids NULL when the word has no more. */
static void
s_postings_load(s_postings *p, MDB_val *k, int rc)
{
    MDB_val v;
    if (rc == MDB_SUCCESS)
        rc = mdb_cursor_get(p->cur, k, &v, MDB_GET_CURRENT);
    size_t n = rc == MDB_SUCCESS && s_of_word(k, p->word, p->wlen) ? s_block_ids(&v, &p->ids) : 0;
    p->i = n ? n - 1 : 0;
    if (!n)
        p->ids = NULL;
}

/*  Adds a walk of word (len bytes), from its newest id. */
static ru_err
s_postings_add(ru_words_iter_t *it, const char *word, size_t len)
{
    s_postings *p = &it->p[it->n];
    if (mdb_cursor_open(it->txn->txn, ru_store_dbi(it->txn->store, RU_DB_words), &p->cur) !=
        MDB_SUCCESS)
        return RU_E_STORE;
    it->n++;
    memcpy(p->word, word, len);
    p->word[len] = 1; /* just past every block of word */
    p->wlen = len;
    MDB_val k = {len + 1, p->word}, v;
    int rc = mdb_cursor_get(p->cur, &k, &v, MDB_SET_RANGE);
    rc = mdb_cursor_get(p->cur, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
    p->word[len] = '\0';
    s_postings_load(p, &k, rc);
    return RU_OK;
}

/*  How many postings word has, counting up to S_COUNT_CAP. */
static size_t
s_postings_count(ru_txn_t *txn, const char *word, size_t len)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(txn->txn, ru_store_dbi(txn->store, RU_DB_words), &cur) != MDB_SUCCESS)
        return 0;
    MDB_val k = {len + 1, (void *) word}, v; /* the word and its NUL */
    size_t n = 0;
    const s_id *ids;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == MDB_SUCCESS && n < S_COUNT_CAP && s_of_word(&k, word, len);
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        n += s_block_ids(&v, &ids);
    mdb_cursor_close(cur);
    return n;
}

/*  Walks of every word starting with prefix (the first
 *  RU_WORDS_EXPANSIONS in alphabetical order, the prefix itself first). */
static ru_err
s_postings_expand(ru_words_iter_t *it, const char *prefix, size_t len)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(it->txn->txn, ru_store_dbi(it->txn->store, RU_DB_words), &cur) !=
        MDB_SUCCESS)
        return RU_E_STORE;
    uint8_t seek[RU_FOLD_WORD_MAX + 1];
    MDB_val k = {len, (void *) prefix}, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    ru_err err = RU_OK;
    while (!err && rc == MDB_SUCCESS && it->n < RU_WORDS_EXPANSIONS && k.mv_size > len &&
           memcmp(k.mv_data, prefix, len) == 0) {
        const uint8_t *end = memchr(k.mv_data, 0, k.mv_size);
        size_t wlen = end ? (size_t) (end - (const uint8_t *) k.mv_data) : 0;
        if (wlen == 0 || wlen > RU_FOLD_WORD_MAX)
            break; /* not a words key: a damaged store */
        memcpy(seek, k.mv_data, wlen);
        err = s_postings_add(it, (const char *) seek, wlen);
        seek[wlen] = 1; /* on to the next word */
        k = (MDB_val){wlen + 1, seek};
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }
    mdb_cursor_close(cur);
    return err;
}

/*  Opens the walks that drive a search for t: its rarest whole word, or
 *  the words its only, unfinished, word may be. */
static ru_err
s_postings_open(ru_words_iter_t *it, const ru_fold_terms_t *t)
{
    if (t->n == 1)
        return s_postings_expand(it, t->w[0], t->len[0]);
    int best = 0;
    size_t fewest = SIZE_MAX;
    for (int i = 0; i < t->n - 1; i++) {
        size_t n = s_postings_count(it->txn, t->w[i], t->len[i]);
        if (n < fewest) {
            fewest = n;
            best = i;
        }
    }
    return s_postings_add(it, t->w[best], t->len[best]);
}

/*  The newest id left in the walks, into id (each once); 0 when none. */
static int
s_postings_next(ru_words_iter_t *it, uint8_t *id)
{
    int best = -1;
    for (int i = 0; i < it->n; i++)
        if (it->p[i].ids && (best < 0 || memcmp(it->p[i].ids[it->p[i].i].b,
                                                it->p[best].ids[it->p[best].i].b, S_ID) > 0))
            best = i;
    if (best < 0)
        return 0;
    memcpy(id, it->p[best].ids[it->p[best].i].b, S_ID);
    for (int i = 0; i < it->n; i++) {
        s_postings *p = &it->p[i];
        if (!p->ids || memcmp(p->ids[p->i].b, id, S_ID) != 0)
            continue;
        if (p->i > 0) {
            p->i--;
            continue;
        }
        MDB_val k, v;
        s_postings_load(p, &k, mdb_cursor_get(p->cur, &k, &v, MDB_PREV));
    }
    return 1;
}

/*  Starts the walk of the tail from the newest status. */
static ru_err
s_tail_open(ru_words_iter_t *it)
{
    if (mdb_cursor_open(it->txn->txn, ru_store_dbi(it->txn->store, RU_DB_timeline), &it->tail) !=
        MDB_SUCCESS)
        return RU_E_STORE;
    MDB_val v;
    if (mdb_cursor_get(it->tail, &it->tail_key, &v, MDB_LAST) != MDB_SUCCESS)
        it->tail_key.mv_data = NULL;
    return RU_OK;
}

/*  The next status of the tail: 1 and *ref, or 0 once past the mark. */
static int
s_tail_next(ru_words_iter_t *it, ru_ref_t *ref)
{
    const uint8_t *key = it->tail_key.mv_data;
    if (!key || it->tail_key.mv_size != RU_DBKEY_POS || memcmp(key, it->mark.id, S_ID) <= 0)
        return 0;
    memcpy(ref->origin, key + 8, RU_KEY_BYTES);
    ref->seq = ru_dbkey_get64(key + 8 + RU_KEY_BYTES);
    MDB_val v;
    if (mdb_cursor_get(it->tail, &it->tail_key, &v, MDB_PREV) != MDB_SUCCESS)
        it->tail_key.mv_data = NULL;
    return 1;
}

ru_err
ru_words_iter_new(ru_txn_t *txn, const ru_fold_terms_t *t, ru_words_iter_t **out)
{
    ru_words_iter_t *it = calloc(1, sizeof *it);
    if (!it)
        return RU_E_NOMEM;
    it->txn = txn;
    int fresh;
    ru_err err = s_mark_get(txn, &it->mark, &fresh);
    if (!err)
        err = s_tail_open(it);
    if (!err)
        err = s_postings_open(it, t);
    if (err)
        ru_words_iter_destroy(&it);
    *out = it;
    return err;
}

int
ru_words_iter_next(ru_words_iter_t *self, ru_ref_t *ref)
{
    if (s_tail_next(self, ref))
        return 1;
    uint8_t id[S_ID];
    while (s_postings_next(self, id))
        if (ru_pubid_status_ref(self->txn, id, ref) == RU_OK)
            return 1;
    return 0;
}

void
ru_words_iter_destroy(ru_words_iter_t **self_p)
{
    ru_words_iter_t *self = *self_p;
    if (!self)
        return;
    if (self->tail)
        mdb_cursor_close(self->tail);
    for (int i = 0; i < self->n; i++)
        mdb_cursor_close(self->p[i].cur);
    free(self);
    *self_p = NULL;
}
