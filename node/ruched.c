/*  ruched.c - the ruche node daemon: command line entry point.
 *
 *  Without a command option, ruched runs the node: it reads the config
 *  file (--config) and the overriding flags, loads or creates the node key
 *  in the data directory, opens the store, starts the store actor, the
 *  replication actor and the HTTP server (which listens once every
 *  handler is in place), and serves until SIGTERM or SIGINT; then it says
 *  goodbye to the streams, stops accepting, answers every request already
 *  taken, lets the store actor commit what it holds, and exits 0. A part that cannot start (an address in use)
 *  ends the start: what started stops, and ruched exits 1 at once.
 *  Commands do one thing and exit: --keygen DIR makes the key of a new
 *  node, --show-key DIR prints the node id of an existing one, --verify
 *  DIR checks a store's content against its digest, --restore
 *  FILE (with the settings that name the data directory, and --force)
 *  puts a backup in place of the store.
 *
 *  The options live in one table (s_options), which also writes --help.
 *
 *  Standard output carries only the result a script wants (the public key);
 *  everything for people goes to standard error through ru_log, whose
 *  "<N>" prefixes journald understands. Exit status: 0 success, 1 the
 *  command failed (the reason is on standard error), 2 usage error.
 */
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ru_api.h"
#include "ru_blob.h"
#include "ru_blobgc.h"
#include "ru_cache.h"
#include "ru_card.h"
#include "ru_oidc.h"
#include "ru_config.h"
#include "ru_http.h"
#include "ru_image.h"
#include "ru_keyfile.h"
#include "ru_dirldap.h"
#include "ru_ldap.h"
#include "ru_log.h"
#include "ru_mediaq.h"
#include "ru_ops.h"
#include "ru_prom.h"
#include "ru_pubid.h"
#include "ru_ratelimit.h"
#include "ru_repl.h"
#include "ru_reqstats.h"
#include "ru_restore.h"
#include "ru_schema.h"
#include "ru_stream.h"
#include "ru_view.h"
#include "ru_web.h"

#ifndef RUCHE_VERSION
#define RUCHE_VERSION "unknown"
#endif

#define S_LOG "ruched"
/*  The mark --keygen leaves in the data directory: this key is new. */
#define S_NEW_SITE "new-site"
/*  Addresses and user names whose failed sign-ins are counted at once
 *  (about 40 bytes each). */
#define S_LOGIN_SLOTS 16384

enum { S_EXIT_OK = 0, S_EXIT_FAIL = 1, S_EXIT_USAGE = 2 };

struct s_option {
    const char *name;            /* long form */
    const char *alias;           /* short form, or NULL */
    const char *arg;             /* name of the one argument it takes, or NULL */
    int (*run)(const char *arg); /* a command: runs alone, then ruched exits */
    const char *key;             /* a setting: the config key it sets ("" for --set) */
    const char *help;
};

static int s_keygen(const char *dir);
static int s_show_key(const char *dir);
static int s_verify(const char *dir);
static int s_version(const char *unused);
static int s_help(const char *unused);

static const struct s_option s_options[] = {
    {"--config", "-c", "FILE", NULL, NULL, "read the configuration from FILE"},
    {"--data-dir", NULL, "DIR", NULL, "node.data_dir", "keep the store and node key in DIR"},
    {"--site", NULL, "NAME", NULL, "node.site", "this site's short name"},
    {"--listen", NULL, "ADDR", NULL, "http.listen", "serve HTTP on ADDR (host:port)"},
    {"--log-level", NULL, "LEVEL", NULL, "node.log_level", "error, warn, info or debug"},
    {"--set", NULL, "S.KEY=V", NULL, "", "set any config key, e.g. --set http.threads=8"},
    {"--restore", NULL, "FILE", NULL, NULL, "put backup FILE in place of the store, and exit"},
    {"--force", NULL, NULL, NULL, NULL, "with --restore: replace a store already there"},
    {"--keygen", NULL, "DIR", s_keygen, NULL, "write a new node key in DIR, print its public key"},
    {"--show-key", NULL, "DIR", s_show_key, NULL, "print the public key of the node key in DIR"},
    {"--verify", NULL, "DIR", s_verify, NULL, "check the store in DIR against its digest"},
    {"--version", "-V", NULL, s_version, NULL, "print the version and exit"},
    {"--help", "-h", NULL, s_help, NULL, "print this help and exit"},
};

#define S_NOPTIONS (sizeof s_options / sizeof s_options[0])

static const char s_epilogue[] =
    "\n"
    "Without --keygen, --show-key, --verify, --restore, --version or --help,\n"
    "ruched runs the node in the foreground; flags override the configuration\n"
    "file (see ruched.conf).\n"
    "On its first start it creates the node key and the account 'admin', whose\n"
    "password it writes to DATA_DIR/admin-password.\n"
    "\n"
    "--restore FILE takes the data directory from --data-dir or the config file;\n"
    "ruched must not be running on it. It checks that FILE (ruche admin backup)\n"
    "is a store of this version, refuses a directory that holds a store unless\n"
    "--force is given, and leaves the node key alone: keep node.key with the\n"
    "backups, or the restored node starts as a new site. With peers configured,\n"
    "the restored node takes back from them its own updates made after the\n"
    "backup before it accepts new posts.\n"
    "\n"
    "--verify DIR reads every replicated record of the store in DIR (a running\n"
    "node's too), computes the state digest anew and prints it with 'match',\n"
    "or with 'mismatch' and the digest the store kept; it exits 1 on a\n"
    "mismatch: the store is damaged.\n"
    "\n"
    "DIR is the node's data directory. --keygen creates it with mode 0700 if it\n"
    "is missing and never replaces an existing key: the key is the node's\n"
    "identity. The public key (the node id) is also written to DIR/node.pub.\n"
    "\n"
    "Exit status:\n"
    "  0  success\n"
    "  1  the command failed; the reason is written to standard error\n"
    "  2  usage error: unknown option, missing or extra argument\n";

static void
s_usage(FILE *out)
{
    (void) fprintf(out, "Usage: ruched [OPTION ARGUMENT]...\n\nThe ruche node daemon.\n\n"
                        "Options:\n");
    for (size_t i = 0; i < S_NOPTIONS; i++) {
        const struct s_option *o = &s_options[i];
        char left[40];
        (void) snprintf(left, sizeof left, "%s%s%s%s%s", o->alias ? o->alias : "",
                        o->alias ? ", " : "    ", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        (void) fprintf(out, "  %-24s %s\n", left, o->help);
    }
    (void) fputs(s_epilogue, out);
}

/*  Standard output is where the result goes: a failed write is a failure. */
static int
s_flush_stdout(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ru_log_err(S_LOG, "cannot write to standard output: %s", strerror(errno));
        return S_EXIT_FAIL;
    }
    return S_EXIT_OK;
}

static int
s_print_public(const ru_key_t *key)
{
    char text[RU_KEY_TEXT_SIZE];
    ru_keyfile_public_text(key, text);
    printf("%s\n", text);
    return s_flush_stdout();
}

/*  Makes the data directory, owner only, unless it exists. */
static int
s_make_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, S_IRWXU) == 0) {
        ru_log_info(S_LOG, "created data directory %s", dir);
        return S_EXIT_OK;
    }
    if (errno != EEXIST) {
        ru_log_err(S_LOG, "cannot create data directory %s: %s", dir, strerror(errno));
        return S_EXIT_FAIL;
    }
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & (S_IRWXG | S_IRWXO)))
        ru_log_warn(S_LOG, "data directory %s has mode %04o; 0700 keeps other users out", dir,
                    (unsigned) (st.st_mode & 07777));
    return S_EXIT_OK;
}

/*  Gets the key of dir with get (create or load) and prints its public key. */
static int
s_print_key_of(const char *dir, ru_err (*get)(const char *, ru_key_t **))
{
    ru_key_t *key = NULL;
    if (get(dir, &key) != RU_OK)
        return S_EXIT_FAIL; /* ru_keyfile logged why */
    int status = s_print_public(key);
    ru_key_destroy(&key);
    return status;
}

static int
s_keygen(const char *dir)
{
    if (s_make_dir(dir) != S_EXIT_OK)
        return S_EXIT_FAIL;
    int status = s_print_key_of(dir, ru_keyfile_create);
    char path[RU_CONFIG_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/" S_NEW_SITE, dir);
    int fd = status == S_EXIT_OK ? open(path, O_WRONLY | O_CREAT | O_NOFOLLOW, 0600) : -1;
    if (fd >= 0)
        close(fd);
    else if (status == S_EXIT_OK)
        ru_log_warn(S_LOG,
                    "cannot write %s: the first start will ask its peers for this "
                    "site's updates before accepting posts",
                    path);
    return status;
}

static int
s_show_key(const char *dir)
{
    return s_print_key_of(dir, ru_keyfile_load);
}

/*  --verify DIR: the digest of the store's content, computed anew, and
 *  whether it matches the one the store kept (ru_restore_verify). */
static int
s_verify(const char *dir)
{
    ru_store_t *store = NULL;
    uint8_t recomputed[RU_HASH_BYTES], stored[RU_HASH_BYTES];
    char a[2 * RU_HASH_BYTES + 1], b[2 * RU_HASH_BYTES + 1];
    int match = 0;
    ru_err err = ru_store_open_readonly(dir, &store);
    if (!err)
        err = ru_restore_verify(store, recomputed, stored, &match);
    ru_store_destroy(&store);
    if (err) {
        ru_log_err(S_LOG, "cannot verify the store in %s: %s", dir, ru_err_str(err));
        return S_EXIT_FAIL;
    }
    sodium_bin2hex(a, sizeof a, recomputed, RU_HASH_BYTES);
    sodium_bin2hex(b, sizeof b, stored, RU_HASH_BYTES);
    if (match)
        printf("%s match\n", a);
    else
        printf("%s mismatch %s\n", a, b);
    if (!match)
        ru_log_err(S_LOG,
                   "the store in %s is damaged: its records do not add up to its digest; "
                   "restore a backup",
                   dir);
    int status = s_flush_stdout();
    return match ? status : S_EXIT_FAIL;
}

static int
s_version(const char *unused)
{
    (void) unused;
    printf("ruched %s\n", RUCHE_VERSION);
    return s_flush_stdout();
}

static int
s_help(const char *unused)
{
    (void) unused;
    s_usage(stdout);
    return s_flush_stdout();
}

static const struct s_option *
s_find(const char *word)
{
    for (size_t i = 0; i < S_NOPTIONS; i++) {
        const struct s_option *o = &s_options[i];
        if (strcmp(word, o->name) == 0 || (o->alias && strcmp(word, o->alias) == 0))
            return o;
    }
    return NULL;
}

/*  ---------------------------------------------------------------------
 *  Running the node
 */

/*  Applies the settings of argv to cfg: the config file first, wherever
 *  --config stands, then every flag in order. */
static int
s_configure(int argc, char **argv, ru_config_t *cfg)
{
    ru_config_defaults(cfg);
    for (int i = 1; i < argc; i += s_find(argv[i])->arg ? 2 : 1)
        if (strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0)
            if (ru_config_load(cfg, argv[i + 1]) != RU_OK)
                return S_EXIT_FAIL;
    for (int i = 1; i < argc; i += s_find(argv[i])->arg ? 2 : 1) {
        const struct s_option *o = s_find(argv[i]);
        char dotted[64];
        const char *value = argv[i + 1];
        if (!o->key)
            continue;
        if (o->key[0]) {
            snprintf(dotted, sizeof dotted, "%s", o->key);
        } else {
            const char *eq = strchr(value, '=');
            if (!eq || (size_t) (eq - value) >= sizeof dotted) {
                (void) fprintf(stderr, "ruched: --set takes SECTION.KEY=VALUE\n");
                return S_EXIT_USAGE;
            }
            snprintf(dotted, sizeof dotted, "%.*s", (int) (eq - value), value);
            value = eq + 1;
        }
        if (ru_config_set(cfg, dotted, value, o->name) != RU_OK)
            return S_EXIT_FAIL;
    }
    return ru_config_check(cfg) == RU_OK ? S_EXIT_OK : S_EXIT_FAIL;
}

/*  The node key of the data directory, made on first start (*made). */
static ru_err
s_node_key(const char *dir, ru_key_t **key, int *made)
{
    char path[RU_CONFIG_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/node.key", dir);
    *made = 0;
    if (access(path, F_OK) == 0 || errno != ENOENT)
        return ru_keyfile_load(dir, key);
    *made = 1;
    ru_err err = ru_keyfile_create(dir, key);
    if (!err) {
        char text[RU_KEY_TEXT_SIZE];
        ru_keyfile_public_text(*key, text);
        ru_log_info(S_LOG, "new node key; this node's id is %s", text);
    }
    return err;
}

typedef struct {
    const char *hash;
} s_admin;

static ru_err
s_create_admin(const ru_writer_ctx_t *ctx, void *arg)
{
    s_admin *a = arg;
    uint64_t n;
    ru_err err = ru_account_count(ctx->txn, &n);
    if (!err && n > 0)
        return RU_E_EXISTS;
    if (!err)
        err = ru_account_create(ctx->txn, "admin", a->hash, 1, ru_hlc_wall_ms());
    return err ? err
               : ru_pubid_note_user(ctx->txn, ru_key_public(ctx->key), (ru_str_t){"admin", 5});
}

/*  On the first start (no account yet), creates "admin" with a random
 *  password written to DATA_DIR/admin-password, readable by the owner. */
static ru_err
s_first_admin(ru_node_t *node)
{
    char path[RU_CONFIG_PATH_MAX + 32], password[32], hash[RU_PWHASH_SIZE];
    ru_account_random_password(password, sizeof password);
    ru_err err = ru_account_hash(password, hash);
    s_admin a = {hash};
    if (!err)
        err = ru_writer_call(node->writer, s_create_admin, &a);
    if (err == RU_E_EXISTS)
        return RU_OK;
    snprintf(path, sizeof path, "%s/admin-password", node->cfg.data_dir);
    int fd = err ? -1 : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
    if (!err && (fd < 0 || dprintf(fd, "%s\n", password) < 0)) {
        ru_log_err(S_LOG, "cannot write %s: %s", path, strerror(errno));
        err = RU_E_IO;
    }
    if (fd >= 0)
        close(fd);
    if (!err)
        ru_log_info(S_LOG,
                    "created the account 'admin'; its password is in %s: log in with "
                    "ruche --server %s login admin",
                    path, node->public_url);
    return err;
}

static ru_err
s_begin_recovery(const ru_writer_ctx_t *ctx, void *arg)
{
    (void) arg;
    return ru_apply_begin_recovery(ctx->txn);
}

/*  A new store with an old key: the site lost its store. Its peers hold
 *  its updates; it takes them back before it makes new ones. A key that
 *  --keygen just made (it leaves the new-site mark) has made no update. */
static ru_err
s_check_store_loss(ru_node_t *node, int key_made)
{
    char mark[RU_CONFIG_PATH_MAX + 16];
    snprintf(mark, sizeof mark, "%s/" S_NEW_SITE, node->cfg.data_dir);
    int new_site = unlink(mark) == 0;
    if (key_made || new_site || !ru_store_fresh(node->store) || node->cfg.n_peers == 0)
        return RU_OK;
    ru_log_warn(S_LOG, "the store is new but the node key is not: this site takes its own "
                       "updates back from its peers before it accepts new posts");
    return ru_writer_call(node->writer, s_begin_recovery, NULL);
}

/*  The URL clients reach the node at, from [http] public_url or listen. */
static void
s_public_url(ru_node_t *node)
{
    const char *listen = node->cfg.listen;
    if (node->cfg.public_url[0])
        snprintf(node->public_url, sizeof node->public_url, "%s", node->cfg.public_url);
    else if (strchr(listen, ':'))
        snprintf(node->public_url, sizeof node->public_url, "http://%s", listen);
    else
        snprintf(node->public_url, sizeof node->public_url, "http://localhost:%s", listen);
    size_t n = strlen(node->public_url);
    if (n && node->public_url[n - 1] == '/')
        node->public_url[n - 1] = '\0';
}

/*  The writer's limits of the pending set, from [replication] (read at
 *  start). */
static ru_err
s_pending_limits(ru_node_t *node)
{
    ru_writer_set_limits(node->writer, (ru_apply_limits_t){(uint64_t) node->cfg.pending_per_origin,
                                                           (uint64_t) node->cfg.pending_max});
    return RU_OK;
}

/*  Starts the replication actor with the node's parts. */
static ru_err
s_repl_new(ru_node_t *node)
{
    ru_repl_ctx_t ctx = {&node->cfg,   node->key,   node->store,
                         node->writer, node->sites, node->blobs, ru_repl_publish_endpoint()};
    return ru_repl_new(&ctx, &node->repl);
}

/*  SIGHUP: reads the configuration again and applies its peer list. */
static void
s_reload(ru_node_t *node, int argc, char **argv)
{
    ru_config_t *cfg = malloc(sizeof *cfg);
    if (!cfg)
        return;
    if (s_configure(argc, argv, cfg) != S_EXIT_OK)
        ru_log_err(S_LOG, "SIGHUP: the configuration has errors; nothing changed");
    else if (!node->repl)
        ru_log_warn(S_LOG, "SIGHUP: replication was off at start; restart ruched to start it");
    else if (ru_repl_reload(node->repl, cfg) == RU_OK)
        ru_log_info(S_LOG, "SIGHUP: %d peers configured", cfg->n_peers);
    free(cfg);
}

/*  The API's routes and the operators', in one table ending with a NULL
 *  method, and in *n how many; the caller frees it. */
static ru_route_t *
s_routes(int *n)
{
    size_t a = 0, o = 0;
    while (ru_api_routes[a].method)
        a++;
    while (ru_ops_routes[o].method)
        o++;
    ru_route_t *all = calloc(a + o + 1, sizeof *all);
    if (all) {
        memcpy(all, ru_api_routes, a * sizeof *all);
        memcpy(all + a, ru_ops_routes, (o + 1) * sizeof *all);
    }
    *n = (int) (a + o);
    return all;
}

/*  The labels of route i of a table (ru_reqstats.h). */
static void
s_route_label(const void *ctx, int i, const char **method, const char **pattern)
{
    const ru_route_t *r = (const ru_route_t *) ctx + i;
    *method = r->method;
    *pattern = r->pattern;
}

/*  What /metrics pulls (ru_prom.h): each module's collector. */
static ru_err
s_collectors(ru_node_t *node)
{
    ru_err err = ru_prom_add(node->prom, ru_reqstats_collect, node->reqstats);
    if (!err)
        err = ru_prom_add(node->prom, ru_store_collect, node->store);
    if (!err)
        err = ru_prom_add(node->prom, ru_writer_collect, node->writer);
    if (!err)
        err = ru_prom_add(node->prom, ru_stream_collect, node->stream);
    if (!err && node->repl)
        err = ru_prom_add(node->prom, ru_repl_collect, node->repl);
    if (!err && node->cache)
        err = ru_prom_add(node->prom, ru_cache_collect, node->cache);
    if (!err && node->cards)
        err = ru_prom_add(node->prom, ru_card_collect, node->cards);
    return err;
}

/*  The media collector, with the [media] settings. */
static ru_err
s_blobgc_new(ru_node_t *node, ru_blobgc_t **out)
{
    ru_blobgc_opts_t opts = {(uint64_t) node->cfg.media_upload_s * 1000,
                             (uint64_t) node->cfg.media_grace_s * 1000,
                             (uint64_t) node->cfg.media_gc_interval_s * 1000};
    return ru_blobgc_new(node->store, node->writer, node->blobs, &opts, out);
}

/*  Serves until SIGTERM or SIGINT, reloading peers on SIGHUP (the signals
 *  are blocked in every thread and taken here). */
static int
s_serve(ru_node_t *node, const sigset_t *signals, int argc, char **argv)
{
    ru_http_t *http = NULL;
    ru_blobgc_t *gc = NULL;
    int n_routes = 0;
    ru_route_t *routes = s_routes(&n_routes);
    int status = S_EXIT_FAIL;
    /* every handler is in place before the listener opens: no early 404 */
    if (routes && s_first_admin(node) == RU_OK && ru_stream_new(node, &node->stream) == RU_OK &&
        ru_mediaq_new(node, &node->mediaq) == RU_OK && s_blobgc_new(node, &gc) == RU_OK &&
        ru_prom_new(&node->prom) == RU_OK &&
        (!node->cfg.http_cache_kb ||
         ru_cache_new((size_t) node->cfg.http_cache_kb * 1024, &node->cache) == RU_OK) &&
        ru_reqstats_new(n_routes, s_route_label, routes, &node->reqstats) == RU_OK &&
        ru_card_new(&node->cfg, node->store, node->writer, &node->cards) == RU_OK &&
        ru_oidc_new(&node->cfg, node->public_url, &node->oidc) == RU_OK &&
        ru_ldap_new(&node->cfg, &node->ldap) == RU_OK &&
        (!node->ldap || ru_dirldap_new(node, &node->dirldap) == RU_OK) &&
        s_collectors(node) == RU_OK && ru_http_new(node, routes, &http) == RU_OK &&
        (ru_stream_serve_websocket(node->stream, http), ru_http_on_other(http, ru_web_other),
         ru_http_listen(http)) == RU_OK) {
        ru_log_info(S_LOG, "site %s serving at %s", node->cfg.site, node->public_url);
        if (node->ldap)
            ru_log_info(S_LOG, "employees sign in with the company directory at %s",
                        node->cfg.ldap_uri);
        int sig = 0;
        while (sigwait(signals, &sig) == 0 && sig == SIGHUP)
            s_reload(node, argc, argv);
        ru_log_info(S_LOG, "stopping on signal %d", sig);
        ru_stream_close_all(node->stream); /* goodbyes to the streams */
        status = S_EXIT_OK;
    }
    ru_http_stop(&http); /* answers every request in flight */
    ru_mediaq_destroy(&node->mediaq);
    ru_blobgc_destroy(&gc);
    ru_stream_destroy(&node->stream);
    ru_prom_destroy(&node->prom);
    ru_reqstats_destroy(&node->reqstats);
    ru_cache_destroy(&node->cache);
    ru_card_destroy(&node->cards); /* after the handlers and the scrapes that use it */
    ru_oidc_destroy(&node->oidc);  /* after the handlers */
    ru_dirldap_destroy(&node->dirldap); /* after the handlers, before the directory it reads */
    ru_ldap_destroy(&node->ldap);  /* after the handlers, which sign people in with it */
    free(routes);
    return status;
}

static int
s_run_node(int argc, char **argv)
{
    ru_node_t *node = calloc(1, sizeof *node);
    if (!node)
        return S_EXIT_FAIL;
    int status = s_configure(argc, argv, &node->cfg);
    ru_log_level level;
    if (status == S_EXIT_OK && ru_log_level_parse(node->cfg.log_level, &level) == RU_OK)
        ru_log_set_level(level);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL); /* before any thread starts */
    zsys_handler_set(NULL);                  /* signals are ours, not CZMQ's */
    zsys_init();                             /* once, before threads race to it */
    s_public_url(node);
    for (int i = 1; i < argc; i += s_find(argv[i])->arg ? 2 : 1)
        if (strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0)
            snprintf(node->config_path, sizeof node->config_path, "%s", argv[i + 1]);
    size_t mib = 1024 * 1024;
    int key_made = 0;
    if (status == S_EXIT_OK &&
        (s_make_dir(node->cfg.data_dir) != S_EXIT_OK ||
         s_node_key(node->cfg.data_dir, &node->key, &key_made) != RU_OK ||
         ru_ratelimit_new(node->cfg.login_failures, node->cfg.login_window_s * 1000, S_LOGIN_SLOTS,
                          &node->logins) != RU_OK ||
         ru_ratelimit_new(node->cfg.app_registrations, node->cfg.app_window_s * 1000, S_LOGIN_SLOTS,
                          &node->apps) != RU_OK ||
         ru_store_open(node->cfg.data_dir, (size_t) node->cfg.map_size_mb * mib,
                       (size_t) node->cfg.max_size_mb * mib, ru_schema_upgrades,
                       &node->store) != RU_OK ||
         ru_blob_new(node->cfg.data_dir, (uint64_t) node->cfg.media_quota_mb * mib,
                     &node->blobs) != RU_OK ||
         ru_image_init(node->cfg.media_heic != 0, RU_IMAGE_CONCURRENCY) != RU_OK ||
         ru_sites_new(node->cfg.site, ru_key_public(node->key), node->cfg.peers,
                      node->cfg.n_peers, &node->sites) != RU_OK ||
         ru_writer_new(node->store, node->key, ru_sites_key, node->sites,
                       node->cfg.pub_bind[0] ? ru_repl_publish_endpoint() : NULL,
                       &node->writer) != RU_OK ||
         s_pending_limits(node) != RU_OK || s_check_store_loss(node, key_made) != RU_OK ||
         ru_web_new(node->cfg.web_root, &node->web) != RU_OK ||
         (node->cfg.pub_bind[0] && s_repl_new(node) != RU_OK)))
        status = S_EXIT_FAIL;
    if (status == S_EXIT_OK)
        status = s_serve(node, &stop, argc, argv);
    if (status != S_EXIT_OK)
        ru_log_err(S_LOG, "site %s did not start (the error is above): exiting", node->cfg.site);
    ru_repl_destroy(&node->repl);     /* its workers hand the writer their last updates */
    ru_writer_destroy(&node->writer); /* commits what it holds */
    ru_sites_destroy(&node->sites);   /* after the writer, which resolved mentions with it */
    ru_store_destroy(&node->store);
    ru_blob_destroy(&node->blobs);
    ru_key_destroy(&node->key);
    ru_ratelimit_destroy(&node->logins);
    ru_ratelimit_destroy(&node->apps);
    ru_web_destroy(&node->web);
    free(node);
    return status;
}

/*  --restore FILE: the store of the configured data directory from a
 *  backup (ru_restore.h). */
static int
s_run_restore(const char *file, int argc, char **argv)
{
    ru_config_t *cfg = malloc(sizeof *cfg);
    int force = 0;
    for (int i = 1; i < argc; i++)
        force |= strcmp(argv[i], "--force") == 0;
    int status = cfg ? s_configure(argc, argv, cfg) : S_EXIT_FAIL;
    if (status == S_EXIT_OK &&
        (s_make_dir(cfg->data_dir) != S_EXIT_OK || ru_restore(cfg, file, force) != RU_OK))
        status = S_EXIT_FAIL;
    free(cfg);
    return status;
}

/*  Checks argv: option names known, each with its argument, and a command
 *  option only alone. Returns the command, or NULL to run the node. */
static int
s_parse(int argc, char **argv, const struct s_option **command)
{
    *command = NULL;
    for (int i = 1; i < argc; i++) {
        const struct s_option *o = s_find(argv[i]);
        if (!o) {
            (void) fprintf(stderr, "ruched: unknown option '%s'\n", argv[i]);
            return S_EXIT_USAGE;
        }
        if (o->arg && i + 1 >= argc) {
            (void) fprintf(stderr, "ruched: %s takes one argument, %s\n", o->name, o->arg);
            return S_EXIT_USAGE;
        }
        if (o->run && (*command || argc != (o->arg ? 3 : 2))) {
            (void) fprintf(stderr, "ruched: %s is used alone\n", o->name);
            return S_EXIT_USAGE;
        }
        if (o->run)
            *command = o;
        i += o->arg ? 1 : 0;
    }
    return S_EXIT_OK;
}

int
main(int argc, char **argv)
{
    const struct s_option *command;
    if (s_parse(argc, argv, &command) != S_EXIT_OK) {
        s_usage(stderr);
        return S_EXIT_USAGE;
    }
    if (command)
        return command->run(command->arg ? argv[2] : NULL);
    for (int i = 1; i < argc; i += s_find(argv[i])->arg ? 2 : 1)
        if (strcmp(argv[i], "--restore") == 0)
            return s_run_restore(argv[i + 1], argc, argv);
    return s_run_node(argc, argv);
}
