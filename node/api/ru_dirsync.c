/*  ru_dirsync.c - this site's employees from the company directory (see
 *  ru_dirsync.h).
 *
 *  A run keeps the names it saw in a hash set, to refuse a name given
 *  twice and, at the end of a complete run, to find the departures: the
 *  site's profiles that carry a directory id, are not departed, and whose
 *  name the run did not see. Those are collected under one read
 *  transaction, then published one by one (a read transaction is never
 *  held across the store actor's commits).
 */
#include "ru_dirsync.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruche/ru_mp.h"
#include "ruche/ru_text.h"

#include "ru_account.h"
#include "ru_dbkey.h"
#include "ru_log.h"
#include "ru_profile.h"
#include "ru_record.h"

typedef struct {
    char (*slot)[RU_MAX_NAME + 1]; /* "" empty */
    size_t cap, n;
} s_names;

/*  An entry waiting in the batch: copies of its strings (the person
 *  packed as on the wire, read back at the flush). */
typedef struct {
    char name[RU_MAX_NAME + 1];
    char display[RU_MAX_DISPLAY_BYTES];
    uint32_t display_len;
    ru_buf_t person;
} s_item;

#define S_BATCH 256 /* entries published in one commit */

struct ru_dirsync_run {
    ru_node_t *node;
    int complete;
    s_names seen;
    ru_dirsync_report_t report;
    s_item batch[S_BATCH];
    size_t n;
};

static uint64_t
s_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t) s[i]) * 1099511628211ull;
    return h;
}

static size_t
s_slot(const s_names *set, const char *name, size_t len)
{
    size_t i = (size_t) s_hash(name, len) & (set->cap - 1);
    while (set->slot[i][0] && !(strlen(set->slot[i]) == len && memcmp(set->slot[i], name, len) == 0))
        i = (i + 1) & (set->cap - 1);
    return i;
}

static int
s_names_has(const s_names *set, const char *name, size_t len)
{
    return set->cap && set->slot[s_slot(set, name, len)][0];
}

/*  Adds name (a valid user name); RU_E_NOMEM. */
static ru_err
s_names_add(s_names *set, const char *name, size_t len)
{
    if (2 * (set->n + 1) > set->cap) {
        s_names bigger = {calloc(set->cap ? 2 * set->cap : 1024, sizeof *set->slot), 0, 0};
        if (!bigger.slot)
            return RU_E_NOMEM;
        bigger.cap = set->cap ? 2 * set->cap : 1024;
        for (size_t i = 0; i < set->cap; i++)
            if (set->slot[i][0])
                memcpy(bigger.slot[s_slot(&bigger, set->slot[i], strlen(set->slot[i]))],
                       set->slot[i], sizeof *set->slot);
        bigger.n = set->n;
        free(set->slot);
        *set = bigger;
    }
    size_t i = s_slot(set, name, len);
    if (!set->slot[i][0]) {
        memcpy(set->slot[i], name, len);
        set->slot[i][len] = 0;
        set->n++;
    }
    return RU_OK;
}

/*  Counts a refusal and keeps its reason (the first ones), logged; RU_OK:
 *  a refusal does not stop the run. */
static ru_err s_refuse(ru_dirsync_run_t *run, const char *fmt, ...) RU_LOG_FORMAT(2, 3);

static ru_err
s_refuse(ru_dirsync_run_t *run, const char *fmt, ...)
{
    ru_dirsync_report_t *r = &run->report;
    char why[sizeof r->reasons[0]];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    r->refused++;
    if (r->n_reasons < RU_DIRSYNC_REASONS)
        memcpy(r->reasons[r->n_reasons++], why, sizeof why);
    ru_log_warn("directory", "entry refused: %s", why);
    return RU_OK;
}

ru_err
ru_dirsync_begin(ru_node_t *node, int complete, ru_dirsync_run_t **out)
{
    ru_dirsync_run_t *run = calloc(1, sizeof *run);
    if (!run)
        return RU_E_NOMEM;
    run->node = node;
    run->complete = complete;
    for (size_t i = 0; i < S_BATCH; i++)
        ru_buf_init(&run->batch[i].person);
    *out = run;
    return RU_OK;
}

/*  Who has name here now: the directory id of their profile (empty: none)
 *  copied to id, and whether a local account has it. */
static ru_err
s_holder(ru_node_t *node, const char *name, char *id, int *account)
{
    ru_txn_t txn;
    ru_err err = ru_store_read(node->store, &txn);
    if (err)
        return err;
    uint8_t key[RU_DBKEY_USER];
    size_t klen = ru_dbkey_user(key, ru_key_public(node->key), (ru_str_t){name, (uint32_t) strlen(name)});
    MDB_val val;
    ru_profile_rec_t rec;
    ru_person_t p;
    id[0] = 0;
    if (ru_txn_get(&txn, RU_DB_profiles, key, klen, &val) == RU_OK &&
        ru_profile_rec_decode(val.mv_data, val.mv_size, &rec) == RU_OK && rec.person.len &&
        ru_person_unpack(rec.person.ptr, rec.person.len, &p) == RU_OK) {
        memcpy(id, p.dir_id.ptr, p.dir_id.len);
        id[p.dir_id.len] = 0;
    }
    ru_account_t acct;
    *account = ru_account_get(&txn, name, &acct) == RU_OK;
    ru_txn_abort(&txn);
    return RU_OK;
}

static ru_err
s_disable(const ru_writer_ctx_t *ctx, void *arg)
{
    ru_err err = ru_account_update(ctx->txn, arg, NULL, -1, 1);
    if (err == RU_E_NOT_FOUND)
        return RU_OK; /* never signed in here */
    return err ? err : ru_account_end_sessions(ctx->txn, arg);
}

/*  The change of item it, into c (person: where its person is read). */
static ru_err
s_item_change(const s_item *it, ru_profile_change_t *c)
{
    memset(c, 0, sizeof *c);
    c->name = it->name;
    c->set_display = it->display_len > 0;
    c->display_name = (ru_str_t){it->display, it->display_len};
    c->set_entry = 1;
    ru_err err = ru_person_unpack(it->person.data, it->person.len, &c->person);
    c->set_skills = c->person.n_skills > 0;
    return err;
}

/*  Counts what publishing the change c of the run made; a departure
 *  disables the account. */
static ru_err
s_published(ru_dirsync_run_t *run, const ru_profile_change_t *c, int made)
{
    run->report.published += made;
    run->report.unchanged += !made;
    run->report.departed += made && c->person.departed;
    if (!c->person.departed)
        return RU_OK;
    return ru_writer_call(run->node->writer, s_disable, (void *) c->name);
}

/*  The store's own failures stop a run; any other refuses the entry. */
static int
s_store_failure(ru_err err)
{
    return err == RU_E_NOMEM || err == RU_E_STORE || err == RU_E_STORE_FULL ||
           err == RU_E_DISK_FULL || err == RU_E_IO;
}

/*  Publishes the batch in one commit; if it fails for an entry's sake,
 *  one by one, refusing those that fail. */
static ru_err
s_flush(ru_dirsync_run_t *run)
{
    ru_profile_change_t c[S_BATCH];
    int made[S_BATCH];
    ru_err err = RU_OK;
    for (size_t i = 0; !err && i < run->n; i++)
        err = s_item_change(&run->batch[i], &c[i]);
    if (!err)
        err = ru_profile_change_many(run->node->writer, c, run->n, made);
    if (err && !s_store_failure(err)) {
        err = RU_OK;
        for (size_t i = 0; !err && i < run->n; i++) {
            ru_err one = s_item_change(&run->batch[i], &c[i]);
            if (!one)
                one = ru_profile_change(run->node->writer, &c[i], &made[i]);
            if (s_store_failure(one)) {
                err = one;
            } else if (one) {
                made[i] = -1; /* refused: neither published nor unchanged */
                err = s_refuse(run, "%s: %s", c[i].name, ru_err_str(one));
            }
        }
    }
    for (size_t i = 0; !err && i < run->n; i++)
        if (made[i] >= 0)
            err = s_published(run, &c[i], made[i]);
    run->n = 0;
    return err;
}

ru_err
ru_dirsync_entry(ru_dirsync_run_t *run, const ru_dir_entry_t *e)
{
    char name[RU_MAX_NAME + 1], id[RU_MAX_DIR_ID + 1];
    run->report.seen++;
    if (e->name.len == 0)
        return s_refuse(run, "an entry has no user name (directory id %.*s)",
                        (int) (e->person.dir_id.len > 64 ? 64 : e->person.dir_id.len),
                        e->person.dir_id.ptr);
    if (ru_name_check(e->name.ptr, e->name.len) != RU_OK)
        return s_refuse(run, "%.*s is not a user name (a-z, 0-9, '_', '.', '-')",
                        (int) (e->name.len > 64 ? 64 : e->name.len), e->name.ptr);
    memcpy(name, e->name.ptr, e->name.len);
    name[e->name.len] = 0;
    if (e->person.dir_id.len == 0 || memchr(e->person.dir_id.ptr, 0, e->person.dir_id.len))
        return s_refuse(run, "%s has no directory id", name);
    if (s_names_has(&run->seen, name, e->name.len))
        return s_refuse(run, "%s is given twice", name);
    ru_err err = s_names_add(&run->seen, name, e->name.len);
    int account = 0;
    if (!err)
        err = s_holder(run->node, name, id, &account);
    if (err)
        return err;
    ru_str_t want = e->person.dir_id;
    if (id[0] && (strlen(id) != want.len || memcmp(id, want.ptr, want.len) != 0))
        return s_refuse(run, "%s is another employee's here (directory id %s)", name, id);
    if (!id[0] && account)
        return s_refuse(run, "%s is a local account of this site, not the directory's", name);
    s_item *it = &run->batch[run->n];
    memcpy(it->name, name, e->name.len + 1);
    it->display_len = e->display_name.len > sizeof it->display ? 0 : e->display_name.len;
    if (it->display_len)
        memcpy(it->display, e->display_name.ptr, it->display_len);
    else if (e->display_name.len)
        return s_refuse(run, "%s: the display name is longer than %d bytes", name,
                        RU_MAX_DISPLAY_BYTES);
    ru_buf_reset(&it->person);
    msgpack_packer pk;
    ru_mp_packer_init(&pk, &it->person);
    ru_person_pack(&pk, &e->person);
    if ((err = ru_buf_status(&it->person)) != RU_OK)
        return err;
    return ++run->n == S_BATCH ? s_flush(run) : RU_OK;
}

/*  ---------------------------------------------------------------------
 *  Departures
 */

typedef struct {
    ru_dirsync_run_t *run;
    char (*gone)[RU_MAX_NAME + 1];
    size_t n, cap;
    ru_err err;
} s_gone;

static int
s_gone_entry(void *ctx, const MDB_val *key, const MDB_val *val)
{
    s_gone *g = ctx;
    size_t len = key->mv_size - RU_KEY_BYTES - 1;
    const char *name = (const char *) key->mv_data + RU_KEY_BYTES;
    ru_profile_rec_t rec;
    ru_person_t p;
    if (key->mv_size < RU_KEY_BYTES + 2 || len > RU_MAX_NAME ||
        s_names_has(&g->run->seen, name, len) ||
        ru_profile_rec_decode(val->mv_data, val->mv_size, &rec) != RU_OK || !rec.person.len ||
        ru_person_unpack(rec.person.ptr, rec.person.len, &p) != RU_OK || !p.dir_id.len ||
        p.departed)
        return 0;
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 64;
        void *more = realloc(g->gone, cap * sizeof *g->gone);
        if (!more) {
            g->err = RU_E_NOMEM;
            return 1;
        }
        g->gone = more;
        g->cap = cap;
    }
    memcpy(g->gone[g->n], name, len);
    g->gone[g->n++][len] = 0;
    return 0;
}

/*  The departure of name: their entry as it is, departed, queued in the
 *  batch. */
static ru_err
s_depart(ru_dirsync_run_t *run, const char *name)
{
    ru_txn_t txn;
    ru_err err = ru_store_read(run->node->store, &txn);
    if (err)
        return err;
    uint8_t key[RU_DBKEY_USER];
    size_t klen = ru_dbkey_user(key, ru_key_public(run->node->key),
                                (ru_str_t){name, (uint32_t) strlen(name)});
    MDB_val val;
    ru_profile_rec_t rec;
    ru_person_t p;
    err = ru_txn_get(&txn, RU_DB_profiles, key, klen, &val);
    if (!err)
        err = ru_profile_rec_decode(val.mv_data, val.mv_size, &rec);
    if (!err)
        err = ru_person_unpack(rec.person.ptr, rec.person.len, &p);
    if (!err) {
        s_item *it = &run->batch[run->n];
        snprintf(it->name, sizeof it->name, "%s", name);
        it->display_len = 0;
        p.departed = 1;
        p.n_skills = 0; /* kept as they are */
        ru_buf_reset(&it->person);
        msgpack_packer pk;
        ru_mp_packer_init(&pk, &it->person);
        ru_person_pack(&pk, &p);
        err = ru_buf_status(&it->person);
    }
    ru_txn_abort(&txn);
    return err ? err : ++run->n == S_BATCH ? s_flush(run) : RU_OK;
}

static ru_err
s_departures(ru_dirsync_run_t *run)
{
    s_gone g = {run, NULL, 0, 0, RU_OK};
    ru_txn_t txn;
    ru_err err = ru_store_read(run->node->store, &txn);
    if (err)
        return err;
    err = ru_txn_scan(&txn, RU_DB_profiles, ru_key_public(run->node->key), RU_KEY_BYTES, 0,
                      s_gone_entry, &g);
    ru_txn_abort(&txn);
    err = err ? err : g.err;
    for (size_t i = 0; !err && i < g.n; i++)
        err = s_depart(run, g.gone[i]);
    free(g.gone);
    return err ? err : s_flush(run);
}

ru_err
ru_dirsync_end(ru_dirsync_run_t *run, int abort, ru_dirsync_report_t *report)
{
    if (!run)
        return RU_OK;
    ru_err err = abort ? RU_OK : s_flush(run);
    if (!err && run->complete && !abort)
        err = s_departures(run);
    if (report)
        *report = run->report;
    ru_log_info("directory",
                "%llu entries, %llu published, %llu unchanged, %llu refused, %llu departed",
                (unsigned long long) run->report.seen, (unsigned long long) run->report.published,
                (unsigned long long) run->report.unchanged,
                (unsigned long long) run->report.refused,
                (unsigned long long) run->report.departed);
    for (size_t i = 0; i < S_BATCH; i++)
        ru_buf_fini(&run->batch[i].person);
    free(run->seen.slot);
    free(run);
    return err;
}
