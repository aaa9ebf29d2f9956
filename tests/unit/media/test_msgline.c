/* Messages on a relay leg (media/msgline.h) in virtual time: two ends over
 * a simulated link with delay and seeded loss both ways, ticked every
 * 10 ms as the room timer does.  Covered: every message of a few hundred
 * (1 byte to 30 KB) arrives whole and in order through 20% loss; a lone
 * message whose every first copy is lost arrives after a timeout; a hole
 * that an ACK names is sent again at once, before any timeout; the
 * window fills, messages wait behind it in order, and the queue has a
 * bound; sequence numbers wrap; malformed packets are
 * counted and change nothing. */
#include "testdata.h"
#include "base/err.h"
#include "media/msgline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK (10 * LEC_MS)
#define MAXQ 20000

typedef struct pkt {
    lec_tstamp at;
    int to;
    size_t len;
    uint8_t *data;
} pkt;

static struct {
    lec_tstamp now, delay;
    double loss;
    uint32_t rng;
    pkt q[MAXQ];
    unsigned nq;
    lec_msgline end[2];
    /* what end 1 got */
    unsigned got, order_errors;
    size_t got_bytes;
    uint32_t next_id;
    bool drop_all;
    unsigned drop_next; /* end 0's next packets lost */
} net;

static uint32_t rnd(void)
{
    net.rng ^= net.rng << 13;
    net.rng ^= net.rng >> 17;
    net.rng ^= net.rng << 5;
    return net.rng;
}

static void send_from(void *ud, uint8_t *p, size_t len)
{
    int from = (int)(intptr_t)ud;
    if (from == 0 && net.drop_next) {
        net.drop_next--;
        return;
    }
    if (net.drop_all || (double)(rnd() % 10000) / 10000 < net.loss)
        return;
    assert_true(net.nq < MAXQ);
    pkt *k = &net.q[net.nq++];
    k->at = net.now + net.delay;
    k->to = 1 - from;
    k->len = len;
    k->data = malloc(len);
    memcpy(k->data, p, len);
}

/* Messages carry their number and a pattern that says their length. */
static void deliver(void *ud, const uint8_t *m, size_t len)
{
    (void)ud;
    uint32_t id;
    assert_true(len >= 4);
    memcpy(&id, m, 4);
    if (id != net.next_id)
        net.order_errors++;
    net.next_id = id + 1;
    for (size_t i = 4; i < len; i++)
        assert_int_equal(m[i], (uint8_t)(id + i));
    net.got++;
    net.got_bytes += len;
}

static lec_ml_io io_of(int end)
{
    return (lec_ml_io){send_from, deliver, (void *)(intptr_t)end};
}

static void reset(uint32_t seed, double loss, lec_tstamp delay)
{
    for (unsigned i = 0; i < net.nq; i++)
        free(net.q[i].data);
    lec_msgline_free(&net.end[0]);
    lec_msgline_free(&net.end[1]);
    memset(&net, 0, sizeof net);
    net.rng = seed;
    net.loss = loss;
    net.delay = delay;
    net.now = 5 * LEC_S;
    lec_msgline_init(&net.end[0], 1);
    lec_msgline_init(&net.end[1], 2);
}

static void run(lec_tstamp d)
{
    lec_tstamp end = net.now + d;
    while (net.now < end) {
        net.now += TICK;
        for (unsigned i = 0; i < net.nq;) {
            if (net.q[i].at > net.now) {
                i++;
                continue;
            }
            pkt k = net.q[i];
            net.q[i] = net.q[--net.nq];
            lec_ml_io io = io_of(k.to);
            assert_true(lec_msgline_is(k.data, k.len));
            lec_msgline_input(&net.end[k.to], k.data, k.len, net.now, &io);
            free(k.data);
        }
        for (int e = 0; e < 2; e++) {
            lec_ml_io io = io_of(e);
            lec_msgline_tick(&net.end[e], net.now, &io);
        }
    }
}

static int send_msg(uint32_t id, size_t len)
{
    uint8_t *m = malloc(len);
    memcpy(m, &id, 4);
    for (size_t i = 4; i < len; i++)
        m[i] = (uint8_t)(id + i);
    lec_ml_io io = io_of(0);
    int rc = lec_msgline_send(&net.end[0], m, len, net.now, &io);
    free(m);
    return rc;
}

static void test_in_order_through_loss(void **state)
{
    (void)state;
    reset(0x1234567, 0.20, 40 * LEC_MS);
    unsigned sent = 0;
    for (uint32_t id = 0; id < 300; id++) {
        size_t len = id % 50 == 0 ? 30000 : 4 + rnd() % 3000;
        while (send_msg(id, len) == LEC_ERR_FULL)
            run(TICK);
        sent++;
        if (id % 4 == 0)
            run(TICK);
    }
    run(20 * LEC_S);
    const lec_ml_stats *a = &net.end[0].st, *b = &net.end[1].st;
    printf("  300 messages through 20%% loss: %llu packets, %llu resent, %llu acks; srtt %.0f ms\n",
           (unsigned long long)a->packets_out, (unsigned long long)a->resent,
           (unsigned long long)b->acks_out, (double)net.end[0].srtt / LEC_MS);
    assert_int_equal(net.got, sent);
    assert_int_equal(net.order_errors, 0);
    assert_int_equal(lec_msgline_in_flight(&net.end[0]), 0);
    assert_true(a->resent > 0);
    assert_true(net.end[0].srtt >= 80 * LEC_MS && net.end[0].srtt < 200 * LEC_MS);
}

static void test_tail_loss_repaired_by_timeout(void **state)
{
    (void)state;
    reset(7, 0, 20 * LEC_MS);
    assert_int_equal(send_msg(0, 100), 0);
    run(200 * LEC_MS); /* a first round trip measured */
    assert_int_equal(net.got, 1);
    net.drop_all = true; /* the next one's first copy is lost */
    assert_int_equal(send_msg(1, 100), 0);
    net.drop_all = false;
    run(150 * LEC_MS);
    assert_int_equal(net.got, 2); /* resent after its timeout (2 x 40 + 20 ms) */
    assert_int_equal(net.end[0].st.resent, 1);
}

/* A hole that the far end's ACK names is sent again at once, not at the
 * retransmission timeout: the first fragment of a three-fragment message
 * is lost, the next two arrive, and their ACKs name it. */
static void test_hole_resent_when_an_ack_names_it(void **state)
{
    (void)state;
    reset(11, 0, 20 * LEC_MS);
    assert_int_equal(send_msg(0, 100), 0);
    run(200 * LEC_MS); /* a first round trip measured: 40 ms, so the timeout is 100 ms */
    assert_int_equal(net.got, 1);
    assert_true(net.end[0].rto >= 100 * LEC_MS);
    net.drop_next = 1;
    assert_int_equal(send_msg(1, 2500), 0); /* three fragments, the first lost */
    /* Fragments 2 and 3 arrive at 20 ms, their ACKs name the hole at
     * 40 ms, the copy arrives at 60 ms; the timeout would resend at 100. */
    run(70 * LEC_MS);
    assert_int_equal(net.got, 2);
    assert_int_equal(net.end[0].st.resent, 1);
    run(500 * LEC_MS);
    assert_int_equal(net.end[0].st.resent, 1); /* once: the timeout found nothing left */
}

static void test_window_and_limits(void **state)
{
    (void)state;
    reset(9, 0, 50 * LEC_MS);
    assert_int_equal(send_msg(0, LEC_ML_MAX_MSG + 1), LEC_ERR_RANGE);
    lec_ml_io io = io_of(0);
    assert_int_equal(lec_msgline_send(&net.end[0], (const uint8_t *)"", 0, net.now, &io),
                     LEC_ERR_RANGE);
    /* The window takes 4 of 30 KB; the rest wait, up to the queue's
     * 2 MiB, and go out in order as acknowledgements free the window. */
    uint32_t id = 0;
    while (send_msg(id, 30000) == 0)
        id++;
    assert_int_equal(id, LEC_ML_WINDOW / 30 + LEC_ML_QUEUE_BYTES / 30000);
    assert_int_equal(net.end[0].next_seq - net.end[0].acked, LEC_ML_WINDOW / 30 * 30);
    assert_true(net.end[0].st.queued > 60);
    run(20 * LEC_S);
    assert_int_equal(net.got, id);
    assert_int_equal(net.order_errors, 0);
    assert_int_equal(lec_msgline_in_flight(&net.end[0]), 0);
    assert_int_equal(send_msg(id, 30000), 0); /* room again */
    run(LEC_S);
    assert_int_equal(net.got, id + 1);
}

static void test_sequence_wraps(void **state)
{
    (void)state;
    reset(11, 0.1, 10 * LEC_MS);
    net.end[0].next_seq = net.end[0].acked = UINT32_MAX - 20;
    net.end[1].expect = UINT32_MAX - 20;
    for (uint32_t id = 0; id < 40; id++) {
        assert_int_equal(send_msg(id, 2500), 0);
        run(30 * LEC_MS);
    }
    run(5 * LEC_S);
    assert_int_equal(net.got, 40);
    assert_int_equal(net.order_errors, 0);
    assert_true(net.end[0].next_seq < 200);
}

static void test_malformed(void **state)
{
    (void)state;
    reset(13, 0, 10 * LEC_MS);
    assert_int_equal(send_msg(0, 10), 0);
    run(100 * LEC_MS);
    lec_ml_io io = io_of(1);
    uint8_t p[64] = {0x81, 204, 0, 5, 0, 0, 0, 1, 'L', 'E', 'C', 'M'};
    /* The length field past the packet; a fragment longer than it says;
     * a fragment beyond the window; an ACK naming too many holes. */
    p[3] = 50;
    lec_msgline_input(&net.end[1], p, 24, net.now, &io);
    p[3] = 5;
    p[16] = 0x10; /* 4096 bytes said, 4 there */
    lec_msgline_input(&net.end[1], p, 24, net.now, &io);
    p[16] = 0, p[17] = 4;
    p[12] = 0x40; /* seq 2^30 */
    lec_msgline_input(&net.end[1], p, 24, net.now, &io);
    uint8_t a[64] = {0x80, 204, 0, 4, 0, 0, 0, 1, 'L', 'E', 'C', 'A', 0, 0, 0, 1, 0, 0, 1, 0};
    lec_ml_io io0 = io_of(0);
    lec_msgline_input(&net.end[0], a, 20, net.now, &io0);
    a[19] = 0, a[12] = 0x7f; /* an ACK past what was sent */
    lec_msgline_input(&net.end[0], a, 20, net.now, &io0);
    uint8_t junk[8] = {0x80, 200, 0, 1};
    assert_false(lec_msgline_is(junk, sizeof junk));
    assert_int_equal(net.end[1].st.malformed, 3);
    assert_int_equal(net.end[0].st.malformed, 2);
    assert_int_equal(net.got, 1);
    assert_int_equal(send_msg(1, 10), 0); /* and the line goes on */
    run(100 * LEC_MS);
    assert_int_equal(net.got, 2);
    reset(1, 0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_through_loss),
        cmocka_unit_test(test_tail_loss_repaired_by_timeout),
        cmocka_unit_test(test_hole_resent_when_an_ack_names_it),
        cmocka_unit_test(test_window_and_limits),
        cmocka_unit_test(test_sequence_wraps),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
