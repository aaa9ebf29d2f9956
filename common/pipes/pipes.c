/* Pipes between a node's workers (pipes.h). */
#include "pipes/pipes.h"
#include "base/err.h"
#include "base/spsc.h"
#include "sys/wake.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE      512 /* packets in flight per pair: seconds of a 1.5 Mbps stream */
#define DRAIN_MAX  256 /* packets per queue per wake before the loop gets a turn */
#define PIPE_BYTES 1600

typedef struct consumer {
    lec_wake wake; /* lives as long as the pipes: producers may signal after a detach */
    struct lec_pipes *p;
    atomic_bool attached;
    lec_relay_deliver_fn fn;
    void *ud;
    uint8_t buf[PIPE_BYTES + 64];
} consumer;

struct lec_pipes {
    unsigned n;
    _Atomic(lec_spsc *) *q; /* [from * n + to], NULL until connected */
    consumer *c;
    atomic_uint_fast64_t sent, dropped;
};

int lec_pipes_new(lec_pipes **out, unsigned nworkers)
{
    *out = NULL;
    if (!nworkers || nworkers > 256)
        return LEC_ERR_INVAL;
    lec_pipes *p = calloc(1, sizeof *p);
    if (!p)
        return LEC_ERR_NOMEM;
    p->n = nworkers;
    p->q = calloc((size_t)nworkers * nworkers, sizeof *p->q);
    p->c = calloc(nworkers, sizeof *p->c);
    if (!p->q || !p->c) {
        free(p->q);
        free(p->c);
        free(p);
        return LEC_ERR_NOMEM;
    }
    int rc = 0;
    for (unsigned i = 0; i < nworkers; i++) {
        p->c[i].p = p;
        p->c[i].wake.efd = -1;
        if (!rc)
            rc = lec_wake_init(&p->c[i].wake);
    }
    if (rc) {
        lec_pipes_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

static int make(lec_pipes *p, unsigned from, unsigned to)
{
    _Atomic(lec_spsc *) *slot = &p->q[(size_t)from * p->n + to];
    if (atomic_load_explicit(slot, memory_order_relaxed))
        return 0;
    lec_spsc *q = malloc(sizeof *q);
    if (!q || lec_spsc_init(q, QUEUE, PIPE_BYTES)) {
        free(q);
        return LEC_ERR_NOMEM;
    }
    atomic_store_explicit(slot, q, memory_order_release);
    return 0;
}

int lec_pipes_connect(lec_pipes *p, unsigned a, unsigned b)
{
    if (a >= p->n || b >= p->n || a == b)
        return LEC_ERR_INVAL;
    int rc = make(p, a, b);
    return rc ? rc : make(p, b, a);
}

/* The consumer's wake ran: every queue into this worker, a bounded amount
 * each, then the loop gets a turn. */
static void drain(void *arg)
{
    consumer *c = arg;
    lec_pipes *p = c->p;
    unsigned to = (unsigned)(c - p->c);
    bool more = false;
    for (unsigned from = 0; from < p->n; from++) {
        lec_spsc *q = atomic_load_explicit(&p->q[(size_t)from * p->n + to], memory_order_acquire);
        if (!q)
            continue;
        uint64_t tag;
        size_t len;
        unsigned k = 0;
        while (k < DRAIN_MAX && (len = lec_spsc_pop(q, &tag, c->buf, PIPE_BYTES))) {
            c->fn(c->ud, tag, c->buf, len, sizeof c->buf);
            k++;
        }
        more = more || k == DRAIN_MAX;
    }
    if (more) /* give the loop a turn, then come back */
        lec_wake_again(&c->wake);
}

int lec_pipes_attach(lec_pipes *p, unsigned w, uv_loop_t *loop, lec_relay_deliver_fn fn, void *ud)
{
    if (!p || w >= p->n)
        return LEC_ERR_INVAL;
    consumer *c = &p->c[w];
    c->fn = fn;
    c->ud = ud;
    if (lec_wake_attach(&c->wake, loop, drain, c))
        return LEC_ERR_IO;
    atomic_store(&c->attached, true);
    return 0;
}

void lec_pipes_detach(lec_pipes *p, unsigned w)
{
    if (!p || w >= p->n)
        return;
    consumer *c = &p->c[w];
    atomic_store(&c->attached, false);
    lec_wake_detach(&c->wake, NULL);
}

int lec_pipes_send(lec_pipes *p, unsigned from, unsigned to, uint64_t tag, const uint8_t *pkt,
                   size_t len)
{
    if (from >= p->n || to >= p->n)
        return LEC_ERR_INVAL;
    lec_spsc *q = atomic_load_explicit(&p->q[(size_t)from * p->n + to], memory_order_acquire);
    consumer *c = &p->c[to];
    if (!q || len > PIPE_BYTES)
        return LEC_ERR_INVAL;
    if (!atomic_load_explicit(&c->attached, memory_order_relaxed) ||
        !lec_spsc_push(q, tag, pkt, len)) {
        atomic_fetch_add_explicit(&p->dropped, 1, memory_order_relaxed);
        return LEC_ERR_AGAIN;
    }
    atomic_fetch_add_explicit(&p->sent, 1, memory_order_relaxed);
    lec_wake_signal(&c->wake); /* once per burst: sys/wake.h */
    return 0;
}

void lec_pipes_get_stats(const lec_pipes *p, lec_pipes_stats *out)
{
    out->sent = atomic_load(&p->sent);
    out->dropped = atomic_load(&p->dropped);
}

void lec_pipes_free(lec_pipes *p)
{
    if (!p)
        return;
    for (size_t i = 0; p->q && i < (size_t)p->n * p->n; i++) {
        lec_spsc *q = atomic_load(&p->q[i]);
        if (q) {
            lec_spsc_free(q);
            free(q);
        }
    }
    for (unsigned i = 0; p->c && i < p->n; i++)
        lec_wake_free(&p->c[i].wake);
    free(p->q);
    free(p->c);
    free(p);
}
