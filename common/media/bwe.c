/* A viewer's available bandwidth from its transport-cc feedback (bwe.h). */
#include "media/bwe.h"

#include <math.h>
#include <string.h>

#define GROUP_SPAN   (5 * LEC_MS)   /* packets sent within this are one group */
#define TREND        20             /* groups in the trendline */
#define BIN          (50 * LEC_MS)  /* received rate: arrivals binned by this */
#define DECREASE_GAP (200 * LEC_MS) /* at most one decrease per this */

void lec_bwe_init(lec_bwe *b, uint32_t start_bps)
{
    memset(b, 0, sizeof *b);
    b->estimate_bps = start_bps;
    b->threshold = 12.5;
}

uint16_t lec_bwe_sent(lec_bwe *b, size_t bytes, int kind, lec_tstamp now)
{
    uint16_t seq = b->next_seq++;
    struct lec_bwe_sent *s = &b->sent[seq % LEC_BWE_HISTORY];
    s->at = now ? now : 1;
    s->seq = seq;
    s->size = (uint16_t)(bytes > 65535 ? 65535 : bytes);
    s->kind = (uint8_t)kind;
    s->lost = false;
    if (kind == LEC_BWE_PROBE) {
        if (!b->probe_bytes_sent)
            b->probe_first_send = s->at;
        b->probe_last_send = s->at;
        b->probe_bytes_sent += s->size;
    }
    return seq;
}

void lec_bwe_probe(lec_bwe *b, lec_tstamp until, uint32_t target_bps)
{
    b->probe_until = until;
    b->probe_target = target_bps;
    b->probe_bytes_sent = b->probe_bytes_acked = 0;
    b->probe_acked = 0;
    b->probe_first_size = 0;
    b->probe_first_send = b->probe_last_send = 0;
    b->probe_first_arrival = b->probe_last_arrival = 0;
}

/* The trendline: least-squares slope of smoothed delay over arrival time. */
static double slope(const lec_bwe *b)
{
    double mx = 0, my = 0;
    for (unsigned i = 0; i < b->tn; i++)
        mx += b->tx[i], my += b->ty[i];
    mx /= b->tn, my /= b->tn;
    double num = 0, den = 0;
    for (unsigned i = 0; i < b->tn; i++) {
        num += (b->tx[i] - mx) * (b->ty[i] - my);
        den += (b->tx[i] - mx) * (b->tx[i] - mx);
    }
    return den > 0 ? num / den : 0;
}

/* One more group: its delay growth against the previous one (ms). */
static void detect(lec_bwe *b, double delta_ms, double arrival_ms)
{
    if (!b->nsamples)
        b->first_arrival_ms = arrival_ms;
    b->nsamples++;
    b->acc_delay += delta_ms;
    b->smooth_delay = 0.9 * b->smooth_delay + 0.1 * b->acc_delay;
    b->tx[b->tpos] = arrival_ms - b->first_arrival_ms;
    b->ty[b->tpos] = b->smooth_delay;
    b->tpos = (b->tpos + 1) % TREND;
    if (b->tn < TREND)
        b->tn++;
    if (b->tn < TREND)
        return;
    double trend = slope(b);
    double m = trend * (b->nsamples < 60 ? b->nsamples : 60) * 4.0;
    lec_tstamp now = (lec_tstamp)(arrival_ms * LEC_MS);
    if (m > b->threshold) {
        if (!b->overuse_since)
            b->overuse_since = now ? now : 1;
        if (now - b->overuse_since >= 10 * LEC_MS && trend >= b->prev_trend)
            b->usage = LEC_BWE_OVERUSE;
    } else {
        b->overuse_since = 0;
        b->usage = m < -b->threshold ? LEC_BWE_UNDERUSE : LEC_BWE_NORMAL;
    }
    b->prev_trend = trend;
    /* The threshold follows |m| slowly (up) or faster (down), so a path
     * with steady jitter does not look congested (GCC 5.4). */
    double am = fabs(m);
    if (am <= b->threshold + 15.0) {
        double dt = b->last_threshold_at ? (double)(now - b->last_threshold_at) / LEC_MS : 0;
        if (dt > 100)
            dt = 100;
        b->threshold += (am < b->threshold ? 0.039 : 0.0087) * (am - b->threshold) * dt;
        b->threshold = b->threshold < 6 ? 6 : b->threshold > 600 ? 600 : b->threshold;
    }
    b->last_threshold_at = now;
}

/* Received rate: bytes by arrival time, in bins. */
static void bin_add(lec_bwe *b, lec_tstamp arrive, unsigned size)
{
    uint64_t ep = arrive / BIN;
    if (!b->first_arrival)
        b->first_arrival = arrive;
    if (ep + LEC_BWE_BINS <= b->newest_epoch)
        return; /* older than the window */
    if (ep > b->newest_epoch)
        b->newest_epoch = ep;
    struct lec_bwe_bin *x = &b->bins[ep % LEC_BWE_BINS];
    if (x->epoch != ep) {
        x->epoch = ep;
        x->bytes = 0;
    }
    x->bytes += size;
}

/* A packet sent at `send` arrived at `arrive` (the receiver's clock). */
static void arrived(lec_bwe *b, lec_tstamp send, lec_tstamp arrive, unsigned size, int kind)
{
    if (kind != LEC_BWE_BURST) /* a GOP replay comes at once: not the link's rate */
        bin_add(b, arrive, size);
    if (kind == LEC_BWE_PROBE) {
        if (!b->probe_acked++ || arrive < b->probe_first_arrival) {
            b->probe_first_arrival = arrive;
            b->probe_first_size = size;
        }
        b->probe_bytes_acked += size;
        if (arrive > b->probe_last_arrival)
            b->probe_last_arrival = arrive;
    }
    if (kind == LEC_BWE_BURST)
        return; /* sent at once: its spacing says nothing of a queue */
    if (b->g_open && send < b->g_send0)
        return; /* reordered from before the group: no sample (libwebrtc) */
    if (!b->g_open) {
        b->g_open = true;
        b->g_send0 = b->g_send = send;
        b->g_arrive = arrive;
        return;
    }
    if (send < b->g_send0 + GROUP_SPAN && send >= b->g_send0) {
        if (send > b->g_send)
            b->g_send = send;
        if (arrive > b->g_arrive)
            b->g_arrive = arrive;
        return;
    }
    if (b->have_prev) {
        double d = ((double)b->g_arrive - (double)b->p_arrive) - ((double)b->g_send - (double)b->p_send);
        detect(b, d / LEC_MS, (double)b->g_arrive / LEC_MS);
    }
    b->have_prev = true;
    b->p_send = b->g_send;
    b->p_arrive = b->g_arrive;
    b->g_send0 = b->g_send = send;
    b->g_arrive = arrive;
}

/* What arrived over the last LEC_BWE_BINS bins (less while the first
 * arrivals are younger), in bits/s; 0 before 200 ms of them. */
static uint32_t received_rate(const lec_bwe *b)
{
    uint64_t bytes = 0;
    for (unsigned i = 0; i < LEC_BWE_BINS; i++)
        if (b->bins[i].epoch + LEC_BWE_BINS > b->newest_epoch && b->bins[i].epoch <= b->newest_epoch)
            bytes += b->bins[i].bytes;
    lec_tstamp end = (b->newest_epoch + 1) * BIN;
    lec_tstamp span = LEC_BWE_BINS * BIN;
    if (b->first_arrival && end - b->first_arrival < span)
        span = end - b->first_arrival;
    if (!b->first_arrival || span < 200 * LEC_MS)
        return 0;
    return (uint32_t)(bytes * 8 * LEC_S / span);
}

static void clamp(lec_bwe *b)
{
    if (b->estimate_bps < LEC_BWE_MIN_BPS)
        b->estimate_bps = LEC_BWE_MIN_BPS;
    if (b->estimate_bps > LEC_BWE_MAX_BPS)
        b->estimate_bps = LEC_BWE_MAX_BPS;
}

/* The controller: decrease on overuse, hold on underuse, else grow. */
static void control(lec_bwe *b, lec_tstamp now)
{
    double dt = b->last_update ? (double)(now - b->last_update) / LEC_S : 0;
    if (dt > 1)
        dt = 1;
    b->last_update = now;
    uint32_t acked = received_rate(b);
    if (acked)
        b->acked_bps = acked;
    if (b->usage == LEC_BWE_OVERUSE) {
        /* Not for the queue a probe itself built while it drains. */
        bool probe_queue = b->probe_end && now < b->probe_end + 500 * LEC_MS;
        if (b->acked_bps && now - b->last_decrease >= DECREASE_GAP && !probe_queue) {
            uint32_t down = (uint32_t)(0.85 * b->acked_bps);
            if (down < b->estimate_bps)
                b->estimate_bps = down;
            b->last_decrease = now;
            b->overuses++;
        }
    } else if (b->usage == LEC_BWE_NORMAL && b->loss < 0.02) {
        double up = b->estimate_bps * pow(1.08, dt);
        /* What went through without a queue, the link carries; never
         * credited much beyond it. */
        double cap = b->acked_bps ? 1.5 * b->acked_bps + 10000 : up;
        if (up > cap)
            up = cap > b->estimate_bps ? cap : b->estimate_bps;
        if (up < b->acked_bps)
            up = b->acked_bps;
        b->estimate_bps = (uint32_t)up;
    }
    clamp(b);
}

/* A probe whose padding has been reported: the rate it carried, by the
 * spacing of its arrivals (a bottleneck spaces them at its own rate) but
 * never above how fast it was sent; the first packet's bytes left out
 * (the spacing starts after it). */
static void probe_done(lec_bwe *b, lec_tstamp now)
{
    if (!b->probe_until || now < b->probe_until + 300 * LEC_MS)
        return;
    b->probe_end = b->probe_until;
    b->probe_until = 0;
    b->probe_result = 0;
    lec_tstamp aspan = b->probe_last_arrival - b->probe_first_arrival;
    lec_tstamp sspan = b->probe_last_send - b->probe_first_send;
    if (b->probe_acked < 5 || aspan < 5 * LEC_MS || b->probe_bytes_acked <= b->probe_first_size)
        return;
    uint64_t bits = (b->probe_bytes_acked - b->probe_first_size) * 8;
    uint64_t rate = bits * LEC_S / aspan;
    if (sspan >= 5 * LEC_MS) {
        uint64_t sent = (b->probe_bytes_sent - b->probe_first_size) * 8 * LEC_S / sspan;
        if (sent < rate)
            rate = sent;
    }
    if (b->probe_target && rate > b->probe_target) /* one burst: no send spacing */
        rate = b->probe_target;
    b->probe_result = (uint32_t)(rate > UINT32_MAX ? UINT32_MAX : rate);
    if (rate * 0.9 > b->estimate_bps)
        b->estimate_bps = (uint32_t)(rate * 0.9);
    clamp(b);
}

void lec_bwe_feedback(lec_bwe *b, const lec_twcc_report *fb, lec_tstamp now)
{
    b->reports++;
    /* Arrival times in the receiver's clock: its reference (64 ms units)
     * plus the deltas (250 us units), kept positive by an offset. */
    int64_t ticks = (int64_t)fb->reference * 256 + ((int64_t)1 << 32);
    for (unsigned i = 0; i < fb->count && i < LEC_BWE_HISTORY; i++) {
        uint16_t seq = (uint16_t)(fb->base_seq + i);
        struct lec_bwe_sent *s = &b->sent[seq % LEC_BWE_HISTORY];
        bool known = s->at && s->seq == seq;
        if (!fb->received[i]) {
            /* Missing: counted once (a later report may say it came). */
            if (known && !s->lost && s->kind != LEC_BWE_PROBE) {
                s->lost = true;
                b->loss_lost++;
            }
            continue;
        }
        ticks += fb->delta[i];
        if (!known)
            continue;
        if (s->lost && b->loss_lost)
            b->loss_lost--;
        if (s->kind != LEC_BWE_PROBE)
            b->loss_got++;
        arrived(b, s->at, (lec_tstamp)ticks * LEC_TWCC_TICK, s->size, s->kind);
        s->at = 0; /* reported: a second report of it is not counted twice */
    }
    if (!b->loss_since)
        b->loss_since = now;
    if (now - b->loss_since >= LEC_S) {
        uint32_t all = b->loss_got + b->loss_lost;
        b->loss = all >= 10 ? (double)b->loss_lost / all : 0;
        if (b->loss > 0.1) {
            b->estimate_bps = (uint32_t)(b->estimate_bps * (1 - 0.5 * b->loss));
            clamp(b);
        }
        b->loss_got = b->loss_lost = 0;
        b->loss_since = now;
    }
    control(b, now);
    probe_done(b, now);
}
