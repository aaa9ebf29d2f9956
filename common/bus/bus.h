/*
 * The control-plane bus: a nats.c connection and the subjects of
 * DESIGN.md section 5.  A shell.
 *
 * Threads: nats.c delivers on its own threads.  Its callbacks only decode
 * (codec.h), wrap the result in an event, post it to the owning loop's
 * queue and return; every handler below runs on that loop.  Publishing and
 * requests are made from the loop and never block on the network: replies
 * come back through a wildcard inbox subscription and match their pending
 * request by token; timeouts are loop timers.
 *
 * Trust (trust/trust.h): every message goes in an Envelope signed by this
 * node; a message is delivered only when its signature and certificate
 * check against cluster.trust_key, it was signed for the subject it came
 * on within LEC_TRUST_WINDOW, and the node it names (header sender,
 * heartbeat node, RelayOpen requester, RelayClose node, RelayOpened
 * source) is its signer; a reply only from the node asked.  Relay keys
 * travel sealed to the requester.  With cluster.insecure nothing is
 * signed or checked (a closed lab).  NATS TLS checks the server's name
 * (nats.tls.server_name, or the first URL's host).
 *
 * Availability: the connection retries forever with a capped, jittered
 * backoff, also when no server answers at start (the node serves alone
 * meanwhile).  Malformed messages and unknown versions are counted and
 * dropped.  The node answers the NATS micro protocol's $SRV.PING, $SRV.INFO
 * and $SRV.STATS (JSON) as service "lectern", so `nats micro ls` finds it.
 */
#ifndef LEC_BUS_BUS_H
#define LEC_BUS_BUS_H

#include "base/log.h"
#include "bus/codec.h"
#include "config/config.h"
#include "sys/msgq.h"

#include <stdatomic.h>
#include <uv.h>

typedef struct lec_bus lec_bus;
typedef struct lec_bus_request lec_bus_request; /* an incoming request to answer */

typedef struct lec_bus_handlers {
    /* Connected (at start or after a reconnect: republish state now) or
     * disconnected. */
    void (*connection)(void *ud, bool connected);
    void (*heartbeat)(void *ud, const lec_msg_header *h, const lec_node_info *hb);
    void (*stream_event)(void *ud, const lec_msg_header *h, const lec_stream_event *ev);
    void *ud;
} lec_bus_handlers;

/* Who serves relay legs on this node (node/cascade.c registers itself):
 * RelayOpen must be answered with lec_bus_reply_relay_opened, now or
 * later.  Without a server, RelayOpen is answered "not found". */
typedef struct lec_bus_relay_server {
    void (*open)(void *ud, lec_bus_request *req, const lec_relay_open *m);
    void (*close)(void *ud, const lec_relay_close *m);
    void *ud;
} lec_bus_relay_server;

/* On the loop's thread; s copied (NULL: none). */
void lec_bus_serve_relay(lec_bus *b, const lec_bus_relay_server *s);

typedef struct lec_bus_stats {
    bool connected;
    uint64_t connects, reconnects, disconnects;
    uint64_t received, published, publish_errors;
    uint64_t dropped_malformed, dropped_version, dropped_slow;
    uint64_t dropped_forged; /* unsigned, a bad signature, or a sender that is not who it says */
    uint64_t dropped_stale;  /* signed too long ago or in the future, or seen already (a replay) */
    uint64_t requests_sent, requests_timed_out, requests_answered;
    char server[128]; /* the URL connected to, or "" */
} lec_bus_stats;

/* Everything but `handlers` is borrowed only during the call. */
lec_bus *lec_bus_new(uv_loop_t *loop, lec_log *log, const lec_clock *mono, const lec_clock *wall,
                     const lec_rand *rand);

/* Connects (retrying in the background when no server answers) and
 * subscribes.  0; LEC_ERR_CONFIG when NATS refuses the options (a creds or
 * TLS file that does not load), with the reason logged; LEC_ERR_NOMEM. */
int lec_bus_start(lec_bus *b, const lec_config *cfg, const lec_bus_handlers *h);

/* Closes the connection and frees the bus; handlers are not called again.
 * On the loop's thread. */
void lec_bus_close(lec_bus *b);
/* Releases nats.c's library-wide resources; once, after every bus closed. */
void lec_bus_library_shutdown(void);

/* Publishes on lectern.v1.node.hb.<region>.<id>.  0, LEC_ERR_CLOSED when
 * not connected (nothing is queued: a stale heartbeat is worthless), or
 * LEC_ERR_IO. */
int lec_bus_publish_heartbeat(lec_bus *b, const lec_node_info *hb);
int lec_bus_publish_stream_event(lec_bus *b, const lec_stream_event *ev);
int lec_bus_publish_relay_close(lec_bus *b, const char *target_node, const lec_relay_close *m);

/* Asks `target_node` to open a relay leg.  `cb` runs on the loop exactly
 * once: status 0 with the reply, LEC_ERR_NOTFOUND (no such node listens:
 * NATS said "no responders" at once), LEC_ERR_TIMEOUT, LEC_ERR_INVAL (the
 * reply was malformed) or LEC_ERR_CLOSED (the bus closed first). */
typedef void (*lec_bus_relay_cb)(void *ud, int status, const lec_relay_opened *reply);
int lec_bus_request_relay_open(lec_bus *b, const char *target_node, const lec_relay_open *m,
                               lec_tstamp timeout, lec_bus_relay_cb cb, void *ud);

/* Pings `target_node`; `cb` gets the round-trip time or an error as above. */
typedef void (*lec_bus_ping_cb)(void *ud, const char *node, int status, lec_tstamp rtt);
int lec_bus_ping(lec_bus *b, const char *target_node, lec_tstamp timeout, lec_bus_ping_cb cb,
                 void *ud);

/* Answers a relay_open request and frees `req`. */
void lec_bus_reply_relay_opened(lec_bus *b, lec_bus_request *req, const lec_relay_opened *m);

void lec_bus_get_stats(lec_bus *b, lec_bus_stats *out);

#endif
