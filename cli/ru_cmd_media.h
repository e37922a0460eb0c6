/*  ru_cmd_media.h - the attachments of a post: "--attach FILE [--alt TEXT]"
 *  read from the command line, each file uploaded to the node and waited
 *  for until the node has processed it.
 *
 *  The requests follow the Mastodon client API: POST /api/v2/media, a
 *  multipart/form-data body with the file (named by its base name) and
 *  its description, answers 200 with the attachment when it is ready at
 *  once, or 202 while the node processes it; GET /api/v1/media/ID then
 *  answers 206 while processing, 200 when ready and 422 with the reason
 *  when the node refused the file. The wait has a deadline (--wait,
 *  RU_CMD_MEDIA_WAIT_S by default) and shows its progress on standard
 *  error when that is a terminal, never in a pipe or a log.
 */
#ifndef RU_CMD_MEDIA_H
#define RU_CMD_MEDIA_H

#include <stddef.h>

#include "ru_cmd.h"

/*  Attachments of one post, the most Mastodon clients send. */
#define RU_CMD_MAX_ATTACH 4
/*  Default and largest --wait, in seconds. */
#define RU_CMD_MEDIA_WAIT_S 60
#define RU_CMD_MEDIA_WAIT_MAX_S 3600

typedef struct {
    const char *file; /* as given: a path */
    const char *alt;  /* its --alt, or NULL */
} ru_attach_t;

/*  Reads the --attach and --alt options of args, in their order, into
 *  list (RU_CMD_MAX_ATTACH entries) and *n, and --wait into *wait_s.
 *  Each --alt describes the --attach before it. Usage errors, before any
 *  request: an --alt before any --attach or a second one for a file, more
 *  than RU_CMD_MAX_ATTACH files, a file that is not a regular file this
 *  user can read, a description that is not UTF-8 or longer than
 *  RU_MAX_ALT_CHARS characters, a --wait that is not 1 to
 *  RU_CMD_MEDIA_WAIT_MAX_S. Exit status. */
int ru_cmd_attach_args(const ru_args_t *args, ru_attach_t *list, size_t *n, long *wait_s);

/*  Uploads the file of a and waits, up to wait_s seconds, until the node
 *  has processed it; writes its id into id (RU_CMD_MAX_ID + 1 bytes).
 *  A refusal is reported on standard error with the file's name. Exit
 *  status. */
int ru_cmd_media_upload(ru_ctx_t *ctx, const ru_attach_t *a, long wait_s, char *id);

#endif
