/*
 * The cluster's audience: viewers per stream and per region, summed over
 * the nodes of a cluster view from the streams their heartbeats say they
 * hold (each with its viewers there).  A viewer's region is the region of
 * the node that serves it.  A pure function of the view: GET /v1/cluster,
 * /metrics and the operators' tool all read it.
 */
#ifndef LEC_CLUSTER_AUDIENCE_H
#define LEC_CLUSTER_AUDIENCE_H

#include "cluster/cluster.h"

typedef struct lec_audience_row {
    const char *stream, *region; /* borrowed from the view */
    uint64_t viewers;
} lec_audience_row;

typedef struct lec_audience_total {
    const char *name; /* a stream or a region, borrowed from the view */
    uint64_t viewers;
} lec_audience_total;

typedef struct lec_audience {
    const lec_alloc *alloc;
    lec_audience_row *rows; /* by stream, then region */
    size_t nrows;
    lec_audience_total *streams; /* largest audience first, then by name */
    size_t nstreams;
    lec_audience_total *regions; /* by name */
    size_t nregions;
    uint64_t viewers; /* the whole cluster */
} lec_audience;

/* Sums the view (which must outlive `out`).  0 or LEC_ERR_NOMEM. */
int lec_audience_of(const lec_cluster *c, lec_audience *out);
void lec_audience_free(lec_audience *a);

/* {"viewers": N, "regions": {r: N}, "streams": {s: {"viewers": N,
 * "regions": {r: N}}}} as the value of a key the caller wrote. */
void lec_audience_json(const lec_audience *a, lec_jw *w);

#endif
