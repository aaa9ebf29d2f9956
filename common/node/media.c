/*
 * WHIP/WHEP on the main loop (media.h).
 *
 * A request is checked here (method, auth, content type, stream name,
 * SDP), then posted as a job to the stream's worker, whose engine answers;
 * the job comes back through the main loop's queue and finishes the HTTP
 * exchange.  Workers report what happens later (live, ended, sessions that
 * fail on their own, viewer counts) the same way.
 */
#include "node/media_int.h"
#include "base/err.h"
#include "bus/codec.h"
#include "cluster/cluster.h"
#include "node/node.h"
#include "sfu/sfu.h"
#include "relay/pipes.h"
#include "relay/relay.h"
#include "sys/sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "media"

/* ---- registry (main loop) --------------------------------------------- */

static stream_ent *stream_find(lec_media *m, const char *name)
{
    for (stream_ent *e = m->streams; e; e = e->next)
        if (!strcmp(e->name, name))
            return e;
    return NULL;
}

static unsigned worker_for(const lec_media *m, const char *stream)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = stream; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h % m->node->nworkers;
}

static stream_ent *stream_get(lec_media *m, const char *name)
{
    stream_ent *e = stream_find(m, name);
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
    e->worker = worker_for(m, name);
    e->next = m->streams;
    m->streams = e;
    return e;
}

stream_ent *lec__media_stream_find(lec_media *m, const char *name)
{
    return stream_find(m, name);
}

stream_ent *lec__media_stream_get(lec_media *m, const char *name)
{
    return stream_get(m, name);
}

unsigned lec__media_worker_for(const lec_media *m, const char *stream)
{
    return worker_for(m, stream);
}

static sess_ent *session_find(lec_media *m, const char *id)
{
    for (sess_ent *s = m->sessions; s; s = s->next)
        if (!strcmp(s->id, id))
            return s;
    return NULL;
}

sess_ent *lec__media_session_find(lec_media *m, const char *id)
{
    return session_find(m, id);
}

static void drain_check(lec_media *m);

/* Forgets a session (ended, or DELETEd); the last one ends a waiting drain. */
static void session_drop(lec_media *m, const char *id)
{
    for (sess_ent **pp = &m->sessions; *pp; pp = &(*pp)->next)
        if (!strcmp((*pp)->id, id)) {
            sess_ent *s = *pp;
            *pp = s->next;
            if (m->wload[s->worker])
                m->wload[s->worker]--;
            free(s);
            drain_check(m);
            return;
        }
}

/* Forgets streams with nothing left: not live, no session, no leg. */
static void streams_gc(lec_media *m)
{
    for (stream_ent **pp = &m->streams; *pp;) {
        stream_ent *e = *pp;
        bool used = e->live || e->pulled || e->pulling || e->waiting || e->legs ||
                    lec__shards_busy(e, m->node->nworkers);
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

void lec__media_streams_gc(lec_media *m)
{
    streams_gc(m);
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

/* ---- worker side -------------------------------------------------------- */

static void on_sfu_event_main(void *arg);

/* On a worker: hand an engine event to the main loop. */
static void sfu_event(void *ud, const lec_sfu_event *ev)
{
    lec_media *m = ud;
    lec_sfu_event *copy = malloc(sizeof *copy + sizeof(lec_media *));
    if (!copy)
        return;
    *copy = *ev;
    memcpy(copy + 1, &m, sizeof m);
    if (lec_msgq_post(&m->node->mainq, on_sfu_event_main, copy))
        free(copy);
}

static void job_done_main(void *arg);
static void job_free(job *j);

static void run_job(void *arg)
{
    job *j = arg;
    lec_worker *w = &j->m->node->workers[j->worker];
    lec_sfu *sfu = j->m->sfus[j->worker];
    switch (j->kind) {
    case JOB_INIT: {
        const lec_config *cfg = j->m->node->cfg;
        lec_sfu_env env = {.loop = &w->loop,
                           .relay = j->m->relay,
                           .pipes = j->m->pipes,
                           .worker = j->worker,
                           .glib = w->glib,
                           .log = &j->m->node->log,
                           .cert = j->m->cert,
                           .port_min = cfg->ice.port_range.min,
                           .port_max = cfg->ice.port_range.max,
                           .public_ip = cfg->ice.public_ip,
                           .rand = lec_sys_rand(),
                           .event = sfu_event,
                           .ud = j->m};
        if (j->m->node->sfu_metrics)
            env.metrics = j->m->node->sfu_metrics[j->worker];
        for (size_t i = 0; i < cfg->ice.addresses.n && i < 8; i++)
            env.addresses[env.naddresses++] = cfg->ice.addresses.v[i];
        j->m->sfus[j->worker] = lec_sfu_new(&env);
        free(j);
        return;
    }
    case JOB_FREE:
        lec_sfu_free(sfu);
        j->m->sfus[j->worker] = NULL;
        free(j);
        return;
    case JOB_PUBLISH:
        lec_sfu_publish(sfu, j->stream, j->id, j->offer, &j->res);
        break;
    case JOB_VIEW:
        lec_sfu_view(sfu, j->stream, j->id, j->offer, &j->res);
        break;
    case JOB_END:
        j->rc = lec_sfu_end(sfu, j->id);
        break;
    case JOB_TRICKLE:
        j->rc = lec_sfu_trickle(sfu, j->id, j->frag, j->frag_len);
        break;
    case JOB_LEG_OUT:
        lec_sfu_leg_out_open(sfu, j->leg_out);
        break;
    case JOB_LEG_IN:
        j->rc = lec_sfu_leg_in_open(sfu, j->leg_in);
        break;
    case JOB_LEG_CLOSE:
        lec_sfu_leg_close(sfu, j->stream, j->leg_id);
        break;
    case JOB_STATS:
        j->rc = lec_sfu_session_stats_get(sfu, j->id, &j->stats);
        break;
    }
    if (lec_msgq_post(&j->m->node->mainq, job_done_main, j))
        job_free(j); /* the main loop is gone (shutdown): nobody waits for the answer */
}

/* ---- main loop ---------------------------------------------------------- */

static void on_sfu_event_main(void *arg)
{
    lec_sfu_event *ev = arg;
    lec_media *m;
    memcpy(&m, ev + 1, sizeof m);
    stream_ent *e = stream_find(m, ev->stream);
    switch (ev->kind) {
    case LEC_SFU_STREAM_LIVE:
        if (e) {
            e->live = true;
            e->started_unix_ms = lec_clock_now(lec_sys_wall_clock()) / LEC_MS;
        }
        LEC_INFO(&m->node->log, MOD, "stream %s is live", ev->stream);
        break;
    case LEC_SFU_STREAM_ENDED:
        if (e)
            e->live = false;
        LEC_INFO(&m->node->log, MOD, "stream %s ended", ev->stream);
        break;
    case LEC_SFU_SESSION_GONE: {
        sess_ent *gone = session_find(m, ev->session);
        if (gone)
            lec_metric_add(&m->node->metrics, 0, m->node->m.sessions[gone->publisher ? 0 : 1][2],
                           1);
        session_drop(m, ev->session);
        break;
    }
    case LEC_SFU_VIEWERS:
    case LEC_SFU_LEG_GONE:
        if (e)
            lec__shards_event(m, e, ev);
        break;
    case LEC_SFU_LEG_SILENT:
        break;
    }
    if (!ev->pipe)
        lec__cascade_event(m, ev);
    streams_gc(m);
    free(ev);
}

static void job_free(job *j)
{
    free(j->res.answer);
    free(j->offer);
    free(j->frag);
    free(j->leg_out);
    free(j->leg_in);
    free(j);
}

void lec__media_job_free(job *j)
{
    job_free(j);
}

static void job_done_main(void *arg)
{
    job *j = arg;
    lec_media *m = j->m;
    if (j->shard) {
        lec__shards_job_done(m, j);
        job_free(j);
        streams_gc(m);
        return;
    }
    if (j->kind == JOB_STATS) {
        lec__media_status_job_done(m, j);
        job_free(j);
        return;
    }
    if (j->kind == JOB_VIEW && j->placed)
        lec__shards_view_done(m, j);
    if (j->kind == JOB_LEG_OUT || j->kind == JOB_LEG_IN || j->kind == JOB_LEG_CLOSE) {
        lec__cascade_job_done(m, j);
        job_free(j);
        return;
    }
    lec_http_ex *ex = j->ex;
    lec_http_resp *r = &ex->resp;
    if (j->kind == JOB_PUBLISH || j->kind == JOB_VIEW) {
        lec_metric_add(
            &m->node->metrics, 0,
            m->node->m.sessions[j->kind == JOB_PUBLISH ? 0 : 1][j->res.status == 201 ? 0 : 1], 1);
        if (j->res.status == 201) {
            sess_ent *s = calloc(1, sizeof *s);
            if (s) {
                snprintf(s->id, sizeof s->id, "%s", j->id);
                snprintf(s->stream, sizeof s->stream, "%s", j->stream);
                s->worker = j->worker;
                s->publisher = j->kind == JOB_PUBLISH;
                s->next = m->sessions;
                m->sessions = s;
                if (s->publisher) /* views were counted when posted */
                    m->wload[s->worker]++;
            }
            stream_ent *e = stream_get(m, j->stream);
            if (e && j->kind == JOB_PUBLISH)
                snprintf(e->pub, sizeof e->pub, "%s", j->id);
            r->status = 201;
            snprintf(r->content_type, sizeof r->content_type, "application/sdp");
            lec_sbuf_puts(&r->body, j->res.answer);
            lec_sbuf base;
            lec_sbuf_init(&base, NULL);
            lec_http_ex_base_url(ex, &base);
            lec_http_resp_header(r, "Location", "%s/%s/%s/%s", base.data,
                                 j->kind == JOB_PUBLISH ? "whip" : "whep", j->stream, j->id);
            lec_sbuf_free(&base);
            lec_http_resp_header(r, "ETag", "\"%s\"", j->id);
            lec_http_resp_header(r, "Accept-Patch", "application/trickle-ice-sdpfrag");
        } else {
            lec_http_resp_error(r, j->res.status, "%s", j->res.reason);
            if (j->res.status == 409 && j->kind == JOB_VIEW)
                lec_http_resp_header(r, "Retry-After", "2");
        }
    } else if (j->kind == JOB_END) {
        if (j->rc == 0) {
            session_drop(m, j->id);
            r->status = 200;
        } else {
            lec_http_resp_error(r, 404, "no such session");
        }
        streams_gc(m);
    } else if (j->kind == JOB_TRICKLE) {
        if (j->rc == 0)
            r->status = 204;
        else if (j->rc == LEC_ERR_UNSUPPORTED)
            lec_http_resp_error(r, 422, "ICE restart is not supported; start a new session");
        else
            lec_http_resp_error(r, 404, "no such session");
    }
    lec_http_ex_finish(ex);
    job_free(j);
}

static job *job_new(lec_media *m, lec_http_ex *ex, job_kind kind, const char *stream)
{
    job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->m = m;
    j->ex = ex;
    j->kind = kind;
    snprintf(j->stream, sizeof j->stream, "%s", stream);
    j->worker = worker_for(m, stream);
    return j;
}

job *lec__media_job_new(lec_media *m, lec_http_ex *ex, job_kind kind, const char *stream)
{
    return job_new(m, ex, kind, stream);
}

static void post_job(lec_media *m, job *j)
{
    if (j->kind == JOB_VIEW && !j->placed) {
        lec__shards_view(m, j); /* comes back here, placed */
        return;
    }
    if (lec_worker_post(&m->node->workers[j->worker], run_job, j)) {
        if (j->kind == JOB_VIEW) {
            j->res.status = 503;
            lec__shards_view_done(m, j);
        }
        if (j->ex) {
            lec_http_resp_error(&j->ex->resp, 503, "the media worker is not available");
            lec_http_ex_finish(j->ex);
        }
        j->rc = LEC_ERR_CLOSED;
        if (j->shard)
            lec__shards_job_done(m, j);
        else if (j->kind == JOB_LEG_OUT || j->kind == JOB_LEG_IN || j->kind == JOB_LEG_CLOSE)
            lec__cascade_job_done(m, j);
        job_free(j);
    }
}

void lec__media_post_job(lec_media *m, job *j)
{
    post_job(m, j);
}

/* Bearer check against a token set; an empty set means open.  A ?token=
 * query also counts: browsers drop Authorization when they follow a
 * steering 307 to another node, so the redirect carries it there. */
static bool authorized(lec_http_ex *ex, const lec_tokens *t)
{
    if (!t->n)
        return true;
    size_t len = 0;
    const char *tok = lec_http_req_bearer(ex->req, &len);
    if (tok && lec_tokens_check(t, tok, len))
        return true;
    char q[256];
    int qn = lec_http_req_query(ex->req, "token", q, sizeof q);
    if (qn > 0 && (size_t)qn < sizeof q && lec_tokens_check(t, q, (size_t)qn))
        return true;
    lec_http_resp_error(&ex->resp, 401, "a valid bearer token is required");
    lec_http_resp_header(&ex->resp, "WWW-Authenticate", "Bearer realm=\"lectern\"");
    lec_http_ex_finish(ex);
    return false;
}

static void offer(lec_http_ex *ex, bool publish)
{
    lec_media *m = ex->ud;
    const char *stream = lec_http_req_param(ex->req, "stream");
    if (!authorized(ex, publish ? &m->publish_tokens : &m->view_tokens))
        return;
    if (!stream || !lec_codec_valid_token(stream)) {
        lec_http_resp_error(&ex->resp, 400, "a stream name is 1-64 of A-Z a-z 0-9 _ -");
        lec_http_ex_finish(ex);
        return;
    }
    /* WHEP: the nearest healthy node with room may be another one. */
    if (!publish && m->node->steering && lec_steering_redirect(m->node->steering, ex, stream))
        return;
    const char *ct = lec_http_req_header(ex->req, "content-type");
    if (!ct || strncasecmp(ct, "application/sdp", 15)) {
        lec_http_resp_error(&ex->resp, 415, "the offer must be Content-Type: application/sdp");
        lec_http_ex_finish(ex);
        return;
    }
    if (m->node->draining || m->closing) {
        lec_http_resp_error(&ex->resp, 503, "this node is draining; try another");
        lec_http_resp_header(&ex->resp, "Retry-After", "1");
        lec_http_ex_finish(ex);
        return;
    }
    job *j = job_new(m, ex, publish ? JOB_PUBLISH : JOB_VIEW, stream);
    if (j)
        j->offer = calloc(1, sizeof *j->offer);
    if (!j || !j->offer) {
        free(j);
        lec_http_resp_error(&ex->resp, 500, "out of memory");
        lec_http_ex_finish(ex);
        return;
    }
    char err[256];
    if (lec_sdp_parse((const char *)ex->req->body, ex->req->body_len, j->offer, err, sizeof err)) {
        lec_http_resp_error(&ex->resp, 400, "bad SDP offer: %s", err);
        lec_http_ex_finish(ex);
        job_free(j);
        return;
    }
    const lec_config *cfg = m->node->cfg;
    unsigned pubs, views;
    lec_media_counts(m, &pubs, &views);
    unsigned cap = publish ? cfg->limits.max_publishers : cfg->limits.max_viewers;
    if (cap && (publish ? pubs : views) >= cap) {
        /* Steering sends nobody to a full node, but heartbeats lag by up
         * to a second, and a node alone is not steered at all. */
        lec_http_resp_error(&ex->resp, 503, "this node is full (%u %s); try again", cap,
                            publish ? "publishers" : "viewers");
        lec_http_resp_header(&ex->resp, "Retry-After", "5");
        lec_http_ex_finish(ex);
        job_free(j);
        return;
    }
    uint8_t rnd[16];
    lec_sys_rand()->fill(lec_sys_rand()->ud, rnd, sizeof rnd);
    for (int i = 0; i < 16; i++)
        snprintf(j->id + 2 * i, 3, "%02x", rnd[i]);
    if (!publish) {
        stream_ent *e = stream_find(m, stream);
        if (!e || !e->live) {
            /* Held elsewhere in the cluster: pull it here, then serve. */
            if (lec__cascade_wait(m, j))
                return;
            lec_http_resp_error(&ex->resp, 409, "stream %s is not live", stream);
            lec_http_resp_header(&ex->resp, "Retry-After", "2");
            lec_http_ex_finish(ex);
            job_free(j);
            return;
        }
    }
    post_job(m, j);
}

static void whip_post(lec_http_ex *ex)
{
    offer(ex, true);
}

static void whep_post(lec_http_ex *ex)
{
    offer(ex, false);
}

/* PATCH and DELETE on /whip/<stream>/<session> and /whep/... */
static void session_req(lec_http_ex *ex)
{
    lec_media *m = ex->ud;
    const char *stream = lec_http_req_param(ex->req, "stream");
    const char *id = lec_http_req_param(ex->req, "session");
    sess_ent *s = id ? session_find(m, id) : NULL;
    if (!s || strcmp(s->stream, stream)) {
        lec_http_resp_error(&ex->resp, 404, "no such session");
        lec_http_ex_finish(ex);
        return;
    }
    /* The session id is the bearer of the resource URL (RFC 9725 4.3). */
    job *j = job_new(m, ex, ex->req->method == LEC_HTTP_DELETE ? JOB_END : JOB_TRICKLE, stream);
    if (!j) {
        lec_http_resp_error(&ex->resp, 500, "out of memory");
        lec_http_ex_finish(ex);
        return;
    }
    snprintf(j->id, sizeof j->id, "%s", id);
    j->worker = s->worker;
    if (j->kind == JOB_TRICKLE) {
        const char *ct = lec_http_req_header(ex->req, "content-type");
        if (!ct || strncasecmp(ct, "application/trickle-ice-sdpfrag", 31)) {
            lec_http_resp_error(&ex->resp, 415,
                                "PATCH takes Content-Type: application/trickle-ice-sdpfrag");
            lec_http_ex_finish(ex);
            job_free(j);
            return;
        }
        j->frag = malloc(ex->req->body_len + 1);
        if (j->frag) {
            memcpy(j->frag, ex->req->body, ex->req->body_len);
            j->frag_len = ex->req->body_len;
        }
    }
    post_job(m, j);
}

/* ---- lifecycle ---------------------------------------------------------- */

int lec_media_load_tokens(lec_media *m)
{
    const lec_config *cfg = m->node->cfg;
    const char *files[2] = {cfg->auth.publish_tokens_file, cfg->auth.view_tokens_file};
    lec_tokens *sets[2] = {&m->publish_tokens, &m->view_tokens};
    for (int i = 0; i < 2; i++) {
        lec_tokens fresh = {0};
        const char *why = "";
        if (files[i] && lec_tokens_load(&fresh, files[i], &why)) {
            LEC_ERROR(&m->node->log, MOD, "%s %s: %s",
                      i ? "auth.view_tokens_file" : "auth.publish_tokens_file", files[i], why);
            return LEC_ERR_CONFIG;
        }
        lec_tokens_free(sets[i]);
        *sets[i] = fresh;
    }
    return 0;
}

/* The node drains (SIGTERM): no new sessions (offers are refused, the
 * heartbeat says draining, so steering sends nobody here), and the ones
 * here keep their media until they leave: viewer pages see node_draining
 * and move make-before-break.  Media closes when the last session is
 * gone, or at node.drain_timeout (node.c stops the node then). */
static void media_drain(lec_node *node, void *ud)
{
    lec_media *m = ud;
    unsigned n = 0;
    for (const sess_ent *s = m->sessions; s; s = s->next)
        n++;
    if (n) {
        LEC_INFO(&node->log, MOD, "draining: %u session(s) keep playing until they leave or "
                 "node.drain_timeout", n);
        m->drain_waiting = true;
        return;
    }
    lec_media_close(m);
    lec_node_drain_done(node);
}

/* A session left: the last one ends a drain that waited for it. */
static void drain_check(lec_media *m)
{
    if (!m->drain_waiting || m->sessions)
        return;
    m->drain_waiting = false;
    LEC_INFO(&m->node->log, MOD, "drained: every session has left");
    lec_media_close(m);
    lec_node_drain_done(m->node);
}

/* The node will not start: what lec_media_start made goes.  A timer
 * already running closes on the loop, so `m` (which holds it) is left to
 * the exiting process then. */
static lec_media *start_failed(lec_media *m)
{
    bool handles = m->has_cascade_timer || m->has_shard_timer;
    lec__cascade_stop(m);
    lec__shards_stop(m);
    lec_relay_free(m->relay);
    lec_pipes_free(m->pipes);
    free(m->wload);
    lec_tokens_free(&m->publish_tokens);
    lec_tokens_free(&m->view_tokens);
    lec_dtls_cert_free(m->cert);
    free(m->sfus);
    if (!handles)
        free(m);
    return NULL;
}

lec_media *lec_media_start(lec_node *node, bool whip)
{
    lec_media *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->node = node;
    m->sfus = calloc(node->nworkers, sizeof *m->sfus);
    if (!m->sfus || lec_dtls_cert_new(&m->cert) || lec_media_load_tokens(m) || lec__shards_start(m))
        return start_failed(m);
    if (whip && !m->publish_tokens.n)
        LEC_WARN(&node->log, MOD, "no auth.publish_tokens_file: anyone may publish");
    /* Relay legs exist only in a cluster: the socket and the cascade. */
    if (node->cfg->nats.enabled &&
        (lec_relay_bind(&m->relay, &node->cfg->relay.listen, node->nworkers, &node->log) ||
         lec__cascade_start(m)))
        return start_failed(m);
    for (unsigned i = 0; i < node->nworkers; i++) {
        job *j = calloc(1, sizeof *j);
        if (!j)
            return NULL;
        j->m = m;
        j->kind = JOB_INIT;
        j->worker = i;
        lec_worker_post(&node->workers[i], run_job, j);
    }
    int rc = 0;
    if (whip) {
        lec_http_route r = {.name = "whip",
                            .pattern = "/whip/:stream",
                            .methods = LEC_HTTP_POST,
                            .handler = (void *)whip_post,
                            .ud = m,
                            .options_headers = "Accept-Post: application/sdp\r\n"};
        lec_http_route rs = {.name = "whip_session",
                             .pattern = "/whip/:stream/:session",
                             .methods = LEC_HTTP_PATCH | LEC_HTTP_DELETE,
                             .handler = (void *)session_req,
                             .ud = m,
                             .options_headers =
                                 "Accept-Patch: application/trickle-ice-sdpfrag\r\n"};
        rc = lec_http_router_add(&node->router, &r);
        if (!rc)
            rc = lec_http_router_add(&node->router, &rs);
        if (!rc)
            rc = lec_node_route(node, "page_publish", LEC_HTTP_GET, "/publish",
                                lec__media_page_publish, m);
    }
    lec_http_route v = {.name = "whep",
                        .pattern = "/whep/:stream",
                        .methods = LEC_HTTP_POST,
                        .handler = (void *)whep_post,
                        .ud = m,
                        .options_headers = "Accept-Post: application/sdp\r\n"};
    lec_http_route vs = {.name = "whep_session",
                         .pattern = "/whep/:stream/:session",
                         .methods = LEC_HTTP_PATCH | LEC_HTTP_DELETE,
                         .handler = (void *)session_req,
                         .ud = m,
                         .options_headers = "Accept-Patch: application/trickle-ice-sdpfrag\r\n"};
    if (!rc)
        rc = lec_http_router_add(&node->router, &v);
    if (!rc)
        rc = lec_http_router_add(&node->router, &vs);
    if (!rc)
        rc = lec__media_status_routes(m);
    if (!rc)
        rc = lec_node_route(node, "page_viewer", LEC_HTTP_GET, "/", lec__media_page_viewer, m);
    if (!rc)
        rc = lec_node_route(node, "page_viewer", LEC_HTTP_GET, "/watch/:stream",
                            lec__media_page_viewer, m);
    if (!rc)
        rc = lec_node_route(node, "static", LEC_HTTP_GET, "/static/:file", lec__media_page_static,
                            m);
    if (!rc)
        rc = lec_node_on_drain(node, media_drain, m);
    if (rc) {
        LEC_ERROR(&node->log, MOD, "cannot add the media routes: %s", lec_strerror(rc));
        return NULL;
    }
    return m;
}

void lec_media_close(lec_media *m)
{
    if (!m || m->closing)
        return;
    m->closing = true;
    m->drain_waiting = false;
    lec__cascade_stop(m);
    lec__shards_stop(m);
    for (unsigned i = 0; i < m->node->nworkers; i++) {
        job *j = calloc(1, sizeof *j);
        if (!j)
            continue;
        j->m = m;
        j->kind = JOB_FREE;
        j->worker = i;
        if (lec_worker_post(&m->node->workers[i], run_job, j))
            free(j);
    }
}

size_t lec_media_held(const lec_media *m, lec_cluster_held *out, size_t max)
{
    size_t n = 0;
    for (const stream_ent *e = m->streams; e && n < max; e = e->next) {
        if (!e->live)
            continue;
        snprintf(out[n].stream, sizeof out[n].stream, "%s", e->name);
        out[n++].depth = e->pulled ? e->depth : 0;
    }
    return n;
}

void lec_media_free(lec_media *m)
{
    if (!m)
        return;
    while (m->sessions)
        session_drop(m, m->sessions->id);
    while (m->streams) {
        stream_ent *e = m->streams;
        m->streams = e->next;
        free(e->shards);
        free(e);
    }
    lec_tokens_free(&m->publish_tokens);
    lec_tokens_free(&m->view_tokens);
    lec_dtls_cert_free(m->cert);
    lec_relay_free(m->relay);
    lec_pipes_free(m->pipes);
    free(m->wload);
    free(m->sfus);
    free(m);
}

bool lec_media_relay_stats(const lec_media *m, lec_relay_stats *out)
{
    if (!m || !m->relay)
        return false;
    lec_relay_get_stats(m->relay, out);
    return true;
}

bool lec_media_relay_addr(const lec_media *m, lec_addr *out)
{
    if (!m || !m->relay)
        return false;
    *out = lec_relay_local(m->relay);
    return true;
}
