/*  ru_search_query.h - search: statuses by their words, accounts by name,
 *  and hashtags by prefix, in the indexes the state machine keeps
 *  (ru_words.h, ru_search.h).
 *
 *  Words are those of ru_fold.h, folded for case, accents and ligatures:
 *  "reunion" finds "Réunion", "coeur" finds "cœur". Searches read in the
 *  caller's read transaction and append JSON to a list; they see what the
 *  viewer may see (ru_view_visible).
 */
#ifndef RU_SEARCH_QUERY_H
#define RU_SEARCH_QUERY_H

#include <jansson.h>

#include "ruche/ru_error.h"

#include "ru_view.h"

/*  What to look for. */
typedef struct {
    const char *q;
    long offset, limit;
    int following;       /* accounts: only those the viewer follows */
    int has_account;     /* statuses: only those of ... */
    uint64_t account_id; /* ... this account */
    long budget;         /* statuses: at most this many looked at ([http] walk_budget) */
} ru_search_query_t;

/*  Statuses holding every word of q (the last one may be the start of a
 *  word), newest first; or, for q the address of a status on any site
 *  (http://SITE/statuses/ID, http://SITE/@user/ID), that status. */
RU_MUST_CHECK ru_err ru_search_statuses(const ru_view_t *v, const ru_search_query_t *q,
                                        json_t *out);
/*  Accounts, of this site and of others seen here, whose user name starts
 *  with q ("alice", "@ali", "alice@paris"), or whose display name has words
 *  starting with each word of q; exact names first, then this site's.
 *  Employees who left and the old accounts of those who moved are not
 *  among them (ru_directory_hidden). */
RU_MUST_CHECK ru_err ru_search_accounts(const ru_view_t *v, const ru_search_query_t *q,
                                        json_t *out);
/*  Tags in use that start with q (a leading '#' ignored), folded as above;
 *  an exact match first, then in alphabetical order. */
RU_MUST_CHECK ru_err ru_search_tags(const ru_view_t *v, const ru_search_query_t *q, json_t *out);

#endif
