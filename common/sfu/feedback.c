/*
 * Congestion feedback to a WHIP publisher (issue 17): the worker's glue
 * around the transport-cc core (media/twcc.h).  When the publisher's
 * answer has the transport-wide sequence number extension and
 * `rtcp-fb transport-cc`, every RTP packet it sends is noted on arrival,
 * and each room tick (50 ms) sends what arrived since as transport-cc
 * feedback, so its bandwidth estimator ramps up within seconds.  With
 * `goog-remb` negotiated and limits.publish_max_kbps set, a REMB each
 * second caps what it sends.
 */
#include "media/twcc.h"
#include "rtp/rtcp.h"
#include "sfu/sfu_int.h"

#include <stdlib.h>
#include <string.h>

#define REMB_EVERY (1 * LEC_S)
/* Where a libwebrtc sender's estimate starts (its default is 300 kbit/s, at
 * which it starts a 720p camera downscaled and is slow to scale back up);
 * a 720p camera starts whole from about 1.5 Mbit/s (libwebrtc keeps its
 * initial frame size only from a start bitrate its encoder deems enough);
 * feedback then finds the link's rate within a few seconds either way. */
#define START_KBPS 1500
/* Simulcast: every layer at once (the teacher page's add up to ~3.2
 * Mbit/s; from 1.5 the top layer waits for the estimate to grow). */
#define START_KBPS_SIMULCAST 2500

struct pub_feedback {
    lec_twcc twcc;
    uint8_t ext_id; /* 0: no transport-cc */
    bool remb;      /* goog-remb negotiated */
    uint32_t media_ssrc;
    lec_tstamp last_remb;
};

void lec__feedback_setup(session *x, const lec_sdp *answer, uint32_t max_kbps)
{
    uint8_t id = 0;
    bool tcc = false, remb = false;
    for (unsigned m = 0; m < answer->nmedia; m++) {
        const lec_sdp_media *md = &answer->media[m];
        for (unsigned e = 0; e < md->nextmaps; e++)
            if (!strcmp(md->extmaps[e].uri, LEC_TWCC_URI))
                id = md->extmaps[e].id;
        for (unsigned c = 0; c < md->ncodecs; c++) {
            tcc |= (md->codecs[c].fb & LEC_FB_TRANSPORT_CC) != 0;
            remb |= (md->codecs[c].fb & LEC_FB_REMB) != 0;
        }
    }
    if (!(id && tcc) && !(remb && max_kbps))
        return;
    x->feedback = calloc(1, sizeof *x->feedback);
    if (!x->feedback)
        return; /* the session works without: the sender creeps up on loss reports */
    lec_twcc_init(&x->feedback->twcc);
    x->feedback->ext_id = id && tcc ? id : 0;
    x->feedback->remb = remb && max_kbps;
}

void lec__feedback_answer(lec_sdp *answer, uint32_t max_kbps)
{
    for (unsigned m = 0; m < answer->nmedia; m++) {
        lec_sdp_media *md = &answer->media[m];
        if (md->kind != LEC_SDP_VIDEO || !md->ncodecs || !md->nextmaps)
            continue;
        uint32_t start = md->nrids > 1 ? START_KBPS_SIMULCAST : START_KBPS;
        if (max_kbps && max_kbps < start)
            start = max_kbps;
        bool tcc = (md->codecs[0].fb & LEC_FB_TRANSPORT_CC) != 0;
        lec_sdp_codec *c = &md->codecs[0];
        char extra[96];
        int n = snprintf(extra, sizeof extra, "%sx-google-start-bitrate=%u", c->fmtp[0] ? ";" : "",
                         start);
        if (max_kbps)
            n +=
                snprintf(extra + n, sizeof extra - (size_t)n, ";x-google-max-bitrate=%u", max_kbps);
        if (tcc && strlen(c->fmtp) + (size_t)n < sizeof c->fmtp)
            strcat(c->fmtp, extra);
    }
}

void lec__feedback_stats(const session *x, lec_sfu_session_stats *out)
{
    const pub_feedback *f = x->feedback;
    if (!f)
        return;
    out->transport_cc = f->ext_id != 0;
    out->remb = f->remb;
    out->feedback_packets = f->twcc.feedbacks;
    out->feedback_late = f->twcc.late;
}

void lec__feedback_free(session *x)
{
    free(x->feedback);
    x->feedback = NULL;
}

void lec__feedback_rtp(session *x, const uint8_t *pkt, size_t len, lec_tstamp now)
{
    pub_feedback *f = x->feedback;
    lec_rtp_hdr h;
    const uint8_t *v;
    size_t vlen;
    /* Nothing to note (REMB only, its SSRC known): no parse per packet. */
    if (!f || (!f->ext_id && f->media_ssrc) || lec_rtp_parse(pkt, len, &h))
        return;
    if (!f->media_ssrc)
        f->media_ssrc = h.ssrc;
    if (!f->ext_id || lec_rtp_ext_find(pkt, &h, f->ext_id, &v, &vlen) || vlen != 2)
        return;
    lec_twcc_arrived(&f->twcc, (uint16_t)(v[0] << 8 | v[1]), now);
}

void lec__feedback_tick(stream_room *r, lec_tstamp now)
{
    session *x = r->pub;
    pub_feedback *f = x && !x->dying ? x->feedback : NULL;
    if (!f)
        return;
    const lec_sfu_metrics *mt = &r->sfu->env.metrics;
    uint8_t buf[1200];
    size_t len;
    while (f->ext_id && (len = lec_twcc_feedback(&f->twcc, r->core.rtcp_ssrc, f->media_ssrc, buf,
                                                 sizeof buf - 16)) > 0) {
        lec_peer_send_rtcp(x->peer, buf, len, sizeof buf);
        lec_metric_add(mt->m, mt->slot, mt->feedback[0], 1);
    }
    if (f->remb && now - f->last_remb >= REMB_EVERY && f->media_ssrc) {
        f->last_remb = now;
        uint64_t bps = (uint64_t)r->sfu->env.publish_max_kbps * 1000;
        len = lec_rtcp_build_remb(buf, sizeof buf - 16, r->core.rtcp_ssrc, bps, &f->media_ssrc, 1);
        if (len) {
            lec_peer_send_rtcp(x->peer, buf, len, sizeof buf);
            lec_metric_add(mt->m, mt->slot, mt->feedback[1], 1);
        }
    }
}
