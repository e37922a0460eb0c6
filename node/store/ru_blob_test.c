/*  ru_blob_test.c - the blob files: the hash of known bytes (frozen
 *  BLAKE2b-256 of "" and "abc"), put and read back, the same bytes put
 *  twice stored once, the streaming writer (good and bad hashes, short and
 *  long streams, the max size, abort), leftovers of a crash removed at
 *  open, the bytes counted across puts, removes and reopening (and a
 *  removed file that was never counted not wrapping the count), the site's
 *  quota, hash text from a URL that could name a path outside blobs/, a
 *  write that fails part way (a file-size limit, and a full tmpfs where
 *  the machine lets a test mount one) leaving nothing behind, and 1,000
 *  blobs put by two threads at once counted exactly.
 */
#define _GNU_SOURCE /* unshare, nftw's FTW_PHYS */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ruche/ru_text.h"

#include "ru_blob.h"
#include "testdir.h"
#include "testrand.h"

#define KIB 1024u
#define MAX (16u * 1024u * 1024u) /* writers' max size where it does not matter */

static char s_dir[512];

static int
s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st, (void) flag, (void) ftw;
    return remove(path);
}

static int
s_setup(void **state)
{
    (void) state;
    umask(022);
    return testdir_make(s_dir, sizeof s_dir);
}

static int
s_teardown(void **state)
{
    (void) state;
    return nftw(s_dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static ru_blob_t *
s_open(uint64_t quota)
{
    ru_blob_t *blob;
    assert_int_equal(ru_blob_new(s_dir, quota, &blob), RU_OK);
    return blob;
}

/*  len pseudo-random bytes of seed. */
static uint8_t *
s_bytes(size_t len, uint64_t seed)
{
    uint8_t *b = malloc(len ? len : 1);
    assert_non_null(b);
    seed = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t) testrand(&seed, 256);
    return b;
}

static size_t s_nfiles;

static int
s_count_file(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) path, (void) st, (void) ftw;
    s_nfiles += flag == FTW_F;
    return 0;
}

/*  Files (not folders) under path: blobs and temporary files alike. */
static size_t
s_files(const char *sub)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/blobs%s", s_dir, sub);
    s_nfiles = 0;
    assert_int_equal(nftw(path, s_count_file, 16, FTW_PHYS), 0);
    return s_nfiles;
}

/*  The whole blob of hash, read back through ru_blob_open. */
static uint8_t *
s_read(ru_blob_t *blob, const uint8_t *hash, uint64_t *size)
{
    int fd;
    assert_int_equal(ru_blob_open(blob, hash, &fd, size), RU_OK);
    uint8_t *b = malloc(*size ? *size : 1);
    assert_non_null(b);
    assert_int_equal(pread(fd, b, *size, 0), (ssize_t) *size);
    close(fd);
    return b;
}

static void
s_hex(const uint8_t *hash, char *out)
{
    sodium_bin2hex(out, 2 * RU_HASH_BYTES + 1, hash, RU_HASH_BYTES);
}

static void
test_hash_of_known_bytes(void **state)
{
    (void) state;
    uint8_t hash[RU_HASH_BYTES];
    char hex[2 * RU_HASH_BYTES + 1];
    /* python3: hashlib.blake2b(b"", digest_size=32).hexdigest() */
    ru_blob_hash("", 0, hash);
    s_hex(hash, hex);
    assert_string_equal(hex, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
    /* python3: hashlib.blake2b(b"abc", digest_size=32).hexdigest() */
    ru_blob_hash("abc", 3, hash);
    s_hex(hash, hex);
    assert_string_equal(hex, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

static void
test_put_and_read_back(void **state)
{
    (void) state;
    ru_blob_t *blob = s_open(0);
    uint8_t *data = s_bytes(100 * KIB + 7, 1), hash[RU_HASH_BYTES], want[RU_HASH_BYTES];
    ru_blob_hash(data, 100 * KIB + 7, want);
    assert_false(ru_blob_has(blob, want));
    assert_int_equal(ru_blob_put(blob, data, 100 * KIB + 7, NULL, hash), RU_OK);
    assert_memory_equal(hash, want, RU_HASH_BYTES);
    assert_true(ru_blob_has(blob, hash));
    uint64_t size;
    uint8_t *back = s_read(blob, hash, &size);
    assert_int_equal(size, 100 * KIB + 7);
    assert_memory_equal(back, data, size);

    /* <data dir>/blobs/<first two>/<text form>, 0640 in a 0750 folder */
    char path[RU_BLOB_PATH_MAX], want_path[1024], text[RU_B64_SIZE(RU_HASH_BYTES)];
    ru_b64_encode(text, hash, RU_HASH_BYTES);
    snprintf(want_path, sizeof want_path, "%s/blobs/%.2s/%s", s_dir, text, text);
    ru_blob_path(blob, hash, path);
    assert_string_equal(path, want_path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    *strrchr(path, '/') = '\0';
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0750);
    assert_int_equal(s_files("/tmp"), 0);

    /* the empty blob is a blob too */
    assert_int_equal(ru_blob_put(blob, "", 0, NULL, hash), RU_OK);
    free(s_read(blob, hash, &size));
    assert_int_equal(size, 0);
    assert_int_equal(ru_blob_count(blob), 2);
    free(back);
    free(data);
    ru_blob_destroy(&blob);
    assert_null(blob);
}

static void
test_put_twice_is_stored_once(void **state)
{
    (void) state;
    ru_blob_t *blob = s_open(0);
    uint8_t *data = s_bytes(5000, 2), hash[RU_HASH_BYTES];
    assert_int_equal(ru_blob_put(blob, data, 5000, NULL, hash), RU_OK);
    char path[RU_BLOB_PATH_MAX];
    ru_blob_path(blob, hash, path);
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    assert_int_equal(ru_blob_put(blob, data, 5000, hash, NULL), RU_OK);
    ru_blob_writer_t *w;
    assert_int_equal(ru_blob_writer_begin(blob, hash, 5000, MAX, &w), RU_OK);
    assert_int_equal(ru_blob_writer_write(w, data, 5000), RU_OK);
    assert_int_equal(ru_blob_writer_commit(&w, NULL), RU_OK);
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(after.st_ino, before.st_ino); /* the first file, not a new one */
    assert_int_equal(ru_blob_total(blob), 5000);
    assert_int_equal(ru_blob_count(blob), 1);
    assert_int_equal(s_files(""), 1);
    free(data);
    ru_blob_destroy(&blob);
}

static void
test_put_with_wrong_hash_writes_nothing(void **state)
{
    (void) state;
    ru_blob_t *blob = s_open(0);
    uint8_t wrong[RU_HASH_BYTES], hash[RU_HASH_BYTES];
    ru_blob_hash("abd", 3, wrong);
    assert_int_equal(ru_blob_put(blob, "abc", 3, wrong, hash), RU_E_BLOB_HASH);
    assert_false(ru_blob_has(blob, hash));
    assert_int_equal(s_files(""), 0);
    assert_int_equal(ru_blob_total(blob), 0);
    ru_blob_destroy(&blob);
}

static void
test_hash_text_names_nothing_outside(void **state)
{
    (void) state;
    ru_blob_t *blob = s_open(0);
    uint8_t abc[RU_HASH_BYTES], hash[RU_HASH_BYTES];
    ru_blob_hash("abc", 3, abc);
    char good[RU_B64_SIZE(RU_HASH_BYTES) + 1], text[sizeof good];
    ru_b64_encode(good, abc, RU_HASH_BYTES);
    assert_string_equal(good, "vd2BPGNCOXIxce8_7phXm5SWTjuxyz5CcmLIwGjVIxk");

    const char *bad[] = {
        "../../etc/passwd", "", "../../../../../../../../../../../etc/passwd", /* 43 characters */
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd%00AAAAAAAAAA",                         /* 43, URL-encoded */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ru_blob_hash_parse(bad[i], strlen(bad[i]), hash), RU_E_TEXT_FORM);
    /* one character of the good text changed: a slash, a dot, standard
     * base64, other characters outside the alphabet, a space, a NUL (the
     * length says 43, a C string would stop there), stray low bits in the
     * last character (another spelling of the same bytes), padding */
    const struct {
        size_t at;
        char c;
    } swaps[] = {{20, '/'}, {20, '.'},  {20, '+'}, {20, '%'}, {20, '\\'},
                 {0, ' '},  {20, '\0'}, {42, 'l'}, {42, '='}};
    for (size_t i = 0; i < sizeof swaps / sizeof swaps[0]; i++) {
        memcpy(text, good, sizeof good);
        text[swaps[i].at] = swaps[i].c;
        assert_int_equal(ru_blob_hash_parse(text, RU_KEY_TEXT_LEN, hash), RU_E_TEXT_FORM);
    }
    /* one short, one long, padded */
    assert_int_equal(ru_blob_hash_parse(good, RU_KEY_TEXT_LEN - 1, hash), RU_E_TEXT_FORM);
    memcpy(text, good, sizeof good);
    text[RU_KEY_TEXT_LEN] = 'A';
    assert_int_equal(ru_blob_hash_parse(text, RU_KEY_TEXT_LEN + 1, hash), RU_E_TEXT_FORM);
    text[RU_KEY_TEXT_LEN] = '=';
    assert_int_equal(ru_blob_hash_parse(text, RU_KEY_TEXT_LEN + 1, hash), RU_E_TEXT_FORM);

    /* the good text reads back, and its path is in a folder of blobs/ */
    char path[RU_BLOB_PATH_MAX], prefix[1024];
    assert_int_equal(ru_blob_hash_parse(good, RU_KEY_TEXT_LEN, hash), RU_OK);
    assert_memory_equal(hash, abc, RU_HASH_BYTES);
    ru_blob_path(blob, hash, path);
    snprintf(prefix, sizeof prefix, "%s/blobs/", s_dir);
    assert_int_equal(strncmp(path, prefix, strlen(prefix)), 0);
    assert_null(strstr(path + strlen(prefix), ".."));
    assert_int_equal(strchr(path + strlen(prefix), '/') - (path + strlen(prefix)), 2);
    ru_blob_destroy(&blob);
}

/*  Writes len bytes of data through a writer in pieces of at most step. */
static ru_err
s_stream(ru_blob_writer_t *w, const uint8_t *data, size_t len, size_t step)
{
    for (size_t at = 0; at < len; at += step) {
        ru_err err = ru_blob_writer_write(w, data + at, len - at < step ? len - at : step);
        if (err)
            return err;
    }
    return RU_OK;
}

static void
test_writer_with_the_right_hash(void **state)
{
    (void) state;
    ru_blob_t *blob = s_open(0);
    size_t len = 300 * KIB + 3;
    uint8_t *data = s_bytes(len, 3), want[RU_HASH_BYTES], hash[RU_HASH_BYTES];
    ru_blob_hash(data, len, want);
    ru_blob_writer_t *w;
    assert_int_equal(ru_blob_writer_begin(blob, want, len, MAX, &w), RU_OK);
    assert_int_equal(s_stream(w, data, len, 4093), RU_OK);
    assert_int_equal(s_files("/tmp"), 1);
    assert_false(ru_blob_has(blob, want)); /* not before the commit */
    assert_int_equal(ru_blob_writer_commit(&w, hash), RU_OK);
    assert_null(w);
    assert_memory_equal(hash, want, RU_HASH_BYTES);
    uint64_t size;
    uint8_t *back = s_read(blob, hash, &size);
    assert_int_equal(size, len);
    assert_memory_equal(back, data, len);
    assert_int_equal(ru_blob_total(blob), len);
    assert_int_equal(s_files("/tmp"), 0);
    free(back);

    /* nothing expected: the hash is found as the bytes come */
    uint8_t *other = s_bytes(777, 4);
    ru_blob_hash(other, 777, want);
    assert_int_equal(ru_blob_writer_begin(blob, NULL, RU_BLOB_ANY_SIZE, 777, &w), RU_OK);
    assert_int_equal(s_stream(w, other, 777, 100), RU_OK);
    assert_int_equal(ru_blob_writer_commit(&w, hash), RU_OK);
    assert_memory_equal(hash, want, RU_HASH_BYTES);
    assert_true(ru_blob_has(blob, hash));
    assert_int_equal(ru_blob_total(blob), len + 777);
    free(other);
    free(data);
    ru_blob_destroy(&blob);
}

/*  Checks that nothing is held: no blob, no temporary file, no byte. */
static void
s_assert_empty(ru_blob_t *blob)
{
    assert_int_equal(s_files(""), 0);
    assert_int_equal(ru_blob_total(blob), 0);
    assert_int_equal(ru_blob_count(blob), 0);
}

static void
test_writer_refusals_leave_nothing(void **state)
{
    (void) state;
    ru_blob_t *blob = s_open(0);
    size_t len = 64 * KIB;
    uint8_t *data = s_bytes(len, 5), good[RU_HASH_BYTES], bad[RU_HASH_BYTES];
    ru_blob_hash(data, len, good);
    ru_blob_hash(data, len - 1, bad);
    ru_blob_writer_t *w;

    /* a bad hash: refused at the commit */
    assert_int_equal(ru_blob_writer_begin(blob, bad, len, MAX, &w), RU_OK);
    assert_int_equal(s_stream(w, data, len, 1000), RU_OK);
    assert_int_equal(ru_blob_writer_commit(&w, NULL), RU_E_BLOB_HASH);
    assert_null(w);
    assert_false(ru_blob_has(blob, bad));
    assert_false(ru_blob_has(blob, good));
    s_assert_empty(blob);

    /* a short stream: refused at the commit */
    assert_int_equal(ru_blob_writer_begin(blob, good, len, MAX, &w), RU_OK);
    assert_int_equal(s_stream(w, data, len - 1, 1000), RU_OK);
    assert_int_equal(ru_blob_writer_commit(&w, NULL), RU_E_BLOB_SIZE);
    s_assert_empty(blob);

    /* a long stream: refused at the write that passes the size */
    assert_int_equal(ru_blob_writer_begin(blob, good, len - 1, MAX, &w), RU_OK);
    assert_int_equal(ru_blob_writer_write(w, data, len - 2), RU_OK);
    assert_int_equal(ru_blob_writer_write(w, data + len - 2, 2), RU_E_BLOB_SIZE);
    s_assert_empty(blob); /* at once, before the commit */
    assert_int_equal(ru_blob_writer_write(w, data, 1), RU_E_BLOB_SIZE);
    assert_int_equal(ru_blob_writer_commit(&w, NULL), RU_E_BLOB_SIZE);
    s_assert_empty(blob);

    /* past the writer's max size: before begin when the size is known,
     * at the write that passes it when not */
    assert_int_equal(ru_blob_writer_begin(blob, NULL, len, len - 1, &w), RU_E_TOO_BIG);
    assert_null(w);
    assert_int_equal(ru_blob_writer_begin(blob, NULL, RU_BLOB_ANY_SIZE, len - 1, &w), RU_OK);
    assert_int_equal(s_stream(w, data, len, 1000), RU_E_TOO_BIG);
    s_assert_empty(blob);
    ru_blob_writer_abort(&w);
    assert_null(w);
    s_assert_empty(blob);

    /* an aborted writer */
    assert_int_equal(ru_blob_writer_begin(blob, good, len, MAX, &w), RU_OK);
    assert_int_equal(s_stream(w, data, len / 2, 1000), RU_OK);
    ru_blob_writer_abort(&w);
    assert_null(w);
    ru_blob_writer_abort(&w); /* NULL-safe */
    s_assert_empty(blob);
    free(data);
    ru_blob_destroy(&blob);
}

static void
test_open_clears_leftovers_and_counts(void **state)
{
    (void) state;
    ru_blob_t *blob = s_open(0);
    uint8_t *a = s_bytes(1000, 6), *b = s_bytes(2000, 7), ha[RU_HASH_BYTES], hb[RU_HASH_BYTES];
    assert_int_equal(ru_blob_put(blob, a, 1000, NULL, ha), RU_OK);
    assert_int_equal(ru_blob_put(blob, b, 2000, NULL, hb), RU_OK);
    assert_int_equal(ru_blob_total(blob), 3000);
    ru_blob_destroy(&blob);
    /* a process that a crash stops in the middle of a writer */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ru_blob_writer_t *w;
        blob = NULL;
        _exit(ru_blob_new(s_dir, 0, &blob) ||
              ru_blob_writer_begin(blob, NULL, RU_BLOB_ANY_SIZE, MAX, &w) ||
              ru_blob_writer_write(w, a, 500));
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(s_files("/tmp"), 1);
    /* a file that is no blob: not counted, not removed */
    char stray[1024];
    snprintf(stray, sizeof stray, "%s/blobs/notes.txt", s_dir);
    FILE *f = fopen(stray, "w");
    assert_non_null(f);
    fputs("not a blob\n", f);
    fclose(f);

    blob = s_open(0);
    assert_int_equal(s_files("/tmp"), 0);
    assert_int_equal(ru_blob_total(blob), 3000);
    assert_int_equal(ru_blob_count(blob), 2);
    assert_int_equal(access(stray, F_OK), 0);

    assert_int_equal(ru_blob_remove(blob, ha), RU_OK);
    assert_int_equal(ru_blob_remove(blob, ha), RU_OK); /* absent: tolerated */
    assert_false(ru_blob_has(blob, ha));
    int fd;
    uint64_t size;
    assert_int_equal(ru_blob_open(blob, ha, &fd, &size), RU_E_NOT_FOUND);
    assert_int_equal(ru_blob_total(blob), 2000);
    assert_int_equal(ru_blob_count(blob), 1);
    ru_blob_destroy(&blob);
    blob = s_open(0);
    assert_int_equal(ru_blob_total(blob), 2000);
    assert_int_equal(ru_blob_count(blob), 1);
    free(a);
    free(b);
    ru_blob_destroy(&blob);
}

typedef struct {
    int seen;
    uint64_t total;
} s_list_t;

static int
s_list_one(const uint8_t *hash, uint64_t size, void *arg)
{
    (void) hash;
    s_list_t *l = arg;
    l->seen++;
    l->total += size;
    return l->seen == 3; /* stops at the third when asked to */
}

static void
test_list_every_blob_or_stop(void **state)
{
    (void) state;
    ru_blob_t *blob = s_open(0);
    uint64_t total = 0;
    for (int i = 0; i < 10; i++) {
        uint8_t *data = s_bytes(100 + (size_t) i, (uint64_t) i + 10);
        assert_int_equal(ru_blob_put(blob, data, 100 + (size_t) i, NULL, NULL), RU_OK);
        total += 100 + (uint64_t) i;
        free(data);
    }
    s_list_t l = {-1000, 0};
    assert_int_equal(ru_blob_list(blob, s_list_one, &l), RU_OK);
    assert_int_equal(l.seen, -990);
    assert_int_equal(l.total, total);
    l = (s_list_t){0, 0};
    assert_int_equal(ru_blob_list(blob, s_list_one, &l), RU_OK);
    assert_int_equal(l.seen, 3);
    ru_blob_destroy(&blob);
}

static void
test_quota(void **state)
{
    (void) state;
    ru_blob_t *blob = s_open(10 * KIB);
    uint8_t *a = s_bytes(6 * KIB, 20), *b = s_bytes(5 * KIB, 21), ha[RU_HASH_BYTES];
    assert_int_equal(ru_blob_put(blob, a, 6 * KIB, NULL, ha), RU_OK);
    assert_int_equal(ru_blob_put(blob, b, 5 * KIB, NULL, NULL), RU_E_QUOTA);
    assert_int_equal(ru_blob_put(blob, a, 6 * KIB, NULL, NULL), RU_OK); /* held already */
    ru_blob_writer_t *w;
    assert_int_equal(ru_blob_writer_begin(blob, NULL, 5 * KIB, MAX, &w), RU_E_QUOTA);
    assert_int_equal(ru_blob_writer_begin(blob, NULL, RU_BLOB_ANY_SIZE, MAX, &w), RU_OK);
    assert_int_equal(ru_blob_writer_write(w, b, 4 * KIB), RU_OK);
    assert_int_equal(ru_blob_writer_write(w, b + 4 * KIB, KIB), RU_E_QUOTA);
    assert_int_equal(ru_blob_writer_commit(&w, NULL), RU_E_QUOTA);
    assert_int_equal(ru_blob_total(blob), 6 * KIB);
    assert_int_equal(s_files(""), 1);
    /* exactly full is allowed; room comes back when a blob goes */
    assert_int_equal(ru_blob_put(blob, b, 4 * KIB, NULL, NULL), RU_OK);
    assert_int_equal(ru_blob_total(blob), 10 * KIB);
    assert_int_equal(ru_blob_put(blob, "x", 1, NULL, NULL), RU_E_QUOTA);
    assert_int_equal(ru_blob_remove(blob, ha), RU_OK);
    assert_int_equal(ru_blob_put(blob, b, 5 * KIB, NULL, NULL), RU_OK);
    ru_blob_destroy(&blob);
    /* what is held counts against the quota after a reopen */
    blob = s_open(10 * KIB);
    assert_int_equal(ru_blob_put(blob, a, 6 * KIB, NULL, NULL), RU_E_QUOTA);
    free(a);
    free(b);
    ru_blob_destroy(&blob);
}

static void
test_uncounted_file_removed(void **state)
{
    (void) state;
    /* a blob that appeared behind the handle's back (copied in by hand, or
     * put by another process) and is then removed through it */
    ru_blob_t *blob = s_open(10 * KIB), *other = s_open(0);
    uint8_t *a = s_bytes(2 * KIB, 50), ha[RU_HASH_BYTES];
    assert_int_equal(ru_blob_put(blob, "x", 1, NULL, NULL), RU_OK);
    assert_int_equal(ru_blob_put(other, a, 2 * KIB, NULL, ha), RU_OK);
    assert_int_equal(ru_blob_total(blob), 1);
    assert_int_equal(ru_blob_remove(blob, ha), RU_OK);
    assert_int_equal(ru_blob_total(blob), 0); /* not wrapped round */
    assert_int_equal(ru_blob_count(blob), 0);
    assert_int_equal(ru_blob_put(blob, a, 2 * KIB, NULL, NULL), RU_OK);
    free(a);
    ru_blob_destroy(&other);
    ru_blob_destroy(&blob);
}

static void
test_failed_write_leaves_nothing(void **state)
{
    (void) state;
    ru_blob_t *blob = s_open(0);
    uint8_t *data = s_bytes(256 * KIB, 30), *small = s_bytes(1000, 31), hash[RU_HASH_BYTES];
    assert_int_equal(ru_blob_put(blob, small, 1000, NULL, NULL), RU_OK);
    /* a file may not pass 64 KiB: writes past it fail with EFBIG */
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 64 * KIB;
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    ru_err put = ru_blob_put(blob, data, 256 * KIB, NULL, hash);
    ru_blob_writer_t *w;
    ru_err begin = ru_blob_writer_begin(blob, NULL, 256 * KIB, MAX, &w);
    ru_err write = begin ? begin : s_stream(w, data, 256 * KIB, 10 * KIB);
    ru_err commit = begin ? begin : ru_blob_writer_commit(&w, NULL);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, was);
    assert_int_equal(put, RU_E_IO);
    assert_int_equal(begin, RU_OK);
    assert_int_equal(write, RU_E_IO);
    assert_int_equal(commit, RU_E_IO);
    assert_false(ru_blob_has(blob, hash));
    assert_int_equal(s_files("/tmp"), 0);
    assert_int_equal(s_files(""), 1);
    assert_int_equal(ru_blob_total(blob), 1000);
    /* once writes work again, so do puts, and the first blob is whole */
    assert_int_equal(ru_blob_put(blob, data, 256 * KIB, NULL, NULL), RU_OK);
    assert_int_equal(ru_blob_total(blob), 1000 + 256 * KIB);
    uint64_t size;
    ru_blob_hash(small, 1000, hash);
    uint8_t *back = s_read(blob, hash, &size);
    assert_int_equal(size, 1000);
    assert_memory_equal(back, small, 1000);
    free(back);
    free(data);
    free(small);
    ru_blob_destroy(&blob);
}

/*  In a child, in mount and (when not root) user namespaces of its own:
 *  an 8 KiB-page tmpfs of 256 KiB over the test's folder, a blob too big
 *  for it, then a small one. Exits 0 when all went as it should, 77 when
 *  the machine lets no test mount a tmpfs, else the number of the step
 *  that failed (cmocka's asserts do not work in a forked child). */
static int
s_full_disk_child(void)
{
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWNS | (uid ? CLONE_NEWUSER : 0)) != 0)
        return 77;
    if (uid) {
        char map[64];
        FILE *f;
        if ((f = fopen("/proc/self/setgroups", "w")) == NULL || fputs("deny", f) < 0 || fclose(f))
            return 77;
        snprintf(map, sizeof map, "0 %u 1", (unsigned) uid);
        if ((f = fopen("/proc/self/uid_map", "w")) == NULL || fputs(map, f) < 0 || fclose(f))
            return 77;
        snprintf(map, sizeof map, "0 %u 1", (unsigned) gid);
        if ((f = fopen("/proc/self/gid_map", "w")) == NULL || fputs(map, f) < 0 || fclose(f))
            return 77;
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", s_dir, "tmpfs", 0, "size=256k,mode=0700") != 0)
        return 77;
    ru_blob_t *blob;
    if (ru_blob_new(s_dir, 0, &blob) != RU_OK)
        return 1;
    uint8_t *big = s_bytes(1024 * KIB, 40), *small = s_bytes(1000, 41), hash[RU_HASH_BYTES];
    if (ru_blob_put(blob, small, 1000, NULL, NULL) != RU_OK)
        return 2;
    if (ru_blob_put(blob, big, 1024 * KIB, NULL, hash) != RU_E_DISK_FULL)
        return 3;
    if (ru_blob_has(blob, hash) || s_files("/tmp") != 0 || s_files("") != 1)
        return 4;
    if (ru_blob_total(blob) != 1000)
        return 5;
    ru_blob_hash(small, 1000, hash);
    if (!ru_blob_has(blob, hash) || ru_blob_put(blob, big, 100 * KIB, NULL, NULL) != RU_OK)
        return 6;
    ru_blob_destroy(&blob);
    return 0;
}

static void
test_full_disk_leaves_nothing(void **state)
{
    (void) state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(s_full_disk_child());
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        print_message("no tmpfs can be mounted here: the full disk is not tried\n");
        skip();
    }
    assert_int_equal(WEXITSTATUS(status), 0);
}

#define S_THREAD_BLOBS 1000

static ru_blob_t *s_shared;

/*  Puts the 1,000 blobs, forwards (arg NULL) or backwards, so that the two
 *  threads put the same blobs at once in the middle. */
static void *
s_putter(void *arg)
{
    for (int k = 0; k < S_THREAD_BLOBS; k++) {
        int i = arg ? S_THREAD_BLOBS - 1 - k : k;
        uint8_t *data = s_bytes(100 + (size_t) i, (uint64_t) i + 100);
        ru_err err = ru_blob_put(s_shared, data, 100 + (size_t) i, NULL, NULL);
        free(data);
        if (err)
            return (void *) "put failed";
    }
    return NULL;
}

static void
test_two_threads_count_right(void **state)
{
    (void) state;
    s_shared = s_open(0);
    pthread_t a, b;
    void *ra, *rb;
    assert_int_equal(pthread_create(&a, NULL, s_putter, NULL), 0);
    assert_int_equal(pthread_create(&b, NULL, s_putter, (void *) "backwards"), 0);
    assert_int_equal(pthread_join(a, &ra), 0);
    assert_int_equal(pthread_join(b, &rb), 0);
    assert_null(ra);
    assert_null(rb);
    uint64_t total = 0;
    for (int i = 0; i < S_THREAD_BLOBS; i++)
        total += 100 + (uint64_t) i;
    assert_int_equal(ru_blob_count(s_shared), S_THREAD_BLOBS);
    assert_int_equal(ru_blob_total(s_shared), total);
    assert_int_equal(s_files(""), S_THREAD_BLOBS);
    ru_blob_destroy(&s_shared);
    s_shared = s_open(0);
    assert_int_equal(ru_blob_count(s_shared), S_THREAD_BLOBS);
    assert_int_equal(ru_blob_total(s_shared), total);
    ru_blob_destroy(&s_shared);
}

int
main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_of_known_bytes),
        cmocka_unit_test_setup_teardown(test_put_and_read_back, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_put_twice_is_stored_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_put_with_wrong_hash_writes_nothing, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_hash_text_names_nothing_outside, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_writer_with_the_right_hash, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_writer_refusals_leave_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_open_clears_leftovers_and_counts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_list_every_blob_or_stop, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_quota, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_uncounted_file_removed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_leaves_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_full_disk_leaves_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_two_threads_count_right, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
