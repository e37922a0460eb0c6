/*  ru_card.c - link previews: the lookup readers make, the queue, the
 *  workers that fetch and store (see ru_card.h).
 *
 *  A card's record in the cards database: the time it was made (8 bytes,
 *  milliseconds since the epoch, big-endian) and the card's JSON, exactly
 *  as the API shows it; no JSON means "this page gave no card".
 *
 *  The queue is a ring of addresses under one mutex, with each address's
 *  hash beside it: an address already queued, or being fetched by a
 *  worker, is not queued twice, however many readers ask for it at once.
 *  The ring is bounded ([cards] queue); a reader never waits for room.
 */
#include "ru_card.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ruche/ru_hlc.h"

#include "ru_cardfetch.h"
#include "ru_cardscan.h"
#include "ru_entity.h"
#include "ru_hash.h"
#include "ru_hostlist.h"
#include "ru_log.h"
#include "ru_prom.h"

#define S_LOG "cards"

struct ru_card {
    ru_store_t *store;
    ru_writer_t *writer;
    char hosts[RU_CONFIG_HOSTS_MAX];
    char proxy[RU_CONFIG_PATH_MAX];
    ru_cardfetch_opts_t opts;
    uint64_t retry_ms;
    atomic_int stop;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    char **urls;      /* the ring: cap slots, count from head */
    uint64_t *hashes; /* ... and each one's hash */
    size_t cap, head, count;
    uint64_t *busy; /* the hash each worker is fetching, 0: none */
    pthread_t *threads;
    int n_threads;
    uint64_t results[RU_CARDFETCH_COUNT];
    uint64_t made, dropped;
};

/*  The key of an address in the cards database. */
static void
s_key(const char *url, size_t len, uint8_t *key)
{
    crypto_generichash(key, RU_HASH_BYTES, (const unsigned char *) url, len, NULL, 0);
}

/*  Is the address of hash h queued or being fetched? Under the lock. */
static int
s_known(const ru_card_t *self, uint64_t h)
{
    for (size_t i = 0; i < self->count; i++)
        if (self->hashes[(self->head + i) % self->cap] == h)
            return 1;
    for (int i = 0; i < self->n_threads; i++)
        if (self->busy[i] == h)
            return 1;
    return 0;
}

/*  Queues url (len bytes) for a fetch unless it is there already or the
 *  queue is full; never waits. */
static void
s_want(ru_card_t *self, const char *url, size_t len)
{
    uint64_t h = ru_hash(url, len) | 1; /* 0 means "none" in busy */
    pthread_mutex_lock(&self->lock);
    if (!s_known(self, h)) {
        char *copy = self->count < self->cap ? malloc(len + 1) : NULL;
        if (copy) {
            memcpy(copy, url, len);
            copy[len] = '\0';
            size_t at = (self->head + self->count++) % self->cap;
            self->urls[at] = copy;
            self->hashes[at] = h;
            pthread_cond_signal(&self->wake);
        } else
            self->dropped++;
    }
    pthread_mutex_unlock(&self->lock);
}

json_t *
ru_card_for_text(ru_card_t *self, ru_txn_t *txn, const char *text, size_t len)
{
    size_t start, n;
    if (!self || !ru_entity_first_url(text, len, &start, &n))
        return NULL;
    char url[RU_MAX_URL + 1];
    memcpy(url, text + start, n);
    url[n] = '\0';
    uint8_t key[RU_HASH_BYTES];
    s_key(url, n, key);
    MDB_val val;
    if (ru_txn_get(txn, RU_DB_cards, key, sizeof key, &val) == RU_OK && val.mv_size >= 8) {
        const uint8_t *p = val.mv_data;
        if (val.mv_size > 8)
            return json_loadb((const char *) p + 8, val.mv_size - 8, 0, NULL);
        uint64_t made = 0;
        for (int i = 0; i < 8; i++)
            made = made << 8 | p[i];
        if (ru_hlc_wall_ms() - made < self->retry_ms)
            return NULL;
    }
    if (ru_cardfetch_allowed(self->hosts, url))
        s_want(self, url, n);
    return NULL;
}

/*  ---------------------------------------------------------------------
 *  The workers
 */

/*  The card of the page fetched for url from final (its head in body), or
 *  NULL when the page gives none. */
static json_t *
s_card(const char *url, const char *final, const ru_buf_t *body)
{
    ru_cardscan_t *c = malloc(sizeof *c);
    char *image = malloc(RU_MAX_URL + 1);
    json_t *card = NULL;
    if (c && image && ru_cardscan((const char *) body->data, body->len, c)) {
        int has_image = c->image[0] && ru_cardfetch_resolve(final, c->image, image, RU_MAX_URL + 1);
        card = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:o, s:s, s:n}",
                         "url", url, "title", c->title, "description", c->description, "type",
                         "link", "author_name", "", "author_url", "", "provider_name", c->provider,
                         "provider_url", "", "html", "", "width", 0, "height", 0, "image",
                         has_image ? json_string(image) : json_null(), "embed_url", "", "blurhash");
    }
    free(c);
    free(image);
    return card;
}

/*  A record to store: the address's key and the record's bytes. */
typedef struct {
    uint8_t key[RU_HASH_BYTES];
    ru_buf_t val;
} s_record;

static ru_err
s_put(const ru_writer_ctx_t *ctx, void *arg)
{
    s_record *r = arg;
    return ru_txn_put(ctx->txn, RU_DB_cards, r->key, sizeof r->key, r->val.data, r->val.len);
}

/*  Fetches url and stores what it gave: a card, or none. */
static void
s_fetch(ru_card_t *self, const char *url)
{
    ru_buf_t body;
    ru_buf_init(&body);
    char final[RU_CARDFETCH_URL_MAX];
    ru_cardfetch_result r = ru_cardfetch_get(&self->opts, url, &body, final, sizeof final);
    json_t *card = r == RU_CARDFETCH_ok ? s_card(url, final, &body) : NULL;
    ru_buf_fini(&body);
    ru_log_debug(S_LOG, "%s: %s%s", url, ru_cardfetch_name(r),
                 r == RU_CARDFETCH_ok && !card ? ", no title" : "");
    if (r == RU_CARDFETCH_stopped)
        return;
    s_record rec;
    s_key(url, strlen(url), rec.key);
    ru_buf_init(&rec.val);
    uint64_t now = ru_hlc_wall_ms();
    for (int i = 7; i >= 0; i--)
        ru_buf_append(&rec.val, &(uint8_t){(uint8_t) (now >> (8 * i))}, 1);
    char *text = card ? json_dumps(card, JSON_COMPACT) : NULL;
    if (text)
        ru_buf_append(&rec.val, text, strlen(text));
    free(text);
    json_decref(card);
    ru_err err = ru_buf_status(&rec.val);
    if (!err)
        err = ru_writer_call(self->writer, s_put, &rec);
    if (err)
        ru_log_warn(S_LOG, "the card of %s is not stored: %s", url, ru_err_str(err));
    ru_buf_fini(&rec.val);
    pthread_mutex_lock(&self->lock);
    self->results[r]++;
    self->made += text != NULL && !err;
    pthread_mutex_unlock(&self->lock);
}

typedef struct {
    ru_card_t *self;
    int index;
} s_worker_arg;

static void *
s_worker(void *arg_p)
{
    s_worker_arg *arg = arg_p;
    ru_card_t *self = arg->self;
    int me = arg->index;
    free(arg);
    pthread_mutex_lock(&self->lock);
    for (;;) {
        while (!atomic_load(&self->stop) && self->count == 0)
            pthread_cond_wait(&self->wake, &self->lock);
        if (atomic_load(&self->stop))
            break;
        char *url = self->urls[self->head];
        self->busy[me] = self->hashes[self->head];
        self->head = (self->head + 1) % self->cap;
        self->count--;
        pthread_mutex_unlock(&self->lock);
        s_fetch(self, url);
        free(url);
        pthread_mutex_lock(&self->lock);
        self->busy[me] = 0;
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

/*  ---------------------------------------------------------------------
 *  Life
 */

/*  Takes [cards] out of cfg. */
static void
s_configure(ru_card_t *self, const ru_config_t *cfg)
{
    memcpy(self->hosts, cfg->card_hosts, sizeof self->hosts);
    memcpy(self->proxy, cfg->card_proxy, sizeof self->proxy);
    self->opts = (ru_cardfetch_opts_t){self->hosts,
                                       self->proxy,
                                       cfg->card_connect_timeout_ms,
                                       cfg->card_timeout_ms,
                                       (size_t) cfg->card_max_kb * 1024,
                                       (int) cfg->card_max_redirects,
                                       &self->stop};
    self->retry_ms = (uint64_t) cfg->card_retry_s * 1000;
    self->cap = (size_t) cfg->card_queue;
}

/*  Starts the workers; each that starts counts in n_threads. */
static ru_err
s_start(ru_card_t *self, int n)
{
    for (int i = 0; i < n; i++) {
        s_worker_arg *arg = malloc(sizeof *arg);
        if (!arg)
            return RU_E_NOMEM;
        *arg = (s_worker_arg){self, i};
        if (pthread_create(&self->threads[i], NULL, s_worker, arg) != 0) {
            free(arg);
            ru_log_err(S_LOG, "cannot start a worker");
            return RU_E_NOMEM;
        }
        self->n_threads++;
    }
    return RU_OK;
}

ru_err
ru_card_new(const ru_config_t *cfg, ru_store_t *store, ru_writer_t *writer, ru_card_t **out)
{
    const char *bad;
    size_t bad_len;
    *out = NULL;
    if (!cfg->card_hosts[strspn(cfg->card_hosts, " \t")])
        return RU_OK; /* no host allowed: no cards */
    if (!ru_hostlist_check(cfg->card_hosts, &bad, &bad_len) ||
        curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return RU_E_INVALID;
    ru_card_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    self->store = store;
    self->writer = writer;
    s_configure(self, cfg);
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->wake, NULL);
    self->urls = calloc(self->cap, sizeof *self->urls);
    self->hashes = calloc(self->cap, sizeof *self->hashes);
    self->busy = calloc((size_t) cfg->card_workers, sizeof *self->busy);
    self->threads = calloc((size_t) cfg->card_workers, sizeof *self->threads);
    ru_err err = self->urls && self->hashes && self->busy && self->threads ? RU_OK : RU_E_NOMEM;
    if (!err)
        err = s_start(self, (int) cfg->card_workers);
    if (err) {
        ru_card_destroy(&self);
        return err;
    }
    ru_log_info(S_LOG, "link previews from %s, %d worker(s)", self->hosts, self->n_threads);
    *out = self;
    return RU_OK;
}

void
ru_card_destroy(ru_card_t **self_p)
{
    ru_card_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_lock(&self->lock);
    atomic_store(&self->stop, 1);
    pthread_cond_broadcast(&self->wake);
    pthread_mutex_unlock(&self->lock);
    for (int i = 0; i < self->n_threads; i++)
        pthread_join(self->threads[i], NULL);
    for (size_t i = 0; self->urls && i < self->count; i++)
        free(self->urls[(self->head + i) % self->cap]);
    free(self->urls);
    free(self->hashes);
    free(self->busy);
    free(self->threads);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->lock);
    curl_global_cleanup();
    free(self);
    *self_p = NULL;
}

ru_err
ru_card_collect(void *self_p, ru_buf_t *out)
{
    ru_card_t *self = self_p;
    uint64_t results[RU_CARDFETCH_COUNT];
    pthread_mutex_lock(&self->lock);
    memcpy(results, self->results, sizeof results);
    uint64_t made = self->made, dropped = self->dropped;
    size_t queued = self->count;
    pthread_mutex_unlock(&self->lock);
    ru_prom_family(out, "ruche_cards_fetches_total", "counter",
                   "Pages fetched for link previews, by how the fetch ended.");
    for (int r = 0; r < RU_CARDFETCH_COUNT; r++)
        ru_prom_sample(out, "ruche_cards_fetches_total",
                       (const char *[]){"result", ru_cardfetch_name((ru_cardfetch_result) r), NULL},
                       (double) results[r]);
    ru_prom_single(out, "ruche_cards_made_total", "counter", "Link previews made and stored.",
                   (double) made);
    ru_prom_single(out, "ruche_cards_queued", "gauge",
                   "Addresses waiting for a fetch ([cards] queue).", (double) queued);
    ru_prom_single(out, "ruche_cards_dropped_total", "counter",
                   "Addresses not queued because the queue was full.", (double) dropped);
    return RU_OK;
}
