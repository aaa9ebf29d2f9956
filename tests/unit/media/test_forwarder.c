/* Per-viewer rewriting and keyframe request coalescing, in virtual time. */
#include "testdata.h"
#include "base/time.h"
#include "media/forwarder.h"
#include "rtp/rtp.h"

static void send(lec_fwd *f, uint8_t *b, uint32_t ssrc, uint16_t seq, uint32_t ts, lec_rtp_hdr *out)
{
    lec_rtp_write_header(b, 96, false, seq, ts, ssrc);
    assert_true(lec_fwd_rewrite(f, b, ssrc, seq, ts, 100, 0));
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
    assert_false(lec_fwd_rewrite(&f, b, 0xbbbb, 6, 0, 100, 0));
    /* A simulcast switch back to the first source: its late packets from
     * before the switch are dropped too. */
    send(&f, b, 0xaaaa, 40100, 1, &h);
    assert_int_equal(h.seq, 1006);
    lec_rtp_write_header(b, 96, false, 40099, 0, 0xaaaa);
    assert_false(lec_fwd_rewrite(&f, b, 0xaaaa, 40099, 0, 100, 0));
    /* Far behind the newest (more than 1000): dropped; within: kept. */
    for (uint16_t s = 40101; s < 42200; s++)
        send(&f, b, 0xaaaa, s, 2, &h);
    lec_rtp_write_header(b, 96, false, 41000, 0, 0xaaaa);
    assert_false(lec_fwd_rewrite(&f, b, 0xaaaa, 41000, 0, 100, 0));
    send(&f, b, 0xaaaa, 41500, 2, &h);
    /* Wrap of the viewer's numbering is seamless. */
    lec_fwd_init(&f, 1, 96, 90000, 65535, 0);
    send(&f, b, 2, 100, 0, &h);
    assert_int_equal(h.seq, 65535);
    send(&f, b, 2, 101, 3000, &h);
    assert_int_equal(h.seq, 0);
}

/* Time runs on across a gap: a switch after 1.2 s of silence (a layer the
 * encoder stopped) moves the viewer's timestamps on by 1.2 s, not by one
 * frame (its player would take every frame after for 1.2 s late); a
 * switch with no gap by one frame; audio by its own clock; never more
 * than 10 s. */
static void test_time_runs_on(void **state)
{
    (void)state;
    lec_fwd f;
    lec_fwd_init(&f, 0x5151, 96, 90000, 1000, 0);
    uint8_t b[100] = {0};
    lec_rtp_write_header(b, 96, false, 10, 5000, 0xaaaa);
    assert_true(lec_fwd_rewrite(&f, b, 0xaaaa, 10, 5000, 100, 1 * LEC_S));
    lec_rtp_hdr h;
    lec_rtp_write_header(b, 96, false, 20, 777, 0xbbbb);
    assert_true(lec_fwd_rewrite(&f, b, 0xbbbb, 20, 777, 100, 2200 * LEC_MS));
    assert_int_equal(lec_rtp_parse(b, 100, &h), 0);
    assert_int_equal(h.ts, 108000); /* 1.2 s at 90 kHz */
    lec_fwd_reanchor(&f);
    lec_rtp_write_header(b, 96, false, 30, 99, 0xaaaa);
    assert_true(lec_fwd_rewrite(&f, b, 0xaaaa, 30, 99, 100, 2200 * LEC_MS));
    assert_int_equal(lec_rtp_parse(b, 100, &h), 0);
    assert_int_equal(h.ts, 111000); /* no gap: one frame */
    lec_fwd_reanchor(&f);
    lec_rtp_write_header(b, 96, false, 40, 99, 0xbbbb);
    assert_true(lec_fwd_rewrite(&f, b, 0xbbbb, 40, 99, 100, 3600 * LEC_S));
    assert_int_equal(lec_rtp_parse(b, 100, &h), 0);
    assert_int_equal(h.ts, 111000 + 900000); /* an hour: 10 s */
    lec_fwd a;
    lec_fwd_init(&a, 0x7777, 111, 48000, 1, 0);
    lec_rtp_write_header(b, 111, false, 1, 960, 0xcccc);
    assert_true(lec_fwd_rewrite(&a, b, 0xcccc, 1, 960, 100, LEC_S));
    lec_rtp_write_header(b, 111, false, 1, 5, 0xdddd);
    assert_true(lec_fwd_rewrite(&a, b, 0xdddd, 1, 5, 100, LEC_S + 500 * LEC_MS));
    assert_int_equal(lec_rtp_parse(b, 100, &h), 0);
    assert_int_equal(h.ts, 24000);
}

/* A VP8 packet of `ssrc` whose descriptor has a 15-bit picture id, a
 * TL0PICIDX and TID/KEYIDX; rewritten; the out values read back. */
typedef struct {
    unsigned pid, tl0, tid, kidx;
} vp8_ids;

static vp8_ids vp8_send(lec_fwd *f, uint32_t ssrc, uint16_t seq, unsigned pid, unsigned tl0, unsigned tid,
                        unsigned kidx)
{
    uint8_t b[40] = {0};
    lec_rtp_write_header(b, 96, false, seq, seq * 3000u, ssrc);
    uint8_t *p = b + 12;
    p[0] = 0x90; /* X, S */
    p[1] = 0xf0; /* I, L, T, K */
    p[2] = (uint8_t)(0x80 | pid >> 8);
    p[3] = (uint8_t)pid;
    p[4] = (uint8_t)tl0;
    p[5] = (uint8_t)(tid << 6 | kidx);
    assert_true(lec_fwd_rewrite(f, b, ssrc, seq, seq * 3000u, sizeof b, 0));
    lec_fwd_vp8(f, p, sizeof b - 12);
    assert_int_equal(p[0], 0x90);
    assert_int_equal(p[1], 0xf0);
    assert_true(p[2] & 0x80); /* still 15 bits */
    assert_int_equal(p[5] >> 6, tid);
    return (vp8_ids){(unsigned)(p[2] & 0x7f) << 8 | p[3], p[4], p[5] >> 6, p[5] & 0x1fu};
}

/* A switch to another simulcast layer (another SSRC, its own numbering):
 * the viewer's picture ids, TL0PICIDX and KEYIDX go on one after its
 * newest, so its player sees no frames missing; within a source they keep
 * their steps (temporal layers, reordering) and wrap. */
static void test_vp8_numbering(void **state)
{
    (void)state;
    lec_fwd f;
    lec_fwd_init(&f, 0x5151, 96, 90000, 1000, 0);
    vp8_ids o = vp8_send(&f, 0xaaaa, 100, 32760, 250, 0, 3); /* the first: as it came */
    assert_int_equal(o.pid, 32760);
    assert_int_equal(o.tl0, 250);
    assert_int_equal(o.kidx, 3);
    o = vp8_send(&f, 0xaaaa, 101, 32761, 250, 2, 3);
    assert_int_equal(o.pid, 32761);
    o = vp8_send(&f, 0xaaaa, 103, 32763, 250, 2, 3); /* 102 reordered, after */
    o = vp8_send(&f, 0xaaaa, 102, 32762, 250, 1, 3);
    assert_int_equal(o.pid, 32762);
    assert_int_equal(f.last_pid, 32763);
    /* Over the wraps of all three fields. */
    for (unsigned i = 0; i < 12; i++)
        o = vp8_send(&f, 0xaaaa, (uint16_t)(104 + i), (32764 + i) & 0x7fff, (254 + i / 4) & 0xff, i % 4 ? 2 : 0,
                     3);
    assert_int_equal(o.pid, 7);
    assert_int_equal(o.tl0, 0);
    /* The switch: layer b's keyframe (far away in every field) continues
     * at 8, tl0 1, kidx 4; its next frames keep their steps. */
    lec_fwd_reanchor(&f);
    o = vp8_send(&f, 0xbbbb, 5000, 1234, 17, 0, 30);
    assert_int_equal(o.pid, 8);
    assert_int_equal(o.tl0, 1);
    assert_int_equal(o.kidx, 4);
    o = vp8_send(&f, 0xbbbb, 5001, 1234, 17, 0, 30); /* the keyframe's next packet */
    assert_int_equal(o.pid, 8);
    o = vp8_send(&f, 0xbbbb, 5002, 1235, 17, 2, 30);
    assert_int_equal(o.pid, 9);
    assert_int_equal(o.tl0, 1);
    o = vp8_send(&f, 0xbbbb, 5003, 1236, 18, 0, 30);
    assert_int_equal(o.pid, 10);
    assert_int_equal(o.tl0, 2);
    assert_int_equal(o.kidx, 4);
    /* A new source without a reanchor call (a publisher back): the same. */
    o = vp8_send(&f, 0xcccc, 9, 0x7ff0, 99, 0, 0);
    assert_int_equal(o.pid, 11);
    assert_int_equal(o.tl0, 3);
    assert_int_equal(o.kidx, 5);
    /* A 7-bit picture id keeps its width; a descriptor cut short is left
     * alone, as is one without X. */
    uint8_t b[20] = {0};
    lec_rtp_write_header(b, 96, false, 10, 0, 0xcccc);
    b[12] = 0x90, b[13] = 0x80, b[14] = 0x05;
    assert_true(lec_fwd_rewrite(&f, b, 0xcccc, 10, 0, sizeof b, 0));
    lec_fwd_vp8(&f, b + 12, sizeof b - 12);
    assert_int_equal(b[14] & 0x80, 0);
    uint8_t s[3] = {0x90, 0xf0, 0x81};
    lec_fwd_vp8(&f, s, sizeof s);
    assert_int_equal(s[2], 0x81);
    uint8_t n[4] = {0x10, 0x9d, 0x01, 0x2a};
    lec_fwd_vp8(&f, n, sizeof n);
    assert_int_equal(n[1], 0x9d);
    /* An anchor waits past a packet without numbering (no X) for the next
     * one that has it. */
    lec_fwd_reanchor(&f);
    unsigned want_pid = (f.last_pid + 1u) & 0x7fff, want_tl0 = (f.last_tl0 + 1u) & 0xff;
    uint8_t bare[20] = {0};
    lec_rtp_write_header(bare, 96, false, 11, 0, 0xdddd);
    bare[12] = 0x10;
    assert_true(lec_fwd_rewrite(&f, bare, 0xdddd, 11, 0, sizeof bare, 0));
    lec_fwd_vp8(&f, bare + 12, sizeof bare - 12);
    o = vp8_send(&f, 0xdddd, 12, 500, 7, 0, 9);
    assert_int_equal(o.pid, want_pid);
    assert_int_equal(o.tl0, want_tl0);
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
        cmocka_unit_test(test_vp8_numbering),
        cmocka_unit_test(test_time_runs_on),
        cmocka_unit_test(test_keyframe_coalescing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
