/*
 * One WebRTC peer connection on a worker (a shell): ICE (libnice) carries
 * datagrams; the first byte sorts them (RFC 7983): DTLS feeds the
 * handshake, then SRTP/SRTCP is opened with the exported keys and handed
 * up in the clear; what we send goes the other way.  A peer that says
 * nothing authentic for `silence_timeout` (30 s, RFC 7675's consent
 * expiry) is closed: we are ICE-lite and do not send consent checks, so
 * the peer's SRTCP reports (every second or so from a browser) and media
 * are its consent; junk from its address, which anyone holding the
 * address can send, is not.
 */
#ifndef LEC_PEER_PEER_H
#define LEC_PEER_PEER_H

#include "base/log.h"
#include "dtls/dtls.h"
#include "ice/ice.h"

#include <uv.h>

typedef struct lec_peer lec_peer;

typedef enum lec_peer_state {
    LEC_PEER_CONNECTING,
    LEC_PEER_CONNECTED, /* DTLS done, SRTP keyed: media flows */
    LEC_PEER_FAILED,    /* ICE or DTLS failed, or the peer went silent */
    LEC_PEER_CLOSED,    /* the peer said goodbye (DTLS close_notify) */
} lec_peer_state;

typedef struct lec_peer_stats {
    uint64_t rtp_in, rtp_out, rtcp_in, rtcp_out, bytes_in, bytes_out;
    uint64_t srtp_fail, malformed, dropped_send;
} lec_peer_stats;

typedef struct lec_peer_cbs {
    void (*state)(void *ud, lec_peer *p, lec_peer_state st);
    /* Clear RTP/RTCP; the buffer is the caller's for the call (it may be
     * modified in place) and has LEC_SRTP_MAX_TRAILER bytes spare. */
    void (*rtp)(void *ud, lec_peer *p, uint8_t *pkt, size_t len);
    void (*rtcp)(void *ud, lec_peer *p, uint8_t *pkt, size_t len);
    void *ud;
} lec_peer_cbs;

typedef struct lec_peer_cfg {
    uv_loop_t *loop;
    lec_glib_loop *glib;
    lec_log *log;
    const lec_dtls_cert *cert;
    lec_ice_cfg ice; /* addresses, ports, public_ip, full (glib/callbacks are set here) */
    bool dtls_server;
    uint8_t remote_fp[32];
    lec_tstamp silence_timeout; /* 0: 30 s */
    lec_tstamp connect_timeout; /* ICE and DTLS done within this, or it fails; 0: none */
    const lec_clock *clock;     /* NULL: the system's monotonic clock */
} lec_peer_cfg;

/* 0, LEC_ERR_NOMEM, LEC_ERR_IO (no ICE port) or LEC_ERR_INTERNAL. */
int lec_peer_new(lec_peer **out, const lec_peer_cfg *cfg, const lec_peer_cbs *cbs);
/* Tears down; no callback runs afterwards; memory goes once handles close. */
void lec_peer_close(lec_peer *p);

/* The peer's DTLS fingerprint, when it was not known at creation (a
 * client that offers first). */
void lec_peer_set_remote_fingerprint(lec_peer *p, const uint8_t fp[32]);

/* Changes how long the peer may stay silent before it is failed. */
void lec_peer_set_silence_timeout(lec_peer *p, lec_tstamp t);

lec_ice *lec_peer_ice(lec_peer *p);
lec_peer_state lec_peer_get_state(const lec_peer *p);
const lec_peer_stats *lec_peer_stats_get(const lec_peer *p);

/* Protects in place (buf has cap bytes; the tag needs LEC_SRTP_MAX_TRAILER
 * past len) and sends.  0; LEC_ERR_STATE before CONNECTED; LEC_ERR_IO. */
int lec_peer_send_rtp(lec_peer *p, uint8_t *buf, size_t len, size_t cap);
int lec_peer_send_rtcp(lec_peer *p, uint8_t *buf, size_t len, size_t cap);

#endif
