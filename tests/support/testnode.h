/*  testnode.h - a node's store, key and configuration, without its
 *  threads, for tests of what the state machine derives (notifications,
 *  search): updates are applied in write transactions of the test's own,
 *  as the store actor would, and read back through views.
 *
 *  The node is site "paris"; a second key stands for the site "nozay",
 *  whose updates the test makes as if they had been replicated.
 */
#ifndef TESTNODE_H
#define TESTNODE_H

#include "ru_apply.h"
#include "ru_node.h"

typedef struct {
    char dir[512];
    ru_node_t node;
    ru_key_t *nozay;
    ru_hlc_t hlc;
} testnode_t;

/*  Opens a fresh node in a new directory with the local accounts named in
 *  users (a NULL-terminated list); 0 on success. */
int testnode_open(testnode_t *t, const char *const *users);
/*  Closes it and removes the directory. */
void testnode_close(testnode_t *t);
/*  testnode_close(*state), as a cmocka teardown. */
int testnode_teardown(void **state);
/*  Applies u, made at nozay when remote, else here, in a transaction of
 *  its own (mentions of @x@paris and @x@nozay resolve). */
ru_err testnode_apply(testnode_t *t, ru_update_t *u, int remote);
/*  Initializes u as an update of kind by author with text and vis, about
 *  target's update when target is not NULL, and applies it. */
ru_err testnode_make(testnode_t *t, ru_update_t *u, int remote, ru_kind kind, const char *author,
                     const char *text, ru_visibility vis, const ru_update_t *target);
/*  A C string as an ru_str_t. */
ru_str_t testnode_str(const char *s);

#endif
