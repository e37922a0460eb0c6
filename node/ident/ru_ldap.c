/*  ru_ldap.c - sign-in and the walk over every person, on libldap.
 *
 *  A connection (s_open) is: ldap_initialize, LDAPv3, no referral chasing
 *  (Active Directory answers searches of a domain's root with referrals to
 *  other partitions, which would need the same credentials elsewhere),
 *  certificates demanded and checked against ca_file in a TLS context of
 *  the handle's own, StartTLS when asked, then the service account's bind.
 *  Each blocking call is given what is left of its deadline, as the
 *  network timeout (connect, TLS handshake) and the operation timeout.
 *
 *  The entry's attributes are read by the search itself (the service
 *  account may read them; the person, once bound, might not), so the
 *  bind as the person only proves the password.
 *
 *  libldap does not bound the TLS handshake of an ldaps:// connection by
 *  its timeouts: a server that takes the connection and stays silent
 *  holds the caller forever (ldapsearch too). So every call is guarded:
 *  the connection callback records its socket, and a watchdog thread of
 *  the ru_ldap_t shuts down the socket of a call still at work 100 ms past
 *  its deadline, which fails whatever libldap was waiting for. The
 *  socket is forgotten (under the lock) before libldap closes it, so a
 *  descriptor number used again is never shut down.
 *
 *  DNs of groups are compared in the LDAPv3 string form that
 *  ldap_dn_normalize gives, in ASCII lower case: "CN=Staff, OU=Groups"
 *  and "cn=staff,ou=groups" are one group.
 */
#include "ru_ldap.h"

#include <errno.h>
#include <fcntl.h>
#include <ldap.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ruche/ru_text.h"

#include "ru_fd.h"
#include "ru_log.h"

#define S_LOG "ldap"
#define S_PASSWORD_MAX 1024
#define S_FILTER_MAX (RU_CONFIG_LDAP_MAX * 4)
#define S_ATTRS_MAX 16

#define S_GRACE_MS 100 /* past a deadline, before the watchdog cuts the connection */
#define S_WATCH_MS 50  /* between the watchdog's rounds */

/*  A call at work: its connection's socket and deadline, on the caller's
 *  stack, linked in the ru_ldap_t's list while the call runs. */
typedef struct s_guard {
    ldap_conncb cb; /* lc_arg: this guard */
    ru_ldap_t *owner;
    int fd; /* -1: none (yet, or any more) */
    int64_t deadline;
    struct s_guard *prev, *next;
} s_guard;

struct ru_ldap {
    ru_config_t cfg;
    pthread_t watchdog;
    pthread_mutex_t lock; /* guards, stopping */
    pthread_cond_t wake;
    s_guard *guards;
    int stopping;
    char *password; /* sodium_malloc'd; NULL: the search is anonymous */
    char allow[RU_CONFIG_LDAP_MAX], admin[RU_CONFIG_LDAP_MAX]; /* normalized; "": none */
    const char *attrs[S_ATTRS_MAX];                           /* what a search asks for */
};

/*  ---------------------------------------------------------------------
 *  Filters and names
 */

ru_err
ru_ldap_escape(const char *value, size_t len, char *out, size_t size)
{
    size_t at = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) value[i];
        int special = c == '*' || c == '(' || c == ')' || c == '\\' || c == '\0';
        if (at + (special ? 3 : 1) >= size)
            return RU_E_TOO_BIG;
        if (special)
            at += (size_t) snprintf(out + at, size - at, "\\%02x", c);
        else
            out[at++] = (char) c;
    }
    if (size == 0)
        return RU_E_TOO_BIG;
    out[at] = '\0';
    return RU_OK;
}

ru_err
ru_ldap_filter(const char *pattern, const char *value, char *out, size_t size)
{
    size_t at = 0;
    for (const char *p = pattern; *p; p++) {
        if (at + 1 >= size)
            return RU_E_TOO_BIG;
        if (*p != '%') {
            out[at++] = *p;
            continue;
        }
        p++;
        if (*p == '%')
            out[at++] = '%';
        else if (*p == 's') {
            ru_err err = ru_ldap_escape(value, strlen(value), out + at, size - at);
            if (err)
                return err;
            at += strlen(out + at);
        } else
            return RU_E_INVALID;
    }
    if (at >= size)
        return RU_E_TOO_BIG;
    out[at] = '\0';
    return RU_OK;
}

ru_err
ru_ldap_login_name(const char *login, char name[RU_MAX_NAME + 1])
{
    size_t len = strlen(login);
    if (len == 0 || len > RU_MAX_NAME)
        return RU_E_NAME;
    for (size_t i = 0; i < len; i++)
        name[i] = login[i] >= 'A' && login[i] <= 'Z' ? (char) (login[i] - 'A' + 'a') : login[i];
    name[len] = '\0';
    return ru_name_check(name, len);
}

/*  ---------------------------------------------------------------------
 *  Set-up
 */

/*  The bind password, alone in its file (a final newline is not part of
 *  it), into sodium_malloc'd memory. */
static ru_err
s_read_password(const char *path, char **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        ru_log_err(S_LOG, "[ldap] bind_password_file %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return RU_E_INVALID;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        ru_log_warn(S_LOG, "[ldap] bind_password_file %s is readable by others than its owner",
                    path);
    char *pw = sodium_malloc(S_PASSWORD_MAX + 1);
    size_t got = 0;
    if (!pw) {
        close(fd);
        return RU_E_NOMEM;
    }
    int e = ru_fd_read_all(fd, pw, S_PASSWORD_MAX + 1, &got);
    close(fd);
    while (!e && got > 0 && (pw[got - 1] == '\n' || pw[got - 1] == '\r'))
        got--;
    const char *why = e ? strerror(e) : got == 0 ? "it is empty"
                                      : got > S_PASSWORD_MAX ? "it is over 1024 bytes"
                                      : memchr(pw, '\0', got) ? "it holds a NUL byte" : NULL;
    if (why) {
        ru_log_err(S_LOG, "[ldap] bind_password_file %s: %s", path, why);
        sodium_free(pw);
        return RU_E_INVALID;
    }
    pw[got] = '\0';
    *out = pw;
    return RU_OK;
}

/*  A DN in the form groups are compared in, into out ("" for ""). */
static void
s_dn_norm(const char *dn, char *out, size_t size)
{
    char *norm = NULL;
    if (!*dn || ldap_dn_normalize(dn, LDAP_DN_FORMAT_LDAP, &norm, LDAP_DN_FORMAT_LDAPV3) != 0)
        norm = NULL;
    snprintf(out, size, "%s", norm ? norm : dn);
    for (char *c = out; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char) (*c - 'A' + 'a');
    ldap_memfree(norm);
}

static void
s_attrs(ru_ldap_t *self)
{
    const ru_config_t *c = &self->cfg;
    const char *all[] = {c->ldap_attr_login,  c->ldap_attr_name,   c->ldap_attr_mail,
                         c->ldap_attr_title,  c->ldap_attr_department, c->ldap_attr_site,
                         c->ldap_attr_office, c->ldap_attr_phone,  c->ldap_attr_manager,
                         c->ldap_attr_photo,  c->ldap_attr_id,     c->ldap_attr_skills,
                         c->ldap_attr_member_of, "userAccountControl"};
    int n = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (*all[i])
            self->attrs[n++] = all[i];
    self->attrs[n] = NULL;
}

static int64_t s_now_ms(void);

/*  Shuts down the socket of every call past its deadline and grace. */
static void *
s_watchdog(void *arg)
{
    ru_ldap_t *self = arg;
    pthread_mutex_lock(&self->lock);
    while (!self->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += S_WATCH_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&self->wake, &self->lock, &until);
        int64_t now = s_now_ms();
        for (s_guard *g = self->guards; g; g = g->next)
            if (g->fd >= 0 && now > g->deadline + S_GRACE_MS) {
                ru_log_warn(S_LOG, "%s: no answer within [ldap] timeout_ms: connection cut",
                            self->cfg.ldap_uri);
                shutdown(g->fd, SHUT_RDWR);
                g->fd = -1;
            }
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

/*  libldap's connection callbacks: a socket connected, or about to close. */
static int
s_conn_add(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv, struct sockaddr *addr, ldap_conncb *cb)
{
    (void) ld, (void) srv, (void) addr;
    s_guard *g = cb->lc_arg;
    int fd = -1;
    ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd);
    pthread_mutex_lock(&g->owner->lock);
    g->fd = fd;
    pthread_mutex_unlock(&g->owner->lock);
    return 0;
}

static void
s_conn_del(LDAP *ld, Sockbuf *sb, ldap_conncb *cb)
{
    (void) ld, (void) sb;
    s_guard *g = cb->lc_arg;
    pthread_mutex_lock(&g->owner->lock);
    g->fd = -1;
    pthread_mutex_unlock(&g->owner->lock);
}

/*  Links g, a call's guard, into the watched list. */
static void
s_guard_begin(ru_ldap_t *self, s_guard *g, int64_t deadline)
{
    *g = (s_guard){{s_conn_add, s_conn_del, g}, self, -1, deadline, NULL, NULL};
    pthread_mutex_lock(&self->lock);
    g->next = self->guards;
    if (g->next)
        g->next->prev = g;
    self->guards = g;
    pthread_mutex_unlock(&self->lock);
}

/*  A new deadline for the call of g (the walk's next page). */
static void
s_guard_renew(s_guard *g, int64_t deadline)
{
    pthread_mutex_lock(&g->owner->lock);
    g->deadline = deadline;
    pthread_mutex_unlock(&g->owner->lock);
}

static void
s_guard_end(s_guard *g)
{
    ru_ldap_t *self = g->owner;
    pthread_mutex_lock(&self->lock);
    if (g->prev)
        g->prev->next = g->next;
    else
        self->guards = g->next;
    if (g->next)
        g->next->prev = g->prev;
    pthread_mutex_unlock(&self->lock);
}

ru_err
ru_ldap_new(const ru_config_t *cfg, ru_ldap_t **out)
{
    char probe[S_FILTER_MAX];
    *out = NULL;
    if (!cfg->ldap_uri[0])
        return RU_OK;
    const char *filters[] = {cfg->ldap_user_filter, cfg->ldap_sync_filter};
    for (int i = 0; i < 2; i++)
        if (ru_ldap_filter(filters[i], "x", probe, sizeof probe) != RU_OK) {
            ru_log_err(S_LOG, "[ldap] %s = %s: %%s stands for the login name, %%%% for %%; "
                       "no other %% may appear", i ? "sync_filter" : "user_filter", filters[i]);
            return RU_E_INVALID;
        }
    if (!strstr(cfg->ldap_user_filter, "%s")) {
        ru_log_err(S_LOG, "[ldap] user_filter = %s has no %%s for the login name",
                   cfg->ldap_user_filter);
        return RU_E_INVALID;
    }
    ru_ldap_t *self = sodium_init() < 0 ? NULL : calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    self->cfg = *cfg;
    if (cfg->ldap_bind_dn[0] &&
        s_read_password(cfg->ldap_bind_password_file, &self->password) != RU_OK) {
        free(self);
        return RU_E_INVALID;
    }
    s_dn_norm(cfg->ldap_allow_group, self->allow, sizeof self->allow);
    s_dn_norm(cfg->ldap_admin_group, self->admin, sizeof self->admin);
    s_attrs(self);
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->wake, NULL);
    if (pthread_create(&self->watchdog, NULL, s_watchdog, self) != 0) {
        ru_log_err(S_LOG, "cannot start the watchdog thread");
        self->stopping = 1;
        ru_ldap_destroy(&self);
        return RU_E_NOMEM;
    }
    *out = self;
    return RU_OK;
}

void
ru_ldap_destroy(ru_ldap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ru_ldap_t *self = *self_p;
    pthread_mutex_lock(&self->lock);
    int running = !self->stopping;
    self->stopping = 1;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
    if (running)
        pthread_join(self->watchdog, NULL);
    pthread_mutex_destroy(&self->lock);
    pthread_cond_destroy(&self->wake);
    if (self->password)
        sodium_free(self->password);
    free(self);
    *self_p = NULL;
}

void
ru_ldap_person_fini(ru_ldap_person_t *p)
{
    free(p->photo);
    memset(p, 0, sizeof *p);
}

/*  ---------------------------------------------------------------------
 *  Connections
 */

static int64_t
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*  What is left until deadline (at least a millisecond), as the network
 *  and operation timeouts of ld, and into *tv for a search. */
static void
s_budget(LDAP *ld, int64_t deadline, struct timeval *tv)
{
    int64_t left = deadline - s_now_ms();
    if (left < 1)
        left = 1;
    tv->tv_sec = (time_t) (left / 1000);
    tv->tv_usec = (long) (left % 1000) * 1000;
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, tv);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, tv);
}

/*  Logs a failure to talk to the directory, with the library's reason and
 *  the server's message; RU_E_DIRECTORY. */
static ru_err
s_unreachable(ru_ldap_t *self, LDAP *ld, const char *what, int rc)
{
    char *diag = NULL;
    if (ld)
        ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
    ru_log_err(S_LOG, "%s %s: %s%s%s", self->cfg.ldap_uri, what, ldap_err2string(rc),
               diag && *diag ? ": " : "", diag ? diag : "");
    ldap_memfree(diag);
    return RU_E_DIRECTORY;
}

/*  A connection to the directory, with TLS as configured and bound as the
 *  service account (when there is one). */
static ru_err
s_open(ru_ldap_t *self, s_guard *g, LDAP **out)
{
    LDAP *ld = NULL;
    struct timeval tv;
    int64_t deadline = g->deadline;
    int rc = ldap_initialize(&ld, self->cfg.ldap_uri);
    if (rc != LDAP_SUCCESS)
        return s_unreachable(self, NULL, "cannot be used", rc);
    int v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, client = 0;
    ldap_set_option(ld, LDAP_OPT_CONNECT_CB, &g->cb);
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
    if (self->cfg.ldap_ca_file[0])
        ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, self->cfg.ldap_ca_file);
    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &client); /* after the other TLS options */
    s_budget(ld, deadline, &tv);
    if (self->cfg.ldap_starttls && (rc = ldap_start_tls_s(ld, NULL, NULL)) != LDAP_SUCCESS) {
        ru_err err = s_unreachable(self, ld, "StartTLS", rc);
        ldap_unbind_ext_s(ld, NULL, NULL);
        return err;
    }
    if (self->password) {
        struct berval cred = {strlen(self->password), self->password};
        s_budget(ld, deadline, &tv);
        rc = ldap_sasl_bind_s(ld, self->cfg.ldap_bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL,
                              NULL);
        if (rc != LDAP_SUCCESS) {
            ru_err err = s_unreachable(self, ld,
                                       rc == LDAP_INVALID_CREDENTIALS
                                           ? "refused the service account (check [ldap] bind_dn "
                                             "and bind_password_file)"
                                           : "bind of the service account",
                                       rc);
            ldap_unbind_ext_s(ld, NULL, NULL);
            return err;
        }
    }
    *out = ld;
    return RU_OK;
}

/*  ---------------------------------------------------------------------
 *  Entries
 */

/*  The first value of attr of entry e as text into out; "" when absent,
 *  too long or not UTF-8 (the last two logged). */
static void
s_text(LDAP *ld, LDAPMessage *e, const char *dn, const char *attr, char *out, size_t size)
{
    out[0] = '\0';
    if (!*attr)
        return;
    struct berval **v = ldap_get_values_len(ld, e, attr);
    size_t chars;
    if (v && v[0]) {
        if (v[0]->bv_len >= size || ru_utf8_check(v[0]->bv_val, v[0]->bv_len, &chars) != RU_OK ||
            memchr(v[0]->bv_val, '\0', v[0]->bv_len))
            ru_log_warn(S_LOG, "%s: %s is over %zu bytes or not UTF-8 text: left out", dn, attr,
                        size - 1);
        else {
            memcpy(out, v[0]->bv_val, v[0]->bv_len);
            out[v[0]->bv_len] = '\0';
        }
    }
    ldap_value_free_len(v);
}

/*  The stable id: its value as it is when it is printable ASCII (entryUUID,
 *  employeeID), else "hex:" and its bytes (objectGUID). */
static void
s_id(LDAP *ld, LDAPMessage *e, const char *attr, char *out, size_t size)
{
    struct berval **v = ldap_get_values_len(ld, e, attr);
    out[0] = '\0';
    if (v && v[0] && v[0]->bv_len > 0) {
        size_t n = v[0]->bv_len, printable = 0;
        for (size_t i = 0; i < n; i++)
            printable += v[0]->bv_val[i] > ' ' && v[0]->bv_val[i] < 127;
        if (printable == n && n < size)
            snprintf(out, size, "%.*s", (int) n, v[0]->bv_val);
        else if (4 + 2 * n < size) {
            memcpy(out, "hex:", 4);
            sodium_bin2hex(out + 4, size - 4, (const unsigned char *) v[0]->bv_val, n);
        }
    }
    ldap_value_free_len(v);
}

static void
s_skills(LDAP *ld, LDAPMessage *e, const char *dn, const char *attr, ru_ldap_person_t *p)
{
    struct berval **v = *attr ? ldap_get_values_len(ld, e, attr) : NULL;
    size_t chars;
    for (int i = 0; v && v[i] && p->n_skills < RU_LDAP_SKILLS_MAX; i++) {
        if (v[i]->bv_len >= RU_LDAP_TEXT_MAX || v[i]->bv_len == 0 ||
            ru_utf8_check(v[i]->bv_val, v[i]->bv_len, &chars) != RU_OK ||
            memchr(v[i]->bv_val, '\0', v[i]->bv_len)) {
            ru_log_warn(S_LOG, "%s: a value of %s is empty, too long or not UTF-8: left out", dn,
                        attr);
            continue;
        }
        memcpy(p->skills[p->n_skills], v[i]->bv_val, v[i]->bv_len);
        p->skills[p->n_skills++][v[i]->bv_len] = '\0';
    }
    ldap_value_free_len(v);
}

static void
s_photo(ru_ldap_t *self, LDAP *ld, LDAPMessage *e, const char *dn, ru_ldap_person_t *p)
{
    const char *attr = self->cfg.ldap_attr_photo;
    struct berval **v = *attr ? ldap_get_values_len(ld, e, attr) : NULL;
    if (v && v[0] && v[0]->bv_len > 0) {
        if (v[0]->bv_len > (size_t) self->cfg.ldap_max_photo_bytes) {
            p->photo_too_big = 1;
            ru_log_warn(S_LOG, "%s: %s of %lu bytes is over [ldap] max_photo_bytes (%ld): left out",
                        dn, attr, (unsigned long) v[0]->bv_len, self->cfg.ldap_max_photo_bytes);
        } else if ((p->photo = malloc(v[0]->bv_len))) {
            memcpy(p->photo, v[0]->bv_val, v[0]->bv_len);
            p->photo_len = v[0]->bv_len;
        }
    }
    ldap_value_free_len(v);
}

/*  Membership of the allowed and administrators' groups, and Active
 *  Directory's "account disabled" bit. */
static void
s_access(ru_ldap_t *self, LDAP *ld, LDAPMessage *e, ru_ldap_person_t *p)
{
    struct berval **v = ldap_get_values_len(ld, e, self->cfg.ldap_attr_member_of);
    int in_allow = 0;
    for (int i = 0; v && v[i]; i++) {
        char dn[RU_LDAP_DN_MAX], norm[RU_CONFIG_LDAP_MAX];
        snprintf(dn, sizeof dn, "%.*s", (int) v[i]->bv_len, v[i]->bv_val);
        s_dn_norm(dn, norm, sizeof norm);
        in_allow |= *self->allow && strcmp(norm, self->allow) == 0;
        p->admin |= *self->admin && strcmp(norm, self->admin) == 0;
    }
    ldap_value_free_len(v);
    char uac[32];
    s_text(ld, e, p->dn, "userAccountControl", uac, sizeof uac);
    p->disabled = (strtoul(uac, NULL, 10) & 2) != 0;
    p->allowed = (!*self->allow || in_allow) && !p->disabled;
}

/*  The person of entry e; RU_E_ENTRY (logged) when it has no login name
 *  that is a user name, no display name or no stable id. */
static ru_err
s_person(ru_ldap_t *self, LDAP *ld, LDAPMessage *e, ru_ldap_person_t *p)
{
    const ru_config_t *c = &self->cfg;
    char *dn = ldap_get_dn(ld, e);
    char login[RU_LDAP_TEXT_MAX] = "";
    memset(p, 0, sizeof *p);
    snprintf(p->dn, sizeof p->dn, "%s", dn ? dn : "");
    ldap_memfree(dn);
    s_text(ld, e, p->dn, c->ldap_attr_login, login, sizeof login);
    s_text(ld, e, p->dn, c->ldap_attr_name, p->name, sizeof p->name);
    s_id(ld, e, c->ldap_attr_id, p->id, sizeof p->id);
    const char *why = ru_ldap_login_name(login, p->login) != RU_OK
                          ? "no login name that is a user name here (1 to 64 of a-z, 0-9, '_', "
                            "'.', '-')"
                      : !p->name[0] ? "no display name"
                      : !p->id[0]   ? "no stable id"
                                    : NULL;
    if (why) {
        ru_log_warn(S_LOG, "%s: %s (%s = \"%s\")", p->dn, why, c->ldap_attr_login, login);
        return RU_E_ENTRY;
    }
    s_text(ld, e, p->dn, c->ldap_attr_mail, p->mail, sizeof p->mail);
    s_text(ld, e, p->dn, c->ldap_attr_title, p->title, sizeof p->title);
    s_text(ld, e, p->dn, c->ldap_attr_department, p->department, sizeof p->department);
    s_text(ld, e, p->dn, c->ldap_attr_site, p->site, sizeof p->site);
    s_text(ld, e, p->dn, c->ldap_attr_office, p->office, sizeof p->office);
    s_text(ld, e, p->dn, c->ldap_attr_phone, p->phone, sizeof p->phone);
    s_text(ld, e, p->dn, c->ldap_attr_manager, p->manager, sizeof p->manager);
    s_skills(ld, e, p->dn, c->ldap_attr_skills, p);
    s_photo(self, ld, e, p->dn, p);
    s_access(self, ld, e, p);
    return RU_OK;
}

/*  ---------------------------------------------------------------------
 *  Sign-in
 */

/*  The one entry of name, into *res; RU_E_INVALID when there is none. */
static ru_err
s_find(ru_ldap_t *self, LDAP *ld, const char *name, int64_t deadline, LDAPMessage **res)
{
    char filter[S_FILTER_MAX];
    struct timeval tv;
    if (ru_ldap_filter(self->cfg.ldap_user_filter, name, filter, sizeof filter) != RU_OK)
        return RU_E_INVALID; /* the pattern was checked: the name is too long for it */
    s_budget(ld, deadline, &tv);
    int rc = ldap_search_ext_s(ld, self->cfg.ldap_base_dn, LDAP_SCOPE_SUBTREE, filter,
                               (char **) self->attrs, 0, NULL, NULL, &tv, 2, res);
    if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED)
        return s_unreachable(self, ld, "search of a person", rc);
    int n = ldap_count_entries(ld, *res);
    if (n > 1 || rc == LDAP_SIZELIMIT_EXCEEDED) {
        ru_log_warn(S_LOG, "%s under %s: more than one entry: nobody signs in with this name",
                    filter, self->cfg.ldap_base_dn);
        return RU_E_ENTRY;
    }
    return n == 1 ? RU_OK : RU_E_INVALID;
}

/*  Binds as dn with password: RU_OK, RU_E_INVALID, or RU_E_DENIED for an
 *  account Active Directory says is disabled, expired or locked out (its
 *  diagnostic "data 533", "data 701", "data 775"). */
static ru_err
s_bind_person(ru_ldap_t *self, LDAP *ld, const char *dn, const char *password, int64_t deadline)
{
    struct berval cred = {strlen(password), (char *) password};
    struct timeval tv;
    s_budget(ld, deadline, &tv);
    int rc = ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
    if (rc == LDAP_SUCCESS)
        return RU_OK;
    if (rc != LDAP_INVALID_CREDENTIALS && rc != LDAP_INAPPROPRIATE_AUTH &&
        rc != LDAP_UNWILLING_TO_PERFORM)
        return s_unreachable(self, ld, "bind of a person", rc);
    char *diag = NULL;
    ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
    int denied = diag && (strstr(diag, "data 533") || strstr(diag, "data 701") ||
                          strstr(diag, "data 775"));
    ldap_memfree(diag);
    return denied ? RU_E_DENIED : RU_E_INVALID;
}

ru_err
ru_ldap_authenticate(ru_ldap_t *self, const char *login, const char *password,
                     ru_ldap_person_t *p)
{
    char name[RU_MAX_NAME + 1];
    memset(p, 0, sizeof *p);
    if (ru_ldap_login_name(login, name) != RU_OK || !password || !*password)
        return RU_E_INVALID; /* before any request */
    int64_t deadline = s_now_ms() + self->cfg.ldap_timeout_ms;
    LDAP *ld = NULL;
    LDAPMessage *res = NULL;
    s_guard g;
    s_guard_begin(self, &g, deadline);
    ru_err err = s_open(self, &g, &ld);
    if (!err)
        err = s_find(self, ld, name, deadline, &res);
    LDAPMessage *e = err ? NULL : ldap_first_entry(ld, res);
    char *dn = e ? ldap_get_dn(ld, e) : NULL;
    if (e && !dn)
        err = RU_E_ENTRY;
    if (!err)
        err = s_bind_person(self, ld, dn, password, deadline);
    if (!err)
        err = s_person(self, ld, e, p);
    if (!err && !p->allowed) {
        ru_log_info(S_LOG, "%s may not sign in: %s", p->dn,
                    p->disabled ? "disabled in the directory" : "not in [ldap] allow_group");
        err = RU_E_DENIED;
    }
    ldap_memfree(dn);
    ldap_msgfree(res);
    if (ld)
        ldap_unbind_ext_s(ld, NULL, NULL);
    s_guard_end(&g);
    return err;
}

ru_err
ru_ldap_id_of(ru_ldap_t *self, const char *dn, char id[RU_LDAP_ID_MAX])
{
    id[0] = 0;
    int64_t deadline = s_now_ms() + self->cfg.ldap_timeout_ms;
    LDAP *ld = NULL;
    LDAPMessage *res = NULL;
    s_guard g;
    s_guard_begin(self, &g, deadline);
    ru_err err = s_open(self, &g, &ld);
    if (!err) {
        char *attrs[] = {self->cfg.ldap_attr_id, NULL};
        struct timeval tv;
        s_budget(ld, deadline, &tv);
        int rc = ldap_search_ext_s(ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL,
                                   NULL, &tv, 1, &res);
        if (rc == LDAP_NO_SUCH_OBJECT)
            err = RU_E_NOT_FOUND;
        else if (rc != LDAP_SUCCESS)
            err = s_unreachable(self, ld, "search of an entry's id", rc);
    }
    LDAPMessage *e = err ? NULL : ldap_first_entry(ld, res);
    if (e)
        s_id(ld, e, self->cfg.ldap_attr_id, id, RU_LDAP_ID_MAX);
    if (!err && !id[0])
        err = RU_E_NOT_FOUND;
    ldap_msgfree(res);
    if (ld)
        ldap_unbind_ext_s(ld, NULL, NULL);
    s_guard_end(&g);
    return err;
}

/*  ---------------------------------------------------------------------
 *  Every person
 */

/*  The cookie of the paged results control in res, into *cookie (NULL
 *  when the search is over). */
static void
s_next_cookie(LDAP *ld, LDAPMessage *res, struct berval **cookie)
{
    LDAPControl **ctrls = NULL;
    int code = 0;
    ber_bvfree(*cookie);
    *cookie = NULL;
    if (ldap_parse_result(ld, res, &code, NULL, NULL, NULL, &ctrls, 0) != LDAP_SUCCESS)
        return;
    LDAPControl *c = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls, NULL);
    ber_int_t estimate = 0;
    struct berval next = {0, NULL};
    if (c && ldap_parse_pageresponse_control(ld, c, &estimate, &next) == LDAP_SUCCESS &&
        next.bv_len > 0)
        *cookie = ber_bvdup(&next);
    ber_memfree(next.bv_val);
    ldap_controls_free(ctrls);
}

/*  One page of the walk: fn with each person of it. *stop when fn says so. */
static ru_err
s_page(ru_ldap_t *self, LDAP *ld, s_guard *g, struct berval **cookie, ru_ldap_each_fn fn,
       void *ctx, ru_ldap_stats_t *st, int *stop)
{
    LDAPControl *page = NULL;
    LDAPMessage *res = NULL;
    struct timeval tv;
    int rc = ldap_create_page_control(ld, (ber_int_t) self->cfg.ldap_page_size, *cookie, 0, &page);
    if (rc != LDAP_SUCCESS)
        return s_unreachable(self, ld, "paged results control", rc);
    LDAPControl *server[] = {page, NULL};
    int64_t deadline = s_now_ms() + self->cfg.ldap_timeout_ms;
    s_guard_renew(g, deadline);
    s_budget(ld, deadline, &tv);
    rc = ldap_search_ext_s(ld, self->cfg.ldap_base_dn, LDAP_SCOPE_SUBTREE,
                           self->cfg.ldap_sync_filter, (char **) self->attrs, 0, server, NULL, &tv,
                           0, &res);
    ldap_control_free(page);
    s_guard_renew(g, INT64_MAX - S_GRACE_MS); /* the page is here: fn may take its time */
    st->pages++;
    ru_err err = rc == LDAP_SUCCESS ? RU_OK : s_unreachable(self, ld, "search of a page", rc);
    for (LDAPMessage *e = err ? NULL : ldap_first_entry(ld, res); e && !*stop;
         e = ldap_next_entry(ld, e)) {
        ru_ldap_person_t p;
        if (s_person(self, ld, e, &p) == RU_OK) {
            st->persons++;
            *stop = fn(ctx, &p);
        } else
            st->skipped++;
        ru_ldap_person_fini(&p);
    }
    if (!err)
        s_next_cookie(ld, res, cookie);
    ldap_msgfree(res);
    return err;
}

ru_err
ru_ldap_each(ru_ldap_t *self, ru_ldap_each_fn fn, void *ctx, ru_ldap_stats_t *stats)
{
    ru_ldap_stats_t st = {0, 0, 0};
    LDAP *ld = NULL;
    struct berval *cookie = NULL;
    int stop = 0;
    s_guard g;
    s_guard_begin(self, &g, s_now_ms() + self->cfg.ldap_timeout_ms);
    ru_err err = s_open(self, &g, &ld);
    do
        err = err ? err : s_page(self, ld, &g, &cookie, fn, ctx, &st, &stop);
    while (!err && !stop && cookie); /* no cookie: the last page */
    ber_bvfree(cookie);
    if (ld)
        ldap_unbind_ext_s(ld, NULL, NULL);
    s_guard_end(&g);
    if (stats)
        *stats = st;
    return err;
}
