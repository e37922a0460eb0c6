/*  ru_admit.c - admission (see ru_admit.h).
 *
 *  The server sockets are bound here, each naming its actor's ZAP domain.
 *  The registry of actors is a list under s_lock, which the handler's
 *  thread takes for each request; s_life serializes starting and stopping
 *  the handler, so that it is never bound twice. Counters read by other
 *  threads are atomics.
 */
#include "ru_admit.h"

#include <czmq.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruche/ru_hlc.h"

#include "ru_log.h"
#include "ru_ratelimit.h"
#include "ru_verify.h"

#define S_ZAP "inproc://zeromq.zap.01"
#define S_LOG_EVERY_MS 60000 /* one line a minute per address and kind */
#define S_LOG_SLOTS 1024     /* addresses remembered for that */

struct ru_admit {
    ru_sites_t *sites;
    char domain[32];
    uint64_t budget;
    uint64_t bytes;       /* the actor's: envelopes of the jobs not answered yet */
    int paused;           /* the actor's: the live streams are left unread */
    uint64_t read_ms;     /* the actor's: when they were read again (wall ms) */
    ru_ratelimit_t *logs; /* the lines logged in the last minute */
    _Atomic uint64_t refused, sent, done, pauses;
    struct ru_admit *next;
};

static pthread_mutex_t s_life = PTHREAD_MUTEX_INITIALIZER; /* starts and stops */
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER; /* the list */
static ru_admit_t *s_admits;
static zactor_t *s_handler;
static unsigned s_domains;
static atomic_int s_handler_up; /* the handler's thread has its socket */

/*  The site admitted for key in domain into site ("" when refused, then
 *  counted and logged); 1 when admitted. */
static int
s_admitted(const char *domain, const char *address, const uint8_t *key, char *site)
{
    site[0] = '\0';
    pthread_mutex_lock(&s_lock);
    ru_admit_t *a = s_admits;
    while (a && strcmp(a->domain, domain) != 0)
        a = a->next;
    int ok = a && key && ru_sites_peer_by_curve(a->sites, key, site);
    if (a && !ok) {
        uint64_t n = atomic_fetch_add(&a->refused, 1) + 1;
        if (ru_peer_may_log(a->logs, "zap", address))
            ru_log_warn("repl",
                        "refused a connection from %s: not a configured peer's key (%llu "
                        "refused from anywhere so far; one line a minute per address)",
                        address, (unsigned long long) n);
    }
    pthread_mutex_unlock(&s_lock);
    return ok;
}

/*  One ZAP request: CURVE clients get in when their key is a configured
 *  peer's, with its site name as User-Id. */
static void
s_on_zap(zsock_t *zap)
{
    zmsg_t *req = zmsg_recv(zap);
    if (!req)
        return;
    char *version = zmsg_popstr(req), *seq = zmsg_popstr(req);
    char *domain = zmsg_popstr(req), *address = zmsg_popstr(req);
    char *identity = zmsg_popstr(req), *mechanism = zmsg_popstr(req);
    zframe_t *key = zmsg_pop(req);
    int curve = mechanism && strcmp(mechanism, "CURVE") == 0 && key && zframe_size(key) == 32;
    char site[RU_MAX_NAME + 1];
    int ok = s_admitted(domain ? domain : "", address ? address : "?",
                        curve ? zframe_data(key) : NULL, site);
    zstr_sendm(zap, "1.0");
    zstr_sendm(zap, seq ? seq : "");
    zstr_sendm(zap, ok ? "200" : "400");
    zstr_sendm(zap, ok ? "OK" : "not a peer");
    zstr_sendm(zap, site);
    zstr_send(zap, "");
    char *all[] = {version, seq, domain, address, identity, mechanism};
    for (int i = 0; i < 6; i++)
        free(all[i]);
    zframe_destroy(&key);
    zmsg_destroy(&req);
}

/*  The handler's thread. Its REP is bound again for up to a second: the
 *  previous handler's endpoint is let go by ZeroMQ shortly after it closed. */
static void
s_handler_actor(zsock_t *pipe, void *arg)
{
    (void) arg;
    zsock_t *zap = NULL;
    for (int tries = 0; !zap && tries < 100; tries++)
        if (!(zap = zsock_new_rep(S_ZAP)))
            zclock_sleep(10);
    zpoller_t *poller = zap ? zpoller_new(pipe, zap, NULL) : NULL;
    /*  zactor_new() waits for this signal but drops what it says: the flag,
     *  set before it, tells ru_admit_new() whether the start failed. */
    atomic_store(&s_handler_up, poller != NULL);
    zsock_signal(pipe, poller ? 0 : 1);
    while (poller) {
        void *which = zpoller_wait(poller, -1);
        if (which == zap)
            s_on_zap(zap);
        else
            break; /* $TERM, or the context ends */
    }
    zpoller_destroy(&poller);
    zsock_destroy(&zap);
}

ru_err
ru_admit_new(ru_sites_t *sites, uint64_t budget, ru_admit_t **out)
{
    *out = NULL;
    ru_admit_t *self = calloc(1, sizeof *self);
    if (!self || ru_ratelimit_new(1, S_LOG_EVERY_MS, S_LOG_SLOTS, &self->logs) != RU_OK) {
        free(self);
        return RU_E_NOMEM;
    }
    self->sites = sites;
    self->budget = budget;
    pthread_mutex_lock(&s_life);
    if (!s_handler && (s_handler = zactor_new(s_handler_actor, NULL)) != NULL &&
        !atomic_load(&s_handler_up))
        zactor_destroy(&s_handler);
    ru_err err = s_handler ? RU_OK : RU_E_IO;
    if (!err) {
        snprintf(self->domain, sizeof self->domain, "ruche.%u", ++s_domains);
        pthread_mutex_lock(&s_lock);
        self->next = s_admits;
        s_admits = self;
        pthread_mutex_unlock(&s_lock);
    }
    pthread_mutex_unlock(&s_life);
    if (err) {
        ru_log_err("repl", "cannot start the ZAP handler at %s", S_ZAP);
        ru_ratelimit_destroy(&self->logs);
        free(self);
        return err;
    }
    *out = self;
    return RU_OK;
}

void
ru_admit_destroy(ru_admit_t **self_p)
{
    ru_admit_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_lock(&s_life);
    pthread_mutex_lock(&s_lock);
    ru_admit_t **link = &s_admits;
    while (*link && *link != self)
        link = &(*link)->next;
    if (*link)
        *link = self->next;
    int last = s_admits == NULL;
    pthread_mutex_unlock(&s_lock);
    if (last)
        zactor_destroy(&s_handler);
    pthread_mutex_unlock(&s_life);
    ru_ratelimit_destroy(&self->logs);
    free(self);
    *self_p = NULL;
}

const char *
ru_admit_domain(const ru_admit_t *self)
{
    return self->domain;
}

zsock_t *
ru_admit_bind(ru_admit_t *self, const ru_peer_ctx_t *ctx, int type, const char *endpoint, int quiet)
{
    zsock_t *sock = zsock_new(type);
    if (!sock)
        return NULL;
    zsock_set_zap_domain(sock, self->domain);
    zsock_set_curve_server(sock, 1);
    zsock_set_curve_secretkey_bin(sock, ctx->curve_sec);
    if (type == ZMQ_PUB) /* it reads subscriptions */
        ru_peer_limits(ctx, sock, RU_PEER_MAX_LIVE, RU_PEER_READ_LIVE);
    else {
        ru_peer_limits(ctx, sock, RU_MAX_MESSAGE, RU_PEER_READ_SYNC);
        zsock_set_router_mandatory(sock, 1); /* a full queue says so (ru_serve.c) */
    }
    if (zsock_bind(sock, "%s", endpoint) < 0) {
        if (!quiet)
            ru_log_err("repl", "cannot bind [replication] %s at %s: %s",
                       type == ZMQ_PUB ? "pub" : "sync", endpoint, zmq_strerror(zmq_errno()));
        zsock_destroy(&sock);
    }
    return sock;
}

zsock_t *
ru_admit_rebind(ru_admit_t *self, const ru_peer_ctx_t *ctx, zsock_t **old, int type,
                const char *endpoint)
{
    if (*old)
        zsock_set_linger(*old, 0);
    zsock_destroy(old);
    for (int tries = 0; tries < 100; tries++) {
        zsock_t *sock = ru_admit_bind(self, ctx, type, endpoint, tries < 99);
        if (sock)
            return sock;
        zclock_sleep(10);
    }
    return NULL;
}

/*  ---------------------------------------------------------------------
 *  Jobs
 */

void
ru_admit_live_job(zmsg_t **job, uint32_t peer, const ru_envelope_t *env)
{
    if (!*job && (*job = zmsg_new()) != NULL) {
        ru_verify_job_t head = {peer, 0, 0, 0};
        zmsg_addmem(*job, &head, sizeof head);
    }
    if (*job)
        zmsg_addmem(*job, env->wire, env->wire_len);
}

zmsg_t *
ru_admit_batch_job(uint32_t peer, uint32_t session, const ru_msg_t *msg)
{
    ru_verify_job_t head = {peer, 1, 0, session};
    zmsg_t *job = zmsg_new();
    if (!job)
        return NULL;
    zmsg_addmem(job, &head, sizeof head);
    for (uint32_t i = 0; i < msg->n_updates; i++)
        zmsg_addmem(job, msg->updates[i].wire, msg->updates[i].wire_len);
    return job;
}

int
ru_admit_send(ru_admit_t *self, zsock_t *jobs, zmsg_t **job)
{
    zframe_t *head = zmsg_first(*job);
    ru_verify_job_t h;
    if (!head || zframe_size(head) != sizeof h) {
        zmsg_destroy(job);
        return 0;
    }
    memcpy(&h, zframe_data(head), sizeof h);
    h.bytes = (uint32_t) (zmsg_content_size(*job) - sizeof h);
    memcpy(zframe_data(head), &h, sizeof h);
    if (zmsg_send(job, jobs) != 0)
        return 0;
    return ru_admit_sent(self, h.bytes);
}

/*  Pauses past the budget, reads again under half of it; 1 on a change. */
static int
s_flow(ru_admit_t *self)
{
    int pause = self->paused ? self->bytes > self->budget / 2 : self->bytes > self->budget;
    if (pause == self->paused)
        return 0;
    self->paused = pause;
    if (!pause) {
        self->read_ms = ru_hlc_wall_ms(); /* the peers' silence counts from here */
        return 1;
    }
    atomic_fetch_add(&self->pauses, 1);
    if (ru_peer_may_log(self->logs, "live paused", ""))
        ru_log_warn("repl",
                    "updates to verify and store take more than [replication] queue_mb "
                    "(%llu MiB): the live streams wait until half of them are done",
                    (unsigned long long) (self->budget >> 20));
    return 1;
}

int
ru_admit_sent(ru_admit_t *self, uint32_t bytes)
{
    atomic_fetch_add(&self->sent, 1);
    self->bytes += bytes;
    return s_flow(self);
}

int
ru_admit_done(ru_admit_t *self, uint32_t bytes)
{
    atomic_fetch_add(&self->done, 1);
    self->bytes -= bytes < self->bytes ? bytes : self->bytes;
    return s_flow(self);
}

int
ru_admit_paused(const ru_admit_t *self)
{
    return self->paused;
}

uint64_t
ru_admit_read_ms(const ru_admit_t *self)
{
    return self->read_ms;
}

uint64_t
ru_admit_refused(ru_admit_t *self)
{
    return atomic_load(&self->refused);
}

uint64_t
ru_admit_queued(ru_admit_t *self)
{
    return atomic_load(&self->sent) - atomic_load(&self->done);
}

uint64_t
ru_admit_pauses(ru_admit_t *self)
{
    return atomic_load(&self->pauses);
}
