/*  ru_clock_test.c - vector clocks: unit cases, and property tests on random
 *  clocks for the order laws, merge as least upper bound, the delta round
 *  trip and the wire form.
 *
 *  Random clocks come from a fixed-seed generator over a few origins and
 *  small seqs, so that equal, ordered and concurrent pairs all occur often
 *  and a failure replays identically.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "ruche/ru_clock.h"

#define ORIGINS 6
#define ROUNDS 3000

static uint64_t s_rng = 0x9e3779b97f4a7c15u;

static uint64_t
s_rand(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

static void
s_origin(uint8_t *origin, int i)
{
    memset(origin, 0, RU_KEY_BYTES);
    origin[0] = (uint8_t) (0xf0 - 16 * i); /* insertion order != sorted order */
    origin[31] = (uint8_t) i;
}

static void
s_random(ru_clock_t *c)
{
    ru_clock_fini(c);
    for (int i = 0; i < ORIGINS; i++) {
        uint8_t origin[RU_KEY_BYTES];
        s_origin(origin, i);
        assert_int_equal(ru_clock_set(c, origin, s_rand() % 4), RU_OK);
    }
}

/*  The order by definition, entry by entry over every origin in play. */
static ru_clock_order
s_reference_order(const ru_clock_t *a, const ru_clock_t *b)
{
    int a_more = 0, b_more = 0;
    for (int i = 0; i < ORIGINS; i++) {
        uint8_t origin[RU_KEY_BYTES];
        s_origin(origin, i);
        a_more |= ru_clock_get(a, origin) > ru_clock_get(b, origin);
        b_more |= ru_clock_get(b, origin) > ru_clock_get(a, origin);
    }
    if (a_more && b_more)
        return RU_CLOCK_CONCURRENT;
    return a_more ? RU_CLOCK_AFTER : b_more ? RU_CLOCK_BEFORE : RU_CLOCK_EQUAL;
}

static void
s_assert_clock_equal(const ru_clock_t *a, const ru_clock_t *b)
{
    assert_int_equal(a->n, b->n);
    if (a->n)
        assert_memory_equal(a->v, b->v, a->n * sizeof *a->v);
}

static void
test_set_get(void **state)
{
    (void) state;
    ru_clock_t c;
    ru_clock_init(&c);
    uint8_t o1[RU_KEY_BYTES], o2[RU_KEY_BYTES];
    s_origin(o1, 1);
    s_origin(o2, 2);
    assert_int_equal(ru_clock_get(&c, o1), 0);
    assert_int_equal(ru_clock_set(&c, o1, 5), RU_OK);
    assert_int_equal(ru_clock_set(&c, o2, 7), RU_OK);
    assert_int_equal(ru_clock_get(&c, o1), 5);
    assert_int_equal(ru_clock_get(&c, o2), 7);
    assert_int_equal(c.n, 2);
    assert_true(memcmp(c.v[0].origin, c.v[1].origin, RU_KEY_BYTES) < 0);
    assert_int_equal(ru_clock_set(&c, o1, 0), RU_OK); /* removes */
    assert_int_equal(c.n, 1);
    assert_int_equal(ru_clock_get(&c, o1), 0);
    ru_clock_fini(&c);
}

static void
test_capacity_limit(void **state)
{
    (void) state;
    ru_clock_t c;
    ru_clock_init(&c);
    uint8_t origin[RU_KEY_BYTES] = {0};
    for (uint32_t i = 0; i < RU_MAX_CLOCK; i++) {
        origin[0] = (uint8_t) (i >> 8);
        origin[1] = (uint8_t) i;
        assert_int_equal(ru_clock_set(&c, origin, 1), RU_OK);
    }
    origin[2] = 1;
    assert_int_equal(ru_clock_set(&c, origin, 1), RU_E_TOO_MANY);
    assert_int_equal(c.n, RU_MAX_CLOCK);
    ru_clock_fini(&c);
}

static void
test_order_laws(void **state)
{
    (void) state;
    ru_clock_t a, b, c;
    ru_clock_init(&a);
    ru_clock_init(&b);
    ru_clock_init(&c);
    int seen[4] = {0};
    for (int r = 0; r < ROUNDS; r++) {
        s_random(&a);
        s_random(&b);
        s_random(&c);
        if (r % 4 == 0) /* make equal and ordered pairs common too */
            assert_int_equal(ru_clock_copy(&b, &a), RU_OK);
        else if (r % 4 == 1)
            assert_int_equal(ru_clock_merge(&b, &a), RU_OK);
        ru_clock_order ab = ru_clock_compare(&a, &b), ba = ru_clock_compare(&b, &a);
        seen[ab]++;
        assert_int_equal(ab, s_reference_order(&a, &b));
        assert_int_equal(ru_clock_compare(&a, &a), RU_CLOCK_EQUAL);
        /* antisymmetry: the reverse comparison mirrors */
        static const ru_clock_order mirror[] = {RU_CLOCK_EQUAL, RU_CLOCK_AFTER, RU_CLOCK_BEFORE,
                                                RU_CLOCK_CONCURRENT};
        assert_int_equal(ba, mirror[ab]);
        /* transitivity of dominance */
        if (ru_clock_dominates(&a, &b) && ru_clock_dominates(&b, &c))
            assert_true(ru_clock_dominates(&a, &c));
    }
    for (int o = 0; o < 4; o++)
        assert_true(seen[o] > 0); /* every relation was exercised */
    ru_clock_fini(&a);
    ru_clock_fini(&b);
    ru_clock_fini(&c);
}

static void
test_merge_is_least_upper_bound(void **state)
{
    (void) state;
    ru_clock_t a, b, c, ab, ba, abc1, abc2;
    ru_clock_t *all[] = {&a, &b, &c, &ab, &ba, &abc1, &abc2};
    for (size_t i = 0; i < 7; i++)
        ru_clock_init(all[i]);
    for (int r = 0; r < ROUNDS; r++) {
        s_random(&a);
        s_random(&b);
        s_random(&c);
        assert_int_equal(ru_clock_copy(&ab, &a), RU_OK);
        assert_int_equal(ru_clock_merge(&ab, &b), RU_OK);
        assert_int_equal(ru_clock_copy(&ba, &b), RU_OK);
        assert_int_equal(ru_clock_merge(&ba, &a), RU_OK);
        s_assert_clock_equal(&ab, &ba); /* commutative */
        assert_true(ru_clock_dominates(&ab, &a));
        assert_true(ru_clock_dominates(&ab, &b));
        for (int i = 0; i < ORIGINS; i++) { /* least: entry-wise max */
            uint8_t o[RU_KEY_BYTES];
            s_origin(o, i);
            uint64_t x = ru_clock_get(&a, o), y = ru_clock_get(&b, o);
            assert_int_equal(ru_clock_get(&ab, o), x > y ? x : y);
        }
        assert_int_equal(ru_clock_merge(&ab, &ab), RU_OK); /* idempotent */
        s_assert_clock_equal(&ab, &ba);
        /* associative: (a+b)+c == a+(b+c) */
        assert_int_equal(ru_clock_copy(&abc1, &ab), RU_OK);
        assert_int_equal(ru_clock_merge(&abc1, &c), RU_OK);
        assert_int_equal(ru_clock_copy(&abc2, &b), RU_OK);
        assert_int_equal(ru_clock_merge(&abc2, &c), RU_OK);
        assert_int_equal(ru_clock_merge(&abc2, &a), RU_OK);
        s_assert_clock_equal(&abc1, &abc2);
    }
    for (size_t i = 0; i < 7; i++)
        ru_clock_fini(all[i]);
}

static void
test_delta_round_trip(void **state)
{
    (void) state;
    ru_clock_t prev, cur, delta, back;
    ru_clock_init(&prev);
    ru_clock_init(&cur);
    ru_clock_init(&delta);
    ru_clock_init(&back);
    for (int r = 0; r < ROUNDS; r++) {
        s_random(&prev);
        s_random(&cur);
        assert_int_equal(ru_clock_merge(&cur, &prev), RU_OK); /* cur >= prev */
        assert_int_equal(ru_clock_delta(&prev, &cur, &delta), RU_OK);
        for (uint32_t i = 0; i < delta.n; i++) /* only entries that grew */
            assert_true(delta.v[i].seq > ru_clock_get(&prev, delta.v[i].origin));
        assert_int_equal(ru_clock_copy(&back, &prev), RU_OK);
        assert_int_equal(ru_clock_apply_delta(&back, &delta), RU_OK);
        s_assert_clock_equal(&back, &cur);
    }
    assert_int_equal(ru_clock_delta(&cur, &cur, &delta), RU_OK);
    assert_int_equal(delta.n, 0);
    ru_clock_fini(&prev);
    ru_clock_fini(&cur);
    ru_clock_fini(&delta);
    ru_clock_fini(&back);
}

static void
test_apply_delta_refuses_going_back(void **state)
{
    (void) state;
    ru_clock_t c, delta;
    ru_clock_init(&c);
    ru_clock_init(&delta);
    uint8_t o1[RU_KEY_BYTES], o2[RU_KEY_BYTES];
    s_origin(o1, 1);
    s_origin(o2, 2);
    assert_int_equal(ru_clock_set(&c, o1, 5), RU_OK);
    assert_int_equal(ru_clock_set(&delta, o2, 3), RU_OK);
    assert_int_equal(ru_clock_set(&delta, o1, 5), RU_OK); /* not greater */
    assert_int_equal(ru_clock_apply_delta(&c, &delta), RU_E_RANGE);
    assert_int_equal(c.n, 1); /* unchanged */
    assert_int_equal(ru_clock_get(&c, o1), 5);
    ru_clock_fini(&c);
    ru_clock_fini(&delta);
}

static void
test_wire_round_trip(void **state)
{
    (void) state;
    ru_clock_t c, back;
    ru_clock_init(&c);
    ru_clock_init(&back);
    ru_buf_t buf, again;
    ru_buf_init(&buf);
    ru_buf_init(&again);
    for (int r = 0; r < ROUNDS; r++) {
        s_random(&c);
        uint8_t big[RU_KEY_BYTES];
        s_origin(big, ORIGINS);
        assert_int_equal(ru_clock_set(&c, big, s_rand()), RU_OK); /* any u64 width */
        ru_buf_reset(&buf);
        ru_buf_reset(&again);
        msgpack_packer pk;
        ru_mp_packer_init(&pk, &buf);
        ru_clock_write(&c, &pk);
        ru_mp_t mp;
        ru_mp_init(&mp, buf.data, buf.len);
        assert_int_equal(ru_clock_read(&back, &mp), RU_OK);
        assert_int_equal(ru_mp_end(&mp), RU_OK);
        s_assert_clock_equal(&c, &back);
        ru_mp_packer_init(&pk, &again);
        ru_clock_write(&back, &pk);
        assert_int_equal(again.len, buf.len);
        assert_memory_equal(again.data, buf.data, buf.len);
    }
    ru_buf_fini(&buf);
    ru_buf_fini(&again);
    ru_clock_fini(&c);
    ru_clock_fini(&back);
}

/*  Reads bytes as a clock and expects err, with the cursor left alone. */
static void
s_expect_read(const uint8_t *bytes, size_t len, ru_err err)
{
    ru_clock_t c;
    ru_clock_init(&c);
    ru_mp_t mp;
    ru_mp_init(&mp, bytes, len);
    assert_int_equal(ru_clock_read(&c, &mp), err);
    assert_int_equal(ru_mp_left(&mp), len);
    assert_int_equal(c.n, 0);
    ru_clock_fini(&c);
}

static void
test_wire_refusals(void **state)
{
    (void) state;
    /* map of 2: key A -> 1, key B -> 1, with A and B chosen per case */
    uint8_t two[1 + 2 * 35];
    two[0] = 0x82;
    for (int k = 0; k < 2; k++) {
        uint8_t *e = two + 1 + 35 * k;
        e[0] = 0xc4;
        e[1] = 32;
        memset(e + 2, 0, 32);
        e[34] = 1;
    }
    two[1 + 2 + 31] = 2;  /* first key ...02 */
    two[36 + 2 + 31] = 1; /* second key ...01: descending */
    s_expect_read(two, sizeof two, RU_E_ORDER);
    two[36 + 2 + 31] = 2; /* duplicate */
    s_expect_read(two, sizeof two, RU_E_ORDER);
    two[36 + 2 + 31] = 3;
    two[36 + 34] = 0; /* seq 0 */
    s_expect_read(two, sizeof two, RU_E_RANGE);
    two[36 + 34] = 1;
    s_expect_read(two, sizeof two - 1, RU_E_TRUNCATED);
    /* 1025 entries announced: refused before anything is allocated */
    uint8_t many[3 + 1025 * 35];
    memset(many, 0, sizeof many);
    many[0] = 0xde;
    many[1] = 0x04;
    many[2] = 0x01;
    s_expect_read(many, sizeof many, RU_E_TOO_MANY);
    const uint8_t not_map[] = {0x90};
    s_expect_read(not_map, sizeof not_map, RU_E_TYPE);
    const uint8_t short_key[] = {0x81, 0xc4, 0x01, 0x00, 0x01};
    s_expect_read(short_key, sizeof short_key, RU_E_TYPE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_get),
        cmocka_unit_test(test_capacity_limit),
        cmocka_unit_test(test_order_laws),
        cmocka_unit_test(test_merge_is_least_upper_bound),
        cmocka_unit_test(test_delta_round_trip),
        cmocka_unit_test(test_apply_delta_refuses_going_back),
        cmocka_unit_test(test_wire_round_trip),
        cmocka_unit_test(test_wire_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
