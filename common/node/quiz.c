/*
 * The quiz API (issue 18), on the node where the teacher publishes:
 *
 *   POST /v1/streams/<stream>/quiz  {"question", "options": [...],
 *        "answer": <index>, "open_ms"}  -> 201 {"id"}, Location
 *   GET  /v1/streams/<stream>/quiz/<id>  -> the ranking
 *
 * Both need a publish token (the ranking names students' sessions).  The
 * quiz starts in the stream's room on its home worker (sfu/classroom.c);
 * a node that only relays the stream answers 409 and names its source.
 */
#include "base/err.h"
#include "node/media_int.h"
#include "sys/sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void start_run(job *j, lec_sfu *sfu)
{
    char err[160] = "";
    j->rc = lec_sfu_quiz_start(sfu, j->stream, j->frag, j->frag_len, j->id, err, sizeof err);
    snprintf(j->res.reason, sizeof j->res.reason, "%s", err);
}

static void start_done(job *j)
{
    lec_http_ex *ex = j->ex;
    if (!ex)
        return;
    if (j->rc == LEC_ERR_INVAL) {
        lec_http_resp_error(&ex->resp, 400, "%s", j->res.reason);
    } else if (j->rc == LEC_ERR_STATE) {
        lec_http_resp_error(&ex->resp, 409, "the quiz starts where the teacher publishes");
    } else if (j->rc == LEC_ERR_FULL) {
        lec_http_resp_header(&ex->resp, "Retry-After", "1");
        lec_http_resp_error(&ex->resp, 429, "%s", j->res.reason);
    } else if (j->rc) {
        lec_http_resp_error(&ex->resp, j->rc == LEC_ERR_NOTFOUND ? 404 : 500, "%s",
                            j->rc == LEC_ERR_NOTFOUND ? "the stream is not live here"
                                                      : "out of memory");
    } else {
        lec_jw w;
        lec_http_resp_json(&ex->resp, 201, &w);
        lec_jw_obj_open(&w);
        lec_jw_key(&w, "id");
        lec_jw_str(&w, j->id);
        lec_jw_obj_close(&w);
        lec_http_resp_header(&ex->resp, "Location", "/v1/streams/%s/quiz/%s", j->stream, j->id);
        lec_http_resp_json_done(&ex->resp);
    }
    lec_http_ex_finish(ex);
}

static void quiz_post(lec_http_ex *ex)
{
    lec_media *m = ex->ud;
    const char *stream = lec_http_req_param(ex->req, "stream");
    if (!lec__media_authorized(ex, m, true))
        return;
    stream_ent *st = stream ? lec__streams_find(m, stream) : NULL;
    if (!st || !st->live) {
        lec_http_resp_error(&ex->resp, 404, "the stream is not live here");
        lec_http_ex_finish(ex);
        return;
    }
    if (st->pulled) {
        lec_http_resp_error(&ex->resp, 409,
                            "the quiz starts where the teacher publishes (this node relays the "
                            "stream from %s)",
                            st->source);
        lec_http_ex_finish(ex);
        return;
    }
    job *j = lec__job_new(m, ex, stream, start_run, start_done);
    if (j && ex->req->body_len) {
        j->frag = malloc(ex->req->body_len);
        if (j->frag) {
            memcpy(j->frag, ex->req->body, ex->req->body_len);
            j->frag_len = ex->req->body_len;
        }
    }
    if (!j || (ex->req->body_len && !j->frag)) {
        if (j)
            lec__job_free(j);
        lec_http_resp_error(&ex->resp, 500, "out of memory");
        lec_http_ex_finish(ex);
        return;
    }
    uint64_t r;
    lec_sys_rand()->fill(lec_sys_rand()->ud, (uint8_t *)&r, sizeof r);
    snprintf(j->id, sizeof j->id, "%016llx", (unsigned long long)r);
    j->worker = st->worker;
    lec__job_post(j);
}

static void get_run(job *j, lec_sfu *sfu)
{
    char *out = NULL;
    j->rc = lec_sfu_quiz_ranking(sfu, j->stream, j->id, &out);
    j->ctx = out;
}

static void get_done(job *j)
{
    lec_http_ex *ex = j->ex;
    if (!ex)
        return;
    if (j->rc || !j->ctx) {
        lec_http_resp_error(&ex->resp, 404, "no such quiz here");
    } else {
        lec_jw w;
        lec_http_resp_json(&ex->resp, 200, &w);
        lec_sbuf_puts(w.sb, j->ctx);
        lec_http_resp_json_done(&ex->resp);
    }
    lec_http_ex_finish(ex);
}

static void quiz_get(lec_http_ex *ex)
{
    lec_media *m = ex->ud;
    const char *stream = lec_http_req_param(ex->req, "stream"),
               *id = lec_http_req_param(ex->req, "id");
    if (!lec__media_authorized(ex, m, true))
        return;
    stream_ent *st = stream ? lec__streams_find(m, stream) : NULL;
    job *j = st && id && strlen(id) == 16 ? lec__job_new(m, ex, stream, get_run, get_done) : NULL;
    if (!j) {
        lec_http_resp_error(&ex->resp, 404, "no such quiz here");
        lec_http_ex_finish(ex);
        return;
    }
    snprintf(j->id, sizeof j->id, "%s", id);
    j->worker = st->worker;
    lec__job_post(j);
}

int lec__media_quiz_routes(lec_media *m)
{
    int rc =
        lec_node_route(m->node, "quiz", LEC_HTTP_POST, "/v1/streams/:stream/quiz", quiz_post, m);
    if (!rc)
        rc = lec_node_route(m->node, "quiz", LEC_HTTP_GET, "/v1/streams/:stream/quiz/:id", quiz_get,
                            m);
    return rc;
}
