/*  ru_clock.c - vector clocks as sorted arrays of (origin, seq).
 *
 *  Sorted entries make every binary operation (compare, merge, delta) one
 *  linear merge walk over both clocks, and lookups a binary search. Clocks
 *  hold up to a thousand or so sites, so arrays beat any tree here.
 */
#include "ruche/ru_clock.h"

#include <stdlib.h>
#include <string.h>

void
ru_clock_init(ru_clock_t *self)
{
    memset(self, 0, sizeof *self);
}

void
ru_clock_fini(ru_clock_t *self)
{
    free(self->v);
    ru_clock_init(self);
}

/*  Makes room for at least n entries. */
static ru_err
s_reserve(ru_clock_t *self, uint32_t n)
{
    if (n > RU_MAX_CLOCK)
        return RU_E_TOO_MANY;
    if (n <= self->cap)
        return RU_OK;
    uint32_t cap = self->cap ? self->cap : 8;
    while (cap < n)
        cap *= 2;
    if (cap > RU_MAX_CLOCK)
        cap = RU_MAX_CLOCK;
    ru_clock_entry_t *v = realloc(self->v, cap * sizeof *v);
    if (!v)
        return RU_E_NOMEM;
    self->v = v;
    self->cap = cap;
    return RU_OK;
}

ru_err
ru_clock_copy(ru_clock_t *self, const ru_clock_t *other)
{
    if (self == other)
        return RU_OK;
    ru_err err = s_reserve(self, other->n);
    if (err)
        return err;
    if (other->n)
        memcpy(self->v, other->v, other->n * sizeof *self->v);
    self->n = other->n;
    return RU_OK;
}

/*  Index of origin, or of where it would be inserted; *found tells which. */
static uint32_t
s_find(const ru_clock_t *self, const uint8_t *origin, int *found)
{
    uint32_t lo = 0, hi = self->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = memcmp(self->v[mid].origin, origin, RU_KEY_BYTES);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

uint64_t
ru_clock_get(const ru_clock_t *self, const uint8_t *origin)
{
    int found;
    uint32_t i = s_find(self, origin, &found);
    return found ? self->v[i].seq : 0;
}

ru_err
ru_clock_set(ru_clock_t *self, const uint8_t *origin, uint64_t seq)
{
    int found;
    uint32_t i = s_find(self, origin, &found);
    if (found && seq) {
        self->v[i].seq = seq;
    } else if (found) {
        memmove(&self->v[i], &self->v[i + 1], (self->n - i - 1) * sizeof *self->v);
        self->n--;
    } else if (seq) {
        ru_err err = s_reserve(self, self->n + 1);
        if (err)
            return err;
        memmove(&self->v[i + 1], &self->v[i], (self->n - i) * sizeof *self->v);
        memcpy(self->v[i].origin, origin, RU_KEY_BYTES);
        self->v[i].seq = seq;
        self->n++;
    }
    return RU_OK;
}

/*  One step of a merge walk over a and b: the next origin in either, with
 *  its seq in each (0 where absent). Returns 0 when both are exhausted. */
typedef struct {
    const ru_clock_t *a, *b;
    uint32_t i, j;
} s_walk_t;

static int
s_walk_next(s_walk_t *w, const uint8_t **origin, uint64_t *sa, uint64_t *sb)
{
    int has_a = w->i < w->a->n, has_b = w->j < w->b->n;
    if (!has_a && !has_b)
        return 0;
    int c = !has_a ? 1 : !has_b ? -1 : memcmp(w->a->v[w->i].origin, w->b->v[w->j].origin,
                                                RU_KEY_BYTES);
    *sa = c <= 0 ? w->a->v[w->i].seq : 0;
    *sb = c >= 0 ? w->b->v[w->j].seq : 0;
    *origin = c <= 0 ? w->a->v[w->i].origin : w->b->v[w->j].origin;
    if (c <= 0)
        w->i++;
    if (c >= 0)
        w->j++;
    return 1;
}

ru_clock_order
ru_clock_compare(const ru_clock_t *a, const ru_clock_t *b)
{
    s_walk_t w = {a, b, 0, 0};
    const uint8_t *origin;
    uint64_t sa, sb;
    int a_more = 0, b_more = 0;
    while (s_walk_next(&w, &origin, &sa, &sb)) {
        a_more |= sa > sb;
        b_more |= sb > sa;
    }
    if (a_more && b_more)
        return RU_CLOCK_CONCURRENT;
    return a_more ? RU_CLOCK_AFTER : b_more ? RU_CLOCK_BEFORE : RU_CLOCK_EQUAL;
}

int
ru_clock_dominates(const ru_clock_t *a, const ru_clock_t *b)
{
    ru_clock_order o = ru_clock_compare(a, b);
    return o == RU_CLOCK_EQUAL || o == RU_CLOCK_AFTER;
}

/*  out = the entries that pick() keeps from the walk over a and b. */
static ru_err
s_combine(const ru_clock_t *a, const ru_clock_t *b, ru_clock_t *out,
          uint64_t (*pick)(uint64_t sa, uint64_t sb))
{
    ru_clock_t tmp;
    ru_clock_init(&tmp);
    s_walk_t w = {a, b, 0, 0};
    const uint8_t *origin;
    uint64_t sa, sb;
    while (s_walk_next(&w, &origin, &sa, &sb)) {
        uint64_t seq = pick(sa, sb);
        if (!seq)
            continue;
        ru_err err = s_reserve(&tmp, tmp.n + 1);
        if (err) {
            ru_clock_fini(&tmp);
            return err;
        }
        memcpy(tmp.v[tmp.n].origin, origin, RU_KEY_BYTES);
        tmp.v[tmp.n++].seq = seq;
    }
    ru_clock_fini(out);
    *out = tmp;
    return RU_OK;
}

static uint64_t
s_max(uint64_t sa, uint64_t sb)
{
    return sa > sb ? sa : sb;
}

static uint64_t
s_grown(uint64_t prev, uint64_t cur)
{
    return cur > prev ? cur : 0;
}

ru_err
ru_clock_merge(ru_clock_t *self, const ru_clock_t *other)
{
    return s_combine(self, other, self, s_max);
}

ru_err
ru_clock_delta(const ru_clock_t *prev, const ru_clock_t *cur, ru_clock_t *delta)
{
    return s_combine(prev, cur, delta, s_grown);
}

ru_err
ru_clock_apply_delta(ru_clock_t *self, const ru_clock_t *delta)
{
    for (uint32_t k = 0; k < delta->n; k++)
        if (delta->v[k].seq <= ru_clock_get(self, delta->v[k].origin))
            return RU_E_RANGE;
    return ru_clock_merge(self, delta);
}

void
ru_clock_write(const ru_clock_t *self, msgpack_packer *pk)
{
    msgpack_pack_map(pk, self->n);
    for (uint32_t i = 0; i < self->n; i++) {
        msgpack_pack_bin(pk, RU_KEY_BYTES);
        msgpack_pack_bin_body(pk, self->v[i].origin, RU_KEY_BYTES);
        msgpack_pack_uint64(pk, self->v[i].seq);
    }
}

ru_err
ru_clock_read(ru_clock_t *self, ru_mp_t *mp)
{
    ru_mp_t saved = *mp;
    uint32_t n;
    ru_err err = ru_mp_map(mp, &n);
    if (!err && n > RU_MAX_CLOCK)
        err = RU_E_TOO_MANY;
    if (!err)
        err = s_reserve(self, n);
    self->n = 0;
    for (uint32_t i = 0; !err && i < n; i++) {
        ru_clock_entry_t *e = &self->v[i];
        err = ru_mp_bin_exact(mp, e->origin, RU_KEY_BYTES);
        if (!err)
            err = ru_mp_uint(mp, &e->seq);
        if (!err && e->seq == 0)
            err = RU_E_RANGE;
        if (!err && i > 0 && memcmp(self->v[i - 1].origin, e->origin, RU_KEY_BYTES) >= 0)
            err = RU_E_ORDER;
        if (!err)
            self->n = i + 1;
    }
    if (err) {
        self->n = 0;
        *mp = saved;
    }
    return err;
}
