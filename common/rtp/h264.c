/*
 * An H.264 keyframe's picture size, from the SPS in its first packet
 * (ITU-T H.264 7.3.2.1.1, RFC 6184 5.7.1): what ranks simulcast layers of
 * an H.264 publisher (OBS, x264) by size, as VP8's keyframe header does.
 * A sans-I/O reader: every read is bounds-checked, and a malformed SPS is
 * "no size", never a read past the payload.
 */
#include "rtp/rtp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPS_MAX 256 /* an SPS is a few dozen bytes; a longer one is not read */

/* A big-endian bit reader over an RBSP (emulation prevention removed). */
typedef struct bits {
    const uint8_t *p;
    size_t len, pos; /* in bits */
    bool bad;
} bits;

static unsigned u(bits *b, unsigned n)
{
    unsigned v = 0;
    for (unsigned i = 0; i < n; i++) {
        if (b->pos >= b->len * 8) {
            b->bad = true;
            return 0;
        }
        v = v << 1 | ((b->p[b->pos / 8] >> (7 - b->pos % 8)) & 1u);
        b->pos++;
    }
    return v;
}

/* ue(v): Exp-Golomb; more than 31 leading zeros is malformed. */
static uint32_t ue(bits *b)
{
    unsigned zeros = 0;
    while (!b->bad && u(b, 1) == 0)
        if (++zeros > 31) {
            b->bad = true;
            return 0;
        }
    if (b->bad)
        return 0;
    return (uint32_t)(((uint64_t)1 << zeros) - 1 + u(b, zeros));
}

static int32_t se(bits *b)
{
    uint32_t k = ue(b);
    return k & 1 ? (int32_t)((k + 1) / 2) : -(int32_t)(k / 2);
}

static void scaling_list(bits *b, unsigned size)
{
    int64_t last = 8, next = 8;
    for (unsigned j = 0; j < size && !b->bad; j++) {
        if (next)
            next = ((last + se(b)) % 256 + 256) % 256;
        last = next ? next : last;
    }
}

/* The RBSP of a NAL unit (its header byte skipped): 00 00 03 -> 00 00. */
static size_t unescape(const uint8_t *nal, size_t len, uint8_t *out, size_t cap)
{
    size_t n = 0;
    unsigned zeros = 0;
    for (size_t i = 1; i < len && n < cap; i++) {
        if (zeros >= 2 && nal[i] == 3) {
            zeros = 0;
            continue;
        }
        zeros = nal[i] ? 0 : zeros + 1;
        out[n++] = nal[i];
    }
    return n;
}

static bool high_profile(unsigned idc)
{
    static const uint8_t high[] = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135};
    for (size_t i = 0; i < sizeof high; i++)
        if (high[i] == idc)
            return true;
    return false;
}

bool lec_h264_sps_size(const uint8_t *nal, size_t len, unsigned *width, unsigned *height)
{
    uint8_t rbsp[SPS_MAX];
    if (len < 4 || (nal[0] & 0x1f) != 7)
        return false;
    bits b = {rbsp, unescape(nal, len, rbsp, sizeof rbsp), 0, false};
    unsigned profile = u(&b, 8);
    u(&b, 16); /* constraint flags, level */
    ue(&b);    /* seq_parameter_set_id */
    unsigned chroma = 1;
    if (high_profile(profile)) {
        chroma = ue(&b);
        if (chroma > 3)
            return false;
        if (chroma == 3)
            u(&b, 1); /* separate_colour_plane_flag */
        ue(&b), ue(&b); /* bit depths */
        u(&b, 1);       /* qpprime_y_zero_transform_bypass_flag */
        if (u(&b, 1))   /* seq_scaling_matrix_present_flag */
            for (unsigned i = 0; i < (chroma != 3 ? 8u : 12u) && !b.bad; i++)
                if (u(&b, 1))
                    scaling_list(&b, i < 6 ? 16 : 64);
    }
    ue(&b); /* log2_max_frame_num_minus4 */
    uint32_t poc = ue(&b);
    if (poc == 0) {
        ue(&b);
    } else if (poc == 1) {
        u(&b, 1);
        se(&b), se(&b);
        uint32_t cycle = ue(&b);
        if (cycle > 255)
            return false;
        for (uint32_t i = 0; i < cycle && !b.bad; i++)
            se(&b);
    } else if (poc != 2) {
        return false;
    }
    ue(&b);   /* max_num_ref_frames */
    u(&b, 1); /* gaps_in_frame_num_value_allowed_flag */
    uint32_t w_mbs = ue(&b) + 1, h_units = ue(&b) + 1;
    unsigned frame_mbs_only = u(&b, 1);
    if (!frame_mbs_only)
        u(&b, 1); /* mb_adaptive_frame_field_flag */
    u(&b, 1);     /* direct_8x8_inference_flag */
    uint32_t crop[4] = {0, 0, 0, 0};
    if (u(&b, 1))
        for (int i = 0; i < 4; i++)
            crop[i] = ue(&b);
    if (b.bad || w_mbs > 1024 || h_units > 1024)
        return false;
    /* Cropping is in chroma samples (4:2:0: 2 luma wide and high; 4:2:2:
     * 2 wide), times 2 high for field coding. */
    uint32_t cx = chroma == 1 || chroma == 2 ? 2 : 1;
    uint32_t cy = (chroma == 1 ? 2 : 1) * (2 - frame_mbs_only);
    uint32_t w = w_mbs * 16, h = h_units * 16 * (2 - frame_mbs_only);
    if ((uint64_t)cx * (crop[0] + (uint64_t)crop[1]) >= w || (uint64_t)cy * (crop[2] + (uint64_t)crop[3]) >= h)
        return false;
    *width = w - cx * (crop[0] + crop[1]);
    *height = h - cy * (crop[2] + crop[3]);
    return true;
}

/* The SPS NAL unit in a payload (alone, or in a STAP-A), or NULL. */
static const uint8_t *find_sps(const uint8_t *p, size_t len, size_t *n_out)
{
    if (len < 1)
        return NULL;
    if ((p[0] & 0x1f) == 7) {
        *n_out = len;
        return p;
    }
    if ((p[0] & 0x1f) != 24)
        return NULL;
    for (size_t off = 1; off + 2 < len;) { /* STAP-A: 16-bit sizes, each a NAL */
        size_t n = (size_t)p[off] << 8 | p[off + 1];
        if (!n || off + 2 + n > len)
            return NULL;
        if ((p[off + 2] & 0x1f) == 7) {
            *n_out = n;
            return p + off + 2;
        }
        off += 2 + n;
    }
    return NULL;
}

bool lec_rtp_h264_has_sps(const uint8_t *p, size_t len)
{
    size_t n;
    return find_sps(p, len, &n) != NULL;
}

bool lec_rtp_h264_size(const uint8_t *p, size_t len, unsigned *width, unsigned *height)
{
    size_t n;
    const uint8_t *sps = find_sps(p, len, &n);
    return sps && lec_h264_sps_size(sps, n, width, height);
}
