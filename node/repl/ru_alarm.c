/*  ru_alarm.c - the fork and pending alarms (see ru_alarm.h).
 *
 *  The forks alarmed are remembered in a growing array: a fork is rare,
 *  and one alarmed is never forgotten until the process ends.
 */
#include "ru_alarm.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruche/ru_hlc.h"
#include "ruche/ru_msg.h"
#include "ruche/ru_text.h"

#include "ru_apply.h"
#include "ru_fork.h"
#include "ru_log.h"
#include "ru_peer.h"

#define S_PENDING_ALARM_MS 600000 /* a lasting alarm is logged again after this */

void
ru_alarm_init(ru_alarm_t *self, const ru_config_t *cfg, ru_store_t *store, ru_sites_t *sites)
{
    *self = (ru_alarm_t){.cfg = cfg, .store = store, .sites = sites};
}

void
ru_alarm_fini(ru_alarm_t *self)
{
    free(self->alarmed);
    self->alarmed = NULL;
    self->n_alarmed = self->cap_alarmed = 0;
}

/*  Was fork alarmed already? Remembers it if not. */
static int
s_alarmed(ru_alarm_t *self, const ru_fork_t *fork)
{
    for (int i = 0; i < self->n_alarmed; i++)
        if (self->alarmed[i].seq == fork->seq &&
            memcmp(self->alarmed[i].origin, fork->origin, RU_KEY_BYTES) == 0)
            return 1;
    if (self->n_alarmed == self->cap_alarmed) {
        int cap = self->cap_alarmed ? 2 * self->cap_alarmed : 8;
        ru_ref_t *v = realloc(self->alarmed, (size_t) cap * sizeof *v);
        if (!v)
            return 0; /* alarmed again next time */
        self->alarmed = v;
        self->cap_alarmed = cap;
    }
    memcpy(self->alarmed[self->n_alarmed].origin, fork->origin, RU_KEY_BYTES);
    self->alarmed[self->n_alarmed++].seq = fork->seq;
    return 0;
}

static void
s_fork_alarm(ru_alarm_t *self, const ru_fork_t *fork)
{
    char name[RU_SITES_LABEL];
    char key[RU_KEY_TEXT_SIZE], first[2 * RU_HASH_BYTES + 1], other[2 * RU_HASH_BYTES + 1];
    ru_sites_label(self->sites, fork->origin, name);
    ru_b64_encode(key, fork->origin, RU_KEY_BYTES);
    sodium_bin2hex(first, sizeof first, fork->first, RU_HASH_BYTES);
    sodium_bin2hex(other, sizeof other, fork->other, RU_HASH_BYTES);
    ru_log_err("repl",
               "ALARM: origin %s (%s) forked: it signed two updates with seq %llu (%s, %s); "
               "its updates from that seq on are held here (%llu so far) until an operator "
               "resolves the fork",
               name, key, (unsigned long long) fork->seq, first, other,
               (unsigned long long) fork->held);
}

typedef struct {
    ru_alarm_t *self;
    zsock_t *pub;
    int all; /* send every fork's evidence, not only the new ones' */
} s_fork_scan;

static int
s_fork_seen(void *ctx, const ru_fork_t *fork)
{
    s_fork_scan *scan = ctx;
    if (fork->resolved) /* its RESOLVE replicates: the evidence would only be refused */
        return 0;
    int known = s_alarmed(scan->self, fork);
    if (!known)
        s_fork_alarm(scan->self, fork);
    ru_buf_t buf;
    ru_buf_init(&buf);
    for (int k = 0; k < 2 && (!known || scan->all); k++) {
        ru_buf_reset(&buf);
        if (ru_msg_encode_update(fork->evidence[k], &buf) == RU_OK)
            ru_peer_send(scan->pub, &buf);
    }
    ru_buf_fini(&buf);
    return 0;
}

void
ru_alarm_forks(ru_alarm_t *self, zsock_t *pub, int all)
{
    ru_txn_t txn;
    s_fork_scan scan = {self, pub, all};
    if (ru_store_read(self->store, &txn) != RU_OK)
        return;
    ru_err err = ru_fork_list(&txn, s_fork_seen, &scan);
    ru_txn_abort(&txn);
    if (err)
        ru_log_err("repl", "cannot read the forks: %s", ru_err_str(err));
}

/*  Appends "site count/age" of an origin in alarm to line. */
static void
s_pending_item(ru_alarm_t *self, const ru_apply_pending_t *o, uint64_t age_s, char *line,
               size_t size)
{
    char name[RU_SITES_LABEL];
    ru_sites_label(self->sites, o->origin, name);
    size_t used = strlen(line);
    snprintf(line + used, size - used, "%s%s: %llu waiting, the oldest for %llu s",
             used ? "; " : "", name, (unsigned long long) o->count, (unsigned long long) age_s);
}

/*  Whether the pending set is in alarm: a limit reached, or an origin's
 *  count or age past its limit (the first four of them listed in line). */
static int
s_pending_in_alarm(ru_alarm_t *self, const ru_apply_pending_t *by, size_t n, uint64_t total,
                   char *line, size_t size)
{
    const ru_config_t *cfg = self->cfg;
    uint64_t now = ru_hlc_wall_ms();
    int alarm = total >= (uint64_t) cfg->pending_max, listed = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t age_s = now > by[i].oldest_ms ? (now - by[i].oldest_ms) / 1000 : 0;
        if (by[i].count < (uint64_t) cfg->pending_per_origin &&
            age_s < (uint64_t) cfg->pending_alarm_s)
            continue;
        alarm = 1;
        if (listed++ < 4)
            s_pending_item(self, &by[i], age_s, line, size);
    }
    return alarm;
}

void
ru_alarm_pending(ru_alarm_t *self)
{
    ru_txn_t txn;
    ru_apply_pending_t *by = NULL;
    size_t n = 0;
    uint64_t total = 0, now = ru_hlc_wall_ms();
    const ru_config_t *cfg = self->cfg;
    if (ru_store_read(self->store, &txn) != RU_OK)
        return;
    ru_err err = ru_apply_pending(&txn, &by, &n, &total);
    ru_txn_abort(&txn);
    if (err)
        return;
    char line[512] = "";
    int alarm = s_pending_in_alarm(self, by, n, total, line, sizeof line);
    free(by);
    if (alarm && (!self->pending_ms || now - self->pending_ms >= S_PENDING_ALARM_MS)) {
        ru_log_err("repl",
                   "ALARM: %llu updates wait for dependencies (limits: %ld per origin, %ld in "
                   "all; alarm after %ld s)%s%s",
                   (unsigned long long) total, cfg->pending_per_origin, cfg->pending_max,
                   cfg->pending_alarm_s, line[0] ? ": " : "", line);
        self->pending_ms = now;
    } else if (!alarm && self->pending_ms) {
        ru_log_info("repl", "the updates waiting for dependencies are back under the limits");
        self->pending_ms = 0;
    }
}
