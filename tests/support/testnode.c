/*  testnode.c - a node without threads, for tests (see testnode.h). */
#include "testnode.h"

#include <stdio.h>
#include <string.h>

#include "ru_account.h"
#include "ru_schema.h"
#include "testdir.h"

#define MIB (1024u * 1024u)

/*  "paris" and "nozay", for mentions. */
static int
s_resolve(void *ctx, const char *site, uint8_t *key)
{
    const testnode_t *t = ctx;
    const ru_key_t *k = strcmp(site, "paris") == 0   ? t->node.key
                        : strcmp(site, "nozay") == 0 ? t->nozay
                                                     : NULL;
    if (k)
        memcpy(key, ru_key_public(k), RU_KEY_BYTES);
    return k != NULL;
}

/*  Creates the local account name; 0 on success. */
static int
s_user(testnode_t *t, const char *name)
{
    ru_txn_t txn;
    if (ru_store_write(t->node.store, &txn) != RU_OK)
        return -1;
    if (ru_account_create(&txn, name, "x", 0, 1) != RU_OK) {
        ru_txn_abort(&txn);
        return -1;
    }
    return ru_txn_commit(&txn) == RU_OK ? 0 : -1;
}

int
testnode_open(testnode_t *t, const char *const *users)
{
    memset(t, 0, sizeof *t);
    if (testdir_make(t->dir, sizeof t->dir) != 0)
        return -1;
    ru_config_defaults(&t->node.cfg);
    snprintf(t->node.cfg.site, sizeof t->node.cfg.site, "paris");
    snprintf(t->node.public_url, sizeof t->node.public_url, "http://paris.test");
    ru_hlc_init(&t->hlc, RU_HLC_DEFAULT_SKEW_MS);
    if (ru_store_open(t->dir, 8 * MIB, 0, ru_schema_upgrades, &t->node.store) != RU_OK ||
        ru_key_generate(&t->node.key) != RU_OK || ru_key_generate(&t->nozay) != RU_OK ||
        ru_sites_new("paris", ru_key_public(t->node.key), NULL, 0, &t->node.sites) != RU_OK)
        return -1;
    for (; *users; users++)
        if (s_user(t, *users) != 0)
            return -1;
    return 0;
}

void
testnode_close(testnode_t *t)
{
    ru_store_destroy(&t->node.store);
    ru_sites_destroy(&t->node.sites);
    ru_key_destroy(&t->node.key);
    ru_key_destroy(&t->nozay);
    testdir_remove(t->dir);
}

int
testnode_teardown(void **state)
{
    testnode_close(*state);
    return 0;
}

ru_err
testnode_apply(testnode_t *t, ru_update_t *u, int remote)
{
    ru_txn_t txn;
    ru_buf_t out;
    ru_buf_init(&out);
    ru_err err = ru_store_write(t->node.store, &txn);
    if (err)
        return err;
    ru_apply_t ap = {{&txn, ru_key_public(t->node.key), s_resolve, t}, &t->hlc, NULL, NULL, {0, 0}};
    err = ru_apply_local(&ap, remote ? t->nozay : t->node.key, u, &out);
    ru_buf_fini(&out);
    if (err) {
        ru_txn_abort(&txn);
        return err;
    }
    return ru_txn_commit(&txn);
}

ru_err
testnode_make(testnode_t *t, ru_update_t *u, int remote, ru_kind kind, const char *author,
              const char *text, ru_visibility vis, const ru_update_t *target)
{
    ru_update_init(u);
    u->kind = kind;
    u->author = testnode_str(author);
    u->text = testnode_str(text);
    u->visibility = vis;
    if (target) {
        memcpy(u->target.origin, target->origin, RU_KEY_BYTES);
        u->target.seq = target->seq;
    }
    return testnode_apply(t, u, remote);
}

ru_str_t
testnode_str(const char *s)
{
    return (ru_str_t){s, (uint32_t) strlen(s)};
}
