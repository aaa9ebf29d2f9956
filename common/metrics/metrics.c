/* The metrics registry and its text rendering (metrics.h). */
#include "metrics/metrics.h"
#include "base/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint64_t lec_metrics_duration_buckets[] = {
    1000000,   2500000,   5000000,    10000000,   25000000,   50000000,    100000000,
    250000000, 500000000, 1000000000, 2500000000, 5000000000, 10000000000,
};
const uint32_t lec_metrics_duration_nbuckets =
    sizeof lec_metrics_duration_buckets / sizeof lec_metrics_duration_buckets[0];

int lec_metrics_init(lec_metrics *m, unsigned nslots)
{
    memset(m, 0, sizeof *m);
    if (nslots == 0 || nslots > 1024)
        return LEC_ERR_INVAL;
    m->slots = calloc(nslots, sizeof *m->slots);
    if (!m->slots)
        return LEC_ERR_NOMEM;
    m->nslots = nslots;
    atomic_init(&m->nseries, 0);
    return 0;
}

void lec_metrics_free(lec_metrics *m)
{
    free(m->slots);
    m->slots = NULL;
}

static bool valid_name(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == ':'))
            return false;
    return true;
}

static lec_metric add(lec_metrics *m, const char *name, const char *labels, const char *help,
                      lec_metric_type type, uint32_t cells)
{
    unsigned n = atomic_load_explicit(&m->nseries, memory_order_relaxed);
    labels = labels ? labels : "";
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(m->series[i].name, name) && !strcmp(m->series[i].labels, labels))
            return m->series[i].type == type ? i : LEC_METRIC_NONE;
    if (!valid_name(name) || strlen(name) >= sizeof m->series[0].name ||
        strlen(labels) >= sizeof m->series[0].labels || strchr(labels, '\n') ||
        n == LEC_METRICS_MAX_SERIES || m->ncells + cells > LEC_METRICS_MAX_CELLS)
        return LEC_METRIC_NONE;
    lec_metric_series *s = &m->series[n];
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->labels, sizeof s->labels, "%s", labels);
    snprintf(s->help, sizeof s->help, "%s", help ? help : "");
    s->type = type;
    s->cell = m->ncells;
    s->scale = 1;
    m->ncells += cells;
    atomic_store_explicit(&m->nseries, n + 1, memory_order_release);
    return n;
}

lec_metric lec_metrics_counter(lec_metrics *m, const char *name, const char *labels,
                               const char *help)
{
    return add(m, name, labels, help, LEC_METRIC_COUNTER, 1);
}

lec_metric lec_metrics_gauge(lec_metrics *m, const char *name, const char *labels, const char *help)
{
    return add(m, name, labels, help, LEC_METRIC_GAUGE, 1);
}

lec_metric lec_metrics_histogram(lec_metrics *m, const char *name, const char *labels,
                                 const char *help, const uint64_t *bounds, uint32_t nbounds,
                                 double scale)
{
    if (nbounds == 0 || nbounds > LEC_METRICS_MAX_BUCKETS || !(scale > 0))
        return LEC_METRIC_NONE;
    for (uint32_t i = 1; i < nbounds; i++)
        if (bounds[i] <= bounds[i - 1])
            return LEC_METRIC_NONE;
    /* cells: one per bound, +Inf, count, sum */
    lec_metric id = add(m, name, labels, help, LEC_METRIC_HISTOGRAM, nbounds + 3);
    if (id != LEC_METRIC_NONE) {
        m->series[id].bounds = bounds;
        m->series[id].nbuckets = nbounds;
        m->series[id].scale = scale;
    }
    return id;
}

void lec_metric_observe(lec_metrics *m, unsigned slot, lec_metric id, uint64_t units)
{
    if (!m || id == LEC_METRIC_NONE)
        return;
    const lec_metric_series *s = &m->series[id];
    _Atomic uint64_t *c = &m->slots[slot].cells[s->cell];
    uint32_t b = 0;
    while (b < s->nbuckets && units > s->bounds[b])
        b++;
    /* Non-cumulative per bucket; rendering accumulates. */
    atomic_store_explicit(&c[b], atomic_load_explicit(&c[b], memory_order_relaxed) + 1,
                          memory_order_relaxed);
    _Atomic uint64_t *count = &c[s->nbuckets + 1], *sum = &c[s->nbuckets + 2];
    atomic_store_explicit(count, atomic_load_explicit(count, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_store_explicit(sum, atomic_load_explicit(sum, memory_order_relaxed) + units,
                          memory_order_relaxed);
}

static uint64_t cell_sum(const lec_metrics *m, uint32_t cell)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < m->nslots; i++)
        v += atomic_load_explicit(&m->slots[i].cells[cell], memory_order_relaxed);
    return v;
}

uint32_t lec_metric_buckets(const lec_metrics *m, lec_metric id, uint64_t *out, uint32_t cap)
{
    if (id == LEC_METRIC_NONE || m->series[id].type != LEC_METRIC_HISTOGRAM)
        return 0;
    const lec_metric_series *s = &m->series[id];
    for (uint32_t b = 0; b <= s->nbuckets && b < cap; b++)
        out[b] = cell_sum(m, s->cell + b);
    return s->nbuckets + 1;
}

double lec_metrics_quantile(const uint64_t *bounds, uint32_t nbounds, const uint64_t *counts,
                            double q)
{
    uint64_t total = 0;
    for (uint32_t b = 0; b <= nbounds; b++)
        total += counts[b];
    if (!total || nbounds == 0)
        return 0;
    double rank = q * (double)total, seen = 0;
    for (uint32_t b = 0; b < nbounds; b++) {
        if (counts[b] && seen + (double)counts[b] >= rank) {
            double lo = b ? (double)bounds[b - 1] : 0, hi = (double)bounds[b];
            return lo + (hi - lo) * (rank - seen) / (double)counts[b];
        }
        seen += (double)counts[b];
    }
    return (double)bounds[nbounds - 1];
}

int64_t lec_metric_value(const lec_metrics *m, lec_metric id)
{
    if (id == LEC_METRIC_NONE)
        return 0;
    return (int64_t)cell_sum(m, m->series[id].cell);
}

static void put_value(lec_sbuf *out, double v)
{
    if (v == floor(v) && fabs(v) < 1e15)
        lec_sbuf_printf(out, "%.0f", v);
    else
        lec_sbuf_printf(out, "%.9g", v);
}

static void put_series(lec_sbuf *out, const char *name, const char *suffix, const char *labels,
                       const char *extra)
{
    lec_sbuf_printf(out, "%s%s", name, suffix);
    if (*labels || extra) {
        lec_sbuf_putc(out, '{');
        lec_sbuf_puts(out, labels);
        if (extra)
            lec_sbuf_printf(out, "%s%s", *labels ? "," : "", extra);
        lec_sbuf_putc(out, '}');
    }
    lec_sbuf_putc(out, ' ');
}

/* HELP text escapes: backslash and newline (format 0.0.4). */
static void put_help(lec_sbuf *out, const char *help)
{
    for (; *help; help++) {
        if (*help == '\\')
            lec_sbuf_puts(out, "\\\\");
        else if (*help == '\n')
            lec_sbuf_puts(out, "\\n");
        else
            lec_sbuf_putc(out, *help);
    }
}

void lec_metrics_render(const lec_metrics *m, lec_sbuf *out)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    unsigned n = atomic_load_explicit(&m->nseries, memory_order_acquire);
    bool *done = calloc(n ? n : 1, sizeof *done);
    if (!done)
        return;
    for (unsigned i = 0; i < n; i++) {
        if (done[i])
            continue;
        const lec_metric_series *f = &m->series[i];
        lec_sbuf_printf(out, "# HELP %s ", f->name);
        put_help(out, f->help);
        lec_sbuf_printf(out, "\n# TYPE %s %s\n", f->name, types[f->type]);
        /* Every series of this name, together. */
        for (unsigned j = i; j < n; j++) {
            const lec_metric_series *s = &m->series[j];
            if (done[j] || strcmp(s->name, f->name))
                continue;
            done[j] = true;
            if (s->type != LEC_METRIC_HISTOGRAM) {
                put_series(out, s->name, "", s->labels, NULL);
                uint64_t v = cell_sum(m, s->cell);
                put_value(out, s->type == LEC_METRIC_GAUGE ? (double)(int64_t)v / s->scale
                                                           : (double)v / s->scale);
                lec_sbuf_putc(out, '\n');
                continue;
            }
            uint64_t cum = 0;
            for (uint32_t b = 0; b <= s->nbuckets; b++) {
                char le[48];
                cum += cell_sum(m, s->cell + b);
                if (b < s->nbuckets) {
                    char num[32];
                    snprintf(num, sizeof num, "%.9g", (double)s->bounds[b] / s->scale);
                    snprintf(le, sizeof le, "le=\"%s\"", num);
                } else {
                    snprintf(le, sizeof le, "le=\"+Inf\"");
                }
                put_series(out, s->name, "_bucket", s->labels, le);
                lec_sbuf_printf(out, "%llu\n", (unsigned long long)cum);
            }
            put_series(out, s->name, "_sum", s->labels, NULL);
            put_value(out, (double)cell_sum(m, s->cell + s->nbuckets + 2) / s->scale);
            lec_sbuf_putc(out, '\n');
            put_series(out, s->name, "_count", s->labels, NULL);
            lec_sbuf_printf(out, "%llu\n",
                            (unsigned long long)cell_sum(m, s->cell + s->nbuckets + 1));
        }
    }
    free(done);
}
