/*  ru_sniff.h - the type of a file told from its bytes: the MIME type
 *  libmagic finds in the content ("image/png", "application/pdf",
 *  "text/plain"), never the file's name or the type a client claims. An
 *  upload is stored, thumbnailed or refused by what it is, so a script
 *  named photo.jpg stays a script.
 *
 *  The magic database is always the system's compiled one,
 *  RU_SNIFF_DB_PATH, named explicitly: libmagic's default search reads
 *  $MAGIC and ~/.magic.mgc first, so whoever sets the daemon's environment
 *  or home could make a script look like a JPEG.
 *
 *  libmagic reads at most RU_SNIFF_BYTES_MAX bytes of a buffer: formats
 *  are told by their first bytes, and some of its tests (JSON, text
 *  encodings) otherwise walk the whole buffer, 20 times slower on a
 *  64 MiB upload for nothing. A type only the end of a longer file would
 *  prove (a JSON text of several MiB) reads as the one its first MiB has
 *  (text/plain).
 *
 *  Threads: a libmagic handle must not be shared between threads, so each
 *  thread that sniffs gets its own, opened and loaded on its first call
 *  (about 1 ms and 2 MB) and closed when the thread exits. Every function
 *  here is safe from any number of threads at once.
 */
#ifndef RU_SNIFF_H
#define RU_SNIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "ruche/ru_error.h"

/*  The compiled magic database of Debian's libmagic-mgc. */
#define RU_SNIFF_DB_PATH "/usr/lib/file/magic.mgc"
/*  The most bytes of a buffer libmagic is shown. */
#define RU_SNIFF_BYTES_MAX (1024 * 1024)
/*  Room for a MIME type, with its NUL; a longer one is cut. */
#define RU_SNIFF_MIME_MAX 128

/*  Writes into mime the MIME type of the len bytes at data (data may be
 *  NULL when len is 0), e.g. "image/jpeg"; "application/octet-stream" for
 *  bytes of no known type, "application/x-empty" for none. RU_E_IO (logged
 *  once, with libmagic's reason) when the database cannot be loaded or
 *  libmagic fails, RU_E_NOMEM when a handle cannot be made; mime is then
 *  empty. */
RU_MUST_CHECK ru_err ru_sniff_type(const void *data, size_t len, char mime[RU_SNIFF_MIME_MAX]);

/*  Whether mime is an image type ru_image decodes: JPEG, PNG, WebP and GIF,
 *  and HEIC/HEIF when heic is true (the site's [media] heic setting). */
bool ru_sniff_is_image(const char *mime, bool heic);

#endif
