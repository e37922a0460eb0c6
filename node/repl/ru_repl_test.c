/*  ru_repl_test.c - three replicating nodes in one process.
 *
 *  Each node has its real store (in a directory of its own), its real
 *  store actor, site directory and replication actor, peered with the two
 *  others over CURVE on loopback TCP, as ruched wires them; they share the
 *  process's ZAP handler (ru_admit.h) and publish on inproc endpoints of
 *  their own. One update is made at each node; all three must converge
 *  (equal clocks holding the three, equal state digests) within a
 *  deadline. Then one node's actor is stopped, the two others each make
 *  one more, and the node's actor, started again, catches up.
 *
 *  Built and registered as the CTest test repl_inproc by
 *  node/CMakeLists.txt (a cmocka executable beside the module it
 *  tests, linked against ruche_node). It waits for conditions with a
 *  deadline, never for a fixed time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <czmq.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ru_apply.h"
#include "ru_repl.h"
#include "ru_schema.h"
#include "ru_sites.h"
#include "ru_writer.h"
#include "testdir.h"

#define S_NODES 3
#define S_DEADLINE_MS 15000
#define S_MIB (1024u * 1024u)

typedef struct {
    char dir[512];
    char publish[64];
    ru_config_t cfg;
    ru_key_t *key;
    ru_store_t *store;
    ru_sites_t *sites;
    ru_writer_t *writer;
    ru_repl_t *repl;
} s_node;

static s_node s_nodes[S_NODES];

/*  A TCP port of loopback that nobody listens on now. */
static int
s_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *) &a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/*  Node i's configuration: fast heartbeats and anti-entropy, the others
 *  as direct peers. */
static void
s_configure(int i)
{
    ru_config_t *cfg = &s_nodes[i].cfg;
    ru_config_defaults(cfg);
    snprintf(cfg->site, sizeof cfg->site, "site-%c", 'a' + i);
    snprintf(cfg->pub_bind, sizeof cfg->pub_bind, "tcp://127.0.0.1:%d", s_free_port());
    snprintf(cfg->sync_bind, sizeof cfg->sync_bind, "tcp://127.0.0.1:%d", s_free_port());
    cfg->heartbeat_ms = 100;
    cfg->anti_entropy_s = 1;
    cfg->verify_threads = 1;
}

static void
s_peer(int i, int j)
{
    ru_config_t *cfg = &s_nodes[i].cfg;
    ru_peer_cfg_t *p = &cfg->peers[cfg->n_peers++];
    snprintf(p->site, sizeof p->site, "%s", s_nodes[j].cfg.site);
    memcpy(p->key, ru_key_public(s_nodes[j].key), RU_KEY_BYTES);
    p->has_key = 1;
    snprintf(p->pub, sizeof p->pub, "%s", s_nodes[j].cfg.pub_bind);
    snprintf(p->sync, sizeof p->sync, "%s", s_nodes[j].cfg.sync_bind);
}

/*  Starts node i's replication actor, again for up to the deadline: the
 *  ports of an actor just stopped are let go by ZeroMQ shortly after. */
static void
s_start_repl(int i)
{
    s_node *n = &s_nodes[i];
    ru_repl_ctx_t ctx = {&n->cfg, n->key, n->store, n->writer, n->sites, NULL, n->publish};
    int64_t until = zclock_mono() + S_DEADLINE_MS;
    while (ru_repl_new(&ctx, &n->repl) != RU_OK && zclock_mono() < until)
        zclock_sleep(50);
    assert_non_null(n->repl);
}

static int
s_setup(void **state)
{
    (void) state;
    for (int i = 0; i < S_NODES; i++) {
        s_node *n = &s_nodes[i];
        assert_int_equal(testdir_make(n->dir, sizeof n->dir), 0);
        assert_int_equal(ru_key_generate(&n->key), RU_OK);
        assert_int_equal(ru_store_open(n->dir, 8 * S_MIB, 0, ru_schema_upgrades, &n->store), RU_OK);
        snprintf(n->publish, sizeof n->publish, "inproc://ru-repl-test-publish-%d", i);
        s_configure(i);
    }
    for (int i = 0; i < S_NODES; i++) {
        s_node *n = &s_nodes[i];
        for (int j = 0; j < S_NODES; j++)
            if (j != i)
                s_peer(i, j);
        assert_int_equal(ru_sites_new(n->cfg.site, ru_key_public(n->key), n->cfg.peers,
                                      n->cfg.n_peers, &n->sites),
                         RU_OK);
        assert_int_equal(
            ru_writer_new(n->store, n->key, ru_sites_key, n->sites, n->publish, &n->writer), RU_OK);
        s_start_repl(i);
    }
    return 0;
}

static int
s_teardown(void **state)
{
    (void) state;
    for (int i = 0; i < S_NODES; i++) {
        s_node *n = &s_nodes[i];
        ru_repl_destroy(&n->repl);
        ru_writer_destroy(&n->writer);
        ru_sites_destroy(&n->sites);
        ru_store_destroy(&n->store);
        ru_key_destroy(&n->key);
        testdir_remove(n->dir);
    }
    return 0;
}

typedef struct {
    ru_update_t *u;
    ru_buf_t out;
} s_local;

static ru_err
s_local_request(const ru_writer_ctx_t *ctx, void *arg)
{
    s_local *l = arg;
    ru_buf_reset(&l->out);
    return ru_apply_local(ctx->apply, ctx->key, l->u, &l->out);
}

/*  A post by ann at node i. */
static void
s_post(int i, const char *text)
{
    ru_update_t u;
    ru_update_init(&u);
    u.kind = RU_KIND_POST;
    u.author = (ru_str_t){"ann", 3};
    u.text = (ru_str_t){text, (uint32_t) strlen(text)};
    s_local l = {&u, {0}};
    ru_buf_init(&l.out);
    assert_int_equal(ru_writer_call(s_nodes[i].writer, s_local_request, &l), RU_OK);
    ru_buf_fini(&l.out);
    ru_update_fini(&u);
}

/*  Node i's clock and state digest. */
static void
s_state(int i, ru_clock_t *clock, uint8_t *digest)
{
    ru_txn_t txn;
    assert_int_equal(ru_store_read(s_nodes[i].store, &txn), RU_OK);
    assert_int_equal(ru_apply_clock(&txn, clock), RU_OK);
    assert_int_equal(ru_txn_digest(&txn, digest), RU_OK);
    ru_txn_abort(&txn);
}

/*  Do the nodes hold equal clocks and state digests, with seqs of every
 *  origin for every node (at least each origin's seqs[i])? */
static int
s_converged(const uint64_t *seqs)
{
    ru_clock_t first, clock;
    ru_clock_init(&first);
    ru_clock_init(&clock);
    uint8_t d0[RU_HASH_BYTES], d[RU_HASH_BYTES];
    s_state(0, &first, d0);
    int same = 1;
    for (int j = 0; j < S_NODES; j++)
        same &= ru_clock_get(&first, ru_key_public(s_nodes[j].key)) >= seqs[j];
    for (int i = 1; i < S_NODES && same; i++) {
        ru_clock_fini(&clock);
        ru_clock_init(&clock);
        s_state(i, &clock, d);
        same = ru_clock_compare(&first, &clock) == RU_CLOCK_EQUAL && memcmp(d0, d, sizeof d) == 0;
    }
    ru_clock_fini(&first);
    ru_clock_fini(&clock);
    return same;
}

static void
s_wait_converged(const uint64_t *seqs)
{
    int64_t until = zclock_mono() + S_DEADLINE_MS;
    while (!s_converged(seqs) && zclock_mono() < until)
        zclock_sleep(20);
    assert_true(s_converged(seqs));
}

static void
test_converge_and_catch_up(void **state)
{
    (void) state;
    for (int i = 0; i < S_NODES; i++)
        s_post(i, "hello from one site");
    s_wait_converged((const uint64_t[S_NODES]){1, 1, 1});

    ru_repl_destroy(&s_nodes[2].repl);
    s_post(0, "while site-c is away");
    s_post(1, "while site-c is away, too");
    s_start_repl(2);
    s_wait_converged((const uint64_t[S_NODES]){2, 2, 1});
}

int
main(void)
{
    zsys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_converge_and_catch_up, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
