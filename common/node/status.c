/*
 * The media plane's read-only API (media_int.h), on the main loop:
 * GET /v1/streams (streams, viewers per worker, sessions), GET
 * /v1/streams/<stream> (what a playing viewer page polls) and GET
 * /v1/sessions/<id> (one session's counters, asked of its worker).
 */
#include "base/err.h"
#include "base/json.h"
#include "cluster/audience.h"
#include "node/media_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* GET /v1/streams/<stream>: what a playing viewer page polls, so small
 * and cheap: is the stream live here, is this node draining. */
static uint64_t audience_of(lec_media *m, const char *stream, uint64_t here)
{
    const lec_cluster *view = m->node->control ? lec_control_view(m->node->control) : NULL;
    if (!view)
        return here;
    /* Made from the heartbeats at most once a second (they come each
     * second): a request is a scan of the streams, not a sort. */
    lec_tstamp t = lec_clock_now(m->node->clock);
    lec_audience a;
    if ((!m->audience || t - m->audience_at >= LEC_S) && !lec_audience_of(view, &a)) {
        struct lec_stream_audience *copy = calloc(a.nstreams ? a.nstreams : 1, sizeof *copy);
        if (copy) {
            for (size_t i = 0; i < a.nstreams; i++) {
                snprintf(copy[i].name, sizeof copy[i].name, "%s", a.streams[i].name);
                copy[i].viewers = a.streams[i].viewers;
            }
            free(m->audience);
            m->audience = copy;
            m->naudience = a.nstreams;
            m->audience_at = t;
        }
        lec_audience_free(&a);
    }
    for (size_t i = 0; i < m->naudience; i++)
        if (!strcmp(m->audience[i].name, stream))
            return m->audience[i].viewers;
    return here;
}

static void stream_status_get(lec_http_ex *ex)
{
    lec_media *m = ex->ud;
    const char *name = lec_http_req_param(ex->req, "stream");
    const stream_ent *e = name ? lec__streams_find(m, name) : NULL;
    lec_jw w;
    lec_http_resp_json(&ex->resp, 200, &w);
    lec_jw_obj_open(&w);
    lec_jw_key(&w, "stream");
    lec_jw_str(&w, name);
    lec_jw_key(&w, "live");
    lec_jw_bool(&w, e && e->live);
    lec_jw_key(&w, "viewers");
    lec_jw_uint(&w, e ? e->viewers : 0);
    /* The whole cluster's, from the heartbeats (a second or two behind);
     * a node alone counts its own. */
    lec_jw_key(&w, "audience");
    lec_jw_uint(&w, name ? audience_of(m, name, e ? e->viewers : 0) : 0);
    lec_jw_key(&w, "node_draining");
    lec_jw_bool(&w, m->node->draining || m->closing);
    lec_jw_obj_close(&w);
    lec_http_resp_json_done(&ex->resp);
    lec_http_ex_finish(ex);
}

/* GET /v1/streams: every stream and session here.  Session ids are the
 * capability to end a session (RFC 9725 4.3: the resource URL), so only an
 * admin bearer sees them. */
static void streams_get(lec_http_ex *ex)
{
    lec_media *m = ex->ud;
    bool admin = lec_node_is_admin(m->node, ex->req);
    lec_jw w;
    lec_http_resp_json(&ex->resp, 200, &w);
    lec_jw_obj_open(&w);
    lec_jw_key(&w, "streams");
    lec_jw_arr_open(&w);
    for (stream_ent *e = m->streams; e; e = e->next) {
        lec_jw_obj_open(&w);
        lec_jw_key(&w, "stream");
        lec_jw_str(&w, e->name);
        lec_jw_key(&w, "live");
        lec_jw_bool(&w, e->live);
        lec_jw_key(&w, "viewers");
        lec_jw_uint(&w, e->viewers);
        lec_jw_key(&w, "worker");
        lec_jw_uint(&w, e->worker);
        /* Viewers per worker serving it: the home first, then shards. */
        lec_jw_key(&w, "workers");
        lec_jw_arr_open(&w);
        for (unsigned k = 0; k < m->node->nworkers; k++) {
            unsigned wk = (e->worker + k) % m->node->nworkers;
            const shard *sh = &e->shards[wk];
            if (k && sh->state != SHARD_OPEN && !sh->viewers)
                continue;
            lec_jw_obj_open(&w);
            lec_jw_key(&w, "worker");
            lec_jw_uint(&w, wk);
            lec_jw_key(&w, "viewers");
            lec_jw_uint(&w, sh->viewers);
            lec_jw_obj_close(&w);
        }
        lec_jw_arr_close(&w);
        lec_jw_key(&w, "started_unix_ms");
        lec_jw_uint(&w, e->started_unix_ms);
        lec_jw_obj_close(&w);
    }
    lec_jw_arr_close(&w);
    lec_jw_key(&w, "sessions");
    lec_jw_arr_open(&w);
    for (sess_ent *s = m->sessions; s; s = s->next) {
        lec_jw_obj_open(&w);
        if (admin) {
            lec_jw_key(&w, "id");
            lec_jw_str(&w, s->id);
        }
        lec_jw_key(&w, "stream");
        lec_jw_str(&w, s->stream);
        lec_jw_key(&w, "kind");
        lec_jw_str(&w, s->publisher ? "publisher" : "viewer");
        lec_jw_key(&w, "worker");
        lec_jw_uint(&w, s->worker);
        lec_jw_obj_close(&w);
    }
    lec_jw_arr_close(&w);
    lec_jw_obj_close(&w);
    lec_http_resp_json_done(&ex->resp);
    lec_http_ex_finish(ex);
}

static void stats_run(job *j, lec_sfu *sfu)
{
    j->rc = lec_sfu_session_stats_get(sfu, j->id, &j->stats);
}

static void stats_done(job *j);

/* GET /v1/sessions/<id>: its counters, copied on its worker.  Knowing the
 * id is the capability, as for the session's resource URL. */
static void session_get(lec_http_ex *ex)
{
    lec_media *m = ex->ud;
    const char *id = lec_http_req_param(ex->req, "session");
    sess_ent *s = id ? lec__sessions_find(m, id) : NULL;
    job *j = s ? lec__job_new(m, ex, s->stream, stats_run, stats_done) : NULL;
    if (!j) {
        lec_http_resp_error(&ex->resp, s ? 500 : 404, s ? "out of memory" : "no such session");
        lec_http_ex_finish(ex);
        return;
    }
    snprintf(j->id, sizeof j->id, "%s", id);
    j->worker = s->worker;
    lec__job_post(j);
}

static void num(lec_jw *w, const char *key, uint64_t v)
{
    lec_jw_key(w, key);
    lec_jw_uint(w, v);
}

static const char *const PREFS[] = {"auto", "low", "medium", "high"};

static void layer_run(job *j, lec_sfu *sfu)
{
    j->rc = lec_sfu_session_set_layer(sfu, j->id, (lec_room_layer_pref)j->leg_id);
}

static void layer_done(job *j)
{
    lec_http_ex *ex = j->ex;
    if (!ex)
        return;
    if (j->rc == LEC_ERR_INVAL)
        lec_http_resp_error(&ex->resp, 409, "a publisher has no layer to choose");
    else if (j->rc)
        lec_http_resp_error(&ex->resp, 404, "no such session");
    else
        ex->resp.status = 204;
    lec_http_ex_finish(ex);
}

/* POST /v1/sessions/<id>/layer {"layer": "auto|low|medium|high"}: a
 * viewer pins a simulcast layer (its page's quality menu).  Knowing the
 * id is the capability, as for GET. */
static void session_layer_post(lec_http_ex *ex)
{
    lec_media *m = ex->ud;
    const char *id = lec_http_req_param(ex->req, "session");
    sess_ent *s = id ? lec__sessions_find(m, id) : NULL;
    lec_json *body = NULL;
    char err[96];
    int pref = -1;
    if (s && !lec_json_parse(NULL, (const char *)ex->req->body, ex->req->body_len, &body, err,
                             sizeof err)) {
        const char *want = lec_json_string(lec_json_get(body, "layer"), "");
        for (int i = 0; i < 4; i++)
            if (!strcmp(want, PREFS[i]))
                pref = i;
    }
    lec_json_free(NULL, body);
    job *j = s && pref >= 0 ? lec__job_new(m, ex, s->stream, layer_run, layer_done) : NULL;
    if (!j) {
        lec_http_resp_error(&ex->resp, !s ? 404 : pref < 0 ? 400 : 500,
                            !s ? "no such session"
                            : pref < 0 ? "the body must be {\"layer\": \"auto\", \"low\", "
                                         "\"medium\" or \"high\"}"
                                       : "out of memory");
        lec_http_ex_finish(ex);
        return;
    }
    snprintf(j->id, sizeof j->id, "%s", id);
    j->leg_id = (uint64_t)pref;
    j->worker = s->worker;
    lec__job_post(j);
}

/* A session's simulcast: the layers by rank, and a viewer's choice. */
static void simulcast_json(lec_jw *w, const lec_sfu_session_stats *st)
{
    const lec_room_layer_info *li = &st->layer;
    lec_jw_key(w, "simulcast");
    lec_jw_obj_open(w);
    lec_jw_key(w, "layers");
    lec_jw_arr_open(w);
    for (unsigned i = 0; i < li->nlayers; i++) {
        lec_jw_obj_open(w);
        lec_jw_key(w, "rid");
        lec_jw_str(w, li->layers[i].rid);
        num(w, "kbps", li->layers[i].bps / 1000);
        lec_jw_key(w, "active");
        lec_jw_bool(w, li->layers[i].active);
        lec_jw_obj_close(w);
    }
    lec_jw_arr_close(w);
    if (!st->publisher) {
        lec_jw_key(w, "current");
        if (li->cur >= 0)
            lec_jw_str(w, li->layers[li->cur].rid);
        else
            lec_jw_null(w);
        lec_jw_key(w, "target");
        if (li->target >= 0)
            lec_jw_str(w, li->layers[li->target].rid);
        else
            lec_jw_null(w);
        lec_jw_key(w, "preference");
        lec_jw_str(w, PREFS[li->pref <= LEC_LAYER_HIGH ? li->pref : 0]);
        lec_jw_key(w, "paused");
        lec_jw_bool(w, li->paused);
        if (li->estimate_bps)
            num(w, "estimate_kbps", li->estimate_bps / 1000);
        num(w, "switches", li->switches);
    }
    lec_jw_obj_close(w);
}

static void stats_done(job *j)
{
    lec_http_ex *ex = j->ex;
    if (!ex) /* the worker was gone: answered 503 already */
        return;
    const lec_sfu_session_stats *st = &j->stats;
    const sess_ent *s = lec__sessions_find(j->m, j->id);
    if (j->rc || !s) {
        lec_http_resp_error(&ex->resp, 404, "no such session");
        lec_http_ex_finish(ex);
        return;
    }
    lec_jw w;
    lec_http_resp_json(&ex->resp, 200, &w);
    lec_jw_obj_open(&w);
    lec_jw_key(&w, "id");
    lec_jw_str(&w, s->id);
    lec_jw_key(&w, "stream");
    lec_jw_str(&w, s->stream);
    lec_jw_key(&w, "kind");
    lec_jw_str(&w, st->publisher ? "publisher" : "viewer");
    num(&w, "worker", s->worker);
    lec_jw_key(&w, "connected");
    lec_jw_bool(&w, st->connected);
    num(&w, "age_ms", (uint64_t)(st->age / LEC_MS));
    num(&w, "rtp_in", st->rtp_in);
    num(&w, "rtp_out", st->rtp_out);
    num(&w, "rtcp_in", st->rtcp_in);
    num(&w, "rtcp_out", st->rtcp_out);
    num(&w, "bytes_in", st->bytes_in);
    num(&w, "bytes_out", st->bytes_out);
    num(&w, "srtp_failures", st->srtp_fail);
    if (st->refused[0]) {
        lec_jw_key(&w, "not_served");
        lec_jw_str(&w, st->refused);
    }
    if (st->layer.nlayers)
        simulcast_json(&w, st);
    if (st->data.negotiated) {
        /* Its lectern data channel (issue 18). */
        lec_jw_key(&w, "data_channel");
        lec_jw_obj_open(&w);
        lec_jw_key(&w, "open");
        lec_jw_bool(&w, st->data.open);
        if (st->data.rtt_ms >= 0)
            num(&w, "rtt_ms", (uint64_t)st->data.rtt_ms);
        num(&w, "messages_in", st->data.messages_in);
        num(&w, "messages_out", st->data.messages_out);
        num(&w, "refused", st->data.refused);
        num(&w, "undelivered", st->data.undelivered);
        lec_jw_obj_close(&w);
    }
    if (st->publisher) {
        /* Congestion feedback to the publisher (issue 17). */
        lec_jw_key(&w, "feedback");
        lec_jw_obj_open(&w);
        lec_jw_key(&w, "transport_cc");
        lec_jw_bool(&w, st->transport_cc);
        lec_jw_key(&w, "remb");
        lec_jw_bool(&w, st->remb);
        num(&w, "packets", st->feedback_packets);
        num(&w, "late_arrivals", st->feedback_late);
        lec_jw_obj_close(&w);
    }
    if (!st->publisher) {
        num(&w, "video_packets", st->video_packets);
        num(&w, "audio_packets", st->audio_packets);
        num(&w, "nacks", st->nacks);
        num(&w, "retransmits", st->retransmits);
        num(&w, "keyframe_requests", st->keyframe_requests);
        num(&w, "resends_refused", st->resend_refused);
        num(&w, "keyframe_requests_refused", st->keyframe_refused);
        if (st->have_report) {
            lec_jw_key(&w, "reported");
            lec_jw_obj_open(&w);
            lec_jw_key(&w, "fraction_lost");
            lec_jw_double(&w, st->fraction_lost);
            lec_jw_key(&w, "cumulative_lost");
            lec_jw_int(&w, st->cumulative_lost);
            lec_jw_key(&w, "jitter_ms");
            lec_jw_double(&w, st->jitter_ms);
            if (st->rtt_ms >= 0) {
                lec_jw_key(&w, "rtt_ms");
                lec_jw_double(&w, st->rtt_ms);
            }
            lec_jw_obj_close(&w);
        }
    }
    lec_jw_obj_close(&w);
    lec_http_resp_json_done(&ex->resp);
    lec_http_ex_finish(ex);
}

int lec__media_status_routes(lec_media *m)
{
    lec_node *node = m->node;
    int rc = lec_node_route(node, "streams", LEC_HTTP_GET, "/v1/streams", streams_get, m);
    if (!rc)
        rc = lec_node_route(node, "stream_status", LEC_HTTP_GET, "/v1/streams/:stream",
                            stream_status_get, m);
    if (!rc)
        rc = lec_node_route(node, "session", LEC_HTTP_GET, "/v1/sessions/:session", session_get, m);
    if (!rc)
        rc = lec_node_route(node, "session_layer", LEC_HTTP_POST, "/v1/sessions/:session/layer",
                            session_layer_post, m);
    return rc;
}
