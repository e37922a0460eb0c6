/*  ru_view.h - the JSON that clients see: Mastodon's Status and Account
 *  objects, and ruche's Group, built from the store's records.
 *
 *  Views read inside the caller's read transaction and return new jansson
 *  objects (the caller owns the reference). Text from users is escaped
 *  wherever it becomes HTML; mentions, tags and http(s) addresses become
 *  links.
 */
#ifndef RU_VIEW_H
#define RU_VIEW_H

#include <jansson.h>

#include "ruche/ru_update.h"

#include "ru_account.h"
#include "ru_node.h"
#include "ru_record.h"

/*  Who is looking: their name on this node, or NULL for nobody signed in. */
typedef struct {
    ru_node_t *node;
    ru_txn_t *txn;
    const char *viewer;
} ru_view_t;

/*  The site name of a node key: this node's own name, a peer's name from
 *  the configuration, else the first characters of the key's text form (a
 *  site known only through a relay). out holds RU_MAX_NAME + 1 bytes. */
void ru_view_site(const ru_view_t *v, const uint8_t *origin, char *out);
/*  The node key of a site name (this node's or a configured peer's);
 *  returns 1 and fills key when known. node_p is an ru_node_t. Both ask
 *  the node's site directory (ru_sites.h). */
int ru_view_site_key(void *node_p, const char *site, uint8_t *key);
/*  The API's name of a visibility: "public", "unlisted", "private" or
 *  "direct". */
const char *ru_view_visibility(ru_visibility vis);
/*  What direct posts protect and what they do not, as the API says it
 *  (instance information) and the web front end shows it. */
#define RU_VIEW_DIRECT_NOTE                                                                  \
    "Direct posts (visibility \"direct\", mentioned people only) are not sealed yet: like "  \
    "every post, they are copied in plain text to every site of the network and kept in "    \
    "every site's store, backups and compliance exports, where each site's administrators "   \
    "can read them. The visibility only decides who sees them in the apps and the API. Do "   \
    "not use them for what only the people mentioned may read."
/*  "2026-11-27T14:03:00.123Z" from milliseconds since the epoch. */
json_t *ru_view_time(uint64_t ms);

json_t *ru_view_account(const ru_view_t *v, const uint8_t *home, ru_str_t name);
/*  A status, or NULL if the record cannot be read. */
json_t *ru_view_status(const ru_view_t *v, const ru_ref_t *ref, const ru_post_rec_t *rec);
json_t *ru_view_group(const ru_view_t *v, const ru_ref_t *ref, const ru_group_rec_t *rec);

/*  The HTML of a text written at origin: a paragraph, line breaks, escaped
 *  text, links for tags, for mentions of users known here and for http(s)
 *  addresses (rel="nofollow noopener noreferrer", target="_blank", the
 *  text shown shortened in Mastodon's invisible/ellipsis spans). Caller
 *  frees. */
char *ru_view_html(const ru_view_t *v, const uint8_t *origin, ru_str_t text);
/*  The same without the paragraph: a profile field's value. */
char *ru_view_inline_html(const ru_view_t *v, const uint8_t *origin, ru_str_t text);

/*  Does the viewer see this status? (deleted: never; direct: author and
 *  mentioned; private: author and followers; others: everyone) */
int ru_view_visible(const ru_view_t *v, const ru_ref_t *ref, const ru_post_rec_t *rec);

#endif
