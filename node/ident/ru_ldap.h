/*  ru_ldap.h - the company directory over LDAP (OpenLDAP or Active
 *  Directory): who may sign in with their company password, and every
 *  person of the directory for the directory sync.
 *
 *  Sign-in is search-then-bind: the service account ([ldap] bind_dn, its
 *  password read once from bind_password_file) searches base_dn for the
 *  one entry that user_filter selects with the login name put in, escaped
 *  (RFC 4515); then a second bind, as that entry's DN with the password
 *  given, checks the password; the entry's attributes, read by the search,
 *  make an ru_ldap_person_t. A login name that is not a valid ruche user
 *  name (lower case is made of upper case first) and an empty password are
 *  refused before any request: a simple bind with an empty password is an
 *  unauthenticated bind, which directories let "succeed".
 *
 *  Each call opens its own connection (ldap:// with StartTLS, or ldaps://;
 *  the server's certificate checked against ca_file, or the system's CAs)
 *  and closes it: a sign-in is rare next to a connection's cost, and no
 *  connection is shared between threads. Every call blocks, for at most
 *  timeout_ms to connect and timeout_ms for each operation; the caller
 *  runs them on a worker thread (the HTTP handlers do), never on an event
 *  loop. An ru_ldap_t is read-only after ru_ldap_new: any thread may use
 *  it at any time.
 *
 *  Errors for the caller: RU_E_INVALID wrong credentials (unknown name,
 *  wrong or empty password, a name that is no user name); RU_E_DENIED the
 *  password is right but the person is not in allow_group, or disabled
 *  (Active Directory's userAccountControl bit 2, or a bind refused as
 *  such); RU_E_DIRECTORY the directory cannot be reached, refuses the
 *  service account, or the TLS handshake fails (logged with the reason);
 *  RU_E_ENTRY the entry cannot make a person: no login name valid as a
 *  user name, no display name, no stable id, or several entries match
 *  (logged with the DN).
 */
#ifndef RU_LDAP_H
#define RU_LDAP_H

#include <stddef.h>
#include <stdint.h>

#include "ruche/ru_error.h"
#include "ruche/ru_limits.h"

#include "ru_config.h"

#define RU_LDAP_TEXT_MAX 256 /* bytes of a text attribute's value, its NUL included */
#define RU_LDAP_DN_MAX 1024  /* bytes of a DN, its NUL included */
#define RU_LDAP_ID_MAX 130   /* a stable id: its text, or "hex:" and its bytes' hex */
#define RU_LDAP_SKILLS_MAX 32

typedef struct ru_ldap ru_ldap_t;

/*  One person of the directory. Text is UTF-8; an attribute that is
 *  absent, too long or not UTF-8 leaves its field "" (the last two are
 *  logged). photo is malloc'd (ru_ldap_person_fini frees it); NULL when the
 *  entry has none, or one over max_photo_bytes (then photo_too_big). */
typedef struct {
    char login[RU_MAX_NAME + 1]; /* the login attribute in lower case: the user name */
    char dn[RU_LDAP_DN_MAX];
    char id[RU_LDAP_ID_MAX];
    char name[RU_LDAP_TEXT_MAX];
    char mail[RU_LDAP_TEXT_MAX];
    char title[RU_LDAP_TEXT_MAX];
    char department[RU_LDAP_TEXT_MAX];
    char site[RU_LDAP_TEXT_MAX];
    char office[RU_LDAP_TEXT_MAX];
    char phone[RU_LDAP_TEXT_MAX];
    char manager[RU_LDAP_DN_MAX];
    char skills[RU_LDAP_SKILLS_MAX][RU_LDAP_TEXT_MAX];
    int n_skills;
    uint8_t *photo;
    size_t photo_len;
    int photo_too_big;
    int allowed;  /* in allow_group (or no allow_group) and not disabled */
    int admin;    /* in admin_group */
    int disabled; /* userAccountControl says so */
} ru_ldap_person_t;

/*  What ru_ldap_each went through. */
typedef struct {
    uint64_t persons; /* handed to the callback */
    uint64_t skipped; /* entries that make no person (logged) */
    uint64_t pages;   /* search requests */
} ru_ldap_stats_t;

/*  Called with each person; nonzero stops the walk. p is valid during the
 *  call only. */
typedef int (*ru_ldap_each_fn)(void *ctx, const ru_ldap_person_t *p);

/*  The directory of cfg's [ldap] section, whose bind password file is read
 *  now. RU_E_INVALID (logged) for a filter with another % sequence than
 *  %s and %%, or a password file that cannot be read; *out stays NULL
 *  when [ldap] uri is "" (LDAP off). */
RU_MUST_CHECK ru_err ru_ldap_new(const ru_config_t *cfg, ru_ldap_t **out);
void ru_ldap_destroy(ru_ldap_t **self_p);

/*  Signs login in with password (see the top of this file): RU_OK with
 *  *p filled, or an error; for RU_E_DENIED *p is filled too. The caller
 *  calls ru_ldap_person_fini(p) whatever the result. */
RU_MUST_CHECK ru_err ru_ldap_authenticate(ru_ldap_t *self, const char *login,
                                          const char *password, ru_ldap_person_t *p);

/*  Calls fn with every person under base_dn that sync_filter selects, as
 *  the service account, page_size entries a page (the simple paged
 *  results control, RFC 2696: Active Directory gives at most 1,000 entries
 *  to a search that does not page). Entries that make no person are
 *  skipped and counted. RU_E_DIRECTORY when the directory fails part way
 *  (the persons before were called). stats may be NULL. */
RU_MUST_CHECK ru_err ru_ldap_each(ru_ldap_t *self, ru_ldap_each_fn fn, void *ctx,
                                  ru_ldap_stats_t *stats);

/*  The stable id (id_attribute) of the entry dn, into id: for a manager
 *  whom the sync's walk did not see (one of another site). RU_E_NOT_FOUND
 *  when there is no such entry or it has no id; RU_E_DIRECTORY. */
RU_MUST_CHECK ru_err ru_ldap_id_of(ru_ldap_t *self, const char *dn, char id[RU_LDAP_ID_MAX]);
void ru_ldap_person_fini(ru_ldap_person_t *p);

/*  RFC 4515: value's bytes with '*', '(', ')', '\' and NUL written \2a,
 *  \28, \29, \5c and \00, into out (size bytes, NUL-terminated). RU_E_TOO_BIG
 *  when it does not fit. */
RU_MUST_CHECK ru_err ru_ldap_escape(const char *value, size_t len, char *out, size_t size);
/*  pattern with each %s replaced by value escaped and %% by %, into out.
 *  RU_E_INVALID for any other %; RU_E_TOO_BIG when it does not fit. */
RU_MUST_CHECK ru_err ru_ldap_filter(const char *pattern, const char *value, char *out,
                                    size_t size);
/*  A login name as typed into a user name (ASCII upper case lowered), into
 *  name; RU_E_NAME when it is not one (empty, too long, another
 *  character than a-z, 0-9, '_', '.', '-'). */
RU_MUST_CHECK ru_err ru_ldap_login_name(const char *login, char name[RU_MAX_NAME + 1]);

#endif
