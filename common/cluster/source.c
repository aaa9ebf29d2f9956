/* Relay source selection (source.h). */
#include "cluster/source.h"
#include "cluster/steer.h"

#include <stdio.h>
#include <string.h>

static bool listed(const char *id, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] && !strcmp(list[i], id))
            return true;
    return false;
}

static size_t rank_of(const char *id, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] && !strcmp(list[i], id))
            return i;
    return n;
}

static const lec_cluster_node *self_node(const lec_cluster *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->nodes[i].self)
            return &c->nodes[i];
    return NULL;
}

/* The stream's depth on n, or -1 when n does not hold it. */
static long held_depth(const lec_cluster_node *n, const char *stream)
{
    for (size_t k = 0; k < n->info.nstreams; k++)
        if (!strcmp(n->info.streams[k].stream, stream))
            return n->info.streams[k].depth;
    return -1;
}

bool lec_cluster_stream_held(const lec_cluster *c, const char *stream)
{
    for (size_t i = 0; i < c->n; i++)
        if (!c->nodes[i].self && held_depth(&c->nodes[i], stream) >= 0)
            return true;
    return false;
}

/* Whether candidate a ranks before b. */
static bool better(const lec_source_pick *a, size_t arank, const lec_source_pick *b, size_t brank)
{
    if (arank != brank)
        return arank < brank;
    if (a->cost_us != b->cost_us)
        return a->cost_us < b->cost_us;
    if (a->depth != b->depth)
        return a->depth < b->depth;
    return strcmp(a->node->info.id, b->node->info.id) < 0;
}

lec_source_pick lec_cluster_pick_source(const lec_cluster *c, const lec_source_query *q)
{
    lec_source_pick best = {0};
    size_t best_rank = 0;
    const lec_cluster_node *self = self_node(c);
    for (size_t i = 0; i < c->n; i++) {
        const lec_cluster_node *n = &c->nodes[i];
        long depth = held_depth(n, q->stream);
        if (n->self || n->info.draining || depth < 0 || (uint32_t)depth + 1 > q->max_depth ||
            listed(n->info.id, q->exclude, q->nexclude))
            continue;
        lec_source_pick p = {.node = n, .depth = (uint32_t)depth};
        if (n->srtt_us) {
            p.cost_us = n->srtt_us;
            p.measured = true;
        } else if (self) {
            double km =
                lec_steer_distance_km(self->info.lat, self->info.lon, n->info.lat, n->info.lon);
            p.cost_us = (uint32_t)(km * 20.0); /* 100 km per ms, there and back */
        }
        size_t rank = rank_of(n->info.id, q->prefer, q->nprefer);
        p.preferred = rank < q->nprefer;
        if (!best.node || better(&p, rank, &best, best_rank)) {
            best = p;
            best_rank = rank;
        }
    }
    return best;
}

void lec_pull_reset(lec_pull *p)
{
    p->tries = 0;
    p->nexcluded = 0;
}

void lec_pull_exclude(lec_pull *p, const char *node)
{
    for (unsigned i = 0; i < p->nexcluded; i++)
        if (!strcmp(p->excluded[i], node))
            return;
    if (p->nexcluded < LEC_PULL_MAX_EXCLUDED)
        snprintf(p->excluded[p->nexcluded++], sizeof p->excluded[0], "%s", node);
}

lec_source_pick lec_pull_next(lec_pull *p, const lec_cluster *c, const lec_source_query *q,
                              const char **why)
{
    lec_source_pick none = {0};
    if (p->tries >= LEC_PULL_MAX_TRIES) {
        *why = "every source tried failed";
        return none;
    }
    p->tries++;
    const char *excl[LEC_PULL_MAX_EXCLUDED + 8];
    size_t n = 0;
    for (size_t i = 0; i < q->nexclude && n < LEC_PULL_MAX_EXCLUDED + 8; i++)
        excl[n++] = q->exclude[i];
    for (unsigned i = 0; i < p->nexcluded && n < LEC_PULL_MAX_EXCLUDED + 8; i++)
        excl[n++] = p->excluded[i];
    lec_source_query qq = *q;
    qq.exclude = excl;
    qq.nexclude = n;
    lec_source_pick pick = lec_cluster_pick_source(c, &qq);
    if (!pick.node)
        *why = "no node with room holds it";
    return pick;
}
