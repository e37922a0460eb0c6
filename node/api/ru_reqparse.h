/*  ru_reqparse.h - what a request's bytes say, checked and parsed: its
 *  head's framing and size, which h2o does not check; its parameters,
 *  the query string and a form, multipart/form-data or JSON body merged
 *  into one JSON object,
 *  so that handlers read "status" the same way whichever form a client
 *  used (Mastodon apps use JSON, forms and multipart/form-data, whose file
 *  parts are skipped); and a path matched against a route's pattern.
 *
 *  Text that is not UTF-8 is refused (400), and so is a parameter whose
 *  name or text holds a NUL byte ("%00" in a query or form, "\u0000" in
 *  JSON, a raw one in multipart: 422): a C string would silently cut it
 *  short. A JSON body nested deeper than [http] max_json_depth is refused
 *  (400) by a scan of its bytes (ru_jsondepth.h) before jansson or any
 *  recursion sees it. Any thread; nothing is kept between calls.
 */
#ifndef RU_REQPARSE_H
#define RU_REQPARSE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ru_multipart.h"
#include "ru_req.h"

/*  Decodes len bytes of src (%XX escapes; '+' is a space when form) into
 *  dst, with a NUL after them: their length, or -1 when they do not fit in
 *  size bytes. A '%' without two hex digits after it stays as it is. */
int ru_reqparse_url_decode(const char *src, size_t len, char *dst, size_t size, int form);

/*  Adds the parameters of query (NULL: none) and of a body of len bytes
 *  whose Content-Type is type (NULL: none) to params, a JSON object. 0,
 *  or the status of a refusal (400, 415, 422) with its message, cut to
 *  size bytes, in why. A JSON body's depth is bounded by max_depth, a
 *  multipart body's parts by limits (its files are left to the handler
 *  that reads them with ru_multipart). */
int ru_reqparse_params(json_t *params, const char *query, const char *type, const char *body,
                       size_t len, long max_depth, const ru_multipart_limits_t *limits, char *why,
                       size_t size);

/*  Does a query string hold a value that is not UTF-8, or a name or value
 *  with a NUL byte (%00)? */
int ru_reqparse_query_bad(const char *query);

/*  Checks a request's head, len bytes from its request line (blank lines
 *  before it skipped) to its blank line or the end, for what h2o lets
 *  through: more than max_headers header lines or max_bytes of them (431),
 *  and the framing of its body (400): two Content-Length lines, equal or
 *  not (h2o takes the first), one that is not a number, or one beside
 *  Transfer-Encoding (h2o reads chunks and never the length). 0, or the
 *  status of a refusal with why, cut to size bytes. */
int ru_reqparse_head(const char *head, size_t len, long max_headers, long max_bytes, char *why,
                     size_t size);

/*  Does path match pattern ("/api/v1/statuses/:id")? Fills req->args
 *  with the ":x" segments. A path may end with one "/" more than its
 *  pattern. */
int ru_reqparse_match(const char *pattern, const char *path, ru_req_t *req);

/*  The one range a Range header value asks of a body of size bytes
 *  (RFC 9110 section 14: "bytes=first-last", "bytes=first-",
 *  "bytes=-suffix"): 1 and *off, *len when it is satisfiable; -1 when no
 *  byte of it is in the body (416); 0 for a value this does not take (a
 *  list of ranges, another unit, malformed), which is answered with the
 *  whole body, as the RFC allows. */
int ru_reqparse_range(const char *value, uint64_t size, uint64_t *off, uint64_t *len);

#endif
