/*  ru_recovery.c - when a site that lost its store may post again (see
 *  ru_recovery.h).
 */
#include "ru_recovery.h"

#include "ru_apply.h"

void
ru_recovery_init(ru_recovery_t *self)
{
    self->target = 0;
    self->n_answered = 0;
}

static int
s_answered(const ru_recovery_t *self, uint32_t peer)
{
    for (int i = 0; i < self->n_answered; i++)
        if (self->answered[i] == peer)
            return 1;
    return 0;
}

void
ru_recovery_done(ru_recovery_t *self, uint32_t peer, uint64_t seq)
{
    ru_recovery_heard(self, peer, seq);
    if (!s_answered(self, peer) && self->n_answered < RU_MAX_PEERS)
        self->answered[self->n_answered++] = peer;
}

void
ru_recovery_heard(ru_recovery_t *self, uint32_t peer, uint64_t seq)
{
    (void) peer;
    if (seq > self->target)
        self->target = seq;
}

int
ru_recovery_target(const ru_recovery_t *self, const uint32_t *peers, int n, uint64_t *target)
{
    *target = self->target;
    for (int i = 0; i < n; i++)
        if (!s_answered(self, peers[i]))
            return 0;
    return 1;
}

typedef struct {
    uint64_t target;
    int ended;
} s_end;

static ru_err
s_end_request(const ru_writer_ctx_t *ctx, void *arg)
{
    s_end *e = arg;
    return ru_apply_end_recovery(ctx->apply, e->target, &e->ended);
}

ru_err
ru_recovery_try_end(const ru_recovery_t *self, ru_writer_t *writer, const uint32_t *peers, int n,
                    int *ended)
{
    s_end e = {0, 0};
    *ended = 0;
    if (!ru_recovery_target(self, peers, n, &e.target))
        return RU_OK;
    ru_err err = ru_writer_call(writer, s_end_request, &e);
    *ended = !err && e.ended;
    return err;
}
