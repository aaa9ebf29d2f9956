/*
 * The node's control plane: its cluster view (common/cluster), the bus
 * (common/bus) when `nats:` is configured, heartbeats every second, RTT
 * probes, expiry, and GET /v1/cluster.  Without NATS the view holds just
 * this node, and everything else still works.
 */
#ifndef LEC_NODE_CONTROL_H
#define LEC_NODE_CONTROL_H

#include "base/sbuf.h"
#include "cluster/cluster.h"

struct lec_node;
typedef struct lec_control lec_control;

/* What the control plane needs of the media plane, and hands to it: the
 * node wires them (node.c), so this module calls nothing of media's.
 * Every hook may be NULL (a node without media). */
struct lec_node_info;
struct lec_addr;
struct lec_stream_event;
typedef struct lec_control_media {
    void *ud;
    /* Fills the load (sessions, legs) and the streams held (up to max,
     * into held) of this node's heartbeat; returns how many streams. */
    size_t (*load)(void *ud, struct lec_node_info *i, struct lec_cluster_held *held, size_t max);
    /* The relay socket's bound address; false without one. */
    bool (*relay_addr)(void *ud, struct lec_addr *out);
    /* A stream started on another node (after the view noted it held). */
    void (*stream_event)(void *ud, const struct lec_stream_event *ev);
} lec_control_media;

/* Starts the view, the bus and the timers on the node's loop, with the
 * media plane's hooks (copied).  NULL with the reason logged when NATS
 * refuses the configured options. */
lec_control *lec_control_start(struct lec_node *node, const lec_control_media *media);
/* Sends a heartbeat now (after a state change such as draining). */
void lec_control_heartbeat_now(lec_control *c);
/* Closes the bus and timers; the control is freed once they are closed. */
void lec_control_close(lec_control *c);
/* The view and the bus state as JSON fields of an open object. */
void lec_control_json(lec_control *c, lec_jw *w);
/* The cluster's numbers in the Prometheus text format, appended to `out`:
 * this node's load as steering takes it (lectern_load_ratio{resource}),
 * and as seen in the view: viewers per region, live streams, and the
 * largest audiences (at most LEC_CONTROL_TOP_STREAMS streams, so the label
 * set stays bounded; every stream is in GET /v1/cluster). */
#define LEC_CONTROL_TOP_STREAMS 20
void lec_control_metrics(lec_control *c, lec_sbuf *out);
/* The view, read-only (steering, cascade). */
const lec_cluster *lec_control_view(const lec_control *c);

struct lec_bus_stats;
/* Copies the bus counters; false when there is no bus (no NATS). */
bool lec_control_bus_stats(lec_control *c, struct lec_bus_stats *out);

/* Releases nats.c's library-wide resources; once, after every bus closed. */
void lec_control_library_shutdown(void);

/* The bus, or NULL (no cluster, or closed). */
struct lec_bus;
struct lec_bus *lec_control_bus(lec_control *c);
/* host:port where other nodes send this node's legs: relay.public_addr,
 * else the relay socket's address (an unspecified one as loopback). */
void lec_control_relay_addr(struct lec_node *node, char *out, size_t cap);

#endif
