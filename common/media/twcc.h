/*
 * Transport-wide congestion control feedback, the receiving side
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01).  A sender that
 * negotiated it stamps every RTP packet of the transport with a 16-bit
 * transport-wide sequence number (a header extension); the receiver notes
 * each arrival with its time and sends feedback (RTCP RTPFB, FMT 15) that
 * says which arrived and when.  From it the sender's estimator (Chrome's
 * GoogCC) sees queues build before loss, so a teacher's uplink ramps to
 * full quality in seconds instead of creeping up on loss reports.
 *
 * A core: arrivals come in with `now`; feedback is built into the
 * caller's buffer; nothing here reads a clock or sends.
 */
#ifndef LEC_MEDIA_TWCC_H
#define LEC_MEDIA_TWCC_H

#include "base/time.h"
#include "rtp/rtp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEC_TWCC_URI    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define LEC_TWCC_WINDOW 4096 /* arrivals kept while unreported (power of two) */
#define LEC_TWCC_TICK   (250 * LEC_US) /* the unit of receive deltas */

typedef struct lec_twcc {
    lec_seq_unwrap unwrap;
    bool have_base;
    uint64_t base;    /* the oldest sequence number not yet reported */
    uint64_t highest; /* the newest that arrived */
    lec_tstamp arrival[LEC_TWCC_WINDOW];
    uint8_t got[LEC_TWCC_WINDOW / 8]; /* arrived, by sequence number mod WINDOW */
    uint8_t fb_count;
    uint64_t late;      /* arrivals for numbers already reported or too old */
    uint64_t feedbacks; /* feedback packets built */
    /* Scratch for lec_twcc_feedback (not on the stack: a worker's stack
     * stays small). */
    uint8_t status[LEC_TWCC_WINDOW];
    int32_t delta[LEC_TWCC_WINDOW];
} lec_twcc;

void lec_twcc_init(lec_twcc *t);
/* A packet with transport-wide sequence number `seq` arrived at `now`. */
void lec_twcc_arrived(lec_twcc *t, uint16_t seq, lec_tstamp now);
/* Builds one feedback packet for the oldest unreported numbers up to the
 * newest arrival, as many as fit in `cap` (at most LEC_TWCC_WINDOW); returns its
 * length, 0 when there is nothing to report (or cap < 64).  Call again
 * while it returns more than 0. */
size_t lec_twcc_feedback(lec_twcc *t, uint32_t sender_ssrc, uint32_t media_ssrc, uint8_t *b,
                         size_t cap);

/* A feedback packet read back (tests; a sender's side later). */
#define LEC_TWCC_PARSE_MAX LEC_TWCC_WINDOW
typedef struct lec_twcc_report {
    uint16_t base_seq;
    uint16_t count;
    int32_t reference; /* multiples of 64 ms, sign-extended from 24 bits */
    uint8_t fb_count;
    bool received[LEC_TWCC_PARSE_MAX];
    int32_t delta[LEC_TWCC_PARSE_MAX]; /* in LEC_TWCC_TICKs, from the previous arrival */
} lec_twcc_report;
/* 0, or LEC_ERR_INVAL for what is not a well-formed feedback packet (or
 * reports more than LEC_TWCC_PARSE_MAX numbers). */
int lec_twcc_parse(const uint8_t *b, size_t len, lec_twcc_report *out);

#endif
