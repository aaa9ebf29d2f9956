/*
 * The relay leg protocol at one end (leg_proto.h): a few timestamps and
 * flags, packets and `now` in, events out.
 */
#include "media/leg_proto.h"

const lec_leg_timing lec_leg_default_timing = {
    .keepalive = 250 * LEC_MS, .up_silence = 1 * LEC_S, .down_silence = 10 * LEC_S};

void lec_leg_proto_init(lec_leg_proto *p, const lec_leg_timing *t, bool upstream,
                        bool report_silence, lec_tstamp now)
{
    *p = (lec_leg_proto){.t = t ? *t : lec_leg_default_timing,
                         .upstream = upstream,
                         .report_silence = report_silence,
                         .created = now,
                         .last_tx = now};
}

unsigned lec_leg_proto_rx(lec_leg_proto *p, bool bye, lec_tstamp now)
{
    if (p->ended)
        return 0;
    unsigned ev = 0;
    p->last_rx = now;
    p->heard = true;
    if (bye) {
        p->ended = true;
        return p->upstream ? LEC_LEG_ENDED : LEC_LEG_CLOSED;
    }
    if (p->upstream && p->silent) {
        p->silent = false;
        ev |= LEC_LEG_HEARD;
    }
    if (!p->upstream && !p->started) {
        p->started = true; /* its first packet: the far end listens */
        ev |= LEC_LEG_STARTED;
    }
    return ev;
}

void lec_leg_proto_sent(lec_leg_proto *p, lec_tstamp now)
{
    p->last_tx = now;
}

/* Quiet since: the last packet heard, or the leg's start. */
static lec_tstamp quiet_since(const lec_leg_proto *p)
{
    return p->heard ? p->last_rx : p->created;
}

unsigned lec_leg_proto_tick(lec_leg_proto *p, lec_tstamp now, lec_tstamp *next)
{
    unsigned ev = 0;
    if (p->ended) {
        if (next)
            *next = LEC_LEG_NEVER;
        return 0;
    }
    lec_tstamp quiet = quiet_since(p);
    lec_tstamp deadline = LEC_LEG_NEVER;
    if (p->upstream) {
        if (p->report_silence && !p->silent) {
            if (now - quiet >= p->t.up_silence) {
                p->silent = true;
                ev |= LEC_LEG_SILENT;
            } else {
                deadline = quiet + p->t.up_silence;
            }
        }
    } else if (now - quiet >= p->t.down_silence) {
        p->ended = true;
        if (next)
            *next = LEC_LEG_NEVER;
        return ev | LEC_LEG_CLOSED;
    } else {
        deadline = quiet + p->t.down_silence;
    }
    if (now - p->last_tx >= p->t.keepalive) {
        ev |= LEC_LEG_KEEPALIVE;
        p->last_tx = now; /* the shell sends it now */
    }
    if (p->last_tx + p->t.keepalive < deadline)
        deadline = p->last_tx + p->t.keepalive;
    if (next)
        *next = deadline;
    return ev;
}

unsigned lec_leg_proto_byes(const lec_leg_proto *p, lec_leg_stop why)
{
    switch (why) {
    case LEC_LEG_STOP_STREAM_ENDED:
        return p->upstream ? 0 : 2;
    case LEC_LEG_STOP_LEAVING:
        return p->upstream ? 1 : 0;
    case LEC_LEG_STOP_SHUTDOWN:
        return p->upstream ? 1 : 0;
    }
    return 0;
}
