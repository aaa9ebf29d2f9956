/*
 * The cluster view: every node keeps its own, built from the heartbeats
 * and probes of the control plane (DESIGN.md section 5).  A sans-I/O core:
 * heartbeats and RTT samples come in with `now`, expiries and events go
 * out; no NATS, no loop, no clock.
 *
 * What it knows: the nodes (identity, addresses, region, location, load,
 * capacity, draining), which node holds which stream at what cascade
 * depth, and round-trip times: the ones this node measured (smoothed like
 * TCP's SRTT, RFC 6298) and the ones every other node reports in its
 * heartbeat, which together make the RTT matrix.
 *
 * Liveness: a node unseen for `expiry` (3 s) is gone.  While this node's
 * own control-plane connection is down the view is frozen rather than
 * emptied (nothing that plays should stop because NATS blinked); when it
 * comes back every node gets a fresh `expiry` to be heard from again, so
 * the view converges within one expiry of the reconnect.
 *
 * Two processes with one node id: each restart changes the id's boot_id;
 * heartbeats that alternate between two boot_ids, or one that carries our
 * own id with another boot_id, mean two live processes share the id.
 */
#ifndef LEC_CLUSTER_CLUSTER_H
#define LEC_CLUSTER_CLUSTER_H

#include "base/alloc.h"
#include "base/role.h"
#include "base/sbuf.h"
#include "base/time.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEC_ID_MAX       65 /* 64 characters + NUL: node ids, regions, streams */
#define LEC_URL_MAX      256
#define LEC_HOSTPORT_MAX 64

typedef struct lec_cluster_load {
    uint32_t viewers, publishers, legs_in, legs_out;
    uint32_t sessions;            /* WHIP/WHEP sessions, those still connecting too */
    uint64_t egress_bps;          /* media sent, bits per second (measured) */
    uint32_t cpu_permille;        /* the process, share of all cores, 0..1000 */
    uint32_t worker_cpu_permille; /* the busiest worker thread, share of one core */
    uint32_t join_p50_us, join_p95_us; /* joins of the last minute; 0: none */
    uint64_t joins, join_failures;     /* since the process started */
} lec_cluster_load;

typedef struct lec_cluster_held {
    char stream[LEC_ID_MAX];
    uint32_t depth;          /* relay hops from the publisher; 0: published here */
    uint32_t viewers;        /* watching it on that node (legs not counted) */
    char source[LEC_ID_MAX]; /* the node feeding it there; "" at depth 0 */
} lec_cluster_held;

typedef struct lec_cluster_rtt {
    char node_id[LEC_ID_MAX];
    uint32_t rtt_us;
} lec_cluster_rtt;

/* What a heartbeat says about a node.  In messages the arrays are
 * borrowed; inside the view they are owned copies. */
typedef struct lec_node_info {
    char id[LEC_ID_MAX];
    lec_role role;
    char region[LEC_ID_MAX];
    double lat, lon;
    char http_url[LEC_URL_MAX];
    char relay_addr[LEC_HOSTPORT_MAX];
    char version[32];
    uint32_t max_viewers, max_publishers;
    uint64_t max_egress_bps;
    lec_cluster_load load;
    bool draining;
    lec_cluster_held *streams;
    size_t nstreams;
    lec_cluster_rtt *rtts;
    size_t nrtts;
    uint64_t seq;
    uint64_t boot_id;
    uint64_t started_unix_ms;
} lec_node_info;

typedef struct lec_cluster_node {
    lec_node_info info;
    lec_tstamp last_seen;
    lec_tstamp joined_at;
    uint64_t prev_boot_id; /* the boot_id before the last change */
    lec_tstamp boot_changed_at;
    uint32_t srtt_us; /* smoothed RTT measured by this node to it; 0: none */
    uint32_t rttvar_us;
    bool self;
} lec_cluster_node;

typedef struct lec_cluster {
    const lec_alloc *alloc;
    lec_cluster_node *nodes;
    size_t n, cap;
    lec_tstamp expiry;
    bool frozen;
    char self_id[LEC_ID_MAX];
    uint64_t self_boot_id;
} lec_cluster;

/* What lec_cluster_heartbeat saw. */
enum {
    LEC_CLUSTER_UPDATED = 0,   /* a known node, refreshed */
    LEC_CLUSTER_JOINED = 1,    /* a node new to the view */
    LEC_CLUSTER_RESTARTED = 2, /* a known id with a new boot_id */
    LEC_CLUSTER_DUPLICATE = 3, /* two live processes share this id: log it loudly */
    LEC_CLUSTER_IGNORED = 4,   /* our own echo, or an older heartbeat */
};

/* 0, or LEC_ERR_INVAL for a bad self id. */
int lec_cluster_init(lec_cluster *c, const lec_alloc *a, const char *self_id, uint64_t self_boot_id,
                     lec_tstamp expiry);
void lec_cluster_free(lec_cluster *c);

/* A heartbeat from the control plane (copied).  Returns one of the
 * LEC_CLUSTER_* above, LEC_ERR_INVAL for an empty or unterminated id, or
 * LEC_ERR_NOMEM. */
int lec_cluster_heartbeat(lec_cluster *c, const lec_node_info *hb, lec_tstamp now);

/* This node's own entry, refreshed from local state (copied).  0 or
 * LEC_ERR_NOMEM. */
int lec_cluster_set_self(lec_cluster *c, const lec_node_info *self, lec_tstamp now);

/* Removes nodes unseen for longer than the expiry (never self, never while
 * frozen), calling gone(ud, node) for each before it goes.  Returns how
 * many went. */
size_t lec_cluster_expire(lec_cluster *c, lec_tstamp now,
                          void (*gone)(void *ud, const lec_cluster_node *n), void *ud);

/* Freezes the view while the control plane is unreachable; thawing gives
 * every node a fresh expiry from `now`. */
void lec_cluster_freeze(lec_cluster *c, bool frozen, lec_tstamp now);

/* An RTT sample to `node_id`, measured by this node.  Unknown nodes are
 * ignored (LEC_ERR_NOTFOUND). */
int lec_cluster_rtt_sample(lec_cluster *c, const char *node_id, lec_tstamp rtt, lec_tstamp now);

const lec_cluster_node *lec_cluster_find(const lec_cluster *c, const char *id);

/* `node_id` holds `stream` at `depth`, as a StreamEvent says before the
 * node's next heartbeat does (NATS does not order one subject's messages
 * against another's at the receiver, so the event may come first).  The
 * next heartbeat replaces the list.  0, LEC_ERR_NOTFOUND (unknown node),
 * LEC_ERR_NOMEM. */
int lec_cluster_note_held(lec_cluster *c, const char *node_id, const char *stream, uint32_t depth);

/* The best known RTT from region `home` to every other region, in
 * microseconds: the smallest measurement between any node of `home` and
 * any node of the other region, from either side (ours from srtt_us,
 * others' from their heartbeats).  One pass over the view: O(nodes x
 * reported RTTs). */
#define LEC_REGION_RTTS_MAX 64
typedef struct lec_region_rtts {
    const char *region[LEC_REGION_RTTS_MAX]; /* borrowed from the view */
    uint32_t best[LEC_REGION_RTTS_MAX];
    size_t n;
} lec_region_rtts;
void lec_cluster_region_rtts(const lec_cluster *c, const char *home, lec_region_rtts *out);
/* 0 when no RTT to `region` is known. */
uint32_t lec_region_rtts_get(const lec_region_rtts *t, const char *region);

/* The view as JSON fields (GET /v1/cluster): "self", "frozen", "nodes",
 * "streams" and "rtt_matrix", written into an object the caller opened. */
void lec_cluster_json(const lec_cluster *c, lec_tstamp now, lec_jw *w);

#endif
