/* The cluster's audience (audience.h). */
#include "cluster/audience.h"
#include "base/err.h"

#include <stdlib.h>
#include <string.h>

static int by_stream_region(const void *pa, const void *pb)
{
    const lec_audience_row *a = pa, *b = pb;
    int c = strcmp(a->stream, b->stream);
    return c ? c : strcmp(a->region, b->region);
}

static int by_audience(const void *pa, const void *pb)
{
    const lec_audience_total *a = pa, *b = pb;
    if (a->viewers != b->viewers)
        return a->viewers > b->viewers ? -1 : 1;
    return strcmp(a->name, b->name);
}

static int by_name(const void *pa, const void *pb)
{
    const lec_audience_total *a = pa, *b = pb;
    return strcmp(a->name, b->name);
}

/* Rows of equal stream and region merged; returns how many are left. */
static size_t merge_rows(lec_audience_row *r, size_t n)
{
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (out && !by_stream_region(&r[out - 1], &r[i]))
            r[out - 1].viewers += r[i].viewers;
        else
            r[out++] = r[i];
    }
    return out;
}

static void add_region(lec_audience *a, const char *region, uint64_t viewers)
{
    for (size_t i = 0; i < a->nregions; i++)
        if (!strcmp(a->regions[i].name, region)) {
            a->regions[i].viewers += viewers;
            return;
        }
    a->regions[a->nregions++] = (lec_audience_total){region, viewers};
}

int lec_audience_of(const lec_cluster *c, lec_audience *out)
{
    memset(out, 0, sizeof *out);
    out->alloc = c->alloc;
    size_t held = 0;
    for (size_t i = 0; i < c->n; i++)
        held += c->nodes[i].info.nstreams;
    size_t cap = held ? held : 1;
    out->rows = lec_calloc(c->alloc, cap, sizeof *out->rows);
    out->streams = lec_calloc(c->alloc, cap, sizeof *out->streams);
    out->regions = lec_calloc(c->alloc, c->n ? c->n : 1, sizeof *out->regions);
    if (!out->rows || !out->streams || !out->regions) {
        lec_audience_free(out);
        return LEC_ERR_NOMEM;
    }
    for (size_t i = 0; i < c->n; i++) {
        const lec_node_info *n = &c->nodes[i].info;
        add_region(out, n->region, 0); /* every region with a node, watched or not */
        for (size_t s = 0; s < n->nstreams; s++)
            out->rows[out->nrows++] =
                (lec_audience_row){n->streams[s].stream, n->region, n->streams[s].viewers};
    }
    if (out->nrows)
        qsort(out->rows, out->nrows, sizeof *out->rows, by_stream_region);
    out->nrows = merge_rows(out->rows, out->nrows);
    for (size_t i = 0; i < out->nrows; i++) {
        const lec_audience_row *r = &out->rows[i];
        out->viewers += r->viewers;
        add_region(out, r->region, r->viewers);
        if (out->nstreams && !strcmp(out->streams[out->nstreams - 1].name, r->stream))
            out->streams[out->nstreams - 1].viewers += r->viewers;
        else
            out->streams[out->nstreams++] = (lec_audience_total){r->stream, r->viewers};
    }
    if (out->nstreams)
        qsort(out->streams, out->nstreams, sizeof *out->streams, by_audience);
    if (out->nregions)
        qsort(out->regions, out->nregions, sizeof *out->regions, by_name);
    return 0;
}

void lec_audience_free(lec_audience *a)
{
    if (a->rows)
        lec_free(a->alloc, a->rows);
    if (a->streams)
        lec_free(a->alloc, a->streams);
    if (a->regions)
        lec_free(a->alloc, a->regions);
    memset(a, 0, sizeof *a);
}

void lec_audience_json(const lec_audience *a, lec_jw *w)
{
    lec_jw_obj_open(w);
    lec_jw_key(w, "viewers");
    lec_jw_uint(w, a->viewers);
    lec_jw_key(w, "regions");
    lec_jw_obj_open(w);
    for (size_t i = 0; i < a->nregions; i++) {
        lec_jw_key(w, a->regions[i].name);
        lec_jw_uint(w, a->regions[i].viewers);
    }
    lec_jw_obj_close(w);
    lec_jw_key(w, "streams");
    lec_jw_obj_open(w);
    for (size_t s = 0; s < a->nstreams; s++) {
        const char *name = a->streams[s].name;
        lec_jw_key(w, name);
        lec_jw_obj_open(w);
        lec_jw_key(w, "viewers");
        lec_jw_uint(w, a->streams[s].viewers);
        lec_jw_key(w, "regions");
        lec_jw_obj_open(w);
        /* The stream's rows are contiguous: find them by bisection. */
        size_t lo = 0, hi = a->nrows;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(a->rows[mid].stream, name) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t r = lo; r < a->nrows && !strcmp(a->rows[r].stream, name); r++) {
            lec_jw_key(w, a->rows[r].region);
            lec_jw_uint(w, a->rows[r].viewers);
        }
        lec_jw_obj_close(w);
        lec_jw_obj_close(w);
    }
    lec_jw_obj_close(w);
    lec_jw_obj_close(w);
}
