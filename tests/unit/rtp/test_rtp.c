/* RTP and RTCP: demultiplexing, parsing, extensions, rewriting, sequence
 * unwrapping, and every RTCP packet an SFU reads or writes. */
#include "testdata.h"
#include "base/err.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"

#include <string.h>

static void test_classify(void **state)
{
    (void)state;
    uint8_t stun[] = {0x00, 0x01}, dtls[] = {22, 0xfe}, rtp[] = {0x80, 0x60}, rtcp[] = {0x80, 200};
    uint8_t marker_rtp[] = {0x80, 0xe0}, turn[] = {0x40, 0}, junk[] = {4, 0};
    assert_int_equal(lec_pkt_classify(stun, 2), LEC_PKT_STUN);
    assert_int_equal(lec_pkt_classify(dtls, 2), LEC_PKT_DTLS);
    assert_int_equal(lec_pkt_classify(rtp, 2), LEC_PKT_RTP);
    assert_int_equal(lec_pkt_classify(marker_rtp, 2), LEC_PKT_RTP); /* pt 96 + marker = 224 */
    assert_int_equal(lec_pkt_classify(rtcp, 2), LEC_PKT_RTCP);
    assert_int_equal(lec_pkt_classify(turn, 2), LEC_PKT_TURN);
    assert_int_equal(lec_pkt_classify(junk, 2), LEC_PKT_UNKNOWN);
    assert_int_equal(lec_pkt_classify(rtp, 0), LEC_PKT_UNKNOWN);
    assert_int_equal(lec_pkt_classify(rtp, 1), LEC_PKT_UNKNOWN);
}

/* A VP8 packet with a one-byte extension block: mid (id 4) = "1" and
 * abs-send-time (id 2, 3 bytes), two CSRCs, and 3 bytes of padding. */
static size_t sample(uint8_t *b)
{
    uint8_t p[] = {
        0xb2, 0xe0, 0x12, 0x34, 0x00, 0x01, 0xe2, 0x40,
        0xde, 0xad, 0xbe, 0xef,                         /* V=2 P X CC=2 M pt96 */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, /* CSRCs */
        0xbe, 0xde, 0x00, 0x02,                         /* 2 words */
        0x40, '1',  0x22, 0xaa, 0xbb, 0xcc, 0x00, 0x00, /* mid, ast, pad */
        0x90, 0x80, 0x00, 0x01, 0x02,                   /* payload (5) */
        0x00, 0x00, 0x03,                               /* padding */
    };
    memcpy(b, p, sizeof p);
    return sizeof p;
}

static void test_parse(void **state)
{
    (void)state;
    uint8_t b[128];
    size_t n = sample(b);
    lec_rtp_hdr h;
    assert_int_equal(lec_rtp_parse(b, n, &h), 0);
    assert_int_equal(h.marker, 1);
    assert_int_equal(h.pt, 96);
    assert_int_equal(h.seq, 0x1234);
    assert_int_equal(h.ts, 123456);
    assert_true(h.ssrc == 0xdeadbeef);
    assert_int_equal(h.csrc_count, 2);
    assert_int_equal(h.ext_profile, 0xBEDE);
    assert_int_equal(h.ext_len, 8);
    assert_int_equal(h.header_len, 32);
    assert_int_equal(h.payload_len, 5);
    assert_int_equal(h.pad_len, 3);
    const uint8_t *d;
    size_t dl;
    assert_int_equal(lec_rtp_ext_find(b, &h, 4, &d, &dl), 0);
    assert_int_equal(dl, 1);
    assert_int_equal(d[0], '1');
    assert_int_equal(lec_rtp_ext_find(b, &h, 2, &d, &dl), 0);
    assert_int_equal(dl, 3);
    assert_int_equal(d[2], 0xcc);
    assert_int_equal(lec_rtp_ext_find(b, &h, 9, &d, &dl), LEC_ERR_NOTFOUND);
    /* In-place rewrites, as a forwarder does per subscriber. */
    uint8_t ast[3] = {1, 2, 3};
    assert_int_equal(lec_rtp_ext_rewrite(b, &h, 2, ast, 3), 0);
    assert_int_equal(lec_rtp_ext_rewrite(b, &h, 2, ast, 2), LEC_ERR_INVAL);
    lec_rtp_set_seq(b, 7);
    lec_rtp_set_ts(b, 0xfffffffe);
    lec_rtp_set_ssrc(b, 42);
    lec_rtp_set_pt(b, 100);
    assert_int_equal(lec_rtp_parse(b, n, &h), 0);
    assert_int_equal(h.seq, 7);
    assert_true(h.ts == 0xfffffffe);
    assert_int_equal(h.ssrc, 42);
    assert_int_equal(h.pt, 100);
    assert_int_equal(h.marker, 1); /* kept */
    assert_int_equal(lec_rtp_ext_find(b, &h, 2, &d, &dl), 0);
    assert_memory_equal(d, ast, 3);
}

static void test_two_byte_ext(void **state)
{
    (void)state;
    uint8_t b[] = {0x90, 0x60, 0,    1,  0, 0,   0,   1,   0, 0, 0, 1,   0x10,
                   0x00, 0x00, 0x02, 20, 3, 'a', 'b', 'c', 0, 0, 0, 0xff};
    lec_rtp_hdr h;
    assert_int_equal(lec_rtp_parse(b, sizeof b, &h), 0);
    const uint8_t *d;
    size_t dl;
    assert_int_equal(lec_rtp_ext_find(b, &h, 20, &d, &dl), 0);
    assert_int_equal(dl, 3);
    assert_memory_equal(d, "abc", 3);
    /* An element running past its block is malformed. */
    b[17] = 9;
    assert_int_equal(lec_rtp_ext_find(b, &h, 20, &d, &dl), LEC_ERR_INVAL);
}

static void test_malformed(void **state)
{
    (void)state;
    uint8_t b[128];
    size_t n = sample(b);
    lec_rtp_hdr h;
    assert_int_equal(lec_rtp_parse(b, 11, &h), LEC_ERR_INVAL);
    uint8_t v1[12] = {0x40};
    assert_int_equal(lec_rtp_parse(v1, 12, &h), LEC_ERR_INVAL);
    uint8_t csrc[12] = {0x8f}; /* 15 CSRCs in 12 bytes */
    assert_int_equal(lec_rtp_parse(csrc, 12, &h), LEC_ERR_INVAL);
    uint8_t ext[16] = {0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0x00, 0x05};
    assert_int_equal(lec_rtp_parse(ext, 16, &h), LEC_ERR_INVAL);
    b[n - 1] = 0; /* padding count 0 */
    assert_int_equal(lec_rtp_parse(b, n, &h), LEC_ERR_INVAL);
    b[n - 1] = 200; /* more padding than payload */
    assert_int_equal(lec_rtp_parse(b, n, &h), LEC_ERR_INVAL);
    /* Every truncation of a valid packet is refused or parsed, never read past. */
    n = sample(b);
    for (size_t k = 0; k < n; k++)
        (void)lec_rtp_parse(b, k, &h);
}

static void test_unwrap(void **state)
{
    (void)state;
    lec_seq_unwrap u = {0};
    uint64_t a = lec_seq_unwrap_next(&u, 65534);
    uint64_t b = lec_seq_unwrap_next(&u, 65535);
    uint64_t c = lec_seq_unwrap_next(&u, 0);     /* wrap */
    uint64_t d = lec_seq_unwrap_next(&u, 65533); /* late, reordered */
    uint64_t e = lec_seq_unwrap_next(&u, 2);
    assert_true(b == a + 1 && c == a + 2 && d == a - 1 && e == a + 4);
    assert_true(u.highest == e);
    assert_true(lec_seq_newer(0, 65535));
    assert_false(lec_seq_newer(65535, 0));
    assert_false(lec_seq_newer(5, 5));
}

static void test_ntp(void **state)
{
    (void)state;
    assert_true(lec_ntp_from_unix_ns(0) == (uint64_t)2208988800u << 32);
    uint64_t half = lec_ntp_from_unix_ns(500000000u);
    assert_true((half & 0xffffffffu) == 0x80000000u);
    assert_int_equal(lec_ntp_mid32(0x0000123456780000ULL), 0x12345678);
}

static void test_rtcp_compound(void **state)
{
    (void)state;
    uint8_t b[512];
    lec_rtcp_sr sr = {.ssrc = 11,
                      .ntp = 0x1122334455667788ULL,
                      .rtp_ts = 99,
                      .packets = 5,
                      .octets = 5000,
                      .nreports = 1};
    sr.reports[0] = (lec_rtcp_report){.ssrc = 22,
                                      .fraction_lost = 25,
                                      .cumulative_lost = -3,
                                      .highest_seq = 70000,
                                      .jitter = 12,
                                      .lsr = 7,
                                      .dlsr = 8};
    size_t n = lec_rtcp_build_sr(b, sizeof b, &sr);
    assert_int_equal(n, 52);
    n += lec_rtcp_build_sdes_cname(b + n, sizeof b - n, 11, "lectern");
    n += lec_rtcp_build_pli(b + n, sizeof b - n, 11, 33);
    n += lec_rtcp_build_bye(b + n, sizeof b - n, 11);
    lec_rtcp_iter it;
    lec_rtcp_iter_init(&it, b, n);
    lec_rtcp_pkt p;
    int types[8], k = 0;
    while (lec_rtcp_next(&it, &p) == 1)
        types[k++] = p.pt;
    assert_int_equal(k, 4);
    assert_int_equal(types[0], LEC_RTCP_SR);
    assert_int_equal(types[1], LEC_RTCP_SDES);
    assert_int_equal(types[2], LEC_RTCP_PSFB);
    assert_int_equal(types[3], LEC_RTCP_BYE);
    lec_rtcp_iter_init(&it, b, n);
    lec_rtcp_next(&it, &p);
    lec_rtcp_sr got;
    assert_int_equal(lec_rtcp_parse_sr(&p, &got), 0);
    assert_true(got.ntp == sr.ntp && got.rtp_ts == 99 && got.octets == 5000);
    assert_int_equal(got.reports[0].cumulative_lost, -3);
    assert_int_equal(got.reports[0].highest_seq, 70000);
    lec_rtcp_next(&it, &p);
    lec_rtcp_next(&it, &p);
    lec_rtcp_fb fb;
    assert_int_equal(lec_rtcp_parse_pli(&p, &fb), 0);
    assert_int_equal(fb.media_ssrc, 33);
    assert_int_equal(lec_rtcp_parse_sr(&p, &got), LEC_ERR_INVAL); /* not an SR */
    lec_rtcp_next(&it, &p);
    uint32_t ss[4];
    assert_int_equal(lec_rtcp_parse_bye(&p, ss, 4), 1);
    assert_int_equal(ss[0], 11);
    assert_int_equal(lec_rtcp_next(&it, &p), 0);
}

static void test_rtcp_feedback(void **state)
{
    (void)state;
    uint8_t b[256];
    lec_rtcp_iter it;
    lec_rtcp_pkt p;
    /* NACK: packed into PID/BLP entries, across the wrap; parsed back. */
    uint16_t lost[] = {105, 100, 101, 120, 65535, 0, 117};
    size_t n = lec_rtcp_build_nack(b, sizeof b, 1, 2, lost, 7);
    /* Serial order 65535 0 100 101 105 117 120: entries 65535(+0), 100(+101,105), 117(+120). */
    assert_int_equal(n, 12 + 3 * 4);
    lec_rtcp_iter_init(&it, b, n);
    assert_int_equal(lec_rtcp_next(&it, &p), 1);
    uint16_t seqs[64];
    lec_rtcp_fb ids;
    int got = lec_rtcp_parse_nack(&p, &ids, seqs, 64);
    assert_int_equal(got, 7);
    assert_int_equal(ids.media_ssrc, 2);
    for (int i = 0; i < 7; i++) {
        bool found = false;
        for (int j = 0; j < got; j++)
            found |= seqs[j] == lost[i];
        assert_true(found);
    }
    /* FIR, REMB, RR round trips. */
    n = lec_rtcp_build_fir(b, sizeof b, 1, 77, 3);
    lec_rtcp_iter_init(&it, b, n);
    lec_rtcp_next(&it, &p);
    lec_rtcp_fir fir;
    assert_int_equal(lec_rtcp_parse_fir(&p, &fir), 0);
    assert_int_equal(fir.n, 1);
    assert_int_equal(fir.entries[0].ssrc, 77);
    assert_int_equal(fir.entries[0].seq, 3);
    uint32_t media[] = {5, 6};
    n = lec_rtcp_build_remb(b, sizeof b, 1, 1500000, media, 2);
    lec_rtcp_iter_init(&it, b, n);
    lec_rtcp_next(&it, &p);
    lec_rtcp_remb remb;
    assert_int_equal(lec_rtcp_parse_remb(&p, &remb), 0);
    assert_true(remb.bitrate_bps == 1500000);
    assert_int_equal(remb.nssrcs, 2);
    lec_rtcp_report rep = {.ssrc = 9, .cumulative_lost = 0x7fffff + 5, .fraction_lost = 1};
    n = lec_rtcp_build_rr(b, sizeof b, 1, &rep, 1);
    lec_rtcp_iter_init(&it, b, n);
    lec_rtcp_next(&it, &p);
    lec_rtcp_rr rr;
    assert_int_equal(lec_rtcp_parse_rr(&p, &rr), 0);
    assert_int_equal(rr.reports[0].cumulative_lost, 0x7fffff); /* clamped to 24 bits */
    /* Builders refuse short buffers. */
    assert_int_equal(lec_rtcp_build_pli(b, 11, 1, 2), 0);
    assert_int_equal(lec_rtcp_build_sr(b, 27, &(lec_rtcp_sr){0}), 0);
}

static void test_rtcp_malformed(void **state)
{
    (void)state;
    lec_rtcp_iter it;
    lec_rtcp_pkt p;
    uint8_t over[] = {0x80, 201, 0x00, 0x09, 0, 0, 0, 1}; /* says 40 bytes */
    lec_rtcp_iter_init(&it, over, sizeof over);
    assert_int_equal(lec_rtcp_next(&it, &p), LEC_ERR_INVAL);
    uint8_t v1[] = {0x40, 201, 0x00, 0x01, 0, 0, 0, 1};
    lec_rtcp_iter_init(&it, v1, sizeof v1);
    assert_int_equal(lec_rtcp_next(&it, &p), LEC_ERR_INVAL);
    /* Padding on a packet that is not the last of the compound. */
    uint8_t pad[] = {0xa0, 201, 0x00, 0x01, 0, 0, 0, 4, 0x80, 201, 0x00, 0x01, 0, 0, 0, 1};
    lec_rtcp_iter_init(&it, pad, sizeof pad);
    assert_int_equal(lec_rtcp_next(&it, &p), LEC_ERR_INVAL);
    /* An RR claiming 31 report blocks in 8 bytes. */
    uint8_t rr[] = {0x9f, 201, 0x00, 0x01, 0, 0, 0, 1};
    lec_rtcp_iter_init(&it, rr, sizeof rr);
    assert_int_equal(lec_rtcp_next(&it, &p), 1);
    lec_rtcp_rr out;
    assert_int_equal(lec_rtcp_parse_rr(&p, &out), LEC_ERR_INVAL);
    /* REMB with more SSRCs than bytes. */
    uint8_t remb[] = {0x8f, 206, 0x00, 0x04, 0,   0,   0, 1, 0, 0,
                      0,    0,   'R',  'E',  'M', 'B', 9, 0, 0, 1};
    lec_rtcp_iter_init(&it, remb, sizeof remb);
    assert_int_equal(lec_rtcp_next(&it, &p), 1);
    lec_rtcp_remb r;
    assert_int_equal(lec_rtcp_parse_remb(&p, &r), LEC_ERR_INVAL);
}

/* Setting a one-byte element: a block added, a value rewritten in place, an
 * element of that id but another size replaced (the others kept), and a
 * two-byte block or no room left alone. */
static void test_ext_put(void **state)
{
    (void)state;
    uint8_t b[64] = {0};
    size_t len = lec_rtp_write_header(b, 96, true, 7, 9, 0x1234);
    memcpy(b + len, "PAYLOAD", 7);
    len += 7;
    const uint8_t two[2] = {0xab, 0xcd}, three[3] = {1, 2, 3};
    size_t n = lec_rtp_ext_put(b, len, sizeof b, 3, two, 2);
    assert_int_equal(n, len + 8);
    lec_rtp_hdr h;
    const uint8_t *v;
    size_t vl;
    assert_int_equal(lec_rtp_parse(b, n, &h), 0);
    assert_int_equal(lec_rtp_ext_find(b, &h, 3, &v, &vl), 0);
    assert_int_equal(vl, 2);
    assert_memory_equal(v, two, 2);
    assert_memory_equal(b + h.header_len, "PAYLOAD", 7);
    /* Another element: the block grows, 3 stays. */
    size_t n2 = lec_rtp_ext_put(b, n, sizeof b, 5, three, 3);
    assert_int_equal(n2, n + 4);
    assert_int_equal(lec_rtp_parse(b, n2, &h), 0);
    assert_int_equal(lec_rtp_ext_find(b, &h, 3, &v, &vl), 0);
    assert_memory_equal(v, two, 2);
    assert_int_equal(lec_rtp_ext_find(b, &h, 5, &v, &vl), 0);
    assert_memory_equal(v, three, 3);
    assert_memory_equal(b + h.header_len, "PAYLOAD", 7);
    /* The same size: in place. */
    const uint8_t other[2] = {0x01, 0x02};
    assert_int_equal(lec_rtp_ext_put(b, n2, sizeof b, 3, other, 2), n2);
    assert_int_equal(lec_rtp_ext_find(b, &h, 3, &v, &vl), 0);
    assert_memory_equal(v, other, 2);
    /* Id 5 with one byte: replaced, not doubled. */
    size_t n3 = lec_rtp_ext_put(b, n2, sizeof b, 5, three, 1);
    assert_int_equal(lec_rtp_parse(b, n3, &h), 0);
    assert_int_equal(lec_rtp_ext_find(b, &h, 5, &v, &vl), 0);
    assert_int_equal(vl, 1);
    assert_memory_equal(b + h.header_len, "PAYLOAD", 7);
    /* No room, a bad id, a two-byte block: unchanged. */
    assert_int_equal(lec_rtp_ext_put(b, n3, n3 + 2, 7, three, 3), 0);
    assert_int_equal(lec_rtp_ext_put(b, n3, sizeof b, 15, three, 3), 0);
    b[12] = 0x10, b[13] = 0x00;
    assert_int_equal(lec_rtp_ext_put(b, n3, sizeof b, 7, three, 3), 0);
}

static void test_keyframes(void **state)
{
    (void)state;
    assert_int_equal(lec_vcodec_from_name("vp8"), LEC_VCODEC_VP8);
    assert_int_equal(lec_vcodec_from_name("H264"), LEC_VCODEC_H264);
    assert_int_equal(lec_vcodec_from_name("opus"), LEC_VCODEC_OTHER);
    assert_int_equal(lec_vcodec_from_name(NULL), LEC_VCODEC_OTHER);
    /* VP8: S + PID 0, then the payload header's P bit. */
    const uint8_t vp8_key[] = {0x10, 0x00, 0x9d}, vp8_delta[] = {0x10, 0x01};
    const uint8_t vp8_cont[] = {0x00, 0x00}; /* not a partition start */
    /* X with I (15-bit picture id), L, T: the payload header at offset 6. */
    const uint8_t vp8_ext_key[] = {0x90, 0xe0, 0x81, 0x23, 0x05, 0x40, 0x00};
    const uint8_t vp8_ext_trunc[] = {0x90, 0xe0, 0x81};
    assert_true(lec_rtp_keyframe_start(LEC_VCODEC_VP8, vp8_key, sizeof vp8_key));
    assert_false(lec_rtp_keyframe_start(LEC_VCODEC_VP8, vp8_delta, sizeof vp8_delta));
    assert_false(lec_rtp_keyframe_start(LEC_VCODEC_VP8, vp8_cont, sizeof vp8_cont));
    assert_true(lec_rtp_keyframe_start(LEC_VCODEC_VP8, vp8_ext_key, sizeof vp8_ext_key));
    assert_false(lec_rtp_keyframe_start(LEC_VCODEC_VP8, vp8_ext_trunc, sizeof vp8_ext_trunc));
    assert_false(lec_rtp_keyframe_start(LEC_VCODEC_VP8, vp8_key, 0));
    /* VP8 picture size (simulcast ranks): 1280x720 after the extended
     * descriptor; a delta frame, a bad start code, a short one: none. */
    const uint8_t vp8_size[] = {0x90, 0xe0, 0x81, 0x23, 0x05, 0x40, 0x10, 0x02, 0x00,
                                0x9d, 0x01, 0x2a, 0x00, 0x05, 0xd0, 0x02};
    unsigned w = 0, hh = 0;
    assert_true(lec_rtp_vp8_size(vp8_size, sizeof vp8_size, &w, &hh));
    assert_int_equal(w, 1280);
    assert_int_equal(hh, 720);
    uint8_t bad[sizeof vp8_size];
    memcpy(bad, vp8_size, sizeof bad);
    bad[6] |= 0x01; /* P set: a delta frame */
    assert_false(lec_rtp_vp8_size(bad, sizeof bad, &w, &hh));
    memcpy(bad, vp8_size, sizeof bad);
    bad[10] = 0x02;
    assert_false(lec_rtp_vp8_size(bad, sizeof bad, &w, &hh));
    assert_false(lec_rtp_vp8_size(vp8_size, sizeof vp8_size - 1, &w, &hh));
    assert_false(lec_rtp_vp8_size(vp8_size, 0, &w, &hh));
    /* H.264: a lone SPS, an IDR FU-A start, a STAP-A with SPS, a P slice. */
    const uint8_t sps[] = {0x67, 0x42}, fu_idr[] = {0x7c, 0x85}, fu_mid[] = {0x7c, 0x05};
    const uint8_t stap[] = {0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x01, 0x68};
    const uint8_t stap_bad[] = {0x78, 0x00, 0x09, 0x67}, p_slice[] = {0x41, 0x9a};
    assert_true(lec_rtp_keyframe_start(LEC_VCODEC_H264, sps, sizeof sps));
    assert_true(lec_rtp_keyframe_start(LEC_VCODEC_H264, fu_idr, sizeof fu_idr));
    assert_false(lec_rtp_keyframe_start(LEC_VCODEC_H264, fu_mid, sizeof fu_mid));
    assert_true(lec_rtp_keyframe_start(LEC_VCODEC_H264, stap, sizeof stap));
    assert_false(lec_rtp_keyframe_start(LEC_VCODEC_H264, stap_bad, sizeof stap_bad));
    assert_false(lec_rtp_keyframe_start(LEC_VCODEC_H264, p_slice, sizeof p_slice));
    /* VP9 (P clear, B set) and AV1 (N). */
    const uint8_t vp9_key[] = {0x08}, vp9_inter[] = {0x48}, av1_new[] = {0x08}, av1[] = {0x10};
    assert_true(lec_rtp_keyframe_start(LEC_VCODEC_VP9, vp9_key, 1));
    assert_false(lec_rtp_keyframe_start(LEC_VCODEC_VP9, vp9_inter, 1));
    assert_true(lec_rtp_keyframe_start(LEC_VCODEC_AV1, av1_new, 1));
    assert_false(lec_rtp_keyframe_start(LEC_VCODEC_AV1, av1, 1));
    assert_false(lec_rtp_keyframe_start(LEC_VCODEC_OTHER, sps, sizeof sps));
}

/* H.264 picture sizes from x264's SPS (gst-launch-1.0 videotestsrc !
 * x264enc): High with cropping (320x180 is 12 macroblock rows cut by 12
 * lines; 1080 is 1088 cut by 8), emulation prevention bytes in both, and
 * Constrained Baseline 720p; alone and in a STAP-A; cut short or garbled:
 * no size, and never a read past the end. */
static void test_h264_sps_size(void **state)
{
    (void)state;
    static const uint8_t s180[] = {0x67, 0x64, 0x00, 0x14, 0xac, 0xd9, 0x41, 0x41, 0x9f, 0x9f, 0x01, 0x6a,
                                   0x0c, 0x0c, 0x0d, 0x4a, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03,
                                   0x00, 0x79, 0x1e, 0x28, 0x53, 0x2c};
    static const uint8_t s1080[] = {0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02, 0x27, 0xe5, 0xc0,
                                    0x5a, 0x80, 0x80, 0x80, 0xa0, 0x00, 0x00, 0x03, 0x00, 0x20, 0x00, 0x00,
                                    0x07, 0x91, 0xe3, 0x06, 0x32, 0xc0};
    static const uint8_t s720[] = {0x67, 0x42, 0xc0, 0x1f, 0xd9, 0x00, 0x50, 0x05, 0xbb, 0x01, 0x6a, 0x02,
                                   0x02, 0x02, 0x80, 0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x1e, 0x47,
                                   0x8c, 0x19, 0x24};
    unsigned w = 0, h = 0;
    assert_true(lec_h264_sps_size(s180, sizeof s180, &w, &h));
    assert_int_equal(w, 320);
    assert_int_equal(h, 180);
    assert_true(lec_h264_sps_size(s1080, sizeof s1080, &w, &h));
    assert_int_equal(w, 1920);
    assert_int_equal(h, 1080);
    assert_true(lec_rtp_picture_size(LEC_VCODEC_H264, s720, sizeof s720, &w, &h));
    assert_int_equal(w, 1280);
    assert_int_equal(h, 720);
    uint8_t stap[64] = {0x78, 0x00, 0x02, 0x09, 0xf0, 0x00, (uint8_t)sizeof s720};
    memcpy(stap + 7, s720, sizeof s720);
    w = h = 0;
    assert_true(lec_rtp_h264_size(stap, 7 + sizeof s720, &w, &h));
    assert_int_equal(w * h, 1280 * 720);
    assert_false(lec_rtp_h264_size(stap, 7 + 5, &w, &h)); /* its size says more */
    for (size_t n = 0; n < 8; n++)                           /* cut short: no size */
        assert_false(lec_h264_sps_size(s720, n, &w, &h));
    uint8_t junk[sizeof s1080];
    memcpy(junk, s1080, sizeof junk);
    memset(junk + 4, 0, sizeof junk - 4); /* a run of zeros: Exp-Golomb past 31 bits */
    assert_false(lec_h264_sps_size(junk, sizeof junk, &w, &h));
    memset(junk + 4, 0xff, sizeof junk - 4);
    lec_h264_sps_size(junk, sizeof junk, &w, &h); /* whatever it says, it stays inside */
    assert_false(lec_rtp_picture_size(LEC_VCODEC_VP9, s720, sizeof s720, &w, &h));
    static const uint8_t pps[] = {0x68, 0xce, 0x3c, 0x80};
    assert_false(lec_rtp_h264_size(pps, sizeof pps, &w, &h));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),       cmocka_unit_test(test_parse),
        cmocka_unit_test(test_two_byte_ext),   cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_unwrap),         cmocka_unit_test(test_ntp),
        cmocka_unit_test(test_rtcp_compound),  cmocka_unit_test(test_rtcp_feedback),
        cmocka_unit_test(test_rtcp_malformed), cmocka_unit_test(test_keyframes),
        cmocka_unit_test(test_ext_put),        cmocka_unit_test(test_h264_sps_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
