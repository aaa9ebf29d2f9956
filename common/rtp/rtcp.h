/*
 * RTCP (RFC 3550 6, RFC 4585, RFC 5104, draft-alvestrand-rmcat-remb): the
 * packets an SFU reads and writes.  Compound packets are walked one packet
 * at a time; each type has a parser into a plain struct and a builder.  A
 * sans-I/O core: bounds-checked, no allocation.
 */
#ifndef LEC_RTP_RTCP_H
#define LEC_RTP_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    LEC_RTCP_SR = 200,
    LEC_RTCP_RR = 201,
    LEC_RTCP_SDES = 202,
    LEC_RTCP_BYE = 203,
    LEC_RTCP_APP = 204,
    LEC_RTCP_RTPFB = 205, /* fmt 1: generic NACK; 15: transport-cc */
    LEC_RTCP_PSFB = 206,  /* fmt 1: PLI; 4: FIR; 15: application (REMB) */
    LEC_RTCP_XR = 207,
};

/* One packet of a compound. */
typedef struct lec_rtcp_pkt {
    uint8_t pt;
    uint8_t fmt;         /* the 5-bit count/format field */
    const uint8_t *data; /* the whole packet, header included */
    size_t len;
} lec_rtcp_pkt;

typedef struct lec_rtcp_iter {
    const uint8_t *p;
    size_t left;
} lec_rtcp_iter;

static inline void lec_rtcp_iter_init(lec_rtcp_iter *it, const uint8_t *b, size_t len)
{
    it->p = b;
    it->left = len;
}

/* The next packet: 1, 0 at the end, or LEC_ERR_INVAL (version, a length
 * past the end, padding that does not fit). */
int lec_rtcp_next(lec_rtcp_iter *it, lec_rtcp_pkt *out);

typedef struct lec_rtcp_report {
    uint32_t ssrc;
    uint8_t fraction_lost;
    int32_t cumulative_lost; /* 24-bit signed */
    uint32_t highest_seq;    /* extended */
    uint32_t jitter;
    uint32_t lsr, dlsr;
} lec_rtcp_report;

#define LEC_RTCP_MAX_REPORTS 31

typedef struct lec_rtcp_sr {
    uint32_t ssrc;
    uint64_t ntp;
    uint32_t rtp_ts, packets, octets;
    lec_rtcp_report reports[LEC_RTCP_MAX_REPORTS];
    uint8_t nreports;
} lec_rtcp_sr;

typedef struct lec_rtcp_rr {
    uint32_t ssrc;
    lec_rtcp_report reports[LEC_RTCP_MAX_REPORTS];
    uint8_t nreports;
} lec_rtcp_rr;

typedef struct lec_rtcp_fb {
    uint32_t sender_ssrc, media_ssrc;
} lec_rtcp_fb;

#define LEC_RTCP_MAX_FIR 8

typedef struct lec_rtcp_fir {
    uint32_t sender_ssrc;
    struct {
        uint32_t ssrc;
        uint8_t seq;
    } entries[LEC_RTCP_MAX_FIR];
    uint8_t n;
} lec_rtcp_fir;

typedef struct lec_rtcp_remb {
    uint32_t sender_ssrc;
    uint64_t bitrate_bps;
    uint32_t ssrcs[8];
    uint8_t nssrcs;
} lec_rtcp_remb;

/* Parsers: 0 or LEC_ERR_INVAL (wrong type, short, counts that overrun). */
int lec_rtcp_parse_sr(const lec_rtcp_pkt *p, lec_rtcp_sr *out);
int lec_rtcp_parse_rr(const lec_rtcp_pkt *p, lec_rtcp_rr *out);
int lec_rtcp_parse_pli(const lec_rtcp_pkt *p, lec_rtcp_fb *out);
int lec_rtcp_parse_fir(const lec_rtcp_pkt *p, lec_rtcp_fir *out);
int lec_rtcp_parse_remb(const lec_rtcp_pkt *p, lec_rtcp_remb *out);
/* Generic NACK (RFC 4585 6.2.1): the lost sequence numbers, up to `cap`
 * (17 per FCI entry).  Returns how many, or LEC_ERR_INVAL. */
int lec_rtcp_parse_nack(const lec_rtcp_pkt *p, lec_rtcp_fb *ids, uint16_t *seqs, size_t cap);
/* BYE: the SSRCs leaving, up to cap.  Returns how many or LEC_ERR_INVAL. */
int lec_rtcp_parse_bye(const lec_rtcp_pkt *p, uint32_t *ssrcs, size_t cap);

/* Builders write into b (cap bytes) and return the length, or 0 when cap
 * is too small. */
size_t lec_rtcp_build_pli(uint8_t *b, size_t cap, uint32_t sender, uint32_t media);
size_t lec_rtcp_build_fir(uint8_t *b, size_t cap, uint32_t sender, uint32_t media, uint8_t seq);
/* NACK for `n` sorted or unsorted sequence numbers (packed into as few
 * PID/BLP entries as they allow). */
size_t lec_rtcp_build_nack(uint8_t *b, size_t cap, uint32_t sender, uint32_t media,
                           const uint16_t *seqs, size_t n);
size_t lec_rtcp_build_rr(uint8_t *b, size_t cap, uint32_t sender, const lec_rtcp_report *r,
                         size_t n);
size_t lec_rtcp_build_sr(uint8_t *b, size_t cap, const lec_rtcp_sr *sr);
size_t lec_rtcp_build_remb(uint8_t *b, size_t cap, uint32_t sender, uint64_t bps,
                           const uint32_t *ssrcs, size_t n);
size_t lec_rtcp_build_sdes_cname(uint8_t *b, size_t cap, uint32_t ssrc, const char *cname);
size_t lec_rtcp_build_bye(uint8_t *b, size_t cap, uint32_t ssrc);

#endif
