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
#include "http/client_ip.h"
#include "node/node.h"
#include "sfu/sfu.h"
#include "pipes/pipes.h"
#include "relay/relay.h"
#include "sys/sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "media"

/* A session left (ended, or DELETEd); the last one ends a waiting drain. */
static void drain_check(lec_media *m);

static void session_gone(lec_media *m, const char *id)
{
    if (lec__sessions_drop(m, id))
        drain_check(m);
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

/* ---- the workers' engines ---------------------------------------------- */

static void init_run(job *j, lec_sfu *unused)
{
    (void)unused;
    lec_media *m = j->m;
    lec_worker *w = &m->node->workers[j->worker];
    const lec_config *cfg = m->node->cfg;
    lec_sfu_env env = {.loop = &w->loop,
                       .relay = m->relay,
                       .pipes = m->pipes,
                       .worker = j->worker,
                       .glib = w->glib,
                       .log = &m->node->log,
                       .cert = m->cert,
                       .port_min = cfg->ice.port_range.min,
                       .port_max = cfg->ice.port_range.max,
                       .public_ip = cfg->ice.public_ip,
                       .rand = lec_sys_rand(),
                       .clock = m->node->clock,
                       .wall = lec_sys_wall_clock(),
                       .node_id = cfg->node.id,
                       .region = cfg->node.region,
                       .quiz_lead = cfg->classroom.quiz_lead,
                       .connect_timeout = cfg->limits.connect_timeout,
                       .publish_max_kbps = cfg->limits.publish_max_kbps,
                       .event = sfu_event,
                       .ud = m};
    if (m->node->sfu_metrics)
        env.metrics = m->node->sfu_metrics[j->worker];
    for (size_t i = 0; i < cfg->ice.addresses.n && i < 8; i++)
        env.addresses[env.naddresses++] = cfg->ice.addresses.v[i];
    m->sfus[j->worker] = lec_sfu_new(&env);
}

static void free_run(job *j, lec_sfu *sfu)
{
    lec_sfu_free(sfu);
    j->m->sfus[j->worker] = NULL;
}

/* Posts a job that makes or frees worker w's engine (no completion). */
static int engine_job(lec_media *m, unsigned w, job_run_fn run)
{
    job *j = lec__job_new(m, NULL, "", run, NULL);
    if (!j)
        return LEC_ERR_NOMEM;
    j->engine = true;
    j->worker = w;
    lec__job_post(j);
    return 0;
}

/* ---- sessions: publish, view, end, trickle ------------------------------ */

static void publish_run(job *j, lec_sfu *sfu)
{
    lec_sfu_publish(sfu, j->stream, j->id, j->offer, &j->res);
}

static void view_run(job *j, lec_sfu *sfu)
{
    lec_sfu_view(sfu, j->stream, j->id, j->offer, &j->res);
}

/* The engine's refusals in HTTP (RFC 9725 leaves the codes to us). */
static int http_status(int rc)
{
    switch (rc) {
    case 0:
        return 201;
    case LEC_ERR_INVAL:
        return 400;
    case LEC_ERR_UNSUPPORTED:
        return 406;
    case LEC_ERR_EXISTS:
    case LEC_ERR_STATE:
        return 409;
    case LEC_ERR_FULL:
    case LEC_ERR_CLOSED:
        return 503;
    default:
        return 500;
    }
}

/* A publish or a view answered by the engine: 201 with the answer and the
 * session's resource, or the engine's refusal. */
/* The STUN/TURN servers clients should use (ice.servers), as Link headers
 * (RFC 9725 section 4.6); credentials go with turn(s): URIs. */
static void ice_server_links(lec_http_resp *r, const lec_config *cfg)
{
    for (size_t i = 0; i < cfg->ice.servers.n; i++) {
        const char *u = cfg->ice.servers.v[i];
        bool turn = !strncmp(u, "turn", 4);
        if (turn && cfg->ice.server_username && cfg->ice.server_credential)
            lec_http_resp_header(r, "Link",
                                 "<%s>; rel=\"ice-server\"; username=\"%s\"; credential=\"%s\"; "
                                 "credential-type=\"password\"",
                                 u, cfg->ice.server_username, cfg->ice.server_credential);
        else
            lec_http_resp_header(r, "Link", "<%s>; rel=\"ice-server\"", u);
    }
}

static void offer_done(job *j)
{
    int status = http_status(j->res.rc == 0 && !j->res.answer ? LEC_ERR_INTERNAL : j->res.rc);
    lec_media *m = j->m;
    bool publish = j->run == publish_run;
    if (!publish && j->placed)
        lec__shards_view_done(m, j);
    lec_metric_add(&m->node->metrics, 0,
                   m->node->m.sessions[publish ? 0 : 1][status == 201 ? 0 : 1], 1);
    sess_ent *s = NULL;
    if (status == 201) {
        s = lec__sessions_add(m, j->id, j->stream, j->worker, publish);
        lec__streams_get(m, j->stream); /* its record, for the events to come */
    }
    lec__admit_job_end(j, s); /* a session in progress until it connects */
    if (!j->ex)               /* the worker was gone: answered 503 already */
        return;
    lec_http_resp *r = &j->ex->resp;
    if (status == 201) {
        r->status = 201;
        snprintf(r->content_type, sizeof r->content_type, "application/sdp");
        lec_sbuf_puts(&r->body, j->res.answer);
        lec_sbuf base;
        lec_sbuf_init(&base, NULL);
        lec_http_ex_base_url(j->ex, &base);
        lec_http_resp_header(r, "Location", "%s/%s/%s/%s", base.data, publish ? "whip" : "whep",
                             j->stream, j->id);
        lec_sbuf_free(&base);
        lec_http_resp_header(r, "ETag", "\"%s\"", j->id);
        ice_server_links(r, m->node->cfg);
        lec_http_resp_header(r, "Accept-Patch", "application/trickle-ice-sdpfrag");
    } else {
        lec_http_resp_error(r, status, "%s", j->res.reason);
        if (status == 409 && !publish)
            lec_http_resp_header(r, "Retry-After", "2");
    }
    lec_http_ex_finish(j->ex);
}

static void end_run(job *j, lec_sfu *sfu)
{
    j->rc = lec_sfu_end(sfu, j->id);
}

static void end_done(job *j)
{
    lec_media *m = j->m;
    if (j->rc == 0)
        session_gone(m, j->id);
    if (!j->ex)
        return;
    if (j->rc == 0)
        j->ex->resp.status = 200;
    else
        lec_http_resp_error(&j->ex->resp, 404, "no such session");
    lec_http_ex_finish(j->ex);
}

/* A session's ETag: its id, and after ICE restarts their count. */
static void session_etag(const sess_ent *s, char *out, size_t cap)
{
    if (s->ice_gen)
        snprintf(out, cap, "\"%s-%u\"", s->id, s->ice_gen);
    else
        snprintf(out, cap, "\"%s\"", s->id);
}

static void trickle_run(job *j, lec_sfu *sfu)
{
    j->rc = lec_sfu_trickle(sfu, j->id, j->frag, j->frag_len, j->ctx);
}

static void trickle_done(job *j)
{
    static const lec_sfu_restart none;
    const lec_sfu_restart *rs = j->ctx ? j->ctx : &none;
    sess_ent *s = lec__sessions_find(j->m, j->id);
    if (j->rc == 0 && rs->restarted && s)
        s->ice_gen++;
    if (!j->ex)
        return;
    lec_http_resp *r = &j->ex->resp;
    if (j->rc == 0 && rs->restarted && s) {
        /* RFC 9725 4.3.2: 200 with our new credentials and a new ETag. */
        char etag[48];
        session_etag(s, etag, sizeof etag);
        r->status = 200;
        snprintf(r->content_type, sizeof r->content_type, "application/trickle-ice-sdpfrag");
        lec_sbuf_printf(&r->body, "a=ice-lite\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", rs->ufrag,
                        rs->pwd);
        lec_http_resp_header(r, "ETag", "%s", etag);
    } else if (j->rc == 0) {
        r->status = 204;
    } else if (j->rc == LEC_ERR_INVAL) {
        lec_http_resp_error(r, 400, "an ICE restart needs a=ice-ufrag and a=ice-pwd");
    } else {
        lec_http_resp_error(r, 404, "no such session");
    }
    lec_http_ex_finish(j->ex);
}

/* ---- main loop ---------------------------------------------------------- */

static void on_sfu_event_main(void *arg)
{
    lec_sfu_event *ev = arg;
    lec_media *m;
    memcpy(&m, ev + 1, sizeof m);
    stream_ent *e = lec__streams_find(m, ev->stream);
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
        sess_ent *gone = lec__sessions_find(m, ev->session);
        if (gone)
            lec_metric_add(&m->node->metrics, 0, m->node->m.sessions[gone->publisher ? 0 : 1][2],
                           1);
        session_gone(m, ev->session);
        break;
    }
    case LEC_SFU_VIEWERS:
    case LEC_SFU_LEG_GONE:
        if (e)
            lec__shards_event(m, e, ev);
        break;
    case LEC_SFU_LEG_SILENT:
        break;
    case LEC_SFU_SESSION_CONNECTED: {
        sess_ent *s = lec__sessions_find(m, ev->session);
        if (s)
            lec__admit_session_ready(m, s);
        break;
    }
    }
    if (!ev->pipe)
        lec__cascade_event(m, ev);
    lec__streams_gc(m);
    free(ev);
}

/* Admission: offers in flight count against the limits, and one client
 * address (as steering takes it) has at most
 * limits.max_pending_per_address sessions in progress (admission.c).
 * False when it answered (503 or 429) and freed the job. */
static bool admit(lec_media *m, lec_http_ex *ex, job *j, bool publish)
{
    const lec_config *cfg = m->node->cfg;
    unsigned pubs, views;
    lec_media_counts(m, &pubs, &views);
    unsigned cap = publish ? cfg->limits.max_publishers : cfg->limits.max_viewers;
    unsigned have = (publish ? pubs : views) + m->inflight[publish ? 0 : 1];
    lec_ip ip = lec_http_client_ip(ex->req, &ex->peer.ip, cfg->http.trusted_proxies.v,
                                   cfg->http.trusted_proxies.n);
    int rc = 0;
    if (cap && have >= cap) {
        /* Steering sends nobody to a full node, but heartbeats lag by up
         * to a second, and a node alone is not steered at all. */
        lec_metric_add(&m->node->metrics, 0, m->node->m.refused_full, 1);
        lec_http_resp_error(&ex->resp, 503, "this node is full (%u %s); try again", cap,
                            publish ? "publishers" : "viewers");
        lec_http_resp_header(&ex->resp, "Retry-After", "5");
    } else if ((rc = lec__admit(m, j, &ip, publish, cfg->limits.max_pending_per_address))) {
        if (rc == LEC_ERR_AGAIN) {
            lec_metric_add(&m->node->metrics, 0, m->node->m.refused_pending, 1);
            lec_http_resp_error(&ex->resp, 429,
                                "too many sessions in progress from your address (%u); "
                                "try again when they have connected",
                                cfg->limits.max_pending_per_address);
            lec_http_resp_header(&ex->resp, "Retry-After", "1");
        } else {
            lec_http_resp_error(&ex->resp, 500, "out of memory");
        }
    } else {
        return true;
    }
    lec_http_ex_finish(ex);
    lec__job_free(j);
    return false;
}

static void offer(lec_http_ex *ex, bool publish)
{
    lec_media *m = ex->ud;
    const char *stream = lec_http_req_param(ex->req, "stream");
    if (!lec__media_authorized(ex, m, publish))
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
    job *j = lec__job_new(m, ex, stream, publish ? publish_run : view_run, offer_done);
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
        lec__job_free(j);
        return;
    }
    if (!admit(m, ex, j, publish))
        return;
    uint8_t rnd[16];
    lec_sys_rand()->fill(lec_sys_rand()->ud, rnd, sizeof rnd);
    for (int i = 0; i < 16; i++)
        snprintf(j->id + 2 * i, 3, "%02x", rnd[i]);
    if (!publish) {
        stream_ent *e = lec__streams_find(m, stream);
        if (!e || !e->live) {
            /* Held elsewhere in the cluster: pull it here, then serve. */
            if (lec__cascade_wait(m, j))
                return;
            lec_http_resp_error(&ex->resp, 409, "stream %s is not live", stream);
            lec_http_resp_header(&ex->resp, "Retry-After", "2");
            lec_http_ex_finish(ex);
            lec__job_free(j);
            return;
        }
        lec__shards_view(m, j); /* placed on a worker, then posted */
        return;
    }
    lec__job_post(j);
}

static void whip_post(lec_http_ex *ex)
{
    offer(ex, true);
}

static void whep_post(lec_http_ex *ex)
{
    offer(ex, false);
}

/* A WHEP request answered: a join failure by its reason, when it is one
 * (lectern_join_failures_total; a 307 is a join elsewhere). */
static void whep_answered(void *ud, int status)
{
    lec_media *m = ud;
    int reason = lec_node_join_failure_reason(status);
    if (reason >= 0)
        lec_metric_add(&m->node->metrics, 0, m->node->m.join_failures[reason], 1);
}

/* PATCH and DELETE on /whip/<stream>/<session> and /whep/... */
static void session_req(lec_http_ex *ex)
{
    lec_media *m = ex->ud;
    const char *stream = lec_http_req_param(ex->req, "stream");
    const char *id = lec_http_req_param(ex->req, "session");
    sess_ent *s = id ? lec__sessions_find(m, id) : NULL;
    if (!s || strcmp(s->stream, stream)) {
        lec_http_resp_error(&ex->resp, 404, "no such session");
        lec_http_ex_finish(ex);
        return;
    }
    /* The session id is the bearer of the resource URL (RFC 9725 4.3). */
    bool end = ex->req->method == LEC_HTTP_DELETE;
    job *j =
        lec__job_new(m, ex, stream, end ? end_run : trickle_run, end ? end_done : trickle_done);
    if (!j) {
        lec_http_resp_error(&ex->resp, 500, "out of memory");
        lec_http_ex_finish(ex);
        return;
    }
    snprintf(j->id, sizeof j->id, "%s", id);
    j->worker = s->worker;
    /* RFC 9725 4.3.1: a PATCH names the session state it was made for. */
    const char *im = end ? NULL : lec_http_req_header(ex->req, "if-match");
    char etag[48];
    session_etag(s, etag, sizeof etag);
    if (im && strcmp(im, "*") && strcmp(im, etag)) {
        lec_http_resp_error(&ex->resp, 412, "If-Match does not match this session's ETag %s", etag);
        lec_http_ex_finish(ex);
        lec__job_free(j);
        return;
    }
    if (!end) {
        const char *ct = lec_http_req_header(ex->req, "content-type");
        if (!ct || strncasecmp(ct, "application/trickle-ice-sdpfrag", 31)) {
            lec_http_resp_error(&ex->resp, 415,
                                "PATCH takes Content-Type: application/trickle-ice-sdpfrag");
            lec_http_ex_finish(ex);
            lec__job_free(j);
            return;
        }
        j->frag = malloc(ex->req->body_len + 1);
        j->ctx = calloc(1, sizeof(lec_sfu_restart));
        if (!j->frag || !j->ctx) {
            lec_http_resp_error(&ex->resp, 500, "out of memory");
            lec_http_ex_finish(ex);
            lec__job_free(j);
            return;
        }
        memcpy(j->frag, ex->req->body, ex->req->body_len);
        j->frag_len = ex->req->body_len;
    }
    lec__job_post(j);
}

/* DELETE /v1/streams/<stream> (admin; lectern-ctl end): ends the stream
 * where it is published.  Its publisher's session ends, and the cascade's
 * BYE ends it on every node it was relayed to.  Where the stream is only
 * relayed, 409 names the node it comes from. */
static void stream_end(lec_http_ex *ex)
{
    lec_media *m = ex->ud;
    if (lec_node_admin_refused(m->node, ex))
        return;
    const char *name = lec_http_req_param(ex->req, "stream");
    const sess_ent *pub = NULL;
    for (const sess_ent *s = m->sessions; s && !pub; s = s->next)
        if (s->publisher && name && !strcmp(s->stream, name))
            pub = s;
    const stream_ent *e = name && !pub ? lec__streams_find(m, name) : NULL;
    job *j = pub ? lec__job_new(m, ex, name, end_run, end_done) : NULL;
    if (!j) {
        if (pub)
            lec_http_resp_error(&ex->resp, 500, "out of memory");
        else if (e && e->pulled)
            lec_http_resp_error(&ex->resp, 409,
                                "stream %s is relayed here from %s: end it where "
                                "it is published",
                                name, e->source);
        else
            lec_http_resp_error(&ex->resp, 404, "nobody publishes stream %s here",
                                name ? name : "");
        lec_http_ex_finish(ex);
        return;
    }
    LEC_INFO(&m->node->log, MOD, "stream %s: ended by an admin (publisher %.8s)", name, pub->id);
    snprintf(j->id, sizeof j->id, "%s", pub->id);
    j->worker = pub->worker;
    lec__job_post(j);
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
        LEC_INFO(&node->log, MOD,
                 "draining: %u session(s) keep playing until they leave or "
                 "node.drain_timeout",
                 n);
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
        LEC_WARN(&node->log, MOD, "%s",
                 node->cfg->auth.open_publish
                     ? "no auth.publish_tokens_file and auth.open_publish: anyone may publish"
                     : "no auth.publish_tokens_file: publishing is refused (403) until one is "
                       "set or auth.open_publish: true");
    /* Relay legs exist only in a cluster: the socket and the cascade. */
    if (node->cfg->nats.enabled &&
        (lec_relay_bind(&m->relay, &node->cfg->relay.listen, node->nworkers, &node->log) ||
         lec__cascade_start(m)))
        return start_failed(m);
    for (unsigned i = 0; i < node->nworkers; i++)
        if (engine_job(m, i, init_run))
            return NULL; /* engines already on their way use m: the process is exiting anyway */
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
                        .options_headers = "Accept-Post: application/sdp\r\n",
                        .answered = whep_answered};
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
        rc = lec__media_quiz_routes(m);
    if (!rc)
        rc = lec_node_route(node, "stream_end", LEC_HTTP_DELETE, "/v1/streams/:stream", stream_end,
                            m);
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
    for (unsigned i = 0; i < m->node->nworkers; i++)
        engine_job(m, i, free_run);
}

void lec_media_free(lec_media *m)
{
    if (!m)
        return;
    lec__streams_free(m);
    free(m->audience);
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
