/* OS clocks, randomness and log sink (sys.h). */
#define _GNU_SOURCE
#include "sys/sys.h"

#include "base/err.h"

#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static lec_tstamp read_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (lec_tstamp)ts.tv_sec * LEC_S + (lec_tstamp)ts.tv_nsec;
}

static lec_tstamp mono_now(void *ud)
{
    (void)ud;
    return read_clock(CLOCK_MONOTONIC);
}
static lec_tstamp wall_now(void *ud)
{
    (void)ud;
    return read_clock(CLOCK_REALTIME);
}

static const lec_clock mono_clock = {mono_now, NULL};
static const lec_clock wall_clock = {wall_now, NULL};

const lec_clock *lec_sys_clock(void)
{
    return &mono_clock;
}
const lec_clock *lec_sys_wall_clock(void)
{
    return &wall_clock;
}

static void sys_fill(void *ud, void *out, size_t len)
{
    (void)ud;
    uint8_t *p = out;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            abort(); /* no randomness: keys would be guessable; do not go on */
        }
        p += n;
        len -= (size_t)n;
    }
}

static const lec_rand sys_rand = {sys_fill, NULL};

const lec_rand *lec_sys_rand(void)
{
    return &sys_rand;
}

void lec_sys_log_sink_fd(void *ud, const char *line, size_t len)
{
    int fd = (int)(intptr_t)ud;
    while (len > 0) {
        ssize_t n = write(fd, line, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* nowhere to report a failing log */
        line += n;
        len -= (size_t)n;
    }
}

unsigned lec_sys_sockaddr_from_addr(const lec_addr *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (a->ip.family == 4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(a->port);
        memcpy(&sin->sin_addr, a->ip.bytes, 4);
        return sizeof *sin;
    }
    if (a->ip.family == 6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(a->port);
        memcpy(&sin6->sin6_addr, a->ip.bytes, 16);
        return sizeof *sin6;
    }
    return 0;
}

int lec_sys_addr_from_sockaddr(const struct sockaddr *sa, lec_addr *out)
{
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
        out->ip.family = 4;
        memcpy(out->ip.bytes, &sin->sin_addr, 4);
        out->port = ntohs(sin->sin_port);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;
        out->ip.family = 6;
        memcpy(out->ip.bytes, &sin6->sin6_addr, 16);
        out->port = ntohs(sin6->sin6_port);
        return 0;
    }
    return LEC_ERR_INVAL;
}

int lec_sys_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path)
        return LEC_ERR_NOTFOUND;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t len = strlen(path);
    if (len >= sizeof sa.sun_path || (path[0] != '/' && path[0] != '@'))
        return LEC_ERR_IO;
    memcpy(sa.sun_path, path, len);
    if (path[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract namespace */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return LEC_ERR_IO;
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
    close(fd);
    return n == (ssize_t)strlen(state) ? 0 : LEC_ERR_IO;
}

int lec_sys_notify_reloading(void)
{
    char msg[96];
    snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)(lec_clock_now(lec_sys_clock()) / LEC_US));
    return lec_sys_notify(msg);
}
