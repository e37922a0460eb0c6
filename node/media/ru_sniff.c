/*  ru_sniff.c - a file's type from its content with libmagic (see
 *  ru_sniff.h).
 *
 *  One magic_t per thread, kept under a pthread key whose destructor
 *  closes it when the thread exits. The key is made once per process
 *  (pthread_once); a handle is made on a thread's first call, with its
 *  limits set, and loaded from the explicit database path. A handle whose
 *  load failed is closed at once and not kept, so the next call tries
 *  again (and says why again) rather than sniffing with no database.
 *
 *  Flags: MIME type only (MAGIC_MIME_TYPE), errors as errors (MAGIC_ERROR)
 *  rather than as a description, and no look inside compressed data
 *  (MAGIC_NO_CHECK_COMPRESS): a gzip file is application/gzip, whatever it
 *  holds. The buffer shown to libmagic is cut to RU_SNIFF_BYTES_MAX here:
 *  libmagic's own MAGIC_PARAM_BYTES_MAX, also set, only bounds what it
 *  reads from files.
 */
#include <magic.h>
#include <pthread.h>
#include <string.h>

#include "ru_log.h"
#include "ru_sniff.h"

#define S_FLAGS (MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS)

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static pthread_key_t s_key;
static int s_key_err; /* pthread_key_create's answer, set once */

static void
s_close(void *cookie)
{
    magic_close((magic_t) cookie);
}

static void
s_make_key(void)
{
    s_key_err = pthread_key_create(&s_key, s_close);
}

/*  A new handle with its limits set and the database loaded. */
static ru_err
s_open(magic_t *out)
{
    magic_t m = magic_open(S_FLAGS);
    if (!m) {
        ru_log_err("sniff", "cannot make a libmagic handle");
        return RU_E_NOMEM;
    }
    size_t bytes_max = RU_SNIFF_BYTES_MAX;
    if (magic_setparam(m, MAGIC_PARAM_BYTES_MAX, &bytes_max) != 0 ||
        magic_load(m, RU_SNIFF_DB_PATH) != 0) {
        const char *why = magic_error(m);
        ru_log_err("sniff", "cannot load the magic database %s: %s", RU_SNIFF_DB_PATH,
                   why ? why : "unknown reason");
        magic_close(m);
        return RU_E_IO;
    }
    *out = m;
    return RU_OK;
}

/*  The calling thread's handle, made on its first call. */
static ru_err
s_cookie(magic_t *out)
{
    pthread_once(&s_once, s_make_key);
    if (s_key_err) {
        ru_log_err("sniff", "cannot make the per-thread key: %s", strerror(s_key_err));
        return RU_E_NOMEM;
    }
    magic_t m = pthread_getspecific(s_key);
    if (!m) {
        ru_err err = s_open(&m);
        if (err)
            return err;
        if (pthread_setspecific(s_key, m) != 0) {
            magic_close(m);
            return RU_E_NOMEM;
        }
    }
    *out = m;
    return RU_OK;
}

ru_err
ru_sniff_type(const void *data, size_t len, char mime[RU_SNIFF_MIME_MAX])
{
    mime[0] = '\0';
    magic_t m;
    ru_err err = s_cookie(&m);
    if (err)
        return err;
    static const char empty[1];
    const char *type =
        magic_buffer(m, len ? data : empty, len < RU_SNIFF_BYTES_MAX ? len : RU_SNIFF_BYTES_MAX);
    if (!type) {
        const char *why = magic_error(m);
        ru_log_warn("sniff", "libmagic failed on %zu bytes: %s", len, why ? why : "unknown");
        return RU_E_IO;
    }
    /* type belongs to the handle until its next call: copied now */
    size_t n = strnlen(type, RU_SNIFF_MIME_MAX - 1);
    memcpy(mime, type, n);
    mime[n] = '\0';
    return RU_OK;
}

bool
ru_sniff_is_image(const char *mime, bool heic)
{
    static const char *const always[] = {"image/jpeg", "image/png", "image/webp", "image/gif"};
    static const char *const if_heic[] = {"image/heic", "image/heif"};
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
        if (strcmp(mime, always[i]) == 0)
            return true;
    for (size_t i = 0; heic && i < sizeof if_heic / sizeof if_heic[0]; i++)
        if (strcmp(mime, if_heic[i]) == 0)
            return true;
    return false;
}
