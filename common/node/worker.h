/*
 * A worker: one thread, one libuv loop, one message queue.  Media sessions
 * live on a worker all their lives (DESIGN.md section 4); other threads
 * reach a worker only by posting to it.
 */
#ifndef LEC_NODE_WORKER_H
#define LEC_NODE_WORKER_H

#include "base/log.h"
#include "ice/glib_loop.h"
#include "sys/msgq.h"

#include <uv.h>

typedef struct lec_worker {
    unsigned index;
    uv_loop_t loop;
    lec_msgq q;
    uv_thread_t thread;
    lec_log *log;
    lec_glib_loop *glib; /* libnice's context, driven by this loop */
    void *sfu;           /* the media engine's state on this worker (sfu/sfu.h) */
    bool started;
    uv_sem_t ready;
} lec_worker;

/* Starts the thread; returns once its loop runs.  0 or LEC_ERR_IO. */
int lec_worker_start(lec_worker *w, unsigned index, lec_log *log);
/* Runs fn(arg) on the worker's thread.  See lec_msgq_post. */
int lec_worker_post(lec_worker *w, lec_msg_fn fn, void *arg);
/* Asks the worker to finish, waits for its thread, frees its loop. */
void lec_worker_stop(lec_worker *w);

#endif
