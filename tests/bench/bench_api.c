/*  bench_api.c - throughput and latency of a real ruched over HTTP, next
 *  to the raw limits that bound it, measured in the same run.
 *
 *  Usage: bench_api PATH/TO/ruched [--seconds N | --quick]
 *
 *  Raw limits first, with nothing else running:
 *    durable LMDB commits: an environment of its own in a temporary
 *    directory, default flags (fsync at every commit), transactions of 1
 *    put and of 32 puts of 500-byte values;
 *    Ed25519: crypto_sign_detached over a 400-byte message.
 *  Then ruched starts on a free loopback port with a fresh data directory
 *  under $TMPDIR (the same file system as the raw LMDB directory), the
 *  bench logs in as admin and measures:
 *    POST /api/v1/statuses with 1 and with 32 clients, in acknowledged
 *    posts/s: only 200 answers count, and ruched sends them after the
 *    durable commit. Ratios: to the 1-put commit rate (one commit per
 *    post), to the put rate of 32-put transactions (group commit at its
 *    best) and to the sign rate (one signature per post);
 *    GET /api/v1/timelines/public?limit=20 with 1 and 8 clients, once at
 *    least S_FILL statuses exist, in requests/s with p50 and p99 latency.
 *
 *  Each client is a thread with one libcurl easy handle, so its requests
 *  share one keep-alive connection. ruched runs with S_HTTP_THREADS
 *  workers, more than the bench has clients, so that no request of one
 *  client waits for another's handler.
 *
 *  Each row runs for a fixed time (5 s, --seconds N, --quick for 0.3 s).
 *  The program exits 1 if a request fails, an answer is not the JSON it
 *  should be, or ruched does not start, log in, or exit 0 on SIGTERM; it
 *  asserts nothing about speed, so --quick doubles as a smoke test.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <lmdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ruche/ru_buf.h"
#include "testdir.h"

#define S_VALUE_BYTES 500    /* raw LMDB value size */
#define S_LMDB_KEYS 65536    /* raw LMDB keys cycle, so the file stays small */
#define S_SIGN_BYTES 400     /* raw signed message size */
#define S_POST_CLIENTS 32    /* the concurrent POST row */
#define S_GET_CLIENTS 8      /* the concurrent GET row */
#define S_HTTP_THREADS "40"  /* ruched's http.threads: above every client count */
#define S_FILL 300           /* statuses that exist before the GET rows */
#define S_START_TIMEOUT 30.0 /* seconds for ruched to answer /healthz */
#define S_STOP_TIMEOUT 30.0  /* seconds for ruched to exit after SIGTERM */
#define S_TIMELINE "/api/v1/timelines/public?limit=20"

static const char s_text[] =
    "Maintenance du lien Nozay-Paris ce soir de 22 h a minuit : les posts restent acceptes, la "
    "replication reprendra seule ensuite. Merci de signaler tout retard. #bench";

typedef struct {
    char dir[4096]; /* the data directory, removed at the end */
    char log[4200]; /* ruched's stdout and stderr, inside dir */
    char base[64];  /* http://127.0.0.1:PORT */
    char auth[512]; /* the Authorization header */
    pid_t pid;      /* 0 when not running */
} s_server_t;

/*  One client: a libcurl handle (its connection is kept alive between
 *  requests) and the body of its last answer. */
typedef struct {
    CURL *curl;
    struct curl_slist *headers;
    ru_buf_t body;
    char url[256];
} s_client_t;

typedef enum { S_POST, S_GET } s_kind;

typedef struct {
    const s_server_t *srv;
    s_kind kind;
    int id;
    double seconds;
    pthread_barrier_t *start;
    uint64_t ok;     /* 200 answers */
    uint64_t failed; /* other answers and transfer errors */
    double elapsed;  /* from the common start to the last answer */
    double *lat;     /* seconds per 200 answer */
    size_t n_lat;
    size_t cap_lat;
    char error[512]; /* the first failure */
} s_worker_t;

typedef struct {
    double rate; /* 200 answers per second */
    double p50;  /* seconds */
    double p99;
    uint64_t ok;
    uint64_t failed;
} s_result_t;

typedef struct {
    double commit1; /* commits/s of 1-put transactions (= puts/s) */
    double put32;   /* puts/s in 32-put transactions */
    double sign;    /* signatures/s */
} s_raw_t;

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/*  Waits about ms milliseconds: the poll interval of the deadline loops. */
static void
s_pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/*  ---------------------------------------------------------------------
 *  Raw limits
 */

static int
s_lmdb_txn(MDB_env *env, MDB_dbi dbi, int puts, uint64_t *counter, uint8_t *value)
{
    MDB_txn *txn;
    if (mdb_txn_begin(env, NULL, 0, &txn) != MDB_SUCCESS)
        return -1;
    for (int i = 0; i < puts; i++) {
        uint8_t key[8];
        uint64_t n = (*counter)++;
        for (int b = 0; b < 8; b++)
            key[b] = (uint8_t) ((n % S_LMDB_KEYS) >> (56 - 8 * b));
        memcpy(value, &n, sizeof n); /* every value differs */
        MDB_val k = {sizeof key, key}, v = {S_VALUE_BYTES, value};
        if (mdb_put(txn, dbi, &k, &v, 0) != MDB_SUCCESS) {
            mdb_txn_abort(txn);
            return -1;
        }
    }
    return mdb_txn_commit(txn) == MDB_SUCCESS ? 0 : -1;
}

/*  Commits transactions of `puts` puts for seconds; the put rate. */
static int
s_lmdb_measure(MDB_env *env, MDB_dbi dbi, int puts, double seconds, double *rate)
{
    uint8_t value[S_VALUE_BYTES];
    uint64_t counter = 0;
    randombytes_buf(value, sizeof value);
    double start = s_now(), elapsed;
    do {
        if (s_lmdb_txn(env, dbi, puts, &counter, value) != 0)
            return -1;
        elapsed = s_now() - start;
    } while (elapsed < seconds);
    *rate = (double) counter / elapsed;
    return 0;
}

static int
s_lmdb_rates(double seconds, s_raw_t *raw)
{
    char dir[4096];
    MDB_env *env = NULL;
    MDB_txn *txn;
    MDB_dbi dbi;
    if (testdir_make(dir, sizeof dir) != 0)
        return -1;
    int rc = -1;
    if (mdb_env_create(&env) == MDB_SUCCESS && mdb_env_set_mapsize(env, 1u << 30) == MDB_SUCCESS &&
        mdb_env_open(env, dir, 0, 0600) == MDB_SUCCESS &&
        mdb_txn_begin(env, NULL, 0, &txn) == MDB_SUCCESS) {
        if (mdb_dbi_open(txn, NULL, 0, &dbi) == MDB_SUCCESS && mdb_txn_commit(txn) == MDB_SUCCESS)
            rc = 0;
        else
            mdb_txn_abort(txn);
    }
    if (rc == 0)
        rc = s_lmdb_measure(env, dbi, 1, seconds, &raw->commit1);
    if (rc == 0)
        rc = s_lmdb_measure(env, dbi, 32, seconds, &raw->put32);
    if (env)
        mdb_env_close(env);
    testdir_remove(dir);
    return rc;
}

static int
s_sign_rate(double seconds, double *rate)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    uint8_t msg[S_SIGN_BYTES], sig[crypto_sign_BYTES];
    uint64_t calls = 0;
    crypto_sign_keypair(pk, sk);
    randombytes_buf(msg, sizeof msg);
    double start = s_now(), elapsed;
    do {
        for (int i = 0; i < 8; i++)
            if (crypto_sign_detached(sig, NULL, msg, sizeof msg, sk) != 0)
                return -1;
        calls += 8;
        elapsed = s_now() - start;
    } while (elapsed < seconds);
    sodium_memzero(sk, sizeof sk);
    *rate = (double) calls / elapsed;
    return crypto_sign_verify_detached(sig, msg, sizeof msg, pk) == 0 ? 0 : -1;
}

/*  ---------------------------------------------------------------------
 *  HTTP client
 */

static size_t
s_on_body(char *data, size_t size, size_t n, void *user)
{
    ru_buf_t *body = user;
    ru_buf_append(body, data, size * n);
    return ru_buf_status(body) == RU_OK ? size * n : 0;
}

/*  Sets up c for srv; sends srv's token when it has one. */
static int
s_client_init(s_client_t *c, const s_server_t *srv)
{
    memset(c, 0, sizeof *c);
    ru_buf_init(&c->body);
    c->curl = curl_easy_init();
    if (!c->curl)
        return -1;
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    c->headers = curl_slist_append(c->headers, "Expect:");
    if (srv->auth[0])
        c->headers = curl_slist_append(c->headers, srv->auth);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &c->body);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 60L);
    return 0;
}

static void
s_client_fini(s_client_t *c)
{
    curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    ru_buf_fini(&c->body);
}

/*  One request: GET path, or POST json to path when json is not NULL.
 *  The answer's body ends up NUL-terminated in c->body. Returns the HTTP
 *  status, or 0 when the transfer failed. */
static long
s_request(s_client_t *c, const char *base, const char *path, const char *json)
{
    long status = 0;
    snprintf(c->url, sizeof c->url, "%s%s", base, path);
    ru_buf_reset(&c->body);
    curl_easy_setopt(c->curl, CURLOPT_URL, c->url);
    if (json)
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, json);
    else
        curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
    CURLcode rc = curl_easy_perform(c->curl);
    ru_buf_append(&c->body, "", 1);
    if (rc != CURLE_OK || ru_buf_status(&c->body) != RU_OK)
        return 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

/*  ---------------------------------------------------------------------
 *  The server: start, readiness, login, stop
 */

static int
s_free_port(void)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t len = sizeof addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *) &addr, sizeof addr) == 0 &&
        getsockname(fd, (struct sockaddr *) &addr, &len) == 0)
        port = ntohs(addr.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static void
s_exec_ruched(const char *ruched, const s_server_t *srv, const char *listen)
{
    int fd = open(srv->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
        _exit(127);
    close(fd);
    execl(ruched, ruched, "--data-dir", srv->dir, "--site", "bench", "--listen", listen, "--set",
          "http.threads=" S_HTTP_THREADS, (char *) NULL);
    _exit(127);
}

/*  Waits for GET /healthz to answer 200; fails if ruched exits first. */
static int
s_wait_ready(s_server_t *srv)
{
    s_client_t c;
    int status, ready = 0;
    if (s_client_init(&c, srv) != 0)
        return -1;
    curl_easy_setopt(c.curl, CURLOPT_TIMEOUT, 2L);
    double deadline = s_now() + S_START_TIMEOUT;
    while (!ready && s_now() < deadline) {
        if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
            fprintf(stderr, "bench_api: ruched exited before it was ready (status %d)\n", status);
            srv->pid = 0;
            break;
        }
        ready = s_request(&c, srv->base, "/healthz", NULL) == 200;
        if (!ready)
            s_pause_ms(20);
    }
    s_client_fini(&c);
    if (!ready && srv->pid)
        fprintf(stderr, "bench_api: ruched did not answer /healthz in %.0f s\n", S_START_TIMEOUT);
    return ready ? 0 : -1;
}

static int
s_server_start(s_server_t *srv, const char *ruched)
{
    char listen[32];
    memset(srv, 0, sizeof *srv);
    if (testdir_make(srv->dir, sizeof srv->dir) != 0)
        return -1;
    snprintf(srv->log, sizeof srv->log, "%s/ruched.log", srv->dir);
    int port = s_free_port();
    if (port <= 0)
        return -1;
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(srv->base, sizeof srv->base, "http://%s", listen);
    fflush(NULL);
    srv->pid = fork();
    if (srv->pid < 0) {
        srv->pid = 0;
        return -1;
    }
    if (srv->pid == 0)
        s_exec_ruched(ruched, srv, listen);
    return s_wait_ready(srv);
}

/*  Reads the admin password ruched wrote at its first start into out. */
static int
s_read_password(const s_server_t *srv, char *out, size_t size)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/admin-password", srv->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fgets(out, (int) size, f) != NULL;
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return ok && out[0] ? 0 : -1;
}

/*  POST /oauth/token as admin; keeps the token in srv->auth. */
static int
s_login(s_server_t *srv)
{
    char password[256];
    s_client_t c;
    if (s_read_password(srv, password, sizeof password) != 0 || s_client_init(&c, srv) != 0)
        return -1;
    json_t *req = json_pack("{s:s, s:s, s:s}", "grant_type", "password", "username", "admin",
                            "password", password);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    long status = body ? s_request(&c, srv->base, "/oauth/token", body) : 0;
    json_t *answer = status == 200 ? json_loads((char *) c.body.data, 0, NULL) : NULL;
    const char *token = json_string_value(json_object_get(answer, "access_token"));
    int n = token ? snprintf(srv->auth, sizeof srv->auth, "Authorization: Bearer %s", token) : -1;
    if (n < 0 || (size_t) n >= sizeof srv->auth)
        fprintf(stderr, "bench_api: login failed: %ld %s\n", status,
                c.body.data ? (char *) c.body.data : "");
    json_decref(answer);
    free(body);
    json_decref(req);
    sodium_memzero(password, sizeof password);
    s_client_fini(&c);
    return n > 0 && (size_t) n < sizeof srv->auth ? 0 : -1;
}

/*  SIGTERM, then waits for the exit; 0 if ruched exited with status 0. */
static int
s_server_stop(s_server_t *srv)
{
    int status = 0;
    pid_t got = 0;
    if (!srv->pid)
        return -1;
    kill(srv->pid, SIGTERM);
    double deadline = s_now() + S_STOP_TIMEOUT;
    while ((got = waitpid(srv->pid, &status, WNOHANG)) == 0 && s_now() < deadline)
        s_pause_ms(20);
    if (got != srv->pid) {
        fprintf(stderr, "bench_api: ruched still runs %.0f s after SIGTERM: killed\n",
                S_STOP_TIMEOUT);
        kill(srv->pid, SIGKILL);
        waitpid(srv->pid, &status, 0);
        srv->pid = 0;
        return -1;
    }
    srv->pid = 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    fprintf(stderr, "bench_api: ruched ended badly after SIGTERM (wait status %d)\n", status);
    return -1;
}

static void
s_print_log(const s_server_t *srv)
{
    FILE *f = fopen(srv->log, "r");
    char line[1024];
    if (!f)
        return;
    fprintf(stderr, "--- ruched's log ---\n");
    while (fgets(line, sizeof line, f))
        fputs(line, stderr);
    fclose(f);
}

/*  ---------------------------------------------------------------------
 *  Load: client threads
 */

/*  Checks the first 200 answer of a worker: a Status for a post, a page of
 *  20 statuses for the timeline. */
static int
s_check_answer(s_worker_t *w, const char *body)
{
    json_t *json = json_loads(body, 0, NULL);
    int good = w->kind == S_POST ? json_is_string(json_object_get(json, "id"))
                                 : json_is_array(json) && json_array_size(json) == 20;
    json_decref(json);
    if (!good)
        snprintf(w->error, sizeof w->error, "unexpected 200 answer: %.300s", body);
    return good ? 0 : -1;
}

static void
s_record(s_worker_t *w, long status, const char *body, double seconds)
{
    if (status == 200 && (w->ok > 0 || s_check_answer(w, body) == 0)) {
        if (w->n_lat == w->cap_lat) {
            size_t cap = w->cap_lat ? 2 * w->cap_lat : 1024;
            double *lat = realloc(w->lat, cap * sizeof *lat);
            if (!lat)
                abort();
            w->lat = lat;
            w->cap_lat = cap;
        }
        w->lat[w->n_lat++] = seconds;
        w->ok++;
        return;
    }
    if (status != 200 && !w->error[0])
        snprintf(w->error, sizeof w->error, "%s %s: %ld %.300s", w->kind == S_POST ? "POST" : "GET",
                 w->kind == S_POST ? "/api/v1/statuses" : S_TIMELINE, status, body);
    w->failed++;
}

/*  One request of w's kind; its status. */
static long
s_one(s_worker_t *w, s_client_t *c, uint64_t n)
{
    char json[512];
    if (w->kind == S_GET)
        return s_request(c, w->srv->base, S_TIMELINE, NULL);
    snprintf(json, sizeof json, "{\"status\":\"%d.%llu %s\"}", w->id, (unsigned long long) n,
             s_text);
    return s_request(c, w->srv->base, "/api/v1/statuses", json);
}

static void *
s_worker_main(void *arg)
{
    s_worker_t *w = arg;
    s_client_t c;
    int ready = s_client_init(&c, w->srv) == 0 &&
                s_request(&c, w->srv->base, "/healthz", NULL) == 200; /* connects */
    if (!ready) {
        snprintf(w->error, sizeof w->error, "client %d could not connect", w->id);
        w->failed++;
    }
    pthread_barrier_wait(w->start);
    double start = s_now(), end = start + w->seconds;
    for (uint64_t n = 0; ready && s_now() < end; n++) {
        double t = s_now();
        long status = s_one(w, &c, n);
        s_record(w, status, (char *) c.body.data, s_now() - t);
        ready = status != 0; /* a failed transfer ends this client */
    }
    w->elapsed = s_now() - start;
    s_client_fini(&c);
    return NULL;
}

static int
s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/*  Merges the workers' counts and latencies into res. */
static int
s_merge(s_worker_t *w, int clients, s_result_t *res)
{
    size_t n = 0;
    double elapsed = 0;
    memset(res, 0, sizeof *res);
    for (int i = 0; i < clients; i++) {
        n += w[i].n_lat;
        res->ok += w[i].ok;
        res->failed += w[i].failed;
        elapsed = w[i].elapsed > elapsed ? w[i].elapsed : elapsed;
        if (w[i].error[0])
            fprintf(stderr, "bench_api: client %d: %s\n", i, w[i].error);
    }
    double *all = malloc((n ? n : 1) * sizeof *all);
    if (!all)
        return -1;
    size_t k = 0;
    for (int i = 0; i < clients; i++)
        for (size_t j = 0; j < w[i].n_lat; j++)
            all[k++] = w[i].lat[j];
    qsort(all, n, sizeof *all, s_cmp_double);
    res->rate = elapsed > 0 ? (double) res->ok / elapsed : 0;
    res->p50 = n ? all[(n - 1) / 2] : 0;
    res->p99 = n ? all[(n - 1) * 99 / 100] : 0;
    free(all);
    return res->failed == 0 && res->ok > 0 ? 0 : -1;
}

/*  Runs `clients` threads of kind for seconds against srv. */
static int
s_phase(const s_server_t *srv, s_kind kind, int clients, double seconds, s_result_t *res)
{
    pthread_t threads[S_POST_CLIENTS];
    s_worker_t w[S_POST_CLIENTS];
    pthread_barrier_t start;
    if (clients > S_POST_CLIENTS || pthread_barrier_init(&start, NULL, (unsigned) clients) != 0)
        return -1;
    memset(w, 0, sizeof w);
    for (int i = 0; i < clients; i++) {
        w[i] = (s_worker_t){.srv = srv, .kind = kind, .id = i, .seconds = seconds, .start = &start};
        if (pthread_create(&threads[i], NULL, s_worker_main, &w[i]) != 0)
            abort(); /* the others would wait at the barrier forever */
    }
    for (int i = 0; i < clients; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&start);
    int rc = s_merge(w, clients, res);
    for (int i = 0; i < clients; i++)
        free(w[i].lat);
    return rc;
}

/*  Posts until at least S_FILL statuses exist (done of them already do). */
static int
s_fill(const s_server_t *srv, uint64_t done)
{
    s_client_t c;
    char json[512];
    int rc = s_client_init(&c, srv);
    for (uint64_t n = done; rc == 0 && n < S_FILL; n++) {
        snprintf(json, sizeof json, "{\"status\":\"fill %llu %s\"}", (unsigned long long) n,
                 s_text);
        long status = s_request(&c, srv->base, "/api/v1/statuses", json);
        if (status != 200) {
            fprintf(stderr, "bench_api: filling: POST /api/v1/statuses: %ld %.300s\n", status,
                    c.body.data ? (char *) c.body.data : "");
            rc = -1;
        }
    }
    s_client_fini(&c);
    return rc;
}

/*  ---------------------------------------------------------------------
 *  Report
 */

static void
s_print_raw(const char *name, double value, const char *unit)
{
    printf("%-40s %10.0f  %-10s\n", name, value, unit);
    fflush(stdout);
}

static void
s_print_row(const char *name, const s_result_t *res, const char *unit, const s_raw_t *raw)
{
    printf("%-40s %10.0f  %-10s %8.2f %8.2f", name, res->rate, unit, res->p50 * 1e3,
           res->p99 * 1e3);
    if (raw)
        printf("  %9.3g %9.3g %9.3g", res->rate / raw->commit1, res->rate / raw->put32,
               res->rate / raw->sign);
    printf("\n");
    fflush(stdout);
}

static int
s_raw_rows(double seconds, s_raw_t *raw)
{
    printf("%-40s %10s  %-10s %8s %8s  %9s %9s %9s\n", "measurement", "value", "unit", "p50 ms",
           "p99 ms", "/commit1", "/put32", "/sign");
    if (s_lmdb_rates(seconds, raw) != 0 || s_sign_rate(seconds, &raw->sign) != 0) {
        fprintf(stderr, "bench_api: measuring the raw limits failed\n");
        return -1;
    }
    s_print_raw("raw LMDB durable commit, 1 put", raw->commit1, "commits/s");
    s_print_raw("raw LMDB durable commit, 32 puts", raw->put32, "puts/s");
    printf("%-40s %10.0f  %-10s\n", "  (the same, in commits)", raw->put32 / 32, "commits/s");
    s_print_raw("raw Ed25519 sign, 400 B", raw->sign, "signs/s");
    return 0;
}

/*  The API rows, in order: the GET rows run once S_FILL statuses exist. */
static const struct {
    const char *name;
    s_kind kind;
    int clients;
    const char *unit;
} s_api[] = {
    {"POST /api/v1/statuses, 1 client", S_POST, 1, "posts/s"},
    {"POST /api/v1/statuses, 32 clients", S_POST, S_POST_CLIENTS, "posts/s"},
    {"GET timelines/public?limit=20, 1 client", S_GET, 1, "req/s"},
    {"GET timelines/public?limit=20, 8 clients", S_GET, S_GET_CLIENTS, "req/s"},
};

/*  Measures and prints the API rows against a running, logged-in srv. */
static int
s_api_rows(const s_server_t *srv, double seconds, const s_raw_t *raw)
{
    uint64_t posted = 0;
    for (size_t i = 0; i < sizeof s_api / sizeof s_api[0]; i++) {
        s_result_t res;
        if (s_api[i].kind == S_GET && posted < S_FILL && s_fill(srv, posted) != 0)
            return -1;
        if (s_phase(srv, s_api[i].kind, s_api[i].clients, seconds, &res) != 0)
            return -1;
        if (s_api[i].kind == S_POST)
            posted += res.ok;
        else
            posted = S_FILL; /* filled: no more fill before the next GET row */
        s_print_row(s_api[i].name, &res, s_api[i].unit, s_api[i].kind == S_POST ? raw : NULL);
    }
    return 0;
}

static int
s_run(const char *ruched, double seconds)
{
    s_raw_t raw;
    s_server_t srv;
    printf("bench_api: %.2f s per row; ruched with http.threads=%s; data under %s\n\n", seconds,
           S_HTTP_THREADS, getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (s_raw_rows(seconds, &raw) != 0)
        return -1;
    int rc = s_server_start(&srv, ruched);
    if (rc == 0)
        rc = s_login(&srv);
    if (rc == 0)
        rc = s_api_rows(&srv, seconds, &raw);
    if (srv.pid && s_server_stop(&srv) != 0)
        rc = -1;
    if (rc != 0)
        s_print_log(&srv);
    printf("\n/commit1: ratio to raw 1-put commits/s; /put32: to raw puts/s in 32-put "
           "transactions; /sign: to raw signs/s\n");
    if (srv.dir[0])
        testdir_remove(srv.dir);
    return rc;
}

/*  argv: the path of ruched, then nothing, --quick or --seconds N. */
static int
s_parse_args(int argc, char **argv, double *seconds)
{
    char *end = NULL;
    *seconds = 5.0;
    if (argc < 2 || argv[1][0] == '-')
        return -1;
    if (argc == 3 && strcmp(argv[2], "--quick") == 0)
        *seconds = 0.3;
    else if (argc == 4 && strcmp(argv[2], "--seconds") == 0)
        *seconds = strtod(argv[3], &end);
    else if (argc != 2)
        return -1;
    if (end && (end == argv[3] || *end != '\0' || !(*seconds > 0 && *seconds <= 3600)))
        return -1;
    return 0;
}

int
main(int argc, char **argv)
{
    double seconds;
    int rc = 1;
    signal(SIGPIPE, SIG_IGN); /* a peer that closes is an error, not a kill */
    if (s_parse_args(argc, argv, &seconds) != 0) {
        fprintf(stderr, "usage: %s PATH/TO/ruched [--seconds N | --quick]\n", argv[0]);
        rc = 2;
    } else if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "bench_api: cannot initialise libsodium or libcurl\n");
    } else {
        rc = s_run(argv[1], seconds) == 0 ? 0 : 1;
        curl_global_cleanup();
    }
    return rc;
}
