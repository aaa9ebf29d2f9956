/*
 * A node's load as its heartbeat reports it, measured rather than assumed
 * (the steering scorer takes the highest utilisation): media egress from
 * the rooms' byte counters (RTP to viewers and legs), the CPU of the
 * process and of each worker thread from their CPU clocks, and joins (the
 * join-time histogram over the last minute, failures since the start).
 * Sampled on the main loop at each heartbeat; rates cover the time since
 * the sample before.
 */
#ifndef LEC_NODE_LOADMETER_H
#define LEC_NODE_LOADMETER_H

#include "cluster/cluster.h"

struct lec_node;
typedef struct lec_loadmeter lec_loadmeter;

/* After the node's workers started (their threads' CPU clocks).  NULL when
 * out of memory. */
lec_loadmeter *lec_loadmeter_new(struct lec_node *node);
void lec_loadmeter_free(lec_loadmeter *lm);
/* Fills egress, CPU and joins of `out` (sessions and counts come from the
 * media plane). */
void lec_loadmeter_sample(lec_loadmeter *lm, lec_cluster_load *out);

#endif
