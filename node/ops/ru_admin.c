/*  ru_admin.c - the administrators' endpoints under
 *  /api/ruche/v1/admin/ (ruche admin ...). Their routes (ru_ops.c) let in
 *  administrators only, with admin:read to read and admin:write to change
 *  something or take a backup (ru_http.h): the handlers do not check again.
 *
 *  Users: a new password (given, or a random one shown once), disable
 *  and enable, promote and demote. Disabling ends every session of the
 *  user and refuses their sign-ins; a new password ends their sessions
 *  too. An administrator cannot disable or demote themselves, so a node
 *  always keeps the administrator who acts on it.
 *
 *  Peers: add-peer and remove-peer edit the [peer NAME] sections of the
 *  config file the node was started with (--config; without one there is
 *  nothing to edit and the request is refused), as text, atomically and
 *  keeping every comment (ru_confedit.h), after checking that the node
 *  would accept the new file; then the node reloads its peers exactly as
 *  on SIGHUP, by raising SIGHUP itself. key answers what another site
 *  needs to peer with this one: the node key, its CURVE form and the
 *  replication endpoints, with a ready [peer NAME] section.
 *
 *  Forks: resolve-fork makes this site's RESOLVE update of the fork of an
 *  origin (a site name or key) that this site knows and has not seen
 *  resolved, keeping the variant this site holds; like any update it
 *  replicates, and every site applies it (ru_fork.h, PROTOCOL.md 16).
 *
 *  Backup: the store is copied, compacted and as of one read transaction,
 *  into an unlinked temporary file in the data directory (so a map growth
 *  waits for a local copy, never for a slow client), and that file is
 *  streamed as the response body (application/octet-stream). The copy
 *  holds every update committed, hence acknowledged, before it began. The
 *  node key is not in it: it never leaves the node over HTTP. Restoring is
 *  offline: ruched --restore FILE (ruched.c).
 *
 *  Export, for compliance: every post, reply, edit and delete made in a
 *  time range ([since, until), ISO 8601 dates or times in UTC, or
 *  milliseconds), as JSON lines, read from the log of signed updates; each
 *  update's signature is verified again against its origin's key before
 *  it is written ("verified"), and each line carries the signed payload
 *  and signature (base64) so that anyone can check it without the node.
 *  Posts and replies also carry their state now: last text, edited,
 *  deleted; the edit lines are their history. Every line of a post, a
 *  reply or their edits and deletes names the post's visibility; those of
 *  direct posts also say "direct": true, as their text is at every site
 *  until direct posts are sealed to their readers' sites. The log is read in batches,
 *  each in its own read transaction, so a long export holds none open.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ruche/ru_text.h"

#include "ru_admin.h"
#include "ru_api.h"
#include "ru_confedit.h"
#include "ru_dbkey.h"
#include "ru_fork.h"
#include "ru_keyfile.h"
#include "ru_log.h"
#include "ru_record.h"
#include "ru_web.h"

#define S_LOG "admin"
#define S_EXPORT_BATCH 256
#define S_CHUNK 65536

/*  ---------------------------------------------------------------------
 *  Users
 */

typedef struct {
    const char *name;
    const char *hash; /* NULL: kept */
    int admin;        /* -1: kept */
    int disabled;     /* -1: kept */
    int end_sessions;
    ru_account_t out;
} s_change;

static ru_err
s_change_user(const ru_writer_ctx_t *ctx, void *arg)
{
    s_change *c = arg;
    ru_err err = ru_account_update(ctx->txn, c->name, c->hash, c->admin, c->disabled);
    if (!err && c->end_sessions)
        err = ru_account_end_sessions(ctx->txn, c->name);
    return err ? err : ru_account_get(ctx->txn, c->name, &c->out);
}

/*  Runs c on the user of the path and answers with the account. */
static int
s_user_request(ru_req_t *req, s_change *c, const char *password)
{
    c->name = req->args[0];
    ru_err err = ru_writer_call(req->node->writer, s_change_user, c);
    if (err == RU_E_NOT_FOUND)
        return ru_http_error(req, 404, "no user %s on this node", c->name);
    if (err)
        return ru_http_fail(req, err);
    json_t *j = json_pack("{s:s, s:b, s:b}", "username", c->out.name, "admin", c->out.admin,
                          "disabled", c->out.disabled);
    if (j && password)
        json_object_set_new(j, "password", json_string(password));
    return j ? ru_http_json(req, 200, j) : ru_http_fail(req, RU_E_NOMEM);
}

/*  A flag change; an administrator may not take their own rights away. */
static int
s_set_flags(ru_req_t *req, int admin, int disabled)
{
    if ((admin == 0 || disabled == 1) && strcmp(req->args[0], req->user.name) == 0)
        return ru_http_error(req, 422, "an administrator cannot disable or demote themselves");
    s_change c = {NULL, NULL, admin, disabled, disabled == 1,
                  {{0}, 0, 0, 0, RU_ACCOUNT_LOCAL, {0}}};
    return s_user_request(req, &c, NULL);
}

int
ru_admin_disable(ru_req_t *req)
{
    return s_set_flags(req, -1, 1);
}

int
ru_admin_enable(ru_req_t *req)
{
    return s_set_flags(req, -1, 0);
}

int
ru_admin_promote(ru_req_t *req)
{
    return s_set_flags(req, 1, -1);
}

int
ru_admin_demote(ru_req_t *req)
{
    return s_set_flags(req, 0, -1);
}

int
ru_admin_passwd(ru_req_t *req)
{
    const char *given = ru_http_param(req, "password");
    char random[32], hash[RU_PWHASH_SIZE];
    if (given && (strlen(given) < 8 || strlen(given) > 256))
        return ru_http_error(req, 422, "Validation failed: a password is 8 to 256 characters");
    if (!given)
        ru_account_random_password(random, sizeof random);
    ru_err err = ru_account_hash(given ? given : random, hash);
    if (err)
        return ru_http_fail(req, err);
    s_change c = {NULL, hash, -1, -1, 1, {{0}, 0, 0, 0, RU_ACCOUNT_LOCAL, {0}}};
    int status = s_user_request(req, &c, given ? NULL : random);
    sodium_memzero(random, sizeof random);
    return status;
}

/*  ---------------------------------------------------------------------
 *  Key and peers
 */

/*  A bind endpoint as other sites reach it: a wildcard host ("*",
 *  0.0.0.0) becomes the host of the node's public URL. */
static void
s_reachable(const ru_req_t *req, const char *bind, char *out, size_t size)
{
    const char *host = strstr(req->node->public_url, "://");
    host = host ? host + 3 : req->node->public_url;
    size_t host_len = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/");
    const char *wild = strstr(bind, "://*:") ? "*" : strstr(bind, "://0.0.0.0:") ? "0.0.0.0" : NULL;
    if (!wild) {
        snprintf(out, size, "%s", bind);
        return;
    }
    const char *port = strstr(bind, "://") + 3 + strlen(wild);
    snprintf(out, size, "%.*s%.*s%s", (int) (strstr(bind, "://") + 3 - bind), bind, (int) host_len,
             host, port);
}

int
ru_admin_key(ru_req_t *req)
{
    const ru_config_t *cfg = &req->node->cfg;
    char key[RU_KEY_TEXT_SIZE], z85[41], pub[RU_CONFIG_ENDPOINT_MAX], sync[RU_CONFIG_ENDPOINT_MAX];
    uint8_t curve[32];
    ru_keyfile_public_text(req->node->key, key);
    if (ru_key_curve_public(ru_key_public(req->node->key), curve) != RU_OK ||
        !zmq_z85_encode(z85, curve, sizeof curve))
        return ru_http_fail(req, RU_E_KEY_FILE);
    s_reachable(req, cfg->pub_bind, pub, sizeof pub);
    s_reachable(req, cfg->sync_bind, sync, sizeof sync);
    char section[3 * RU_CONFIG_ENDPOINT_MAX + 128];
    int n = snprintf(section, sizeof section, "[peer %s]\nkey = %s\n", cfg->site, key);
    if (cfg->pub_bind[0])
        snprintf(section + n, sizeof section - (size_t) n, "pub = %s\nsync = %s\n", pub, sync);
    return ru_http_json(req, 200,
                        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "site", cfg->site, "key", key,
                                  "curve_key", z85, "pub", pub, "sync", sync, "peer_section",
                                  section));
}

/*  An endpoint is written into the config file: only the characters of
 *  tcp://host:port, IPv6 brackets included, so no line can be injected. */
static int
s_endpoint_ok(const char *e)
{
    return strlen(e) < RU_CONFIG_ENDPOINT_MAX && strncmp(e, "tcp://", 6) == 0 &&
           e[strspn(e, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:/-_[]*")] ==
               '\0';
}

/*  Would the node accept the config file at path? Its own settings with
 *  the file's peers; RU_E_INVALID (logged why) when not. */
static ru_err
s_check_config(const char *path, void *ctx)
{
    const ru_node_t *node = ctx;
    ru_config_t *cfg = malloc(sizeof *cfg);
    if (!cfg)
        return RU_E_NOMEM;
    memcpy(cfg, &node->cfg, sizeof *cfg);
    cfg->n_peers = 0;
    ru_err err = ru_config_load(cfg, path);
    if (!err)
        err = ru_config_check(cfg);
    free(cfg);
    return err ? RU_E_INVALID : RU_OK;
}

/*  Peers can be changed only in a config file, with replication on. */
static int
s_peers_refused(ru_req_t *req)
{
    if (!req->node->config_path[0])
        return ru_http_error(req, 409,
                             "this node runs without a config file (--config): add its peers "
                             "there and restart it, or send it SIGHUP");
    if (!req->node->repl)
        return ru_http_error(req, 409,
                             "replication is off on this node: set [replication] pub "
                             "and sync in its config file and restart it");
    return 0;
}

/*  Answers a peer change: err from the file edit, then the reload. */
static int
s_peer_changed(ru_req_t *req, ru_err err, const char *site, const char *done)
{
    if (err == RU_E_EXISTS)
        return ru_http_error(req, 409, "the config file has a [peer %s] section already", site);
    if (err == RU_E_NOT_FOUND)
        return ru_http_error(req, 404, "the config file has no [peer %s] section", site);
    if (err == RU_E_INVALID)
        return ru_http_error(req, 422,
                             "the node would refuse its config file with this change; "
                             "nothing changed (its log says why)");
    if (err)
        return ru_http_error(req, 500, "cannot change %s: %s", req->node->config_path,
                             ru_err_str(err));
    ru_log_info(S_LOG, "%s %s peer %s in %s; reloading the peers", req->user.name, done, site,
                req->node->config_path);
    kill(getpid(), SIGHUP); /* the main thread reloads, as on an outside SIGHUP */
    return ru_http_json(req, 200,
                        json_pack("{s:s, s:s, s:s}", "site", site, "status", done, "config",
                                  req->node->config_path));
}

/*  Reads the new peer's parameters into p; 0, or the error status sent. */
static int
s_read_peer(ru_req_t *req, ru_peer_cfg_t *p)
{
    const char *site = ru_http_param(req, "site"), *key = ru_http_param(req, "key");
    const char *pub = ru_http_param(req, "pub"), *sync = ru_http_param(req, "sync");
    memset(p, 0, sizeof *p);
    if (!site || ru_name_check(site, strlen(site)) != RU_OK)
        return ru_http_error(req, 422, "Validation failed: site is a site name (a-z, 0-9, _ . -)");
    if (!key || ru_b64_decode(p->key, RU_KEY_BYTES, key, strlen(key)) != RU_OK)
        return ru_http_error(req, 422,
                             "Validation failed: key is a node key, as `ruche admin "
                             "key` shows it on that site");
    if (!pub != !sync || (pub && (!s_endpoint_ok(pub) || !s_endpoint_ok(sync))))
        return ru_http_error(req, 422,
                             "Validation failed: pub and sync are both given, or "
                             "neither, as tcp://HOST:PORT");
    if (strcmp(site, req->node->cfg.site) == 0 ||
        memcmp(p->key, ru_key_public(req->node->key), RU_KEY_BYTES) == 0)
        return ru_http_error(req, 422, "Validation failed: this is the node itself");
    snprintf(p->site, sizeof p->site, "%s", site);
    snprintf(p->pub, sizeof p->pub, "%s", pub ? pub : "");
    snprintf(p->sync, sizeof p->sync, "%s", sync ? sync : "");
    p->has_key = 1;
    return 0;
}

int
ru_admin_add_peer(ru_req_t *req)
{
    ru_peer_cfg_t p;
    int refused = s_peers_refused(req);
    if (!refused)
        refused = s_read_peer(req, &p);
    if (refused)
        return refused;
    ru_err err = ru_confedit_add_peer(req->node->config_path, &p, s_check_config, req->node);
    return s_peer_changed(req, err, p.site, "added");
}

int
ru_admin_remove_peer(ru_req_t *req)
{
    int refused = s_peers_refused(req);
    if (refused)
        return refused;
    const char *site = req->args[0];
    if (ru_name_check(site, strlen(site)) != RU_OK)
        return ru_http_error(req, 422, "Validation failed: not a site name");
    ru_err err = ru_confedit_remove_peer(req->node->config_path, site, s_check_config, req->node);
    return s_peer_changed(req, err, site, "removed");
}

/*  ---------------------------------------------------------------------
 *  Forks
 */

typedef struct {
    uint8_t origin[RU_KEY_BYTES];
    const char *author;
    ru_fork_t fork; /* its evidence is not used past the request */
    ru_update_t u;
    ru_buf_t out;
} s_resolve;

/*  The store actor's request: this site's RESOLVE of the fork of
 *  r->origin (ru_apply_resolve). */
static ru_err
s_resolve_fork(const ru_writer_ctx_t *ctx, void *arg)
{
    s_resolve *r = arg;
    ru_buf_reset(&r->out); /* a retried batch starts over */
    return ru_apply_resolve(ctx->apply, ctx->key, r->origin, r->author, &r->fork, &r->u, &r->out);
}

/*  The origin of the path: a site name this node knows, or a key's text
 *  form. */
static int
s_origin_arg(ru_req_t *req, const char *arg, uint8_t *origin)
{
    size_t len = strlen(arg);
    if (ru_name_check(arg, len) == RU_OK && ru_view_site_key(req->node, arg, origin))
        return 1;
    return ru_b64_decode(origin, RU_KEY_BYTES, arg, len) == RU_OK;
}

int
ru_admin_resolve_fork(ru_req_t *req)
{
    s_resolve r;
    memset(&r, 0, sizeof r);
    if (!s_origin_arg(req, req->args[0], r.origin))
        return ru_http_error(req, 404, "no site %s: give a peer's name or a key", req->args[0]);
    r.author = req->user.name;
    ru_update_init(&r.u);
    ru_buf_init(&r.out);
    ru_err err = ru_writer_call(req->node->writer, s_resolve_fork, &r);
    char key[RU_KEY_TEXT_SIZE], kept[2 * RU_HASH_BYTES + 1];
    ru_b64_encode(key, r.origin, RU_KEY_BYTES);
    sodium_bin2hex(kept, sizeof kept, r.u.kept, RU_HASH_BYTES);
    uint64_t made = r.u.seq;
    ru_update_fini(&r.u);
    ru_buf_fini(&r.out);
    if (err == RU_E_NOT_FOUND)
        return ru_http_error(req, 404, "no unresolved fork of %s is known here", req->args[0]);
    if (err == RU_E_RANGE || err == RU_E_FORK)
        return ru_http_error(req, 422, "this site's own fork is resolved by another site");
    if (err)
        return ru_http_fail(req, err);
    ru_log_info(S_LOG, "%s resolved the fork of %s (%s) at seq %llu, keeping %s", req->user.name,
                req->args[0], key, (unsigned long long) r.fork.seq, kept);
    return ru_http_json(req, 200,
                        json_pack("{s:s, s:s, s:I, s:s, s:I}", "origin", req->args[0], "key", key,
                                  "seq", (json_int_t) r.fork.seq, "kept", kept, "update",
                                  (json_int_t) made));
}

/*  ---------------------------------------------------------------------
 *  Backup
 */

/*  Sends the size bytes of fd, from its start, as the response body, a
 *  piece at a time (ru_http.h: the worker waits for each to leave). */
static int
s_send_file(ru_req_t *req, int fd, off_t size)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
    char *chunk = malloc(S_CHUNK);
    if (!chunk || lseek(fd, 0, SEEK_SET) != 0) {
        free(chunk);
        return ru_http_fail(req, RU_E_NOMEM);
    }
    ru_http_header(req, "Content-Disposition", "attachment; filename=\"ruche-%s-%s.mdb\"",
                   req->node->cfg.site, stamp);
    int ok = ru_http_stream_start(req, 200, "application/octet-stream", (long long) size) == 0;
    ssize_t got = 0;
    while (ok && (got = read(fd, chunk, S_CHUNK)) > 0)
        ok = ru_http_stream_write(req, chunk, (size_t) got) == 0;
    if (!ok || got < 0)
        ru_log_warn(S_LOG, "the backup was not sent whole: %s", ok ? "read error" : "client left");
    free(chunk);
    return 200;
}

int
ru_admin_backup(ru_req_t *req)
{
    char path[RU_CONFIG_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/backup.XXXXXX", req->node->cfg.data_dir);
    int fd = mkstemp(path);
    if (fd < 0)
        return ru_http_error(req, 500, "cannot make a temporary file in the data directory");
    unlink(path); /* gone with the descriptor, whatever happens */
    ru_err err = ru_store_copy(req->node->store, fd);
    off_t size = err ? -1 : lseek(fd, 0, SEEK_END);
    int status = err        ? ru_http_fail(req, err)
                 : size < 0 ? ru_http_fail(req, RU_E_IO)
                            : s_send_file(req, fd, size);
    close(fd);
    if (status == 200)
        ru_log_info(S_LOG, "%s took a backup of %lld bytes", req->user.name, (long long) size);
    return status;
}

/*  ---------------------------------------------------------------------
 *  Export
 */

typedef struct {
    uint64_t since_ms, until_ms; /* [since, until) */
    ru_view_t view;
    json_t *line; /* being built */
} s_export;

/*  Days from 1970-01-01 to a date of the proleptic Gregorian calendar
 *  (the usual shift of the year to start in March, so that the leap day
 *  ends it). */
static int64_t
s_days(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/*  Milliseconds of an ISO 8601 UTC date or time ("2026-11-27",
 *  "2026-11-27T14:03:00Z") or a number of milliseconds; 0 when malformed. */
static int
s_parse_time(const char *text, uint64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, used = 0;
    size_t len = strlen(text);
    if (len == strspn(text, "0123456789") && len > 0 && len <= 15) {
        *ms = strtoull(text, NULL, 10);
        return 1;
    }
    if (len == 10
            ? sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3
            : sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6)
        return 0;
    used += text[used] == 'Z';
    if ((size_t) used != len || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
        mi > 59 || sec > 60 || h < 0 || mi < 0 || sec < 0)
        return 0;
    *ms = (uint64_t) ((s_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1000);
    return 1;
}

/*  Adds bytes as standard base64 to line under name. */
static void
s_set_b64(json_t *line, const char *name, const uint8_t *bytes, size_t len)
{
    size_t size = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *text = malloc(size);
    if (text) {
        sodium_bin2base64(text, size, bytes, len, sodium_base64_VARIANT_ORIGINAL);
        json_object_set_new(line, name, json_string(text));
    }
    free(text);
}

static json_t *
s_ref_json(const ru_ref_t *ref)
{
    char key[RU_KEY_TEXT_SIZE];
    ru_b64_encode(key, ref->origin, RU_KEY_BYTES);
    return json_pack("{s:s, s:I}", "origin", key, "seq", (json_int_t) ref->seq);
}

/*  The record of the post (origin, seq) in *rec (a view into the export's
 *  transaction): 0 when the store no longer has it. */
static int
s_post_rec(s_export *x, const uint8_t *origin, uint64_t seq, ru_post_rec_t *rec)
{
    uint8_t key[RU_DBKEY_REF];
    MDB_val val;
    return !ru_txn_get(x->view.txn, RU_DB_posts, key, ru_dbkey_ref(key, origin, seq), &val) &&
           !ru_post_rec_decode(val.mv_data, val.mv_size, rec);
}

/*  The state now of the post or reply u made: last text, edited, deleted. */
static void
s_add_state(s_export *x, const ru_update_t *u, json_t *line)
{
    ru_post_rec_t rec;
    if (!s_post_rec(x, u->origin, u->seq, &rec))
        return;
    json_object_set_new(line, "deleted", json_boolean(rec.deleted));
    json_object_set_new(line, "edited", json_boolean(rec.edit_hlc != 0));
    if (rec.edit_hlc)
        json_object_set_new(line, "edited_at", ru_view_time(ru_hlc_ms(rec.edit_hlc)));
    json_object_set_new(line, "last_text", json_stringn(rec.text.ptr, rec.text.len));
}

/*  Marks a line with the visibility vis of the post it writes or
 *  changes: a direct post and its edits also get "direct": true, since
 *  their text is here and at every site like any other
 *  (RU_VIEW_DIRECT_NOTE). */
static void
s_mark_visibility(json_t *line, ru_visibility vis)
{
    json_object_set_new(line, "visibility", json_string(ru_view_visibility(vis)));
    if (vis == RU_VIS_DIRECT)
        json_object_set_new(line, "direct", json_true());
}

/*  The visibility of an edit's or a delete's post, when the store has it. */
static void
s_mark_target(s_export *x, const ru_update_t *u, json_t *line)
{
    ru_post_rec_t rec;
    if (s_post_rec(x, u->target.origin, u->target.seq, &rec))
        s_mark_visibility(line, rec.visibility);
}

/*  The fields of a verified, decoded update of a kind exported. */
static void
s_describe(s_export *x, const ru_update_t *u, json_t *line)
{
    char site[RU_MAX_NAME + 1];
    ru_view_site(&x->view, u->origin, site);
    json_object_set_new(line, "site", json_string(site));
    json_object_set_new(line, "author", json_stringn(u->author.ptr, u->author.len));
    json_object_set_new(line, "kind", json_string(ru_kind_name(u->kind)));
    json_object_set_new(line, "created_at", ru_view_time(ru_hlc_ms(u->hlc)));
    if (u->kind != RU_KIND_DELETE)
        json_object_set_new(line, "text", json_stringn(u->text.ptr, u->text.len));
    if (u->kind != RU_KIND_POST)
        json_object_set_new(line, u->kind == RU_KIND_REPLY ? "in_reply_to" : "target",
                            s_ref_json(&u->target));
    if (u->kind == RU_KIND_POST || u->kind == RU_KIND_REPLY) {
        s_mark_visibility(line, u->visibility);
        s_add_state(x, u, line);
    } else
        s_mark_target(x, u, line);
}

static int
s_exported_kind(ru_kind kind)
{
    return kind == RU_KIND_POST || kind == RU_KIND_REPLY || kind == RU_KIND_EDIT ||
           kind == RU_KIND_DELETE;
}

/*  The line of one log entry (origin|seq -> envelope), or NULL when the
 *  update is not exported (its kind or time). One that does not verify
 *  is exported with "verified": false and why. */
static json_t *
s_export_entry(s_export *x, const MDB_val *key, const MDB_val *val)
{
    ru_ref_t ref;
    memcpy(ref.origin, key->mv_data, RU_KEY_BYTES);
    ref.seq = ru_dbkey_get64((const uint8_t *) key->mv_data + RU_KEY_BYTES);
    ru_envelope_t env;
    ru_update_t u;
    ru_update_init(&u);
    ru_err err = ru_envelope_parse(val->mv_data, val->mv_size, &env);
    if (!err)
        err = ru_envelope_verify(&env);
    if (!err)
        err = ru_update_decode(&env, &u);
    uint64_t ms = err ? 0 : ru_hlc_ms(u.hlc);
    json_t *line = NULL;
    if (err || (s_exported_kind(u.kind) && ms >= x->since_ms && ms < x->until_ms)) {
        line = s_ref_json(&ref);
        json_object_set_new(line, "verified", json_boolean(!err));
        if (err)
            json_object_set_new(line, "error", json_string(ru_err_str(err)));
        else
            s_describe(x, &u, line);
        if (!err) {
            s_set_b64(line, "payload", env.payload, env.payload_len);
            s_set_b64(line, "signature", env.sig, RU_SIG_BYTES);
        }
    }
    ru_update_fini(&u);
    return line;
}

/*  Where an export is in the log: the key of the last entry read. */
typedef struct {
    uint8_t key[RU_DBKEY_REF];
    int started; /* 0: at the log's start */
    int done;
    size_t lines;
} s_cursor;

/*  Appends one line of JSON to out. */
static void
s_append_line(ru_buf_t *out, json_t *line)
{
    char *text = json_dumps(line, JSON_COMPACT);
    if (text) {
        ru_buf_append(out, text, strlen(text));
        ru_buf_append(out, "\n", 1);
    } else {
        out->failed = 1;
    }
    free(text);
}

/*  The lines of up to S_EXPORT_BATCH log entries after at, into out, in
 *  one read transaction of its own. */
static ru_err
s_export_batch(ru_req_t *req, s_export *x, s_cursor *at, ru_buf_t *out)
{
    ru_txn_t txn;
    MDB_cursor *cur = NULL;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return err;
    x->view = ru_api_view(req, &txn);
    MDB_val key = {RU_DBKEY_REF, at->key}, val;
    int rc = mdb_cursor_open(txn.txn, ru_store_dbi(req->node->store, RU_DB_log), &cur);
    if (!rc)
        rc = mdb_cursor_get(cur, &key, &val, at->started ? MDB_SET_RANGE : MDB_FIRST);
    if (!rc && at->started && key.mv_size == RU_DBKEY_REF &&
        !memcmp(key.mv_data, at->key, key.mv_size))
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    for (int n = 0; !rc && n < S_EXPORT_BATCH && key.mv_size == RU_DBKEY_REF; n++) {
        json_t *line = s_export_entry(x, &key, &val);
        if (line)
            s_append_line(out, line), at->lines++;
        json_decref(line);
        memcpy(at->key, key.mv_data, RU_DBKEY_REF);
        at->started = 1;
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }
    at->done = rc == MDB_NOTFOUND || (!rc && key.mv_size != RU_DBKEY_REF);
    if (cur)
        mdb_cursor_close(cur);
    ru_txn_abort(&txn);
    err = rc && rc != MDB_NOTFOUND ? ru_store_err(rc, "export") : RU_OK;
    return err ? err : ru_buf_status(out);
}

int
ru_admin_export(ru_req_t *req)
{
    s_export x = {0, UINT64_MAX, {0}, NULL};
    const char *since = ru_http_param(req, "since"), *until = ru_http_param(req, "until");
    if ((since && !s_parse_time(since, &x.since_ms)) ||
        (until && !s_parse_time(until, &x.until_ms)))
        return ru_http_error(req, 422,
                             "Validation failed: since and until are dates (2026-11-27), UTC "
                             "times (2026-11-27T14:03:00Z) or milliseconds since 1970");
    s_cursor at = {{0}, 0, 0, 0};
    ru_buf_t out;
    ru_buf_init(&out);
    ru_err err = s_export_batch(req, &x, &at, &out);
    if (err) {
        ru_buf_fini(&out);
        return ru_http_fail(req, err);
    }
    int ok =
        ru_http_stream_start(req, 200, "application/x-ndjson; charset=utf-8", -1) == 0;
    while (ok && !err) {
        ok = out.len == 0 || ru_http_stream_write(req, out.data, out.len) == 0;
        ru_buf_reset(&out);
        if (ok && at.done)
            break;
        err = ok ? s_export_batch(req, &x, &at, &out) : RU_OK;
    }
    ru_buf_fini(&out);
    if (!ok || err)
        ru_log_warn(S_LOG, "export of %s cut short: %s", req->user.name,
                    ok ? ru_err_str(err) : "the client left");
    else
        ru_log_info(S_LOG, "%s exported %zu updates", req->user.name, at.lines);
    return 200;
}
