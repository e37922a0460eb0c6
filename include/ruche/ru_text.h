/*  ru_text.h - how bytes are written as text, and what text is acceptable.
 *
 *  Keys, hashes and other binary ids appear in configs, logs and URLs as
 *  unpadded base64url (RFC 4648, section 5); decoding is strict (no padding,
 *  no whitespace, no stray low bits), so every id has exactly one text form.
 *  Text carried by updates must be valid UTF-8: no overlong forms, no
 *  surrogates, nothing above U+10FFFF, and no NUL.
 */
#ifndef RU_TEXT_H
#define RU_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "ruche/ru_error.h"
#include "ruche/ru_limits.h"

/*  Characters of the text form of a key or hash, and the buffer it needs. */
#define RU_KEY_TEXT_LEN 43
#define RU_KEY_TEXT_SIZE (RU_KEY_TEXT_LEN + 1)

/*  Buffer size for the base64url text of n bytes, with its NUL. */
#define RU_B64_SIZE(n) (((n) * 4 + 2) / 3 + 1)

/*  Writes the unpadded base64url form of bin and a NUL into out, which must
 *  hold RU_B64_SIZE(len) bytes. */
void ru_b64_encode(char *out, const uint8_t *bin, size_t len);
/*  Decodes exactly out_len bytes from text (text_len characters).
 *  RU_E_TEXT_FORM if the text is not the canonical form of out_len bytes. */
RU_MUST_CHECK ru_err ru_b64_decode(uint8_t *out, size_t out_len, const char *text,
                                   size_t text_len);

/*  Checks that text is UTF-8 as described above and counts its code points
 *  into *chars (may be NULL). RU_E_UTF8 otherwise. */
RU_MUST_CHECK ru_err ru_utf8_check(const char *text, size_t len, size_t *chars);

/*  Checks a user or group name: 1 to RU_MAX_NAME bytes of [a-z0-9_.-]
 *  starting with a letter or digit. RU_E_NAME otherwise. */
RU_MUST_CHECK ru_err ru_name_check(const char *name, size_t len);

#endif
