/*  ru_schema.h - the steps that bring a store of an older schema to
 *  RU_STORE_SCHEMA.
 *
 *  The store layer runs an upgrade (all steps and the new version in one
 *  transaction, or nothing) but does not know what its databases mean;
 *  the modules that fill them do, and each brings its own step. This
 *  table puts them in order, for every caller that opens a store for
 *  writing: ru_store_open(dir, ..., ru_schema_upgrades, &store).
 */
#ifndef RU_SCHEMA_H
#define RU_SCHEMA_H

#include "ru_store.h"

/*  [1] public ids with their kind (ru_pubid), [2] each origin's last full
 *  clock and the pending counts (ru_apply), [3] the order index
 *  (ru_order), [4] each site's statuses counted (ru_state), [5] the cards
 *  database (empty: ru_card fills it). */
extern const ru_store_upgrade_fn ru_schema_upgrades[RU_STORE_SCHEMA];

#endif
