/*  ru_keyfile_test.c - the node key file: creation, modes, refusal to
 *  overwrite, and the strict loader (mode, symlink, non-regular file and
 *  every malformed content it must refuse). Each test runs in a fresh
 *  directory made with mkdtemp and removed afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ru_keyfile.h"
#include "ru_log.h"

#define HEADER "ruche-node-key-v1 "
#define LINE_LEN 62 /* header, 43 characters of seed, newline */

struct fixture {
    char dir[512];
    char key[600]; /* DIR/node.key */
    char pub[600]; /* DIR/node.pub */
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    const char *tmp = getenv("TMPDIR");
    if (!f)
        return -1;
    (void) snprintf(f->dir, sizeof f->dir, "%s/ru_keyfile_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir))
        return -1;
    (void) snprintf(f->key, sizeof f->key, "%s/node.key", f->dir);
    (void) snprintf(f->pub, sizeof f->pub, "%s/node.pub", f->dir);
    *state = f;
    return 0;
}

/*  Removes every entry of the test directory (files, links, one level of
 *  directories), then the directory. */
static int
teardown(void **state)
{
    struct fixture *f = *state;
    DIR *d = opendir(f->dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            if (unlinkat(dirfd(d), e->d_name, 0) != 0)
                unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
        }
        closedir(d);
    }
    int rc = rmdir(f->dir);
    free(f);
    return rc;
}

/*  Writes len bytes to path with the given mode. */
static void
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t) len);
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
}

/*  Reads a whole (small) file into buf; returns its length. */
static size_t
read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, cap);
    assert_true(n >= 0 && (size_t) n < cap);
    close(fd);
    return (size_t) n;
}

static mode_t
mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

/*  A valid key file line for a seed of 32 bytes of value fill. */
static void
valid_line(char line[64], uint8_t fill)
{
    uint8_t seed[RU_SEED_BYTES];
    memset(seed, fill, sizeof seed);
    (void) snprintf(line, 64, "%s", HEADER);
    ru_b64_encode(line + strlen(HEADER), seed, sizeof seed);
    memcpy(line + LINE_LEN - 1, "\n", 2);
}

static void
test_create_then_load(void **state)
{
    struct fixture *f = *state;
    ru_key_t *made = NULL, *loaded = NULL;
    assert_int_equal(ru_keyfile_create(f->dir, &made), RU_OK);
    assert_int_equal(ru_keyfile_load(f->dir, &loaded), RU_OK);
    assert_memory_equal(ru_key_public(made), ru_key_public(loaded), RU_KEY_BYTES);
    assert_memory_equal(ru_key_seed(made), ru_key_seed(loaded), RU_SEED_BYTES);

    char text[RU_KEY_TEXT_SIZE], pub[128];
    ru_keyfile_public_text(made, text);
    assert_int_equal(strlen(text), RU_KEY_TEXT_LEN);
    size_t n = read_file(f->pub, pub, sizeof pub);
    assert_int_equal(n, RU_KEY_TEXT_LEN + 1);
    assert_memory_equal(pub, text, RU_KEY_TEXT_LEN);
    assert_int_equal(pub[RU_KEY_TEXT_LEN], '\n');
    ru_key_destroy(&made);
    ru_key_destroy(&loaded);
    assert_null(made);
}

/*  The modes hold whatever the umask: 0600 for the key, 0644 for node.pub. */
static void
test_modes(void **state)
{
    struct fixture *f = *state;
    ru_key_t *key = NULL;
    mode_t old = umask(0077);
    ru_err err = ru_keyfile_create(f->dir, &key);
    umask(old);
    assert_int_equal(err, RU_OK);
    assert_int_equal(mode_of(f->key), 0600);
    assert_int_equal(mode_of(f->pub), 0644);
    ru_key_destroy(&key);
}

static void
test_known_seed(void **state)
{
    struct fixture *f = *state;
    char line[64];
    uint8_t seed[RU_SEED_BYTES];
    ru_key_t *expect = NULL, *loaded = NULL;
    valid_line(line, 0x5a);
    memset(seed, 0x5a, sizeof seed);
    write_file(f->key, line, strlen(line), 0600);
    assert_int_equal(ru_key_from_seed(seed, &expect), RU_OK);
    assert_int_equal(ru_keyfile_load(f->dir, &loaded), RU_OK);
    assert_memory_equal(ru_key_public(expect), ru_key_public(loaded), RU_KEY_BYTES);
    ru_key_destroy(&expect);
    ru_key_destroy(&loaded);
}

static void
test_create_refuses_overwrite(void **state)
{
    struct fixture *f = *state;
    ru_key_t *first = NULL, *second = (ru_key_t *) f; /* must come back NULL */
    char before[128], after[128];
    assert_int_equal(ru_keyfile_create(f->dir, &first), RU_OK);
    size_t n = read_file(f->key, before, sizeof before);
    assert_int_equal(ru_keyfile_create(f->dir, &second), RU_E_EXISTS);
    assert_null(second);
    assert_int_equal(read_file(f->key, after, sizeof after), n);
    assert_memory_equal(before, after, n);
    assert_int_equal(mode_of(f->key), 0600);
    ru_key_destroy(&first);
}

/*  An existing file of any content is neither truncated nor replaced. */
static void
test_create_keeps_foreign_file(void **state)
{
    struct fixture *f = *state;
    ru_key_t *key = NULL;
    char buf[64];
    write_file(f->key, "precious\n", 9, 0640);
    assert_int_equal(ru_keyfile_create(f->dir, &key), RU_E_EXISTS);
    assert_int_equal(read_file(f->key, buf, sizeof buf), 9);
    assert_memory_equal(buf, "precious\n", 9);
    assert_int_equal(mode_of(f->key), 0640);
    assert_int_equal(access(f->pub, F_OK), -1); /* nothing new was left */
}

/*  A symlink in place of node.key is not followed, even a dangling one. */
static void
test_create_refuses_symlink(void **state)
{
    struct fixture *f = *state;
    ru_key_t *key = NULL;
    char target[600];
    (void) snprintf(target, sizeof target, "%s/elsewhere", f->dir);
    assert_int_equal(symlink(target, f->key), 0);
    assert_int_equal(ru_keyfile_create(f->dir, &key), RU_E_EXISTS);
    assert_int_equal(access(target, F_OK), -1);
    assert_null(key);
}

static void
test_create_missing_dir(void **state)
{
    struct fixture *f = *state;
    ru_key_t *key = NULL;
    char dir[600];
    (void) snprintf(dir, sizeof dir, "%s/absent", f->dir);
    assert_int_equal(ru_keyfile_create(dir, &key), RU_E_NOT_FOUND);
    assert_null(key);
}

static void
test_load_refuses_modes(void **state)
{
    struct fixture *f = *state;
    static const mode_t bad[] = {0640, 0604, 0620, 0602, 0644, 0660, 0666, 0610, 0601};
    char line[64];
    valid_line(line, 1);
    write_file(f->key, line, strlen(line), 0600);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ru_key_t *key = NULL;
        assert_int_equal(chmod(f->key, bad[i]), 0);
        assert_int_equal(ru_keyfile_load(f->dir, &key), RU_E_KEY_MODE);
        assert_null(key);
    }
    ru_key_t *key = NULL;
    assert_int_equal(chmod(f->key, 0400), 0); /* read-only for its owner is fine */
    assert_int_equal(ru_keyfile_load(f->dir, &key), RU_OK);
    ru_key_destroy(&key);
}

static void
test_load_refuses_symlink(void **state)
{
    struct fixture *f = *state;
    ru_key_t *key = NULL;
    char real[600];
    assert_int_equal(ru_keyfile_create(f->dir, &key), RU_OK);
    ru_key_destroy(&key);
    (void) snprintf(real, sizeof real, "%s/real.key", f->dir);
    assert_int_equal(rename(f->key, real), 0);
    assert_int_equal(symlink("real.key", f->key), 0);
    assert_int_equal(ru_keyfile_load(f->dir, &key), RU_E_KEY_FILE);
    assert_null(key);
}

/*  A directory or a FIFO named node.key; the FIFO must not block. */
static void
test_load_refuses_non_regular(void **state)
{
    struct fixture *f = *state;
    ru_key_t *key = NULL;
    assert_int_equal(mkdir(f->key, 0700), 0);
    assert_int_equal(ru_keyfile_load(f->dir, &key), RU_E_KEY_FILE);
    assert_int_equal(rmdir(f->key), 0);
    assert_int_equal(mkfifo(f->key, 0600), 0);
    assert_int_equal(ru_keyfile_load(f->dir, &key), RU_E_KEY_FILE);
    assert_null(key);
}

/*  Each case patches a valid 62-byte line at offset at, then keeps its
 *  first len bytes. */
static void
test_load_refuses_malformed(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *what;
        size_t at;
        const char *patch;
        size_t len;
    } cases[] = {
        {"empty", 0, "", 0},
        {"truncated", 0, "", 30},
        {"no newline", 0, "", LINE_LEN - 1},
        {"garbage", 0, "this is not a key file, only some text\n", 39},
        {"wrong header", 16, "2", LINE_LEN},
        {"no space after header", 17, "-", LINE_LEN},
        {"seed too short", LINE_LEN - 2, "\n", LINE_LEN - 1},
        {"seed too long", LINE_LEN - 1, "A\n", LINE_LEN + 1},
        {"trailing junk", LINE_LEN, "x\n", LINE_LEN + 2},
        {"blank line after", LINE_LEN, "\n", LINE_LEN + 1},
        {"CRLF", LINE_LEN - 1, "\r\n", LINE_LEN + 1},
        {"not base64url", 20, "+", LINE_LEN},
        /* seed 0x07...: the last character is 'c'; 'd' sets a stray low bit */
        {"non-canonical seed", LINE_LEN - 2, "d", LINE_LEN},
    };
    char good[64], bad[128];
    valid_line(good, 7);
    assert_int_equal(strlen(good), LINE_LEN);
    assert_int_equal(good[LINE_LEN - 2], 'c');
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ru_key_t *key = NULL;
        memcpy(bad, good, LINE_LEN);
        memcpy(bad + cases[i].at, cases[i].patch, strlen(cases[i].patch));
        write_file(f->key, bad, cases[i].len, 0600);
        print_message("case: %s\n", cases[i].what);
        assert_int_equal(ru_keyfile_load(f->dir, &key), RU_E_KEY_FILE);
        assert_null(key);
    }
}

static void
test_load_missing(void **state)
{
    struct fixture *f = *state;
    ru_key_t *key = NULL;
    char dir[600];
    assert_int_equal(ru_keyfile_load(f->dir, &key), RU_E_NOT_FOUND);
    (void) snprintf(dir, sizeof dir, "%s/absent", f->dir);
    assert_int_equal(ru_keyfile_load(dir, &key), RU_E_NOT_FOUND);
    assert_null(key);
}

int
main(void)
{
    ru_log_set_level(RU_LOG_DEBUG);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_then_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_known_seed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_refuses_overwrite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_keeps_foreign_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_refuses_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_missing_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_refuses_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_refuses_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_refuses_non_regular, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_refuses_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_missing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
