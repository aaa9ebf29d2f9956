/* Transport-wide CC feedback in virtual time: what arrived and when, read
 * back from the packets as a sender would; losses, reordering, wraps,
 * long gaps, many packets, late arrivals. */
#include "testdata.h"
#include "base/err.h"
#include "media/twcc.h"

#include <stdlib.h>
#include <string.h>

static lec_twcc t;
static lec_twcc_report rep;

#define T0 (1000 * LEC_MS + 123 * LEC_US) /* not a multiple of 64 ms or 250 us */

/* Builds one feedback and reads it back. */
static size_t one(size_t cap)
{
    uint8_t b[1500];
    size_t len = lec_twcc_feedback(&t, 0x11111111, 0x22222222, b, cap);
    if (len) {
        assert_int_equal(len % 4, 0);
        assert_true(len <= cap);
        assert_int_equal(lec_twcc_parse(b, len, &rep), 0);
    }
    return len;
}

/* Arrival time of report entry i in ticks, from the reference time. */
static int64_t arrival_ticks(size_t i)
{
    int64_t at = (int64_t)rep.reference * 256;
    for (size_t k = 0; k <= i; k++)
        at += rep.delta[k];
    return at;
}

static void test_losses_and_times(void **state)
{
    (void)state;
    lec_twcc_init(&t);
    assert_int_equal(one(1200), 0); /* nothing yet */
    for (uint16_t s = 100; s < 110; s++)
        if (s != 105)
            lec_twcc_arrived(&t, s, T0 + (s - 100) * LEC_MS);
    assert_true(one(1200) > 0);
    assert_int_equal(rep.base_seq, 100);
    assert_int_equal(rep.count, 10);
    assert_int_equal(rep.fb_count, 0);
    assert_int_equal(rep.reference, (int32_t)(T0 / (64 * LEC_MS)));
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(rep.received[i], i != 5);
        if (i != 5) /* every arrival time to the tick, from the deltas */
            assert_int_equal(arrival_ticks(i), (T0 + (int64_t)i * LEC_MS) / LEC_TWCC_TICK);
    }
    assert_int_equal(rep.delta[6], 8); /* 2 ms after 104: the lost one adds nothing */
    assert_int_equal(one(1200), 0);    /* all reported */
    /* The next feedback starts where this one ended, counted on. */
    lec_twcc_arrived(&t, 110, T0 + 10 * LEC_MS);
    assert_true(one(1200) > 0);
    assert_int_equal(rep.base_seq, 110);
    assert_int_equal(rep.count, 1);
    assert_int_equal(rep.fb_count, 1);
    /* Reported already: a late copy of 105 is not reported again. */
    lec_twcc_arrived(&t, 105, T0 + 20 * LEC_MS);
    assert_int_equal(one(1200), 0);
    assert_true(t.late == 1);
}

static void test_reorder_and_large_deltas(void **state)
{
    (void)state;
    lec_twcc_init(&t);
    lec_twcc_arrived(&t, 3, T0);
    lec_twcc_arrived(&t, 5, T0 + 1 * LEC_MS); /* 5 before 4 */
    lec_twcc_arrived(&t, 4, T0 + 2 * LEC_MS);
    lec_twcc_arrived(&t, 6, T0 + 502 * LEC_MS); /* half a second later */
    assert_true(one(1200) > 0);
    assert_int_equal(rep.count, 4);
    assert_int_equal(rep.delta[1], 8);    /* 4: 2 ms after 3 */
    assert_int_equal(rep.delta[2], -4);   /* 5: 1 ms before 4 (a negative, large delta) */
    assert_int_equal(rep.delta[3], 2004); /* 6: 501 ms after 5 (does not fit a byte) */
    for (size_t i = 0; i < 4; i++)
        assert_true(rep.received[i]);
    /* A gap no 16-bit delta covers (over 8 s): two feedbacks. */
    lec_twcc_init(&t);
    lec_twcc_arrived(&t, 1, T0);
    lec_twcc_arrived(&t, 2, T0 + 9 * LEC_S);
    assert_true(one(1200) > 0);
    assert_int_equal(rep.count, 1);
    assert_true(one(1200) > 0);
    assert_int_equal(rep.base_seq, 2);
    assert_int_equal(arrival_ticks(0), (T0 + 9 * LEC_S) / LEC_TWCC_TICK);
}

static void test_wrap_and_runs(void **state)
{
    (void)state;
    lec_twcc_init(&t);
    lec_twcc_arrived(&t, 65534, T0);
    lec_twcc_arrived(&t, 65535, T0 + LEC_MS);
    lec_twcc_arrived(&t, 0, T0 + 2 * LEC_MS);
    lec_twcc_arrived(&t, 300, T0 + 3 * LEC_MS); /* 299 lost in a row */
    size_t len = one(1200);
    assert_true(len > 0 && len <= 40); /* the losses cost a run chunk, not 43 vectors */
    assert_int_equal(rep.base_seq, 65534);
    assert_int_equal(rep.count, 303);
    assert_true(rep.received[0] && rep.received[1] && rep.received[2] && rep.received[302]);
    for (size_t i = 3; i < 302; i++)
        assert_false(rep.received[i]);
}

/* 3,000 packets, a few lost: feedbacks of at most `cap` bytes that report
 * each number exactly once, in order. */
static void test_many(void **state)
{
    (void)state;
    lec_twcc_init(&t);
    uint16_t first = 40000;
    for (unsigned i = 0; i < 3000; i++)
        if (i % 97 != 13)
            lec_twcc_arrived(&t, (uint16_t)(first + i), T0 + i * 300 * LEC_US);
    unsigned covered = 0, received = 0, packets = 0;
    uint16_t expect = first;
    size_t len;
    while ((len = one(500)) > 0) {
        assert_int_equal(rep.base_seq, expect);
        for (size_t k = 0; k < rep.count; k++) {
            unsigned i = covered + (unsigned)k;
            assert_int_equal(rep.received[k], i % 97 != 13);
            if (rep.received[k])
                assert_int_equal(arrival_ticks(k), (T0 + i * 300 * LEC_US) / LEC_TWCC_TICK);
            received += rep.received[k];
        }
        covered += rep.count;
        expect = (uint16_t)(expect + rep.count);
        packets++;
    }
    assert_int_equal(covered, 3000);
    assert_int_equal(received, 3000 - 31);
    assert_true(packets > 5); /* split to fit 500 bytes */
}

/* A sender that jumps far ahead: what lies a window behind is dropped
 * unreported, in bounded work, and feedback goes on from there. */
static void test_jump(void **state)
{
    (void)state;
    lec_twcc_init(&t);
    lec_twcc_arrived(&t, 10, T0);
    lec_twcc_arrived(&t, 30000, T0 + LEC_MS);
    assert_true(one(1200) > 0);
    assert_int_equal(rep.base_seq, (uint16_t)(30000 - LEC_TWCC_WINDOW + 1));
    size_t total = rep.count;
    while (one(1200) > 0)
        total += rep.count;
    assert_int_equal(total, LEC_TWCC_WINDOW);
    assert_true(rep.received[rep.count - 1]);
    /* A jump just short of a window keeps what is still inside it. */
    lec_twcc_init(&t);
    lec_twcc_arrived(&t, 100, T0);
    lec_twcc_arrived(&t, 101, T0);
    lec_twcc_arrived(&t, (uint16_t)(101 + LEC_TWCC_WINDOW - 1), T0 + LEC_MS);
    assert_true(one(1200) > 0);
    assert_int_equal(rep.base_seq, 101);
}

/* Malformed feedback is refused, never read past its end. */
static void test_parse_refuses(void **state)
{
    (void)state;
    lec_twcc_init(&t);
    for (uint16_t s = 0; s < 20; s++)
        lec_twcc_arrived(&t, s, T0 + s * LEC_MS);
    uint8_t b[200];
    size_t len = lec_twcc_feedback(&t, 1, 2, b, sizeof b);
    assert_true(len > 20);
    for (size_t cut = 0; cut < len; cut += 4) {
        uint8_t c[200];
        memcpy(c, b, cut);
        if (cut >= 4) { /* a consistent length field for the shorter packet */
            c[2] = (uint8_t)((cut / 4 - 1) >> 8);
            c[3] = (uint8_t)(cut / 4 - 1);
        }
        assert_int_equal(lec_twcc_parse(c, cut, &rep), LEC_ERR_INVAL);
    }
    b[1] = 206;
    assert_int_equal(lec_twcc_parse(b, len, &rep), LEC_ERR_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_losses_and_times),
        cmocka_unit_test(test_reorder_and_large_deltas),
        cmocka_unit_test(test_wrap_and_runs),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_jump),
        cmocka_unit_test(test_parse_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
