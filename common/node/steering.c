/* Steering on a node (steering.h). */
#include "node/steering.h"
#include "base/err.h"
#include "cluster/steer.h"
#include "geo/geo.h"
#include "http/client_ip.h"
#include "node/node.h"
#include "sys/sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MOD "steer"

struct lec_steering {
    lec_node *node;
    lec_geo *geo;
    lec_metric decisions[3]; /* local, redirect, full */
};

/* The client's address as the whole node takes it (http/client_ip.h). */
static lec_ip client_ip(const lec_config *cfg, const lec_http_ex *ex)
{
    return lec_http_client_ip(ex->req, &ex->peer.ip, cfg->http.trusted_proxies.v,
                              cfg->http.trusted_proxies.n);
}

typedef struct decision {
    lec_ip ip;
    lec_geo_result geo;
    char region[65];
    lec_steer_choice ranked[32];
    size_t n;
} decision;

static void decide(lec_steering *s, const lec_http_ex *ex, const char *stream, decision *d)
{
    lec_node *node = s->node;
    const lec_config *cfg = node->cfg;
    memset(d, 0, sizeof *d);
    d->ip = client_ip(cfg, ex);
    lec_geo_lookup(s->geo, &d->ip, &d->geo);
    char hint[65];
    if (lec_http_req_query(ex->req, "region", hint, sizeof hint) > 0)
        snprintf(d->region, sizeof d->region, "%s", hint);
    else if (d->geo.region[0])
        snprintf(d->region, sizeof d->region, "%s", d->geo.region);
    else if (!d->geo.located)
        snprintf(d->region, sizeof d->region, "%s", cfg->node.region); /* unknown: ours */
    lec_steer_region regions[32];
    size_t nr = 0;
    for (size_t i = 0; i < cfg->regions.n && nr < 32; i++)
        regions[nr++] = (lec_steer_region){cfg->regions.v[i].name, cfg->regions.v[i].lat,
                                           cfg->regions.v[i].lon};
    const lec_cluster *view = lec_control_view(node->control);
    lec_steer_input in = {.view = view,
                          .now = lec_clock_now(s->node->clock),
                          .stream = stream,
                          .located = d->geo.located && !d->region[0],
                          .lat = d->geo.lat,
                          .lon = d->geo.lon,
                          .region = d->region[0] ? d->region : NULL,
                          .regions = regions,
                          .nregions = nr,
                          .origin_viewers = (lec_origin_viewers)cfg->steering.origin_viewers};
    d->n = lec_steer_rank(&in, d->ranked, 32);
}

/* Percent-encodes s for a query value (RFC 3986 unreserved pass). */
static void query_escape(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s && o + 4 <= cap; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}

bool lec_steering_redirect(lec_steering *s, lec_http_ex *ex, const char *stream)
{
    char v[8];
    lec_node *node = s->node;
    if (lec_http_req_query(ex->req, "steered", v, sizeof v) >= 0 || !node->control ||
        lec_control_view(node->control)->n <= 1) {
        lec_metric_add(&node->metrics, 0, s->decisions[0], 1);
        return false; /* already steered here, or alone: serve */
    }
    decision d;
    decide(s, ex, stream, &d);
    if (d.n == 0) {
        lec_metric_add(&node->metrics, 0, s->decisions[2], 1);
        lec_http_resp_error(&ex->resp, 503, "every node that could serve you is full or draining");
        lec_http_resp_header(&ex->resp, "Retry-After", "5");
        lec_http_ex_finish(ex);
        return true;
    }
    const lec_cluster_node *best = d.ranked[0].node;
    if (best->self) {
        lec_metric_add(&node->metrics, 0, s->decisions[0], 1);
        return false;
    }
    lec_metric_add(&node->metrics, 0, s->decisions[1], 1);
    char token[256], etoken[3 * sizeof token];
    bool has_token = lec_http_req_query(ex->req, "token", token, sizeof token) > 0;
    size_t blen = 0;
    const char *bearer = lec_http_req_bearer(ex->req, &blen);
    if (!has_token && bearer && blen < sizeof token) {
        memcpy(token, bearer, blen);
        token[blen] = '\0';
        has_token = true;
    }
    query_escape(has_token ? token : "", etoken, sizeof etoken);
    /* RFC 9725 4.5: 307 keeps the method and body; the URL carries what the
     * next node needs (browsers drop Authorization across origins). */
    lec_http_resp_header(&ex->resp, "Location", "%s/whep/%s?steered=1%s%s", best->info.http_url,
                         stream, has_token ? "&token=" : "", etoken);
    lec_http_resp_text(&ex->resp, 307, "steered to a nearer node\n");
    lec_http_ex_finish(ex);
    return true;
}

static void steer_get(lec_http_ex *ex)
{
    lec_steering *s = ex->ud;
    if (!s->node->control) { /* stopping: the view is gone */
        lec_http_resp_error(&ex->resp, 503, "this node is stopping");
        lec_http_ex_finish(ex);
        return;
    }
    char stream[65] = "";
    lec_http_req_query(ex->req, "stream", stream, sizeof stream);
    decision d;
    decide(s, ex, stream[0] ? stream : NULL, &d);
    lec_jw w;
    lec_http_resp_json(&ex->resp, 200, &w);
    lec_jw_obj_open(&w);
    lec_jw_key(&w, "client");
    lec_jw_obj_open(&w);
    char ip[LEC_IP_STRLEN];
    lec_jw_key(&w, "ip");
    lec_jw_str(&w, lec_ip_format(&d.ip, ip, sizeof ip));
    lec_jw_key(&w, "region");
    lec_jw_str(&w, d.region[0] ? d.region : NULL);
    lec_jw_key(&w, "located_by");
    lec_jw_str(&w, d.geo.source[0] ? d.geo.source : "none");
    if (d.geo.located) {
        lec_jw_key(&w, "lat");
        lec_jw_double(&w, d.geo.lat);
        lec_jw_key(&w, "lon");
        lec_jw_double(&w, d.geo.lon);
    }
    lec_jw_obj_close(&w);
    lec_jw_key(&w, "ranked");
    lec_jw_arr_open(&w);
    for (size_t i = 0; i < d.n; i++) {
        const lec_steer_choice *c = &d.ranked[i];
        lec_jw_obj_open(&w);
        lec_jw_key(&w, "node");
        lec_jw_str(&w, c->node->info.id);
        lec_jw_key(&w, "region");
        lec_jw_str(&w, c->node->info.region);
        lec_jw_key(&w, "whep_url");
        char url[512];
        snprintf(url, sizeof url, "%s/whep/%s", c->node->info.http_url,
                 stream[0] ? stream : "<stream>");
        lec_jw_str(&w, url);
        lec_jw_key(&w, "score");
        lec_jw_double(&w, c->score);
        lec_jw_key(&w, "latency_ms");
        lec_jw_double(&w, c->latency_ms);
        lec_jw_key(&w, "utilisation");
        lec_jw_double(&w, c->utilisation);
        lec_jw_key(&w, "holds_stream");
        lec_jw_bool(&w, c->holds);
        lec_jw_key(&w, "reason");
        lec_jw_str(&w, c->reason);
        lec_jw_obj_close(&w);
    }
    lec_jw_arr_close(&w);
    lec_jw_obj_close(&w);
    lec_http_resp_json_done(&ex->resp);
    lec_http_ex_finish(ex);
}

/* A geo from the node's config (geo.mmdb, geo.cidr_regions); NULL logged. */
static lec_geo *geo_from(lec_node *node)
{
    const lec_config *cfg = node->cfg;
    size_t n = cfg->geo.cidr_regions.n;
    lec_geo_block *blocks = n ? calloc(n, sizeof *blocks) : NULL;
    const char *why = "out of memory";
    lec_geo *g = NULL;
    if (!n || blocks) {
        for (size_t i = 0; i < n; i++)
            blocks[i] = (lec_geo_block){cfg->geo.cidr_regions.v[i].cidr,
                                        cfg->geo.cidr_regions.v[i].region};
        lec_geo_cfg gc = {.mmdb = cfg->geo.mmdb, .blocks = blocks, .nblocks = n};
        g = lec_geo_open(&gc, &why);
    }
    free(blocks);
    if (!g)
        LEC_ERROR(&node->log, MOD, "geo.mmdb %s: %s", cfg->geo.mmdb ? cfg->geo.mmdb : "-", why);
    return g;
}

void lec_steering_reload(lec_steering *s)
{
    lec_geo *g = geo_from(s->node);
    if (!g) {
        LEC_ERROR(&s->node->log, MOD, "reload: the geo settings stay as they were");
        return;
    }
    lec_geo_close(s->geo);
    s->geo = g;
}

lec_steering *lec_steering_start(lec_node *node)
{
    lec_steering *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->node = node;
    s->geo = geo_from(node);
    if (!s->geo) {
        free(s);
        return NULL;
    }
    static const char *const results[] = {"local", "redirect", "full"};
    for (int i = 0; i < 3; i++) {
        char labels[32];
        snprintf(labels, sizeof labels, "result=\"%s\"", results[i]);
        s->decisions[i] =
            lec_metrics_counter(&node->metrics, "lectern_steer_decisions_total", labels,
                                "WHEP requests steered: served here, "
                                "redirected, or refused because all full");
    }
    if (lec_node_route(node, "steer", LEC_HTTP_GET, "/v1/steer", steer_get, s)) {
        lec_steering_free(s);
        return NULL;
    }
    return s;
}

void lec_steering_free(lec_steering *s)
{
    if (!s)
        return;
    lec_geo_close(s->geo);
    free(s);
}
