/* RTP parsing and rewriting (rtp.h). */
#include "rtp/rtp.h"
#include "base/err.h"

#include <string.h>
#include <strings.h>

lec_pkt_class lec_pkt_classify(const uint8_t *b, size_t len)
{
    if (len == 0)
        return LEC_PKT_UNKNOWN;
    uint8_t c = b[0];
    if (c <= 3)
        return LEC_PKT_STUN;
    if (c >= 20 && c <= 63)
        return LEC_PKT_DTLS;
    if (c >= 64 && c <= 79)
        return LEC_PKT_TURN;
    if (c >= 128 && c <= 191) {
        if (len < 2)
            return LEC_PKT_UNKNOWN;
        /* RFC 5761 4: RTCP packet types 192-223 share the byte with
         * marker + payload type; no RTP payload type may use 64-95. */
        return b[1] >= 192 && b[1] <= 223 ? LEC_PKT_RTCP : LEC_PKT_RTP;
    }
    return LEC_PKT_UNKNOWN;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int lec_rtp_parse(const uint8_t *b, size_t len, lec_rtp_hdr *h)
{
    memset(h, 0, sizeof *h);
    if (len < LEC_RTP_HEADER_MIN || len > 65535 || (b[0] >> 6) != 2)
        return LEC_ERR_INVAL;
    h->padding = (b[0] >> 5) & 1;
    h->extension = (b[0] >> 4) & 1;
    h->csrc_count = b[0] & 0x0f;
    h->marker = b[1] >> 7;
    h->pt = b[1] & 0x7f;
    h->seq = rd16(b + 2);
    h->ts = rd32(b + 4);
    h->ssrc = rd32(b + 8);
    size_t off = LEC_RTP_HEADER_MIN + 4u * h->csrc_count;
    if (off > len)
        return LEC_ERR_INVAL;
    if (h->extension) {
        if (off + 4 > len)
            return LEC_ERR_INVAL;
        h->ext_profile = rd16(b + off);
        size_t words = rd16(b + off + 2);
        off += 4;
        if (off + words * 4 > len)
            return LEC_ERR_INVAL;
        h->ext_offset = (uint16_t)off;
        h->ext_len = (uint16_t)(words * 4);
        off += words * 4;
    }
    size_t pad = 0;
    if (h->padding) {
        if (len == off)
            return LEC_ERR_INVAL;
        pad = b[len - 1];
        if (pad == 0 || off + pad > len)
            return LEC_ERR_INVAL;
    }
    h->header_len = (uint16_t)off;
    h->pad_len = (uint8_t)pad;
    h->payload_len = (uint16_t)(len - off - pad);
    return 0;
}

/* Walks the extension elements; calls back with each id's data.  Returns
 * 0, or LEC_ERR_INVAL when an element runs past the block. */
typedef int (*ext_visit)(void *ud, uint8_t id, uint8_t *data, size_t len);

static int ext_walk(const uint8_t *b, const lec_rtp_hdr *h, ext_visit fn, void *ud)
{
    if (!h->extension)
        return LEC_ERR_NOTFOUND;
    const uint8_t *p = b + h->ext_offset, *end = p + h->ext_len;
    bool one_byte = h->ext_profile == 0xBEDE;
    bool two_byte = (h->ext_profile & 0xFFF0) == 0x1000;
    if (!one_byte && !two_byte)
        return LEC_ERR_NOTFOUND; /* a profile we do not know: no elements for us */
    while (p < end) {
        if (*p == 0) { /* padding between elements */
            p++;
            continue;
        }
        uint8_t id;
        size_t n;
        if (one_byte) {
            id = *p >> 4;
            n = (size_t)(*p & 0x0f) + 1;
            if (id == 15)
                return 0; /* RFC 8285 4.2: stop processing */
            p++;
        } else {
            if (p + 2 > end)
                return LEC_ERR_INVAL;
            id = p[0];
            n = p[1];
            p += 2;
        }
        if (p + n > end)
            return LEC_ERR_INVAL;
        int rc = fn(ud, id, (uint8_t *)(uintptr_t)p, n);
        if (rc != 1)
            return rc;
        p += n;
    }
    return 0;
}

typedef struct ext_search {
    uint8_t id;
    uint8_t *data;
    size_t len;
    bool found;
} ext_search;

static int search(void *ud, uint8_t id, uint8_t *data, size_t len)
{
    ext_search *s = ud;
    if (id != s->id)
        return 1;
    s->data = data;
    s->len = len;
    s->found = true;
    return 0;
}

int lec_rtp_ext_find(const uint8_t *b, const lec_rtp_hdr *h, uint8_t id, const uint8_t **data,
                     size_t *len)
{
    ext_search s = {.id = id};
    int rc = ext_walk(b, h, search, &s);
    if (rc == LEC_ERR_INVAL)
        return rc;
    if (!s.found)
        return LEC_ERR_NOTFOUND;
    *data = s.data;
    *len = s.len;
    return 0;
}

int lec_rtp_ext_rewrite(uint8_t *b, const lec_rtp_hdr *h, uint8_t id, const uint8_t *data,
                        size_t len)
{
    const uint8_t *at;
    size_t n;
    int rc = lec_rtp_ext_find(b, h, id, &at, &n);
    if (rc)
        return rc;
    if (n != len)
        return LEC_ERR_INVAL;
    memcpy(b + (at - b), data, len);
    return 0;
}

size_t lec_rtp_ext_put(uint8_t *b, size_t len, size_t cap, uint8_t id, const uint8_t *val, size_t n)
{
    lec_rtp_hdr h;
    if (id < 1 || id > 14 || n < 1 || n > 16 || lec_rtp_parse(b, len, &h) ||
        (h.extension && h.ext_profile != 0xBEDE))
        return 0;
    if (!lec_rtp_ext_rewrite(b, &h, id, val, n))
        return len; /* there, the same size: written in place */
    size_t at = LEC_RTP_HEADER_MIN + 4u * h.csrc_count;
    /* The elements as they are, less any other-sized `id`; then ours. */
    uint8_t els[256];
    size_t k = 0;
    for (size_t i = 0; h.extension && i < h.ext_len;) {
        uint8_t e = b[h.ext_offset + i];
        if (!e) { /* padding */
            i++;
            continue;
        }
        size_t el = (size_t)(e & 0x0f) + 1;
        if ((e >> 4) == 15 || i + 1 + el > h.ext_len)
            break;
        if ((e >> 4) != id && k + 1 + el <= sizeof els - 24) {
            memcpy(els + k, b + h.ext_offset + i, 1 + el);
            k += 1 + el;
        }
        i += 1 + el;
    }
    els[k++] = (uint8_t)(id << 4 | (n - 1));
    memcpy(els + k, val, n);
    k += n;
    size_t words = (k + 3) / 4;
    memset(els + k, 0, words * 4 - k);
    size_t old = h.extension ? 4 + h.ext_len : 0, want = 4 + words * 4;
    size_t rest = len - at - old;
    if (len - old + want > cap || words > 0xffff)
        return 0;
    memmove(b + at + want, b + at + old, rest);
    b[0] |= 0x10;
    b[at] = 0xBE, b[at + 1] = 0xDE;
    b[at + 2] = (uint8_t)(words >> 8), b[at + 3] = (uint8_t)words;
    memcpy(b + at + 4, els, words * 4);
    return len - old + want;
}

size_t lec_rtp_write_header(uint8_t *b, uint8_t pt, bool marker, uint16_t seq, uint32_t ts,
                            uint32_t ssrc)
{
    b[0] = 0x80;
    b[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
    lec_rtp_set_seq(b, seq);
    lec_rtp_set_ts(b, ts);
    lec_rtp_set_ssrc(b, ssrc);
    return LEC_RTP_HEADER_MIN;
}

uint64_t lec_seq_unwrap_next(lec_seq_unwrap *u, uint16_t seq)
{
    if (!u->started) {
        u->started = true;
        /* Start one cycle up so an early reordered packet does not underflow. */
        u->highest = 0x10000u + seq;
        return u->highest;
    }
    uint16_t hi16 = (uint16_t)u->highest;
    int32_t delta = (int16_t)(uint16_t)(seq - hi16); /* -32768..32767 */
    uint64_t ext = (uint64_t)((int64_t)u->highest + delta);
    if (ext > u->highest)
        u->highest = ext;
    return ext;
}

uint64_t lec_ntp_from_unix_ns(uint64_t unix_ns)
{
    uint64_t secs = unix_ns / 1000000000u + 2208988800u; /* 1900 -> 1970 */
    uint64_t frac = ((unix_ns % 1000000000u) << 32) / 1000000000u;
    return secs << 32 | frac;
}

lec_vcodec lec_vcodec_from_name(const char *name)
{
    static const struct {
        const char *name;
        lec_vcodec c;
    } names[] = {{"VP8", LEC_VCODEC_VP8},
                 {"VP9", LEC_VCODEC_VP9},
                 {"H264", LEC_VCODEC_H264},
                 {"AV1", LEC_VCODEC_AV1}};
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(name, names[i].name))
            return names[i].c;
    return LEC_VCODEC_OTHER;
}

/* Where the VP8 payload starts after the descriptor (RFC 7741 4.2), or 0. */
static size_t vp8_header_len(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    size_t off = 1;
    if (p[0] & 0x80) { /* X: extension byte */
        if (len < 2)
            return 0;
        uint8_t x = p[1];
        off = 2;
        if (x & 0x80) /* I: picture id, 7 or 15 bits */
            off += len > off && (p[off] & 0x80) ? 2 : 1;
        if (x & 0x40) /* L: TL0PICIDX */
            off++;
        if (x & 0x30) /* T or K: TID/KEYIDX */
            off++;
    }
    return off < len ? off : 0;
}

bool lec_rtp_vp8_size(const uint8_t *p, size_t len, unsigned *width, unsigned *height)
{
    size_t off = vp8_header_len(p, len);
    /* A keyframe's start: the frame tag (3 bytes, P clear), the start code
     * 9d 01 2a, then 14-bit width and height, little-endian (RFC 6386 9.1). */
    if (!off || !(p[0] & 0x10) || (p[0] & 0x07) || len < off + 10 || (p[off] & 0x01) ||
        p[off + 3] != 0x9d || p[off + 4] != 0x01 || p[off + 5] != 0x2a)
        return false;
    *width = (unsigned)(p[off + 6] | (p[off + 7] & 0x3f) << 8);
    *height = (unsigned)(p[off + 8] | (p[off + 9] & 0x3f) << 8);
    return *width && *height;
}

bool lec_rtp_picture_size(lec_vcodec c, const uint8_t *p, size_t len, unsigned *width, unsigned *height)
{
    if (c == LEC_VCODEC_VP8)
        return lec_rtp_vp8_size(p, len, width, height);
    if (c == LEC_VCODEC_H264)
        return lec_rtp_h264_size(p, len, width, height);
    return false;
}

static bool vp8_keyframe_start(const uint8_t *p, size_t len)
{
    size_t off = vp8_header_len(p, len);
    /* S, PID 0, and P clear: a keyframe */
    return off && (p[0] & 0x10) && (p[0] & 0x07) == 0 && !(p[off] & 0x01);
}

static bool h264_key_nal(uint8_t type)
{
    return type == 5 || type == 7; /* IDR slice, SPS */
}

static bool h264_keyframe_start(const uint8_t *p, size_t len)
{
    if (len < 1)
        return false;
    uint8_t type = p[0] & 0x1f;
    if (type == 24) { /* STAP-A: 16-bit sizes, each followed by a NAL */
        for (size_t off = 1; off + 2 < len;) {
            size_t n = (size_t)p[off] << 8 | p[off + 1];
            if (!n || off + 2 + n > len)
                return false;
            if (h264_key_nal(p[off + 2] & 0x1f))
                return true;
            off += 2 + n;
        }
        return false;
    }
    if (type == 28) /* FU-A: the start fragment of an IDR */
        return len >= 2 && (p[1] & 0x80) && h264_key_nal(p[1] & 0x1f);
    return h264_key_nal(type);
}

bool lec_rtp_keyframe_start(lec_vcodec c, const uint8_t *p, size_t len)
{
    switch (c) {
    case LEC_VCODEC_VP8:
        return vp8_keyframe_start(p, len);
    case LEC_VCODEC_VP9:
        return len >= 1 && !(p[0] & 0x40) && (p[0] & 0x08); /* P clear, B set */
    case LEC_VCODEC_H264:
        return h264_keyframe_start(p, len);
    case LEC_VCODEC_AV1:
        return len >= 1 && (p[0] & 0x08); /* N */
    default:
        return false;
    }
}
