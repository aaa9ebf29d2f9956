/* One session's numbers and a viewer's layer choice (sfu.h), on its worker. */
#include "base/err.h"
#include "sfu/sfu_int.h"

#include <stdio.h>
#include <string.h>

int lec_sfu_session_set_layer(lec_sfu *s, const char *id, lec_room_layer_pref pref)
{
    session *x = lec__sfu_find_session(s, id);
    if (!x)
        return LEC_ERR_NOTFOUND;
    if (x->publisher || !x->room)
        return LEC_ERR_INVAL;
    return lec_room_viewer_set_layer(&x->room->core, x->vid, pref);
}

int lec_sfu_session_stats_get(lec_sfu *s, const char *id, lec_sfu_session_stats *out)
{
    session *x = lec__sfu_find_session(s, id);
    if (!x)
        return LEC_ERR_NOTFOUND;
    memset(out, 0, sizeof *out);
    const lec_peer_stats *ps = lec_peer_stats_get(x->peer);
    out->publisher = x->publisher;
    snprintf(out->refused, sizeof out->refused, "%s", x->refused);
    out->connected = lec_peer_get_state(x->peer) == LEC_PEER_CONNECTED;
    out->age = lec__sfu_now(x->sfu) - x->created;
    out->rtp_in = ps->rtp_in, out->rtp_out = ps->rtp_out;
    out->rtcp_in = ps->rtcp_in, out->rtcp_out = ps->rtcp_out;
    out->bytes_in = ps->bytes_in, out->bytes_out = ps->bytes_out;
    out->srtp_fail = ps->srtp_fail;
    out->rtt_ms = -1;
    lec__feedback_stats(x, out);
    lec__class_stats(x, out);
    if (x->room && x->publisher)
        lec_room_layers(&x->room->core, lec__sfu_now(x->sfu), &out->layer);
    lec_room_viewer_stats vs;
    if (x->publisher || !x->room || lec_room_viewer_get_stats(&x->room->core, x->vid, &vs))
        return 0;
    lec_room_viewer_layer(&x->room->core, x->vid, lec__sfu_now(x->sfu), &out->layer);
    for (unsigned ti = 0; ti < x->room->core.ntracks; ti++) {
        bool video = x->room->core.tracks[ti].kind == LEC_SDP_VIDEO;
        *(video ? &out->video_packets : &out->audio_packets) += vs.packets[ti];
    }
    out->nacks = vs.nacks, out->retransmits = vs.retransmits;
    out->keyframe_requests = vs.keyframe_requests;
    out->resend_refused = vs.resend_refused, out->keyframe_refused = vs.keyframe_refused;
    out->have_report = vs.have_report;
    out->fraction_lost = vs.fraction_lost / 256.0;
    out->cumulative_lost = vs.cumulative_lost;
    out->jitter_ms = vs.jitter_rate ? vs.jitter * 1000.0 / vs.jitter_rate : 0;
    if (vs.rtt)
        out->rtt_ms = (double)vs.rtt / LEC_MS;
    return 0;
}
