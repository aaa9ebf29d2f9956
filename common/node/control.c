/*
 * The control plane of a node (control.h): glue between the node, its
 * cluster view and the bus, all on the node's main loop.
 */
#include "node/control.h"
#include "cluster/allow.h"
#include "cluster/audience.h"
#include "base/err.h"
#include "bus/bus.h"
#include "node/node.h"
#include "sys/sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD          "cluster"
#define HEARTBEAT_MS 1000
#define PING_MS      2000
#define EXPIRE_MS    250 /* a dead node leaves within EXPIRY + this */
#define PING_TIMEOUT (1500 * LEC_MS)
#define EXPIRY       (3 * LEC_S)

struct lec_control {
    lec_node *node;
    lec_cluster view;
    lec_bus *bus;
    uv_timer_t hb_timer, ping_timer, expire_timer;
    int open_handles;
    uint64_t boot_id;
    uint64_t seq;
    uint64_t started_unix_ms;
    lec_ratelimit dup_log;
    uint64_t duplicates;
    lec_tstamp last_welcome;
    lec_cluster_held held[256];
    lec_control_media media; /* the media plane's hooks (node.c) */
    bool closing;
};

const lec_cluster *lec_control_view(const lec_control *c)
{
    return &c->view;
}

static lec_tstamp now(const lec_control *c)
{
    return lec_clock_now(c->node->clock); /* the node's: nothing here reads a clock */
}

/* host:port for others to reach `a`; an unspecified address becomes
 * loopback (set http.public_url / relay.public_addr in a real cluster). */
static void reachable(const lec_addr *a, char *out, size_t cap)
{
    lec_addr r = *a;
    if (lec_ip_is_any(&r.ip))
        lec_ip_parse(r.ip.family == 6 ? "::1" : "127.0.0.1", &r.ip);
    lec_addr_format(&r, out, cap);
}

static void relay_addr(const lec_control_media *media, const lec_config *cfg, char *out,
                       size_t cap)
{
    lec_addr bound;
    if (cfg->relay.public_addr.ip.family)
        reachable(&cfg->relay.public_addr, out, cap);
    else if (media && media->relay_addr && media->relay_addr(media->ud, &bound))
        reachable(&bound, out, cap);
    else
        reachable(&cfg->relay.listen, out, cap);
}

void lec_control_relay_addr(lec_node *node, char *out, size_t cap)
{
    relay_addr(node->control ? &node->control->media : NULL, node->cfg, out, cap);
}

struct lec_bus *lec_control_bus(lec_control *c)
{
    return c && !c->closing ? c->bus : NULL;
}

/* This node's heartbeat, from its config and state.  rtts points into
 * `rtt_store`, which the caller provides with room for the view's nodes. */
static void self_info(lec_control *c, lec_node_info *i, lec_cluster_rtt *rtt_store, size_t cap)
{
    const lec_config *cfg = c->node->cfg;
    memset(i, 0, sizeof *i);
    snprintf(i->id, sizeof i->id, "%s", cfg->node.id);
    i->role = cfg->node.role;
    snprintf(i->region, sizeof i->region, "%s", cfg->node.region);
    i->lat = cfg->node.location.lat;
    i->lon = cfg->node.location.lon;
    if (cfg->http.public_url) {
        snprintf(i->http_url, sizeof i->http_url, "%s", cfg->http.public_url);
    } else {
        char hp[LEC_ADDR_STRLEN];
        lec_addr a = cfg->http.listen;
        if (c->node->http)
            a.port = lec_http_server_port(c->node->http);
        reachable(&a, hp, sizeof hp);
        snprintf(i->http_url, sizeof i->http_url, "http://%s", hp);
    }
    relay_addr(&c->media, cfg, i->relay_addr, sizeof i->relay_addr);
    snprintf(i->version, sizeof i->version, "%s", LEC_VERSION);
    i->max_viewers = cfg->limits.max_viewers;
    i->max_publishers = cfg->limits.max_publishers;
    i->max_egress_bps = (uint64_t)cfg->limits.max_egress_mbps * 1000000u;
    i->draining = c->node->draining;
    if (c->media.load) {
        i->nstreams = c->media.load(c->media.ud, i, c->held, sizeof c->held / sizeof c->held[0]);
        i->streams = c->held;
    }
    i->seq = ++c->seq;
    i->boot_id = c->boot_id;
    i->started_unix_ms = c->started_unix_ms;
    size_t n = 0;
    for (size_t k = 0; k < c->view.n && n < cap; k++) {
        const lec_cluster_node *p = &c->view.nodes[k];
        if (p->self || !p->srtt_us)
            continue;
        memcpy(rtt_store[n].node_id, p->info.id, LEC_ID_MAX);
        rtt_store[n++].rtt_us = p->srtt_us;
    }
    i->rtts = rtt_store;
    i->nrtts = n;
}

static void on_gone(void *ud, const lec_cluster_node *n)
{
    lec_control *c = ud;
    LEC_INFO(&c->node->log, MOD, "node %s (%s, %s) left: unseen for %.0f s", n->info.id,
             lec_role_name(n->info.role), n->info.region, (double)EXPIRY / 1e9);
}

static void heartbeat(lec_control *c)
{
    size_t cap = c->view.n + 1;
    lec_cluster_rtt *rtts = calloc(cap, sizeof *rtts);
    if (!rtts)
        return;
    lec_node_info self;
    self_info(c, &self, rtts, cap);
    lec_tstamp t = now(c);
    lec_cluster_set_self(&c->view, &self, t);
    if (c->bus)
        lec_bus_publish_heartbeat(c->bus, &self);
    free(rtts);
}

static void on_expire_timer(uv_timer_t *t)
{
    lec_control *c = t->data;
    lec_cluster_expire(&c->view, now(c), on_gone, c);
}

static void on_hb_timer(uv_timer_t *t)
{
    heartbeat(t->data);
}

void lec_control_heartbeat_now(lec_control *c)
{
    if (c && !c->closing)
        heartbeat(c);
}

static void on_pong(void *ud, const char *node, int status, lec_tstamp rtt)
{
    lec_control *c = ud;
    if (status == 0 && !c->closing)
        lec_cluster_rtt_sample(&c->view, node, rtt, now(c));
}

static void on_ping_timer(uv_timer_t *t)
{
    lec_control *c = t->data;
    if (!c->bus)
        return;
    for (size_t i = 0; i < c->view.n; i++)
        if (!c->view.nodes[i].self)
            lec_bus_ping(c->bus, c->view.nodes[i].info.id, PING_TIMEOUT, on_pong, c);
}

/* ---- bus handlers (on the loop) --------------------------------------- */

static void on_connection(void *ud, bool connected)
{
    lec_control *c = ud;
    lec_cluster_freeze(&c->view, !connected, now(c));
    if (connected)
        heartbeat(c); /* republish our full state at once */
}

static void on_heartbeat(void *ud, const lec_msg_header *h, const lec_node_info *hb)
{
    (void)h;
    lec_control *c = ud;
    lec_tstamp t = now(c);
    /* Where it would have viewers and legs sent: only where the config
     * allows (cluster/allow.h). */
    const lec_config *cfg = c->node->cfg;
    if (!lec_allow_url(hb->http_url, cfg->cluster.allowed_url_hosts.v,
                       cfg->cluster.allowed_url_hosts.n) ||
        (hb->relay_addr[0] && !lec_allow_relay_addr(hb->relay_addr, cfg->cluster.allowed_relay_nets.v,
                                                    cfg->cluster.allowed_relay_nets.n))) {
        if (lec_ratelimit_allow(&c->dup_log, t))
            LEC_WARN(&c->node->log, MOD,
                     "node %s advertises a URL or relay address outside "
                     "cluster.allowed_url_hosts / allowed_relay_networks; ignored",
                     hb->id);
        return;
    }
    int r = lec_cluster_heartbeat(&c->view, hb, t);
    if (r == LEC_CLUSTER_JOINED || r == LEC_CLUSTER_RESTARTED) {
        if (r == LEC_CLUSTER_JOINED)
            LEC_INFO(&c->node->log, MOD, "node %s (%s, %s) joined", hb->id, lec_role_name(hb->role),
                     hb->region);
        else
            LEC_INFO(&c->node->log, MOD, "node %s restarted", hb->id);
        /* Answer a newcomer at once so it learns the cluster within a round
         * trip instead of a heartbeat period; at most one extra per 100 ms. */
        if (t - c->last_welcome >= 100 * LEC_MS) {
            c->last_welcome = t;
            heartbeat(c);
        }
    } else if (r == LEC_CLUSTER_DUPLICATE) {
        c->duplicates++;
        if (lec_ratelimit_allow(&c->dup_log, t))
            LEC_ERROR(&c->node->log, MOD,
                      "DUPLICATE NODE ID: two processes call themselves '%s' (boot ids %llx and "
                      "%llx, the second in %s); give every node its own node.id",
                      hb->id, (unsigned long long)c->boot_id, (unsigned long long)hb->boot_id,
                      hb->region);
    } else if (r == LEC_ERR_NOMEM) {
        LEC_ERROR(&c->node->log, MOD, "out of memory for the cluster view");
    }
}

static void on_stream_event(void *ud, const lec_msg_header *h, const lec_stream_event *ev)
{
    (void)h;
    lec_control *c = ud;
    LEC_INFO(&c->node->log, MOD, "stream %s %s on %s", ev->stream,
             ev->type == LEC_STREAM_STARTED ? "started" : "ended", ev->node_id);
    /* The origin's heartbeat saying so may arrive after this event. */
    if (ev->type == LEC_STREAM_STARTED)
        lec_cluster_note_held(&c->view, ev->node_id, ev->stream, 0);
    if (c->media.stream_event)
        c->media.stream_event(c->media.ud, ev);
}

/* ---- lifecycle -------------------------------------------------------- */

lec_control *lec_control_start(lec_node *node, const lec_control_media *media)
{
    lec_control *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->node = node;
    if (media)
        c->media = *media;
    c->boot_id = lec_rand_u64(lec_sys_rand());
    c->started_unix_ms = lec_clock_now(lec_sys_wall_clock()) / LEC_MS;
    lec_ratelimit_init(&c->dup_log, 10 * LEC_S, 1);
    if (lec_cluster_init(&c->view, NULL, node->cfg->node.id, c->boot_id, EXPIRY)) {
        free(c);
        return NULL;
    }
    uv_timer_init(node->loop, &c->hb_timer);
    uv_timer_init(node->loop, &c->ping_timer);
    uv_timer_init(node->loop, &c->expire_timer);
    c->hb_timer.data = c->ping_timer.data = c->expire_timer.data = c;
    c->open_handles = 3;
    if (node->cfg->nats.enabled) {
        c->bus = lec_bus_new(node->loop, &node->log, node->clock, lec_sys_wall_clock(),
                             lec_sys_rand());
        lec_bus_handlers h = {
            .connection = on_connection,
            .heartbeat = on_heartbeat,
            .stream_event = on_stream_event,
            .ud = c,
        };
        if (!c->bus || lec_bus_start(c->bus, node->cfg, &h)) {
            lec_control_close(c);
            return NULL;
        }
        uv_timer_start(&c->ping_timer, on_ping_timer, PING_MS, PING_MS);
    }
    heartbeat(c);
    uv_timer_start(&c->hb_timer, on_hb_timer, HEARTBEAT_MS, HEARTBEAT_MS);
    uv_timer_start(&c->expire_timer, on_expire_timer, EXPIRE_MS, EXPIRE_MS);
    return c;
}

static void on_timer_closed(uv_handle_t *h)
{
    lec_control *c = h->data;
    if (--c->open_handles == 0) {
        lec_cluster_free(&c->view);
        free(c);
    }
}

void lec_control_close(lec_control *c)
{
    if (!c || c->closing)
        return;
    c->closing = true;
    if (c->bus) {
        /* A last heartbeat that says we are draining, for whoever steers. */
        heartbeat(c);
        lec_bus_close(c->bus);
        c->bus = NULL;
    }
    uv_close((uv_handle_t *)&c->hb_timer, on_timer_closed);
    uv_close((uv_handle_t *)&c->ping_timer, on_timer_closed);
    uv_close((uv_handle_t *)&c->expire_timer, on_timer_closed);
}

void lec_control_json(lec_control *c, lec_jw *w)
{
    lec_cluster_json(&c->view, now(c), w);
    lec_audience a;
    lec_jw_key(w, "audience");
    if (lec_audience_of(&c->view, &a) == 0)
        lec_audience_json(&a, w);
    else
        lec_jw_null(w);
    lec_audience_free(&a);
    lec_jw_key(w, "bus");
    lec_jw_obj_open(w);
    lec_jw_key(w, "enabled");
    lec_jw_bool(w, c->bus != NULL);
    if (c->bus) {
        lec_bus_stats s;
        lec_bus_get_stats(c->bus, &s);
        lec_jw_key(w, "connected");
        lec_jw_bool(w, s.connected);
        lec_jw_key(w, "server");
        lec_jw_str(w, s.server);
        lec_jw_key(w, "connects");
        lec_jw_uint(w, s.connects);
        lec_jw_key(w, "reconnects");
        lec_jw_uint(w, s.reconnects);
        lec_jw_key(w, "disconnects");
        lec_jw_uint(w, s.disconnects);
        lec_jw_key(w, "received");
        lec_jw_uint(w, s.received);
        lec_jw_key(w, "published");
        lec_jw_uint(w, s.published);
        lec_jw_key(w, "dropped");
        lec_jw_obj_open(w);
        lec_jw_key(w, "malformed");
        lec_jw_uint(w, s.dropped_malformed);
        lec_jw_key(w, "version");
        lec_jw_uint(w, s.dropped_version);
        lec_jw_key(w, "slow");
        lec_jw_uint(w, s.dropped_slow);
        lec_jw_key(w, "forged");
        lec_jw_uint(w, s.dropped_forged);
        lec_jw_key(w, "stale");
        lec_jw_uint(w, s.dropped_stale);
        lec_jw_obj_close(w);
        lec_jw_key(w, "requests");
        lec_jw_obj_open(w);
        lec_jw_key(w, "sent");
        lec_jw_uint(w, s.requests_sent);
        lec_jw_key(w, "answered");
        lec_jw_uint(w, s.requests_answered);
        lec_jw_key(w, "timed_out");
        lec_jw_uint(w, s.requests_timed_out);
        lec_jw_obj_close(w);
    }
    lec_jw_key(w, "duplicate_ids");
    lec_jw_uint(w, c->duplicates);
    lec_jw_obj_close(w);
}

static void help(lec_sbuf *out, const char *name, const char *text)
{
    lec_sbuf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, text, name);
}

void lec_control_metrics(lec_control *c, lec_sbuf *out)
{
    const lec_cluster_node *self = lec_cluster_find(&c->view, c->view.self_id);
    if (self) {
        const lec_node_info *i = &self->info;
        help(out, "lectern_load_ratio",
             "This node's load as its last heartbeat told steering, against capacity (1: full; "
             "steering takes the highest and sends new viewers elsewhere as it nears 1)");
        lec_sbuf_printf(out, "lectern_load_ratio{resource=\"viewers\"} %.4f\n",
                        i->max_viewers ? (double)i->load.viewers / i->max_viewers : 0.0);
        lec_sbuf_printf(out, "lectern_load_ratio{resource=\"egress\"} %.4f\n",
                        i->max_egress_bps ? (double)i->load.egress_bps / (double)i->max_egress_bps
                                          : 0.0);
        lec_sbuf_printf(out, "lectern_load_ratio{resource=\"cpu\"} %.4f\n",
                        i->load.cpu_permille / 1000.0);
        lec_sbuf_printf(out, "lectern_load_ratio{resource=\"worker_cpu\"} %.4f\n",
                        i->load.worker_cpu_permille / 1000.0);
        help(out, "lectern_egress_bytes_per_second",
             "Media this node sent over the last heartbeat period (RTP to viewers and legs)");
        lec_sbuf_printf(out, "lectern_egress_bytes_per_second %llu\n",
                        (unsigned long long)(i->load.egress_bps / 8));
    }
    lec_audience a;
    if (lec_audience_of(&c->view, &a))
        return;
    /* Not `region`: the scrape sets that label to the scraped node's own. */
    help(out, "lectern_cluster_viewers",
         "Viewers in the whole cluster by the region of the node serving them, as this node's "
         "view has it (every node reports the same: aggregate with max, not sum)");
    for (size_t r = 0; r < a.nregions; r++)
        lec_sbuf_printf(out, "lectern_cluster_viewers{serving_region=\"%s\"} %llu\n",
                        a.regions[r].name,
                        (unsigned long long)a.regions[r].viewers);
    help(out, "lectern_cluster_streams", "Live streams in the cluster, as this node's view has it");
    lec_sbuf_printf(out, "lectern_cluster_streams %zu\n", a.nstreams);
    help(out, "lectern_cluster_stream_viewers",
         "Viewers of the cluster's largest audiences (at most 20 streams; all in /v1/cluster)");
    for (size_t s = 0; s < a.nstreams && s < LEC_CONTROL_TOP_STREAMS; s++)
        lec_sbuf_printf(out, "lectern_cluster_stream_viewers{stream=\"%s\"} %llu\n",
                        a.streams[s].name, (unsigned long long)a.streams[s].viewers);
    lec_audience_free(&a);
}

void lec_control_library_shutdown(void)
{
    lec_bus_library_shutdown();
}

bool lec_control_bus_stats(lec_control *c, lec_bus_stats *out)
{
    if (!c->bus)
        return false;
    lec_bus_get_stats(c->bus, out);
    return true;
}
