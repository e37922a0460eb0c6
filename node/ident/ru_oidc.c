/*  ru_oidc.c - the OpenID Connect client: flows, the provider's documents,
 *  the ID token's checks (ru_oidc.h says what and why).
 *
 *  The flows live in a table of [oidc] pending slots allocated once; a
 *  slot is free when its flow has expired or been taken, so a full table
 *  refuses new sign-ins until one ends instead of growing. The nonces of
 *  finished flows go to a second table of the same size for as long as
 *  their flow could have lived plus the clock skew. Both are searched
 *  linearly: ten thousand slots of a few hundred bytes take microseconds,
 *  beside a round trip to the provider.
 *
 *  The discovery document and the key set are cached as copies under the
 *  mutex; a fetch runs without it (two threads that both miss the cache
 *  both fetch, and the later copy wins: the same document twice).
 *
 *  A provider that does not answer is held down (s_down, s_ended): every
 *  fetch and every new flow fails at once with the reason of the last
 *  failure until [oidc] retry_s has passed since it; then one fetch tries
 *  the provider again while the others still fail at once, and an answer
 *  ends it. Only a failure to answer counts (a timeout, a connection
 *  refused or reset, a TLS failure): an answer that refuses a code is the
 *  provider working, and counting it would let anyone who can start a
 *  sign-in stop everyone's.
 */
#include "ru_oidc.h"

#include <cjose/cjose.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ruche/ru_buf.h"
#include "ruche/ru_text.h"

#include "ru_fd.h"
#include "ru_log.h"

#define S_LOG "oidc"
#define S_SECRET_MAX 1024
#define S_URL_MAX 4096

typedef struct {
    char state[RU_OIDC_RANDOM_SIZE]; /* "": a free slot */
    char nonce[RU_OIDC_RANDOM_SIZE];
    char verifier[RU_OIDC_RANDOM_SIZE];
    char *ret;
    int64_t until_ms;
} s_flow;

typedef struct {
    char nonce[RU_OIDC_RANDOM_SIZE];
    int64_t until_ms;
} s_used;

struct ru_oidc {
    const ru_config_t *cfg;
    char redirect_uri[S_URL_MAX];
    char *secret; /* sodium_malloc */
    pthread_mutex_t lock;
    s_flow *flows;
    s_used *used;
    size_t slots;
    /* the provider's documents, cached: copies, under lock */
    char *auth_ep, *token_ep, *jwks_uri, *jwks;
    int64_t doc_ms, jwks_ms; /* fetched at (0: never) */
    /* the provider's last failure to answer, under lock */
    const char *down_why;  /* NULL: it answers; else why it did not (static) */
    int64_t down_until_ms; /* sign-ins fail at once until then (s_mono_ms) */
    int probing;           /* a call past the window is trying it again */
};

static int64_t
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*  Milliseconds of the monotonic clock, for the retry window (a step of
 *  the wall clock must not stretch it). */
static int64_t
s_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*  ---------------------------------------------------------------------
 *  Randomness and PKCE
 */

static void
s_b64url(char *out, const uint8_t *bin, size_t len)
{
    sodium_bin2base64(out, RU_OIDC_RANDOM_SIZE, bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void
ru_oidc_random(char *out)
{
    uint8_t bin[32];
    randombytes_buf(bin, sizeof bin);
    s_b64url(out, bin, sizeof bin);
    sodium_memzero(bin, sizeof bin);
}

void
ru_oidc_pkce(char *verifier, char *challenge)
{
    uint8_t h[crypto_hash_sha256_BYTES];
    ru_oidc_random(verifier);
    crypto_hash_sha256(h, (const uint8_t *) verifier, strlen(verifier));
    s_b64url(challenge, h, sizeof h);
}

/*  ---------------------------------------------------------------------
 *  The token
 */

/*  The JSON of one base64url segment of a token (len characters). */
static json_t *
s_segment_json(const char *seg, size_t len)
{
    size_t cap = len * 3 / 4 + 3, got = 0;
    uint8_t *bin = malloc(cap);
    json_t *j = NULL;
    if (bin && sodium_base642bin(bin, cap, seg, len, NULL, &got, NULL,
                                 sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0)
        j = json_loadb((const char *) bin, got, JSON_REJECT_DUPLICATES, NULL);
    free(bin);
    return json_is_object(j) ? j : (json_decref(j), NULL);
}

/*  The key type an algorithm needs; NULL for one refused (none, HMAC,
 *  anything unknown). */
static const char *
s_alg_kty(const char *alg)
{
    static const char *const rsa[] = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"};
    static const char *const ec[] = {"ES256", "ES384", "ES512"};
    for (size_t i = 0; alg && i < sizeof rsa / sizeof rsa[0]; i++)
        if (strcmp(alg, rsa[i]) == 0)
            return "RSA";
    for (size_t i = 0; alg && i < sizeof ec / sizeof ec[0]; i++)
        if (strcmp(alg, ec[i]) == 0)
            return "EC";
    return NULL;
}

/*  Is key one that may verify a token of alg and kid (kid NULL: any)? */
static int
s_key_fits(json_t *key, const char *alg, const char *kid)
{
    const char *kty = json_string_value(json_object_get(key, "kty"));
    const char *use = json_string_value(json_object_get(key, "use"));
    const char *kalg = json_string_value(json_object_get(key, "alg"));
    const char *kkid = json_string_value(json_object_get(key, "kid"));
    return kty && strcmp(kty, s_alg_kty(alg)) == 0 && (!use || strcmp(use, "sig") == 0) &&
           (!kalg || strcmp(kalg, alg) == 0) && (!kid || (kkid && strcmp(kkid, kid) == 0));
}

/*  Does the signature of jws verify with key (a JWK object)? */
static int
s_verify_with(cjose_jws_t *jws, json_t *key)
{
    char *text = json_dumps(key, JSON_COMPACT);
    cjose_err cerr;
    cjose_jwk_t *jwk = text ? cjose_jwk_import(text, strlen(text), &cerr) : NULL;
    int ok = jwk && cjose_jws_verify(jws, jwk, &cerr);
    cjose_jwk_release(jwk);
    free(text);
    return ok;
}

/*  Verifies the signature of token (header already read: alg, kid) with a
 *  fitting key of the set. */
static ru_err
s_verify_signature(const char *jwks, const char *token, const char *alg, const char *kid,
                   const char **why)
{
    json_t *set = json_loads(jwks, JSON_REJECT_DUPLICATES, NULL);
    json_t *keys = json_object_get(set, "keys"), *key;
    cjose_err cerr;
    cjose_jws_t *jws = cjose_jws_import(token, strlen(token), &cerr);
    size_t i, fitting = 0;
    int ok = 0;
    json_array_foreach(jws ? keys : NULL, i, key)
    {
        if (!ok && s_key_fits(key, alg, kid)) {
            fitting++;
            ok = s_verify_with(jws, key);
        }
    }
    cjose_jws_release(jws);
    json_decref(set);
    if (!jws)
        return *why = "the ID token is not a well-formed JWS", RU_E_SIGNATURE;
    if (!fitting && kid)
        return *why = "the ID token is signed by a key the provider's key set lacks",
               RU_E_NOT_FOUND;
    if (!ok)
        return *why = fitting ? "the ID token's signature does not verify"
                              : "the provider's key set has no key for the token's algorithm",
               RU_E_SIGNATURE;
    return RU_OK;
}

/*  The signed payload of a verified token. */
static json_t *
s_payload(const char *token)
{
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    return dot2 ? s_segment_json(dot1 + 1, (size_t) (dot2 - dot1 - 1)) : NULL;
}

/*  Is the audience right: aud is client_id or an array holding it, and
 *  azp, needed when there are several, is client_id? */
static int
s_audience_ok(json_t *claims, const char *client_id)
{
    json_t *aud = json_object_get(claims, "aud"), *v;
    const char *azp = json_string_value(json_object_get(claims, "azp"));
    size_t i;
    int found = json_is_string(aud) && strcmp(json_string_value(aud), client_id) == 0;
    json_array_foreach(json_is_array(aud) ? aud : NULL, i, v)
    {
        found = found || (json_is_string(v) && strcmp(json_string_value(v), client_id) == 0);
    }
    if (json_object_get(claims, "azp") && (!azp || strcmp(azp, client_id) != 0))
        return 0;
    return found && (!json_is_array(aud) || json_array_size(aud) == 1 || azp);
}

/*  Checks the claims of a verified token; *why says what is wrong. */
static ru_err
s_check_claims(json_t *claims, const ru_oidc_expect_t *e, const char **why)
{
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    const char *nonce = json_string_value(json_object_get(claims, "nonce"));
    json_t *exp = json_object_get(claims, "exp"), *iat = json_object_get(claims, "iat");
    json_t *nbf = json_object_get(claims, "nbf");
    int64_t early = e->now_s + e->clock_skew_s, late = e->now_s - e->clock_skew_s;
    if (!iss || strcmp(iss, e->issuer) != 0)
        *why = "the ID token's issuer is not the configured one";
    else if (!s_audience_ok(claims, e->client_id))
        *why = "the ID token is not meant for this node (audience)";
    else if (!json_is_number(exp) || !json_is_number(iat) || (nbf && !json_is_number(nbf)))
        *why = "the ID token lacks exp or iat, or a time is not a number";
    else if (json_number_value(exp) <= (double) late)
        *why = "the ID token has expired";
    else if (json_number_value(iat) > (double) early)
        *why = "the ID token was issued in the future";
    else if (nbf && json_number_value(nbf) > (double) early)
        *why = "the ID token is not valid yet";
    else if (e->nonce && !nonce)
        *why = "the ID token carries no nonce";
    else if (e->nonce && strcmp(nonce, e->nonce) != 0)
        *why = "the ID token's nonce is not this sign-in's";
    else if (!json_is_string(json_object_get(claims, "sub")))
        *why = "the ID token has no subject";
    else
        return RU_OK;
    return RU_E_INVALID;
}

ru_err
ru_oidc_check_token(const char *jwks, const ru_oidc_expect_t *expect, const char *token,
                    json_t **claims, const char **why)
{
    *claims = NULL;
    const char *dot = token ? strchr(token, '.') : NULL;
    json_t *header = dot ? s_segment_json(token, (size_t) (dot - token)) : NULL;
    const char *alg = json_string_value(json_object_get(header, "alg"));
    const char *kid = json_string_value(json_object_get(header, "kid"));
    ru_err err = RU_E_SIGNATURE;
    if (!header)
        *why = "the ID token is not a well-formed JWS";
    else if (!s_alg_kty(alg))
        *why = "the ID token's algorithm is refused (none, HMAC or unknown)";
    else
        err = s_verify_signature(jwks ? jwks : "{}", token, alg, kid, why);
    json_decref(header);
    if (err)
        return err;
    json_t *c = s_payload(token);
    if (!c)
        return *why = "the ID token's payload is not a JSON object", RU_E_SIGNATURE;
    err = s_check_claims(c, expect, why);
    if (err)
        json_decref(c);
    else
        *claims = c;
    return err;
}

/*  ---------------------------------------------------------------------
 *  Claims
 */

/*  Copies claim name of claims into out (size), cut at a whole UTF-8
 *  character and at max_chars characters (0: no count); "" when absent or
 *  not text. 1 when the claim is text (given). */
static int
s_claim_text(const json_t *claims, const char *name, char *out, size_t size, size_t max_chars)
{
    const char *v = name && *name ? json_string_value(json_object_get(claims, name)) : NULL;
    size_t len = 0, chars = 0;
    int given = v && ru_utf8_check(v, strlen(v), NULL) == RU_OK;
    if (!given)
        v = "";
    for (size_t i = 0; v[i]; i++) {
        int lead = ((unsigned char) v[i] & 0xc0) != 0x80;
        if (lead && (i + 4 >= size || (max_chars && chars == max_chars)))
            break;
        chars += lead;
        len = i + 1;
    }
    memcpy(out, v, len);
    out[len] = '\0';
    return given;
}

/*  Copies claim name of claims into out (max + 1 bytes) when it is text
 *  of at most max bytes, or, with integers, an integer (written in
 *  decimal): an e-mail address or an id cut short would name someone
 *  else, so it is taken whole or not at all. 1 when taken, else out is "". */
static int
s_claim_whole(const json_t *claims, const char *name, char *out, size_t max, int integers)
{
    const json_t *v = name && *name ? json_object_get(claims, name) : NULL;
    const char *text = json_string_value(v);
    size_t len = json_string_length(v);
    out[0] = '\0';
    if (integers && json_is_integer(v)) {
        int n = snprintf(out, max + 1, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        if (n > 0 && (size_t) n <= max)
            return 1;
        out[0] = '\0';
        return 0;
    }
    if (!text || len > max || memchr(text, '\0', len) || ru_utf8_check(text, len, NULL) != RU_OK)
        return 0;
    memcpy(out, text, len);
    out[len] = '\0';
    return 1;
}

/*  Does the groups claim (an array of strings, or one string) hold group? */
static int
s_in_group(const json_t *claims, const char *claim, const char *group)
{
    json_t *g = json_object_get(claims, claim), *v;
    size_t i;
    if (json_is_string(g))
        return strcmp(json_string_value(g), group) == 0;
    json_array_foreach(json_is_array(g) ? g : NULL, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), group) == 0)
            return 1;
    }
    return 0;
}

/*  The user name of a claim: lower case, "@domain" dropped; RU_E_NAME
 *  when it makes no valid name. */
static ru_err
s_user_name(const char *claim, char *out)
{
    size_t len = claim ? strcspn(claim, "@") : 0;
    if (len == 0 || len > RU_MAX_NAME)
        return RU_E_NAME;
    for (size_t i = 0; i < len; i++)
        out[i] = (char) (claim[i] >= 'A' && claim[i] <= 'Z' ? claim[i] + 32 : claim[i]);
    out[len] = '\0';
    return ru_name_check(out, len);
}

ru_err
ru_oidc_map(const ru_oidc_names_t *n, const char *issuer, const json_t *claims,
            ru_oidc_user_t *user, const char **why)
{
    memset(user, 0, sizeof *user);
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    if (s_user_name(json_string_value(json_object_get(claims, n->username)), user->name) !=
        RU_OK)
        return *why = "the provider's user name claim is missing or not a valid name here",
               RU_E_NAME;
    if (*n->allow_group && !s_in_group(claims, n->groups, n->allow_group))
        return *why = "this account is not in the group allowed to sign in here", RU_E_UNTRUSTED;
    user->admin = *n->admin_group && s_in_group(claims, n->groups, n->admin_group);
    if (s_claim_text(claims, n->display_name, user->display_name, sizeof user->display_name,
                     RU_MAX_DISPLAY_CHARS) &&
        user->display_name[0])
        user->given |= RU_OIDC_GAVE_DISPLAY;
    if (s_claim_whole(claims, n->email, user->email, RU_MAX_EMAIL, 0))
        user->given |= RU_OIDC_GAVE_EMAIL;
    if (s_claim_text(claims, n->department, user->department, sizeof user->department,
                     RU_MAX_WORK_CHARS))
        user->given |= RU_OIDC_GAVE_DEPARTMENT;
    if (s_claim_text(claims, n->site, user->site, sizeof user->site, RU_MAX_WORK_CHARS))
        user->given |= RU_OIDC_GAVE_SITE;
    if (s_claim_whole(claims, n->id, user->dir_id, RU_MAX_DIR_ID, 1) && user->dir_id[0])
        user->given |= RU_OIDC_GAVE_ID;
    crypto_generichash_state st;
    uint8_t h[32];
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const uint8_t *) issuer, strlen(issuer) + 1);
    crypto_generichash_update(&st, (const uint8_t *) (sub ? sub : ""), sub ? strlen(sub) : 0);
    crypto_generichash_final(&st, h, sizeof h);
    s_b64url(user->subject, h, sizeof h);
    return RU_OK;
}

/*  ---------------------------------------------------------------------
 *  A provider that does not answer
 */

/*  Is the provider held down: within [oidc] retry_s of its last failure
 *  to answer, or while one call tries it again? Then *why is that
 *  failure's reason. With probe (a call about to reach the provider), the
 *  first call past the window becomes the one that tries (*probe set). */
static int
s_down(ru_oidc_t *self, int *probe, const char **why)
{
    int down = 0;
    pthread_mutex_lock(&self->lock);
    if (self->down_why && (s_mono_ms() < self->down_until_ms || self->probing)) {
        down = 1;
        *why = self->down_why;
    } else if (self->down_why && probe) {
        self->probing = *probe = 1;
    }
    pthread_mutex_unlock(&self->lock);
    return down;
}

/*  Notes how a call to the provider ended: answered (whatever it said),
 *  or not (why: a timeout, a connection refused, a TLS failure), which
 *  holds the provider down for [oidc] retry_s from now; a call that never
 *  left (out of memory) is neither. The end of a probe lets the next call
 *  try again. */
static void
s_ended(ru_oidc_t *self, int probe, int answered, const char *why)
{
    long retry_s = self->cfg->oidc_retry_s;
    int began = 0, back = 0;
    pthread_mutex_lock(&self->lock);
    if (probe)
        self->probing = 0;
    if (answered) {
        back = self->down_why != NULL;
        self->down_why = NULL;
    } else if (why && retry_s > 0) {
        began = self->down_why == NULL;
        self->down_why = why;
        self->down_until_ms = s_mono_ms() + retry_s * 1000;
    }
    pthread_mutex_unlock(&self->lock);
    if (began)
        ru_log_warn(S_LOG,
                    "sign-ins through the identity provider fail at once for %ld s "
                    "([oidc] retry_s), then it is tried again",
                    retry_s);
    if (back)
        ru_log_info(S_LOG, "the identity provider answers again");
}

/*  ---------------------------------------------------------------------
 *  Fetches
 */

typedef struct {
    ru_buf_t *out;
    size_t max;
    int too_big;
} s_sink;

static size_t
s_write(char *data, size_t size, size_t n, void *arg)
{
    s_sink *s = arg;
    if (s->out->len + size * n > s->max) {
        s->too_big = 1;
        return 0; /* curl stops: CURLE_WRITE_ERROR */
    }
    ru_buf_append(s->out, data, size * n);
    return size * n;
}

/*  GETs url, or POSTs form with HTTP Basic client authentication, into
 *  *doc (the caller's, a JSON object); RU_E_IO with *why on any failure
 *  (logged with the URL), and at once while the provider is held down
 *  (s_down). */
static ru_err
s_fetch(ru_oidc_t *self, const char *url, const char *form, json_t **doc, const char **why)
{
    const ru_config_t *cfg = self->cfg;
    int probe = 0;
    *doc = NULL;
    if (s_down(self, &probe, why))
        return RU_E_IO;
    ru_buf_t body;
    ru_buf_init(&body);
    s_sink sink = {&body, (size_t) cfg->oidc_max_response_kb * 1024, 0};
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
    CURL *c = curl_easy_init();
    long status = 0;
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    if (c && hdrs) {
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_PROXY, ""); /* the provider is reached directly */
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, cfg->oidc_timeout_ms);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, cfg->oidc_timeout_ms);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
        if (*cfg->oidc_ca_file)
            curl_easy_setopt(c, CURLOPT_CAINFO, cfg->oidc_ca_file);
        if (form) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
            curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
            curl_easy_setopt(c, CURLOPT_USERNAME, cfg->oidc_client_id);
            curl_easy_setopt(c, CURLOPT_PASSWORD, self->secret);
        }
        rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    if (rc == CURLE_OK && status == 200 && ru_buf_status(&body) == RU_OK)
        *doc = json_loadb((const char *) body.data, body.len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(*doc)) {
        *why = rc == CURLE_OPERATION_TIMEDOUT ? "the identity provider did not answer in time"
               : sink.too_big                 ? "the identity provider's answer is too large"
               : rc != CURLE_OK               ? "the identity provider cannot be reached"
               : status != 200                ? "the identity provider refused the request"
                                              : "the identity provider's answer is not JSON";
        ru_log_warn(S_LOG, "%s %s: %s (%s, HTTP %ld)", form ? "POST" : "GET", url, *why,
                    curl_easy_strerror(rc), status);
        json_decref(*doc);
        *doc = NULL;
    }
    s_ended(self, probe, rc == CURLE_OK || sink.too_big, rc == CURLE_OUT_OF_MEMORY ? NULL : *why);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    ru_buf_fini(&body);
    return *doc ? RU_OK : RU_E_IO;
}

static char *
s_dup(json_t *doc, const char *key)
{
    const char *v = json_string_value(json_object_get(doc, key));
    return v && *v && strlen(v) < S_URL_MAX ? strdup(v) : NULL;
}

/*  Makes sure the discovery document is cached and fresh. */
static ru_err
s_discover(ru_oidc_t *self, const char **why)
{
    int64_t now = s_now_ms();
    pthread_mutex_lock(&self->lock);
    int fresh = self->doc_ms && now - self->doc_ms < self->cfg->oidc_jwks_cache_s * 1000;
    pthread_mutex_unlock(&self->lock);
    if (fresh)
        return RU_OK;
    char url[S_URL_MAX];
    const char *iss = self->cfg->oidc_issuer;
    size_t len = strlen(iss);
    snprintf(url, sizeof url, "%.*s/.well-known/openid-configuration",
             (int) (len && iss[len - 1] == '/' ? len - 1 : len), iss);
    json_t *doc;
    ru_err err = s_fetch(self, url, NULL, &doc, why);
    if (err)
        return err;
    const char *doc_iss = json_string_value(json_object_get(doc, "issuer"));
    char *auth = s_dup(doc, "authorization_endpoint"), *token = s_dup(doc, "token_endpoint");
    char *jwks = s_dup(doc, "jwks_uri");
    if (!doc_iss || strcmp(doc_iss, iss) != 0) {
        *why = "the identity provider's discovery document names another issuer";
        err = RU_E_IO;
    } else if (!auth || !token || !jwks) {
        *why = "the identity provider's discovery document lacks an endpoint";
        err = RU_E_IO;
    }
    json_decref(doc);
    pthread_mutex_lock(&self->lock);
    if (!err) {
        free(self->auth_ep), free(self->token_ep), free(self->jwks_uri);
        self->auth_ep = auth, self->token_ep = token, self->jwks_uri = jwks;
        auth = token = jwks = NULL;
        self->doc_ms = now;
    }
    pthread_mutex_unlock(&self->lock);
    free(auth), free(token), free(jwks);
    if (err)
        ru_log_warn(S_LOG, "%s: %s", url, *why);
    return err;
}

/*  A copy of the key set (the caller's, free()), fetched when the cache
 *  is stale or, with again, when the token named a key it lacks and the
 *  last fetch is older than [oidc] jwks_refetch_s. */
static ru_err
s_keys(ru_oidc_t *self, int again, char **copy, const char **why)
{
    const ru_config_t *cfg = self->cfg;
    int64_t now = s_now_ms();
    char url[S_URL_MAX] = "";
    *copy = NULL;
    pthread_mutex_lock(&self->lock);
    int64_t age = now - self->jwks_ms;
    int fetch = !self->jwks || age >= cfg->oidc_jwks_cache_s * 1000 ||
                (again && age >= cfg->oidc_jwks_refetch_s * 1000);
    if (!fetch)
        *copy = strdup(self->jwks);
    else if (self->jwks_uri)
        snprintf(url, sizeof url, "%s", self->jwks_uri);
    pthread_mutex_unlock(&self->lock);
    if (!fetch)
        return *copy ? RU_OK : RU_E_NOMEM;
    if (!*url)
        return *why = "the identity provider's discovery document lacks an endpoint", RU_E_IO;
    json_t *doc;
    ru_err err = s_fetch(self, url, NULL, &doc, why);
    char *text = err ? NULL : json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (err)
        return err;
    if (!text || !(*copy = strdup(text))) {
        free(text);
        return RU_E_NOMEM;
    }
    pthread_mutex_lock(&self->lock);
    free(self->jwks);
    self->jwks = text;
    self->jwks_ms = now;
    pthread_mutex_unlock(&self->lock);
    return RU_OK;
}

/*  ---------------------------------------------------------------------
 *  Flows
 */

static void
s_flow_free(s_flow *f)
{
    free(f->ret);
    sodium_memzero(f, sizeof *f);
}

/*  Frees the flows and nonces whose time is over; under lock. */
static void
s_expire(ru_oidc_t *self, int64_t now)
{
    for (size_t i = 0; i < self->slots; i++) {
        if (self->flows[i].state[0] && self->flows[i].until_ms <= now)
            s_flow_free(&self->flows[i]);
        if (self->used[i].nonce[0] && self->used[i].until_ms <= now)
            memset(&self->used[i], 0, sizeof self->used[i]);
    }
}

size_t
ru_oidc_pending(ru_oidc_t *self)
{
    size_t n = 0;
    pthread_mutex_lock(&self->lock);
    s_expire(self, s_now_ms());
    for (size_t i = 0; i < self->slots; i++)
        n += self->flows[i].state[0] != '\0';
    pthread_mutex_unlock(&self->lock);
    return n;
}

/*  Appends "&name=value", the value percent-encoded. */
static void
s_param(ru_buf_t *url, const char *name, const char *value)
{
    char *esc = curl_easy_escape(NULL, value, 0);
    ru_buf_append(url, "&", 1);
    ru_buf_append(url, name, strlen(name));
    ru_buf_append(url, "=", 1);
    if (esc)
        ru_buf_append(url, esc, strlen(esc));
    else
        url->failed = 1; /* as a failed append would */
    curl_free(esc);
}

/*  The authorization URL of a flow, with its state, nonce and challenge. */
static char *
s_authorize_url(ru_oidc_t *self, const char *auth_ep, const s_flow *f)
{
    char challenge[RU_OIDC_RANDOM_SIZE];
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const uint8_t *) f->verifier, strlen(f->verifier));
    s_b64url(challenge, h, sizeof h);
    ru_buf_t url;
    ru_buf_init(&url);
    ru_buf_append(&url, auth_ep, strlen(auth_ep));
    ru_buf_append(&url, strchr(auth_ep, '?') ? "&" : "?", 1);
    ru_buf_append(&url, "response_type=code", 18);
    s_param(&url, "client_id", self->cfg->oidc_client_id);
    s_param(&url, "redirect_uri", self->redirect_uri);
    s_param(&url, "scope", self->cfg->oidc_scopes);
    s_param(&url, "state", f->state);
    s_param(&url, "nonce", f->nonce);
    s_param(&url, "code_challenge", challenge);
    s_param(&url, "code_challenge_method", "S256");
    ru_buf_append(&url, "", 1);
    char *out = ru_buf_status(&url) == RU_OK ? strdup((const char *) url.data) : NULL;
    ru_buf_fini(&url);
    return out;
}

ru_err
ru_oidc_begin(ru_oidc_t *self, const char *ret, char **url, char *state, const char **why)
{
    *url = NULL;
    if (s_down(self, NULL, why))
        return RU_E_IO; /* not sent to a provider that did not answer just now */
    ru_err err = s_discover(self, why);
    if (err)
        return err;
    s_flow f = {.ret = strdup(ret ? ret : "/")};
    if (!f.ret)
        return RU_E_NOMEM;
    ru_oidc_random(f.state);
    ru_oidc_random(f.nonce);
    ru_oidc_random(f.verifier);
    int64_t now = s_now_ms();
    f.until_ms = now + self->cfg->oidc_pending_s * 1000;
    pthread_mutex_lock(&self->lock);
    s_expire(self, now);
    s_flow *slot = NULL;
    for (size_t i = 0; i < self->slots && !slot; i++)
        if (!self->flows[i].state[0])
            slot = &self->flows[i];
    *url = slot ? s_authorize_url(self, self->auth_ep, &f) : NULL;
    if (*url) {
        *slot = f;
        memcpy(state, f.state, sizeof f.state);
    }
    pthread_mutex_unlock(&self->lock);
    if (*url)
        return RU_OK;
    s_flow_free(&f);
    if (!slot)
        return *why = "too many sign-ins are under way: try again in a minute", RU_E_TOO_MANY;
    return RU_E_NOMEM;
}

/*  Takes the flow of state out of the table into *f; 0 when none. */
static int
s_take_flow(ru_oidc_t *self, const char *state, s_flow *f)
{
    int found = 0;
    size_t len = state ? strlen(state) : 0;
    pthread_mutex_lock(&self->lock);
    s_expire(self, s_now_ms());
    for (size_t i = 0; i < self->slots && !found && len == RU_OIDC_RANDOM_SIZE - 1; i++)
        if (self->flows[i].state[0] && sodium_memcmp(self->flows[i].state, state, len) == 0) {
            *f = self->flows[i];
            memset(&self->flows[i], 0, sizeof self->flows[i]); /* f owns ret now */
            found = 1;
        }
    pthread_mutex_unlock(&self->lock);
    return found;
}

/*  Records the nonce of a finished sign-in; 0 when it was used before. */
static int
s_use_nonce(ru_oidc_t *self, const char *nonce)
{
    int64_t now = s_now_ms();
    s_used *free_slot = NULL;
    int seen = 0;
    pthread_mutex_lock(&self->lock);
    s_expire(self, now);
    for (size_t i = 0; i < self->slots; i++) {
        seen = seen || strcmp(self->used[i].nonce, nonce) == 0;
        if (!self->used[i].nonce[0] && !free_slot)
            free_slot = &self->used[i];
    }
    if (!seen && free_slot) { /* a full table forgets nothing: flows are as many */
        snprintf(free_slot->nonce, sizeof free_slot->nonce, "%s", nonce);
        free_slot->until_ms =
            now + (self->cfg->oidc_pending_s + self->cfg->oidc_clock_skew_s) * 1000;
    }
    pthread_mutex_unlock(&self->lock);
    return !seen;
}

/*  Exchanges the flow's code for an ID token (*token, the caller's). */
static ru_err
s_exchange(ru_oidc_t *self, const s_flow *f, const char *code, char **token, const char **why)
{
    char ep[S_URL_MAX] = "";
    *token = NULL;
    pthread_mutex_lock(&self->lock);
    if (self->token_ep)
        snprintf(ep, sizeof ep, "%s", self->token_ep);
    pthread_mutex_unlock(&self->lock);
    ru_buf_t form;
    ru_buf_init(&form);
    ru_buf_append(&form, "grant_type=authorization_code", 29);
    s_param(&form, "code", code);
    s_param(&form, "redirect_uri", self->redirect_uri);
    s_param(&form, "code_verifier", f->verifier);
    ru_buf_append(&form, "", 1);
    json_t *doc = NULL;
    ru_err err = ru_buf_status(&form);
    if (!err && !*ep)
        err = RU_E_IO, *why = "the identity provider's discovery document lacks an endpoint";
    if (!err)
        err = s_fetch(self, ep, (const char *) form.data, &doc, why);
    ru_buf_fini(&form);
    const char *id_token = json_string_value(json_object_get(doc, "id_token"));
    if (!err && !id_token)
        err = RU_E_IO, *why = "the identity provider's token answer has no ID token";
    if (!err && !(*token = strdup(id_token)))
        err = RU_E_NOMEM;
    json_decref(doc);
    return err;
}

/*  Verifies token for flow f, fetching the key set again once when the
 *  token names a key it lacks; *claims is the caller's. */
static ru_err
s_verify(ru_oidc_t *self, const s_flow *f, const char *token, json_t **claims, const char **why)
{
    const ru_config_t *cfg = self->cfg;
    ru_oidc_expect_t e = {cfg->oidc_issuer, cfg->oidc_client_id, f->nonce, cfg->oidc_clock_skew_s,
                          s_now_ms() / 1000};
    char *jwks;
    ru_err err = s_keys(self, 0, &jwks, why);
    if (!err)
        err = ru_oidc_check_token(jwks, &e, token, claims, why);
    free(jwks);
    if (err == RU_E_NOT_FOUND && !(err = s_keys(self, 1, &jwks, why))) {
        err = ru_oidc_check_token(jwks, &e, token, claims, why);
        free(jwks);
    }
    if (err == RU_E_NOT_FOUND)
        err = RU_E_SIGNATURE; /* still unknown, or the key set may not be fetched yet */
    return err;
}

ru_err
ru_oidc_finish(ru_oidc_t *self, const char *state, const char *code, ru_oidc_user_t *user,
               char *ret, const char **why)
{
    const ru_config_t *cfg = self->cfg;
    s_flow f;
    if (!s_take_flow(self, state, &f))
        return *why = "this sign-in is unknown, expired or already finished", RU_E_NOT_FOUND;
    snprintf(ret, RU_OIDC_RETURN_MAX, "%s", f.ret);
    char *token = NULL;
    json_t *claims = NULL;
    ru_err err = code && *code ? s_discover(self, why)
                               : (*why = "the identity provider sent no code", RU_E_INVALID);
    if (!err)
        err = s_exchange(self, &f, code, &token, why);
    if (!err)
        err = s_verify(self, &f, token, &claims, why);
    if (!err && !s_use_nonce(self, f.nonce))
        err = RU_E_INVALID, *why = "the ID token's nonce was used by an earlier sign-in";
    ru_oidc_names_t names = {.username = cfg->oidc_claim_username,
                             .display_name = cfg->oidc_claim_display_name,
                             .email = cfg->oidc_claim_email,
                             .department = cfg->oidc_claim_department,
                             .site = cfg->oidc_claim_site,
                             .id = cfg->oidc_id_claim,
                             .groups = cfg->oidc_claim_groups,
                             .allow_group = cfg->oidc_allow_group,
                             .admin_group = cfg->oidc_admin_group};
    if (!err)
        err = ru_oidc_map(&names, cfg->oidc_issuer, claims, user, why);
    json_decref(claims);
    free(token);
    s_flow_free(&f);
    return err;
}

/*  ---------------------------------------------------------------------
 *  Life
 */

/*  Reads the client secret file into self->secret (sodium memory). */
static ru_err
s_read_secret(ru_oidc_t *self, const char *path)
{
    struct stat st;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        ru_log_err(S_LOG, "[oidc] client_secret_file %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return RU_E_NOT_FOUND;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        ru_log_err(S_LOG, "[oidc] client_secret_file %s is readable by others: chmod 600 it",
                   path);
        close(fd);
        return RU_E_KEY_MODE;
    }
    self->secret = sodium_malloc(S_SECRET_MAX + 1);
    int e = self->secret ? ru_fd_read_all(fd, self->secret, S_SECRET_MAX + 1, &got) : ENOMEM;
    close(fd);
    while (!e && got && strchr(" \t\r\n", self->secret[got - 1]))
        got--;
    if (e || got == 0 || got > S_SECRET_MAX || memchr(self->secret, '\0', got)) {
        ru_log_err(S_LOG, "[oidc] client_secret_file %s: %s", path,
                   e ? strerror(e) : "must hold one line of 1 to 1024 bytes");
        return e == ENOMEM ? RU_E_NOMEM : RU_E_INVALID;
    }
    self->secret[got] = '\0';
    return RU_OK;
}

ru_err
ru_oidc_new(const ru_config_t *cfg, const char *public_url, ru_oidc_t **out)
{
    *out = NULL;
    if (!cfg->oidc_issuer[0])
        return RU_OK;
    ru_oidc_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    self->cfg = cfg;
    pthread_mutex_init(&self->lock, NULL);
    self->slots = (size_t) cfg->oidc_pending;
    self->flows = calloc(self->slots, sizeof *self->flows);
    self->used = calloc(self->slots, sizeof *self->used);
    const char *base = cfg->oidc_redirect_base[0] ? cfg->oidc_redirect_base : public_url;
    size_t len = strlen(base);
    snprintf(self->redirect_uri, sizeof self->redirect_uri, "%.*s/auth/oidc/callback",
             (int) (len && base[len - 1] == '/' ? len - 1 : len), base);
    ru_err err = self->flows && self->used ? RU_OK : RU_E_NOMEM;
    if (!err)
        err = s_read_secret(self, cfg->oidc_client_secret_file);
    if (!err && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        err = RU_E_NOMEM;
    if (err) {
        ru_oidc_destroy(&self);
        return err;
    }
    ru_log_info(S_LOG, "sign-in through %s as client %s, redirect URI %s", cfg->oidc_issuer,
                cfg->oidc_client_id, self->redirect_uri);
    *out = self;
    return RU_OK;
}

void
ru_oidc_destroy(ru_oidc_t **self_p)
{
    ru_oidc_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; self->flows && i < self->slots; i++)
        s_flow_free(&self->flows[i]);
    free(self->flows);
    free(self->used);
    sodium_free(self->secret);
    free(self->auth_ep), free(self->token_ep), free(self->jwks_uri), free(self->jwks);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

const char *
ru_oidc_label(const ru_oidc_t *self)
{
    return self->cfg->oidc_label;
}
