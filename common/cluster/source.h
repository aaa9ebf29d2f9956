/*
 * Choosing where an edge pulls a stream from (a sans-I/O core over the
 * cluster view): the nodes that hold the stream, are not draining, and
 * whose depth leaves room under relay.max_depth; the operator's preferred
 * sources first (relay.prefer, in order); otherwise the lowest measured
 * RTT, or, where none is measured yet, the great-circle distance at
 * ~100 km per ms each way; the shallower on a tie, then the node id, so
 * every node decides the same way on the same view.
 */
#ifndef LEC_CLUSTER_SOURCE_H
#define LEC_CLUSTER_SOURCE_H

#include "cluster/cluster.h"

typedef struct lec_source_query {
    const char *stream;
    uint32_t max_depth;        /* the requester's depth may not pass it */
    const char *const *prefer; /* node ids, best first */
    size_t nprefer;
    const char *const *exclude; /* node ids that just failed */
    size_t nexclude;
} lec_source_query;

typedef struct lec_source_pick {
    const lec_cluster_node *node; /* NULL: no candidate */
    uint32_t depth;               /* its depth for the stream */
    uint32_t cost_us;             /* the RTT used to rank it */
    bool measured;                /* the RTT was measured, not estimated */
    bool preferred;
} lec_source_pick;

/* The best source for q->stream, seen from the view's self node. */
lec_source_pick lec_cluster_pick_source(const lec_cluster *c, const lec_source_query *q);

/* Whether any node other than self holds `stream`. */
bool lec_cluster_stream_held(const lec_cluster *c, const char *stream);

#endif
