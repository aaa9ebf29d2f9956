/* Loop-bound message queue (msgq.h). */
#include "node/msgq.h"
#include "base/err.h"

#include <stdlib.h>

static void drain(lec_msgq *q)
{
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

static void on_async(uv_async_t *a)
{
    drain(a->data);
}

int lec_msgq_init(lec_msgq *q, uv_loop_t *loop)
{
    q->head = q->tail = NULL;
    q->closed = false;
    q->on_closed = NULL;
    if (pthread_mutex_init(&q->mu, NULL))
        return LEC_ERR_IO;
    if (uv_async_init(loop, &q->async, on_async)) {
        pthread_mutex_destroy(&q->mu);
        return LEC_ERR_IO;
    }
    q->async.data = q;
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
    pthread_mutex_unlock(&q->mu);
    uv_async_send(&q->async);
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    lec_msgq *q = h->data;
    pthread_mutex_destroy(&q->mu);
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
    uv_close((uv_handle_t *)&q->async, on_closed);
}
