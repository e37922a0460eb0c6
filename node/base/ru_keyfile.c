/*  ru_keyfile.c - creating and loading the node key file.
 *
 *  Format of DIR/node.key: exactly one line of ASCII, 62 bytes in all,
 *
 *      ruche-node-key-v1 <seed>\n
 *
 *  where <seed> is the 32-byte Ed25519 seed in unpadded base64url (43
 *  characters, the canonical form ru_b64_decode accepts). Nothing else is
 *  accepted: no other header, no blank line, no CR, no comment, no missing
 *  or extra byte. The public key is derived from the seed, so it is not
 *  stored here; node.pub carries its text form for people. A text file
 *  survives copy and paste and says what it is; the version word leaves
 *  room for another format (an encrypted key, say) later.
 *
 *  Creation: node.key is opened with O_CREAT|O_EXCL|O_NOFOLLOW, so an
 *  existing key, or a symlink planted in its place, is never followed,
 *  truncated or overwritten. The file is forced to 0600 whatever the umask,
 *  written, fsynced, then node.pub is written to a temporary name and
 *  renamed into place (a stale node.pub without its key is replaced), and
 *  the directory is fsynced. If any step fails, what was created is
 *  removed, so a retry starts clean.
 *
 *  Loading: the file is opened with O_NOFOLLOW|O_NONBLOCK (a FIFO planted
 *  there cannot block the node), checked with fstat on the open descriptor
 *  (no race between check and use), read into sodium_malloc memory and
 *  parsed. The seed is never copied to the stack or the plain heap, and no
 *  message quotes the file's content.
 *
 *  Files are opened relative to a descriptor of DIR, which is also what is
 *  fsynced; DIR itself may be a symlink (a data directory moved to another
 *  disk often is).
 */
#include "ru_keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ru_fd.h"
#include "ru_log.h"

#define S_LOG "keys"
#define S_MAGIC "ruche-node-key-v1 "
#define S_MAGIC_LEN (sizeof S_MAGIC - 1)
#define S_LINE_LEN (S_MAGIC_LEN + RU_KEY_TEXT_LEN + 1)
#define S_PUB_TMP RU_PUBFILE_NAME ".tmp"
#define S_NOT_OWNER_ONLY (S_IRWXG | S_IRWXO)

/*  Scratch space for secrets, in sodium_malloc memory. line has one byte
 *  more than a valid file, to see a file that is too long, and holds the
 *  NUL that ru_b64_encode writes. */
struct s_secret {
    char line[S_LINE_LEN + 1];
    uint8_t seed[RU_SEED_BYTES];
};

/*  Separator between DIR and a file name in messages. */
static const char *
s_sep(const char *dir)
{
    size_t len = strlen(dir);
    return len && dir[len - 1] == '/' ? "" : "/";
}

static ru_err
s_errno_err(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return RU_E_NOT_FOUND;
    case EEXIST:
        return RU_E_EXISTS;
    case ENOMEM:
        return RU_E_NOMEM;
    default:
        return RU_E_IO;
    }
}

/*  Secret scratch space, or NULL (out of memory); the caller logs. */
static struct s_secret *
s_secret_new(void)
{
    return sodium_init() < 0 ? NULL : sodium_malloc(sizeof(struct s_secret));
}

static ru_err
s_open_dir(const char *dir, int *dfd)
{
    *dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*dfd >= 0)
        return RU_OK;
    int e = errno;
    ru_log_err(S_LOG, "cannot open data directory %s: %s", dir, strerror(e));
    return s_errno_err(e);
}

/*  Sets the mode of a file just created (the umask may have taken bits
 *  away), writes data, syncs and closes it. Returns 0 or errno; the
 *  descriptor is closed in every case. */
static int
s_fill_file(int fd, const void *data, size_t len, mode_t mode)
{
    int e = 0;
    if (fchmod(fd, mode) != 0)
        e = errno;
    if (!e)
        e = ru_fd_write_all(fd, data, len);
    if (!e && fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && !e)
        e = errno;
    return e;
}

/*  Logs that name could not be written, removes created (the file this
 *  attempt made, or NULL) and translates e. */
static ru_err
s_write_failed(int dfd, const char *dir, const char *name, const char *created, int e)
{
    if (created)
        unlinkat(dfd, created, 0);
    ru_log_err(S_LOG, "cannot write %s%s%s: %s", dir, s_sep(dir), name, strerror(e));
    return s_errno_err(e);
}

/*  Writes key's line, built in protected memory, to fd and closes it;
 *  0 or errno. */
static int
s_fill_key(int fd, const ru_key_t *key)
{
    struct s_secret *sec = s_secret_new();
    if (!sec) {
        close(fd);
        return ENOMEM;
    }
    memcpy(sec->line, S_MAGIC, S_MAGIC_LEN);
    ru_b64_encode(sec->line + S_MAGIC_LEN, ru_key_seed(key), RU_SEED_BYTES);
    sec->line[S_LINE_LEN - 1] = '\n';
    int e = s_fill_file(fd, sec->line, S_LINE_LEN, S_IRUSR | S_IWUSR);
    sodium_free(sec); /* wipes it */
    return e;
}

/*  Creates node.key and writes key's seed into it. */
static ru_err
s_write_key(int dfd, const char *dir, const ru_key_t *key)
{
    int fd = openat(dfd, RU_KEYFILE_NAME, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    S_IRUSR | S_IWUSR);
    if (fd < 0 && errno == EEXIST) {
        ru_log_err(S_LOG,
                   "%s%s" RU_KEYFILE_NAME " already exists; refusing to overwrite it: it is this "
                   "node's identity",
                   dir, s_sep(dir));
        return RU_E_EXISTS;
    }
    if (fd < 0)
        return s_write_failed(dfd, dir, RU_KEYFILE_NAME, NULL, errno);
    int e = s_fill_key(fd, key);
    return e ? s_write_failed(dfd, dir, RU_KEYFILE_NAME, RU_KEYFILE_NAME, e) : RU_OK;
}

/*  Writes node.pub through a temporary file renamed into place. */
static ru_err
s_write_pub(int dfd, const char *dir, const ru_key_t *key)
{
    char text[RU_KEY_TEXT_SIZE];
    ru_keyfile_public_text(key, text);
    text[RU_KEY_TEXT_LEN] = '\n';
    unlinkat(dfd, S_PUB_TMP, 0); /* left by a crash, if anything */
    mode_t mode = S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH;
    int fd = openat(dfd, S_PUB_TMP, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    int e = fd < 0 ? errno : s_fill_file(fd, text, sizeof text, mode);
    if (!e && renameat(dfd, S_PUB_TMP, dfd, RU_PUBFILE_NAME) != 0)
        e = errno;
    return e ? s_write_failed(dfd, dir, RU_PUBFILE_NAME, fd >= 0 ? S_PUB_TMP : NULL, e) : RU_OK;
}

static ru_err
s_sync_dir(int dfd, const char *dir)
{
    if (fsync(dfd) == 0)
        return RU_OK;
    int e = errno;
    ru_log_err(S_LOG, "cannot sync data directory %s: %s", dir, strerror(e));
    return s_errno_err(e);
}

/*  The three durable steps of a creation; undoes the earlier ones when a
 *  later one fails. */
static ru_err
s_write_files(int dfd, const char *dir, const ru_key_t *key)
{
    ru_err err = s_write_key(dfd, dir, key);
    if (err)
        return err;
    err = s_write_pub(dfd, dir, key);
    if (!err) {
        err = s_sync_dir(dfd, dir);
        if (err)
            unlinkat(dfd, RU_PUBFILE_NAME, 0);
    }
    if (err)
        unlinkat(dfd, RU_KEYFILE_NAME, 0);
    return err;
}

ru_err
ru_keyfile_create(const char *dir, ru_key_t **out)
{
    *out = NULL;
    int dfd;
    ru_err err = s_open_dir(dir, &dfd);
    if (err)
        return err;
    ru_key_t *key = NULL;
    err = ru_key_generate(&key);
    if (err)
        ru_log_err(S_LOG, "cannot generate a node key: %s", ru_err_str(err));
    else
        err = s_write_files(dfd, dir, key);
    close(dfd);
    if (err) {
        ru_key_destroy(&key);
        return err;
    }
    ru_log_info(S_LOG, "wrote node key to %s%s" RU_KEYFILE_NAME, dir, s_sep(dir));
    *out = key;
    return RU_OK;
}

/*  Opens node.key for reading without following a symlink. A missing
 *  directory is reported like a missing file: either way there is no key. */
static ru_err
s_open_key(const char *dir, int *fd)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    *fd =
        dfd < 0 ? -1 : openat(dfd, RU_KEYFILE_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int e = errno; /* of whichever open failed */
    if (dfd >= 0)
        close(dfd);
    if (*fd >= 0)
        return RU_OK;
    const char *sep = s_sep(dir);
    if (e == ENOENT) {
        ru_log_err(S_LOG,
                   "no node key at %s%s" RU_KEYFILE_NAME "; create one with: ruched --keygen %s",
                   dir, sep, dir);
        return RU_E_NOT_FOUND;
    }
    if (e == ELOOP) {
        ru_log_err(S_LOG,
                   "%s%s" RU_KEYFILE_NAME " is a symbolic link; the key file must be a "
                   "regular file",
                   dir, sep);
        return RU_E_KEY_FILE;
    }
    ru_log_err(S_LOG, "cannot open %s%s" RU_KEYFILE_NAME ": %s", dir, sep, strerror(e));
    return s_errno_err(e);
}

/*  Refuses anything but a regular file that only its owner may access. */
static ru_err
s_check_key(int fd, const char *dir)
{
    struct stat st;
    const char *sep = s_sep(dir);
    if (fstat(fd, &st) != 0) {
        int e = errno;
        ru_log_err(S_LOG, "cannot stat %s%s" RU_KEYFILE_NAME ": %s", dir, sep, strerror(e));
        return s_errno_err(e);
    }
    if (!S_ISREG(st.st_mode)) {
        ru_log_err(S_LOG, "%s%s" RU_KEYFILE_NAME " is not a regular file", dir, sep);
        return RU_E_KEY_FILE;
    }
    if (st.st_mode & S_NOT_OWNER_ONLY) {
        ru_log_err(S_LOG,
                   "%s%s" RU_KEYFILE_NAME " has mode %04o: group or others may access the node's "
                   "secret key; run: chmod 600 %s%s" RU_KEYFILE_NAME,
                   dir, sep, (unsigned) (st.st_mode & 07777), dir, sep);
        return RU_E_KEY_MODE;
    }
    return RU_OK;
}

/*  Checks the line read (got bytes) and decodes the seed. */
static ru_err
s_parse(struct s_secret *sec, size_t got)
{
    if (got != S_LINE_LEN || memcmp(sec->line, S_MAGIC, S_MAGIC_LEN) != 0 ||
        sec->line[S_LINE_LEN - 1] != '\n')
        return RU_E_KEY_FILE;
    if (ru_b64_decode(sec->seed, RU_SEED_BYTES, sec->line + S_MAGIC_LEN, RU_KEY_TEXT_LEN))
        return RU_E_KEY_FILE;
    return RU_OK;
}

static ru_err
s_read_key(int fd, const char *dir, ru_key_t **out)
{
    struct s_secret *sec = s_secret_new();
    if (!sec) {
        ru_log_err(S_LOG, "cannot allocate protected memory for the node key");
        return RU_E_NOMEM;
    }
    size_t got = 0;
    int e = ru_fd_read_all(fd, sec->line, sizeof sec->line, &got);
    ru_err err = e ? s_errno_err(e) : s_parse(sec, got);
    if (e)
        ru_log_err(S_LOG, "cannot read %s%s" RU_KEYFILE_NAME ": %s", dir, s_sep(dir), strerror(e));
    else if (err)
        ru_log_err(S_LOG,
                   "%s%s" RU_KEYFILE_NAME " is not a ruche node key file (expected one line: "
                   "%.*s, a space, %d base64url characters)",
                   dir, s_sep(dir), (int) S_MAGIC_LEN - 1, S_MAGIC, RU_KEY_TEXT_LEN);
    if (!err && (err = ru_key_from_seed(sec->seed, out)) != RU_OK)
        ru_log_err(S_LOG, "cannot load the node key: %s", ru_err_str(err));
    sodium_free(sec); /* wipes the line and the seed */
    return err;
}

ru_err
ru_keyfile_load(const char *dir, ru_key_t **out)
{
    *out = NULL;
    int fd;
    ru_err err = s_open_key(dir, &fd);
    if (err)
        return err;
    err = s_check_key(fd, dir);
    if (!err)
        err = s_read_key(fd, dir, out);
    close(fd);
    return err;
}

void
ru_keyfile_public_text(const ru_key_t *key, char out[RU_KEY_TEXT_SIZE])
{
    ru_b64_encode(out, ru_key_public(key), RU_KEY_BYTES);
}
