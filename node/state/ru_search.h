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
 *                                                  of display names; a kind
 *                                                  byte and a word of a
 *                                                  person's title, department,
 *                                                  site, office or skills
 *    dirids    dir id | 0 | home | name | 0 -> hlc (8) | departed (1)
 *                                                  the profiles that carry
 *                                                  a directory id
 *    tagnames  folded tag | 0 | tag         -> ""   every tag ever used
 *  people and tagnames only grow: a term that no longer fits (a changed
 *  display name or title, a tag whose statuses are all gone) is checked and
 *  passed over when searched. A store made before these indexes gets them,
 *  from what it holds, with the first update it applies.
 *
 *  One employee is one directory id, whichever site is their home: when
 *  they move, their new home publishes a profile with the same id, and
 *  dirids holds both; ru_search_dir_current() says which one stands for
 *  them (ru_search_query.h and the views show only that one).
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
/*  The kinds of people terms that are not names, the byte before the
 *  folded word (a folded word never starts with one). */
typedef enum {
    RU_PEOPLE_TITLE = 1,
    RU_PEOPLE_DEPARTMENT,
    RU_PEOPLE_SITE,
    RU_PEOPLE_OFFICE,
    RU_PEOPLE_SKILL,
} ru_people_kind;

/*  Makes user home|name findable by the words of person's fields, and
 *  notes its directory id with hlc, the profile's; old_dir_id, the id of
 *  the profile it replaces (may be empty), is dropped if it changed. */
RU_MUST_CHECK ru_err ru_search_note_person(ru_txn_t *txn, const uint8_t *home, ru_str_t name,
                                           const ru_person_t *person, ru_str_t old_dir_id,
                                           uint64_t hlc);

/*  The user key (home|name|0, into user, RU_DBKEY_USER bytes; its length
 *  returned, 0 if none) that stands for the employee of directory id id:
 *  of the profiles that carry it, one not departed before a departed one,
 *  then the latest (hlc), then the least key. */
size_t ru_search_dir_current(ru_txn_t *txn, ru_str_t id, uint8_t *user);

/*  The person of the profile at user (home|name|0, len bytes), into p
 *  (views into txn); 0 when there is no profile or it carries none. */
int ru_search_person(ru_txn_t *txn, const uint8_t *user, size_t len, ru_person_t *p);

/*  The user key that stands for the employee of directory id id when it is
 *  not user (they moved from it): into out (RU_DBKEY_USER bytes), its
 *  length; 0 when it is user, or nobody. */
size_t ru_search_dir_elsewhere(ru_txn_t *txn, ru_str_t id, const uint8_t *user, size_t len,
                               uint8_t *out);

/*  Makes a tag (as the tags index holds it) findable. */
RU_MUST_CHECK ru_err ru_search_note_tag(ru_txn_t *txn, const char *tag);

#endif
