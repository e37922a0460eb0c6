/*  ru_people.h - the pure parts of finding people and importing the
 *  company directory from the command line: the request path of `ruche
 *  people`, and for `ruche admin directory import` the entries of a file,
 *  the checks the node makes on each one, the chunks that fit the node's
 *  largest request body, and the sum of the node's reports.
 *
 *  A directory file is what POST /api/ruche/v1/admin/directory takes
 *  (node/api/ru_api_dirsync.c): a JSON array of entries, or an object
 *  {"entries": [...], "complete": BOOL}. An entry is an object whose
 *  members username, display_name, dir_id, title, department, site,
 *  office, phone, email and manager are strings, skills a list of at most
 *  RU_MAX_SKILLS strings and departed a boolean, any of them absent. The
 *  node refuses a whole request for one entry of the wrong shape; since a
 *  large file goes as several requests, the client checks every entry
 *  first, so that such a file is refused whole before anything is sent.
 *
 *  A chunk is a run of consecutive entries whose request body,
 *  {"complete":BOOL,"entries":[...]} as ru_client sends it (jansson's
 *  JSON_COMPACT), is at most the node's max_body bytes, and which holds at
 *  most a given number of entries. The sizes are exact: each entry is
 *  measured as it will be written.
 *
 *  No I/O, no global state. Strings returned are malloc'd, owned by the
 *  caller (free()); on failure *out is left NULL.
 */
#ifndef RU_PEOPLE_H
#define RU_PEOPLE_H

#include <jansson.h>
#include <stddef.h>

#include "ruche/ru_error.h"

#define RU_PEOPLE_PATH "/api/ruche/v1/people"
/*  The largest page the node gives (a larger limit gets this many). */
#define RU_PEOPLE_MAX_LIMIT 80

/*  A search: NULL or "" leaves a parameter out; limit and offset 0 too. */
typedef struct {
    const char *q, *title, *department, *site, *office, *skill, *help;
    int local;
    long limit, offset;
} ru_people_query_t;

/*  The request path of a search, RU_PEOPLE_PATH with its query, every
 *  value percent-encoded. RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_people_path(const ru_people_query_t *q, char **out);

/*  The entries of a parsed directory file (an array, or an object with an
 *  "entries" array: see above) into *entries (a view into file), and its
 *  "complete" member into *complete (0 for an array or when absent).
 *  RU_E_TYPE with why (size bytes) for anything else. */
RU_MUST_CHECK ru_err ru_people_entries(const json_t *file, const json_t **entries, int *complete,
                                       char *why, size_t size);

/*  Checks one entry's shape as the node does. RU_OK, or RU_E_TYPE with
 *  why (size bytes) saying what is wrong ("not an object", "skills is not
 *  a list of strings"), naming the member the node's 422 would. */
RU_MUST_CHECK ru_err ru_people_check_entry(const json_t *entry, char *why, size_t size);

/*  Bytes of the request body of every entry of entries (complete or
 *  not), sent as one request. RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_people_body_size(const json_t *entries, int complete, size_t *bytes);

/*  The chunk that starts at entry from: *count entries (at least one, at
 *  most max_entries) whose body takes *bytes, at most max_body. The last
 *  chunk may be shorter; from == size: *count 0. RU_E_TOO_BIG when the
 *  entry from alone does not fit (*bytes: its body's size), RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_people_chunk(const json_t *entries, size_t from, size_t max_body,
                                     size_t max_entries, size_t *count, size_t *bytes);

/*  Adds a report of the node ({"seen", "published", "unchanged",
 *  "refused", "departed", "reasons": [...]}) into total, an object of the
 *  same members (missing ones start at 0 and []). RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_people_tally(json_t *total, const json_t *report);

/*  The tags a "who can help" subject is matched with, as the node reads
 *  them (words split at spaces and commas, a leading '#' dropped):
 *  "#a" or "#a or #b". RU_E_NOMEM; "" for a subject of no word. */
RU_MUST_CHECK ru_err ru_people_help_tags(const char *help, char **out);

#endif
