/* The steering scorer (steer.h). */
#include "cluster/steer.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define KM_PER_RTT_MS 100.0 /* light in fibre, there and back, with detours */
#define BASE_MS       5.0
#define LOAD_MS       40.0
#define OVERLOAD_MS   2000.0
#define HOLD_BONUS_MS 15.0
#define STALE         (2 * LEC_S)

double lec_steer_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371.0, d2r = M_PI / 180.0;
    double dlat = (lat2 - lat1) * d2r, dlon = (lon2 - lon1) * d2r;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * d2r) * cos(lat2 * d2r) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * atan2(sqrt(a), sqrt(1 - a));
}

static const lec_steer_region *region_of(const lec_steer_input *in, const char *name)
{
    for (size_t i = 0; name && i < in->nregions; i++)
        if (!strcmp(in->regions[i].name, name))
            return &in->regions[i];
    return NULL;
}

static bool holds(const lec_node_info *n, const char *stream)
{
    for (size_t i = 0; stream && i < n->nstreams; i++)
        if (!strcmp(n->streams[i].stream, stream))
            return true;
    return false;
}

/* The client's estimated round trip to node n, and how it was reckoned
 * (into `how` unless NULL: formatting costs more than the rest). */
static double latency(const lec_steer_input *in, const lec_region_rtts *rtts,
                      const lec_cluster_node *n, char *how, size_t cap)
{
    const lec_node_info *i = &n->info;
    const lec_steer_region *home = region_of(in, in->region);
    double clat = in->located ? in->lat : home ? home->lat : (double)NAN;
    double clon = in->located ? in->lon : home ? home->lon : (double)NAN;
    if (isnan(clat)) {
        if (how)
            snprintf(how, cap, "client location unknown");
        return BASE_MS;
    }
    if (home && strcmp(home->name, i->region)) {
        uint32_t rtt = lec_region_rtts_get(rtts, i->region);
        /* A measured RTT below what light in fibre needs between the two
         * sites means the sites are not where the config says (one machine,
         * a lab): the distance is then the better guess. */
        double floor_ms =
            lec_steer_distance_km(home->lat, home->lon, i->lat, i->lon) / KM_PER_RTT_MS;
        if (rtt && rtt / 1000.0 >= floor_ms) {
            double local = lec_steer_distance_km(clat, clon, home->lat, home->lon) / KM_PER_RTT_MS;
            if (how)
                snprintf(how, cap, "measured %s-%s %.0f ms", home->name, i->region, rtt / 1000.0);
            return BASE_MS + local + rtt / 1000.0;
        }
    }
    double km = lec_steer_distance_km(clat, clon, i->lat, i->lon);
    if (how)
        snprintf(how, cap, "%.0f km", km);
    return BASE_MS + km / KM_PER_RTT_MS;
}

double lec_steer_utilisation(const lec_node_info *i)
{
    double u = 0;
    if (i->max_viewers)
        u = (double)i->load.viewers / i->max_viewers;
    if (i->max_egress_bps) {
        double e = (double)i->load.egress_bps / (double)i->max_egress_bps;
        if (e > u)
            u = e;
    }
    double cpu = i->load.cpu_permille > i->load.worker_cpu_permille ? i->load.cpu_permille
                                                                      : i->load.worker_cpu_permille;
    if (cpu / 1000.0 > u)
        u = cpu / 1000.0;
    return u;
}

/* Could take a viewer now: not draining, heard from lately, not full. */
static bool usable(const lec_steer_input *in, const lec_cluster_node *n)
{
    return !n->info.draining && (n->self || in->now - n->last_seen <= STALE) &&
           lec_steer_utilisation(&n->info) < 1.0;
}

/* The client's region for origin_viewers: the one given, else the known
 * region nearest to where the client is; NULL when neither is known. */
static const char *client_region(const lec_steer_input *in)
{
    if (in->region)
        return in->region;
    const char *best = NULL;
    double best_km = 0;
    for (size_t i = 0; in->located && i < in->nregions; i++) {
        double km = lec_steer_distance_km(in->lat, in->lon, in->regions[i].lat, in->regions[i].lon);
        if (!best || km < best_km)
            best = in->regions[i].name, best_km = km;
    }
    return best;
}

/* Where origins may serve this client (steer.h). */
typedef struct origin_rule {
    lec_origin_viewers policy;
    const char *region; /* the client's */
    bool any_edge, edge_room, edge_room_home;
} origin_rule;

static origin_rule origin_rule_of(const lec_steer_input *in)
{
    origin_rule r = {.policy = in->origin_viewers, .region = client_region(in)};
    for (size_t k = 0; k < in->view->n; k++) {
        const lec_cluster_node *n = &in->view->nodes[k];
        if (n->info.role != LEC_ROLE_EDGE)
            continue;
        r.any_edge = true;
        if (!usable(in, n))
            continue;
        r.edge_room = true;
        if (r.region && !strcmp(n->info.region, r.region))
            r.edge_room_home = true;
    }
    return r;
}

static bool origin_may_serve(const origin_rule *r, const lec_node_info *i)
{
    switch (r->policy) {
    case LEC_ORIGIN_VIEWERS_ALWAYS:
        return true;
    case LEC_ORIGIN_VIEWERS_NEVER:
        return !r->any_edge;
    default:
        return !r->edge_room ||
               (r->region && !strcmp(r->region, i->region) && !r->edge_room_home);
    }
}

static int cmp(const lec_steer_choice *a, const lec_steer_choice *b)
{
    if (a->score != b->score)
        return a->score < b->score ? -1 : 1;
    return strcmp(a->node->info.id, b->node->info.id);
}

size_t lec_steer_rank(const lec_steer_input *in, lec_steer_choice *out, size_t max)
{
    origin_rule rule = origin_rule_of(in);
    lec_region_rtts rtts = {.n = 0};
    const lec_steer_region *home = region_of(in, in->region);
    if (home)
        lec_cluster_region_rtts(in->view, home->name, &rtts);
    size_t count = 0, eligible = 0;
    for (size_t k = 0; k < in->view->n; k++) {
        const lec_cluster_node *n = &in->view->nodes[k];
        const lec_node_info *i = &n->info;
        double u = lec_steer_utilisation(i);
        if (!usable(in, n) || (i->role != LEC_ROLE_EDGE && !origin_may_serve(&rule, i)))
            continue;
        lec_steer_choice c = {.node = n, .utilisation = u, .holds = holds(i, in->stream)};
        c.latency_ms = latency(in, &rtts, n, NULL, 0);
        double load = LOAD_MS * u + (u > 0.85 ? OVERLOAD_MS * (u - 0.85) : 0);
        c.score = c.latency_ms + load - (c.holds ? HOLD_BONUS_MS : 0);
        eligible++;
        /* Insertion, best first; when out is full the worst falls off. */
        if (count == max && (max == 0 || cmp(&c, &out[max - 1]) >= 0))
            continue;
        size_t at = count < max ? count++ : max - 1;
        while (at > 0 && cmp(&c, &out[at - 1]) < 0) {
            out[at] = out[at - 1];
            at--;
        }
        out[at] = c;
    }
    /* Reasons only for the nodes that made the list. */
    for (size_t k = 0; k < count; k++) {
        lec_steer_choice *c = &out[k];
        const lec_node_info *i = &c->node->info;
        char how[96];
        latency(in, &rtts, c->node, how, sizeof how);
        snprintf(c->reason, sizeof c->reason, "%s%s: ~%.0f ms (%s), load %.0f%%%s", i->region,
                 i->role == LEC_ROLE_ORIGIN ? " origin" : "", c->latency_ms, how,
                 c->utilisation * 100, c->holds ? ", holds the stream" : "");
    }
    return eligible < count ? eligible : count;
}
