/*
 * The room's repairs of its own upstream (room_int.h): holes in what the
 * publisher or the upstream leg sends are NACKed at once and again each
 * retry interval (the measured repair time), three times at most, and
 * given up one interval after the third ask; what the repairs take sets
 * the playout delay asked of viewers.
 */
#include "media/room.h"
#include "media/room_int.h"
#include "rtp/rtcp.h"

#include <string.h>

/* How long to wait for a repair before asking again: the measured repair
 * time (the upstream round trip, plus whatever the hops above needed) with
 * a margin, and never less than the configured floor. */
static lec_tstamp retry_interval(const lec_room *r)
{
    lec_tstamp t = r->repair_rtt + r->repair_rtt / 4 + 10 * LEC_MS;
    return t > r->nack_retry ? t : r->nack_retry;
}

/* Asks the publisher again for the holes that are due: new ones at once,
 * old ones every retry interval, three times at most, and never for what
 * the ring could no longer hold.  A hole is given up one retry interval
 * after its third ask, not at the next call (a new hole comes every few
 * packets on a lossy leg: the third answer was never waited for). */
void lec__room_nack_due(lec_room *r, lec_room_track *t, lec_tstamp now)
{
    uint16_t seqs[LEC_ROOM_MAX_MISSING];
    size_t n = 0;
    unsigned keep = 0;
    lec_tstamp retry = retry_interval(r);
    for (unsigned i = 0; i < t->nmiss; i++) {
        struct lec_room_miss m = t->miss[i];
        if ((m.tries >= 3 && now - m.asked >= retry) || m.ext + LEC_ROOM_RING_SLOTS / 2 <= t->highest_ext) {
            r->stats.unrepaired++;
            continue;
        }
        if (m.tries < 3 && (!m.tries || now - m.asked >= retry)) {
            seqs[n++] = (uint16_t)m.ext;
            if (!m.tries)
                m.first_asked = now;
            m.asked = now;
            m.tries++;
        }
        t->miss[keep++] = m;
    }
    t->nmiss = keep;
    if (!n)
        return;
    size_t len = lec_rtcp_build_nack(r->scratch, LEC_ROOM_PKT_MAX, r->rtcp_ssrc, t->ssrc, seqs, n);
    if (len) {
        r->stats.nack_out++;
        /* Up a relay leg, LEG_COPIES times (see answer_nack); each copy
         * is built anew, since sending protects the buffer in place. */
        for (int copy = 0; copy < (r->up_copies ? r->up_copies : 1); copy++) {
            if (copy)
                len = lec_rtcp_build_nack(r->scratch, LEC_ROOM_PKT_MAX, r->rtcp_ssrc, t->ssrc, seqs,
                                          n);
            r->io.send_rtcp(r->io.ud, 0, NULL, r->scratch, len, sizeof r->scratch);
        }
    }
}

/* Notes the holes [from, to) in t's stream; a burst too long to repair
 * packet by packet asks for a keyframe instead. */
void lec__room_note_holes(lec_room *r, lec_room_track *t, uint64_t from, uint64_t to, lec_tstamp now)
{
    if (!(r->upstream_leg || (t->codec.fb & LEC_FB_NACK)) || !t->has_ring)
        return;
    if (to - from > LEC_ROOM_MAX_MISSING / 2) {
        lec__room_request_keyframe(r, (int)(t - r->tracks), now);
        return;
    }
    for (uint64_t e = from; e < to; e++) {
        if (t->nmiss == LEC_ROOM_MAX_MISSING) { /* full: the oldest goes */
            memmove(t->miss, t->miss + 1, (t->nmiss - 1) * sizeof t->miss[0]);
            t->nmiss--;
            r->stats.unrepaired++;
        }
        t->miss[t->nmiss++] = (struct lec_room_miss){.ext = e};
    }
    lec__room_nack_due(r, t, now);
}

/* A packet older than the newest: a hole filled (true), or a duplicate or
 * a packet from before we started (false: drop it). */
bool lec__room_fills_hole(lec_room *r, lec_room_track *t, uint64_t ext, lec_tstamp now)
{
    for (unsigned i = 0; i < t->nmiss; i++) {
        if (t->miss[i].ext == ext) {
            if (t->miss[i].tries) { /* learn how long a repair takes */
                lec_tstamp took = now - t->miss[i].first_asked;
                r->repair_rtt = r->repair_rtt ? (7 * r->repair_rtt + took) / 8 : took;
                if (took > r->repair_peak)
                    r->repair_peak = took;
            }
            t->miss[i] = t->miss[--t->nmiss];
            r->stats.repaired++;
            return true;
        }
    }
    /* Not asked for: reordered on the way (new to us) or a duplicate. */
    size_t len;
    uint64_t meta;
    uint8_t probe[LEC_ROOM_PKT_MAX];
    return !t->has_ring || lec_ring_read(&t->ring, ext, probe, sizeof probe, &len, &meta) != 0;
}

/* The delay asked of viewers: the slowest recent repair and a margin for
 * one that needs a second ask, forgotten slowly (halved in about 20 s, at
 * a tick every 50 ms) once repairs stop.  It moves by at most 100 ms a
 * second up and 20 ms a second down: a player that is told at once to
 * hold frames much longer pauses, and a pause is a freeze. */
void lec__room_update_playout(lec_room *r)
{
    r->repair_peak -= r->repair_peak / 600;
    unsigned ms = (unsigned)(r->repair_peak / LEC_MS);
    ms += ms / 2 + 60;
    unsigned target = ms < 80 ? 0 : (ms > 1000 ? 1000 : ms);
    if (target > r->playout_ms)
        r->playout_ms = target - r->playout_ms > 5 ? r->playout_ms + 5 : target;
    else if (target < r->playout_ms)
        r->playout_ms = r->playout_ms - target > 1 ? r->playout_ms - 1 : target;
}

