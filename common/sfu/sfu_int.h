/*
 * The worker's media engine, private to sfu/: the types sfu.c (sessions,
 * rooms) and leg.c (relay legs) share.
 */
#ifndef LEC_SFU_SFU_INT_H
#define LEC_SFU_SFU_INT_H

#include "classroom/class.h"
#include "media/leg_proto.h"
#include "media/msgline.h"
#include "media/room.h"
#include "peer/peer.h"
#include "sdp/negotiate.h"
#include "sfu/sfu.h"
#include "srtp/srtp_session.h"

typedef struct leg leg;

#define LEG_BUCKETS 64 /* a worker's legs by the tag on packets to it (random bits) */
typedef struct session session;
typedef struct pub_feedback pub_feedback;

/* A stream on this worker: the room core (media/room.h, `core`) and what
 * the worker keeps around it (its sessions, legs, timer).  Named apart from
 * the core: `lec_room` is the sans-I/O room, `stream_room` its shell here. */
typedef struct stream_room {
    char stream[65];
    lec_room core;
    lec_room_stats counted;    /* what has gone into the metrics already */
    unsigned layer_counted[3]; /* its viewers on the low, medium, high layer, as counted */
    lec_tstamp estimates_at;   /* viewers' estimates last observed */
    lec_tstamp last_report;    /* the last repair summary in the log */
    lec_room_stats reported;
    lec_class cls;               /* its classroom: quizzes, answers, questions (classroom.c) */
    lec_class_stats cls_counted; /* its classroom's stats as they went into the metrics */
    /* A classroom message from a leg or pipe (classroom.c sets it): down
     * from the home when from its upstream leg, else up to it. */
    void (*class_in)(struct stream_room *r, bool from_upstream, const uint8_t *data, size_t len);
    /* Onto its downstream legs and pipes, or its upstream leg (leg.c; sfu.c
     * sets it): classroom.c names no function of leg.c. */
    void (*class_out)(struct stream_room *r, bool down, const char *msg, size_t len);
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
    struct stream_room *next;
    struct lec_sfu *sfu;
} stream_room;

struct session {
    char id[33];
    uint32_t vid; /* the room's id for a viewer */
    bool publisher;
    bool dying;
    bool connected;       /* ICE and DTLS were done once */
    unsigned ncandidates; /* remote ICE candidates given to the agent */
    char refused[400];    /* offer sections not served, and why */
    stream_room *room;
    lec_peer *peer;
    struct lec_sfu *sfu;
    char remote_ufrag[64];
    lec_tstamp created;     /* for the join time: request to first media */
    session *next;          /* all sessions of the sfu */
    session *next_viewer;   /* the room's viewers */
    pub_feedback *feedback; /* a publisher's congestion feedback (feedback.c), or NULL */
    /* its lectern data channel (classroom.c) */
    bool data;                 /* negotiated */
    int chan;                  /* the open channel, or -1 */
    double msg_tokens;         /* what it may still send now */
    lec_tstamp msg_at;         /* tokens counted up to */
    lec_class_ask_budget asks; /* its questions and hands */
    lec_rtt_window rtt;        /* a student's smallest round trip lately (its RTCP reports) */
    uint64_t msg_in, msg_refused, msg_undelivered;
    session *next_dying;
};

struct lec_sfu {
    lec_sfu_env env;
    stream_room *rooms;
    session *sessions;
    session *dying;
    uv_timer_t reaper;
    uv_timer_t dc_timer; /* SCTP's timers and polls while ndata > 0 (classroom.c) */
    unsigned ndata;      /* sessions with a data channel negotiated */
    unsigned dc_ticks;
    uint32_t next_vid;
    leg *legs[LEG_BUCKETS]; /* every leg of this worker, hashed by rx tag */
    bool freeing;
    int open_handles;
};

/* A relay leg (relay/relay.h): upstream (it feeds our room: we are the
 * requester) or downstream (it is a subscriber of our room: we are the
 * source).  Packets to us carry rx_tag; ours to the peer carry tx_tag. */
struct leg {
    /* A leg's identifiers: `leg_id` is the requester's tag, chosen by it and
     * named in RelayOpen/RelayClose; each end routes what it receives by its
     * own `rx_tag` (the requester's rx_tag is leg_id, the source's is the
     * `source_tag` of RelayOpened) and stamps what it sends with the far
     * end's (`tx_tag`).  `vid` is the leg's id among the room core's
     * subscribers (downstream only). */
    uint64_t rx_tag, tx_tag;
    uint64_t leg_id;
    lec_addr peer;
    bool upstream;
    bool dead;
    bool pipe;            /* to or from another worker of this node: no SRTP */
    unsigned peer_worker; /* pipe: that worker */
    lec_srtp *tx, *rx;
    stream_room *room;
    uint32_t vid;        /* downstream: its id in the room */
    lec_leg_proto proto; /* keepalive, start, silence, BYE (media/leg_proto.h) */
    lec_msgline ml;      /* the classroom's messages, both ways (media/msgline.h) */
    uint64_t auth_failures;
    char peer_node[65];
    leg *next;      /* in the sfu's bucket for rx_tag */
    leg *next_down; /* the room's downstream legs */
};

lec_tstamp lec__sfu_now(const lec_sfu *s);
/* A live (not dying) session by id, or NULL. */
session *lec__sfu_find_session(lec_sfu *s, const char *id);
void lec__sfu_emit(lec_sfu *s, lec_sfu_event_kind kind, const char *stream, const char *sid,
                   unsigned viewers);
void lec__sfu_emit_count(stream_room *r);
stream_room *lec__sfu_find_room(lec_sfu *s, const char *stream);
stream_room *lec__sfu_room_new(lec_sfu *s, const char *stream);
void lec__sfu_room_maybe_free(stream_room *r);
void lec__sfu_end_viewers(stream_room *r);

/* A downstream leg's pointer for lec_room_viewer_bind (tagged: a leg). */
void *lec__sfu_leg_ud(leg *l);

/* classroom.c: the lectern data channel of a session. */
#define LEC_CLASS_LABEL       "lectern"
#define LEC_CLASS_MAX_MESSAGE 16384 /* our a=max-message-size */
#define LEC_CLASS_MAX_IN      4096  /* a client's message, longest taken */
#define LEC_CLASS_RATE        5     /* a client's messages a second, sustained */
#define LEC_CLASS_BURST       20    /* and at once */
void lec__class_init(lec_sfu *s);
void lec__class_free(lec_sfu *s);
void lec__class_offer(lec_sdp_answer_opts *o);
/* After the answer: data channels on the peer if a section was accepted. */
void lec__class_setup(session *x, const lec_sdp *offer, const lec_sdp *ans);
void lec__class_gone(session *x);
void lec__class_room_init(stream_room *r);
void lec__class_room_free(stream_room *r);
/* The room's publisher is here: its classroom is the home. */
void lec__class_room_home(stream_room *r);
/* The worker's SCTP and classroom tick must run (a quiz is scheduled). */
void lec__class_kick(lec_sfu *s);
void lec__class_channel(void *ud, lec_peer *p, int chan, bool open);
void lec__class_message(void *ud, lec_peer *p, int chan, bool binary, const uint8_t *data,
                        size_t len);
/* 0, or LEC_ERR_STATE (no open channel), LEC_ERR_FULL, LEC_ERR_RANGE. */
int lec__class_send(session *x, const char *json, size_t len);
void lec__class_stats(session *x, lec_sfu_session_stats *out);
/* Adds what the room's classroom counted since last time to the metrics. */
void lec__class_count(stream_room *r);

/* leg.c */
/* Classroom messages onto the room's downstream legs and pipes, or its
 * upstream leg (in order, repaired per hop). */
void lec__legs_class_out(stream_room *r, bool down, const char *msg, size_t len);
void lec__leg_send_rtp(leg *l, uint8_t *pkt, size_t len, size_t cap);
void lec__leg_send_rtcp(leg *l, uint8_t *pkt, size_t len, size_t cap);
/* The room's publisher left or its upstream ended: BYE to and drop its
 * downstream legs. */
void lec__legs_end_downs(stream_room *r);
/* From the room's tick: silence checks and keepalives. */
void lec__legs_tick(stream_room *r, lec_tstamp now);
void lec__leg_free_all(lec_sfu *s);
/* The relay socket and the pipes, on this worker's loop. */
int lec__sfu_relay_attach(lec_sfu *s);
void lec__sfu_relay_detach(lec_sfu *s);

/* Congestion feedback to a publisher (feedback.c): set up from its
 * answer, fed its RTP, sent at each room tick, freed with the session. */
void lec__feedback_setup(session *x, const lec_sdp *answer, uint32_t max_kbps);
/* A libwebrtc sender's start (and, with a ceiling, maximum) bitrate in the
 * answer's video fmtp, where transport-cc was negotiated. */
void lec__feedback_answer(lec_sdp *answer, uint32_t max_kbps);
void lec__feedback_rtp(session *x, const uint8_t *pkt, size_t len, lec_tstamp now);
void lec__feedback_tick(stream_room *r, lec_tstamp now);
void lec__feedback_free(session *x);
/* What feedback the publisher gets, into its stats. */
void lec__feedback_stats(const session *x, lec_sfu_session_stats *out);

#endif
