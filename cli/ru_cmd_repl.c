/*  ru_cmd_repl.c - "ruche status" (see ru_cmd_repl.h).
 *
 *  The node's replication status is one request; the derived columns
 *  (heartbeat age, digest agreement) are computed here, so that the table
 *  and --json say the same. Ages come from the node's timestamps and this
 *  machine's clock: a skew between the two shows as an age off by as much.
 */
#include "ru_cmd_repl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ru_html.h"
#include "ru_render.h"

#define S_REPLICATION "/api/ruche/v1/replication"
#define S_WATCH_DEFAULT 2
#define S_WATCH_MAX 86400

/*  Adds heartbeat_age and digest_agrees to a peer of the status ours. */
static void
s_annotate_peer(const json_t *ours, json_t *peer)
{
    time_t t;
    const char *beat = json_string_value(json_object_get(peer, "last_heartbeat"));
    json_t *age = json_null();
    if (beat && ru_render_parse_time(beat, &t) == RU_OK) {
        time_t now = time(NULL);
        age = json_integer(now > t ? (json_int_t) (now - t) : 0);
    }
    json_object_set_new(peer, "heartbeat_age", age);
    const char *theirs = json_string_value(json_object_get(peer, "digest"));
    const char *mine = json_string_value(json_object_get(ours, "digest"));
    int same_clock = json_equal(json_object_get(ours, "clock"), json_object_get(peer, "clock"));
    json_object_set_new(peer, "digest_agrees",
                        theirs && mine && same_clock ? json_boolean(strcmp(theirs, mine) == 0)
                                                     : json_null());
}

/*  The refusals of a peer as "reason n, ..." into out, "-" for none. */
static void
s_rejected(const json_t *peer, char *out, size_t size)
{
    const char *reason;
    json_t *n;
    size_t used = 0;
    out[0] = '\0';
    json_object_foreach(json_object_get(peer, "rejected"), reason, n)
    {
        if (json_integer_value(n) <= 0 || used >= size)
            continue;
        int w = snprintf(out + used, size - used, "%s%s %lld", used ? ", " : "", reason,
                         (long long) json_integer_value(n));
        used += w > 0 ? (size_t) w : 0;
    }
    if (!out[0])
        snprintf(out, size, "-");
}

/*  One row of the table. */
static void
s_row(FILE *out, const json_t *peer)
{
    char site[64], age[32], rejected[256];
    const char *name = json_string_value(json_object_get(peer, "site"));
    char *clean = NULL;
    snprintf(site, sizeof site, "%s",
             name && ru_html_clean(name, 0, &clean) == RU_OK ? clean : "?");
    free(clean);
    json_t *a = json_object_get(peer, "heartbeat_age");
    if (json_is_integer(a))
        snprintf(age, sizeof age, "%llds", (long long) json_integer_value(a));
    else
        snprintf(age, sizeof age, "never");
    int direct = json_is_true(json_object_get(peer, "direct"));
    const char *connected = !direct                                            ? "relayed"
                            : json_is_true(json_object_get(peer, "connected")) ? "yes"
                                                                               : "NO";
    json_t *agrees = json_object_get(peer, "digest_agrees");
    const char *digest = json_is_true(agrees) ? "agrees" : json_is_false(agrees) ? "DIFFERS" : "-";
    s_rejected(peer, rejected, sizeof rejected);
    (void) fprintf(out, "%-16s %-9s %-10s %8lld %8lld %9.1f  %-7s  %s\n", site, connected, age,
                   (long long) json_integer_value(json_object_get(peer, "behind")),
                   (long long) json_integer_value(json_object_get(peer, "ahead")),
                   json_number_value(json_object_get(peer, "seconds_behind")), digest, rejected);
}

static void
s_table(FILE *out, const json_t *status)
{
    json_int_t updates = 0;
    const char *origin;
    json_t *seq, *peer;
    size_t i;
    json_object_foreach(json_object_get(status, "clock"), origin, seq) updates +=
        json_integer_value(seq);
    const char *digest = json_string_value(json_object_get(status, "digest"));
    const char *site = json_string_value(json_object_get(status, "site"));
    char *clean = NULL;
    (void) fprintf(
        out, "site %s: %lld updates, %lld pending, digest %.16s\n",
        site && ru_html_clean(site, 0, &clean) == RU_OK ? clean : "?", (long long) updates,
        (long long) json_integer_value(json_object_get(status, "pending")), digest ? digest : "?");
    free(clean);
    (void) fprintf(out, "%-16s %-9s %-10s %8s %8s %9s  %-7s  %s\n", "SITE", "CONNECTED", "BEAT_AGE",
                   "BEHIND", "AHEAD", "BEHIND_S", "DIGEST", "REJECTED");
    json_array_foreach(json_object_get(status, "peers"), i, peer) s_row(out, peer);
}

/*  One round: fetch, annotate, print. Exit status. */
static int
s_round(ru_ctx_t *ctx, int watching)
{
    ru_reply_t reply;
    size_t i;
    json_t *peer;
    int rc = ru_ctx_call(ctx, RU_AUTH_OPTIONAL, "GET", S_REPLICATION, NULL, &reply);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_expect(&reply, JSON_OBJECT, "the replication status");
    if (rc == RU_EXIT_OK) {
        json_array_foreach(json_object_get(reply.json, "peers"), i, peer)
            s_annotate_peer(reply.json, peer);
        if (ctx->json && watching) {
            (void) json_dumpf(reply.json, ctx->out, JSON_COMPACT);
            (void) fputc('\n', ctx->out);
        } else if (ctx->json)
            rc = ru_ctx_print_json(ctx, reply.json);
        else {
            if (watching && isatty(fileno(ctx->out)))
                (void) fputs("\033[H\033[2J", ctx->out);
            s_table(ctx->out, reply.json);
        }
        (void) fflush(ctx->out);
    }
    ru_reply_fini(&reply);
    return rc;
}

int
ru_cmd_repl_status(ru_ctx_t *ctx, const ru_args_t *args)
{
    int watch = ru_args_get(args, "--watch") != NULL;
    long every = S_WATCH_DEFAULT;
    if (args->npos > 0) {
        char *end;
        every = strtol(args->pos[0], &end, 10);
        if (!watch || *end || end == args->pos[0] || every < 1 || every > S_WATCH_MAX)
            return ru_ctx_say(RU_EXIT_USAGE,
                              "SECONDS goes with --watch: a whole number from 1 to %d",
                              S_WATCH_MAX);
    }
    int rc = s_round(ctx, watch);
    if (!watch)
        return rc;
    for (;;) { /* until interrupted */
        struct timespec pause = {every, 0};
        (void) nanosleep(&pause, NULL);
        (void) s_round(ctx, watch); /* a node that does not answer is tried again */
    }
}
