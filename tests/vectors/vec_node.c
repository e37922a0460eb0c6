/*  vec_node.c - the receiving node of the stateful vectors (see
 *  vec_node.h). Its own key is none of the origins': it makes no update.
 */
#include "vec_node.h"

#include <stdio.h>
#include <string.h>

#include "ruche/ru_update.h"

#include "ru_apply.h"
#include "ru_schema.h"
#include "testdir.h"

#define S_MAP_BYTES (8u * 1024u * 1024u)

static const uint8_t s_self[RU_KEY_BYTES] = {0xee};

int
vec_node_open(vec_node_t *node, const uint8_t (*trust)[RU_KEY_BYTES], int n)
{
    memset(node, 0, sizeof *node);
    if (n > VEC_NODE_MAX_TRUST || testdir_make(node->dir, sizeof node->dir) != 0)
        return -1;
    ru_peer_cfg_t peers[VEC_NODE_MAX_TRUST];
    memset(peers, 0, sizeof peers);
    for (int i = 0; i < n; i++) {
        snprintf(peers[i].site, sizeof peers[i].site, "origin-%d", i);
        memcpy(peers[i].key, trust[i], RU_KEY_BYTES);
    }
    if (ru_sites_new("vectors", s_self, peers, n, &node->sites) != RU_OK)
        return -1;
    return ru_store_open(node->dir, S_MAP_BYTES, 0, ru_schema_upgrades, &node->store) == RU_OK ? 0 : -1;
}

void
vec_node_close(vec_node_t *node)
{
    ru_store_destroy(&node->store);
    ru_sites_destroy(&node->sites);
    if (node->dir[0])
        testdir_remove(node->dir);
}

/*  The refusals of section 7 and of the receiving node's checks. */
static int
s_refusal(ru_err err)
{
    return err != RU_OK && err != RU_E_STORE && err != RU_E_NOMEM && err != RU_E_STORE_FULL &&
           err != RU_E_DISK_FULL;
}

ru_err
vec_node_feed(vec_node_t *node, const uint8_t *wire, size_t len, vec_outcome_t *out)
{
    static const char *const names[] = {
        [RU_APPLY_APPLIED] = "applied",
        [RU_APPLY_PENDING] = "pending",
        [RU_APPLY_DUPLICATE] = "duplicate",
        [RU_APPLY_FORK] = "fork",
    };
    ru_envelope_t env;
    ru_update_t u;
    ru_update_init(&u);
    ru_txn_t txn;
    ru_apply_result how = RU_APPLY_DUPLICATE;
    ru_err err = ru_update_open(wire, len, &env, &u);
    if (!err && !ru_sites_trusted(node->sites, u.origin))
        err = RU_E_UNTRUSTED;
    if (!err)
        err = ru_store_write(node->store, &txn);
    if (!err) {
        ru_apply_t ap = {.state = {.txn = &txn, .self = s_self}};
        err = ru_apply_ingest(&ap, &env, &u, &how);
        if (err)
            ru_txn_abort(&txn);
        else
            err = ru_txn_commit(&txn);
    }
    ru_update_fini(&u);
    *out = (vec_outcome_t){names[how], NULL};
    if (s_refusal(err)) {
        *out = (vec_outcome_t){"refused", ru_err_name(err)};
        err = RU_OK;
    }
    return err;
}

ru_err
vec_node_state(vec_node_t *node, ru_clock_t *clock, uint8_t *digest)
{
    return ru_apply_state(node->store, clock, digest);
}
