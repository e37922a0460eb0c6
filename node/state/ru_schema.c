/*  ru_schema.c - the schema upgrade steps, in order (see ru_schema.h). */
#include "ru_schema.h"

#include "ru_apply.h"
#include "ru_order.h"
#include "ru_pubid.h"
#include "ru_state.h"

const ru_store_upgrade_fn ru_schema_upgrades[RU_STORE_SCHEMA] = {
    [1] = ru_pubid_upgrade,
    [2] = ru_apply_upgrade,
    [3] = ru_order_upgrade,
    [4] = ru_state_upgrade,
};
