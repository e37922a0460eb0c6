/*  ru_directory.h - finding people: the employees of every site, browsed
 *  and searched by name, title, department, site, office and skill, and
 *  ranked by who can help with a subject.
 *
 *  Every site knows every employee of the company once their home site
 *  published their profile (the directory sync does so for everyone, not
 *  only those who signed in), so every site answers for the whole company
 *  from its own store: no site is asked over the network.
 *
 *  The indexes are the state machine's (ru_search.h): the people index
 *  (names, words of display names, and a kind byte before the words of a
 *  person's title, department, site, office and skills), dirids (which
 *  account stands for which employee), and the statuses' tags. Words are
 *  folded as the search folds them (ru_fold.h): "reseau" finds
 *  "Réseaux", "Ingé" finds "Ingénieure". A search reads its candidates
 *  under its narrowest word, at most [directory] max_candidates index
 *  entries, so that the cost of one search is bounded at 77,000 employees
 *  and beyond; a browse (no query) reads only the page it shows, in the
 *  order of sites and then user names.
 *
 *  Who is listed: people whose profile this site holds, except those who
 *  left the company (departed) and the old accounts of those who moved to
 *  another site (the account their directory id stands for now is
 *  listed: one person, one entry).
 *
 *  Searches (q, and the filters title, department, site, office, skill):
 *  each word must start a word of one of the person's name, display name,
 *  title, department, site, office or skills (all words of a filter in
 *  its own field). Ranked: exact user name, then display name, then
 *  skills, then title, then the rest; this site's people before others'
 *  at equal rank; then by user name.
 *
 *  "Who can help with X" (help): people are scored by X among their
 *  skills (10 per word), in their title or department (3), and by their
 *  statuses tagged #X among the [directory] help_posts newest statuses of
 *  that tag (1 each, at most 20); the best first. Each is shown with what
 *  made their score: "match": {"score", "posts" (the statuses tagged),
 *  "skill" (the subject's words found among their skills), "work" (the
 *  others found in their title or department)}. A search's match names
 *  its rank: {"rank": "username" | "display_name" | "skill" | "title" |
 *  "other"}.
 */
#ifndef RU_DIRECTORY_H
#define RU_DIRECTORY_H

#include <jansson.h>

#include "ruche/ru_error.h"

#include "ru_view.h"

typedef struct {
    const char *q; /* may be NULL or empty: everyone (the other filters apply) */
    const char *title, *department, *site, *office, *skill; /* NULL: no filter */
    const char *help; /* NULL: a search; else who can help with this */
    int local;        /* only this site's people */
    long offset, limit;
    long max_candidates; /* [directory] max_candidates */
    long help_posts;     /* [directory] help_posts */
} ru_directory_query_t;

/*  Appends the Accounts found to out, each with "ruche": {..., "match": {why
 *  it was found}}. RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_directory_search(const ru_view_t *v, const ru_directory_query_t *q,
                                         json_t *out);

/*  Is the user key (home|name|0) hidden from directories and account
 *  searches: departed, or an old account of an employee who moved? */
int ru_directory_hidden(ru_txn_t *txn, const uint8_t *user, size_t len);

#endif
