/*  ru_url.h - the bits of URL handling the CLI needs: percent-encoding of
 *  path segments and query values, reading a query parameter, the
 *  rel="next" target of a Link header (Mastodon's timeline paging), and
 *  checking the server URL a user gives.
 *
 *  All functions are pure. Strings they return are malloc'd, NUL-terminated
 *  and owned by the caller (free()); on failure *out is left NULL.
 */
#ifndef RU_URL_H
#define RU_URL_H

#include "ruche/ru_error.h"

/*  Percent-encodes s: every byte except A-Z a-z 0-9 - . _ ~ becomes %XX,
 *  so the result is safe as one path segment or one query value.
 *  RU_E_NOMEM if memory runs out. */
RU_MUST_CHECK ru_err ru_url_escape(const char *s, char **out);

/*  Finds the query parameter key of url (between '?' and '#') and returns
 *  its value percent-decoded ('+' read as a space). RU_E_NOT_FOUND if the
 *  parameter is absent, RU_E_TEXT_FORM if its value has a broken %XX or
 *  decodes to a NUL, RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_url_query_get(const char *url, const char *key, char **out);

/*  Returns the target of the link whose rel is "next" in the value of a
 *  Link header (RFC 8288), e.g. from
 *  '<https://h/api/v1/timelines/home?max_id=7>; rel="next", <...>; rel="prev"'
 *  the first URL. rel may be quoted or not, and may list several relations.
 *  RU_E_NOT_FOUND if there is no such link, RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_url_link_next(const char *link, char **out);

/*  Checks a server URL and returns its normal form: the scheme "http" or
 *  "https" (any case, written lower case), "://", a non-empty host with an
 *  optional port, an optional path; trailing slashes removed. Refused with
 *  RU_E_INVALID: other schemes, user names or passwords in the URL, a
 *  query or fragment, white space and control characters. RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_url_server(const char *url, char **out);

#endif
