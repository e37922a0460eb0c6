/*  ru_ldap_test.c - what ru_ldap does before and without a directory: the
 *  escaping of values in filters (RFC 4515), the filters built from the
 *  configured patterns, login names, the patterns and password files
 *  refused at start, and a directory that cannot be reached: a closed
 *  port, and one that takes the connection and never answers, each
 *  failing as RU_E_DIRECTORY within [ldap] timeout_ms. What a real
 *  directory answers is tested against slapd in tests/ldap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ru_ldap.h"
#include "ru_log.h"

static void
test_escape(void **state)
{
    (void) state;
    char out[64];
    assert_int_equal(ru_ldap_escape("*", 1, out, sizeof out), RU_OK);
    assert_string_equal(out, "\\2a");
    assert_int_equal(ru_ldap_escape(")(uid=*", 7, out, sizeof out), RU_OK);
    assert_string_equal(out, "\\29\\28uid=\\2a");
    assert_int_equal(ru_ldap_escape("a\\b", 3, out, sizeof out), RU_OK);
    assert_string_equal(out, "a\\5cb");
    assert_int_equal(ru_ldap_escape("x\0y", 3, out, sizeof out), RU_OK);
    assert_string_equal(out, "x\\00y");
    assert_int_equal(ru_ldap_escape("Ådahl", strlen("Ådahl"), out, sizeof out), RU_OK);
    assert_string_equal(out, "Ådahl"); /* UTF-8 goes as it is */
    assert_int_equal(ru_ldap_escape("", 0, out, sizeof out), RU_OK);
    assert_string_equal(out, "");
    /* exactly full, and one byte short */
    assert_int_equal(ru_ldap_escape("ab*", 3, out, 6), RU_OK);
    assert_string_equal(out, "ab\\2a");
    assert_int_equal(ru_ldap_escape("ab*", 3, out, 5), RU_E_TOO_BIG);
    assert_int_equal(ru_ldap_escape("abc", 3, out, 3), RU_E_TOO_BIG);
    assert_int_equal(ru_ldap_escape("", 0, out, 0), RU_E_TOO_BIG);
}

static void
test_filter(void **state)
{
    (void) state;
    char out[128];
    assert_int_equal(ru_ldap_filter("(uid=%s)", "alice", out, sizeof out), RU_OK);
    assert_string_equal(out, "(uid=alice)");
    assert_int_equal(ru_ldap_filter("(&(objectClass=user)(sAMAccountName=%s))", "admin)(|(uid=*",
                                     out, sizeof out),
                     RU_OK);
    assert_string_equal(out, "(&(objectClass=user)(sAMAccountName=admin\\29\\28|\\28uid=\\2a))");
    assert_int_equal(ru_ldap_filter("(|(uid=%s)(mail=%s@example.com))", "a*", out, sizeof out),
                     RU_OK);
    assert_string_equal(out, "(|(uid=a\\2a)(mail=a\\2a@example.com))");
    assert_int_equal(ru_ldap_filter("(&(uid=%s)(quota=100%%))", "b", out, sizeof out), RU_OK);
    assert_string_equal(out, "(&(uid=b)(quota=100%))");
    assert_int_equal(ru_ldap_filter("(objectClass=person)", "x", out, sizeof out), RU_OK);
    assert_string_equal(out, "(objectClass=person)");
    /* any other % is refused: the pattern is never a printf format */
    assert_int_equal(ru_ldap_filter("(uid=%d)", "x", out, sizeof out), RU_E_INVALID);
    assert_int_equal(ru_ldap_filter("(uid=%n%s)", "x", out, sizeof out), RU_E_INVALID);
    assert_int_equal(ru_ldap_filter("(uid=%s)%", "x", out, sizeof out), RU_E_INVALID);
    assert_int_equal(ru_ldap_filter("(uid=%s)", "a*", out, 10), RU_E_TOO_BIG);
    assert_int_equal(ru_ldap_filter("(uid=%s)", "a*", out, 11), RU_OK);
    assert_string_equal(out, "(uid=a\\2a)");
}

static void
test_login_name(void **state)
{
    (void) state;
    char name[RU_MAX_NAME + 1], long_name[RU_MAX_NAME + 2];
    assert_int_equal(ru_ldap_login_name("alice", name), RU_OK);
    assert_string_equal(name, "alice");
    assert_int_equal(ru_ldap_login_name("JDupont", name), RU_OK);
    assert_string_equal(name, "jdupont");
    assert_int_equal(ru_ldap_login_name("jean-luc.m_2", name), RU_OK);
    const char *refused[] = {"",   "*",      "a*",         ")(uid=*", "x\\00", "admin)(|(uid=*",
                             "é", "a b",    "-lead",       "a@b",     "a\\5c", "name\n"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        assert_int_equal(ru_ldap_login_name(refused[i], name), RU_E_NAME);
    memset(long_name, 'a', RU_MAX_NAME + 1);
    long_name[RU_MAX_NAME + 1] = '\0';
    assert_int_equal(ru_ldap_login_name(long_name, name), RU_E_NAME);
    long_name[RU_MAX_NAME] = '\0';
    assert_int_equal(ru_ldap_login_name(long_name, name), RU_OK);
}

/*  A configuration of LDAP at uri with no service account. */
static void
s_config(ru_config_t *cfg, const char *uri)
{
    ru_config_defaults(cfg);
    snprintf(cfg->ldap_uri, sizeof cfg->ldap_uri, "%s", uri);
    snprintf(cfg->ldap_base_dn, sizeof cfg->ldap_base_dn, "dc=example,dc=com");
}

static void
test_new(void **state)
{
    (void) state;
    ru_config_t cfg;
    ru_ldap_t *ld = (ru_ldap_t *) &cfg; /* set to NULL by every call */
    s_config(&cfg, "");
    assert_int_equal(ru_ldap_new(&cfg, &ld), RU_OK);
    assert_null(ld); /* off */
    s_config(&cfg, "ldap://127.0.0.1:1");
    snprintf(cfg.ldap_user_filter, sizeof cfg.ldap_user_filter, "(uid=%%x)");
    assert_int_equal(ru_ldap_new(&cfg, &ld), RU_E_INVALID);
    assert_null(ld);
    snprintf(cfg.ldap_user_filter, sizeof cfg.ldap_user_filter, "(uid=alice)");
    assert_int_equal(ru_ldap_new(&cfg, &ld), RU_E_INVALID); /* no %s */
    s_config(&cfg, "ldap://127.0.0.1:1");
    snprintf(cfg.ldap_sync_filter, sizeof cfg.ldap_sync_filter, "(cn=%%");
    assert_int_equal(ru_ldap_new(&cfg, &ld), RU_E_INVALID);
    s_config(&cfg, "ldap://127.0.0.1:1");
    snprintf(cfg.ldap_bind_dn, sizeof cfg.ldap_bind_dn, "cn=ruche,dc=example,dc=com");
    snprintf(cfg.ldap_bind_password_file, sizeof cfg.ldap_bind_password_file,
             "/nonexistent/ruche-ldap.password");
    assert_int_equal(ru_ldap_new(&cfg, &ld), RU_E_INVALID);
    assert_null(ld);
    s_config(&cfg, "ldap://127.0.0.1:1");
    assert_int_equal(ru_ldap_new(&cfg, &ld), RU_OK);
    assert_non_null(ld);
    ru_ldap_destroy(&ld);
    assert_null(ld);
    ru_ldap_destroy(&ld);
}

static int64_t
s_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*  A listening socket on a free loopback port, which nothing ever
 *  accepts or answers: a directory that hangs. Its port into *port. */
static int
s_silent_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof a), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *) &a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/*  Authenticates against uri with timeout_ms; the result, and the time
 *  taken into *ms. */
static ru_err
s_try(const char *uri, long timeout_ms, int starttls, int64_t *ms)
{
    ru_config_t cfg;
    ru_ldap_t *ld = NULL;
    ru_ldap_person_t p;
    s_config(&cfg, uri);
    cfg.ldap_timeout_ms = timeout_ms;
    cfg.ldap_starttls = starttls;
    assert_int_equal(ru_ldap_new(&cfg, &ld), RU_OK);
    int64_t t0 = s_ms();
    ru_err err = ru_ldap_authenticate(ld, "alice", "secret", &p);
    *ms = s_ms() - t0;
    ru_ldap_person_fini(&p);
    ru_ldap_destroy(&ld);
    return err;
}

static void
test_unreachable(void **state)
{
    (void) state;
    int port;
    char uri[64];
    int64_t ms;
    alarm(20); /* a call that hangs (an unbounded TLS handshake) ends the test */
    int fd = s_silent_listener(&port);
    close(fd); /* now closed: the connection is refused at once */
    snprintf(uri, sizeof uri, "ldap://127.0.0.1:%d", port);
    assert_int_equal(s_try(uri, 2000, 0, &ms), RU_E_DIRECTORY);
    assert_true(ms < 2000);
    fd = s_silent_listener(&port); /* takes connections, never answers */
    const char *schemes[] = {"ldap", "ldaps", "ldap"};
    for (int i = 0; i < 3; i++) {
        snprintf(uri, sizeof uri, "%s://127.0.0.1:%d", schemes[i], port);
        assert_int_equal(s_try(uri, 300, i == 2, &ms), RU_E_DIRECTORY);
        print_message("%s%s: failed after %lld ms (timeout_ms 300)\n", uri,
                      i == 2 ? " StartTLS" : "", (long long) ms);
        assert_true(ms >= 250 && ms < 300 + 700);
    }
    close(fd);
    alarm(0);
}

int
main(void)
{
    ru_log_set_level(RU_LOG_ERR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),      cmocka_unit_test(test_filter),
        cmocka_unit_test(test_login_name),  cmocka_unit_test(test_new),
        cmocka_unit_test(test_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
