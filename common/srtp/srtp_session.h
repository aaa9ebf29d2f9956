/*
 * SRTP and SRTCP (RFC 3711, RFC 7714 for AES-GCM) through libsrtp2: one
 * session per direction of a DTLS-SRTP association, keyed from
 * lec_dtls_srtp_keys.  No I/O; libsrtp types stay behind this header.
 * Protect and unprotect work in place: protecting grows the packet by the
 * authentication tag (16 bytes at most, plus 4 for SRTCP's index), so the
 * buffer needs that much room past `len`.
 */
#ifndef LEC_SRTP_SESSION_H
#define LEC_SRTP_SESSION_H

#include "dtls/dtls.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEC_SRTP_MAX_TRAILER 32 /* room to leave after a packet to protect */

typedef struct lec_srtp lec_srtp;

/* A session for packets we send (`outbound`) or receive, with the master
 * key || salt from DTLS.  0, LEC_ERR_INVAL (key length does not fit the
 * profile), LEC_ERR_NOMEM or LEC_ERR_INTERNAL. */
int lec_srtp_new(lec_srtp **out, lec_dtls_profile profile, const uint8_t *key, size_t key_len,
                 bool outbound);
void lec_srtp_free(lec_srtp *s);

/* In place.  *len is updated.  Returns 0; LEC_ERR_RANGE when cap cannot
 * hold the trailer; LEC_ERR_AUTH when authentication fails or the packet
 * is a replay (count and drop); LEC_ERR_INVAL when it is not SRTP at all. */
int lec_srtp_protect(lec_srtp *s, uint8_t *buf, size_t *len, size_t cap);
int lec_srtp_unprotect(lec_srtp *s, uint8_t *buf, size_t *len);
int lec_srtp_protect_rtcp(lec_srtp *s, uint8_t *buf, size_t *len, size_t cap);
int lec_srtp_unprotect_rtcp(lec_srtp *s, uint8_t *buf, size_t *len);

#endif
