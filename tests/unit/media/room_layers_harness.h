/*
 * The simulcast room harness shared by test_room_layers.c and
 * test_room_estimates.c (one program each): a publisher of three VP8 (or
 * H.264) layers and opus, viewers that check what they get, a leg into a
 * second room, and viewers' shaped links with our own transport-cc
 * receiver.  Static: each program includes it once.
 */
#ifndef LEC_TEST_ROOM_LAYERS_HARNESS_H
#define LEC_TEST_ROOM_LAYERS_HARNESS_H
#pragma GCC diagnostic ignored "-Wunused-function"

#include "testdata.h"
#include "base/time.h"
#include "media/room.h"
#include "media/twcc.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VPT   96
#define RTXPT 97
#define APT   111
#define RID_ID  10
#define RRID_ID 11
#define NV 4 /* viewers 1..3, the leg 4 */
#define LEG 4

static const uint32_t LSSRC[3] = {0x10, 0x20, 0x30}; /* by layer: small to big */
static unsigned LPKTS[3] = {1, 2, 4};                /* packets per frame */
static const unsigned LWIDTH[3] = {320, 640, 1280};
static bool with_size; /* keyframes carry VP8's picture size */
/* H.264 instead of VP8: a keyframe is a STAP-A (SPS, PPS) and an IDR in
 * two FU-A fragments, other frames single P-slice NALs; every payload
 * ends with its layer's number, for the checks.  idr_first[l]: layer l's
 * keyframes arrive with the IDR's first fragment before the STAP-A (a
 * reordering: a player switched there has no SPS and PPS). */
static bool h264_mode;
static bool idr_first[3];
static const size_t LSIZE[3] = {200, 600, 1000};

typedef struct seen {
    unsigned video, audio, by_layer[3];
    uint32_t ssrc;
    bool started;
    uint16_t last_seq;
    uint32_t last_ts;
    unsigned gaps, backwards, ssrcs_changed;
    int last_layer;
    unsigned switches_seen, switch_not_keyframe;
    unsigned rtx;
} seen;

static struct {
    seen v[NV + 1];
    unsigned pli[3];   /* by layer */
    bool want_kf[3];
    unsigned unknown;
    lec_room *edge;    /* the leg's packets go here, when set */
} out;

static lec_room room, edge;
static lec_tstamp now_;

/* A viewer's shaped link (test_bwe_layers): a bottleneck of `bps` (a FIFO,
 * tail drop past 300 ms of queue), 20 ms on; our transport-cc receiver
 * notes arrivals, and its feedback goes back to the room each tick. */
#define TWCC_ID 3
typedef struct link {
    bool on;
    uint32_t bps;
    lec_tstamp free;
    lec_twcc rx;
    struct {
        lec_tstamp at;
        uint16_t seq;
    } q[8192];
    unsigned nq;
    uint64_t dropped;
    /* A viewer without transport-cc: its video's arrivals and losses,
     * reported every 500 ms as an RTCP Receiver Report. */
    bool rr;
    unsigned got, lost, agot, alost; /* video, audio */
    lec_tstamp rr_next;
} link;
static link *links[NV + 1];

static void link_send(link *l, const uint8_t *pkt, size_t len)
{
    lec_rtp_hdr h;
    const uint8_t *v;
    size_t n;
    assert_int_equal(lec_rtp_parse(pkt, len, &h), 0);
    if (l->rr) { /* none stamped */
        assert_int_not_equal(lec_rtp_ext_find(pkt, &h, TWCC_ID, &v, &n), 0);
    } else { /* every packet stamped */
        assert_int_equal(lec_rtp_ext_find(pkt, &h, TWCC_ID, &v, &n), 0);
        assert_int_equal(n, 2);
    }
    lec_tstamp start = now_ > l->free ? now_ : l->free;
    if (start - now_ > 300 * LEC_MS || l->nq == 8192) {
        l->dropped++;
        l->lost += h.pt == VPT;
        l->alost += h.pt == APT;
        return;
    }
    l->free = start + (lec_tstamp)len * 8 * LEC_S / l->bps;
    l->q[l->nq].at = l->free + 20 * LEC_MS;
    l->q[l->nq++].seq = l->rr ? (uint16_t)(h.pt == VPT ? 1 : h.pt == APT ? 2 : 0)
                              : (uint16_t)(v[0] << 8 | v[1]);
}

/* Arrivals up to now; feedback to the room. */
static void links_run(lec_tstamp now)
{
    for (uint32_t id = 1; id <= NV; id++) {
        link *l = links[id];
        if (!l || !l->on)
            continue;
        unsigned keep = 0;
        for (unsigned i = 0; i < l->nq; i++) {
            if (l->q[i].at > now)
                l->q[keep++] = l->q[i];
            else if (l->rr)
                l->got += l->q[i].seq == 1, l->agot += l->q[i].seq == 2;
            else
                lec_twcc_arrived(&l->rx, l->q[i].seq, l->q[i].at);
        }
        l->nq = keep;
        if (l->rr) {
            if (now >= l->rr_next && l->got + l->lost + l->agot + l->alost) {
                l->rr_next = now + 500 * LEC_MS;
                /* A block per source heard from: video, audio. */
                lec_rtcp_report rep[2];
                size_t nr = 0;
                if (l->got + l->lost)
                    rep[nr++] = (lec_rtcp_report){.ssrc = 0x6000 + id,
                                                  .fraction_lost = (uint8_t)(l->lost * 255 / (l->got + l->lost))};
                if (l->agot + l->alost)
                    rep[nr++] = (lec_rtcp_report){.ssrc = 0x5000 + id,
                                                  .fraction_lost = (uint8_t)(l->alost * 255 / (l->agot + l->alost))};
                uint8_t rr[128];
                size_t rn = lec_rtcp_build_rr(rr, sizeof rr, 0xF000 + id, rep, nr);
                lec_room_viewer_rtcp(&room, id, rr, rn, now);
                l->got = l->lost = l->agot = l->alost = 0;
            }
            continue;
        }
        uint8_t fb[1500];
        size_t n;
        while ((n = lec_twcc_feedback(&l->rx, 9, 0x6000 + id, fb, sizeof fb)) > 0)
            lec_room_viewer_rtcp(&room, id, fb, n, now);
    }
}

static int layer_of_ssrc(uint32_t ssrc)
{
    for (int i = 0; i < 3; i++)
        if (LSSRC[i] == ssrc)
            return i;
    return -1;
}

static void send_rtp(void *ud, uint32_t vid, void *vud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)vud, (void)cap;
    lec_rtp_hdr h;
    assert_int_equal(lec_rtp_parse(pkt, len, &h), 0);
    if (ud == &room && vid == LEG) { /* the leg: into the edge room */
        lec_room_publisher_rtp(&edge, pkt, len, now_);
        return;
    }
    assert_true(vid >= 1 && vid <= NV);
    /* A viewer gets none of the publisher's extensions (its rid). */
    const uint8_t *xv;
    size_t xn;
    assert_int_not_equal(lec_rtp_ext_find(pkt, &h, RID_ID, &xv, &xn), 0);
    if (ud == &room && links[vid] && links[vid]->on)
        link_send(links[vid], pkt, len);
    seen *s = &out.v[vid];
    if (h.pt == APT) {
        s->audio++;
        return;
    }
    if (h.pt == RTXPT) { /* repairs and probes: their own SSRC and numbers */
        s->rtx++;
        return;
    }
    const uint8_t *p = pkt + h.header_len;
    int layer = h264_mode ? p[h.payload_len - 1] : p[2];
    bool kf_start = h264_mode ? (p[0] & 0x1f) == 24 : (p[0] & 0x10) && !(p[1] & 0x01);
    s->video++;
    s->by_layer[layer]++;
    if (s->started) {
        if (h.ssrc != s->ssrc)
            s->ssrcs_changed++;
        if (h.seq != (uint16_t)(s->last_seq + 1))
            s->gaps++;
        if ((int32_t)(h.ts - s->last_ts) < 0)
            s->backwards++;
        if (layer != s->last_layer) {
            s->switches_seen++;
            if (!kf_start)
                s->switch_not_keyframe++;
        }
    }
    s->started = true;
    s->ssrc = h.ssrc;
    s->last_seq = h.seq;
    s->last_ts = h.ts;
    s->last_layer = layer;
}

static void send_rtcp(void *ud, uint32_t vid, void *vud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)vud, (void)cap;
    if (ud == &edge && !vid) /* up the leg */
        lec_room_viewer_rtcp(&room, LEG, pkt, len, now_);
    if (vid || ud == &edge)
        return;
    lec_rtcp_iter it;
    lec_rtcp_pkt p;
    lec_rtcp_fb fb;
    lec_rtcp_iter_init(&it, pkt, len);
    while (lec_rtcp_next(&it, &p) == 1)
        if (p.pt == LEC_RTCP_PSFB && p.fmt == 1 && !lec_rtcp_parse_pli(&p, &fb)) {
            int l = layer_of_ssrc(fb.media_ssrc);
            assert_true(l >= 0);
            out.pli[l]++;
            out.want_kf[l] = true;
        }
}

/* The publisher's answer: opus, and VP8 with RTX in three layers. */
static lec_sdp *pub_answer(const char *order)
{
    lec_sdp *s = calloc(1, sizeof *s);
    s->nmedia = 2;
    lec_sdp_media *a = &s->media[0], *m = &s->media[1];
    *a = (lec_sdp_media){.kind = LEC_SDP_AUDIO, .port = 9, .ncodecs = 1};
    a->codecs[0] = (lec_sdp_codec){.pt = APT, .name = "opus", .clock_rate = 48000, .rtx_apt = -1};
    *m = (lec_sdp_media){.kind = LEC_SDP_VIDEO, .port = 9, .ncodecs = 2, .nextmaps = 2, .nrids = 3};
    m->codecs[0] = (lec_sdp_codec){
        .pt = VPT, .name = "VP8", .clock_rate = 90000, .fb = LEC_FB_NACK | LEC_FB_PLI, .rtx_apt = -1};
    if (h264_mode)
        snprintf(m->codecs[0].name, sizeof m->codecs[0].name, "H264");
    m->codecs[1] = (lec_sdp_codec){.pt = RTXPT, .name = "rtx", .clock_rate = 90000, .rtx_apt = VPT};
    m->extmaps[0] = (lec_sdp_extmap){.id = RID_ID, .uri = LEC_ROOM_RID_URI};
    m->extmaps[1] = (lec_sdp_extmap){.id = RRID_ID, .uri = LEC_ROOM_RRID_URI};
    for (int i = 0; i < 3; i++)
        m->rids[i].id[0] = order[i];
    snprintf(m->simulcast, sizeof m->simulcast, "recv %c;%c;%c", order[0], order[1], order[2]);
    return s;
}

/* A viewer's answer: opus and VP8 (RTX with `rtx`; transport-cc too with
 * `twcc`). */
static lec_sdp *viewer_answer_twcc(bool rtx, bool twcc);
static lec_sdp *viewer_answer(bool rtx)
{
    return viewer_answer_twcc(rtx, false);
}

static lec_sdp *viewer_answer_twcc(bool rtx, bool twcc)
{
    lec_sdp *s = calloc(1, sizeof *s);
    s->nmedia = 2;
    lec_sdp_media *a = &s->media[0], *m = &s->media[1];
    *a = (lec_sdp_media){.kind = LEC_SDP_AUDIO, .port = 9, .ncodecs = 1};
    a->codecs[0] = (lec_sdp_codec){.pt = APT, .name = "opus", .clock_rate = 48000, .rtx_apt = -1};
    *m = (lec_sdp_media){.kind = LEC_SDP_VIDEO, .port = 9, .ncodecs = rtx ? 2 : 1};
    m->codecs[0] = (lec_sdp_codec){
        .pt = VPT, .name = "VP8", .clock_rate = 90000, .fb = LEC_FB_NACK | LEC_FB_PLI, .rtx_apt = -1};
    if (h264_mode)
        snprintf(m->codecs[0].name, sizeof m->codecs[0].name, "H264");
    m->codecs[1] = (lec_sdp_codec){.pt = RTXPT, .name = "rtx", .clock_rate = 90000, .rtx_apt = VPT};
    if (twcc) {
        m->codecs[0].fb |= LEC_FB_TRANSPORT_CC;
        m->nextmaps = 1;
        m->extmaps[0] = (lec_sdp_extmap){.id = TWCC_ID, .uri = LEC_TWCC_URI};
    }
    return s;
}

static const char RIDS[3] = {'l', 'm', 'h'}; /* the rid each layer's packets carry */
static bool layer_on[3] = {true, true, true};
static uint16_t lseq[3], aseq;

/* One-byte extension block with the rid (or, for RTX, the repaired rid). */
static size_t with_rid(uint8_t *b, uint8_t id, char rid)
{
    b[0] |= 0x10;
    const uint8_t ext[8] = {0xBE, 0xDE, 0x00, 0x01, (uint8_t)(id << 4 | 0), (uint8_t)rid, 0, 0};
    memcpy(b + 12, ext, sizeof ext);
    return 12 + sizeof ext;
}

/* One H.264 packet on layer l (its rid, its layer number last). */
static void h264_pkt(int l, uint16_t seq, uint32_t ts, bool marker, const uint8_t *nal, size_t n,
                     lec_tstamp now)
{
    uint8_t b[1200];
    lec_rtp_write_header(b, VPT, marker, seq, ts, LSSRC[l]);
    size_t hl = with_rid(b, RID_ID, RIDS[l]);
    memcpy(b + hl, nal, n);
    memset(b + hl + n, 0x42, LSIZE[l]);
    b[hl + n + LSIZE[l]] = (uint8_t)l;
    lec_room_publisher_rtp(&room, b, hl + n + LSIZE[l] + 1, now);
}

static void send_h264(int l, unsigned frame, bool kf, lec_tstamp now)
{
    static const uint8_t stap[] = {24, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce};
    static const uint8_t fu_start[] = {28, 0x85, 1}, fu_end[] = {28, 0x45, 2};
    static const uint8_t p_slice[] = {0x41, 0x9a};
    uint32_t ts = 3000u * frame + 1000u * (unsigned)l;
    if (!kf) {
        for (unsigned k = 0; k < LPKTS[l]; k++)
            h264_pkt(l, lseq[l]++, ts, k + 1 == LPKTS[l], p_slice, sizeof p_slice, now);
        return;
    }
    uint16_t s0 = lseq[l];
    lseq[l] = (uint16_t)(s0 + 3);
    if (idr_first[l])
        h264_pkt(l, (uint16_t)(s0 + 1), ts, false, fu_start, sizeof fu_start, now);
    h264_pkt(l, s0, ts, false, stap, sizeof stap, now);
    if (!idr_first[l])
        h264_pkt(l, (uint16_t)(s0 + 1), ts, false, fu_start, sizeof fu_start, now);
    h264_pkt(l, (uint16_t)(s0 + 2), ts, true, fu_end, sizeof fu_end, now);
}

static void send_frame(unsigned frame, lec_tstamp now)
{
    now_ = now;
    for (int l = 0; l < 3; l++) {
        if (!layer_on[l])
            continue;
        bool kf = frame % 30 == 0 || out.want_kf[l];
        out.want_kf[l] = false;
        if (h264_mode) {
            send_h264(l, frame, kf, now);
            continue;
        }
        for (unsigned k = 0; k < LPKTS[l]; k++) {
            uint8_t b[1200];
            size_t n = lec_rtp_write_header(b, VPT, k + 1 == LPKTS[l], lseq[l]++,
                                            3000u * frame + 1000u * (unsigned)l, LSSRC[l]);
            n = with_rid(b, RID_ID, RIDS[l]);
            memset(b + n, 0x42, LSIZE[l]);
            b[n] = k == 0 ? 0x10 : 0x00;          /* S at a frame's start */
            b[n + 1] = k == 0 && kf ? 0x00 : 0x01; /* P clear: a keyframe */
            b[n + 2] = (uint8_t)l;                 /* the layer, for the checks */
            if (with_size && k == 0 && kf) {       /* start code, width, height */
                const uint8_t sz[7] = {0x9d, 0x01, 0x2a, (uint8_t)LWIDTH[l],
                                       (uint8_t)(LWIDTH[l] >> 8), (uint8_t)(LWIDTH[l] * 9 / 16),
                                       (uint8_t)(LWIDTH[l] * 9 / 16 >> 8)};
                memcpy(b + n + 4, sz, sizeof sz);
            }
            lec_room_publisher_rtp(&room, b, n + LSIZE[l], now);
        }
    }
    /* Opus: 20 ms frames of 100 bytes, ~40 kbit/s with headers. */
    for (int k = 0; k < (frame % 3 == 2 ? 1 : 2); k++) {
        uint8_t b[200];
        uint16_t seq = aseq++;
        size_t n = lec_rtp_write_header(b, APT, false, seq, 960u * seq, 0xA0D10);
        memset(b + n, 0x11, 100);
        lec_room_publisher_rtp(&room, b, n + 100, now);
    }
}

/* Runs the class from `from` to `to` at 30 fps, ticking every 50 ms. */
static void run(lec_tstamp from, lec_tstamp to)
{
    for (lec_tstamp t = from; t < to; t += LEC_S / 30) {
        send_frame((unsigned)(t / (LEC_S / 30)), t);
        if ((t / (LEC_S / 30)) % 2 == 0) {
            links_run(t);
            lec_room_tick(&room, t);
            if (out.edge)
                lec_room_tick(out.edge, t);
        }
    }
}

static void room_up(const char *order)
{
    memset(&out, 0, sizeof out);
    memset(lseq, 0, sizeof lseq);
    for (int i = 0; i < 3; i++) {
        layer_on[i] = true;
        LPKTS[i] = 1u << i;
    }
    with_size = false;
    memset(idr_first, 0, sizeof idr_first);
    lec_room_io io = {send_rtp, send_rtcp, NULL, &room};
    lec_room_init(&room, &io, 777, 350 * LEC_MS);
    lec_sdp *pub = pub_answer(order);
    assert_int_equal(lec_room_set_tracks(&room, pub), 0);
    free(pub);
    assert_int_equal(room.nlayers, 3);
    lec_room_publisher_ready(&room, 0);
}

static void add_viewer_pinned(lec_room *r, uint32_t id, lec_room_layer_pref pref, lec_tstamp now)
{
    lec_sdp *a = viewer_answer(false);
    uint32_t ss[LEC_ROOM_MAX_TRACKS] = {0x5000 + id, 0x6000 + id, 0x7000 + id, 0x8000 + id};
    assert_int_equal(lec_room_add_viewer(r, id, a, ss, (uint16_t)(1000 * id), 0), 0);
    free(a);
    assert_int_equal(lec_room_viewer_set_layer(r, id, pref), 0);
    lec_room_viewer_ready(r, id, now);
}

static void add_viewer(lec_room *r, uint32_t id, lec_tstamp now)
{
    add_viewer_pinned(r, id, LEC_LAYER_AUTO, now);
}

static int cur_rank(lec_room *r, uint32_t id)
{
    lec_room_layer_info li;
    assert_int_equal(lec_room_viewer_layer(r, id, now_, &li), 0);
    return li.cur;
}

static void assert_smooth(const seen *s)
{
    assert_int_equal(s->gaps, 0);
    assert_int_equal(s->backwards, 0);
    assert_int_equal(s->ssrcs_changed, 0);
    assert_int_equal(s->switch_not_keyframe, 0);
}

#endif
