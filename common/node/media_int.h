/*
 * The node's media plane, private to node/: the stream directory
 * (streams.c), jobs for the workers (jobs.c), and the modules on top of
 * them: media.c (WHIP/WHEP, the workers' engines, events), shards.c (a
 * stream's viewers over workers), cascade.c (relay legs: pulling, serving
 * RelayOpen, linger, failover, prewarm) and status.c (read-only APIs).
 * Those four call the two below them and never each other, except that
 * media.c hands requests and events down to shards.c and cascade.c.
 */
#ifndef LEC_NODE_MEDIA_INT_H
#define LEC_NODE_MEDIA_INT_H

#include "base/time.h"
#include "cluster/audience.h"
#include "cluster/source.h"
#include "http/http_server.h"
#include "node/node.h"
#include "node/tokens.h"
#include "sfu/sfu.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

/* The stream on one worker (shards.c): the home worker holds its
 * publisher or upstream leg; another worker may hold a shard, fed by a
 * pipe from the home, serving some of its viewers. */
typedef enum shard_state { SHARD_NONE, SHARD_OPENING, SHARD_OPEN, SHARD_CLOSING } shard_state;

typedef struct shard {
    shard_state state;
    unsigned viewers;      /* as the worker last reported */
    unsigned pending;      /* view jobs posted there, not yet answered */
    lec_tstamp idle_since; /* no viewers since; 0: has some */
    uint64_t leg_id;       /* the pipe's (the shard's tag) */
    struct job *waiting;   /* offers waiting for the pipe to open */
} shard;

typedef struct stream_ent {
    char name[65];
    unsigned worker;
    bool live;
    unsigned viewers; /* on every worker */
    uint64_t started_unix_ms;
    shard *shards; /* [worker], always there */
    /* The cascade (cascade.c). */
    unsigned legs;        /* downstream legs fed from here: the home worker's count (shards.c) */
    unsigned legs_asked;  /* RelayOpens handed to the worker and not answered yet (cascade.c) */
    uint32_t depth;       /* relay hops from the publisher */
    bool pulled;          /* fed by a leg here */
    bool pulling;         /* a RelayOpen or leg setup in flight */
    bool prewarm;         /* pulled on the origin's word: no linger while live */
    lec_tstamp announced; /* StreamEvent STARTED last sent (published here); 0: not yet */
    char source[65];      /* the node it is pulled from */
    uint64_t leg_id;      /* the current upstream leg (our tag) */
    lec_tstamp pull_started, idle_since;
    lec_pull pull;        /* tries and failed sources of this pull (cluster/source.h) */
    struct job *waiting; /* WHEP offers waiting for the pull to go live */
    unsigned nwaiting;
    struct stream_ent *next;
} stream_ent;

#define LEC_ADMIT_BUCKETS 256
typedef struct pending_addr pending_addr;

typedef struct sess_ent {
    char id[33];
    char stream[65];
    unsigned worker;
    bool publisher;
    bool pending; /* not connected yet: counted against its address (admission.c) */
    unsigned ice_gen; /* ICE restarts so far (its ETag) */
    lec_ip ip;    /* the client's address, as steering takes it */
    struct sess_ent *next;
} sess_ent;

struct lec_stream_audience {
    char name[LEC_ID_MAX];
    uint64_t viewers;
};

struct lec_media {
    lec_node *node;
    /* The cluster's audience per stream, made at most once a second
     * (status.c): every playing viewer page asks for its stream's every 2 s.
     * Copies: the view's strings go with its next heartbeat. */
    struct lec_stream_audience *audience; /* NULL: not made yet */
    size_t naudience;
    lec_tstamp audience_at;
    lec_dtls_cert *cert;
    lec_sfu **sfus; /* one per worker, touched only on its worker */
    stream_ent *streams;
    sess_ent *sessions;
    lec_tokens publish_tokens, view_tokens;
    struct lec_relay *relay; /* the relay socket; NULL without a cluster */
    uv_timer_t cascade_timer;
    bool has_cascade_timer;
    struct lec_pipes *pipes; /* between workers; NULL with one worker */
    unsigned *wload;         /* sessions per worker, counting offers in flight */
    uv_timer_t shard_timer;
    bool has_shard_timer;
    bool drain_waiting; /* SIGTERM: the node's drain waits for the last session to leave */
    bool closing;
    /* Admission (admission.c): offers admitted, not yet sessions
     * [publish, view]; sessions in progress per client address. */
    unsigned inflight[2];
    struct pending_addr *pending[LEC_ADMIT_BUCKETS];
};

/* ---- jobs (jobs.c) -------------------------------------------------------
 * Work for one worker's engine and its completion on the main loop, in
 * the shape of libuv's uv_work_t: `run` on j->worker with its engine,
 * then `done` on the main loop, exactly once, also when the worker could
 * not take the job (rc = LEC_ERR_CLOSED, `run` skipped, an exchange
 * already answered 503 and taken off the job).  No `done`: the job ends
 * on its worker.  The job and its payloads are freed after `done`. */
typedef struct job job;
typedef void (*job_run_fn)(job *j, lec_sfu *sfu);
typedef void (*job_done_fn)(job *j);

struct job {
    lec_media *m;
    job_run_fn run;
    job_done_fn done;
    bool engine;     /* makes or frees the worker's engine: runs without one, and after close */
    unsigned worker; /* the stream's home unless the poster chose another */
    int rc;
    char stream[65];
    lec_http_ex *ex; /* the exchange the job answers, if any */
    /* Payloads (freed with the job), each named by the kinds that use it. */
    char id[33];                 /* a session (media.c, status.c) */
    lec_sdp *offer;              /* publish, view (media.c) */
    lec_sfu_result res;          /* publish, view */
    char *frag;                  /* trickle */
    size_t frag_len;
    lec_sfu_leg_out *leg_out;    /* a leg or pipe from a room (cascade.c, shards.c) */
    lec_sfu_leg_in *leg_in;      /* a leg or pipe into a room */
    uint64_t leg_id;             /* the leg to close */
    struct lec_bus_request *req; /* the RelayOpen to answer (cascade.c) */
    struct job *next_waiting;    /* a view waiting for a pull or a shard */
    bool placed;                 /* a view whose worker shards.c chose */
    lec_sfu_session_stats stats; /* status.c */
    void *ctx;                   /* a kind's own payload (malloc'd) */
    /* An offer admitted (admission.c): counted until it is a session or
     * it ends; lec__job_free releases it. */
    bool admitted, admit_publish;
    lec_ip ip;
};

job *lec__job_new(lec_media *m, lec_http_ex *ex, const char *stream, job_run_fn run,
                  job_done_fn done);
void lec__job_post(job *j);
void lec__job_free(job *j);
/* Shared engine calls: open a leg or pipe from a room, into a room, close one. */
void lec__job_run_leg_out(job *j, lec_sfu *sfu);
void lec__job_run_leg_in(job *j, lec_sfu *sfu);
void lec__job_run_leg_close(job *j, lec_sfu *sfu);

/* ---- the stream directory (streams.c) -------------------------------------
 * The one owner of stream and session records, on the main loop. */
stream_ent *lec__streams_find(lec_media *m, const char *name);
stream_ent *lec__streams_get(lec_media *m, const char *name); /* made if new; NULL: no memory */
unsigned lec__streams_home(const lec_media *m, const char *stream);
/* Forgets streams with nothing left: not live, no session, leg or shard. */
void lec__streams_gc(lec_media *m);
void lec__streams_free(lec_media *m);
sess_ent *lec__sessions_find(lec_media *m, const char *id);
/* The new record, or NULL when out of memory. */
sess_ent *lec__sessions_add(lec_media *m, const char *id, const char *stream, unsigned worker,
                            bool publisher);
/* False when there was no such session.  A session still in progress
 * gives its address's admission count back. */
bool lec__sessions_drop(lec_media *m, const char *id);

/* ---- admission (admission.c) ----------------------------------------------
 * Sessions in progress (admitted, not connected), per client address. */
/* 0, LEC_ERR_AGAIN (the address has per_address in progress already) or
 * LEC_ERR_NOMEM.  On 0 the job holds the count (j->admitted). */
int lec__admit(lec_media *m, job *j, const lec_ip *ip, bool publish, unsigned per_address);
unsigned lec__admit_pending(lec_media *m, const lec_ip *ip);
/* The job is answered or dropped: a session `s` (201) carries the count on
 * until it connects; otherwise it is given back. */
void lec__admit_job_end(job *j, sess_ent *s);
/* The session connected (or ended): its address's count given back. */
void lec__admit_session_ready(lec_media *m, sess_ent *s);
void lec__admit_free(lec_media *m);

/* status.c: GET /v1/streams, /v1/streams/<stream>, /v1/sessions/<id>. */
int lec__media_status_routes(lec_media *m);
/* quiz.c: POST /v1/streams/<s>/quiz, GET /v1/streams/<s>/quiz/<id>. */
int lec__media_quiz_routes(lec_media *m);
/* A bearer token check (publish: the teacher's tokens); false when it
 * answered 401/403 and finished the exchange. */
bool lec__media_authorized(lec_http_ex *ex, const lec_media *m, bool publish);

/* pages.c: GET /, /watch/<stream>, /publish, /static/<file>. */
void lec__media_page_viewer(lec_http_ex *ex);
void lec__media_page_publish(lec_http_ex *ex);
void lec__media_page_static(lec_http_ex *ex);

/* shards.c: a stream's viewers over several workers. */
int lec__shards_start(lec_media *m);
void lec__shards_stop(lec_media *m);
/* Posts a view to the worker that should serve it: the stream's home, a
 * shard, or a shard it opens first (the job waits for it). */
void lec__shards_view(lec_media *m, job *j);
/* Events: viewer counts per worker, pipes closed. */
void lec__shards_event(lec_media *m, stream_ent *e, const lec_sfu_event *ev);
/* A view job answered (201 or not): the shard's books. */
void lec__shards_view_done(lec_media *m, job *j);

/* cascade.c */
int lec__cascade_start(lec_media *m);
void lec__cascade_stop(lec_media *m);
/* A WHEP offer for a stream not live here: true when the cascade took it
 * (it waits for a pull), false to answer 409 as before. */
bool lec__cascade_wait(lec_media *m, job *j);
/* Worker events the cascade cares about. */
void lec__cascade_event(lec_media *m, const lec_sfu_event *ev);

#endif
