/*
 * The per-subscriber rewrite of one track (a sans-I/O core): each viewer
 * gets its own SSRC, its own payload type numbers (from its SDP), and
 * sequence numbers and timestamps that continue smoothly whatever happens
 * upstream: when the source changes (a failover to another relay leg, a
 * publisher that reconnects, a switch to another simulcast layer), the next
 * packet continues one after the last one sent, and timestamps move
 * forward by the time that passed since the last packet went out (at least
 * a frame interval), never backwards: the viewer's jitter buffer sees
 * neither a reset nor a frame that seems a second late, and its lip sync
 * holds.
 * VP8's own numbering (RFC 7741 4.2: PictureID, TL0PICIDX, KEYIDX) is
 * continued at the same anchors: a player chains frames by picture id, and
 * a switch to another simulcast layer (its own numbering) would otherwise
 * look like frames it never got, and freeze it until the next keyframe.
 */
#ifndef LEC_MEDIA_FORWARDER_H
#define LEC_MEDIA_FORWARDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lec_fwd {
    uint32_t out_ssrc;
    uint8_t out_pt;
    bool started;
    uint32_t src_ssrc;   /* the source currently followed */
    uint16_t seq_offset; /* out = in + offset (mod 2^16) */
    uint32_t ts_offset;
    uint16_t last_out_seq;
    uint16_t floor_seq; /* nothing older goes out: the anchor, or 1000 behind the newest */
    uint32_t last_out_ts;
    uint64_t last_out_at; /* when the newest went out (lec_tstamp), 0: not known */
    uint32_t clock_rate;
    bool reanchor; /* the next packet anchors anew, whatever its SSRC */
    uint64_t packets, octets;
    /* VP8 (lec_fwd_vp8): out = in + offset in each field's width; the
     * newest out value of each field, once one went out. */
    bool vp8_anchor;
    uint8_t vp8_have; /* LEC_VP8_PID | LEC_VP8_TL0 | LEC_VP8_KIDX */
    uint16_t pid_offset, last_pid;
    uint8_t tl0_offset, last_tl0, kidx_offset, last_kidx;
} lec_fwd;

enum { LEC_VP8_PID = 1, LEC_VP8_TL0 = 2, LEC_VP8_KIDX = 4 };

/* `seq_base` and `ts_base` are where this viewer's numbering starts
 * (random, RFC 3550 5.1). */
void lec_fwd_init(lec_fwd *f, uint32_t out_ssrc, uint8_t out_pt, uint32_t clock_rate,
                  uint16_t seq_base, uint32_t ts_base);

/*
 * Rewrites an RTP packet (already parsed as `h`; ssrc, seq, ts, pt at the
 * usual offsets) in place for this viewer, at `now` (lec_tstamp).  A packet from a new source
 * SSRC re-anchors the offsets so numbering continues.  Returns false for a
 * packet that predates the current anchor (its number would be one the
 * viewer had from the old source: other bytes under one SRTP index) or
 * lies more than 1000 behind the newest (the ring holds 1024): drop it.
 */
bool lec_fwd_rewrite(lec_fwd *f, uint8_t *pkt, uint32_t ssrc, uint16_t seq, uint32_t ts,
                     size_t len, uint64_t now);

/*
 * After lec_fwd_rewrite of a VP8 packet: rewrites the payload descriptor at
 * `payload` (`len` bytes) in place so that PictureID, TL0PICIDX and KEYIDX
 * continue one after the newest this viewer had whenever the sequence
 * numbers were anchored anew (a layer switch, a new source).  A descriptor
 * without them, or too short, is left alone (an anchor then waits for the
 * next packet that has them).
 */
void lec_fwd_vp8(lec_fwd *f, uint8_t *payload, size_t len);

/* The next packet starts a new anchor even from the same SSRC (a viewer
 * moved to another simulcast layer, or back to one after a pause: what it
 * missed must not show as a jump, nor numbers come round again). */
static inline void lec_fwd_reanchor(lec_fwd *f)
{
    f->reanchor = true;
}

/* The source sequence number a viewer's NACK of `out_seq` refers to. */
static inline uint16_t lec_fwd_source_seq(const lec_fwd *f, uint16_t out_seq)
{
    return (uint16_t)(out_seq - f->seq_offset);
}

/* The viewer's RTP timestamp for a source timestamp (for Sender Reports). */
static inline uint32_t lec_fwd_out_ts(const lec_fwd *f, uint32_t src_ts)
{
    return src_ts + f->ts_offset;
}

/*
 * Keyframe requests upstream: many viewers' PLIs and FIRs become at most
 * one request per `interval` (Chrome ignores a second within ~300 ms, so a
 * request that comes too early is deferred to the end of the interval,
 * not dropped).
 */
typedef struct lec_kf {
    uint64_t interval;
    uint64_t last_sent;
    bool sent_once;
    bool pending;
    uint64_t requests, sent;
} lec_kf;

void lec_kf_init(lec_kf *k, uint64_t interval);
/* A viewer asks.  Returns true: send a PLI now; false: deferred (call
 * lec_kf_due at lec_kf_deadline). */
bool lec_kf_request(lec_kf *k, uint64_t now);
/* When a deferred request is due, or UINT64_MAX. */
uint64_t lec_kf_deadline(const lec_kf *k);
/* At or after the deadline: true when the deferred request goes now. */
bool lec_kf_due(lec_kf *k, uint64_t now);

#endif
