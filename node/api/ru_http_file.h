/*  ru_http_file.h - a file sent by the event loop: the answer of
 *  ru_http_send_file() (ru_http.h), for the core alone.
 *
 *  The file is opened when its answer leaves and read in pieces as the
 *  client takes them (pread of 64 KiB into the request's memory, the next
 *  piece once the last has left), so a download of any size costs one
 *  descriptor and one piece, holds no worker, and a slow client holds
 *  back nothing but itself. The handler has chosen the status, the range
 *  (offset and length) and the headers; a file gone since is a 404, a
 *  read that fails cuts the connection (the client sees the body end
 *  early, never wrong bytes).
 */
#ifndef RU_HTTP_FILE_H
#define RU_HTTP_FILE_H

#include <h2o.h>
#include <stdint.h>

#include "ru_req.h"

/*  Loop only. Sends len bytes of the file at path from off as r's answer,
 *  with status, type and the header lines. */
void ru_http_file_send(ru_http_t *self, h2o_req_t *r, int status, const char *lines,
                       const char *type, const char *path, uint64_t off, uint64_t len);
/*  Is g a file's generator (for the core's filters)? */
int ru_http_file_ours(const h2o_generator_t *g);

#endif
