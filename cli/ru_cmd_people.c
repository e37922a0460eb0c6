/*  ru_cmd_people.c - ruche people, and ruche admin directory import, sync
 *  and status (see ru_cmd_people.h).
 *
 *  An import's chunks are all measured before the first is sent, so that
 *  an entry too large for any request stops the import before anything is
 *  published. Each request may take a while at the node (each entry that
 *  changed is signed and committed), so import requests have a total
 *  timeout of S_IMPORT_MS instead of the client's 30 s.
 */
#include "ru_cmd_people.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ru_html.h"
#include "ru_people.h"
#include "ru_render.h"
#include "ruche/ru_buf.h"

#define S_DIRECTORY "/api/ruche/v1/admin/directory"
#define S_SYNC "/api/ruche/v1/admin/directory/sync"
#define S_DEFAULT_LIMIT 40            /* the node's page when no --limit is given */
#define S_DEFAULT_MAX_BODY 1048576L   /* [http] max_body's default */
#define S_CHUNK_ENTRIES 5000          /* entries a request at the most */
#define S_IMPORT_MS (10L * 60 * 1000) /* a request of the import */
#define S_POLL_MS 500                 /* between two looks at a sync */
#define S_PROGRESS_S 5                /* between two progress lines on a terminal */
#define S_REASONS 20                  /* reasons a run's report names at the most */

/*  Reads --NAME as a number from min to max into *n (left as it is when
 *  the option is not given). Exit status. */
static int
s_number(const ru_args_t *args, const char *opt, long min, long max, long *n)
{
    const char *v = ru_args_get(args, opt);
    char *end;
    if (v == NULL)
        return RU_EXIT_OK;
    errno = 0;
    long got = strtol(v, &end, 10);
    if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || got < min || got > max)
        return ru_ctx_say(RU_EXIT_USAGE, "%s is a number from %ld to %ld", opt, min, max);
    *n = got;
    return RU_EXIT_OK;
}

/*  The positional words joined by spaces, malloc'd ("" for none). */
static char *
s_words(const ru_args_t *args)
{
    ru_buf_t b;
    ru_buf_init(&b);
    for (size_t i = 0; i < args->npos; i++) {
        if (i > 0)
            ru_buf_append(&b, " ", 1);
        ru_buf_append(&b, args->pos[i], strlen(args->pos[i]));
    }
    ru_buf_append(&b, "", 1);
    if (ru_buf_status(&b) != RU_OK) {
        ru_buf_fini(&b);
        return NULL;
    }
    return (char *) b.data;
}

/*  Prints the people found, and where the next page starts. */
static int
s_print_people(ru_ctx_t *ctx, const json_t *found, const ru_people_query_t *q)
{
    char *tags = NULL;
    if (q->help != NULL && ru_people_help_tags(q->help, &tags) != RU_OK)
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    size_t i, n = json_array_size(found);
    const json_t *a;
    int failed = 0;
    if (n == 0)
        (void) fputs("(nobody found)\n", ctx->out);
    json_array_foreach(found, i, a) failed |= ru_render_person(ctx->out, a, tags) != RU_OK;
    free(tags);
    if (failed)
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    long page = q->limit > 0 ? q->limit : S_DEFAULT_LIMIT;
    if ((long) n >= page)
        (void) fprintf(ctx->out, "more: the same with --offset %ld\n", q->offset + (long) n);
    return RU_EXIT_OK;
}

int
ru_cmd_people(ru_ctx_t *ctx, const ru_args_t *args)
{
    ru_people_query_t q = {.title = ru_args_get(args, "--title"),
                           .department = ru_args_get(args, "--department"),
                           .site = ru_args_get(args, "--site"),
                           .office = ru_args_get(args, "--office"),
                           .skill = ru_args_get(args, "--skill"),
                           .help = ru_args_get(args, "--help-with"),
                           .local = ru_args_get(args, "--local") != NULL};
    int rc = s_number(args, "--limit", 1, RU_PEOPLE_MAX_LIMIT, &q.limit);
    if (rc == RU_EXIT_OK)
        rc = s_number(args, "--offset", 0, 1000000, &q.offset);
    if (rc != RU_EXIT_OK)
        return rc;
    if (q.help != NULL && q.help[0] == '\0')
        return ru_ctx_say(RU_EXIT_USAGE, "--help-with needs a subject");
    char *words = s_words(args), *path = NULL;
    q.q = words;
    if (words == NULL || ru_people_path(&q, &path) != RU_OK) {
        free(words);
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    }
    ru_reply_t reply;
    rc = ru_ctx_call(ctx, RU_AUTH_REQUIRED, "GET", path, NULL, &reply);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_expect(&reply, JSON_ARRAY, "a list of people");
    if (rc == RU_EXIT_OK)
        rc = ctx->json ? ru_ctx_print_json(ctx, reply.json) : s_print_people(ctx, reply.json, &q);
    ru_reply_fini(&reply);
    free(path);
    free(words);
    return rc;
}

/*  ---------------------------------------------------------------------
 *  ruche admin directory import
 */

/*  Reads the file (standard input for "-") as JSON: *file, and its
 *  entries and completeness, each entry checked. Exit status. */
static int
s_load_file(const char *name, json_t **file, const json_t **entries, int *complete)
{
    json_error_t jerr;
    char why[160];
    *file = strcmp(name, "-") == 0 ? json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr)
                                   : json_load_file(name, JSON_REJECT_DUPLICATES, &jerr);
    if (*file == NULL)
        return ru_ctx_say(RU_EXIT_USAGE, "cannot read %s: %s (line %d)", name, jerr.text,
                          jerr.line);
    if (ru_people_entries(*file, entries, complete, why, sizeof why) != RU_OK)
        return ru_ctx_say(RU_EXIT_USAGE, "%s is not a directory file: %s", name, why);
    for (size_t i = 0; i < json_array_size(*entries); i++)
        if (ru_people_check_entry(json_array_get(*entries, i), why, sizeof why) != RU_OK)
            return ru_ctx_say(RU_EXIT_USAGE, "%s: entry %zu: %s; nothing was sent", name, i, why);
    return RU_EXIT_OK;
}

/*  The node's largest body: its instance information says, else the
 *  default of [http] max_body. Exit status. */
static int
s_max_body(ru_ctx_t *ctx, long *max_body)
{
    ru_reply_t reply;
    int rc = ru_ctx_call(ctx, RU_AUTH_OPTIONAL, "GET", "/api/v2/instance", NULL, &reply);
    json_t *said = json_object_get(json_object_get(reply.json, "ruche"), "max_body");
    *max_body = json_is_integer(said) && json_integer_value(said) > 0
                    ? (long) json_integer_value(said)
                    : S_DEFAULT_MAX_BODY;
    ru_reply_fini(&reply);
    return rc;
}

/*  Checks that every chunk fits; *requests: how many there are. Exit
 *  status. */
static int
s_measure(const char *name, const json_t *entries, long max_body, size_t *requests)
{
    size_t n = json_array_size(entries), count, bytes;
    *requests = 0;
    for (size_t from = 0; from < n; from += count) {
        ru_err e =
            ru_people_chunk(entries, from, (size_t) max_body, S_CHUNK_ENTRIES, &count, &bytes);
        if (e == RU_E_TOO_BIG)
            return ru_ctx_say(RU_EXIT_FAIL,
                              "%s: entry %zu alone makes a request of %zu bytes, over the "
                              "node's max_body of %ld; nothing was sent",
                              name, from, bytes, max_body);
        if (e != RU_OK)
            return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
        ++*requests;
    }
    return RU_EXIT_OK;
}

/*  Sends entries [from, from + count) as one run; adds its report to
 *  total, and counts the request there. Exit status. */
static int
s_send(ru_ctx_t *ctx, const json_t *entries, size_t from, size_t count, int complete, json_t *total)
{
    json_t *slice = json_array();
    int bad = slice == NULL;
    for (size_t i = from; !bad && i < from + count; i++)
        bad = json_array_append(slice, json_array_get(entries, i)) != 0;
    json_t *body = bad ? NULL : json_pack("{s:b, s:O}", "complete", complete, "entries", slice);
    json_decref(slice);
    if (body == NULL)
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    ru_reply_t reply;
    int rc = ru_ctx_call(ctx, RU_AUTH_REQUIRED, "POST", S_DIRECTORY, body, &reply);
    json_decref(body);
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_expect(&reply, JSON_OBJECT, "the import's report");
    if (rc == RU_EXIT_OK && ru_people_tally(total, reply.json) != RU_OK)
        rc = ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    json_int_t requests = json_integer_value(json_object_get(total, "requests"));
    if (rc == RU_EXIT_OK && json_object_set_new(total, "requests", json_integer(requests + 1)))
        rc = ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    ru_reply_fini(&reply);
    return rc;
}

/*  Sends the entries: all in one request when complete, else chunk by
 *  chunk in order, stopping at the first that fails and saying which
 *  entries were not sent. Exit status. */
static int
s_send_all(ru_ctx_t *ctx, const json_t *entries, long max_body, int complete, json_t *total)
{
    size_t n = json_array_size(entries), count, bytes;
    if (complete)
        return s_send(ctx, entries, 0, n, 1, total);
    int tty = isatty(STDERR_FILENO);
    for (size_t from = 0; from < n; from += count) {
        if (ru_people_chunk(entries, from, (size_t) max_body, S_CHUNK_ENTRIES, &count, &bytes) !=
            RU_OK)
            return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
        int rc = s_send(ctx, entries, from, count, 0, total);
        if (rc != RU_EXIT_OK && from > 0)
            (void) ru_ctx_say(0,
                              "entries %zu to %zu were not imported, those before were "
                              "(importing the file again is safe: unchanged entries publish "
                              "nothing)",
                              from, n - 1);
        if (rc != RU_EXIT_OK)
            return rc;
        if (tty)
            (void) fprintf(stderr, "ruche: %zu of %zu entries imported\n", from + count, n);
    }
    return RU_EXIT_OK;
}

/*  Prints a report's counts and reasons, each line after indent. */
static void
s_print_report(FILE *out, const json_t *r, const char *indent)
{
    size_t i, listed = json_array_size(json_object_get(r, "reasons"));
    const json_t *why;
    long long refused = (long long) json_integer_value(json_object_get(r, "refused"));
    (void) fprintf(out,
                   "%s%lld seen · %lld published · %lld unchanged · %lld refused · %lld "
                   "departed\n",
                   indent, (long long) json_integer_value(json_object_get(r, "seen")),
                   (long long) json_integer_value(json_object_get(r, "published")),
                   (long long) json_integer_value(json_object_get(r, "unchanged")), refused,
                   (long long) json_integer_value(json_object_get(r, "departed")));
    json_array_foreach(json_object_get(r, "reasons"), i, why)
    {
        char *clean = NULL;
        if (ru_html_clean(json_string_value(why), 0, &clean) == RU_OK)
            (void) fprintf(out, "%s  refused: %s\n", indent, clean);
        free(clean);
    }
    if (refused > (long long) listed)
        (void) fprintf(out, "%s  (%lld more refused: the node names the first %d of a run)\n",
                       indent, refused - (long long) listed, S_REASONS);
}

/*  Prints what was imported (also after a failed request: what the
 *  requests before it did). Exit status: rc, else 1 when an entry was
 *  refused. */
static int
s_print_import(ru_ctx_t *ctx, const char *name, const json_t *total, int rc)
{
    json_int_t requests = json_integer_value(json_object_get(total, "requests"));
    if (rc != RU_EXIT_OK && requests == 0)
        return rc;
    if (ctx->json) {
        int printed = ru_ctx_print_json(ctx, total);
        rc = rc ? rc : printed;
    } else {
        (void) fprintf(ctx->out, "%s: %lld request%s\n", name, (long long) requests,
                       requests == 1 ? "" : "s");
        s_print_report(ctx->out, total, "  ");
    }
    if (rc == RU_EXIT_OK && json_integer_value(json_object_get(total, "refused")) > 0)
        rc = ru_ctx_say(RU_EXIT_FAIL, "the node refused some entries: see why above");
    return rc;
}

/*  What the node takes (*max_body), and whether the entries fit it:
 *  one request when complete, else chunks that each fit. Exit status. */
static int
s_plan(ru_ctx_t *ctx, const char *name, const json_t *entries, int complete, long *max_body)
{
    size_t bytes = 0, requests = 0;
    if (complete && json_array_size(entries) == 0)
        return ru_ctx_say(RU_EXIT_USAGE,
                          "%s holds no entry: a complete import of it would mark every "
                          "employee of the site as departed; nothing was sent",
                          name);
    int rc = s_max_body(ctx, max_body);
    if (rc != RU_EXIT_OK || !complete)
        return rc ? rc : s_measure(name, entries, *max_body, &requests);
    if (ru_people_body_size(entries, 1, &bytes) != RU_OK)
        return ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    if (bytes > (size_t) *max_body)
        return ru_ctx_say(RU_EXIT_FAIL,
                          "a complete import is one request, and %s makes one of %zu bytes, "
                          "over the node's max_body of %ld: raise [http] max_body in its "
                          "ruched.conf, or import without --complete (then nobody is marked "
                          "departed); nothing was sent",
                          name, bytes, *max_body);
    return RU_EXIT_OK;
}

int
ru_cmd_dir_import(ru_ctx_t *ctx, const ru_args_t *args)
{
    const char *name = args->pos[0];
    json_t *file = NULL, *total = NULL;
    const json_t *entries = NULL;
    int complete = 0;
    long max_body = 0;
    int rc = s_load_file(name, &file, &entries, &complete);
    complete |= ru_args_get(args, "--complete") != NULL;
    if (rc == RU_EXIT_OK)
        rc = s_plan(ctx, name, entries, complete, &max_body);
    if (rc == RU_EXIT_OK && (total = json_object()) == NULL)
        rc = ru_ctx_say(RU_EXIT_FAIL, "out of memory");
    if (rc == RU_EXIT_OK) {
        ctx->total_ms = S_IMPORT_MS;
        rc = s_print_import(ctx, name, total, s_send_all(ctx, entries, max_body, complete, total));
    }
    json_decref(total);
    json_decref(file);
    return rc;
}

/*  ---------------------------------------------------------------------
 *  ruche admin directory sync and status
 */

static long long
s_int(const json_t *obj, const char *key)
{
    return (long long) json_integer_value(json_object_get(obj, key));
}

/*  Prints the sync's state (the answer of S_SYNC). Exit status: 1 when
 *  the last run, ended, failed. */
static int
s_print_sync(ru_ctx_t *ctx, const json_t *st)
{
    if (ctx->json)
        return ru_ctx_print_json(ctx, st);
    const char *result = json_string_value(json_object_get(st, "result"));
    char started[RU_RENDER_TIME_SIZE], ended[RU_RENDER_TIME_SIZE];
    ru_render_time(json_string_value(json_object_get(st, "started_at")), started, sizeof started);
    ru_render_time(json_string_value(json_object_get(st, "ended_at")), ended, sizeof ended);
    int running = json_is_true(json_object_get(st, "running"));
    long long runs = s_int(st, "runs");
    int failed = !running && runs > 0 && (result == NULL || strcmp(result, "ok") != 0);
    if (!running && runs == 0) {
        (void) fputs("directory sync: no run has ended since the node started\n", ctx->out);
        return RU_EXIT_OK;
    }
    if (running)
        (void) fprintf(ctx->out, "directory sync: running since %s; so far:\n", started);
    else
        (void) fprintf(ctx->out, "directory sync: run %lld, from %s to %s: %s\n", runs, started,
                       ended, failed ? "stopped" : "done");
    if (failed) {
        char *why = NULL;
        if (ru_html_clean(json_string_value(json_object_get(st, "reason")), 0, &why) == RU_OK)
            (void) fprintf(ctx->out, "  why: %s (nobody was marked departed)\n", why);
        free(why);
    }
    (void) fprintf(ctx->out, "  directory pages read: %lld · entries that make nobody: %lld\n",
                   s_int(st, "pages"), s_int(st, "skipped"));
    s_print_report(ctx->out, json_object_get(st, "report"), "  ");
    return failed ? RU_EXIT_FAIL : RU_EXIT_OK;
}

/*  Sends method to S_SYNC; on a 404, says what it means. Exit status. */
static int
s_sync_call(ru_ctx_t *ctx, const char *method, ru_reply_t *reply)
{
    int rc = ru_ctx_call(ctx, RU_AUTH_REQUIRED, method, S_SYNC, NULL, reply);
    if (rc != RU_EXIT_OK && reply->status == 404)
        (void) ru_ctx_say(0, "the node has no directory to sync from: [ldap] is off in its "
                             "ruched.conf (deploy/README.md shows how to connect it)");
    if (rc == RU_EXIT_OK)
        rc = ru_ctx_expect(reply, JSON_OBJECT, "the directory sync's state");
    return rc;
}

/*  Asks for the sync's state until the run number past has ended; prints
 *  it. Exit status. */
static int
s_wait_sync(ru_ctx_t *ctx, long long past)
{
    struct timespec pause = {S_POLL_MS / 1000, (S_POLL_MS % 1000) * 1000000L};
    time_t shown = time(NULL);
    int tty = isatty(STDERR_FILENO);
    for (;;) {
        ru_reply_t reply;
        int rc = s_sync_call(ctx, "GET", &reply);
        int ended = rc == RU_EXIT_OK && s_int(reply.json, "runs") >= past &&
                    !json_is_true(json_object_get(reply.json, "running"));
        if (rc == RU_EXIT_OK && ended)
            rc = s_print_sync(ctx, reply.json);
        if (rc == RU_EXIT_OK && !ended && tty && time(NULL) - shown >= S_PROGRESS_S) {
            shown = time(NULL);
            (void) fprintf(stderr, "ruche: the sync has seen %lld people so far\n",
                           s_int(json_object_get(reply.json, "report"), "seen"));
        }
        ru_reply_fini(&reply);
        if (rc != RU_EXIT_OK || ended)
            return rc;
        (void) nanosleep(&pause, NULL);
    }
}

int
ru_cmd_dir_sync(ru_ctx_t *ctx, const ru_args_t *args)
{
    ru_reply_t reply;
    int rc = s_sync_call(ctx, "POST", &reply);
    /*  The run asked for is the one under way, or the next to start: it
     *  has ended once one more run than now has. */
    long long past = s_int(reply.json, "runs") + 1;
    int wait = ru_args_get(args, "--wait") != NULL;
    if (rc == RU_EXIT_OK && !wait && ctx->json)
        rc = ru_ctx_print_json(ctx, reply.json);
    else if (rc == RU_EXIT_OK && !wait)
        (void) fprintf(ctx->out,
                       "directory sync asked for: run %lld %s (ruche admin directory status "
                       "shows how it goes)\n",
                       past,
                       json_is_true(json_object_get(reply.json, "running")) ? "is under way"
                                                                            : "starts now");
    ru_reply_fini(&reply);
    return rc == RU_EXIT_OK && wait ? s_wait_sync(ctx, past) : rc;
}

int
ru_cmd_dir_status(ru_ctx_t *ctx, const ru_args_t *args)
{
    (void) args;
    ru_reply_t reply;
    int rc = s_sync_call(ctx, "GET", &reply);
    if (rc == RU_EXIT_OK)
        rc = s_print_sync(ctx, reply.json);
    ru_reply_fini(&reply);
    return rc;
}
