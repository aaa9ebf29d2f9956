/* Loop-bound message queue (msgq.h), woken through sys/wake.h. */
#include "sys/msgq.h"
#include "base/err.h"

#include <stddef.h>
#include <stdlib.h>

static void drain(void *arg)
{
    lec_msgq *q = arg;
    pthread_mutex_lock(&q->mu);
    lec_msg *m = q->head;
    q->head = q->tail = NULL;
    pthread_mutex_unlock(&q->mu);
    while (m) {
        lec_msg *next = m->next;
        m->fn(m->arg);
        free(m);
        m = next;
    }
}

int lec_msgq_init(lec_msgq *q, uv_loop_t *loop)
{
    q->head = q->tail = NULL;
    q->closed = false;
    q->on_closed = NULL;
    if (pthread_mutex_init(&q->mu, NULL))
        return LEC_ERR_IO;
    if (lec_wake_init(&q->wake) || lec_wake_attach(&q->wake, loop, drain, q)) {
        lec_wake_free(&q->wake);
        pthread_mutex_destroy(&q->mu);
        return LEC_ERR_IO;
    }
    return 0;
}

int lec_msgq_post(lec_msgq *q, lec_msg_fn fn, void *arg)
{
    lec_msg *m = malloc(sizeof *m);
    if (!m)
        return LEC_ERR_NOMEM;
    m->next = NULL;
    m->fn = fn;
    m->arg = arg;
    pthread_mutex_lock(&q->mu);
    if (q->closed) {
        pthread_mutex_unlock(&q->mu);
        free(m);
        return LEC_ERR_CLOSED;
    }
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
    /* Under the lock: once close has set `closed`, nobody signals, so the
     * wake's eventfd may go with the queue. */
    lec_wake_signal(&q->wake);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

static void on_detached(lec_wake *w)
{
    lec_msgq *q = (lec_msgq *)((char *)w - offsetof(lec_msgq, wake));
    lec_wake_free(w);
    /* The mutex is not destroyed: threads that post to this queue may
     * still lock it (and see `closed`) until they are joined. */
    if (q->on_closed)
        q->on_closed(q);
}

void lec_msgq_close(lec_msgq *q, void (*done)(lec_msgq *q))
{
    q->on_closed = done;
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_mutex_unlock(&q->mu);
    drain(q);
    lec_wake_detach(&q->wake, on_detached);
}
