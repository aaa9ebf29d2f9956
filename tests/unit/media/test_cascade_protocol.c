/*
 * Protocol test of a cascade hop in virtual time: a publisher feeds the
 * origin's room; a relay leg (a leg subscriber of the origin's room) carries
 * the stream over a link with 5% loss and 80 ms one way, both directions,
 * into the edge's room, whose upstream is that leg; a viewer hangs off the
 * edge.  Checked: the edge repairs its holes from the origin's ring (NACKs
 * on the leg, deduplicated, retried after the leg's RTT) so the viewer gets
 * every packet; a late joiner starts at once from the edge's GOP cache: the
 * newest keyframe first, the GOP's timestamps squeezed 1 ms apart up to the
 * live one; when the leg is replaced by one from another source (failover),
 * the viewer's SSRC stays and its numbering continues.
 */
#include "testdata.h"
#include "base/time.h"
#include "media/room.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"

#include <stdlib.h>
#include <string.h>

#define MAX_EV  20000
#define ONE_WAY (80 * LEC_MS)
#define VPT     96
#define LEG_ID  7 /* the leg's id in the origin's room */
#define VIEWER  1 /* ids in the edge's room */
#define LATE    2

enum dst { TO_EDGE_RTP, TO_EDGE_RTCP, TO_ORIGIN_RTCP };

typedef struct event {
    lec_tstamp at;
    enum dst to;
    uint16_t len;
    uint8_t data[1500];
} event;

typedef struct viewer {
    bool got[4096];
    uint16_t first;
    bool started;
    uint32_t ssrc;
    uint16_t last_seq;
    uint32_t last_ts;
    bool first_is_key;
    unsigned pkts, backwards_ts;
    int playout_min_ms; /* from the last packet's playout-delay element; -1: none */
    lec_tstamp first_at;
} viewer;

static struct {
    event *ev;
    size_t n;
    lec_rand_seeded rnd;
    lec_room origin, edge;
    lec_tstamp now;
    unsigned loss_pct;
    unsigned upstream_nack_seqs; /* sequence numbers the edge asked for */
    viewer v[3];
} net;

static void push(lec_tstamp at, enum dst to, const uint8_t *p, size_t len)
{
    assert_true(net.n < MAX_EV);
    if (lec_rand_u32(&net.rnd.rand) % 100 < net.loss_pct)
        return;
    event *e = &net.ev[net.n++];
    *e = (event){.at = at, .to = to, .len = (uint16_t)len};
    memcpy(e->data, p, len);
}

/* The origin's room: the leg gets RTP and RTCP over the lossy link; the
 * publisher (vid 0) is not simulated beyond that. */
static void origin_rtp(void *ud, uint32_t vid, void *vud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)vud;
    (void)ud, (void)cap;
    if (vid == LEG_ID)
        push(net.now + ONE_WAY, TO_EDGE_RTP, pkt, len);
}

static void origin_rtcp(void *ud, uint32_t vid, void *vud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)vud;
    (void)ud, (void)cap;
    if (vid == LEG_ID)
        push(net.now + ONE_WAY, TO_EDGE_RTCP, pkt, len);
}

static void viewer_rx(viewer *v, const uint8_t *pkt, size_t len)
{
    lec_rtp_hdr h;
    assert_int_equal(lec_rtp_parse(pkt, len, &h), 0);
    if (h.pt != VPT)
        return;
    if (!v->started) {
        v->started = true;
        v->first = h.seq;
        v->ssrc = h.ssrc;
        v->first_at = net.now;
        v->first_is_key = lec_rtp_keyframe_start(LEC_VCODEC_VP8, pkt + h.header_len, h.payload_len);
    } else if (lec_seq_newer(h.seq, v->last_seq) && (int32_t)(h.ts - v->last_ts) < 0) {
        v->backwards_ts++;
    }
    assert_int_equal(h.ssrc, v->ssrc);
    v->got[(uint16_t)(h.seq - v->first) % 4096] = true;
    if (!v->pkts || lec_seq_newer(h.seq, v->last_seq)) {
        v->last_seq = h.seq;
        v->last_ts = h.ts;
    }
    v->pkts++;
    const uint8_t *pd;
    size_t pdl;
    v->playout_min_ms = -1;
    if (h.extension && lec_rtp_ext_find(pkt, &h, 5, &pd, &pdl) == 0 && pdl == 3)
        v->playout_min_ms = (pd[0] << 4 | pd[1] >> 4) * 10;
    else
        assert_false(h.extension); /* nothing else adds one here */
}

/* The edge's room: its viewers are local (no loss); RTCP for vid 0 goes
 * up the leg. */
static void edge_rtp(void *ud, uint32_t vid, void *vud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)vud;
    (void)ud, (void)cap;
    viewer_rx(&net.v[vid], pkt, len);
}

static void edge_rtcp(void *ud, uint32_t vid, void *vud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)vud;
    (void)ud, (void)cap;
    if (vid != 0)
        return;
    lec_rtcp_iter it;
    lec_rtcp_pkt p;
    lec_rtcp_iter_init(&it, pkt, len);
    while (lec_rtcp_next(&it, &p) == 1) {
        lec_rtcp_fb ids;
        uint16_t seqs[64];
        int n;
        if (p.pt == LEC_RTCP_RTPFB && p.fmt == 1 &&
            (n = lec_rtcp_parse_nack(&p, &ids, seqs, 64)) > 0)
            net.upstream_nack_seqs += (unsigned)n;
    }
    push(net.now + ONE_WAY, TO_ORIGIN_RTCP, pkt, len);
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
        if (e.to == TO_EDGE_RTP)
            lec_room_publisher_rtp(&net.edge, e.data, e.len, net.now);
        else if (e.to == TO_EDGE_RTCP)
            lec_room_publisher_rtcp(&net.edge, e.data, e.len, net.now);
        else
            lec_room_viewer_rtcp(&net.origin, LEG_ID, e.data, e.len, net.now);
    }
    net.now = end;
}

static void tracks(lec_room_track_spec *s)
{
    s[0] = (lec_room_track_spec){.kind = LEC_SDP_AUDIO,
                                 .codec = {.pt = 111, .name = "opus", .clock_rate = 48000}};
    s[1] = (lec_room_track_spec){
        .kind = LEC_SDP_VIDEO,
        .codec = {.pt = VPT, .name = "VP8", .clock_rate = 90000, .fb = LEC_FB_NACK | LEC_FB_PLI}};
}

static lec_sdp *viewer_answer(void)
{
    lec_sdp *s = calloc(1, sizeof *s);
    s->nmedia = 1;
    s->media[0] = (lec_sdp_media){.kind = LEC_SDP_VIDEO, .port = 9, .ncodecs = 1};
    s->media[0].codecs[0] = (lec_sdp_codec){.pt = VPT, .name = "VP8", .clock_rate = 90000};
    s->media[0].nextmaps = 1;
    s->media[0].extmaps[0] = (lec_sdp_extmap){.id = 5, .uri = LEC_ROOM_PLAYOUT_URI};
    return s;
}

/* 30 fps, 3 packets a frame; a keyframe every 60 frames (its first
 * packet starts partition 0 with the P bit clear). */
static void publish(uint32_t ssrc, uint16_t *seq, uint32_t *ts, lec_tstamp from, lec_tstamp to)
{
    uint8_t b[1200];
    for (lec_tstamp t = from; t < to; t += 11 * LEC_MS) {
        run_until(t);
        unsigned in_frame = *seq % 3, frame = *seq / 3;
        size_t n = lec_rtp_write_header(b, VPT, in_frame == 2, *seq, *ts, ssrc);
        memset(b + n, 0, 800);
        b[n] = in_frame == 0 ? 0x10 : 0x00;              /* S on a frame's first packet */
        b[n + 1] = frame % 60 == 0 && !in_frame ? 0 : 1; /* P clear: keyframe */
        lec_room_publisher_rtp(&net.origin, b, n + 800, t);
        (*seq)++;
        if (in_frame == 2)
            *ts += 3000;
        lec_room_tick(&net.origin, t);
        lec_room_tick(&net.edge, t);
    }
}

static void setup_rooms(void)
{
    net.ev = calloc(MAX_EV, sizeof *net.ev);
    lec_rand_seeded_init(&net.rnd, 42);
    lec_room_io oio = {origin_rtp, origin_rtcp, NULL, NULL};
    lec_room_io eio = {edge_rtp, edge_rtcp, NULL, NULL};
    lec_room_init(&net.origin, &oio, 0x1111, 350 * LEC_MS);
    lec_room_init(&net.edge, &eio, 0x2222, 350 * LEC_MS);
    lec_room_track_spec s[2];
    tracks(s);
    assert_int_equal(lec_room_set_track_specs(&net.origin, s, 2), 0);
    assert_int_equal(lec_room_set_track_specs(&net.edge, s, 2), 0);
    lec_room_publisher_ready(&net.origin, 0);
    lec_room_publisher_ready(&net.edge, 0);
    lec_room_set_upstream(&net.edge, true, 2 * ONE_WAY);
    uint32_t leg_ssrcs[LEC_ROOM_MAX_TRACKS] = {0xA0, 0xA1};
    assert_int_equal(lec_room_add_leg(&net.origin, LEG_ID, leg_ssrcs, 500, 9000, false), 0);
    lec_room_viewer_ready(&net.origin, LEG_ID, 0);
    lec_sdp *ans = viewer_answer();
    uint32_t ss[LEC_ROOM_MAX_TRACKS] = {0xB1, 0xB1};
    assert_int_equal(lec_room_add_viewer(&net.edge, VIEWER, ans, ss, 100, 1000), 0);
    lec_room_viewer_ready(&net.edge, VIEWER, 0);
    free(ans);
}

static void teardown_rooms(void)
{
    lec_room_free(&net.origin);
    lec_room_free(&net.edge);
    free(net.ev);
    memset(&net, 0, sizeof net);
}

static unsigned missing(const viewer *v, uint16_t upto)
{
    unsigned miss = 0;
    for (uint16_t s = 0; s != (uint16_t)(upto - v->first); s++)
        miss += !v->got[s % 4096];
    return miss;
}

static void test_hop_repairs_loss(void **state)
{
    (void)state;
    setup_rooms();
    uint16_t seq = 0;
    uint32_t ts = 0;
    publish(0x5EED, &seq, &ts, 0, 200 * LEC_MS); /* a clean start */
    net.loss_pct = 5;
    publish(0x5EED, &seq, &ts, 200 * LEC_MS, 10 * LEC_S);
    uint16_t lossy_end = seq;
    net.loss_pct = 0;
    publish(0x5EED, &seq, &ts, 10 * LEC_S, 11 * LEC_S); /* let repairs land */
    run_until(12 * LEC_S);
    const viewer *v = &net.v[VIEWER];
    assert_true(v->started);
    /* Everything sent in the lossy 10 s reached the viewer. */
    assert_int_equal(missing(v, (uint16_t)(v->first + lossy_end - 1)), 0);
    print_message("edge: lost %llu, repaired %llu, NACKed seqs %u; origin retransmits %llu\n",
                  (unsigned long long)net.edge.stats.lost_in,
                  (unsigned long long)net.edge.stats.repaired, net.upstream_nack_seqs,
                  (unsigned long long)net.origin.stats.retransmits);
    assert_true(net.edge.stats.lost_in > 20);
    assert_true(net.edge.stats.repaired > 20);
    assert_true(net.origin.stats.retransmits >= net.edge.stats.repaired);
    /* Retries wait for the measured repair time: at most three tries per
     * hole, each NACK sent three times on a leg. */
    assert_true(net.upstream_nack_seqs <= 3 * 3 * net.edge.stats.lost_in);
    assert_true(net.upstream_nack_seqs >= 3 * net.edge.stats.repaired);
    assert_int_equal(v->backwards_ts, 0);
    /* Repairs took two legs' delay: the viewer is asked to buffer that. */
    print_message("playout delay asked of the viewer: %d ms (repairs took up to %llu ms)\n",
                  v->playout_min_ms, (unsigned long long)(net.edge.repair_peak / LEC_MS));
    assert_true(v->playout_min_ms >= 160 && v->playout_min_ms <= 400);
    teardown_rooms();
}

static void test_late_joiner_starts_from_gop(void **state)
{
    (void)state;
    setup_rooms();
    uint16_t seq = 0;
    uint32_t ts = 0;
    publish(0x5EED, &seq, &ts, 0, 3 * LEC_S); /* keyframes at 0 and 2 s */
    run_until(3 * LEC_S);
    lec_sdp *ans = viewer_answer();
    uint32_t ss[LEC_ROOM_MAX_TRACKS] = {0xC1, 0xC1};
    assert_int_equal(lec_room_add_viewer(&net.edge, LATE, ans, ss, 7000, 5000), 0);
    free(ans);
    uint64_t pli_before = net.edge.stats.pli_out;
    lec_tstamp join = net.now;
    lec_room_viewer_ready(&net.edge, LATE, join);
    viewer *v = &net.v[LATE];
    assert_true(v->started); /* media at once, no upstream round trip */
    assert_int_equal(v->first_at, join);
    assert_true(v->first_is_key);                         /* starting with the keyframe */
    assert_int_equal(net.edge.stats.pli_out, pli_before); /* no keyframe asked for */
    assert_int_equal(net.edge.stats.gop_replays, 1);
    /* The GOP (about a second of frames) is squeezed: the replay spans
     * 1 ms per frame, ending at the live frame's time. */
    unsigned replayed = v->pkts;
    print_message("late joiner: %u packets replayed from the GOP cache at join\n", replayed);
    assert_true(replayed > 60);
    uint32_t replay_end_ts = v->last_ts;
    publish(0x5EED, &seq, &ts, 3 * LEC_S, 4 * LEC_S);
    run_until(5 * LEC_S);
    assert_int_equal(v->backwards_ts, 0);
    assert_int_equal(missing(v, v->last_seq), 0);
    /* The live packets continue at the normal 3000 per frame after it. */
    assert_true(v->last_ts - replay_end_ts > 80000 && v->last_ts - replay_end_ts < 100000);
    teardown_rooms();
}

static void test_failover_keeps_viewer_continuous(void **state)
{
    (void)state;
    setup_rooms();
    uint16_t seq = 0;
    uint32_t ts = 0;
    publish(0x5EED, &seq, &ts, 0, 2 * LEC_S);
    run_until(3 * LEC_S);
    viewer *v = &net.v[VIEWER];
    uint16_t before = v->last_seq;
    uint32_t ssrc = v->ssrc;
    /* The old leg dies; a new one (another source: new SSRCs and
     * numbering) feeds the same edge room. */
    lec_room_remove_viewer(&net.origin, LEG_ID);
    uint32_t leg2[LEC_ROOM_MAX_TRACKS] = {0xD0, 0xD1};
    assert_int_equal(lec_room_add_leg(&net.origin, LEG_ID, leg2, 40000, 123456, true), 0);
    lec_room_viewer_ready(&net.origin, LEG_ID, net.now);
    publish(0x5EED, &seq, &ts, 3 * LEC_S, 5 * LEC_S);
    run_until(6 * LEC_S);
    assert_int_equal(v->ssrc, ssrc); /* checked on every packet too */
    assert_true(lec_seq_newer(v->last_seq, before));
    assert_int_equal(v->backwards_ts, 0);
    assert_int_equal(missing(v, v->last_seq), 0); /* numbering continued without a gap */
    teardown_rooms();
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_hop_repairs_loss),
                                       cmocka_unit_test(test_late_joiner_starts_from_gop),
                                       cmocka_unit_test(test_failover_keeps_viewer_continuous)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
