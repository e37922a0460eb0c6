/*  ru_http_file.c - files sent by the event loop (ru_http_file.h).
 */
#include "ru_http_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ru_http_res.h"
#include "ru_log.h"

#define S_LOG "http"
#define S_PIECE (64 * 1024)

typedef struct {
    h2o_generator_t super;
    int fd;
    uint64_t off, left;
    char *buf;
} s_file;

static void
s_close(s_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

/*  The next piece, or the end; called once the last piece has left. */
static void
s_proceed(h2o_generator_t *g, h2o_req_t *r)
{
    s_file *f = (s_file *) g;
    size_t want = f->left < S_PIECE ? (size_t) f->left : S_PIECE;
    ssize_t n;
    do
        n = pread(f->fd, f->buf, want, (off_t) f->off);
    while (n < 0 && errno == EINTR);
    if (n <= 0) { /* shorter than it was, or unreadable: the client sees it end early */
        ru_log_warn(S_LOG, "a file being sent could not be read: %s",
                    n < 0 ? strerror(errno) : "it is shorter than it was");
        r->http1_is_persistent = 0;
        s_close(f);
        h2o_send(r, NULL, 0, H2O_SEND_STATE_ERROR);
        return;
    }
    f->off += (uint64_t) n;
    f->left -= (uint64_t) n;
    h2o_iovec_t iov = h2o_iovec_init(f->buf, (size_t) n);
    int last = f->left == 0;
    if (last)
        s_close(f);
    h2o_send(r, &iov, 1, last ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

static void
s_stop(h2o_generator_t *g, h2o_req_t *r)
{
    (void) r;
    s_close((s_file *) g);
}

/*  The descriptor is closed with the request's memory, whatever ends it. */
static void
s_dispose(void *p)
{
    s_close(p);
}

void
ru_http_file_send(ru_http_t *self, h2o_req_t *r, int status, const char *lines, const char *type,
                  const char *path, uint64_t off, uint64_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        ru_http_res_refuse(self, r, 404, "the file is not here", 0, NULL);
        return;
    }
    s_file *f = h2o_mem_alloc_shared(&r->pool, sizeof *f, s_dispose);
    f->super.proceed = s_proceed;
    f->super.stop = s_stop;
    f->fd = fd;
    f->off = off;
    f->left = len;
    f->buf = h2o_mem_alloc_pool(&r->pool, S_PIECE);
    ru_http_res_head(self, r, lines, status, type);
    r->res.content_length = (size_t) len;
    h2o_start_response(r, &f->super);
    if (len == 0 || h2o_memis(r->method.base, r->method.len, H2O_STRLIT("HEAD"))) {
        s_close(f);
        h2o_send(r, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    s_proceed(&f->super, r);
}

int
ru_http_file_ours(const h2o_generator_t *g)
{
    return g->proceed == s_proceed;
}
