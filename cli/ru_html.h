/*  ru_html.h - status HTML to terminal text: tags stripped, entities decoded,
 *  lines wrapped.
 *
 *  A status's "content" is the small HTML that Mastodon servers send
 *  ("<p>hi <a href=...>@bob</a></p>"). The CLI shows it as plain text, so
 *  these functions turn it into text a terminal can print safely: whatever
 *  the server sends, the result holds no control characters (no escape
 *  sequences reach the terminal) other than the newlines they make on
 *  purpose. All functions are pure: no I/O, no global state.
 *
 *  Every result is a malloc'd NUL-terminated string owned by the caller
 *  (free()); on failure *out is left NULL.
 */
#ifndef RU_HTML_H
#define RU_HTML_H

#include <stddef.h>

#include "ruche/ru_error.h"

/*  Converts status HTML to plain text:
 *  - tags are removed; <br> becomes a newline; <p>, </p> and the other
 *    block tags (div, blockquote, ul, ol, pre, h1-h6) separate paragraphs
 *    by one blank line; <li> starts a line with "- "; comments are skipped;
 *  - runs of white space collapse into one space, as a browser shows them;
 *  - &amp; &lt; &gt; &quot; &apos; &nbsp; and numeric entities (&#39;
 *    &#x1F41D;) are decoded; a numeric entity naming no character (NUL,
 *    a surrogate, beyond U+10FFFF) becomes U+FFFD; anything else after '&'
 *    stays as written;
 *  - a '<' that cannot start a tag ("a < b", "<3") stays as text; a tag
 *    left open at the end of the input is dropped;
 *  - C0 and C1 control characters and DEL are dropped.
 *  No leading or trailing white space. RU_E_NOMEM if memory runs out. */
RU_MUST_CHECK ru_err ru_html_to_text(const char *html, char **out);

/*  Copies plain text (a name, a description) without its control
 *  characters. With keep_newlines, '\n' is kept; otherwise newlines and
 *  tabs become spaces. Invalid UTF-8 bytes are replaced by '?'.
 *  RU_E_NOMEM if memory runs out. */
RU_MUST_CHECK ru_err ru_html_clean(const char *text, int keep_newlines, char **out);

/*  Wraps text at width columns: each line of the input is cut at spaces so
 *  that no output line is longer than width, except a single word longer
 *  than width (a long URL), which gets a line of its own. Runs of spaces
 *  inside a line become one. A column is a code point: wide characters
 *  count as one. Lines are joined by '\n'; a width of 0 counts as 1.
 *  RU_E_NOMEM if memory runs out. */
RU_MUST_CHECK ru_err ru_html_wrap(const char *text, size_t width, char **out);

/*  Columns of the first len bytes of the UTF-8 text s: the bytes that do
 *  not continue a sequence (10xxxxxx), so one per code point. */
size_t ru_html_columns(const char *s, size_t len);

#endif
