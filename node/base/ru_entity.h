/*  ru_entity.h - the hashtags, mentions and links inside a post's text.
 *
 *  A hashtag is '#' followed by letters, digits or '_' (any non-ASCII
 *  character counts as a letter, so #café and #日本 are tags); a mention is
 *  '@name' or '@name@site' with names in the form of ru_name_check. Either
 *  must start the text or follow a character that is not a letter, digit
 *  or one of "_@#/" (so e-mail addresses and URLs are not taken). ASCII
 *  letters are folded to lower case: #Ruche and #ruche are one tag.
 *
 *  A link is "http://" or "https://" (either case) followed by a host and
 *  then anything up to white space (a no-break or ideographic space too), a
 *  control character or one of <>"`{}|\^, starting where a tag could. Its
 *  end leaves out what closes the sentence rather than the address:
 *  trailing . , ; : ! ? ' and *, and a closing ) or ] that has
 *  no opening one inside the link ("(see https://x.org/a)." ends at 'a').
 *  A link is at most RU_MAX_URL bytes: a longer run is no link. Nothing
 *  inside a link (or inside such a run) is a tag or a mention, so
 *  "https://x.org/?q=#a" tags nothing. Only http and https are links: a
 *  "javascript:" or "data:" address stays text.
 *
 *  The scanner is a pure function of the text, so every node finds the
 *  same entities in the same post.
 */
#ifndef RU_ENTITY_H
#define RU_ENTITY_H

#include <stddef.h>

#include "ruche/ru_limits.h"

#define RU_MAX_TAG 100  /* bytes of a tag, '#' excluded */
#define RU_MAX_URL 2048 /* bytes of a link */

typedef enum { RU_ENTITY_TAG, RU_ENTITY_MENTION, RU_ENTITY_URL } ru_entity_kind;

typedef struct {
    ru_entity_kind kind;
    size_t start, len;          /* of the whole entity in the text, '#' or '@' included */
    char name[RU_MAX_TAG + 1];  /* tag or user name, lower case, NUL-terminated; links: "" */
    char site[RU_MAX_NAME + 1]; /* mentions: the site, "" for "this site" */
} ru_entity_t;

/*  Finds the first entity at or after *pos in text; on success fills e,
 *  moves *pos past it and returns 1; returns 0 when there is none left.
 *  A link's address is text[e->start .. e->start + e->len). */
int ru_entity_next(const char *text, size_t len, size_t *pos, ru_entity_t *e);
/*  The first link of text: 1 and its start and length, or 0. */
int ru_entity_first_url(const char *text, size_t len, size_t *start, size_t *url_len);

#endif
