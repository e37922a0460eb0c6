/*  ru_creds.c - the saved login: path, load, atomic save, remove (see
 *  ru_creds.h).
 *
 *  The file's bytes are read into and written from ru_secret memory, and
 *  jansson wipes what it frees once ru_secret_json_wipe() is in effect, so
 *  the token does not linger in freed heap blocks.
 */
#include "ru_creds.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ru_secret.h"

ru_err
ru_creds_path(char **out)
{
    const char *base = getenv("XDG_CONFIG_HOME");
    const char *tail = "/ruche/credentials.json";
    *out = NULL;
    if (base == NULL || base[0] != '/') {
        base = getenv("HOME");
        tail = "/.config/ruche/credentials.json";
        if (base == NULL || base[0] != '/')
            return RU_E_NOT_FOUND;
    }
    size_t n = strlen(base) + strlen(tail) + 1;
    char *path = malloc(n);
    if (path == NULL)
        return RU_E_NOMEM;
    (void) snprintf(path, n, "%s%s", base, tail);
    *out = path;
    return RU_OK;
}

static int
s_token_ok(const char *token)
{
    size_t n = strlen(token);
    if (n == 0 || n > RU_CREDS_MAX_TOKEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (token[i] < 0x21 || token[i] > 0x7E)
            return 0;
    return 1;
}

ru_err
ru_creds_init(ru_creds_t *self, const char *server, const char *username, const char *token)
{
    memset(self, 0, sizeof *self);
    if (!s_token_ok(token))
        return RU_E_INVALID;
    self->server = strdup(server);
    self->username = strdup(username);
    if (self->server == NULL || self->username == NULL ||
        ru_secret_dup(token, &self->token) != RU_OK) {
        ru_creds_fini(self);
        return RU_E_NOMEM;
    }
    return RU_OK;
}

void
ru_creds_fini(ru_creds_t *self)
{
    free(self->server);
    free(self->username);
    ru_secret_free(&self->token);
    self->server = NULL;
    self->username = NULL;
}

/*  Opens path for reading and checks it: a regular file of at most
 *  RU_CREDS_MAX_FILE bytes that only its owner may use. */
static ru_err
s_open_checked(const char *path, int *fd_out, size_t *size)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? RU_E_NOT_FOUND : RU_E_IO;
    struct stat st;
    ru_err e = RU_OK;
    if (fstat(fd, &st) != 0)
        e = RU_E_IO;
    else if (!S_ISREG(st.st_mode))
        errno = EINVAL, e = RU_E_IO;
    else if (st.st_mode & 077)
        e = RU_E_KEY_MODE;
    else if (st.st_size > RU_CREDS_MAX_FILE)
        e = RU_E_TOO_BIG;
    if (e != RU_OK) {
        int saved = errno;
        (void) close(fd);
        errno = saved;
        return e;
    }
    *fd_out = fd;
    *size = (size_t) st.st_size;
    return RU_OK;
}

/*  Reads the whole file at path (its checks passed) into secret memory. */
static ru_err
s_read_file(const char *path, char **data, size_t *len)
{
    int fd;
    size_t size;
    ru_err e = s_open_checked(path, &fd, &size);
    if (e != RU_OK)
        return e;
    char *buf = sodium_malloc(size + 1);
    size_t got = 0;
    ssize_t n = 1;
    while (buf != NULL && got < size && (n = read(fd, buf + got, size - got)) > 0)
        got += (size_t) n;
    int saved = errno;
    (void) close(fd);
    if (buf == NULL || n < 0) {
        if (buf != NULL)
            sodium_free(buf);
        errno = saved;
        return buf == NULL ? RU_E_NOMEM : RU_E_IO;
    }
    buf[got] = '\0';
    *data = buf;
    *len = got;
    return RU_OK;
}

ru_err
ru_creds_load(ru_creds_t *self, const char *path)
{
    char *data;
    size_t len;
    memset(self, 0, sizeof *self);
    ru_err e = s_read_file(path, &data, &len);
    if (e != RU_OK)
        return e;
    json_t *doc = json_loadb(data, len, 0, NULL);
    sodium_free(data);
    const char *server, *username, *token;
    if (doc == NULL || json_unpack(doc, "{s:s, s:s, s:s}", "server", &server, "username", &username,
                                   "access_token", &token) != 0) {
        json_decref(doc);
        return RU_E_TYPE;
    }
    e = ru_creds_init(self, server, username, token);
    json_decref(doc);
    return e;
}

/*  Makes the directories leading to the file at path, mode 0700, and
 *  makes sure the last one is private. */
static ru_err
s_make_dirs(const char *path)
{
    char *dir = strdup(path);
    if (dir == NULL)
        return RU_E_NOMEM;
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir) { /* in the current or root directory */
        free(dir);
        return RU_OK;
    }
    *slash = '\0';
    for (char *p = strchr(dir + 1, '/');; p = strchr(p + 1, '/')) {
        if (p != NULL)
            *p = '\0';
        int made = mkdir(dir, 0700) == 0;
        if (!made && errno != EEXIST) {
            int saved = errno;
            free(dir);
            errno = saved;
            return RU_E_IO;
        }
        if (p == NULL)
            break;
        *p = '/';
    }
    struct stat st;
    int bad = stat(dir, &st) != 0 || ((st.st_mode & 077) && chmod(dir, 0700) != 0);
    int saved = errno;
    free(dir);
    errno = saved;
    return bad ? RU_E_IO : RU_OK;
}

static int
s_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t) n;
    }
    return 0;
}

/*  Writes text to a new temporary file beside path, then renames it over
 *  path: readers see the old file or the new one, never a part. */
static ru_err
s_write_atomic(const char *path, const char *text)
{
    size_t n = strlen(path) + sizeof ".XXXXXX";
    char *tmp = malloc(n);
    if (tmp == NULL)
        return RU_E_NOMEM;
    (void) snprintf(tmp, n, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    int bad = fd < 0;
    if (!bad) {
        bad = fchmod(fd, 0600) != 0 || s_write_all(fd, text, strlen(text)) != 0 ||
              s_write_all(fd, "\n", 1) != 0 || fsync(fd) != 0;
        bad = close(fd) != 0 || bad;
        bad = bad || rename(tmp, path) != 0;
    }
    int saved = errno;
    if (bad && fd >= 0)
        (void) unlink(tmp);
    free(tmp);
    errno = saved;
    return bad ? RU_E_IO : RU_OK;
}

ru_err
ru_creds_save(const ru_creds_t *self, const char *path)
{
    json_t *doc = json_pack("{s:s, s:s, s:s}", "server", self->server, "username", self->username,
                            "access_token", self->token);
    char *text = NULL;
    ru_err e = doc ? ru_secret_json_dump(doc, JSON_INDENT(2), &text) : RU_E_NOMEM;
    json_decref(doc);
    if (e == RU_OK)
        e = s_make_dirs(path);
    if (e == RU_OK)
        e = s_write_atomic(path, text);
    int saved = errno;
    ru_secret_free(&text);
    errno = saved;
    return e;
}

ru_err
ru_creds_remove(const char *path)
{
    if (unlink(path) == 0)
        return RU_OK;
    return errno == ENOENT ? RU_E_NOT_FOUND : RU_E_IO;
}
