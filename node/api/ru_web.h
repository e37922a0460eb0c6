/*  ru_web.h - the web front end's static files (node/web/), served for
 *  the GET and HEAD requests that no API route takes.
 *
 *  The front end is a single-page application of plain files: index.html,
 *  ES modules, a style sheet and the translations. Any GET or HEAD that no
 *  API route takes and that is not under /api/, /oauth/, /auth/,
 *  /.well-known/ or /nodeinfo/ comes here: a file of the web root when one
 *  matches, else index.html for the application's own paths (/@alice,
 *  /tags/lunch, /statuses/ID ...), which it reads from location.pathname.
 *  A path naming a static file (its last segment ends with a known
 *  extension) that does not exist is a JSON 404, not the application.
 *
 *  Only regular files with an extension of the content-type table are
 *  served, under a path of plain segments (letters, digits, '_', '-', '.',
 *  never starting with '.'): no directory listing, no hidden files, no way
 *  out of the root. Files carry an ETag and Last-Modified and
 *  "Cache-Control: no-cache": the browser keeps them and revalidates, and a
 *  304 costs one stat(). With no build step there are no fingerprinted
 *  names to cache forever, and an upgraded node is seen at the next load.
 *
 *  The web root is [http] web_root, or when that is empty: the source
 *  tree's node/web when ruched runs from its build tree (so the quickstart
 *  and the tests need no install step), else the installed copy under
 *  PREFIX/share/ruche/web.
 */
#ifndef RU_WEB_H
#define RU_WEB_H

#include "ruche/ru_error.h"

#include "ru_http.h"

typedef struct ru_web ru_web_t;

/*  Finds the web root: root when not empty, else the default above. A root
 *  without index.html is logged (the API still works). *out is owned by
 *  the caller. */
RU_MUST_CHECK ru_err ru_web_new(const char *root, ru_web_t **out);
/*  NULL-safe. */
void ru_web_destroy(ru_web_t **self_p);
/*  The absolute path of the web root. */
const char *ru_web_root(const ru_web_t *self);

/*  Does a request for path belong to the front end (rather than the API)?
 *  Only GET and HEAD ever do. */
int ru_web_wants(const char *method, const char *path);
/*  Answers a request that ru_web_wants: a file, index.html, 304, or a JSON
 *  404 / 500. Returns the status. Any worker. */
int ru_web_serve(const ru_web_t *self, ru_req_t *req);
/*  The handler of the requests no route takes (ru_http_on_other): those
 *  the front end wants are served from req->node->web; 0 for the others. */
int ru_web_other(ru_req_t *req);

#endif
