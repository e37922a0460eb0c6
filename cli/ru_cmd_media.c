/*  ru_cmd_media.c - the attachments of a post: options, upload, wait (see
 *  ru_cmd_media.h).
 *
 *  Every option is checked, and every file opened once, before the first
 *  request: a typo in the fourth file's name must not leave three files
 *  uploaded for a post that is never sent. The wait asks again after
 *  250 ms, then twice as long each time up to a second, so that a photo
 *  processed at once costs one request more and a video a request a
 *  second.
 */
#include "ru_cmd_media.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ruche/ru_limits.h"
#include "ruche/ru_text.h"

/*  Can this user read the regular file at path? Says why not. Exit
 *  status. */
static int
s_readable(const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NONBLOCK); /* a FIFO must not hang the command */
    if (fd < 0)
        return ru_ctx_say(RU_EXIT_USAGE, "cannot read %s: %s", path, strerror(errno));
    int regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    (void) close(fd);
    if (!regular)
        return ru_ctx_say(RU_EXIT_USAGE, "%s is not a file", path);
    return RU_EXIT_OK;
}

/*  Checks the description of an attachment. Exit status. */
static int
s_alt_ok(const char *alt)
{
    size_t chars;
    if (ru_utf8_check(alt, strlen(alt), &chars) != RU_OK)
        return ru_ctx_say(RU_EXIT_USAGE, "--alt is not valid UTF-8");
    if (chars > RU_MAX_ALT_CHARS)
        return ru_ctx_say(RU_EXIT_USAGE, "--alt is longer than %d characters", RU_MAX_ALT_CHARS);
    return RU_EXIT_OK;
}

/*  Reads --wait into *wait_s (RU_CMD_MEDIA_WAIT_S when not given). */
static int
s_wait(const ru_args_t *args, long *wait_s)
{
    const char *w = ru_args_get(args, "--wait");
    char *end = NULL;
    *wait_s = w ? strtol(w, &end, 10) : RU_CMD_MEDIA_WAIT_S;
    if (w != NULL && (w[0] < '0' || w[0] > '9' || *end != '\0' || *wait_s < 1 ||
                      *wait_s > RU_CMD_MEDIA_WAIT_MAX_S))
        return ru_ctx_say(RU_EXIT_USAGE, "--wait is a number of seconds from 1 to %d",
                          RU_CMD_MEDIA_WAIT_MAX_S);
    return RU_EXIT_OK;
}

int
ru_cmd_attach_args(const ru_args_t *args, ru_attach_t *list, size_t *n, long *wait_s)
{
    *n = 0;
    for (size_t i = 0; i < args->nseq; i++) {
        const char *name = args->seq[i].name, *value = args->seq[i].value;
        if (strcmp(name, "--attach=") == 0) {
            if (*n == RU_CMD_MAX_ATTACH)
                return ru_ctx_say(RU_EXIT_USAGE, "at most %d --attach in one post",
                                  RU_CMD_MAX_ATTACH);
            list[(*n)++] = (ru_attach_t){value, NULL};
        } else if (strcmp(name, "--alt=") == 0) {
            if (*n == 0 || list[*n - 1].alt != NULL)
                return ru_ctx_say(RU_EXIT_USAGE,
                                  "--alt describes the --attach before it: one --alt after each "
                                  "--attach FILE");
            list[*n - 1].alt = value;
        }
    }
    int rc = s_wait(args, wait_s);
    for (size_t i = 0; rc == RU_EXIT_OK && i < *n; i++) {
        rc = s_readable(list[i].file);
        if (rc == RU_EXIT_OK && list[i].alt != NULL)
            rc = s_alt_ok(list[i].alt);
    }
    return rc;
}

static long
s_ms_since(const struct timespec *t0)
{
    struct timespec now;
    (void) clock_gettime(CLOCK_MONOTONIC, &now);
    return (long) (now.tv_sec - t0->tv_sec) * 1000L + (now.tv_nsec - t0->tv_nsec) / 1000000L;
}

/*  Asks for the attachment id until the node has processed it (any answer
 *  but 206), wait_s seconds at most. Exit status. */
static int
s_wait_ready(ru_ctx_t *ctx, const char *name, const char *id, long wait_s)
{
    char path[128];
    struct timespec t0;
    long delay_ms = 250;
    int rc = ru_ctx_path(path, sizeof path, "/api/v1/media/%s", id), shown = 0;
    int tty = isatty(STDERR_FILENO);
    (void) clock_gettime(CLOCK_MONOTONIC, &t0);
    while (rc == RU_EXIT_OK) {
        ru_reply_t reply;
        rc = ru_ctx_call(ctx, RU_AUTH_REQUIRED, "GET", path, NULL, &reply);
        long status = reply.status;
        ru_reply_fini(&reply);
        if (rc != RU_EXIT_OK || status != 206)
            break;
        long ms = s_ms_since(&t0);
        if (ms >= wait_s * 1000L) {
            rc = ru_ctx_say(RU_EXIT_FAIL, "still processing after %ld s (--wait SECONDS)", wait_s);
            break;
        }
        if (tty)
            shown = fprintf(stderr, "\rruche: the server is processing %s (%ld s)", name,
                            ms / 1000) > 0;
        struct timespec pause = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
        (void) nanosleep(&pause, NULL);
        delay_ms = delay_ms * 2 > 1000 ? 1000 : delay_ms * 2;
    }
    if (shown)
        (void) fputs("\r\033[K", stderr);
    return rc;
}

int
ru_cmd_media_upload(ru_ctx_t *ctx, const ru_attach_t *a, long wait_s, char *id)
{
    const char *slash = strrchr(a->file, '/');
    const char *name = slash ? slash + 1 : a->file;
    ru_reply_t reply;
    int rc = ru_ctx_upload(ctx, "/api/v2/media", a->file, name, a->alt, &reply);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_expect(&reply, JSON_OBJECT, "an attachment");
    const char *got = json_string_value(json_object_get(reply.json, "id"));
    if (rc == RU_EXIT_OK && (got == NULL || !ru_ctx_is_id(got)))
        rc = ru_ctx_say(RU_EXIT_FAIL, "unexpected reply from the server: no attachment id");
    if (rc == RU_EXIT_OK) {
        (void) snprintf(id, RU_CMD_MAX_ID + 1, "%s", got);
        if (reply.status == 202)
            rc = s_wait_ready(ctx, name, id, wait_s);
    }
    ru_reply_fini(&reply);
    if (rc != RU_EXIT_OK && rc != RU_EXIT_AUTH)
        (void) ru_ctx_say(rc, "%s was not attached; nothing was posted", a->file);
    return rc;
}
