/*  ru_sites.h - the site directory: the names and keys of this site and
 *  of every configured peer (the trust store that regional IT edits,
 *  DESIGN.md "Identity and keys").
 *
 *  It answers name -> key and key -> name, and which origins are trusted
 *  (ours and the peers'), from any thread: the HTTP handlers name the
 *  sites of posts, the store actor resolves the sites of mentions, the
 *  verification workers refuse untrusted origins, the replication actor
 *  names origins in its alarms and metrics, its ZAP handler lets in the
 *  peers' CURVE keys. Our own name and key are set
 *  at the start and never change; the peers are replaced whole on a
 *  reload (SIGHUP), under a lock, so that a reader sees the old list or
 *  the new one, never a mix. A node that does not replicate has no peers
 *  and still knows its own name.
 */
#ifndef RU_SITES_H
#define RU_SITES_H

#include <stdint.h>

#include "ruche/ru_error.h"
#include "ruche/ru_key.h"
#include "ruche/ru_limits.h"
#include "ruche/ru_text.h"

#include "ru_config.h"

typedef struct ru_sites ru_sites_t;

/*  Room for a site's label: its name, or its key in text (ru_sites_label). */
#define RU_SITES_LABEL (RU_MAX_NAME + 1 > RU_KEY_TEXT_SIZE ? RU_MAX_NAME + 1 : RU_KEY_TEXT_SIZE)

/*  A directory of this site (site, key) and the n peers (up to
 *  RU_MAX_PEERS; their site and key are copied). */
RU_MUST_CHECK ru_err ru_sites_new(const char *site, const uint8_t *key, const ru_peer_cfg_t *peers,
                                  int n, ru_sites_t **out);
/*  NULL-safe; no other thread may be using it. */
void ru_sites_destroy(ru_sites_t **self_p);
/*  Replaces the peers with these n (a reload). Any thread. */
void ru_sites_set_peers(ru_sites_t *self, const ru_peer_cfg_t *peers, int n);
/*  How many peer lists were set so far: it grows whenever names may have
 *  changed, so that what shows them may be kept until then (ru_cache.h).
 *  Any thread, no lock. */
unsigned long ru_sites_version(ru_sites_t *self);

/*  The site name of a node key (ours or a peer's) into out (RU_MAX_NAME +
 *  1 bytes); 1 when known, else 0 and out untouched. Any thread. */
int ru_sites_name(ru_sites_t *self, const uint8_t *key, char *out);
/*  The node key of a site name (ours or a peer's) into key; 1 when known.
 *  self is an ru_sites_t: this is also the store actor's ru_site_resolver
 *  for mentions (ru_state.h). Any thread. */
int ru_sites_key(void *self, const char *site, uint8_t *key);
/*  Is key ours or a configured peer's: an origin whose updates we take? */
int ru_sites_trusted(ru_sites_t *self, const uint8_t *key);
/*  The site name of a peer (never ours) whose CURVE key (derived from its
 *  node key) is curve, into out (RU_MAX_NAME + 1 bytes); 1 when found:
 *  whom the ZAP handler lets in (ru_admit.h). */
int ru_sites_peer_by_curve(ru_sites_t *self, const uint8_t *curve, char *out);
/*  The name of a key, else the key itself in text, into out
 *  (RU_SITES_LABEL bytes): how logs and metrics name an origin. */
void ru_sites_label(ru_sites_t *self, const uint8_t *key, char *out);

#endif
