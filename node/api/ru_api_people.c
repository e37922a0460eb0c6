/*  ru_api_people.c - finding people: GET /api/ruche/v1/people and
 *  Mastodon's GET /api/v1/directory (the searches are ru_directory.h's).
 *
 *  GET /api/ruche/v1/people: q (words of a name, title, department, site,
 *  office or skill), the filters title, department, site, office and
 *  skill, help (who can help with this subject), local (this site's
 *  people only), limit (default 40, at most 80) and offset (at most
 *  [http] max_search_offset). Without q, help or a filter: everyone.
 *
 *  GET /api/v1/directory: Mastodon's profile directory, everyone in the
 *  order of their sites and user names (local: this site's only); its
 *  order parameter (active, new) is accepted and does not change it,
 *  which apps do not rely on.
 *
 *  Both need a signed-in user: the directory holds employees' phone
 *  numbers and e-mail addresses, which are for colleagues, not for
 *  whoever reaches the site's port.
 */
#include <string.h>

#include "ru_api.h"
#include "ru_directory.h"

#define S_MAX_TEXT 1000 /* bytes of q, help or a filter */

/*  Reads the paging parameters into q; 0, or the status of the error sent. */
static int
s_paging(ru_req_t *req, ru_directory_query_t *q)
{
    q->limit = ru_http_param_long(req, "limit", 40, 1, 1000000);
    if (q->limit < 0)
        return 422;
    if (q->limit > 80)
        q->limit = 80; /* as Mastodon: larger asks get the largest page */
    q->offset = ru_http_param_long(req, "offset", 0, 0, req->node->cfg.max_search_offset);
    if (q->offset < 0)
        return 422;
    q->local = ru_http_param_flag(req, "local");
    q->max_candidates = req->node->cfg.dir_max_candidates;
    q->help_posts = req->node->cfg.dir_help_posts;
    return 0;
}

static int
s_answer(ru_req_t *req, const ru_directory_query_t *q)
{
    ru_txn_t txn;
    ru_err err = ru_store_read(req->node->store, &txn);
    if (err)
        return ru_http_fail(req, err);
    ru_view_t v = ru_api_view(req, &txn);
    json_t *out = json_array();
    err = ru_directory_search(&v, q, out);
    ru_txn_abort(&txn);
    if (err) {
        json_decref(out);
        return ru_http_fail(req, err);
    }
    return ru_http_json(req, 200, out);
}

int
ru_api_people(ru_req_t *req)
{
    ru_directory_query_t q;
    memset(&q, 0, sizeof q);
    const struct {
        const char *name;
        const char **to;
    } texts[] = {
        {"q", &q.q},         {"title", &q.title}, {"department", &q.department},
        {"site", &q.site},   {"office", &q.office}, {"skill", &q.skill},
        {"help", &q.help},
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        const char *t = ru_http_param(req, texts[i].name);
        if (t && strlen(t) > S_MAX_TEXT)
            return ru_http_error(req, 422, "%s is longer than %d bytes", texts[i].name,
                                 S_MAX_TEXT);
        *texts[i].to = t && *t ? t : NULL;
    }
    int status = s_paging(req, &q);
    return status ? status : s_answer(req, &q);
}

int
ru_api_directory(ru_req_t *req)
{
    ru_directory_query_t q;
    memset(&q, 0, sizeof q);
    int status = s_paging(req, &q);
    return status ? status : s_answer(req, &q);
}
