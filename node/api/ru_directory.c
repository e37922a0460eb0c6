/*  ru_directory.c - finding people (see ru_directory.h).
 *
 *  A search runs in two steps. Candidates are read from the people index
 *  under the query's narrowest word (each word's entries are counted, up
 *  to the fewest seen so far: a filter's words under their kind, a word of
 *  q under every kind), at most max_candidates entries, and sorted so
 *  that each user is looked at once. Each candidate's profile is then read
 *  and checked against the whole query, which also ranks it. A browse (no
 *  query) reads the profiles in their database's order and stops once the
 *  page is full.
 */
#include "ru_directory.h"

#include <stdlib.h>
#include <string.h>

#include "ru_dbkey.h"
#include "ru_entity.h"
#include "ru_fold.h"
#include "ru_search.h"

#define S_FILTERS 5     /* title, department, site, office, skill */
#define S_SKILL_SCORE 10
#define S_WORK_SCORE 3
#define S_MAX_POSTS 20  /* the most one person's statuses add to a help score */

typedef struct {
    uint8_t key[RU_DBKEY_USER]; /* home | name | 0 */
    uint8_t len;
    uint8_t rank;   /* searches: 0 user name, 1 display name, 2 skill, 3 title, 4 other */
    uint8_t local;  /* of this site */
    uint16_t posts; /* help: statuses tagged with the subject */
    uint8_t skill;  /* help: the subject's words found among the skills */
    uint8_t work;   /* help: the others found in the title or department */
    long score;     /* help */
} s_hit;

typedef struct {
    const ru_view_t *v;
    const ru_directory_query_t *q;
    ru_fold_terms_t t; /* q, or help */
    ru_fold_terms_t f[S_FILTERS];
    int has_f[S_FILTERS];
    s_hit *hits;
    size_t n, cap;
    long read;     /* index entries read */
    long tag_read; /* tagged statuses read */
    ru_err err;
} s_dir;

/*  The filters in the order their kinds are tried as the candidates'
 *  source: the ones that name the fewest people first. */
static const ru_people_kind s_kinds[S_FILTERS] = {RU_PEOPLE_SKILL, RU_PEOPLE_DEPARTMENT,
                                                   RU_PEOPLE_SITE, RU_PEOPLE_OFFICE,
                                                   RU_PEOPLE_TITLE};

static const char *
s_filter_text(const ru_directory_query_t *q, ru_people_kind kind)
{
    switch (kind) {
    case RU_PEOPLE_TITLE:
        return q->title;
    case RU_PEOPLE_DEPARTMENT:
        return q->department;
    case RU_PEOPLE_SITE:
        return q->site;
    case RU_PEOPLE_OFFICE:
        return q->office;
    case RU_PEOPLE_SKILL:
        return q->skill;
    }
    return NULL;
}

/*  Keeps the user key as a candidate (posts: statuses it adds). 1 when the
 *  scan must stop. */
static int
s_candidate(s_dir *d, const uint8_t *user, size_t len, unsigned posts)
{
    if (++d->read > d->q->max_candidates)
        return 1;
    if (len < RU_KEY_BYTES + 2 || len > RU_DBKEY_USER || user[len - 1] != 0)
        return 0;
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 256;
        s_hit *hits = realloc(d->hits, cap * sizeof *hits);
        if (!hits) {
            d->err = RU_E_NOMEM;
            return 1;
        }
        d->hits = hits;
        d->cap = cap;
    }
    s_hit *h = &d->hits[d->n++];
    memset(h, 0, sizeof *h);
    memcpy(h->key, user, len);
    h->len = (uint8_t) len;
    h->posts = (uint16_t) posts;
    return 0;
}

/*  A people entry (term | 0 | user) as a candidate. */
static int
s_people_entry(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    const uint8_t *k = key->mv_data;
    const uint8_t *end = memchr(k, 0, key->mv_size);
    if (!end)
        return 0;
    size_t skip = (size_t) (end - k) + 1;
    return s_candidate(ctx, k + skip, key->mv_size - skip, 0);
}

/*  Candidates whose term of kind (0: names) starts with word. */
static ru_err
s_scan_word(s_dir *d, int kind, const char *word, size_t len)
{
    char prefix[RU_FOLD_WORD_MAX + 2];
    size_t n = 0;
    if (kind)
        prefix[n++] = (char) kind;
    memcpy(prefix + n, word, len);
    ru_err err = ru_txn_scan(d->v->txn, RU_DB_people, prefix, n + len, 0, s_people_entry, d);
    return err ? err : d->err;
}

/*  An entry of the tags index (tag | 0 | hlc | origin | seq): its
 *  status's author, if the status is public and not a group's. */
static int
s_tag_entry(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    s_dir *d = ctx;
    if (key->mv_size < RU_DBKEY_POS)
        return 0;
    const uint8_t *pos = (const uint8_t *) key->mv_data + key->mv_size - RU_DBKEY_POS;
    ru_ref_t ref;
    memcpy(ref.origin, pos + 8, RU_KEY_BYTES);
    ref.seq = ru_dbkey_get64(pos + 8 + RU_KEY_BYTES);
    ru_post_rec_t rec;
    if (++d->tag_read > d->q->help_posts)
        return 1;
    if (ru_post_rec_get(d->v->txn, &ref, &rec) != RU_OK || rec.deleted || rec.has_group ||
        rec.visibility > RU_VIS_UNLISTED)
        return 0;
    uint8_t user[RU_DBKEY_USER];
    size_t len = ru_dbkey_user(user, ref.origin, rec.author);
    return s_candidate(d, user, len, 1);
}

/*  Candidates who posted with each word of the help subject as a tag
 *  (tags are indexed in lower case), newest first. */
static ru_err
s_scan_tags(s_dir *d)
{
    const char *p = d->q->help;
    ru_err err = RU_OK;
    while (!err && *p) {
        while (*p == ' ' || *p == '#' || *p == ',')
            p++;
        char tag[RU_MAX_TAG + 1];
        size_t n = 0;
        for (; *p && *p != ' ' && *p != ',' && n < RU_MAX_TAG; p++)
            tag[n++] = *p >= 'A' && *p <= 'Z' ? (char) (*p - 'A' + 'a') : *p;
        while (*p && *p != ' ' && *p != ',')
            p++; /* longer than a tag: none is */
        tag[n] = 0;
        if (n)
            err = ru_txn_scan(d->v->txn, RU_DB_tags, tag, n + 1, 1, s_tag_entry, d);
    }
    return err ? err : d->err;
}

/*  Counting the entries of a word: how many, stopping past cap. */
typedef struct {
    long n, cap;
} s_count_t;

static int
s_count_entry(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) key;
    (void) val;
    s_count_t *c = ctx;
    return ++c->n > c->cap;
}

/*  The entries of word under kind (0: names), or under every kind when
 *  all; at most cap + 1. */
static long
s_count(s_dir *d, int kind, int all, const char *word, size_t len, long cap)
{
    s_count_t c = {0, cap};
    char prefix[RU_FOLD_WORD_MAX + 2];
    for (int k = all ? 0 : kind; k <= (all ? RU_PEOPLE_SKILL : kind) && c.n <= cap; k++) {
        size_t n = 0;
        if (k)
            prefix[n++] = (char) k;
        memcpy(prefix + n, word, len);
        if (ru_txn_scan(d->v->txn, RU_DB_people, prefix, n + len, 0, s_count_entry, &c) != RU_OK)
            return cap + 1;
    }
    return c.n;
}

/*  A search's candidates: those of its narrowest word, found by counting
 *  each word's entries up to the fewest seen so far (a filter's word
 *  under its kind, a word of q under every kind). */
static ru_err
s_search_candidates(s_dir *d)
{
    const char *best = NULL;
    size_t best_len = 0;
    int best_kind = 0, best_all = 0;
    long fewest = d->q->max_candidates;
    for (int i = 0; i < S_FILTERS; i++)
        for (int w = 0; d->has_f[i] && w < d->f[i].n; w++) {
            long n = s_count(d, s_kinds[i], 0, d->f[i].w[w], d->f[i].len[w], fewest);
            if (!best || n < fewest) {
                best = d->f[i].w[w], best_len = d->f[i].len[w], best_kind = s_kinds[i];
                best_all = 0, fewest = n < fewest ? n : fewest;
            }
        }
    for (int w = 0; w < d->t.n; w++) {
        long n = s_count(d, 0, 1, d->t.w[w], d->t.len[w], fewest);
        if (!best || n < fewest) {
            best = d->t.w[w], best_len = d->t.len[w], best_kind = 0, best_all = 1;
            fewest = n < fewest ? n : fewest;
        }
    }
    ru_err err = RU_OK;
    for (int k = best_all ? 0 : best_kind; !err && k <= (best_all ? RU_PEOPLE_SKILL : best_kind);
         k++)
        err = s_scan_word(d, k, best, best_len);
    return err;
}

static ru_err
s_candidates(s_dir *d)
{
    ru_err err = RU_OK;
    if (d->q->help) {
        for (int i = 0; !err && i < d->t.n; i++) {
            err = s_scan_word(d, RU_PEOPLE_SKILL, d->t.w[i], d->t.len[i]);
            if (!err)
                err = s_scan_word(d, RU_PEOPLE_TITLE, d->t.w[i], d->t.len[i]);
            if (!err)
                err = s_scan_word(d, RU_PEOPLE_DEPARTMENT, d->t.w[i], d->t.len[i]);
        }
        return err ? err : s_scan_tags(d);
    }
    return s_search_candidates(d);
}

static int
s_key_cmp(const void *a, const void *b)
{
    const s_hit *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (int) x->len - (int) y->len;
}

/*  Sorts the candidates by key and folds each user's entries into one
 *  (their posts added up). */
static void
s_unique(s_dir *d)
{
    if (d->n)
        qsort(d->hits, d->n, sizeof *d->hits, s_key_cmp);
    size_t out = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (out && s_key_cmp(&d->hits[out - 1], &d->hits[i]) == 0) {
            unsigned posts = d->hits[out - 1].posts + d->hits[i].posts;
            d->hits[out - 1].posts = (uint16_t) (posts > S_MAX_POSTS ? S_MAX_POSTS : posts);
            continue;
        }
        d->hits[out++] = d->hits[i];
    }
    d->n = out;
}

/*  ---------------------------------------------------------------------
 *  Checking and ranking
 */

/*  What a candidate is, read from its profile. */
typedef struct {
    ru_str_t name, display;
    int has_person;
    ru_person_t person;
} s_who;

static ru_str_t
s_field(const s_who *w, ru_people_kind kind)
{
    const ru_person_t *p = &w->person;
    switch (kind) {
    case RU_PEOPLE_TITLE:
        return p->title;
    case RU_PEOPLE_DEPARTMENT:
        return p->department;
    case RU_PEOPLE_SITE:
        return p->site;
    case RU_PEOPLE_OFFICE:
        return p->office;
    case RU_PEOPLE_SKILL:
        break;
    }
    return (ru_str_t){"", 0};
}

/*  The terms of t that w's field kind holds (skills: any of them). */
static unsigned
s_match_kind(const ru_fold_terms_t *t, const s_who *w, ru_people_kind kind)
{
    unsigned found = 0;
    if (kind != RU_PEOPLE_SKILL) {
        ru_str_t f = s_field(w, kind);
        ru_fold_match(t, f.ptr, f.len, 1, &found);
        return found;
    }
    for (uint32_t i = 0; i < w->person.n_skills; i++)
        ru_fold_match(t, w->person.skills[i].ptr, w->person.skills[i].len, 1, &found);
    return found;
}

/*  Reads w for h: a user who never set a profile (one who posted, say) is
 *  their name alone. 0 for a profile that does not read. */
static int
s_read_who(ru_txn_t *txn, const s_hit *h, s_who *w)
{
    MDB_val val;
    ru_profile_rec_t rec = {.display_name = {"", 0}};
    ru_err err = ru_txn_get(txn, RU_DB_profiles, h->key, h->len, &val);
    if (err == RU_OK)
        err = ru_profile_rec_decode(val.mv_data, val.mv_size, &rec);
    if (err != RU_OK && err != RU_E_NOT_FOUND)
        return 0;
    w->name = (ru_str_t){(const char *) h->key + RU_KEY_BYTES,
                         (uint32_t) (h->len - RU_KEY_BYTES - 1)};
    w->display = rec.display_name;
    w->has_person =
        rec.person.len && ru_person_unpack(rec.person.ptr, rec.person.len, &w->person) == RU_OK;
    if (!w->has_person)
        memset(&w->person, 0, sizeof w->person);
    return 1;
}

static int
s_hidden_who(ru_txn_t *txn, const s_hit *h, const s_who *w)
{
    if (!w->has_person)
        return 0;
    uint8_t now[RU_DBKEY_USER];
    return w->person.departed ||
           ru_search_dir_elsewhere(txn, w->person.dir_id, h->key, h->len, now) > 0;
}

int
ru_directory_hidden(ru_txn_t *txn, const uint8_t *user, size_t len)
{
    s_hit h;
    memset(&h, 0, sizeof h);
    s_who w;
    if (len > RU_DBKEY_USER)
        return 0;
    memcpy(h.key, user, len);
    h.len = (uint8_t) len;
    return s_read_who(txn, &h, &w) && s_hidden_who(txn, &h, &w);
}

/*  Does w fit the search, and how well (h->rank)? */
static int
s_search_fits(s_dir *d, s_hit *h, const s_who *w)
{
    for (int i = 0; i < S_FILTERS; i++)
        if (d->has_f[i] && s_match_kind(&d->f[i], w, s_kinds[i]) != ru_fold_all(&d->f[i]))
            return 0;
    if (!d->t.n) {
        h->rank = 4;
        return 1;
    }
    unsigned name = 0, display = 0, skill = 0, title = 0, rest = 0;
    ru_fold_match(&d->t, w->name.ptr, w->name.len, 1, &name);
    ru_fold_match(&d->t, w->display.ptr, w->display.len, 1, &display);
    skill = s_match_kind(&d->t, w, RU_PEOPLE_SKILL);
    title = s_match_kind(&d->t, w, RU_PEOPLE_TITLE);
    rest = s_match_kind(&d->t, w, RU_PEOPLE_DEPARTMENT) | s_match_kind(&d->t, w, RU_PEOPLE_SITE) |
           s_match_kind(&d->t, w, RU_PEOPLE_OFFICE);
    unsigned all = ru_fold_all(&d->t);
    if ((name | display | skill | title | rest) != all)
        return 0;
    h->rank = name == all ? 0 : display == all ? 1 : skill ? 2 : title ? 3 : 4;
    return 1;
}

/*  w's help score (h->score); 0 if nothing speaks for them. */
static long
s_help_score(s_dir *d, s_hit *h, const s_who *w)
{
    unsigned skill = s_match_kind(&d->t, w, RU_PEOPLE_SKILL);
    unsigned work = (s_match_kind(&d->t, w, RU_PEOPLE_TITLE) |
                     s_match_kind(&d->t, w, RU_PEOPLE_DEPARTMENT)) &
                    ~skill;
    h->skill = (uint8_t) __builtin_popcount(skill);
    h->work = (uint8_t) __builtin_popcount(work);
    h->score = S_SKILL_SCORE * h->skill + S_WORK_SCORE * h->work + h->posts;
    return h->score;
}

static int
s_local(const s_dir *d, const s_hit *h)
{
    return memcmp(h->key, ru_key_public(d->v->node->key), RU_KEY_BYTES) == 0;
}

/*  Keeps the candidates that fit the query, ranked. */
static void
s_check(s_dir *d)
{
    size_t out = 0;
    for (size_t i = 0; i < d->n; i++) {
        s_hit *h = &d->hits[i];
        s_who w;
        if ((d->q->local && !s_local(d, h)) || !s_read_who(d->v->txn, h, &w) ||
            s_hidden_who(d->v->txn, h, &w))
            continue;
        h->local = (uint8_t) s_local(d, h);
        if (d->q->help ? s_help_score(d, h, &w) > 0 : s_search_fits(d, h, &w))
            d->hits[out++] = *h;
    }
    d->n = out;
}

static int
s_rank_cmp(const void *a, const void *b)
{
    const s_hit *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->rank != y->rank)
        return x->rank - y->rank;
    if (x->local != y->local)
        return y->local - x->local;
    size_t n = (x->len < y->len ? x->len : y->len) - RU_KEY_BYTES;
    int c = memcmp(x->key + RU_KEY_BYTES, y->key + RU_KEY_BYTES, n);
    return c ? c : s_key_cmp(a, b);
}

/*  ---------------------------------------------------------------------
 *  Answer
 */

static const char *const s_rank_names[] = {"username", "display_name", "skill", "title",
                                           "other"};

static json_t *
s_match(const s_dir *d, const s_hit *h)
{
    if (!d->q->help)
        return json_pack("{s:s}", "rank", s_rank_names[h->rank]);
    return json_pack("{s:I, s:I, s:i, s:i}", "score", (json_int_t) h->score, "posts",
                     (json_int_t) h->posts, "skill", h->skill, "work", h->work);
}

/*  Appends the Account of h, with what matched, to out. */
static ru_err
s_append(const s_dir *d, const s_hit *h, json_t *out)
{
    json_t *j = ru_view_account(d->v, h->key,
                                (ru_str_t){(const char *) h->key + RU_KEY_BYTES,
                                           (uint32_t) (h->len - RU_KEY_BYTES - 1)});
    if (!j)
        return RU_E_NOMEM;
    json_object_set_new(json_object_get(j, "ruche"), "match", s_match(d, h));
    json_array_append_new(out, j);
    return RU_OK;
}

static void
s_terms(const char *text, ru_fold_terms_t *t, int *has)
{
    memset(t, 0, sizeof *t);
    if (text && *text)
        ru_fold_terms(text, strlen(text), t);
    if (has)
        *has = t->n > 0;
}

/*  A browse: every profile in the order of the profiles database (site,
 *  then user name), passing over those hidden, until the page is full;
 *  no more is read than the page needs. */
typedef struct {
    s_dir *d;
    json_t *out;
    long seen;
    ru_err err;
} s_browse_t;

static int
s_browse_entry(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void) val;
    s_browse_t *b = ctx;
    s_hit h;
    s_who w;
    memset(&h, 0, sizeof h);
    if (key->mv_size < RU_KEY_BYTES + 2 || key->mv_size > RU_DBKEY_USER)
        return 0;
    memcpy(h.key, key->mv_data, key->mv_size);
    h.len = (uint8_t) key->mv_size;
    h.rank = 4;
    if (!s_read_who(b->d->v->txn, &h, &w) || s_hidden_who(b->d->v->txn, &h, &w) ||
        b->seen++ < b->d->q->offset)
        return 0;
    b->err = s_append(b->d, &h, b->out);
    return b->err || (long) json_array_size(b->out) >= b->d->q->limit;
}

static ru_err
s_browse(s_dir *d, json_t *out)
{
    s_browse_t b = {d, out, 0, RU_OK};
    const uint8_t *self = ru_key_public(d->v->node->key);
    ru_err err = ru_txn_scan(d->v->txn, RU_DB_profiles, self, d->q->local ? RU_KEY_BYTES : 0, 0,
                             s_browse_entry, &b);
    return err ? err : b.err;
}

ru_err
ru_directory_search(const ru_view_t *v, const ru_directory_query_t *q, json_t *out)
{
    s_dir *d = calloc(1, sizeof *d);
    if (!d)
        return RU_E_NOMEM;
    d->v = v;
    d->q = q;
    s_terms(q->help ? q->help : q->q, &d->t, NULL);
    for (int i = 0; !q->help && i < S_FILTERS; i++)
        s_terms(s_filter_text(q, s_kinds[i]), &d->f[i], &d->has_f[i]);
    int browse = !q->help && !d->t.n;
    for (int i = 0; i < S_FILTERS; i++)
        browse = browse && !d->has_f[i];
    if (browse) {
        ru_err err = s_browse(d, out);
        free(d);
        return err;
    }
    ru_err err = q->help && !d->t.n ? RU_OK : s_candidates(d);
    if (!err) {
        s_unique(d);
        s_check(d);
        if (d->n)
            qsort(d->hits, d->n, sizeof *d->hits, s_rank_cmp);
    }
    for (size_t i = (size_t) q->offset; !err && i < d->n && (long) json_array_size(out) < q->limit;
         i++)
        err = s_append(d, &d->hits[i], out);
    free(d->hits);
    free(d);
    return err;
}
