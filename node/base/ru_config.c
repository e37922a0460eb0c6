/*  ru_config.c - configuration keys, the INI file and overrides.
 *
 *  s_keys is the whole list of keys. Strings are copied into fixed arrays
 *  of the struct (a value too long is an error, not a silent cut); numbers
 *  are decimal with an allowed range. inih reads the file through
 *  s_read_line, which refuses a line longer than inih's buffer (or one
 *  with a NUL byte) rather than let inih split it.
 */
#include "ru_config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ru_hostlist.h"
#include "ru_log.h"
#include "ruche/ru_text.h"

typedef enum { S_STR, S_LONG, S_LIST, S_BOOL } s_type; /* a list: words, each line adds */

typedef struct {
    const char *section;
    const char *name;
    s_type type;
    size_t offset;
    size_t size; /* strings: the array's size */
    long min, max;
    const char *def;
} s_key;

#define S_ARRAY_KEY(sec, key, type, field, def)                                                    \
    {                                                                                              \
        sec, key, type, offsetof(ru_config_t, field), sizeof(((ru_config_t *) 0)->field), 0, 0,    \
            def                                                                                    \
    }
#define S_STR_KEY(sec, key, field, def) S_ARRAY_KEY(sec, key, S_STR, field, def)
#define S_LIST_KEY(sec, key, field) S_ARRAY_KEY(sec, key, S_LIST, field, "")
#define S_BOOL_KEY(sec, key, field, def) S_ARRAY_KEY(sec, key, S_BOOL, field, def)
#define S_LONG_KEY(sec, key, field, lo, hi, def)                                                   \
    {                                                                                              \
        sec, key, S_LONG, offsetof(ru_config_t, field), 0, lo, hi, def                             \
    }

static const s_key s_keys[] = {
    S_STR_KEY("node", "site", site, "local"),
    S_STR_KEY("node", "data_dir", data_dir, "/var/lib/ruche"),
    S_STR_KEY("node", "log_level", log_level, "info"),
    S_STR_KEY("http", "listen", listen, "127.0.0.1:8080"),
    S_STR_KEY("http", "public_url", public_url, ""),
    S_STR_KEY("http", "web_root", web_root, ""),
    S_LONG_KEY("http", "threads", http_threads, 2, 256, "16"),
    S_LONG_KEY("http", "max_body", max_body, 1024, 16 * 1024 * 1024, "1048576"),
    S_LONG_KEY("http", "keep_alive_ms", keep_alive_ms, 0, 60000, "5000"),
    S_LONG_KEY("http", "queue", http_queue, 1, 1000000, "1024"),
    S_LONG_KEY("http", "request_timeout_ms", request_timeout_ms, 1000, 600000, "10000"),
    S_LONG_KEY("http", "max_headers", max_headers, 8, 100, "64"),
    S_LONG_KEY("http", "max_header_bytes", max_header_bytes, 1024, 400000, "16384"),
    S_LONG_KEY("http", "max_json_depth", max_json_depth, 2, 1000, "64"),
    S_LONG_KEY("http", "multipart_max_parts", multipart_max_parts, 1, 1000, "64"),
    S_LONG_KEY("http", "multipart_max_header_bytes", multipart_max_header_bytes, 256, 65536,
               "8192"),
    S_LONG_KEY("http", "multipart_max_header_lines", multipart_max_header_lines, 1, 100, "16"),
    S_LONG_KEY("http", "max_connections", max_connections, 16, 1000000, "16384"),
    S_LONG_KEY("http", "max_connections_per_address", max_connections_per_address, 1, 1000000,
               "1024"),
    S_LONG_KEY("http", "cache_kb", http_cache_kb, 0, 4 * 1024 * 1024, "16384"),
    S_STR_KEY("http", "metrics", metrics, "public"),
    S_LONG_KEY("http", "login_failures", login_failures, 1, 1000000, "10"),
    S_LONG_KEY("http", "login_window_s", login_window_s, 1, 86400, "300"),
    S_LONG_KEY("http", "app_registrations", app_registrations, 1, 1000000, "10"),
    S_LONG_KEY("http", "app_window_s", app_window_s, 1, 86400, "3600"),
    S_LONG_KEY("http", "walk_budget", walk_budget, 100, 1000000, "5000"),
    S_LONG_KEY("http", "max_search_offset", max_search_offset, 0, 100000, "1000"),
    S_LONG_KEY("streaming", "max_streams", max_streams, 1, 1000000, "10000"),
    S_LONG_KEY("streaming", "max_streams_per_user", max_streams_per_user, 1, 1000000, "256"),
    S_LONG_KEY("streaming", "max_message", stream_max_message, 128, 1048576, "4096"),
    S_LONG_KEY("streaming", "heartbeat_ms", stream_heartbeat_ms, 100, 600000, "15000"),
    S_LONG_KEY("streaming", "queue_kb", stream_queue_kb, 16, 65536, "1024"),
    S_LONG_KEY("media", "max_upload", media_max_upload, 1024, 1024L * 1024 * 1024, "41943040"),
    S_LONG_KEY("media", "max_pixels", media_max_pixels, 1000000, 1000000000, "50000000"),
    S_LONG_KEY("media", "max_side", media_max_side, 256, 65535, "16384"),
    S_LONG_KEY("media", "display_px", media_display_px, 64, 8192, "1920"),
    S_LONG_KEY("media", "thumb_px", media_thumb_px, 32, 8192, "480"),
    S_LONG_KEY("media", "heic", media_heic, 0, 1, "0"),
    S_LONG_KEY("media", "workers", media_workers, 1, 64, "2"),
    S_LONG_KEY("media", "queue_mb", media_queue_mb, 1, 65536, "256"),
    S_LONG_KEY("media", "per_user", media_per_user, 1, 10000, "8"),
    S_LONG_KEY("media", "quota_mb", media_quota_mb, 0, 1024L * 1024 * 1024, "0"),
    S_LONG_KEY("media", "user_quota_mb", media_user_quota_mb, 0, 1024L * 1024 * 1024, "0"),
    S_LONG_KEY("media", "upload_s", media_upload_s, 1, 31536000, "86400"),
    S_LONG_KEY("media", "grace_s", media_grace_s, 0, 31536000, "86400"),
    S_LONG_KEY("media", "gc_interval_s", media_gc_interval_s, 1, 86400, "60"),
    S_LONG_KEY("media", "attachments", media_attachments, 1, RU_MAX_MEDIA, "4"),
    S_LONG_KEY("media", "fetch_now_mb", media_fetch_now_mb, 0, 1024 * 1024, "20"),
    S_LONG_KEY("directory", "max_candidates", dir_max_candidates, 100, 10000000, "50000"),
    S_LONG_KEY("directory", "help_posts", dir_help_posts, 0, 1000000, "2000"),
    S_LONG_KEY("media", "profile_wait_ms", media_profile_wait_ms, 100, 600000, "30000"),
    S_STR_KEY("directory", "owned", dir_owned, "display_name avatar"),
    S_LONG_KEY("directory", "sync_interval_s", dir_sync_interval_s, 0, 604800, "3600"),
    S_LONG_KEY("store", "map_size_mb", map_size_mb, 1, 1024 * 1024, "256"),
    S_LONG_KEY("store", "max_size_mb", max_size_mb, 0, 64 * 1024 * 1024, "0"),
    S_STR_KEY("replication", "pub", pub_bind, ""),
    S_STR_KEY("replication", "sync", sync_bind, ""),
    S_LONG_KEY("replication", "heartbeat_ms", heartbeat_ms, 50, 60000, "1000"),
    S_LONG_KEY("replication", "anti_entropy_s", anti_entropy_s, 1, 86400, "30"),
    S_LONG_KEY("replication", "verify_threads", verify_threads, 1, 64, "2"),
    S_LONG_KEY("replication", "max_skew_ms", max_skew_ms, 1000, 86400000, "60000"),
    S_LONG_KEY("replication", "pending_per_origin", pending_per_origin, 1000, 1000000000,
               "2000000"),
    S_LONG_KEY("replication", "pending_max", pending_max, 1000, 1000000000, "10000000"),
    S_LONG_KEY("replication", "pending_alarm_s", pending_alarm_s, 10, 604800, "3600"),
    S_LONG_KEY("replication", "pending_walk", pending_walk, 16, 1000000, "4096"),
    S_LONG_KEY("replication", "queue_mb", queue_mb, 21, 4096, "32"),
    S_LONG_KEY("replication", "sync_timeout_ms", sync_timeout_ms, 500, 3600000, "60000"),
    S_LIST_KEY("cards", "allowed_hosts", card_hosts),
    S_STR_KEY("cards", "proxy", card_proxy, ""),
    S_LONG_KEY("cards", "workers", card_workers, 1, 16, "1"),
    S_LONG_KEY("cards", "queue", card_queue, 1, 100000, "256"),
    S_LONG_KEY("cards", "connect_timeout_ms", card_connect_timeout_ms, 100, 60000, "3000"),
    S_STR_KEY("ldap", "uri", ldap_uri, ""),
    S_BOOL_KEY("ldap", "starttls", ldap_starttls, "no"),
    S_STR_KEY("ldap", "ca_file", ldap_ca_file, ""),
    S_STR_KEY("ldap", "bind_dn", ldap_bind_dn, ""),
    S_STR_KEY("ldap", "bind_password_file", ldap_bind_password_file, ""),
    S_STR_KEY("ldap", "base_dn", ldap_base_dn, ""),
    S_STR_KEY("ldap", "user_filter", ldap_user_filter, "(uid=%s)"),
    S_STR_KEY("ldap", "sync_filter", ldap_sync_filter, "(objectClass=inetOrgPerson)"),
    S_STR_KEY("ldap", "login_attribute", ldap_attr_login, "uid"),
    S_STR_KEY("ldap", "name_attribute", ldap_attr_name, "cn"),
    S_STR_KEY("ldap", "mail_attribute", ldap_attr_mail, "mail"),
    S_STR_KEY("ldap", "title_attribute", ldap_attr_title, "title"),
    S_STR_KEY("ldap", "department_attribute", ldap_attr_department, "departmentNumber"),
    S_STR_KEY("ldap", "site_attribute", ldap_attr_site, "l"),
    S_STR_KEY("ldap", "office_attribute", ldap_attr_office, "physicalDeliveryOfficeName"),
    S_STR_KEY("ldap", "phone_attribute", ldap_attr_phone, "telephoneNumber"),
    S_STR_KEY("ldap", "manager_attribute", ldap_attr_manager, "manager"),
    S_STR_KEY("ldap", "photo_attribute", ldap_attr_photo, "jpegPhoto"),
    S_STR_KEY("ldap", "id_attribute", ldap_attr_id, "entryUUID"),
    S_STR_KEY("ldap", "skills_attribute", ldap_attr_skills, ""),
    S_STR_KEY("ldap", "member_of_attribute", ldap_attr_member_of, "memberOf"),
    S_STR_KEY("ldap", "allow_group", ldap_allow_group, ""),
    S_STR_KEY("ldap", "admin_group", ldap_admin_group, ""),
    S_LONG_KEY("ldap", "timeout_ms", ldap_timeout_ms, 100, 120000, "5000"),
    S_LONG_KEY("ldap", "page_size", ldap_page_size, 1, 10000, "500"),
    S_LONG_KEY("ldap", "max_photo_bytes", ldap_max_photo_bytes, 0, 16 * 1024 * 1024, "262144"),
    S_LONG_KEY("cards", "timeout_ms", card_timeout_ms, 100, 120000, "10000"),
    S_LONG_KEY("cards", "max_kb", card_max_kb, 16, 16384, "512"),
    S_LONG_KEY("cards", "max_redirects", card_max_redirects, 0, 10, "3"),
    S_LONG_KEY("cards", "retry_s", card_retry_s, 1, 604800, "3600"),
    S_STR_KEY("oidc", "issuer", oidc_issuer, ""),
    S_STR_KEY("oidc", "client_id", oidc_client_id, ""),
    S_STR_KEY("oidc", "client_secret_file", oidc_client_secret_file, ""),
    S_STR_KEY("oidc", "redirect_base", oidc_redirect_base, ""),
    S_STR_KEY("oidc", "label", oidc_label, "your company account"),
    S_STR_KEY("oidc", "scopes", oidc_scopes, "openid profile email"),
    S_STR_KEY("oidc", "claim_username", oidc_claim_username, "preferred_username"),
    S_STR_KEY("oidc", "claim_display_name", oidc_claim_display_name, "name"),
    S_STR_KEY("oidc", "claim_email", oidc_claim_email, "email"),
    S_STR_KEY("oidc", "claim_department", oidc_claim_department, "department"),
    S_STR_KEY("oidc", "claim_site", oidc_claim_site, "site"),
    S_STR_KEY("oidc", "claim_groups", oidc_claim_groups, "groups"),
    S_STR_KEY("oidc", "id_claim", oidc_id_claim, "sub"),
    S_STR_KEY("oidc", "allow_group", oidc_allow_group, ""),
    S_STR_KEY("oidc", "admin_group", oidc_admin_group, ""),
    S_LONG_KEY("oidc", "clock_skew_s", oidc_clock_skew_s, 0, 600, "60"),
    S_LONG_KEY("oidc", "timeout_ms", oidc_timeout_ms, 100, 120000, "5000"),
    S_LONG_KEY("oidc", "jwks_cache_s", oidc_jwks_cache_s, 10, 604800, "3600"),
    S_LONG_KEY("oidc", "jwks_refetch_s", oidc_jwks_refetch_s, 1, 86400, "60"),
    S_LONG_KEY("oidc", "max_response_kb", oidc_max_response_kb, 4, 4096, "256"),
    S_LONG_KEY("oidc", "pending", oidc_pending, 1, 100000, "10000"),
    S_LONG_KEY("oidc", "pending_s", oidc_pending_s, 30, 3600, "600"),
    S_LONG_KEY("oidc", "retry_s", oidc_retry_s, 0, 3600, "10"),
    S_STR_KEY("oidc", "ca_file", oidc_ca_file, ""),
};

#define S_PEER "peer "

#define S_NKEYS (sizeof s_keys / sizeof s_keys[0])

static const s_key *
s_find(const char *section, const char *name)
{
    for (size_t i = 0; i < S_NKEYS; i++)
        if (strcmp(s_keys[i].section, section) == 0 && strcmp(s_keys[i].name, name) == 0)
            return &s_keys[i];
    return NULL;
}

/*  A yes/no value into the long at field; a message for people on error. */
static const char *
s_assign_bool(char *field, const char *value)
{
    static const char *const words[] = {"no", "yes", "false", "true", "off", "on", "0", "1"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(value, words[i]) == 0) {
            long v = (long) (i % 2);
            memcpy(field, &v, sizeof v);
            return NULL;
        }
    return "not yes or no";
}

/*  Stores value into the field of key k; a message for people on error. */
static const char *
s_assign(ru_config_t *cfg, const s_key *k, const char *value)
{
    char *field = (char *) cfg + k->offset;
    if (k->type == S_LIST) {
        size_t used = strlen(field), n = strlen(value);
        if (n == 0)
            return NULL;
        if (used + 1 + n >= k->size)
            return "list too long";
        if (used)
            field[used++] = ' ';
        memcpy(field + used, value, n + 1);
        return NULL;
    }
    if (k->type == S_STR) {
        if (strlen(value) >= k->size)
            return "value too long";
        memcpy(field, value, strlen(value) + 1);
        return NULL;
    }
    if (k->type == S_BOOL)
        return s_assign_bool(field, value);
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end != '\0')
        return "not a whole number";
    if (v < k->min || v > k->max)
        return "out of range";
    memcpy(field, &v, sizeof v);
    return NULL;
}

void
ru_config_defaults(ru_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < S_NKEYS; i++)
        (void) s_assign(cfg, &s_keys[i], s_keys[i].def);
}

/*  The peer of section "peer NAME", added if new; NULL if there are too
 *  many peers already. */
static ru_peer_cfg_t *
s_peer(ru_config_t *cfg, const char *name)
{
    for (int i = 0; i < cfg->n_peers; i++)
        if (strcmp(cfg->peers[i].site, name) == 0)
            return &cfg->peers[i];
    if (cfg->n_peers == RU_MAX_PEERS || strlen(name) > RU_MAX_NAME)
        return NULL;
    ru_peer_cfg_t *p = &cfg->peers[cfg->n_peers++];
    memset(p, 0, sizeof *p);
    memcpy(p->site, name, strlen(name) + 1);
    return p;
}

/*  Sets key of the [peer NAME] section; a message for people on error. */
static const char *
s_assign_peer(ru_config_t *cfg, const char *name, const char *key, const char *value)
{
    ru_peer_cfg_t *p = s_peer(cfg, name);
    if (!p)
        return "too many peers, or a site name over 64 characters";
    if (strcmp(key, "key") == 0) {
        if (ru_b64_decode(p->key, RU_KEY_BYTES, value, strlen(value)) != RU_OK)
            return "not a node key (43 characters of base64url, as ruched --show-key prints)";
        p->has_key = 1;
        return NULL;
    }
    char *field = strcmp(key, "pub") == 0 ? p->pub : strcmp(key, "sync") == 0 ? p->sync : NULL;
    if (!field)
        return "unknown key (a peer has key, pub and sync)";
    if (strlen(value) >= RU_CONFIG_ENDPOINT_MAX)
        return "value too long";
    memcpy(field, value, strlen(value) + 1);
    return NULL;
}

/*  Sets section.name = value, whichever kind of section it is. */
static const char *
s_set(ru_config_t *cfg, const char *section, const char *name, const char *value)
{
    if (strncmp(section, S_PEER, strlen(S_PEER)) == 0)
        return s_assign_peer(cfg, section + strlen(S_PEER), name, value);
    const s_key *k = s_find(section, name);
    return k ? s_assign(cfg, k, value) : "unknown key";
}

typedef struct {
    ru_config_t *cfg;
    const char *path;
    ru_err err;
} s_parse;

static int
s_on_key(void *user, const char *section, const char *name, const char *value)
{
    s_parse *p = user;
    const char *why = s_set(p->cfg, section, name, value);
    if (why) {
        ru_log_err("config", "%s: [%s] %s = %s: %s", p->path, section, name, value, why);
        p->err = RU_E_INVALID;
        return 0;
    }
    return 1;
}

/*  inih reads a line into a buffer of its own size and parses whatever
 *  did not fit as the next line: a value would be cut short, and the tail
 *  of a long comment read as a key; it also stops a line at a NUL byte.
 *  So lines reach it through this reader, which passes a long comment's
 *  start over the rest of it, and stops at a line that holds a NUL byte
 *  or, not a comment, does not fit (bad_line, its number; why). */
typedef struct {
    FILE *f;
    int line;
    int bad_line;
    const char *why;
} s_reader;

static int
s_is_comment(const char *line)
{
    size_t blank = strspn(line, " \t");
    return line[blank] == ';' || line[blank] == '#';
}

static char *
s_read_line(char *str, int num, void *stream)
{
    s_reader *r = stream;
    int n = 0, c = 0;
    while (!r->bad_line && n < num - 1 && c != '\n' && (c = getc(r->f)) != EOF)
        str[n++] = (char) c;
    if (r->bad_line || n == 0)
        return NULL;
    str[n] = '\0';
    r->line++;
    r->why = memchr(str, '\0', (size_t) n) ? "this line holds a NUL byte" : NULL;
    if (!r->why && c != '\n' && c != EOF && (c = getc(r->f)) != '\n' && c != EOF) {
        r->why = s_is_comment(str) ? NULL : "this line is too long";
        while (!r->why && (c = getc(r->f)) != EOF && c != '\n')
            ; /* the rest of a comment */
    }
    if (r->why) {
        r->bad_line = r->line;
        return NULL;
    }
    return str;
}

ru_err
ru_config_load(ru_config_t *cfg, const char *path)
{
    s_parse p = {cfg, path, RU_OK};
    s_reader r = {fopen(path, "r"), 0, 0, NULL};
    if (!r.f) {
        ru_log_err("config", "cannot open %s: %s", path, strerror(errno));
        return RU_E_NOT_FOUND;
    }
    int line = ini_parse_stream(s_read_line, &r, s_on_key, &p);
    fclose(r.f);
    if (r.bad_line) {
        ru_log_err("config", "%s:%d: %s", path, r.bad_line, r.why);
        return RU_E_INVALID;
    }
    if (line != 0) {
        ru_log_err("config", "%s:%d: this line is not valid", path, line);
        return RU_E_INVALID;
    }
    return p.err;
}

ru_err
ru_config_set(ru_config_t *cfg, const char *dotted, const char *value, const char *origin)
{
    char section[RU_MAX_NAME + 16];
    const char *dot = strrchr(dotted, '.'); /* site names may hold dots, keys do not */
    const char *why = "unknown key";
    if (dot && (size_t) (dot - dotted) < sizeof section) {
        memcpy(section, dotted, (size_t) (dot - dotted));
        section[dot - dotted] = '\0';
        why = s_set(cfg, section, dot + 1, value);
    }
    if (why) {
        ru_log_err("config", "%s %s=%s: %s", origin, dotted, value, why);
        return RU_E_INVALID;
    }
    return RU_OK;
}

/*  [oidc]: off (no issuer), or an issuer over https (http only on
 *  loopback, for tests and a provider on the same host), a client id and
 *  its secret's file. */
static ru_err
s_oidc_check(const ru_config_t *cfg)
{
    const char *iss = cfg->oidc_issuer;
    if (!iss[0])
        return RU_OK;
    static const char *const loopbacks[] = {"http://127.0.0.1", "http://localhost",
                                            "http://[::1]"};
    int loopback = 0;
    for (size_t i = 0; i < sizeof loopbacks / sizeof loopbacks[0]; i++) {
        size_t n = strlen(loopbacks[i]);
        loopback = loopback || (strncmp(iss, loopbacks[i], n) == 0 && strchr(":/", iss[n]));
    }
    if (strncmp(iss, "https://", 8) != 0 && !loopback) {
        ru_log_err("config", "[oidc] issuer = %s: an https:// URL (http:// only on loopback)", iss);
        return RU_E_INVALID;
    }
    if (!cfg->oidc_client_id[0] || !cfg->oidc_client_secret_file[0] ||
        !cfg->oidc_claim_username[0]) {
        ru_log_err("config", "[oidc] issuer is set: client_id, client_secret_file and "
                             "claim_username are needed too");
        return RU_E_INVALID;
    }
    return RU_OK;
}

/*  Is the word of len bytes at w one of the words of list? */
static int
s_word_in(const char *list, const char *w, size_t len)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, " \t");
        if (n == len && memcmp(p, w, len) == 0)
            return 1;
        p += n;
        p += strspn(p, " \t");
    }
    return 0;
}

int
ru_config_dir_owns(const ru_config_t *cfg, const char *part)
{
    return s_word_in(cfg->dir_owned, part, strlen(part));
}

/*  [directory] owned: words of RU_CONFIG_PROFILE_PARTS only. */
static ru_err
s_check_owned(const ru_config_t *cfg)
{
    const char *p = cfg->dir_owned + strspn(cfg->dir_owned, " \t");
    while (*p) {
        size_t n = strcspn(p, " \t");
        if (!s_word_in(RU_CONFIG_PROFILE_PARTS, p, n)) {
            ru_log_err("config", "[directory] owned: \"%.*s\" is no part of a profile (%s)",
                       (int) n, p, RU_CONFIG_PROFILE_PARTS);
            return RU_E_INVALID;
        }
        p += n;
        p += strspn(p, " \t");
    }
    return RU_OK;
}

/*  The [ldap] keys together, when LDAP is on (the filters' patterns are
 *  checked by ru_ldap_new, which knows their syntax). */
static ru_err
s_check_ldap(const ru_config_t *cfg)
{
    const char *why = NULL;
    int ldaps = strncmp(cfg->ldap_uri, "ldaps://", 8) == 0;
    if (!cfg->ldap_uri[0])
        return RU_OK;
    if (!ldaps && strncmp(cfg->ldap_uri, "ldap://", 7) != 0)
        why = "uri must start with ldap:// or ldaps://";
    else if (ldaps && cfg->ldap_starttls)
        why = "starttls is for ldap:// (an ldaps:// connection is TLS from the start)";
    else if (!cfg->ldap_base_dn[0])
        why = "base_dn is needed";
    else if (cfg->ldap_bind_dn[0] && !cfg->ldap_bind_password_file[0])
        why = "bind_dn needs bind_password_file";
    else if (!cfg->ldap_attr_login[0] || !cfg->ldap_attr_name[0] || !cfg->ldap_attr_id[0])
        why = "login_attribute, name_attribute and id_attribute must not be empty";
    if (why)
        ru_log_err("config", "[ldap] %s", why);
    return why ? RU_E_INVALID : RU_OK;
}

/*  The sections whose keys go together: [cards], [ldap], [oidc],
 *  [directory]. */
static ru_err
s_check_sections(const ru_config_t *cfg)
{
    const char *bad;
    size_t bad_len;
    if (!ru_hostlist_check(cfg->card_hosts, &bad, &bad_len)) {
        ru_log_err("config",
                   "[cards] allowed_hosts: \"%.*s\" is not a host name, a *.suffix pattern or "
                   "a [v6] address",
                   (int) bad_len, bad);
        return RU_E_INVALID;
    }
    if (s_check_ldap(cfg) != RU_OK || s_oidc_check(cfg) != RU_OK)
        return RU_E_INVALID;
    return s_check_owned(cfg);
}

ru_err
ru_config_check(const ru_config_t *cfg)
{
    ru_log_level level;
    if (ru_name_check(cfg->site, strlen(cfg->site)) != RU_OK) {
        ru_log_err("config",
                   "[node] site = %s: a site name is 1 to %d characters of a-z, 0-9, "
                   "'_', '.', '-', starting with a letter or digit",
                   cfg->site, RU_MAX_NAME);
        return RU_E_INVALID;
    }
    if (ru_log_level_parse(cfg->log_level, &level) != RU_OK) {
        ru_log_err("config", "[node] log_level = %s: use error, warn, info or debug",
                   cfg->log_level);
        return RU_E_INVALID;
    }
    if (!cfg->data_dir[0] || !cfg->listen[0]) {
        ru_log_err("config", "[node] data_dir and [http] listen must not be empty");
        return RU_E_INVALID;
    }
    if (cfg->media_thumb_px > cfg->media_display_px) {
        ru_log_err("config", "[media] thumb_px = %ld is larger than display_px = %ld",
                   cfg->media_thumb_px, cfg->media_display_px);
        return RU_E_INVALID;
    }
    for (int i = 0; i < cfg->n_peers; i++) {
        const ru_peer_cfg_t *p = &cfg->peers[i];
        if (ru_name_check(p->site, strlen(p->site)) != RU_OK || !p->has_key ||
            !p->pub[0] != !p->sync[0]) {
            ru_log_err("config",
                       "[peer %s] needs a valid site name and a key, and pub and sync "
                       "both or neither",
                       p->site);
            return RU_E_INVALID;
        }
        for (int j = 0; j < i; j++)
            if (memcmp(cfg->peers[j].key, p->key, RU_KEY_BYTES) == 0) {
                ru_log_err("config", "[peer %s] and [peer %s] have the same key", p->site,
                           cfg->peers[j].site);
                return RU_E_INVALID;
            }
    }
    if (cfg->n_peers && (!cfg->pub_bind[0] || !cfg->sync_bind[0])) {
        ru_log_err("config", "peers are configured: [replication] pub and sync are needed");
        return RU_E_INVALID;
    }
    if (cfg->max_size_mb && cfg->max_size_mb < cfg->map_size_mb) {
        ru_log_err("config", "[store] max_size_mb must be 0 or at least map_size_mb");
        return RU_E_INVALID;
    }
    return s_check_sections(cfg);
}
