/*
 * Steering (DESIGN.md section 6): rank the nodes that could serve a viewer,
 * as a pure function of the cluster view and where the viewer is.
 *
 * Score (lower is better), in milliseconds of round trip:
 *   latency  client -> node: great-circle distance at ~100 km per ms of
 *            RTT plus 5 ms, or, when the client's region is known and the
 *            node's region differs, the measured RTT between the regions
 *            plus the client's distance to its own region's site (unless
 *            the measurement beats light in fibre between the two sites,
 *            as on one machine: then the distance);
 *   load     utilisation u = max(viewers/max_viewers, egress/max_egress):
 *            + 40 ms * u, and + 2000 ms * (u - 0.85) above 85% (sharply);
 *   holding  - 15 ms when the node already holds the stream (no new leg).
 * Left out: draining nodes, full nodes (u >= 1), nodes not heard from for
 * over 2 s.  Origins are ranked like edges where `origin_viewers` lets
 * them serve:
 *   always      every client;
 *   own_region  clients of the origin's own region while no edge there
 *               has room (the client's region: the hint or geo's, else
 *               the configured region nearest to where it is located);
 *   never       nobody, unless the view holds no edge at all;
 * and, except under never, anyone when no edge anywhere has room.  Ties
 * break on the node id, so the same inputs always give the same ranking.
 *
 * Utilisation u is the highest of viewers/max_viewers,
 * egress/max_egress and the CPU shares the heartbeat reports (the process
 * over all cores, the busiest worker thread over one core).
 */
#ifndef LEC_CLUSTER_STEER_H
#define LEC_CLUSTER_STEER_H

#include "cluster/cluster.h"

typedef struct lec_steer_region {
    const char *name;
    double lat, lon;
} lec_steer_region;

/* Which viewers an origin serves (config steering.origin_viewers; the
 * order of the names there). */
typedef enum lec_origin_viewers {
    LEC_ORIGIN_VIEWERS_OWN_REGION = 0,
    LEC_ORIGIN_VIEWERS_NEVER = 1,
    LEC_ORIGIN_VIEWERS_ALWAYS = 2,
} lec_origin_viewers;

typedef struct lec_steer_input {
    const lec_cluster *view;
    lec_tstamp now;
    const char *stream; /* may be NULL */
    bool located;       /* lat/lon known */
    double lat, lon;
    const char *region;              /* the client's region (hint or geo), or NULL */
    const lec_steer_region *regions; /* known regions with coordinates */
    size_t nregions;
    lec_origin_viewers origin_viewers;
} lec_steer_input;

typedef struct lec_steer_choice {
    const lec_cluster_node *node;
    double score, latency_ms, utilisation;
    bool holds;
    char reason[288];
} lec_steer_choice;

/* Fills out[0..max) with the best eligible nodes, best first; returns how
 * many it filled.  Nodes left out get no entry. */
size_t lec_steer_rank(const lec_steer_input *in, lec_steer_choice *out, size_t max);

/* A node's utilisation (0: idle, 1: full), as the scorer takes it. */
double lec_steer_utilisation(const lec_node_info *i);

/* Great-circle distance in km (haversine). */
double lec_steer_distance_km(double lat1, double lon1, double lat2, double lon2);

#endif
