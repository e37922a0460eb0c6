/*  ru_search.h - search: statuses by their words, accounts by name, and
 *  hashtags by prefix.
 *
 *  Words are those of ru_fold.h, folded for case, accents and ligatures:
 *  "reunion" finds "Réunion", "coeur" finds "cœur".
 *
 *  The indexes are local databases kept by the state machine (ru_state.c)
 *  as it applies updates, so they follow edits (old words out, new ones
 *  in) and deletes (a deleted status leaves no word behind): the words of
 *  statuses (ru_words.h), and
 *    people    term | 0 | home | name | 0   -> ""   user names and the words
 *                                                  of display names
 *    tagnames  folded tag | 0 | tag         -> ""   every tag ever used
 *  people and tagnames only grow: a term that no longer fits (a changed
 *  display name, a tag whose statuses are all gone) is checked and passed
 *  over when searched. A store made before these indexes gets them, from
 *  what it holds, with the first update it applies.
 *
 *  Searches read in the caller's read transaction and append JSON to a
 *  list; they see what the viewer may see (ru_view_visible).
 */
#ifndef RU_SEARCH_H
#define RU_SEARCH_H

#include <jansson.h>
#include <stddef.h>

#include "ruche/ru_error.h"
#include "ruche/ru_update.h"

#include "ru_fold.h"
#include "ru_store.h"
#include "ru_view.h"

/*  The state machine's hooks, in its write transaction (the words of
 *  statuses are ru_words_update()'s). This one makes the user home|name
 *  findable by name, and by the words of display_name (may be empty). */
RU_MUST_CHECK ru_err ru_search_note_user(ru_txn_t *txn, const uint8_t *home, ru_str_t name,
                                         ru_str_t display_name);
/*  Makes a tag (as the tags index holds it) findable. */
RU_MUST_CHECK ru_err ru_search_note_tag(ru_txn_t *txn, const char *tag);

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
 *  starting with each word of q; exact names first, then this site's. */
RU_MUST_CHECK ru_err ru_search_accounts(const ru_view_t *v, const ru_search_query_t *q,
                                        json_t *out);
/*  Tags in use that start with q (a leading '#' ignored), folded as above;
 *  an exact match first, then in alphabetical order. */
RU_MUST_CHECK ru_err ru_search_tags(const ru_view_t *v, const ru_search_query_t *q, json_t *out);

#endif
