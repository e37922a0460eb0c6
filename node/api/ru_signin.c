/*  ru_signin.c - the sign-in check and the directory's accounts.
 *
 *  The account is created, or its flag set, in one store actor request
 *  (s_provision) that reads the account first: two first sign-ins at once
 *  make one account, and a name taken since the check is seen.
 */
#include "ru_signin.h"

#include <stdio.h>
#include <string.h>

#include "ruche/ru_hlc.h"

#include "ru_ldap.h"
#include "ru_log.h"
#include "ru_throttle.h"

#define S_LOG "signin"

/*  What unknown users' passwords are checked against, so that a wrong
 *  name costs the time of a wrong password (argon2id, interactive limits,
 *  the hash of a password nobody has). */
static const char s_no_user_hash[] = "$argon2id$v=19$m=65536,t=2,p=1$tCbzH83MITMAO7h408GOoA$"
                                     "yDDwE3GbiqJsx3MkrFZEejA8GtF5loPlEQhBcK/pwZg";

static const char *const s_sources[] = {"local", "ldap", "oidc"};

typedef struct {
    const ru_signin_person_t *p;
    ru_account_t have; /* the account there was, on RU_E_EXISTS */
    int created;
} s_prov;

static ru_err
s_provision(const ru_writer_ctx_t *ctx, void *arg)
{
    s_prov *s = arg;
    const ru_signin_person_t *p = s->p;
    s->created = 0; /* a retried batch starts over */
    ru_err err = ru_account_get(ctx->txn, p->name, &s->have);
    if (err == RU_E_NOT_FOUND) {
        ru_account_t a = {.admin = p->admin > 0, .created_ms = ru_hlc_wall_ms(), .source = p->source};
        snprintf(a.name, sizeof a.name, "%s", p->name);
        snprintf(a.dir_id, sizeof a.dir_id, "%s", p->dir_id);
        s->created = 1;
        return strlen(p->name) > RU_MAX_NAME || strlen(p->dir_id) >= sizeof a.dir_id
                   ? RU_E_NAME
                   : ru_account_create_directory(ctx->txn, &a);
    }
    if (err)
        return err;
    if (s->have.source != p->source || strcmp(s->have.dir_id, p->dir_id) != 0)
        return RU_E_EXISTS;
    if (s->have.disabled)
        return RU_E_DENIED;
    return p->admin < 0 || s->have.admin == (p->admin > 0)
               ? RU_OK
               : ru_account_update(ctx->txn, p->name, NULL, p->admin > 0, -1);
}

ru_err
ru_signin_provision(ru_node_t *node, const ru_signin_person_t *p)
{
    s_prov s = {p, {{0}, 0, 0, 0, RU_ACCOUNT_LOCAL, {0}}, 0};
    ru_err err = ru_writer_call(node->writer, s_provision, &s);
    const char *src = s_sources[p->source];
    if (err == RU_E_EXISTS)
        ru_log_warn(S_LOG,
                    "%s (%s, id %s) is refused: the name %s belongs to %s account of this site "
                    "(id \"%s\"); not merged",
                    p->where, src, p->dir_id, p->name,
                    s.have.source == RU_ACCOUNT_LOCAL ? "a local" : s_sources[s.have.source],
                    s.have.dir_id);
    else if (err == RU_E_DENIED)
        ru_log_info(S_LOG, "%s: the account %s is disabled here", p->where, p->name);
    else if (!err && s.created)
        ru_log_info(S_LOG, "account %s created at the first sign-in of %s (%s, id %s)%s", p->name,
                    p->where, src, p->dir_id, p->admin > 0 ? ", an administrator" : "");
    return err;
}

/*  Checks a directory's person against the directory, and makes or
 *  updates their account. */
static ru_err
s_directory(ru_node_t *node, const char *name, const char *password, char *account)
{
    ru_ldap_person_t p;
    ru_err err = ru_ldap_authenticate(node->ldap, name, password, &p);
    if (!err) {
        int admin = node->cfg.ldap_admin_group[0] ? p.admin : -1; /* none: set here */
        ru_signin_person_t sp = {p.login, RU_ACCOUNT_LDAP, p.id, admin, p.dn};
        err = ru_signin_provision(node, &sp);
    }
    if (!err)
        snprintf(account, RU_MAX_NAME + 1, "%s", p.login);
    ru_ldap_person_fini(&p);
    return err;
}

/*  A wrong password of a local account: if the directory knows a person
 *  of that name with this password, say so (logged), never merge. */
static ru_err
s_local_clash(ru_node_t *node, const char *name, const char *password)
{
    ru_ldap_person_t p;
    ru_err err = node->ldap ? ru_ldap_authenticate(node->ldap, name, password, &p) : RU_E_INVALID;
    if (!err || err == RU_E_DENIED)
        ru_log_warn(S_LOG,
                    "%s (ldap, id %s) is refused: the name %s belongs to a local account of "
                    "this site; not merged",
                    p.dn, p.id, p.login);
    if (node->ldap)
        ru_ldap_person_fini(&p);
    return !err || err == RU_E_DENIED ? RU_E_EXISTS : RU_E_INVALID;
}

ru_err
ru_signin_password(ru_node_t *node, const char *name, const char *password,
                   char account[RU_MAX_NAME + 1])
{
    char hash[RU_PWHASH_SIZE];
    ru_txn_t txn;
    ru_err err = ru_store_read(node->store, &txn);
    if (err)
        return err;
    ru_account_t acct;
    int found = ru_account_get_hash(&txn, name, hash) == RU_OK &&
                ru_account_get(&txn, name, &acct) == RU_OK;
    ru_txn_abort(&txn);
    if (found && acct.source == RU_ACCOUNT_LOCAL) {
        err = ru_account_verify(hash, password);
        if (acct.disabled)
            return RU_E_INVALID;
        if (err)
            return s_local_clash(node, name, password);
        snprintf(account, RU_MAX_NAME + 1, "%s", name);
        return RU_OK;
    }
    if (node->ldap)
        return s_directory(node, name, password, account);
    err = ru_account_verify(s_no_user_hash, password); /* the time of a wrong password */
    return err == RU_OK ? RU_E_INVALID : err;               /* (it is one) */
}

ru_err
ru_signin_request(ru_req_t *req, const char *name, const char *password,
                  char account[RU_MAX_NAME + 1])
{
    ru_err err = name && password ? ru_signin_password(req->node, name, password, account)
                                  : RU_E_INVALID;
    if (err && ru_signin_counts(err))
        ru_throttle_login_failed(req, name);
    return err;
}

int
ru_signin_counts(ru_err err)
{
    return err == RU_E_INVALID || err == RU_E_DENIED || err == RU_E_EXISTS || err == RU_E_ENTRY;
}

int
ru_signin_refusal(ru_err err, const char **message)
{
    switch (err) {
    case RU_E_INVALID:
        *message = "Wrong user name or password.";
        return 401;
    case RU_E_EXISTS:
        *message = "This name belongs to another account of this site: ask the site's "
                   "administrators.";
        return 403;
    case RU_E_DENIED:
    case RU_E_ENTRY:
        *message = ru_err_str(err);
        return 403;
    case RU_E_DIRECTORY:
        *message = ru_err_str(err);
        return 503;
    default:
        *message = ru_err_str(err);
        return 500;
    }
}
