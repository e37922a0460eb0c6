/*  ru_blob.c - blobs named by their hash in <data dir>/blobs (ru_blob.h).
 *
 *  Every file operation is relative to two folder descriptors opened once,
 *  blobs/ and blobs/tmp, so a blob's path is built from its hash alone (two
 *  characters, a slash, the 43 of its text form) and no name read from
 *  outside ever reaches the file system: a hash comes in as 32 bytes or
 *  through ru_blob_hash_parse, whose alphabet has no "/" and no ".".
 *
 *  Writing: a temporary file with a random name in tmp/ (O_EXCL, 0640),
 *  the bytes, fsync, then link() into place rather than rename(): link
 *  fails with EEXIST when the blob is already there, so two threads putting
 *  the same bytes at once count them once, and the first blob stays as it
 *  was. The temporary name is then unlinked; a crash in between leaves a
 *  temporary file that the next open removes. The blob's folder is fsynced
 *  after the link (and blobs/ after a new folder), so a put that returned
 *  survives a power loss. A remove is not fsynced: a blob that comes back
 *  after a crash is listed, and removed, again.
 *
 *  Counting: total and count are the bytes and blobs in place. charged is
 *  total plus the bytes reserved by puts and writers under way; a
 *  reservation is taken by compare-and-swap against the quota before any
 *  byte is written, so writers racing each other cannot pass the quota
 *  together. A blob put in place turns its reservation into bytes held; a
 *  blob found already there, or a failure, gives the reservation back. A
 *  blob's size follows from its hash, so the size seen by a remove is the
 *  size that was counted.
 */
#define _GNU_SOURCE /* O_DIRECTORY, O_CLOEXEC, fdopendir and the *at calls */
#include "ru_blob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ruche/ru_text.h"

#include "ru_fd.h"
#include "ru_log.h"

#define S_BLOBS "blobs"
#define S_TMP "tmp"
/*  "Ab/" and the 43 characters of a hash's text form. */
#define S_REL_SIZE (3 + RU_KEY_TEXT_SIZE)
/*  A temporary file's name: 16 random bytes in hex. */
#define S_TMP_NAME_SIZE 33

struct ru_blob {
    char *root; /* <data dir>/blobs, for paths in logs */
    int dirfd;  /* blobs/ */
    int tmpfd;  /* blobs/tmp */
    uint64_t quota;
    _Atomic uint64_t total;   /* bytes of the blobs in place */
    _Atomic uint64_t count;   /* blobs in place */
    _Atomic uint64_t charged; /* total, and the bytes reserved by puts under way */
};

struct ru_blob_writer {
    crypto_generichash_state state; /* first: libsodium wants it aligned */
    ru_blob_t *blob;
    int fd; /* the temporary file; -1 once it is gone */
    char tmp[S_TMP_NAME_SIZE];
    uint64_t written;
    uint64_t reserved; /* bytes of the quota this writer holds */
    uint64_t size;     /* expected, or RU_BLOB_ANY_SIZE */
    uint64_t max;
    uint8_t expect[RU_HASH_BYTES];
    int has_expect;
    ru_err failed; /* a refused write: every later call returns it */
};

/*  "Ab/Ab...": the path of hash's blob under blobs/. */
static void
s_rel(const uint8_t *hash, char *rel)
{
    char text[RU_KEY_TEXT_SIZE];
    ru_b64_encode(text, hash, RU_HASH_BYTES);
    snprintf(rel, S_REL_SIZE, "%.2s/%s", text, text);
}

/*  Logs a failed file operation with its path (rel under blobs/, or NULL
 *  for blobs/ itself) and turns errno into ru_err:
 *  RU_E_DISK_FULL for a full disk or file-system quota, else RU_E_IO. */
static ru_err
s_fail(const ru_blob_t *self, const char *what, const char *rel, int errnum)
{
    const char *sep = rel ? "/" : "";
    rel = rel ? rel : "";
    if (errnum == ENOSPC || errnum == EDQUOT) {
        ru_log_err("blob", "cannot %s %s%s%s: no space left on the disk", what, self->root, sep,
                   rel);
        return RU_E_DISK_FULL;
    }
    ru_log_err("blob", "cannot %s %s%s%s: %s", what, self->root, sep, rel, strerror(errnum));
    return RU_E_IO;
}

/*  s_fail for the temporary file name. */
static ru_err
s_tmp_fail(const ru_blob_t *self, const char *what, const char *name, int errnum)
{
    char rel[sizeof S_TMP + NAME_MAX + 1]; /* a leftover's name may be any */
    snprintf(rel, sizeof rel, "%s/%s", S_TMP, name);
    return s_fail(self, what, rel, errnum);
}

/*  Reserves n bytes of the quota; RU_E_QUOTA if they do not fit. */
static ru_err
s_reserve(ru_blob_t *self, uint64_t n)
{
    uint64_t cur = atomic_load(&self->charged);
    do {
        if (self->quota && (n > self->quota || cur > self->quota - n))
            return RU_E_QUOTA;
    } while (!atomic_compare_exchange_weak(&self->charged, &cur, cur + n));
    return RU_OK;
}

/*  Takes n from a counter, stopping at 0: a file put into blobs/ by hand
 *  while the node runs was never counted, and its removal must not wrap
 *  the count round to a full quota. */
static void
s_sub(_Atomic uint64_t *counter, uint64_t n)
{
    uint64_t cur = atomic_load(counter);
    while (!atomic_compare_exchange_weak(counter, &cur, cur > n ? cur - n : 0))
        ;
}

static void
s_unreserve(ru_blob_t *self, uint64_t n)
{
    s_sub(&self->charged, n);
}

/*  Makes a new temporary file in tmp/: its name into name, *fd open for
 *  writing. */
static ru_err
s_tmp_create(ru_blob_t *self, char *name, int *fd)
{
    for (int tries = 0; tries < 8; tries++) {
        uint8_t rnd[(S_TMP_NAME_SIZE - 1) / 2];
        randombytes_buf(rnd, sizeof rnd);
        sodium_bin2hex(name, S_TMP_NAME_SIZE, rnd, sizeof rnd);
        *fd = openat(self->tmpfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        if (*fd >= 0)
            return RU_OK;
        if (errno != EEXIST)
            break;
    }
    return s_tmp_fail(self, "create", name, errno);
}

/*  Closes and removes a temporary file. */
static void
s_tmp_drop(ru_blob_t *self, const char *name, int fd)
{
    if (fd >= 0)
        close(fd);
    (void) unlinkat(self->tmpfd, name, 0);
}

/*  fsyncs the folder at rel under blobs/ ("." for blobs/ itself). */
static ru_err
s_sync_dir(ru_blob_t *self, const char *rel)
{
    int fd = openat(self->dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return s_fail(self, "open", rel, errno);
    int rc = fsync(fd);
    int errnum = errno;
    close(fd);
    return rc == 0 ? RU_OK : s_fail(self, "fsync", rel, errnum);
}

/*  Makes the two-character folder of rel, if absent, durably. */
static ru_err
s_make_fanout(ru_blob_t *self, const char *rel)
{
    char dir[3] = {rel[0], rel[1], '\0'};
    if (mkdirat(self->dirfd, dir, 0750) == 0)
        return s_sync_dir(self, ".");
    return errno == EEXIST ? RU_OK : s_fail(self, "create", dir, errno);
}

/*  Puts the temporary file name (open as fd, size bytes, already hashed to
 *  hash) in place as a blob, durably, and counts it; its reservation of
 *  size bytes turns into bytes held, or is given back if the blob was
 *  there already. Closes fd and removes the temporary name in every case;
 *  on an error the reservation is given back too. */
static ru_err
s_place(ru_blob_t *self, const char *name, int fd, const uint8_t *hash, uint64_t size)
{
    char rel[S_REL_SIZE];
    s_rel(hash, rel);
    ru_err err = fsync(fd) == 0 ? RU_OK : s_tmp_fail(self, "fsync", name, errno);
    if (!err)
        err = s_make_fanout(self, rel);
    int added = 0;
    if (!err && linkat(self->tmpfd, name, self->dirfd, rel, 0) == 0)
        added = 1;
    else if (!err && errno != EEXIST)
        err = s_fail(self, "link", rel, errno);
    s_tmp_drop(self, name, fd);
    if (added) {
        char dir[3] = {rel[0], rel[1], '\0'};
        err = s_sync_dir(self, dir); /* the blob is in place: counted even so */
        atomic_fetch_add(&self->total, size);
        atomic_fetch_add(&self->count, 1);
    } else {
        s_unreserve(self, size);
    }
    return err;
}

void
ru_blob_hash(const void *data, size_t len, uint8_t *hash)
{
    crypto_generichash(hash, RU_HASH_BYTES, data, len, NULL, 0);
}

ru_err
ru_blob_hash_parse(const char *text, size_t len, uint8_t *hash)
{
    return ru_b64_decode(hash, RU_HASH_BYTES, text, len);
}

void
ru_blob_path(const ru_blob_t *self, const uint8_t *hash, char *out)
{
    char rel[S_REL_SIZE];
    s_rel(hash, rel);
    snprintf(out, RU_BLOB_PATH_MAX, "%s/%s", self->root, rel);
}

int
ru_blob_has(ru_blob_t *self, const uint8_t *hash)
{
    char rel[S_REL_SIZE];
    struct stat st;
    s_rel(hash, rel);
    return fstatat(self->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

ru_err
ru_blob_put(ru_blob_t *self, const void *data, size_t len, const uint8_t *expect, uint8_t *hash_out)
{
    uint8_t hash[RU_HASH_BYTES];
    ru_blob_hash(data, len, hash);
    if (hash_out)
        memcpy(hash_out, hash, sizeof hash);
    if (expect && sodium_memcmp(expect, hash, sizeof hash) != 0)
        return RU_E_BLOB_HASH;
    if (ru_blob_has(self, hash))
        return RU_OK;
    ru_err err = s_reserve(self, len);
    if (err)
        return err;
    char name[S_TMP_NAME_SIZE];
    int fd;
    err = s_tmp_create(self, name, &fd);
    if (err) {
        s_unreserve(self, len);
        return err;
    }
    int errnum = ru_fd_write_all(fd, data, len);
    if (errnum) {
        err = s_tmp_fail(self, "write", name, errnum);
        s_tmp_drop(self, name, fd);
        s_unreserve(self, len);
        return err;
    }
    return s_place(self, name, fd, hash, len);
}

ru_err
ru_blob_open(ru_blob_t *self, const uint8_t *hash, int *fd, uint64_t *size)
{
    char rel[S_REL_SIZE];
    struct stat st;
    s_rel(hash, rel);
    *fd = openat(self->dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (*fd < 0)
        return errno == ENOENT ? RU_E_NOT_FOUND : s_fail(self, "open", rel, errno);
    int errnum = fstat(*fd, &st) != 0 ? errno : S_ISREG(st.st_mode) ? 0 : EINVAL;
    if (errnum) {
        ru_err err = s_fail(self, "read", rel, errnum);
        close(*fd);
        *fd = -1;
        return err;
    }
    *size = (uint64_t) st.st_size;
    return RU_OK;
}

ru_err
ru_blob_remove(ru_blob_t *self, const uint8_t *hash)
{
    char rel[S_REL_SIZE];
    struct stat st;
    s_rel(hash, rel);
    if (fstatat(self->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? RU_OK : s_fail(self, "read", rel, errno);
    if (unlinkat(self->dirfd, rel, 0) != 0)
        return errno == ENOENT ? RU_OK : s_fail(self, "remove", rel, errno);
    if (S_ISREG(st.st_mode)) { /* what the scan at open counts */
        s_sub(&self->total, (uint64_t) st.st_size);
        s_sub(&self->count, 1);
        s_unreserve(self, (uint64_t) st.st_size);
    }
    return RU_OK;
}

uint64_t
ru_blob_total(const ru_blob_t *self)
{
    return atomic_load(&self->total);
}

uint64_t
ru_blob_count(const ru_blob_t *self)
{
    return atomic_load(&self->count);
}

/*  Opens the folder name under at for reading its entries; NULL with
 *  *errnum set if it cannot. */
static DIR *
s_opendir(int at, const char *name, int *errnum)
{
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    *errnum = d ? 0 : errno ? errno : EIO;
    if (!d && fd >= 0)
        close(fd);
    return d;
}

/*  Lists the blobs in the folder sub (two characters) of blobs/; counts
 *  into *skipped what is not a blob; *stop once fn asks to stop. */
static ru_err
s_list_fanout(ru_blob_t *self, const char *sub, ru_blob_list_fn fn, void *arg, size_t *skipped,
              int *stop)
{
    int errnum;
    DIR *d = s_opendir(self->dirfd, sub, &errnum);
    if (!d && (errnum == ENOTDIR || errnum == ELOOP)) {
        (*skipped)++;
        return RU_OK;
    }
    if (!d)
        return s_fail(self, "read", sub, errnum);
    struct dirent *e;
    for (errno = 0; !*stop && (e = readdir(d)) != NULL; errno = 0) {
        uint8_t hash[RU_HASH_BYTES];
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (ru_blob_hash_parse(e->d_name, strlen(e->d_name), hash) != RU_OK ||
            memcmp(e->d_name, sub, 2) != 0 ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
            (*skipped)++;
            continue;
        }
        *stop = fn(hash, (uint64_t) st.st_size, arg) != 0;
    }
    errnum = errno;
    closedir(d);
    return errnum ? s_fail(self, "read", sub, errnum) : RU_OK;
}

ru_err
ru_blob_list(ru_blob_t *self, ru_blob_list_fn fn, void *arg)
{
    int errnum;
    DIR *d = s_opendir(self->dirfd, ".", &errnum);
    if (!d)
        return s_fail(self, "read", NULL, errnum);
    size_t skipped = 0;
    int stop = 0;
    ru_err err = RU_OK;
    struct dirent *e;
    for (errno = 0; !err && !stop && (e = readdir(d)) != NULL; errno = 0) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            strcmp(e->d_name, S_TMP) == 0)
            continue;
        if (strlen(e->d_name) == 2)
            err = s_list_fanout(self, e->d_name, fn, arg, &skipped, &stop);
        else
            skipped++;
    }
    if (!err && errno)
        err = s_fail(self, "read", NULL, errno);
    closedir(d);
    if (skipped)
        ru_log_warn("blob", "%zu files in %s are not blobs (a wrong name or folder): left alone",
                    skipped, self->root);
    return err;
}

/*  Makes the folder name under at (0750) if absent and opens it into *fd;
 *  rel is its path under blobs/ for the log (NULL: blobs/ itself). */
static ru_err
s_open_dir(ru_blob_t *self, int at, const char *name, const char *rel, int *fd)
{
    if (mkdirat(at, name, 0750) != 0 && errno != EEXIST)
        return s_fail(self, "create", rel, errno);
    *fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return *fd >= 0 ? RU_OK : s_fail(self, "open", rel, errno);
}

/*  Removes what tmp/ holds: the temporary files of puts a crash cut short. */
static ru_err
s_clear_tmp(ru_blob_t *self)
{
    int errnum;
    DIR *d = s_opendir(self->tmpfd, ".", &errnum);
    if (!d)
        return s_fail(self, "read", S_TMP, errnum);
    size_t removed = 0;
    ru_err err = RU_OK;
    struct dirent *e;
    while (!err && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (unlinkat(self->tmpfd, e->d_name, 0) == 0)
            removed++;
        else if (errno != ENOENT)
            err = s_tmp_fail(self, "remove", e->d_name, errno);
    }
    closedir(d);
    if (removed)
        ru_log_info("blob", "removed %zu unfinished files from %s/%s", removed, self->root, S_TMP);
    return err;
}

typedef struct {
    uint64_t total, count;
} s_tally_t;

static int
s_tally(const uint8_t *hash, uint64_t size, void *arg)
{
    (void) hash;
    s_tally_t *tally = arg;
    tally->total += size;
    tally->count++;
    return 0;
}

/*  Opens the folders, clears tmp/ and counts what is held. */
static ru_err
s_start(ru_blob_t *self, const char *data_dir)
{
    int at = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (at < 0) {
        ru_log_err("blob", "cannot open %s: %s", data_dir, strerror(errno));
        return RU_E_IO;
    }
    ru_err err = s_open_dir(self, at, S_BLOBS, NULL, &self->dirfd);
    close(at);
    if (!err)
        err = s_open_dir(self, self->dirfd, S_TMP, S_TMP, &self->tmpfd);
    if (!err)
        err = s_clear_tmp(self);
    s_tally_t tally = {0, 0};
    if (!err)
        err = ru_blob_list(self, s_tally, &tally);
    atomic_store(&self->total, tally.total);
    atomic_store(&self->count, tally.count);
    atomic_store(&self->charged, tally.total);
    return err;
}

ru_err
ru_blob_new(const char *data_dir, uint64_t quota, ru_blob_t **out)
{
    *out = NULL;
    size_t root_len = strlen(data_dir) + sizeof "/" S_BLOBS - 1;
    if (root_len + 1 + S_REL_SIZE > RU_BLOB_PATH_MAX)
        return RU_E_INVALID;
    if (mkdir(data_dir, 0700) != 0 && errno != EEXIST) {
        ru_log_err("blob", "cannot create %s: %s", data_dir, strerror(errno));
        return RU_E_IO;
    }
    ru_blob_t *self = calloc(1, sizeof *self);
    if (!self || !(self->root = malloc(root_len + 1))) {
        free(self);
        return RU_E_NOMEM;
    }
    snprintf(self->root, root_len + 1, "%s/%s", data_dir, S_BLOBS);
    self->dirfd = self->tmpfd = -1;
    self->quota = quota;
    ru_err err = s_start(self, data_dir);
    if (err)
        ru_blob_destroy(&self);
    *out = self;
    return err;
}

void
ru_blob_destroy(ru_blob_t **self_p)
{
    ru_blob_t *self = *self_p;
    if (!self)
        return;
    if (self->dirfd >= 0)
        close(self->dirfd);
    if (self->tmpfd >= 0)
        close(self->tmpfd);
    free(self->root);
    free(self);
    *self_p = NULL;
}

/*  Ends a writer's file on a refusal or failure: removes what it wrote,
 *  gives its reservation back and keeps err for every later call. */
static ru_err
s_writer_fail(ru_blob_writer_t *self, ru_err err)
{
    s_tmp_drop(self->blob, self->tmp, self->fd);
    self->fd = -1;
    s_unreserve(self->blob, self->reserved);
    self->reserved = 0;
    self->failed = err;
    return err;
}

ru_err
ru_blob_writer_begin(ru_blob_t *self, const uint8_t *expect, uint64_t size, uint64_t max_size,
                     ru_blob_writer_t **out)
{
    *out = NULL;
    if (size != RU_BLOB_ANY_SIZE && size > max_size)
        return RU_E_TOO_BIG;
    ru_blob_writer_t *w = aligned_alloc(_Alignof(ru_blob_writer_t), sizeof *w);
    if (!w)
        return RU_E_NOMEM;
    memset(w, 0, sizeof *w);
    w->blob = self;
    w->fd = -1;
    w->size = size;
    w->max = max_size;
    w->has_expect = expect != NULL;
    if (expect)
        memcpy(w->expect, expect, RU_HASH_BYTES);
    ru_err err = size != RU_BLOB_ANY_SIZE ? s_reserve(self, size) : RU_OK;
    if (!err) {
        w->reserved = size != RU_BLOB_ANY_SIZE ? size : 0;
        err = s_tmp_create(self, w->tmp, &w->fd);
    }
    if (err) {
        s_unreserve(self, w->reserved);
        free(w);
        return err;
    }
    crypto_generichash_init(&w->state, NULL, 0, RU_HASH_BYTES);
    *out = w;
    return RU_OK;
}

ru_err
ru_blob_writer_write(ru_blob_writer_t *self, const void *data, size_t len)
{
    if (self->failed)
        return self->failed;
    if (len > self->max - self->written)
        return s_writer_fail(self, RU_E_TOO_BIG);
    if (self->size != RU_BLOB_ANY_SIZE && len > self->size - self->written)
        return s_writer_fail(self, RU_E_BLOB_SIZE);
    uint64_t need = self->written + len;
    if (need > self->reserved) {
        ru_err err = s_reserve(self->blob, need - self->reserved);
        if (err)
            return s_writer_fail(self, err);
        self->reserved = need;
    }
    int errnum = ru_fd_write_all(self->fd, data, len);
    if (errnum)
        return s_writer_fail(self, s_tmp_fail(self->blob, "write", self->tmp, errnum));
    crypto_generichash_update(&self->state, data, len);
    self->written = need;
    return RU_OK;
}

ru_err
ru_blob_writer_commit(ru_blob_writer_t **self_p, uint8_t *hash_out)
{
    ru_blob_writer_t *self = *self_p;
    *self_p = NULL;
    uint8_t hash[RU_HASH_BYTES];
    ru_err err = self->failed;
    if (!err && self->size != RU_BLOB_ANY_SIZE && self->written != self->size)
        err = s_writer_fail(self, RU_E_BLOB_SIZE);
    if (!err) {
        crypto_generichash_final(&self->state, hash, sizeof hash);
        if (self->has_expect && sodium_memcmp(hash, self->expect, sizeof hash) != 0)
            err = s_writer_fail(self, RU_E_BLOB_HASH);
    }
    if (!err) {
        err = s_place(self->blob, self->tmp, self->fd, hash, self->written);
        if (hash_out)
            memcpy(hash_out, hash, sizeof hash);
    }
    free(self);
    return err;
}

void
ru_blob_writer_abort(ru_blob_writer_t **self_p)
{
    ru_blob_writer_t *self = *self_p;
    if (!self)
        return;
    if (!self->failed)
        (void) s_writer_fail(self, RU_E_INVALID);
    free(self);
    *self_p = NULL;
}
