/* libFuzzer: the room core (media/room.h) driven by what peers control:
 * the publisher's RTP (with RTX to unwrap, VP8 or H.264 with STAP-A and
 * FU-A keyframes for the GOP cache, one stream or three simulcast layers
 * named by rid and repaired rid, or not) and RTCP, viewers' layer choices
 * and estimates, and three subscribers' RTCP (transport-cc feedback from
 * the one with RTX, which the room stamps, estimates and probes)
 * (raw, NACKs, PLIs): a viewer without RTX that asked for the playout
 * delay, a viewer with RTX, and a relay leg; viewers join (GOP replay),
 * leave and come back, time moves.  Oracles besides the sanitizers: no
 * packet goes to a subscriber twice under one SSRC and sequence number
 * with other bytes (one SRTP nonce, two plaintexts), no repair is sent to
 * a viewer beyond its resend budget, and no packet is larger than the
 * buffer the room was given. */
#include "media/room.h"
#include "media/twcc.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define VIEWERS 3
typedef struct sent_to {
    lec_seq_unwrap unwrap; /* the SRTP index: sequence number and rollover */
    uint32_t unwrap_gen;
    uint32_t gen[65536], ssrc[65536], hash[65536];
    uint64_t ext[65536];
} sent_to;

static struct {
    uint32_t gen;
    sent_to v[VIEWERS + 1];
} seen;

static uint32_t fnv(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    while (n--)
        h = (h ^ *p++) * 16777619u;
    return h;
}

static void send_rtp(void *ud, uint32_t vid, void *vud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)ud, (void)vud;
    lec_rtp_hdr h;
    if (vid < 1 || vid > VIEWERS || len > cap || lec_rtp_parse(pkt, len, &h))
        __builtin_trap(); /* a packet we would not have sent */
    uint32_t hs = fnv(pkt, len);
    if (h.pt == 97)
        return; /* RTX: its own stream and numbering */
    sent_to *s = &seen.v[vid];
    if (s->unwrap_gen != seen.gen) {
        memset(&s->unwrap, 0, sizeof s->unwrap);
        s->unwrap_gen = seen.gen;
    }
    uint64_t ext = lec_seq_unwrap_next(&s->unwrap, h.seq);
    if (s->gen[h.seq] == seen.gen && s->ssrc[h.seq] == h.ssrc && s->ext[h.seq] == ext) {
        if (s->hash[h.seq] != hs)
            __builtin_trap(); /* the same SRTP nonce for other bytes */
        return;
    }
    s->gen[h.seq] = seen.gen;
    s->ssrc[h.seq] = h.ssrc;
    s->ext[h.seq] = ext;
    s->hash[h.seq] = hs;
}

static void send_rtcp(void *ud, uint32_t vid, void *vud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)ud, (void)vud, (void)pkt;
    if (vid > VIEWERS || len > cap)
        __builtin_trap();
}

static lec_sdp *answer(bool h264, bool rtx, bool playout, bool simulcast)
{
    lec_sdp *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->nmedia = 2;
    s->media[0] = (lec_sdp_media){.kind = LEC_SDP_AUDIO, .port = 9, .ncodecs = 1};
    s->media[0].codecs[0] = (lec_sdp_codec){.pt = 111, .name = "opus", .clock_rate = 48000};
    lec_sdp_media *m = &s->media[1];
    *m = (lec_sdp_media){.kind = LEC_SDP_VIDEO, .port = 9, .ncodecs = 1};
    m->codecs[0] = (lec_sdp_codec){.pt = 96, .clock_rate = 90000, .fb = LEC_FB_NACK | LEC_FB_PLI};
    strcpy(m->codecs[0].name, h264 ? "H264" : "VP8");
    if (rtx) { /* and transport-cc: the room stamps, estimates, probes */
        m->codecs[1] = (lec_sdp_codec){.pt = 97, .name = "rtx", .clock_rate = 90000, .rtx_apt = 96};
        m->ncodecs = 2;
        m->codecs[0].fb |= LEC_FB_TRANSPORT_CC;
        m->extmaps[m->nextmaps++] = (lec_sdp_extmap){.id = 3, .uri = LEC_TWCC_URI};
    }
    if (playout) {
        m->nextmaps = 1;
        m->extmaps[0] = (lec_sdp_extmap){.id = 5, .uri = LEC_ROOM_PLAYOUT_URI};
    }
    if (simulcast) { /* three layers, named a b c, by rid (10) and repaired rid (11) */
        m->nextmaps = 2;
        m->extmaps[0] = (lec_sdp_extmap){.id = 10, .uri = LEC_ROOM_RID_URI};
        m->extmaps[1] = (lec_sdp_extmap){.id = 11, .uri = LEC_ROOM_RRID_URI};
        m->nrids = 3;
        strcpy(m->rids[0].id, "a"), strcpy(m->rids[1].id, "b"), strcpy(m->rids[2].id, "c");
        strcpy(m->simulcast, "recv a;b;c");
    }
    return s;
}

/* A one-byte extension block naming layer `layer` (id 10; RTX: 11). */
static size_t add_rid(uint8_t *pkt, bool rtx, unsigned layer)
{
    pkt[0] |= 0x10;
    const uint8_t ext[8] = {0xBE, 0xDE, 0, 1, rtx ? 0xB0 : 0xA0, (uint8_t)('a' + layer), 0, 0};
    memcpy(pkt + 12, ext, sizeof ext);
    return 12 + sizeof ext;
}

typedef struct input {
    const uint8_t *p;
    size_t n;
} input;

static unsigned take(input *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static size_t take_bytes(input *in, uint8_t *out, size_t want)
{
    size_t k = want < in->n ? want : in->n;
    memcpy(out, in->p, k);
    in->p += k, in->n -= k;
    return k;
}

static void join(lec_room *r, uint32_t id, bool h264, lec_tstamp now)
{
    uint32_t ss[LEC_ROOM_MAX_TRACKS] = {0x1000 + id, 0x2000 + id, 0x3000 + id, 0x4000 + id};
    if (id == 3) {
        lec_room_add_leg(r, id, ss, (uint16_t)(id * 1000), 0, false);
    } else {
        lec_sdp *a = answer(h264, id == 2, id == 1, false);
        if (a)
            lec_room_add_viewer(r, id, a, ss, (uint16_t)(id * 1000), 0);
        free(a);
    }
    lec_room_viewer_ready(r, id, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    seen.gen++;
    input in = {data, size};
    unsigned mode = take(&in);
    bool h264 = mode & 1, simulcast = mode & 2;
    lec_room r;
    lec_room_io io = {send_rtp, send_rtcp, NULL, NULL};
    lec_room_init(&r, &io, 777, 350 * LEC_MS);
    lec_sdp *pub = answer(h264, true, false, simulcast);
    if (!pub || lec_room_set_tracks(&r, pub)) {
        free(pub);
        lec_room_free(&r);
        return 0;
    }
    free(pub);
    lec_tstamp now = LEC_S;
    lec_room_publisher_ready(&r, now);
    bool in_room[VIEWERS + 1] = {false};
    uint16_t seq = 1000, rseq = 1;
    uint32_t ts = 0;
    uint8_t pkt[1600];
    for (int ops = 0; in.n && ops < 2000; ops++) {
        unsigned op = take(&in), id = 1 + take(&in) % VIEWERS;
        switch (op % 10) {
        case 0:
        case 1: { /* publisher video (or audio), header from us, payload from input */
            bool audio = op & 0x10;
            seq = (uint16_t)(seq + (take(&in) % 4 == 0 ? take(&in) % 70 : 1));
            if (take(&in) & 1)
                ts += 3000;
            unsigned layer = simulcast && !audio ? take(&in) % 3 : 0;
            size_t n = lec_rtp_write_header(pkt, audio ? 111 : 96, take(&in) & 1, seq, ts,
                                            audio ? 0xA0 : 0xB0 + layer);
            if (simulcast && !audio && take(&in) & 1)
                n = add_rid(pkt, false, layer);
            n += take_bytes(&in, pkt + n, take(&in) * 4);
            lec_room_publisher_rtp(&r, pkt, n, now);
            break;
        }
        case 2: { /* an RTX packet: OSN then the payload */
            unsigned layer = simulcast ? take(&in) % 3 : 0;
            size_t n = lec_rtp_write_header(pkt, 97, false, rseq++, ts, 0xC0 + layer);
            if (simulcast && take(&in) & 1)
                n = add_rid(pkt, true, layer);
            uint16_t osn = (uint16_t)(seq - take(&in) % 80);
            pkt[n] = (uint8_t)(osn >> 8), pkt[n + 1] = (uint8_t)osn;
            n += 2 + take_bytes(&in, pkt + n + 2, take(&in) * 2);
            lec_room_publisher_rtp(&r, pkt, n, now);
            break;
        }
        case 3: { /* raw bytes as the publisher's RTP or RTCP */
            size_t n = take_bytes(&in, pkt, take(&in) * 4);
            if (op & 0x10)
                lec_room_publisher_rtcp(&r, pkt, n, now);
            else
                lec_room_publisher_rtp(&r, pkt, n, now);
            break;
        }
        case 4: { /* a subscriber's NACK for sequence numbers it names */
            uint16_t seqs[64];
            unsigned k = 1 + take(&in) % 64;
            uint16_t base = (uint16_t)(id * 1000 + take(&in) * 4);
            for (unsigned i = 0; i < k; i++)
                seqs[i] = (uint16_t)(base + (take(&in) % 8 ? i : take(&in)));
            size_t n = lec_rtcp_build_nack(pkt, sizeof pkt, 0xF00D, 0x2000 + id, seqs, (int)k);
            if (n)
                lec_room_viewer_rtcp(&r, id, pkt, n, now);
            break;
        }
        case 5: { /* a PLI, transport-cc feedback, or raw RTCP from a subscriber */
            size_t n = 0;
            if (op & 0x10) {
                n = lec_rtcp_build_pli(pkt, sizeof pkt, 0xF00D, 0x2000 + id);
            } else if (op & 0x20) { /* arrivals the input names, as feedback */
                static lec_twcc rx;
                lec_twcc_init(&rx);
                uint16_t s0 = (uint16_t)(take(&in) << 8 | take(&in));
                for (unsigned k = 0, cnt = take(&in); k < cnt; k++)
                    lec_twcc_arrived(&rx, (uint16_t)(s0 + take(&in)), now + take(&in) * LEC_MS);
                n = lec_twcc_feedback(&rx, 0xF00D, 0x2000 + id, pkt, sizeof pkt);
            } else {
                n = take_bytes(&in, pkt, take(&in) * 4);
            }
            lec_room_viewer_rtcp(&r, id, pkt, n, now);
            break;
        }
        case 6: /* time moves; the room ticks */
            now += (lec_tstamp)(1 + take(&in)) * 5 * LEC_MS;
            lec_room_tick(&r, now);
            break;
        case 7: /* a subscriber joins (GOP replay) or leaves */
            if (in_room[id]) {
                lec_room_remove_viewer(&r, id);
                in_room[id] = false;
                seen.gen++; /* a new session: new keys, new numbering */
            } else {
                join(&r, id, h264, now);
                in_room[id] = true;
            }
            break;
        case 8: /* the playout delay the room asks for moves; a viewer's layer choice */
            if (op & 0x20)
                lec_room_viewer_set_layer(&r, id, (lec_room_layer_pref)(take(&in) % 4));
            else if (op & 0x40)
                lec_room_viewer_set_estimate(&r, id, take(&in) * 8000u);
            else
                r.playout_ms = take(&in) * 4;
            break;
        default:
            lec_room_tick(&r, now);
            break;
        }
    }
    lec_room_free(&r);
    return 0;
}
