/*  ru_web.c - static files of the web front end (see ru_web.h).
 *
 *  Files are read whole for each request (they are a few tens of kilobytes
 *  and the page cache holds them) and answered like the API's answers,
 *  with validators and their own Cache-Control. Nothing is kept in memory between requests, so
 *  an edited file is served at once: the web root of a build tree is the
 *  source tree itself.
 */
#include "ru_web.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ruche/ru_buf.h"

#include "ru_http.h"
#include "ru_log.h"

#ifndef RUCHE_BUILD_NODE_DIR
#define RUCHE_BUILD_NODE_DIR ""
#endif
#ifndef RUCHE_WEB_SOURCE_DIR
#define RUCHE_WEB_SOURCE_DIR ""
#endif
#ifndef RUCHE_WEB_INSTALL_DIR
#define RUCHE_WEB_INSTALL_DIR "/usr/local/share/ruche/web"
#endif

#define S_LOG "web"
#define S_MAX_FILE (8L * 1024 * 1024) /* no file of the front end comes near */
#define S_MAX_PATH 256

struct ru_web {
    char root[PATH_MAX];
};

/*  The paths that are the API's, never the front end's. */
static const char *const s_api_prefixes[] = {"/api/",         "/oauth/",    "/auth/",
                                             "/.well-known/", "/nodeinfo/", NULL};

static const struct {
    const char *ext;
    const char *type;
} s_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
};

/*  ---------------------------------------------------------------------
 *  The web root
 */

/*  The directory of the running executable, into out; 0 if unknown. */
static int
s_exe_dir(char *out, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", out, size - 1);
    if (n <= 0 || (size_t) n >= size - 1)
        return 0;
    out[n] = '\0';
    char *slash = strrchr(out, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    return 1;
}

/*  Do two paths name the same directory? */
static int
s_same_dir(const char *a, const char *b)
{
    struct stat sa, sb;
    return *a && *b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static const char *
s_default_root(void)
{
    char exe[PATH_MAX];
    if (s_exe_dir(exe, sizeof exe) && s_same_dir(exe, RUCHE_BUILD_NODE_DIR))
        return RUCHE_WEB_SOURCE_DIR;
    return RUCHE_WEB_INSTALL_DIR;
}

ru_err
ru_web_new(const char *root, ru_web_t **out)
{
    *out = NULL;
    ru_web_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    const char *chosen = root && *root ? root : s_default_root();
    char cwd[PATH_MAX / 2];
    if (chosen[0] != '/' && getcwd(cwd, sizeof cwd)) /* a relative root stays put */
        snprintf(self->root, sizeof self->root, "%s/%.*s", cwd, PATH_MAX / 2 - 2, chosen);
    else
        snprintf(self->root, sizeof self->root, "%s", chosen);
    char index[PATH_MAX + 16];
    snprintf(index, sizeof index, "%s/index.html", self->root);
    if (access(index, R_OK) == 0)
        ru_log_info(S_LOG, "web front end served from %s", self->root);
    else
        ru_log_warn(S_LOG, "no web front end: cannot read %s (set [http] web_root)", index);
    *out = self;
    return RU_OK;
}

void
ru_web_destroy(ru_web_t **self_p)
{
    free(*self_p);
    *self_p = NULL;
}

const char *
ru_web_root(const ru_web_t *self)
{
    return self->root;
}

/*  ---------------------------------------------------------------------
 *  Which file
 */

int
ru_web_wants(const char *method, const char *path)
{
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return 0;
    for (const char *const *p = s_api_prefixes; *p; p++) {
        size_t n = strlen(*p) - 1; /* "/api" matches "/api" and "/api/..." */
        if (strncmp(path, *p, n) == 0 && (path[n] == '/' || path[n] == '\0'))
            return 0;
    }
    return 1;
}

/*  The content type of a file name by its extension, or NULL. */
static const char *
s_type(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (!dot)
        return NULL;
    for (size_t i = 0; i < sizeof s_types / sizeof s_types[0]; i++)
        if (strcmp(dot, s_types[i].ext) == 0)
            return s_types[i].type;
    return NULL;
}

/*  Is path made of plain segments, none hidden, none empty? */
static int
s_plain_path(const char *path)
{
    size_t len = strlen(path);
    if (len < 2 || len > S_MAX_PATH)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = path[i];
        if (c == '/') {
            if (i + 1 == len || path[i + 1] == '/' || path[i + 1] == '.')
                return 0;
        } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return path[0] == '/';
}

/*  The file that answers path, relative to the root: the file itself, or
 *  "/index.html" for the application's paths; NULL for a missing file. */
static const char *
s_pick(const ru_web_t *self, const char *path)
{
    if (strcmp(path, "/") == 0 || strncmp(path, "/@", 2) == 0)
        return "/index.html";
    int named = s_type(path) != NULL;
    if (named && s_plain_path(path)) {
        char full[PATH_MAX + S_MAX_PATH];
        struct stat st;
        snprintf(full, sizeof full, "%s%s", self->root, path);
        if (lstat(full, &st) == 0 && S_ISREG(st.st_mode))
            return path;
    }
    return named ? NULL : "/index.html";
}

/*  ---------------------------------------------------------------------
 *  Sending it
 */

/*  Reads the open file fd of st's size into buf, after the head. */
static int
s_read_all(int fd, const struct stat *st, ru_buf_t *buf)
{
    char chunk[16384];
    off_t left = st->st_size;
    while (left > 0) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        ru_buf_append(buf, chunk, (size_t) n);
        left -= n;
    }
    return ru_buf_status(buf) == RU_OK;
}

/*  Has the client a copy as new as this one? It sends back our ETag, or
 *  our Last-Modified text. */
static int
s_fresh(const ru_req_t *req, const char *etag, const char *date)
{
    const char *inm = ru_http_req_header(req, "If-None-Match");
    if (inm)
        return strstr(inm, etag) != NULL || strcmp(inm, "*") == 0;
    const char *ims = ru_http_req_header(req, "If-Modified-Since");
    return ims && strcmp(ims, date) == 0;
}

/*  A file to answer with: its path, status and validators. */
typedef struct {
    const char *type;
    struct stat st;
    char etag[64];
    char date[64]; /* Last-Modified */
} s_file;

/*  Opens the file answering path and fills f; -1 when there is none. */
static int
s_open(const ru_web_t *self, const char *path, s_file *f)
{
    const char *file = s_pick(self, path);
    if (!file)
        return -1;
    char full[PATH_MAX + S_MAX_PATH];
    snprintf(full, sizeof full, "%s%s", self->root, file);
    int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &f->st) != 0 || !S_ISREG(f->st.st_mode) || f->st.st_size > S_MAX_FILE) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    f->type = s_type(file);
    snprintf(f->etag, sizeof f->etag, "\"%llx-%llx\"", (unsigned long long) f->st.st_size,
             (unsigned long long) f->st.st_mtim.tv_sec * 1000000000ULL +
                 (unsigned long long) f->st.st_mtim.tv_nsec);
    struct tm tm;
    gmtime_r(&f->st.st_mtime, &tm);
    strftime(f->date, sizeof f->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return fd;
}

int
ru_web_serve(const ru_web_t *self, ru_req_t *req)
{
    s_file f;
    int fd = s_open(self, req->path, &f);
    if (fd < 0)
        return ru_http_error(req, 404, "no such page or file");
    int status = s_fresh(req, f.etag, f.date) ? 304 : 200;
    ru_buf_t body;
    ru_buf_init(&body);
    int head = status == 304 || strcmp(req->method, "HEAD") == 0;
    int ok = head || s_read_all(fd, &f.st, &body);
    close(fd);
    ok = ok && ru_buf_status(&body) == RU_OK;
    if (ok) {
        ru_http_header(req, "Cache-Control", "no-cache");
        ru_http_header(req, "ETag", "%s", f.etag);
        ru_http_header(req, "Last-Modified", "%s", f.date);
        if (head)
            ru_http_send_head(req, status, f.type, status == 304 ? 0 : (size_t) f.st.st_size);
        else
            ru_http_send(req, status, f.type, (const char *) body.data, body.len);
    }
    ru_buf_fini(&body);
    if (!ok) {
        ru_log_err(S_LOG, "cannot read the file for %s", req->path);
        return ru_http_error(req, 500, "cannot read the file");
    }
    return status;
}

int
ru_web_other(ru_req_t *req)
{
    if (!req->node->web || !ru_web_wants(req->method, req->path))
        return 0;
    return ru_web_serve(req->node->web, req);
}
