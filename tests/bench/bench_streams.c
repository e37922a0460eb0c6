/*  bench_streams.c - holds many streaming API connections open to one
 *  node, on one thread, and times the delivery of one event to all of
 *  them: the streaming half of bench_http.py.
 *
 *  Usage: bench_streams PORT N WS_PERCENT PATH
 *    opens N connections to 127.0.0.1:PORT, WS_PERCENT of them WebSocket
 *    (GET PATH?stream=public with an upgrade), the others event streams
 *    (GET PATH/public with Accept: text/event-stream); prints
 *    "ready OPEN FAILED" once every connection is answered (or refused),
 *    then keeps them open, reading and dropping heartbeats.
 *    stdin "go MS\n" (MS: wall-clock milliseconds when the driver posts)
 *    arms the timing: the next "update" event on each stream is stamped,
 *    and "delivered COUNT OF P50_MS P99_MS MAX_MS" is printed once every
 *    open stream has one, or after 60 s. stdin at its end: exit.
 *
 *  The driver runs this on its own core where it can (taskset), so that
 *  reading ten thousand sockets does not take the node's CPU. A stream is
 *  found to carry an update by the bytes "update" in what it reads (the
 *  SSE event line, or the WebSocket message's "event" field), looked for
 *  across read boundaries; heartbeats carry no such word.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define S_MARK "update"
#define S_MARK_LEN 6
#define S_TIMEOUT_MS 60000

typedef struct {
    int fd;
    int ws;
    int answered;   /* the status line was read */
    int open;       /* answered 200 or 101 and not closed since */
    long long seen; /* wall ms of the first update after "go"; 0: none yet */
    char tail[S_MARK_LEN];
    size_t tail_len;
} s_conn;

static long long
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
s_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *) &a, sizeof a) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

/*  The request of a stream, written once the connection is up (a few
 *  hundred bytes: the socket buffer takes it whole). */
static int
s_request(const s_conn *c, const char *path)
{
    char req[512];
    int n = c->ws ? snprintf(req, sizeof req,
                             "GET %s?stream=public HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\n\r\n",
                             path)
                  : snprintf(req, sizeof req,
                             "GET %s/public HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Accept: text/event-stream\r\n\r\n",
                             path);
    return write(c->fd, req, (size_t) n) == n ? 0 : -1;
}

/*  Looks for the mark in what was read, with the tail of the last read in
 *  front of it. */
static int
s_has_mark(s_conn *c, const char *buf, size_t len)
{
    char joined[S_MARK_LEN * 2];
    size_t head = len < S_MARK_LEN ? len : S_MARK_LEN;
    memcpy(joined, c->tail, c->tail_len);
    memcpy(joined + c->tail_len, buf, head);
    int found = memmem(joined, c->tail_len + head, S_MARK, S_MARK_LEN) ||
                memmem(buf, len, S_MARK, S_MARK_LEN);
    size_t keep = len < S_MARK_LEN - 1 ? len : S_MARK_LEN - 1;
    memcpy(c->tail, buf + len - keep, keep);
    c->tail_len = keep;
    return found;
}

/*  Reads what c holds; returns -1 once it is closed. */
static int
s_read(s_conn *c, int armed)
{
    char buf[16384];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n <= 0)
            return -1;
        if (!c->answered) {
            c->answered = 1;
            c->open = strncmp(buf, "HTTP/1.1 200", 12) == 0 || strncmp(buf, "HTTP/1.1 101", 12) == 0;
            if (!c->open)
                return -1;
            continue; /* the headers hold no update */
        }
        if (s_has_mark(c, buf, (size_t) n) && armed && !c->seen)
            c->seen = s_now_ms();
    }
}

static int
s_cmp(const void *a, const void *b)
{
    long long x = *(const long long *) a, y = *(const long long *) b;
    return x < y ? -1 : x > y;
}

/*  Prints the delivery figures of the streams open when "go" came. */
static void
s_report(const s_conn *conns, int n, long long t0)
{
    long long *lat = malloc((size_t) (n ? n : 1) * sizeof *lat);
    int open = 0, got = 0;
    for (int i = 0; i < n; i++) {
        open += conns[i].open || conns[i].seen;
        if (conns[i].seen)
            lat[got++] = conns[i].seen - t0;
    }
    qsort(lat, (size_t) got, sizeof *lat, s_cmp);
    printf("delivered %d of %d %lld %lld %lld\n", got, open, got ? lat[got / 2] : -1,
           got ? lat[(got * 99 + 99) / 100 - 1] : -1, got ? lat[got - 1] : -1);
    fflush(stdout);
    free(lat);
}

static void
s_raise_fd_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0) {
        r.rlim_cur = r.rlim_max;
        (void) setrlimit(RLIMIT_NOFILE, &r);
    }
}

int
main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_streams PORT N WS_PERCENT PATH\n");
        return 2;
    }
    int port = atoi(argv[1]), n = atoi(argv[2]), ws_pct = atoi(argv[3]);
    const char *path = argv[4];
    s_raise_fd_limit();
    s_conn *conns = calloc((size_t) (n ? n : 1), sizeof *conns);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!conns || ep < 0)
        return 1;
    struct epoll_event ev = {.events = EPOLLIN};
    ev.data.u64 = (uint64_t) n; /* stdin */
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
    int failed = 0, answered = 0, armed = 0, reported = 0;
    long long t0 = 0;
    for (int i = 0; i < n; i++) {
        conns[i].ws = (int) ((long long) i * 100 / (n ? n : 1)) < ws_pct;
        conns[i].fd = s_connect(port);
        ev.events = EPOLLOUT;
        ev.data.u64 = (uint64_t) i;
        if (conns[i].fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) != 0) {
            failed++;
            answered++;
            conns[i].answered = 1;
        }
    }
    int ready_printed = 0;
    struct epoll_event evs[256];
    for (;;) {
        if (!ready_printed && answered == n) {
            int open = 0;
            for (int i = 0; i < n; i++)
                open += conns[i].open;
            printf("ready %d %d\n", open, n - open);
            fflush(stdout);
            ready_printed = 1;
        }
        if (armed && !reported) {
            int waiting = 0;
            for (int i = 0; i < n; i++)
                waiting += conns[i].open && !conns[i].seen;
            if (!waiting || s_now_ms() - t0 > S_TIMEOUT_MS) {
                s_report(conns, n, t0);
                reported = 1;
            }
        }
        int k = epoll_wait(ep, evs, 256, 100);
        for (int e = 0; e < k; e++) {
            uint64_t i = evs[e].data.u64;
            if (i == (uint64_t) n) { /* stdin */
                char line[64];
                if (!fgets(line, sizeof line, stdin))
                    return 0;
                if (sscanf(line, "go %lld", &t0) == 1) {
                    armed = 1;
                    reported = 0;
                    for (int j = 0; j < n; j++)
                        conns[j].seen = 0;
                }
                continue;
            }
            s_conn *c = &conns[i];
            if (evs[e].events & EPOLLOUT) {
                ev.events = EPOLLIN;
                ev.data.u64 = i;
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                if (s_request(c, path) != 0) {
                    c->answered = 1;
                    answered++;
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    close(c->fd);
                }
                continue;
            }
            int was = c->answered;
            if (s_read(c, armed) != 0) {
                c->open = 0;
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                if (!c->answered)
                    c->answered = 1;
            }
            answered += !was && c->answered;
        }
    }
}
