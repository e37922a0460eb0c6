/*  ru_cmd_media_test.c - the wait for an upload (ru_cmd_media_upload and
 *  --wait) against a loopback server that answers in the media API's
 *  shapes for as long as a test needs: 202 to the upload, then 206 to
 *  each poll a given number of times (forever: a file still processing
 *  at the deadline), then 200 or 422 with a reason.
 *
 *  This is the one part of attaching a file that a real node cannot be
 *  made to show on demand: a file whose processing outlasts the wait.
 *  The rest (the uploads, the refusals, the post) is tested against a
 *  real ruched by tests/cli/test_attach.py. Checked here: the deadline
 *  (exit 1 once --wait seconds have passed, a poll or so later, with the
 *  reason and the file named on standard error), the pauses between
 *  polls (250 ms, doubling up to a second), a refusal after a few polls,
 *  no poll for a file ready at once, and nothing but those messages on a
 *  standard error that is no terminal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ru_cmd_media.h"
#include "testdir.h"
#include "testnet.h"

#define MAX_POLLS 64

typedef struct {
    int listen_fd;
    char server[64];
    pthread_t thread;
    const char *upload_reply; /* to POST /api/v2/media */
    int processing;           /* polls answered 206 before the last answer */
    const char *last_reply;   /* then, to every poll */
    int polls;
    double poll_at[MAX_POLLS]; /* seconds, monotonic */
} media_srv_t;

static const char s_202[] =
    "HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 41\r\n\r\n"
    "{\"id\": \"m1\", \"type\": \"image\", \"url\":null}";
static const char s_200_ready[] =
    "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 49\r\n\r\n"
    "{\"id\": \"m1\", \"type\": \"image\", \"url\":\"http://x/m\"}";
static const char s_206[] = "HTTP/1.1 206 Partial Content\r\nConnection: close\r\n"
                            "Content-Length: 41\r\n\r\n"
                            "{\"id\": \"m1\", \"type\": \"image\", \"url\":null}";
static const char s_422[] = "HTTP/1.1 422 Unprocessable Entity\r\nConnection: close\r\n"
                            "Content-Length: 33\r\n\r\n{\"error\": \"the image is damaged\"}";

static double
now_s(void)
{
    struct timespec t;
    (void) clock_gettime(CLOCK_MONOTONIC, &t);
    return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

/*  Reads what the client sends until its request is whole: the head, and
 *  as many body bytes as its Content-Length says. Returns the request's
 *  first bytes (its method and path) in line. */
static void
srv_take_request(int fd, char *line, size_t size)
{
    char buf[16384];
    size_t got = 0;
    long body = -1;
    char *head_end = NULL;
    while (got < sizeof buf - 1) {
        ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t) n;
        buf[got] = '\0';
        if (head_end == NULL && (head_end = strstr(buf, "\r\n\r\n")) != NULL) {
            const char *cl = strstr(buf, "Content-Length: ");
            body = cl != NULL && cl < head_end ? strtol(cl + 16, NULL, 10) : 0;
        }
        if (head_end != NULL && got >= (size_t) (head_end + 4 - buf) + (size_t) body)
            break;
    }
    size_t keep = got < size - 1 ? got : size - 1;
    memcpy(line, buf, keep);
    line[keep] = '\0';
}

/*  Answers each connection's one request, until the listening socket is
 *  shut down. */
static void *
srv_run(void *arg)
{
    media_srv_t *s = arg;
    int fd;
    while ((fd = accept(s->listen_fd, NULL, NULL)) >= 0) {
        char line[64];
        const char *reply = "HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n";
        srv_take_request(fd, line, sizeof line);
        if (strncmp(line, "POST /api/v2/media ", 19) == 0) {
            reply = s->upload_reply;
        } else if (strncmp(line, "GET /api/v1/media/m1 ", 21) == 0 && s->polls < MAX_POLLS) {
            s->poll_at[s->polls] = now_s();
            reply = s->polls++ < s->processing ? s_206 : s->last_reply;
        }
        (void) send(fd, reply, strlen(reply), MSG_NOSIGNAL);
        close(fd);
    }
    return NULL;
}

static void
srv_start(media_srv_t *s, const char *upload_reply, int processing, const char *last_reply)
{
    int port;
    memset(s, 0, sizeof *s);
    s->listen_fd = testnet_listen(8, &port);
    assert_true(s->listen_fd >= 0);
    (void) snprintf(s->server, sizeof s->server, "http://127.0.0.1:%d", port);
    s->upload_reply = upload_reply;
    s->processing = processing;
    s->last_reply = last_reply;
    assert_int_equal(pthread_create(&s->thread, NULL, srv_run, s), 0);
}

static void
srv_stop(media_srv_t *s)
{
    (void) shutdown(s->listen_fd, SHUT_RDWR); /* accept() returns */
    assert_int_equal(pthread_join(s->thread, NULL), 0);
    close(s->listen_fd);
}

/*  A configuration home with alice's login on the server, and the file
 *  to attach. */
typedef struct {
    char dir[512];
    char creds[640];
    char file[640];
} home_t;

static void
home_make(home_t *h, const char *server)
{
    ru_creds_t creds;
    assert_int_equal(testdir_make(h->dir, sizeof h->dir), 0);
    assert_int_equal(setenv("XDG_CONFIG_HOME", h->dir, 1), 0);
    (void) snprintf(h->creds, sizeof h->creds, "%s/ruche/credentials.json", h->dir);
    assert_int_equal(ru_creds_init(&creds, server, "alice", "t0ken-of-alice"), RU_OK);
    assert_int_equal(ru_creds_save(&creds, h->creds), RU_OK);
    ru_creds_fini(&creds);
    (void) snprintf(h->file, sizeof h->file, "%s/cat.png", h->dir);
    FILE *f = fopen(h->file, "wb");
    assert_non_null(f);
    assert_int_equal(fputs("\x89PNG\r\n\x1a\n not really", f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void
home_remove(home_t *h)
{
    char sub[600];
    (void) unlink(h->creds);
    (void) snprintf(sub, sizeof sub, "%s/ruche", h->dir);
    (void) rmdir(sub);
    testdir_remove(h->dir);
}

/*  One upload against a server answering upload_reply, then 206 to
 *  processing polls and last_reply to the next: its exit status, id,
 *  what was said on standard error, how long it took, and the server's
 *  record of the polls. */
typedef struct {
    int rc;
    char id[RU_CMD_MAX_ID + 1];
    char err[1024];
    char file[640];
    double took;
    media_srv_t srv;
} outcome_t;

/*  Runs ru_cmd_media_upload with standard error in a file, read into
 *  o->err afterwards. */
static void
upload_quoted(outcome_t *o, home_t *h, long wait_s)
{
    ru_ctx_t ctx;
    ru_attach_t a = {h->file, NULL};
    char path[700];
    (void) snprintf(path, sizeof path, "%s/stderr", h->dir);
    (void) fflush(stderr);
    int saved = dup(STDERR_FILENO), fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    ru_ctx_init(&ctx, stdout);
    ctx.server_opt = o->srv.server;
    double t0 = now_s();
    o->rc = ru_cmd_media_upload(&ctx, &a, wait_s, o->id);
    o->took = now_s() - t0;
    ru_ctx_fini(&ctx);
    (void) fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    ssize_t n = pread(fd, o->err, sizeof o->err - 1, 0);
    o->err[n > 0 ? n : 0] = '\0';
    close(fd);
    (void) unlink(path);
}

static void
run_case(outcome_t *o, const char *upload_reply, int processing, const char *last_reply,
         long wait_s)
{
    home_t h;
    memset(o, 0, sizeof *o);
    srv_start(&o->srv, upload_reply, processing, last_reply);
    home_make(&h, o->srv.server);
    (void) snprintf(o->file, sizeof o->file, "%s", h.file);
    upload_quoted(o, &h, wait_s);
    srv_stop(&o->srv);
    home_remove(&h);
}

static void
test_deadline(void **state)
{
    (void) state;
    outcome_t o;
    run_case(&o, s_202, 1000, s_206, 1);
    assert_int_equal(o.rc, RU_EXIT_FAIL);
    /* polls at about 0, 0.25, 0.75 and 1.75 s: the last one is past the wait */
    assert_true(o.took >= 1.0 && o.took < 3.0);
    assert_in_range(o.srv.polls, 3, 5);
    char expect[800];
    (void) snprintf(expect, sizeof expect,
                    "ruche: still processing after 1 s (--wait SECONDS)\n"
                    "ruche: %s was not attached; nothing was posted\n",
                    o.file);
    assert_string_equal(o.err, expect); /* and no progress: stderr is no terminal */
}

static void
test_pauses_then_ready(void **state)
{
    (void) state;
    outcome_t o;
    run_case(&o, s_202, 3, s_200_ready, 60);
    assert_int_equal(o.rc, RU_EXIT_OK);
    assert_string_equal(o.id, "m1");
    assert_string_equal(o.err, "");
    assert_int_equal(o.srv.polls, 4);
    /* 250 ms, then 500, then 1000: each pause at least that */
    const double *at = o.srv.poll_at;
    assert_true(at[1] - at[0] >= 0.24 && at[2] - at[1] >= 0.49 && at[3] - at[2] >= 0.99);
}

static void
test_refused_while_waiting(void **state)
{
    (void) state;
    outcome_t o;
    run_case(&o, s_202, 1, s_422, 60);
    assert_int_equal(o.rc, RU_EXIT_FAIL);
    assert_int_equal(o.srv.polls, 2);
    assert_non_null(strstr(o.err, "ruche: the image is damaged (HTTP 422)\n"));
    assert_non_null(strstr(o.err, "was not attached; nothing was posted"));
}

static void
test_ready_at_once(void **state)
{
    (void) state;
    outcome_t o;
    run_case(&o, s_200_ready, 0, s_206, 60);
    assert_int_equal(o.rc, RU_EXIT_OK);
    assert_string_equal(o.id, "m1");
    assert_int_equal(o.srv.polls, 0);
    assert_string_equal(o.err, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_pauses_then_ready),
        cmocka_unit_test(test_refused_while_waiting),
        cmocka_unit_test(test_ready_at_once),
    };
    if (ru_client_global_init() != RU_OK) /* libcurl and libsodium */
        return 1;
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    ru_client_global_fini();
    return failed;
}
