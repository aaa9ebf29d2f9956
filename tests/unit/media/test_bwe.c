/*
 * The viewer bandwidth estimator (media/bwe.h) in virtual time, against a
 * simulated link: a bottleneck of a given rate (a FIFO that drains at that
 * rate, dropping what waits more than 300 ms), 20 ms each way, random loss.
 * The receiving side is our own transport-cc core (media/twcc.h): it notes
 * arrivals and sends feedback every 50 ms, which the estimator reads.
 *  - a fast link under a 1 Mbit/s stream: no overuse, the estimate above
 *    what is sent (up to 1.5x);
 *  - a 500 kbit/s link under 1 Mbit/s: overuse within 2 s, the estimate
 *    at or under the link;
 *  - 20% random loss: the estimate falls;
 *  - a probe at 2 Mbit/s over a 300 kbit/s stream on a 5 Mbit/s link
 *    raises the estimate to about the probe; over a 1 Mbit/s link, to
 *    about 1 Mbit/s.
 */
#include "testdata.h"
#include "base/time.h"
#include "media/bwe.h"
#include "media/twcc.h"

#include <stdlib.h>
#include <string.h>

typedef struct pkt {
    lec_tstamp arrive;
    uint16_t seq;
} pkt;

typedef struct sim {
    lec_bwe bwe;
    lec_twcc rx;
    lec_twcc_report rep;
    uint32_t link_bps;
    double loss;
    lec_tstamp link_free;
    pkt flying[8192];
    unsigned nfly;
    struct {
        lec_tstamp at;
        uint8_t b[1500];
        size_t len;
    } fb[64];
    unsigned nfb;
    uint32_t rnd;
} sim;

static uint32_t rnd(sim *s)
{
    s->rnd = s->rnd * 1103515245u + 12345u;
    return s->rnd >> 8;
}

static void send_pkt(sim *s, size_t size, bool probe, lec_tstamp now)
{
    uint16_t seq = lec_bwe_sent(&s->bwe, size, probe, now);
    if ((double)(rnd(s) % 10000) / 10000.0 < s->loss)
        return;
    lec_tstamp start = now > s->link_free ? now : s->link_free;
    if (start - now > 300 * LEC_MS)
        return; /* the queue is full: tail drop */
    s->link_free = start + (lec_tstamp)size * 8 * LEC_S / s->link_bps;
    assert_true(s->nfly < 8192);
    s->flying[s->nfly++] = (pkt){s->link_free + 20 * LEC_MS, seq};
}

/* One millisecond: arrivals to the receiver, its feedback every 50 ms,
 * feedback reaching us 20 ms later. */
static void step(sim *s, lec_tstamp now)
{
    unsigned keep = 0;
    for (unsigned i = 0; i < s->nfly; i++) {
        if (s->flying[i].arrive <= now)
            lec_twcc_arrived(&s->rx, s->flying[i].seq, s->flying[i].arrive);
        else
            s->flying[keep++] = s->flying[i];
    }
    s->nfly = keep;
    if (now % (50 * LEC_MS) == 0) {
        size_t n;
        while (s->nfb < 64 &&
               (n = lec_twcc_feedback(&s->rx, 1, 2, s->fb[s->nfb].b, sizeof s->fb[0].b)) > 0) {
            s->fb[s->nfb].len = n;
            s->fb[s->nfb].at = now + 20 * LEC_MS;
            s->nfb++;
        }
    }
    keep = 0;
    for (unsigned i = 0; i < s->nfb; i++) {
        if (s->fb[i].at <= now) {
            assert_int_equal(lec_twcc_parse(s->fb[i].b, s->fb[i].len, &s->rep), 0);
            lec_bwe_feedback(&s->bwe, &s->rep, now);
        } else {
            s->fb[keep++] = s->fb[i];
        }
    }
    s->nfb = keep;
}

static sim *sim_new(uint32_t link_bps, double loss, uint32_t start_bps)
{
    sim *s = calloc(1, sizeof *s);
    lec_bwe_init(&s->bwe, start_bps);
    lec_twcc_init(&s->rx);
    s->link_bps = link_bps;
    s->loss = loss;
    s->rnd = 42;
    return s;
}

/* Sends `bps` of media (1200-byte packets, evenly) from `from` to `to`,
 * plus `probe_bps` as probes during [probe_from, probe_to). */
static void run(sim *s, uint32_t bps, lec_tstamp from, lec_tstamp to, uint32_t probe_bps,
                lec_tstamp probe_from, lec_tstamp probe_to)
{
    double credit = 0, pcredit = 0;
    for (lec_tstamp t = from; t < to; t += LEC_MS) {
        credit += bps / 8000.0;
        while (credit >= 1200) {
            send_pkt(s, 1200, false, t);
            credit -= 1200;
        }
        if (probe_bps && t >= probe_from && t < probe_to) {
            pcredit += probe_bps / 8000.0;
            while (pcredit >= 1200) {
                send_pkt(s, 1200, true, t);
                pcredit -= 1200;
            }
        }
        step(s, t);
    }
}

static void test_fast_link(void **state)
{
    (void)state;
    sim *s = sim_new(5000000, 0, 300000);
    run(s, 1000000, LEC_MS, 8 * LEC_S, 0, 0, 0);
    uint32_t e = lec_bwe_estimate(&s->bwe);
    assert_int_equal(s->bwe.overuses, 0);
    assert_true(s->bwe.reports > 100);
    assert_true(e >= 1000000 && e <= 1600000);
    free(s);
}

static void test_slow_link(void **state)
{
    (void)state;
    sim *s = sim_new(500000, 0, 1000000);
    run(s, 1000000, LEC_MS, 2 * LEC_S, 0, 0, 0);
    assert_true(s->bwe.overuses >= 1);
    uint32_t e = lec_bwe_estimate(&s->bwe);
    assert_true(e <= 520000);
    assert_true(e >= 250000);
    /* Sending what the estimate allows, it holds near the link. */
    run(s, e * 9 / 10, 2 * LEC_S, 10 * LEC_S, 0, 0, 0);
    e = lec_bwe_estimate(&s->bwe);
    assert_true(e >= 300000 && e <= 650000);
    free(s);
}

static void test_loss(void **state)
{
    (void)state;
    sim *s = sim_new(10000000, 0.2, 2000000);
    run(s, 1000000, LEC_MS, 4 * LEC_S, 0, 0, 0);
    assert_true(lec_bwe_estimate(&s->bwe) < 1500000);
    assert_true(s->bwe.loss > 0.1);
    free(s);
}

static void test_probe(void **state)
{
    (void)state;
    sim *s = sim_new(5000000, 0, 300000);
    run(s, 300000, LEC_MS, 3 * LEC_S, 0, 0, 0);
    uint32_t before = lec_bwe_estimate(&s->bwe);
    assert_true(before < 600000);
    lec_bwe_probe(&s->bwe, 3500 * LEC_MS, 2300000);
    run(s, 300000, 3 * LEC_S, 5 * LEC_S, 2000000, 3 * LEC_S, 3500 * LEC_MS);
    uint32_t after = lec_bwe_estimate(&s->bwe);
    assert_true(after >= 1600000); /* 90% of the 2 Mbit/s probe */
    free(s);

    /* The same probe over a 1 Mbit/s link: credited with the link. */
    s = sim_new(1000000, 0, 300000);
    run(s, 300000, LEC_MS, 3 * LEC_S, 0, 0, 0);
    lec_bwe_probe(&s->bwe, 3500 * LEC_MS, 2300000);
    run(s, 300000, 3 * LEC_S, 5 * LEC_S, 2000000, 3 * LEC_S, 3500 * LEC_MS);
    after = lec_bwe_estimate(&s->bwe);
    assert_true(after >= 700000 && after <= 1100000);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_link),
        cmocka_unit_test(test_slow_link),
        cmocka_unit_test(test_loss),
        cmocka_unit_test(test_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
