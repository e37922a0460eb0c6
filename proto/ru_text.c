/*  ru_text.c - base64url ids (on libsodium's codec), UTF-8 validation and
 *  name rules.
 *
 *  The UTF-8 checker follows the well-formed byte sequences of Unicode
 *  (table 3-7 of the standard): the allowed range of the second byte
 *  depends on the first, which rules out overlong forms, surrogates and
 *  code points above U+10FFFF without decoding the value.
 */
#include "ruche/ru_text.h"

#include <sodium.h>
#include <string.h>

void
ru_b64_encode(char *out, const uint8_t *bin, size_t len)
{
    sodium_bin2base64(out, RU_B64_SIZE(len), bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/*  The URL-safe alphabet. libsodium 1.0.18 decodes every byte past ASCII
 *  as '_', so the text is checked against it first. */
static const char s_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

ru_err
ru_b64_decode(uint8_t *out, size_t out_len, const char *text, size_t text_len)
{
    size_t got = 0;
    const char *end = NULL;
    if (text_len != RU_B64_SIZE(out_len) - 1)
        return RU_E_TEXT_FORM;
    for (size_t i = 0; i < text_len; i++)
        if (!text[i] || !strchr(s_b64_alphabet, text[i]))
            return RU_E_TEXT_FORM;
    if (sodium_base642bin(out, out_len, text, text_len, NULL, &got, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        got != out_len || end != text + text_len)
        return RU_E_TEXT_FORM;
    return RU_OK;
}

/*  Length of the sequence that lead byte b starts (0: not a lead byte) and
 *  the range its second byte must fall in. */
static int
s_lead(uint8_t b, uint8_t *lo, uint8_t *hi)
{
    *lo = 0x80;
    *hi = 0xbf;
    if (b >= 0x01 && b <= 0x7f)
        return 1;
    if (b >= 0xc2 && b <= 0xdf)
        return 2;
    if (b >= 0xe0 && b <= 0xef) {
        if (b == 0xe0)
            *lo = 0xa0; /* no overlong forms */
        if (b == 0xed)
            *hi = 0x9f; /* no surrogates */
        return 3;
    }
    if (b >= 0xf0 && b <= 0xf4) {
        if (b == 0xf0)
            *lo = 0x90; /* no overlong forms */
        if (b == 0xf4)
            *hi = 0x8f; /* nothing above U+10FFFF */
        return 4;
    }
    return 0; /* NUL, continuation bytes, 0xc0, 0xc1, 0xf5..0xff */
}

ru_err
ru_utf8_check(const char *text, size_t len, size_t *chars)
{
    const uint8_t *p = (const uint8_t *) text;
    size_t i = 0, count = 0;
    while (i < len) {
        uint8_t lo, hi;
        int n = s_lead(p[i], &lo, &hi);
        if (n == 0 || (size_t) n > len - i)
            return RU_E_UTF8;
        for (int k = 1; k < n; k++) {
            uint8_t c = p[i + (size_t) k];
            if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xbf))
                return RU_E_UTF8;
        }
        i += (size_t) n;
        count++;
    }
    if (chars)
        *chars = count;
    return RU_OK;
}

ru_err
ru_name_check(const char *name, size_t len)
{
    if (len == 0 || len > RU_MAX_NAME)
        return RU_E_NAME;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || !strchr("_.-", c) || c == '\0'))
            return RU_E_NAME;
    }
    return RU_OK;
}
