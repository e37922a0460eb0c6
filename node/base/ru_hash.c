/*  ru_hash.c - keyed hashing of table keys (see ru_hash.h). The key is
 *  drawn on first use, once for the process (pthread_once). */
#include "ru_hash.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static unsigned char s_key[crypto_shorthash_KEYBYTES];
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void
s_draw(void)
{
    if (sodium_init() < 0)
        abort(); /* no randomness: nothing of the node could run */
    randombytes_buf(s_key, sizeof s_key);
}

uint64_t
ru_hash(const void *bytes, size_t len)
{
    unsigned char out[crypto_shorthash_BYTES];
    uint64_t h;
    pthread_once(&s_once, s_draw);
    crypto_shorthash(out, bytes, len, s_key);
    memcpy(&h, out, sizeof h);
    return h;
}

uint64_t
ru_hash_str(const char *s)
{
    return ru_hash(s, strlen(s));
}
