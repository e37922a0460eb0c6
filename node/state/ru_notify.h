/*  ru_notify.h - notifications: what happened to this node's users.
 *
 *  A notification tells a user of this node that someone else mentioned
 *  them (a post, a reply, or an edit that adds the mention), replied to
 *  one of their statuses, liked one, or followed them. They are derived
 *  from applied updates, local and replicated alike, so "@bob@nozay"
 *  written at paris reaches bob once the post has been replicated to
 *  nozay. Nobody is notified of their own actions.
 *
 *  Notifications are local state (the notifs and notif_keys databases, not
 *  in the state digest): each node keeps those of its own users. This
 *  module keeps them; ru_notify_view.h shows them to clients.
 *  ru_notify_apply() runs inside ru_state_apply(), in the store actor's
 *  transaction, and reads the replicated state only; the wall clock it
 *  reads for ids touches nothing replicated.
 *
 *  Rules, as Mastodon has them:
 *    - one notification per status and recipient: a reply that mentions
 *      its parent's author gives them one, of type mention; a reply that
 *      does not, one of type reply;
 *    - an unlike or an unfollow takes its favourite or follow notification
 *      back;
 *    - a notification whose status was deleted, or that the recipient may
 *      no longer see, is skipped when read (it stays stored, hidden).
 *
 *  Ids are decimal strings of a 64-bit number, milliseconds of the local
 *  wall clock when the notification was made shifted left by 16 bits (or
 *  the previous id plus one, whichever is larger): they sort in the order
 *  notifications arrived here, which is what a client paging with since_id
 *  needs, even when a catch-up brings in old updates. created_at is the
 *  time of the update that made it.
 */
#ifndef RU_NOTIFY_H
#define RU_NOTIFY_H

#include "ruche/ru_error.h"
#include "ruche/ru_update.h"

#include "ru_record.h"
#include "ru_store.h"

typedef enum {
    RU_NOTIFY_MENTION = 1,
    RU_NOTIFY_REPLY = 2,
    RU_NOTIFY_FAVOURITE = 3,
    RU_NOTIFY_FOLLOW = 4,
    RU_NOTIFY_MAX = RU_NOTIFY_FOLLOW
} ru_notify_type;

/*  A stored notification, decoded; actor_name is a view into the stored
 *  bytes (valid while they are). */
typedef struct {
    ru_notify_type type;
    ru_ref_t cause; /* the update that made it */
    uint64_t hlc;   /* that update's time */
    int has_status; /* follows have none */
    ru_ref_t status;
    uint8_t actor_home[RU_KEY_BYTES];
    ru_str_t actor_name;
} ru_notify_rec_t;

/*  Bytes of a key of the notifs database: recipient | 0 | id. */
#define RU_NOTIFY_KEY_MAX (RU_MAX_NAME + 1 + 8)

/*  Resolves a site name of a mention (@bob@nozay) to its node key; returns
 *  1 and fills key when known. */
typedef int (*ru_site_resolver)(void *ctx, const char *site, uint8_t *key);

/*  Records the notifications u makes (or takes back) for users of this
 *  node (self: this node's key; resolve, which may be NULL, names other
 *  sites' keys); called by ru_state_apply() after u is applied, in its
 *  write transaction txn. */
RU_MUST_CHECK ru_err ru_notify_apply(ru_txn_t *txn, const uint8_t *self, ru_site_resolver resolve,
                                     void *resolve_ctx, const ru_update_t *u);

/*  Calls fn for every notification that the applied update u made for a
 *  user of this node (self: this node's key; resolve names other sites'
 *  keys, as in ru_notify_apply()) and that is still stored, as of txn (a
 *  committed one: call it after the commit): its recipient, id and record
 *  (a view into txn). Errors are store errors only. */
typedef void (*ru_notify_made_fn)(void *ctx, const char *recipient, uint64_t id,
                                  const ru_notify_rec_t *rec);
RU_MUST_CHECK ru_err ru_notify_made(ru_txn_t *txn, const uint8_t *self, ru_site_resolver resolve,
                                    void *resolve_ctx, const ru_update_t *u, ru_notify_made_fn fn,
                                    void *ctx);

/*  "mention", "reply", "favourite", "follow"; NULL for other values. */
const char *ru_notify_type_name(ru_notify_type type);
/*  The type of a name, 0 if none. */
ru_notify_type ru_notify_type_from_name(const char *name);

/*  The key of recipient's notification id in the notifs database; returns
 *  its length (at most RU_NOTIFY_KEY_MAX). */
size_t ru_notify_key(uint8_t *out, const char *recipient, uint64_t id);
/*  Decodes a record of the notifs database; RU_E_STORE if malformed. */
RU_MUST_CHECK ru_err ru_notify_rec_decode(const void *bytes, size_t len, ru_notify_rec_t *rec);
/*  Store actor requests: removes one notification of recipient
 *  (RU_E_NOT_FOUND if there is none), or all of them. */
RU_MUST_CHECK ru_err ru_notify_dismiss(ru_txn_t *txn, const char *recipient, uint64_t id);
RU_MUST_CHECK ru_err ru_notify_clear(ru_txn_t *txn, const char *recipient);

#endif
