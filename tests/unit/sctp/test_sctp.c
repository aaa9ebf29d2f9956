/* SCTP associations on libusrsctp (sctp/sctp.h), two in one process, their
 * packets carried by the test (as DTLS records would be) over a link it
 * controls, with the timers advanced in virtual time (lec_sctp_tick):
 * the association opens, DCEP opens the lectern channel, messages go both
 * ways in order (empty, one packet, many packets), a message past our
 * max-message-size is dropped and counted while the next one arrives,
 * loss is repaired by retransmission with no message lost or reordered,
 * a stream reset closes the channel at both ends without a reset loop,
 * and freeing one end aborts the association at the other. */
#include "testdata.h"
#include "base/err.h"
#include "sctp/dcep.h"
#include "sctp/sctp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXQ 4096

typedef struct pkt {
    int to;
    size_t len;
    uint8_t data[1300];
} pkt;

typedef struct end {
    lec_sctp *s;
    lec_dcep d;
    lec_sctp_state state;
    unsigned msgs, resets;
    char last[70000];
    size_t last_len;
    uint32_t last_ppid;
    unsigned order_errors;
    unsigned next_seq; /* for numbered messages */
} end;

static struct {
    end e[2];
    pkt *q;
    unsigned nq;
    lec_tstamp now;
    unsigned sent, dropped;
    unsigned drop_every; /* 0: none */
} t;

static void output(void *ud, const uint8_t *p, size_t len)
{
    end *from = ud;
    int to = from == &t.e[0] ? 1 : 0;
    t.sent++;
    if (t.drop_every && t.sent % t.drop_every == 0) {
        t.dropped++;
        return;
    }
    assert_true(len <= sizeof t.q[0].data);
    assert_true(t.nq < MAXQ);
    t.q[t.nq].to = to;
    t.q[t.nq].len = len;
    memcpy(t.q[t.nq].data, p, len);
    t.nq++;
}

static void message(void *ud, uint16_t sid, uint32_t ppid, const uint8_t *data, size_t len)
{
    end *e = ud;
    lec_dcep_event ev;
    lec_dcep_input(&e->d, sid, ppid, data, len, &ev);
    if (ev.kind == LEC_DCEP_OPENED)
        lec_sctp_send(e->s, sid, LEC_PPID_DCEP, ev.reply, ev.reply_len, false, -1);
    if (ev.kind == LEC_DCEP_REFUSED)
        lec_sctp_reset_stream(e->s, sid);
    if (ppid == LEC_PPID_DCEP)
        return;
    e->msgs++;
    e->last_ppid = ppid;
    e->last_len = len < sizeof e->last ? len : sizeof e->last;
    memcpy(e->last, data, e->last_len);
    unsigned seq;
    char head[16];
    snprintf(head, sizeof head, "%.*s", (int)(len < 15 ? len : 15), (const char *)data);
    if (len > 4 && sscanf(head, "n%u", &seq) == 1) {
        if (seq != e->next_seq)
            e->order_errors++;
        e->next_seq = seq + 1;
    }
}

static void state_cb(void *ud, lec_sctp_state st)
{
    end *e = ud;
    e->state = st;
}

static void reset_cb(void *ud, uint16_t sid)
{
    end *e = ud;
    e->resets++;
    lec_dcep_closed(&e->d, sid);
}

/* Delivers what is in flight and advances time by `ms` in 10 ms ticks. */
static void run(unsigned ms)
{
    for (unsigned el = 0; el <= ms; el += 10) {
        for (int guard = 0; guard < 100 && t.nq; guard++) {
            unsigned n = t.nq;
            pkt *batch = malloc(n * sizeof *batch);
            memcpy(batch, t.q, n * sizeof *batch);
            t.nq = 0;
            for (unsigned i = 0; i < n; i++)
                if (t.e[batch[i].to].s)
                    lec_sctp_input(t.e[batch[i].to].s, batch[i].data, batch[i].len);
            free(batch);
        }
        t.now += 10 * LEC_MS;
        lec_sctp_tick(t.now);
        for (int i = 0; i < 2; i++)
            if (t.e[i].s && lec_sctp_wants_poll(t.e[i].s))
                lec_sctp_poll(t.e[i].s);
    }
}

static void start(size_t max_b)
{
    free(t.q);
    memset(&t, 0, sizeof t);
    t.q = calloc(MAXQ, sizeof *t.q);
    t.now = 1000 * LEC_S; /* ahead of any earlier test's virtual time */
    static lec_tstamp base = 1000 * LEC_S;
    base += 1000 * LEC_S;
    t.now = base;
    lec_sctp_tick(t.now);
    for (int i = 0; i < 2; i++) {
        lec_sctp_cfg cfg = {
            .local_port = 5000, .remote_port = 5000, .max_message = i ? max_b : 65536};
        lec_sctp_cbs cbs = {.output = output,
                            .message = message,
                            .state = state_cb,
                            .reset = reset_cb,
                            .ud = &t.e[i]};
        assert_int_equal(lec_sctp_new(&t.e[i].s, &cfg, &cbs), 0);
        /* e[0] is the browser (DTLS client, opens even streams), e[1] us. */
        lec_dcep_init(&t.e[i].d, i == 1, "lectern");
    }
    assert_int_equal(lec_sctp_connect(t.e[0].s), 0);
    assert_int_equal(lec_sctp_connect(t.e[1].s), 0);
    run(100);
    assert_int_equal(t.e[0].state, LEC_SCTP_OPEN);
    assert_int_equal(t.e[1].state, LEC_SCTP_OPEN);
    /* The browser opens its channel. */
    uint8_t m[64];
    size_t n = lec_dcep_open_msg(LEC_DCEP_RELIABLE, 0, "lectern", "", m, sizeof m);
    assert_int_equal(lec_sctp_send(t.e[0].s, 0, LEC_PPID_DCEP, m, n, false, -1), 0);
    run(50);
    assert_int_equal(lec_dcep_find(&t.e[1].d, "lectern"), 0);
}

static void stop(void)
{
    for (int i = 0; i < 2; i++) {
        lec_sctp_free(t.e[i].s);
        t.e[i].s = NULL;
    }
    free(t.q);
    t.q = NULL;
}

static void test_opens_and_carries_messages_both_ways(void **state)
{
    (void)state;
    start(16384);
    const char *hello = "{\"type\":\"hello\"}";
    assert_int_equal(lec_sctp_send(t.e[1].s, 0, LEC_PPID_STRING, hello, strlen(hello), false, -1),
                     0);
    run(50);
    assert_int_equal(t.e[0].msgs, 1);
    assert_int_equal(t.e[0].last_len, strlen(hello));
    assert_memory_equal(t.e[0].last, hello, strlen(hello));
    /* Empty, then one of many packets (12 KB over 1150-byte packets). */
    assert_int_equal(lec_sctp_send(t.e[0].s, 0, LEC_PPID_STRING_EMPTY, NULL, 0, false, -1), 0);
    run(50);
    assert_int_equal(t.e[1].msgs, 1);
    assert_int_equal(t.e[1].last_ppid, LEC_PPID_STRING_EMPTY);
    char *big = malloc(12000);
    memset(big, 'x', 12000);
    assert_int_equal(lec_sctp_send(t.e[0].s, 0, LEC_PPID_BINARY, big, 12000, false, -1), 0);
    run(100);
    assert_int_equal(t.e[1].msgs, 2);
    assert_int_equal(t.e[1].last_len, 12000);
    assert_int_equal(lec_sctp_stats_get(t.e[1].s)->messages_in, 3); /* with the DCEP open */
    free(big);
    assert_true(lec_sctp_rtt_ms(t.e[1].s) >= 0);
    stop();
}

static void test_oversized_message_dropped_next_one_arrives(void **state)
{
    (void)state;
    start(4096);
    char *big = malloc(20000);
    memset(big, 'y', 20000);
    assert_int_equal(lec_sctp_send(t.e[0].s, 0, LEC_PPID_BINARY, big, 20000, false, -1), 0);
    run(100);
    assert_int_equal(t.e[1].msgs, 0);
    assert_int_equal(lec_sctp_stats_get(t.e[1].s)->oversized, 1);
    assert_int_equal(lec_sctp_send(t.e[0].s, 0, LEC_PPID_STRING, "ok", 2, false, -1), 0);
    run(50);
    assert_int_equal(t.e[1].msgs, 1);
    assert_memory_equal(t.e[1].last, "ok", 2);
    /* The peer's limit: a message past it is refused here. */
    lec_sctp_set_peer_max_message(t.e[1].s, 100);
    assert_int_equal(lec_sctp_send(t.e[1].s, 0, LEC_PPID_BINARY, big, 101, false, -1),
                     LEC_ERR_RANGE);
    free(big);
    stop();
}

static void test_loss_is_repaired_in_order(void **state)
{
    (void)state;
    start(65536);
    t.drop_every = 4; /* a quarter of all packets, both ways */
    for (unsigned i = 0; i < 60; i++) {
        char m[64];
        int n = snprintf(m, sizeof m, "n%u {\"type\":\"quiz\"}", i);
        assert_int_equal(lec_sctp_send(t.e[1].s, 0, LEC_PPID_STRING, m, (size_t)n, false, -1), 0);
        run(10);
    }
    run(5000);
    assert_true(t.dropped > 10);
    assert_int_equal(t.e[0].msgs, 60);
    assert_int_equal(t.e[0].order_errors, 0);
    assert_int_equal(t.e[0].next_seq, 60);
    stop();
}

static void test_stream_reset_closes_both_ends_once(void **state)
{
    (void)state;
    start(65536);
    lec_sctp_reset_stream(t.e[0].s, 0); /* the browser closes its channel */
    run(200);
    assert_int_equal(t.e[1].resets, 1);
    assert_int_equal(t.e[0].resets, 1); /* ours back, and no more */
    assert_int_equal(lec_dcep_find(&t.e[1].d, "lectern"), -1);
    run(1000);
    assert_int_equal(t.e[1].resets, 1);
    assert_int_equal(t.e[0].resets, 1);
    /* A refused label: we reset its stream, and the browser sees it close. */
    uint8_t m[64];
    size_t n = lec_dcep_open_msg(LEC_DCEP_RELIABLE, 0, "chat", "", m, sizeof m);
    assert_int_equal(lec_sctp_send(t.e[0].s, 2, LEC_PPID_DCEP, m, n, false, -1), 0);
    run(200);
    assert_int_equal(t.e[0].resets, 2);
    assert_int_equal(t.e[1].d.refused, 1);
    stop();
}

static void test_freeing_one_end_aborts_the_other(void **state)
{
    (void)state;
    start(65536);
    lec_sctp_free(t.e[1].s);
    t.e[1].s = NULL;
    run(50);
    assert_int_equal(t.e[0].state, LEC_SCTP_CLOSED);
    assert_int_equal(lec_sctp_send(t.e[0].s, 0, LEC_PPID_STRING, "x", 1, false, -1), LEC_ERR_STATE);
    stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opens_and_carries_messages_both_ways),
        cmocka_unit_test(test_oversized_message_dropped_next_one_arrives),
        cmocka_unit_test(test_loss_is_repaired_in_order),
        cmocka_unit_test(test_stream_reset_closes_both_ends_once),
        cmocka_unit_test(test_freeing_one_end_aborts_the_other),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    return failed ? failed : lec_sctp_library_shutdown() ? 1 : 0;
}
