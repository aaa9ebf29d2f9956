/*
 * The worker's media engine, private to sfu/: the types sfu.c (sessions,
 * rooms) and leg.c (relay legs) share.
 */
#ifndef LEC_SFU_SFU_INT_H
#define LEC_SFU_SFU_INT_H

#include "media/leg_proto.h"
#include "media/room.h"
#include "peer/peer.h"
#include "sfu/sfu.h"
#include "srtp/srtp_session.h"

typedef struct leg leg;

#define LEG_BUCKETS 64 /* a worker's legs by the tag on packets to it (random bits) */
typedef struct session session;

typedef struct room {
    char stream[65];
    lec_room core;
    lec_room_stats counted; /* what has gone into the metrics already */
    lec_tstamp last_report; /* the last repair summary in the log */
    lec_room_stats reported;
    session *pub;
    session *viewers;
    leg *up;         /* the relay leg that feeds it, when not a local publisher */
    leg *downs;      /* relay legs and pipes it feeds */
    unsigned ndowns; /* relay legs among them */
    unsigned npipes; /* pipes among them */
    uint32_t depth;  /* relay hops from the publisher */
    uv_timer_t timer;
    bool live;
    unsigned sessions; /* sessions pointing here, ended ones included until reaped */
    bool closing;      /* its timer is closing */
    struct room *next;
    struct lec_sfu *sfu;
} room;

struct session {
    char id[33];
    uint32_t vid; /* the room's id for a viewer */
    bool publisher;
    bool dying;
    room *room;
    lec_peer *peer;
    struct lec_sfu *sfu;
    char remote_ufrag[64];
    lec_tstamp created;   /* for the join time: request to first media */
    session *next;        /* all sessions of the sfu */
    session *next_viewer; /* the room's viewers */
    session *next_dying;
};

struct lec_sfu {
    lec_sfu_env env;
    room *rooms;
    session *sessions;
    session *dying;
    uv_timer_t reaper;
    uint32_t next_vid;
    leg *legs[LEG_BUCKETS]; /* every leg of this worker, hashed by rx tag */
    bool freeing;
    int open_handles;
};

/* A relay leg (relay/relay.h): upstream (it feeds our room: we are the
 * requester) or downstream (it is a subscriber of our room: we are the
 * source).  Packets to us carry rx_tag; ours to the peer carry tx_tag. */
struct leg {
    uint64_t rx_tag, tx_tag;
    uint64_t leg_id; /* the requester's id (RelayClose names it) */
    lec_addr peer;
    bool upstream;
    bool dead;
    bool pipe;            /* to or from another worker of this node: no SRTP */
    unsigned peer_worker; /* pipe: that worker */
    lec_srtp *tx, *rx;
    room *room;
    uint32_t vid; /* downstream: its id in the room */
    lec_leg_proto proto; /* keepalive, start, silence, BYE (media/leg_proto.h) */
    uint64_t auth_failures;
    char peer_node[65];
    leg *next;      /* in the sfu's bucket for rx_tag */
    leg *next_down; /* the room's downstream legs */
};

lec_tstamp lec__sfu_now(const lec_sfu *s);
void lec__sfu_emit(lec_sfu *s, lec_sfu_event_kind kind, const char *stream, const char *sid,
                   unsigned viewers);
void lec__sfu_emit_count(room *r);
room *lec__sfu_find_room(lec_sfu *s, const char *stream);
room *lec__sfu_room_new(lec_sfu *s, const char *stream);
void lec__sfu_room_maybe_free(room *r);
void lec__sfu_end_viewers(room *r);

/* A downstream leg's pointer for lec_room_viewer_bind (tagged: a leg). */
void *lec__sfu_leg_ud(leg *l);

/* leg.c */
void lec__leg_send_rtp(leg *l, uint8_t *pkt, size_t len, size_t cap);
void lec__leg_send_rtcp(leg *l, uint8_t *pkt, size_t len, size_t cap);
/* The room's publisher left or its upstream ended: BYE to and drop its
 * downstream legs. */
void lec__legs_end_downs(room *r);
/* From the room's tick: silence checks and keepalives. */
void lec__legs_tick(room *r, lec_tstamp now);
void lec__leg_free_all(lec_sfu *s);
/* The relay socket and the pipes, on this worker's loop. */
int lec__sfu_relay_attach(lec_sfu *s);
void lec__sfu_relay_detach(lec_sfu *s);

#endif
