/*  ru_api_media.c - media: uploads in Mastodon's shapes (POST /api/v2/media,
 *  GET and PUT /api/v1/media/:id), the files themselves (GET /media/...),
 *  and what a status's content takes from its request beyond its text
 *  (content warning, sensitive flag, attachments).
 *
 *  An upload answers 202 at once and is processed off the request's
 *  thread (ru_mediaq.h); GET /api/v1/media/:id answers 206 while it is
 *  processed, 200 when it is ready, and 422 with the reason when it was
 *  refused, as Mastodon does. Uploads are their owner's: anyone else
 *  gets 404, as for an id that does not exist. A profile's avatar or
 *  header is an upload too (ru_api_media_image), made by the same queue
 *  and workers, but its request waits for it ([media] profile_wait_ms):
 *  the profile changes only with the image made.
 *
 *  Files are served by their hash (ru_media_view.h), so a URL names its
 *  content for ever: an immutable cache lifetime, an ETag of the hash.
 *  Only the images this site makes (JPEG, PNG, GIF, WebP) are shown
 *  inline; anything else, whatever type it claims, is a download
 *  (Content-Disposition: attachment) under a sandboxing
 *  Content-Security-Policy and nosniff, so that an HTML or SVG upload can
 *  never run script in the site's origin. The event loop sends the file
 *  (ru_http_send_file): ranges for large files, and no worker held by a
 *  slow download.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ruche/ru_hlc.h"
#include "ruche/ru_text.h"

#include "ru_api.h"
#include "ru_blob.h"
#include "ru_blobref.h"
#include "ru_log.h"
#include "ru_media_view.h"
#include "ru_mediaq.h"
#include "ru_multipart.h"
#include "ru_repl.h"
#include "ru_reqparse.h"
#include "ru_sniff.h"
#include "ru_upload.h"

#define S_CACHE_FOREVER "public, max-age=31536000, immutable"
#define S_SANDBOX "default-src 'none'; sandbox"

/*  ---------------------------------------------------------------------
 *  Parameters shared by uploads and statuses
 */

/*  An id of ours: decimal digits, 1 to 2^63 - 1. 0 when malformed. */
static uint64_t
s_id(const char *text)
{
    uint64_t v = 0;
    if (!text || !*text || strlen(text) > 19)
        return 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (uint64_t) (*p - '0');
    }
    return v < (UINT64_C(1) << 63) ? v : 0;
}

/*  The "description" parameter into *out (kept as it is when absent):
 *  1, or 0 with a 422 sent. */
static int
s_description(ru_req_t *req, ru_str_t *out)
{
    const char *d = ru_http_param(req, "description");
    size_t chars;
    if (!d)
        return 1;
    if (ru_utf8_check(d, strlen(d), &chars) != RU_OK || chars > RU_MAX_ALT_CHARS) {
        ru_http_error(req, 422, "Validation failed: description must be UTF-8 of at most %d "
                                "characters", RU_MAX_ALT_CHARS);
        return 0;
    }
    *out = (ru_str_t){d, (uint32_t) strlen(d)};
    return 1;
}

/*  The "focus" parameter ("x,y", each from -1.0 to 1.0, up positive)
 *  into 0 .. RU_MAX_FOCUS; kept when absent. 1, or 0 with a 422 sent. */
static int
s_focus(ru_req_t *req, uint32_t *fx, uint32_t *fy)
{
    const char *f = ru_http_param(req, "focus");
    if (!f || !*f)
        return 1;
    char *end;
    double x = strtod(f, &end), y = 0;
    int ok = *end == ',';
    if (ok) {
        y = strtod(end + 1, &end);
        ok = *end == '\0' && isfinite(x) && isfinite(y) && fabs(x) <= 1 && fabs(y) <= 1;
    }
    if (!ok) {
        ru_http_error(req, 422, "Validation failed: focus must be \"x,y\" from -1.0 to 1.0");
        return 0;
    }
    *fx = (uint32_t) lround((x + 1) * (RU_MAX_FOCUS / 2.0));
    *fy = (uint32_t) lround((y + 1) * (RU_MAX_FOCUS / 2.0));
    return 1;
}

/*  ---------------------------------------------------------------------
 *  Uploads
 */

typedef struct {
    uint64_t id;
    const ru_upload_t *rec;
    int remove;
} s_record;

static ru_err
s_write_record(const ru_writer_ctx_t *ctx, void *arg)
{
    s_record *r = arg;
    if (r->remove)
        return ru_upload_del(ctx->txn, r->id, r->rec->owner);
    return ru_upload_put(ctx->txn, r->id, r->rec);
}

/*  The attachment of an upload as clients see it: the descriptor once
 *  ready (with the alt text and focus as last set), else what is known. */
static json_t *
s_upload_json(ru_req_t *req, uint64_t id, const ru_upload_t *rec, const char *guess)
{
    ru_media_t media[RU_MAX_MEDIA];
    uint32_t n = 0;
    if (rec->state == RU_UPLOAD_READY &&
        ru_media_unpack(rec->media.ptr, rec->media.len, media, &n) == RU_OK && n == 1) {
        media[0].description = rec->description;
        media[0].focus_x = rec->focus_x;
        media[0].focus_y = rec->focus_y;
        return ru_media_view_one(req->node, &media[0], id);
    }
    char ids[24];
    snprintf(ids, sizeof ids, "%llu", (unsigned long long) id);
    return json_pack("{s:s, s:s, s:n, s:n, s:n, s:n, s:n, s:s%, s:n}", "id", ids, "type", guess,
                     "url", "preview_url", "remote_url", "text_url", "meta", "description",
                     rec->description.ptr ? rec->description.ptr : "",
                     (size_t) rec->description.len, "blurhash");
}

int
ru_api_media_parts(ru_req_t *req, ru_multipart_t *mp)
{
    size_t len;
    const char *body = ru_http_req_body(req, &len);
    const ru_config_t *cfg = &req->node->cfg;
    ru_multipart_limits_t limits = {cfg->multipart_max_parts, cfg->multipart_max_header_bytes,
                                    cfg->multipart_max_header_lines};
    char why[200];
    ru_err err = ru_multipart_parse(mp, ru_http_req_header(req, "Content-Type"), body, len,
                                    &limits, why, sizeof why);
    return err ? ru_http_error(req, err == RU_E_TYPE ? 415 : 422, "%s", why) : 0;
}

/*  The file part of an upload's body into *out: 0, or the status of the
 *  refusal sent. */
static int
s_file_part(ru_req_t *req, ru_multipart_t *mp, const ru_multipart_part_t **out)
{
    int status = ru_api_media_parts(req, mp);
    if (status)
        return status;
    const ru_multipart_part_t *file = ru_multipart_get(mp, "file");
    if (!file || !file->filename)
        return ru_http_error(req, 422,
                             "Validation failed: the upload has no file part named \"file\"");
    if (file->len == 0)
        return ru_http_error(req, 422, "Validation failed: the file is empty");
    *out = file;
    return 0;
}

/*  The bytes of a user's uploads that are ready (processing ones count
 *  once they are). */
typedef struct {
    ru_txn_t *txn;
    uint64_t bytes;
} s_uploaded;

static int
s_add_upload(void *ctx, uint64_t id)
{
    s_uploaded *u = ctx;
    ru_upload_t rec;
    ru_media_t m[RU_MAX_MEDIA];
    uint32_t n = 0;
    if (ru_upload_get(u->txn, id, &rec) == RU_OK && rec.state == RU_UPLOAD_READY &&
        ru_media_unpack(rec.media.ptr, rec.media.len, m, &n) == RU_OK)
        u->bytes += ru_blobref_bytes(m, n);
    return 0;
}

/*  What the signed-in user's files take: their statuses' attachments,
 *  and their uploads of the last [media] upload_s (posted or not). */
static ru_err
s_user_bytes(ru_req_t *req, uint64_t *bytes)
{
    ru_txn_t txn;
    s_uploaded u = {&txn, 0};
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return err;
    err = ru_blobref_used(&txn, req->user.name, bytes);
    if (!err)
        err = ru_upload_each(&txn, req->user.name, s_add_upload, &u);
    ru_txn_abort(&txn);
    *bytes += u.bytes;
    return err;
}

/*  Refuses an upload of len bytes past the site's quota or the user's:
 *  the status of the refusal sent (507), or 0. */
static int
s_over_quota(ru_req_t *req, size_t len)
{
    const ru_config_t *cfg = &req->node->cfg;
    uint64_t quota = (uint64_t) cfg->media_quota_mb << 20, mine = 0;
    if (quota && ru_blob_total(req->node->blobs) + len > quota)
        return ru_http_error(req, 507, "this site's storage for files is full ([media] "
                                       "quota_mb): ask its administrators");
    quota = (uint64_t) cfg->media_user_quota_mb << 20;
    if (!quota)
        return 0;
    ru_err err = s_user_bytes(req, &mine);
    if (err)
        return ru_http_fail(req, err);
    if (mine + len <= quota)
        return 0;
    return ru_http_error(req, 507, "your files take %llu MiB of your %ld MiB ([media] "
                                   "user_quota_mb): delete some attachments, or ask the site's "
                                   "administrators",
                         (unsigned long long) (mine >> 20), cfg->media_user_quota_mb);
}

/*  Queues file as upload id w->id, whose record w->rec is written first
 *  (and removed again when the queue refuses it): 0, or the status of
 *  the refusal sent (429, 503). */
static int
s_queue(ru_req_t *req, const ru_multipart_part_t *file, s_record *w)
{
    ru_err err = ru_writer_call(req->node->writer, s_write_record, w);
    if (!err) {
        err = ru_mediaq_push(req->node->mediaq, w->id, req->user.name, file->display_name,
                             file->data, file->len);
        if (err) { /* not queued: its record goes (or expires, if this fails too) */
            w->remove = 1;
            if (ru_writer_call(req->node->writer, s_write_record, w) != RU_OK)
                ru_log_warn("media", "upload %llu: its record stays until it expires",
                            (unsigned long long) w->id);
        }
    }
    if (err == RU_E_TOO_MANY)
        return ru_http_error(req, 429, "%ld of your uploads are being processed already: wait "
                                       "for them ([media] per_user)",
                             req->node->cfg.media_per_user);
    if (err == RU_E_TOO_BIG) {
        ru_http_header(req, "Retry-After", "5");
        return ru_http_error(req, 503, "the site is processing too many uploads: try again");
    }
    return err ? ru_http_fail(req, err) : 0;
}

/*  A new upload record of the signed-in user's, processing. */
static ru_upload_t
s_new_record(ru_req_t *req)
{
    return (ru_upload_t){.owner = {req->user.name, (uint32_t) strlen(req->user.name)},
                         .created_ms = ru_hlc_wall_ms(),
                         .state = RU_UPLOAD_PROCESSING,
                         .focus_x = RU_MAX_FOCUS / 2,
                         .focus_y = RU_MAX_FOCUS / 2};
}

/*  Is file an image of a type this site decodes, by its bytes? Its type
 *  into mime. */
static int
s_is_image(ru_req_t *req, const ru_multipart_part_t *file, char *mime)
{
    return ru_sniff_type(file->data, file->len, mime) == RU_OK &&
           ru_sniff_is_image(mime, req->node->cfg.media_heic != 0);
}

int
ru_api_media_upload(ru_req_t *req)
{
    ru_multipart_t mp;
    memset(&mp, 0, sizeof mp);
    ru_upload_t rec = s_new_record(req);
    const ru_multipart_part_t *file = NULL;
    int status = s_file_part(req, &mp, &file);
    if (!status && (!s_description(req, &rec.description) ||
                    !s_focus(req, &rec.focus_x, &rec.focus_y)))
        status = 422;
    if (!status && file) /* s_file_part gives a part whenever it answers 0 */
        status = s_over_quota(req, file->len);
    if (status || !file) {
        ru_multipart_fini(&mp);
        return status ? status : ru_http_fail(req, RU_E_INVALID);
    }
    char mime[RU_SNIFF_MIME_MAX] = "";
    int image = s_is_image(req, file, mime);
    s_record w = {ru_upload_new_id(), &rec, 0};
    status = s_queue(req, file, &w);
    if (!status)
        status = ru_http_json(req, 202, s_upload_json(req, w.id, &rec, image ? "image" : "unknown"));
    ru_multipart_fini(&mp);
    return status;
}

/*  The ready upload id's image descriptor, packed, into packed; 0, or
 *  the status of the refusal sent (what names the file). */
static int
s_image_of(ru_req_t *req, const char *what, uint64_t id, ru_buf_t *packed)
{
    ru_txn_t txn;
    ru_upload_t rec;
    ru_media_t m[RU_MAX_MEDIA];
    uint32_t n = 0;
    int status = 0;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return ru_http_fail(req, err);
    err = ru_upload_get(&txn, id, &rec);
    if (err)
        status = ru_http_fail(req, err);
    else if (rec.state == RU_UPLOAD_FAILED)
        status = ru_http_error(req, 422, "Validation failed: %s: %.*s", what, (int) rec.error.len,
                               rec.error.ptr);
    else if (rec.state != RU_UPLOAD_READY) {
        ru_http_header(req, "Retry-After", "5");
        status = ru_http_error(req, 503, "%s: the image was not ready within %ld ms ([media] "
                                         "profile_wait_ms): try again",
                               what, req->node->cfg.media_profile_wait_ms);
    } else if (ru_media_unpack(rec.media.ptr, rec.media.len, m, &n) != RU_OK || n != 1)
        status = ru_http_fail(req, RU_E_STORE);
    else if (!m[0].is_image)
        status = ru_http_error(req, 422, "Validation failed: %s must be an image", what);
    if (!status) {
        msgpack_packer pk;
        ru_buf_reset(packed);
        ru_mp_packer_init(&pk, packed);
        ru_media_pack(&pk, m, 1);
        if (ru_buf_status(packed))
            status = ru_http_fail(req, RU_E_NOMEM);
    }
    ru_txn_abort(&txn);
    return status;
}

int
ru_api_media_image(ru_req_t *req, const char *what, const ru_multipart_part_t *file,
                   ru_buf_t *packed)
{
    char mime[RU_SNIFF_MIME_MAX] = "";
    if (!s_is_image(req, file, mime))
        return ru_http_error(req, 422, "Validation failed: %s must be an image (JPEG, PNG, GIF "
                                       "or WebP), not %s",
                             what, mime[0] ? mime : "a file of unknown type");
    int status = s_over_quota(req, file->len);
    if (status)
        return status;
    ru_upload_t rec = s_new_record(req);
    s_record w = {ru_upload_new_id(), &rec, 0};
    status = s_queue(req, file, &w);
    if (status)
        return status;
    ru_mediaq_wait(req->node->mediaq, w.id, req->node->cfg.media_profile_wait_ms);
    return s_image_of(req, what, w.id, packed);
}

/*  The upload id (0: none) when it is the signed-in user's, in txn;
 *  RU_E_NOT_FOUND otherwise. */
static ru_err
s_own_upload(ru_req_t *req, ru_txn_t *txn, uint64_t id, ru_upload_t *rec)
{
    ru_err err = id ? ru_upload_get(txn, id, rec) : RU_E_NOT_FOUND;
    if (!err && (rec->owner.len != strlen(req->user.name) ||
                 memcmp(rec->owner.ptr, req->user.name, rec->owner.len) != 0))
        err = RU_E_NOT_FOUND;
    return err;
}

/*  Answers with the upload's state: 200 ready, 206 processing, 422
 *  refused (with why). */
static int
s_answer_upload(ru_req_t *req, uint64_t id, const ru_upload_t *rec)
{
    if (rec->state == RU_UPLOAD_FAILED)
        return ru_http_error(req, 422, "%.*s", (int) rec->error.len, rec->error.ptr);
    return ru_http_json(req, rec->state == RU_UPLOAD_READY ? 200 : 206,
                        s_upload_json(req, id, rec, "unknown"));
}

int
ru_api_media_get(ru_req_t *req)
{
    ru_txn_t txn;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return ru_http_fail(req, err);
    uint64_t id = s_id(req->args[0]);
    ru_upload_t rec;
    err = s_own_upload(req, &txn, id, &rec);
    int status = err ? ru_http_fail(req, err) : s_answer_upload(req, id, &rec);
    ru_txn_abort(&txn);
    return status;
}

/*  PUT: the new description and focus, written by the store actor on the
 *  record as it is then (a worker may have made it ready meanwhile). */
typedef struct {
    ru_req_t *req;
    uint64_t id;
    int has_description;
    ru_str_t description;
    uint32_t fx, fy;
    int has_focus;
} s_change;

static ru_err
s_change_upload(const ru_writer_ctx_t *ctx, void *arg)
{
    s_change *c = arg;
    ru_upload_t rec;
    ru_err err = ru_upload_get(ctx->txn, c->id, &rec);
    ru_buf_t copy;
    ru_buf_init(&copy);
    /* rec's views are copied before the write */
    ru_buf_append(&copy, rec.media.ptr, rec.media.len);
    ru_buf_append(&copy, rec.owner.ptr, rec.owner.len);
    ru_buf_append(&copy, rec.error.ptr, rec.error.len);
    ru_buf_append(&copy, rec.description.ptr, rec.description.len);
    if (!err)
        err = ru_buf_status(&copy);
    if (!err) {
        const char *p = (const char *) copy.data;
        rec.media.ptr = (const uint8_t *) p;
        rec.owner.ptr = p + rec.media.len;
        rec.error.ptr = rec.owner.ptr + rec.owner.len;
        rec.description.ptr = rec.error.ptr + rec.error.len;
        if (c->has_description)
            rec.description = c->description;
        if (c->has_focus) {
            rec.focus_x = c->fx;
            rec.focus_y = c->fy;
        }
        err = ru_upload_put(ctx->txn, c->id, &rec);
    }
    ru_buf_fini(&copy);
    return err;
}

int
ru_api_media_update(ru_req_t *req)
{
    ru_txn_t txn;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return ru_http_fail(req, err);
    s_change c = {req, s_id(req->args[0]), 0, {NULL, 0}, RU_MAX_FOCUS / 2, RU_MAX_FOCUS / 2, 0};
    ru_upload_t rec;
    err = s_own_upload(req, &txn, c.id, &rec);
    ru_txn_abort(&txn);
    if (err)
        return ru_http_fail(req, err);
    c.has_description = ru_http_param(req, "description") != NULL;
    c.has_focus = ru_http_param(req, "focus") != NULL;
    if (!s_description(req, &c.description) || !s_focus(req, &c.fx, &c.fy))
        return 422;
    err = ru_writer_call(req->node->writer, s_change_upload, &c);
    return err ? ru_http_fail(req, err) : ru_api_media_get(req);
}

/*  ---------------------------------------------------------------------
 *  The files
 */

/*  Is type one of the images shown inline (the ones this site makes)? */
static int
s_inline(ru_str_t type)
{
    return *ru_media_view_ext(type) != '\0';
}

/*  Content-Disposition: attachment with the file's name, in ASCII (other
 *  bytes as '_') and in full as RFC 5987's filename*. */
static void
s_disposition(ru_req_t *req, ru_str_t name)
{
    char ascii[RU_MAX_FILE_NAME + 1], plain[RU_MAX_FILE_NAME + 1], coded[3 * RU_MAX_FILE_NAME + 1];
    if (name.len == 0) {
        ru_http_header(req, "Content-Disposition", "attachment");
        return;
    }
    for (uint32_t i = 0; i < name.len; i++) {
        unsigned char ch = (unsigned char) name.ptr[i];
        ascii[i] = ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\' ? '_' : (char) ch;
        plain[i] = name.ptr[i];
    }
    ascii[name.len] = plain[name.len] = '\0';
    ru_http_url_encode(plain, coded, sizeof coded);
    ru_http_header(req, "Content-Disposition", "attachment; filename=\"%s\"; filename*=UTF-8''%s",
                   ascii, coded);
}

/*  The blob's bytes, or the range asked of them, with their type. */
static int
s_send_blob(ru_req_t *req, const uint8_t *hash, const char *type)
{
    int fd;
    uint64_t size, off = 0, len;
    ru_err err = ru_blob_open(req->node->blobs, hash, &fd, &size);
    if (err)
        return ru_http_fail(req, err);
    close(fd); /* the loop opens it again when the answer leaves */
    char path[RU_BLOB_PATH_MAX];
    ru_blob_path(req->node->blobs, hash, path);
    ru_http_header(req, "Accept-Ranges", "bytes");
    len = size;
    switch (ru_reqparse_range(ru_http_req_header(req, "Range"), size, &off, &len)) {
    case -1:
        ru_http_header(req, "Content-Range", "bytes */%llu", (unsigned long long) size);
        return ru_http_error(req, 416, "the range asked is not in the file");
    case 1:
        ru_http_header(req, "Content-Range", "bytes %llu-%llu/%llu", (unsigned long long) off,
                       (unsigned long long) (off + len - 1), (unsigned long long) size);
        return ru_http_send_file(req, 206, type, path, off, len);
    default:
        return ru_http_send_file(req, 200, type, path, 0, size);
    }
}

/*  GET and HEAD /media/<hash>[.ext][/<name>]: the blob, if something here
 *  references it. */
int
ru_api_media_file(ru_req_t *req)
{
    uint8_t hash[RU_HASH_BYTES];
    const char *arg = req->args[0];
    if (strlen(arg) < RU_KEY_TEXT_LEN || ru_blob_hash_parse(arg, RU_KEY_TEXT_LEN, hash) != RU_OK)
        return ru_http_error(req, 404, "no such file");
    ru_txn_t txn;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return ru_http_fail(req, err);
    ru_blobref_t ref;
    err = ru_blobref_get(&txn, hash, &ref);
    char type[RU_MAX_MEDIA_TYPE + 1], name[RU_MAX_FILE_NAME + 1];
    if (!err) {
        snprintf(type, sizeof type, "%.*s", (int) ref.type.len, ref.type.ptr);
        snprintf(name, sizeof name, "%.*s", (int) ref.name.len, ref.name.ptr);
    }
    ru_txn_abort(&txn);
    if (err)
        return ru_http_fail(req, err);
    if (!ru_blob_has(req->node->blobs, hash)) { /* a peer's: fetched now, whatever its size */
        if (req->node->repl && ru_repl_fetch(req->node->repl, hash) != RU_OK)
            ru_log_warn("media", "a blob read here could not be asked of the peers");
        ru_http_header(req, "Retry-After", "5");
        return ru_http_error(req, 503, "this file is on its way from another site: try again "
                                       "shortly");
    }
    char etag[RU_KEY_TEXT_SIZE + 2];
    snprintf(etag, sizeof etag, "\"%.*s\"", RU_KEY_TEXT_LEN, arg);
    const char *match = ru_http_req_header(req, "If-None-Match");
    ru_http_header(req, "ETag", "%s", etag);
    ru_http_header(req, "Cache-Control", S_CACHE_FOREVER);
    ru_http_header(req, "Content-Security-Policy", S_SANDBOX);
    if (match && strstr(match, etag))
        return ru_http_send(req, 304, "", "", 0);
    ru_str_t t = {type, (uint32_t) strlen(type)};
    if (!s_inline(t))
        s_disposition(req, (ru_str_t){name, (uint32_t) strlen(name)});
    return s_send_blob(req, hash, type);
}

/*  ---------------------------------------------------------------------
 *  A status's content beyond its text
 */

void
ru_api_content_init(ru_api_content_t *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < RU_MAX_MEDIA; i++)
        ru_buf_init(&c->packed[i]);
}

void
ru_api_content_fini(ru_api_content_t *c)
{
    for (int i = 0; i < RU_MAX_MEDIA; i++)
        ru_buf_fini(&c->packed[i]);
    memset(c, 0, sizeof *c);
}

/*  Keeps m, as attachment i, packed in c (a copy that outlives txn). */
static ru_err
s_keep(ru_api_content_t *c, uint32_t i, const ru_media_t *m)
{
    msgpack_packer pk;
    ru_buf_reset(&c->packed[i]);
    ru_mp_packer_init(&pk, &c->packed[i]);
    ru_media_pack(&pk, m, 1);
    return ru_buf_status(&c->packed[i]);
}

/*  The attachment of media id text as attachment i: one the status
 *  current already has (an edit names those by their ids), else a ready
 *  upload of the signed-in user's with its alt text and focus. 0, or the
 *  status of the refusal sent. */
static int
s_attachment(ru_req_t *req, ru_txn_t *txn, const ru_post_rec_t *current, const char *text,
             ru_api_content_t *c, uint32_t i)
{
    uint64_t id = s_id(text);
    ru_media_t had[RU_MAX_MEDIA];
    uint32_t n = 0;
    if (current && ru_media_unpack(current->media.ptr, current->media.len, had, &n) != RU_OK)
        n = 0;
    for (uint32_t k = 0; id && k < n; k++)
        if (ru_media_view_id(had[k].hash) == id)
            return s_keep(c, i, &had[k]) ? ru_http_fail(req, RU_E_NOMEM) : 0;
    ru_upload_t rec;
    ru_err err = s_own_upload(req, txn, id, &rec);
    if (err == RU_E_NOT_FOUND)
        return ru_http_error(req, 422, "Validation failed: media %s does not exist", text);
    if (err)
        return ru_http_fail(req, err);
    if (rec.state != RU_UPLOAD_READY)
        return ru_http_error(req, 422,
                             rec.state == RU_UPLOAD_PROCESSING
                                 ? "Validation failed: media %s is still being processed"
                                 : "Validation failed: media %s was refused",
                             text);
    if (ru_media_unpack(rec.media.ptr, rec.media.len, had, &n) != RU_OK || n != 1)
        return ru_http_fail(req, RU_E_STORE);
    had[0].description = rec.description;
    had[0].focus_x = rec.focus_x;
    had[0].focus_y = rec.focus_y;
    return s_keep(c, i, &had[0]) ? ru_http_fail(req, RU_E_NOMEM) : 0;
}

/*  Reads media_ids[] into c and u->media: 0, or the refusal's status. */
static int
s_attachments(ru_req_t *req, const ru_ref_t *current, ru_update_t *u, ru_api_content_t *c)
{
    json_t *ids = json_object_get(req->params, "media_ids");
    if (json_is_string(ids)) /* one id, without the brackets */
        ids = json_pack("[O]", ids);
    else
        json_incref(ids);
    if (ids && !json_is_array(ids)) {
        json_decref(ids);
        return ru_http_error(req, 422, "Validation failed: media_ids must be a list of ids");
    }
    size_t n = json_array_size(ids);
    if (n > (size_t) req->node->cfg.media_attachments) {
        json_decref(ids);
        return ru_http_error(req, 422, "Validation failed: a status has at most %ld attachments",
                             req->node->cfg.media_attachments);
    }
    ru_txn_t txn;
    ru_err err = n ? ru_store_read(req->node->store, &txn) : RU_OK;
    if (err) {
        json_decref(ids);
        return ru_http_fail(req, err);
    }
    ru_post_rec_t rec;
    int has_current = current && n && ru_post_rec_get(&txn, current, &rec) == RU_OK;
    int status = 0;
    for (size_t i = 0; !status && i < n; i++) {
        const char *text = json_string_value(json_array_get(ids, i));
        status = text ? s_attachment(req, &txn, has_current ? &rec : NULL, text, c, (uint32_t) i)
                      : ru_http_error(req, 422, "Validation failed: a media id is a string");
    }
    if (n)
        ru_txn_abort(&txn);
    json_decref(ids);
    for (uint32_t i = 0; !status && i < n; i++) {
        uint32_t one;
        if (ru_media_unpack(c->packed[i].data, c->packed[i].len, &u->media[i], &one) != RU_OK)
            status = ru_http_fail(req, RU_E_STORE);
    }
    c->n = u->n_media = status ? 0 : (uint32_t) n;
    return status;
}

int
ru_api_content(ru_req_t *req, const ru_ref_t *current, ru_update_t *u, ru_api_content_t *c)
{
    int status = s_attachments(req, current, u, c);
    if (status)
        return status;
    const char *cw = ru_http_param(req, "spoiler_text");
    size_t chars;
    if (cw && (ru_utf8_check(cw, strlen(cw), &chars) != RU_OK || chars > RU_MAX_SPOILER_CHARS))
        return ru_http_error(req, 422, "Validation failed: spoiler_text must be UTF-8 of at most "
                                       "%d characters", RU_MAX_SPOILER_CHARS);
    u->spoiler = cw ? (ru_str_t){cw, (uint32_t) strlen(cw)} : (ru_str_t){"", 0};
    u->sensitive = ru_http_param_flag(req, "sensitive") || u->spoiler.len > 0;
    return ru_api_text(req, "status", u->n_media ? 0 : 1, &u->text) ? 0 : 422;
}
