/*  ru_api_oidc.c - sign-in through the company's OpenID provider:
 *  GET /auth/oidc (is it on, and its label), GET /auth/oidc/start and
 *  GET /auth/oidc/callback. The protocol is ident/ru_oidc's; this file is
 *  what the browser sees and what a sign-in makes here.
 *
 *  /auth/oidc/start?return=PATH starts a flow and sends the browser to the
 *  provider. The flow's state also goes into a cookie (ruche_oidc,
 *  HttpOnly, path /auth/oidc, SameSite=Lax because the provider sends the
 *  browser back from another site), and the callback takes the flow only
 *  when the state it is given is the cookie's: a sign-in that someone else
 *  started cannot be finished in this browser (login CSRF). PATH is where
 *  the browser goes once signed in: a path of this site ("/" by default),
 *  for Mastodon apps the /oauth/authorize request that sent the user here,
 *  never another site.
 *
 *  The callback refuses, logs (with the address) and explains: a provider
 *  that answers with an error, a wrong or unknown or replayed state, an ID
 *  token refused by ru_oidc (forged, expired, another audience, a wrong or
 *  replayed nonce), a user outside [oidc] allow_group, and a name that a
 *  local account already has. Otherwise the account is made at the first
 *  sign-in (s_provision), the claims are published as the profile at
 *  every sign-in (s_publish_claims: the display name, and the directory
 *  id, e-mail, department and site of the person; nothing when nothing
 *  changed), the web front end's session cookie is set as POST
 *  /auth/sign_in sets it, and a page sends the browser on to PATH.
 *  A page, not a redirect: the session cookie is SameSite=Strict, and a
 *  browser does not send it on a redirect that a page of the provider
 *  started, so /oauth/authorize would not see the user signed in; a
 *  navigation that this site's own page starts carries it.
 *
 *  An account made here is the provider's (ru_signin_provision, source
 *  oidc), bound to the person's directory id ([oidc] id_claim) or, when
 *  the token gives none, to ru_oidc_user_t.subject (a hash of the issuer
 *  and the provider's subject): it has no password, and a later sign-in
 *  of the same name by another person, or by anyone when the name is a
 *  local account's, is refused rather than merged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "ru_api.h"
#include "ru_signin.h"
#include "ru_log.h"
#include "ru_oidc.h"
#include "ru_profile.h"

#define S_LOG "oidc"
#define S_COOKIE "ruche_oidc"

/*  May the browser be sent to ret after signing in: a path of this site
 *  (not "//host" nor "/\host", which browsers read as another site), of
 *  visible ASCII? */
static int
s_return_ok(const char *ret)
{
    size_t len = strlen(ret);
    if (len == 0 || len >= RU_OIDC_RETURN_MAX || ret[0] != '/' || ret[1] == '/' || ret[1] == '\\')
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) ret[i] <= ' ' || (unsigned char) ret[i] >= 0x7f)
            return 0;
    return 1;
}

int
ru_api_oidc_info(ru_req_t *req)
{
    ru_oidc_t *oidc = req->node->oidc;
    if (!oidc)
        return ru_http_json(req, 200, json_pack("{s:b}", "enabled", 0));
    return ru_http_json(req, 200, json_pack("{s:b, s:s, s:s}", "enabled", 1, "label",
                                            ru_oidc_label(oidc), "start", "/auth/oidc/start"));
}

/*  The state cookie: set to state, or cleared ("" state). */
static void
s_state_cookie(ru_req_t *req, const char *state)
{
    ru_http_header(req, "Set-Cookie",
                   S_COOKIE "=%s; Path=/auth/oidc; Max-Age=%ld; HttpOnly; SameSite=Lax%s", state,
                   *state ? req->node->cfg.oidc_pending_s : 0L,
                   strncmp(req->node->public_url, "https:", 6) == 0 ? "; Secure" : "");
}

int
ru_api_oidc_start(ru_req_t *req)
{
    ru_oidc_t *oidc = req->node->oidc;
    if (!oidc)
        return ru_http_error(req, 404, "sign-in through an OpenID provider is not set up here");
    const char *ret = ru_http_param(req, "return");
    ret = ret && *ret ? ret : "/";
    if (!s_return_ok(ret))
        return ru_http_error(req, 422, "return must be a path of this site");
    char *url = NULL, state[RU_OIDC_RANDOM_SIZE];
    const char *why = "";
    ru_err err = ru_oidc_begin(oidc, ret, &url, state, &why);
    if (err == RU_E_TOO_MANY) {
        ru_log_warn(S_LOG, "sign-in from %s refused: %s", ru_http_req_addr(req), why);
        ru_http_header(req, "Retry-After", "60");
        return ru_http_error(req, 503, "%s", why);
    }
    if (err == RU_E_IO)
        return ru_http_error(req, 502,
                             "sign-in with %s is not available now: %s. Accounts of this site "
                             "can still sign in with their password.",
                             ru_oidc_label(oidc), why);
    if (err)
        return ru_http_fail(req, err);
    s_state_cookie(req, state);
    ru_http_header(req, "Location", "%s", url);
    free(url);
    sodium_memzero(state, sizeof state);
    return ru_http_send(req, 302, "text/plain; charset=utf-8", "", 0);
}

/*  ---------------------------------------------------------------------
 *  The account
 */

static ru_str_t
s_str(const char *s)
{
    return (ru_str_t){s, (uint32_t) strlen(s)};
}

/*  Publishes what the claims say of the user as their profile: the
 *  display name, and of the directory entry the id, e-mail, department and
 *  site, each only when the provider gave it (ru_oidc_user_t.given). The
 *  rest is kept: the entry's title, office, phone, manager and departed,
 *  which the directory sync owns, and the employee's own note, photos,
 *  fields and skills. Nothing is published when nothing changed. A
 *  failure is logged and does not stop the sign-in. */
static void
s_publish_claims(ru_req_t *req, const ru_oidc_user_t *user)
{
    static const struct {
        unsigned gave, part;
    } parts[] = {
        {RU_OIDC_GAVE_ID, RU_PROFILE_DIR_ID},
        {RU_OIDC_GAVE_EMAIL, RU_PROFILE_EMAIL},
        {RU_OIDC_GAVE_DEPARTMENT, RU_PROFILE_DEPARTMENT},
        {RU_OIDC_GAVE_SITE, RU_PROFILE_SITE},
    };
    ru_profile_change_t c;
    memset(&c, 0, sizeof c);
    c.name = user->name;
    c.set_display = (user->given & RU_OIDC_GAVE_DISPLAY) != 0;
    c.display_name = s_str(user->display_name);
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        c.set_parts |= user->given & parts[i].gave ? parts[i].part : 0;
    c.person.dir_id = s_str(user->dir_id);
    c.person.email = s_str(user->email);
    c.person.department = s_str(user->department);
    c.person.site = s_str(user->site);
    if (!c.set_display && !c.set_parts)
        return;
    int made = 0;
    ru_err err = ru_profile_change(req->node->writer, &c, &made);
    if (err)
        ru_log_warn(S_LOG, "the profile of %s was not updated from the provider's claims: %s",
                    user->name, ru_err_str(err));
    else if (made)
        ru_log_info(S_LOG, "the profile of %s updated from the provider's claims", user->name);
}

/*  The account of user: made at the first sign-in (ru_signin_provision:
 *  an account of the provider's, bound to the person's directory id, or
 *  to the provider's subject when the token gives none), its admin flag
 *  set from the claims, then the claims published as the profile. */
static ru_err
s_provision(ru_req_t *req, const ru_oidc_user_t *user)
{
    char where[64 + RU_OIDC_RANDOM_SIZE];
    snprintf(where, sizeof where, "the OpenID provider's subject %s", user->subject);
    ru_signin_person_t p = {user->name, RU_ACCOUNT_OIDC,
                            user->dir_id[0] ? user->dir_id : user->subject,
                            req->node->cfg.oidc_admin_group[0] ? user->admin : -1, where};
    ru_err err = ru_signin_provision(req->node, &p);
    if (err)
        return err;
    s_publish_claims(req, user);
    return RU_OK;
}

/*  ---------------------------------------------------------------------
 *  The callback
 */

/*  Logs a refused sign-in and answers status with message (a sentence). */
static int
s_refuse(ru_req_t *req, int status, const char *message, const char *why)
{
    ru_log_warn(S_LOG, "sign-in from %s refused: %s", ru_http_req_addr(req), why);
    return ru_http_error(req, status, "%s", message);
}

/*  The answer to a failed ru_oidc_finish. */
static int
s_finish_failed(ru_req_t *req, ru_err err, const char *why)
{
    char msg[512];
    const char *label = ru_oidc_label(req->node->oidc);
    switch (err) {
    case RU_E_NOT_FOUND:
        return s_refuse(req, 400, "this sign-in is unknown, expired or already finished: "
                                  "start again", why);
    case RU_E_IO:
        snprintf(msg, sizeof msg,
                 "sign-in with %s failed: %s. Accounts of this site can still sign in with "
                 "their password.", label, why);
        return s_refuse(req, 502, msg, why);
    case RU_E_UNTRUSTED:
    case RU_E_NAME:
        snprintf(msg, sizeof msg, "%s may not sign in here: %s", label, why);
        return s_refuse(req, 403, msg, why);
    case RU_E_SIGNATURE:
    case RU_E_INVALID:
        snprintf(msg, sizeof msg, "the answer of %s was refused: %s", label, why);
        return s_refuse(req, 401, msg, why);
    default:
        return ru_http_fail(req, err);
    }
}

/*  Checks what the provider sent back against the browser's cookie; sends
 *  the refusal and returns its status, or 0. */
static int
s_callback_refused(ru_req_t *req, const char *state)
{
    const char *error = ru_http_param(req, "error");
    char cookie[RU_OIDC_RANDOM_SIZE + 1];
    int n = ru_http_cookie(req, S_COOKIE, cookie, sizeof cookie);
    s_state_cookie(req, "");
    if (error) {
        char code[64];
        size_t len = strspn(error, "abcdefghijklmnopqrstuvwxyz_");
        snprintf(code, sizeof code, "%.*s", (int) (len < 60 ? len : 60), error);
        char msg[128];
        snprintf(msg, sizeof msg, "the identity provider refused the sign-in (%s)", code);
        return s_refuse(req, 401, msg, msg);
    }
    if (!state || n != RU_OIDC_RANDOM_SIZE - 1 || strcmp(cookie, state) != 0)
        return s_refuse(req, 400,
                        "this sign-in did not start in this browser, or its state is wrong: "
                        "start again",
                        state ? "the state is not the one this browser's sign-in holds"
                              : "no state");
    return 0;
}

int
ru_api_oidc_callback(ru_req_t *req)
{
    ru_oidc_t *oidc = req->node->oidc;
    if (!oidc)
        return ru_http_error(req, 404, "sign-in through an OpenID provider is not set up here");
    const char *state = ru_http_param(req, "state");
    int refused = s_callback_refused(req, state);
    if (refused)
        return refused;
    ru_oidc_user_t user;
    char ret[RU_OIDC_RETURN_MAX], token[RU_TOKEN_TEXT_SIZE];
    const char *why = "";
    ru_err err = ru_oidc_finish(oidc, state, ru_http_param(req, "code"), &user, ret, &why);
    if (err)
        return s_finish_failed(req, err, why);
    err = s_provision(req, &user);
    if (err == RU_E_EXISTS || err == RU_E_DENIED) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 err == RU_E_EXISTS ? "the account %s of this site belongs to someone else: "
                                      "an administrator must sort it out"
                                    : "the account %s is disabled here",
                 user.name);
        return s_refuse(req, 409, msg, msg);
    }
    if (!err)
        err = ru_api_open_session(req, user.name, token);
    if (err)
        return ru_http_fail(req, err);
    ru_log_info(S_LOG, "%s signed in from %s", user.name, ru_http_req_addr(req));
    ru_api_session_cookie(req, token);
    sodium_memzero(token, sizeof token);
    return ru_api_continue_page(req, ret, user.name);
}
