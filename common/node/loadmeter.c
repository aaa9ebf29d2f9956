/* Measured load (loadmeter.h). */
#include "node/loadmeter.h"
#include "node/node.h"
#include "sfu/sfu.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define WINDOW   (60 * LEC_S) /* joins: quantiles over the last minute */
#define NSNAP    64
#define NBUCKETS (LEC_METRICS_MAX_BUCKETS + 1)
#define MIN_GAP  (200 * LEC_MS) /* shorter: keep the last rates */

typedef struct snap {
    lec_tstamp t;
    uint64_t joins[NBUCKETS];
} snap;

struct lec_loadmeter {
    lec_node *node;
    unsigned ncores;
    lec_tstamp last;
    uint64_t bytes, cpu_ns;
    uint64_t *worker_ns;
    clockid_t *worker_clock; /* per worker; (clockid_t)-1: unknown */
    lec_cluster_load rates;  /* egress and CPU as last measured */
    snap snaps[NSNAP];
    unsigned nsnaps, next;
};

static uint64_t cpu_clock_ns(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts))
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t egress_bytes(const lec_node *node)
{
    if (!node->sfu_metrics)
        return 0;
    const lec_sfu_metrics *t = &node->sfu_metrics[0]; /* the ids are every worker's */
    return (uint64_t)(lec_metric_value(&node->metrics, t->bytes_out[0]) +
                      lec_metric_value(&node->metrics, t->bytes_out[1]));
}

lec_loadmeter *lec_loadmeter_new(lec_node *node)
{
    lec_loadmeter *lm = calloc(1, sizeof *lm);
    if (!lm)
        return NULL;
    lm->node = node;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    lm->ncores = n > 0 ? (unsigned)n : 1;
    lm->worker_ns = calloc(node->nworkers + 1, sizeof *lm->worker_ns);
    lm->worker_clock = calloc(node->nworkers + 1, sizeof *lm->worker_clock);
    if (!lm->worker_ns || !lm->worker_clock) {
        lec_loadmeter_free(lm);
        return NULL;
    }
    for (unsigned i = 0; i < node->nworkers; i++) {
        clockid_t id;
        bool ok = node->workers && node->workers[i].started &&
                  pthread_getcpuclockid(node->workers[i].thread, &id) == 0;
        lm->worker_clock[i] = ok ? id : (clockid_t)-1;
        lm->worker_ns[i] = ok ? cpu_clock_ns(id) : 0;
    }
    lm->last = lec_clock_now(node->clock);
    lm->bytes = egress_bytes(node);
    lm->cpu_ns = cpu_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    return lm;
}

void lec_loadmeter_free(lec_loadmeter *lm)
{
    if (!lm)
        return;
    free(lm->worker_ns);
    free(lm->worker_clock);
    free(lm);
}

static uint32_t permille(uint64_t cpu_ns, lec_tstamp dt, unsigned cores)
{
    double p = (double)cpu_ns * 1000.0 / ((double)dt * cores);
    return p >= 1000 ? 1000 : (uint32_t)(p + 0.5);
}

/* Egress and CPU since the last sample. */
static void measure_rates(lec_loadmeter *lm, lec_tstamp now)
{
    lec_tstamp dt = now - lm->last;
    if (dt < MIN_GAP)
        return;
    uint64_t bytes = egress_bytes(lm->node), cpu = cpu_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    lm->rates.egress_bps =
        bytes >= lm->bytes ? (uint64_t)((double)(bytes - lm->bytes) * 8e9 / (double)dt) : 0;
    lm->rates.cpu_permille = cpu >= lm->cpu_ns ? permille(cpu - lm->cpu_ns, dt, lm->ncores) : 0;
    uint32_t busiest = 0;
    for (unsigned i = 0; i < lm->node->nworkers; i++) {
        if (lm->worker_clock[i] == (clockid_t)-1)
            continue;
        uint64_t w = cpu_clock_ns(lm->worker_clock[i]);
        uint32_t p = w >= lm->worker_ns[i] ? permille(w - lm->worker_ns[i], dt, 1) : 0;
        if (p > busiest)
            busiest = p;
        lm->worker_ns[i] = w;
    }
    lm->rates.worker_cpu_permille = busiest;
    lm->bytes = bytes;
    lm->cpu_ns = cpu;
    lm->last = now;
}

/* Join quantiles over the window, failures and joins since the start. */
static void measure_joins(lec_loadmeter *lm, lec_tstamp now, lec_cluster_load *out)
{
    lec_node *node = lm->node;
    const lec_metrics *m = &node->metrics;
    for (int i = 0; i < LEC_JOIN_FAILURE_REASONS; i++)
        out->join_failures += (uint64_t)lec_metric_value(m, node->m.join_failures[i]);
    if (!node->sfu_metrics)
        return;
    lec_metric id = node->sfu_metrics[0].join;
    snap cur = {.t = now};
    uint32_t nb = lec_metric_buckets(m, id, cur.joins, NBUCKETS);
    if (nb == 0 || nb > NBUCKETS)
        return;
    for (uint32_t b = 0; b < nb; b++)
        out->joins += cur.joins[b];
    /* The oldest snapshot inside the window is the base. */
    const snap *base = NULL;
    for (unsigned k = 0; k < lm->nsnaps; k++) {
        const snap *s = &lm->snaps[(lm->next + NSNAP - lm->nsnaps + k) % NSNAP];
        if (now - s->t <= WINDOW) {
            base = s;
            break;
        }
    }
    uint64_t delta[NBUCKETS];
    for (uint32_t b = 0; b < nb; b++)
        delta[b] = cur.joins[b] - (base ? base->joins[b] : 0);
    const uint64_t *bounds = lec_metrics_duration_buckets;
    uint32_t nbounds = nb - 1;
    /* Nanoseconds in the buckets, microseconds on the wire; at least 1 us
     * when there were joins (0 means none). */
    double p50 = lec_metrics_quantile(bounds, nbounds, delta, 0.50) / 1000.0;
    double p95 = lec_metrics_quantile(bounds, nbounds, delta, 0.95) / 1000.0;
    out->join_p50_us = p50 > 0 && p50 < 1 ? 1 : (uint32_t)p50;
    out->join_p95_us = p95 > 0 && p95 < 1 ? 1 : (uint32_t)p95;
    const snap *newest = lm->nsnaps ? &lm->snaps[(lm->next + NSNAP - 1) % NSNAP] : NULL;
    if (newest && now - newest->t < LEC_S - MIN_GAP)
        return; /* an extra heartbeat: the ring keeps about one a second */
    lm->snaps[lm->next] = cur;
    lm->next = (lm->next + 1) % NSNAP;
    if (lm->nsnaps < NSNAP)
        lm->nsnaps++;
}

void lec_loadmeter_sample(lec_loadmeter *lm, lec_cluster_load *out)
{
    lec_tstamp now = lec_clock_now(lm->node->clock);
    measure_rates(lm, now);
    out->egress_bps = lm->rates.egress_bps;
    out->cpu_permille = lm->rates.cpu_permille;
    out->worker_cpu_permille = lm->rates.worker_cpu_permille;
    out->joins = out->join_failures = 0;
    measure_joins(lm, now, out);
}
