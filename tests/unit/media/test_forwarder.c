/* Per-viewer rewriting and keyframe request coalescing, in virtual time. */
#include "testdata.h"
#include "media/forwarder.h"
#include "rtp/rtp.h"

static void send(lec_fwd *f, uint8_t *b, uint32_t ssrc, uint16_t seq, uint32_t ts, lec_rtp_hdr *out)
{
    lec_rtp_write_header(b, 96, false, seq, ts, ssrc);
    assert_true(lec_fwd_rewrite(f, b, ssrc, seq, ts, 100));
    assert_int_equal(lec_rtp_parse(b, 100, out), 0);
}

static void test_rewrite_and_continuity(void **state)
{
    (void)state;
    lec_fwd f;
    lec_fwd_init(&f, 0x5151, 101, 90000, 1000, 500000);
    uint8_t b[100] = {0};
    lec_rtp_hdr h;
    send(&f, b, 0xaaaa, 40000, 123456, &h);
    assert_int_equal(h.ssrc, 0x5151);
    assert_int_equal(h.pt, 101);
    assert_int_equal(h.seq, 1000);
    assert_int_equal(h.ts, 500000);
    send(&f, b, 0xaaaa, 40001, 126456, &h);
    assert_int_equal(h.seq, 1001);
    assert_int_equal(h.ts, 503000);
    /* A NACK of the viewer's 1001 asks for the source's 40001. */
    assert_int_equal(lec_fwd_source_seq(&f, 1001), 40001);
    /* The source changes (failover): numbering continues, time moves on. */
    send(&f, b, 0xbbbb, 7, 999, &h);
    assert_int_equal(h.seq, 1002);
    assert_int_equal(h.ts, 506000);
    send(&f, b, 0xbbbb, 8, 3999, &h);
    assert_int_equal(h.seq, 1003);
    assert_int_equal(h.ts, 509000);
    /* A reordered packet keeps its place; the highest is tracked. */
    send(&f, b, 0xbbbb, 10, 9999, &h);
    send(&f, b, 0xbbbb, 9, 6999, &h);
    assert_int_equal(h.seq, 1004);
    assert_int_equal(f.last_out_seq, 1005);
    assert_true(f.packets == 6);
    /* A packet from before the anchor (7 came first from 0xbbbb) would get
     * 1001, a number the viewer had from 0xaaaa: dropped. */
    lec_rtp_write_header(b, 96, false, 6, 0, 0xbbbb);
    assert_false(lec_fwd_rewrite(&f, b, 0xbbbb, 6, 0, 100));
    /* A simulcast switch back to the first source: its late packets from
     * before the switch are dropped too. */
    send(&f, b, 0xaaaa, 40100, 1, &h);
    assert_int_equal(h.seq, 1006);
    lec_rtp_write_header(b, 96, false, 40099, 0, 0xaaaa);
    assert_false(lec_fwd_rewrite(&f, b, 0xaaaa, 40099, 0, 100));
    /* Far behind the newest (more than 1000): dropped; within: kept. */
    for (uint16_t s = 40101; s < 42200; s++)
        send(&f, b, 0xaaaa, s, 2, &h);
    lec_rtp_write_header(b, 96, false, 41000, 0, 0xaaaa);
    assert_false(lec_fwd_rewrite(&f, b, 0xaaaa, 41000, 0, 100));
    send(&f, b, 0xaaaa, 41500, 2, &h);
    /* Wrap of the viewer's numbering is seamless. */
    lec_fwd_init(&f, 1, 96, 90000, 65535, 0);
    send(&f, b, 2, 100, 0, &h);
    assert_int_equal(h.seq, 65535);
    send(&f, b, 2, 101, 3000, &h);
    assert_int_equal(h.seq, 0);
}

static void test_keyframe_coalescing(void **state)
{
    (void)state;
    lec_kf k;
    lec_kf_init(&k, 350);
    assert_true(lec_kf_request(&k, 1000));  /* the first goes at once */
    assert_false(lec_kf_request(&k, 1100)); /* too soon: deferred, not dropped */
    assert_false(lec_kf_request(&k, 1200)); /* many viewers: still one */
    assert_true(lec_kf_deadline(&k) == 1350);
    assert_false(lec_kf_due(&k, 1300));
    assert_true(lec_kf_due(&k, 1350));
    assert_false(lec_kf_due(&k, 1400)); /* nothing pending any more */
    assert_true(lec_kf_deadline(&k) == UINT64_MAX);
    assert_true(lec_kf_request(&k, 1800));
    assert_true(k.requests == 4 && k.sent == 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rewrite_and_continuity),
        cmocka_unit_test(test_keyframe_coalescing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
