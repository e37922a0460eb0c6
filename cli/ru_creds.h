/*  ru_creds.h - the saved login of the ruche CLI.
 *
 *  "ruche login" saves which server the user logged in to, as whom, and
 *  the access token, in one JSON file:
 *      {"server": "http://127.0.0.1:8080", "username": "alice",
 *       "access_token": "..."}
 *  at $XDG_CONFIG_HOME/ruche/credentials.json (~/.config/ruche/ by
 *  default). The directory is mode 0700 and the file 0600; the file is
 *  written to a temporary file that is renamed over the old one, so it is
 *  never seen half written. A file that others can read is refused, as ssh
 *  refuses such keys: the token is as good as the password.
 */
#ifndef RU_CREDS_H
#define RU_CREDS_H

#include "ruche/ru_error.h"

/*  The credentials file may not be larger than this (bytes). */
#define RU_CREDS_MAX_FILE 65536
/*  Longest access token accepted (bytes). */
#define RU_CREDS_MAX_TOKEN 1024

/*  Caller-owned: ru_creds_init or ru_creds_load before use, ru_creds_fini
 *  after. */
typedef struct {
    char *server;   /* malloc'd, normal form of ru_url_server */
    char *username; /* malloc'd */
    char *token;    /* ru_secret_dup memory, wiped by ru_creds_fini */
} ru_creds_t;

/*  Returns the path of the credentials file, malloc'd (caller frees).
 *  RU_E_NOT_FOUND when neither XDG_CONFIG_HOME (absolute) nor HOME is set;
 *  RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_creds_path(char **out);

/*  Fills self with copies of the three strings. RU_E_INVALID if token is
 *  empty, too long or holds anything but printable ASCII (it goes into an
 *  HTTP header), RU_E_NOMEM. On failure self holds nothing to free. */
RU_MUST_CHECK ru_err ru_creds_init(ru_creds_t *self, const char *server, const char *username,
                                   const char *token);

/*  Frees the strings and wipes the token; NULL-safe and idempotent. */
void ru_creds_fini(ru_creds_t *self);

/*  Reads the file at path into self. RU_E_NOT_FOUND when there is no file;
 *  RU_E_KEY_MODE when group or others may read or write it; RU_E_IO when it
 *  cannot be read (errno tells why); RU_E_TOO_BIG; RU_E_TYPE when it is not
 *  JSON of the shape above; RU_E_INVALID for a token ru_creds_init
 *  refuses; RU_E_NOMEM. On failure self holds nothing to free. */
RU_MUST_CHECK ru_err ru_creds_load(ru_creds_t *self, const char *path);

/*  Writes self to path atomically, creating the missing directories with
 *  mode 0700. RU_E_IO when the file system refuses (errno tells why),
 *  RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_creds_save(const ru_creds_t *self, const char *path);

/*  Removes the file at path. RU_E_NOT_FOUND when there is none, RU_E_IO
 *  (errno tells why). */
RU_MUST_CHECK ru_err ru_creds_remove(const char *path);

#endif
