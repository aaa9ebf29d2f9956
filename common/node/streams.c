/*
 * The stream directory (media_int.h), on the main loop: the one owner of
 * the node's stream records (stream_ent) and session records (sess_ent).
 * Other node modules find, create and read records here; each field of a
 * stream_ent is written by the module its comment names (media.c: live,
 * viewers' sums through events; shards.c: shards; cascade.c: the relay
 * fields), and a record goes only through lec__streams_gc, when nothing
 * uses it any more.
 */
#include "base/err.h"
#include "cluster/cluster.h"
#include "node/media_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

stream_ent *lec__streams_find(lec_media *m, const char *name)
{
    for (stream_ent *e = m->streams; e; e = e->next)
        if (!strcmp(e->name, name))
            return e;
    return NULL;
}

unsigned lec__streams_home(const lec_media *m, const char *stream)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = stream; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h % m->node->nworkers;
}

stream_ent *lec__streams_get(lec_media *m, const char *name)
{
    stream_ent *e = lec__streams_find(m, name);
    if (e)
        return e;
    e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->shards = calloc(m->node->nworkers, sizeof *e->shards);
    if (!e->shards) {
        free(e);
        return NULL;
    }
    snprintf(e->name, sizeof e->name, "%s", name);
    e->worker = lec__streams_home(m, name);
    e->next = m->streams;
    m->streams = e;
    return e;
}

static bool shards_busy(const stream_ent *e, unsigned n)
{
    for (unsigned w = 0; w < n; w++)
        if (e->shards[w].state != SHARD_NONE || e->shards[w].pending)
            return true;
    return false;
}

void lec__streams_gc(lec_media *m)
{
    for (stream_ent **pp = &m->streams; *pp;) {
        stream_ent *e = *pp;
        bool used = e->live || e->pulled || e->pulling || e->waiting || e->legs || e->legs_asked ||
                    shards_busy(e, m->node->nworkers);
        for (sess_ent *s = m->sessions; s && !used; s = s->next)
            used = !strcmp(s->stream, e->name);
        if (used) {
            pp = &e->next;
            continue;
        }
        *pp = e->next;
        free(e->shards);
        free(e);
    }
}

void lec__streams_free(lec_media *m)
{
    while (m->sessions)
        lec__sessions_drop(m, m->sessions->id);
    while (m->streams) {
        stream_ent *e = m->streams;
        m->streams = e->next;
        free(e->shards);
        free(e);
    }
    lec__admit_free(m);
}

sess_ent *lec__sessions_find(lec_media *m, const char *id)
{
    for (sess_ent *s = m->sessions; s; s = s->next)
        if (!strcmp(s->id, id))
            return s;
    return NULL;
}

sess_ent *lec__sessions_add(lec_media *m, const char *id, const char *stream, unsigned worker,
                            bool publisher)
{
    sess_ent *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    snprintf(s->id, sizeof s->id, "%s", id);
    snprintf(s->stream, sizeof s->stream, "%s", stream);
    s->worker = worker;
    s->publisher = publisher;
    s->next = m->sessions;
    m->sessions = s;
    if (publisher) /* views were counted when placed (shards.c) */
        m->wload[worker]++;
    return s;
}

bool lec__sessions_drop(lec_media *m, const char *id)
{
    for (sess_ent **pp = &m->sessions; *pp; pp = &(*pp)->next)
        if (!strcmp((*pp)->id, id)) {
            sess_ent *s = *pp;
            *pp = s->next;
            lec__admit_session_ready(m, s);
            if (m->wload[s->worker])
                m->wload[s->worker]--;
            free(s);
            return true;
        }
    return false;
}

void lec_media_leg_counts(const lec_media *m, uint32_t *in, uint32_t *out)
{
    *in = *out = 0;
    for (const stream_ent *e = m->streams; e; e = e->next) {
        *in += e->pulled;
        *out += e->legs;
    }
}

void lec_media_counts(const lec_media *m, unsigned *publishers, unsigned *viewers)
{
    *publishers = *viewers = 0;
    for (const sess_ent *s = m->sessions; s; s = s->next)
        *(s->publisher ? publishers : viewers) += 1;
}

unsigned lec_media_sessions(const lec_media *m)
{
    unsigned n = m->inflight[0] + m->inflight[1];
    for (const sess_ent *s = m->sessions; s; s = s->next)
        n++;
    return n;
}

size_t lec_media_held(const lec_media *m, lec_cluster_held *out, size_t max)
{
    size_t n = 0;
    for (const stream_ent *e = m->streams; e && n < max; e = e->next) {
        if (!e->live)
            continue;
        out[n] = (lec_cluster_held){.depth = e->pulled ? e->depth : 0, .viewers = e->viewers};
        snprintf(out[n].stream, sizeof out[n].stream, "%s", e->name);
        if (e->pulled)
            snprintf(out[n].source, sizeof out[n].source, "%s", e->source);
        n++;
    }
    return n;
}
