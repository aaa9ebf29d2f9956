/*
 * SDP (RFC 8866) as WebRTC uses it (RFC 8829 JSEP, RFC 8843 BUNDLE,
 * RFC 8853 simulcast, RFC 9725 WHIP): parse what browsers, OBS, ffmpeg and
 * GStreamer send, and write our offers and answers.  A sans-I/O core.
 *
 * The model is fixed-size (no allocation per line) and bounded: a hostile
 * offer with 10,000 codecs or candidates gets a clear error, not a big
 * allocation.  Lines we do not model are skipped, except the few whose
 * absence or presence changes meaning (they are kept or checked).
 */
#ifndef LEC_SDP_SDP_H
#define LEC_SDP_SDP_H

#include "base/sbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEC_SDP_MAX_MEDIA      8
#define LEC_SDP_MAX_CODECS     64 /* Chromium 156 offers ~40 receive codecs */
#define LEC_SDP_MAX_EXTMAPS    16
#define LEC_SDP_MAX_SSRCS      8
#define LEC_SDP_MAX_GROUPS     4
#define LEC_SDP_MAX_RIDS       4
#define LEC_SDP_MAX_CANDIDATES 16
#define LEC_SDP_MAX_BUNDLE     LEC_SDP_MAX_MEDIA

typedef enum lec_sdp_kind { LEC_SDP_AUDIO = 1, LEC_SDP_VIDEO, LEC_SDP_APPLICATION } lec_sdp_kind;

typedef enum lec_sdp_dir {
    LEC_SDP_SENDRECV = 0, /* the default when no direction line is given */
    LEC_SDP_SENDONLY,
    LEC_SDP_RECVONLY,
    LEC_SDP_INACTIVE,
} lec_sdp_dir;

typedef enum lec_sdp_setup {
    LEC_SDP_SETUP_NONE = 0,
    LEC_SDP_SETUP_ACTPASS,
    LEC_SDP_SETUP_ACTIVE,
    LEC_SDP_SETUP_PASSIVE,
} lec_sdp_setup;

/* RTCP feedback a codec announces (a=rtcp-fb), as bits. */
enum {
    LEC_FB_NACK = 1u << 0,         /* "nack" (RFC 4585) */
    LEC_FB_PLI = 1u << 1,          /* "nack pli" */
    LEC_FB_FIR = 1u << 2,          /* "ccm fir" (RFC 5104) */
    LEC_FB_REMB = 1u << 3,         /* "goog-remb" */
    LEC_FB_TRANSPORT_CC = 1u << 4, /* "transport-cc" */
};

typedef struct lec_sdp_codec {
    uint8_t pt;
    char name[24]; /* as written: "VP8", "H264", "opus", "rtx" */
    uint32_t clock_rate;
    uint8_t channels; /* audio; 0 when absent */
    char fmtp[200];
    unsigned fb;     /* LEC_FB_* */
    int16_t rtx_apt; /* for "rtx": the payload type it repairs (fmtp apt=); -1 */
} lec_sdp_codec;

typedef struct lec_sdp_extmap {
    uint8_t id; /* 1..14 one-byte, 1..255 two-byte */
    char uri[112];
} lec_sdp_extmap;

typedef struct lec_sdp_ssrc {
    uint32_t ssrc;
    char cname[64];
    char msid[112];
} lec_sdp_ssrc;

typedef struct lec_sdp_ssrc_group {
    char semantics[8]; /* "FID", "SIM" */
    uint32_t ssrcs[4];
    uint8_t n;
} lec_sdp_ssrc_group;

typedef struct lec_sdp_rid {
    char id[16];
    bool send; /* "send" or "recv" */
    char params[64];
} lec_sdp_rid;

typedef struct lec_sdp_media {
    lec_sdp_kind kind;
    uint16_t port;
    char proto[32]; /* "UDP/TLS/RTP/SAVPF" */
    char mid[32];
    lec_sdp_dir dir;
    bool rtcp_mux, rtcp_rsize, bundle_only, end_of_candidates;
    char ice_ufrag[64], ice_pwd[128]; /* media level, if given */
    char fingerprint[128];            /* "sha-256 AB:CD:...", media level */
    lec_sdp_setup setup;
    char msid[112];
    char reason[160]; /* an answer's refused section: why (not written) */
    lec_sdp_codec codecs[LEC_SDP_MAX_CODECS];
    uint8_t ncodecs;
    lec_sdp_extmap extmaps[LEC_SDP_MAX_EXTMAPS];
    uint8_t nextmaps;
    lec_sdp_ssrc ssrcs[LEC_SDP_MAX_SSRCS];
    uint8_t nssrcs;
    lec_sdp_ssrc_group groups[LEC_SDP_MAX_GROUPS];
    uint8_t ngroups;
    lec_sdp_rid rids[LEC_SDP_MAX_RIDS];
    uint8_t nrids;
    char simulcast[128];                          /* the a=simulcast value as written */
    char candidates[LEC_SDP_MAX_CANDIDATES][160]; /* a=candidate values */
    uint8_t ncandidates;
    char sctp_port[8];    /* data channels (RFC 8841): a=sctp-port */
    uint32_t max_message; /* a=max-message-size; 0 when absent */
    bool has_max_message;
} lec_sdp_media;

typedef struct lec_sdp {
    uint64_t sess_id, sess_version;
    char ice_ufrag[64], ice_pwd[128];
    bool ice_lite, ice_trickle;
    char fingerprint[128];
    lec_sdp_setup setup;
    char bundle[LEC_SDP_MAX_BUNDLE][32]; /* a=group:BUNDLE mids */
    uint8_t nbundle;
    lec_sdp_media media[LEC_SDP_MAX_MEDIA];
    uint8_t nmedia;
} lec_sdp;

/*
 * Parses `len` bytes of SDP into *out (which the caller zeroes or not;
 * it is reset).  Returns 0 or LEC_ERR_INVAL with a reason in err
 * ("line 7: a=rtpmap: payload type 300 out of range"); LEC_ERR_RANGE when a
 * limit above is passed.  Accepts LF or CRLF line ends.
 */
int lec_sdp_parse(const char *text, size_t len, lec_sdp *out, char *err, size_t errcap);

/* Writes a session description (CRLF line ends) for what *sdp holds. */
void lec_sdp_write(const lec_sdp *sdp, lec_sbuf *out);

/* The ICE credentials, fingerprint and setup of media `m`, falling back to
 * the session level (RFC 8866 allows either). */
const char *lec_sdp_ufrag(const lec_sdp *sdp, const lec_sdp_media *m);
const char *lec_sdp_pwd(const lec_sdp *sdp, const lec_sdp_media *m);
const char *lec_sdp_fingerprint(const lec_sdp *sdp, const lec_sdp_media *m);
lec_sdp_setup lec_sdp_media_setup(const lec_sdp *sdp, const lec_sdp_media *m);

/* The value of `key` in an fmtp string ("a=1;b=2"), copied to out;
 * returns its length or -1. */
int lec_sdp_fmtp_get(const char *fmtp, const char *key, char *out, size_t cap);

/* A trickle PATCH body (application/trickle-ice-sdpfrag, RFC 8840): its
 * credentials, if any, and its candidates (the a=candidate: values), at
 * most LEC_SDP_FRAG_CANDIDATES; longer lines and the rest are counted in
 * `dropped`. */
#define LEC_SDP_FRAG_CANDIDATES 32
typedef struct lec_sdp_frag {
    char ufrag[64], pwd[128];
    char candidates[LEC_SDP_FRAG_CANDIDATES][160];
    unsigned ncandidates, dropped;
    bool end_of_candidates;
} lec_sdp_frag;
void lec_sdp_frag_parse(const char *frag, size_t len, lec_sdp_frag *out);

/* Parses "sha-256 AB:CD:..." into its digest bytes; returns the length
 * (32 for sha-256) or -1.  Only sha-256 is accepted (RFC 8827 5.5). */
int lec_sdp_fingerprint_parse(const char *fp, uint8_t *out, size_t cap);

#endif
