/*
 * The node's media plane, private to node/: the registry media.c keeps on
 * the main loop and the jobs it sends to workers, shared with cascade.c
 * (relay legs: pulling streams, serving RelayOpen, linger, failover,
 * prewarm).
 */
#ifndef LEC_NODE_MEDIA_INT_H
#define LEC_NODE_MEDIA_INT_H

#include "base/time.h"
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
    char pub[33];
    unsigned viewers; /* on every worker */
    uint64_t started_unix_ms;
    shard *shards; /* [worker], always there */
    /* The cascade (cascade.c). */
    unsigned legs;        /* downstream legs fed from here */
    uint32_t depth;       /* relay hops from the publisher */
    bool pulled;          /* fed by a leg here */
    bool pulling;         /* a RelayOpen or leg setup in flight */
    bool prewarm;         /* pulled on the origin's word: no linger while live */
    lec_tstamp announced; /* StreamEvent STARTED last sent (published here); 0: not yet */
    char source[65];      /* the node it is pulled from */
    uint64_t leg_id;      /* the current upstream leg (our tag) */
    lec_tstamp pull_started, idle_since;
    unsigned attempts;    /* RelayOpen tries in this pull */
    char excluded[4][65]; /* sources that failed in this pull */
    unsigned nexcluded;
    struct job *waiting; /* WHEP offers waiting for the pull to go live */
    unsigned nwaiting;
    struct stream_ent *next;
} stream_ent;

typedef struct sess_ent {
    char id[33];
    char stream[65];
    unsigned worker;
    bool publisher;
    struct sess_ent *next;
} sess_ent;

struct lec_media {
    lec_node *node;
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
};

typedef enum job_kind {
    JOB_PUBLISH,
    JOB_VIEW,
    JOB_END,
    JOB_TRICKLE,
    JOB_INIT,
    JOB_FREE,
    JOB_LEG_OUT,   /* serve a RelayOpen: a leg from our room */
    JOB_LEG_IN,    /* a leg into our room (a pull or a failover) */
    JOB_LEG_CLOSE, /* close a leg (linger over, RelayClose) */
    JOB_STATS,     /* a session's stats (GET /v1/sessions/<id>) */
} job_kind;

typedef struct job {
    lec_media *m;
    lec_http_ex *ex;
    job_kind kind;
    unsigned worker;
    char stream[65];
    char id[33];
    lec_sdp *offer;
    char *frag;
    size_t frag_len;
    int rc;
    lec_sfu_result res;
    /* The cascade's jobs. */
    lec_sfu_leg_out *leg_out;
    lec_sfu_leg_in *leg_in;
    uint64_t leg_id;
    struct lec_bus_request *req; /* the RelayOpen to answer */
    struct job *next_waiting;
    bool shard;                  /* a pipe job of shards.c */
    bool placed;                 /* a view whose worker shards.c chose */
    lec_sfu_session_stats stats; /* JOB_STATS */
} job;

stream_ent *lec__media_stream_find(lec_media *m, const char *name);
sess_ent *lec__media_session_find(lec_media *m, const char *id);
stream_ent *lec__media_stream_get(lec_media *m, const char *name);
unsigned lec__media_worker_for(const lec_media *m, const char *stream);
job *lec__media_job_new(lec_media *m, lec_http_ex *ex, job_kind kind, const char *stream);
void lec__media_job_free(job *j);
/* Posts j to its worker; false (j freed, the exchange answered 503) when
 * the worker is gone. */
void lec__media_post_job(lec_media *m, job *j);
void lec__media_streams_gc(lec_media *m);

/* status.c: GET /v1/streams, /v1/streams/<stream>, /v1/sessions/<id>. */
int lec__media_status_routes(lec_media *m);
void lec__media_status_job_done(lec_media *m, job *j);

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
void lec__shards_job_done(lec_media *m, job *j);
/* A view job answered (201 or not): the shard's books. */
void lec__shards_view_done(lec_media *m, job *j);
bool lec__shards_busy(const stream_ent *e, unsigned nworkers);

/* cascade.c */
int lec__cascade_start(lec_media *m);
void lec__cascade_stop(lec_media *m);
/* A WHEP offer for a stream not live here: true when the cascade took it
 * (it waits for a pull), false to answer 409 as before. */
bool lec__cascade_wait(lec_media *m, job *j);
/* Worker events and finished jobs the cascade cares about. */
void lec__cascade_event(lec_media *m, const lec_sfu_event *ev);
void lec__cascade_job_done(lec_media *m, job *j);

#endif
