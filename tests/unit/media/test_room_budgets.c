/*
 * A viewer's budgets in the room core (room.h), in virtual time: what one
 * hostile viewer can make the room do, and that honest viewers and the
 * teacher do not pay for it.
 *  - A NACK flood (every packet in the ring, again and again) gets at most
 *    the viewer's burst plus half of what it receives; the rest is counted
 *    as refused, and an honest viewer's repair still goes out.
 *  - The same NACK within the dedupe window is answered once; after it,
 *    again (a lost repair is asked for again a round trip later).
 *  - A viewer's keyframe requests count once a second; a leg's are not
 *    limited (it stands for many viewers).
 *  - No sequence number goes to a viewer twice with other bytes (an SRTP
 *    nonce used twice): repairs of live packets repeat the playout-delay
 *    value they carried, squeezed GOP replays are never repaired without
 *    RTX, and a leg's replay keeps true timestamps.
 *  - A late joiner's GOP starts at its keyframe's first packet: H.264's
 *    SPS and PPS, not the IDR after them (a player without them asks for
 *    another keyframe, and a viewer's ask is refused within a second).
 */
#include "testdata.h"
#include "base/time.h"
#include "media/room.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VPT 101

/* Everything the room sends, per viewer id (1..4): counts, and the bytes
 * hash of the first packet under each (SSRC, sequence number). */
typedef struct seen_by {
    unsigned rtp;
    uint32_t hash[65536];
    uint32_t ssrc[65536];
    bool seen[65536];
    unsigned reused; /* a sequence number again with other bytes */
    uint32_t first_ts[65536];
} seen_by;

static struct {
    seen_by v[5];
    unsigned plis;
} out;

static uint32_t fnv(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    while (n--)
        h = (h ^ *p++) * 16777619u;
    return h;
}

static void send_rtp(void *ud, uint32_t vid, void *vud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)ud, (void)vud, (void)cap;
    assert_true(vid >= 1 && vid <= 4);
    lec_rtp_hdr h;
    assert_int_equal(lec_rtp_parse(pkt, len, &h), 0);
    seen_by *v = &out.v[vid];
    v->rtp++;
    uint32_t hs = fnv(pkt, len);
    if (v->seen[h.seq] && v->ssrc[h.seq] == h.ssrc && v->hash[h.seq] != hs)
        v->reused++;
    if (!v->seen[h.seq] || v->ssrc[h.seq] != h.ssrc) {
        v->seen[h.seq] = true;
        v->ssrc[h.seq] = h.ssrc;
        v->hash[h.seq] = hs;
        v->first_ts[h.seq] = h.ts;
    }
}

static void send_rtcp(void *ud, uint32_t vid, void *vud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)ud, (void)vud, (void)cap;
    if (vid)
        return;
    lec_rtcp_iter it;
    lec_rtcp_pkt p;
    lec_rtcp_iter_init(&it, pkt, len);
    while (lec_rtcp_next(&it, &p) == 1)
        if (p.pt == LEC_RTCP_PSFB && (p.fmt == 1 || p.fmt == 4))
            out.plis++;
}

static const char *codec = "VP8";

static lec_sdp *answer(bool rtx, bool playout)
{
    lec_sdp *s = calloc(1, sizeof *s);
    s->nmedia = 1;
    lec_sdp_media *m = &s->media[0];
    *m = (lec_sdp_media){.kind = LEC_SDP_VIDEO, .port = 9, .ncodecs = 1};
    m->codecs[0] = (lec_sdp_codec){.pt = VPT, .clock_rate = 90000, .fb = LEC_FB_NACK | LEC_FB_PLI};
    snprintf(m->codecs[0].name, sizeof m->codecs[0].name, "%s", codec);
    if (rtx) {
        m->codecs[1] = (lec_sdp_codec){.pt = 102, .name = "rtx", .clock_rate = 90000,
                                       .rtx_apt = VPT};
        m->ncodecs = 2;
    }
    if (playout) {
        m->nextmaps = 1;
        m->extmaps[0] = (lec_sdp_extmap){.id = 5, .uri = LEC_ROOM_PLAYOUT_URI};
    }
    return s;
}

static lec_room room;
#define VSSRC(id) (0x2000u + (id)) /* viewer id's video SSRC */

static void room_up(void)
{
    memset(&out, 0, sizeof out);
    lec_room_io io = {send_rtp, send_rtcp, NULL, NULL};
    lec_room_init(&room, &io, 777, 350 * LEC_MS);
    lec_sdp *pub = answer(false, false);
    assert_int_equal(lec_room_set_tracks(&room, pub), 0);
    free(pub);
    lec_room_publisher_ready(&room, 0);
}

static void add_viewer(uint32_t id, bool rtx, bool playout, lec_tstamp now)
{
    lec_sdp *a = answer(rtx, playout);
    uint32_t ss[LEC_ROOM_MAX_TRACKS] = {VSSRC(id), 0};
    assert_int_equal(lec_room_add_viewer(&room, id, a, ss, (uint16_t)(1000 * id), 0), 0);
    free(a);
    lec_room_viewer_ready(&room, id, now);
}

/* Packet `seq` of a 30 fps VP8 stream, 3 packets a frame; a keyframe
 * every 90 packets. */
static void publish(uint16_t seq, lec_tstamp now)
{
    uint8_t b[600];
    size_t n = lec_rtp_write_header(b, VPT, seq % 3 == 2, seq, 3000u * (seq / 3), 0xAAAA);
    memset(b + n, 0x42, 400);
    b[n] = seq % 3 == 0 ? 0x10 : 0x00; /* S at a frame's start, PID 0 */
    b[n + 1] = seq % 90 == 0 ? 0x00 : 0x01; /* P clear: a keyframe */
    b[n + 2] = (uint8_t)seq;
    lec_room_publisher_rtp(&room, b, n + 400, now);
}

/* Viewer `id`'s NACK for `n` of its sequence numbers from `first`. */
static void nack(uint32_t id, uint16_t first, unsigned n, lec_tstamp now)
{
    uint16_t seqs[64];
    uint8_t b[512];
    while (n) {
        unsigned k = n > 64 ? 64 : n;
        for (unsigned i = 0; i < k; i++)
            seqs[i] = (uint16_t)(first + i);
        size_t len = lec_rtcp_build_nack(b, sizeof b, 0xF00D, VSSRC(id), seqs, (int)k);
        assert_true(len > 0);
        lec_room_viewer_rtcp(&room, id, b, len, now);
        first = (uint16_t)(first + k), n -= k;
    }
}

static void pli(uint32_t id, lec_tstamp now)
{
    uint8_t b[64];
    size_t len = lec_rtcp_build_pli(b, sizeof b, 0xF00D, VSSRC(id));
    lec_room_viewer_rtcp(&room, id, b, len, now);
}

/* The flood: viewer 1 names the newest 256 packets after every live one,
 * for 10 s of a 100 packets/s stream; viewer 2 loses one packet and asks
 * once. */
static void test_nack_flood_bounded(void **state)
{
    (void)state;
    room_up();
    add_viewer(1, false, false, 0);
    add_viewer(2, false, false, 0);
    const unsigned live = 1000;
    lec_tstamp now = 0;
    for (uint16_t s = 0; s < live; s++) {
        now = s * 10 * LEC_MS;
        publish(s, now);
        lec_room_tick(&room, now);
        nack(1, (uint16_t)(1000 + s - 255), 256, now);
    }
    lec_room_viewer_stats st1, st2;
    assert_int_equal(lec_room_viewer_get_stats(&room, 1, &st1), 0);
    unsigned resent = (unsigned)st1.retransmits;
    print_message("flood: %u NACKed sequence numbers; %u resent, %llu refused, %llu repeats "
                  "dropped\n",
                  live * 256, resent, (unsigned long long)st1.resend_refused,
                  (unsigned long long)room.stats.resend_repeated);
    /* At most the burst plus half of what it got live. */
    assert_true(resent <= LEC_ROOM_RESEND_BURST + live * LEC_ROOM_RESEND_SHARE / 4 + 1);
    assert_true(resent >= live / 4); /* it is a budget, not a ban */
    assert_true(st1.resend_refused > 100000);
    assert_int_equal(room.stats.resend_refused, st1.resend_refused);
    /* The honest viewer got every live packet and its one repair. */
    assert_int_equal(out.v[2].rtp, live);
    nack(2, 2000 + 500, 1, now + 10 * LEC_MS);
    assert_int_equal(lec_room_viewer_get_stats(&room, 2, &st2), 0);
    assert_int_equal(st2.retransmits, 1);
    assert_int_equal(st2.resend_refused, 0);
    assert_int_equal(out.v[1].reused + out.v[2].reused, 0);
    lec_room_free(&room);
}

static void test_nack_dedupe_window(void **state)
{
    (void)state;
    room_up();
    add_viewer(1, false, false, 0);
    for (uint16_t s = 0; s < 50; s++)
        publish(s, s * 10 * LEC_MS);
    lec_tstamp t = 600 * LEC_MS;
    lec_room_viewer_stats st;
    nack(1, 1000 + 40, 1, t);
    nack(1, 1000 + 40, 1, t + 10 * LEC_MS); /* the same NACK at once: once */
    assert_int_equal(lec_room_viewer_get_stats(&room, 1, &st), 0);
    assert_int_equal(st.retransmits, 1);
    assert_int_equal(room.stats.resend_repeated, 1);
    nack(1, 1000 + 40, 1, t + 120 * LEC_MS); /* a round trip later: the repair was lost */
    assert_int_equal(lec_room_viewer_get_stats(&room, 1, &st), 0);
    assert_int_equal(st.retransmits, 2);
    /* Another packet is not a repeat. */
    nack(1, 1000 + 41, 1, t + 121 * LEC_MS);
    assert_int_equal(lec_room_viewer_get_stats(&room, 1, &st), 0);
    assert_int_equal(st.retransmits, 3);
    lec_room_free(&room);
}

/* A PLI every 50 ms for 2 s from one viewer: the teacher is asked about
 * twice; a leg asking as often is coalesced only (about every 350 ms). */
static void test_keyframe_budget(void **state)
{
    (void)state;
    room_up();
    add_viewer(1, false, false, 0);
    for (uint16_t s = 0; s < 3; s++)
        publish(s, 0);
    unsigned before = out.plis;
    for (lec_tstamp t = LEC_S; t < 3 * LEC_S; t += 50 * LEC_MS) {
        pli(1, t);
        lec_room_tick(&room, t);
    }
    lec_room_viewer_stats st;
    assert_int_equal(lec_room_viewer_get_stats(&room, 1, &st), 0);
    print_message("viewer: 40 keyframe requests in 2 s -> %u to the teacher, %llu refused\n",
                  out.plis - before, (unsigned long long)st.keyframe_refused);
    assert_int_equal(out.plis - before, 2);
    assert_int_equal(st.keyframe_requests, 40);
    assert_int_equal(st.keyframe_refused, 38);
    assert_int_equal(room.stats.keyframe_refused, 38);

    uint32_t ls[LEC_ROOM_MAX_TRACKS] = {0x7000, 0x7001};
    assert_int_equal(lec_room_add_leg(&room, 3, ls, 100, 0, true), 0);
    lec_room_viewer_ready(&room, 3, 3 * LEC_S);
    before = out.plis;
    uint8_t b[64];
    for (lec_tstamp t = 4 * LEC_S; t < 6 * LEC_S; t += 50 * LEC_MS) {
        size_t len = lec_rtcp_build_pli(b, sizeof b, 0xF00D, 0x7000);
        lec_room_viewer_rtcp(&room, 3, b, len, t);
        lec_room_tick(&room, t);
    }
    print_message("leg: 40 keyframe requests in 2 s -> %u to the teacher\n", out.plis - before);
    assert_true(out.plis - before >= 5 && out.plis - before <= 7);
    lec_room_free(&room);
}

/* A viewer without RTX, with the playout-delay extension: its repairs are
 * the bytes it got first; what it got squeezed from the GOP cache is not
 * repaired.  A leg's replay keeps the publisher's timestamps, and its
 * repairs match. */
static void test_repairs_repeat_their_bytes(void **state)
{
    (void)state;
    room_up();
    for (uint16_t s = 0; s < 60; s++) /* a keyframe at 0, the GOP up to 59 */
        publish(s, s * 10 * LEC_MS);
    lec_tstamp now = 600 * LEC_MS;
    add_viewer(1, false, true, now); /* joins: 60 packets replayed, squeezed */
    assert_int_equal(out.v[1].rtp, 60);
    uint32_t ls[LEC_ROOM_MAX_TRACKS] = {0x7000, 0x7001};
    assert_int_equal(lec_room_add_leg(&room, 4, ls, 4000, 0, false), 0);
    lec_room_viewer_ready(&room, 4, now);
    assert_int_equal(out.v[4].rtp, 60);
    for (uint16_t s = 0; s < 60; s++) /* the leg's replay: true times (ts base 0) */
        assert_int_equal(out.v[4].first_ts[(uint16_t)(4000 + s)], 3000u * (s / 3));
    /* Live packets while the playout delay moves. */
    for (uint16_t s = 60; s < 90; s++) {
        room.playout_ms = 100 + 10 * s;
        publish(s, now + s * 10 * LEC_MS);
    }
    now += LEC_S;
    room.playout_ms = 900;
    lec_room_viewer_stats st;
    nack(1, 1000 + 10, 1, now); /* a replayed packet: not resent */
    assert_int_equal(lec_room_viewer_get_stats(&room, 1, &st), 0);
    assert_int_equal(st.retransmits, 0);
    nack(1, 1000 + 61, 20, now); /* live ones: resent as they were */
    assert_int_equal(lec_room_viewer_get_stats(&room, 1, &st), 0);
    assert_int_equal(st.retransmits, 20);
    uint8_t b[512];
    uint16_t seqs[40];
    for (int i = 0; i < 40; i++)
        seqs[i] = (uint16_t)(4000 + 10 + i * 2); /* replayed and live, on the leg */
    size_t len = lec_rtcp_build_nack(b, sizeof b, 0xF00D, 0x7000, seqs, 40);
    lec_room_viewer_rtcp(&room, 4, b, len, now);
    assert_int_equal(lec_room_viewer_get_stats(&room, 4, &st), 0);
    assert_int_equal(st.retransmits, 40 * 3); /* LEG_COPIES each */
    print_message("repairs: viewer %u, leg %u; a sequence number with other bytes: %u, %u\n",
                  out.v[1].rtp, out.v[4].rtp, out.v[1].reused, out.v[4].reused);
    assert_int_equal(out.v[1].reused, 0);
    assert_int_equal(out.v[4].reused, 0);
    lec_room_free(&room);
}

/* H.264 as Chrome and x264 packetize a keyframe: SPS and PPS in a STAP-A,
 * then the IDR in FU-A fragments (the first of which also says "IDR"),
 * all at one timestamp; then P frames.  A joiner's replay starts at the
 * STAP-A, also when the IDR's first fragment came before it. */
static void h264(uint16_t seq, uint32_t ts, const uint8_t *nal, size_t n, lec_tstamp now)
{
    uint8_t b[200];
    size_t hl = lec_rtp_write_header(b, VPT, false, seq, ts, 0xAAAA);
    memcpy(b + hl, nal, n);
    lec_room_publisher_rtp(&room, b, hl + n, now);
}

static void test_h264_gop_starts_with_sps(void **state)
{
    (void)state;
    codec = "H264";
    room_up();
    static const uint8_t stap[] = {24, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce};
    static const uint8_t fu_start[] = {28, 0x85, 1, 2, 3}, fu_mid[] = {28, 0x05, 4}, fu_end[] = {28, 0x45, 5};
    static const uint8_t p_slice[] = {0x41, 0x9a, 7};
    for (unsigned k = 0; k < 2; k++) { /* two GOPs of 10 packets; the second's IDR start comes first */
        uint16_t s = (uint16_t)(10 * k);
        uint32_t ts = 90000u * k;
        if (k == 0) {
            h264(s, ts, stap, sizeof stap, 0);
            h264(s + 1, ts, fu_start, sizeof fu_start, 0);
        } else {
            h264(s + 1, ts, fu_start, sizeof fu_start, 0);
            /* A joiner now: no replay from an IDR without its SPS (a
             * keyframe is asked for instead). */
            unsigned plis = out.plis;
            add_viewer(3, false, false, LEC_S * 2);
            assert_int_equal(out.v[3].rtp, 0);
            assert_true(out.plis > plis);
            lec_room_remove_viewer(&room, 3);
            h264(s, ts, stap, sizeof stap, 0);
        }
        h264(s + 2, ts, fu_mid, sizeof fu_mid, 0);
        h264(s + 3, ts, fu_end, sizeof fu_end, 0);
        for (uint16_t i = 4; i < 10; i++)
            h264(s + i, ts + 3000u * i, p_slice, sizeof p_slice, 0);
        add_viewer(1 + k, false, false, LEC_S * (k + 1));
        assert_int_equal(out.v[1 + k].rtp, 10); /* the whole GOP, from the STAP-A */
        assert_true(out.v[1 + k].seen[(uint16_t)(1000 * (1 + k))]);
    }
    codec = "VP8";
    lec_room_free(&room);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_nack_flood_bounded),
                                       cmocka_unit_test(test_nack_dedupe_window),
                                       cmocka_unit_test(test_keyframe_budget),
                                       cmocka_unit_test(test_repairs_repeat_their_bytes),
                                       cmocka_unit_test(test_h264_gop_starts_with_sps)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
