/*  ru_secret.h - where the CLI keeps passwords and access tokens.
 *
 *  A secret string lives in sodium_malloc memory (guard pages, not swapped
 *  where the system allows it) and is wiped when freed. JSON documents can
 *  hold secrets too (the login request, the token reply, the credentials
 *  file), so ru_secret_json_wipe() makes jansson wipe every block it frees.
 *  Copies made inside libcurl and the C library are out of reach; this
 *  keeps the CLI's own copies short-lived, which is what it can do.
 */
#ifndef RU_SECRET_H
#define RU_SECRET_H

#include <jansson.h>
#include <stddef.h>

#include "ruche/ru_error.h"

/*  Copies the NUL-terminated secret s into sodium_malloc memory; free it
 *  with ru_secret_free(). RU_E_NOMEM when memory (or libsodium) fails. */
RU_MUST_CHECK ru_err ru_secret_dup(const char *s, char **out);

/*  Wipes and frees a secret from ru_secret_dup(); NULL-safe; NULLs *p. */
void ru_secret_free(char **p);

/*  Serializes json (json_dumps flags) into sodium_malloc memory; free the
 *  text with ru_secret_free(). RU_E_NOMEM if memory runs out. */
RU_MUST_CHECK ru_err ru_secret_json_dump(const json_t *json, size_t flags, char **out);

/*  Makes jansson allocate through functions that wipe each block when it is
 *  freed. Call once, before any JSON is made (the allocator must not change
 *  while jansson holds memory). */
void ru_secret_json_wipe(void);

#endif
