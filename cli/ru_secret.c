/*  ru_secret.c - secret strings in sodium_malloc memory, and a jansson
 *  allocator that wipes what it frees (see ru_secret.h).
 *
 *  jansson's free function gets no size, so each block carries its size in
 *  a header of max_align_t bytes in front of what jansson sees; alignment
 *  is kept and free knows how much to wipe.
 */
#include "ru_secret.h"

#include <jansson.h>
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

ru_err
ru_secret_dup(const char *s, char **out)
{
    *out = NULL;
    if (sodium_init() < 0)
        return RU_E_NOMEM;
    size_t n = strlen(s);
    char *copy = sodium_malloc(n + 1);
    if (copy == NULL)
        return RU_E_NOMEM;
    memcpy(copy, s, n + 1);
    *out = copy;
    return RU_OK;
}

void
ru_secret_free(char **p)
{
    if (p == NULL || *p == NULL)
        return;
    sodium_free(*p); /* sodium_free wipes the block before it frees it */
    *p = NULL;
}

#define S_HEADER sizeof(max_align_t)

static void *
s_json_malloc(size_t n)
{
    if (n > SIZE_MAX - S_HEADER)
        return NULL;
    unsigned char *block = malloc(S_HEADER + n);
    if (block == NULL)
        return NULL;
    memcpy(block, &n, sizeof n);
    return block + S_HEADER;
}

static void
s_json_free(void *p)
{
    if (p == NULL)
        return;
    unsigned char *block = (unsigned char *) p - S_HEADER;
    size_t n;
    memcpy(&n, block, sizeof n);
    sodium_memzero(p, n);
    free(block);
}

void
ru_secret_json_wipe(void)
{
    json_set_alloc_funcs(s_json_malloc, s_json_free);
}

/*  Where json_dump_callback writes: counts bytes, and copies them when
 *  there is room. */
typedef struct {
    char *data; /* NULL while counting */
    size_t len;
    size_t cap;
} s_dump_t;

static int
s_dump_cb(const char *bytes, size_t n, void *arg)
{
    s_dump_t *d = arg;
    if (d->data != NULL) {
        if (n > d->cap - d->len)
            return -1;
        memcpy(d->data + d->len, bytes, n);
    }
    d->len += n;
    return 0;
}

ru_err
ru_secret_json_dump(const json_t *json, size_t flags, char **out)
{
    s_dump_t d = {NULL, 0, 0};
    *out = NULL;
    if (sodium_init() < 0 || json_dump_callback(json, s_dump_cb, &d, flags) != 0)
        return RU_E_NOMEM;
    d.cap = d.len;
    d.len = 0;
    d.data = sodium_malloc(d.cap + 1);
    if (d.data == NULL)
        return RU_E_NOMEM;
    if (json_dump_callback(json, s_dump_cb, &d, flags) != 0 || d.len != d.cap) {
        sodium_free(d.data);
        return RU_E_NOMEM;
    }
    d.data[d.len] = '\0';
    *out = d.data;
    return RU_OK;
}
