/*
 * Transport-wide CC feedback (twcc.h).  One feedback packet:
 *
 *   RTCP header (FMT 15, PT 205), sender SSRC, media SSRC,
 *   base sequence number, packet status count,
 *   reference time (24 bits, x 64 ms), feedback packet count,
 *   packet chunks (16 bits each), receive deltas (1 or 2 bytes each).
 *
 * A status is 0 (not received), 1 (received, delta 0..63.75 ms in one
 * byte) or 2 (received, a signed 16-bit delta).  Chunks: a run of one
 * status (T=0, up to 8191), or a vector of 14 one-bit or 7 two-bit
 * statuses (T=1).  The encoder takes a run when 14 or more repeat, else
 * the densest vector that holds the next statuses.
 */
#include "media/twcc.h"
#include "base/err.h"

#include <stddef.h>
#include <string.h>

#define REF_UNIT  (64 * LEC_MS)
#define MAX_RUN   8191

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static bool got(const lec_twcc *t, uint64_t ext)
{
    size_t i = ext % LEC_TWCC_WINDOW;
    return t->got[i / 8] >> (i % 8) & 1;
}

static void set_got(lec_twcc *t, uint64_t ext, bool v)
{
    size_t i = ext % LEC_TWCC_WINDOW;
    if (v)
        t->got[i / 8] |= (uint8_t)(1u << (i % 8));
    else
        t->got[i / 8] &= (uint8_t)~(1u << (i % 8));
}

void lec_twcc_init(lec_twcc *t)
{
    memset(t, 0, offsetof(lec_twcc, status)); /* the scratch needs no clearing */
}

void lec_twcc_arrived(lec_twcc *t, uint16_t seq, lec_tstamp now)
{
    uint64_t ext = lec_seq_unwrap_next(&t->unwrap, seq);
    if (!t->have_base) {
        t->have_base = true;
        t->base = t->highest = ext;
    }
    if (ext < t->base) {
        t->late++;
        return;
    }
    /* Unreported for a whole window (no feedback went out, or the sender
     * jumped ahead): the oldest numbers are dropped unreported.  At most a
     * window's worth of work, however far the jump. */
    if (ext - t->base >= LEC_TWCC_WINDOW) {
        uint64_t from = ext - LEC_TWCC_WINDOW + 1;
        if (from - t->base >= LEC_TWCC_WINDOW)
            memset(t->got, 0, sizeof t->got);
        else
            for (uint64_t s = t->base; s < from; s++)
                set_got(t, s, false);
        t->base = from;
    }
    if (got(t, ext)) {
        t->late++; /* a duplicate: the first arrival counts */
        return;
    }
    set_got(t, ext, true);
    t->arrival[ext % LEC_TWCC_WINDOW] = now;
    if (ext > t->highest)
        t->highest = ext;
}

/* Ticks of 250 us since an arbitrary zero, the same for every packet. */
static int64_t ticks(lec_tstamp at)
{
    return at / LEC_TWCC_TICK;
}

/* Appends the chunks for status[0..n) at b; returns the bytes written. */
static size_t write_chunks(const uint8_t *status, size_t n, uint8_t *b)
{
    size_t off = 0;
    for (size_t i = 0; i < n;) {
        size_t run = 1;
        while (i + run < n && run < MAX_RUN && status[i + run] == status[i])
            run++;
        if (run >= 14) {
            wr16(b + off, (uint16_t)((unsigned)status[i] << 13 | run));
            i += run;
        } else {
            bool small = true; /* every status of the next 14 is 0 or 1 */
            for (size_t k = i; k < i + 14 && k < n; k++)
                small &= status[k] < 2;
            uint16_t v = 0x8000;
            if (small) {
                for (size_t k = 0; k < 14; k++)
                    v |= (uint16_t)((i + k < n ? status[i + k] : 0) << (13 - k));
                i += 14;
            } else {
                v |= 0x4000;
                for (size_t k = 0; k < 7; k++)
                    v |= (uint16_t)((i + k < n ? status[i + k] : 0) << (12 - 2 * k));
                i += 7;
            }
            wr16(b + off, v);
        }
        off += 2;
    }
    return off;
}

/* Pads the packet at b (off bytes so far) to 32 bits and writes its
 * header; returns its length. */
static size_t finish_packet(lec_twcc *t, uint8_t *b, size_t off, uint32_t sender_ssrc,
                            uint32_t media_ssrc, size_t n, int64_t ref)
{
    size_t pad = (4 - off % 4) % 4;
    for (size_t i = 0; i < pad; i++)
        b[off + i] = 0;
    if (pad)
        b[off + pad - 1] = (uint8_t)pad; /* RFC 3550: the last octet counts the padding */
    off += pad;
    b[0] = (uint8_t)(0x80 | (pad ? 0x20 : 0) | 15);
    b[1] = 205;
    wr16(b + 2, (uint16_t)(off / 4 - 1));
    for (int i = 0; i < 4; i++) {
        b[4 + i] = (uint8_t)(sender_ssrc >> (24 - 8 * i));
        b[8 + i] = (uint8_t)(media_ssrc >> (24 - 8 * i));
    }
    wr16(b + 12, (uint16_t)t->base);
    wr16(b + 14, (uint16_t)n);
    uint32_t ref24 = (uint32_t)ref & 0xffffffu;
    b[16] = (uint8_t)(ref24 >> 16);
    b[17] = (uint8_t)(ref24 >> 8);
    b[18] = (uint8_t)ref24;
    b[19] = t->fb_count++;
    return off;
}

size_t lec_twcc_feedback(lec_twcc *t, uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t *b,
                         size_t cap)
{
    if (!t->have_base || t->highest < t->base || cap < 64)
        return 0;
    /* At most a window (arrivals never span more; fewer than the 16-bit
     * status count allows). */
    uint64_t avail = t->highest - t->base + 1;
    size_t n_max = avail < LEC_TWCC_WINDOW ? (size_t)avail : LEC_TWCC_WINDOW;
    /* Statuses and deltas, stopping where a delta no longer fits in 16
     * bits or the packet would pass cap (chunks counted at their worst:
     * two bytes per seven statuses). */
    static const size_t head = 20;
    uint8_t *status = t->status;
    int32_t *delta = t->delta;
    size_t n = 0, delta_bytes = 0;
    bool have_ref = false;
    int64_t ref = 0, prev = 0;
    for (; n < n_max; n++) {
        uint64_t ext = t->base + n;
        uint8_t s = 0;
        int64_t d = 0;
        if (got(t, ext)) {
            int64_t now_ticks = ticks(t->arrival[ext % LEC_TWCC_WINDOW]);
            if (!have_ref) {
                ref = t->arrival[ext % LEC_TWCC_WINDOW] / REF_UNIT;
                prev = ref * (REF_UNIT / LEC_TWCC_TICK);
                have_ref = true;
            }
            d = now_ticks - prev;
            if (d < INT16_MIN || d > INT16_MAX)
                break; /* the next feedback starts here */
            s = d >= 0 && d <= 255 ? 1 : 2;
        }
        size_t need = head + (n + 1 + 6) / 7 * 2 + delta_bytes + s;
        if (need + 3 > cap)
            break;
        status[n] = s;
        delta[n] = (int32_t)d;
        delta_bytes += s;
        if (s)
            prev += d;
    }
    if (n == 0)
        return 0;
    size_t off = head;
    off += write_chunks(status, n, b + off);
    for (size_t i = 0; i < n; i++) {
        if (status[i] == 1)
            b[off++] = (uint8_t)delta[i];
        else if (status[i] == 2) {
            wr16(b + off, (uint16_t)(int16_t)delta[i]);
            off += 2;
        }
    }
    off = finish_packet(t, b, off, sender_ssrc, media_ssrc, n, ref);
    for (size_t i = 0; i < n; i++)
        set_got(t, t->base + i, false);
    t->base += n;
    t->feedbacks++;
    return off;
}

int lec_twcc_parse(const uint8_t *b, size_t len, lec_twcc_report *out)
{
    if (len < 20 || (b[0] >> 6) != 2 || (b[0] & 0x1f) != 15 || b[1] != 205 ||
        ((size_t)rd16(b + 2) + 1) * 4 != len)
        return LEC_ERR_INVAL;
    if (b[0] & 0x20) { /* padding: the last octet says how much */
        if (b[len - 1] == 0 || b[len - 1] > len - 20)
            return LEC_ERR_INVAL;
        len -= b[len - 1];
    }
    out->base_seq = rd16(b + 12);
    out->count = rd16(b + 14);
    uint32_t ref24 = (uint32_t)b[16] << 16 | (uint32_t)b[17] << 8 | b[18];
    out->reference = (int32_t)(ref24 ^ 0x800000u) - 0x800000;
    out->fb_count = b[19];
    if (out->count > LEC_TWCC_PARSE_MAX)
        return LEC_ERR_INVAL;
    uint8_t status[LEC_TWCC_PARSE_MAX + 14];
    size_t n = 0, off = 20;
    while (n < out->count) {
        if (off + 2 > len)
            return LEC_ERR_INVAL;
        uint16_t c = rd16(b + off);
        off += 2;
        if (!(c & 0x8000)) {
            size_t run = c & 0x1fff;
            uint8_t s = (uint8_t)(c >> 13 & 3);
            if (s == 3 || run == 0)
                return LEC_ERR_INVAL;
            for (size_t k = 0; k < run && n < out->count; k++)
                status[n++] = s;
        } else if (!(c & 0x4000)) {
            for (int k = 0; k < 14; k++)
                status[n++] = (uint8_t)(c >> (13 - k) & 1);
        } else {
            for (int k = 0; k < 7; k++) {
                status[n] = (uint8_t)(c >> (12 - 2 * k) & 3);
                if (status[n++] == 3)
                    return LEC_ERR_INVAL;
            }
        }
    }
    for (size_t i = 0; i < out->count; i++) {
        out->received[i] = status[i] != 0;
        out->delta[i] = 0;
        if (status[i] == 1) {
            if (off + 1 > len)
                return LEC_ERR_INVAL;
            out->delta[i] = b[off++];
        } else if (status[i] == 2) {
            if (off + 2 > len)
                return LEC_ERR_INVAL;
            out->delta[i] = (int16_t)rd16(b + off);
            off += 2;
        }
    }
    return 0;
}
