/*
 * HTTP server shell (http_server.h).
 *
 * A connection is in one of four states:
 *   READING   the reader is fed; the timer is the idle timeout until the
 *             first byte of a request, then the request timeout (a slow
 *             client that trickles headers is cut off with 408);
 *   HANDLING  a handler owns the exchange; reading is paused, and bytes
 *             that were already read (pipelined) wait in `pending`;
 *   WRITING   the response is being written; the timer bounds it;
 *   CLOSING   handles are closing; the conn is freed when both are closed.
 */
#include "http/http_server.h"
#include "base/err.h"
#include "http/client_ip.h"
#include "sys/sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum conn_state { C_READING, C_HANDLING, C_WRITING, C_CLOSING } conn_state;

typedef struct lec_http_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    lec_http_server *srv;
    lec_http_reader *reader;
    lec_sbuf pending;
    lec_http_ex *ex;
    conn_state state;
    bool keep_alive;    /* after the response being written */
    bool reading;       /* uv_read_start is in effect */
    bool timer_request; /* the timer runs the request timeout */
    bool must_close;    /* the request was rejected: close after answering */
    int open_handles;
    lec_tstamp idle_since; /* waiting for a request's first byte since; 0: busy */
    lec_addr peer;
    struct lec_http_conn *prev, *next;
} lec_http_conn;

struct lec_http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    bool listening;
    bool closing;
    const lec_http_router *router;
    lec_log *log;
    const lec_clock *mono, *wall;
    lec_http_server_cfg cfg;
    lec_http_conn *conns;
    uint32_t nconns;
    int pending_closes;
    void (*done)(void *ud);
    void *done_ud;
    lec_metrics *metrics;
    unsigned slot;
    lec_metric refused_address, refused_full, evicted_idle;
    lec_tstamp warned; /* the last connection-limit warning (one a second at most) */
    char readbuf[64 * 1024];
};

typedef struct write_req {
    uv_write_t req;
    lec_http_conn *conn; /* NULL for writes that need no completion work */
    char *data;
} write_req;

#define MOD "http"

static void conn_close(lec_http_conn *c);
static void conn_process(lec_http_conn *c, const char *data, size_t len);
static void conn_read_start(lec_http_conn *c);

/* ---- configuration ---------------------------------------------------- */

void lec_http_server_cfg_from(lec_http_server_cfg *out, const lec_config *cfg)
{
    memset(out, 0, sizeof *out);
    out->listen = cfg->http.listen;
    out->limits.max_header_bytes = cfg->http.max_header_bytes;
    out->limits.max_body_bytes = cfg->http.max_body_bytes;
    out->max_connections = cfg->http.max_connections;
    out->max_per_address = cfg->http.max_connections_per_address;
    out->exempt = &cfg->http.trusted_proxies;
    out->request_timeout = cfg->http.request_timeout;
    out->idle_timeout = cfg->http.idle_timeout;
    out->cors_origins = &cfg->http.cors_origins;
    out->public_url = cfg->http.public_url;
}

lec_http_server *lec_http_server_new(uv_loop_t *loop, const lec_http_router *router, lec_log *log,
                                     const lec_clock *mono, const lec_clock *wall)
{
    lec_http_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->loop = loop;
    s->router = router;
    s->log = log;
    s->mono = mono;
    s->wall = wall;
    return s;
}

void lec_http_server_configure(lec_http_server *s, const lec_http_server_cfg *cfg)
{
    lec_addr keep = s->cfg.listen;
    s->cfg = *cfg;
    if (s->listening)
        s->cfg.listen = keep;
}

lec_log *lec_http_server_log(lec_http_server *s)
{
    return s->log;
}

void lec_http_server_set_metrics(lec_http_server *s, lec_metrics *m, unsigned slot)
{
    s->metrics = m;
    s->slot = slot;
    s->refused_address = lec_metrics_counter(m, LEC_METRICS_REFUSED,
                                             "reason=\"connections_per_address\"",
                                             LEC_METRICS_REFUSED_HELP);
    s->refused_full = lec_metrics_counter(m, LEC_METRICS_REFUSED, "reason=\"connections_full\"",
                                          LEC_METRICS_REFUSED_HELP);
    s->evicted_idle = lec_metrics_counter(m, LEC_METRICS_REFUSED,
                                          "reason=\"idle_connection_evicted\"",
                                          LEC_METRICS_REFUSED_HELP);
}

/* Routes and status codes are bounded sets, so these labels are too. */
static void count_request(lec_http_server *s, const lec_http_ex *ex)
{
    if (!s->metrics)
        return;
    char labels[96];
    const char *route = ex->route ? ex->route->name : "unmatched";
    snprintf(labels, sizeof labels, "route=\"%s\",code=\"%d\"", route, ex->resp.status);
    lec_metric_add(s->metrics, s->slot,
                   lec_metrics_counter(s->metrics, "lectern_http_requests_total", labels,
                                       "HTTP requests answered, by route and status code"),
                   1);
    snprintf(labels, sizeof labels, "route=\"%s\"", route);
    lec_metric_observe(s->metrics, s->slot,
                       lec_metrics_histogram(s->metrics, "lectern_http_request_duration_seconds",
                                             labels, "Time from a complete request to its answer",
                                             lec_metrics_duration_buckets,
                                             lec_metrics_duration_nbuckets, 1e9),
                       lec_clock_now(s->mono) - ex->start);
}

uint16_t lec_http_server_port(const lec_http_server *s)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    lec_addr a;
    if (!s->listening || uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len) ||
        lec_sys_addr_from_sockaddr((struct sockaddr *)&ss, &a))
        return 0;
    return a.port;
}

/* ---- CORS ------------------------------------------------------------- */

/* The Access-Control-Allow-Origin value for this request, or NULL. */
static const char *cors_allow(const lec_http_server *s, const lec_http_req *req)
{
    const char *origin = lec_http_req_header(req, "origin");
    if (!origin || !s->cfg.cors_origins)
        return NULL;
    for (size_t i = 0; i < s->cfg.cors_origins->n; i++) {
        const char *o = s->cfg.cors_origins->v[i];
        if (!strcmp(o, "*"))
            return "*";
        if (!strcasecmp(o, origin))
            return origin;
    }
    return NULL;
}

static void add_cors(lec_http_ex *ex)
{
    const char *allow = cors_allow(ex->server, ex->req);
    if (!allow || lec_http_resp_has_header(&ex->resp, "Access-Control-Allow-Origin"))
        return;
    lec_http_resp_header(&ex->resp, "Access-Control-Allow-Origin", "%s", allow);
    if (strcmp(allow, "*"))
        lec_http_resp_header(&ex->resp, "Vary", "Origin");
    lec_http_resp_header(&ex->resp, "Access-Control-Expose-Headers",
                         "Location, ETag, Link, Accept-Patch, Accept-Post, Retry-After, Allow");
}

/* A header list we are willing to echo in Access-Control-Allow-Headers. */
static bool token_list(const char *s)
{
    if (strlen(s) > 512)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == ',' || *s == ' '))
            return false;
    return true;
}

/* OPTIONS on a path with routes: 204 with Allow, plus preflight answers. */
static void answer_options(lec_http_ex *ex, unsigned allowed)
{
    lec_http_resp *r = &ex->resp;
    r->status = 204;
    lec_sbuf methods;
    lec_sbuf_init(&methods, NULL);
    lec_http_methods_format(allowed | LEC_HTTP_OPTIONS, &methods);
    lec_http_resp_header(r, "Allow", "%s", methods.data);
    for (size_t i = 0; i < ex->server->router->n; i++) {
        const lec_http_route *rt = &ex->server->router->routes[i];
        if (rt->options_headers && lec_http_route_matches(rt, ex->req->path)) {
            lec_sbuf_puts(&r->headers, rt->options_headers);
            break;
        }
    }
    if (cors_allow(ex->server, ex->req) &&
        lec_http_req_header(ex->req, "access-control-request-method")) {
        lec_http_resp_header(r, "Access-Control-Allow-Methods", "%s", methods.data);
        const char *rh = lec_http_req_header(ex->req, "access-control-request-headers");
        lec_http_resp_header(r, "Access-Control-Allow-Headers", "%s",
                             rh && token_list(rh) ? rh : "Authorization, Content-Type, If-Match");
        lec_http_resp_header(r, "Access-Control-Max-Age", "86400");
    }
    lec_sbuf_free(&methods);
}

/* ---- exchanges -------------------------------------------------------- */

static void after_write(uv_write_t *w, int status)
{
    write_req *wr = (write_req *)w;
    lec_http_conn *c = wr->conn;
    free(wr->data);
    free(wr);
    if (!c || c->state == C_CLOSING)
        return;
    if (status < 0 || !c->keep_alive || c->srv->closing) {
        conn_close(c);
        return;
    }
    /* Ready for the next request; run what the client already sent. */
    c->state = C_READING;
    lec_http_reader_reset(c->reader);
    c->timer_request = false;
    conn_read_start(c);
    if (c->pending.len) {
        size_t n;
        char *p = lec_sbuf_steal(&c->pending, &n);
        conn_process(c, p, n);
        free(p);
    }
}

static int conn_write(lec_http_conn *c, char *data, size_t len, bool track)
{
    write_req *wr = malloc(sizeof *wr);
    if (!wr) {
        free(data);
        return LEC_ERR_NOMEM;
    }
    wr->conn = track ? c : NULL;
    wr->data = data;
    uv_buf_t b = uv_buf_init(data, (unsigned)len);
    int rc = uv_write(&wr->req, (uv_stream_t *)&c->tcp, &b, 1, after_write);
    if (rc) {
        free(data);
        free(wr);
        return LEC_ERR_IO;
    }
    return 0;
}

static void on_timer(uv_timer_t *t);

static void ex_free(lec_http_ex *ex)
{
    lec_http_resp_free(&ex->resp);
    free(ex);
}

void lec_http_ex_finish(lec_http_ex *ex)
{
    lec_http_conn *c = ex->conn;
    if (!c) { /* the client left while we worked */
        ex_free(ex);
        return;
    }
    lec_http_server *s = c->srv;
    add_cors(ex);
    c->ex = NULL;
    c->keep_alive = ex->req->keep_alive && !c->must_close && !s->closing;
    char date[40];
    lec_http_date(lec_clock_now(s->wall), date, sizeof date);
    lec_sbuf out;
    lec_sbuf_init(&out, NULL);
    lec_http_resp_serialize(&ex->resp, c->keep_alive, ex->req->method == LEC_HTTP_HEAD, date, &out);
    if (lec_log_enabled(s->log, LEC_LOG_DEBUG)) {
        char peer[LEC_ADDR_STRLEN];
        LEC_DEBUG(s->log, MOD, "%s %s %s -> %d (%.1f ms)",
                  lec_addr_format(&c->peer, peer, sizeof peer), ex->req->method_name, ex->req->path,
                  ex->resp.status, (double)(lec_clock_now(s->mono) - ex->start) / 1e6);
    }
    count_request(s, ex);
    if (ex->route && ex->route->answered)
        ex->route->answered(ex->route->ud, ex->resp.status);
    ex_free(ex);
    if (out.oom) {
        lec_sbuf_free(&out);
        conn_close(c);
        return;
    }
    size_t n;
    char *data = lec_sbuf_steal(&out, &n);
    c->state = C_WRITING;
    c->timer_request = true;
    uv_timer_start(&c->timer, on_timer, (s->cfg.request_timeout + LEC_MS - 1) / LEC_MS, 0);
    if (conn_write(c, data, n, true))
        conn_close(c);
}

void lec_http_ex_base_url(const lec_http_ex *ex, lec_sbuf *out)
{
    char host[LEC_ADDR_STRLEN];
    lec_addr a = ex->server->cfg.listen;
    if (lec_ip_is_any(&a.ip))
        lec_ip_parse("127.0.0.1", &a.ip);
    a.port = lec_http_server_port(ex->server);
    lec_http_base_url(ex->server->cfg.public_url, ex->req, lec_addr_format(&a, host, sizeof host),
                      out);
}

static lec_http_ex *ex_new(lec_http_conn *c, lec_http_req *req)
{
    lec_http_ex *ex = calloc(1, sizeof *ex);
    if (!ex)
        return NULL;
    ex->req = req;
    lec_http_resp_init(&ex->resp);
    ex->server = c->srv;
    ex->peer = c->peer;
    ex->conn = c;
    ex->start = lec_clock_now(c->srv->mono);
    c->ex = ex;
    return ex;
}

static void dispatch(lec_http_conn *c)
{
    lec_http_server *s = c->srv;
    lec_http_req *req = lec_http_reader_request(c->reader);
    lec_http_ex *ex = ex_new(c, req);
    if (!ex) {
        conn_close(c);
        return;
    }
    c->state = C_HANDLING;
    uv_timer_stop(&c->timer);
    if (req->method == LEC_HTTP_OTHER) {
        lec_http_resp_error(&ex->resp, 501, "method %s is not implemented", req->method_name);
        lec_http_ex_finish(ex);
        return;
    }
    const lec_http_route *rt = NULL;
    unsigned allowed = 0;
    int rc = lec_http_router_match(s->router, req, &rt, &allowed);
    if (rc == 0) {
        ex->route = rt;
        ex->ud = rt->ud;
        ((lec_http_handler_fn)rt->handler)(ex);
        return;
    }
    if (rc == LEC_ERR_UNSUPPORTED && req->method == LEC_HTTP_OPTIONS) {
        answer_options(ex, allowed);
    } else if (rc == LEC_ERR_UNSUPPORTED) {
        lec_sbuf m;
        lec_sbuf_init(&m, NULL);
        lec_http_methods_format(allowed | LEC_HTTP_OPTIONS, &m);
        lec_http_resp_error(&ex->resp, 405, "%s is not allowed here", req->method_name);
        lec_http_resp_header(&ex->resp, "Allow", "%s", m.data);
        lec_sbuf_free(&m);
    } else if (rc == LEC_ERR_INVAL) {
        lec_http_resp_error(&ex->resp, 400, "badly encoded path");
    } else {
        lec_http_resp_error(&ex->resp, 404, "no such resource");
    }
    lec_http_ex_finish(ex);
}

/* An error from the reader: answer and close. */
static void reject(lec_http_conn *c, int status, const char *reason)
{
    static lec_http_req empty = {
        .method = LEC_HTTP_GET, .method_name = "-", .path = "-", .query = ""};
    lec_http_ex *ex = ex_new(c, &empty);
    if (!ex) {
        conn_close(c);
        return;
    }
    c->state = C_HANDLING;
    c->must_close = true;
    uv_timer_stop(&c->timer);
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
    lec_http_resp_error(&ex->resp, status, "%s", reason);
    LEC_DEBUG(c->srv->log, MOD, "rejecting a request: %d %s", status, reason);
    lec_http_ex_finish(ex);
}

/* ---- connections ------------------------------------------------------ */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    lec_http_conn *c = h->data;
    buf->base = c->srv->readbuf;
    buf->len = sizeof c->srv->readbuf;
}

static void conn_process(lec_http_conn *c, const char *data, size_t len)
{
    while (len > 0 && c->state != C_CLOSING) {
        if (c->state != C_READING) { /* pipelined: keep for later */
            lec_sbuf_append(&c->pending, data, len);
            if (c->pending.oom || c->pending.len > c->srv->cfg.limits.max_header_bytes +
                                                       c->srv->cfg.limits.max_body_bytes)
                conn_close(c);
            return;
        }
        bool was_started = lec_http_reader_started(c->reader);
        size_t used = 0;
        int rc = lec_http_reader_feed(c->reader, (const uint8_t *)data, len, &used);
        data += used;
        len -= used;
        if (!was_started && lec_http_reader_started(c->reader)) {
            c->timer_request = true;
            uv_timer_start(&c->timer, on_timer, (c->srv->cfg.request_timeout + LEC_MS - 1) / LEC_MS,
                           0);
        }
        if (lec_http_reader_wants_continue(c->reader)) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            char *d = malloc(sizeof cont - 1);
            if (d) {
                memcpy(d, cont, sizeof cont - 1);
                conn_write(c, d, sizeof cont - 1, false);
            }
        }
        if (rc == LEC_HTTP_DONE) {
            if (c->reading) {
                uv_read_stop((uv_stream_t *)&c->tcp);
                c->reading = false;
            }
            if (len) { /* bytes of the next request */
                lec_sbuf_append(&c->pending, data, len);
                len = 0;
            }
            dispatch(c);
            return;
        }
        if (rc == LEC_ERR_NOMEM) {
            conn_close(c);
            return;
        }
        if (rc < 0) {
            reject(c, lec_http_reader_status(c->reader), lec_http_reader_reason(c->reader));
            return;
        }
    }
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    lec_http_conn *c = st->data;
    if (nread < 0) { /* EOF or error: nothing more will come */
        conn_close(c);
        return;
    }
    conn_process(c, buf->base, (size_t)nread);
}

static void conn_read_start(lec_http_conn *c)
{
    if (c->reading || c->state == C_CLOSING)
        return;
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
        c->reading = true;
    if (!c->timer_request && !c->pending.len)
        c->idle_since = lec_clock_now(c->srv->mono);
    if (!c->timer_request)
        uv_timer_start(&c->timer, on_timer, (c->srv->cfg.idle_timeout + LEC_MS - 1) / LEC_MS, 0);
}

static void on_timer(uv_timer_t *t)
{
    lec_http_conn *c = t->data;
    if (c->state == C_READING && c->timer_request) {
        char peer[LEC_ADDR_STRLEN];
        LEC_INFO(c->srv->log, MOD, "%s: request not complete in time; closing",
                 lec_addr_format(&c->peer, peer, sizeof peer));
        reject(c, 408, "request not received in time");
        return;
    }
    conn_close(c); /* idle keep-alive, or a client that does not read */
}

static void server_maybe_done(lec_http_server *s)
{
    if (!s->closing || s->pending_closes || s->conns)
        return;
    void (*done)(void *) = s->done;
    void *ud = s->done_ud;
    free(s);
    if (done)
        done(ud);
}

static void on_conn_closed(uv_handle_t *h)
{
    lec_http_conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    lec_http_server *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    lec_http_reader_del(c->reader);
    lec_sbuf_free(&c->pending);
    free(c);
    server_maybe_done(s);
}

static void conn_close(lec_http_conn *c)
{
    if (c->state == C_CLOSING)
        return;
    c->state = C_CLOSING;
    if (c->ex) { /* a handler still works on it: orphan the exchange */
        c->ex->conn = NULL;
        c->ex = NULL;
    }
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

static void on_reject_closed(uv_handle_t *h)
{
    lec_http_server *s = h->data;
    free(h);
    s->pending_closes--;
    server_maybe_done(s);
}

static void count(lec_http_server *s, lec_metric id)
{
    if (s->metrics)
        lec_metric_add(s->metrics, s->slot, id, 1);
}

/* A refused or evicted connection: counted always, logged once a second. */
static void warn_limit(lec_http_server *s, const lec_addr *peer, const char *what)
{
    lec_tstamp now = lec_clock_now(s->mono);
    if (s->warned && now - s->warned < LEC_S)
        return;
    s->warned = now;
    char a[LEC_ADDR_STRLEN];
    LEC_WARN(s->log, MOD, "%s (%s); more are counted in lectern_refused_total", what,
             peer ? lec_addr_format(peer, a, sizeof a) : "-");
}

/* At max_connections: the connection idle the longest (waiting for a
 * request's first byte, nothing pending) makes room.  False when every
 * connection is busy. */
static bool evict_idle(lec_http_server *s)
{
    lec_http_conn *oldest = NULL;
    for (lec_http_conn *c = s->conns; c; c = c->next)
        if (c->state == C_READING && c->idle_since && !c->timer_request && !c->pending.len &&
            (!oldest || c->idle_since < oldest->idle_since))
            oldest = c;
    if (!oldest)
        return false;
    count(s, s->evicted_idle);
    warn_limit(s, &oldest->peer, "connection limit reached: closing the longest idle connection");
    conn_close(oldest);
    return true;
}

/* Connections open from the address of c (itself excluded). */
static uint32_t from_same_address(const lec_http_server *s, const lec_http_conn *c)
{
    uint32_t n = 0;
    for (const lec_http_conn *o = s->conns; o; o = o->next)
        if (o != c && o->state != C_CLOSING && lec_ip_equal(&o->peer.ip, &c->peer.ip))
            n++;
    return n;
}

static void refuse(lec_http_server *s, uv_stream_t *ls)
{
    uv_tcp_t *t = malloc(sizeof *t);
    if (!t || uv_tcp_init(s->loop, t)) {
        free(t);
        return;
    }
    t->data = s;
    s->pending_closes++;
    if (uv_accept(ls, (uv_stream_t *)t) == 0) {
        count(s, s->refused_full);
        warn_limit(s, NULL, "connection limit reached and every connection busy: refusing one");
    }
    uv_close((uv_handle_t *)t, on_reject_closed);
}

/* A new connection.  At max_connections (counting those still closing)
 * the longest idle one makes room; when all are busy it is refused.  One
 * address (not a trusted proxy) keeps at most max_per_address. */
static void on_connection(uv_stream_t *ls, int status)
{
    lec_http_server *s = ls->data;
    if (status < 0 || s->closing)
        return;
    if (s->nconns >= s->cfg.max_connections && !evict_idle(s)) {
        refuse(s, ls);
        return;
    }
    lec_http_conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->srv = s;
    c->reader = lec_http_reader_new(NULL, &s->cfg.limits);
    lec_sbuf_init(&c->pending, NULL);
    if (!c->reader || uv_tcp_init(s->loop, &c->tcp)) {
        lec_http_reader_del(c->reader);
        free(c);
        return;
    }
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->open_handles = 2;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    if (uv_accept(ls, (uv_stream_t *)&c->tcp)) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (!uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len))
        lec_sys_addr_from_sockaddr((struct sockaddr *)&ss, &c->peer);
    const lec_cidrlist *ex = s->cfg.exempt;
    if (s->cfg.max_per_address && !(ex && lec_http_ip_in(&c->peer.ip, ex->v, ex->n)) &&
        from_same_address(s, c) >= s->cfg.max_per_address) {
        count(s, s->refused_address);
        warn_limit(s, &c->peer, "too many connections from one address: refusing one");
        conn_close(c);
        return;
    }
    c->state = C_READING;
    conn_read_start(c);
}

int lec_http_server_start(lec_http_server *s, const lec_http_server_cfg *cfg)
{
    s->cfg = *cfg;
    struct sockaddr_storage ss;
    char where[LEC_ADDR_STRLEN];
    lec_addr_format(&cfg->listen, where, sizeof where);
    if (!lec_sys_sockaddr_from_addr(&cfg->listen, &ss))
        return LEC_ERR_INVAL;
    int rc = uv_tcp_init(s->loop, &s->listener);
    if (rc)
        return LEC_ERR_IO;
    s->listener.data = s;
    s->listening = true;
    rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0);
    if (!rc)
        rc = uv_listen((uv_stream_t *)&s->listener, 511, on_connection);
    if (rc) {
        LEC_ERROR(s->log, MOD, "cannot listen on %s: %s", where, uv_strerror(rc));
        return LEC_ERR_IO;
    }
    LEC_INFO(s->log, MOD, "listening on %s", where);
    return 0;
}

static void on_listener_closed(uv_handle_t *h)
{
    lec_http_server *s = h->data;
    s->pending_closes--;
    server_maybe_done(s);
}

void lec_http_server_close(lec_http_server *s, void (*done)(void *ud), void *ud)
{
    s->closing = true;
    s->done = done;
    s->done_ud = ud;
    if (s->listening) {
        s->pending_closes++;
        uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    }
    for (lec_http_conn *c = s->conns; c; c = c->next)
        conn_close(c);
    server_maybe_done(s);
}
