/*  ru_words.h - the full-text index of statuses: which statuses hold a
 *  word, newest first.
 *
 *  Postings are keys word | 0 | status id of the words database, the
 *  word folded (ru_fold.h) and the status id its 16 bytes (ru_pubid.h),
 *  so a word's postings are one range, in timeline order.
 *
 *  Indexing statuses one at a time is costly: a status's words are spread
 *  over the whole index, so each dirties a page of its own, and a post
 *  made alone (one durable commit) would write dozens of pages. So the
 *  newest statuses stay out of the index, as a tail: every status whose id
 *  is above a mark (kept in meta with the tail's size) is in the tail, and
 *  a search reads their texts, newest first, before it turns to the
 *  index. When the tail reaches RU_WORDS_TAIL statuses, its older half is
 *  indexed in one go, postings sorted, and the mark moves up past them. A
 *  status below the mark (an old one caught up from a peer) is indexed,
 *  or taken out of the index, at once. A store that had statuses before
 *  it had an index starts with all of them in the tail, which drains
 *  S_MERGE_MAX statuses per update applied.
 *
 *  Local state, kept by the state machine (ru_state.c) through
 *  ru_words_update(); not in the digest: where a node cuts its tail
 *  depends on its own history.
 */
#ifndef RU_WORDS_H
#define RU_WORDS_H

#include "ruche/ru_error.h"
#include "ruche/ru_update.h"

#include "ru_fold.h"
#include "ru_store.h"

#define RU_WORDS_TAIL 256 /* statuses left out of the index, at most */

/*  Adds (add = 1) or takes out the status at timeline position pos
 *  (RU_DBKEY_POS bytes) with text; in the state machine's transaction,
 *  after the timeline entry of pos is put (add) or deleted. */
RU_MUST_CHECK ru_err ru_words_update(ru_txn_t *txn, const uint8_t *pos, ru_str_t text, int add);

/*  The statuses that may match a query, newest first: those of the tail,
 *  then those of the index holding the query's rarest whole word (or,
 *  for a query of one unfinished word, any word that starts with it, up
 *  to RU_WORDS_EXPANSIONS of them in alphabetical order). The caller
 *  checks each against every word of the query. */
#define RU_WORDS_EXPANSIONS 64

typedef struct ru_words_iter ru_words_iter_t;

/*  Starts a walk for t (t->n > 0) in txn (which must outlive it). */
RU_MUST_CHECK ru_err ru_words_iter_new(ru_txn_t *txn, const ru_fold_terms_t *t,
                                       ru_words_iter_t **out);
/*  The next status: 1 and *ref, or 0 at the end. */
int ru_words_iter_next(ru_words_iter_t *self, ru_ref_t *ref);
/*  NULL-safe. */
void ru_words_iter_destroy(ru_words_iter_t **self_p);

#endif
