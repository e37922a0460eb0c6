/*  ru_entity.h - the hashtags and mentions inside a post's text.
 *
 *  A hashtag is '#' followed by letters, digits or '_' (any non-ASCII
 *  character counts as a letter, so #café and #日本 are tags); a mention is
 *  '@name' or '@name@site' with names in the form of ru_name_check. Either
 *  must start the text or follow a character that is not a letter, digit
 *  or one of "_@#/" (so e-mail addresses and URLs are not taken). ASCII
 *  letters are folded to lower case: #Ruche and #ruche are one tag.
 *
 *  The scanner is a pure function of the text, so every node finds the
 *  same entities in the same post.
 */
#ifndef RU_ENTITY_H
#define RU_ENTITY_H

#include <stddef.h>

#include "ruche/ru_limits.h"

#define RU_MAX_TAG 100 /* bytes of a tag, '#' excluded */

typedef enum { RU_ENTITY_TAG, RU_ENTITY_MENTION } ru_entity_kind;

typedef struct {
    ru_entity_kind kind;
    size_t start, len;          /* of the whole entity in the text, '#' or '@' included */
    char name[RU_MAX_TAG + 1];  /* tag or user name, lower case, NUL-terminated */
    char site[RU_MAX_NAME + 1]; /* mentions: the site, "" for "this site" */
} ru_entity_t;

/*  Finds the first entity at or after *pos in text; on success fills e,
 *  moves *pos past it and returns 1; returns 0 when there is none left. */
int ru_entity_next(const char *text, size_t len, size_t *pos, ru_entity_t *e);

#endif
