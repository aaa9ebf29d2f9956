/*
 * The room core, private to media/: what room.c (tracks, viewers, the
 * publisher's packets, repairs upstream, the GOP cache) and room_rtcp.c
 * (RTCP both ways) share.
 */
#ifndef LEC_MEDIA_ROOM_INT_H
#define LEC_MEDIA_ROOM_INT_H

#include "media/room.h"
#include "rtp/rtp.h"

#define LEG_COPIES 3 /* NACKs and repairs on relay legs: rare, and worth a round trip each */

lec_room_viewer *lec__room_find_viewer(const lec_room *r, uint32_t id);
/* A packet rewritten for v and sent; a `repair` goes as RTX when v
 * negotiated it (relay legs never do: they take repairs as they were).
 * Without RTX, the repair must be the same bytes as the original (the
 * same sequence number is the same SRTP nonce): `playout_ms` is the
 * playout delay the packet carried then (kept in the ring's meta). */
bool lec__room_send_to(lec_room *r, lec_room_viewer *v, unsigned ti, const uint8_t *pkt, size_t len,
                       const lec_rtp_hdr *h, bool repair, unsigned playout_ms);
/* A live packet went to v: it earns resend credit (room.h). */
static inline void lec__room_earn(lec_room_viewer *v)
{
    int32_t cap = (v->leg ? LEC_ROOM_LEG_BURST : LEC_ROOM_RESEND_BURST) * 4;
    v->resend_credit += v->leg ? LEC_ROOM_LEG_SHARE : LEC_ROOM_RESEND_SHARE;
    if (v->resend_credit > cap)
        v->resend_credit = cap;
}
/* A keyframe asked of the publisher (coalesced). */
void lec__room_request_keyframe(lec_room *r, lec_tstamp now);
/* Our Receiver Report to the publisher. */
void lec__room_send_rr(lec_room *r, lec_tstamp now);

#endif
