/* The relay socket shared by a node's workers (relay.h). */
#define _GNU_SOURCE
#include "relay/relay.h"
#include "base/err.h"
#include "sys/wake.h"
#include "base/spsc.h"
#include "sys/sys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MOD        "relay"
#define QUEUE      1024 /* packets waiting per worker */
#define READ_BATCH 64   /* datagrams read per wake before yielding */

typedef struct wslot {
    lec_spsc q;
    lec_wake wake; /* wakes the worker; lives as long as the relay */
    uv_poll_t sockpoll;
    bool has_sockpoll;
    atomic_bool attached;
    lec_relay_deliver_fn fn;
    void *ud;
    uint8_t buf[LEC_RELAY_PKT_MAX + 64];
} wslot;

struct lec_relay {
    int fd;
    lec_addr local;
    lec_log *log;
    unsigned nworkers;
    wslot *w;
    atomic_uint_fast64_t rx, tx, rx_dropped, tx_errors;
};

uint64_t lec_relay_tag(unsigned worker, uint64_t random)
{
    /* Never 0: a leg id of 0 means "no leg" (node/cascade.c). */
    uint64_t low = random & 0x00ffffffffffffffULL;
    return (uint64_t)(worker & 0xff) << 56 | (low ? low : 1);
}

lec_addr lec_relay_local(const lec_relay *r)
{
    return r->local;
}

int lec_relay_bind(lec_relay **out, const lec_addr *listen, unsigned nworkers, lec_log *log)
{
    *out = NULL;
    if (!nworkers || nworkers > 256)
        return LEC_ERR_INVAL;
    lec_relay *r = calloc(1, sizeof *r);
    if (!r)
        return LEC_ERR_NOMEM;
    r->log = log;
    r->nworkers = nworkers;
    r->fd = -1;
    r->w = calloc(nworkers, sizeof *r->w);
    if (!r->w) {
        free(r);
        return LEC_ERR_NOMEM;
    }
    for (unsigned i = 0; i < nworkers; i++)
        r->w[i].wake.efd = -1;
    int rc = 0;
    for (unsigned i = 0; i < nworkers && !rc; i++) {
        rc = lec_spsc_init(&r->w[i].q, QUEUE, LEC_RELAY_PKT_MAX);
        if (!rc)
            rc = lec_wake_init(&r->w[i].wake);
    }
    struct sockaddr_storage ss;
    unsigned sl = lec_sys_sockaddr_from_addr(listen, &ss);
    char as[LEC_ADDR_STRLEN];
    lec_addr_format(listen, as, sizeof as);
    if (!rc) {
        r->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int big = 4 << 20;
        if (r->fd >= 0) {
            setsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
            setsockopt(r->fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
        }
        if (r->fd < 0 || bind(r->fd, (struct sockaddr *)&ss, sl)) {
            LEC_ERROR(log, MOD, "relay.listen %s: cannot bind: %s", as, strerror(errno));
            rc = LEC_ERR_IO;
        }
    }
    socklen_t len = sizeof ss;
    if (!rc && (getsockname(r->fd, (struct sockaddr *)&ss, &len) ||
                lec_sys_addr_from_sockaddr((struct sockaddr *)&ss, &r->local)))
        rc = LEC_ERR_IO;
    if (rc) {
        lec_relay_free(r);
        return rc;
    }
    lec_addr_format(&r->local, as, sizeof as);
    LEC_INFO(log, MOD, "relay legs on udp %s", as);
    *out = r;
    return 0;
}

static void deliver_queued(wslot *ws)
{
    uint64_t tag;
    size_t n;
    while ((n = lec_spsc_pop(&ws->q, &tag, ws->buf, LEC_RELAY_PKT_MAX)))
        ws->fn(ws->ud, tag, ws->buf, n, sizeof ws->buf);
}

static void on_wake(void *arg)
{
    deliver_queued(arg);
}

/* Worker 0: reads a batch; its own packets are delivered here, others are
 * queued to their worker and woken once per batch. */
static void on_readable(uv_poll_t *p, int status, int events)
{
    (void)status, (void)events;
    lec_relay *r = p->data;
    wslot *self = &r->w[0];
    bool wake[256] = {0};
    uint8_t dg[LEC_RELAY_PKT_MAX + LEC_RELAY_TAG_LEN + 1];
    for (int i = 0; i < READ_BATCH; i++) {
        ssize_t n = recv(r->fd, dg, sizeof dg, 0);
        if (n < 0)
            break;
        atomic_fetch_add_explicit(&r->rx, 1, memory_order_relaxed);
        if (n < LEC_RELAY_TAG_LEN + 8 || n > LEC_RELAY_PKT_MAX + LEC_RELAY_TAG_LEN) {
            atomic_fetch_add_explicit(&r->rx_dropped, 1, memory_order_relaxed);
            continue;
        }
        uint64_t tag = 0;
        for (int k = 0; k < LEC_RELAY_TAG_LEN; k++)
            tag = tag << 8 | dg[k];
        unsigned w = lec_relay_tag_worker(tag);
        size_t len = (size_t)n - LEC_RELAY_TAG_LEN;
        if (w >= r->nworkers || !atomic_load(&r->w[w].attached)) {
            atomic_fetch_add_explicit(&r->rx_dropped, 1, memory_order_relaxed);
        } else if (w == 0) {
            memcpy(self->buf, dg + LEC_RELAY_TAG_LEN, len);
            self->fn(self->ud, tag, self->buf, len, sizeof self->buf);
        } else if (lec_spsc_push(&r->w[w].q, tag, dg + LEC_RELAY_TAG_LEN, len)) {
            wake[w] = true;
        } else {
            atomic_fetch_add_explicit(&r->rx_dropped, 1, memory_order_relaxed);
        }
    }
    for (unsigned w = 1; w < r->nworkers; w++)
        if (wake[w])
            lec_wake_signal(&r->w[w].wake); /* once per batch: sys/wake.h */
}

int lec_relay_attach(lec_relay *r, unsigned w, uv_loop_t *loop, lec_relay_deliver_fn fn, void *ud)
{
    if (w >= r->nworkers)
        return LEC_ERR_INVAL;
    wslot *ws = &r->w[w];
    ws->fn = fn;
    ws->ud = ud;
    if (lec_wake_attach(&ws->wake, loop, on_wake, ws))
        return LEC_ERR_IO;
    if (w == 0) {
        if (uv_poll_init(loop, &ws->sockpoll, r->fd))
            return LEC_ERR_IO;
        ws->has_sockpoll = true;
        ws->sockpoll.data = r;
        uv_poll_start(&ws->sockpoll, UV_READABLE, on_readable);
    }
    atomic_store(&ws->attached, true);
    return 0;
}

void lec_relay_detach(lec_relay *r, unsigned w)
{
    if (!r || w >= r->nworkers)
        return;
    wslot *ws = &r->w[w];
    atomic_store(&ws->attached, false);
    lec_wake_detach(&ws->wake, NULL);
    if (ws->has_sockpoll)
        uv_close((uv_handle_t *)&ws->sockpoll, NULL);
    ws->has_sockpoll = false;
}

int lec_relay_send(lec_relay *r, const lec_addr *to, uint64_t tag, const uint8_t *pkt, size_t len)
{
    uint8_t t[LEC_RELAY_TAG_LEN];
    for (int k = 0; k < LEC_RELAY_TAG_LEN; k++)
        t[k] = (uint8_t)(tag >> (56 - 8 * k));
    struct sockaddr_storage ss;
    unsigned sl = lec_sys_sockaddr_from_addr(to, &ss);
    struct iovec iov[2] = {{t, sizeof t}, {(void *)(uintptr_t)pkt, len}};
    struct msghdr mh = {.msg_name = &ss, .msg_namelen = sl, .msg_iov = iov, .msg_iovlen = 2};
    if (!sl || sendmsg(r->fd, &mh, MSG_DONTWAIT) < 0) {
        atomic_fetch_add_explicit(&r->tx_errors, 1, memory_order_relaxed);
        return errno == EAGAIN ? LEC_ERR_AGAIN : LEC_ERR_IO;
    }
    atomic_fetch_add_explicit(&r->tx, 1, memory_order_relaxed);
    return 0;
}

void lec_relay_get_stats(const lec_relay *r, lec_relay_stats *out)
{
    out->rx = atomic_load(&r->rx);
    out->tx = atomic_load(&r->tx);
    out->rx_dropped = atomic_load(&r->rx_dropped);
    out->tx_errors = atomic_load(&r->tx_errors);
}

void lec_relay_free(lec_relay *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    for (unsigned i = 0; i < r->nworkers; i++) {
        lec_wake_free(&r->w[i].wake);
        lec_spsc_free(&r->w[i].q);
    }
    free(r->w);
    free(r);
}
