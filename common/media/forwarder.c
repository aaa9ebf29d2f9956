/* Per-subscriber rewriting and keyframe request coalescing (forwarder.h). */
#include "media/forwarder.h"
#include "rtp/rtp.h"

#include <stdint.h>

void lec_fwd_init(lec_fwd *f, uint32_t out_ssrc, uint8_t out_pt, uint32_t clock_rate,
                  uint16_t seq_base, uint32_t ts_base)
{
    *f = (lec_fwd){0};
    f->out_ssrc = out_ssrc;
    f->out_pt = out_pt;
    f->clock_rate = clock_rate ? clock_rate : 90000;
    f->last_out_seq = (uint16_t)(seq_base - 1);
    f->last_out_ts = ts_base;
}

bool lec_fwd_rewrite(lec_fwd *f, uint8_t *pkt, uint32_t ssrc, uint16_t seq, uint32_t ts, size_t len)
{
    if (!f->started || ssrc != f->src_ssrc || f->reanchor) {
        /* A new source: continue one after what the viewer last saw, and
         * move time forward by one 30 fps frame (or 20 ms of audio). */
        uint32_t step = f->clock_rate == 90000 ? 3000 : f->clock_rate / 50;
        f->seq_offset = (uint16_t)(f->last_out_seq + 1 - seq);
        f->ts_offset = f->started ? f->last_out_ts + step - ts : f->last_out_ts - ts;
        f->src_ssrc = ssrc;
        f->started = true;
        f->reanchor = false;
        f->floor_seq = (uint16_t)(f->last_out_seq + 1);
    }
    uint16_t out_seq = (uint16_t)(seq + f->seq_offset);
    uint32_t out_ts = ts + f->ts_offset;
    /* Older than the floor: from before the anchor, or far behind; drop. */
    uint16_t behind = (uint16_t)(f->last_out_seq - out_seq);
    if (behind && behind < 0x8000 && behind > (uint16_t)(f->last_out_seq - f->floor_seq))
        return false;
    lec_rtp_set_seq(pkt, out_seq);
    lec_rtp_set_ts(pkt, out_ts);
    lec_rtp_set_ssrc(pkt, f->out_ssrc);
    lec_rtp_set_pt(pkt, f->out_pt);
    if (lec_seq_newer(out_seq, f->last_out_seq)) {
        f->last_out_seq = out_seq;
        f->last_out_ts = out_ts;
        if ((uint16_t)(out_seq - f->floor_seq) > 1000) /* inside the ring's 1024 */
            f->floor_seq = (uint16_t)(out_seq - 1000);
    }
    f->packets++;
    f->octets += len;
    return true;
}

void lec_kf_init(lec_kf *k, uint64_t interval)
{
    *k = (lec_kf){0};
    k->interval = interval;
}

bool lec_kf_request(lec_kf *k, uint64_t now)
{
    k->requests++;
    if (!k->sent_once || now - k->last_sent >= k->interval) {
        k->sent_once = true;
        k->last_sent = now;
        k->pending = false;
        k->sent++;
        return true;
    }
    k->pending = true;
    return false;
}

uint64_t lec_kf_deadline(const lec_kf *k)
{
    return k->pending ? k->last_sent + k->interval : UINT64_MAX;
}

bool lec_kf_due(lec_kf *k, uint64_t now)
{
    if (!k->pending || now - k->last_sent < k->interval)
        return false;
    k->pending = false;
    k->last_sent = now;
    k->sent++;
    return true;
}
