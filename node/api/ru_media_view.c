/*  ru_media_view.c - Mastodon's MediaAttachment objects from attachment
 *  descriptors (ru_media_view.h).
 */
#include "ru_media_view.h"

#include <stdio.h>
#include <string.h>

#include "ruche/ru_text.h"

#include "ru_blob.h"
#include "ru_http.h"
#include "ru_log.h"

uint64_t
ru_media_view_id(const uint8_t *hash)
{
    uint64_t id = 0;
    for (int i = 0; i < 8; i++)
        id = (id << 8) | hash[i];
    id &= ~(UINT64_C(1) << 63);
    return id ? id : 1;
}

const char *
ru_media_view_ext(ru_str_t type)
{
    static const struct {
        const char *type, *ext;
    } exts[] = {{"image/jpeg", ".jpg"}, {"image/png", ".png"}, {"image/gif", ".gif"},
                {"image/webp", ".webp"}};
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++)
        if (type.len == strlen(exts[i].type) && memcmp(type.ptr, exts[i].type, type.len) == 0)
            return exts[i].ext;
    return "";
}

/*  The URL of blob hash: with the extension of type, or, for a file,
 *  followed by its name. */
static void
s_url(const ru_node_t *node, const uint8_t *hash, ru_str_t type, ru_str_t name, int file,
      char *out, size_t size)
{
    char text[RU_KEY_TEXT_SIZE], plain[RU_MAX_FILE_NAME + 1], coded[3 * RU_MAX_FILE_NAME + 1];
    ru_b64_encode(text, hash, RU_HASH_BYTES);
    if (!file || name.len == 0) {
        snprintf(out, size, "%s/media/%s%s", node->public_url, text,
                 file ? "" : ru_media_view_ext(type));
        return;
    }
    memcpy(plain, name.ptr, name.len);
    plain[name.len] = '\0';
    ru_http_url_encode(plain, coded, sizeof coded);
    snprintf(out, size, "%s/media/%s/%s", node->public_url, text, coded);
}

void
ru_media_view_image_url(const ru_node_t *node, const ru_media_t *m, int thumb, char *out,
                        size_t size)
{
    s_url(node, thumb ? m->thumb : m->hash, m->type, m->name, 0, out, size);
}

static json_t *
s_size(uint32_t w, uint32_t h)
{
    char wxh[32];
    snprintf(wxh, sizeof wxh, "%ux%u", w, h);
    return json_pack("{s:I, s:I, s:s, s:f}", "width", (json_int_t) w, "height", (json_int_t) h,
                     "size", wxh, "aspect", (double) w / (double) h);
}

/*  Mastodon's meta: the sides of the image and its thumbnail, and the
 *  focal point from -1 to 1 (up is positive). */
static json_t *
s_meta(const ru_media_t *m)
{
    if (!m->is_image)
        return json_object();
    const double centre = RU_MAX_FOCUS / 2.0;
    double fx = ((double) m->focus_x - centre) / centre;
    double fy = ((double) m->focus_y - centre) / centre;
    return json_pack("{s:o, s:o, s:{s:f, s:f}}", "original", s_size(m->width, m->height), "small",
                     s_size(m->thumb_width, m->thumb_height), "focus", "x", fx, "y", fy);
}

json_t *
ru_media_view_one(ru_node_t *node, const ru_media_t *m, uint64_t id)
{
    char ids[24], url[RU_CONFIG_PATH_MAX + 4 * RU_MAX_FILE_NAME], preview[RU_CONFIG_PATH_MAX + 64];
    snprintf(ids, sizeof ids, "%llu", (unsigned long long) id);
    s_url(node, m->hash, m->type, m->name, !m->is_image, url, sizeof url);
    if (m->is_image)
        s_url(node, m->thumb, m->type, m->name, 0, preview, sizeof preview);
    int pending = !ru_blob_has(node->blobs, m->hash) ||
                  (m->is_image && !ru_blob_has(node->blobs, m->thumb));
    return json_pack("{s:s, s:s, s:s, s:o, s:n, s:n, s:n, s:o, s:s%, s:o,"
                     " s:{s:s%, s:s%, s:I, s:b}}",
                     "id", ids, "type", m->is_image ? "image" : "unknown", "url", url,
                     "preview_url", m->is_image ? json_string(preview) : json_null(), "remote_url",
                     "preview_remote_url", "text_url", "meta", s_meta(m), "description",
                     m->description.ptr, (size_t) m->description.len, "blurhash",
                     m->is_image ? json_stringn(m->blurhash.ptr, m->blurhash.len) : json_null(),
                     "ruche", "name", m->name.ptr, (size_t) m->name.len, "mime", m->type.ptr,
                     (size_t) m->type.len, "size", (json_int_t) m->size, "pending", pending);
}

json_t *
ru_media_view_list(ru_node_t *node, ru_packed_t packed)
{
    json_t *arr = json_array();
    if (packed.len == 0 || !arr)
        return arr;
    ru_media_t media[RU_MAX_MEDIA];
    uint32_t n;
    ru_err err = ru_media_unpack(packed.ptr, packed.len, media, &n);
    if (err) {
        ru_log_warn("media", "a stored list of attachments does not read: %s", ru_err_str(err));
        return arr;
    }
    for (uint32_t i = 0; i < n; i++)
        json_array_append_new(arr, ru_media_view_one(node, &media[i],
                                                     ru_media_view_id(media[i].hash)));
    return arr;
}
