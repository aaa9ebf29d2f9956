/*
 * WebRTC data channels over an SCTP association (RFC 8831) and the Data
 * Channel Establishment Protocol (RFC 8832), as a sans-I/O core: SCTP
 * messages in (stream id, payload protocol id, bytes), replies and events
 * out.  The shell that owns the association (sctp/sctp.h) sends the
 * replies and resets the streams this core refuses.
 *
 * A channel is opened by the peer with DATA_CHANNEL_OPEN on a stream of
 * its parity (RFC 8832 6: the DTLS client uses even stream ids, the
 * server odd) and acknowledged with DATA_CHANNEL_ACK.  We serve one label
 * (`accept_label`, "lectern" for sessions): any other is refused, and the
 * shell resets its stream, which closes it at the peer (RFC 8831 6.7).
 * We open channels too (lec_dcep_open: a client of our own, the tests),
 * on streams of our parity; messages may go before the ACK (RFC 8832 6).
 */
#ifndef LEC_SCTP_DCEP_H
#define LEC_SCTP_DCEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEC_DCEP_MAX_CHANNELS 4

/* Payload protocol identifiers (RFC 8831 8, IANA "SCTP Payload Protocol
 * Identifiers"). */
enum {
    LEC_PPID_DCEP = 50,
    LEC_PPID_STRING = 51,
    LEC_PPID_STRING_PARTIAL = 52, /* deprecated */
    LEC_PPID_BINARY = 53,
    LEC_PPID_BINARY_PARTIAL = 54, /* deprecated */
    LEC_PPID_STRING_EMPTY = 56,
    LEC_PPID_BINARY_EMPTY = 57,
};

/* RFC 8832 5.1: the channel types. */
enum {
    LEC_DCEP_RELIABLE = 0x00,
    LEC_DCEP_RELIABLE_UNORDERED = 0x80,
    LEC_DCEP_REXMIT = 0x01,
    LEC_DCEP_REXMIT_UNORDERED = 0x81,
    LEC_DCEP_TIMED = 0x02,
    LEC_DCEP_TIMED_UNORDERED = 0x82,
};

typedef struct lec_dcep_chan {
    bool open;
    bool ours, acked; /* we opened it; the peer acknowledged */
    uint16_t sid;
    uint8_t type; /* LEC_DCEP_RELIABLE... */
    uint32_t reliability;
    char label[64];
    char protocol[32];
} lec_dcep_chan;

typedef struct lec_dcep {
    bool dtls_server;         /* our DTLS role: the peer opens even streams if true */
    const char *accept_label; /* the one label served; NULL: any */
    lec_dcep_chan chans[LEC_DCEP_MAX_CHANNELS];
    uint64_t refused, dropped; /* opens refused; messages with nowhere to go */
} lec_dcep;

typedef enum lec_dcep_kind {
    LEC_DCEP_NONE,    /* nothing for the caller (a duplicate ACK, say) */
    LEC_DCEP_OPENED,  /* `chan` opened: send `reply` (the ACK) on its stream */
    LEC_DCEP_REFUSED, /* reset stream `sid` (reason says why) */
    LEC_DCEP_MESSAGE, /* a message on `chan`: data/len, binary or text */
    LEC_DCEP_DROPPED, /* malformed, or on no open channel: counted (reason says why) */
} lec_dcep_kind;

typedef struct lec_dcep_event {
    lec_dcep_kind kind;
    int chan; /* index into chans, or -1 */
    uint16_t sid;
    bool binary;
    const uint8_t *data; /* into the caller's message; empty messages: len 0 */
    size_t len;
    uint8_t reply[1];
    size_t reply_len; /* on `sid`, with LEC_PPID_DCEP */
    char reason[96];
} lec_dcep_event;

void lec_dcep_init(lec_dcep *d, bool dtls_server, const char *accept_label);

/* One whole SCTP message received on stream `sid` with payload protocol
 * `ppid` (host order).  Fills *ev. */
void lec_dcep_input(lec_dcep *d, uint16_t sid, uint32_t ppid, const uint8_t *msg, size_t len,
                    lec_dcep_event *ev);

/* Opens channel `label` (reliable, ordered): writes its DATA_CHANNEL_OPEN
 * into out (cap bytes) for stream *sid, with LEC_PPID_DCEP.  Returns the
 * channel's index, or -1 (no free channel or stream, cap too small). */
int lec_dcep_open(lec_dcep *d, const char *label, uint16_t *sid, uint8_t *out, size_t cap,
                  size_t *len);

/* The peer reset stream `sid` (the channel closed): returns its index, or
 * -1 if no open channel used it. */
int lec_dcep_closed(lec_dcep *d, uint16_t sid);

/* The open channel labelled `label`, or -1. */
int lec_dcep_find(const lec_dcep *d, const char *label);

/* The payload protocol id for a message (RFC 8831 6.6: an empty message
 * goes as one byte with the _EMPTY ids). */
uint32_t lec_dcep_ppid(bool binary, size_t len);

/* A DATA_CHANNEL_OPEN (RFC 8832 5.1) into out; its length, or 0 when cap
 * is too small.  For tests and clients of our own. */
size_t lec_dcep_open_msg(uint8_t type, uint32_t reliability, const char *label,
                         const char *protocol, uint8_t *out, size_t cap);

#endif
