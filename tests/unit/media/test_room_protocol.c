/*
 * Protocol test of the SFU core in virtual time (DESIGN.md section 8):
 * a simulated publisher feeds a lec_room; ten simulated viewers sit behind
 * a seeded lossy link (5% loss, 30 ms one way) and NACK what they miss, as
 * a browser does.  Checked: every viewer ends up with every packet (NACK
 * recovery from the ring), ten simultaneous keyframe requests become one
 * upstream PLI and one deferred one, numbering stays continuous when the
 * source changes (a publisher that reconnects with new SSRC, sequence and
 * timestamps), and Sender Reports reach viewers with their SSRC and
 * timeline.  Then the publisher's uplink: every tenth packet lost, NACKed
 * at once and repaired from the publisher's RTX stream (duplicates and
 * padding probes dropped), a hole nobody fills asked for three times and
 * given up, a long burst turned into a keyframe request.  No socket, no
 * thread, no clock: microseconds of CPU.
 */
#include "testdata.h"
#include "base/time.h"
#include "media/room.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"

#include <stdlib.h>
#include <string.h>

#define VIEWERS 10
#define MAX_EV  200000
#define ONE_WAY (30 * LEC_MS)

typedef struct event {
    lec_tstamp at;
    int to; /* -1: the room (from viewer `from`), >= 0: viewer index */
    int from;
    bool rtcp;
    uint16_t len;
    uint8_t data[1500];
} event;

static struct {
    event *ev;
    size_t n;
    lec_rand_seeded rnd;
    lec_room room;
    lec_tstamp now;
    int pli_up;
    lec_tstamp pli_at[16];
    struct viewer {
        bool got[70000]; /* by the viewer's 16-bit sequence, unwrapped below 65536 here */
        uint16_t first, highest;
        bool started;
        uint32_t ssrc_seen;
        int gaps_after_switch;
        uint32_t last_ts;
        uint16_t last_seq;
        int sr;
        uint32_t sr_ssrc, sr_ts;
        lec_tstamp nack_due;
    } v[VIEWERS];
} net;

static bool lost(void)
{
    return lec_rand_u32(&net.rnd.rand) % 100 < 5;
}

static void push(lec_tstamp at, int to, int from, bool rtcp, const uint8_t *p, size_t len)
{
    assert_true(net.n < MAX_EV);
    event *e = &net.ev[net.n++];
    e->at = at;
    e->to = to;
    e->from = from;
    e->rtcp = rtcp;
    e->len = (uint16_t)len;
    memcpy(e->data, p, len);
}

/* The room's I/O: towards viewers through the lossy link; towards the
 * publisher: count PLIs. */
static int bound[16]; /* each viewer's pointer given to lec_room_viewer_bind */

static void send_rtp(void *ud, uint32_t vid, void *vud, uint8_t *pkt, size_t len, size_t cap)
{
    assert_ptr_equal(vud, &bound[vid]); /* its own, with every packet */
    (void)ud, (void)cap;
    if (!lost())
        push(net.now + ONE_WAY, (int)vid - 1, -1, false, pkt, len);
}

static void send_rtcp(void *ud, uint32_t vid, void *vud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)vud;
    (void)ud, (void)cap;
    if (vid == 0) {
        lec_rtcp_iter it;
        lec_rtcp_pkt p;
        lec_rtcp_iter_init(&it, pkt, len);
        while (lec_rtcp_next(&it, &p) == 1)
            if (p.pt == LEC_RTCP_PSFB && p.fmt == 1)
                net.pli_at[net.pli_up++ & 15] = net.now;
        return;
    }
    push(net.now + ONE_WAY, (int)vid - 1, -1, true, pkt, len);
}

/* A viewer as a browser: records packets; NACKs holes ~10 ms later (and
 * again every RTT while they stay open). */
static void viewer_receive(int i, const event *e)
{
    struct viewer *v = &net.v[i];
    if (e->rtcp) {
        lec_rtcp_iter it;
        lec_rtcp_pkt p;
        lec_rtcp_sr sr;
        lec_rtcp_iter_init(&it, e->data, e->len);
        while (lec_rtcp_next(&it, &p) == 1)
            if (!lec_rtcp_parse_sr(&p, &sr)) {
                v->sr++;
                v->sr_ssrc = sr.ssrc;
                v->sr_ts = sr.rtp_ts;
            }
        return;
    }
    lec_rtp_hdr h;
    assert_int_equal(lec_rtp_parse(e->data, e->len, &h), 0);
    if (h.pt != 101)
        return; /* audio: not followed here */
    if (!v->started) {
        v->started = true;
        v->first = v->highest = h.seq;
        v->ssrc_seen = h.ssrc;
    }
    assert_int_equal(h.ssrc, v->ssrc_seen); /* our SSRC for this viewer never changes */
    v->got[(uint16_t)(h.seq - v->first)] = true;
    if (lec_seq_newer(h.seq, v->highest)) {
        v->highest = h.seq;
        if (!v->nack_due)
            v->nack_due = net.now + 10 * LEC_MS;
    }
}

static void viewer_nack(int i)
{
    struct viewer *v = &net.v[i];
    uint16_t miss[64];
    size_t n = 0;
    for (uint16_t s = 0; s != (uint16_t)(v->highest - v->first) && n < 64; s++)
        if (!v->got[s] &&
            (uint16_t)(v->highest - v->first - s) < 300) /* browsers give up on old ones */
            miss[n++] = (uint16_t)(v->first + s);
    if (!n)
        return;
    uint8_t b[512];
    size_t len = lec_rtcp_build_nack(b, sizeof b, 1000 + (uint32_t)i, net.v[i].ssrc_seen, miss, n);
    push(net.now + ONE_WAY, -1, i, true, b, len);
}

static void run_until(lec_tstamp end)
{
    while (net.n) {
        size_t best = 0;
        for (size_t k = 1; k < net.n; k++)
            if (net.ev[k].at < net.ev[best].at)
                best = k;
        if (net.ev[best].at > end)
            break;
        event e = net.ev[best];
        net.ev[best] = net.ev[--net.n];
        net.now = e.at;
        if (e.to == -1)
            lec_room_viewer_rtcp(&net.room, (uint32_t)e.from + 1, e.data, e.len, net.now);
        else
            viewer_receive(e.to, &e);
        for (int i = 0; i < VIEWERS; i++)
            if (net.v[i].nack_due && net.now >= net.v[i].nack_due) {
                viewer_nack(i);
                net.v[i].nack_due = net.now + 2 * ONE_WAY + 10 * LEC_MS;
            }
    }
    net.now = end;
}

static lec_sdp *answer_with(uint8_t apt, uint8_t vpt)
{
    lec_sdp *s = calloc(1, sizeof *s);
    s->nmedia = 2;
    s->media[0] = (lec_sdp_media){.kind = LEC_SDP_AUDIO, .port = 9, .ncodecs = 1};
    s->media[0].codecs[0] =
        (lec_sdp_codec){.pt = apt, .name = "opus", .clock_rate = 48000, .channels = 2};
    s->media[1] = (lec_sdp_media){.kind = LEC_SDP_VIDEO, .port = 9, .ncodecs = 1};
    s->media[1].codecs[0] = (lec_sdp_codec){.pt = vpt, .name = "VP8", .clock_rate = 90000};
    return s;
}

static void publish(uint32_t ssrc, uint16_t *seq, uint32_t *ts, lec_tstamp from, lec_tstamp to)
{
    uint8_t b[1200];
    for (lec_tstamp t = from; t < to; t += 10 * LEC_MS) { /* 100 packets/s, 30 fps */
        run_until(t);
        size_t n = lec_rtp_write_header(b, 96, true, (*seq)++, *ts, ssrc);
        memset(b + n, 0x42, 1000);
        lec_room_publisher_rtp(&net.room, b, n + 1000, t);
        if ((*seq % 3) == 0)
            *ts += 3000;
        lec_room_tick(&net.room, t);
        if ((*seq % 100) == 0) { /* a Sender Report every second */
            lec_rtcp_sr sr = {.ssrc = ssrc, .ntp = 0x1234567800000000ULL, .rtp_ts = *ts};
            size_t sl = lec_rtcp_build_sr(b, sizeof b, &sr);
            lec_room_publisher_rtcp(&net.room, b, sl, t);
        }
    }
}

static void test_lossy_fanout(void **state)
{
    (void)state;
    memset(&net, 0, sizeof net);
    net.ev = calloc(MAX_EV, sizeof *net.ev);
    lec_rand_seeded_init(&net.rnd, 20261127);
    lec_room_io io = {send_rtp, send_rtcp, NULL, NULL};
    lec_room_init(&net.room, &io, 777, 350 * LEC_MS);
    lec_sdp *pub = answer_with(111, 96), *view = answer_with(109, 101);
    assert_int_equal(lec_room_set_tracks(&net.room, pub), 0);
    lec_room_publisher_ready(&net.room, 0);
    uint16_t seq = 5000;
    uint32_t ts = 90000;
    publish(0xAAAA, &seq, &ts, 0, LEC_S); /* the publisher is on before anyone watches */
    for (int i = 0; i < VIEWERS; i++) {
        uint32_t ssrcs[LEC_ROOM_MAX_TRACKS] = {0x100 + (uint32_t)i, 0x200 + (uint32_t)i};
        assert_int_equal(
            lec_room_add_viewer(&net.room, (uint32_t)i + 1, view, ssrcs, (uint16_t)(1000 * i), 0),
            0);
        lec_room_viewer_bind(&net.room, (uint32_t)i + 1, &bound[i + 1]);
    }
    /* All ten become ready at once: one PLI now, the rest coalesced. */
    int before = net.pli_up;
    net.now = LEC_S;
    for (int i = 0; i < VIEWERS; i++)
        lec_room_viewer_ready(&net.room, (uint32_t)i + 1, LEC_S);
    assert_int_equal(net.pli_up - before, 1);
    /* Five seconds of media through 5% loss. */
    publish(0xAAAA, &seq, &ts, LEC_S, 6 * LEC_S);
    /* The publisher reconnects: new SSRC, new numbering. */
    uint16_t seq2 = 40000;
    uint32_t ts2 = 7;
    publish(0xBBBB, &seq2, &ts2, 6 * LEC_S, 10 * LEC_S);
    run_until(11 * LEC_S); /* drain: NACK rounds finish */

    lec_room_stats *st = &net.room.stats;
    assert_true(st->retransmits > 100); /* NACKs were answered from the ring */
    assert_true(st->nack_in > 50);
    /* Coalescing: the deferred PLI went out once, 350 ms after the first. */
    assert_int_equal(net.pli_up - before, 2);
    assert_true(net.pli_at[(net.pli_up - 1) & 15] - net.pli_at[(net.pli_up - 2) & 15] ==
                350 * LEC_MS);
    for (int i = 0; i < VIEWERS; i++) {
        struct viewer *v = &net.v[i];
        /* Continuous numbering through the source change, nothing missing
         * but the last packets still in flight. */
        uint16_t span = (uint16_t)(v->highest - v->first);
        int missing = 0;
        for (uint16_t s = 0; s <= span; s++)
            missing += !v->got[s];
        assert_true(span >= 890 &&
                    span <= 910); /* ~9 s x 100 packets, the source switch included */
        assert_true(missing <= 3);
        /* Sender Reports arrive with this viewer's SSRC and timeline. */
        assert_true(v->sr >= 8);
        assert_int_equal(v->sr_ssrc, 0x200 + (uint32_t)i);
    }
    lec_room_free(&net.room);
    free(pub);
    free(view);
    free(net.ev);
}

/* ---- the publisher's uplink: NACK and RTX (RFC 4588) ------------------ */

static struct {
    uint16_t nacked[256];
    size_t n;
    int plis;
    bool got[2000];
    uint16_t first;
    bool started;
    int dups, bad_payload;
} up;

static void up_send_rtp(void *ud, uint32_t vid, void *vud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)vud;
    (void)ud, (void)vid, (void)cap;
    lec_rtp_hdr h;
    assert_int_equal(lec_rtp_parse(pkt, len, &h), 0);
    if (h.pt != 101)
        return;
    if (!up.started) {
        up.started = true;
        up.first = h.seq;
    }
    uint16_t idx = (uint16_t)(h.seq - up.first);
    assert_true(idx < 2000);
    up.dups += up.got[idx];
    up.got[idx] = true;
    /* The payload is the original's: its first byte is the source seq. */
    up.bad_payload += pkt[h.header_len] != (uint8_t)(100 + idx);
}

static void up_send_rtcp(void *ud, uint32_t vid, void *vud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)vud;
    (void)ud, (void)cap;
    if (vid != 0)
        return;
    lec_rtcp_iter it;
    lec_rtcp_pkt p;
    lec_rtcp_iter_init(&it, pkt, len);
    while (lec_rtcp_next(&it, &p) == 1) {
        if (p.pt == LEC_RTCP_PSFB && p.fmt == 1)
            up.plis++;
        if (p.pt == LEC_RTCP_RTPFB && p.fmt == 1) {
            lec_rtcp_fb ids;
            uint16_t seqs[64];
            int n = lec_rtcp_parse_nack(&p, &ids, seqs, 64);
            assert_true(n > 0);
            assert_int_equal(ids.media_ssrc, 0xAAAA);
            for (int i = 0; i < n && up.n < 256; i++)
                up.nacked[up.n++] = seqs[i];
        }
    }
}

static size_t media_pkt(uint8_t *b, uint16_t seq)
{
    size_t n = lec_rtp_write_header(b, 96, false, seq, 1000u * seq, 0xAAAA);
    memset(b + n, 0x42, 500);
    b[n] = (uint8_t)seq;
    return n + 500;
}

/* The publisher answers NACKs on its RTX stream: OSN, then the payload. */
static void answer_nacks(lec_room *room, uint16_t *rtx_seq, lec_tstamp now, bool twice)
{
    for (size_t i = 0; i < up.n; i++) {
        uint8_t orig[600], b[700];
        size_t len = media_pkt(orig, up.nacked[i]);
        size_t n = lec_rtp_write_header(b, 97, false, (*rtx_seq)++, 1000u * up.nacked[i], 0xCCCC);
        b[n] = (uint8_t)(up.nacked[i] >> 8);
        b[n + 1] = (uint8_t)up.nacked[i];
        memcpy(b + n + 2, orig + 12, len - 12);
        lec_room_publisher_rtp(room, b, n + 2 + len - 12, now);
        if (twice) /* a resend that crossed another: a duplicate */
            lec_room_publisher_rtp(room, b, n + 2 + len - 12, now);
    }
    up.n = 0;
}

static void test_publisher_loss_repaired_by_rtx(void **state)
{
    (void)state;
    memset(&up, 0, sizeof up);
    lec_room room;
    lec_room_io io = {up_send_rtp, up_send_rtcp, NULL, NULL};
    lec_room_init(&room, &io, 777, 350 * LEC_MS);
    lec_sdp *pub = answer_with(111, 96), *view = answer_with(109, 101);
    lec_sdp_media *v = &pub->media[1];
    v->codecs[0].fb = LEC_FB_NACK | LEC_FB_PLI;
    v->codecs[1] = (lec_sdp_codec){.pt = 97, .name = "rtx", .clock_rate = 90000, .rtx_apt = 96};
    v->ncodecs = 2;
    assert_int_equal(lec_room_set_tracks(&room, pub), 0);
    assert_int_equal(room.tracks[1].rtx_pt, 97);
    lec_room_publisher_ready(&room, 0);
    uint32_t ssrcs[LEC_ROOM_MAX_TRACKS] = {0x300, 0x400};
    assert_int_equal(lec_room_add_viewer(&room, 1, view, ssrcs, 5000, 0), 0);
    lec_room_viewer_ready(&room, 1, 0);
    int plis0 = up.plis;

    /* 1000 packets, every tenth lost on the uplink; the publisher resends
     * what we ask for on RTX (some twice), 10 ms later. */
    uint16_t rtx_seq = 7;
    uint8_t b[600];
    lec_tstamp now = 0;
    for (uint16_t i = 0; i < 1000; i++, now += 5 * LEC_MS) {
        if (i % 10 != 5)
            lec_room_publisher_rtp(&room, b, media_pkt(b, (uint16_t)(100 + i)), now);
        answer_nacks(&room, &rtx_seq, now + 10 * LEC_MS, i % 50 == 7);
        lec_room_tick(&room, now);
    }
    /* A padding-only RTX probe (no OSN) and a bare RTX header are ignored. */
    size_t n = lec_rtp_write_header(b, 97, false, rtx_seq++, 0, 0xCCCC);
    b[0] |= 0x20;
    memset(b + n, 0, 255);
    b[n + 254] = 255;
    lec_room_publisher_rtp(&room, b, n + 255, now);
    lec_room_publisher_rtp(&room, b, n, now);

    int missing = 0;
    for (int i = 0; i < 999; i++)
        if (!up.got[i] && missing++ < 5)
            print_message("missing %d\n", i);
    assert_int_equal(missing, 0);
    assert_int_equal(up.dups, 0);
    assert_int_equal(up.bad_payload, 0);
    assert_int_equal(room.stats.repaired, 100);
    assert_int_equal(room.stats.unrepaired, 0);
    assert_true(room.stats.nack_out >= 100);
    assert_int_equal(up.plis, plis0); /* single losses: no keyframe needed */

    /* A hole nobody answers: asked three times, 50 ms apart, then given up. */
    now += LEC_S;
    lec_room_publisher_rtp(&room, b, media_pkt(b, 1100), now);
    lec_room_publisher_rtp(&room, b, media_pkt(b, 1102), now);
    assert_int_equal(up.n, 1);
    assert_int_equal(up.nacked[0], 1101);
    for (int k = 1; k <= 4; k++)
        lec_room_tick(&room, now + k * 50 * LEC_MS);
    assert_int_equal(up.n, 3);
    assert_int_equal(room.stats.unrepaired, 1);
    up.n = 0;

    /* The third ask's answer is waited for, even while new holes keep
     * coming (a lossy leg): a hole asked three times, a new hole 5 ms
     * after the third ask, the answer 30 ms after it: repaired. */
    now += LEC_S;
    uint64_t repaired0 = room.stats.repaired;
    lec_room_publisher_rtp(&room, b, media_pkt(b, 1300), now);
    lec_room_publisher_rtp(&room, b, media_pkt(b, 1302), now); /* 1301 lost */
    lec_room_tick(&room, now + 50 * LEC_MS);
    lec_room_tick(&room, now + 100 * LEC_MS); /* the third ask */
    assert_int_equal(up.n, 3);
    lec_room_publisher_rtp(&room, b, media_pkt(b, 1304), now + 105 * LEC_MS); /* 1303 lost */
    assert_int_equal(room.stats.unrepaired, 1);                                /* 1301 still waited for */
    size_t rl = media_pkt(b, 1301);
    lec_room_publisher_rtp(&room, b, rl, now + 130 * LEC_MS);
    assert_int_equal(room.stats.repaired, repaired0 + 1);
    assert_int_equal(room.stats.unrepaired, 1);
    up.n = 0;

    /* A burst too long to repair packet by packet: a keyframe instead. */
    now += LEC_S;
    lec_room_publisher_rtp(&room, b, media_pkt(b, 1200), now);
    assert_int_equal(up.plis, plis0 + 1);
    assert_int_equal(up.n, 0);

    lec_room_free(&room);
    free(pub);
    free(view);
}

/* ---- repairs to a viewer that negotiated RTX ------------------------- */

static struct {
    uint8_t pkt[8][1600];
    size_t len[8];
    int n;
} sent;

static void cap_rtp(void *ud, uint32_t vid, void *vud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)ud, (void)vid, (void)vud, (void)cap;
    int k = sent.n++ % 8;
    memcpy(sent.pkt[k], pkt, len);
    sent.len[k] = len;
}

static void no_rtcp(void *ud, uint32_t vid, void *vud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)ud, (void)vid, (void)vud, (void)pkt, (void)len, (void)cap;
}

static void test_viewer_repairs_on_rtx(void **state)
{
    (void)state;
    memset(&sent, 0, sizeof sent);
    lec_room room;
    lec_room_io io = {cap_rtp, no_rtcp, NULL, NULL};
    lec_room_init(&room, &io, 777, 350 * LEC_MS);
    lec_sdp *pub = answer_with(111, 96), *view = answer_with(109, 101);
    pub->media[1].codecs[0].fb = LEC_FB_NACK | LEC_FB_PLI;
    lec_sdp_media *vm = &view->media[1];
    vm->codecs[0].fb = LEC_FB_NACK | LEC_FB_PLI;
    vm->codecs[1] = (lec_sdp_codec){.pt = 102, .name = "rtx", .clock_rate = 90000, .rtx_apt = 101};
    vm->ncodecs = 2;
    assert_int_equal(lec_room_set_tracks(&room, pub), 0);
    lec_room_publisher_ready(&room, 0);
    uint32_t ssrcs[LEC_ROOM_MAX_TRACKS] = {0x300, 0x400};
    assert_int_equal(lec_room_add_viewer(&room, 1, view, ssrcs, 5000, 0), 0);
    uint32_t rtx_ssrc = lec_room_viewer_rtx_ssrc(&room, 1, LEC_SDP_VIDEO);
    assert_int_equal(rtx_ssrc, 0x400 ^ 0x40000000u);
    assert_int_equal(lec_room_viewer_rtx_ssrc(&room, 1, LEC_SDP_AUDIO), 0);
    lec_room_viewer_ready(&room, 1, 0);
    uint8_t b[600];
    uint16_t out_seq[5];
    for (uint16_t i = 0; i < 5; i++) {
        lec_room_publisher_rtp(&room, b, media_pkt(b, (uint16_t)(100 + i)), 0);
        lec_rtp_hdr h;
        assert_int_equal(lec_rtp_parse(sent.pkt[(sent.n - 1) % 8], sent.len[(sent.n - 1) % 8], &h),
                         0);
        assert_int_equal(h.pt, 101);
        out_seq[i] = h.seq;
    }
    /* The viewer lost its 2nd and 4th packets. */
    uint8_t nack[64];
    uint16_t want[2] = {out_seq[1], out_seq[3]};
    size_t nl = lec_rtcp_build_nack(nack, sizeof nack, 0xF00D, 0x400, want, 2);
    int before = sent.n;
    lec_room_viewer_rtcp(&room, 1, nack, nl, 10 * LEC_MS);
    assert_int_equal(sent.n - before, 2);
    uint16_t rtx_seq = 0;
    for (int k = 0; k < 2; k++) {
        const uint8_t *p = sent.pkt[(before + k) % 8];
        lec_rtp_hdr h;
        assert_int_equal(lec_rtp_parse(p, sent.len[(before + k) % 8], &h), 0);
        assert_int_equal(h.pt, 102);
        assert_int_equal(h.ssrc, rtx_ssrc);
        if (k)
            assert_int_equal(h.seq, (uint16_t)(rtx_seq + 1)); /* its own numbering */
        rtx_seq = h.seq;
        /* OSN first (the number the viewer knows), then the payload,
         * whose first byte is the source sequence number. */
        assert_int_equal(p[h.header_len] << 8 | p[h.header_len + 1], want[k]);
        assert_int_equal(p[h.header_len + 2], (uint8_t)(100 + 1 + 2 * k));
        assert_int_equal(h.payload_len, 502);
    }
    assert_int_equal(room.stats.retransmits, 2);
    lec_room_free(&room);
    free(pub);
    free(view);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_lossy_fanout),
                                       cmocka_unit_test(test_publisher_loss_repaired_by_rtx),
                                       cmocka_unit_test(test_viewer_repairs_on_rtx)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
