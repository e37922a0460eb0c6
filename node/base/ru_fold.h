/*  ru_fold.h - text cut into words and folded, so that a search finds
 *  them however they were typed.
 *
 *  A word is a run of letters and digits, folded for French and English
 *  and their neighbours: lower case (Latin, Greek, Cyrillic), accents off
 *  (é -> e, ç -> c, also when typed as a letter and a combining accent),
 *  ligatures and special letters spelt out (œ -> oe, æ -> ae, ß -> ss,
 *  ﬁ -> fi). Apostrophes, hyphens, '#', '@', other punctuation, symbols
 *  and emoji separate words ("l'été" is "l" and "ete"); characters outside
 *  the Latin, Greek and Cyrillic tables (CJK, Arabic ...) count as
 *  letters, unchanged. A word is cut after RU_FOLD_WORD_MAX bytes, the
 *  same way in texts and queries, so long words still match.
 *
 *  Pure functions of the text: every node folds a post the same way.
 */
#ifndef RU_FOLD_H
#define RU_FOLD_H

#include <stddef.h>

#define RU_FOLD_WORD_MAX 64 /* bytes of a folded word */

/*  Finds the first word of text at or after *pos: writes it folded, with a
 *  NUL, to out (RU_FOLD_WORD_MAX + 1 bytes), moves *pos past it and returns
 *  its length; 0 when no word is left. Bytes that are not UTF-8 separate
 *  words. */
size_t ru_fold_word(const char *text, size_t len, size_t *pos, char *out);

/*  Writes the folded form of a tag (or of a query for tags) to out, at
 *  most RU_FOLD_WORD_MAX bytes and a NUL: each letter folded as in words,
 *  every other character kept. Returns its length. */
size_t ru_fold_tag(const char *tag, size_t len, char *out);

/*  The words of a query, folded: at most RU_FOLD_TERMS count. */
#define RU_FOLD_TERMS 8

typedef struct {
    char w[RU_FOLD_TERMS][RU_FOLD_WORD_MAX + 1];
    size_t len[RU_FOLD_TERMS];
    int n;
} ru_fold_terms_t;

/*  Cuts the first len bytes of q into t. */
void ru_fold_terms(const char *q, size_t len, ru_fold_terms_t *t);
/*  Adds to *found (bit i for term i) the terms that text holds: as a
 *  whole word, or as the start of a word for the last term (one a user
 *  may not have finished typing), or for every term when all_prefix. */
void ru_fold_match(const ru_fold_terms_t *t, const char *text, size_t len, int all_prefix,
                   unsigned *found);
/*  The value *found has when text holds every term of t. */
unsigned ru_fold_all(const ru_fold_terms_t *t);

#endif
