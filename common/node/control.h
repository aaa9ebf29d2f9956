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

/* Starts the view, the bus and the timers on the node's loop.  NULL with
 * the reason logged when NATS refuses the configured options. */
lec_control *lec_control_start(struct lec_node *node);
/* Sends a heartbeat now (after a state change such as draining). */
void lec_control_heartbeat_now(lec_control *c);
/* Closes the bus and timers; the control is freed once they are closed. */
void lec_control_close(lec_control *c);
/* The view and the bus state as JSON fields of an open object. */
void lec_control_json(lec_control *c, lec_jw *w);
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
