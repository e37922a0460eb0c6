/*  ru_oidc_test.c - the ID token's checks and the claims' mapping, with
 *  tokens this test signs itself with libcjose: a good token, a wrong
 *  signature, a tampered payload, alg none, HMAC, an unknown kid, a wrong
 *  audience (and several audiences with and without azp), a wrong issuer,
 *  expired, not yet valid, issued in the future, inside the clock skew,
 *  a missing and a wrong nonce; user names, groups, display names; PKCE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjose/cjose.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ru_oidc.h"

#define ISS "https://login.example.com/tenant"
#define CLIENT "ruche-paris"
#define NONCE "n-0S6_WzA2Mj"
#define SKEW 60

typedef struct {
    cjose_jwk_t *key, *other; /* the provider's key, and one it does not publish */
    char *jwks;               /* {"keys": [key's public half, kid "k1"]} */
    int64_t now;
} fixture;

static cjose_jwk_t *
s_rsa(const char *kid)
{
    static const uint8_t e[] = {1, 0, 1};
    cjose_err err;
    cjose_jwk_t *k = cjose_jwk_create_RSA_random(2048, e, sizeof e, &err);
    assert_non_null(k);
    assert_true(cjose_jwk_set_kid(k, kid, strlen(kid), &err));
    return k;
}

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    cjose_err err;
    f->key = s_rsa("k1");
    f->other = s_rsa("k1"); /* the same kid: only the signature tells them apart */
    char *pub = cjose_jwk_to_json(f->key, false, &err);
    json_t *set = json_pack("{s:[o]}", "keys", json_loads(pub, 0, NULL));
    json_object_set_new(json_array_get(json_object_get(set, "keys"), 0), "use", json_string("sig"));
    f->jwks = json_dumps(set, JSON_COMPACT);
    json_decref(set);
    free(pub);
    f->now = (int64_t) time(NULL);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    cjose_jwk_release(f->key);
    cjose_jwk_release(f->other);
    free(f->jwks);
    free(f);
    return 0;
}

/*  The claims of a good token at now. */
static json_t *
s_claims(const fixture *f)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:[s, s]}", "iss", ISS, "sub",
                     "248289761001", "aud", CLIENT, "exp", (json_int_t) (f->now + 300), "iat",
                     (json_int_t) f->now, "nonce", NONCE, "preferred_username", "Jane.Doe@corp",
                     "name", "Jane Doé", "groups", "staff", "ruche-admins");
}

/*  claims signed by key with alg and kid (NULL: none); claims is taken. */
static char *
s_sign(cjose_jwk_t *key, const char *alg, const char *kid, json_t *claims)
{
    cjose_err err;
    cjose_header_t *hdr = cjose_header_new(&err);
    assert_true(cjose_header_set(hdr, CJOSE_HDR_ALG, alg, &err));
    if (kid)
        assert_true(cjose_header_set(hdr, CJOSE_HDR_KID, kid, &err));
    char *text = json_dumps(claims, JSON_COMPACT);
    json_decref(claims);
    cjose_jws_t *jws = cjose_jws_sign(key, hdr, (const uint8_t *) text, strlen(text), &err);
    assert_non_null(jws);
    const char *compact;
    assert_true(cjose_jws_export(jws, &compact, &err));
    char *out = strdup(compact);
    cjose_jws_release(jws);
    cjose_header_release(hdr);
    free(text);
    return out;
}

/*  Checks token as the node would for a sign-in with NONCE. */
static ru_err
s_check(const fixture *f, const char *token, const char **why)
{
    ru_oidc_expect_t e = {ISS, CLIENT, NONCE, SKEW, f->now};
    json_t *claims = NULL;
    *why = NULL;
    ru_err err = ru_oidc_check_token(f->jwks, &e, token, &claims, why);
    assert_true(err ? claims == NULL && *why != NULL : claims != NULL);
    json_decref(claims);
    return err;
}

/*  Signs the good claims changed by one key (value NULL: removed). */
static ru_err
s_with(const fixture *f, const char *key, json_t *value, const char **why)
{
    json_t *c = s_claims(f);
    if (value)
        json_object_set_new(c, key, value);
    else
        json_object_del(c, key);
    char *token = s_sign(f->key, "RS256", "k1", c);
    ru_err err = s_check(f, token, why);
    free(token);
    return err;
}

static void
test_good_token(void **state)
{
    fixture *f = *state;
    const char *why;
    char *token = s_sign(f->key, "RS256", "k1", s_claims(f));
    assert_int_equal(s_check(f, token, &why), RU_OK);
    free(token);
    /*  a key set without kids, and a token without one: the RSA key serves */
    json_t *set = json_loads(f->jwks, 0, NULL);
    json_object_del(json_array_get(json_object_get(set, "keys"), 0), "kid");
    char *nokid = json_dumps(set, JSON_COMPACT);
    json_decref(set);
    token = s_sign(f->key, "RS256", NULL, s_claims(f));
    ru_oidc_expect_t e = {ISS, CLIENT, NONCE, SKEW, f->now};
    json_t *claims;
    assert_int_equal(ru_oidc_check_token(nokid, &e, token, &claims, &why), RU_OK);
    json_decref(claims);
    free(token);
    free(nokid);
}

static void
test_wrong_signature(void **state)
{
    fixture *f = *state;
    const char *why;
    char *token = s_sign(f->other, "RS256", "k1", s_claims(f));
    assert_int_equal(s_check(f, token, &why), RU_E_SIGNATURE);
    assert_non_null(strstr(why, "signature"));
    free(token);
    /*  the good token with one byte of its payload changed */
    token = s_sign(f->key, "RS256", "k1", s_claims(f));
    char *dot = strchr(token, '.');
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    assert_int_equal(s_check(f, token, &why), RU_E_SIGNATURE);
    free(token);
    /*  not a JWS at all */
    assert_int_equal(s_check(f, "not.a.token", &why), RU_E_SIGNATURE);
    assert_int_equal(s_check(f, "", &why), RU_E_SIGNATURE);
}

/*  The base64url of text. */
static void
s_b64(char *out, size_t size, const char *text)
{
    sodium_bin2base64(out, size, (const uint8_t *) text, strlen(text),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void
test_alg_none_and_hmac(void **state)
{
    fixture *f = *state;
    const char *why;
    char head[64], body[1024], token[2048];
    json_t *c = s_claims(f);
    char *text = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    s_b64(head, sizeof head, "{\"alg\":\"none\",\"kid\":\"k1\"}");
    s_b64(body, sizeof body, text);
    free(text);
    snprintf(token, sizeof token, "%s.%s.", head, body);
    assert_int_equal(s_check(f, token, &why), RU_E_SIGNATURE);
    assert_non_null(strstr(why, "algorithm"));
    /*  HS256 with a shared key: refused before any key is tried */
    cjose_err err;
    cjose_jwk_t *oct = cjose_jwk_create_oct_random(256, &err);
    char *hs = s_sign(oct, "HS256", "k1", s_claims(f));
    assert_int_equal(s_check(f, hs, &why), RU_E_SIGNATURE);
    assert_non_null(strstr(why, "algorithm"));
    free(hs);
    cjose_jwk_release(oct);
    /*  an RSA key whose set says it is for RS512 does not verify RS256 */
    json_t *set = json_loads(f->jwks, 0, NULL);
    json_object_set_new(json_array_get(json_object_get(set, "keys"), 0), "alg",
                        json_string("RS512"));
    char *jwks = json_dumps(set, JSON_COMPACT);
    json_decref(set);
    char *token2 = s_sign(f->key, "RS256", "k1", s_claims(f));
    ru_oidc_expect_t e = {ISS, CLIENT, NONCE, SKEW, f->now};
    json_t *claims;
    assert_int_not_equal(ru_oidc_check_token(jwks, &e, token2, &claims, &why), RU_OK);
    free(token2);
    free(jwks);
}

static void
test_unknown_kid(void **state)
{
    fixture *f = *state;
    const char *why;
    char *token = s_sign(f->key, "RS256", "k2", s_claims(f));
    assert_int_equal(s_check(f, token, &why), RU_E_NOT_FOUND);
    free(token);
}

static void
test_audience(void **state)
{
    fixture *f = *state;
    const char *why;
    assert_int_equal(s_with(f, "aud", json_string("another-app"), &why), RU_E_INVALID);
    assert_non_null(strstr(why, "audience"));
    assert_int_equal(s_with(f, "aud", NULL, &why), RU_E_INVALID);
    assert_int_equal(s_with(f, "aud", json_pack("[s]", CLIENT), &why), RU_OK);
    /*  several audiences need azp naming this client */
    assert_int_equal(s_with(f, "aud", json_pack("[s, s]", "other", CLIENT), &why), RU_E_INVALID);
    json_t *c = s_claims(f);
    json_object_set_new(c, "aud", json_pack("[s, s]", "other", CLIENT));
    json_object_set_new(c, "azp", json_string(CLIENT));
    char *token = s_sign(f->key, "RS256", "k1", c);
    assert_int_equal(s_check(f, token, &why), RU_OK);
    free(token);
    assert_int_equal(s_with(f, "azp", json_string("other"), &why), RU_E_INVALID);
}

static void
test_issuer(void **state)
{
    fixture *f = *state;
    const char *why;
    assert_int_equal(s_with(f, "iss", json_string("https://evil.example.com/tenant"), &why),
                     RU_E_INVALID);
    assert_non_null(strstr(why, "issuer"));
    assert_int_equal(s_with(f, "iss", json_string(ISS "/"), &why), RU_E_INVALID);
    assert_int_equal(s_with(f, "iss", NULL, &why), RU_E_INVALID);
}

static void
test_times(void **state)
{
    fixture *f = *state;
    const char *why;
    assert_int_equal(s_with(f, "exp", json_integer(f->now - SKEW - 1), &why), RU_E_INVALID);
    assert_non_null(strstr(why, "expired"));
    assert_int_equal(s_with(f, "exp", json_integer(f->now - SKEW + 5), &why), RU_OK);
    assert_int_equal(s_with(f, "exp", NULL, &why), RU_E_INVALID);
    assert_int_equal(s_with(f, "exp", json_string("tomorrow"), &why), RU_E_INVALID);
    assert_int_equal(s_with(f, "nbf", json_integer(f->now + SKEW + 5), &why), RU_E_INVALID);
    assert_non_null(strstr(why, "not valid yet"));
    assert_int_equal(s_with(f, "nbf", json_integer(f->now + SKEW - 5), &why), RU_OK);
    assert_int_equal(s_with(f, "iat", json_integer(f->now + SKEW + 5), &why), RU_E_INVALID);
    assert_non_null(strstr(why, "future"));
    assert_int_equal(s_with(f, "iat", NULL, &why), RU_E_INVALID);
}

static void
test_nonce(void **state)
{
    fixture *f = *state;
    const char *why;
    assert_int_equal(s_with(f, "nonce", NULL, &why), RU_E_INVALID);
    assert_non_null(strstr(why, "no nonce"));
    assert_int_equal(s_with(f, "nonce", json_string("n-replayed"), &why), RU_E_INVALID);
    assert_non_null(strstr(why, "nonce"));
    assert_int_equal(s_with(f, "nonce", json_integer(7), &why), RU_E_INVALID);
    assert_int_equal(s_with(f, "sub", NULL, &why), RU_E_INVALID);
}

static const ru_oidc_names_t s_names = {.username = "preferred_username",
                                        .display_name = "name",
                                        .email = "email",
                                        .department = "department",
                                        .site = "site",
                                        .id = "sub",
                                        .groups = "groups",
                                        .allow_group = "staff",
                                        .admin_group = "ruche-admins"};

static void
test_map(void **state)
{
    fixture *f = *state;
    const char *why;
    ru_oidc_user_t u;
    json_t *c = s_claims(f);
    json_object_set_new(c, "email", json_string("jane@corp.example"));
    json_object_set_new(c, "department", json_string("R&D"));
    json_object_set_new(c, "site", json_string("paris"));
    assert_int_equal(ru_oidc_map(&s_names, ISS, c, &u, &why), RU_OK);
    assert_string_equal(u.name, "jane.doe");
    assert_string_equal(u.display_name, "Jane Doé");
    assert_string_equal(u.email, "jane@corp.example");
    assert_string_equal(u.department, "R&D");
    assert_string_equal(u.site, "paris");
    assert_string_equal(u.dir_id, "248289761001"); /* id_claim sub, as it is */
    assert_int_equal(u.given, RU_OIDC_GAVE_DISPLAY | RU_OIDC_GAVE_EMAIL | RU_OIDC_GAVE_DEPARTMENT |
                                  RU_OIDC_GAVE_SITE | RU_OIDC_GAVE_ID);
    assert_true(u.admin);
    assert_int_equal(strlen(u.subject), 43);
    char first[RU_OIDC_RANDOM_SIZE];
    memcpy(first, u.subject, sizeof first);
    /*  another subject of the same name is another person */
    json_object_set_new(c, "sub", json_string("other"));
    assert_int_equal(ru_oidc_map(&s_names, ISS, c, &u, &why), RU_OK);
    assert_string_not_equal(u.subject, first);
    /*  one group as a string; outside the admin group */
    json_object_set_new(c, "groups", json_string("staff"));
    assert_int_equal(ru_oidc_map(&s_names, ISS, c, &u, &why), RU_OK);
    assert_false(u.admin);
    /*  outside the allowed group */
    json_object_set_new(c, "groups", json_pack("[s]", "contractors"));
    assert_int_equal(ru_oidc_map(&s_names, ISS, c, &u, &why), RU_E_UNTRUSTED);
    json_object_del(c, "groups");
    assert_int_equal(ru_oidc_map(&s_names, ISS, c, &u, &why), RU_E_UNTRUSTED);
    /*  no allowed group: everyone; names that make no name here */
    ru_oidc_names_t open = s_names;
    open.allow_group = "";
    assert_int_equal(ru_oidc_map(&open, ISS, c, &u, &why), RU_OK);
    static const char *const bad[] = {"", "@corp", "jane doe", "*", ")(", "é"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_object_set_new(c, "preferred_username", json_string(bad[i]));
        assert_int_equal(ru_oidc_map(&open, ISS, c, &u, &why), RU_E_NAME);
    }
    json_object_del(c, "preferred_username");
    assert_int_equal(ru_oidc_map(&open, ISS, c, &u, &why), RU_E_NAME);
    /*  a display name past 100 characters is cut at a whole character */
    json_object_set_new(c, "preferred_username", json_string("jdoe"));
    char longname[400] = "";
    for (int i = 0; i < 120; i++)
        strcat(longname, "é");
    json_object_set_new(c, "name", json_string(longname));
    assert_int_equal(ru_oidc_map(&open, ISS, c, &u, &why), RU_OK);
    assert_int_equal(strlen(u.display_name), 200);
    json_decref(c);
}

/*  What the claims give the profile: the id of id_claim as it is (a
 *  string, or an integer in decimal), the display name, e-mail,
 *  department and site; absent claims are not given (the profile keeps
 *  its own), nor an e-mail address or id past the protocol's limits,
 *  which cutting would make another's; a department or site past 100
 *  code points is cut at a whole one. */
static void
test_map_given(void **state)
{
    const char *why;
    ru_oidc_user_t u;
    json_t *c = s_claims(*state);
    /*  an empty site is given: the profile's is emptied */
    json_object_set_new(c, "site", json_string(""));
    assert_int_equal(ru_oidc_map(&s_names, ISS, c, &u, &why), RU_OK);
    assert_true(u.given & RU_OIDC_GAVE_SITE);
    assert_string_equal(u.site, "");
    /*  another id claim: an employee number, as text or as a number */
    ru_oidc_names_t names = s_names;
    names.id = "employee_id";
    assert_int_equal(ru_oidc_map(&names, ISS, c, &u, &why), RU_OK);
    assert_int_equal(u.given & RU_OIDC_GAVE_ID, 0);
    assert_string_equal(u.dir_id, "");
    json_object_set_new(c, "employee_id", json_integer(1048576));
    assert_int_equal(ru_oidc_map(&names, ISS, c, &u, &why), RU_OK);
    assert_string_equal(u.dir_id, "1048576");
    assert_true(u.given & RU_OIDC_GAVE_ID);
    json_object_set_new(c, "employee_id", json_string("E-0042"));
    assert_int_equal(ru_oidc_map(&names, ISS, c, &u, &why), RU_OK);
    assert_string_equal(u.dir_id, "E-0042");
    /*  an id of 128 bytes is taken, of 129 not, nor an empty one, nor
     *  another type; nor with no id claim */
    char big[RU_MAX_DIR_ID + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    json_object_set_new(c, "employee_id", json_string(big));
    assert_int_equal(ru_oidc_map(&names, ISS, c, &u, &why), RU_OK);
    assert_int_equal(u.given & RU_OIDC_GAVE_ID, 0);
    big[RU_MAX_DIR_ID] = '\0';
    json_object_set_new(c, "employee_id", json_string(big));
    assert_int_equal(ru_oidc_map(&names, ISS, c, &u, &why), RU_OK);
    assert_int_equal(strlen(u.dir_id), RU_MAX_DIR_ID);
    static const char *const not_ids[] = {"\"\"", "true", "[1]", "1.5", "null"};
    for (size_t i = 0; i < sizeof not_ids / sizeof not_ids[0]; i++) {
        json_object_set_new(c, "employee_id", json_loads(not_ids[i], JSON_DECODE_ANY, NULL));
        assert_int_equal(ru_oidc_map(&names, ISS, c, &u, &why), RU_OK);
        assert_int_equal(u.given & RU_OIDC_GAVE_ID, 0);
    }
    names.id = "";
    assert_int_equal(ru_oidc_map(&names, ISS, c, &u, &why), RU_OK);
    assert_int_equal(u.given & RU_OIDC_GAVE_ID, 0);
    /*  an e-mail address of 254 bytes is taken, of 255 not */
    char mail[RU_MAX_EMAIL + 2];
    memset(mail, 'm', sizeof mail - 1);
    memcpy(mail + sizeof mail - 13, "@corp.example", 13);
    mail[sizeof mail - 1] = '\0';
    json_object_set_new(c, "email", json_string(mail));
    assert_int_equal(ru_oidc_map(&s_names, ISS, c, &u, &why), RU_OK);
    assert_int_equal(u.given & RU_OIDC_GAVE_EMAIL, 0);
    assert_string_equal(u.email, "");
    json_object_set_new(c, "email", json_string(mail + 1));
    assert_int_equal(ru_oidc_map(&s_names, ISS, c, &u, &why), RU_OK);
    assert_true(u.given & RU_OIDC_GAVE_EMAIL);
    assert_string_equal(u.email, mail + 1);
    /*  a department of 120 code points is cut at 100 */
    char dept[600] = "";
    for (int i = 0; i < 120; i++)
        strcat(dept, i % 2 ? "é" : "d");
    json_object_set_new(c, "department", json_string(dept));
    assert_int_equal(ru_oidc_map(&s_names, ISS, c, &u, &why), RU_OK);
    assert_int_equal(strlen(u.department), 150);
    /*  absent, not text, an empty display name: not given */
    json_object_del(c, "email");
    json_object_set_new(c, "department", json_integer(7));
    json_object_del(c, "site");
    json_object_set_new(c, "name", json_string(""));
    assert_int_equal(ru_oidc_map(&s_names, ISS, c, &u, &why), RU_OK);
    assert_int_equal(u.given, RU_OIDC_GAVE_ID);
    json_decref(c);
}

static void
test_pkce(void **state)
{
    (void) state;
    char v[RU_OIDC_RANDOM_SIZE], ch[RU_OIDC_RANDOM_SIZE], v2[RU_OIDC_RANDOM_SIZE];
    ru_oidc_pkce(v, ch);
    ru_oidc_pkce(v2, ch);
    assert_string_not_equal(v, v2);
    assert_int_equal(strlen(v), 43);
    assert_int_equal(strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                     43);
    /*  the challenge is base64url(SHA-256(verifier)), RFC 7636 appendix B */
    uint8_t h[32];
    char want[RU_OIDC_RANDOM_SIZE];
    crypto_hash_sha256(h, (const uint8_t *) v2, strlen(v2));
    sodium_bin2base64(want, sizeof want, h, sizeof h, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    assert_string_equal(ch, want);
    static const char rfc_v[] = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    crypto_hash_sha256(h, (const uint8_t *) rfc_v, strlen(rfc_v));
    sodium_bin2base64(want, sizeof want, h, sizeof h, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    assert_string_equal(want, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

int
main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_token),
        cmocka_unit_test(test_wrong_signature),
        cmocka_unit_test(test_alg_none_and_hmac),
        cmocka_unit_test(test_unknown_kid),
        cmocka_unit_test(test_audience),
        cmocka_unit_test(test_issuer),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_nonce),
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_map_given),
        cmocka_unit_test(test_pkce),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
