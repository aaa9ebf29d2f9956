/* RTCP parsing and building (rtcp.h). */
#include "rtp/rtcp.h"
#include "base/err.h"

#include <string.h>

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int lec_rtcp_next(lec_rtcp_iter *it, lec_rtcp_pkt *out)
{
    if (it->left == 0)
        return 0;
    if (it->left < 4 || (it->p[0] >> 6) != 2)
        return LEC_ERR_INVAL;
    size_t len = ((size_t)rd16(it->p + 2) + 1) * 4;
    if (len > it->left)
        return LEC_ERR_INVAL;
    if (it->p[0] & 0x20) { /* padding: only valid on the last packet (RFC 3550 6.4.1) */
        uint8_t pad = it->p[len - 1];
        if (pad == 0 || pad > len - 4 || len != it->left)
            return LEC_ERR_INVAL;
    }
    out->pt = it->p[1];
    out->fmt = it->p[0] & 0x1f;
    out->data = it->p;
    out->len = len;
    it->p += len;
    it->left -= len;
    return 1;
}

static void read_report(const uint8_t *p, lec_rtcp_report *r)
{
    r->ssrc = rd32(p);
    r->fraction_lost = p[4];
    int32_t cl = (int32_t)((uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7]);
    if (cl & 0x800000)
        cl -= 0x1000000;
    r->cumulative_lost = cl;
    r->highest_seq = rd32(p + 8);
    r->jitter = rd32(p + 12);
    r->lsr = rd32(p + 16);
    r->dlsr = rd32(p + 20);
}

static void write_report(uint8_t *p, const lec_rtcp_report *r)
{
    wr32(p, r->ssrc);
    p[4] = r->fraction_lost;
    int32_t cl = r->cumulative_lost;
    if (cl > 0x7fffff)
        cl = 0x7fffff;
    if (cl < -0x800000)
        cl = -0x800000;
    uint32_t u = (uint32_t)cl & 0xffffff;
    p[5] = (uint8_t)(u >> 16);
    p[6] = (uint8_t)(u >> 8);
    p[7] = (uint8_t)u;
    wr32(p + 8, r->highest_seq);
    wr32(p + 12, r->jitter);
    wr32(p + 16, r->lsr);
    wr32(p + 20, r->dlsr);
}

int lec_rtcp_parse_sr(const lec_rtcp_pkt *p, lec_rtcp_sr *out)
{
    if (p->pt != LEC_RTCP_SR || p->len < 28 || p->len < 28 + 24u * p->fmt)
        return LEC_ERR_INVAL;
    out->ssrc = rd32(p->data + 4);
    out->ntp = (uint64_t)rd32(p->data + 8) << 32 | rd32(p->data + 12);
    out->rtp_ts = rd32(p->data + 16);
    out->packets = rd32(p->data + 20);
    out->octets = rd32(p->data + 24);
    out->nreports = p->fmt;
    for (unsigned i = 0; i < p->fmt; i++)
        read_report(p->data + 28 + 24 * i, &out->reports[i]);
    return 0;
}

int lec_rtcp_parse_rr(const lec_rtcp_pkt *p, lec_rtcp_rr *out)
{
    if (p->pt != LEC_RTCP_RR || p->len < 8 || p->len < 8 + 24u * p->fmt)
        return LEC_ERR_INVAL;
    out->ssrc = rd32(p->data + 4);
    out->nreports = p->fmt;
    for (unsigned i = 0; i < p->fmt; i++)
        read_report(p->data + 8 + 24 * i, &out->reports[i]);
    return 0;
}

static int parse_fb(const lec_rtcp_pkt *p, uint8_t pt, uint8_t fmt, lec_rtcp_fb *out)
{
    if (p->pt != pt || p->fmt != fmt || p->len < 12)
        return LEC_ERR_INVAL;
    out->sender_ssrc = rd32(p->data + 4);
    out->media_ssrc = rd32(p->data + 8);
    return 0;
}

int lec_rtcp_parse_pli(const lec_rtcp_pkt *p, lec_rtcp_fb *out)
{
    return parse_fb(p, LEC_RTCP_PSFB, 1, out);
}

int lec_rtcp_parse_fir(const lec_rtcp_pkt *p, lec_rtcp_fir *out)
{
    lec_rtcp_fb fb;
    if (parse_fb(p, LEC_RTCP_PSFB, 4, &fb))
        return LEC_ERR_INVAL;
    out->sender_ssrc = fb.sender_ssrc;
    out->n = 0;
    for (size_t off = 12; off + 8 <= p->len && out->n < LEC_RTCP_MAX_FIR; off += 8) {
        out->entries[out->n].ssrc = rd32(p->data + off);
        out->entries[out->n].seq = p->data[off + 4];
        out->n++;
    }
    return out->n ? 0 : LEC_ERR_INVAL;
}

int lec_rtcp_parse_remb(const lec_rtcp_pkt *p, lec_rtcp_remb *out)
{
    lec_rtcp_fb fb;
    if (parse_fb(p, LEC_RTCP_PSFB, 15, &fb) || p->len < 20 || memcmp(p->data + 12, "REMB", 4))
        return LEC_ERR_INVAL;
    out->sender_ssrc = fb.sender_ssrc;
    uint8_t n = p->data[16];
    uint8_t exp = p->data[17] >> 2;
    uint32_t mantissa = (uint32_t)(p->data[17] & 3) << 16 | rd16(p->data + 18);
    if (20 + 4u * n > p->len)
        return LEC_ERR_INVAL;
    out->bitrate_bps = exp > 46 ? UINT64_MAX : (uint64_t)mantissa << exp;
    out->nssrcs = n < 8 ? n : 8;
    for (unsigned i = 0; i < out->nssrcs; i++)
        out->ssrcs[i] = rd32(p->data + 20 + 4 * i);
    return 0;
}

int lec_rtcp_parse_nack(const lec_rtcp_pkt *p, lec_rtcp_fb *ids, uint16_t *seqs, size_t cap)
{
    if (parse_fb(p, LEC_RTCP_RTPFB, 1, ids) || p->len < 16)
        return LEC_ERR_INVAL;
    size_t n = 0;
    for (size_t off = 12; off + 4 <= p->len; off += 4) {
        uint16_t pid = rd16(p->data + off), blp = rd16(p->data + off + 2);
        if (n < cap)
            seqs[n++] = pid;
        for (int bit = 0; bit < 16; bit++)
            if ((blp >> bit) & 1 && n < cap)
                seqs[n++] = (uint16_t)(pid + bit + 1);
    }
    return (int)n;
}

int lec_rtcp_parse_bye(const lec_rtcp_pkt *p, uint32_t *ssrcs, size_t cap)
{
    if (p->pt != LEC_RTCP_BYE || p->len < 4 + 4u * p->fmt)
        return LEC_ERR_INVAL;
    size_t n = 0;
    for (unsigned i = 0; i < p->fmt && n < cap; i++)
        ssrcs[n++] = rd32(p->data + 4 + 4 * i);
    return (int)n;
}

/* ---- builders --------------------------------------------------------- */

static size_t header(uint8_t *b, uint8_t fmt, uint8_t pt, size_t len)
{
    b[0] = (uint8_t)(0x80 | (fmt & 0x1f));
    b[1] = pt;
    wr16(b + 2, (uint16_t)(len / 4 - 1));
    return len;
}

size_t lec_rtcp_build_pli(uint8_t *b, size_t cap, uint32_t sender, uint32_t media)
{
    if (cap < 12)
        return 0;
    wr32(b + 4, sender);
    wr32(b + 8, media);
    return header(b, 1, LEC_RTCP_PSFB, 12);
}

size_t lec_rtcp_build_fir(uint8_t *b, size_t cap, uint32_t sender, uint32_t media, uint8_t seq)
{
    if (cap < 20)
        return 0;
    wr32(b + 4, sender);
    wr32(b + 8, 0); /* RFC 5104 4.3.1.2: media source SSRC unused, 0 */
    wr32(b + 12, media);
    b[16] = seq;
    b[17] = b[18] = b[19] = 0;
    return header(b, 4, LEC_RTCP_PSFB, 20);
}

/* Serial order: whether a is older than b. */
static bool older(uint16_t a, uint16_t b)
{
    return a != b && (uint16_t)(b - a) < 0x8000;
}

size_t lec_rtcp_build_nack(uint8_t *b, size_t cap, uint32_t sender, uint32_t media,
                           const uint16_t *seqs, size_t n)
{
    if (cap < 16 || n == 0)
        return 0;
    if (n > 1024) /* callers NACK a few dozen at most */
        n = 1024;
    wr32(b + 4, sender);
    wr32(b + 8, media);
    bool used[1024] = {false};
    size_t off = 12;
    for (;;) {
        /* The PID is the oldest number not yet covered. */
        size_t first = n;
        for (size_t k = 0; k < n && first == n; k++)
            if (!used[k])
                first = k;
        if (first == n)
            break;
        uint16_t pid = seqs[first];
        for (size_t k = 0; k < n; k++)
            if (!used[k] && older(seqs[k], pid))
                pid = seqs[k];
        /* The next 16 numbers ride along in the bitmask. */
        uint16_t blp = 0;
        for (size_t k = 0; k < n; k++) {
            uint16_t d = (uint16_t)(seqs[k] - pid);
            if (used[k] || d > 16)
                continue;
            if (d)
                blp |= (uint16_t)(1u << (d - 1));
            used[k] = true;
        }
        if (off + 4 > cap)
            break; /* what fits goes; the rest is asked again next time */
        wr16(b + off, pid);
        wr16(b + off + 2, blp);
        off += 4;
    }
    return header(b, 1, LEC_RTCP_RTPFB, off);
}

size_t lec_rtcp_build_rr(uint8_t *b, size_t cap, uint32_t sender, const lec_rtcp_report *r,
                         size_t n)
{
    if (n > LEC_RTCP_MAX_REPORTS)
        n = LEC_RTCP_MAX_REPORTS;
    size_t len = 8 + 24 * n;
    if (cap < len)
        return 0;
    wr32(b + 4, sender);
    for (size_t i = 0; i < n; i++)
        write_report(b + 8 + 24 * i, &r[i]);
    return header(b, (uint8_t)n, LEC_RTCP_RR, len);
}

size_t lec_rtcp_build_sr(uint8_t *b, size_t cap, const lec_rtcp_sr *sr)
{
    size_t n = sr->nreports > LEC_RTCP_MAX_REPORTS ? LEC_RTCP_MAX_REPORTS : sr->nreports;
    size_t len = 28 + 24 * n;
    if (cap < len)
        return 0;
    wr32(b + 4, sr->ssrc);
    wr32(b + 8, (uint32_t)(sr->ntp >> 32));
    wr32(b + 12, (uint32_t)sr->ntp);
    wr32(b + 16, sr->rtp_ts);
    wr32(b + 20, sr->packets);
    wr32(b + 24, sr->octets);
    for (size_t i = 0; i < n; i++)
        write_report(b + 28 + 24 * i, &sr->reports[i]);
    return header(b, (uint8_t)n, LEC_RTCP_SR, len);
}

size_t lec_rtcp_build_remb(uint8_t *b, size_t cap, uint32_t sender, uint64_t bps,
                           const uint32_t *ssrcs, size_t n)
{
    if (n > 8)
        n = 8;
    size_t len = 20 + 4 * n;
    if (cap < len)
        return 0;
    wr32(b + 4, sender);
    wr32(b + 8, 0);
    memcpy(b + 12, "REMB", 4);
    uint8_t exp = 0;
    while (bps >> exp > 0x3ffff)
        exp++;
    uint32_t mantissa = (uint32_t)(bps >> exp);
    b[16] = (uint8_t)n;
    b[17] = (uint8_t)(exp << 2 | (mantissa >> 16));
    wr16(b + 18, (uint16_t)mantissa);
    for (size_t i = 0; i < n; i++)
        wr32(b + 20 + 4 * i, ssrcs[i]);
    return header(b, 15, LEC_RTCP_PSFB, len);
}

size_t lec_rtcp_build_sdes_cname(uint8_t *b, size_t cap, uint32_t ssrc, const char *cname)
{
    size_t cl = strlen(cname);
    if (cl > 255)
        cl = 255;
    /* chunk: ssrc, item (type, len, text), end byte(s) to a 4-byte boundary */
    size_t len = (4 + 4 + 2 + cl + 1 + 3) / 4 * 4;
    if (cap < len)
        return 0;
    memset(b, 0, len);
    wr32(b + 4, ssrc);
    b[8] = 1; /* CNAME */
    b[9] = (uint8_t)cl;
    memcpy(b + 10, cname, cl);
    return header(b, 1, LEC_RTCP_SDES, len);
}

size_t lec_rtcp_build_bye(uint8_t *b, size_t cap, uint32_t ssrc)
{
    if (cap < 8)
        return 0;
    wr32(b + 4, ssrc);
    return header(b, 1, LEC_RTCP_BYE, 8);
}
