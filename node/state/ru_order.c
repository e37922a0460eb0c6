/*  ru_order.c - the apply-order index (see ru_order.h).
 *
 *  order: origin | seq -> position (8 bytes, big-endian); meta order_next
 *  holds the position the next applied update gets. Catch-up asks for the
 *  position of one origin's next update at a time (ru_catchup.c), so the
 *  index is keyed by update and needs no reverse: a merge of the origins
 *  the asker lacks, each in seq order, by position, is the apply order.
 *
 *  The upgrade replays causal delivery over the log: one lane per origin
 *  holds the next seq to place and the dependencies of that update, read
 *  once; passes over the lanes place every update whose dependencies are
 *  placed, until a pass places none. A store's log was applied causally,
 *  so that leaves nothing; what it would leave goes last, lane by lane.
 */
#include "ru_order.h"

#include <stdlib.h>
#include <string.h>

#include "ru_dbkey.h"
#include "ru_log.h"

#define S_META_NEXT "order_next"

ru_err
ru_order_note(ru_txn_t *txn, const uint8_t *origin, uint64_t seq)
{
    MDB_val val;
    uint64_t next = 0;
    ru_err err = ru_txn_get(txn, RU_DB_meta, S_META_NEXT, strlen(S_META_NEXT), &val);
    if (err == RU_OK && val.mv_size == 8)
        next = ru_dbkey_get64(val.mv_data);
    else if (err != RU_E_NOT_FOUND)
        return err ? err : RU_E_STORE;
    uint8_t key[RU_DBKEY_REF], pos[8];
    ru_dbkey_be64(pos, next);
    err = ru_txn_put(txn, RU_DB_order, key, ru_dbkey_ref(key, origin, seq), pos, sizeof pos);
    ru_dbkey_be64(pos, next + 1);
    return err ? err
               : ru_txn_put(txn, RU_DB_meta, S_META_NEXT, strlen(S_META_NEXT), pos, sizeof pos);
}

ru_err
ru_order_pos(ru_txn_t *txn, const uint8_t *origin, uint64_t seq, uint64_t *pos)
{
    uint8_t key[RU_DBKEY_REF];
    MDB_val val;
    ru_err err = ru_txn_get(txn, RU_DB_order, key, ru_dbkey_ref(key, origin, seq), &val);
    if (!err && val.mv_size != 8)
        err = RU_E_STORE;
    *pos = err ? UINT64_MAX : ru_dbkey_get64(val.mv_data);
    return err;
}

/*  ---------------------------------------------------------------------
 *  Upgrade
 */

/*  One origin of the log: the next seq to place, up to its head, and the
 *  dependencies of that update once read (loaded). */
typedef struct {
    uint8_t origin[RU_KEY_BYTES];
    uint64_t next, head;
    ru_ref_t *deps;
    uint32_t n_deps, cap;
    int loaded;
    ru_order_deps_fn each_dep;
} s_lane;

static int
s_add_dep(void *ctx, const uint8_t *origin, uint64_t seq)
{
    s_lane *l = ctx;
    if (l->n_deps == l->cap) {
        uint32_t cap = l->cap ? 2 * l->cap : 8;
        ru_ref_t *v = realloc(l->deps, cap * sizeof *v);
        if (!v)
            return 1;
        l->deps = v;
        l->cap = cap;
    }
    memcpy(l->deps[l->n_deps].origin, origin, RU_KEY_BYTES);
    l->deps[l->n_deps++].seq = seq;
    return 0;
}

/*  Reads the dependencies of the lane's next update from the log. An
 *  entry that is missing or does not decode has none but its place in
 *  its origin's chain. */
static ru_err
s_load(ru_txn_t *txn, s_lane *l)
{
    uint8_t key[RU_DBKEY_REF];
    MDB_val val;
    l->n_deps = 0;
    l->loaded = 1;
    ru_err err = ru_txn_get(txn, RU_DB_log, key, ru_dbkey_ref(key, l->origin, l->next), &val);
    if (err)
        return err == RU_E_NOT_FOUND ? RU_OK : err;
    ru_envelope_t env;
    ru_update_t u;
    ru_update_init(&u);
    if (ru_envelope_parse(val.mv_data, val.mv_size, &env) == RU_OK &&
        ru_update_decode(&env, &u) == RU_OK && l->each_dep(&u, s_add_dep, l))
        err = RU_E_NOMEM;
    ru_update_fini(&u);
    return err;
}

static int
s_ready(const ru_clock_t *placed, const s_lane *l)
{
    for (uint32_t i = 0; i < l->n_deps; i++)
        if (ru_clock_get(placed, l->deps[i].origin) < l->deps[i].seq)
            return 0;
    return 1;
}

static ru_err
s_place(ru_txn_t *txn, ru_clock_t *placed, s_lane *l)
{
    ru_err err = ru_order_note(txn, l->origin, l->next);
    if (!err)
        err = ru_clock_set(placed, l->origin, l->next);
    l->next++;
    l->loaded = 0;
    return err;
}

/*  One pass: each lane placed as far as its dependencies allow. */
static ru_err
s_pass(ru_txn_t *txn, ru_clock_t *placed, s_lane *lanes, uint32_t n, int *progress)
{
    ru_err err = RU_OK;
    *progress = 0;
    for (uint32_t i = 0; !err && i < n; i++)
        while (!err && lanes[i].next <= lanes[i].head) {
            if (!lanes[i].loaded && (err = s_load(txn, &lanes[i])) != RU_OK)
                break;
            if (!s_ready(placed, &lanes[i]))
                break;
            err = s_place(txn, placed, &lanes[i]);
            *progress = 1;
        }
    return err;
}

ru_err
ru_order_rebuild(ru_txn_t *txn, const ru_clock_t *heads, ru_order_deps_fn deps)
{
    ru_clock_t placed;
    ru_clock_init(&placed);
    ru_err err = RU_OK;
    s_lane *lanes = calloc(heads->n ? heads->n : 1, sizeof *lanes);
    if (!lanes)
        err = RU_E_NOMEM;
    for (uint32_t i = 0; !err && i < heads->n; i++) {
        memcpy(lanes[i].origin, heads->v[i].origin, RU_KEY_BYTES);
        lanes[i].next = 1;
        lanes[i].head = heads->v[i].seq;
        lanes[i].each_dep = deps;
    }
    int progress = 1;
    while (!err && progress)
        err = s_pass(txn, &placed, lanes, heads->n, &progress);
    uint64_t left = 0;
    for (uint32_t i = 0; !err && i < heads->n; i++)
        while (!err && lanes[i].next <= lanes[i].head) {
            left++;
            err = s_place(txn, &placed, &lanes[i]);
        }
    if (left)
        ru_log_warn("store",
                    "%llu updates of the log placed in seq order: their dependencies "
                    "are not in the log",
                    (unsigned long long) left);
    for (uint32_t i = 0; lanes && i < heads->n; i++)
        free(lanes[i].deps);
    free(lanes);
    ru_clock_fini(&placed);
    return err;
}
