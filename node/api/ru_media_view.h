/*  ru_media_view.h - attachments as clients see them: Mastodon's
 *  MediaAttachment objects, built from the signed descriptors a status,
 *  an upload or a profile keeps (ru_update.h's ru_media_t).
 *
 *  A blob's URL names its content: <public_url>/media/<hash>.<ext> for an
 *  image and its thumbnail, <public_url>/media/<hash>/<file name> for a
 *  file, so it is the same at every site for the same bytes and can be
 *  kept by browsers for ever (ru_api_media.c serves it). An attachment's
 *  id is derived from its blob's hash as well: a status shows the same
 *  ids at every site, and a client that edits the status names its
 *  attachments by them.
 *
 *  A blob this site does not hold yet (a peer's, still on its way) is
 *  shown with its URLs and blurhash and "ruche": {"pending": true}: apps
 *  draw the blurhash until the bytes arrive.
 */
#ifndef RU_MEDIA_VIEW_H
#define RU_MEDIA_VIEW_H

#include <jansson.h>
#include <stdint.h>

#include "ruche/ru_update.h"

#include "ru_node.h"
#include "ru_record.h"

/*  The id of the attachment whose blob is hash: its first 8 bytes,
 *  big-endian, below 2^63, never 0. */
uint64_t ru_media_view_id(const uint8_t *hash);
/*  The file extension a blob of type is served with (".jpg", ".png",
 *  ".gif", ".webp"), "" for any other type. */
const char *ru_media_view_ext(ru_str_t type);

/*  The URL of an image (thumb: of its thumbnail), into out. */
void ru_media_view_image_url(const ru_node_t *node, const ru_media_t *m, int thumb, char *out,
                             size_t size);
/*  One attachment (id: the id to show), a new reference. */
json_t *ru_media_view_one(ru_node_t *node, const ru_media_t *m, uint64_t id);
/*  The attachments kept in packed form (len 0: none) as a new JSON array;
 *  an empty array for bytes that are not attachments (logged). */
json_t *ru_media_view_list(ru_node_t *node, ru_packed_t packed);

#endif
