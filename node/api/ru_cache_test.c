/*  ru_cache_test.c - the cache of anonymous answers: a hit only at the
 *  generation it was made, a newer answer never replaced by an older one,
 *  the byte bound kept by dropping the oldest, a hit still readable after
 *  it was replaced or the cache emptied, and many threads at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ru_cache.h"

static ru_cache_entry_t
s_answer(const char *body)
{
    return (ru_cache_entry_t){200, "application/json", "Link: <x>\r\n", (const uint8_t *) body,
                              strlen(body)};
}

static void
test_hit_at_its_generation_only(void **state)
{
    (void) state;
    ru_cache_t *c;
    assert_int_equal(ru_cache_new(1 << 20, &c), RU_OK);
    assert_null(ru_cache_get(c, "/a", 1));
    ru_cache_entry_t a = s_answer("[1]");
    assert_int_equal(ru_cache_put(c, "/a", 1, &a), RU_OK);
    const ru_cache_entry_t *hit = ru_cache_get(c, "/a", 1);
    assert_non_null(hit);
    assert_int_equal(hit->status, 200);
    assert_string_equal(hit->type, "application/json");
    assert_string_equal(hit->headers, "Link: <x>\r\n");
    assert_memory_equal(hit->body, "[1]", 3);
    assert_int_equal(hit->len, 3);
    ru_cache_release(hit);
    assert_null(ru_cache_get(c, "/b", 1));
    assert_null(ru_cache_get(c, "/a", 2)); /* a commit since: stale, and dropped */
    assert_null(ru_cache_get(c, "/a", 1));
    ru_cache_destroy(&c);
    assert_null(c);
}

/*  A worker that rendered before a commit answers after one that rendered
 *  after it: the newer answer stays. */
static void
test_older_never_replaces_newer(void **state)
{
    (void) state;
    ru_cache_t *c;
    assert_int_equal(ru_cache_new(1 << 20, &c), RU_OK);
    ru_cache_entry_t newer = s_answer("[2]"), older = s_answer("[1]");
    assert_int_equal(ru_cache_put(c, "/a", 5, &newer), RU_OK);
    assert_int_equal(ru_cache_put(c, "/a", 4, &older), RU_OK);
    const ru_cache_entry_t *hit = ru_cache_get(c, "/a", 5);
    assert_non_null(hit);
    assert_memory_equal(hit->body, "[2]", 3);
    ru_cache_release(hit);
    ru_cache_destroy(&c);
}

static void
test_bound_drops_oldest(void **state)
{
    (void) state;
    ru_cache_t *c;
    char body[1000], key[32];
    memset(body, 'x', sizeof body - 1);
    body[sizeof body - 1] = 0;
    assert_int_equal(ru_cache_new(20000, &c), RU_OK);
    ru_cache_entry_t a = s_answer(body);
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "/k%d", i);
        assert_int_equal(ru_cache_put(c, key, 1, &a), RU_OK);
    }
    const ru_cache_entry_t *hit = ru_cache_get(c, "/k99", 1);
    assert_non_null(hit); /* the newest stays */
    ru_cache_release(hit);
    assert_null(ru_cache_get(c, "/k0", 1)); /* the oldest went */
    int kept = 0;
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "/k%d", i);
        const ru_cache_entry_t *h = ru_cache_get(c, key, 1);
        kept += h != NULL;
        ru_cache_release(h);
    }
    assert_true(kept >= 10 && kept <= 20); /* about 20000 / 1000 bytes of them */
    char big[6000];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ru_cache_entry_t b = s_answer(big);
    assert_int_equal(ru_cache_put(c, "/big", 1, &b), RU_OK); /* over a quarter */
    assert_null(ru_cache_get(c, "/big", 1));
    ru_cache_destroy(&c);
    assert_int_equal(ru_cache_new(0, &c), RU_OK);
    ru_cache_entry_t empty = s_answer("");
    assert_int_equal(ru_cache_put(c, "/e", 1, &empty), RU_OK);
    assert_null(ru_cache_get(c, "/e", 1)); /* a cache of 0 bytes keeps nothing */
    ru_cache_destroy(&c);
}

/*  A hit handed out stays readable while a newer answer replaces it, the
 *  cache is emptied, or destroyed. */
static void
test_hit_outlives_its_entry(void **state)
{
    (void) state;
    ru_cache_t *c;
    assert_int_equal(ru_cache_new(1 << 20, &c), RU_OK);
    ru_cache_entry_t a = s_answer("[\"first\"]"), b = s_answer("[\"second\"]");
    assert_int_equal(ru_cache_put(c, "/a", 1, &a), RU_OK);
    const ru_cache_entry_t *h1 = ru_cache_get(c, "/a", 1);
    assert_int_equal(ru_cache_put(c, "/a", 2, &b), RU_OK);
    const ru_cache_entry_t *h2 = ru_cache_get(c, "/a", 2);
    ru_cache_clear(c);
    assert_null(ru_cache_get(c, "/a", 2));
    ru_cache_destroy(&c);
    assert_memory_equal(h1->body, "[\"first\"]", 9);
    assert_memory_equal(h2->body, "[\"second\"]", 10);
    ru_cache_release(h1);
    ru_cache_release(h2);
    ru_cache_release(NULL);
}

#define S_THREADS 4
#define S_ROUNDS 20000

static void *
s_hammer(void *arg)
{
    ru_cache_t *c = arg;
    char key[16], body[64];
    for (int i = 0; i < S_ROUNDS; i++) {
        snprintf(key, sizeof key, "/k%d", i % 37);
        uint64_t gen = (uint64_t) (i / 100);
        const ru_cache_entry_t *h = ru_cache_get(c, key, gen);
        if (h) {
            if (h->len == 0 || h->body[0] != '[')
                return "a hit with a broken body";
            ru_cache_release(h);
        } else {
            snprintf(body, sizeof body, "[%d]", i);
            ru_cache_entry_t a = s_answer(body);
            if (ru_cache_put(c, key, gen, &a) != RU_OK)
                return "a put failed";
        }
    }
    return NULL;
}

static void
test_threads(void **state)
{
    (void) state;
    ru_cache_t *c;
    assert_int_equal(ru_cache_new(4096, &c), RU_OK); /* small: evictions all along */
    pthread_t t[S_THREADS];
    for (int i = 0; i < S_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, s_hammer, c), 0);
    for (int i = 0; i < S_THREADS; i++) {
        void *why;
        assert_int_equal(pthread_join(t[i], &why), 0);
        assert_null(why);
    }
    ru_cache_destroy(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_at_its_generation_only),
        cmocka_unit_test(test_older_never_replaces_newer),
        cmocka_unit_test(test_bound_drops_oldest),
        cmocka_unit_test(test_hit_outlives_its_entry),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
