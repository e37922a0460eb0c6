/*  vec_node.h - the receiving node of the stateful vectors (proto/
 *  vectors.json "sequences", PROTOCOL.md section 15): a fresh store and a
 *  site directory of the trusted origins, fed envelopes one at a time as a node takes them from its
 *  peers (section 7's checks, the trust store, then causal delivery, each
 *  envelope in a write transaction of its own), by the node's own modules.
 *  Shared by mkvectors, which writes what it answers, and test_vectors,
 *  which holds the node to the file.
 */
#ifndef VEC_NODE_H
#define VEC_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "ruche/ru_clock.h"
#include "ruche/ru_error.h"
#include "ruche/ru_limits.h"

#include "ru_sites.h"
#include "ru_store.h"

enum { VEC_NODE_MAX_TRUST = 8 };

typedef struct {
    char dir[512];
    ru_store_t *store;
    ru_sites_t *sites; /* its own key and the trusted origins */
} vec_node_t;

/*  What became of one envelope: "applied", "pending" (it waits, or is
 *  held), "duplicate", "fork" (it proves one: section 16) or "refused"
 *  (then error names why, as section 11 spells errors). */
typedef struct {
    const char *result;
    const char *error;
} vec_outcome_t;

/*  Opens a node with an empty store trusting the n origins of trust
 *  (n <= VEC_NODE_MAX_TRUST); 0 on success. */
int vec_node_open(vec_node_t *node, const uint8_t (*trust)[RU_KEY_BYTES], int n);
void vec_node_close(vec_node_t *node);
/*  Takes in one envelope. A store error is returned; a refusal is not. */
RU_MUST_CHECK ru_err vec_node_feed(vec_node_t *node, const uint8_t *wire, size_t len,
                                   vec_outcome_t *out);
/*  The node's clock and the digest its heartbeats carry (section 8.2). */
RU_MUST_CHECK ru_err vec_node_state(vec_node_t *node, ru_clock_t *clock, uint8_t *digest);

#endif
