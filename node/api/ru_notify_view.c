/*  ru_notify_view.c - the Notification entity (see ru_notify_view.h).
 *
 *  The event streams learn of an update's notifications from
 *  ru_notify_made(), which finds what that very update stored, and show
 *  each to its recipient as GET /api/v1/notifications would.
 */
#include "ru_notify_view.h"

#include <inttypes.h>
#include <stdio.h>

json_t *
ru_notify_view(const ru_view_t *v, uint64_t id, const ru_notify_rec_t *rec)
{
    json_t *status = NULL;
    if (rec->has_status) {
        ru_post_rec_t post;
        if (ru_post_rec_get(v->txn, &rec->status, &post) != RU_OK ||
            !ru_view_visible(v, &rec->status, &post) ||
            !(status = ru_view_status(v, &rec->status, &post)))
            return NULL;
    }
    char text[24];
    snprintf(text, sizeof text, "%" PRIu64, id);
    json_t *j =
        json_pack("{s:s, s:s, s:o, s:o}", "id", text, "type", ru_notify_type_name(rec->type),
                  "created_at", ru_view_time(ru_hlc_ms(rec->hlc)), "account",
                  ru_view_account(v, rec->actor_home, rec->actor_name));
    if (j && status)
        json_object_set_new(j, "status", status);
    else
        json_decref(status);
    return j;
}

typedef struct {
    const ru_view_t *v;
    ru_notify_fn fn;
    void *ctx;
} s_each;

/*  One notification u made: shown as its recipient sees it. */
static void
s_made(void *ctx, const char *recipient, uint64_t id, const ru_notify_rec_t *rec)
{
    const s_each *e = ctx;
    ru_view_t as = *e->v;
    as.viewer = recipient;
    json_t *j = ru_notify_view(&as, id, rec);
    if (j)
        e->fn(e->ctx, recipient, j);
    json_decref(j);
}

ru_err
ru_notify_each(const ru_view_t *v, const ru_update_t *u, ru_notify_fn fn, void *ctx)
{
    s_each e = {v, fn, ctx};
    return ru_notify_made(v->txn, ru_key_public(v->node->key), ru_view_site_key, v->node, u, s_made,
                          &e);
}
