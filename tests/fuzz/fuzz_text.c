/*  fuzz_text.c - libFuzzer target for the code that reads what users
 *  type: the hashtag, mention and link scanner (ru_entity.c) and the word
 *  folding of search (ru_fold.c); and for what reads the pages users link
 *  to (ru_cardscan.c). Post texts reach them as valid UTF-8, search
 *  queries and pages as any bytes; the input is taken as all three.
 *
 *  Checked besides memory safety: every entity lies inside the text,
 *  starts with its '#', '@' or "http" and moves the scan forward, its name
 *  is the text's, lower-cased; a link is http(s), at most RU_MAX_URL
 *  bytes, holds no white space and does not end with a full stop; a
 *  card's fields are NUL-terminated within their sizes and valid UTF-8
 *  without control characters; a folded word fits RU_FOLD_WORD_MAX, is valid
 *  UTF-8 when the text is, and folds to itself again (what a search for
 *  the word finds is what was indexed); a query's own text holds every
 *  term of the query.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "ru_cardscan.h"
#include "ru_entity.h"
#include "ru_fold.h"
#include "ruche/ru_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char
s_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

/*  The n bytes at text are name, lower-cased. */
static int
s_lower_equal(const char *text, const char *name, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s_lower(text[i]) != name[i])
            return 0;
    return 1;
}

static void
s_check_link(const char *text, const ru_entity_t *e)
{
    const char *u = text + e->start;
    fuzz_require(e->len <= RU_MAX_URL && !e->name[0] && !e->site[0], "a link's size");
    fuzz_require((e->len > 7 && s_lower_equal(u, "http://", 7)) ||
                     (e->len > 8 && s_lower_equal(u, "https://", 8)),
                 "a link is http or https");
    for (size_t i = 0; i < e->len; i++)
        fuzz_require((unsigned char) u[i] > 0x20 && u[i] != 0x7f && u[i] != '<' && u[i] != '"',
                     "a link holds no white space, control, '<' or quote");
    fuzz_require(!strchr(".,;:!?'*", u[e->len - 1]), "a link does not end a sentence");
}

static void
s_check_entity(const char *text, size_t len, const ru_entity_t *e)
{
    size_t name_len = strlen(e->name), site_len = strlen(e->site);
    fuzz_require(e->start < len && e->len >= 2 && e->len <= len - e->start, "entity inside text");
    if (e->kind == RU_ENTITY_URL) {
        s_check_link(text, e);
        return;
    }
    fuzz_require(text[e->start] == (e->kind == RU_ENTITY_TAG ? '#' : '@'), "entity's sign");
    fuzz_require(name_len >= 1 && s_lower_equal(text + e->start + 1, e->name, name_len),
                 "entity's name is the text's, lower-cased");
    if (e->kind == RU_ENTITY_TAG) {
        fuzz_require(name_len <= RU_MAX_TAG && e->len == 1 + name_len && !e->site[0], "a tag");
        return;
    }
    fuzz_require(ru_name_check(e->name, name_len) == RU_OK, "a mention names a valid user name");
    fuzz_require(e->len == 1 + name_len + (site_len ? 1 + site_len : 0), "a mention's length");
    if (site_len)
        fuzz_require(text[e->start + 1 + name_len] == '@' &&
                         s_lower_equal(text + e->start + 2 + name_len, e->site, site_len),
                     "a mention's site is the text's, lower-cased");
}

static void
s_check_entities(const char *text, size_t len)
{
    size_t pos = 0;
    ru_entity_t e;
    while (ru_entity_next(text, len, &pos, &e)) {
        size_t before = e.start;
        s_check_entity(text, len, &e);
        fuzz_require(pos == e.start + e.len && pos > before, "the scan moves past the entity");
    }
    fuzz_require(pos == len, "the scan ends at the end of the text");
}

static void
s_check_words(const char *text, size_t len, int utf8)
{
    char word[RU_FOLD_WORD_MAX + 1], again[RU_FOLD_WORD_MAX + 1];
    size_t pos = 0, n;
    while ((n = ru_fold_word(text, len, &pos, word)) > 0) {
        fuzz_require(n <= RU_FOLD_WORD_MAX && strlen(word) == n, "a folded word fits");
        fuzz_require(!utf8 || ru_utf8_check(word, n, NULL) == RU_OK,
                     "a word folded from UTF-8 is UTF-8");
        size_t at = 0;
        fuzz_require(ru_fold_word(word, n, &at, again) == n && memcmp(word, again, n) == 0,
                     "a folded word folds to itself");
        fuzz_require(ru_fold_word(word, n, &at, again) == 0, "a folded word is one word");
    }
    fuzz_require(pos == len, "the words end at the end of the text");
    n = ru_fold_tag(text, len, word); /* keeps what is not a letter, a NUL byte too */
    fuzz_require(n <= RU_FOLD_WORD_MAX && word[n] == '\0', "a folded tag fits");
}

static void
s_check_query(const char *text, size_t len)
{
    ru_fold_terms_t t;
    ru_fold_terms(text, len, &t);
    fuzz_require(t.n >= 0 && t.n <= RU_FOLD_TERMS, "a query has at most RU_FOLD_TERMS terms");
    unsigned found = 0;
    ru_fold_match(&t, text, len, 0, &found);
    fuzz_require(found == ru_fold_all(&t), "a query's text holds every term of the query");
}

/*  A card field: NUL-terminated within size, UTF-8, no control. */
static void
s_check_field(const char *f, size_t size)
{
    size_t n = strnlen(f, size);
    fuzz_require(n < size, "a card field is NUL-terminated within its size");
    fuzz_require(ru_utf8_check(f, n, NULL) == RU_OK, "a card field is UTF-8");
    for (size_t i = 0; i < n; i++)
        fuzz_require((unsigned char) f[i] >= 0x20 && f[i] != 0x7f, "a card field has no control");
}

static void
s_check_card(const char *html, size_t len)
{
    ru_cardscan_t c;
    int titled = ru_cardscan(html, len, &c);
    fuzz_require(titled == (c.title[0] != '\0'), "a card has a title when the scan says so");
    s_check_field(c.title, sizeof c.title);
    s_check_field(c.description, sizeof c.description);
    s_check_field(c.provider, sizeof c.provider);
    s_check_field(c.image, sizeof c.image);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *) data;
    int utf8 = ru_utf8_check(text, size, NULL) == RU_OK;
    s_check_entities(text, size);
    s_check_words(text, size, utf8);
    s_check_query(text, size);
    s_check_card(text, size);
    return 0;
}
