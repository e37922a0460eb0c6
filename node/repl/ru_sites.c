/*  ru_sites.c - the site directory (see ru_sites.h).
 *
 *  A table of at most 1 + RU_MAX_PEERS (name, key) pairs, ours first,
 *  looked up by a linear scan under a read lock: 65 comparisons are
 *  cheaper than the signature check that follows a trust lookup. A reload
 *  writes the new peers into the table under the write lock, with the
 *  CURVE keys derived from their node keys once, there.
 */
#include "ru_sites.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char name[RU_MAX_NAME + 1];
    uint8_t key[RU_KEY_BYTES];
    uint8_t curve[32]; /* its CURVE key, derived from key */
    int has_curve;     /* 0: key is no valid node key, and nobody's CURVE key */
} s_site;

struct ru_sites {
    pthread_rwlock_t lock;
    int n;                         /* sites in the table, ours included */
    s_site site[1 + RU_MAX_PEERS]; /* [0]: ours */
    atomic_ulong version;          /* peer lists set so far (ru_sites_version) */
};

ru_err
ru_sites_new(const char *site, const uint8_t *key, const ru_peer_cfg_t *peers, int n,
             ru_sites_t **out)
{
    *out = NULL;
    ru_sites_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    atomic_init(&self->version, 0);
    if (pthread_rwlock_init(&self->lock, NULL) != 0) {
        free(self);
        return RU_E_NOMEM;
    }
    snprintf(self->site[0].name, sizeof self->site[0].name, "%s", site);
    memcpy(self->site[0].key, key, RU_KEY_BYTES);
    self->n = 1;
    ru_sites_set_peers(self, peers, n);
    *out = self;
    return RU_OK;
}

void
ru_sites_destroy(ru_sites_t **self_p)
{
    ru_sites_t *self = *self_p;
    if (!self)
        return;
    pthread_rwlock_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

void
ru_sites_set_peers(ru_sites_t *self, const ru_peer_cfg_t *peers, int n)
{
    n = n < 0 ? 0 : n > RU_MAX_PEERS ? RU_MAX_PEERS : n;
    pthread_rwlock_wrlock(&self->lock);
    for (int i = 0; i < n; i++) {
        snprintf(self->site[1 + i].name, sizeof self->site[1 + i].name, "%s", peers[i].site);
        memcpy(self->site[1 + i].key, peers[i].key, RU_KEY_BYTES);
        self->site[1 + i].has_curve =
            ru_key_curve_public(peers[i].key, self->site[1 + i].curve) == RU_OK;
    }
    self->n = 1 + n;
    atomic_fetch_add(&self->version, 1);
    pthread_rwlock_unlock(&self->lock);
}

unsigned long
ru_sites_version(ru_sites_t *self)
{
    return atomic_load(&self->version);
}

/*  The index of key in the table, -1 if absent. Under the lock. */
static int
s_by_key(const ru_sites_t *self, const uint8_t *key)
{
    for (int i = 0; i < self->n; i++)
        if (memcmp(self->site[i].key, key, RU_KEY_BYTES) == 0)
            return i;
    return -1;
}

int
ru_sites_name(ru_sites_t *self, const uint8_t *key, char *out)
{
    pthread_rwlock_rdlock(&self->lock);
    int i = s_by_key(self, key);
    if (i >= 0)
        memcpy(out, self->site[i].name, strlen(self->site[i].name) + 1);
    pthread_rwlock_unlock(&self->lock);
    return i >= 0;
}

int
ru_sites_key(void *self_p, const char *site, uint8_t *key)
{
    ru_sites_t *self = self_p;
    int found = 0;
    pthread_rwlock_rdlock(&self->lock);
    for (int i = 0; i < self->n && !found; i++)
        if (strcmp(self->site[i].name, site) == 0) {
            memcpy(key, self->site[i].key, RU_KEY_BYTES);
            found = 1;
        }
    pthread_rwlock_unlock(&self->lock);
    return found;
}

int
ru_sites_trusted(ru_sites_t *self, const uint8_t *key)
{
    pthread_rwlock_rdlock(&self->lock);
    int i = s_by_key(self, key);
    pthread_rwlock_unlock(&self->lock);
    return i >= 0;
}

int
ru_sites_peer_by_curve(ru_sites_t *self, const uint8_t *curve, char *out)
{
    int found = 0;
    pthread_rwlock_rdlock(&self->lock);
    for (int i = 1; i < self->n && !found; i++)
        if (self->site[i].has_curve && memcmp(self->site[i].curve, curve, 32) == 0) {
            memcpy(out, self->site[i].name, strlen(self->site[i].name) + 1);
            found = 1;
        }
    pthread_rwlock_unlock(&self->lock);
    return found;
}

void
ru_sites_label(ru_sites_t *self, const uint8_t *key, char *out)
{
    char name[RU_MAX_NAME + 1];
    if (ru_sites_name(self, key, name))
        snprintf(out, RU_SITES_LABEL, "%s", name);
    else
        ru_b64_encode(out, key, RU_KEY_BYTES);
}
