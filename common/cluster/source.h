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

/*
 * A pull across tries: each try asks the best source not yet excluded;
 * one that refuses, times out or goes quiet is excluded for the rest of
 * the pull; after LEC_PULL_MAX_TRIES tries, or with no source left, the
 * pull gives up.  A failover is a fresh pull with the quiet source
 * excluded.  The node (node/cascade.c) asks the sources over the bus and
 * reports back here; tests/unit/media/test_leg_protocol.c drives it with
 * the leg protocol in virtual time.
 */
#define LEC_PULL_MAX_TRIES    4
#define LEC_PULL_MAX_EXCLUDED 4

typedef struct lec_pull {
    unsigned tries;
    char excluded[LEC_PULL_MAX_EXCLUDED][65];
    unsigned nexcluded;
} lec_pull;

/* A fresh pull: no tries yet, nobody excluded. */
void lec_pull_reset(lec_pull *p);
/* `node` failed this pull (kept while there is room). */
void lec_pull_exclude(lec_pull *p, const char *node);
/* The next source to ask, counting a try.  .node NULL: give up, with
 * *why (a static string) saying why. */
lec_source_pick lec_pull_next(lec_pull *p, const lec_cluster *c, const lec_source_query *q,
                              const char **why);

#endif
