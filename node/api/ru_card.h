/*  ru_card.h - link previews ("cards"): the title, description, image and
 *  site name of the page a post's first http(s) address points to, as
 *  Mastodon's PreviewCard shows them (a status's "card", and GET
 *  /api/v1/statuses/:id/card).
 *
 *  Only pages of the hosts in [cards] allowed_hosts are ever fetched
 *  (ru_cardfetch.h says how, within which limits); with the list empty,
 *  the default, there are no cards and nothing is started.
 *
 *  A card is this site's own cache, not replicated state: each site fetches
 *  the pages its readers see, from its own network (a page of one site's
 *  intranet may be out of another's reach), and keeps the result in the
 *  store's cards database, by address (BLAKE2b of it), so every reader
 *  after the first gets it with one read and no fetch. A page that gave no
 *  card (not allowed any more, no title, an error) is kept as such too, and
 *  asked again after [cards] retry_s. A card, once made, stays.
 *
 *  Fetches never run on the HTTP event loop or the writer: reading a
 *  status (ru_card_for_text, from a view) only looks the card up, and when
 *  there is none yet queues the address, without waiting, for the workers
 *  ([cards] workers threads, a queue of [cards] queue addresses; one more
 *  is dropped and asked again by a later reader). A worker fetches the
 *  page, reads its head (ru_cardscan.h) and stores the card through the
 *  writer; the commit renews the store's generation, so answers kept in
 *  the cache (ru_cache.h) show it from then on.
 *
 *  Thread rules: ru_card_for_text and ru_card_collect from any thread;
 *  new and destroy from the thread that wires the node.
 */
#ifndef RU_CARD_H
#define RU_CARD_H

#include <jansson.h>

#include "ruche/ru_buf.h"
#include "ruche/ru_error.h"

#include "ru_config.h"
#include "ru_store.h"
#include "ru_writer.h"

typedef struct ru_card ru_card_t;

/*  Starts the workers of cfg's [cards] section, which store through
 *  writer; store and writer must outlive the object. *out is NULL (and
 *  RU_OK returned) when no host is allowed. */
RU_MUST_CHECK ru_err ru_card_new(const ru_config_t *cfg, ru_store_t *store, ru_writer_t *writer,
                                 ru_card_t **out);
/*  Stops the workers (a fetch in progress is cut short) and frees.
 *  NULL-safe. */
void ru_card_destroy(ru_card_t **self_p);

/*  The card of the first http(s) address of text (len bytes), read in
 *  txn, as a new JSON object (the caller owns it); NULL when there is
 *  none, or none yet: the address is then queued for a fetch unless its
 *  page gave no card less than retry_s ago. self may be NULL (no cards). */
json_t *ru_card_for_text(ru_card_t *self, ru_txn_t *txn, const char *text, size_t len);

/*  The collector (ru_prom.h) of the fetches, by result, and the queue. */
RU_MUST_CHECK ru_err ru_card_collect(void *self, ru_buf_t *out);

#endif
