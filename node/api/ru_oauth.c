/*  ru_oauth.c - apps, codes and app tokens in the store; scopes (see
 *  ru_oauth.h).
 */
#include "ru_oauth.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ruche/ru_limits.h"

#include "ru_account.h"

/*  The database key of a secret value (a code, a token). */
static void
s_hash(const char *secret, uint8_t key[RU_HASH_BYTES])
{
    crypto_generichash(key, RU_HASH_BYTES, (const uint8_t *) secret, strlen(secret), NULL, 0);
}

static ru_err
s_put_json(ru_txn_t *txn, ru_db db, const void *key, size_t len, const json_t *rec)
{
    char *text = json_dumps(rec, JSON_COMPACT);
    if (!text)
        return RU_E_NOMEM;
    ru_err err = ru_txn_put(txn, db, key, len, text, strlen(text));
    free(text);
    return err;
}

static ru_err
s_get_json(ru_txn_t *txn, ru_db db, const void *key, size_t len, json_t **rec)
{
    MDB_val val;
    *rec = NULL;
    ru_err err = ru_txn_get(txn, db, key, len, &val);
    if (err)
        return err;
    *rec = json_loadb(val.mv_data, val.mv_size, 0, NULL);
    return json_is_object(*rec) ? RU_OK : (json_decref(*rec), *rec = NULL, RU_E_STORE);
}

/*  ---------------------------------------------------------------------
 *  Apps
 */

ru_err
ru_oauth_app_put(ru_txn_t *txn, const char *client_id, const json_t *app)
{
    return s_put_json(txn, RU_DB_apps, client_id, strlen(client_id), app);
}

ru_err
ru_oauth_app_get(ru_txn_t *txn, const char *client_id, json_t **app)
{
    size_t len = strlen(client_id);
    if (len == 0 || len > RU_MAX_NAME) {
        *app = NULL;
        return RU_E_NOT_FOUND;
    }
    return s_get_json(txn, RU_DB_apps, client_id, len, app);
}

void
ru_oauth_secret_hash(const char *secret, char out[RU_OAUTH_HASH_TEXT])
{
    uint8_t h[RU_HASH_BYTES];
    s_hash(secret, h);
    sodium_bin2hex(out, RU_OAUTH_HASH_TEXT, h, sizeof h);
}

int
ru_oauth_secret_ok(const json_t *app, const char *secret)
{
    const char *want = json_string_value(json_object_get(app, "secret"));
    char got[RU_OAUTH_HASH_TEXT];
    if (!want || !secret || strlen(want) != RU_OAUTH_HASH_TEXT - 1)
        return 0;
    ru_oauth_secret_hash(secret, got);
    return sodium_memcmp(got, want, RU_OAUTH_HASH_TEXT - 1) == 0;
}

int
ru_oauth_redirect_ok(const json_t *app, const char *uri)
{
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(app, "redirect_uris"), i, u)
    {
        if (uri && json_is_string(u) && strcmp(json_string_value(u), uri) == 0)
            return 1;
    }
    return 0;
}

/*  ---------------------------------------------------------------------
 *  Codes
 */

typedef struct {
    uint64_t now_ms;
    uint8_t (*keys)[RU_HASH_BYTES];
    size_t n, cap;
} s_sweep;

/*  Collects the keys of expired codes (a scan must not delete). */
static int
s_collect_expired(void *ctx, const MDB_val *key, const MDB_val *val)
{
    s_sweep *s = ctx;
    json_t *rec = json_loadb(val->mv_data, val->mv_size, 0, NULL);
    json_int_t expires = json_integer_value(json_object_get(rec, "expires_ms"));
    json_decref(rec);
    if ((uint64_t) expires > s->now_ms || key->mv_size != RU_HASH_BYTES)
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        void *more = realloc(s->keys, cap * sizeof *s->keys);
        if (!more)
            return 1; /* the rest waits for the next sweep */
        s->keys = more;
        s->cap = cap;
    }
    memcpy(s->keys[s->n++], key->mv_data, RU_HASH_BYTES);
    return 0;
}

static ru_err
s_sweep_codes(ru_txn_t *txn, uint64_t now_ms)
{
    s_sweep s = {now_ms, NULL, 0, 0};
    ru_err err = ru_txn_scan(txn, RU_DB_oauth_codes, NULL, 0, 0, s_collect_expired, &s);
    for (size_t i = 0; !err && i < s.n; i++)
        err = ru_txn_del(txn, RU_DB_oauth_codes, s.keys[i], RU_HASH_BYTES);
    free(s.keys);
    return err;
}

ru_err
ru_oauth_code_put(ru_txn_t *txn, const char *code, json_t *grant, uint64_t now_ms)
{
    uint8_t key[RU_HASH_BYTES];
    ru_err err = s_sweep_codes(txn, now_ms);
    if (err)
        return err;
    s_hash(code, key);
    if (json_object_set_new(grant, "expires_ms",
                            json_integer((json_int_t) now_ms + RU_OAUTH_CODE_TTL_MS)))
        return RU_E_NOMEM;
    return s_put_json(txn, RU_DB_oauth_codes, key, sizeof key, grant);
}

ru_err
ru_oauth_code_take(ru_txn_t *txn, const char *code, uint64_t now_ms, json_t **grant)
{
    uint8_t key[RU_HASH_BYTES];
    s_hash(code, key);
    ru_err err = s_get_json(txn, RU_DB_oauth_codes, key, sizeof key, grant);
    if (err)
        return err == RU_E_STORE ? RU_E_NOT_FOUND : err;
    err = ru_txn_del(txn, RU_DB_oauth_codes, key, sizeof key);
    json_int_t expires = json_integer_value(json_object_get(*grant, "expires_ms"));
    if (!err && (uint64_t) expires <= now_ms)
        err = RU_E_NOT_FOUND;
    if (err) {
        json_decref(*grant);
        *grant = NULL;
    }
    return err;
}

/*  ---------------------------------------------------------------------
 *  Tokens
 */

ru_err
ru_oauth_token_put(ru_txn_t *txn, const char *token, const char *client_id, const char *scope,
                   const char *user, uint64_t now_ms)
{
    uint8_t key[RU_HASH_BYTES];
    s_hash(token, key);
    json_t *rec = json_pack("{s:s, s:s, s:I}", "client_id", client_id, "scope", scope, "created_ms",
                            (json_int_t) now_ms);
    if (!rec || (user && json_object_set_new(rec, "user", json_string(user)))) {
        json_decref(rec);
        return RU_E_NOMEM;
    }
    ru_err err = s_put_json(txn, RU_DB_app_tokens, key, sizeof key, rec);
    json_decref(rec);
    if (!err && user)
        err = ru_account_session_put(txn, token, user, now_ms);
    return err;
}

ru_err
ru_oauth_token_get(ru_txn_t *txn, const char *token, json_t **rec)
{
    uint8_t key[RU_HASH_BYTES];
    s_hash(token, key);
    return s_get_json(txn, RU_DB_app_tokens, key, sizeof key, rec);
}

ru_err
ru_oauth_token_del(ru_txn_t *txn, const char *token)
{
    uint8_t key[RU_HASH_BYTES];
    s_hash(token, key);
    ru_err err = ru_txn_del(txn, RU_DB_app_tokens, key, sizeof key);
    return err ? err : ru_account_session_del(txn, token);
}

/*  ---------------------------------------------------------------------
 *  Scopes
 */

/*  Is the scope of len bytes at s one that ruche knows? */
static int
s_known(const char *s, size_t len)
{
    static const char *const bases[] = {"read",    "write",      "follow",     "push",
                                        "profile", "admin:read", "admin:write"};
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        size_t n = strlen(bases[i]);
        if (len == n && memcmp(s, bases[i], n) == 0)
            return 1;
        if (len > n + 1 && memcmp(s, bases[i], n) == 0 && s[n] == ':' && i != 2 && i != 4 &&
            strspn(s + n + 1, "abcdefghijklmnopqrstuvwxyz_") >= len - n - 1)
            return 1;
    }
    return 0;
}

/*  Calls fn for each scope of list (ptr, len) until it returns non-zero,
 *  which is returned; 0 when none did. */
static int
s_each(const char *list, int (*fn)(const char *s, size_t len, const void *ctx), const void *ctx)
{
    const char *p = list;
    while (p && *p) {
        p += strspn(p, " ");
        size_t len = strcspn(p, " ");
        int r = len ? fn(p, len, ctx) : 0;
        if (r)
            return r;
        p += len;
    }
    return 0;
}

static int
s_unknown(const char *s, size_t len, const void *ctx)
{
    (void) ctx;
    return !s_known(s, len);
}

int
ru_oauth_scope_valid(const char *scope)
{
    return scope && strspn(scope, " ") < strlen(scope) && !s_each(scope, s_unknown, NULL);
}

/*  Does one scope of the list ctx cover the scope (s, len)? */
static int
s_covers(const char *h, size_t hlen, const void *ctx)
{
    const char *const *want = ctx;
    size_t wlen = strcspn(*want, " ");
    return memcmp(*want, h, hlen < wlen ? hlen : wlen) == 0 &&
           (hlen == wlen || (wlen > hlen && (*want)[hlen] == ':'));
}

static int
s_not_in(const char *s, size_t len, const void *ctx)
{
    (void) len;
    return !s_each(ctx, s_covers, &s);
}

int
ru_oauth_scope_subset(const char *want, const char *have)
{
    return ru_oauth_scope_valid(want) && !s_each(want, s_not_in, have);
}

static int
s_allows_write(const char *s, size_t len, const void *ctx)
{
    (void) ctx;
    return (len == 5 && memcmp(s, "write", 5) == 0) || (len > 6 && memcmp(s, "write:", 6) == 0) ||
           (len == 6 && memcmp(s, "follow", 6) == 0);
}

static int
s_allows_read(const char *s, size_t len, const void *ctx)
{
    (void) ctx;
    return (len == 4 && memcmp(s, "read", 4) == 0) || (len > 5 && memcmp(s, "read:", 5) == 0);
}

int
ru_oauth_scope_allows(const char *scope, int write)
{
    return s_each(scope, write ? s_allows_write : s_allows_read, NULL);
}
