/*
 * The media engine of one worker (sfu.h): sessions, their peers, and one
 * media/room core per stream; this file moves packets between them, owns
 * the timers and reports to the node.
 *
 * Sessions are never freed inside their own peer's callbacks (libnice
 * would return into freed memory): ending one marks it and a zero timer
 * reaps it on the next loop turn.
 */
#include "sfu/sfu_int.h"
#include "base/err.h"
#include "media/room.h"
#include "media/twcc.h"
#include "peer/peer.h"
#include "sdp/negotiate.h"
#include "srtp/srtp_session.h"
#include "relay/relay.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD         "sfu"
#define KF_INTERVAL (350 * LEC_MS) /* TOOLCHAIN.md: Chrome ignores PLIs < ~300 ms apart */
#define TICK_MS     50

/* The worker's clock, from the environment (the node passes the system's
 * monotonic clock; nothing here reads a clock of its own). */
static lec_tstamp now(const lec_sfu *s)
{
    return lec_clock_now(s->env.clock);
}

static void emit(lec_sfu *s, lec_sfu_event_kind kind, const char *stream, const char *sid,
                 unsigned viewers)
{
    lec_sfu_event ev = {.kind = kind, .viewers = viewers, .worker = s->env.worker};
    snprintf(ev.stream, sizeof ev.stream, "%s", stream ? stream : "");
    snprintf(ev.session, sizeof ev.session, "%s", sid ? sid : "");
    if (s->env.event)
        s->env.event(s->env.ud, &ev);
}

static stream_room *find_room(lec_sfu *s, const char *stream)
{
    for (stream_room *r = s->rooms; r; r = r->next)
        if (!strcmp(r->stream, stream))
            return r;
    return NULL;
}

session *lec__sfu_find_session(lec_sfu *s, const char *id)
{
    for (session *x = s->sessions; x; x = x->next)
        if (!strcmp(x->id, id) && !x->dying)
            return x;
    return NULL;
}

lec_tstamp lec__sfu_now(const lec_sfu *s)
{
    return now(s);
}

void lec__sfu_emit(lec_sfu *s, lec_sfu_event_kind kind, const char *stream, const char *sid,
                   unsigned viewers)
{
    emit(s, kind, stream, sid, viewers);
}

void lec__sfu_emit_count(stream_room *r)
{
    lec_sfu *s = r->sfu;
    lec_sfu_event ev = {.kind = LEC_SFU_VIEWERS,
                        .viewers = r->core.nviewers - r->ndowns - r->npipes,
                        .legs = r->ndowns,
                        .worker = s->env.worker};
    snprintf(ev.stream, sizeof ev.stream, "%s", r->stream);
    if (s->env.event)
        s->env.event(s->env.ud, &ev);
}

stream_room *lec__sfu_find_room(lec_sfu *s, const char *stream)
{
    return find_room(s, stream);
}

/* Session ids in logs are their first 8 characters ("%.8s"): an id is the
 * capability to end its session (DELETE), and a log is read by more people
 * than the admins who may see ids. */

/* ---- the room's I/O --------------------------------------------------- */

/* A viewer's or a downstream leg's pointer in the room (vud) is tagged in
 * its low bit: set for a leg. */
#define LEG_BIT ((uintptr_t)1)

void *lec__sfu_leg_ud(leg *l)
{
    return (void *)((uintptr_t)l | LEG_BIT);
}

static void io_send_rtp(void *ud, uint32_t vid, void *vud, uint8_t *pkt, size_t len, size_t cap)
{
    (void)ud, (void)vid;
    uintptr_t p = (uintptr_t)vud;
    if (p & LEG_BIT) {
        lec__leg_send_rtp((leg *)(p & ~LEG_BIT), pkt, len, cap);
    } else if (p) {
        session *v = vud;
        if (!v->dying)
            lec_peer_send_rtp(v->peer, pkt, len, cap);
    }
}

static void io_send_rtcp(void *ud, uint32_t vid, void *vud, uint8_t *pkt, size_t len, size_t cap)
{
    stream_room *r = ud;
    uintptr_t p = (uintptr_t)vud;
    session *x = vid ? (p & LEG_BIT ? NULL : vud) : r->pub;
    leg *l = vid ? (p & LEG_BIT ? (leg *)(p & ~LEG_BIT) : NULL) : r->up;
    if (x && !x->dying)
        lec_peer_send_rtcp(x->peer, pkt, len, cap);
    else if (!x && l)
        lec__leg_send_rtcp(l, pkt, len, cap);
}

static void io_first_media(void *ud, uint32_t vid, void *vud)
{
    stream_room *r = ud;
    (void)vid;
    session *v = (uintptr_t)vud & LEG_BIT ? NULL : vud;
    const lec_sfu_metrics *mt = &r->sfu->env.metrics;
    if (v)
        lec_metric_observe(mt->m, mt->slot, mt->join, now(r->sfu) - v->created);
}

/* Adds what the room counted since last time to this worker's metrics slot. */
static void count(stream_room *r)
{
    const lec_sfu_metrics *mt = &r->sfu->env.metrics;
    const lec_room_stats *a = &r->core.stats;
    lec_room_stats *b = &r->counted;
#define DELTA(id, field) lec_metric_add(mt->m, mt->slot, (id), a->field - b->field)
    for (int k = 0; k < 2; k++) {
        DELTA(mt->rtp_in[k], rtp_in[k]);
        DELTA(mt->bytes_in[k], bytes_in[k]);
        DELTA(mt->rtp_out[k], rtp_out[k]);
        DELTA(mt->bytes_out[k], bytes_out[k]);
    }
    DELTA(mt->lost_in, lost_in);
    DELTA(mt->nack_in, nack_in);
    DELTA(mt->nack_out, nack_out);
    DELTA(mt->repaired, repaired);
    DELTA(mt->unrepaired, unrepaired);
    DELTA(mt->retransmits, retransmits);
    DELTA(mt->pli_in, pli_in);
    DELTA(mt->pli_out, pli_out);
    DELTA(mt->resend_refused, resend_refused);
    DELTA(mt->resend_repeated, resend_repeated);
    DELTA(mt->keyframe_refused, keyframe_refused);
    DELTA(mt->layer_switches, layer_switches);
    DELTA(mt->unknown_layer, unknown_layer);
    DELTA(mt->probes, probes);
#undef DELTA
    *b = *a;
    lec__class_count(r);
    /* Viewers per layer, named by rank: the top is high, the bottom low. */
    unsigned by_rank[LEC_ROOM_MAX_LAYERS], by_name[3] = {0};
    lec_room_layer_viewers(&r->core, by_rank);
    for (unsigned k = 0; k < r->core.nlayers && k < LEC_ROOM_MAX_LAYERS; k++)
        by_name[k + 1 == r->core.nlayers ? 2 : k == 0 ? 0 : 1] += by_rank[k];
    for (int k = 0; k < 3; k++) {
        lec_metric_add(mt->m, mt->slot, mt->layer_viewers[k],
                       (uint64_t)((int64_t)by_name[k] - (int64_t)r->layer_counted[k]));
        r->layer_counted[k] = by_name[k];
    }
    lec_tstamp t = now(r->sfu);
    if (t - r->estimates_at >= 5 * LEC_S) {
        r->estimates_at = t;
        uint32_t est[256];
        unsigned n = lec_room_estimates(&r->core, est, 256);
        for (unsigned i = 0; i < n; i++)
            lec_metric_observe(mt->m, mt->slot, mt->estimate, est[i]);
    }
}

static void on_room_tick(uv_timer_t *tm)
{
    stream_room *r = tm->data;
    lec_tstamp t = now(r->sfu);
    lec_room_tick(&r->core, t);
    lec__feedback_tick(r, t);
    lec__legs_tick(r, t);
    count(r);
    /* Every 10 s while the upstream needs repairs: how it goes. */
    const lec_room_stats *a = &r->core.stats, *b = &r->reported;
    if (t - r->last_report >= 10 * LEC_S) {
        if (a->lost_in != b->lost_in)
            LEC_INFO(r->sfu->env.log, MOD,
                     "stream %s: upstream lost %llu, repaired %llu, gave up on %llu in %.0f s; "
                     "repairs take %.0f ms (slowest lately %.0f ms); viewers asked to buffer %u ms",
                     r->stream, (unsigned long long)(a->lost_in - b->lost_in),
                     (unsigned long long)(a->repaired - b->repaired),
                     (unsigned long long)(a->unrepaired - b->unrepaired),
                     (double)(t - r->last_report) / LEC_S, (double)r->core.repair_rtt / LEC_MS,
                     (double)r->core.repair_peak / LEC_MS, r->core.playout_ms);
        r->last_report = t;
        r->reported = *a;
    }
}

/* ---- ending ----------------------------------------------------------- */

static void schedule_reap(lec_sfu *s);

/* Every handle of the engine's own that is being closed is counted in
 * open_handles from its uv_close to its close callback, whether or not the
 * engine is freeing yet: a room whose close was pending when
 * lec_sfu_free ran is one of them, and the engine is freed only after the
 * last of them (and only once it is freeing). */
static void handle_closed(lec_sfu *s)
{
    if (--s->open_handles == 0 && s->freeing)
        free(s);
}

static void room_closed(uv_handle_t *h)
{
    stream_room *r = h->data;
    lec_sfu *s = r->sfu;
    lec_room_free(&r->core);
    lec__class_room_free(r);
    free(r);
    handle_closed(s);
}

static void room_maybe_free(stream_room *r)
{
    lec_sfu *s = r->sfu;
    /* Sessions that ended still point here until the reaper frees them. */
    if (r->pub || r->viewers || r->up || r->downs || r->sessions || r->closing)
        return;
    r->closing = true;
    count(r);
    for (stream_room **pp = &s->rooms; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    uv_timer_stop(&r->timer);
    s->open_handles++;
    uv_close((uv_handle_t *)&r->timer, room_closed);
}

/* Marks a session for teardown on the next loop turn; tells the node. */
static void end_session(session *x, bool self_initiated)
{
    if (x->dying)
        return;
    x->dying = true;
    lec_sfu *s = x->sfu;
    stream_room *r = x->room;
    if (self_initiated)
        emit(s, LEC_SFU_SESSION_GONE, r ? r->stream : NULL, x->id, 0);
    if (r && x->publisher) {
        r->pub = NULL;
        r->core.publisher_ready = false;
        if (r->live)
            emit(s, LEC_SFU_STREAM_ENDED, r->stream, x->id, 0);
        r->live = false;
        LEC_INFO(s->env.log, MOD, "stream %s: publisher %.8s left; ending %u viewer(s)", r->stream,
                 x->id, r->core.nviewers);
        lec__sfu_end_viewers(r);
    } else if (r) {
        for (session **pp = &r->viewers; *pp; pp = &(*pp)->next_viewer)
            if (*pp == x) {
                *pp = x->next_viewer;
                break;
            }
        lec_room_remove_viewer(&r->core, x->vid);
        lec__sfu_emit_count(r);
    }
    x->next_dying = s->dying;
    s->dying = x;
    schedule_reap(s);
}

static void reap(uv_timer_t *t)
{
    lec_sfu *s = t->data;
    session *list = s->dying;
    s->dying = NULL;
    while (list) {
        session *x = list;
        list = x->next_dying;
        for (session **pp = &s->sessions; *pp; pp = &(*pp)->next)
            if (*pp == x) {
                *pp = x->next;
                break;
            }
        lec__class_gone(x);
        lec_peer_close(x->peer);
        stream_room *r = x->room;
        lec__feedback_free(x);
        free(x);
        if (r) {
            r->sessions--;
            room_maybe_free(r);
        }
    }
}

static void schedule_reap(lec_sfu *s)
{
    uv_timer_start(&s->reaper, reap, 0, 0);
}

/* ---- peers ------------------------------------------------------------ */

static void on_pub_rtp(void *ud, lec_peer *p, uint8_t *pkt, size_t len)
{
    (void)p;
    session *x = ud;
    if (x->dying)
        return;
    lec_tstamp t = now(x->sfu);
    lec__feedback_rtp(x, pkt, len, t);
    lec_room_publisher_rtp(&x->room->core, pkt, len, t);
}

static void on_pub_rtcp(void *ud, lec_peer *p, uint8_t *pkt, size_t len)
{
    (void)p;
    session *x = ud;
    if (!x->dying)
        lec_room_publisher_rtcp(&x->room->core, pkt, len, now(x->sfu));
}

static void on_viewer_rtcp(void *ud, lec_peer *p, uint8_t *pkt, size_t len)
{
    (void)p;
    session *v = ud;
    if (!v->dying && v->room)
        lec_room_viewer_rtcp(&v->room->core, v->vid, pkt, len, now(v->sfu));
}

static void on_state(void *ud, lec_peer *p, lec_peer_state st)
{
    (void)p;
    session *x = ud;
    lec_sfu *s = x->sfu;
    stream_room *r = x->room;
    if (x->dying)
        return;
    if (st == LEC_PEER_CONNECTED) {
        LEC_INFO(s->env.log, MOD, "stream %s: %s %.8s connected", r->stream,
                 x->publisher ? "publisher" : "viewer", x->id);
        x->connected = true;
        emit(s, LEC_SFU_SESSION_CONNECTED, r->stream, x->id, 0);
        if (x->publisher) {
            r->live = true;
            lec_room_publisher_ready(&r->core, now(s));
            emit(s, LEC_SFU_STREAM_LIVE, r->stream, x->id, 0);
        } else {
            lec_room_viewer_ready(&r->core, x->vid, now(s));
        }
        return;
    }
    if (st == LEC_PEER_FAILED || st == LEC_PEER_CLOSED) {
        LEC_INFO(s->env.log, MOD, "stream %s: %s %.8s %s", r->stream,
                 x->publisher ? "publisher" : "viewer", x->id,
                 st == LEC_PEER_CLOSED ? "closed" : "failed or went silent");
        if (!x->connected && s->env.metrics.m) {
            lec_metric_add(s->env.metrics.m, s->env.metrics.slot, s->env.metrics.never_connected,
                           1);
            if (!x->publisher)
                lec_metric_add(s->env.metrics.m, s->env.metrics.slot,
                               s->env.metrics.viewer_never_connected, 1);
        }
        end_session(x, true);
    }
}

static void end_session(session *x, bool self_initiated);

void lec__sfu_end_viewers(stream_room *r)
{
    for (session *v = r->viewers; v; v = v->next_viewer)
        end_session(v, true);
    lec__legs_end_downs(r);
}

void lec__sfu_room_maybe_free(stream_room *r)
{
    room_maybe_free(r);
}

stream_room *lec__sfu_room_new(lec_sfu *s, const char *stream);
static stream_room *room_new(lec_sfu *s, const char *stream)
{
    stream_room *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    snprintf(r->stream, sizeof r->stream, "%s", stream);
    r->sfu = s;
    lec_room_io io = {io_send_rtp, io_send_rtcp, io_first_media, r};
    lec_room_init(&r->core, &io, lec_rand_u32(s->env.rand) | 1, KF_INTERVAL);
    r->class_out = lec__legs_class_out;
    lec__class_room_init(r);
    uv_timer_init(s->env.loop, &r->timer);
    r->timer.data = r;
    uv_timer_start(&r->timer, on_room_tick, TICK_MS, TICK_MS);
    r->next = s->rooms;
    s->rooms = r;
    return r;
}

stream_room *lec__sfu_room_new(lec_sfu *s, const char *stream)
{
    return room_new(s, stream);
}

/* Creates the session's peer from the offer's ICE and DTLS parameters. */
/* A remote candidate, from the offer or trickled: at most
 * LEC_SFU_MAX_REMOTE_CANDIDATES a session (each is checked against every
 * local one); the rest are dropped and counted. */
static void add_candidate(session *x, const char *cand)
{
    const lec_sfu_metrics *mt = &x->sfu->env.metrics;
    if (x->ncandidates >= LEC_SFU_MAX_REMOTE_CANDIDATES) {
        lec_metric_add(mt->m, mt->slot, mt->candidates_refused, 1);
        return;
    }
    x->ncandidates++;
    lec_ice_add_remote_candidate(lec_peer_ice(x->peer), cand);
}

static int session_peer(lec_sfu *s, session *x, const lec_sdp *offer, bool publisher)
{
    const lec_sdp_media *m = NULL;
    for (unsigned i = 0; i < offer->nmedia && !m; i++)
        if (offer->media[i].port && offer->media[i].kind != LEC_SDP_APPLICATION)
            m = &offer->media[i];
    if (!m)
        return LEC_ERR_INVAL;
    lec_peer_cfg pc = {.loop = s->env.loop,
                       .glib = s->env.glib,
                       .log = s->env.log,
                       .cert = s->env.cert,
                       .clock = s->env.clock,
                       .connect_timeout = s->env.connect_timeout,
                       .dtls_server = lec_sdp_media_setup(offer, m) != LEC_SDP_SETUP_PASSIVE};
    pc.ice.addresses = s->env.addresses;
    pc.ice.naddresses = s->env.naddresses;
    pc.ice.port_min = s->env.port_min;
    pc.ice.port_max = s->env.port_max;
    pc.ice.public_ip = s->env.public_ip;
    if (lec_sdp_fingerprint_parse(lec_sdp_fingerprint(offer, m), pc.remote_fp, 32) != 32)
        return LEC_ERR_INVAL;
    lec_peer_cbs cbs = {.state = on_state,
                        .rtp = publisher ? on_pub_rtp : NULL,
                        .rtcp = publisher ? on_pub_rtcp : on_viewer_rtcp,
                        .channel = lec__class_channel,
                        .message = lec__class_message,
                        .ud = x};
    int rc = lec_peer_new(&x->peer, &pc, &cbs);
    if (rc)
        return rc;
    lec_ice *ice = lec_peer_ice(x->peer);
    snprintf(x->remote_ufrag, sizeof x->remote_ufrag, "%s", lec_sdp_ufrag(offer, m));
    lec_ice_set_remote(ice, lec_sdp_ufrag(offer, m), lec_sdp_pwd(offer, m));
    for (unsigned i = 0; i < offer->nmedia; i++)
        for (unsigned k = 0; k < offer->media[i].ncandidates; k++)
            add_candidate(x, offer->media[i].candidates[k]);
    return 0;
}

static void fail(lec_sfu_result *out, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(lec_sfu_result *out, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    out->rc = rc;
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    out->answer = NULL;
    va_end(ap);
}

/* Negotiates the answer with the peer's ICE and our DTLS parameters;
 * 0, or fills out with the HTTP status and reason. */
static int answer(lec_sfu *s, session *x, const lec_sdp *offer, lec_sdp_answer_opts *o,
                  lec_sdp *ans, lec_sfu_result *out)
{
    lec_ice *ice = lec_peer_ice(x->peer);
    char cands[8][160];
    const char *cp[9] = {0};
    size_t nc = lec_ice_candidates(ice, cands, 8);
    for (size_t i = 0; i < nc; i++)
        cp[i] = cands[i];
    o->ice_ufrag = lec_ice_ufrag(ice);
    o->ice_pwd = lec_ice_pwd(ice);
    o->fingerprint = lec_dtls_cert_fingerprint(s->env.cert);
    o->candidates = cp;
    char err[256];
    int rc = lec_sdp_answer(offer, o, ans, err, sizeof err);
    if (rc) {
        fail(out, rc == LEC_ERR_UNSUPPORTED ? LEC_ERR_UNSUPPORTED : LEC_ERR_INVAL, "%s", err);
        return rc;
    }
    /* Sections we could not serve: logged, and kept for the session's
     * status (GET /v1/sessions/<id>). */
    for (unsigned i = 0; i < ans->nmedia; i++) {
        const lec_sdp_media *a = &ans->media[i];
        if (a->port || !a->reason[0])
            continue;
        const char *kind = a->kind == LEC_SDP_AUDIO   ? "audio"
                           : a->kind == LEC_SDP_VIDEO ? "video"
                                                      : "application";
        size_t n = strlen(x->refused);
        snprintf(x->refused + n, sizeof x->refused - n, "%s%s (mid %s): %s", n ? "; " : "", kind,
                 a->mid, a->reason);
        LEC_INFO(s->env.log, MOD, "%s %.8s: %s (mid %s) not served: %s",
                 x->publisher ? "publisher" : "viewer", x->id, kind, a->mid, a->reason);
    }
    return 0;
}

static session *session_new(lec_sfu *s, const char *id, bool publisher)
{
    session *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    snprintf(x->id, sizeof x->id, "%s", id);
    x->publisher = publisher;
    x->sfu = s;
    x->chan = -1;
    x->created = now(s);
    return x;
}

static void finish(lec_sfu *s, session *x, lec_sdp *ans, lec_sfu_result *out)
{
    lec_sbuf sb;
    lec_sbuf_init(&sb, NULL);
    lec_sdp_write(ans, &sb);
    out->rc = 0;
    out->answer = lec_sbuf_steal(&sb, NULL);
    x->next = s->sessions;
    s->sessions = x;
}

/* Publishers stamp transport-wide sequence numbers for feedback, and
 * name each simulcast layer's packets (and their repairs) by rid. */
static const char *const PUB_EXTMAPS[] = {"urn:ietf:params:rtp-hdrext:sdes:mid", LEC_TWCC_URI,
                                          LEC_ROOM_RID_URI, LEC_ROOM_RRID_URI, NULL};
/* Viewers also get the playout delay the room asks while it repairs, and
 * transport-wide sequence numbers for their feedback (media/bwe.h). */
static const char *const VIEWER_EXTMAPS[] = {"urn:ietf:params:rtp-hdrext:sdes:mid",
                                             LEC_ROOM_PLAYOUT_URI, LEC_TWCC_URI, NULL};

/* Common to WHIP and WHEP: the session, its peer, the answer; the stream_room
 * part is the caller's.  Returns the session or NULL with out filled. */
static session *offer_session(lec_sfu *s, const char *id, bool publisher, const lec_sdp *offer,
                              lec_sdp_answer_opts *o, lec_sdp *ans, lec_sfu_result *out)
{
    session *x = session_new(s, id, publisher);
    if (!x) {
        fail(out, LEC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    int rc = session_peer(s, x, offer, publisher);
    if (rc) {
        fail(out, rc == LEC_ERR_INVAL ? LEC_ERR_INVAL : LEC_ERR_FULL, "%s",
             rc == LEC_ERR_INVAL ? "the offer has no usable media section or fingerprint"
                                 : "no media port available");
    } else {
        lec__class_offer(o);
        if (!answer(s, x, offer, o, ans, out)) {
            lec__class_setup(x, offer, ans);
            return x;
        }
    }
    if (x->peer)
        lec_peer_close(x->peer);
    free(x);
    return NULL;
}

void lec_sfu_publish(lec_sfu *s, const char *stream, const char *id, const lec_sdp *offer,
                     lec_sfu_result *out)
{
    stream_room *r = find_room(s, stream);
    if (r && (r->pub || r->up)) {
        fail(out, LEC_ERR_EXISTS, "stream %s already has a publisher%s", stream,
             r->up ? " (relayed from another node)" : "");
        return;
    }
    lec_sdp *ans = calloc(1, sizeof *ans);
    /* VP9 and AV1 pass through when the publisher prefers them; viewers
     * that cannot decode them get 406 from WHEP. */
    /* Congestion feedback (feedback.c): transport-cc whenever offered;
     * goog-remb only with a ceiling to send in it (a sender told to expect
     * REMB that gets none backs off to almost nothing). */
    lec_sdp_answer_opts o = {.dir = LEC_SDP_RECVONLY,
                             .fb_allowed = LEC_FB_NACK | LEC_FB_PLI | LEC_FB_FIR |
                                           LEC_FB_TRANSPORT_CC |
                                           (s->env.publish_max_kbps ? LEC_FB_REMB : 0u),
                             .extmaps = PUB_EXTMAPS,
                             .accept_simulcast = LEC_ROOM_MAX_LAYERS,
                             .allow_vp9 = true,
                             .allow_av1 = true,
                             .sess_id = lec_rand_u64(s->env.rand) >> 1};
    session *x = ans ? offer_session(s, id, true, offer, &o, ans, out) : NULL;
    if (!ans)
        fail(out, LEC_ERR_NOMEM, "out of memory");
    if (x && !r)
        r = room_new(s, stream);
    if (x && (!r || lec_room_set_tracks(&r->core, ans))) {
        fail(out, LEC_ERR_NOMEM, "out of memory");
        lec__class_gone(x);
        lec_peer_close(x->peer);
        free(x);
        x = NULL;
    }
    if (x) {
        x->room = r;
        r->sessions++;
        r->pub = x;
        lec__class_room_home(r);
        lec__feedback_setup(x, ans, s->env.publish_max_kbps);
        lec__feedback_answer(ans, s->env.publish_max_kbps);
        finish(s, x, ans, out);
        LEC_INFO(s->env.log, MOD, "stream %s: publisher %.8s offered; answered", stream, id);
    }
    free(ans);
}

void lec_sfu_view(lec_sfu *s, const char *stream, const char *id, const lec_sdp *offer,
                  lec_sfu_result *out)
{
    stream_room *r = find_room(s, stream);
    if (!r || !r->live || !(r->pub || r->up)) {
        fail(out, LEC_ERR_STATE, "stream %s is not live", stream);
        return;
    }
    lec_sdp *ans = calloc(1, sizeof *ans);
    lec_sdp_answer_opts o = {.dir = LEC_SDP_SENDONLY,
                             .fb_allowed =
                                 LEC_FB_NACK | LEC_FB_PLI | LEC_FB_FIR | LEC_FB_TRANSPORT_CC,
                             .extmaps = VIEWER_EXTMAPS,
                             .source_audio = lec_room_codec(&r->core, LEC_SDP_AUDIO),
                             .source_video = lec_room_codec(&r->core, LEC_SDP_VIDEO),
                             .sess_id = lec_rand_u64(s->env.rand) >> 1};
    session *x = ans ? offer_session(s, id, false, offer, &o, ans, out) : NULL;
    if (!ans)
        fail(out, LEC_ERR_NOMEM, "out of memory");
    uint32_t ssrcs[LEC_ROOM_MAX_TRACKS];
    for (unsigned i = 0; i < LEC_ROOM_MAX_TRACKS; i++)
        ssrcs[i] = lec_rand_u32(s->env.rand) | 1;
    if (x) {
        x->vid = ++s->next_vid;
        if (lec_room_add_viewer(&r->core, x->vid, ans, ssrcs, (uint16_t)lec_rand_u32(s->env.rand),
                                lec_rand_u32(s->env.rand))) {
            fail(out, LEC_ERR_NOMEM, "out of memory");
            lec__class_gone(x);
            lec_peer_close(x->peer);
            free(x);
            x = NULL;
        }
    }
    if (x) {
        /* Our outgoing SSRC per section, with a stream id (msid) so the
         * browser puts audio and video in one MediaStream. */
        for (unsigned i = 0; i < ans->nmedia; i++) {
            lec_sdp_media *m = &ans->media[i];
            uint32_t ssrc = m->port ? lec_room_viewer_ssrc(&r->core, x->vid, m->kind) : 0;
            if (!ssrc)
                continue;
            snprintf(m->msid, sizeof m->msid, "lectern-%s %s-%s", stream, stream,
                     m->kind == LEC_SDP_AUDIO ? "audio" : "video");
            m->nssrcs = 1;
            m->ssrcs[0].ssrc = ssrc;
            snprintf(m->ssrcs[0].cname, sizeof m->ssrcs[0].cname, "lectern");
            snprintf(m->ssrcs[0].msid, sizeof m->ssrcs[0].msid, "%s", m->msid);
            /* Repairs as RTX on their own SSRC, when negotiated. */
            uint32_t rtx = lec_room_viewer_rtx_ssrc(&r->core, x->vid, m->kind);
            if (rtx) {
                m->ssrcs[1] = m->ssrcs[0];
                m->ssrcs[1].ssrc = rtx;
                m->nssrcs = 2;
                m->groups[0] =
                    (lec_sdp_ssrc_group){.semantics = "FID", .ssrcs = {ssrc, rtx}, .n = 2};
                m->ngroups = 1;
            }
        }
        x->room = r;
        r->sessions++;
        x->next_viewer = r->viewers;
        r->viewers = x;
        lec_room_viewer_bind(&r->core, x->vid, x);
        finish(s, x, ans, out);
        lec__sfu_emit_count(r);
    }
    free(ans);
}

int lec_sfu_end(lec_sfu *s, const char *id)
{
    session *x = lec__sfu_find_session(s, id);
    if (!x)
        return LEC_ERR_NOTFOUND;
    end_session(x, false);
    return 0;
}

int lec_sfu_trickle(lec_sfu *s, const char *id, const char *frag, size_t len,
                    lec_sfu_restart *restart)
{
    memset(restart, 0, sizeof *restart);
    session *x = lec__sfu_find_session(s, id);
    if (!x)
        return LEC_ERR_NOTFOUND;
    lec_sdp_frag *f = malloc(sizeof *f);
    if (!f)
        return LEC_ERR_NOMEM;
    lec_sdp_frag_parse(frag, len, f);
    int rc = 0;
    lec_ice *ice = lec_peer_ice(x->peer);
    if (f->ufrag[0] && strcmp(f->ufrag, x->remote_ufrag)) { /* new credentials: a restart */
        rc = lec_ice_restart(ice, f->ufrag, f->pwd);
        if (!rc) {
            snprintf(x->remote_ufrag, sizeof x->remote_ufrag, "%s", f->ufrag);
            x->ncandidates = 0; /* the checks start again */
            restart->restarted = true;
            snprintf(restart->ufrag, sizeof restart->ufrag, "%s", lec_ice_ufrag(ice));
            snprintf(restart->pwd, sizeof restart->pwd, "%s", lec_ice_pwd(ice));
            LEC_INFO(s->env.log, MOD, "%s %.8s: ICE restart", x->publisher ? "publisher" : "viewer",
                     x->id);
        }
    }
    for (unsigned i = 0; !rc && i < f->ncandidates; i++)
        add_candidate(x, f->candidates[i]);
    const lec_sfu_metrics *mt = &x->sfu->env.metrics;
    if (!rc && f->dropped)
        lec_metric_add(mt->m, mt->slot, mt->candidates_refused, f->dropped);
    free(f);
    return rc;
}

lec_sfu *lec_sfu_new(const lec_sfu_env *env)
{
    if (!env->clock)
        return NULL;
    lec_sfu *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->env = *env;
    uv_timer_init(env->loop, &s->reaper);
    s->reaper.data = s;
    lec__class_init(s);
    if (lec__sfu_relay_attach(s))
        LEC_ERROR(env->log, MOD, "worker %u cannot receive relay legs or pipes", env->worker);
    return s;
}

static void reaper_closed(uv_handle_t *h)
{
    handle_closed(h->data);
}

void lec_sfu_free(lec_sfu *s)
{
    if (!s)
        return;
    s->env.event = NULL; /* the node is going away: no more events */
    lec__sfu_relay_detach(s);
    for (session *x = s->sessions; x; x = x->next)
        end_session(x, false);
    s->freeing = true;
    reap(&s->reaper);
    s->open_handles += 2;
    uv_close((uv_handle_t *)&s->reaper, reaper_closed);
    lec__class_free(s);
    uv_close((uv_handle_t *)&s->dc_timer, reaper_closed);
    lec__leg_free_all(s);
    while (s->rooms) /* rooms that never had a session left to reap */
        room_maybe_free(s->rooms);
}
