/*  ru_dirldap.c - the site's employees imported from the company's LDAP
 *  directory (see ru_dirldap.h).
 *
 *  The thread sleeps on a condition variable until the next run is due,
 *  a run is asked for, or the node stops. The status is a copy the
 *  thread refreshes under the lock every S_PROGRESS persons, so that
 *  readers never touch the run itself.
 */
#include "ru_dirldap.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "ruche/ru_hlc.h"

#include "ru_ldap.h"
#include "ru_log.h"

#define S_PROGRESS 256 /* persons between two refreshes of the status */

struct ru_dirldap {
    ru_node_t *node;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int kicked, stopping;
    ru_dirldap_status_t status;
};

/*  What a walk hands the import. */
typedef struct {
    ru_dirldap_t *self;
    ru_dirsync_run_t *run;
    uint64_t persons;
    ru_err err;
} s_walk;

static ru_str_t
s_text(const char *s)
{
    return (ru_str_t){s, (uint32_t) strlen(s)};
}

/*  The entry of person p (views into p). */
static void
s_entry(const ru_ldap_person_t *p, ru_dir_entry_t *e)
{
    memset(e, 0, sizeof *e);
    e->name = s_text(p->login);
    e->display_name = s_text(p->name);
    e->key = s_text(p->dn);
    e->manager_key = s_text(p->manager);
    ru_person_t *pr = &e->person;
    pr->dir_id = s_text(p->id);
    pr->title = s_text(p->title);
    pr->department = s_text(p->department);
    pr->site = s_text(p->site);
    pr->office = s_text(p->office);
    pr->phone = s_text(p->phone);
    pr->email = s_text(p->mail);
    for (int i = 0; i < p->n_skills && pr->n_skills < RU_MAX_SKILLS; i++)
        if (p->skills[i][0])
            pr->skills[pr->n_skills++] = s_text(p->skills[i]);
    pr->departed = p->disabled;
    e->photo = p->photo;
    e->photo_len = p->photo ? p->photo_len : 0;
    e->photos_known = 1; /* [ldap] photo_attribute: none said is no photo */
    e->photo_too_big = p->photo_too_big;
}

static int
s_person(void *ctx, const ru_ldap_person_t *p)
{
    s_walk *w = ctx;
    ru_dir_entry_t e;
    s_entry(p, &e);
    w->err = ru_dirsync_entry(w->run, &e);
    if (++w->persons % S_PROGRESS == 0) {
        pthread_mutex_lock(&w->self->lock);
        ru_dirsync_progress(w->run, &w->self->status.report);
        int stop = w->self->stopping;
        pthread_mutex_unlock(&w->self->lock);
        if (stop)
            w->err = RU_E_INVALID; /* stopped: no departures */
    }
    return w->err != RU_OK;
}

/*  A manager of another site, found by their DN. */
static ru_err
s_resolve(void *ctx, const char *key, char *id, size_t size)
{
    char found[RU_LDAP_ID_MAX];
    ru_err err = ru_ldap_id_of(ctx, key, found);
    if (!err && strlen(found) >= size)
        err = RU_E_NOT_FOUND; /* longer than a directory id may be */
    if (!err)
        memcpy(id, found, strlen(found) + 1);
    return err;
}

/*  One run: the walk, then the end of the import (departures only when
 *  the walk went through). */
static void
s_run(ru_dirldap_t *self)
{
    pthread_mutex_lock(&self->lock);
    self->status.running = 1;
    self->status.started_ms = ru_hlc_wall_ms();
    memset(&self->status.report, 0, sizeof self->status.report);
    pthread_mutex_unlock(&self->lock);
    s_walk w = {self, NULL, 0, RU_OK};
    ru_ldap_stats_t stats = {0, 0, 0};
    ru_err err = ru_dirsync_begin(self->node, 1, s_resolve, self->node->ldap, &w.run);
    if (!err)
        err = ru_ldap_each(self->node->ldap, s_person, &w, &stats);
    err = err ? err : w.err;
    ru_dirsync_report_t report;
    memset(&report, 0, sizeof report);
    ru_err end = ru_dirsync_end(w.run, err != RU_OK, &report);
    err = err ? err : end;
    if (err)
        ru_log_warn("directory", "the sync from %s stopped after %llu persons: %s; nobody is "
                    "taken for departed",
                    self->node->cfg.ldap_uri, (unsigned long long) w.persons, ru_err_str(err));
    pthread_mutex_lock(&self->lock);
    self->status.running = 0;
    self->status.runs++;
    self->status.ended_ms = ru_hlc_wall_ms();
    self->status.result = err;
    self->status.pages = stats.pages;
    self->status.skipped = stats.skipped;
    self->status.report = report;
    pthread_mutex_unlock(&self->lock);
}

static void *
s_thread(void *arg)
{
    ru_dirldap_t *self = arg;
    long every = self->node->cfg.dir_sync_interval_s;
    pthread_mutex_lock(&self->lock);
    /*  With no schedule, the first run waits to be asked for. */
    while (every <= 0 && !self->stopping && !self->kicked)
        pthread_cond_wait(&self->wake, &self->lock);
    while (!self->stopping) {
        self->kicked = 0;
        pthread_mutex_unlock(&self->lock);
        s_run(self);
        pthread_mutex_lock(&self->lock);
        struct timespec due;
        clock_gettime(CLOCK_MONOTONIC, &due);
        due.tv_sec += every;
        while (!self->stopping && !self->kicked) {
            if (every <= 0)
                pthread_cond_wait(&self->wake, &self->lock);
            else if (pthread_cond_timedwait(&self->wake, &self->lock, &due) != 0)
                break; /* due */
        }
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

ru_err
ru_dirldap_new(ru_node_t *node, ru_dirldap_t **out)
{
    ru_dirldap_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    self->node = node;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&self->thread, NULL, s_thread, self) != 0) {
        pthread_cond_destroy(&self->wake);
        pthread_mutex_destroy(&self->lock);
        free(self);
        return RU_E_IO;
    }
    *out = self;
    return RU_OK;
}

void
ru_dirldap_destroy(ru_dirldap_t **self_p)
{
    ru_dirldap_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_lock(&self->lock);
    self->stopping = 1;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
    pthread_join(self->thread, NULL);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

void
ru_dirldap_kick(ru_dirldap_t *self, ru_dirldap_status_t *out)
{
    pthread_mutex_lock(&self->lock);
    if (!self->status.running)
        self->kicked = 1;
    if (out)
        *out = self->status;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
}

void
ru_dirldap_status(ru_dirldap_t *self, ru_dirldap_status_t *out)
{
    pthread_mutex_lock(&self->lock);
    *out = self->status;
    pthread_mutex_unlock(&self->lock);
}
