/*  ru_api_misc.c - the node's own endpoints: health, instance information
 *  (Mastodon's v1 and v2 shapes), NodeInfo 2.0 and the admin's user
 *  creation.
 *
 *  Instance information also has a "ruche" object: the site's name,
 *  under "visibility" a plain statement of what a visibility does not
 *  protect: direct posts are not sealed yet ({"sealed": false, "note"}),
 *  so that an app can tell its users before they write one, and
 *  "max_body", the largest request body the node reads, in bytes.
 *
 *  Both shapes also say what a status may carry, from the [media]
 *  settings, where Mastodon's clients look for it: the attachments a status
 *  takes (configuration.statuses.max_media_attachments) and, under
 *  configuration.media_attachments, the image types shown inline, the
 *  largest upload and image, and the longest alt text. Files of any other
 *  type are taken too, as downloads, which the "ruche" object says.
 *
 *  The version clients see is "4.2.0 (compatible; ruche X.Y)": Mastodon
 *  clients choose features by the version number in front, and ruche
 *  serves the 4.2 client API (the project's version from CMake follows).
 *
 *  The replication status (GET /api/ruche/v1/replication) is this site's
 *  clock, digests, pending updates and forks, read from the store, and its
 *  peers as the replication actor counted them (ru_repl_status(), a plain
 *  struct rendered here).
 */
#include <stdio.h>
#include <string.h>

#include "ruche/ru_text.h"

#include "ru_api.h"
#include "ru_blob.h"
#include "ru_fork.h"
#include "ru_pubid.h"
#include "ru_repl.h"
#include "ru_search.h"
#include "ru_sniff.h"
#include "ru_state.h"

#ifndef RUCHE_VERSION
#define RUCHE_VERSION "0"
#endif
#ifndef RUCHE_VERSION_SHORT
#define RUCHE_VERSION_SHORT "0"
#endif
#define S_VERSION "4.2.0 (compatible; ruche " RUCHE_VERSION_SHORT ")"
#define S_NODEINFO_SCHEMA "http://nodeinfo.diaspora.software/ns/schema/2.0"

int
ru_api_health(ru_req_t *req)
{
    return ru_http_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

/*  The host part of the public URL, for "uri" and "domain". */
static const char *
s_domain(const ru_req_t *req)
{
    const char *url = req->node->public_url;
    const char *p = strstr(url, "://");
    return p ? p + 3 : url;
}

/*  The WebSocket URL of the streaming API: the public URL with ws or wss. */
static json_t *
s_streaming_url(const ru_req_t *req)
{
    const char *url = req->node->public_url;
    int tls = strncmp(url, "https:", 6) == 0;
    const char *rest = strstr(url, "://");
    char out[RU_CONFIG_PATH_MAX + 8];
    snprintf(out, sizeof out, "%s%s", tls ? "wss" : "ws", rest ? rest : "://localhost");
    return json_string(out);
}

/*  Mastodon's instance stats: this node's users, their statuses (not
 *  deleted), and the other sites known; each kept as it changes, so that
 *  an anonymous request costs a few reads, however large the site. */
static json_t *
s_stats(ru_req_t *req)
{
    ru_site_stats_t st = {0, 0, 0};
    ru_txn_t txn;
    if (ru_store_read(req->node->store, &txn) == RU_OK) {
        if (ru_state_site_stats(&txn, ru_key_public(req->node->key), &st) != RU_OK)
            st = (ru_site_stats_t){0, 0, 0};
        ru_txn_abort(&txn);
    }
    return json_pack("{s:I, s:I, s:I}", "user_count", (json_int_t) st.users, "status_count",
                     (json_int_t) st.statuses, "domain_count", (json_int_t) st.sites);
}

/*  ruche's own part of the instance information: the site, what each
 *  visibility protects where it protects less than its name says, that
 *  an attachment may be a file of any type (shown as a download), and the
 *  largest request body the node reads ([http] max_body), by which a
 *  client splits what it sends (ruche admin directory import). */
static json_t *
s_ruche_info(const ru_req_t *req)
{
    return json_pack("{s:s, s:{s:{s:b, s:s}}, s:{s:b}, s:I}", "site", req->node->cfg.site,
                     "visibility", "direct", "sealed", 0, "note", RU_VIEW_DIRECT_NOTE, "media",
                     "any_file", 1, "max_body", (json_int_t) req->node->cfg.max_body);
}

/*  Mastodon's configuration.media_attachments from [media]: the image
 *  types the pipeline decodes (ru_sniff_is_image says which, HEIC only
 *  when enabled), the largest upload (a video is kept as a file, so its
 *  limit is the same), the most pixels of an image, the longest alt text. */
static json_t *
s_media_config(const ru_req_t *req)
{
    static const char *const candidates[] = {"image/jpeg", "image/png", "image/gif",
                                             "image/webp", "image/heic", "image/heif"};
    const ru_config_t *cfg = &req->node->cfg;
    json_t *types = json_array();
    for (size_t i = 0; types && i < sizeof candidates / sizeof candidates[0]; i++)
        if (ru_sniff_is_image(candidates[i], cfg->media_heic != 0))
            json_array_append_new(types, json_string(candidates[i]));
    return json_pack("{s:o, s:I, s:I, s:I, s:i}", "supported_mime_types", types,
                     "image_size_limit", (json_int_t) cfg->media_max_upload, "image_matrix_limit",
                     (json_int_t) cfg->media_max_pixels, "video_size_limit",
                     (json_int_t) cfg->media_max_upload, "description_limit", RU_MAX_ALT_CHARS);
}

int
ru_api_instance_v1(ru_req_t *req)
{
    char title[RU_MAX_NAME + 16];
    snprintf(title, sizeof title, "ruche %s", req->node->cfg.site);
    return ru_http_json(
        req, 200,
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:[s], s:{s:{s:i, s:i}, s:o},"
                  " s:{s:o}, s:o, s:o}",
                  "uri", s_domain(req), "title", title, "short_description", "", "description",
                  "A site of the company's ruche network.", "email", "", "version", S_VERSION,
                  "registrations", 0, "approval_required", 1, "invites_enabled", 0, "languages",
                  "en", "configuration", "statuses", "max_characters", RU_MAX_TEXT_CHARS,
                  "max_media_attachments", (int) req->node->cfg.media_attachments,
                  "media_attachments", s_media_config(req), "urls", "streaming_api",
                  s_streaming_url(req), "stats", s_stats(req), "ruche", s_ruche_info(req)));
}

int
ru_api_instance_v2(ru_req_t *req)
{
    char title[RU_MAX_NAME + 16];
    snprintf(title, sizeof title, "ruche %s", req->node->cfg.site);
    return ru_http_json(
        req, 200,
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s], s:{s:{s:o}, s:{s:i, s:i}, s:o,"
                  " s:{s:b}}, s:{s:b, s:b}, s:o}",
                  "domain", s_domain(req), "title", title, "version", S_VERSION, "source_url", "",
                  "description", "A site of the company's ruche network.", "languages", "en",
                  "configuration", "urls", "streaming", s_streaming_url(req), "statuses",
                  "max_characters", RU_MAX_TEXT_CHARS, "max_media_attachments",
                  (int) req->node->cfg.media_attachments, "media_attachments",
                  s_media_config(req), "translation", "enabled", 0, "registrations", "enabled", 0,
                  "approval_required", 1, "ruche", s_ruche_info(req)));
}

int
ru_api_nodeinfo_links(ru_req_t *req)
{
    char href[RU_CONFIG_PATH_MAX + 16];
    snprintf(href, sizeof href, "%s/nodeinfo/2.0", req->node->public_url);
    return ru_http_json(
        req, 200, json_pack("{s:[{s:s, s:s}]}", "links", "rel", S_NODEINFO_SCHEMA, "href", href));
}

int
ru_api_nodeinfo(ru_req_t *req)
{
    json_t *stats = s_stats(req);
    json_t *j = json_pack("{s:s, s:{s:s, s:s}, s:[], s:{s:[], s:[]}, s:b, s:{s:{s:O}, s:O},"
                          " s:{s:s}}",
                          "version", "2.0", "software", "name", "ruche", "version", RUCHE_VERSION,
                          "protocols", "services", "inbound", "outbound", "openRegistrations", 0,
                          "usage", "users", "total", json_object_get(stats, "user_count"),
                          "localPosts", json_object_get(stats, "status_count"), "metadata",
                          "nodeName", req->node->cfg.site);
    json_decref(stats);
    return j ? ru_http_json(req, 200, j) : ru_http_fail(req, RU_E_NOMEM);
}

typedef struct {
    const char *name;
    const char *hash;
    int admin;
} s_new_user;

static ru_err
s_create_user(const ru_writer_ctx_t *ctx, void *arg)
{
    s_new_user *u = arg;
    ru_str_t name = {u->name, (uint32_t) strlen(u->name)}, none = {"", 0};
    ru_err err = ru_account_create(ctx->txn, u->name, u->hash, u->admin, ru_hlc_wall_ms());
    /*  Its account id resolves from now on, before the user's first post
     *  (others can open the profile and follow it), and search finds it. */
    if (!err)
        err = ru_pubid_note_user(ctx->txn, ru_key_public(ctx->key), name);
    return err ? err : ru_search_note_user(ctx->txn, ru_key_public(ctx->key), name, none);
}

int
ru_api_admin_add_user(ru_req_t *req)
{
    const char *name = ru_http_param(req, "username");
    if (!name || ru_name_check(name, strlen(name)) != RU_OK)
        return ru_http_error(req, 422,
                             "Validation failed: a user name is 1 to %d characters "
                             "of a-z, 0-9, '_', '.', '-'",
                             RU_MAX_NAME);
    char password[32], hash[RU_PWHASH_SIZE];
    ru_account_random_password(password, sizeof password);
    ru_err err = ru_account_hash(password, hash);
    s_new_user u = {name, hash, ru_http_param_flag(req, "admin")};
    if (!err)
        err = ru_writer_call(req->node->writer, s_create_user, &u);
    if (err == RU_E_EXISTS)
        return ru_http_error(req, 422, "Validation failed: %s is taken", name);
    if (err)
        return ru_http_fail(req, err);
    return ru_http_json(req, 200, json_pack("{s:s, s:s}", "username", name, "password", password));
}

/*  "pending_origins": [{key, site, count, oldest, oldest_age_s}] of the
 *  origins with updates waiting here, from the counts kept with them. */
static json_t *
s_pending_json(ru_node_t *node, const ru_apply_pending_t *by, size_t n)
{
    json_t *out = json_array();
    ru_view_t v = {node, NULL, NULL};
    uint64_t now = ru_hlc_wall_ms();
    for (size_t i = 0; i < n; i++) {
        char key[RU_KEY_TEXT_SIZE], site[RU_MAX_NAME + 1];
        ru_b64_encode(key, by[i].origin, RU_KEY_BYTES);
        ru_view_site(&v, by[i].origin, site);
        uint64_t age = now > by[i].oldest_ms ? (now - by[i].oldest_ms) / 1000 : 0;
        json_array_append_new(out, json_pack("{s:s, s:s, s:I, s:o, s:I}", "key", key, "site", site,
                                             "count", (json_int_t) by[i].count, "oldest",
                                             ru_view_time(by[i].oldest_ms), "oldest_age_s",
                                             (json_int_t) age));
    }
    return out;
}

/*  A clock as {"<origin, base64url>": seq, ...}. */
static json_t *
s_clock_json(const ru_clock_t *clock)
{
    json_t *j = json_object();
    for (uint32_t i = 0; i < clock->n; i++) {
        char key[RU_KEY_TEXT_SIZE];
        ru_b64_encode(key, clock->v[i].origin, RU_KEY_BYTES);
        json_object_set_new(j, key, json_integer((json_int_t) clock->v[i].seq));
    }
    return j;
}

/*  A peer's counts: "rejected" by reason, "updates", "link" by event. */
static json_t *
s_peer_counts(const ru_replstat_peer_t *p, json_t **updates, json_t **link)
{
    json_t *rejected = json_object();
    for (int k = 0; k < RU_REJECT_COUNT; k++)
        json_object_set_new(rejected, ru_verify_reason_name((ru_reject) k),
                            json_integer((json_int_t) p->rejected[k]));
    *updates = json_pack("{s:I, s:I, s:I, s:I}", "received", (json_int_t) p->received,
                         "verified", (json_int_t) p->verified, "stored", (json_int_t) p->stored,
                         "duplicates", (json_int_t) p->duplicates);
    *link = json_object();
    for (int k = 0; k < RU_LINK_COUNT; k++)
        json_object_set_new(*link, ru_replstat_link_name((ru_link_event) k),
                            json_integer((json_int_t) p->link[k]));
    return rejected;
}

/*  One peer of the replication status, given our clock. */
static json_t *
s_peer_json(const ru_replstat_peer_t *p, const ru_clock_t *ours, uint64_t now_ms,
            long heartbeat_ms)
{
    char key[RU_KEY_TEXT_SIZE], digest[2 * RU_HASH_BYTES + 1];
    ru_b64_encode(key, p->key, RU_KEY_BYTES);
    sodium_bin2hex(digest, sizeof digest, p->digest, RU_HASH_BYTES);
    uint64_t behind = ru_replstat_behind(p, ours);
    json_t *updates, *link, *rejected = s_peer_counts(p, &updates, &link);
    /*  How far its clock is ahead of ours, as far as a heartbeat tells: the
     *  HLC it carries is the sender's time at sending (a clock behind ours
     *  shows as 0: our own HLC could only tell it apart by network delay). */
    uint64_t hlc_ms = ru_hlc_ms(p->hlc);
    json_t *ahead_ms = !p->heard ? json_null()
                       : hlc_ms > p->heartbeat_ms
                           ? json_integer((json_int_t) (hlc_ms - p->heartbeat_ms))
                           : json_integer(0);
    return json_pack("{s:s, s:s, s:b, s:b, s:o, s:o, s:o, s:I, s:I, s:f, s:o, s:o, s:o, s:o}",
                     "site", p->site, "key", key, "direct", p->direct, "connected",
                     ru_replstat_connected(p, now_ms, heartbeat_ms), "last_heartbeat",
                     p->heard ? ru_view_time(p->heartbeat_ms) : json_null(), "clock",
                     s_clock_json(&p->clock), "digest",
                     p->heard ? json_string(digest) : json_null(), "behind", (json_int_t) behind,
                     "ahead", (json_int_t) ru_replstat_ahead(p, ours), "seconds_behind",
                     ru_replstat_seconds_behind(p, behind, now_ms), "rejected", rejected,
                     "updates", updates, "clock_ahead_ms", ahead_ms, "link", link);
}

/*  The "peers" of the replication status: none when the node does not
 *  replicate. */
/*  The site's media files: held, wanted, and what went to and came from
 *  the peers (wanted: referenced here, perhaps not held yet). */
static json_t *
s_media_json(ru_node_t *node, uint64_t wanted, const ru_replstat_blobs_t *b)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "files",
                     (json_int_t) ru_blob_count(node->blobs), "bytes",
                     (json_int_t) ru_blob_total(node->blobs), "wanted", (json_int_t) wanted,
                     "in_flight", (json_int_t) b->in_flight, "fetched", (json_int_t) b->fetched,
                     "fetched_bytes", (json_int_t) b->bytes, "lacked", (json_int_t) b->lacked,
                     "timed_out", (json_int_t) b->timed_out, "bad", (json_int_t) b->bad,
                     "store_failures", (json_int_t) b->failed, "served", (json_int_t) b->served,
                     "served_bytes", (json_int_t) b->served_bytes);
}

/*  The peers as the replication status shows them, and the media figures. */
static ru_err
s_peers_json(ru_node_t *node, const ru_clock_t *ours, uint64_t wanted, json_t **out,
             json_t **media)
{
    *out = json_array();
    ru_replstat_t st;
    ru_replstat_blobs_t none = {0};
    *media = NULL;
    if (!node->repl) {
        *media = s_media_json(node, wanted, &none);
        return RU_OK;
    }
    ru_err err = ru_repl_status(node->repl, &st);
    if (err)
        return err;
    uint64_t now = ru_hlc_wall_ms();
    for (int i = 0; i < st.n_peers; i++)
        json_array_append_new(*out, s_peer_json(&st.peers[i], ours, now, st.heartbeat_ms));
    *media = s_media_json(node, wanted, &st.blobs);
    ru_replstat_fini(&st);
    return RU_OK;
}

typedef struct {
    ru_node_t *node;
    json_t *list;
} s_fork_list;

/*  One fork as the replication status shows it. */
static int
s_fork_json(void *ctx, const ru_fork_t *fork)
{
    s_fork_list *l = ctx;
    ru_view_t v = {l->node, NULL, NULL};
    char site[RU_MAX_NAME + 1], key[RU_KEY_TEXT_SIZE], first[2 * RU_HASH_BYTES + 1],
        other[2 * RU_HASH_BYTES + 1];
    ru_view_site(&v, fork->origin, site);
    ru_b64_encode(key, fork->origin, RU_KEY_BYTES);
    sodium_bin2hex(first, sizeof first, fork->first, RU_HASH_BYTES);
    sodium_bin2hex(other, sizeof other, fork->other, RU_HASH_BYTES);
    json_t *j = json_pack("{s:s, s:s, s:I, s:o, s:[s, s], s:I, s:b}", "origin", site, "key", key,
                          "seq", (json_int_t) fork->seq, "found_at", ru_view_time(fork->found_ms),
                          "hashes", first, other, "held", (json_int_t) fork->held, "resolved",
                          fork->resolved);
    if (j && fork->resolved) { /* which variant every site keeps, and who decided */
        char kept[2 * RU_HASH_BYTES + 1], by[RU_MAX_NAME + 1];
        sodium_bin2hex(kept, sizeof kept, fork->resolution.kept, RU_HASH_BYTES);
        ru_view_site(&v, fork->resolution.by.origin, by);
        json_object_set_new(j, "kept", json_string(kept));
        json_object_set_new(j, "resolved_by", json_string(by));
        json_object_set_new(j, "resolved_at", ru_view_time(fork->resolution.at_ms));
    }
    json_array_append_new(l->list, j);
    return 0;
}

ru_err
ru_api_replication_json(ru_node_t *node, json_t **out)
{
    s_fork_list forks = {node, json_array()};
    ru_txn_t txn;
    ru_clock_t clock;
    ru_clock_init(&clock);
    uint8_t digest[RU_HASH_BYTES], state[RU_HASH_BYTES];
    ru_apply_pending_t *by = NULL;
    size_t n = 0;
    uint64_t pending = 0;
    *out = NULL;
    ru_err err = ru_store_read(node->store, &txn);
    if (err)
        return err;
    err = ru_apply_clock_digest(&txn, &clock, digest);
    if (!err)
        err = ru_txn_digest(&txn, state);
    if (!err)
        err = ru_apply_pending(&txn, &by, &n, &pending);
    if (!err)
        err = ru_fork_list(&txn, s_fork_json, &forks);
    uint64_t wanted = 0;
    if (!err)
        err = ru_txn_entries(&txn, RU_DB_blob_want, &wanted);
    ru_txn_abort(&txn);
    json_t *peers = NULL, *media = NULL;
    if (!err)
        err = s_peers_json(node, &clock, wanted, &peers, &media);
    if (err) {
        json_decref(media);
        json_decref(peers);
        json_decref(forks.list);
        free(by);
        ru_clock_fini(&clock);
        return err;
    }
    char key[RU_KEY_TEXT_SIZE], hex[2 * RU_HASH_BYTES + 1], state_hex[2 * RU_HASH_BYTES + 1];
    ru_b64_encode(key, ru_key_public(node->key), RU_KEY_BYTES);
    sodium_bin2hex(hex, sizeof hex, digest, RU_HASH_BYTES);
    sodium_bin2hex(state_hex, sizeof state_hex, state, RU_HASH_BYTES);
    *out = json_pack("{s:s, s:s, s:o, s:s, s:s, s:I, s:o, s:{s:I, s:I, s:I}, s:o, s:o, s:o}",
                     "site",
                     node->cfg.site, "key", key, "clock", s_clock_json(&clock), "digest", hex,
                     "state_digest", state_hex, "pending", (json_int_t) pending, "pending_origins",
                     s_pending_json(node, by, n), "pending_limits", "per_origin",
                     (json_int_t) node->cfg.pending_per_origin, "max",
                     (json_int_t) node->cfg.pending_max, "alarm_s",
                     (json_int_t) node->cfg.pending_alarm_s, "forks", forks.list, "peers",
                     peers, "media", media);
    free(by);
    ru_clock_fini(&clock);
    return *out ? RU_OK : RU_E_NOMEM;
}

int
ru_api_replication(ru_req_t *req)
{
    json_t *j;
    ru_err err = ru_api_replication_json(req->node, &j);
    return err ? ru_http_fail(req, err) : ru_http_json(req, 200, j);
}
