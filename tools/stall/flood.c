/* A connection flood from one process, for tools/bench-stall.sh: keeps CONCURRENCY
 * connections to a Unix socket in flight, each one connect, "GET /1.0" (Connection: close),
 * read until the server closes, close, and again, for SECONDS.
 * Prints one JSON line: connections made, answered and failed, and the rate.
 *
 * usage: flood SOCKET SECONDS [CONCURRENCY]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char request[] = "GET /1.0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct sockaddr_un address;
static long made, answered, failed;

/* Opens a connection and sends the request; registers it for reading. -1 on failure. */
static int open_one(int epoll) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    made++;
    /* A Unix socket connects at once, or says EAGAIN: its backlog is full. */
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        failed++;
        close(fd);
        return -1;
    }
    if (send(fd, request, sizeof request - 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
        failed++;
        close(fd);
        return -1;
    }
    struct epoll_event event = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};
    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
    return fd;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: flood SOCKET SECONDS [CONCURRENCY]\n");
        return 2;
    }
    address.sun_family = AF_UNIX;
    strncpy(address.sun_path, argv[1], sizeof address.sun_path - 1);
    double seconds = atof(argv[2]);
    int concurrency = argc > 3 ? atoi(argv[3]) : 32;
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    int open_count = 0;
    double start = now(), end = start + seconds;
    for (int i = 0; i < concurrency; i++) open_count += open_one(epoll) >= 0;
    struct epoll_event events[256];
    char buffer[4096];
    while (now() < end) {
        while (open_count < concurrency && now() < end) {
            if (open_one(epoll) >= 0) open_count++;
            else usleep(100);  /* the backlog is full: a moment */
        }
        int n = epoll_wait(epoll, events, 256, 100);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            ssize_t got = recv(fd, buffer, sizeof buffer, 0);
            if (got > 0) {
                if (memcmp(buffer, "HTTP/1.1 ", 9) == 0) answered++;
                continue;  /* the server closes after its answer to a stranger */
            }
            if (got < 0 && errno == EAGAIN) continue;
            close(fd);
            open_count--;
        }
    }
    double elapsed = now() - start;
    printf("{\"made\": %ld, \"answered\": %ld, \"failed\": %ld, \"seconds\": %.3f, \"per_second\": %.0f}\n",
           made, answered, failed, elapsed, made / elapsed);
    return 0;
}
