/*
 * A stream's viewers over several workers (media_int.h, pipes/pipes.h).
 *
 * Each stream has a home worker (by its name's hash): its publisher, or
 * the relay leg that pulls it, lives there.  One worker's core carries a
 * few hundred viewers at 1.5 Mbps (bench/README.md); a lecture with
 * thousands of students on one edge needs them all.  So when the workers
 * serving a stream carry `worker_spread` sessions more than the least
 * loaded worker, the next viewer opens a shard there: the home's room gets
 * a pipe (a local leg) to that worker, whose own room serves viewers from
 * it, with its own ring for their NACKs and its own GOP cache for
 * joiners.  Later viewers go to the least loaded worker already serving
 * the stream, so a big stream's viewers end up spread evenly, and small
 * streams stay on one worker each.  A shard with no viewer for
 * SHARD_LINGER closes.
 *
 * Everything here runs on the main loop; the workers only see jobs.
 */
#include "base/err.h"
#include "node/media_int.h"
#include "pipes/pipes.h"
#include "relay/relay.h"
#include "sys/sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD          "media"
#define SHARD_LINGER (10 * LEC_S)
#define TIMER_MS     1000

static lec_tstamp now(const lec_media *m)
{
    return lec_clock_now(m->node->clock); /* the node's: nothing here reads a clock */
}

static unsigned nworkers(const lec_media *m)
{
    return m->node->nworkers;
}

/* ---- placing viewers ---------------------------------------------------- */

static void post_view(lec_media *m, stream_ent *e, job *j, unsigned w)
{
    j->worker = w;
    m->wload[w]++;
    if (e)
        e->shards[w].pending++;
    lec__job_post(j);
}

static void pipe_out_done(job *j);
static void pipe_in_done(job *j);

/* A job that closes a pipe's end on worker w: leg_id on the home, 0 for
 * the shard's own room (its pipe then says BYE to the home). */
static void close_pipe_end(lec_media *m, stream_ent *e, unsigned w, uint64_t leg_id)
{
    job *c = lec__job_new(m, NULL, e->name, lec__job_run_leg_close, NULL);
    if (!c)
        return;
    c->worker = w;
    c->leg_id = leg_id;
    lec__job_post(c);
}

static void open_shard(lec_media *m, stream_ent *e, unsigned w)
{
    shard *sh = &e->shards[w];
    job *j = lec__job_new(m, NULL, e->name, lec__job_run_leg_out, pipe_out_done);
    lec_sfu_leg_out *o = j ? calloc(1, sizeof *o) : NULL;
    if (!o || lec_pipes_connect(m->pipes, e->worker, w)) {
        free(o);
        if (j)
            lec__job_free(j);
        return;
    }
    snprintf(o->stream, sizeof o->stream, "%s", e->name);
    snprintf(o->requester, sizeof o->requester, "worker %u", w);
    o->leg_id = lec_relay_tag(w, lec_rand_u64(lec_sys_rand()));
    o->pipe = true;
    o->pipe_worker = w;
    j->leg_out = o;
    j->worker = e->worker;
    sh->state = SHARD_OPENING;
    sh->leg_id = o->leg_id;
    sh->idle_since = 0;
    LEC_DEBUG(&m->node->log, MOD, "stream %s: opening a shard on worker %u", e->name, w);
    lec__job_post(j);
}

void lec__shards_view(lec_media *m, job *j)
{
    stream_ent *e = lec__streams_find(m, j->stream);
    unsigned n = nworkers(m), home = e ? e->worker : j->worker;
    uint32_t spread = m->node->cfg->worker_spread;
    j->placed = true;
    if (!e || !m->pipes || !spread || n < 2) {
        post_view(m, e, j, home);
        return;
    }
    /* The least loaded of the workers serving the stream, and of all. */
    unsigned best = home, least = home;
    for (unsigned w = 0; w < n; w++) {
        if (e->shards[w].state == SHARD_OPEN && m->wload[w] < m->wload[best])
            best = w;
        if (m->wload[w] < m->wload[least])
            least = w;
    }
    shard *sh = &e->shards[least];
    if (least != home && m->wload[best] >= m->wload[least] + spread &&
        (sh->state == SHARD_NONE || sh->state == SHARD_OPENING)) {
        if (sh->state == SHARD_NONE)
            open_shard(m, e, least);
        if (sh->state == SHARD_OPENING) {
            m->wload[least]++;
            sh->pending++;
            j->worker = least;
            j->next_waiting = sh->waiting;
            sh->waiting = j;
            return;
        }
    }
    post_view(m, e, j, best);
}

void lec__shards_view_done(lec_media *m, job *j)
{
    stream_ent *e = lec__streams_find(m, j->stream);
    if (e && e->shards[j->worker].pending)
        e->shards[j->worker].pending--;
    if (j->res.rc && m->wload[j->worker])
        m->wload[j->worker]--;
}

/* Posts the offers that waited for the shard on `w` there, or, when it
 * could not open, to the home worker. */
static void release_waiting(lec_media *m, stream_ent *e, unsigned w, bool opened)
{
    shard *sh = &e->shards[w];
    job *list = sh->waiting;
    sh->waiting = NULL;
    for (job *j = list, *next; j; j = next) {
        next = j->next_waiting;
        j->next_waiting = NULL;
        sh->pending--;
        m->wload[w]--;
        post_view(m, e, j, opened ? w : e->worker);
    }
}

/* ---- opening and closing ------------------------------------------------ */

static void close_shard(lec_media *m, stream_ent *e, unsigned w, const char *why)
{
    e->shards[w].state = SHARD_CLOSING;
    LEC_DEBUG(&m->node->log, MOD, "stream %s: closing the shard on worker %u (%s)", e->name, w,
              why);
    close_pipe_end(m, e, w, 0);
}

/* The home's end of a pipe is open (or not): the shard's room next. */
static void pipe_out_done(job *j)
{
    lec_media *m = j->m;
    stream_ent *e = lec__streams_find(m, j->stream);
    unsigned w = j->leg_out->pipe_worker;
    if (!e)
        return;
    shard *sh = &e->shards[w];
    const lec_sfu_leg_out *o = j->leg_out;
    job *in = o->error || j->rc ? NULL
                                : lec__job_new(m, NULL, e->name, lec__job_run_leg_in, pipe_in_done);
    lec_sfu_leg_in *q = in ? calloc(1, sizeof *q) : NULL;
    if (!q) {
        if (in)
            lec__job_free(in);
        if (!o->error && !j->rc) /* no memory here: close the home's end */
            close_pipe_end(m, e, e->worker, o->leg_id);
        LEC_DEBUG(&m->node->log, MOD, "stream %s: no shard on worker %u: %s", e->name, w,
                  o->error ? o->reason : "out of memory");
        sh->state = SHARD_NONE;
        release_waiting(m, e, w, false);
        return;
    }
    snprintf(q->stream, sizeof q->stream, "%s", e->name);
    snprintf(q->source, sizeof q->source, "worker %u", e->worker);
    q->leg_id = o->leg_id;
    q->source_tag = o->source_tag;
    memcpy(q->tracks, o->tracks, sizeof q->tracks);
    q->ntracks = o->ntracks;
    q->depth = o->depth;
    q->pipe = true;
    q->pipe_worker = e->worker;
    in->leg_in = q;
    in->worker = w;
    sh->state = SHARD_OPEN;
    sh->idle_since = now(m);
    lec__job_post(in);
    release_waiting(m, e, w, true); /* behind the pipe on the same queue */
    LEC_INFO(&m->node->log, MOD, "stream %s: viewers spread to worker %u", e->name, w);
}

/* The shard's room is open on its worker (or not). */
static void pipe_in_done(job *j)
{
    stream_ent *e = lec__streams_find(j->m, j->stream);
    if (j->rc && e) {
        /* The shard's room could not be made: close the home's end (its
         * LEG_GONE resets the shard). */
        close_pipe_end(j->m, e, e->worker, j->leg_in->leg_id);
        e->shards[j->worker].state = SHARD_CLOSING;
    }
}

void lec__shards_event(lec_media *m, stream_ent *e, const lec_sfu_event *ev)
{
    if (ev->worker >= nworkers(m))
        return;
    if (ev->kind == LEC_SFU_VIEWERS) {
        shard *sh = &e->shards[ev->worker];
        sh->viewers = ev->viewers;
        sh->idle_since = ev->viewers ? 0 : sh->idle_since ? sh->idle_since : now(m);
        unsigned sum = 0;
        for (unsigned w = 0; w < nworkers(m); w++)
            sum += e->shards[w].viewers;
        e->viewers = sum;
        if (ev->worker == e->worker)
            e->legs = ev->legs;
        return;
    }
    if (ev->kind == LEC_SFU_LEG_GONE && ev->pipe) {
        /* The home closed a pipe: the stream ended there, or the shard
         * closed and said so. */
        for (unsigned w = 0; w < nworkers(m); w++) {
            shard *sh = &e->shards[w];
            /* Not while OPENING: the open's answer comes back before any
             * event about the pipe it made. */
            if (sh->leg_id != ev->leg_id || sh->state == SHARD_NONE)
                continue;
            sh->state = SHARD_NONE;
            sh->leg_id = 0;
            sh->viewers = 0;
            return;
        }
    }
}

static void on_timer(uv_timer_t *t)
{
    lec_media *m = t->data;
    lec_tstamp n = now(m);
    for (stream_ent *e = m->streams; e; e = e->next)
        for (unsigned w = 0; w < nworkers(m); w++) {
            shard *sh = &e->shards[w];
            if (sh->state == SHARD_OPEN && !sh->viewers && !sh->pending && sh->idle_since &&
                n - sh->idle_since >= SHARD_LINGER)
                close_shard(m, e, w, "no viewers");
        }
}

void lec_media_pipe_stats(const lec_media *m, uint64_t *packets, uint64_t *dropped,
                          unsigned *shards)
{
    *packets = *dropped = 0;
    *shards = 0;
    if (m->pipes) {
        lec_pipes_stats st;
        lec_pipes_get_stats(m->pipes, &st);
        *packets = st.sent;
        *dropped = st.dropped;
    }
    for (const stream_ent *e = m->streams; e; e = e->next)
        for (unsigned w = 0; w < nworkers(m); w++)
            *shards += e->shards[w].state == SHARD_OPEN;
}

int lec__shards_start(lec_media *m)
{
    unsigned n = nworkers(m);
    m->wload = calloc(n, sizeof *m->wload);
    if (!m->wload)
        return LEC_ERR_NOMEM;
    if (n < 2)
        return 0;
    int rc = lec_pipes_new(&m->pipes, n);
    if (!rc && uv_timer_init(m->node->loop, &m->shard_timer))
        rc = LEC_ERR_IO;
    if (rc)
        return rc;
    m->shard_timer.data = m;
    m->has_shard_timer = true;
    uv_timer_start(&m->shard_timer, on_timer, TIMER_MS, TIMER_MS);
    return 0;
}

void lec__shards_stop(lec_media *m)
{
    for (stream_ent *e = m->streams; e; e = e->next)
        for (unsigned w = 0; w < nworkers(m); w++)
            while (e->shards[w].waiting) {
                job *j = e->shards[w].waiting;
                e->shards[w].waiting = j->next_waiting;
                lec_http_resp_error(&j->ex->resp, 503, "this node is shutting down");
                lec_http_ex_finish(j->ex);
                lec__job_free(j);
            }
    if (m->has_shard_timer) {
        uv_timer_stop(&m->shard_timer);
        uv_close((uv_handle_t *)&m->shard_timer, NULL);
        m->has_shard_timer = false;
    }
}
