/* The routes every node serves: liveness and readiness probes, the
 * cluster view, and Prometheus metrics. */
#include "node/node.h"
#include "relay/relay.h"
#include "bus/bus.h"
#include "sys/sys.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void write_status(lec_http_ex *ex, int status, const char *what, lec_node *node)
{
    lec_jw w;
    lec_http_resp_json(&ex->resp, status, &w);
    lec_jw_obj_open(&w);
    lec_jw_key(&w, "status");
    lec_jw_str(&w, what);
    lec_jw_key(&w, "node");
    lec_jw_str(&w, node->cfg->node.id);
    lec_jw_key(&w, "role");
    lec_jw_str(&w, lec_role_name(node->cfg->node.role));
    lec_jw_key(&w, "region");
    lec_jw_str(&w, node->cfg->node.region);
    lec_jw_key(&w, "version");
    lec_jw_str(&w, LEC_VERSION);
    lec_jw_obj_close(&w);
    lec_http_resp_json_done(&ex->resp);
}

/* Alive: the loop answers.  Load balancers restart a node that fails this. */
static void healthz(lec_http_ex *ex)
{
    write_status(ex, 200, "ok", ex->ud);
    lec_http_ex_finish(ex);
}

/* Ready: takes new sessions.  503 while draining, so that DNS health checks
 * and steering send nobody new here. */
static void readyz(lec_http_ex *ex)
{
    lec_node *node = ex->ud;
    if (lec_node_ready(node)) {
        write_status(ex, 200, "ready", node);
    } else {
        write_status(ex, 503, node->draining ? "draining" : "starting", node);
        lec_http_resp_header(&ex->resp, "Retry-After", "5");
    }
    lec_http_ex_finish(ex);
}

/* auth.private_status: the cluster's view and the metrics (addresses,
 * load, audience per stream) only for an admin bearer token. */
static bool status_refused(lec_node *node, lec_http_ex *ex)
{
    return node->cfg->auth.private_status && lec_node_admin_refused(node, ex);
}

/* The cluster as this node sees it: nodes, streams, RTTs, bus state. */
static void cluster(lec_http_ex *ex)
{
    lec_node *node = ex->ud;
    if (status_refused(node, ex))
        return;
    lec_jw w;
    lec_http_resp_json(&ex->resp, 200, &w);
    lec_jw_obj_open(&w);
    if (node->control)
        lec_control_json(node->control, &w);
    lec_jw_obj_close(&w);
    lec_http_resp_json_done(&ex->resp);
    lec_http_ex_finish(ex);
}

/* Values known only at scrape time, set into the main loop's metrics slot. */
static void collect(lec_node *node)
{
    lec_metrics *m = &node->metrics;
    lec_metric_set(m, 0, node->m.draining, node->draining);
    lec_metric_set(m, 0, node->m.egress_capacity,
                   (int64_t)node->cfg->limits.max_egress_mbps * 1000000 / 8);
    lec_metric_set(m, 0, node->m.viewers_capacity, node->cfg->limits.max_viewers);
    if (node->media) {
        unsigned pubs, viewers;
        lec_media_counts(node->media, &pubs, &viewers);
        lec_metric_set(m, 0, node->m.publishers, pubs);
        lec_metric_set(m, 0, node->m.viewers, viewers);
        uint32_t in, out;
        lec_media_leg_counts(node->media, &in, &out);
        lec_metric_set(m, 0, node->m.relay_legs[0], in);
        lec_metric_set(m, 0, node->m.relay_legs[1], out);
        uint64_t pp, pd;
        unsigned shards;
        lec_media_pipe_stats(node->media, &pp, &pd, &shards);
        lec_metric_set(m, 0, node->m.pipe_packets, (int64_t)pp);
        lec_metric_set(m, 0, node->m.pipe_dropped, (int64_t)pd);
        lec_metric_set(m, 0, node->m.shards, shards);
        lec_relay_stats rs;
        if (lec_media_relay_stats(node->media, &rs)) {
            lec_metric_set(m, 0, node->m.relay_datagrams[0], (int64_t)rs.rx);
            lec_metric_set(m, 0, node->m.relay_datagrams[1], (int64_t)rs.tx);
            lec_metric_set(m, 0, node->m.relay_dropped, (int64_t)(rs.rx_dropped + rs.tx_errors));
        }
    }
    lec_metric_set(m, 0, node->m.uptime,
                   (int64_t)((lec_clock_now(node->clock) - node->started_at) / LEC_S));
    if (!node->control)
        return;
    const lec_cluster *v = lec_control_view(node->control);
    int64_t origins = 0, edges = 0;
    for (size_t i = 0; i < v->n; i++) {
        origins += v->nodes[i].info.role == LEC_ROLE_ORIGIN;
        edges += v->nodes[i].info.role == LEC_ROLE_EDGE;
    }
    lec_metric_set(m, 0, node->m.cluster_nodes[0], origins);
    lec_metric_set(m, 0, node->m.cluster_nodes[1], edges);
    lec_bus_stats st;
    if (lec_control_bus_stats(node->control, &st)) {
        lec_metric_set(m, 0, node->m.nats_connected, st.connected);
        lec_metric_set(m, 0, node->m.nats_reconnects, (int64_t)st.reconnects);
        lec_metric_set(m, 0, node->m.nats_dropped[0], (int64_t)st.dropped_malformed);
        lec_metric_set(m, 0, node->m.nats_dropped[1], (int64_t)st.dropped_version);
        lec_metric_set(m, 0, node->m.nats_dropped[2], (int64_t)st.dropped_slow);
        lec_metric_set(m, 0, node->m.nats_dropped[3], (int64_t)st.dropped_forged);
        lec_metric_set(m, 0, node->m.nats_dropped[4], (int64_t)st.dropped_stale);
    }
}

/* The process_* metrics every Prometheus client exports, from /proc. */
static void process_metrics(lec_sbuf *out)
{
    long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/stat", "r");
    if (f) {
        char buf[1024];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        /* The fields after the command name, which may hold spaces. */
        char *p = strrchr(buf, ')');
        unsigned long utime = 0, stime = 0, vsize = 0;
        long rss = 0;
        if (p && tck > 0 &&
            sscanf(p + 2,
                   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d "
                   "%*u %lu %ld",
                   &utime, &stime, &vsize, &rss) == 4)
            lec_sbuf_printf(out,
                            "# HELP process_cpu_seconds_total User and system CPU time.\n"
                            "# TYPE process_cpu_seconds_total counter\n"
                            "process_cpu_seconds_total %.2f\n"
                            "# HELP process_resident_memory_bytes Resident memory size.\n"
                            "# TYPE process_resident_memory_bytes gauge\n"
                            "process_resident_memory_bytes %ld\n"
                            "# HELP process_virtual_memory_bytes Virtual memory size.\n"
                            "# TYPE process_virtual_memory_bytes gauge\n"
                            "process_virtual_memory_bytes %lu\n",
                            (double)(utime + stime) / (double)tck, rss * page, vsize);
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        int fds = 0;
        struct dirent *e;
        while ((e = readdir(d)))
            fds += e->d_name[0] != '.';
        closedir(d);
        lec_sbuf_printf(out,
                        "# HELP process_open_fds Open file descriptors.\n"
                        "# TYPE process_open_fds gauge\n"
                        "process_open_fds %d\n",
                        fds - 1 /* the one opendir held */);
    }
    long maxfds = sysconf(_SC_OPEN_MAX);
    if (maxfds > 0)
        lec_sbuf_printf(out,
                        "# HELP process_max_fds Limit of open file descriptors.\n"
                        "# TYPE process_max_fds gauge\n"
                        "process_max_fds %ld\n",
                        maxfds);
}

static void metrics(lec_http_ex *ex)
{
    lec_node *node = ex->ud;
    if (status_refused(node, ex))
        return;
    collect(node);
    ex->resp.status = 200;
    snprintf(ex->resp.content_type, sizeof ex->resp.content_type,
             "text/plain; version=0.0.4; charset=utf-8");
    lec_metrics_render(&node->metrics, &ex->resp.body);
    process_metrics(&ex->resp.body);
    if (node->control)
        lec_control_metrics(node->control, &ex->resp.body);
    lec_http_resp_header(&ex->resp, "Cache-Control", "no-store");
    lec_http_ex_finish(ex);
}

/* POST /v1/admin/drain: stop taking sessions (steering and DNS move
 * viewers away); DELETE: take them again.  Bearer token from
 * auth.admin_tokens_file; no file, no admin API. */
static void admin_drain(lec_http_ex *ex)
{
    lec_node *node = ex->ud;
    if (lec_node_admin_refused(node, ex))
        return;
    if (node->stopping) {
        lec_http_resp_error(&ex->resp, 409, "the node is stopping");
    } else {
        lec_node_set_draining(node, ex->req->method == LEC_HTTP_POST);
        lec_jw w;
        lec_http_resp_json(&ex->resp, 200, &w);
        lec_jw_obj_open(&w);
        lec_jw_key(&w, "draining");
        lec_jw_bool(&w, node->draining);
        lec_jw_obj_close(&w);
        lec_sbuf_putc(&ex->resp.body, '\n');
    }
    lec_http_ex_finish(ex);
}

int lec__node_add_builtin_routes(lec_node *node)
{
    int rc = lec_node_route(node, "healthz", LEC_HTTP_GET, "/healthz", healthz, node);
    if (!rc)
        rc = lec_node_route(node, "readyz", LEC_HTTP_GET, "/readyz", readyz, node);
    if (!rc)
        rc = lec_node_route(node, "cluster", LEC_HTTP_GET, "/v1/cluster", cluster, node);
    if (!rc)
        rc = lec_node_route(node, "metrics", LEC_HTTP_GET, "/metrics", metrics, node);
    if (!rc)
        rc = lec_node_route(node, "admin_drain", LEC_HTTP_POST | LEC_HTTP_DELETE, "/v1/admin/drain",
                            admin_drain, node);
    return rc;
}
