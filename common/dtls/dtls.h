/*
 * DTLS 1.2 for DTLS-SRTP (RFC 5763, RFC 5764) over OpenSSL, sans I/O:
 * datagrams in, datagrams out, no socket.  Each process has one ECDSA
 * P-256 certificate whose SHA-256 fingerprint goes in our SDP; each peer
 * connection checks the peer's certificate against the fingerprint from
 * its SDP.  use_srtp offers AEAD_AES_128_GCM first, then
 * AES_CM_128_HMAC_SHA1_80; the keys are exported for SRTP.
 *
 * The header shows no OpenSSL type.  One exception to "cores take now":
 * OpenSSL's DTLS retransmission timer reads the wall clock internally; we
 * shorten its schedule (50 ms doubling to 3 s) and tell the caller when to
 * call lec_dtls_on_timeout, but OpenSSL decides whether the time is up.
 */
#ifndef LEC_DTLS_DTLS_H
#define LEC_DTLS_DTLS_H

#include "base/time.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lec_dtls_cert lec_dtls_cert;
typedef struct lec_dtls lec_dtls;

/* A fresh self-signed ECDSA P-256 certificate (valid 30 days, random
 * serial).  0, LEC_ERR_NOMEM or LEC_ERR_INTERNAL. */
int lec_dtls_cert_new(lec_dtls_cert **out);
void lec_dtls_cert_free(lec_dtls_cert *c);
/* "sha-256 AB:CD:..." for a=fingerprint. */
const char *lec_dtls_cert_fingerprint(const lec_dtls_cert *c);

typedef enum lec_dtls_state {
    LEC_DTLS_HANDSHAKING,
    LEC_DTLS_CONNECTED,
    LEC_DTLS_FAILED, /* handshake error, fingerprint mismatch, or fatal alert */
    LEC_DTLS_CLOSED, /* the peer sent close_notify */
} lec_dtls_state;

typedef enum lec_dtls_profile {
    LEC_DTLS_SRTP_NONE = 0,
    LEC_DTLS_SRTP_AEAD_AES_128_GCM = 1,
    LEC_DTLS_SRTP_AES_CM_128_HMAC_SHA1_80 = 2,
} lec_dtls_profile;

typedef struct lec_dtls_cfg {
    bool server;               /* our a=setup: passive -> server */
    const lec_dtls_cert *cert; /* borrowed; outlives the connection */
    uint8_t peer_fp[32];       /* SHA-256 from the peer's a=fingerprint */
    uint16_t mtu;              /* 0: 1200 */
} lec_dtls_cfg;

/* NULL when out of memory. */
lec_dtls *lec_dtls_new(const lec_dtls_cfg *cfg);
void lec_dtls_free(lec_dtls *d);

/* Sets the peer's fingerprint (before the handshake; a client learns it
 * from the answer after making its offer). */
void lec_dtls_set_peer_fp(lec_dtls *d, const uint8_t fp[32]);

/* Client only: starts the handshake (queues the ClientHello). */
int lec_dtls_start(lec_dtls *d);

/* Feeds one received datagram.  Returns 0 (state may have changed),
 * LEC_ERR_STATE after failure, or LEC_ERR_PROTO when this datagram made
 * the handshake fail (the reason: lec_dtls_error). */
int lec_dtls_handle(lec_dtls *d, const uint8_t *data, size_t len);

/* Datagrams to send, oldest first: copies one into out (cap bytes) and
 * returns its length, or 0 when none is queued.  A datagram larger than
 * cap is dropped and LEC_ERR_RANGE returned.  At most 32 wait; later ones
 * are dropped (DTLS and SCTP retransmit). */
int lec_dtls_pop(lec_dtls *d, uint8_t *out, size_t cap);

/* When to call lec_dtls_on_timeout next (relative to `now`), or
 * LEC_TSTAMP_NEVER. */
lec_tstamp lec_dtls_deadline(lec_dtls *d, lec_tstamp now);
/* Retransmits a lost flight if OpenSSL's timer has run out. */
void lec_dtls_on_timeout(lec_dtls *d);

lec_dtls_state lec_dtls_get_state(const lec_dtls *d);
const char *lec_dtls_error(const lec_dtls *d);

/* After CONNECTED: application data (SCTP for data channels, RFC 8261).
 * lec_dtls_read copies the oldest record received into out and returns
 * its length, or 0 when none is waiting (one larger than cap is dropped:
 * LEC_ERR_RANGE); at most 16 wait, later ones are dropped (SCTP
 * retransmits).  lec_dtls_write queues one record for lec_dtls_pop: 0,
 * LEC_ERR_STATE when not CONNECTED, LEC_ERR_RANGE when empty or longer
 * than a datagram holds, LEC_ERR_IO. */
int lec_dtls_read(lec_dtls *d, uint8_t *out, size_t cap);
int lec_dtls_write(lec_dtls *d, const uint8_t *data, size_t len);

/* After CONNECTED: the negotiated SRTP profile and the keying material
 * (RFC 5764 4.2), each side's master key || salt.  key_len + salt_len per
 * side is 28 for AEAD_AES_128_GCM (16 + 12) and 30 for CM_SHA1_80
 * (16 + 14).  `local` is what we protect with, `remote` what we unprotect
 * with.  0, or LEC_ERR_STATE before the handshake completes. */
int lec_dtls_srtp_keys(const lec_dtls *d, lec_dtls_profile *profile, uint8_t local[32],
                       uint8_t remote[32], size_t *len);

#endif
