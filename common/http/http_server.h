/*
 * The HTTP/1.1 server: a shell on one libuv loop that moves bytes between
 * sockets and the request reader (http_parse.h), routes (http_router.h) and
 * writes responses.  Keep-alive, pipelining (one request at a time per
 * connection: reading pauses while a request is handled), a slow-client
 * timer from the first byte of a request, an idle timer between requests,
 * "100 Continue", CORS on every response and generic OPTIONS/preflight.
 *
 * Handlers may answer at once or later (a media worker answers a WHIP offer
 * asynchronously): they own the exchange until lec_http_ex_finish.  If the
 * client goes away first, the exchange is orphaned and finish just frees it.
 * Everything runs on the server's loop thread.
 */
#ifndef LEC_HTTP_SERVER_H
#define LEC_HTTP_SERVER_H

#include "base/addr.h"
#include "base/log.h"
#include "config/config.h"
#include "http/http_parse.h"
#include "http/http_router.h"
#include "metrics/metrics.h"

#include <uv.h>

typedef struct lec_http_server lec_http_server;
typedef struct lec_http_ex lec_http_ex;

/* A route handler: fill ex->resp, then lec_http_ex_finish(ex), now or later. */
typedef void (*lec_http_handler_fn)(lec_http_ex *ex);

struct lec_http_ex {
    lec_http_req *req;
    lec_http_resp resp;
    const lec_http_route *route; /* NULL for responses the server made itself */
    void *ud;                    /* route->ud */
    lec_http_server *server;
    lec_addr peer;
    struct lec_http_conn *conn; /* NULL once orphaned */
    lec_tstamp start;
};

typedef struct lec_http_server_cfg {
    lec_addr listen;
    lec_http_limits limits;
    uint32_t max_connections; /* when reached, the longest idle connection makes room */
    uint32_t max_per_address; /* connections from one client address; 0: no cap */
    const lec_cidrlist *exempt; /* borrowed: addresses without the cap (trusted proxies) */
    lec_tstamp request_timeout;
    lec_tstamp idle_timeout;
    const lec_strlist *cors_origins; /* borrowed; "*" allows any */
    const char *public_url;          /* borrowed; NULL: from Host */
} lec_http_server_cfg;

/* Fills `out` from a node config (borrowing its strings). */
void lec_http_server_cfg_from(lec_http_server_cfg *out, const lec_config *cfg);

/* The router and log are borrowed and must outlive the server.  `wall`
 * gives Date headers.  NULL when out of memory. */
lec_http_server *lec_http_server_new(uv_loop_t *loop, const lec_http_router *router, lec_log *log,
                                     const lec_clock *mono, const lec_clock *wall);

/* Binds and listens.  0, or LEC_ERR_IO with the reason logged (address in
 * use, permission denied). */
int lec_http_server_start(lec_http_server *s, const lec_http_server_cfg *cfg);

/* Applies a new configuration (all but the listen address) from now on. */
void lec_http_server_configure(lec_http_server *s, const lec_http_server_cfg *cfg);

/* The bound port (useful after listening on port 0). */
uint16_t lec_http_server_port(const lec_http_server *s);

/* Stops accepting, closes every connection, orphans exchanges in flight,
 * and frees the server; `done` runs when every handle is closed. */
void lec_http_server_close(lec_http_server *s, void (*done)(void *ud), void *ud);

/* Sends ex->resp (unless the client left) and frees the exchange. */
void lec_http_ex_finish(lec_http_ex *ex);

/* Appends the absolute base URL for Location headers (no trailing slash). */
void lec_http_ex_base_url(const lec_http_ex *ex, lec_sbuf *out);

/* Counts requests (lectern_http_requests_total{route,code}) and their
 * durations in `m`'s slot `slot` (the server's thread).  Optional. */
void lec_http_server_set_metrics(lec_http_server *s, lec_metrics *m, unsigned slot);

/* The server's log, for handlers. */
lec_log *lec_http_server_log(lec_http_server *s);

#endif
