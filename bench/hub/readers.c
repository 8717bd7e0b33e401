/* Many SSE subscribers read by one thread with epoll: the load generator's native readers.
 *
 * usage: readers HOST PORT COUNT REQUEST
 *
 * Opens COUNT connections to HOST:PORT (IPv4), one after the other, sends REQUEST (a whole
 * HTTP/1.1 request) on each, then reads every connection until the process is killed. Each
 * event's "data: m<seq>" line counts one delivery of update <seq>; nothing else of a frame
 * is parsed (chunked framing included: the servers measured write whole events per chunk).
 *
 * Prints one line per fact on stdout, flushed at once:
 *   connected               every request is sent
 *   done SEQ SECONDS        the last of the COUNT subscribers read update SEQ, at
 *                           CLOCK_MONOTONIC SECONDS (Python's time.perf_counter)
 *   closed                  a server closed a connection
 *   error MESSAGE           a connection failed; the process then exits with status 1
 *
 * It costs the load generator about what the kernel's receive path costs, so that the
 * server's CPU time, not the readers', bounds a burst (see docs/benchmarks.md).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_SIZE 65536
#define EVENTS 1024

struct reader {
    int fd;
    int ready;      /* response head read and accepted */
    size_t carried; /* bytes of an incomplete event (or head) kept from the last read */
    char *carry;
};

static unsigned *counts; /* deliveries per seq */
static size_t seqs;      /* entries of counts */
static unsigned subscribers;

static void fail(const char *format, ...) {
    va_list args;
    va_start(args, format);
    fputs("error ", stdout);
    vprintf(format, args);
    fputc('\n', stdout);
    va_end(args);
    fflush(stdout);
    exit(1);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void delivered(unsigned long seq, double at) {
    if (seq >= seqs) {
        size_t grown = seqs ? seqs : 1024;
        while (grown <= seq) grown *= 2;
        counts = realloc(counts, grown * sizeof *counts);
        if (!counts) fail("out of memory");
        memset(counts + seqs, 0, (grown - seqs) * sizeof *counts);
        seqs = grown;
    }
    if (++counts[seq] == subscribers) {
        printf("done %lu %.6f\n", seq, at);
        fflush(stdout);
    }
}

/* Count the complete events of buf[0..size); return how many bytes they take. */
static size_t events(const char *buf, size_t size, double at) {
    const char *end = NULL;
    for (const char *p = buf; (p = memmem(p, buf + size - p, "\n\n", 2)); p += 2) end = p + 2;
    if (!end) return 0;
    static const char marker[] = "data: m";
    const size_t length = sizeof marker - 1;
    for (const char *p = buf; (p = memmem(p, end - p, marker, length)); ) {
        p += length;
        char *after;
        unsigned long seq = strtoul(p, &after, 10);
        if (after > p && *after == '\n') delivered(seq, at);
        p = after > p ? after : p;
    }
    return (size_t)(end - buf);
}

static void keep(struct reader *r, const char *rest, size_t size) {
    char *carry = realloc(r->carry, size ? size : 1);
    if (!carry) fail("out of memory");
    memmove(carry, rest, size);
    r->carry = carry;
    r->carried = size;
}

static char *buf;      /* a reader's carried bytes, then what it reads */
static size_t buf_size;

static void readable(struct reader *r, double at) {
    if (r->carried + READ_SIZE + 1 > buf_size) {
        buf_size = r->carried + READ_SIZE + 1;
        buf = realloc(buf, buf_size);
        if (!buf) fail("out of memory");
    }
    memcpy(buf, r->carry, r->carried);
    ssize_t got = recv(r->fd, buf + r->carried, READ_SIZE, MSG_DONTWAIT);
    if (got < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        fail("recv: %s", strerror(errno));
    }
    if (got == 0) {
        if (!r->ready) fail("connection closed before headers: %.200s", buf);
        printf("closed\n");
        fflush(stdout);
        close(r->fd);
        r->fd = -1;
        return;
    }
    size_t size = r->carried + (size_t)got;
    buf[size] = '\0'; /* for the messages and the head's status line */
    size_t start = 0;
    if (!r->ready) {
        char *head_end = memmem(buf, size, "\r\n\r\n", 4);
        if (!head_end) {
            keep(r, buf, size);
            return;
        }
        if (strncmp(buf, "HTTP/1.1 200", 12) != 0) {
            *strchrnul(buf, '\r') = '\0';
            fail("subscribe failed: %.200s", buf);
        }
        r->ready = 1;
        start = (size_t)(head_end + 4 - buf);
    }
    start += events(buf + start, size - start, at);
    keep(r, buf + start, size - start);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s HOST PORT COUNT REQUEST\n", argv[0]);
        return 2;
    }
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &address.sin_addr) != 1) fail("bad host %s", argv[1]);
    subscribers = (unsigned)strtoul(argv[3], NULL, 10);
    const char *request = argv[4];
    size_t request_size = strlen(request);
    struct reader *readers = calloc(subscribers, sizeof *readers);
    int poll = epoll_create1(0);
    if (!readers || poll < 0) fail("cannot start: %s", strerror(errno));
    for (unsigned i = 0; i < subscribers; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) fail("socket: %s", strerror(errno));
        if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0)
            fail("connect: %s", strerror(errno));
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (send(fd, request, request_size, 0) != (ssize_t)request_size)
            fail("send: %s", strerror(errno));
        readers[i].fd = fd;
        struct epoll_event event = {.events = EPOLLIN, .data.ptr = &readers[i]};
        if (epoll_ctl(poll, EPOLL_CTL_ADD, fd, &event) != 0) fail("epoll: %s", strerror(errno));
    }
    printf("connected\n");
    fflush(stdout);
    struct epoll_event ready[EVENTS];
    for (;;) {
        int n = epoll_wait(poll, ready, EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("epoll_wait: %s", strerror(errno));
        }
        double at = now();
        for (int i = 0; i < n; i++) {
            struct reader *r = ready[i].data.ptr;
            if (r->fd >= 0) readable(r, at);
        }
    }
}
