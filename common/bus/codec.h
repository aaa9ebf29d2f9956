/*
 * The control-plane messages (proto/lectern/v1) as plain C structs, and
 * their encoding.  Pure functions, no I/O: the bus decodes on nats.c's
 * threads and hands these structs to the loop.
 *
 * Decoding is strict: a missing header, a string longer than its field, a
 * list longer than its bound or bytes that are not protobuf are
 * LEC_ERR_INVAL (counted and dropped as malformed); a header version other
 * than LEC_PROTO_VERSION is LEC_ERR_UNSUPPORTED (counted apart).
 */
#ifndef LEC_BUS_CODEC_H
#define LEC_BUS_CODEC_H

#include "base/sbuf.h"
#include "cluster/cluster.h"
#include "trust/trust.h"

#include <stddef.h>
#include <stdint.h>

#define LEC_PROTO_VERSION  1
#define LEC_MAX_TRACKS     16
#define LEC_MAX_SSRCS      8
#define LEC_MAX_RIDS       4
#define LEC_MAX_HB_STREAMS 4096
#define LEC_MAX_HB_RTTS    1024
#define LEC_SRTP_KEY_MAX   64 /* master key + salt */
#define LEC_MAX_PREWARM    16
#define LEC_REPLY_TO_MAX   192 /* a reply subject (bus_int.h REPLY_MAX) */

typedef struct lec_msg_header {
    uint32_t version;
    char sender_id[LEC_ID_MAX];
    uint64_t sent_unix_ms;
} lec_msg_header;

typedef enum lec_track_kind {
    LEC_TRACK_UNKNOWN = 0,
    LEC_TRACK_AUDIO = 1,
    LEC_TRACK_VIDEO = 2,
} lec_track_kind;

typedef struct lec_track_info {
    char mid[32];
    lec_track_kind kind;
    char codec[32];
    uint32_t payload_type, clock_rate, channels, rtx_payload_type;
    char fmtp[256];
    uint32_t ssrcs[LEC_MAX_SSRCS];
    size_t nssrcs;
    char rids[LEC_MAX_RIDS][32];
    size_t nrids;
} lec_track_info;

typedef enum lec_stream_event_type {
    LEC_STREAM_UNKNOWN = 0,
    LEC_STREAM_STARTED = 1,
    LEC_STREAM_ENDED = 2,
} lec_stream_event_type;

typedef struct lec_stream_event {
    char stream[LEC_ID_MAX];
    lec_stream_event_type type;
    char node_id[LEC_ID_MAX];
    lec_track_info tracks[LEC_MAX_TRACKS];
    size_t ntracks;
    uint64_t started_unix_ms;
    char prewarm_regions[LEC_MAX_PREWARM][LEC_ID_MAX];
    size_t nprewarm;
} lec_stream_event;

typedef enum lec_srtp_profile {
    LEC_SRTP_NONE = 0,
    LEC_SRTP_AEAD_AES_128_GCM = 1,
    LEC_SRTP_AES_CM_128_HMAC_SHA1_80 = 2,
} lec_srtp_profile;

typedef enum lec_relay_error {
    LEC_RELAY_OK = 0,
    LEC_RELAY_NOT_FOUND = 1,
    LEC_RELAY_FULL = 2,
    LEC_RELAY_TOO_DEEP = 3,
    LEC_RELAY_DRAINING = 4,
    LEC_RELAY_INTERNAL = 5,
    LEC_RELAY_BAD_REQUEST = 6,
} lec_relay_error;

typedef struct lec_relay_open {
    char stream[LEC_ID_MAX];
    char requester_id[LEC_ID_MAX];
    char requester_relay_addr[LEC_HOSTPORT_MAX];
    uint64_t leg_id;
    lec_srtp_profile profiles[4];
    size_t nprofiles;
    bool resume;
    bool has_seal_key;
    uint8_t seal_key[LEC_TRUST_KEY];
    char reply_to[LEC_REPLY_TO_MAX]; /* the answer's subject, signed with the request */
} lec_relay_open;

typedef struct lec_relay_opened {
    char stream[LEC_ID_MAX];
    uint64_t leg_id;
    lec_relay_error error;
    char error_message[160];
    char source_id[LEC_ID_MAX];
    char source_relay_addr[LEC_HOSTPORT_MAX];
    lec_track_info tracks[LEC_MAX_TRACKS];
    size_t ntracks;
    lec_srtp_profile profile;
    uint8_t key_down[LEC_SRTP_KEY_MAX];
    size_t key_down_len;
    uint8_t key_up[LEC_SRTP_KEY_MAX];
    size_t key_up_len;
    uint32_t depth;
    uint64_t source_leg_id;
    uint8_t sealed[2 * LEC_SRTP_KEY_MAX + LEC_TRUST_SEAL_OVERHEAD];
    size_t sealed_len;
} lec_relay_opened;

typedef struct lec_relay_close {
    char stream[LEC_ID_MAX];
    uint64_t leg_id;
    char node_id[LEC_ID_MAX];
} lec_relay_close;

typedef struct lec_ping {
    uint64_t nonce;
    uint64_t mono_ns;                /* Ping: sent time; Pong: the echo */
    char reply_to[LEC_REPLY_TO_MAX]; /* Ping: the answer's subject, signed with it */
} lec_ping;

/* The envelope every bus message travels in (common.proto Envelope):
 * `sig` NULL for an unsigned one (cluster.insecure; `signer` names the
 * sender then).  Decoding copies the body: free it with
 * lec_codec_envelope_free. */
typedef struct lec_envelope {
    bool is_signed;
    lec_trust_sig sig; /* sig.signer also when unsigned */
    uint8_t *body;
    size_t body_len;
} lec_envelope;
int lec_codec_encode_envelope(const char *signer, const lec_trust_sig *sig, const uint8_t *body,
                              size_t len, lec_sbuf *out);
/* 0, LEC_ERR_INVAL or LEC_ERR_NOMEM. */
int lec_codec_decode_envelope(const uint8_t *data, size_t len, lec_envelope *out);
void lec_codec_envelope_free(lec_envelope *e);

/* Encoders append the wire bytes to `out`; 0 or LEC_ERR_NOMEM. */
int lec_codec_encode_heartbeat(const lec_msg_header *h, const lec_node_info *hb, lec_sbuf *out);
int lec_codec_encode_stream_event(const lec_msg_header *h, const lec_stream_event *ev,
                                  lec_sbuf *out);
int lec_codec_encode_relay_open(const lec_msg_header *h, const lec_relay_open *m, lec_sbuf *out);
int lec_codec_encode_relay_opened(const lec_msg_header *h, const lec_relay_opened *m,
                                  lec_sbuf *out);
int lec_codec_encode_relay_close(const lec_msg_header *h, const lec_relay_close *m, lec_sbuf *out);
int lec_codec_encode_ping(const lec_msg_header *h, const lec_ping *m, lec_sbuf *out);
int lec_codec_encode_pong(const lec_msg_header *h, const lec_ping *m, lec_sbuf *out);

/* Decoders fill *h and *out.  0, LEC_ERR_INVAL (malformed),
 * LEC_ERR_UNSUPPORTED (other version), LEC_ERR_NOMEM.  A heartbeat's arrays
 * are allocated: free them with lec_codec_node_info_free. */
int lec_codec_decode_heartbeat(const uint8_t *data, size_t len, lec_msg_header *h,
                               lec_node_info *out);
void lec_codec_node_info_free(lec_node_info *info);
int lec_codec_decode_stream_event(const uint8_t *data, size_t len, lec_msg_header *h,
                                  lec_stream_event *out);
int lec_codec_decode_relay_open(const uint8_t *data, size_t len, lec_msg_header *h,
                                lec_relay_open *out);
int lec_codec_decode_relay_opened(const uint8_t *data, size_t len, lec_msg_header *h,
                                  lec_relay_opened *out);
int lec_codec_decode_relay_close(const uint8_t *data, size_t len, lec_msg_header *h,
                                 lec_relay_close *out);
int lec_codec_decode_ping(const uint8_t *data, size_t len, lec_msg_header *h, lec_ping *out);
int lec_codec_decode_pong(const uint8_t *data, size_t len, lec_msg_header *h, lec_ping *out);

/* Whether `s` may stand in a NATS subject token and an id: 1-64 of
 * A-Z a-z 0-9 _ - (node ids, regions, stream names). */
bool lec_codec_valid_token(const char *s);

#endif
