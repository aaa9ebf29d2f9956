/*
 * Jobs (media_int.h): work for one worker's engine, and its completion on
 * the main loop, in the shape of libuv's uv_work_t.  A job carries its
 * own `run` (on the worker, with that worker's engine) and `done` (back
 * on the main loop), so a new kind of work is written in the one file
 * that needs it; nothing here knows the kinds.
 *
 * `done` runs once: after `run`, through the main loop's queue, or at
 * once when the worker cannot take the job (it is stopping, or the media
 * closed): then `run` never ran, an exchange the job carried has been
 * answered 503 and taken off it, and j->rc is LEC_ERR_CLOSED.  The one
 * case without `done`: the main loop's queue closed while the job was on
 * its worker (the process is stopping; the job is freed there).  A job
 * without `done` ends on its worker.  The job and the payloads it names
 * are freed after `done` returns, and after a `done` from the queue the
 * stream directory collects what is unused.
 */
#include "base/err.h"
#include "node/media_int.h"
#include "node/worker.h"
#include "trust/trust.h"

#include <stdio.h>
#include <stdlib.h>

job *lec__job_new(lec_media *m, lec_http_ex *ex, const char *stream, job_run_fn run,
                  job_done_fn done)
{
    job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->m = m;
    j->ex = ex;
    j->run = run;
    j->done = done;
    j->res.rc = LEC_ERR_INTERNAL; /* an engine that answers sets 0 */
    snprintf(j->stream, sizeof j->stream, "%s", stream);
    j->worker = lec__streams_home(m, stream);
    return j;
}

void lec__job_free(job *j)
{
    if (!j)
        return;
    lec__admit_job_end(j, NULL);
    free(j->res.answer);
    free(j->offer);
    free(j->frag);
    if (j->leg_out) /* leg keys: wiped, not just freed */
        lec_trust_wipe(j->leg_out, sizeof *j->leg_out);
    if (j->leg_in)
        lec_trust_wipe(j->leg_in, sizeof *j->leg_in);
    free(j->leg_out);
    free(j->leg_in);
    free(j->ctx);
    free(j);
}

static void on_done(void *arg)
{
    job *j = arg;
    lec_media *m = j->m;
    j->done(j);
    lec__job_free(j);
    lec__streams_gc(m); /* what the job ended may have been a stream's last use */
}

static void on_run(void *arg)
{
    job *j = arg;
    lec_sfu *sfu = j->m->sfus[j->worker];
    if (sfu || j->engine)
        j->run(j, sfu);
    else /* the engine was freed (the media closed) before this job came */
        j->rc = j->res.rc = LEC_ERR_CLOSED;
    if (!j->done) {
        lec__job_free(j);
        return;
    }
    if (lec_msgq_post(&j->m->node->mainq, on_done, j)) {
        /* The main loop is gone (shutdown): nobody waits for the answer,
         * and its admission books (main's) are not touched from here. */
        j->admitted = false;
        lec__job_free(j);
    }
}

void lec__job_post(job *j)
{
    /* After lec_media_close only the engines' own jobs go (they free them). */
    if ((!j->m->closing || j->engine) && !lec_worker_post(&j->m->node->workers[j->worker], on_run, j))
        return;
    if (j->ex) {
        lec_http_resp_error(&j->ex->resp, 503, "the media worker is not available");
        lec_http_ex_finish(j->ex);
        j->ex = NULL;
    }
    j->rc = LEC_ERR_CLOSED;
    j->res.rc = LEC_ERR_CLOSED;
    /* No collection here: the poster may be walking a stream's lists. */
    if (j->done)
        j->done(j);
    lec__job_free(j);
}

/* The engine calls most kinds share (the cascade's legs and the pipes of
 * shards.c: the same engine calls, different completions). */
void lec__job_run_leg_out(job *j, lec_sfu *sfu)
{
    lec_sfu_leg_out_open(sfu, j->leg_out);
}

void lec__job_run_leg_in(job *j, lec_sfu *sfu)
{
    j->rc = lec_sfu_leg_in_open(sfu, j->leg_in);
}

void lec__job_run_leg_close(job *j, lec_sfu *sfu)
{
    lec_sfu_leg_close(sfu, j->stream, j->leg_id, j->ctx); /* ctx: the requester, if named */
}
