/*
 * The room's RTCP (room.h): viewers' NACKs answered from the ring (as RTX
 * when negotiated), their keyframe requests, their reports (loss, jitter,
 * round trip), the publisher's Sender Reports rewritten per viewer, and
 * our Receiver Reports to the publisher.
 */
#include "base/err.h"
#include "media/room.h"
#include "media/room_int.h"
#include "media/bwe.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"

#include <string.h>

/* Whether packet ext of track ti went to v within the dedupe window (then
 * it is not sent again); otherwise notes it.  The window: 20 ms on a leg
 * (its NACKs come in copies, ms apart), and for a viewer three quarters
 * of its round trip (a player asks again only after a round trip), at
 * least 20 ms and 75 ms while the round trip is unknown. */
static bool resent_lately(lec_room_viewer *v, unsigned ti, uint64_t ext, lec_tstamp now)
{
    lec_tstamp win = 20 * LEC_MS;
    if (!v->leg)
        win = !v->st.rtt ? 75 * LEC_MS : v->st.rtt * 3 / 4 > win ? v->st.rtt * 3 / 4 : win;
    unsigned k = (unsigned)((ext * 2 + ti) % LEC_ROOM_RESENT_SLOTS);
    if (v->resent[k].at && v->resent[k].ext == ext && v->resent[k].ti == ti &&
        now - v->resent[k].at < win)
        return true;
    v->resent[k].ext = ext;
    v->resent[k].ti = (uint8_t)ti;
    v->resent[k].at = now;
    return false;
}

/* Resends what a viewer NACKed, from the ring, rewritten as before, within
 * its budgets (room.h): a repeat within the dedupe window is skipped, and
 * once its credit is spent the rest of the NACK goes unanswered (and
 * unread: a flood costs a loop, not the ring). */
static void answer_nack(lec_room *r, lec_room_viewer *v, uint32_t media_ssrc, const uint16_t *seqs,
                        int n, lec_tstamp now)
{
    for (unsigned ti = 0; ti < r->ntracks; ti++) {
        lec_room_track *t = &r->tracks[ti];
        unsigned fs = lec__room_slot(r, v, ti);
        /* A viewer's audio is not repaired (NACK is negotiated on video
         * only, and without RTX a resend would carry another transport-wide
         * stamp under the same SRTP index). */
        if (!t->has_ring || !v->has[ti] || !lec__room_gets(r, v, ti) ||
            v->fwd[fs].out_ssrc != media_ssrc || (!v->leg && t->kind != LEC_SDP_VIDEO))
            continue;
        bool layer = t->layer && !v->leg;
        uint64_t head = lec_ring_head(&t->ring);
        uint8_t pkt[LEC_ROOM_PKT_MAX];
        for (int i = 0; i < n && head; i++) {
            if (v->resend_credit < 4) {
                r->stats.resend_refused += (uint64_t)(n - i);
                v->st.resend_refused += (uint64_t)(n - i);
                break;
            }
            /* From before its switch to this layer: another layer's. */
            if (layer && (uint16_t)(seqs[i] - v->layer_seq) >= 0x8000)
                continue;
            uint16_t src = lec_fwd_source_seq(&v->fwd[fs], seqs[i]);
            uint64_t ext = head - 1 - (uint16_t)((uint16_t)(head - 1) - src);
            size_t len;
            uint64_t meta;
            lec_rtp_hdr h;
            if (ext < v->replayed[ti] && !v->rtx_pt[fs])
                continue; /* sent squeezed: never twice with other bytes */
            if (lec_ring_read(&t->ring, ext, pkt, sizeof pkt, &len, &meta) ||
                lec_rtp_parse(pkt, len, &h))
                continue;
            if (resent_lately(v, ti, ext, now)) {
                r->stats.resend_repeated++;
                continue;
            }
            v->resend_credit -= 4;
            /* On a relay leg a repair goes LEG_COPIES times: losing it
             * again would cost the far edge's viewers another round trip,
             * more than their players can be asked to wait. */
            for (int copy = 0; copy < (v->copies ? v->copies : 1); copy++)
                if (lec__room_send_to(r, v, ti, pkt, len, &h, true, (unsigned)meta, now))
                    r->stats.retransmits++, v->st.retransmits++;
        }
    }
}

/* A viewer without transport-cc (or RTX): the loss its Receiver Reports
 * say moves its estimate as GCC's loss-based controller does
 * (draft-ietf-rmcat-gcc-02 section 6): more than 10% lost, down to what it
 * was sent since the last report times (1 - loss/2); under 2%, up 5% a
 * second; between, held.  Until a report says more than 10%, it has no
 * estimate (it gets the highest layer), and once it has one, growing back
 * past the top layer's need gets it the top layer again.  Without probes
 * (no transport-cc to read them), going up is the probe: the rate it lost
 * at is not reached again for RR_BACKOFF, doubled at each failure (a link
 * that cannot carry a layer costs a second of loss every few minutes, not
 * every few seconds).  Reports closer than 250 ms apart count as one. */
#define RR_MIN_GAP     (250 * LEC_MS)
#define RR_BACKOFF     (15 * LEC_S)
#define RR_BACKOFF_MAX (120 * LEC_S)
static void loss_estimate(lec_room_viewer *v, const lec_room *r, uint8_t fraction, lec_tstamp now)
{
    uint64_t octets = 0;
    for (unsigned ti = 0; ti < r->ntracks; ti++)
        if (v->has[ti] && lec__room_slot(r, v, ti) == ti)
            octets += v->fwd[ti].octets;
    lec_tstamp dt = now - v->rr_at;
    if (v->rr_at && dt < RR_MIN_GAP)
        return;
    /* The first report, one after a long silence or after its tracks
     * changed: a new baseline, nothing to judge. */
    bool fresh = !v->rr_at || dt > 5 * LEC_S || octets < v->rr_octets;
    uint64_t sent = octets - v->rr_octets;
    v->rr_at = now ? now : 1;
    v->rr_octets = octets;
    if (fresh)
        return;
    double loss = fraction / 256.0;
    double sent_bps = (double)sent * 8 * LEC_S / (double)dt; /* what it could not carry, when lossy */
    if (sent_bps > LEC_BWE_MAX_BPS)
        sent_bps = LEC_BWE_MAX_BPS;
    /* One decrease per half second (a report of the queue draining after
     * the last one is the same loss). */
    if (loss > 0.10 && (!v->rr_failed_at || now - v->rr_failed_at >= RR_MIN_GAP * 2)) {
        double rate = v->estimate_bps && v->estimate_bps < sent_bps ? v->estimate_bps : sent_bps;
        rate *= 1 - 0.5 * loss;
        v->estimate_bps = rate < LEC_BWE_MIN_BPS ? LEC_BWE_MIN_BPS : (uint32_t)rate;
        if (now >= v->rr_retry) { /* a new failure: back off longer if the last was lately */
            bool calm = !v->rr_retry || now - v->rr_retry > RR_BACKOFF_MAX;
            v->rr_backoff = calm || !v->rr_backoff ? RR_BACKOFF
                            : v->rr_backoff * 2 > RR_BACKOFF_MAX ? RR_BACKOFF_MAX
                                                                 : v->rr_backoff * 2;
            v->rr_retry = now + v->rr_backoff;
            v->rr_fail_bps = (uint32_t)sent_bps;
        } else if (sent_bps > v->rr_fail_bps) { /* the same failure: its highest rate */
            v->rr_fail_bps = (uint32_t)sent_bps;
        }
        v->rr_failed_at = now;
    } else if (loss < 0.02 && v->estimate_bps) {
        double grown = v->estimate_bps * (1 + 0.05 * (double)(dt < 2 * LEC_S ? dt : 2 * LEC_S) / LEC_S);
        if (now < v->rr_retry && grown > 0.85 * v->rr_fail_bps)
            grown = v->estimate_bps > 0.85 * v->rr_fail_bps ? v->estimate_bps : 0.85 * v->rr_fail_bps;
        v->estimate_bps = grown > LEC_BWE_MAX_BPS ? LEC_BWE_MAX_BPS : (uint32_t)grown;
    }
}

/* A viewer's report blocks on our SSRCs: its loss and jitter (video
 * first), and the round trip from the Sender Report it echoes (we forward
 * the publisher's NTP time, so LSR names the SR we relayed at
 * last_sr_at). */
static void note_reports(lec_room *r, lec_room_viewer *v, const lec_rtcp_pkt *rp, lec_tstamp now)
{
    lec_rtcp_rr rr;
    lec_rtcp_sr sr;
    const lec_rtcp_report *reps;
    unsigned n;
    if (rp->pt == LEC_RTCP_RR) {
        if (lec_rtcp_parse_rr(rp, &rr))
            return;
        reps = rr.reports, n = rr.nreports;
    } else {
        if (lec_rtcp_parse_sr(rp, &sr))
            return;
        reps = sr.reports, n = sr.nreports;
    }
    for (unsigned i = 0; i < n; i++)
        for (unsigned ti = 0; ti < r->ntracks; ti++) {
            /* A viewer's layers: the one it gets sent the Sender Reports. */
            const lec_room_track *t = &r->tracks[ti];
            if (!v->has[ti] || !lec__room_gets(r, v, ti) ||
                v->fwd[lec__room_slot(r, v, ti)].out_ssrc != reps[i].ssrc)
                continue;
            if (t->kind == LEC_SDP_VIDEO || !v->st.have_report) {
                v->st.have_report = true;
                v->st.fraction_lost = reps[i].fraction_lost;
                v->st.cumulative_lost = reps[i].cumulative_lost;
                v->st.jitter = reps[i].jitter;
                v->st.jitter_rate = t->codec.clock_rate;
            }
            /* Paused (audio only), its audio's reports: the way back. */
            if ((t->kind == LEC_SDP_VIDEO || (v->paused && t->kind == LEC_SDP_AUDIO)) && r->nlayers &&
                !v->bwe && !v->leg)
                loss_estimate(v, r, reps[i].fraction_lost, now);
            if (reps[i].lsr && reps[i].lsr == t->last_sr_mid && t->last_sr_at) {
                lec_tstamp dlsr = (lec_tstamp)reps[i].dlsr * LEC_S / 65536;
                if (now > t->last_sr_at + dlsr)
                    v->st.rtt = now - t->last_sr_at - dlsr;
            }
        }
}

int lec_room_viewer_get_stats(const lec_room *r, uint32_t id, lec_room_viewer_stats *out)
{
    const lec_room_viewer *v = lec__room_find_viewer(r, id);
    if (!v)
        return LEC_ERR_NOTFOUND;
    *out = v->st;
    for (unsigned ti = 0; ti < r->ntracks && ti < LEC_ROOM_MAX_TRACKS; ti++) {
        bool own = v->has[ti] && lec__room_slot(r, v, ti) == ti; /* layers: counted once */
        out->packets[ti] = own ? v->fwd[ti].packets : 0;
        out->octets[ti] = own ? v->fwd[ti].octets : 0;
    }
    return 0;
}

/* The track a keyframe request is for: a leg's by the SSRC it names (a
 * layer each), a viewer's the layer it gets or is moving to; -1: every
 * video track; -2: none. */
static int keyframe_track(const lec_room *r, const lec_room_viewer *v, const lec_rtcp_pkt *rp)
{
    if (!r->nlayers)
        return -1;
    if (!v->leg) /* -2: it gets no video (paused, or no layer yet): none */
        return v->target >= 0 ? v->target : v->cur >= 0 ? v->cur : -2;
    lec_rtcp_fb fb;
    lec_rtcp_fir fir;
    uint32_t media = 0;
    if (rp->fmt == 1 && !lec_rtcp_parse_pli(rp, &fb))
        media = fb.media_ssrc;
    else if (rp->fmt == 4 && !lec_rtcp_parse_fir(rp, &fir) && fir.n)
        media = fir.entries[0].ssrc;
    for (unsigned ti = 0; ti < r->ntracks; ti++)
        if (v->has[ti] && v->fwd[ti].out_ssrc == media)
            return (int)ti;
    return -1;
}

void lec_room_viewer_rtcp(lec_room *r, uint32_t id, const uint8_t *pkt, size_t len, lec_tstamp now)
{
    lec_room_viewer *v = lec__room_find_viewer(r, id);
    if (!v)
        return;
    lec_rtcp_iter it;
    lec_rtcp_pkt rp;
    lec_rtcp_iter_init(&it, pkt, len);
    while (lec_rtcp_next(&it, &rp) == 1) {
        if (rp.pt == LEC_RTCP_PSFB && (rp.fmt == 1 || rp.fmt == 4)) {
            r->stats.pli_in++;
            v->st.keyframe_requests++;
            /* One viewer cannot make the teacher send keyframes at the
             * room's pace (room.h, LEC_ROOM_PLI_INTERVAL). */
            if (!v->leg && v->pli_at && now - v->pli_at < LEC_ROOM_PLI_INTERVAL) {
                r->stats.keyframe_refused++;
                v->st.keyframe_refused++;
                continue;
            }
            v->pli_at = now;
            int ti = keyframe_track(r, v, &rp);
            if (ti >= -1)
                lec__room_request_keyframe(r, ti, now);
        } else if (rp.pt == LEC_RTCP_RTPFB && rp.fmt == 1) {
            lec_rtcp_fb ids;
            uint16_t seqs[64];
            int n = lec_rtcp_parse_nack(&rp, &ids, seqs, 64);
            if (n > 0) {
                r->stats.nack_in++;
                v->st.nacks++;
                answer_nack(r, v, ids.media_ssrc, seqs, n, now);
            }
        } else if (rp.pt == LEC_RTCP_RR || rp.pt == LEC_RTCP_SR) {
            note_reports(r, v, &rp, now);
        } else if (rp.pt == LEC_RTCP_RTPFB && rp.fmt == 15 && v->bwe && r->twcc_rep &&
                   v->feedbacks < 8 && !lec_twcc_parse(rp.data, rp.len, r->twcc_rep)) {
            /* Chrome sends one every 50-100 ms: more is not read (each can
             * name 4096 numbers; the room's loop is shared). */
            v->feedbacks++;
            lec_bwe_feedback(v->bwe, r->twcc_rep, now);
        }
    }
}

/* Padding for a probe, at v->probe_bps for one tick (50 ms): padding-only
 * packets on its video RTX stream (as libwebrtc sends them: the player
 * drops them, its feedback counts them), 255 bytes of padding each. */
static void pad(lec_room *r, lec_room_viewer *v, lec_tstamp now)
{
    unsigned fs = r->vslot;
    if (!v->has[fs] || !v->rtx_pt[fs])
        return;
    int64_t due = (int64_t)v->probe_bps / 8 / 20;
    for (int k = 0; due > 0 && k < 64; k++) {
        uint8_t *b = r->scratch;
        size_t n = lec_rtp_write_header(b, v->rtx_pt[fs], false, v->rtx_seq[fs]++,
                                        v->fwd[fs].last_out_ts, v->rtx_ssrc[fs]);
        b[0] |= 0x20; /* P: the payload is padding, its count last */
        memset(b + n, 0, 255);
        b[n + 254] = 255;
        n += 255;
        lec__room_emit_as(r, v, n, LEC_BWE_PROBE, now);
        due -= (int64_t)n;
    }
}

void lec__room_bwe_tick(lec_room *r, lec_tstamp now)
{
    for (lec_room_viewer *v = r->viewers; v; v = v->next) {
        if (!v->bwe || !v->ready)
            continue;
        v->feedbacks = 0;
        if (v->bwe->reports >= 10) /* half a second of its feedback */
            v->estimate_bps = lec_bwe_estimate(v->bwe);
        if (v->probe_until && now < v->probe_until) {
            pad(r, v, now);
            continue;
        }
        v->probe_until = 0;
        /* Up a layer since the last probe: the next one may come soon. */
        int rank = v->cur >= 0 ? r->tracks[v->cur].rank : -1;
        if (rank > v->probe_rank)
            v->probe_backoff = 0;
        /* Only from a settled state: on its layer (or paused), its own
         * choice, no loss, no decrease for 2 s, no queue building. */
        const lec_bwe *b = v->bwe;
        if (v->pref != LEC_LAYER_AUTO || (v->cur < 0 && !v->paused) ||
            (!v->paused && v->cur != v->target) || now < v->next_probe ||
            b->usage != LEC_BWE_NORMAL || b->reports < 10 || b->loss >= 0.02 ||
            (b->last_decrease && now - b->last_decrease < 2 * LEC_S))
            continue;
        uint32_t need = lec__room_next_need(r, v, now);
        if (!need || need <= v->estimate_bps)
            continue;
        /* The layer above does not fit the estimate: try its rate (and
         * half more) before moving; again 2, 4, then every 8 s while it
         * does not (100 ms of padding each), at once after a move up. */
        uint64_t sending = v->cur >= 0 ? r->tracks[v->cur].bps : 0;
        for (unsigned k = 0; k < r->ntracks; k++)
            if (r->tracks[k].kind == LEC_SDP_AUDIO)
                sending += r->tracks[k].bps;
        /* Half as much again: on a link with room the probe arrives as it
         * was sent, and what it proves must clear the need. */
        uint64_t want = (uint64_t)need * 3 / 2;
        v->probe_bps = want > sending ? (uint32_t)(want - sending) : 0;
        if (!v->probe_bps)
            continue;
        v->probe_until = now + LEC_ROOM_PROBE;
        lec_bwe_probe(v->bwe, v->probe_until, (uint32_t)(want > UINT32_MAX ? UINT32_MAX : want));
        r->stats.probes++;
        v->probe_rank = (int8_t)rank;
        v->probe_backoff = !v->probe_backoff ? 2 * LEC_S
                           : v->probe_backoff >= 4 * LEC_S ? 8 * LEC_S
                                                           : 2 * v->probe_backoff;
        v->next_probe = v->probe_until + v->probe_backoff;
        pad(r, v, now); /* the first burst now, the next at the next tick */
    }
}

/* The publisher's Sender Reports, per viewer: its SSRC and its timestamps
 * against the publisher's NTP time (DESIGN.md section 3, step 6). */
void lec_room_publisher_rtcp(lec_room *r, const uint8_t *pkt, size_t len, lec_tstamp now)
{
    lec_rtcp_iter it;
    lec_rtcp_pkt rp;
    lec_rtcp_iter_init(&it, pkt, len);
    while (lec_rtcp_next(&it, &rp) == 1) {
        lec_rtcp_sr sr;
        if (rp.pt != LEC_RTCP_SR || lec_rtcp_parse_sr(&rp, &sr))
            continue;
        for (unsigned ti = 0; ti < r->ntracks; ti++) {
            lec_room_track *t = &r->tracks[ti];
            if (t->ssrc != sr.ssrc)
                continue;
            t->last_sr_mid = lec_ntp_mid32(sr.ntp);
            t->last_sr_at = now;
            for (lec_room_viewer *v = r->viewers; v; v = v->next) {
                const lec_fwd *f = &v->fwd[lec__room_slot(r, v, ti)];
                if (!v->has[ti] || !lec__room_gets(r, v, ti) || !f->started || !v->ready)
                    continue;
                lec_rtcp_sr out = {.ssrc = f->out_ssrc,
                                   .ntp = sr.ntp,
                                   .rtp_ts = lec_fwd_out_ts(f, sr.rtp_ts),
                                   .packets = (uint32_t)f->packets,
                                   .octets = (uint32_t)f->octets};
                size_t n = lec_rtcp_build_sr(r->scratch, LEC_ROOM_PKT_MAX, &out);
                r->io.send_rtcp(r->io.ud, v->id, v->ud, r->scratch, n, sizeof r->scratch);
            }
        }
    }
}

/* Receiver Reports to the publisher: loss and the LSR/DLSR pair that lets
 * it measure its round trip to us. */
void lec__room_send_rr(lec_room *r, lec_tstamp now)
{
    lec_rtcp_report reps[LEC_ROOM_MAX_TRACKS];
    size_t n = 0;
    for (unsigned i = 0; i < r->ntracks; i++) {
        lec_room_track *t = &r->tracks[i];
        if (!t->have_seq)
            continue;
        uint64_t expected = t->highest_ext - t->base_ext + 1;
        int64_t lost = (int64_t)expected - (int64_t)t->received;
        lec_rtcp_report *rep = &reps[n++];
        *rep = (lec_rtcp_report){.ssrc = t->ssrc,
                                 .cumulative_lost = (int32_t)(lost > 0 ? lost : 0),
                                 .highest_seq = (uint32_t)t->highest_ext,
                                 .lsr = t->last_sr_mid};
        if (t->last_sr_at)
            rep->dlsr = (uint32_t)(((now - t->last_sr_at) * 65536) / LEC_S);
    }
    if (!n)
        return;
    size_t len = lec_rtcp_build_rr(r->scratch, 256, r->rtcp_ssrc, reps, n);
    len += lec_rtcp_build_sdes_cname(r->scratch + len, 256 - len, r->rtcp_ssrc, "lectern");
    r->io.send_rtcp(r->io.ud, 0, NULL, r->scratch, len, sizeof r->scratch);
}
