/*  ru_alarm.h - the replication actor's alarms: forks and waiting updates.
 *
 *  Forks (ru_fork.h): one ALARM line per fork found, naming the origin
 *  that signed two histories, not the peer that relayed it, and its
 *  evidence sent to the peers as two update messages on our PUB, at once
 *  and at every anti-entropy turn, so that every site learns of it,
 *  whichever variant it holds (PROTOCOL.md section 16). A resolved fork's
 *  RESOLVE replicates instead.
 *
 *  Waiting updates: an ALARM line when an origin's oldest update waiting
 *  for its dependencies has waited past [replication] pending_alarm_s or a
 *  limit of the pending set is reached: when it starts, again every ten
 *  minutes while it lasts, and an info line when it ends. The operator
 *  page shows the same (ru_api_ops.c).
 *
 *  Thread rules: the actor's thread only.
 */
#ifndef RU_ALARM_H
#define RU_ALARM_H

#include <czmq.h>
#include <stdint.h>

#include "ruche/ru_update.h"

#include "ru_config.h"
#include "ru_sites.h"
#include "ru_store.h"

typedef struct {
    const ru_config_t *cfg; /* [replication] pending_* */
    ru_store_t *store;      /* the forks and pending updates */
    ru_sites_t *sites;      /* the origins' names */
    ru_ref_t *alarmed;      /* the forks (origin, seq) alarmed since the start */
    int n_alarmed, cap_alarmed;
    uint64_t pending_ms; /* the pending alarm's last line (wall ms), 0: none on */
} ru_alarm_t;

void ru_alarm_init(ru_alarm_t *self, const ru_config_t *cfg, ru_store_t *store, ru_sites_t *sites);
void ru_alarm_fini(ru_alarm_t *self);
/*  Alarms the forks not alarmed yet and sends their evidence on pub (all:
 *  every unresolved fork's). */
void ru_alarm_forks(ru_alarm_t *self, zsock_t *pub, int all);
/*  Looks at the pending updates: the alarm starts, goes on or ends. */
void ru_alarm_pending(ru_alarm_t *self);

#endif
