/*  ru_event.h - what an applied update shows the streaming API: the status
 *  event it makes, which streams carry it, and its payload as each viewer
 *  sees it.
 *
 *  The events, by the kind of update:
 *    post, reply  "update", the new status
 *    edit         "status.update", the status as edited
 *    delete       "delete", the status's id
 *  and none for the others, nor for updates the state machine applied as
 *  no-ops (a reply to nothing, an edit that a later one superseded or that
 *  is not the author's, a delete of someone else's status).
 *
 *  Which streams carry a status (the rules of the timelines the streams
 *  follow, so that a client sees live what it would see on reloading):
 *    public, public:local, public:remote   a public status (of any site,
 *                                          this site's, the others')
 *    hashtag, hashtag:local                a public status with the tag
 *    user                                  a status of the viewer's home
 *                                          timeline (theirs, or of whom
 *                                          they follow) that they may see
 *    user:notification                     none (notifications only)
 *  A deleted status is matched on what it was: its record keeps its
 *  author and visibility, and its text (tags and mentions) is read from
 *  the post or reply in the log.
 *
 *  An event reads the store in the caller's read transaction, which must
 *  see the update committed, and lives until that transaction ends. It is
 *  one thread's (the streaming hub's).
 */
#ifndef RU_EVENT_H
#define RU_EVENT_H

#include "ruche/ru_error.h"
#include "ruche/ru_update.h"

#include "ru_node.h"

/*  The streams of Mastodon's streaming API that ruche serves. */
typedef enum {
    RU_STREAM_USER,
    RU_STREAM_USER_NOTIFICATION,
    RU_STREAM_PUBLIC,
    RU_STREAM_PUBLIC_LOCAL,
    RU_STREAM_PUBLIC_REMOTE,
    RU_STREAM_HASHTAG,
    RU_STREAM_HASHTAG_LOCAL,
    RU_STREAM_KINDS
} ru_stream_kind;

typedef struct ru_event ru_event_t;

/*  Reads the applied update ref back from the log into u (initialized by
 *  the caller; its strings are views into txn). RU_E_NOT_FOUND if the
 *  log has no such update. */
RU_MUST_CHECK ru_err ru_event_read_update(ru_txn_t *txn, const ru_ref_t *ref, ru_update_t *u);

/*  The status event of the applied update u into *out (owned by the
 *  caller), read in txn; *out NULL when u makes none. Errors are store
 *  errors and RU_E_NOMEM. */
RU_MUST_CHECK ru_err ru_event_new(ru_node_t *node, ru_txn_t *txn, const ru_update_t *u,
                                  ru_event_t **out);
/*  NULL-safe. */
void ru_event_destroy(ru_event_t **self_p);

/*  "update", "status.update" or "delete". */
const char *ru_event_name(const ru_event_t *self);
/*  Does a stream of kind carry it, for viewer (a user of this node, NULL
 *  for nobody signed in)? tag: a hashtag stream's, as indexed (ru_entity's
 *  lower case form), else ignored. */
int ru_event_wants(const ru_event_t *self, ru_stream_kind kind, const char *tag,
                   const char *viewer);
/*  The payload for viewer: the Status JSON as they see it (rendered once
 *  per viewer), or the deleted status's id. Borrowed: valid until the
 *  event is destroyed. NULL out of memory. */
const char *ru_event_payload(ru_event_t *self, const char *viewer);

#endif
