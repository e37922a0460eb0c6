/*  ru_schema.c - the schema upgrade steps, in order (see ru_schema.h). */
#include "ru_schema.h"

#include "ru_apply.h"
#include "ru_order.h"
#include "ru_pubid.h"
#include "ru_state.h"

/*  Schema 3 to 4: the order index, rebuilt by the rule apply follows. */
static ru_err
s_order_upgrade(ru_txn_t *txn)
{
    ru_clock_t heads;
    ru_clock_init(&heads);
    ru_err err = ru_apply_clock(txn, &heads);
    if (!err)
        err = ru_order_rebuild(txn, &heads, ru_apply_each_dep);
    ru_clock_fini(&heads);
    return err;
}

/*  Schema 5 to 6: the cards database, which the open made empty; link
 *  previews fill it as readers ask (ru_card.h). Schema 6 to 7: the dirids
 *  database, empty since no profile of an older store carries a person,
 *  and the counts records' fourth number, which older records lack (read
 *  as 0: ru_record.h); the step is what makes an older node refuse the
 *  store, whose counts it would read as zeros. */
static ru_err
s_nothing_to_fill(ru_txn_t *txn)
{
    (void) txn;
    return RU_OK;
}

const ru_store_upgrade_fn ru_schema_upgrades[RU_STORE_SCHEMA] = {
    [1] = ru_pubid_upgrade,
    [2] = ru_apply_upgrade,
    [3] = s_order_upgrade,
    [4] = ru_state_upgrade,
    [5] = s_nothing_to_fill,
    [6] = s_nothing_to_fill,
};
