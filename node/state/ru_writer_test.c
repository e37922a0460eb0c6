/*  ru_writer_test.c - the store actor: concurrent callers share commits
 *  (group commit) and every acknowledged local update is in the store; a
 *  failing request leaves the others of its batch alone; a request too big
 *  for the store's size limit fails alone while the map grows for the rest;
 *  the listener learns of the committed updates, in order, and of nothing
 *  else, and a removed listener of nothing; a request that applied an
 *  update and then failed, alone or in a batch with others, is neither
 *  told to the listener nor published, and the next local update takes
 *  its seq; while a backup's copy is held open, writes that need more than
 *  the map's first size and reads all go on.
 */
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <czmq.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ru_schema.h"
#include "ru_writer.h"
#include "testdir.h"

#define THREADS 8
#define POSTS 150
#define MIB (1024u * 1024u)
#define WAIT_MS 10000 /* the deadline of every wait */
#define PUBLISHED "inproc://test-writer-published"

static char s_dir[512];
static ru_store_t *s_store;
static ru_key_t *s_key;
static ru_writer_t *s_writer;

static int
s_setup(void **state)
{
    (void) state;
    if (testdir_make(s_dir, sizeof s_dir) || ru_key_generate(&s_key) ||
        ru_store_open(s_dir, MIB, 16 * MIB, ru_schema_upgrades, &s_store) ||
        ru_writer_new(s_store, s_key, NULL, NULL, NULL, &s_writer))
        return -1;
    return 0;
}

static int
s_teardown(void **state)
{
    (void) state;
    ru_writer_destroy(&s_writer);
    assert_null(s_writer);
    ru_store_destroy(&s_store);
    ru_key_destroy(&s_key);
    testdir_remove(s_dir);
    return 0;
}

/*  A request: post text as alice. */
static ru_err
s_post(const ru_writer_ctx_t *ctx, void *arg)
{
    ru_update_t u;
    ru_update_init(&u);
    u.kind = RU_KIND_POST;
    u.author = (ru_str_t){"alice", 5};
    u.text = (ru_str_t){arg, (uint32_t) strlen(arg)};
    ru_buf_t out;
    ru_buf_init(&out);
    ru_err err = ru_apply_local(ctx->apply, ctx->key, &u, &out);
    ru_buf_fini(&out);
    ru_update_fini(&u);
    return err;
}

static void *
s_poster(void *arg)
{
    (void) arg;
    for (int i = 0; i < POSTS; i++)
        if (ru_writer_call(s_writer, s_post, "hello") != RU_OK)
            return (void *) 1;
    return NULL;
}

static uint64_t
s_own_seq(void)
{
    ru_txn_t txn;
    uint64_t seq;
    assert_int_equal(ru_store_read(s_store, &txn), RU_OK);
    assert_int_equal(ru_apply_head(&txn, ru_key_public(s_key), &seq, NULL), RU_OK);
    ru_txn_abort(&txn);
    return seq;
}

static void
test_group_commit(void **state)
{
    (void) state;
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, s_poster, NULL), 0);
    for (int i = 0; i < THREADS; i++) {
        void *failed;
        pthread_join(threads[i], &failed);
        assert_null(failed);
    }
    assert_int_equal(s_own_seq(), THREADS * POSTS);
    unsigned long commits, requests;
    ru_writer_stats(s_writer, &commits, &requests);
    assert_int_equal(requests, THREADS * POSTS);
    assert_true(commits < requests); /* callers shared commits */
}

/*  A request that writes, then fails: its write must vanish. */
static ru_err
s_write_then_fail(const ru_writer_ctx_t *ctx, void *arg)
{
    (void) arg;
    ru_err err = ru_txn_put(ctx->txn, RU_DB_users, "ghost", 5, "x", 1);
    return err ? err : RU_E_INVALID;
}

static void
test_failed_request_leaves_no_trace(void **state)
{
    (void) state;
    uint64_t before = s_own_seq();
    assert_int_equal(ru_writer_call(s_writer, s_write_then_fail, NULL), RU_E_INVALID);
    assert_int_equal(ru_writer_call(s_writer, s_post, "after"), RU_OK);
    ru_txn_t txn;
    MDB_val val;
    assert_int_equal(ru_store_read(s_store, &txn), RU_OK);
    assert_int_equal(ru_txn_get(&txn, RU_DB_users, "ghost", 5, &val), RU_E_NOT_FOUND);
    ru_txn_abort(&txn);
    assert_int_equal(s_own_seq(), before + 1);
}

/*  A request writing 32 MiB: more than the 16 MiB the store may grow to. */
static ru_err
s_huge(const ru_writer_ctx_t *ctx, void *arg)
{
    (void) arg;
    size_t size = 32 * MIB;
    char *big = calloc(1, size);
    if (!big)
        return RU_E_NOMEM;
    ru_err err = ru_txn_put(ctx->txn, RU_DB_users, "huge", 4, big, size);
    free(big);
    return err;
}

static void
test_store_full_fails_alone(void **state)
{
    (void) state;
    uint64_t before = s_own_seq();
    assert_int_equal(ru_writer_call(s_writer, s_huge, NULL), RU_E_STORE_FULL);
    assert_int_equal(ru_writer_call(s_writer, s_post, "still fine"), RU_OK);
    assert_int_equal(s_own_seq(), before + 1);
}

/*  What the listener heard: the seqs of the refs, in order. */
static uint64_t s_heard[16];
static size_t s_nheard;

static void
s_listener(void *ctx, const ru_ref_t *refs, size_t n)
{
    assert_ptr_equal(ctx, &s_nheard);
    for (size_t i = 0; i < n && s_nheard < 16; i++) {
        assert_memory_equal(refs[i].origin, ru_key_public(s_key), RU_KEY_BYTES);
        s_heard[s_nheard++] = refs[i].seq;
    }
}

static void
test_listener(void **state)
{
    (void) state;
    uint64_t before = s_own_seq();
    ru_writer_listen(s_writer, s_listener, &s_nheard);
    assert_int_equal(ru_writer_call(s_writer, s_post, "one"), RU_OK);
    assert_int_equal(ru_writer_call(s_writer, s_write_then_fail, NULL), RU_E_INVALID);
    assert_int_equal(ru_writer_call(s_writer, s_post, "two"), RU_OK);
    ru_writer_listen(s_writer, NULL, NULL);
    assert_int_equal(ru_writer_call(s_writer, s_post, "unheard"), RU_OK);
    assert_int_equal(s_nheard, 2); /* heard by the time each call returned */
    assert_int_equal(s_heard[0], before + 1);
    assert_int_equal(s_heard[1], before + 2);
}

/*  A request that applies a local post, then fails: its update must
 *  vanish with its child transaction. */
static ru_err
s_post_then_fail(const ru_writer_ctx_t *ctx, void *arg)
{
    ru_err err = s_post(ctx, arg);
    return err ? err : RU_E_INVALID;
}

/*  A writer of its own, on a new store, publishing to a PULL bound here. */
typedef struct {
    char dir[512];
    ru_store_t *store;
    ru_writer_t *writer;
    zsock_t *published;
} s_publishing;

static int
s_publishing_setup(void **state)
{
    s_publishing *t = calloc(1, sizeof *t);
    *state = t;
    if (!t || testdir_make(t->dir, sizeof t->dir) ||
        ru_store_open(t->dir, MIB, 16 * MIB, ru_schema_upgrades, &t->store) ||
        !(t->published = zsock_new_pull("@" PUBLISHED)))
        return -1;
    zsock_set_rcvtimeo(t->published, WAIT_MS);
    return ru_writer_new(t->store, s_key, NULL, NULL, PUBLISHED, &t->writer) ? -1 : 0;
}

static int
s_publishing_teardown(void **state)
{
    s_publishing *t = *state;
    if (!t)
        return 0;
    ru_writer_destroy(&t->writer);
    zsock_destroy(&t->published);
    ru_store_destroy(&t->store);
    if (t->dir[0])
        testdir_remove(t->dir);
    free(t);
    return 0;
}

/*  The next update the writer published: its seq and text. */
static void
s_next_published(zsock_t *published, uint64_t *seq, char *text, size_t size)
{
    zframe_t *f = zframe_recv(published);
    assert_non_null(f); /* within WAIT_MS */
    ru_envelope_t env;
    ru_update_t u;
    ru_update_init(&u);
    assert_int_equal(ru_update_open(zframe_data(f), zframe_size(f), &env, &u), RU_OK);
    assert_memory_equal(u.origin, ru_key_public(s_key), RU_KEY_BYTES);
    assert_true(u.text.len < size);
    memcpy(text, u.text.ptr, u.text.len);
    text[u.text.len] = '\0';
    *seq = u.seq;
    ru_update_fini(&u);
    zframe_destroy(&f);
}

/*  Polls cond(arg) until it is true: 1, or 0 once WAIT_MS have passed. */
static int
s_wait_until(int (*cond)(void *), void *arg)
{
    for (int64_t deadline = zclock_mono() + WAIT_MS; !cond(arg);) {
        if (zclock_mono() >= deadline)
            return 0;
        zclock_sleep(1);
    }
    return 1;
}

static int
s_is_set(void *flag)
{
    return atomic_load((atomic_int *) flag);
}

/*  A request that holds the writer until the test opens it, so that the
 *  requests queued meanwhile make one batch. */
static atomic_int s_gate_entered, s_gate_open;

static ru_err
s_gate(const ru_writer_ctx_t *ctx, void *arg)
{
    (void) ctx;
    (void) arg;
    atomic_store(&s_gate_entered, 1);
    return s_wait_until(s_is_set, &s_gate_open) ? RU_OK : RU_E_INVALID;
}

/*  ru_writer_call() on a thread of its own. */
typedef struct {
    ru_writer_t *writer;
    ru_writer_fn fn;
    void *arg;
    ru_err result;
    pthread_t thread;
} s_call;

static void *
s_caller(void *arg)
{
    s_call *c = arg;
    c->result = ru_writer_call(c->writer, c->fn, c->arg);
    return NULL;
}

/*  n requests wait in the writer's queue. */
typedef struct {
    ru_writer_t *writer;
    size_t n;
} s_queue;

static int
s_has_queued(void *arg)
{
    s_queue *q = arg;
    return ru_writer_queued(q->writer) == q->n;
}

/*  Runs calls[0..n) as one batch, queued in that order behind a gate. */
static void
s_one_batch(ru_writer_t *writer, s_call *calls, int n)
{
    unsigned long commits, before, requests;
    ru_writer_stats(writer, &before, &requests);
    s_call gate = {writer, s_gate, NULL, RU_OK, 0};
    atomic_store(&s_gate_entered, 0);
    atomic_store(&s_gate_open, 0);
    assert_int_equal(pthread_create(&gate.thread, NULL, s_caller, &gate), 0);
    int queued = s_wait_until(s_is_set, &s_gate_entered), started = 0;
    for (int i = 0; i < n && queued; i++) { /* no assert until every thread is joined */
        s_queue q = {writer, (size_t) i + 1};
        calls[i].writer = writer;
        queued = pthread_create(&calls[i].thread, NULL, s_caller, &calls[i]) == 0;
        started += queued;
        queued = queued && s_wait_until(s_has_queued, &q);
    }
    atomic_store(&s_gate_open, 1);
    pthread_join(gate.thread, NULL);
    for (int i = 0; i < started; i++)
        pthread_join(calls[i].thread, NULL);
    assert_true(queued);
    assert_int_equal(gate.result, RU_OK);
    ru_writer_stats(writer, &commits, &requests);
    assert_int_equal(commits, before + 2); /* the gate's batch, then theirs */
}

static void
test_failed_update_untold(void **state)
{
    s_publishing *t = *state;
    uint64_t seq;
    char text[32];
    s_nheard = 0;
    ru_writer_listen(t->writer, s_listener, &s_nheard);

    s_call batch[] = {{.fn = s_post, .arg = "one"},
                      {.fn = s_post_then_fail, .arg = "failed in a batch"},
                      {.fn = s_post, .arg = "two"}};
    s_one_batch(t->writer, batch, 3);
    assert_int_equal(batch[0].result, RU_OK);
    assert_int_equal(batch[1].result, RU_E_INVALID);
    assert_int_equal(batch[2].result, RU_OK);
    assert_int_equal(s_nheard, 2);
    assert_int_equal(s_heard[0], 1);
    assert_int_equal(s_heard[1], 2);
    s_next_published(t->published, &seq, text, sizeof text);
    assert_int_equal(seq, 1);
    assert_string_equal(text, "one");
    s_next_published(t->published, &seq, text, sizeof text);
    assert_int_equal(seq, 2); /* the seq the failed one had */
    assert_string_equal(text, "two");

    assert_int_equal(ru_writer_call(t->writer, s_post_then_fail, "failed alone"), RU_E_INVALID);
    assert_int_equal(s_nheard, 2);
    assert_int_equal(ru_writer_call(t->writer, s_post, "three"), RU_OK);
    assert_int_equal(s_nheard, 3);
    assert_int_equal(s_heard[2], 3);
    /*  Published in order on one pipe: had the failed one been, it would
     *  come first. */
    s_next_published(t->published, &seq, text, sizeof text);
    assert_int_equal(seq, 3);
    assert_string_equal(text, "three");
    ru_writer_listen(t->writer, NULL, NULL);
}

/*  A backup: the store copied into a pipe that nobody reads yet. */
typedef struct {
    int fd;
    ru_err err;
} s_copy;

static void *
s_copier(void *arg)
{
    s_copy *c = arg;
    c->err = ru_store_copy(s_store, c->fd);
    close(c->fd);
    return NULL;
}

/*  A request writing 256 KiB under the key "fill<arg>". */
static ru_err
s_fill(const ru_writer_ctx_t *ctx, void *arg)
{
    static char block[256 * 1024];
    char key[16];
    snprintf(key, sizeof key, "fill%d", *(const int *) arg);
    return ru_txn_put(ctx->txn, RU_DB_users, key, strlen(key), block, sizeof block);
}

/*  Writes 4 MiB (the map opened at 1 MiB) and reads after each write. */
static atomic_int s_writes_done;

static void *
s_writer_and_reader(void *arg)
{
    (void) arg;
    for (int i = 0; i < 16; i++) {
        ru_txn_t txn;
        MDB_val val;
        if (ru_writer_call(s_writer, s_fill, &i) != RU_OK || ru_store_read(s_store, &txn) != RU_OK)
            return (void *) 1;
        ru_err err = ru_txn_get(&txn, RU_DB_users, "fill0", 5, &val);
        ru_txn_abort(&txn);
        if (err)
            return (void *) 1;
    }
    atomic_store(&s_writes_done, 1);
    return NULL;
}

/*  A new store, its map at its first size (the earlier tests grew theirs). */
static int
s_fresh(void **state)
{
    return s_teardown(state) || s_setup(state);
}

static void
test_backup_never_stalls_writes(void **state)
{
    (void) state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fcntl(fds[1], F_SETPIPE_SZ, 4096);
    s_copy copy = {fds[1], RU_OK};
    pthread_t copier, worker;
    assert_int_equal(pthread_create(&copier, NULL, s_copier, &copy), 0);
    struct pollfd started = {fds[0], POLLIN, 0};
    assert_int_equal(poll(&started, 1, 10000), 1); /* the copy has begun, and waits */
    assert_int_equal(pthread_create(&worker, NULL, s_writer_and_reader, NULL), 0);
    int done = s_wait_until(s_is_set, &s_writes_done);
    char buf[65536];
    size_t copied = 0;
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) /* now the backup may end */
        copied += (size_t) n;
    close(fds[0]);
    void *failed;
    pthread_join(worker, &failed);
    pthread_join(copier, NULL);
    assert_true(done); /* every write and read answered while the copy was held */
    assert_null(failed);
    assert_int_equal(copy.err, RU_OK);
    assert_true(copied > 4096);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_commit),
        cmocka_unit_test(test_failed_request_leaves_no_trace),
        cmocka_unit_test(test_store_full_fails_alone),
        cmocka_unit_test(test_listener),
        cmocka_unit_test_setup_teardown(test_failed_update_untold, s_publishing_setup,
                                        s_publishing_teardown),
        cmocka_unit_test_setup(test_backup_never_stalls_writes, s_fresh),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
