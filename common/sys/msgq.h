/*
 * A message queue bound to a libuv loop: any thread posts a closure, the
 * loop's thread runs it (h2o style; STYLE.md rule 6).  For control
 * messages: jobs to workers and their answers, engine events, NATS
 * deliveries.  The packet path uses rings (relay/relay.c, pipes/pipes.c);
 * all of them wake their loop the same way (sys/wake.h).
 */
#ifndef LEC_SYS_MSGQ_H
#define LEC_SYS_MSGQ_H

#include "sys/wake.h"

#include <pthread.h>
#include <stdbool.h>
#include <uv.h>

typedef void (*lec_msg_fn)(void *arg);

typedef struct lec_msg {
    struct lec_msg *next;
    lec_msg_fn fn;
    void *arg;
} lec_msg;

typedef struct lec_msgq {
    lec_wake wake;
    pthread_mutex_t mu;
    lec_msg *head, *tail;
    bool closed;
    void (*on_closed)(struct lec_msgq *q);
} lec_msgq;

/* On the loop's thread.  0 or LEC_ERR_IO. */
int lec_msgq_init(lec_msgq *q, uv_loop_t *loop);
/* Any thread.  `arg` passes to the loop; 0, LEC_ERR_NOMEM, or
 * LEC_ERR_CLOSED (the caller keeps `arg`). */
int lec_msgq_post(lec_msgq *q, lec_msg_fn fn, void *arg);
/* On the loop's thread: runs what is queued, refuses later posts, and
 * closes the handle.  The queue's memory must live until `done` runs (it
 * may be NULL; then until uv_run returns). */
void lec_msgq_close(lec_msgq *q, void (*done)(lec_msgq *q));

#endif
