/* Per-subscriber rewriting and keyframe request coalescing (forwarder.h). */
#include "media/forwarder.h"
#include "base/time.h"
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

bool lec_fwd_rewrite(lec_fwd *f, uint8_t *pkt, uint32_t ssrc, uint16_t seq, uint32_t ts, size_t len,
                     uint64_t now)
{
    if (!f->started || ssrc != f->src_ssrc || f->reanchor) {
        /* A new source: continue one after what the viewer last saw, and
         * move time forward by what passed since (at most 10 s), at least
         * one 30 fps frame (or 20 ms of audio). */
        uint32_t step = f->clock_rate == 90000 ? 3000 : f->clock_rate / 50;
        if (f->started && f->last_out_at && now > f->last_out_at) {
            uint64_t gap = now - f->last_out_at;
            gap = gap > 10 * LEC_S ? 10 * LEC_S : gap;
            uint64_t ticks = gap * f->clock_rate / LEC_S;
            if (ticks > step)
                step = (uint32_t)ticks;
        }
        f->seq_offset = (uint16_t)(f->last_out_seq + 1 - seq);
        f->ts_offset = f->started ? f->last_out_ts + step - ts : f->last_out_ts - ts;
        f->src_ssrc = ssrc;
        f->started = true;
        f->reanchor = false;
        f->floor_seq = (uint16_t)(f->last_out_seq + 1);
        f->vp8_anchor = true;
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
        f->last_out_at = now;
        if ((uint16_t)(out_seq - f->floor_seq) > 1000) /* inside the ring's 1024 */
            f->floor_seq = (uint16_t)(out_seq - 1000);
    }
    f->packets++;
    f->octets += len;
    return true;
}

/* One field of VP8's numbering, `mask` wide: its offset is set at an
 * anchor (one after the newest out, or none before any went out), the
 * value rewritten, and the newest out kept (ahead by less than half the
 * range: a reordered packet does not move it back). */
static unsigned vp8_field(lec_fwd *f, unsigned bit, unsigned in, unsigned mask, uint16_t *offset,
                          uint16_t *last)
{
    if (f->vp8_anchor)
        *offset = (f->vp8_have & bit) ? (uint16_t)((*last + 1u - in) & mask) : 0;
    unsigned out = (in + *offset) & mask;
    unsigned ahead = (out - *last) & mask;
    if (!(f->vp8_have & bit) || (ahead && ahead <= mask / 2)) {
        *last = (uint16_t)out;
        f->vp8_have = (uint8_t)(f->vp8_have | bit);
    }
    return out;
}

void lec_fwd_vp8(lec_fwd *f, uint8_t *p, size_t len)
{
    /* X, then I (PictureID, M: 15 bits), L (TL0PICIDX), T/K (TID|Y|KEYIDX). */
    if (len < 2 || !(p[0] & 0x80))
        return; /* no numbering here: the anchor waits for a packet with some */
    uint8_t x = p[1];
    size_t at = 2;
    size_t pid_at = 0, tl0_at = 0, tk_at = 0;
    bool wide = false;
    if (x & 0x80) {
        pid_at = at;
        wide = len > at && (p[at] & 0x80);
        at += wide ? 2 : 1;
    }
    if (x & 0x40)
        tl0_at = at++;
    if (x & 0x30)
        tk_at = at++;
    if (at > len)
        return;
    if (pid_at) {
        unsigned mask = wide ? 0x7fff : 0x7f;
        unsigned in = wide ? (unsigned)(p[pid_at] & 0x7f) << 8 | p[pid_at + 1] : p[pid_at] & 0x7fu;
        unsigned out = vp8_field(f, LEC_VP8_PID, in, mask, &f->pid_offset, &f->last_pid);
        if (wide) {
            p[pid_at] = (uint8_t)(0x80 | out >> 8);
            p[pid_at + 1] = (uint8_t)out;
        } else {
            p[pid_at] = (uint8_t)out;
        }
    }
    uint16_t off, last;
    if (tl0_at) {
        off = f->tl0_offset, last = f->last_tl0;
        p[tl0_at] = (uint8_t)vp8_field(f, LEC_VP8_TL0, p[tl0_at], 0xff, &off, &last);
        f->tl0_offset = (uint8_t)off, f->last_tl0 = (uint8_t)last;
    }
    if (tk_at && (x & 0x10)) {
        off = f->kidx_offset, last = f->last_kidx;
        unsigned k = vp8_field(f, LEC_VP8_KIDX, p[tk_at] & 0x1fu, 0x1f, &off, &last);
        p[tk_at] = (uint8_t)((p[tk_at] & 0xe0) | k);
        f->kidx_offset = (uint8_t)off, f->last_kidx = (uint8_t)last;
    }
    f->vp8_anchor = false;
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
