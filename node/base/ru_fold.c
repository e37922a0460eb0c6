/*  ru_fold.c - words folded for search (see ru_fold.h).
 *
 *  Folding is a few tables: Latin-1 and Latin Extended-A letters to their
 *  base letters, a handful of ligatures and special letters, ranges of
 *  punctuation and symbols that separate words, and combining marks that
 *  are dropped (so "é" typed as "e" + U+0301 folds like "é"). Anything
 *  else is a letter, kept as it is once Greek and Cyrillic capitals are
 *  lowered.
 */
#include "ru_fold.h"

#include <stdint.h>
#include <string.h>

#define S_SEP (-1) /* s_fold: a separator */

/*  U+00C0..U+00FF, then U+0100..U+017F: each letter's base letter; a digit
 *  stands for two letters (s_pairs), ' ' for a separator (the signs × ÷). */
static const char s_latin1[] = "aaaaaa0ceeeeiiii"
                               "dnooooo ouuuuy12"
                               "aaaaaa0ceeeeiiii"
                               "dnooooo ouuuuy1y";
static const char s_latin_a[] = "aaaaaaccccccccdd"
                                "ddeeeeeeeeeegggg"
                                "gggghhhhiiiiiiii"
                                "ii33jjkkklllllll"
                                "lllnnnnnnnnnoooo"
                                "oo44rrrrrrssssss"
                                "ssttttttuuuuuuuu"
                                "uuuuwwyyyzzzzzzs";
static const char *const s_pairs[] = {"ae", "th", "ss", "ij", "oe"};

/*  Other letters that fold to something else than themselves. */
static const struct {
    uint32_t cp;
    const char *to;
} s_special[] = {
    {0x0192, "f"},        {0x0218, "s"},        {0x0219, "s"},  {0x021a, "t"},
    {0x021b, "t"},        {0x03c2, "\xcf\x83"}, /* final sigma: sigma */
    {0x0401, "\xd0\xb5"},                       /* Ё: е */
    {0x0451, "\xd0\xb5"},                       /* ё: е */
    {0x1e9e, "ss"},       {0xfb00, "ff"},       {0xfb01, "fi"}, {0xfb02, "fl"},
    {0xfb03, "ffi"},      {0xfb04, "ffl"},      {0xfb05, "st"}, {0xfb06, "st"},
};

typedef struct {
    uint32_t lo, hi;
} s_range;

/*  Dropped inside words: combining marks, variation selectors, the soft
 *  hyphen. */
static const s_range s_dropped[] = {{0x00ad, 0x00ad}, {0x0300, 0x036f}, {0x1ab0, 0x1aff},
                                    {0x1dc0, 0x1dff}, {0x20d0, 0x20ff}, {0xfe00, 0xfe0f},
                                    {0xfe20, 0xfe2f}};
/*  Separators: Latin-1 punctuation and signs, general punctuation,
 *  currency, arrows, mathematical and technical signs, boxes, dingbats,
 *  CJK punctuation, full-width punctuation, private use, specials, emoji. */
static const s_range s_separators[] = {
    {0x0080, 0x00bf}, {0x00d7, 0x00d7}, {0x00f7, 0x00f7},  {0x2000, 0x2bff}, {0x2e00, 0x2e7f},
    {0x3000, 0x303f}, {0xe000, 0xf8ff}, {0xfe10, 0xfe1f},  {0xfe30, 0xfe4f}, {0xff00, 0xff0f},
    {0xff1a, 0xff20}, {0xfff0, 0xffff}, {0x1f000, 0x1faff}};

static int
s_in(const s_range *r, size_t n, uint32_t cp)
{
    for (size_t i = 0; i < n; i++)
        if (cp >= r[i].lo && cp <= r[i].hi)
            return 1;
    return 0;
}

/*  The code point at p[*i], moving *i past it; a byte that does not start
 *  a whole UTF-8 sequence reads as U+FFFD, one byte long. */
static uint32_t
s_decode(const uint8_t *p, size_t len, size_t *i)
{
    size_t at = (*i)++;
    uint32_t c = p[at];
    int n = c < 0x80                ? 0
            : c >= 0xc2 && c < 0xe0 ? 1
            : c >= 0xe0 && c < 0xf0 ? 2
            : c >= 0xf0 && c < 0xf5 ? 3
                                    : -1; /* a continuation byte, 0xc0, 0xc1, past 0xf4 */
    if (n == 0)
        return c;
    if (n < 0 || at + (size_t) n >= len)
        return 0xfffd;
    uint32_t cp = c & (0x7fu >> (n + 1));
    for (int k = 1; k <= n; k++) {
        if ((p[at + k] & 0xc0) != 0x80)
            return 0xfffd;
        cp = cp << 6 | (p[at + k] & 0x3fu);
    }
    *i = at + (size_t) n + 1;
    return cp;
}

static int
s_encode(uint32_t cp, char *out)
{
    if (cp < 0x800) {
        out[0] = (char) (0xc0 | cp >> 6);
        out[1] = (char) (0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char) (0xe0 | cp >> 12);
        out[1] = (char) (0x80 | (cp >> 6 & 0x3f));
        out[2] = (char) (0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char) (0xf0 | cp >> 18);
    out[1] = (char) (0x80 | (cp >> 12 & 0x3f));
    out[2] = (char) (0x80 | (cp >> 6 & 0x3f));
    out[3] = (char) (0x80 | (cp & 0x3f));
    return 4;
}

/*  The lower case of Greek and Cyrillic capitals; other code points as
 *  they are. */
static uint32_t
s_lower(uint32_t cp)
{
    if ((cp >= 0x0391 && cp <= 0x03a9 && cp != 0x03a2) || (cp >= 0x0410 && cp <= 0x042f))
        return cp + 0x20;
    if (cp >= 0x0400 && cp <= 0x040f)
        return cp + 0x50;
    return cp;
}

/*  Writes the folded form of a letter from the Latin tables. */
static int
s_latin(char c, char *out)
{
    if (c == ' ')
        return S_SEP;
    const char *to = c >= '0' && c <= '4' ? s_pairs[c - '0'] : NULL;
    if (!to) {
        out[0] = c;
        return 1;
    }
    memcpy(out, to, 2);
    return 2;
}

/*  The folded form of an ASCII character: a lower-case letter or a digit,
 *  or 0 for a separator. */
static char
s_ascii(uint8_t c)
{
    c = c >= 'A' && c <= 'Z' ? (uint8_t) (c + 32) : c;
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? (char) c : 0;
}

/*  What cp becomes in a word: its folded UTF-8 in out (at most 4 bytes;
 *  returns how many), 0 when it is dropped, S_SEP when it separates words. */
static int
s_fold(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = s_ascii((uint8_t) cp);
        return out[0] ? 1 : S_SEP;
    }
    if (s_in(s_dropped, sizeof s_dropped / sizeof s_dropped[0], cp))
        return 0;
    if (s_in(s_separators, sizeof s_separators / sizeof s_separators[0], cp))
        return S_SEP;
    if (cp >= 0xc0 && cp <= 0x17f)
        return s_latin(cp < 0x100 ? s_latin1[cp - 0xc0] : s_latin_a[cp - 0x100], out);
    for (size_t i = 0; i < sizeof s_special / sizeof s_special[0]; i++)
        if (s_special[i].cp == cp) {
            size_t n = strlen(s_special[i].to);
            memcpy(out, s_special[i].to, n);
            return (int) n;
        }
    return s_encode(s_lower(cp), out);
}

size_t
ru_fold_word(const char *text, size_t len, size_t *pos, char *out)
{
    size_t n = 0;
    int full = 0; /* the rest of a long word is passed over */
    while (*pos < len) {
        char f[4];
        uint8_t c = (uint8_t) text[*pos];
        int k;
        if (c < 0x80) { /* most text: no decoding */
            (*pos)++;
            f[0] = s_ascii(c);
            k = f[0] ? 1 : S_SEP;
        } else
            k = s_fold(s_decode((const uint8_t *) text, len, pos), f);
        if (k == S_SEP && n > 0)
            break;
        full = full || (k > 0 && n + (size_t) k > RU_FOLD_WORD_MAX);
        if (k > 0 && !full) {
            memcpy(out + n, f, (size_t) k);
            n += (size_t) k;
        }
    }
    out[n] = '\0';
    return n;
}

size_t
ru_fold_tag(const char *tag, size_t len, char *out)
{
    size_t n = 0, pos = 0;
    while (pos < len) {
        size_t before = pos;
        char f[4];
        int k = s_fold(s_decode((const uint8_t *) tag, len, &pos), f);
        const char *add = k == S_SEP ? tag + before : f;
        size_t add_len = k == S_SEP ? pos - before : (size_t) k;
        if (n + add_len > RU_FOLD_WORD_MAX)
            break;
        memcpy(out + n, add, add_len);
        n += add_len;
    }
    out[n] = '\0';
    return n;
}

void
ru_fold_terms(const char *q, size_t len, ru_fold_terms_t *t)
{
    size_t at = 0;
    t->n = 0;
    while (t->n < RU_FOLD_TERMS && (t->len[t->n] = ru_fold_word(q, len, &at, t->w[t->n])) > 0)
        t->n++;
}

void
ru_fold_match(const ru_fold_terms_t *t, const char *text, size_t len, int all_prefix,
              unsigned *found)
{
    char word[RU_FOLD_WORD_MAX + 1];
    size_t at = 0, n;
    while ((n = ru_fold_word(text, len, &at, word)) > 0)
        for (int i = 0; i < t->n; i++) {
            int prefix = all_prefix || i == t->n - 1;
            if (n >= t->len[i] && (prefix || n == t->len[i]) &&
                memcmp(word, t->w[i], t->len[i]) == 0)
                *found |= 1u << i;
        }
}

unsigned
ru_fold_all(const ru_fold_terms_t *t)
{
    return (1u << t->n) - 1;
}
