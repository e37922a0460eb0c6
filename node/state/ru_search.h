/*  ru_search.h - the indexes that search reads: accounts by name, and
 *  hashtags by prefix (statuses by their words are ru_words.h's). The
 *  searches themselves are ru_search_query.h's.
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
 */
#ifndef RU_SEARCH_H
#define RU_SEARCH_H

#include "ruche/ru_error.h"
#include "ruche/ru_update.h"

#include "ru_store.h"

/*  The state machine's hooks, in its write transaction (the words of
 *  statuses are ru_words_update()'s). This one makes the user home|name
 *  findable by name, and by the words of display_name (may be empty). */
RU_MUST_CHECK ru_err ru_search_note_user(ru_txn_t *txn, const uint8_t *home, ru_str_t name,
                                         ru_str_t display_name);
/*  Makes a tag (as the tags index holds it) findable. */
RU_MUST_CHECK ru_err ru_search_note_tag(ru_txn_t *txn, const char *tag);

#endif
