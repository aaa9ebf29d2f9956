/*
 * Offer/answer (RFC 3264, JSEP RFC 8829) for our side of WHIP and WHEP: we
 * are always the answerer, ICE-lite, DTLS passive unless the offer insists
 * on being passive itself.  A sans-I/O core.
 *
 * Codecs: one primary codec per m= section (an SFU forwards, it does not
 * transcode, so one codec per track keeps every viewer able to decode),
 * with its RTX.  For WHIP the offerer's order decides among the codecs we
 * accept; for WHEP the codec is the publisher's (`source`), mapped to the
 * viewer's payload types.  H.264 matches on packetization-mode and the
 * profile part of profile-level-id (RFC 6184 8.2.2).
 */
#ifndef LEC_SDP_NEGOTIATE_H
#define LEC_SDP_NEGOTIATE_H

#include "sdp/sdp.h"

typedef struct lec_sdp_answer_opts {
    lec_sdp_dir dir; /* ours: LEC_SDP_RECVONLY (WHIP) or LEC_SDP_SENDONLY (WHEP) */
    const char *ice_ufrag, *ice_pwd;
    const char *fingerprint;       /* "sha-256 AB:..." */
    const char *const *candidates; /* a=candidate values, NULL-terminated; may be NULL */
    unsigned fb_allowed;           /* LEC_FB_* we implement */
    const char *const *extmaps;    /* header extension URIs we implement, NULL-terminated */
    bool allow_vp9, allow_av1;     /* pass-through codecs both ends must agree on */
    /* Simulcast: receive at most this many of the offerer's layers
     * (RFC 8853); 0 declines it (the sender then sends one stream). */
    unsigned accept_simulcast;
    bool no_rtx; /* leave RTX out of the answer */
    /* Data channels (RFC 8841): answer one m=application section with this
     * a=max-message-size (ours); 0: refuse data channels. */
    uint32_t data_max_message;
    /* WHEP: the publisher's codec per kind (NULL: any we accept). */
    const lec_sdp_codec *source_audio, *source_video;
    uint64_t sess_id;
} lec_sdp_answer_opts;

/*
 * Builds `answer` for `offer`.  Returns 0; LEC_ERR_INVAL when the offer is
 * not WebRTC (no ICE credentials, no DTLS fingerprint, no rtcp-mux, no
 * BUNDLE) with the reason in err; LEC_ERR_UNSUPPORTED when no section has a
 * codec in common (WHIP: 406/422; err names what was offered).
 */
int lec_sdp_answer(const lec_sdp *offer, const lec_sdp_answer_opts *opts, lec_sdp *answer,
                   char *err, size_t errcap);

/* Whether offered codec `c` takes what `ref` carries (name, clock rate,
 * channels; for H.264 the packetization mode, and a profile that decodes
 * ref's: lec_sdp_h264_profile). */
bool lec_sdp_codec_match(const lec_sdp_codec *c, const lec_sdp_codec *ref);

/* The H.264 profile an fmtp's profile-level-id names (RFC 6184 8.1, table
 * 5; absent: 420010, Baseline), and its level_idc in *level if not NULL. */
typedef enum lec_h264_profile {
    LEC_H264_UNKNOWN = 0,
    LEC_H264_CONSTRAINED_BASELINE,
    LEC_H264_BASELINE,
    LEC_H264_MAIN,
    LEC_H264_HIGH,
    LEC_H264_CONSTRAINED_HIGH,
    LEC_H264_HIGH_444,
} lec_h264_profile;
lec_h264_profile lec_sdp_h264_profile(const char *fmtp, uint8_t *level);

#endif
