/*
 * RTP (RFC 3550) and its header extensions (RFC 8285), the first-byte
 * demultiplexing of a WebRTC 5-tuple (RFC 7983), sequence unwrapping, and
 * the in-place rewrites an SFU does per subscriber.  A sans-I/O core:
 * parsing never allocates and never reads past `len`; a malformed packet
 * is LEC_ERR_INVAL, to be counted and dropped by the caller.
 */
#ifndef LEC_RTP_RTP_H
#define LEC_RTP_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 7983 section 7: what the first byte of a datagram says it is. */
typedef enum lec_pkt_class {
    LEC_PKT_UNKNOWN = 0,
    LEC_PKT_STUN, /* 0..3 */
    LEC_PKT_DTLS, /* 20..63 */
    LEC_PKT_TURN, /* 64..79: TURN channel data, not ours */
    LEC_PKT_RTP,  /* 128..191, payload type not RTCP */
    LEC_PKT_RTCP, /* 128..191, second byte 192..223 (RFC 5761 4) */
} lec_pkt_class;

lec_pkt_class lec_pkt_classify(const uint8_t *b, size_t len);

#define LEC_RTP_HEADER_MIN 12

typedef struct lec_rtp_hdr {
    uint8_t padding, extension, csrc_count, marker, pt;
    uint16_t seq;
    uint32_t ts, ssrc;
    uint16_t ext_profile; /* 0xBEDE one-byte, 0x1000-0x100F two-byte */
    uint16_t ext_offset;  /* where the extension elements start */
    uint16_t ext_len;     /* their length in bytes (multiple of 4) */
    uint16_t header_len;  /* where the payload starts */
    uint16_t payload_len; /* without padding */
    uint8_t pad_len;
} lec_rtp_hdr;

/* 0 or LEC_ERR_INVAL (short, version not 2, CSRCs or extension past the
 * end, padding larger than the payload, over 65535 bytes). */
int lec_rtp_parse(const uint8_t *b, size_t len, lec_rtp_hdr *h);

/* Finds extension element `id` (RFC 8285): 0 with data and len pointing into
 * b, LEC_ERR_NOTFOUND, or LEC_ERR_INVAL for a malformed extension block. */
int lec_rtp_ext_find(const uint8_t *b, const lec_rtp_hdr *h, uint8_t id, const uint8_t **data,
                     size_t *len);

/* Rewrites in place (the packet must have been parsed). */
static inline void lec_rtp_set_seq(uint8_t *b, uint16_t seq)
{
    b[2] = (uint8_t)(seq >> 8);
    b[3] = (uint8_t)seq;
}
static inline void lec_rtp_set_ts(uint8_t *b, uint32_t ts)
{
    b[4] = (uint8_t)(ts >> 24);
    b[5] = (uint8_t)(ts >> 16);
    b[6] = (uint8_t)(ts >> 8);
    b[7] = (uint8_t)ts;
}
static inline void lec_rtp_set_ssrc(uint8_t *b, uint32_t ssrc)
{
    b[8] = (uint8_t)(ssrc >> 24);
    b[9] = (uint8_t)(ssrc >> 16);
    b[10] = (uint8_t)(ssrc >> 8);
    b[11] = (uint8_t)ssrc;
}
static inline void lec_rtp_set_pt(uint8_t *b, uint8_t pt)
{
    b[1] = (uint8_t)((b[1] & 0x80) | (pt & 0x7f));
}

/* Rewrites the value of extension `id` in place when it exists with the
 * same length (abs-send-time, transport-wide seq).  0, LEC_ERR_NOTFOUND or
 * LEC_ERR_INVAL. */
int lec_rtp_ext_rewrite(uint8_t *b, const lec_rtp_hdr *h, uint8_t id, const uint8_t *data,
                        size_t len);

/* Sets one-byte extension element `id` (1..14) to the n (1..16) bytes at
 * val in the packet of len bytes in a buffer of cap: in place when it is
 * there with that size, else the block is rebuilt with it (added when the
 * packet has none; other elements kept, one of that id but another size
 * dropped; elements past 232 bytes of them too).  Returns the new length,
 * or 0 when it cannot (a two-byte block, no room, not RTP: the packet is
 * unchanged). */
size_t lec_rtp_ext_put(uint8_t *b, size_t len, size_t cap, uint8_t id, const uint8_t *val,
                       size_t n);

/* Video codecs whose keyframes we recognise in RTP payloads. */
typedef enum lec_vcodec {
    LEC_VCODEC_OTHER = 0,
    LEC_VCODEC_VP8,
    LEC_VCODEC_VP9,
    LEC_VCODEC_H264,
    LEC_VCODEC_AV1,
} lec_vcodec;

/* From an rtpmap encoding name ("VP8", "h264"), case-insensitive. */
lec_vcodec lec_vcodec_from_name(const char *name);

/* Whether a payload is the first packet of a keyframe: VP8 (RFC 7741: the
 * start of partition 0 with the P bit clear), VP9 (P clear, B set), H.264
 * (RFC 6184: an IDR or SPS, alone, in a STAP-A or starting an FU-A), AV1
 * (the N bit: a new coded video sequence).  Never reads past len. */
bool lec_rtp_keyframe_start(lec_vcodec c, const uint8_t *payload, size_t len);

/* A VP8 keyframe's picture size, from the first packet of the frame (its
 * payload, descriptor included).  False for anything else. */
bool lec_rtp_vp8_size(const uint8_t *payload, size_t len, unsigned *width, unsigned *height);

/* An H.264 SPS NAL unit's picture size (header byte first; cropping
 * applied), and the same from a payload that is the SPS or a STAP-A
 * holding it (common/rtp/h264.c).  False when there is none, or it is
 * malformed. */
bool lec_h264_sps_size(const uint8_t *nal, size_t len, unsigned *width, unsigned *height);
bool lec_rtp_h264_size(const uint8_t *payload, size_t len, unsigned *width, unsigned *height);
/* Whether an H.264 payload is an SPS or a STAP-A holding one. */
bool lec_rtp_h264_has_sps(const uint8_t *payload, size_t len);

/* A keyframe's picture size from its first packet, where the codec says:
 * VP8 and H.264 (above). */
bool lec_rtp_picture_size(lec_vcodec c, const uint8_t *payload, size_t len, unsigned *width,
                          unsigned *height);

/* Writes a 12-byte header (no CSRC, no extension) into b; returns 12. */
size_t lec_rtp_write_header(uint8_t *b, uint8_t pt, bool marker, uint16_t seq, uint32_t ts,
                            uint32_t ssrc);

/*
 * Extends 16-bit sequence numbers to 64 bits: a number within 32768 of the
 * highest seen is placed on the nearest side of it (RFC 3550 A.1), so a
 * reordered packet gets an older extended number and a wrap a newer one.
 */
typedef struct lec_seq_unwrap {
    uint64_t highest;
    bool started;
} lec_seq_unwrap;

uint64_t lec_seq_unwrap_next(lec_seq_unwrap *u, uint16_t seq);

/* 16-bit serial arithmetic: whether a comes after b. */
static inline bool lec_seq_newer(uint16_t a, uint16_t b)
{
    return a != b && (uint16_t)(a - b) < 0x8000;
}

/* NTP timestamps (RFC 3550 4): 64-bit fixed point seconds since 1900. */
uint64_t lec_ntp_from_unix_ns(uint64_t unix_ns);
/* The middle 32 bits, as in LSR/DLSR. */
static inline uint32_t lec_ntp_mid32(uint64_t ntp)
{
    return (uint32_t)(ntp >> 16);
}

#endif
