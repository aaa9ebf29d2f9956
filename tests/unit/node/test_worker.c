/* Workers and loop-bound message queues: posts from many threads run on
 * the worker's thread, in order per poster, and stop is clean. */
#include "testdata.h"
#include "base/err.h"
#include "node/worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

typedef struct counter {
    lec_worker *w;
    uv_thread_t worker_thread;
    int seen_thread_ok;
    int count;
    int last[4];
    int out_of_order;
} counter;

typedef struct msg {
    counter *c;
    int poster, seq;
} msg;

static msg msgs[4][500];

static void on_msg(void *arg)
{
    msg *m = arg;
    uv_thread_t self = uv_thread_self();
    m->c->seen_thread_ok += uv_thread_equal(&self, &m->c->w->thread);
    if (m->seq != m->c->last[m->poster] + 1)
        m->c->out_of_order++;
    m->c->last[m->poster] = m->seq;
    m->c->count++;
}

typedef struct poster {
    counter *c;
    int id;
} poster;

static void *poster_main(void *arg)
{
    poster *p = arg;
    for (int i = 0; i < 500; i++) {
        msg *m = &msgs[p->id][i];
        m->c = p->c;
        m->poster = p->id;
        m->seq = i + 1;
        while (lec_worker_post(p->c->w, on_msg, m) == LEC_ERR_NOMEM)
            ;
    }
    return NULL;
}

static void null_sink(void *ud, const char *line, size_t len)
{
    (void)ud, (void)line, (void)len;
}

static void test_posts(void **state)
{
    (void)state;
    lec_log log;
    lec_log_init(&log, null_sink, NULL, NULL);
    static lec_worker w;
    assert_int_equal(lec_worker_start(&w, 0, &log), 0);
    counter c;
    memset(&c, 0, sizeof c);
    c.w = &w;
    pthread_t t[4];
    poster p[4];
    for (int i = 0; i < 4; i++) {
        p[i] = (poster){&c, i};
        pthread_create(&t[i], NULL, poster_main, &p[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    lec_worker_stop(&w); /* runs what is queued, then joins */
    assert_int_equal(c.count, 2000);
    assert_int_equal(c.seen_thread_ok, 2000);
    assert_int_equal(c.out_of_order, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_posts)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
