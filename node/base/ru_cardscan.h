/*  ru_cardscan.h - what a link preview shows, read from the head of an
 *  HTML page: its Open Graph title, description, image and site name, or
 *  its <title> and description meta when it has no og: ones.
 *
 *  A small, tolerant scan rather than an HTML parser: it walks the tags of
 *  the head (comments, scripts and styles skipped whole, quoted attribute
 *  values may hold '>'), reads <meta property|name=... content=...> and
 *  the text of <title>, and stops at </head>, <body> or the end of the
 *  bytes it is given (the fetch caps them). Text is made fit to show: the
 *  common entities and numeric ones decoded, invalid UTF-8 replaced by
 *  U+FFFD, control characters dropped, white space collapsed, and each
 *  field cut, at a character's boundary, to its size below. The image is
 *  the address as the page wrote it (entities decoded); whether it may be
 *  shown is the caller's decision.
 *
 *  A pure function of the bytes: no allocation, any thread.
 */
#ifndef RU_CARDSCAN_H
#define RU_CARDSCAN_H

#include <stddef.h>

#include "ru_entity.h"

#define RU_CARD_TITLE 300        /* bytes of a title */
#define RU_CARD_DESCRIPTION 1000 /* ... of a description */
#define RU_CARD_PROVIDER 200     /* ... of a site name */

typedef struct {
    char title[RU_CARD_TITLE + 1];
    char description[RU_CARD_DESCRIPTION + 1];
    char provider[RU_CARD_PROVIDER + 1]; /* og:site_name */
    char image[RU_MAX_URL + 1];          /* og:image, as written; "" when none or too long */
} ru_cardscan_t;

/*  Reads the head of html (len bytes, not NUL-terminated) into out.
 *  Returns 1 when the page has a title (og:title, else <title>), else 0:
 *  a page without one makes no card. */
int ru_cardscan(const char *html, size_t len, ru_cardscan_t *out);

#endif
