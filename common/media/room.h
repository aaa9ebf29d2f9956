/*
 * One stream's forwarding, sans I/O: the publisher's packets in, the
 * packets for each viewer and for the publisher out (through callbacks),
 * with `now` passed in.  Tracks keep a ring (the retransmission store);
 * viewers have a forwarder per track (media/forwarder.h); keyframe
 * requests are coalesced; viewer NACKs are answered from the ring; the
 * publisher's Sender Reports go to viewers rewritten; Receiver Reports go
 * to the publisher.  sfu/ wraps this with peers, sockets and timers; a
 * test wraps it with a simulated lossy network in virtual time.
 */
#ifndef LEC_MEDIA_ROOM_H
#define LEC_MEDIA_ROOM_H

#include "base/ring.h"
#include "base/time.h"
#include "media/forwarder.h"
#include "rtp/rtp.h"
#include "sdp/sdp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEC_ROOM_MAX_LAYERS  3 /* simulcast video layers (RFC 8853) */
#define LEC_ROOM_MAX_TRACKS  (1 + LEC_ROOM_MAX_LAYERS) /* audio, and video in layers */
#define LEC_ROOM_PKT_MAX     1500
#define LEC_ROOM_TRAILER     32  /* room left after a packet for SRTP's tag */
#define LEC_ROOM_MAX_MISSING 64  /* holes in the publisher's stream NACKed at once */
#define LEC_ROOM_GOP_MAX     600 /* a longer GOP is not replayed: a keyframe is asked for */
#define LEC_ROOM_RESENT_SLOTS 64 /* per viewer: repairs remembered for the dedupe */
/* A viewer's repair budget: it earns RESEND_SHARE quarter packets of
 * resends for each live packet it gets (legs: LEG_SHARE), up to BURST
 * (LEG_BURST) packets; a NACK beyond that goes unanswered.  Honest loss of
 * a few percent spends a fraction; a flood of NACKs gets at most half the
 * stream again.  A viewer's keyframe requests count once per PLI_INTERVAL
 * (legs and pipes: no limit, they stand for many viewers and are
 * coalesced by the room as every request is). */
#define LEC_ROOM_RESEND_SHARE  2
#define LEC_ROOM_LEG_SHARE     4
#define LEC_ROOM_RESEND_BURST  160
#define LEC_ROOM_LEG_BURST     1024
#define LEC_ROOM_PLI_INTERVAL  (1000 * LEC_MS)
#define LEC_ROOM_PLAYOUT_URI "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"
#define LEC_ROOM_RID_URI     "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define LEC_ROOM_RRID_URI    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
/* A layer that sent nothing for this long is paused (the encoder dropped
 * it, short of uplink): no viewer is moved to it, and its viewers move. */
#define LEC_ROOM_LAYER_IDLE  (1000 * LEC_MS)
#define LEC_ROOM_BWE_START   1000000 /* a viewer's estimate before its feedback says */
#define LEC_ROOM_PROBE       (100 * LEC_MS) /* how long a bandwidth probe lasts: two bursts */
#define LEC_ROOM_PAUSE_AFTER (2000 * LEC_MS) /* no layer fits this long: audio only */

typedef struct lec_room_io {
    /* A packet for viewer `viewer` (its id; `vud` what lec_room_viewer_bind
     * gave it, so the caller finds its session without a search) or, for
     * RTCP with viewer 0, for the publisher.  The buffer has
     * LEC_ROOM_TRAILER spare bytes. */
    void (*send_rtp)(void *ud, uint32_t viewer, void *vud, uint8_t *pkt, size_t len, size_t cap);
    void (*send_rtcp)(void *ud, uint32_t viewer, void *vud, uint8_t *pkt, size_t len, size_t cap);
    /* Optional: a viewer received its first media packet. */
    void (*first_media)(void *ud, uint32_t viewer, void *vud);
    void *ud;
} lec_room_io;

typedef struct lec_room_stats {
    uint64_t rtp_in[2], bytes_in[2], rtp_out[2], bytes_out[2]; /* [audio, video] */
    uint64_t lost_in, nack_in, retransmits, pli_in, pli_out;
    uint64_t nack_out;    /* NACKs sent to the publisher */
    uint64_t repaired;    /* holes the publisher filled (RTX or resend) */
    uint64_t unrepaired;  /* holes given up on after the last try */
    uint64_t gop_replays; /* joiners started from the GOP cache */
    uint64_t resend_refused;   /* NACKed packets not resent: over the viewer's budget */
    uint64_t resend_repeated;  /* NACKed again within the dedupe window: not resent */
    uint64_t keyframe_refused; /* a viewer's keyframe request within its interval */
    uint64_t layer_switches;   /* viewers moved from one simulcast layer to another */
    uint64_t unknown_layer;    /* packets on a layered track's payload type that named no layer */
    uint64_t probes;           /* bandwidth probes to viewers */
} lec_room_stats;

typedef struct lec_room_track {
    lec_sdp_kind kind;
    lec_sdp_codec codec; /* as negotiated with the publisher */
    uint32_t ssrc;
    lec_ring ring;
    bool has_ring;
    lec_seq_unwrap unwrap;
    uint64_t received, base_ext, highest_ext;
    bool have_seq;
    uint32_t last_sr_mid;
    lec_tstamp last_sr_at;
    int rtx_pt; /* the publisher's RTX payload type for this track, or -1 */
    lec_vcodec vcodec;
    /* A simulcast layer: one of the video tracks that carry the same
     * picture at different sizes.  The publisher's are named by RTP
     * stream id (RFC 8852, its header extension: `rid`); a relay leg's by
     * the SSRC it announced (`want_ssrc`).  RTX on a layer comes on an
     * SSRC learned from the repaired-rtp-stream-id extension. */
    bool layer;
    char rid[16];
    uint32_t want_ssrc, rtx_ssrc;
    /* Its measured rate (bits/s over the last second), when it last sent,
     * and its rank among the layers (0: the smallest). */
    uint64_t win_bytes;
    lec_tstamp win_start, last_at;
    uint32_t bps;
    uint32_t area; /* its picture's width x height, where the codec says (VP8, H.264) */
    uint8_t rank;
    lec_kf kf;      /* keyframe requests to this track, coalesced */
    bool kf_wanted; /* a viewer's new layer: ask at the end of the tick */
    /* GOP cache: where the newest keyframe starts in the ring (its first
     * packet: H.264's SPS and PPS before the IDR), and its timestamp. */
    uint64_t kf_ext;
    uint32_t kf_ts;
    bool have_kf;
    /* H.264 whose keyframes carry their SPS in band (as Chrome's, OBS's
     * and x264's do): a keyframe is one to start at (a switch, a replay)
     * only once its SPS is here (kf_sps); an IDR that came before it is
     * not (a player without the SPS asks for another keyframe). */
    bool sps_inband, kf_sps;
    /* Holes in the publisher's stream, asked for again (NACK) up to 3 times. */
    struct lec_room_miss {
        uint64_t ext;
        lec_tstamp asked, first_asked;
        unsigned tries;
    } miss[LEC_ROOM_MAX_MISSING];
    unsigned nmiss;
} lec_room_track;

/* What one viewer (or leg) got and asked for. */
typedef struct lec_room_viewer_stats {
    uint64_t packets[LEC_ROOM_MAX_TRACKS], octets[LEC_ROOM_MAX_TRACKS]; /* sent, by track */
    uint64_t nacks, retransmits, keyframe_requests;
    uint64_t resend_refused, keyframe_refused; /* over its budgets (room_rtcp.c) */
    /* From its latest Receiver Report on video (audio without video). */
    bool have_report;
    uint8_t fraction_lost; /* /256 */
    int32_t cumulative_lost;
    uint32_t jitter; /* in units of jitter_rate (the track's RTP clock) */
    uint32_t jitter_rate;
    lec_tstamp rtt; /* from LSR/DLSR against our Sender Reports; 0: none yet */
} lec_room_viewer_stats;

/* Which simulcast layer a viewer wants: the best its link carries (its
 * estimate, else the highest), or one it pinned. */
typedef enum lec_room_layer_pref {
    LEC_LAYER_AUTO = 0,
    LEC_LAYER_LOW,
    LEC_LAYER_MEDIUM,
    LEC_LAYER_HIGH,
} lec_room_layer_pref;

typedef struct lec_room_viewer {
    uint32_t id;
    /* One rewrite per track; a viewer gets one of the simulcast layers,
     * all through the rewrite of the first layer's track (one SSRC, and
     * sequence numbers and timestamps that run on across switches). */
    lec_fwd fwd[LEC_ROOM_MAX_TRACKS];
    bool has[LEC_ROOM_MAX_TRACKS];
    bool ready; /* its transport is up: send to it */
    bool first_media;
    bool leg;       /* a relay leg: every track, the source's payload types */
    bool no_gop;    /* start at a fresh keyframe, not from the GOP cache */
    uint8_t copies; /* repairs sent this many times (legs: 3; lec_room_set_copies) */
    /* RTX (RFC 4588) when its answer has it: repairs go as RTX packets on
     * their own SSRC, so the player tells a repair from a late packet. */
    uint8_t rtx_pt[LEC_ROOM_MAX_TRACKS]; /* 0: none */
    uint32_t rtx_ssrc[LEC_ROOM_MAX_TRACKS];
    uint16_t rtx_seq[LEC_ROOM_MAX_TRACKS];
    lec_room_viewer_stats st;
    void *ud;      /* the caller's, passed back with its packets */
    uint8_t pd_id; /* its id for the playout-delay extension, or 0 */
    /* Its repair budgets (room_rtcp.c): what was resent lately (by
     * sequence, direct-mapped), so a NACK repeated within the dedupe
     * window (or in copies, as legs send them) is answered once; resend
     * credit in quarter packets, earned by the live packets it gets; the
     * last keyframe request it was allowed.  `replayed` is one past the
     * newest packet of each track sent to it squeezed from the GOP cache: a
     * viewer without RTX never gets those again (the bytes would differ
     * under the same sequence number, and so would the SRTP nonce). */
    struct {
        uint64_t ext;
        lec_tstamp at;
        uint8_t ti;
    } resent[LEC_ROOM_RESENT_SLOTS];
    int32_t resend_credit;
    lec_tstamp pli_at;
    uint64_t replayed[LEC_ROOM_MAX_TRACKS];
    /* Simulcast (not on legs, which carry every layer): the layer it gets
     * (a track index, -1: none yet) and the one it should get; a switch
     * happens at the target's keyframe, asked for when the target is set
     * and again each second until it comes.  NACKs for what it got
     * before the switch (older than `layer_seq`) go unanswered. */
    int8_t cur, target;
    uint8_t pref; /* lec_room_layer_pref */
    bool paused;  /* its estimate carries no layer: audio only */
    lec_tstamp short_since; /* since when not even the smallest layer fits */
    uint32_t estimate_bps; /* what its link carries; 0: not known */
    lec_tstamp target_asked;
    uint16_t layer_seq;
    uint64_t switches;
    /* Its link's estimate (media/bwe.h), when it negotiated transport-cc
     * and RTX: every packet to it carries a transport-wide sequence number
     * (extension `twcc_id`), its feedback updates the estimate, and a
     * layer above the estimate is tried with a probe first: RTX copies of
     * what it had, for PROBE_MS, at the rate that layer needs. */
    struct lec_bwe *bwe;
    uint8_t twcc_id;
    lec_tstamp probe_until, next_probe, probe_backoff;
    uint32_t probe_bps; /* the padding's rate while probing */
    int8_t probe_rank;  /* its layer when it last probed */
    uint8_t feedbacks;  /* transport-cc reports read this tick (at most 8) */
    /* Without transport-cc: its estimate from the loss its Receiver
     * Reports say (room_rtcp.c, loss_estimate): when one last counted, and
     * how much it had been sent by then. */
    lec_tstamp rr_at;
    uint64_t rr_octets;
    /* The rate it lost more than 10% at: not tried again until rr_retry
     * (15 s, doubled at each failure up to 2 min, back to 15 s after 2
     * min without one); its last decrease at rr_failed_at. */
    uint32_t rr_fail_bps;
    lec_tstamp rr_retry, rr_backoff, rr_failed_at;
    struct lec_room_viewer *next;
} lec_room_viewer;

typedef struct lec_room {
    lec_room_track tracks[LEC_ROOM_MAX_TRACKS];
    unsigned ntracks;
    lec_room_viewer *viewers;
    unsigned nviewers;
    lec_tstamp kf_interval;
    /* Simulcast: how many layers, the first layer's track (the viewers'
     * video rewrite), and the publisher's extension ids for rid and rrid. */
    uint8_t nlayers, vslot, rid_id, rrid_id;
    uint32_t rtcp_ssrc;
    lec_tstamp last_rr;
    bool publisher_ready;
    bool upstream_leg;      /* fed by a relay leg: NACK every track on it */
    uint8_t up_copies;      /* NACKs sent upstream this many times */
    lec_tstamp nack_retry;  /* between asks for the same hole, at least */
    lec_tstamp repair_rtt;  /* smoothed: first ask to the hole filled; 0: none yet */
    lec_tstamp repair_peak; /* the slowest recent repair, decaying */
    unsigned playout_ms;    /* the minimum playout delay asked of viewers; 0: none */
    lec_room_io io;
    lec_room_stats stats;
    struct lec_twcc_report *twcc_rep; /* scratch for viewers' feedback (with the first bwe) */
    uint8_t scratch[LEC_ROOM_PKT_MAX + LEC_ROOM_TRAILER];
    uint8_t repair[LEC_ROOM_PKT_MAX]; /* an RTX packet turned back into the original */
} lec_room;

/* `rtcp_ssrc`: ours towards the publisher; `kf_interval`: the keyframe
 * request spacing (350 ms for Chromium). */
void lec_room_init(lec_room *r, const lec_room_io *io, uint32_t rtcp_ssrc, lec_tstamp kf_interval);
void lec_room_free(lec_room *r);

/* The publisher's tracks, from its negotiated answer (replaces earlier
 * ones: a new publisher).  0 or LEC_ERR_NOMEM. */
int lec_room_set_tracks(lec_room *r, const lec_sdp *publisher_answer);

/* The tracks as a list (a relay leg's RelayOpened): kind and codec each. */
typedef struct lec_room_track_spec {
    lec_sdp_kind kind;
    lec_sdp_codec codec;
    char rid[16];  /* a simulcast layer ("": a plain track) */
    uint32_t ssrc; /* a layer's: the SSRC it comes on */
} lec_room_track_spec;
int lec_room_set_track_specs(lec_room *r, const lec_room_track_spec *specs, unsigned n);
/* A failover to a leg with the same tracks: the layers' new SSRCs. */
void lec_room_set_layer_ssrcs(lec_room *r, const lec_room_track_spec *specs, unsigned n);

/* The room is fed by a relay leg (not a browser or encoder): holes on
 * every track are NACKed upstream, asked again after `rtt` plus a margin
 * (at least 50 ms apart). */
void lec_room_set_upstream(lec_room *r, bool leg, lec_tstamp rtt);

/* A relay leg as a subscriber: every track, each keeping the source's
 * payload type, with the leg's own SSRCs.  It gets media once
 * lec_room_viewer_ready says its far end is listening: from the GOP cache,
 * or, with `resume` (a failover: the far end's viewers have seen those
 * frames), from a keyframe asked for then.  0 or LEC_ERR_NOMEM. */
int lec_room_add_leg(lec_room *r, uint32_t id, const uint32_t ssrcs[LEC_ROOM_MAX_TRACKS],
                     uint16_t seq_base, uint32_t ts_base, bool resume);

/* How many times repairs to leg `id` (or, with id 0, NACKs up the room's
 * upstream leg) are sent: 3 by default on relay legs, where a second loss
 * costs a round trip; 1 on a lossless path (a pipe between workers). */
void lec_room_set_copies(lec_room *r, uint32_t id, unsigned copies);

/*
 * Playout delay: a repair from upstream (a NACK answered by the publisher,
 * or by the hops of a cascade above us) arrives a round trip or more after
 * the packet was due, and a player that does not know may freeze waiting
 * for it, because its jitter buffer sizes itself by the path it sees
 * (viewer to edge) only.  While repairs happen, the room tells viewers
 * that negotiated the playout-delay extension to keep at least the
 * slowest recent repair's time (plus a margin) in their buffer; with no
 * loss upstream it asks nothing, and the delay stays the player's own.
 */

/* A viewer and its rewrite per track; the viewer's negotiated answer gives
 * its payload types (with RTX when the answer has an rtx codec for the
 * section's primary one: its SSRC is the track's with bit 30 flipped, see
 * lec_room_viewer_rtx_ssrc); ssrcs and bases are the caller's (random).  0,
 * LEC_ERR_NOMEM. */
int lec_room_add_viewer(lec_room *r, uint32_t id, const lec_sdp *viewer_answer,
                        const uint32_t ssrcs[LEC_ROOM_MAX_TRACKS], uint16_t seq_base,
                        uint32_t ts_base);
/* The caller's pointer for viewer or leg `id`, passed to the io callbacks
 * with its packets. */
void lec_room_viewer_bind(lec_room *r, uint32_t id, void *ud);
/* The viewer's outgoing SSRC for the section of `kind`, or 0. */
uint32_t lec_room_viewer_ssrc(const lec_room *r, uint32_t id, lec_sdp_kind kind);
/* Its counters (packets, repairs, keyframe requests, its reports' loss,
 * jitter and round trip).  0 or LEC_ERR_NOTFOUND. */
int lec_room_viewer_get_stats(const lec_room *r, uint32_t id, lec_room_viewer_stats *out);
/* Its RTX SSRC for that section (for a=ssrc-group:FID), or 0 without RTX. */
uint32_t lec_room_viewer_rtx_ssrc(const lec_room *r, uint32_t id, lec_sdp_kind kind);
void lec_room_remove_viewer(lec_room *r, uint32_t id);

/*
 * Simulcast, per viewer.  The room ranks the layers by what they carry
 * (bits/s over the last second) and gives each viewer one: the one it
 * pinned (low, medium, high: the nearest that is sending), or in auto
 * the best that fits its estimate (with a margin to go up), the highest
 * while there is none; when even the smallest does not fit, video pauses
 * and audio goes on.  A switch waits for the new layer's keyframe (asked
 * for, coalesced per layer) and keeps the viewer's SSRC, sequence
 * numbers and timestamps running.  Both return LEC_ERR_NOTFOUND for an
 * unknown viewer.
 */
int lec_room_viewer_set_layer(lec_room *r, uint32_t id, lec_room_layer_pref pref);
int lec_room_viewer_set_estimate(lec_room *r, uint32_t id, uint32_t bps);
typedef struct lec_room_layer_info {
    unsigned nlayers;  /* 0: the publisher sends no simulcast */
    int cur, target;   /* ranks (0: the smallest); -1: none */
    lec_room_layer_pref pref;
    bool paused;       /* its estimate carries no layer: audio only */
    uint32_t estimate_bps;
    uint64_t switches;
    struct {
        char rid[16];
        uint32_t bps;
        bool active;
    } layers[LEC_ROOM_MAX_LAYERS]; /* by rank */
} lec_room_layer_info;
int lec_room_viewer_layer(const lec_room *r, uint32_t id, lec_tstamp now, lec_room_layer_info *out);
/* The layers alone (nlayers and layers; no viewer's choice). */
void lec_room_layers(const lec_room *r, lec_tstamp now, lec_room_layer_info *out);
/* Up to cap viewers' estimates (bits/s; those with one), for metrics. */
unsigned lec_room_estimates(const lec_room *r, uint32_t *out, unsigned cap);
/* How many ready viewers get each rank now (not legs; paused: none). */
void lec_room_layer_viewers(const lec_room *r, unsigned out[LEC_ROOM_MAX_LAYERS]);
/* Transports up: the publisher's (RTCP to it may flow) or a viewer's (it
 * gets media: it starts from the GOP cache, the packets from the newest
 * keyframe on, replayed at once with their timestamps squeezed 1 ms apart
 * so the player catches up to live instead of lagging; without a cached
 * keyframe, one is requested upstream). */
void lec_room_publisher_ready(lec_room *r, lec_tstamp now);
void lec_room_viewer_ready(lec_room *r, uint32_t id, lec_tstamp now);

/* Clear packets from the publisher and the viewers. */
void lec_room_publisher_rtp(lec_room *r, const uint8_t *pkt, size_t len, lec_tstamp now);
void lec_room_publisher_rtcp(lec_room *r, const uint8_t *pkt, size_t len, lec_tstamp now);
void lec_room_viewer_rtcp(lec_room *r, uint32_t id, const uint8_t *pkt, size_t len, lec_tstamp now);

/* Deferred keyframe requests and Receiver Reports; call every ~50 ms. */
void lec_room_tick(lec_room *r, lec_tstamp now);

/* The track's publisher codec, by kind, or NULL (for WHEP answers). */
const lec_sdp_codec *lec_room_codec(const lec_room *r, lec_sdp_kind kind);

#endif
