/*  ru_api.h - the node's HTTP API: the route table and what its handlers
 *  share.
 *
 *  The handlers live by subject: ru_api_status.c (statuses, context,
 *  favourites), ru_api_timeline.c (timelines and their paging),
 *  ru_api_account.c (accounts, follows), ru_api_profile.c (the
 *  signed-in user's own account and its editing), ru_api_oauth.c (apps, OAuth
 *  sign-in and tokens), ru_api_session.c (the web front end's cookie
 *  sessions), ru_api_oidc.c (sign-in through an OpenID provider), ru_api_group.c (groups), ru_api_notify.c (notifications),
 *  ru_api_search.c (search), ru_api_media.c (uploads, the media files,
 *  what a status's content takes beyond its text), ru_api_misc.c (instance, nodeinfo,
 *  health, adding users, replication); the operators' endpoints (metrics,
 *  readiness, the operator page, administration) are node/ops's, in a
 *  table of their own (ru_ops.h). This file's functions are the glue they have in
 *  common: finding a status by id, making a local update through the
 *  store actor, answering with a status.
 */
#ifndef RU_API_H
#define RU_API_H

#include "ru_http.h"
#include "ru_multipart.h"
#include "ru_view.h"

/*  Every route of the API, ending with a NULL method (the operators' are
 *  ru_ops_routes). */
extern const ru_route_t ru_api_routes[];

/*  A view for req in txn. */
ru_view_t ru_api_view(ru_req_t *req, ru_txn_t *txn);

/*  Finds the status of a status id: its ref and record (views into txn).
 *  RU_E_NOT_FOUND for unknown, deleted or malformed ids. */
RU_MUST_CHECK ru_err ru_api_find_status(ru_txn_t *txn, const char *id, ru_ref_t *ref,
                                        ru_post_rec_t *rec);

/*  Makes a local update with u's kind and body, authored by the signed-in
 *  user, and waits for it to be durable; *made names it. */
RU_MUST_CHECK ru_err ru_api_submit(ru_req_t *req, ru_update_t *u, ru_ref_t *made);
/*  The same, authored by the local user author (a sign-in that has no
 *  session yet: the profile of an account just made). */
RU_MUST_CHECK ru_err ru_api_submit_as(ru_req_t *req, const char *author, ru_update_t *u,
                                      ru_ref_t *made);

/*  Opens a session of name (after ru_signin_password): a new token, whose
 *  hash the store actor keeps. */
RU_MUST_CHECK ru_err ru_api_open_session(ru_req_t *req, const char *name,
                                         char token[RU_TOKEN_TEXT_SIZE]);
/*  Ends the session of token; an unknown token is not an error. */
RU_MUST_CHECK ru_err ru_api_close_session(ru_req_t *req, const char *token);
/*  Sets the web front end's session cookie to token ("" clears it). */
void ru_api_session_cookie(ru_req_t *req, const char *token);
/*  Answers 200 with a page that sends the browser on to path (of this
 *  site) once name has signed in, with a link for browsers that do not
 *  follow it by themselves. */
int ru_api_continue_page(ru_req_t *req, const char *path, const char *name);

/*  Answers 200 with the status named by ref, as the viewer sees it. */
int ru_api_reply_status(ru_req_t *req, const ru_ref_t *ref);

/*  Reads and checks the parameter name as post text of at least
 *  min_chars characters (0 or 1): 422 sent (and 0 returned) when missing
 *  or empty (with min_chars 1), too long or not UTF-8. */
int ru_api_text(ru_req_t *req, const char *name, size_t min_chars, ru_str_t *text);

/*  What a status's content takes from its request beyond its text, kept
 *  while its update is made: its attachments' descriptors, copied. */
typedef struct {
    ru_buf_t packed[RU_MAX_MEDIA];
    uint32_t n;
} ru_api_content_t;

void ru_api_content_init(ru_api_content_t *c);
void ru_api_content_fini(ru_api_content_t *c);
/*  Reads the content of a new or edited status into u: spoiler_text,
 *  sensitive (implied by a content warning), media_ids[] (ready uploads
 *  of the signed-in user's with the alt text and focus they have now, or,
 *  for an edit of current, attachments it has already, by their ids; at
 *  most [media] attachments) and its text, "status", which may be empty
 *  beside attachments. 0, or the status of the refusal sent. u's strings
 *  point into req and c. */
int ru_api_content(ru_req_t *req, const ru_ref_t *current, ru_update_t *u, ru_api_content_t *c);

/*  Parses the request's multipart/form-data body into mp (the caller's,
 *  zeroed; ru_multipart_fini after): 0, or the status of the refusal
 *  sent (415 for another type, 422 for a malformed body). */
int ru_api_media_parts(ru_req_t *req, ru_multipart_t *mp);
/*  Makes a profile's image of file (an avatar or a header, named what
 *  in refusals): an image of a type the site decodes, within the quotas,
 *  made by the upload queue (ru_mediaq.h) while this thread waits for it
 *  at most [media] profile_wait_ms. Its descriptor, packed as a list of
 *  one (ru_media_pack), into packed. 0, or the status of the refusal
 *  sent: 422 with the pipeline's reason (not an image, damaged, too many
 *  pixels), 429 or 503 when the queue is full, 503 with Retry-After when
 *  it was not made in time, 507 over a quota. */
int ru_api_media_image(ru_req_t *req, const char *what, const ru_multipart_part_t *file,
                       ru_buf_t *packed);

/*  Answers a page of an index whose keys are prefix | timeline position,
 *  newest first, following Mastodon's limit, max_id, since_id and min_id,
 *  with a Link header. public_only keeps public statuses only. At most
 *  [http] walk_budget entries are looked at: a page cut there may be short
 *  or empty, and its Link goes on from where it stopped. */
int ru_api_page(ru_req_t *req, ru_db db, const uint8_t *prefix, size_t len, int public_only);

/*  Sets the Link header of a page (a list of objects with an "id", newest
 *  first): <path?max_id=oldest>; rel="next", <path?min_id=newest>;
 *  rel="prev". No header for an empty page. */
void ru_api_link(ru_req_t *req, json_t *list);

/*  The replication status (GET /api/ruche/v1/replication): this site's
 *  clock, digest and pending updates (the total, per origin their count
 *  and oldest arrival, and the limits), the forks it knows of ({origin,
 *  key, seq, found_at, hashes, held}: ru_fork.h), ru_repl_status() of
 *  its peers, and its media files (held, wanted, fetched from and served
 *  to the peers). *out is the caller's. */
RU_MUST_CHECK ru_err ru_api_replication_json(ru_node_t *node, json_t **out);

/*  Handlers, by file. */
int ru_api_post_status(ru_req_t *req);
int ru_api_get_status(ru_req_t *req);
int ru_api_edit_status(ru_req_t *req);
int ru_api_delete_status(ru_req_t *req);
int ru_api_context(ru_req_t *req);
int ru_api_media_upload(ru_req_t *req);
int ru_api_media_get(ru_req_t *req);
int ru_api_media_update(ru_req_t *req);
int ru_api_media_file(ru_req_t *req);
int ru_api_card(ru_req_t *req);
int ru_api_favourite(ru_req_t *req);
int ru_api_unfavourite(ru_req_t *req);

int ru_api_home(ru_req_t *req);
int ru_api_public(ru_req_t *req);
int ru_api_tag(ru_req_t *req);
int ru_api_account_statuses(ru_req_t *req);
int ru_api_group_timeline(ru_req_t *req);

int ru_api_create_app(ru_req_t *req);
int ru_api_verify_app(ru_req_t *req);
int ru_api_authorize_page(ru_req_t *req);
int ru_api_authorize(ru_req_t *req);
int ru_api_token(ru_req_t *req);
int ru_api_revoke(ru_req_t *req);

int ru_api_verify_credentials(ru_req_t *req);
int ru_api_update_credentials(ru_req_t *req);
int ru_api_get_account(ru_req_t *req);
int ru_api_lookup(ru_req_t *req);
int ru_api_relationships(ru_req_t *req);
int ru_api_follow(ru_req_t *req);
int ru_api_unfollow(ru_req_t *req);

int ru_api_groups(ru_req_t *req);
int ru_api_create_group(ru_req_t *req);
int ru_api_get_group(ru_req_t *req);
int ru_api_join_group(ru_req_t *req);
int ru_api_leave_group(ru_req_t *req);
int ru_api_group_post(ru_req_t *req);

int ru_api_sign_in(ru_req_t *req);
int ru_api_session(ru_req_t *req);
int ru_api_sign_out(ru_req_t *req);

int ru_api_oidc_info(ru_req_t *req);
int ru_api_oidc_start(ru_req_t *req);
int ru_api_oidc_callback(ru_req_t *req);

int ru_api_search(ru_req_t *req);
int ru_api_account_search(ru_req_t *req);
int ru_api_people(ru_req_t *req);
int ru_api_admin_directory(ru_req_t *req);
int ru_api_admin_directory_sync(ru_req_t *req);
int ru_api_directory(ru_req_t *req);

int ru_api_notifications(ru_req_t *req);
int ru_api_notification(ru_req_t *req);
int ru_api_notification_dismiss(ru_req_t *req);
int ru_api_notifications_clear(ru_req_t *req);

int ru_api_instance_v1(ru_req_t *req);
int ru_api_instance_v2(ru_req_t *req);
int ru_api_nodeinfo_links(ru_req_t *req);
int ru_api_nodeinfo(ru_req_t *req);
int ru_api_health(ru_req_t *req);
int ru_api_admin_add_user(ru_req_t *req);
int ru_api_replication(ru_req_t *req);


#endif
