/*
 * What a viewer's link carries, from the transport-cc feedback it sends us
 * (a sans-I/O core; the sending side of media/twcc.h).  We stamp every
 * packet to the viewer with a transport-wide sequence number and note when
 * we sent it and how big it was; its feedback says which arrived and
 * when.  From those, as Google Congestion Control does
 * (draft-ietf-rmcat-gcc-02):
 *  - delay: packets are grouped by send time (5 ms bursts); the growth of
 *    the one-way delay between groups, accumulated and smoothed, goes
 *    through a trendline (a least-squares slope over the last 20 groups),
 *    and a slope over an adaptive threshold means a queue is building
 *    (overuse), under it draining (underuse);
 *  - rate: on overuse the estimate drops to 85% of what the viewer
 *    received over the last half second; otherwise it grows by 8% a
 *    second (and never past 1.5x what was received, plus probes: a link
 *    cannot be credited with what was never sent over it);
 *  - loss: over each second of reports, more than 10% lost cuts the
 *    estimate by half the loss, and growth waits while loss is over 2%.
 * `now` is passed in; nothing here reads a clock.
 */
#ifndef LEC_MEDIA_BWE_H
#define LEC_MEDIA_BWE_H

#include "base/time.h"
#include "media/twcc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEC_BWE_HISTORY 1024 /* packets remembered until reported (power of two) */
#define LEC_BWE_MIN_BPS 30000
#define LEC_BWE_MAX_BPS 50000000

typedef enum lec_bwe_usage { LEC_BWE_NORMAL = 0, LEC_BWE_OVERUSE, LEC_BWE_UNDERUSE } lec_bwe_usage;

/* What a packet is to the estimator: media; a probe's padding (its rate
 * tested, not counted as loss); or part of a burst sent at once (a GOP
 * replay: counted in the rate, not a delay sample). */
enum { LEC_BWE_MEDIA = 0, LEC_BWE_PROBE, LEC_BWE_BURST };

#define LEC_BWE_BINS 10 /* the received rate: arrivals in 50 ms bins, 500 ms */

typedef struct lec_bwe {
    /* What we sent, by sequence number mod HISTORY. */
    struct lec_bwe_sent {
        lec_tstamp at;
        uint16_t seq, size;
        uint8_t kind;
        bool lost; /* reported missing (counted once) */
    } sent[LEC_BWE_HISTORY];
    uint16_t next_seq;
    bool started;
    /* Groups: the current one (by send time) and the previous, complete. */
    lec_tstamp g_send0, g_send, g_arrive; /* first send, last send, last arrival */
    bool g_open, have_prev;
    lec_tstamp p_send, p_arrive;
    /* Trendline over the last TREND groups: (arrival ms, smoothed delay ms). */
    double acc_delay, smooth_delay, first_arrival_ms;
    double tx[20], ty[20];
    unsigned tn, tpos, nsamples;
    double threshold, prev_trend;
    lec_tstamp last_threshold_at, overuse_since;
    lec_bwe_usage usage;
    /* Received rate: bytes by arrival time in 50 ms bins, the last 500 ms. */
    struct lec_bwe_bin {
        uint64_t epoch; /* arrival / 50 ms */
        uint32_t bytes;
    } bins[LEC_BWE_BINS];
    uint64_t newest_epoch;
    lec_tstamp first_arrival;
    uint32_t acked_bps;
    /* Loss over the current second of reports. */
    uint32_t loss_got, loss_lost;
    lec_tstamp loss_since;
    double loss; /* the last second's fraction lost */
    /* The estimate and its controller. */
    uint32_t estimate_bps;
    lec_tstamp last_update, last_decrease;
    uint64_t overuses, reports;
    /* Probing: the padding sent as a probe, and what it showed. */
    lec_tstamp probe_until, probe_end; /* the window; when the last one ended */
    uint32_t probe_target;
    uint64_t probe_bytes_sent, probe_bytes_acked;
    unsigned probe_acked;
    uint32_t probe_first_size; /* the first arrival's: before it, no spacing */
    lec_tstamp probe_first_send, probe_last_send, probe_first_arrival, probe_last_arrival;
    uint32_t probe_result; /* the last probe's rate, bits/s; 0: none or too small */
} lec_bwe;

void lec_bwe_init(lec_bwe *b, uint32_t start_bps);
/* A packet of `bytes` and `kind` (LEC_BWE_*) goes out at `now`: the
 * sequence number stamped on it (b->next_seq before the call). */
uint16_t lec_bwe_sent(lec_bwe *b, size_t bytes, int kind, lec_tstamp now);
/* The viewer's feedback, parsed; updates the estimate.  At most
 * LEC_BWE_HISTORY numbers of a report are read. */
void lec_bwe_feedback(lec_bwe *b, const lec_twcc_report *fb, lec_tstamp now);
/* A probe starts: the padding sent (LEC_BWE_PROBE) until `until` tests a
 * higher rate.  Once reported, the lower of its send and arrival rates
 * (the first packet's bytes left out: spacing starts after it), never
 * more than the `target_bps` tested, raises the estimate to 90% of it. */
void lec_bwe_probe(lec_bwe *b, lec_tstamp until, uint32_t target_bps);
static inline uint32_t lec_bwe_estimate(const lec_bwe *b)
{
    return b->estimate_bps;
}

#endif
