/*  ru_dirsync.h - this site's employees, from the company directory, made
 *  known to every site as their profiles.
 *
 *  Each site imports its own employees (those the directory places there)
 *  and publishes each one's entry as a signed profile update of theirs
 *  (ru_profile.h: the directory's part of the profile; the employee's own
 *  part is never touched), so every site knows every colleague, whether
 *  or not they ever signed in. An entry that did not change publishes
 *  nothing: a run over 77,000 employees sends only what changed.
 *
 *  An entry is refused, and reported, not merged: one with no name, a
 *  name that is not a valid user name, a name that another employee (a
 *  different directory id) has here, in their profile or in the account
 *  they signed in with, or one taken by a local account (the
 *  administrator's, say); a field past the protocol's limits.
 *
 *  A complete run (every employee of the site, as the directory sync's
 *  are) also publishes the departure of those who are no longer in it:
 *  their profile says departed, they disappear from every site's
 *  directory and search, and their account here can no longer sign in and
 *  loses its sessions. An employee who moved to another site is published
 *  by their new site under the same directory id; every site then shows
 *  the new account for them, nothing is duplicated.
 *
 *  The entries come from the LDAP directory, or from a file of JSON
 *  entries given to the administrators' endpoint (POST
 *  /api/ruche/v1/admin/directory: ru_api_dirsync.c).
 */
#ifndef RU_DIRSYNC_H
#define RU_DIRSYNC_H

#include <stddef.h>
#include <stdint.h>

#include "ruche/ru_error.h"
#include "ruche/ru_update.h"

#include "ru_node.h"

/*  One employee as the directory describes them. Strings are the
 *  caller's; person's fields other than skills are the directory's
 *  entry; skills are set only when the directory has any (n_skills > 0),
 *  else the employee's own are kept. */
typedef struct {
    ru_str_t name;         /* the user name at this site */
    ru_str_t display_name; /* empty: the directory has none, the profile's is kept */
    ru_person_t person;    /* person.dir_id must not be empty */
    /*  Where the directory names a manager by another key than their id
     *  (LDAP: the manager's DN), key is the entry's own such key and
     *  manager_key its manager's, both compared ignoring ASCII case: the
     *  run makes person.manager the id of the entry whose key it is, even
     *  when the manager comes later in the run (the entry waits for the
     *  end). Both may be empty; person.manager, when set, wins. */
    ru_str_t key, manager_key;
    /*  The directory's photo of them (photo_len 0: none), made their
     *  avatar when [directory] owned names avatar and it changed since the
     *  last one made (the database dirphotos keeps the hash of each);
     *  photos_known: the source gives photos, so none means the avatar
     *  the directory gave goes; photo_too_big: the source left one out. */
    const uint8_t *photo;
    size_t photo_len;
    int photos_known, photo_too_big;
} ru_dir_entry_t;

#define RU_DIRSYNC_KEY_MAX 1024 /* bytes of such a key; a longer one is not used */

/*  A run's tally, and the reasons of the first refusals. */
#define RU_DIRSYNC_REASONS 20
typedef struct {
    uint64_t seen, published, unchanged, refused, departed;
    uint64_t photos, bad_photos; /* photos made avatars; photos refused (with a reason) */
    char reasons[RU_DIRSYNC_REASONS][160];
    int n_reasons;
} ru_dirsync_report_t;

typedef struct ru_dirsync_run ru_dirsync_run_t;

/*  Finds the directory id of the entry whose key is key (in lower case),
 *  into id (size bytes): for a manager the run did not see (one of another
 *  site). RU_E_NOT_FOUND: none; any other error is logged and taken for
 *  none. */
typedef ru_err (*ru_dirsync_resolve_fn)(void *ctx, const char *key, char *id, size_t size);

/*  Starts a run on node; complete: departures are published at its end;
 *  resolve (may be NULL) finds the managers the run did not see. */
RU_MUST_CHECK ru_err ru_dirsync_begin(ru_node_t *node, int complete, ru_dirsync_resolve_fn resolve,
                                      void *resolve_ctx, ru_dirsync_run_t **out);
/*  Imports one entry into the run (a refusal is counted and reported,
 *  not an error). Errors: the store's (the run should stop). */
RU_MUST_CHECK ru_err ru_dirsync_entry(ru_dirsync_run_t *run, const ru_dir_entry_t *e);
/*  The run's tally so far, into report. */
void ru_dirsync_progress(const ru_dirsync_run_t *run, ru_dirsync_report_t *report);
/*  Ends the run (departures if complete), fills report, frees the run.
 *  NULL-safe run; abort: no departures (the run was cut short). */
RU_MUST_CHECK ru_err ru_dirsync_end(ru_dirsync_run_t *run, int abort, ru_dirsync_report_t *report);

#endif
