/*  ru_confedit.c - [peer NAME] sections added to and removed from the
 *  config file, as text (see ru_confedit.h).
 */
#include "ru_confedit.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ruche/ru_buf.h"
#include "ruche/ru_text.h"

#include "ru_log.h"

#define S_LOG "config"
#define S_MAX_FILE (1024 * 1024)

/*  Reads the whole file into buf (NUL-terminated) and its mode. */
static ru_err
s_read(const char *path, ru_buf_t *buf, mode_t *mode)
{
    FILE *f = fopen(path, "r");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0 || st.st_size > S_MAX_FILE) {
        ru_log_err(S_LOG, "cannot read %s: %s", path, f ? "too large" : strerror(errno));
        if (f)
            fclose(f);
        return RU_E_IO;
    }
    *mode = st.st_mode & 07777;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        ru_buf_append(buf, chunk, n);
    int bad = ferror(f);
    fclose(f);
    ru_buf_append(buf, "", 1);
    return bad ? RU_E_IO : ru_buf_status(buf);
}

/*  Writes text to a temporary file beside path, checks it, and renames it
 *  over path. */
static ru_err
s_replace(const char *path, const char *text, mode_t mode, ru_confedit_check check, void *ctx)
{
    char tmp[RU_CONFIG_PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        ru_log_err(S_LOG, "cannot write beside %s: %s", path, strerror(errno));
        return RU_E_IO;
    }
    size_t len = strlen(text);
    int bad = write(fd, text, len) != (ssize_t) len || fchmod(fd, mode) != 0 || fsync(fd) != 0;
    bad |= close(fd) != 0;
    ru_err err = bad ? RU_E_IO : check ? check(tmp, ctx) : RU_OK;
    if (!err && rename(tmp, path) != 0)
        err = RU_E_IO;
    if (err) {
        if (err == RU_E_IO)
            ru_log_err(S_LOG, "cannot replace %s: %s", path, strerror(errno));
        unlink(tmp);
        return err;
    }
    char dir[RU_CONFIG_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        (void) fsync(dfd); /* the rename itself survives a crash */
        close(dfd);
    }
    return RU_OK;
}

/*  The section a line opens ("peer nozay" for "[peer nozay]"), into out;
 *  0 when the line is no section header. */
static int
s_header(const char *line, size_t len, char *out, size_t size)
{
    while (len && isspace((unsigned char) *line))
        line++, len--;
    while (len && isspace((unsigned char) line[len - 1]))
        len--;
    if (len < 2 || line[0] != '[' || line[len - 1] != ']' || len - 2 >= size)
        return 0;
    memcpy(out, line + 1, len - 2);
    out[len - 2] = '\0';
    return 1;
}

/*  A comment or blank line. */
static int
s_is_note(const char *line, size_t len)
{
    size_t skip = 0;
    while (skip < len && isspace((unsigned char) line[skip]))
        skip++;
    return skip == len || line[skip] == '#' || line[skip] == ';';
}

/*  Where the section [name] of text starts and ends (offsets), or 0. */
static int
s_find_section(const char *text, const char *name, size_t *start, size_t *end)
{
    char section[RU_MAX_NAME + 16];
    int inside = 0;
    size_t keep_from = 0; /* start of the trailing comment lines inside */
    for (size_t at = 0; text[at];) {
        size_t len = strcspn(text + at, "\n");
        int header = s_header(text + at, len, section, sizeof section);
        if (header && inside) {
            *end = keep_from;
            return 1;
        }
        if (header && strcmp(section, name) == 0)
            inside = 1, *start = at;
        if (inside && !s_is_note(text + at, len))
            keep_from = at + len + (text[at + len] == '\n');
        at += len + (text[at + len] == '\n');
        if (inside && !text[at])
            *end = at;
    }
    return inside;
}

ru_err
ru_confedit_add_peer(const char *path, const ru_peer_cfg_t *p, ru_confedit_check check, void *ctx)
{
    ru_buf_t buf;
    mode_t mode;
    size_t start, end;
    char name[RU_MAX_NAME + 8], key[RU_KEY_TEXT_SIZE];
    snprintf(name, sizeof name, "peer %s", p->site);
    ru_buf_init(&buf);
    ru_err err = s_read(path, &buf, &mode);
    if (!err && s_find_section((const char *) buf.data, name, &start, &end))
        err = RU_E_EXISTS;
    if (!err) {
        buf.len--; /* the NUL */
        const char *nl = buf.len && buf.data[buf.len - 1] != '\n' ? "\n" : "";
        ru_b64_encode(key, p->key, RU_KEY_BYTES);
        char section[3 * RU_CONFIG_ENDPOINT_MAX + 256];
        int n = snprintf(section, sizeof section,
                         "%s\n# added with ruche admin add-peer\n[%s]\nkey = %s\n", nl, name, key);
        if (p->pub[0])
            n += snprintf(section + n, sizeof section - (size_t) n, "pub = %s\nsync = %s\n", p->pub,
                          p->sync);
        ru_buf_append(&buf, section, (size_t) n + 1);
        err = ru_buf_status(&buf);
    }
    if (!err)
        err = s_replace(path, (const char *) buf.data, mode, check, ctx);
    ru_buf_fini(&buf);
    return err;
}

ru_err
ru_confedit_remove_peer(const char *path, const char *site, ru_confedit_check check, void *ctx)
{
    ru_buf_t buf;
    mode_t mode;
    size_t start = 0, end = 0;
    char name[RU_MAX_NAME + 8];
    snprintf(name, sizeof name, "peer %s", site);
    ru_buf_init(&buf);
    ru_err err = s_read(path, &buf, &mode);
    if (!err && !s_find_section((const char *) buf.data, name, &start, &end))
        err = RU_E_NOT_FOUND;
    if (!err) {
        memmove(buf.data + start, buf.data + end, buf.len - end); /* with the NUL */
        err = s_replace(path, (const char *) buf.data, mode, check, ctx);
    }
    ru_buf_fini(&buf);
    return err;
}
