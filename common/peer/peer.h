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
 *
 * Data channels (RFC 8831), when lec_peer_enable_data was called: once
 * DTLS is up, an SCTP association (sctp/sctp.h) runs in its application
 * records, and DCEP (sctp/dcep.h) opens the channels the peer asks for
 * with the one label served.  The worker ticks SCTP's timers
 * (lec_sctp_tick) and calls lec_peer_poll_data when it asks.
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
    uint64_t dtls_in; /* DTLS datagrams (handshake, alerts, data channels) */
} lec_peer_stats;

typedef struct lec_peer_cbs {
    void (*state)(void *ud, lec_peer *p, lec_peer_state st);
    /* Clear RTP/RTCP; the buffer is the caller's for the call (it may be
     * modified in place) and has LEC_SRTP_MAX_TRAILER bytes spare. */
    void (*rtp)(void *ud, lec_peer *p, uint8_t *pkt, size_t len);
    void (*rtcp)(void *ud, lec_peer *p, uint8_t *pkt, size_t len);
    /* Data channels: channel `chan` opened or closed; a message on it
     * (the buffer is the callee's for the call only). */
    void (*channel)(void *ud, lec_peer *p, int chan, bool open);
    void (*message)(void *ud, lec_peer *p, int chan, bool binary, const uint8_t *data, size_t len);
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

/* Data channels on this peer (its offer's m=application section). */
typedef struct lec_peer_data_cfg {
    uint16_t local_port, remote_port; /* a=sctp-port: ours, the peer's */
    size_t max_message;               /* ours (a=max-message-size in our answer) */
    size_t peer_max_message;          /* the peer's; 0: 64 KiB (RFC 8841 6.1) */
    const char *label;                /* the one channel served (static storage) */
} lec_peer_data_cfg;
/* Before CONNECTED.  0, LEC_ERR_STATE (already enabled or connected). */
int lec_peer_enable_data(lec_peer *p, const lec_peer_data_cfg *dc);
/* Opens channel `label` ourselves (a client's side; tests).  Its index,
 * or LEC_ERR_STATE (no association open yet), LEC_ERR_FULL. */
int lec_peer_open_channel(lec_peer *p, const char *label);
/* Sends a message on channel `chan`.  0; LEC_ERR_STATE (no such open
 * channel); LEC_ERR_RANGE (past the peer's max-message-size); LEC_ERR_FULL
 * (SCTP's send buffer is full: the peer is not reading). */
int lec_peer_send_message(lec_peer *p, int chan, bool binary, const void *data, size_t len);
/* Runs what SCTP queued (its timers may have run on another thread). */
void lec_peer_poll_data(lec_peer *p);

typedef struct lec_peer_data_stats {
    bool enabled, open; /* negotiated; the association is up */
    int channel;        /* the served channel's index, or -1 */
    int rtt_ms;         /* SCTP's smoothed RTT, or -1 */
    uint64_t messages_in, messages_out, bytes_in, bytes_out;
    uint64_t dropped; /* malformed, oversized or on no channel */
    uint64_t refused; /* channels refused (another label, too many) */
    uint64_t send_failed;
} lec_peer_data_stats;
void lec_peer_data_stats_get(lec_peer *p, lec_peer_data_stats *out);

lec_ice *lec_peer_ice(lec_peer *p);
lec_peer_state lec_peer_get_state(const lec_peer *p);
const lec_peer_stats *lec_peer_stats_get(const lec_peer *p);

/* Protects in place (buf has cap bytes; the tag needs LEC_SRTP_MAX_TRAILER
 * past len) and sends.  0; LEC_ERR_STATE before CONNECTED; LEC_ERR_IO. */
int lec_peer_send_rtp(lec_peer *p, uint8_t *buf, size_t len, size_t cap);
int lec_peer_send_rtcp(lec_peer *p, uint8_t *buf, size_t len, size_t cap);

#endif
