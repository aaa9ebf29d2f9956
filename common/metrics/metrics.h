/*
 * Metrics: a registry of counters, gauges and histograms rendered in the
 * Prometheus text format 0.0.4 (DESIGN.md section 10).
 *
 * Every thread that records owns a slot: a flat array of 64-bit cells it
 * alone writes, with relaxed atomic stores (no lock, no read-modify-write
 * bus lock on the packet path).  A scrape sums the slots with relaxed
 * loads.  Series (a name plus a fixed label set) are registered on the main
 * thread; the cells for every slot exist from the start (a fixed
 * capacity), so registering never moves memory another thread is writing.
 *
 * Labels are part of the series, chosen from bounded sets (never a stream,
 * user or IP).  Histograms have fixed buckets in integer base units times a
 * scale (durations in nanoseconds, rendered as seconds).
 */
#ifndef LEC_METRICS_METRICS_H
#define LEC_METRICS_METRICS_H

#include "base/sbuf.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef enum lec_metric_type {
    LEC_METRIC_COUNTER,
    LEC_METRIC_GAUGE,
    LEC_METRIC_HISTOGRAM,
} lec_metric_type;

#define LEC_METRICS_MAX_CELLS   4096
#define LEC_METRICS_MAX_SERIES  512
#define LEC_METRICS_MAX_BUCKETS 16

typedef struct lec_metric_series {
    char name[80];
    char labels[160]; /* 'k="v",k2="v2"' or "" */
    char help[160];
    lec_metric_type type;
    uint32_t cell;          /* first cell: value; histograms: buckets..., count, sum */
    uint32_t nbuckets;      /* histograms */
    const uint64_t *bounds; /* histogram upper bounds in units (borrowed, static) */
    double scale;           /* rendered value = cell / scale (1e9 for ns -> s) */
} lec_metric_series;

typedef struct lec_metrics_slot {
    _Atomic uint64_t cells[LEC_METRICS_MAX_CELLS];
} lec_metrics_slot;

typedef struct lec_metrics {
    lec_metric_series series[LEC_METRICS_MAX_SERIES];
    atomic_uint nseries;
    uint32_t ncells;
    lec_metrics_slot *slots;
    unsigned nslots;
} lec_metrics;

typedef uint32_t lec_metric; /* a series id */

/* `nslots`: one per recording thread (the main loop and each worker).
 * 0, LEC_ERR_INVAL or LEC_ERR_NOMEM. */
int lec_metrics_init(lec_metrics *m, unsigned nslots);
void lec_metrics_free(lec_metrics *m);

/* Registers a series (main thread).  Returns its id, or UINT32_MAX when
 * the registry is full or the name or labels are not valid.  Registering
 * the same name and labels twice returns the same id. */
lec_metric lec_metrics_counter(lec_metrics *m, const char *name, const char *labels,
                               const char *help);
lec_metric lec_metrics_gauge(lec_metrics *m, const char *name, const char *labels,
                             const char *help);
/* A histogram: `bounds` (static, ascending, in units) and the scale that
 * turns units into the base unit (1e9: nanoseconds recorded, seconds shown). */
lec_metric lec_metrics_histogram(lec_metrics *m, const char *name, const char *labels,
                                 const char *help, const uint64_t *bounds, uint32_t nbounds,
                                 double scale);

#define LEC_METRIC_NONE UINT32_MAX

/* lectern_refused_total{reason}: every module's refusals, one help text. */
#define LEC_METRICS_REFUSED      "lectern_refused_total"
#define LEC_METRICS_REFUSED_HELP \
    "Requests refused: viewers' resend and keyframe budgets, admission limits (reason)"

/* Recording: only the slot's owner thread calls these for that slot.  A
 * NULL registry records nothing (an engine run without one, as in tests). */
static inline void lec_metric_add(lec_metrics *m, unsigned slot, lec_metric id, uint64_t n)
{
    if (!m || id == LEC_METRIC_NONE)
        return;
    _Atomic uint64_t *c = &m->slots[slot].cells[m->series[id].cell];
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* Gauges: a slot's contribution (the scrape sums the slots). */
static inline void lec_metric_set(lec_metrics *m, unsigned slot, lec_metric id, int64_t v)
{
    if (!m || id == LEC_METRIC_NONE)
        return;
    atomic_store_explicit(&m->slots[slot].cells[m->series[id].cell], (uint64_t)v,
                          memory_order_relaxed);
}

void lec_metric_observe(lec_metrics *m, unsigned slot, lec_metric id, uint64_t units);

/* A histogram's counts per bucket (not cumulative; the last is +Inf), summed
 * over slots, into out[0..cap).  Returns how many buckets it has (its
 * bounds + 1), 0 for a series that is no histogram. */
uint32_t lec_metric_buckets(const lec_metrics *m, lec_metric id, uint64_t *out, uint32_t cap);
/* The q-quantile (0..1) of counts per bucket under upper `bounds` (nbounds
 * of them, then +Inf), interpolated linearly inside its bucket as
 * Prometheus' histogram_quantile does; in the bounds' units.  0 when the
 * counts are all zero; the highest bound when it falls in +Inf. */
double lec_metrics_quantile(const uint64_t *bounds, uint32_t nbounds, const uint64_t *counts,
                            double q);
/* The sum over slots of a counter or gauge (gauges as signed). */
int64_t lec_metric_value(const lec_metrics *m, lec_metric id);

/* Appends every series in the text format 0.0.4, grouped by name with one
 * HELP and TYPE per name. */
void lec_metrics_render(const lec_metrics *m, lec_sbuf *out);

/* Standard buckets for durations in ns: 1 ms .. 10 s. */
extern const uint64_t lec_metrics_duration_buckets[];
extern const uint32_t lec_metrics_duration_nbuckets;

#endif
