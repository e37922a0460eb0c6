/*  ru_dirldap.h - the site's employees imported from the company's LDAP
 *  directory, on a schedule and on demand.
 *
 *  A thread of its own walks the directory ([ldap] sync_filter under
 *  base_dn, page by page: ru_ldap_each) and hands every person to a
 *  complete run of the directory import (ru_dirsync.h): each employee's
 *  entry is published as their profile when it changed, and those no
 *  longer in the directory are published as departed. A walk the
 *  directory cuts short (it went away, a page failed) publishes what it
 *  saw and no departure: an outage must never look like the whole
 *  company leaving.
 *
 *  Runs start when the node starts, then every [directory]
 *  sync_interval_s (0: only on demand, none at start), and when an
 *  administrator asks
 *  (POST /api/ruche/v1/admin/directory/sync, `ruche admin directory
 *  sync`); one runs at a time, and asking during a run asks for nothing
 *  more. Its progress and the last run's report are for the operators
 *  (GET /api/ruche/v1/admin/directory/sync).
 *
 *  A person becomes an entry: the login attribute is the user name, the
 *  stable id attribute the directory id, the DN the key their reports name
 *  them by (the manager attribute holds the manager's DN); a disabled
 *  account (Active Directory's flag) is departed.
 */
#ifndef RU_DIRLDAP_H
#define RU_DIRLDAP_H

#include <stdint.h>

#include "ruche/ru_error.h"

#include "ru_dirsync.h"
#include "ru_node.h"

typedef struct ru_dirldap ru_dirldap_t;

typedef struct {
    int running;        /* a run is under way (report: so far) */
    uint64_t runs;      /* runs ended since the node started */
    uint64_t started_ms, ended_ms; /* of the run under way or the last one; 0: none */
    ru_err result;      /* of the last run ended: RU_OK, or why it stopped */
    uint64_t pages;     /* directory search pages read by the last or current run */
    uint64_t skipped;   /* directory entries that make no person */
    ru_dirsync_report_t report;
} ru_dirldap_status_t;

/*  Starts the sync of node's directory (node->ldap, which must be on and
 *  outlive it); the first run begins at once. RU_E_IO when the thread
 *  cannot start. */
RU_MUST_CHECK ru_err ru_dirldap_new(ru_node_t *node, ru_dirldap_t **out);
/*  Stops the thread (a run under way stops at its next person, without
 *  departures) and frees it. NULL-safe; NULLs the pointer. */
void ru_dirldap_destroy(ru_dirldap_t **self_p);
/*  Asks for a run now (none if one is under way), and fills out (may be
 *  NULL) with the sync's state at that moment, read under the same lock:
 *  the run that answers the request is number out->runs + 1, the one
 *  under way or the next to start. */
void ru_dirldap_kick(ru_dirldap_t *self, ru_dirldap_status_t *out);
/*  What the sync is doing, and did last. */
void ru_dirldap_status(ru_dirldap_t *self, ru_dirldap_status_t *out);

#endif
