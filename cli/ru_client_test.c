/*  ru_client_test.c - the HTTP client against a fake server on loopback that
 *  answers each test with bytes chosen by the test: the request the client
 *  sends (method, path, headers, body; an upload's multipart body read by
 *  the node's own parser), replies that are errors, not JSON, cut short,
 *  too large, redirects, or never come.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ru_client.h"
#include "ru_multipart.h"
#include "testnet.h"

typedef enum {
    FAKE_REPLY,  /* send the reply, close */
    FAKE_SILENT, /* read the request, answer nothing until the client leaves */
    FAKE_FLOOD   /* send the reply's headers, then body bytes without end */
} fake_mode;

typedef struct {
    int listen_fd;
    int port;
    pthread_t thread;
    fake_mode mode;
    const char *reply;
    char request[16384]; /* what the client sent */
    size_t request_len;
} fake_t;

/*  Finds needle in haystack, ignoring case. */
static const char *
find_ci(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (; *haystack != '\0'; haystack++)
        if (strncasecmp(haystack, needle, n) == 0)
            return haystack;
    return NULL;
}

/*  Reads one request (headers and a Content-Length body) into f->request. */
static void
fake_read_request(fake_t *f, int fd)
{
    size_t want = 0;
    for (;;) {
        ssize_t n =
            recv(fd, f->request + f->request_len, sizeof f->request - 1 - f->request_len, 0);
        if (n <= 0)
            return;
        f->request_len += (size_t) n;
        f->request[f->request_len] = '\0';
        char *end = strstr(f->request, "\r\n\r\n");
        if (end == NULL)
            continue;
        const char *cl = find_ci(f->request, "\r\ncontent-length:");
        if (cl != NULL && cl < end)
            want = strtoul(cl + 17, NULL, 10);
        if (f->request_len >= (size_t) (end + 4 - f->request) + want)
            return;
    }
}

static void *
fake_run(void *arg)
{
    fake_t *f = arg;
    int fd = accept(f->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    fake_read_request(f, fd);
    char junk[4096];
    if (f->mode == FAKE_SILENT) {
        while (recv(fd, junk, sizeof junk, 0) > 0)
            ;
    } else {
        (void) send(fd, f->reply, strlen(f->reply), MSG_NOSIGNAL);
        memset(junk, '7', sizeof junk);
        while (f->mode == FAKE_FLOOD && send(fd, junk, sizeof junk, MSG_NOSIGNAL) > 0)
            ;
    }
    close(fd);
    return NULL;
}

static void
fake_start(fake_t *f, fake_mode mode, const char *reply)
{
    memset(f, 0, sizeof *f);
    f->listen_fd = testnet_listen(1, &f->port);
    assert_true(f->listen_fd >= 0);
    f->mode = mode;
    f->reply = reply;
    assert_int_equal(pthread_create(&f->thread, NULL, fake_run, f), 0);
}

static void
fake_stop(fake_t *f)
{
    assert_int_equal(pthread_join(f->thread, NULL), 0);
    close(f->listen_fd);
}

/*  A client of the fake server. */
static ru_client_t *
client_of(const fake_t *f)
{
    char server[64];
    (void) snprintf(server, sizeof server, "http://127.0.0.1:%d", f->port);
    ru_client_t *c = ru_client_new(server);
    assert_non_null(c);
    return c;
}

/*  Runs one GET against a fake server replying with reply; the client's
 *  message goes to error (size bytes). The client is gone before the
 *  server is stopped, so a server still writing or waiting sees it leave. */
static ru_err
exchange(fake_mode mode, const char *reply, ru_reply_t *out, char *error, size_t size)
{
    fake_t f;
    fake_start(&f, mode, reply);
    ru_client_t *c = client_of(&f);
    memset(out, 0, sizeof *out);
    ru_err e = ru_client_call(c, "GET", "/x", NULL, out);
    (void) snprintf(error, size, "%s", ru_client_error(c));
    ru_client_destroy(&c);
    fake_stop(&f);
    return e;
}

static void
test_request_and_reply(void **state)
{
    (void) state;
    fake_t f;
    fake_start(&f, FAKE_REPLY,
               "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
               "Link: <http://h/api/v1/timelines/home?max_id=5>; rel=\"next\"\r\n"
               "Content-Length: 24\r\n\r\n{\"id\": \"9\", \"ok\": true}\n");
    ru_client_t *c = client_of(&f);
    assert_int_equal(ru_client_set_token(c, "s3cret-token"), RU_OK);
    json_t *body = json_pack("{s:s}", "status", "héllo \"you\"");
    ru_reply_t r = {0};
    assert_int_equal(ru_client_call(c, "POST", "/api/v1/statuses", body, &r), RU_OK);
    fake_stop(&f);
    assert_int_equal(r.status, 200);
    assert_true(json_is_object(r.json));
    assert_string_equal(json_string_value(json_object_get(r.json, "id")), "9");
    assert_string_equal(r.link, "<http://h/api/v1/timelines/home?max_id=5>; rel=\"next\"");
    assert_non_null(strstr(f.request, "POST /api/v1/statuses HTTP/1.1\r\n"));
    assert_non_null(find_ci(f.request, "\r\nContent-Type: application/json\r\n"));
    assert_non_null(find_ci(f.request, "\r\nAccept: application/json\r\n"));
    assert_non_null(strstr(f.request, "\r\nAuthorization: Bearer s3cret-token\r\n"));
    assert_non_null(strstr(f.request, "\r\n\r\n{\"status\":\"héllo \\\"you\\\"\"}"));
    json_decref(body);
    ru_reply_fini(&r);
    assert_null(r.json);
    ru_client_destroy(&c);
    assert_null(c);
}

/*  Uploads the file at path as name with description (may be NULL) to a
 *  fake server answering 202, and parses the body it received with the
 *  node's own parser into mp (the request's copy is kept in f). */
static void
upload(fake_t *f, const char *path, const char *name, const char *description, ru_multipart_t *mp)
{
    fake_start(f, FAKE_REPLY,
               "HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 41\r\n\r\n"
               "{\"id\": \"7\", \"type\": \"image\", \"url\": null}");
    ru_client_t *c = client_of(f);
    assert_int_equal(ru_client_set_token(c, "s3cret-token"), RU_OK);
    ru_reply_t r = {0};
    assert_int_equal(ru_client_upload(c, "/api/v2/media", path, name, description, &r), RU_OK);
    fake_stop(f);
    assert_int_equal(r.status, 202);
    assert_string_equal(json_string_value(json_object_get(r.json, "id")), "7");
    ru_reply_fini(&r);
    ru_client_destroy(&c);
    assert_non_null(strstr(f->request, "POST /api/v2/media HTTP/1.1\r\n"));
    assert_non_null(strstr(f->request, "\r\nAuthorization: Bearer s3cret-token\r\n"));
    const char *type = find_ci(f->request, "\r\nContent-Type: multipart/form-data; boundary=");
    const char *body = strstr(f->request, "\r\n\r\n");
    assert_non_null(type);
    assert_non_null(body);
    char ctype[256];
    (void) snprintf(ctype, sizeof ctype, "%.*s", (int) strcspn(type + 16, "\r"), type + 16);
    body += 4;
    static const ru_multipart_limits_t limits = {16, 8192, 16};
    char why[256];
    assert_int_equal(ru_multipart_parse(mp, ctype, body,
                                        f->request_len - (size_t) (body - f->request), &limits, why,
                                        sizeof why),
                     RU_OK);
}

/*  An upload is a multipart/form-data body as the node's parser reads it:
 *  the file's bytes as they are, NUL and CRLFs included, under the name
 *  given, and the description when there is one. */
static void
test_upload(void **state)
{
    (void) state;
    static const char bytes[] = "\x89PNG\r\n\x1a\n\0--x\r\n--";
    char path[] = "/tmp/ru_client_test.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, sizeof bytes - 1), (ssize_t) sizeof bytes - 1);
    close(fd);
    fake_t f;
    ru_multipart_t mp;
    upload(&f, path, "cat photo.png", "A cat, \"asleep\"", &mp);
    const ru_multipart_part_t *file = ru_multipart_get(&mp, "file");
    assert_non_null(file);
    assert_string_equal(file->filename, "cat photo.png");
    assert_int_equal(file->len, sizeof bytes - 1);
    assert_memory_equal(file->data, bytes, sizeof bytes - 1);
    const ru_multipart_part_t *desc = ru_multipart_get(&mp, "description");
    assert_non_null(desc);
    assert_int_equal(desc->len, strlen("A cat, \"asleep\""));
    assert_memory_equal(desc->data, "A cat, \"asleep\"", desc->len);
    assert_int_equal(mp.n, 2);
    ru_multipart_fini(&mp);
    upload(&f, path, "x.bin", NULL, &mp);
    assert_int_equal(mp.n, 1);
    assert_non_null(ru_multipart_get(&mp, "file"));
    ru_multipart_fini(&mp);
    unlink(path);
}

static void
test_plain_get_and_methods(void **state)
{
    (void) state;
    static const char ok[] = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n[]";
    static const char *const methods[] = {"GET", "DELETE", "PUT", "POST"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        fake_t f;
        fake_start(&f, FAKE_REPLY, ok);
        ru_client_t *c = client_of(&f);
        ru_reply_t r = {0};
        assert_int_equal(ru_client_call(c, methods[i], "/api/v1/x?limit=2", NULL, &r), RU_OK);
        fake_stop(&f);
        char line[64];
        (void) snprintf(line, sizeof line, "%s /api/v1/x?limit=2 HTTP/1.1\r\n", methods[i]);
        assert_memory_equal(f.request, line, strlen(line));
        assert_null(find_ci(f.request, "Authorization:"));
        assert_null(find_ci(f.request, "Content-Type:"));
        assert_true(json_is_array(r.json));
        assert_null(r.link);
        ru_reply_fini(&r);
        ru_client_destroy(&c);
    }
}

static void
test_error_replies(void **state)
{
    (void) state;
    static const struct {
        const char *reply;
        long status;
        const char *message; /* what ru_reply_message gives */
    } cases[] = {
        {"HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 32\r\n\r\n"
         "{\"error\": \"not your status, no\"}",
         403, "not your status, no"},
        {"HTTP/1.1 400 Bad\r\nConnection: close\r\nContent-Length: 65\r\n\r\n"
         "{\"error\": \"invalid_grant\", \"error_description\": \"wrong password\"}",
         400, "wrong password"},
        /* an error page from a proxy: the status is what counts */
        {"HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 14\r\n\r\n"
         "<html>x</html>",
         502, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char error[512];
        ru_reply_t r;
        assert_int_equal(exchange(FAKE_REPLY, cases[i].reply, &r, error, sizeof error), RU_OK);
        assert_int_equal(r.status, cases[i].status);
        if (cases[i].message != NULL)
            assert_string_equal(ru_reply_message(&r), cases[i].message);
        else
            assert_null(ru_reply_message(&r));
        ru_reply_fini(&r);
    }
}

static void
test_empty_reply(void **state)
{
    (void) state;
    char error[512];
    ru_reply_t r;
    assert_int_equal(exchange(FAKE_REPLY, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
                              &r, error, sizeof error),
                     RU_OK);
    assert_int_equal(r.status, 204);
    assert_null(r.json);
    ru_reply_fini(&r);
}

/*  Runs one exchange that must fail with err and a message holding what. */
static void
check_failure(fake_mode mode, const char *reply, ru_err err, const char *what)
{
    char error[512];
    ru_reply_t r;
    assert_int_equal(exchange(mode, reply, &r, error, sizeof error), err);
    if (strstr(error, what) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", error, what);
    assert_null(r.json);
    ru_reply_fini(&r);
}

static void
test_unreadable_replies(void **state)
{
    (void) state;
    check_failure(FAKE_REPLY,
                  "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 9\r\n\r\n<html>hi!",
                  RU_E_TYPE, "is not JSON");
    check_failure(FAKE_REPLY,
                  "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 9\r\n\r\n{\"id\": \"1",
                  RU_E_TRUNCATED, "cut short");
    check_failure(FAKE_REPLY, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n[{\"id\": 1}, {",
                  RU_E_TRUNCATED, "cut short");
    check_failure(FAKE_REPLY,
                  "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 100\r\n\r\n{\"id\": 1",
                  RU_E_IO, "failed");
    check_failure(FAKE_REPLY,
                  "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\n\"x\"",
                  RU_E_TYPE, "is not JSON");
    check_failure(FAKE_REPLY, "garbage\r\n\r\n", RU_E_IO, "failed");
    check_failure(FAKE_REPLY, "", RU_E_IO, "failed");
}

static void
test_redirect_not_followed(void **state)
{
    (void) state;
    check_failure(FAKE_REPLY,
                  "HTTP/1.1 302 Found\r\nLocation: http://elsewhere.invalid/\r\n"
                  "Connection: close\r\nContent-Length: 0\r\n\r\n",
                  RU_E_IO, "redirect");
}

static void
test_too_big(void **state)
{
    (void) state;
    check_failure(FAKE_FLOOD, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n[", RU_E_TOO_BIG,
                  "larger than");
}

static void
test_timeout(void **state)
{
    (void) state;
    fake_t f;
    fake_start(&f, FAKE_SILENT, NULL);
    ru_client_t *c = client_of(&f);
    ru_client_set_timeouts(c, 1000, 300);
    ru_reply_t r = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(ru_client_call(c, "GET", "/slow", NULL, &r), RU_E_IO);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ru_client_destroy(&c); /* closes the connection: the fake server ends */
    fake_stop(&f);
    double took = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(took >= 0.25 && took < 10.0);
    assert_int_equal(r.status, 0);
    ru_reply_fini(&r);
}

static void
test_no_server(void **state)
{
    (void) state;
    /* a port that was just free: nothing listens there */
    int port, fd = testnet_listen(1, &port);
    assert_true(fd >= 0);
    close(fd);
    char server[64];
    (void) snprintf(server, sizeof server, "http://127.0.0.1:%d", port);
    ru_client_t *c = ru_client_new(server);
    ru_reply_t r = {0};
    assert_int_equal(ru_client_set_token(c, "never-shown"), RU_OK);
    assert_int_equal(ru_client_call(c, "GET", "/", NULL, &r), RU_E_IO);
    assert_non_null(strstr(ru_client_error(c), server));
    assert_null(strstr(ru_client_error(c), "never-shown"));
    assert_int_equal(r.status, 0);
    ru_reply_fini(&r);
    ru_client_destroy(&c);
}

static int
global_setup(void **state)
{
    (void) state;
    return ru_client_global_init() == RU_OK ? 0 : -1;
}

static int
global_teardown(void **state)
{
    (void) state;
    ru_client_global_fini();
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_and_reply),
        cmocka_unit_test(test_upload),
        cmocka_unit_test(test_plain_get_and_methods),
        cmocka_unit_test(test_error_replies),
        cmocka_unit_test(test_empty_reply),
        cmocka_unit_test(test_unreadable_replies),
        cmocka_unit_test(test_redirect_not_followed),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_no_server),
    };
    return cmocka_run_group_tests(tests, global_setup, global_teardown);
}
