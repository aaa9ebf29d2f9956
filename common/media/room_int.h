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

static inline lec_room_viewer *lec__room_find_viewer(const lec_room *r, uint32_t id)
{
    for (lec_room_viewer *v = r->viewers; v; v = v->next)
        if (v->id == id)
            return v;
    return NULL;
}
/* A packet rewritten for v and sent; a `repair` goes as RTX when v
 * negotiated it (relay legs never do: they take repairs as they were).
 * Without RTX, the repair must be the same bytes as the original (the
 * same sequence number is the same SRTP nonce): `playout_ms` is the
 * playout delay the packet carried then (kept in the ring's meta). */
bool lec__room_send_to(lec_room *r, lec_room_viewer *v, unsigned ti, const uint8_t *pkt, size_t len,
                       const lec_rtp_hdr *h, bool repair, unsigned playout_ms, lec_tstamp now);
/* Sends r->scratch (len bytes) to v: stamped with its transport-wide
 * sequence number when it has an estimator. */
void lec__room_emit(lec_room *r, lec_room_viewer *v, size_t len, lec_tstamp now);
/* The same, saying what it is to the estimator (LEC_BWE_*). */
void lec__room_emit_as(lec_room *r, lec_room_viewer *v, size_t len, int kind, lec_tstamp now);
/* A live packet went to v: it earns resend credit (room.h). */
static inline void lec__room_earn(lec_room_viewer *v)
{
    int32_t cap = (v->leg ? LEC_ROOM_LEG_BURST : LEC_ROOM_RESEND_BURST) * 4;
    v->resend_credit += v->leg ? LEC_ROOM_LEG_SHARE : LEC_ROOM_RESEND_SHARE;
    if (v->resend_credit > cap)
        v->resend_credit = cap;
}
/* A keyframe asked of the publisher for track ti, or (-1) every video
 * track; coalesced per track. */
void lec__room_request_keyframe(lec_room *r, int ti, lec_tstamp now);
/* The forwarder (and RTX state) of v that track ti goes through: a
 * viewer's layers share the first layer's (room.h). */
static inline unsigned lec__room_slot(const lec_room *r, const lec_room_viewer *v, unsigned ti)
{
    return !v->leg && r->tracks[ti].layer ? r->vslot : ti;
}
/* Whether viewer v gets a packet of layer ti: its layer, or its target
 * at a keyframe (the switch happens then).  Legs get every layer. */
static inline bool lec__room_gets(const lec_room *r, const lec_room_viewer *v, unsigned ti)
{
    return v->leg || !r->tracks[ti].layer || v->cur == (int)ti;
}
/* layers.c: the layer a packet on a layered payload type is on (by SSRC,
 * else by its rid, then learned), or NULL; the switch at a keyframe; the
 * layer a starting viewer gets (a track index, -1); rates, ranks and
 * every viewer's target, each tick (a new target marks its track's
 * `kf_wanted`: the tick asks for the keyframe). */
lec_room_track *lec__room_layer_for(lec_room *r, const uint8_t *pkt, const lec_rtp_hdr *h);
bool lec__room_follow(lec_room *r, lec_room_viewer *v, unsigned ti, bool keyframe);
int lec__room_start_layer(lec_room *r, lec_room_viewer *v, lec_tstamp now);
void lec__room_layers_tick(lec_room *r, lec_tstamp now);
/* What v's link must carry for the next sending layer above its own (its
 * rate with the margin to go up, and the audio); 0: none above. */
uint32_t lec__room_next_need(const lec_room *r, const lec_room_viewer *v, lec_tstamp now);
/* room_rtcp.c: viewers' estimates into their layer choice, and probes. */
void lec__room_bwe_tick(lec_room *r, lec_tstamp now);
/* Our Receiver Report to the publisher. */
void lec__room_send_rr(lec_room *r, lec_tstamp now);
/* repair.c: the upstream's holes (NACKs, give-up) and the playout delay. */
#define LEC_ROOM_RING_SLOTS 1024
void lec__room_nack_due(lec_room *r, lec_room_track *t, lec_tstamp now);
void lec__room_note_holes(lec_room *r, lec_room_track *t, uint64_t from, uint64_t to, lec_tstamp now);
bool lec__room_fills_hole(lec_room *r, lec_room_track *t, uint64_t ext, lec_tstamp now);
void lec__room_update_playout(lec_room *r);

#endif
