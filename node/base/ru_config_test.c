/*  ru_config_test.c - the configuration: defaults, the INI file, command-line
 *  overrides through the same key table, [peer NAME] sections, and the
 *  errors that stop the node before it starts with a bad setting, and the
 *  list of [cards] allowed_hosts that every line adds to, the profile
 *  parts [directory] owned names, and [ldap].
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ru_config.h"
#include "ru_log.h"
#include "testdir.h"

#define KEY_A "HShIrY217_REYQUMl45q7BoGlag-MXH-YLLFMZZxpbo"
#define KEY_B "XqLEoNvWhZI8Fg1ZK9KTCnfOBHiwiJFKtEjRHYRr3VA"

static char s_dir[512], s_path[600];

static int
s_setup(void **state)
{
    (void) state;
    ru_log_set_level(RU_LOG_ERR);
    if (testdir_make(s_dir, sizeof s_dir))
        return -1;
    snprintf(s_path, sizeof s_path, "%s/ruched.conf", s_dir);
    return 0;
}

static int
s_teardown(void **state)
{
    (void) state;
    testdir_remove(s_dir);
    return 0;
}

/*  Writes text as the config file and loads it over the defaults. */
static ru_err
s_load(ru_config_t *cfg, const char *text)
{
    FILE *f = fopen(s_path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    ru_config_defaults(cfg);
    return ru_config_load(cfg, s_path);
}

/*  Lines of any length: the tail of a long comment is never read as a
 *  line of its own (here "site = evil"), and a long value is taken whole
 *  or refused, never cut at the end of the parser's buffer. */
static void
test_long_lines(void **state)
{
    (void) state;
    ru_config_t cfg;
    char text[1024];
    for (int n = 150; n < 600; n += 7) {
        snprintf(text, sizeof text, "[node]\n  ;%0*d site = evil\nlog_level = warn\n", n, 0);
        assert_int_equal(s_load(&cfg, text), RU_OK);
        assert_string_equal(cfg.site, "local");
        assert_string_equal(cfg.log_level, "warn");
        snprintf(text, sizeof text, "[node]\ndata_dir = /srv/%0*d\n", n, 0);
        ru_err err = s_load(&cfg, text);
        assert_true(err == RU_E_INVALID || strlen(cfg.data_dir) == strlen("/srv/") + (size_t) n);
        assert_true(err == RU_OK || strcmp(cfg.data_dir, "/var/lib/ruche") == 0);
    }
    /* A NUL byte stops the load, in a comment too. */
    FILE *f = fopen(s_path, "w");
    assert_non_null(f);
    fwrite("[node]\n; a\0b\nsite = paris\n", 1, 26, f);
    fclose(f);
    ru_config_defaults(&cfg);
    assert_int_equal(ru_config_load(&cfg, s_path), RU_E_INVALID);
    /* The last line may lack its newline. */
    assert_int_equal(s_load(&cfg, "[node]\nsite = paris"), RU_OK);
    assert_string_equal(cfg.site, "paris");
}

static void
test_defaults(void **state)
{
    (void) state;
    ru_config_t cfg;
    ru_config_defaults(&cfg);
    assert_string_equal(cfg.site, "local");
    assert_string_equal(cfg.listen, "127.0.0.1:8080");
    assert_int_equal(cfg.max_body, 1048576);
    assert_int_equal(cfg.heartbeat_ms, 1000);
    assert_string_equal(cfg.pub_bind, "");
    assert_int_equal(cfg.n_peers, 0);
    assert_int_equal(cfg.app_registrations, 10);
    assert_int_equal(cfg.app_window_s, 3600);
    assert_int_equal(cfg.walk_budget, 5000);
    assert_int_equal(cfg.max_search_offset, 1000);
    assert_int_equal(cfg.pending_per_origin, 2000000);
    assert_int_equal(cfg.pending_max, 10000000);
    assert_int_equal(cfg.pending_alarm_s, 3600);
    assert_int_equal(cfg.pending_walk, 4096);
    assert_int_equal(cfg.queue_mb, 32);
    assert_int_equal(cfg.sync_timeout_ms, 60000);
    assert_string_equal(cfg.card_hosts, ""); /* no link previews */
    assert_string_equal(cfg.card_proxy, "");
    assert_int_equal(cfg.card_workers, 1);
    assert_int_equal(cfg.card_queue, 256);
    assert_int_equal(cfg.card_connect_timeout_ms, 3000);
    assert_int_equal(cfg.card_timeout_ms, 10000);
    assert_int_equal(cfg.card_max_kb, 512);
    assert_int_equal(cfg.card_max_redirects, 3);
    assert_int_equal(cfg.card_retry_s, 3600);
    assert_int_equal(ru_config_check(&cfg), RU_OK);
}

/*  [cards] allowed_hosts: every line (and flag) adds its words; the words
 *  are checked; the list has a bound. */
static void
test_host_list(void **state)
{
    (void) state;
    ru_config_t cfg;
    assert_int_equal(s_load(&cfg, "[cards]\nallowed_hosts = wiki.corp *.intra.corp\n"
                                  "allowed_hosts = 10.1.2.3\n"
                                  "  [::1]\n"),
                     RU_OK);
    assert_string_equal(cfg.card_hosts, "wiki.corp *.intra.corp 10.1.2.3 [::1]");
    assert_int_equal(ru_config_check(&cfg), RU_OK);
    assert_int_equal(ru_config_set(&cfg, "cards.allowed_hosts", "docs.corp", "--set"), RU_OK);
    assert_string_equal(cfg.card_hosts, "wiki.corp *.intra.corp 10.1.2.3 [::1] docs.corp");
    const char *bad[] = {"*",     "http://wiki.corp", "wiki.corp:8080", "*.",        "a..b",
                         ".corp", "wiki.corp/x",      "[::1",           "*wiki.corp"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ru_config_defaults(&cfg);
        assert_int_equal(ru_config_set(&cfg, "cards.allowed_hosts", bad[i], "--set"), RU_OK);
        assert_int_equal(ru_config_check(&cfg), RU_E_INVALID);
    }
    ru_config_defaults(&cfg);
    char word[101];
    memset(word, 'a', 100);
    word[100] = '\0';
    ru_err err = RU_OK;
    int words = 0;
    while (!err && words < 100) {
        err = ru_config_set(&cfg, "cards.allowed_hosts", word, "--set");
        words += !err;
    }
    assert_int_equal(err, RU_E_INVALID); /* past RU_CONFIG_HOSTS_MAX */
    assert_int_equal(words, RU_CONFIG_HOSTS_MAX / 101);
}

static void
test_file_and_overrides(void **state)
{
    (void) state;
    ru_config_t cfg;
    assert_int_equal(s_load(&cfg, "; a comment\n[node]\nsite = paris\n[http]\nthreads = 4\n"
                                  "[replication]\npub = tcp://127.0.0.1:7101\n"
                                  "sync = tcp://127.0.0.1:7102\n"
                                  "[peer murray.hill]\nkey = " KEY_A "\n"
                                  "pub = tcp://10.0.0.2:7101\nsync = tcp://10.0.0.2:7102\n"),
                     RU_OK);
    assert_string_equal(cfg.site, "paris");
    assert_int_equal(cfg.http_threads, 4);
    assert_int_equal(cfg.n_peers, 1);
    assert_string_equal(cfg.peers[0].site, "murray.hill");
    assert_true(cfg.peers[0].has_key);
    assert_int_equal(ru_config_check(&cfg), RU_OK);
    /* flags set the same keys; a dotted site name splits at the last dot */
    assert_int_equal(ru_config_set(&cfg, "http.threads", "8", "--set"), RU_OK);
    assert_int_equal(cfg.http_threads, 8);
    assert_int_equal(ru_config_set(&cfg, "peer murray.hill.sync", "tcp://h:1", "--set"), RU_OK);
    assert_string_equal(cfg.peers[0].sync, "tcp://h:1");
    assert_int_equal(ru_config_set(&cfg, "peer nozay.key", KEY_B, "--set"), RU_OK);
    assert_int_equal(cfg.n_peers, 2);
    assert_int_equal(ru_config_check(&cfg), RU_OK); /* a key alone: a site reached via relays */
    assert_int_equal(ru_config_set(&cfg, "peer nozay.pub", "tcp://n:1", "--set"), RU_OK);
    assert_int_equal(ru_config_check(&cfg), RU_E_INVALID); /* pub without sync */
}

static void
test_bad_lines(void **state)
{
    (void) state;
    ru_config_t cfg;
    const char *bad[] = {
        "[node]\nfoo = 1\n",           /* unknown key */
        "[http]\nthreads = many\n",    /* not a number */
        "[http]\nthreads = 100000\n",  /* out of range */
        "[http]\nwalk_budget = 10\n",  /* under its floor */
        "[http]\nmax_search_offset = 100001\n",
        "[http]\napp_registrations = 0\n",
        "[replication]\npending_per_origin = 999\n",
        "[replication]\npending_max = 0\n",
        "[replication]\npending_alarm_s = 5\n",
        "[replication]\npending_walk = 15\n", /* under its floor */
        "[replication]\npending_walk = 1000001\n",
        "[replication]\nqueue_mb = 20\n", /* under five catch-up messages */
        "[replication]\nsync_timeout_ms = 499\n",
        "[cards]\nworkers = 0\n",
        "[cards]\nworkers = 17\n",
        "[cards]\nqueue = 0\n",
        "[cards]\nconnect_timeout_ms = 99\n",
        "[cards]\ntimeout_ms = 120001\n",
        "[cards]\nmax_kb = 15\n",
        "[cards]\nmax_kb = 16385\n",
        "[cards]\nmax_redirects = 11\n",
        "[cards]\nretry_s = 0\n",
        "[peer x]\nkey = not-a-key\n", /* bad key */
        "[peer x]\ncolour = blue\n",   /* unknown peer key */
        "this is not ini\n",           /* not a key = value line */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(s_load(&cfg, bad[i]), RU_E_INVALID);
    ru_config_defaults(&cfg);
    assert_int_equal(ru_config_load(&cfg, "/nonexistent/ruched.conf"), RU_E_NOT_FOUND);
    assert_int_equal(ru_config_set(&cfg, "nosection", "1", "--set"), RU_E_INVALID);
}

/*  The limits of a multipart/form-data body: defaults, values in range
 *  taken, values out of it refused. */
static void
test_multipart_limits(void **state)
{
    (void) state;
    ru_config_t cfg;
    ru_config_defaults(&cfg);
    assert_int_equal(cfg.multipart_max_parts, 64);
    assert_int_equal(cfg.multipart_max_header_bytes, 8192);
    assert_int_equal(cfg.multipart_max_header_lines, 16);
    assert_int_equal(s_load(&cfg, "[http]\nmultipart_max_parts = 4\n"
                                  "multipart_max_header_bytes = 256\n"
                                  "multipart_max_header_lines = 100\n"),
                     RU_OK);
    assert_int_equal(cfg.multipart_max_parts, 4);
    assert_int_equal(cfg.multipart_max_header_bytes, 256);
    assert_int_equal(cfg.multipart_max_header_lines, 100);
    assert_int_equal(s_load(&cfg, "[http]\nmultipart_max_parts = 0\n"), RU_E_INVALID);
    assert_int_equal(s_load(&cfg, "[http]\nmultipart_max_header_bytes = 255\n"), RU_E_INVALID);
    assert_int_equal(s_load(&cfg, "[http]\nmultipart_max_header_lines = 101\n"), RU_E_INVALID);
}

static void
test_checks(void **state)
{
    (void) state;
    ru_config_t cfg;
    assert_int_equal(s_load(&cfg, "[node]\nsite = Paris\n"), RU_OK);
    assert_int_equal(ru_config_check(&cfg), RU_E_INVALID); /* upper case */
    assert_int_equal(s_load(&cfg, "[node]\nlog_level = loud\n"), RU_OK);
    assert_int_equal(ru_config_check(&cfg), RU_E_INVALID);
    const char *peers_without_binds =
        "[peer b]\nkey = " KEY_A "\npub = tcp://h:1\nsync = tcp://h:2\n";
    assert_int_equal(s_load(&cfg, peers_without_binds), RU_OK);
    assert_int_equal(ru_config_check(&cfg), RU_E_INVALID);
    const char *same_key = "[replication]\npub = tcp://*:1\nsync = tcp://*:2\n"
                           "[peer b]\nkey = " KEY_A "\npub = tcp://h:1\nsync = tcp://h:2\n"
                           "[peer c]\nkey = " KEY_A "\npub = tcp://i:1\nsync = tcp://i:2\n";
    assert_int_equal(s_load(&cfg, same_key), RU_OK);
    assert_int_equal(ru_config_check(&cfg), RU_E_INVALID);
    assert_int_equal(s_load(&cfg, "[store]\nmap_size_mb = 64\nmax_size_mb = 32\n"), RU_OK);
    assert_int_equal(ru_config_check(&cfg), RU_E_INVALID);
}

/*  [oidc]: off by default; an issuer needs https (http on loopback only),
 *  a client id and a secret file; the limits have their defaults and
 *  ranges. */
static void
test_oidc(void **state)
{
    (void) state;
    ru_config_t cfg;
    assert_int_equal(s_load(&cfg, ""), RU_OK);
    assert_string_equal(cfg.oidc_issuer, "");
    assert_int_equal(cfg.oidc_clock_skew_s, 60);
    assert_int_equal(cfg.oidc_pending, 10000);
    assert_int_equal(cfg.oidc_pending_s, 600);
    assert_int_equal(cfg.oidc_timeout_ms, 5000);
    assert_string_equal(cfg.oidc_claim_username, "preferred_username");
    assert_string_equal(cfg.oidc_id_claim, "sub");
    assert_int_equal(cfg.oidc_retry_s, 10);
    assert_int_equal(ru_config_check(&cfg), RU_OK);
    const char *good = "[oidc]\nissuer = https://login.example.com/t\nclient_id = ruche\n"
                       "client_secret_file = /etc/ruche/oidc.secret\n";
    assert_int_equal(s_load(&cfg, good), RU_OK);
    assert_int_equal(ru_config_check(&cfg), RU_OK);
    assert_int_equal(s_load(&cfg, "[oidc]\nissuer = https://login.example.com/t\n"), RU_OK);
    assert_int_equal(ru_config_check(&cfg), RU_E_INVALID); /* no client */
    static const char *const issuers[] = {"http://login.example.com", "http://127.0.0.1.example",
                                          "ftp://127.0.0.1/", "login.example.com"};
    for (size_t i = 0; i < sizeof issuers / sizeof issuers[0]; i++) {
        assert_int_equal(s_load(&cfg, good), RU_OK);
        assert_int_equal(ru_config_set(&cfg, "oidc.issuer", issuers[i], "--set"), RU_OK);
        assert_int_equal(ru_config_check(&cfg), RU_E_INVALID);
    }
    assert_int_equal(ru_config_set(&cfg, "oidc.issuer", "http://127.0.0.1:4593/api/oidc", "--set"),
                     RU_OK);
    assert_int_equal(ru_config_check(&cfg), RU_OK);
    assert_int_equal(s_load(&cfg, "[oidc]\nclock_skew_s = 601\n"), RU_E_INVALID);
    assert_int_equal(s_load(&cfg, "[oidc]\npending = 0\n"), RU_E_INVALID);
    assert_int_equal(s_load(&cfg, "[oidc]\npending_s = 29\n"), RU_E_INVALID);
    assert_int_equal(s_load(&cfg, "[oidc]\ntimeout_ms = 99\n"), RU_E_INVALID);
    assert_int_equal(s_load(&cfg, "[oidc]\nretry_s = 3601\n"), RU_E_INVALID);
    assert_int_equal(s_load(&cfg, "[oidc]\nretry_s = -1\n"), RU_E_INVALID);
    assert_int_equal(s_load(&cfg, "[oidc]\nretry_s = 0\nid_claim =\n"), RU_OK);
    assert_int_equal(cfg.oidc_retry_s, 0);
    assert_string_equal(cfg.oidc_id_claim, "");
}

/*  [directory] owned: the display name and the photo by default, any
 *  words of the profile's parts, none at all, and a word that names no
 *  part refused; [media] profile_wait_ms in its range. */
static void
test_directory_owned(void **state)
{
    (void) state;
    ru_config_t cfg;
    ru_config_defaults(&cfg);
    assert_true(ru_config_dir_owns(&cfg, "display_name"));
    assert_true(ru_config_dir_owns(&cfg, "avatar"));
    assert_false(ru_config_dir_owns(&cfg, "note"));
    assert_false(ru_config_dir_owns(&cfg, "display"));
    assert_int_equal(cfg.media_profile_wait_ms, 30000);
    assert_int_equal(ru_config_check(&cfg), RU_OK);
    assert_int_equal(s_load(&cfg, "[directory]\nowned = note  skills\tfields\n"), RU_OK);
    assert_int_equal(ru_config_check(&cfg), RU_OK);
    assert_true(ru_config_dir_owns(&cfg, "skills"));
    assert_true(ru_config_dir_owns(&cfg, "fields"));
    assert_false(ru_config_dir_owns(&cfg, "display_name"));
    assert_int_equal(s_load(&cfg, "[directory]\nowned =\n"), RU_OK);
    assert_int_equal(ru_config_check(&cfg), RU_OK);
    assert_false(ru_config_dir_owns(&cfg, "display_name"));
    assert_int_equal(s_load(&cfg, "[directory]\nowned = display_name photo\n"), RU_OK);
    assert_int_equal(ru_config_check(&cfg), RU_E_INVALID);
    assert_int_equal(s_load(&cfg, "[media]\nprofile_wait_ms = 99\n"), RU_E_INVALID);
    assert_int_equal(s_load(&cfg, "[media]\nprofile_wait_ms = 1000\n"), RU_OK);
    assert_int_equal(cfg.media_profile_wait_ms, 1000);
}

/*  [ldap]: off by default, with the defaults of an OpenLDAP directory;
 *  yes/no values; the limits' ranges; and the keys that must go together
 *  when a directory is configured. */
static void
test_ldap(void **state)
{
    (void) state;
    ru_config_t cfg;
    ru_config_defaults(&cfg);
    assert_string_equal(cfg.ldap_uri, "");
    assert_int_equal(cfg.ldap_starttls, 0);
    assert_string_equal(cfg.ldap_user_filter, "(uid=%s)");
    assert_string_equal(cfg.ldap_attr_id, "entryUUID");
    assert_int_equal(cfg.ldap_timeout_ms, 5000);
    assert_int_equal(cfg.ldap_page_size, 500);
    assert_int_equal(cfg.ldap_max_photo_bytes, 262144);
    assert_int_equal(ru_config_check(&cfg), RU_OK);
    const char *ad = "[ldap]\nuri = ldaps://dc.example.com\nbase_dn = dc=example,dc=com\n"
                     "bind_dn = cn=ruche,ou=services,dc=example,dc=com\n"
                     "bind_password_file = /etc/ruche/ldap.password\n"
                     "user_filter = (&(objectClass=user)(sAMAccountName=%s))\n"
                     "id_attribute = objectGUID\ntimeout_ms = 100\npage_size = 1000\n";
    assert_int_equal(s_load(&cfg, ad), RU_OK);
    assert_int_equal(ru_config_check(&cfg), RU_OK);
    assert_string_equal(cfg.ldap_user_filter, "(&(objectClass=user)(sAMAccountName=%s))");
    assert_int_equal(cfg.ldap_timeout_ms, 100);
    assert_int_equal(cfg.ldap_page_size, 1000);
    assert_int_equal(ru_config_set(&cfg, "ldap.starttls", "yes", "--set"), RU_OK);
    assert_int_equal(cfg.ldap_starttls, 1);
    assert_int_equal(ru_config_check(&cfg), RU_E_INVALID); /* StartTLS on ldaps:// */
    assert_int_equal(ru_config_set(&cfg, "ldap.starttls", "off", "--set"), RU_OK);
    assert_int_equal(cfg.ldap_starttls, 0);
    assert_int_equal(ru_config_set(&cfg, "ldap.starttls", "maybe", "--set"), RU_E_INVALID);
    assert_int_equal(ru_config_set(&cfg, "ldap.timeout_ms", "99", "--set"), RU_E_INVALID);
    assert_int_equal(ru_config_set(&cfg, "ldap.timeout_ms", "120001", "--set"), RU_E_INVALID);
    assert_int_equal(ru_config_set(&cfg, "ldap.page_size", "0", "--set"), RU_E_INVALID);
    assert_int_equal(ru_config_set(&cfg, "ldap.page_size", "10001", "--set"), RU_E_INVALID);
    assert_int_equal(ru_config_set(&cfg, "ldap.max_photo_bytes", "-1", "--set"), RU_E_INVALID);
    assert_int_equal(ru_config_set(&cfg, "ldap.max_photo_bytes", "0", "--set"), RU_OK);
    assert_int_equal(cfg.ldap_timeout_ms, 100);
    assert_int_equal(cfg.ldap_page_size, 1000);
    assert_int_equal(s_load(&cfg, "[ldap]\nuri = http://dc\nbase_dn = dc=x\n"), RU_OK);
    assert_int_equal(ru_config_check(&cfg), RU_E_INVALID);
    assert_int_equal(s_load(&cfg, "[ldap]\nuri = ldap://dc\n"), RU_OK);
    assert_int_equal(ru_config_check(&cfg), RU_E_INVALID); /* no base_dn */
    assert_int_equal(s_load(&cfg, "[ldap]\nuri = ldap://dc\nbase_dn = dc=x\nbind_dn = cn=s\n"),
                     RU_OK);
    assert_int_equal(ru_config_check(&cfg), RU_E_INVALID); /* no password file */
    assert_int_equal(s_load(&cfg, "[ldap]\nuri = ldap://dc\nbase_dn = dc=x\nstarttls = yes\n"),
                     RU_OK);
    assert_int_equal(ru_config_check(&cfg), RU_OK);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_file_and_overrides),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_oidc),
        cmocka_unit_test(test_multipart_limits),
        cmocka_unit_test(test_host_list),
        cmocka_unit_test(test_directory_owned),
        cmocka_unit_test(test_ldap),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
