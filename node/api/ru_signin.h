/*  ru_signin.h - who may sign in, with what password: the one check
 *  behind every sign-in form (the web front end's POST /auth/sign_in, the
 *  OAuth password grant, which the CLI uses, and the login page of
 *  /oauth/authorize), and the accounts of the people whom the company
 *  directory or identity provider vouches for.
 *
 *  A local account (the first admin, service accounts, accounts that
 *  administrators add) is checked against its own password (argon2id), as
 *  it always was, and whether the directory is up or not. Any other name
 *  goes to the company directory when [ldap] is on (ru_ldap.h); the
 *  first sign-in that it accepts creates the account, with no local
 *  password, and every sign-in sets its admin flag from the directory's
 *  administrators' group (with no [ldap] admin_group, administrators set
 *  it here, as for local accounts). A directory's person whose name is that of a
 *  local account, or of an account of another person (another stable id)
 *  or another source, is refused and logged, never merged: the right
 *  password of the local account still signs in.
 *
 *  The calls block (argon2id, a directory's round trips): HTTP worker
 *  threads only.
 */
#ifndef RU_SIGNIN_H
#define RU_SIGNIN_H

#include "ru_account.h"
#include "ru_http.h"
#include "ru_node.h"

/*  A person a directory or identity provider vouches for. */
typedef struct {
    const char *name;         /* the user name here */
    ru_account_source source; /* RU_ACCOUNT_LDAP or RU_ACCOUNT_OIDC */
    const char *dir_id;       /* their stable id there */
    int admin;                /* in the administrators' group there; -1: not said */
    const char *where;        /* for the log: their DN, subject ... */
} ru_signin_person_t;

/*  The account of p: created when there is none (logged), its admin flag
 *  set from p otherwise (unless p leaves it unsaid). RU_E_EXISTS (logged) when the name belongs to a
 *  local account or to another person or source, RU_E_DENIED when the
 *  account is disabled here, RU_E_NAME for a name that is no user name. */
RU_MUST_CHECK ru_err ru_signin_provision(ru_node_t *node, const ru_signin_person_t *p);

/*  Checks name and password (see the top of this file); the name of the
 *  account signed in goes to account (a directory's login name in lower
 *  case). RU_E_INVALID: a wrong name or password, or a disabled local
 *  account (which cost the time of a wrong password); RU_E_DENIED,
 *  RU_E_ENTRY, RU_E_DIRECTORY as ru_ldap_authenticate; RU_E_EXISTS as
 *  ru_signin_provision; or a store's error. */
RU_MUST_CHECK ru_err ru_signin_password(ru_node_t *node, const char *name, const char *password,
                                        char account[RU_MAX_NAME + 1]);

/*  ru_signin_password for a sign-in request (name or password NULL: a
 *  wrong password), whose failures that ru_signin_counts count in the
 *  login limiter, by req's address and name. */
RU_MUST_CHECK ru_err ru_signin_request(ru_req_t *req, const char *name, const char *password,
                                       char account[RU_MAX_NAME + 1]);

/*  Does a refusal with err count as a failed sign-in in the login
 *  limiter? (a directory that cannot be reached or a store's error is no
 *  guess of a password) */
int ru_signin_counts(ru_err err);
/*  The HTTP status of a refusal with err, and what it says to people
 *  (a sentence) into *message. */
int ru_signin_refusal(ru_err err, const char **message);

#endif
