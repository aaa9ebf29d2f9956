/* The cluster view (cluster.h). */
#include "cluster/cluster.h"
#include "base/err.h"

#include <stdio.h>
#include <string.h>

static bool id_ok(const char *id)
{
    return id[0] && memchr(id, '\0', LEC_ID_MAX);
}

int lec_cluster_init(lec_cluster *c, const lec_alloc *a, const char *self_id, uint64_t self_boot_id,
                     lec_tstamp expiry)
{
    memset(c, 0, sizeof *c);
    if (!self_id[0] || strlen(self_id) >= LEC_ID_MAX)
        return LEC_ERR_INVAL;
    c->alloc = lec_alloc_or_default(a);
    memcpy(c->self_id, self_id, strlen(self_id) + 1);
    c->self_boot_id = self_boot_id;
    c->expiry = expiry;
    return 0;
}

static void info_free(const lec_alloc *a, lec_node_info *i)
{
    if (i->streams)
        lec_free(a, i->streams);
    if (i->rtts)
        lec_free(a, i->rtts);
    i->streams = NULL;
    i->rtts = NULL;
    i->nstreams = i->nrtts = 0;
}

void lec_cluster_free(lec_cluster *c)
{
    for (size_t i = 0; i < c->n; i++)
        info_free(c->alloc, &c->nodes[i].info);
    if (c->nodes)
        lec_free(c->alloc, c->nodes);
    c->nodes = NULL;
    c->n = c->cap = 0;
}

/* Copies `src` into `dst` with owned arrays; on failure dst is unchanged. */
static int info_copy(const lec_alloc *a, lec_node_info *dst, const lec_node_info *src)
{
    lec_cluster_held *streams = NULL;
    lec_cluster_rtt *rtts = NULL;
    if (src->nstreams) {
        streams = lec_malloc(a, src->nstreams * sizeof *streams);
        if (!streams)
            return LEC_ERR_NOMEM;
        memcpy(streams, src->streams, src->nstreams * sizeof *streams);
        for (size_t i = 0; i < src->nstreams; i++)
            streams[i].stream[LEC_ID_MAX - 1] = '\0';
    }
    if (src->nrtts) {
        rtts = lec_malloc(a, src->nrtts * sizeof *rtts);
        if (!rtts) {
            if (streams)
                lec_free(a, streams);
            return LEC_ERR_NOMEM;
        }
        memcpy(rtts, src->rtts, src->nrtts * sizeof *rtts);
        for (size_t i = 0; i < src->nrtts; i++)
            rtts[i].node_id[LEC_ID_MAX - 1] = '\0';
    }
    info_free(a, dst);
    *dst = *src;
    dst->streams = streams;
    dst->rtts = rtts;
    /* Strings come from the network: make sure they end. */
    dst->region[LEC_ID_MAX - 1] = '\0';
    dst->http_url[LEC_URL_MAX - 1] = '\0';
    dst->relay_addr[LEC_HOSTPORT_MAX - 1] = '\0';
    dst->version[sizeof dst->version - 1] = '\0';
    return 0;
}

static lec_cluster_node *find(const lec_cluster *c, const char *id)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->nodes[i].info.id, id))
            return &c->nodes[i];
    return NULL;
}

const lec_cluster_node *lec_cluster_find(const lec_cluster *c, const char *id)
{
    return find(c, id);
}

int lec_cluster_note_held(lec_cluster *c, const char *node_id, const char *stream, uint32_t depth)
{
    lec_cluster_node *n = find(c, node_id);
    if (!n)
        return LEC_ERR_NOTFOUND;
    lec_node_info *i = &n->info;
    for (size_t k = 0; k < i->nstreams; k++)
        if (!strcmp(i->streams[k].stream, stream))
            return 0;
    lec_cluster_held *s = lec_realloc(c->alloc, i->streams, (i->nstreams + 1) * sizeof *s);
    if (!s)
        return LEC_ERR_NOMEM;
    i->streams = s;
    lec_cluster_held *h = &s[i->nstreams++];
    *h = (lec_cluster_held){.depth = depth};
    snprintf(h->stream, sizeof h->stream, "%s", stream);
    return 0;
}

/* A new, zeroed entry for `id`, or NULL when out of memory. */
static lec_cluster_node *add(lec_cluster *c, const char *id, lec_tstamp now)
{
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 8;
        lec_cluster_node *nn = lec_realloc(c->alloc, c->nodes, ncap * sizeof *nn);
        if (!nn)
            return NULL;
        c->nodes = nn;
        c->cap = ncap;
    }
    lec_cluster_node *n = &c->nodes[c->n++];
    memset(n, 0, sizeof *n);
    memcpy(n->info.id, id, strlen(id) + 1);
    n->joined_at = now;
    return n;
}

int lec_cluster_heartbeat(lec_cluster *c, const lec_node_info *hb, lec_tstamp now)
{
    if (!id_ok(hb->id))
        return LEC_ERR_INVAL;
    if (!strcmp(hb->id, c->self_id))
        return hb->boot_id == c->self_boot_id ? LEC_CLUSTER_IGNORED : LEC_CLUSTER_DUPLICATE;
    lec_cluster_node *n = find(c, hb->id);
    int result = LEC_CLUSTER_UPDATED;
    if (!n) {
        n = add(c, hb->id, now);
        if (!n)
            return LEC_ERR_NOMEM;
        result = LEC_CLUSTER_JOINED;
    } else if (hb->boot_id != n->info.boot_id) {
        /* The old boot_id coming back soon after a change: two processes. */
        if (hb->boot_id == n->prev_boot_id && now - n->boot_changed_at < 2 * c->expiry) {
            n->last_seen = now;
            return LEC_CLUSTER_DUPLICATE;
        }
        n->prev_boot_id = n->info.boot_id;
        n->boot_changed_at = now;
        n->srtt_us = n->rttvar_us = 0;
        result = LEC_CLUSTER_RESTARTED;
    } else if (hb->seq <= n->info.seq) {
        return LEC_CLUSTER_IGNORED; /* reordered or replayed */
    }
    int rc = info_copy(c->alloc, &n->info, hb);
    if (rc) {
        if (result == LEC_CLUSTER_JOINED)
            c->n--;
        return rc;
    }
    n->last_seen = now;
    return result;
}

int lec_cluster_set_self(lec_cluster *c, const lec_node_info *self, lec_tstamp now)
{
    lec_cluster_node *n = find(c, c->self_id);
    bool added = false;
    if (!n) {
        n = add(c, c->self_id, now);
        if (!n)
            return LEC_ERR_NOMEM;
        added = true;
    }
    int rc = info_copy(c->alloc, &n->info, self);
    if (rc) {
        if (added)
            c->n--;
        return rc;
    }
    memcpy(n->info.id, c->self_id, strlen(c->self_id) + 1);
    n->info.boot_id = c->self_boot_id;
    n->self = true;
    n->last_seen = now;
    return 0;
}

size_t lec_cluster_expire(lec_cluster *c, lec_tstamp now,
                          void (*gone)(void *ud, const lec_cluster_node *n), void *ud)
{
    if (c->frozen)
        return 0;
    size_t removed = 0;
    for (size_t i = 0; i < c->n;) {
        lec_cluster_node *n = &c->nodes[i];
        if (n->self || now - n->last_seen <= c->expiry) {
            i++;
            continue;
        }
        if (gone)
            gone(ud, n);
        info_free(c->alloc, &n->info);
        c->nodes[i] = c->nodes[--c->n];
        removed++;
    }
    return removed;
}

void lec_cluster_freeze(lec_cluster *c, bool frozen, lec_tstamp now)
{
    if (c->frozen && !frozen)
        for (size_t i = 0; i < c->n; i++)
            c->nodes[i].last_seen = now;
    c->frozen = frozen;
}

int lec_cluster_rtt_sample(lec_cluster *c, const char *node_id, lec_tstamp rtt, lec_tstamp now)
{
    (void)now;
    lec_cluster_node *n = find(c, node_id);
    if (!n || n->self)
        return LEC_ERR_NOTFOUND;
    uint64_t us = rtt / LEC_US;
    uint32_t r = us > UINT32_MAX ? UINT32_MAX : us == 0 ? 1 : (uint32_t)us;
    if (!n->srtt_us) { /* RFC 6298 2.2 */
        n->srtt_us = r;
        n->rttvar_us = r / 2;
        return 0;
    }
    /* RFC 6298 2.3: alpha 1/8, beta 1/4 */
    uint32_t diff = n->srtt_us > r ? n->srtt_us - r : r - n->srtt_us;
    n->rttvar_us = (uint32_t)(((uint64_t)n->rttvar_us * 3 + diff) / 4);
    n->srtt_us = (uint32_t)(((uint64_t)n->srtt_us * 7 + r) / 8);
    if (!n->srtt_us)
        n->srtt_us = 1;
    return 0;
}

/* RTT from node `a` to node `b` as either reported (a's heartbeat) or, for
 * self, measured; 0 when unknown. */
static uint32_t pair_rtt(const lec_cluster *c, const lec_cluster_node *a, const lec_cluster_node *b)
{
    if (a->self)
        return b->srtt_us;
    for (size_t i = 0; i < a->info.nrtts; i++)
        if (!strcmp(a->info.rtts[i].node_id, b->info.id))
            return a->info.rtts[i].rtt_us;
    (void)c;
    return 0;
}

static void rtt_note(lec_region_rtts *t, const char *region, uint32_t rtt)
{
    if (!rtt)
        return;
    for (size_t i = 0; i < t->n; i++) {
        if (!strcmp(t->region[i], region)) {
            if (rtt < t->best[i])
                t->best[i] = rtt;
            return;
        }
    }
    if (t->n < LEC_REGION_RTTS_MAX) {
        t->region[t->n] = region;
        t->best[t->n++] = rtt;
    }
}

uint32_t lec_region_rtts_get(const lec_region_rtts *t, const char *region)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->region[i], region))
            return t->best[i];
    return 0;
}

void lec_cluster_region_rtts(const lec_cluster *c, const char *home, lec_region_rtts *t)
{
    t->n = 0;
    const lec_cluster_node *h[64];
    size_t nh = 0;
    for (size_t k = 0; k < c->n && nh < 64; k++)
        if (!strcmp(c->nodes[k].info.region, home))
            h[nh++] = &c->nodes[k];
    for (size_t k = 0; k < c->n; k++) {
        const lec_cluster_node *a = &c->nodes[k];
        bool a_home = !strcmp(a->info.region, home);
        if (a->self) { /* our own measurements live on the other nodes' entries */
            for (size_t j = 0; j < c->n; j++) {
                const lec_cluster_node *b = &c->nodes[j];
                bool b_home = !strcmp(b->info.region, home);
                if (b != a && a_home != b_home)
                    rtt_note(t, a_home ? b->info.region : a->info.region, b->srtt_us);
            }
            continue;
        }
        for (size_t e = 0; e < a->info.nrtts; e++) {
            const lec_cluster_rtt *r = &a->info.rtts[e];
            if (a_home) {
                const lec_cluster_node *b = find(c, r->node_id);
                if (b && strcmp(b->info.region, home))
                    rtt_note(t, b->info.region, r->rtt_us);
            } else {
                for (size_t j = 0; j < nh; j++)
                    if (!strcmp(h[j]->info.id, r->node_id))
                        rtt_note(t, a->info.region, r->rtt_us);
            }
        }
    }
}

static void node_json(const lec_cluster_node *n, lec_tstamp now, lec_jw *w)
{
    const lec_node_info *i = &n->info;
    lec_jw_obj_open(w);
    lec_jw_key(w, "id");
    lec_jw_str(w, i->id);
    lec_jw_key(w, "self");
    lec_jw_bool(w, n->self);
    lec_jw_key(w, "role");
    lec_jw_str(w, lec_role_name(i->role));
    lec_jw_key(w, "region");
    lec_jw_str(w, i->region);
    lec_jw_key(w, "location");
    lec_jw_obj_open(w);
    lec_jw_key(w, "lat");
    lec_jw_double(w, i->lat);
    lec_jw_key(w, "lon");
    lec_jw_double(w, i->lon);
    lec_jw_obj_close(w);
    lec_jw_key(w, "http_url");
    lec_jw_str(w, i->http_url);
    lec_jw_key(w, "relay_addr");
    lec_jw_str(w, i->relay_addr);
    lec_jw_key(w, "version");
    lec_jw_str(w, i->version);
    lec_jw_key(w, "draining");
    lec_jw_bool(w, i->draining);
    lec_jw_key(w, "age_ms");
    lec_jw_uint(w, now > n->last_seen ? (now - n->last_seen) / LEC_MS : 0);
    lec_jw_key(w, "boot_id"); /* hex: JSON numbers lose 64-bit precision */
    char boot[17];
    snprintf(boot, sizeof boot, "%016llx", (unsigned long long)i->boot_id);
    lec_jw_str(w, boot);
    lec_jw_key(w, "seq");
    lec_jw_uint(w, i->seq);
    lec_jw_key(w, "capacity");
    lec_jw_obj_open(w);
    lec_jw_key(w, "max_viewers");
    lec_jw_uint(w, i->max_viewers);
    lec_jw_key(w, "max_publishers");
    lec_jw_uint(w, i->max_publishers);
    lec_jw_key(w, "max_egress_bps");
    lec_jw_uint(w, i->max_egress_bps);
    lec_jw_obj_close(w);
    lec_jw_key(w, "load");
    lec_jw_obj_open(w);
    lec_jw_key(w, "viewers");
    lec_jw_uint(w, i->load.viewers);
    lec_jw_key(w, "publishers");
    lec_jw_uint(w, i->load.publishers);
    lec_jw_key(w, "legs_in");
    lec_jw_uint(w, i->load.legs_in);
    lec_jw_key(w, "legs_out");
    lec_jw_uint(w, i->load.legs_out);
    lec_jw_key(w, "egress_bps");
    lec_jw_uint(w, i->load.egress_bps);
    lec_jw_key(w, "cpu_permille");
    lec_jw_uint(w, i->load.cpu_permille);
    lec_jw_key(w, "worker_cpu_permille");
    lec_jw_uint(w, i->load.worker_cpu_permille);
    lec_jw_key(w, "sessions");
    lec_jw_uint(w, i->load.sessions);
    lec_jw_obj_close(w);
    lec_jw_key(w, "joins");
    lec_jw_obj_open(w);
    lec_jw_key(w, "ok");
    lec_jw_uint(w, i->load.joins);
    lec_jw_key(w, "failed");
    lec_jw_uint(w, i->load.join_failures);
    lec_jw_key(w, "p50_ms"); /* over the last minute; null: no join */
    if (i->load.join_p50_us)
        lec_jw_double(w, i->load.join_p50_us / 1000.0);
    else
        lec_jw_null(w);
    lec_jw_key(w, "p95_ms");
    if (i->load.join_p95_us)
        lec_jw_double(w, i->load.join_p95_us / 1000.0);
    else
        lec_jw_null(w);
    lec_jw_obj_close(w);
    lec_jw_key(w, "streams");
    lec_jw_arr_open(w);
    for (size_t s = 0; s < i->nstreams; s++) {
        lec_jw_obj_open(w);
        lec_jw_key(w, "stream");
        lec_jw_str(w, i->streams[s].stream);
        lec_jw_key(w, "depth");
        lec_jw_uint(w, i->streams[s].depth);
        lec_jw_key(w, "viewers");
        lec_jw_uint(w, i->streams[s].viewers);
        lec_jw_obj_close(w);
    }
    lec_jw_arr_close(w);
    if (!n->self) {
        lec_jw_key(w, "rtt_us");
        lec_jw_uint(w, n->srtt_us);
    }
    lec_jw_obj_close(w);
}

void lec_cluster_json(const lec_cluster *c, lec_tstamp now, lec_jw *w)
{
    lec_jw_key(w, "self");
    lec_jw_str(w, c->self_id);
    lec_jw_key(w, "frozen");
    lec_jw_bool(w, c->frozen);
    lec_jw_key(w, "nodes");
    lec_jw_arr_open(w);
    for (size_t i = 0; i < c->n; i++)
        node_json(&c->nodes[i], now, w);
    lec_jw_arr_close(w);
    /* Which node holds which stream, shallowest first. */
    lec_jw_key(w, "streams");
    lec_jw_obj_open(w);
    for (size_t i = 0; i < c->n; i++) {
        for (size_t s = 0; s < c->nodes[i].info.nstreams; s++) {
            const char *name = c->nodes[i].info.streams[s].stream;
            bool first = true; /* list each stream once, at its first holder */
            for (size_t k = 0; k < i && first; k++)
                for (size_t t = 0; t < c->nodes[k].info.nstreams && first; t++)
                    first = strcmp(c->nodes[k].info.streams[t].stream, name) != 0;
            for (size_t t = 0; t < s && first; t++)
                first = strcmp(c->nodes[i].info.streams[t].stream, name) != 0;
            if (!first)
                continue;
            lec_jw_key(w, name);
            lec_jw_arr_open(w);
            for (uint32_t depth = 0; depth <= 16; depth++)
                for (size_t k = 0; k < c->n; k++)
                    for (size_t t = 0; t < c->nodes[k].info.nstreams; t++)
                        if (c->nodes[k].info.streams[t].depth == depth &&
                            !strcmp(c->nodes[k].info.streams[t].stream, name)) {
                            lec_jw_obj_open(w);
                            lec_jw_key(w, "node");
                            lec_jw_str(w, c->nodes[k].info.id);
                            lec_jw_key(w, "region");
                            lec_jw_str(w, c->nodes[k].info.region);
                            lec_jw_key(w, "depth");
                            lec_jw_uint(w, depth);
                            lec_jw_key(w, "source"); /* who feeds it there */
                            lec_jw_str(w, c->nodes[k].info.streams[t].source[0]
                                              ? c->nodes[k].info.streams[t].source
                                              : NULL);
                            lec_jw_key(w, "viewers");
                            lec_jw_uint(w, c->nodes[k].info.streams[t].viewers);
                            lec_jw_obj_close(w);
                        }
            lec_jw_arr_close(w);
        }
    }
    lec_jw_obj_close(w);
    /* The RTT matrix: every measured pair, from either side's report. */
    lec_jw_key(w, "rtt_matrix");
    lec_jw_arr_open(w);
    for (size_t i = 0; i < c->n; i++) {
        for (size_t j = 0; j < c->n; j++) {
            if (i == j)
                continue;
            uint32_t r = pair_rtt(c, &c->nodes[i], &c->nodes[j]);
            if (!r)
                continue;
            lec_jw_obj_open(w);
            lec_jw_key(w, "from");
            lec_jw_str(w, c->nodes[i].info.id);
            lec_jw_key(w, "to");
            lec_jw_str(w, c->nodes[j].info.id);
            lec_jw_key(w, "rtt_us");
            lec_jw_uint(w, r);
            lec_jw_obj_close(w);
        }
    }
    lec_jw_arr_close(w);
}
