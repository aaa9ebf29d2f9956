/* The queues that carry packets between threads: base/spsc (the datagram
 * queue), pipes/pipes (between a node's workers) and the relay socket's
 * routing by tag (to the right worker, junk dropped). */
#include "base/err.h"
#include "base/spsc.h"
#include "pipes/pipes.h"
#include "relay/relay.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

static void spsc_fifo_full_and_oversize(void **state)
{
    (void)state;
    lec_spsc q;
    assert_int_equal(lec_spsc_init(&q, 3, 16), LEC_ERR_INVAL); /* not a power of two */
    assert_int_equal(lec_spsc_init(&q, 4, 16), 0);
    uint8_t out[16];
    uint64_t tag;
    assert_int_equal(lec_spsc_pop(&q, &tag, out, sizeof out), 0); /* empty */
    for (uint8_t i = 0; i < 4; i++)
        assert_true(lec_spsc_push(&q, 100 + i, &i, 1));
    uint8_t x = 9;
    assert_false(lec_spsc_push(&q, 1, &x, 1)); /* full */
    uint8_t big[17] = {0};
    assert_false(lec_spsc_push(&q, 1, big, sizeof big)); /* longer than a slot */
    for (uint8_t i = 0; i < 4; i++) {
        assert_int_equal(lec_spsc_pop(&q, &tag, out, sizeof out), 1);
        assert_int_equal(tag, 100 + i);
        assert_int_equal(out[0], i);
    }
    assert_true(lec_spsc_push(&q, 7, &x, 1)); /* room again, wrapped */
    assert_int_equal(lec_spsc_pop(&q, &tag, out, sizeof out), 1);
    lec_spsc_free(&q);
}

/* ---- pipes: a producer thread, a consumer loop ------------------------ */

#define PIPE_PACKETS 20000

typedef struct sink {
    uint32_t got, last, out_of_order, bad_tag;
    uv_loop_t *loop;
    uv_timer_t stop;
    uint64_t started;
    atomic_bool done;
} sink;

static void on_pipe_pkt(void *ud, uint64_t tag, uint8_t *pkt, size_t len, size_t cap)
{
    sink *k = ud;
    assert_true(cap >= len + 32);
    uint32_t n;
    assert_int_equal(len, 100);
    memcpy(&n, pkt, sizeof n);
    if (tag != (0x01ULL << 56 | 42))
        k->bad_tag++;
    if (k->got && n <= k->last)
        k->out_of_order++;
    k->last = n;
    k->got++;
}

typedef struct producer {
    lec_pipes *p;
    sink *k;
    uint32_t sent, dropped;
} producer;

static void produce(void *arg)
{
    producer *pr = arg;
    uint8_t pkt[100] = {0};
    for (uint32_t i = 1; i <= PIPE_PACKETS; i++) {
        memcpy(pkt, &i, sizeof i);
        int rc = lec_pipes_send(pr->p, 0, 1, 0x01ULL << 56 | 42, pkt, sizeof pkt);
        if (rc == 0)
            pr->sent++;
        else if (rc == LEC_ERR_AGAIN)
            pr->dropped++;
        if (i % 64 == 0)
            usleep(50); /* a packet rate, not a flood: most get through */
    }
    atomic_store(&pr->k->done, true);
}

static void on_stop_check(uv_timer_t *t)
{
    sink *k = t->data;
    if (atomic_load(&k->done) || uv_now(k->loop) - k->started > 20000)
        uv_stop(k->loop);
}

static void pipes_between_threads(void **state)
{
    (void)state;
    lec_pipes *p;
    assert_int_equal(lec_pipes_new(&p, 0), LEC_ERR_INVAL);
    assert_int_equal(lec_pipes_new(&p, 2), 0);
    uint8_t one = 1;
    /* Not connected yet: refused, not a crash. */
    assert_int_equal(lec_pipes_send(p, 0, 1, 1, &one, 1), LEC_ERR_INVAL);
    assert_int_equal(lec_pipes_connect(p, 0, 0), LEC_ERR_INVAL);
    assert_int_equal(lec_pipes_connect(p, 0, 1), 0);
    assert_int_equal(lec_pipes_connect(p, 1, 0), 0); /* already there */
    /* Nobody attached on worker 1: dropped and counted. */
    assert_int_equal(lec_pipes_send(p, 0, 1, 1, &one, 1), LEC_ERR_AGAIN);
    uint8_t big[2000] = {0};
    assert_int_equal(lec_pipes_send(p, 0, 1, 1, big, sizeof big), LEC_ERR_INVAL);

    uv_loop_t loop;
    uv_loop_init(&loop);
    sink k = {.loop = &loop};
    assert_int_equal(lec_pipes_attach(p, 1, &loop, on_pipe_pkt, &k), 0);
    uv_timer_init(&loop, &k.stop);
    k.stop.data = &k;
    uv_timer_start(&k.stop, on_stop_check, 10, 10);
    k.started = uv_now(&loop);
    producer pr = {.p = p, .k = &k};
    uv_thread_t th;
    uv_thread_create(&th, produce, &pr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_thread_join(&th);
    /* Whatever is still queued comes out on the next turns. */
    for (int i = 0; i < 50 && k.got < pr.sent; i++)
        uv_run(&loop, UV_RUN_NOWAIT), usleep(1000);
    assert_int_equal(k.got, pr.sent);
    assert_int_equal(pr.sent + pr.dropped, PIPE_PACKETS);
    assert_true(pr.sent > PIPE_PACKETS / 2);
    assert_int_equal(k.out_of_order, 0);
    assert_int_equal(k.bad_tag, 0);
    lec_pipes_stats st;
    lec_pipes_get_stats(p, &st);
    assert_int_equal(st.sent, pr.sent);
    assert_int_equal(st.dropped, pr.dropped + 1); /* + the one before attach */
    lec_pipes_detach(p, 1);
    uv_close((uv_handle_t *)&k.stop, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    lec_pipes_free(p);
}

/* ---- the relay socket: routing by the tag's top byte ------------------ */

typedef struct rsink {
    unsigned got, bad;
    uint64_t want_tag;
} rsink;

static void on_relay_pkt(void *ud, uint64_t tag, uint8_t *pkt, size_t len, size_t cap)
{
    rsink *k = ud;
    (void)pkt;
    if (tag != k->want_tag || len != 20 || cap < len + 32)
        k->bad++;
    else
        k->got++;
}

static void null_sink(void *ud, const char *line, size_t len)
{
    (void)ud, (void)line, (void)len;
}

static void relay_routes_by_tag(void **state)
{
    (void)state;
    lec_log log;
    lec_log_init(&log, null_sink, NULL, NULL);
    lec_addr any;
    assert_int_equal(lec_addr_parse("127.0.0.1:0", &any), 0);
    lec_relay *r;
    assert_int_equal(lec_relay_bind(&r, &any, 2, &log), 0);
    lec_addr me = lec_relay_local(r);
    assert_int_not_equal(me.port, 0);
    uv_loop_t l0, l1;
    uv_loop_init(&l0);
    uv_loop_init(&l1);
    rsink k0 = {.want_tag = lec_relay_tag(0, 5)}, k1 = {.want_tag = lec_relay_tag(1, 6)};
    assert_int_equal(lec_relay_tag_worker(k1.want_tag), 1);
    assert_true(lec_relay_tag(0, 0) != 0); /* 0 is "no leg" on the wire */
    assert_int_equal(lec_relay_tag_worker(lec_relay_tag(3, 0)), 3);
    assert_int_equal(lec_relay_attach(r, 0, &l0, on_relay_pkt, &k0), 0);
    assert_int_equal(lec_relay_attach(r, 1, &l1, on_relay_pkt, &k1), 0);
    uint8_t pkt[20] = {0x80};
    for (int i = 0; i < 10; i++) {
        assert_int_equal(lec_relay_send(r, &me, k0.want_tag, pkt, sizeof pkt), 0);
        assert_int_equal(lec_relay_send(r, &me, k1.want_tag, pkt, sizeof pkt), 0);
    }
    /* Junk: too short, and a tag naming a worker that does not exist. */
    assert_int_equal(lec_relay_send(r, &me, k0.want_tag, pkt, 3), 0);
    assert_int_equal(lec_relay_send(r, &me, lec_relay_tag(9, 1), pkt, sizeof pkt), 0);
    for (int i = 0; i < 200 && (k0.got < 10 || k1.got < 10); i++) {
        uv_run(&l0, UV_RUN_NOWAIT);
        uv_run(&l1, UV_RUN_NOWAIT);
        usleep(1000);
    }
    assert_int_equal(k0.got, 10);
    assert_int_equal(k1.got, 10);
    assert_int_equal(k0.bad + k1.bad, 0);
    lec_relay_stats st;
    lec_relay_get_stats(r, &st);
    assert_int_equal(st.rx, 22);
    assert_int_equal(st.rx_dropped, 2);
    lec_relay_detach(r, 0);
    lec_relay_detach(r, 1);
    uv_run(&l0, UV_RUN_DEFAULT);
    uv_run(&l1, UV_RUN_DEFAULT);
    uv_loop_close(&l0);
    uv_loop_close(&l1);
    lec_relay_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spsc_fifo_full_and_oversize),
        cmocka_unit_test(pipes_between_threads),
        cmocka_unit_test(relay_routes_by_tag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
