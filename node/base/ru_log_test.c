/*  ru_log_test.c - the log line format, the level threshold and names, line
 *  flattening and cutting, and whole lines from concurrent threads. Standard
 *  error is pointed at a temporary file while a test logs, then read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ru_log.h"
#include "ruche/ru_text.h"

struct capture {
    char path[512];
    int saved; /* the real stderr */
};

static void
capture_start(struct capture *c)
{
    const char *tmp = getenv("TMPDIR");
    (void) snprintf(c->path, sizeof c->path, "%s/ru_log_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(c->path);
    assert_true(fd >= 0);
    close(fd);
    fd = open(c->path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    c->saved = dup(STDERR_FILENO);
    assert_true(c->saved >= 0);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    close(fd);
}

/*  Restores stderr and returns what was logged, NUL-terminated (free it). */
static char *
capture_stop(struct capture *c, size_t *len)
{
    struct stat st;
    assert_int_equal(dup2(c->saved, STDERR_FILENO), STDERR_FILENO);
    close(c->saved);
    int fd = open(c->path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    char *buf = malloc((size_t) st.st_size + 1);
    assert_non_null(buf);
    assert_int_equal(read(fd, buf, (size_t) st.st_size), st.st_size);
    buf[st.st_size] = '\0';
    close(fd);
    unlink(c->path);
    *len = (size_t) st.st_size;
    return buf;
}

static void
test_format(void **state)
{
    (void) state;
    struct capture c;
    size_t len;
    ru_log_set_level(RU_LOG_DEBUG);
    capture_start(&c);
    ru_log_info("keys", "wrote node key to %s", "/var/lib/ruche/node.key");
    ru_log_err("store", "%d failures", 3);
    ru_log_warn("repl", "peer %s is %u updates behind", "paris", 12u);
    ru_log_debug("http", "GET /");
    ru_log(RU_LOG_WARN, "x", "plain");
    char *out = capture_stop(&c, &len);
    assert_string_equal(out, "<6>keys: wrote node key to /var/lib/ruche/node.key\n"
                             "<3>store: 3 failures\n"
                             "<4>repl: peer paris is 12 updates behind\n"
                             "<7>http: GET /\n"
                             "<4>x: plain\n");
    free(out);
}

static void
test_threshold(void **state)
{
    (void) state;
    struct capture c;
    size_t len;
    ru_log_set_level(RU_LOG_WARN);
    assert_int_equal(ru_log_get_level(), RU_LOG_WARN);
    capture_start(&c);
    ru_log_debug("t", "dropped");
    ru_log_info("t", "dropped");
    ru_log_warn("t", "kept");
    ru_log_err("t", "kept too");
    char *out = capture_stop(&c, &len);
    assert_string_equal(out, "<4>t: kept\n<3>t: kept too\n");
    free(out);
    ru_log_set_level(RU_LOG_INFO);
}

static void
test_level_names(void **state)
{
    (void) state;
    static const char *const bad[] = {"", "ERROR", "err", "warning", "info ", "trace"};
    static const struct {
        const char *name;
        ru_log_level level;
    } good[] = {{"error", RU_LOG_ERR},
                {"warn", RU_LOG_WARN},
                {"info", RU_LOG_INFO},
                {"debug", RU_LOG_DEBUG}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ru_log_level level = RU_LOG_ERR;
        assert_int_equal(ru_log_level_parse(good[i].name, &level), RU_OK);
        assert_int_equal(level, good[i].level);
        assert_string_equal(ru_log_level_name(level), good[i].name);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ru_log_level level = RU_LOG_DEBUG;
        assert_int_equal(ru_log_level_parse(bad[i], &level), RU_E_INVALID);
        assert_int_equal(level, RU_LOG_DEBUG); /* unchanged */
    }
    ru_log_level level = RU_LOG_INFO;
    assert_int_equal(ru_log_level_parse(NULL, &level), RU_E_INVALID);
}

/*  Line breaks and control characters in a message cannot start a line. */
static void
test_flatten(void **state)
{
    (void) state;
    struct capture c;
    size_t len;
    capture_start(&c);
    ru_log_warn("peer", "name %s", "evil\n<3>forged: line\r\tend\x7f");
    char *out = capture_stop(&c, &len);
    assert_string_equal(out, "<4>peer: name evil <3>forged: line  end \n");
    free(out);
}

/*  A long message is cut, ends in "...", and is still valid UTF-8. */
static void
test_cut(void **state)
{
    (void) state;
    struct capture c;
    size_t len;
    size_t n = 3 * (size_t) RU_LOG_LINE_MAX;
    char *msg = malloc(n + 1);
    assert_non_null(msg);
    /* after "<6>c: ", two-byte characters start at even offsets; the cut
     * point (2043) falls inside one, so the cut must step back a byte */
    for (size_t i = 0; i + 1 < n; i += 2)
        memcpy(msg + i, "\xc3\xa9", 2);
    msg[n - 1] = '\0';
    capture_start(&c);
    ru_log_info("c", "%s", msg);
    ru_log_info("c", "after");
    char *out = capture_stop(&c, &len);
    char *nl = strchr(out, '\n');
    assert_non_null(nl);
    size_t line = (size_t) (nl - out) + 1;
    assert_true(line <= RU_LOG_LINE_MAX);
    assert_true(line > RU_LOG_LINE_MAX - 8);
    assert_memory_equal(nl - 3, "...", 3);
    assert_int_equal(ru_utf8_check(out, line, NULL), RU_OK);
    assert_string_equal(nl + 1, "<6>c: after\n");
    free(out);
    free(msg);
}

static void
test_keeps_errno(void **state)
{
    (void) state;
    struct capture c;
    size_t len;
    capture_start(&c);
    errno = ENOENT;
    ru_log_err("e", "x");
    assert_int_equal(errno, ENOENT);
    free(capture_stop(&c, &len));
}

#define THREADS 4
#define LINES 2000
#define PAD 300

static void *
log_lines(void *arg)
{
    int id = (int) (intptr_t) arg;
    char pad[PAD + 1];
    memset(pad, 'a' + id, PAD);
    pad[PAD] = '\0';
    for (int i = 0; i < LINES; i++)
        ru_log_info("thread", "%d %d %s", id, i, pad);
    return NULL;
}

/*  Checks one captured line of log_lines and counts it for its thread. */
static void
check_thread_line(const char *line, size_t len, int next[THREADS])
{
    int id = -1, i = -1, used = 0;
    assert_int_equal(sscanf(line, "<6>thread: %d %d %n", &id, &i, &used), 2);
    assert_true(id >= 0 && id < THREADS);
    assert_int_equal(i, next[id]); /* each thread's lines in order, none lost */
    assert_int_equal(len, (size_t) used + PAD);
    for (size_t k = (size_t) used; k < len; k++)
        assert_int_equal(line[k], 'a' + id);
    next[id]++;
}

static void
test_threads(void **state)
{
    (void) state;
    struct capture c;
    size_t len;
    pthread_t t[THREADS];
    capture_start(&c);
    for (int k = 0; k < THREADS; k++)
        assert_int_equal(pthread_create(&t[k], NULL, log_lines, (void *) (intptr_t) k), 0);
    for (int k = 0; k < THREADS; k++)
        assert_int_equal(pthread_join(t[k], NULL), 0);
    char *out = capture_stop(&c, &len);
    int next[THREADS] = {0};
    for (char *p = out, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
        check_thread_line(p, (size_t) (nl - p), next);
    for (int k = 0; k < THREADS; k++)
        assert_int_equal(next[k], LINES);
    assert_int_equal(out[len - 1], '\n');
    free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),      cmocka_unit_test(test_threshold),
        cmocka_unit_test(test_level_names), cmocka_unit_test(test_flatten),
        cmocka_unit_test(test_cut),         cmocka_unit_test(test_keeps_errno),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
