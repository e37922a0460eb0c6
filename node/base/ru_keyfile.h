/*  ru_keyfile.h - the node key on disk: DIR/node.key and DIR/node.pub.
 *
 *  DIR is the node's data directory. node.key holds the secret seed of the
 *  node's Ed25519 key (format at the top of ru_keyfile.c); it is mode 0600
 *  and is never overwritten by ruche. node.pub holds the public key's text
 *  form (43 base64url characters) and a newline, for the operator to hand to
 *  the other sites' trust stores.
 *
 *  Every failure is logged once, here, under the component "keys", naming
 *  the file and what to do about it; callers only need the ru_err. Nothing
 *  here logs or prints the seed.
 */
#ifndef RU_KEYFILE_H
#define RU_KEYFILE_H

#include "ruche/ru_error.h"
#include "ruche/ru_key.h"
#include "ruche/ru_text.h"

#define RU_KEYFILE_NAME "node.key"
#define RU_PUBFILE_NAME "node.pub"

/*  Makes a new key and writes DIR/node.key (0600, created exclusively,
 *  without following a symlink) and DIR/node.pub (0644), both synced to
 *  disk with the directory. DIR must exist.
 *  RU_E_EXISTS if DIR/node.key exists in any form (file, symlink, ...): the
 *  existing file is left untouched. On any failure nothing new is left
 *  behind. On success *out is the new key, owned by the caller
 *  (ru_key_destroy); on failure *out is NULL. */
RU_MUST_CHECK ru_err ru_keyfile_create(const char *dir, ru_key_t **out);

/*  Loads the key of DIR/node.key. Refuses a file on which group or others
 *  have any permission bit (RU_E_KEY_MODE; the log says to chmod 600), and
 *  a symlink, anything but a regular file, or any content but the exact
 *  format (RU_E_KEY_FILE). RU_E_NOT_FOUND if DIR or the file does not
 *  exist. On success *out is owned by the caller; on failure *out is NULL. */
RU_MUST_CHECK ru_err ru_keyfile_load(const char *dir, ru_key_t **out);

/*  Writes the public key's text form (RU_KEY_TEXT_LEN characters and a NUL)
 *  into out: the node id as it appears in node.pub, configs and logs. */
void ru_keyfile_public_text(const ru_key_t *key, char out[RU_KEY_TEXT_SIZE]);

#endif
