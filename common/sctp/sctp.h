/*
 * SCTP over DTLS (RFC 8261) for WebRTC data channels: a shell over
 * libusrsctp in its thread-less mode (usrsctp_init_nothreads).  One
 * lec_sctp is one association, owned by one thread (its peer's worker);
 * packets in come from the DTLS records the peer opened, packets out go
 * back to it for DTLS, and whole messages come up per stream.
 *
 * libusrsctp is process-wide: one timer wheel, and one output callback
 * that any thread may run (the one feeding a packet, the one sending, or
 * the one advancing the timers for every association).  So nothing it
 * calls back touches an association's owner: the callback finds the
 * association by a numeric id under a lock and queues the packet there,
 * and the owner sends what is queued when it calls lec_sctp_poll (after
 * its own calls, and on its tick when lec_sctp_wants_poll says so).  An
 * association gone from the table is never called back into.
 *
 * Timers: lec_sctp_tick advances usrsctp's wheel by the time passed since
 * the last call from any thread (every worker calls it on its tick).
 */
#ifndef LEC_SCTP_SCTP_H
#define LEC_SCTP_SCTP_H

#include "base/time.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lec_sctp lec_sctp;

#define LEC_SCTP_ALL_STREAMS 0xffff

typedef enum lec_sctp_state {
    LEC_SCTP_CONNECTING,
    LEC_SCTP_OPEN,
    LEC_SCTP_CLOSED, /* shut down, aborted or failed: nothing more comes */
} lec_sctp_state;

typedef struct lec_sctp_cbs {
    /* An SCTP packet for the peer (to go in one DTLS record). */
    void (*output)(void *ud, const uint8_t *pkt, size_t len);
    /* A whole message on stream sid with payload protocol ppid. */
    void (*message)(void *ud, uint16_t sid, uint32_t ppid, const uint8_t *data, size_t len);
    void (*state)(void *ud, lec_sctp_state st);
    /* The peer reset its outgoing stream sid (the channel closed);
     * LEC_SCTP_ALL_STREAMS: every stream. */
    void (*reset)(void *ud, uint16_t sid);
    void *ud;
} lec_sctp_cbs;

typedef struct lec_sctp_cfg {
    uint16_t local_port, remote_port; /* a=sctp-port: ours, the peer's (5000) */
    size_t max_message;               /* the largest message we take (our a=max-message-size) */
} lec_sctp_cfg;

typedef struct lec_sctp_stats {
    uint64_t messages_in, messages_out, bytes_in, bytes_out;
    uint64_t oversized;   /* messages in past max_message, dropped */
    uint64_t send_failed; /* messages out refused (buffer full, not open) */
    uint64_t queue_drops; /* packets out dropped: the owner did not poll in time */
} lec_sctp_stats;

/* 0, LEC_ERR_NOMEM or LEC_ERR_INTERNAL (libusrsctp refused a socket). */
int lec_sctp_new(lec_sctp **out, const lec_sctp_cfg *cfg, const lec_sctp_cbs *cbs);
/* Aborts the association (no callback runs afterwards) and frees it. */
void lec_sctp_free(lec_sctp *s);

/* Starts the association (both ends connect; SCTP resolves the
 * collision).  0 or LEC_ERR_INTERNAL. */
int lec_sctp_connect(lec_sctp *s);

/* One SCTP packet from the peer (a DTLS record's plaintext). */
void lec_sctp_input(lec_sctp *s, const uint8_t *pkt, size_t len);

/* Sends a message on stream sid: ordered and reliable unless `unordered`
 * or `max_rtx` >= 0 (partial reliability, RFC 3758: at most that many
 * retransmissions).  0; LEC_ERR_STATE when not open; LEC_ERR_RANGE past
 * the peer's max-message-size; LEC_ERR_FULL when the send buffer is full
 * (the message is dropped). */
int lec_sctp_send(lec_sctp *s, uint16_t sid, uint32_t ppid, const void *data, size_t len,
                  bool unordered, int max_rtx);

/* Resets our outgoing stream sid (closes a channel, RFC 8831 6.7). */
void lec_sctp_reset_stream(lec_sctp *s, uint16_t sid);

/* Sends what is queued and reads what arrived; runs the callbacks. */
void lec_sctp_poll(lec_sctp *s);
/* Whether something is queued for lec_sctp_poll (any thread may have
 * queued it). */
bool lec_sctp_wants_poll(lec_sctp *s);

/* The peer's max-message-size (RFC 8841; 0: as large as we like). */
void lec_sctp_set_peer_max_message(lec_sctp *s, size_t max);

lec_sctp_state lec_sctp_get_state(const lec_sctp *s);
const lec_sctp_stats *lec_sctp_stats_get(const lec_sctp *s);
/* The smoothed round-trip time SCTP measured (0 before a measure, or
 * under a millisecond), or -1 when the association is not open. */
int lec_sctp_rtt_ms(lec_sctp *s);

/* At exit, once every association is freed: runs libusrsctp's last
 * timers and stops it (its iterator thread too).  0, or LEC_ERR_STATE if
 * it would not stop (an association is still open).  Nothing of this
 * file may be used afterwards. */
int lec_sctp_library_shutdown(void);

/* Advances libusrsctp's timers to `now` (a monotonic clock shared by all
 * callers).  Any thread; calls are serialized. */
void lec_sctp_tick(lec_tstamp now);

#endif
