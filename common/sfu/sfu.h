/*
 * The media engine of one worker (a shell over the cores): rooms (one per
 * stream, all its sessions on this worker), publisher and viewer sessions
 * (each a lec_peer), and the forwarding between them: each publisher
 * packet goes into its track's ring (the retransmission store) and out to
 * every viewer through the viewer's forwarder (media/forwarder.h); viewer
 * keyframe requests are coalesced upstream; viewer NACKs are answered from
 * the ring; the publisher's Sender Reports reach viewers with their
 * timestamps rewritten, so lip sync survives the SFU.
 *
 * Everything here runs on the worker's thread; the node talks to it with
 * messages and hears back through `event`.
 */
#ifndef LEC_SFU_SFU_H
#define LEC_SFU_SFU_H

#include "base/addr.h"
#include "base/log.h"
#include "dtls/dtls.h"
#include "ice/glib_loop.h"
#include "media/room.h"
#include "metrics/metrics.h"
#include "sdp/sdp.h"

#include <uv.h>

typedef struct lec_sfu lec_sfu;

#define LEC_SFU_MAX_REMOTE_CANDIDATES 32 /* per session: offered and trickled */

typedef enum lec_sfu_event_kind {
    LEC_SFU_STREAM_LIVE,       /* a publisher's media flows */
    LEC_SFU_STREAM_ENDED,      /* the publisher left */
    LEC_SFU_SESSION_GONE,      /* a session ended by itself (failure, silence, publisher gone) */
    LEC_SFU_VIEWERS,           /* a stream's viewer or downstream leg count changed */
    LEC_SFU_LEG_SILENT,        /* the leg feeding a stream went quiet (1 s): re-source it */
    LEC_SFU_LEG_GONE,          /* a leg this node fed was closed or its requester went quiet */
    LEC_SFU_SESSION_CONNECTED, /* a session's ICE and DTLS are done */
} lec_sfu_event_kind;

typedef struct lec_sfu_event {
    lec_sfu_event_kind kind;
    char stream[65];
    char session[33];
    unsigned viewers;
    unsigned legs;   /* LEC_SFU_VIEWERS: downstream relay legs */
    uint64_t leg_id; /* LEC_SFU_LEG_*: the requester's leg id */
    unsigned worker; /* the worker that reports */
    bool pipe;       /* LEC_SFU_LEG_GONE: a pipe to another worker (a shard) */
} lec_sfu_event;

/* The series the engine records into, in its worker's metrics slot. */
typedef struct lec_sfu_metrics {
    lec_metrics *m;
    unsigned slot;
    lec_metric rtp_in[2], rtp_out[2], bytes_in[2], bytes_out[2]; /* [0] audio, [1] video */
    lec_metric nack_in, nack_out, repaired, unrepaired, retransmits, pli_in, pli_out, lost_in, join;
    lec_metric resend_refused, resend_repeated, keyframe_refused; /* viewers' budgets */
    lec_metric never_connected;        /* sessions that failed before ICE and DTLS were done */
    lec_metric viewer_never_connected; /* the viewers among them (a join failure) */
    lec_metric candidates_refused;     /* remote candidates past LEC_SFU_MAX_REMOTE_CANDIDATES */
    lec_metric feedback[2];            /* to publishers: [0] transport-cc, [1] REMB packets */
    lec_metric layer_viewers[3];       /* viewers on the low, medium and high simulcast layer */
    lec_metric layer_switches, unknown_layer, probes;
    lec_metric estimate; /* histogram: viewers' bandwidth estimates, every 5 s */
    /* The classroom (classroom.c). */
    lec_metric quizzes, quiz_late, quiz_answers[3], asks, asks_refused, class_refused;
} lec_sfu_metrics;

struct lec_relay;
struct lec_pipes;

typedef struct lec_sfu_env {
    uv_loop_t *loop;
    struct lec_relay *relay; /* NULL: no cascade */
    struct lec_pipes *pipes; /* NULL: one worker */
    unsigned worker;
    lec_glib_loop *glib;
    lec_log *log;
    const lec_dtls_cert *cert;
    lec_ip addresses[8]; /* ice.addresses (copied) */
    size_t naddresses;
    uint16_t port_min, port_max;
    lec_ip public_ip;
    const lec_rand *rand;
    const lec_clock *clock; /* monotonic; required (the node's system clock) */
    const lec_clock *wall;  /* the wall clock (Unix ns): quizzes' release instants; NULL: none */
    const char *node_id, *region; /* this node's, for the classroom's answers (static storage) */
    lec_tstamp quiz_lead;         /* classroom.quiz_lead */
    lec_tstamp connect_timeout;   /* a session not connected by then fails; 0: none */
    uint32_t publish_max_kbps;    /* a REMB ceiling for publishers that offer goog-remb; 0: none */
    lec_sfu_metrics metrics;
    void (*event)(void *ud, const lec_sfu_event *ev);
    void *ud;
} lec_sfu_env;

lec_sfu *lec_sfu_new(const lec_sfu_env *env);
/* Closes every session; frees once their handles are closed. */
void lec_sfu_free(lec_sfu *s);

typedef struct lec_sfu_result {
    /* 0: answered.  LEC_ERR_INVAL: a bad offer; LEC_ERR_UNSUPPORTED: nothing
     * in it we can answer; LEC_ERR_EXISTS: the stream has a publisher;
     * LEC_ERR_STATE: not live here; LEC_ERR_FULL: no media port;
     * LEC_ERR_NOMEM.  The node says them in HTTP (media.c). */
    int rc;
    char reason[256]; /* for errors */
    char *answer;     /* the SDP answer (malloc'd; the receiver frees it) */
} lec_sfu_result;

/* WHIP: a publisher for `stream` with session id `id`. */
void lec_sfu_publish(lec_sfu *s, const char *stream, const char *id, const lec_sdp *offer,
                     lec_sfu_result *out);
/* WHEP: a viewer of `stream`. */
void lec_sfu_view(lec_sfu *s, const char *stream, const char *id, const lec_sdp *offer,
                  lec_sfu_result *out);
/* DELETE: ends a session.  0 or LEC_ERR_NOTFOUND. */
int lec_sfu_end(lec_sfu *s, const char *id);
/* PATCH with an SDP fragment (lec_sdp_frag_parse): trickled candidates,
 * LEC_SFU_MAX_REMOTE_CANDIDATES a session; or, with new credentials, an
 * ICE restart (RFC 9725 4.3.2): *restart gets our new ones.  0,
 * LEC_ERR_NOTFOUND, LEC_ERR_INVAL (new ufrag without pwd), LEC_ERR_NOMEM. */
typedef struct lec_sfu_restart {
    bool restarted;
    char ufrag[64], pwd[128];
} lec_sfu_restart;
int lec_sfu_trickle(lec_sfu *s, const char *id, const char *frag, size_t len,
                    lec_sfu_restart *restart);

/* Per-session stats (GET /v1/sessions/<id>), copied on the worker. */
typedef struct lec_sfu_session_stats {
    bool publisher;
    bool connected;
    lec_tstamp age;
    uint64_t rtp_in, rtp_out, rtcp_in, rtcp_out, bytes_in, bytes_out, srtp_fail;
    /* Viewers: what the room sent it and what it asked for and reported. */
    uint64_t video_packets, audio_packets, nacks, retransmits, keyframe_requests;
    uint64_t resend_refused, keyframe_refused; /* over its budgets */
    char refused[400]; /* offer sections not served, and why ("" when all were) */
    bool have_report;
    double fraction_lost; /* 0..1, from its latest Receiver Report */
    int32_t cumulative_lost;
    double jitter_ms;
    double rtt_ms; /* < 0: not measured yet */
    /* Publishers: congestion feedback sent to it (sfu/feedback.c). */
    bool transport_cc, remb;
    uint64_t feedback_packets, feedback_late;
    /* Simulcast (layer.nlayers > 0): the layers; a viewer's choice too. */
    lec_room_layer_info layer;
    /* Its lectern data channel. */
    struct {
        bool negotiated, open;
        int rtt_ms; /* SCTP's, or -1 */
        uint64_t messages_in, messages_out;
        uint64_t refused;     /* malformed, oversized, over the rate, refused channels */
        uint64_t undelivered; /* ours it could not take (buffer full, closed) */
    } data;
} lec_sfu_session_stats;

/* 0 or LEC_ERR_NOTFOUND. */
int lec_sfu_session_stats_get(lec_sfu *s, const char *id, lec_sfu_session_stats *out);

/* A viewer pins a simulcast layer (or auto).  0, LEC_ERR_NOTFOUND, or
 * LEC_ERR_INVAL for a publisher's session. */
int lec_sfu_session_set_layer(lec_sfu *s, const char *id, lec_room_layer_pref pref);

/* ---- the classroom (classroom.c) ------------------------------------- */

/* Starts a quiz in `stream`'s room, whose publisher is here (the teacher's
 * {"question", "options", "answer", "open_ms"}), with id `id` (16 hex
 * digits).  0; LEC_ERR_NOTFOUND (no such room here); LEC_ERR_STATE (the
 * stream is relayed here, not published); LEC_ERR_INVAL (why in err). */
int lec_sfu_quiz_start(lec_sfu *s, const char *stream, const char *json, size_t len, const char *id,
                       char *err, size_t errcap);
/* The ranking of quiz `id` (malloc'd JSON in *out).  0, LEC_ERR_NOTFOUND. */
int lec_sfu_quiz_ranking(lec_sfu *s, const char *stream, const char *id, char **out);

/* ---- relay legs (leg.c) ------------------------------------------------ */

typedef struct lec_sfu_leg_track {
    lec_sdp_kind kind;
    lec_sdp_codec codec;
    uint32_t ssrc; /* on the leg */
    char rid[16];  /* a simulcast layer's id; "": a plain track */
} lec_sfu_leg_track;

#define LEC_SFU_LEG_KEY 28 /* AEAD_AES_128_GCM master key + salt */

/* Source side: a leg from `stream`'s room to a requester. */
typedef struct lec_sfu_leg_out {
    char stream[65];
    char requester[65];
    uint64_t leg_id; /* the requester's: the tag on our packets to it */
    lec_addr to;
    bool resume; /* a failover: no GOP replay */
    bool pipe;   /* to worker pipe_worker of this node (pipes/pipes.h), not over the socket */
    unsigned pipe_worker;
    /* out: */
    int error; /* 0, LEC_ERR_NOTFOUND (not live here), LEC_ERR_UNSUPPORTED (no relay
                * socket or pipes) or LEC_ERR_NOMEM; the node maps it for the wire */
    char reason[128];
    uint64_t source_tag;
    lec_sfu_leg_track tracks[LEC_ROOM_MAX_TRACKS];
    unsigned ntracks;
    uint8_t key_down[LEC_SFU_LEG_KEY], key_up[LEC_SFU_LEG_KEY];
    uint32_t depth;
} lec_sfu_leg_out;

void lec_sfu_leg_out_open(lec_sfu *s, lec_sfu_leg_out *req);

/* Requester side: `stream`'s room fed by a leg from a source (a new room,
 * or a failover: the room's old leg is replaced, its viewers stay). */
typedef struct lec_sfu_leg_in {
    char stream[65];
    char source[65];
    uint64_t leg_id;     /* ours: the tag on packets to us */
    uint64_t source_tag; /* the tag on our packets to the source */
    lec_addr from;
    lec_sfu_leg_track tracks[LEC_ROOM_MAX_TRACKS];
    unsigned ntracks;
    uint8_t key_down[LEC_SFU_LEG_KEY], key_up[LEC_SFU_LEG_KEY];
    uint32_t depth; /* ours */
    lec_tstamp rtt; /* to the source, for NACK retries */
    bool pipe;      /* from worker pipe_worker of this node: a shard of its room */
    unsigned pipe_worker;
} lec_sfu_leg_in;

/* 0, LEC_ERR_NOMEM, LEC_ERR_INVAL (bad keys or tracks), LEC_ERR_EXISTS
 * (the stream is published here). */
int lec_sfu_leg_in_open(lec_sfu *s, const lec_sfu_leg_in *req);

/* Shards (pipes/pipes.h): the same two calls with `pipe` set open a local
 * leg from the stream's home worker to another worker of this node, whose
 * room then serves viewers like the home's (no keys, no addresses). */

/* Closes the leg feeding `stream` here (linger expired, or an idle
 * shard): its viewers, if any, end.  Or, with leg_id != 0, a leg this node
 * feeds (RelayClose), only when `requester` (if not NULL) is the node it
 * feeds. */
void lec_sfu_leg_close(lec_sfu *s, const char *stream, uint64_t leg_id, const char *requester);

#endif
