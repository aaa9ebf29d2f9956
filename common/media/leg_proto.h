/*
 * The relay leg protocol at one end, as a sans-I/O core (sfu/leg.c is its
 * shell: SRTP, sockets, rooms).  A leg joins a stream's room on two nodes
 * (or two workers, through a pipe): the requester's end is the room's
 * publisher (upstream), the source's end one of its subscribers
 * (downstream).  What the protocol decides, from packets and `now` alone:
 *
 *   - keepalive: each end sends a small RTCP packet (an empty RR) when it
 *     has sent nothing for `keepalive`, so a leg with no media (a paused
 *     teacher) stays alive, on the network and in NATs;
 *   - start: a downstream end sends media only once the requester's first
 *     packet proves its end is ready (then from the GOP cache);
 *   - silence: an upstream end heard nothing for `up_silence` reports it,
 *     once per quiet spell (the node re-sources: failover, viewers stay);
 *     heard again, it says so.  A downstream end heard nothing for
 *     `down_silence` is dropped (the requester went away);
 *   - BYE: on an upstream end it means the stream ended at the publisher;
 *     on a downstream end, the requester closed the leg.  How many BYE
 *     copies an end sends when it stops is lec_leg_proto_byes.
 *
 * Repair timing (NACK retries after the leg's round trip) is the room
 * core's (media/room.h), which a leg feeds.
 */
#ifndef LEC_MEDIA_LEG_PROTO_H
#define LEC_MEDIA_LEG_PROTO_H

#include "base/time.h"

#include <stdbool.h>
#include <stdint.h>

#define LEC_LEG_NEVER UINT64_MAX /* no deadline */

typedef struct lec_leg_timing {
    lec_tstamp keepalive;    /* nothing sent this long: an empty RR */
    lec_tstamp up_silence;   /* upstream heard nothing this long: report it */
    lec_tstamp down_silence; /* downstream heard nothing this long: drop it */
} lec_leg_timing;

/* 250 ms, 1 s, 10 s. */
extern const lec_leg_timing lec_leg_default_timing;

typedef struct lec_leg_proto {
    lec_leg_timing t;
    bool upstream;
    bool report_silence; /* false for pipes: the node closes an idle shard itself */
    lec_tstamp created, last_rx, last_tx;
    bool heard;   /* a packet came from the far end */
    bool started; /* downstream: the requester is ready */
    bool silent;  /* upstream: reported quiet, not heard since */
    bool ended;   /* a BYE came, or the end was dropped: no more events */
} lec_leg_proto;

/* What a packet or the passing of time asks of the shell (bit set). */
enum {
    LEC_LEG_STARTED = 1 << 0,   /* downstream: send media now (GOP cache first) */
    LEC_LEG_ENDED = 1 << 1,     /* upstream BYE: the stream ended upstream */
    LEC_LEG_CLOSED = 1 << 2,    /* downstream BYE, or quiet for down_silence: drop it */
    LEC_LEG_SILENT = 1 << 3,    /* upstream quiet for up_silence: re-source */
    LEC_LEG_HEARD = 1 << 4,     /* upstream heard again after LEC_LEG_SILENT */
    LEC_LEG_KEEPALIVE = 1 << 5, /* send an empty RR now */
};

/* Why an end stops, for lec_leg_proto_byes. */
typedef enum lec_leg_stop {
    LEC_LEG_STOP_STREAM_ENDED, /* downstream: the publisher left */
    LEC_LEG_STOP_LEAVING,      /* upstream: we close it, or move to another source */
    LEC_LEG_STOP_SHUTDOWN,     /* this node stops; the stream goes on elsewhere */
} lec_leg_stop;

/* t: NULL for lec_leg_default_timing (copied). */
void lec_leg_proto_init(lec_leg_proto *p, const lec_leg_timing *t, bool upstream,
                        bool report_silence, lec_tstamp now);
/* An authentic packet from the far end (bye: its RTCP carries a BYE);
 * returns the events it causes. */
unsigned lec_leg_proto_rx(lec_leg_proto *p, bool bye, lec_tstamp now);
/* This end sent a packet (media, repair, report or keepalive). */
void lec_leg_proto_sent(lec_leg_proto *p, lec_tstamp now);
/* Time passed: the events due at `now`; *next (when not NULL) the time
 * of the next deadline, for the shell's timer. */
unsigned lec_leg_proto_tick(lec_leg_proto *p, lec_tstamp now, lec_tstamp *next);
/* BYE copies this end sends when it stops: 2 when the stream ended (so
 * one lost copy still reaches the far end; if both are lost, silence
 * ends it there after up_silence), 1 when an upstream end leaves (the
 * source frees its end at once, else at down_silence), 0 at a shutdown
 * of a downstream end (its requester re-sources when we go quiet: a BYE
 * would say the stream ended, and it has not). */
unsigned lec_leg_proto_byes(const lec_leg_proto *p, lec_leg_stop why);

#endif
