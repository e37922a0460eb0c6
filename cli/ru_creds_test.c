/*  ru_creds_test.c - the saved login: where it lives, the modes of the file
 *  and its directory, the atomic save, and the files it refuses to load.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ru_creds.h"
#include "testdir.h"

typedef struct {
    char base[512]; /* plays $XDG_CONFIG_HOME */
    char dir[600];  /* base/ruche */
    char path[700]; /* base/ruche/credentials.json */
} fixture_t;

static int
setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (f == NULL || testdir_make(f->base, sizeof f->base) != 0)
        return -1;
    (void) snprintf(f->dir, sizeof f->dir, "%s/ruche", f->base);
    (void) snprintf(f->path, sizeof f->path, "%s/credentials.json", f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t *f = *state;
    testdir_remove(f->dir);
    testdir_remove(f->base);
    free(f);
    return 0;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    assert_int_equal(fputs(text, out) >= 0, 1);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static mode_t
mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

/*  Files in dir, "." and ".." not counted. */
static int
count_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void
test_path(void **state)
{
    (void) state;
    char *path;
    setenv("XDG_CONFIG_HOME", "/x/config", 1);
    setenv("HOME", "/home/u", 1);
    assert_int_equal(ru_creds_path(&path), RU_OK);
    assert_string_equal(path, "/x/config/ruche/credentials.json");
    free(path);
    setenv("XDG_CONFIG_HOME", "relative", 1); /* the spec says: ignore it */
    assert_int_equal(ru_creds_path(&path), RU_OK);
    assert_string_equal(path, "/home/u/.config/ruche/credentials.json");
    free(path);
    unsetenv("XDG_CONFIG_HOME");
    unsetenv("HOME");
    assert_int_equal(ru_creds_path(&path), RU_E_NOT_FOUND);
    assert_null(path);
}

static void
test_token_rules(void **state)
{
    (void) state;
    ru_creds_t c;
    char long_token[RU_CREDS_MAX_TOKEN + 2];
    memset(long_token, 'a', sizeof long_token - 1);
    long_token[sizeof long_token - 1] = '\0';
    static const char *const bad[] = {"", "has space", "line\nbreak", "tab\t", "caf\xC3\xA9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ru_creds_init(&c, "http://h", "u", bad[i]), RU_E_INVALID);
    assert_int_equal(ru_creds_init(&c, "http://h", "u", long_token), RU_E_INVALID);
    long_token[RU_CREDS_MAX_TOKEN] = '\0';
    assert_int_equal(ru_creds_init(&c, "http://h", "u", long_token), RU_OK);
    ru_creds_fini(&c);
    ru_creds_fini(&c); /* idempotent */
}

static void
test_save_load(void **state)
{
    fixture_t *f = *state;
    ru_creds_t c, back;
    assert_int_equal(ru_creds_init(&c, "http://127.0.0.1:8080", "alice", "tok-EN_1.~+/="), RU_OK);
    assert_int_equal(ru_creds_save(&c, f->path), RU_OK);
    assert_int_equal(mode_of(f->dir), 0700);
    assert_int_equal(mode_of(f->path), 0600);
    assert_int_equal(count_files(f->dir), 1); /* no temporary file left */
    assert_int_equal(ru_creds_load(&back, f->path), RU_OK);
    assert_string_equal(back.server, "http://127.0.0.1:8080");
    assert_string_equal(back.username, "alice");
    assert_string_equal(back.token, "tok-EN_1.~+/=");
    ru_creds_fini(&back);
    ru_creds_fini(&c);

    /* a second save replaces the file, keeps the modes */
    assert_int_equal(ru_creds_init(&c, "https://other", "bob", "t2"), RU_OK);
    assert_int_equal(ru_creds_save(&c, f->path), RU_OK);
    ru_creds_fini(&c);
    assert_int_equal(mode_of(f->path), 0600);
    assert_int_equal(count_files(f->dir), 1);
    assert_int_equal(ru_creds_load(&back, f->path), RU_OK);
    assert_string_equal(back.username, "bob");
    ru_creds_fini(&back);

    assert_int_equal(ru_creds_remove(f->path), RU_OK);
    assert_int_equal(ru_creds_remove(f->path), RU_E_NOT_FOUND);
    assert_int_equal(ru_creds_load(&back, f->path), RU_E_NOT_FOUND);
}

static void
test_open_directory_is_tightened(void **state)
{
    fixture_t *f = *state;
    ru_creds_t c;
    assert_int_equal(mkdir(f->dir, 0755), 0);
    assert_int_equal(chmod(f->dir, 0755), 0);
    assert_int_equal(ru_creds_init(&c, "http://h", "u", "t"), RU_OK);
    assert_int_equal(ru_creds_save(&c, f->path), RU_OK);
    ru_creds_fini(&c);
    assert_int_equal(mode_of(f->dir), 0700);
}

static void
test_refused_files(void **state)
{
    fixture_t *f = *state;
    ru_creds_t c;
    assert_int_equal(mkdir(f->dir, 0700), 0);
    static const char good[] =
        "{\"server\":\"http://h\",\"username\":\"u\",\"access_token\":\"t\"}";
    write_file(f->path, good, 0644);
    assert_int_equal(ru_creds_load(&c, f->path), RU_E_KEY_MODE);
    assert_null(c.token);
    assert_int_equal(chmod(f->path, 0660), 0);
    assert_int_equal(ru_creds_load(&c, f->path), RU_E_KEY_MODE);
    static const char *const malformed[] = {
        "",
        "{\"server\":\"http://h\",\"username\":\"u\"",
        "[1, 2]",
        "{\"server\":\"http://h\",\"username\":\"u\"}",
        "{\"server\":\"http://h\",\"username\":\"u\",\"access_token\":5}",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        write_file(f->path, malformed[i], 0600);
        assert_int_equal(ru_creds_load(&c, f->path), RU_E_TYPE);
    }
    write_file(f->path, "{\"server\":\"h\",\"username\":\"u\",\"access_token\":\"a b\"}", 0600);
    assert_int_equal(ru_creds_load(&c, f->path), RU_E_INVALID);

    char *big = malloc(RU_CREDS_MAX_FILE + 2);
    assert_non_null(big);
    memset(big, ' ', RU_CREDS_MAX_FILE + 1);
    big[RU_CREDS_MAX_FILE + 1] = '\0';
    write_file(f->path, big, 0600);
    free(big);
    assert_int_equal(ru_creds_load(&c, f->path), RU_E_TOO_BIG);
}

static void
test_not_regular_files(void **state)
{
    fixture_t *f = *state;
    ru_creds_t c;
    static const char good[] =
        "{\"server\":\"http://h\",\"username\":\"u\",\"access_token\":\"t\"}";
    assert_int_equal(mkdir(f->dir, 0700), 0);
    /* a symbolic link is not followed, a directory is not a file */
    char target[800];
    (void) snprintf(target, sizeof target, "%s/real.json", f->dir);
    write_file(target, good, 0600);
    assert_int_equal(symlink(target, f->path), 0);
    assert_int_equal(ru_creds_load(&c, f->path), RU_E_IO);
    assert_int_equal(unlink(f->path), 0);
    assert_int_equal(unlink(target), 0);
    assert_int_equal(mkdir(f->path, 0700), 0);
    assert_int_equal(ru_creds_load(&c, f->path), RU_E_IO);
    assert_int_equal(rmdir(f->path), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path),
        cmocka_unit_test(test_token_rules),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_directory_is_tightened, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_regular_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
