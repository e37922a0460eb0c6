/*  bench_proto.c - throughput of the update codec, next to the raw
 *  libsodium limits measured in the same run.
 *
 *  The update is a realistic one: a post of 200 bytes of text with a
 *  vector-clock delta of three entries. Rows:
 *    raw crypto_sign_detached        over domain || payload, as signed
 *    ru_update_encode                check + encode + sign (ratio: raw sign)
 *    raw crypto_sign_verify_detached over the same bytes
 *    ru_update_open                  parse + verify + decode (ratio: raw verify)
 *    ru_msg_decode of a 256-update batch, envelopes only, and with every
 *    payload decoded too, in updates/s without verification. Their ratio to
 *    raw verify says how many times faster than verification the decoder
 *    is: it must stay far above 1 for verification to remain the limit.
 *
 *  One op is one update: a batch row counts 256 ops per message.
 *
 *  Each row runs for a fixed time (1 s, --seconds N, --quick for 0.05 s);
 *  timings use CLOCK_MONOTONIC. Every operation's result is checked: the
 *  program exits 1 if any fails, so --quick doubles as a smoke test. It
 *  asserts nothing about speed.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ruche/ru_hlc.h"
#include "ruche/ru_msg.h"
#include "ruche/ru_update.h"

#define S_BATCH RU_MAX_BATCH
#define S_CHUNK 8 /* calls between two looks at the clock */

static const char s_text[] =
    "Déploiement du nouveau cluster de réplication à Nozay terminé : la latence moyenne passe "
    "de 40 ms à 12 ms entre sites. Merci à l'équipe réseau ! Retours bienvenus avant jeudi. "
    "#infra #ops @bob";

typedef struct {
    ru_key_t *key;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    ru_update_t post; /* the update encoded by every encode */
    ru_buf_t out;     /* encode output, emptied per call */
    ru_buf_t wire;    /* the post's envelope */
    ru_buf_t raw;     /* domain || payload: what the raw rows sign */
    uint8_t sig[crypto_sign_BYTES];
    ru_update_t decoded;
    ru_buf_t batch; /* a batch message of S_BATCH updates */
    ru_msg_t msg;
} s_bench_t;

typedef int (*s_op_fn)(s_bench_t *b);

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/*  ---------------------------------------------------------------------
 *  The operations measured: each returns 0 on success.
 */

static int
s_raw_sign(s_bench_t *b)
{
    return crypto_sign_detached(b->sig, NULL, b->raw.data, b->raw.len, b->sk);
}

static int
s_raw_verify(s_bench_t *b)
{
    return crypto_sign_verify_detached(b->sig, b->raw.data, b->raw.len, b->pk);
}

static int
s_encode(s_bench_t *b)
{
    ru_buf_reset(&b->out);
    return ru_update_encode(&b->post, b->key, &b->out) == RU_OK ? 0 : -1;
}

static int
s_open(s_bench_t *b)
{
    ru_envelope_t env;
    return ru_update_open(b->wire.data, b->wire.len, &env, &b->decoded) == RU_OK ? 0 : -1;
}

static int
s_batch_decode(s_bench_t *b)
{
    if (ru_msg_decode(b->batch.data, b->batch.len, &b->msg) != RU_OK)
        return -1;
    return b->msg.n_updates == S_BATCH ? 0 : -1;
}

static int
s_batch_decode_all(s_bench_t *b)
{
    if (s_batch_decode(b) != 0)
        return -1;
    for (uint32_t i = 0; i < b->msg.n_updates; i++)
        if (ru_update_decode(&b->msg.updates[i], &b->decoded) != RU_OK)
            return -1;
    return 0;
}

/*  ---------------------------------------------------------------------
 *  Fixture
 */

/*  Fills the post: seq, prev and a three-entry clock delta. */
static int
s_make_post(s_bench_t *b, uint64_t seq, const uint8_t *prev)
{
    ru_update_t *u = &b->post;
    memcpy(u->origin, ru_key_public(b->key), RU_KEY_BYTES);
    u->seq = seq;
    memcpy(u->prev, prev, RU_HASH_BYTES);
    u->hlc = (ru_hlc_wall_ms() << RU_HLC_SHIFT) + seq;
    u->author = (ru_str_t){"alice", 5};
    u->kind = RU_KIND_POST;
    u->text = (ru_str_t){s_text, (uint32_t) strlen(s_text)};
    u->visibility = RU_VIS_PUBLIC;
    for (uint8_t i = 1; i <= 3; i++) {
        uint8_t site[RU_KEY_BYTES];
        memset(site, 0x20 * i, sizeof site);
        if (ru_clock_set(&u->clock, site, 1000 * i + seq) != RU_OK)
            return -1;
    }
    return 0;
}

/*  Encodes S_BATCH posts of one origin, hash-chained, into a batch. */
static int
s_make_batch(s_bench_t *b)
{
    ru_buf_t envs[S_BATCH];
    ru_bytes_t spans[S_BATCH];
    uint8_t prev[RU_HASH_BYTES] = {0};
    int rc = 0;
    for (uint32_t i = 0; i < S_BATCH; i++) {
        ru_envelope_t env;
        ru_buf_init(&envs[i]);
        if (rc == 0 && (s_make_post(b, i + 1, prev) != 0 ||
                        ru_update_encode(&b->post, b->key, &envs[i]) != RU_OK ||
                        ru_envelope_parse(envs[i].data, envs[i].len, &env) != RU_OK))
            rc = -1;
        if (rc == 0)
            ru_update_hash(&env, prev);
        spans[i] = (ru_bytes_t){envs[i].data, envs[i].len};
    }
    if (rc == 0 && ru_msg_encode_batch(spans, S_BATCH, &b->batch) != RU_OK)
        rc = -1;
    for (uint32_t i = 0; i < S_BATCH; i++)
        ru_buf_fini(&envs[i]);
    return rc;
}

/*  The post as seq 1000 of its origin, its envelope, and the bytes the
 *  raw rows sign: exactly what ru_update_encode signs. */
static int
s_make_single(s_bench_t *b)
{
    uint8_t prev[RU_HASH_BYTES];
    ru_envelope_t env;
    randombytes_buf(prev, sizeof prev);
    if (s_make_post(b, 1000, prev) != 0 || ru_update_encode(&b->post, b->key, &b->wire) != RU_OK ||
        ru_envelope_parse(b->wire.data, b->wire.len, &env) != RU_OK)
        return -1;
    ru_buf_append(&b->raw, RU_UPDATE_DOMAIN, strlen(RU_UPDATE_DOMAIN));
    ru_buf_append(&b->raw, env.payload, env.payload_len);
    if (ru_buf_status(&b->raw) != RU_OK || s_raw_sign(b) != 0)
        return -1;
    /*  The raw signature of those bytes is the envelope's own. */
    return memcmp(b->sig, env.sig, RU_SIG_BYTES) == 0 ? 0 : -1;
}

static int
s_setup(s_bench_t *b)
{
    memset(b, 0, sizeof *b);
    ru_update_init(&b->post);
    ru_update_init(&b->decoded);
    ru_msg_init(&b->msg);
    if (sodium_init() < 0 || ru_key_generate(&b->key) != RU_OK)
        return -1;
    crypto_sign_seed_keypair(b->pk, b->sk, ru_key_seed(b->key));
    if (s_make_batch(b) != 0 || s_make_single(b) != 0)
        return -1;
    /*  One round trip checked field by field before any timing. */
    if (s_open(b) != 0 || b->decoded.seq != 1000 || b->decoded.text.len != strlen(s_text) ||
        memcmp(b->decoded.text.ptr, s_text, strlen(s_text)) != 0 || b->decoded.clock.n != 3)
        return -1;
    return 0;
}

static void
s_teardown(s_bench_t *b)
{
    ru_key_destroy(&b->key);
    ru_update_fini(&b->post);
    ru_update_fini(&b->decoded);
    ru_msg_fini(&b->msg);
    ru_buf_fini(&b->out);
    ru_buf_fini(&b->wire);
    ru_buf_fini(&b->raw);
    ru_buf_fini(&b->batch);
    sodium_memzero(b->sk, sizeof b->sk);
}

/*  ---------------------------------------------------------------------
 *  Measuring and reporting
 */

enum { R_SIGN, R_ENCODE, R_VERIFY, R_OPEN, R_BATCH, R_BATCH_ALL, R_COUNT };

static const struct {
    const char *name;
    s_op_fn fn;
    uint32_t units; /* updates handled per call */
    int ref;        /* the raw limit row it is compared to */
    const char *ref_name;
} s_rows[R_COUNT] = {
    [R_SIGN] = {"raw crypto_sign_detached", s_raw_sign, 1, R_SIGN, "raw sign"},
    [R_ENCODE] = {"ru_update_encode (encode+sign)", s_encode, 1, R_SIGN, "raw sign"},
    [R_VERIFY] = {"raw crypto_sign_verify_detached", s_raw_verify, 1, R_VERIFY, "raw verify"},
    [R_OPEN] = {"ru_update_open (verify+decode)", s_open, 1, R_VERIFY, "raw verify"},
    [R_BATCH] = {"ru_msg_decode, batch of 256", s_batch_decode, S_BATCH, R_VERIFY, "raw verify"},
    [R_BATCH_ALL] = {"  + ru_update_decode of each", s_batch_decode_all, S_BATCH, R_VERIFY,
                     "raw verify"},
};

/*  Calls fn for at least seconds; its rate in calls per second. */
static int
s_measure(s_bench_t *b, s_op_fn fn, double seconds, double *rate)
{
    uint64_t calls = 0;
    double start = s_now(), elapsed;
    do {
        for (int i = 0; i < S_CHUNK; i++)
            if (fn(b) != 0)
                return -1;
        calls += S_CHUNK;
        elapsed = s_now() - start;
    } while (elapsed < seconds);
    *rate = (double) calls / elapsed;
    return 0;
}

static int
s_run(s_bench_t *b, double seconds)
{
    double rate[R_COUNT];
    printf("update: post, %zu bytes of text, clock delta of 3; payload %zu bytes, envelope %zu "
           "bytes; batch message %zu bytes\n%.2f s per row\n\n",
           strlen(s_text), b->raw.len - strlen(RU_UPDATE_DOMAIN), b->wire.len, b->batch.len,
           seconds);
    printf("operation                                   ops/s      µs/op  ratio to raw limit\n");
    for (int r = 0; r < R_COUNT; r++) {
        if (s_measure(b, s_rows[r].fn, seconds, &rate[r]) != 0) {
            fprintf(stderr, "bench_proto: %s failed\n", s_rows[r].name);
            return -1;
        }
        rate[r] *= s_rows[r].units;
        printf("%-34s %14.0f %10.3f  %8.2f x %s\n", s_rows[r].name, rate[r], 1e6 / rate[r],
               rate[r] / rate[s_rows[r].ref], s_rows[r].ref_name);
        fflush(stdout);
    }
    return 0;
}

static int
s_parse_args(int argc, char **argv, double *seconds)
{
    *seconds = 1.0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            *seconds = 0.05;
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            char *end;
            *seconds = strtod(argv[++i], &end);
            if (*end != '\0' || !(*seconds > 0 && *seconds <= 3600))
                return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

int
main(int argc, char **argv)
{
    double seconds;
    if (s_parse_args(argc, argv, &seconds) != 0) {
        fprintf(stderr, "usage: %s [--seconds N | --quick]\n", argv[0]);
        return 2;
    }
    s_bench_t b;
    int rc = s_setup(&b);
    if (rc != 0)
        fprintf(stderr, "bench_proto: setting up the updates failed\n");
    else
        rc = s_run(&b, seconds);
    s_teardown(&b);
    return rc == 0 ? 0 : 1;
}
