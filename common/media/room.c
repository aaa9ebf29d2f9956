/* One stream's forwarding, sans I/O (room.h). */
#include "media/room.h"
#include "media/room_int.h"
#include "media/bwe.h"
#include "base/err.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


void lec_room_init(lec_room *r, const lec_room_io *io, uint32_t rtcp_ssrc, lec_tstamp kf_interval)
{
    memset(r, 0, sizeof *r);
    r->io = *io;
    r->rtcp_ssrc = rtcp_ssrc;
    r->nack_retry = 50 * LEC_MS;
    r->kf_interval = kf_interval;
}

static void free_tracks(lec_room *r)
{
    for (unsigned i = 0; i < r->ntracks; i++)
        if (r->tracks[i].has_ring)
            lec_ring_free(&r->tracks[i].ring);
    r->ntracks = 0;
}

void lec_room_free(lec_room *r)
{
    free_tracks(r);
    while (r->viewers) {
        lec_room_viewer *v = r->viewers;
        r->viewers = v->next;
        free(v->bwe);
        free(v);
    }
    r->nviewers = 0;
    free(r->twcc_rep);
    r->twcc_rep = NULL;
}

static int set_tracks(lec_room *r, const lec_room_track_spec *specs, unsigned n);

/* Viewers already here when the tracks change (a failover to a source
 * with another layout): each keeps its audio and its video rewrite (its
 * SSRCs and numbering), moved to where that kind now is, every layer
 * included; its layer choice starts over.  Legs keep theirs (their far
 * end was told the old layout). */
static void remap_viewers(lec_room *r, const lec_sdp_kind *old, unsigned old_n)
{
    for (lec_room_viewer *v = r->viewers; v; v = v->next) {
        if (v->leg)
            continue;
        lec_fwd fw[2];
        uint8_t rpt[2] = {0};
        uint32_t rss[2] = {0};
        uint16_t rsq[2] = {0};
        bool had[2] = {false, false};
        for (unsigned ti = 0; ti < old_n; ti++) {
            unsigned k = old[ti] == LEC_SDP_VIDEO;
            if (!v->has[ti] || had[k])
                continue;
            had[k] = true;
            fw[k] = v->fwd[ti], rpt[k] = v->rtx_pt[ti], rss[k] = v->rtx_ssrc[ti],
            rsq[k] = v->rtx_seq[ti];
        }
        memset(v->has, 0, sizeof v->has);
        memset(v->rtx_pt, 0, sizeof v->rtx_pt);
        memset(v->replayed, 0, sizeof v->replayed);
        bool placed[2] = {false, false};
        for (unsigned ti = 0; ti < r->ntracks; ti++) {
            unsigned k = r->tracks[ti].kind == LEC_SDP_VIDEO;
            if (!had[k] || (placed[k] && !r->tracks[ti].layer))
                continue;
            v->has[ti] = true;
            if (placed[k])
                continue; /* a further layer: through the first's rewrite */
            placed[k] = true;
            v->fwd[ti] = fw[k], v->rtx_pt[ti] = rpt[k], v->rtx_ssrc[ti] = rss[k];
            v->rtx_seq[ti] = rsq[k];
            lec_fwd_reanchor(&v->fwd[ti]);
        }
        v->cur = v->target = -1;
    }
}

int lec_room_set_track_specs(lec_room *r, const lec_room_track_spec *specs, unsigned n)
{
    lec_sdp_kind old[LEC_ROOM_MAX_TRACKS];
    unsigned old_n = r->ntracks;
    for (unsigned i = 0; i < old_n; i++)
        old[i] = r->tracks[i].kind;
    int rc = set_tracks(r, specs, n);
    if (r->viewers)
        remap_viewers(r, old, old_n);
    return rc;
}

static int set_tracks(lec_room *r, const lec_room_track_spec *specs, unsigned n)
{
    free_tracks(r);
    r->nlayers = 0;
    for (unsigned i = 0; i < n && r->ntracks < LEC_ROOM_MAX_TRACKS; i++) {
        bool layer = specs[i].kind == LEC_SDP_VIDEO && specs[i].rid[0];
        if (layer && r->nlayers == LEC_ROOM_MAX_LAYERS)
            continue;
        lec_room_track *t = &r->tracks[r->ntracks++];
        memset(t, 0, sizeof *t);
        t->kind = specs[i].kind;
        t->codec = specs[i].codec;
        t->rtx_pt = -1;
        lec_kf_init(&t->kf, r->kf_interval);
        if (layer) {
            /* Ranked as listed (smallest first) until their rates say. */
            if (!r->nlayers)
                r->vslot = (uint8_t)(r->ntracks - 1);
            t->layer = true;
            t->rank = r->nlayers++;
            memcpy(t->rid, specs[i].rid, sizeof t->rid);
            t->rid[sizeof t->rid - 1] = '\0';
            t->want_ssrc = specs[i].ssrc;
        }
        t->vcodec =
            t->kind == LEC_SDP_VIDEO ? lec_vcodec_from_name(t->codec.name) : LEC_VCODEC_OTHER;
        /* Every track keeps a ring: viewers NACK video, relay legs NACK
         * both (an edge repairs its audio too). */
        if (lec_ring_init(&t->ring, NULL, LEC_ROOM_RING_SLOTS, LEC_ROOM_PKT_MAX))
            return LEC_ERR_NOMEM;
        t->has_ring = true;
    }
    return 0;
}

void lec_room_set_layer_ssrcs(lec_room *r, const lec_room_track_spec *specs, unsigned n)
{
    for (unsigned i = 0; i < n && i < r->ntracks; i++)
        if (r->tracks[i].layer)
            r->tracks[i].want_ssrc = specs[i].ssrc;
}

static uint8_t extmap_id(const lec_sdp_media *m, const char *uri)
{
    for (unsigned x = 0; x < m->nextmaps; x++)
        if (!strcmp(m->extmaps[x].uri, uri) && m->extmaps[x].id >= 1 && m->extmaps[x].id <= 14)
            return m->extmaps[x].id;
    return 0;
}

int lec_room_set_tracks(lec_room *r, const lec_sdp *ans)
{
    lec_room_track_spec specs[LEC_ROOM_MAX_TRACKS];
    int rtx[LEC_ROOM_MAX_TRACKS];
    unsigned n = 0;
    r->rid_id = r->rrid_id = 0;
    for (unsigned i = 0; i < ans->nmedia && n < LEC_ROOM_MAX_TRACKS; i++) {
        const lec_sdp_media *m = &ans->media[i];
        if (!m->port || !m->ncodecs)
            continue;
        int rt = -1;
        for (unsigned c = 1; c < m->ncodecs; c++)
            if (!strcasecmp(m->codecs[c].name, "rtx") && m->codecs[c].rtx_apt == m->codecs[0].pt)
                rt = m->codecs[c].pt;
        /* Simulcast (answered recv, RFC 8853): a track per layer, in the
         * order of a=simulcast; packets name theirs by rid. */
        bool layered = m->kind == LEC_SDP_VIDEO && m->nrids && !strncmp(m->simulcast, "recv ", 5) &&
                       (r->rid_id = extmap_id(m, LEC_ROOM_RID_URI)) != 0;
        if (layered)
            r->rrid_id = extmap_id(m, LEC_ROOM_RRID_URI);
        for (unsigned k = 0; k < (layered ? m->nrids : 1u) && k < LEC_ROOM_MAX_LAYERS &&
                             n < LEC_ROOM_MAX_TRACKS;
             k++) {
            specs[n] = (lec_room_track_spec){.kind = m->kind, .codec = m->codecs[0]};
            if (layered)
                snprintf(specs[n].rid, sizeof specs[n].rid, "%s", m->rids[k].id);
            rtx[n++] = rt;
        }
    }
    int rc = lec_room_set_track_specs(r, specs, n);
    for (unsigned i = 0; i < r->ntracks; i++)
        r->tracks[i].rtx_pt = rtx[i];
    return rc;
}

void lec_room_set_upstream(lec_room *r, bool leg, lec_tstamp rtt)
{
    r->upstream_leg = leg;
    r->up_copies = leg ? LEG_COPIES : 1;
    r->nack_retry = rtt + 20 * LEC_MS > 50 * LEC_MS ? rtt + 20 * LEC_MS : 50 * LEC_MS;
}

const lec_sdp_codec *lec_room_codec(const lec_room *r, lec_sdp_kind kind)
{
    for (unsigned i = 0; i < r->ntracks; i++)
        if (r->tracks[i].kind == kind)
            return &r->tracks[i].codec;
    return NULL;
}


static lec_room_viewer *viewer_new(lec_room *r, uint32_t id)
{
    lec_room_viewer *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->id = id;
    v->cur = v->target = -1;
    v->resend_credit = LEC_ROOM_RESEND_BURST * 4;
    v->next = r->viewers;
    r->viewers = v;
    r->nviewers++;
    return v;
}

int lec_room_add_viewer(lec_room *r, uint32_t id, const lec_sdp *ans,
                        const uint32_t ssrcs[LEC_ROOM_MAX_TRACKS], uint16_t seq_base,
                        uint32_t ts_base)
{
    lec_room_viewer *v = viewer_new(r, id);
    if (!v)
        return LEC_ERR_NOMEM;
    for (unsigned i = 0; i < ans->nmedia; i++) {
        const lec_sdp_media *m = &ans->media[i];
        if (!m->port || !m->ncodecs)
            continue;
        for (unsigned ti = 0; ti < r->ntracks; ti++) {
            if (r->tracks[ti].kind != m->kind || v->has[ti])
                continue;
            lec_fwd_init(&v->fwd[ti], ssrcs[ti], m->codecs[0].pt, m->codecs[0].clock_rate, seq_base,
                         ts_base);
            v->has[ti] = true;
            /* Every layer, through this (the first layer's) rewrite. */
            for (unsigned k = ti + 1; r->tracks[ti].layer && k < r->ntracks; k++)
                v->has[k] = r->tracks[k].layer;
            for (unsigned c = 1; c < m->ncodecs; c++)
                if (!strcasecmp(m->codecs[c].name, "rtx") &&
                    m->codecs[c].rtx_apt == m->codecs[0].pt) {
                    v->rtx_pt[ti] = m->codecs[c].pt;
                    v->rtx_ssrc[ti] = ssrcs[ti] ^ 0x40000000u;
                    v->rtx_seq[ti] = (uint16_t)(seq_base ^ 0x5a5a);
                }
            break;
        }
        if (m->kind != LEC_SDP_VIDEO)
            continue;
        v->pd_id = extmap_id(m, LEC_ROOM_PLAYOUT_URI);
        /* An estimate of its link: with transport-cc, and RTX (a repair
         * then goes on its own SSRC: a stamp of its own is no second use
         * of the original's SRTP index, and probes are RTX too). */
        uint8_t tw = extmap_id(m, LEC_TWCC_URI);
        if (tw && (m->codecs[0].fb & LEC_FB_TRANSPORT_CC) && lec_room_viewer_rtx_ssrc(r, id, m->kind) &&
            !v->bwe) {
            if ((!r->twcc_rep && !(r->twcc_rep = malloc(sizeof *r->twcc_rep))) ||
                !(v->bwe = malloc(sizeof *v->bwe))) {
                lec_room_remove_viewer(r, id);
                return LEC_ERR_NOMEM;
            }
            lec_bwe_init(v->bwe, LEC_ROOM_BWE_START);
            v->twcc_id = tw;
            v->estimate_bps = LEC_ROOM_BWE_START; /* until its feedback says */
            v->probe_rank = -1;
        }
    }
    return 0;
}

static void viewer_start(lec_room *r, lec_room_viewer *v, lec_tstamp now);

int lec_room_add_leg(lec_room *r, uint32_t id, const uint32_t ssrcs[LEC_ROOM_MAX_TRACKS],
                     uint16_t seq_base, uint32_t ts_base, bool resume)
{
    lec_room_viewer *v = viewer_new(r, id);
    if (!v)
        return LEC_ERR_NOMEM;
    v->leg = true;
    v->copies = LEG_COPIES;
    v->resend_credit = LEC_ROOM_LEG_BURST * 4;
    v->no_gop = resume;
    for (unsigned ti = 0; ti < r->ntracks; ti++) {
        const lec_sdp_codec *c = &r->tracks[ti].codec;
        lec_fwd_init(&v->fwd[ti], ssrcs[ti], c->pt, c->clock_rate, seq_base, ts_base);
        v->has[ti] = true;
    }
    return 0;
}

void lec_room_set_copies(lec_room *r, uint32_t id, unsigned copies)
{
    copies = copies < 1 ? 1 : copies > 8 ? 8 : copies;
    lec_room_viewer *v = id ? lec__room_find_viewer(r, id) : NULL;
    if (v)
        v->copies = (uint8_t)copies;
    else if (!id)
        r->up_copies = (uint8_t)copies;
}

void lec_room_viewer_bind(lec_room *r, uint32_t id, void *ud)
{
    lec_room_viewer *v = lec__room_find_viewer(r, id);
    if (v)
        v->ud = ud;
}

uint32_t lec_room_viewer_rtx_ssrc(const lec_room *r, uint32_t id, lec_sdp_kind kind)
{
    const lec_room_viewer *v = lec__room_find_viewer(r, id);
    for (unsigned ti = 0; v && ti < r->ntracks; ti++)
        if (r->tracks[ti].kind == kind && v->has[ti] && v->rtx_pt[ti])
            return v->rtx_ssrc[ti];
    return 0;
}

uint32_t lec_room_viewer_ssrc(const lec_room *r, uint32_t id, lec_sdp_kind kind)
{
    const lec_room_viewer *v = lec__room_find_viewer(r, id);
    for (unsigned ti = 0; v && ti < r->ntracks; ti++)
        if (r->tracks[ti].kind == kind && v->has[ti])
            return v->fwd[ti].out_ssrc;
    return 0;
}

void lec_room_remove_viewer(lec_room *r, uint32_t id)
{
    for (lec_room_viewer **pp = &r->viewers; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            lec_room_viewer *v = *pp;
            *pp = v->next;
            free(v->bwe);
            free(v);
            r->nviewers--;
            return;
        }
    }
}

static void send_pli(lec_room *r, const lec_room_track *t)
{
    if (!t->ssrc || !r->publisher_ready)
        return;
    size_t n = lec_rtcp_build_pli(r->scratch, LEC_ROOM_PKT_MAX, r->rtcp_ssrc, t->ssrc);
    r->stats.pli_out++;
    r->io.send_rtcp(r->io.ud, 0, NULL, r->scratch, n, sizeof r->scratch);
}

void lec__room_request_keyframe(lec_room *r, int ti, lec_tstamp now)
{
    for (unsigned i = 0; i < r->ntracks; i++) {
        lec_room_track *t = &r->tracks[i];
        /* A layer not heard yet has no SSRC to ask: its interval stays. */
        if (t->kind == LEC_SDP_VIDEO && t->ssrc && (ti < 0 || (unsigned)ti == i) &&
            lec_kf_request(&t->kf, now))
            send_pli(r, t);
    }
}

void lec_room_publisher_ready(lec_room *r, lec_tstamp now)
{
    (void)now;
    r->publisher_ready = true;
}

void lec_room_viewer_ready(lec_room *r, uint32_t id, lec_tstamp now)
{
    lec_room_viewer *v = lec__room_find_viewer(r, id);
    if (v)
        viewer_start(r, v, now);
    else
        lec__room_request_keyframe(r, -1, now);
}

/* The plain track on payload type pt (rtx: as its RTX), or NULL. */
static lec_room_track *track_by_pt(lec_room *r, uint8_t pt, bool rtx)
{
    for (unsigned i = 0; i < r->ntracks; i++)
        if (!r->tracks[i].layer && (rtx ? r->tracks[i].rtx_pt : r->tracks[i].codec.pt) == pt)
            return &r->tracks[i];
    return NULL;
}

/* An RTX packet (RFC 4588) back into the packet it repairs, in r->repair:
 * the original sequence number comes first in the payload.  Returns the
 * length, or 0 (padding-only probes, a source not seen yet). */
static size_t unwrap_rtx(lec_room *r, const lec_room_track *t, const uint8_t *pkt, size_t len,
                         const lec_rtp_hdr *h)
{
    if (!t->ssrc || h->payload_len < 2)
        return 0;
    size_t hl = h->header_len;
    uint16_t osn = (uint16_t)(pkt[hl] << 8 | pkt[hl + 1]);
    memcpy(r->repair, pkt, hl);
    memcpy(r->repair + hl, pkt + hl + 2, len - hl - 2);
    r->repair[1] = (uint8_t)((pkt[1] & 0x80) | (t->codec.pt & 0x7f));
    r->repair[2] = (uint8_t)(osn >> 8);
    r->repair[3] = (uint8_t)osn;
    r->repair[8] = (uint8_t)(t->ssrc >> 24);
    r->repair[9] = (uint8_t)(t->ssrc >> 16);
    r->repair[10] = (uint8_t)(t->ssrc >> 8);
    r->repair[11] = (uint8_t)t->ssrc;
    return len - 2;
}

static void note_first_media(lec_room *r, lec_room_viewer *v)
{
    if (!v->first_media) {
        v->first_media = true;
        if (r->io.first_media)
            r->io.first_media(r->io.ud, v->id, v->ud);
    }
}

/* Sets the playout-delay element (12 bits of minimum, 12 of maximum, in
 * 10 ms) in the packet in b; returns the new length, or len unchanged
 * when it cannot (a two-byte extension block, no room). */
static size_t add_playout_delay(uint8_t *b, size_t len, size_t cap, uint8_t id, unsigned min_ms)
{
    unsigned lo = (min_ms + 9) / 10, hi = lo + 100; /* up to a second more at most */
    if (hi > 1000)
        hi = 1000;
    const uint8_t v[3] = {(uint8_t)(lo >> 4), (uint8_t)((lo & 0x0f) << 4 | hi >> 8), (uint8_t)hi};
    size_t n = lec_rtp_ext_put(b, len, cap, id, v, sizeof v);
    return n ? n : len;
}

/* Rewrites a copy for viewer v and sends it. */
/* Turns the viewer's rewritten packet in r->scratch into an RTX packet
 * (RFC 4588 4): the RTX payload type, SSRC and sequence number, and the
 * original (viewer's) sequence number ahead of the payload. */
static size_t to_rtx(lec_room *r, lec_room_viewer *v, unsigned ti, size_t len, size_t hl)
{
    if (len + 2 > LEC_ROOM_PKT_MAX)
        return 0;
    uint8_t *b = r->scratch;
    memmove(b + hl + 2, b + hl, len - hl);
    b[hl] = b[2]; /* the original sequence number, as this viewer knows it */
    b[hl + 1] = b[3];
    uint16_t seq = v->rtx_seq[ti]++;
    uint32_t ssrc = v->rtx_ssrc[ti];
    b[1] = (uint8_t)((b[1] & 0x80) | (v->rtx_pt[ti] & 0x7f));
    b[2] = (uint8_t)(seq >> 8);
    b[3] = (uint8_t)seq;
    b[8] = (uint8_t)(ssrc >> 24);
    b[9] = (uint8_t)(ssrc >> 16);
    b[10] = (uint8_t)(ssrc >> 8);
    b[11] = (uint8_t)ssrc;
    return len + 2;
}

/* The packet into r->scratch for v, and its header's length.  A viewer
 * gets none of the publisher's header extensions: their ids are the
 * publisher's, not the ones the viewer negotiated (a rid or a
 * transport-wide number under the id of its MID would misroute the
 * packet), and what it did negotiate is added after (the playout delay,
 * its own transport-wide number).  A leg carries them as they came. */
static size_t copy_for(lec_room *r, const lec_room_viewer *v, const uint8_t *pkt, size_t len,
                       const lec_rtp_hdr *h, size_t *hl)
{
    size_t at = LEC_RTP_HEADER_MIN + 4u * h->csrc_count;
    if (v->leg || !h->extension || h->header_len < at || h->header_len > len) {
        memcpy(r->scratch, pkt, len);
        *hl = h->header_len;
        return len;
    }
    memcpy(r->scratch, pkt, at);
    r->scratch[0] &= (uint8_t)~0x10;
    memcpy(r->scratch + at, pkt + h->header_len, len - h->header_len);
    *hl = at;
    return len - (h->header_len - at);
}

void lec__room_emit(lec_room *r, lec_room_viewer *v, size_t len, lec_tstamp now)
{
    lec__room_emit_as(r, v, len, LEC_BWE_MEDIA, now);
}

void lec__room_emit_as(lec_room *r, lec_room_viewer *v, size_t len, int kind, lec_tstamp now)
{
    if (v->bwe) {
        /* Stamped within LEC_ROOM_PKT_MAX (SRTP's tag needs the rest);
         * a number is used only when the stamp went in. */
        uint16_t seq = v->bwe->next_seq;
        const uint8_t val[2] = {(uint8_t)(seq >> 8), (uint8_t)seq};
        size_t n = lec_rtp_ext_put(r->scratch, len, LEC_ROOM_PKT_MAX, v->twcc_id, val, 2);
        if (n) {
            len = n;
            lec_bwe_sent(v->bwe, len, kind, now);
        }
    }
    r->io.send_rtp(r->io.ud, v->id, v->ud, r->scratch, len, sizeof r->scratch);
}

bool lec__room_send_to(lec_room *r, lec_room_viewer *v, unsigned ti, const uint8_t *pkt, size_t len,
                       const lec_rtp_hdr *h, bool repair, unsigned playout_ms, lec_tstamp now)
{
    unsigned fs = lec__room_slot(r, v, ti);
    /* A viewer whose packets are stamped gets repairs as RTX only: the
     * same number again with another stamp would be other bytes under one
     * SRTP index. */
    if (repair && !v->rtx_pt[fs] && v->bwe)
        return false;
    size_t hl;
    len = copy_for(r, v, pkt, len, h, &hl);
    if (!lec_fwd_rewrite(&v->fwd[fs], r->scratch, h->ssrc, h->seq, h->ts, len, now))
        return false;
    if (r->tracks[ti].vcodec == LEC_VCODEC_VP8 && h->payload_len)
        lec_fwd_vp8(&v->fwd[fs], r->scratch + hl, h->payload_len);
    if (repair && v->rtx_pt[fs]) /* the viewer negotiated RTX */
        len = to_rtx(r, v, fs, len, hl);
    else if (v->pd_id && playout_ms && r->tracks[ti].kind == LEC_SDP_VIDEO)
        len = add_playout_delay(r->scratch, len, LEC_ROOM_PKT_MAX, v->pd_id, playout_ms);
    if (!len)
        return false;
    lec__room_emit(r, v, len, now);
    return true;
}

void lec_room_publisher_rtp(lec_room *r, const uint8_t *pkt, size_t len, lec_tstamp now)
{
    lec_rtp_hdr h;
    if (len > LEC_ROOM_PKT_MAX || lec_rtp_parse(pkt, len, &h))
        return;
    lec_room_track *t = track_by_pt(r, h.pt, false);
    if (!t && !(t = track_by_pt(r, h.pt, true)) && r->nlayers)
        t = lec__room_layer_for(r, pkt, &h);
    if (!t)
        return; /* RED, a payload type we did not accept, a layer not named */
    if (h.pt != t->codec.pt) { /* RTX: back into the packet it repairs */
        if (!(len = unwrap_rtx(r, t, pkt, len, &h)) || lec_rtp_parse(r->repair, len, &h))
            return; /* an RTX probe, a source not seen yet */
        pkt = r->repair;
    }
    unsigned ti = (unsigned)(t - r->tracks), k = t->kind == LEC_SDP_VIDEO;
    if (t->ssrc != h.ssrc) { /* a new source (a publisher that came back) */
        t->ssrc = h.ssrc;
        t->unwrap = (lec_seq_unwrap){0};
        t->have_seq = false;
        t->nmiss = 0;
        t->have_kf = false;
        t->sps_inband = false;
        if (t->has_ring) {
            lec_ring_free(&t->ring);
            t->has_ring = lec_ring_init(&t->ring, NULL, LEC_ROOM_RING_SLOTS, LEC_ROOM_PKT_MAX) == 0;
        }
    }
    r->stats.rtp_in[k]++;
    r->stats.bytes_in[k] += len;
    t->win_bytes += len;
    t->last_at = now;
    uint64_t ext = lec_seq_unwrap_next(&t->unwrap, h.seq);
    if (!t->have_seq) {
        t->base_ext = t->highest_ext = ext;
        t->have_seq = true;
    } else if (ext > t->highest_ext + 1) {
        r->stats.lost_in += ext - t->highest_ext - 1;
        lec__room_note_holes(r, t, t->highest_ext + 1, ext, now);
    } else if (ext <= t->highest_ext && !lec__room_fills_hole(r, t, ext, now)) {
        return; /* a duplicate (a resend we already had) */
    }
    if (ext > t->highest_ext)
        t->highest_ext = ext;
    t->received++;
    if (t->has_ring)
        lec_ring_push(&t->ring, ext, pkt, len, r->playout_ms); /* a repair repeats it */
    /* A keyframe's packets may each say so (H.264: a STAP-A with SPS and
     * PPS, then the IDR's first fragment): the frame starts at the first. */
    bool kf = t->vcodec && lec_rtp_keyframe_start(t->vcodec, pkt + h.header_len, h.payload_len);
    bool sps = kf && t->vcodec == LEC_VCODEC_H264 && lec_rtp_h264_has_sps(pkt + h.header_len, h.payload_len);
    t->sps_inband = t->sps_inband || sps;
    if (kf && t->have_kf && h.ts == t->kf_ts) {
        if (ext < t->kf_ext) /* an earlier packet of it, reordered */
            t->kf_ext = ext;
        t->kf_sps = t->kf_sps || sps;
        kf = false;
    } else if (kf && t->have_kf && ext < t->kf_ext) {
        kf = false; /* an older keyframe's, late */
    }
    if (kf) {
        t->kf_ext = ext;
        t->kf_ts = h.ts;
        t->kf_sps = sps;
        t->have_kf = true;
        unsigned w, ht;
        if (t->layer && lec_rtp_picture_size(t->vcodec, pkt + h.header_len, h.payload_len, &w, &ht))
            t->area = w * ht;
    }
    /* A layer switch: not on a late repair, nor at an IDR whose SPS has
     * not come. */
    kf = kf && ext == t->highest_ext && (t->kf_sps || !t->sps_inband);
    for (lec_room_viewer *v = r->viewers; v; v = v->next) {
        if (!v->has[ti] || !v->ready ||
            (!lec__room_gets(r, v, ti) && !lec__room_follow(r, v, ti, kf)) ||
            !lec__room_send_to(r, v, ti, pkt, len, &h, false, r->playout_ms, now))
            continue;
        lec__room_earn(v);
        r->stats.rtp_out[k]++;
        r->stats.bytes_out[k] += len;
        note_first_media(r, v);
    }
}

/* The GOP cache (room.h, lec_room_viewer_ready): replays track t from its
 * newest keyframe to the head for viewer v, squeezing the timestamps so
 * the last frame keeps its true time and each earlier one sits 1 ms
 * before the next.  False when there is nothing whole to replay. */
static bool replay_gop(lec_room *r, lec_room_viewer *v, unsigned ti, lec_tstamp now)
{
    lec_room_track *t = &r->tracks[ti];
    if (!t->have_kf || !t->has_ring || t->highest_ext - t->kf_ext >= LEC_ROOM_GOP_MAX ||
        (t->sps_inband && !t->kf_sps))
        return false;
    uint8_t pkt[LEC_ROOM_PKT_MAX];
    size_t len;
    uint64_t meta;
    lec_rtp_hdr h;
    /* First pass: every packet is there (a hole would stall the decoder);
     * count the frames. */
    unsigned frames = 0;
    uint32_t last_ts = 0;
    for (uint64_t e = t->kf_ext; e <= t->highest_ext; e++) {
        if (lec_ring_read(&t->ring, e, pkt, sizeof pkt, &len, &meta) || lec_rtp_parse(pkt, len, &h))
            return false;
        if (!frames || h.ts != last_ts)
            frames++;
        last_ts = h.ts;
    }
    uint32_t head_ts = last_ts;
    uint32_t step = t->codec.clock_rate ? t->codec.clock_rate / 1000 : 90;
    unsigned frame = 0, fs = lec__room_slot(r, v, ti);
    for (uint64_t e = t->kf_ext; e <= t->highest_ext; e++) {
        if (lec_ring_read(&t->ring, e, pkt, sizeof pkt, &len, &meta) || lec_rtp_parse(pkt, len, &h))
            return false;
        if (e > t->kf_ext && h.ts != last_ts)
            frame++;
        last_ts = h.ts;
        size_t hl;
        len = copy_for(r, v, pkt, len, &h, &hl);
        if (!lec_fwd_rewrite(&v->fwd[fs], r->scratch, h.ssrc, h.seq, h.ts, len, now))
            return false;
        if (t->vcodec == LEC_VCODEC_VP8 && h.payload_len)
            lec_fwd_vp8(&v->fwd[fs], r->scratch + hl, h.payload_len);
        /* The head frame maps as live packets will; earlier ones squeeze.
         * Not on a leg: the next room keeps true times in its ring and
         * squeezes for its own joiners. */
        uint32_t head_out = lec_fwd_out_ts(&v->fwd[fs], head_ts);
        if (!v->leg)
            lec_rtp_set_ts(r->scratch, head_out - (frames - 1 - frame) * step);
        lec__room_emit_as(r, v, len, LEC_BWE_BURST, now); /* all at once: no delay sample */
        v->replayed[ti] = v->leg ? 0 : e + 1;
        lec__room_earn(v);
        r->stats.rtp_out[1]++;
        r->stats.bytes_out[1] += len;
    }
    note_first_media(r, v);
    return true;
}

/* A viewer or leg whose transport is up: it starts from the GOP cache, or
 * at the next keyframe, asked for upstream. */
static void viewer_start(lec_room *r, lec_room_viewer *v, lec_tstamp now)
{
    v->ready = true;
    for (unsigned ti = 0; ti < r->ntracks; ti++) {
        lec_room_track *t = &r->tracks[ti];
        if (t->kind != LEC_SDP_VIDEO || !v->has[ti])
            continue;
        int want = (int)ti;
        uint16_t first = (uint16_t)(v->fwd[lec__room_slot(r, v, ti)].last_out_seq + 1);
        if (t->layer && !v->leg) {
            /* A viewer gets one layer; none sending yet: the tick finds one. */
            ti = r->ntracks;
            if ((want = lec__room_start_layer(r, v, now)) < 0)
                continue;
        }
        if (!v->no_gop && replay_gop(r, v, (unsigned)want, now)) {
            r->stats.gop_replays++;
            if (r->tracks[want].layer && !v->leg) {
                v->cur = (int8_t)want;
                v->layer_seq = first;
            }
        } else {
            lec__room_request_keyframe(r, want, now);
        }
    }
}

void lec_room_tick(lec_room *r, lec_tstamp now)
{
    lec__room_update_playout(r);
    lec__room_bwe_tick(r, now);
    lec__room_layers_tick(r, now);
    for (unsigned i = 0; i < r->ntracks; i++) {
        lec_room_track *t = &r->tracks[i];
        if (t->nmiss && r->publisher_ready)
            lec__room_nack_due(r, t, now);
        if (t->kf_wanted)
            lec__room_request_keyframe(r, (int)i, now);
        else if (lec_kf_due(&t->kf, now))
            send_pli(r, t);
        t->kf_wanted = false;
    }
    if (r->publisher_ready && now - r->last_rr >= LEC_S) {
        r->last_rr = now;
        lec__room_send_rr(r, now);
    }
}
