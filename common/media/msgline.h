/*
 * Messages on a relay leg, reliable and in order, as a sans-I/O core: the
 * classroom's messages (classroom/class.h) ride the legs that carry a
 * stream's media, down from the teacher's node and up to it, repaired per
 * hop as the media is.  Nothing in this path waits on NATS.
 *
 * Each leg end has one line: a sender (its messages out) and a receiver
 * (the far end's in).  A message is cut into fragments of at most
 * LEC_ML_FRAG bytes, each with a sequence number, sent as an RTCP APP
 * packet (RFC 3550 6.7) named "LECM" (subtype: first and last fragment
 * bits); the leg's SRTCP protects it.  The receiver answers every fragment
 * with "LECA": the next sequence number it expects (all before it are in)
 * and up to LEC_ML_MISSING numbers past it that it lacks, which the sender
 * sends again at once (a NACK); what stays unanswered for a retransmission
 * timeout (from the round trip measured on first sendings, Karn) is sent
 * again with backoff up to 2 s, for as long as the leg lives (a leg whose
 * far end is gone is closed by its silence, media/leg_proto.h).  At most
 * LEC_ML_WINDOW fragments are in flight; messages past that wait, in
 * order, LEC_ML_QUEUE of them and LEC_ML_QUEUE_BYTES at most (a burst of
 * answers at a quiz's end); past that a message is refused.  The receiver
 * keeps out-of-order fragments in the same window and delivers whole
 * messages in order.
 */
#ifndef LEC_MEDIA_MSGLINE_H
#define LEC_MEDIA_MSGLINE_H

#include "base/time.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEC_ML_FRAG        1000 /* payload bytes per packet (fits SRTCP in 1200) */
#define LEC_ML_WINDOW      128  /* fragments in flight, and held out of order */
#define LEC_ML_MISSING     16   /* holes an ACK names */
#define LEC_ML_QUEUE       4096 /* messages waiting for the window */
#define LEC_ML_QUEUE_BYTES (2u << 20)
#define LEC_ML_MAX_MSG     (LEC_ML_FRAG * 32) /* longest message */
#define LEC_ML_PKT_MAX     (20 + LEC_ML_FRAG)
#define LEC_ML_TRAILER     64 /* spare bytes after a packet handed to io.send */

typedef struct lec_ml_frag {
    bool used;
    uint8_t flags; /* 1: first fragment of a message, 2: last */
    uint16_t len;
    uint32_t seq;
    uint8_t tries;
    lec_tstamp sent; /* last sent */
    uint8_t data[LEC_ML_FRAG];
} lec_ml_frag;

typedef struct lec_ml_stats {
    uint64_t messages_out, messages_in, packets_out, resent, acks_in, acks_out;
    uint64_t refused;   /* messages not taken: the queue full, too long */
    uint64_t queued;    /* messages that waited for the window */
    uint64_t malformed; /* packets in that made no sense */
    uint64_t duplicates;
} lec_ml_stats;

typedef struct lec_msgline {
    uint32_t ssrc; /* ours, in the packets' SSRC field */
    /* sender */
    lec_ml_frag *tx;          /* [LEC_ML_WINDOW], by seq % window; allocated on first use */
    uint32_t next_seq, acked; /* fragments before `acked` are in at the far end */
    lec_tstamp srtt, rto;
    struct lec_ml_wait *wait_head, *wait_tail; /* messages waiting for the window */
    size_t nwait, wait_bytes;
    /* receiver */
    lec_ml_frag *rx;
    uint32_t expect;
    uint8_t *msg; /* the message being put together */
    size_t msg_len;
    bool in_msg;
    lec_ml_stats st;
} lec_msgline;

/* What a call asks of the shell: packets to send on the leg, and whole
 * messages that came. */
typedef struct lec_ml_io {
    void (*send)(void *ud, uint8_t *pkt, size_t len); /* RTCP; LEC_ML_TRAILER spare bytes */
    void (*deliver)(void *ud, const uint8_t *msg, size_t len);
    void *ud;
} lec_ml_io;

void lec_msgline_init(lec_msgline *ml, uint32_t ssrc);
void lec_msgline_free(lec_msgline *ml);

/* Sends a message (or queues it behind the window).  0; LEC_ERR_RANGE
 * (empty or past LEC_ML_MAX_MSG); LEC_ERR_FULL (the queue is full);
 * LEC_ERR_NOMEM. */
int lec_msgline_send(lec_msgline *ml, const uint8_t *msg, size_t len, lec_tstamp now,
                     const lec_ml_io *io);

/* Whether an RTCP packet is one of ours (LECM or LECA). */
bool lec_msgline_is(const uint8_t *pkt, size_t len);
/* One of our packets from the far end. */
void lec_msgline_input(lec_msgline *ml, const uint8_t *pkt, size_t len, lec_tstamp now,
                       const lec_ml_io *io);
/* Retransmits what timed out; call every few tens of ms. */
void lec_msgline_tick(lec_msgline *ml, lec_tstamp now, const lec_ml_io *io);

/* Fragments sent and not yet acknowledged. */
uint32_t lec_msgline_in_flight(const lec_msgline *ml);

#endif
