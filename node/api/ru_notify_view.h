/*  ru_notify_view.h - notifications as clients see them: the Mastodon
 *  Notification entity of a stored notification (ru_notify.h keeps them),
 *  for GET /api/v1/notifications and the event streams.
 */
#ifndef RU_NOTIFY_VIEW_H
#define RU_NOTIFY_VIEW_H

#include <jansson.h>

#include "ru_notify.h"
#include "ru_view.h"

/*  The Notification entity of rec (id id) as v->viewer, its recipient,
 *  sees it; NULL when its status is gone or hidden from them. The caller
 *  owns the reference. */
json_t *ru_notify_view(const ru_view_t *v, uint64_t id, const ru_notify_rec_t *rec);

/*  For the event streams: calls fn for every notification that the
 *  applied update u made for a user of this node, still there and visible
 *  to them as of v's transaction (a committed one: call it after the
 *  commit). recipient is the user's name; notification is the Mastodon
 *  Notification entity as GET /api/v1/notifications shows it, borrowed
 *  (fn increfs it to keep it). v->viewer is ignored. Errors are store
 *  errors only. */
typedef void (*ru_notify_fn)(void *ctx, const char *recipient, json_t *notification);
RU_MUST_CHECK ru_err ru_notify_each(const ru_view_t *v, const ru_update_t *u, ru_notify_fn fn,
                                    void *ctx);

#endif
