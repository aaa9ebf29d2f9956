/*
 * The media engine of one worker (sfu.h).
 *
 * Sessions are never freed inside their own peer's callbacks (libnice
 * would return into freed memory): ending one marks it and a zero timer
 * reaps it on the next loop turn.
 */
#include "sfu/sfu.h"
#include "base/err.h"
#include "base/ring.h"
#include "media/forwarder.h"
#include "peer/peer.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"
#include "sdp/negotiate.h"
#include "srtp/srtp_session.h"
#include "sys/sys.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD         "sfu"
#define MAX_TRACKS  2 /* audio, video */
#define RING_SLOTS  1024
#define PKT_MAX     1500
#define KF_INTERVAL (350 * LEC_MS) /* TOOLCHAIN.md: Chrome ignores PLIs < ~300 ms apart */
#define TICK_MS     50

typedef struct track {
    lec_sdp_kind kind;
    lec_sdp_codec codec; /* as negotiated with the publisher */
    uint32_t ssrc;       /* learned from the first packet */
    lec_ring ring;       /* video only: the NACK store */
    bool has_ring;
    lec_seq_unwrap unwrap;
    uint64_t received, base_ext, highest_ext;
    bool have_seq;
    uint32_t last_sr_mid;
    lec_tstamp last_sr_at;
} track;

typedef struct session session;

typedef struct room {
    char stream[65];
    session *pub;
    session *viewers;
    unsigned nviewers;
    track tracks[MAX_TRACKS];
    unsigned ntracks;
    lec_kf kf;
    uint32_t rtcp_ssrc; /* our SSRC in RTCP to the publisher */
    uv_timer_t timer;
    lec_tstamp last_rr;
    bool live;
    bool closing; /* its timer is closing; sessions reaped in the same pass still point here */
    struct room *next;
    struct lec_sfu *sfu;
} room;

struct session {
    char id[33];
    bool publisher;
    bool dying;
    room *room;
    lec_peer *peer;
    struct lec_sfu *sfu;
    char remote_ufrag[64];
    lec_fwd fwd[MAX_TRACKS];
    bool has[MAX_TRACKS];
    session *next;        /* all sessions of the sfu */
    session *next_viewer; /* the room's viewers */
    session *next_dying;
    lec_tstamp created; /* for the join time: request to first media */
    bool first_media;
};

struct lec_sfu {
    lec_sfu_env env;
    room *rooms;
    session *sessions;
    session *dying;
    uv_timer_t reaper;
    bool freeing;
    int open_handles;
    uint8_t scratch[PKT_MAX + LEC_SRTP_MAX_TRAILER];
};

static lec_tstamp now(void)
{
    return lec_clock_now(lec_sys_clock());
}

#define COUNT(s, id, n) lec_metric_add((s)->env.metrics.m, (s)->env.metrics.shard, (id), (n))

static void emit(lec_sfu *s, lec_sfu_event_kind kind, const char *stream, const char *sid,
                 unsigned viewers)
{
    lec_sfu_event ev = {.kind = kind, .viewers = viewers};
    snprintf(ev.stream, sizeof ev.stream, "%s", stream ? stream : "");
    snprintf(ev.session, sizeof ev.session, "%s", sid ? sid : "");
    if (s->env.event)
        s->env.event(s->env.ud, &ev);
}

static room *find_room(lec_sfu *s, const char *stream)
{
    for (room *r = s->rooms; r; r = r->next)
        if (!strcmp(r->stream, stream))
            return r;
    return NULL;
}

static session *find_session(lec_sfu *s, const char *id)
{
    for (session *x = s->sessions; x; x = x->next)
        if (!strcmp(x->id, id) && !x->dying)
            return x;
    return NULL;
}

/* ---- ending --------------------------------------------------------- */

static void schedule_reap(lec_sfu *s);

static void room_closed(uv_handle_t *h)
{
    room *r = h->data;
    lec_sfu *s = r->sfu;
    for (unsigned i = 0; i < r->ntracks; i++)
        if (r->tracks[i].has_ring)
            lec_ring_free(&r->tracks[i].ring);
    free(r);
    if (s->freeing && --s->open_handles == 0)
        free(s);
}

static void room_maybe_free(room *r)
{
    lec_sfu *s = r->sfu;
    if (r->pub || r->viewers || r->closing)
        return;
    r->closing = true;
    for (room **pp = &s->rooms; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    uv_timer_stop(&r->timer);
    if (s->freeing)
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
    room *r = x->room;
    if (self_initiated)
        emit(s, LEC_SFU_SESSION_GONE, r ? r->stream : NULL, x->id, 0);
    if (r && x->publisher) {
        r->pub = NULL;
        if (r->live)
            emit(s, LEC_SFU_STREAM_ENDED, r->stream, x->id, 0);
        r->live = false;
        LEC_INFO(s->env.log, MOD, "stream %s: publisher %s left; ending %u viewer(s)", r->stream,
                 x->id, r->nviewers);
        for (session *v = r->viewers; v; v = v->next_viewer)
            end_session(v, true);
    } else if (r) {
        for (session **pp = &r->viewers; *pp; pp = &(*pp)->next_viewer)
            if (*pp == x) {
                *pp = x->next_viewer;
                break;
            }
        r->nviewers--;
        emit(s, LEC_SFU_VIEWERS, r->stream, NULL, r->nviewers);
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
        lec_peer_close(x->peer);
        room *r = x->room;
        free(x);
        if (r)
            room_maybe_free(r);
    }
}

static void schedule_reap(lec_sfu *s)
{
    uv_timer_start(&s->reaper, reap, 0, 0);
}

/* ---- media ---------------------------------------------------------- */

static track *track_by_pt(room *r, uint8_t pt)
{
    for (unsigned i = 0; i < r->ntracks; i++)
        if (r->tracks[i].codec.pt == pt)
            return &r->tracks[i];
    return NULL;
}

static void send_pli(room *r)
{
    for (unsigned i = 0; i < r->ntracks; i++) {
        track *t = &r->tracks[i];
        if (t->kind != LEC_SDP_VIDEO || !t->ssrc || !r->pub)
            continue;
        uint8_t b[64];
        size_t n = lec_rtcp_build_pli(b, sizeof b, r->rtcp_ssrc, t->ssrc);
        if (!lec_peer_send_rtcp(r->pub->peer, b, n, sizeof b))
            COUNT(r->sfu, r->sfu->env.metrics.pli_out, 1);
    }
}

static void request_keyframe(room *r)
{
    if (lec_kf_request(&r->kf, now()))
        send_pli(r);
}

static void forward(room *r, unsigned ti, const uint8_t *pkt, size_t len, const lec_rtp_hdr *h)
{
    lec_sfu *s = r->sfu;
    for (session *v = r->viewers; v; v = v->next_viewer) {
        if (!v->has[ti] || lec_peer_get_state(v->peer) != LEC_PEER_CONNECTED)
            continue;
        memcpy(s->scratch, pkt, len);
        if (!lec_fwd_rewrite(&v->fwd[ti], s->scratch, h->ssrc, h->seq, h->ts, len) ||
            lec_peer_send_rtp(v->peer, s->scratch, len, sizeof s->scratch))
            continue;
        unsigned k = r->tracks[ti].kind == LEC_SDP_VIDEO;
        COUNT(s, s->env.metrics.rtp_out[k], 1);
        COUNT(s, s->env.metrics.bytes_out[k], len);
        if (!v->first_media) {
            v->first_media = true;
            lec_metric_observe(s->env.metrics.m, s->env.metrics.shard, s->env.metrics.join,
                               now() - v->created);
        }
    }
}

static void on_pub_rtp(void *ud, lec_peer *p, uint8_t *pkt, size_t len)
{
    (void)p;
    session *x = ud;
    room *r = x->room;
    lec_rtp_hdr h;
    if (x->dying || lec_rtp_parse(pkt, len, &h))
        return;
    track *t = track_by_pt(r, h.pt);
    if (!t)
        return; /* RTX, RED, or a payload type we did not accept */
    t->ssrc = h.ssrc;
    unsigned k = t->kind == LEC_SDP_VIDEO;
    COUNT(r->sfu, r->sfu->env.metrics.rtp_in[k], 1);
    COUNT(r->sfu, r->sfu->env.metrics.bytes_in[k], len);
    uint64_t ext = lec_seq_unwrap_next(&t->unwrap, h.seq);
    if (t->have_seq && ext > t->highest_ext + 1)
        COUNT(r->sfu, r->sfu->env.metrics.lost_in, ext - t->highest_ext - 1);
    if (!t->have_seq) {
        t->base_ext = ext;
        t->have_seq = true;
    }
    if (ext > t->highest_ext)
        t->highest_ext = ext;
    t->received++;
    if (t->has_ring)
        lec_ring_push(&t->ring, ext, pkt, len, 0);
    forward(r, (unsigned)(t - r->tracks), pkt, len, &h);
}

/* Resends what a viewer NACKed, from the ring, rewritten as before. */
static void answer_nack(room *r, session *v, const uint16_t *seqs, int n)
{
    lec_sfu *s = r->sfu;
    for (unsigned ti = 0; ti < r->ntracks; ti++) {
        track *t = &r->tracks[ti];
        if (!t->has_ring || !v->has[ti])
            continue;
        uint64_t head = lec_ring_head(&t->ring);
        for (int i = 0; i < n && head; i++) {
            uint16_t src = lec_fwd_source_seq(&v->fwd[ti], seqs[i]);
            uint64_t ext = head - 1 - (uint16_t)((uint16_t)(head - 1) - src);
            size_t len;
            uint64_t meta;
            if (lec_ring_read(&t->ring, ext, s->scratch, PKT_MAX, &len, &meta))
                continue;
            lec_rtp_hdr h;
            if (lec_rtp_parse(s->scratch, len, &h) ||
                !lec_fwd_rewrite(&v->fwd[ti], s->scratch, h.ssrc, h.seq, h.ts, len))
                continue;
            if (!lec_peer_send_rtp(v->peer, s->scratch, len, sizeof s->scratch))
                COUNT(s, s->env.metrics.retransmits, 1);
        }
    }
}

static void on_viewer_rtcp(void *ud, lec_peer *p, uint8_t *pkt, size_t len)
{
    (void)p;
    session *v = ud;
    if (v->dying || !v->room)
        return;
    lec_rtcp_iter it;
    lec_rtcp_pkt rp;
    lec_rtcp_iter_init(&it, pkt, len);
    while (lec_rtcp_next(&it, &rp) == 1) {
        if (rp.pt == LEC_RTCP_PSFB && (rp.fmt == 1 || rp.fmt == 4)) {
            COUNT(v->sfu, v->sfu->env.metrics.pli_in, 1);
            request_keyframe(v->room);
        } else if (rp.pt == LEC_RTCP_RTPFB && rp.fmt == 1) {
            lec_rtcp_fb ids;
            uint16_t seqs[64];
            int n = lec_rtcp_parse_nack(&rp, &ids, seqs, 64);
            if (n > 0) {
                COUNT(v->sfu, v->sfu->env.metrics.nack_in, 1);
                answer_nack(v->room, v, seqs, n);
            }
        }
    }
}

/* The publisher's Sender Reports, per viewer: its SSRC and our timestamps
 * against the publisher's NTP time (DESIGN.md section 3, step 6). */
static void on_pub_rtcp(void *ud, lec_peer *p, uint8_t *pkt, size_t len)
{
    (void)p;
    session *x = ud;
    room *r = x->room;
    if (x->dying)
        return;
    lec_rtcp_iter it;
    lec_rtcp_pkt rp;
    lec_rtcp_iter_init(&it, pkt, len);
    while (lec_rtcp_next(&it, &rp) == 1) {
        lec_rtcp_sr sr;
        if (rp.pt != LEC_RTCP_SR || lec_rtcp_parse_sr(&rp, &sr))
            continue;
        for (unsigned ti = 0; ti < r->ntracks; ti++) {
            track *t = &r->tracks[ti];
            if (t->ssrc != sr.ssrc)
                continue;
            t->last_sr_mid = lec_ntp_mid32(sr.ntp);
            t->last_sr_at = now();
            for (session *v = r->viewers; v; v = v->next_viewer) {
                if (!v->has[ti] || !v->fwd[ti].started)
                    continue;
                lec_rtcp_sr out = {.ssrc = v->fwd[ti].out_ssrc,
                                   .ntp = sr.ntp,
                                   .rtp_ts = lec_fwd_out_ts(&v->fwd[ti], sr.rtp_ts),
                                   .packets = (uint32_t)v->fwd[ti].packets,
                                   .octets = (uint32_t)v->fwd[ti].octets};
                uint8_t b[64 + LEC_SRTP_MAX_TRAILER];
                size_t n = lec_rtcp_build_sr(b, sizeof b - LEC_SRTP_MAX_TRAILER, &out);
                lec_peer_send_rtcp(v->peer, b, n, sizeof b);
            }
        }
    }
}

/* Receiver Reports to the publisher, once a second: loss and the LSR/DLSR
 * pair that lets it measure its round trip to us. */
static void send_rr(room *r)
{
    lec_rtcp_report reps[MAX_TRACKS];
    size_t n = 0;
    lec_tstamp t0 = now();
    for (unsigned i = 0; i < r->ntracks; i++) {
        track *t = &r->tracks[i];
        if (!t->have_seq)
            continue;
        uint64_t expected = t->highest_ext - t->base_ext + 1;
        int64_t lost = (int64_t)expected - (int64_t)t->received;
        lec_rtcp_report *rep = &reps[n++];
        *rep = (lec_rtcp_report){.ssrc = t->ssrc,
                                 .cumulative_lost = (int32_t)(lost > 0 ? lost : 0),
                                 .highest_seq = (uint32_t)t->highest_ext,
                                 .lsr = t->last_sr_mid};
        if (t->last_sr_at)
            rep->dlsr = (uint32_t)(((t0 - t->last_sr_at) * 65536) / LEC_S);
    }
    if (!n || !r->pub)
        return;
    uint8_t b[256 + LEC_SRTP_MAX_TRAILER];
    size_t len = lec_rtcp_build_rr(b, 256, r->rtcp_ssrc, reps, n);
    len += lec_rtcp_build_sdes_cname(b + len, 256 - len, r->rtcp_ssrc, "lectern");
    lec_peer_send_rtcp(r->pub->peer, b, len, sizeof b);
}

static void on_room_tick(uv_timer_t *tm)
{
    room *r = tm->data;
    lec_tstamp t = now();
    if (lec_kf_due(&r->kf, t))
        send_pli(r);
    if (r->pub && lec_peer_get_state(r->pub->peer) == LEC_PEER_CONNECTED &&
        t - r->last_rr >= LEC_S) {
        r->last_rr = t;
        send_rr(r);
    }
}

/* ---- sessions ------------------------------------------------------- */

static void on_state(void *ud, lec_peer *p, lec_peer_state st)
{
    (void)p;
    session *x = ud;
    lec_sfu *s = x->sfu;
    room *r = x->room;
    if (x->dying)
        return;
    if (st == LEC_PEER_CONNECTED) {
        LEC_INFO(s->env.log, MOD, "stream %s: %s %s connected", r->stream,
                 x->publisher ? "publisher" : "viewer", x->id);
        if (x->publisher) {
            r->live = true;
            emit(s, LEC_SFU_STREAM_LIVE, r->stream, x->id, 0);
        }
        request_keyframe(r); /* a new viewer starts at the next keyframe */
        return;
    }
    if (st == LEC_PEER_FAILED || st == LEC_PEER_CLOSED) {
        LEC_INFO(s->env.log, MOD, "stream %s: %s %s %s", r->stream,
                 x->publisher ? "publisher" : "viewer", x->id,
                 st == LEC_PEER_CLOSED ? "closed" : "failed or went silent");
        end_session(x, true);
    }
}

static room *room_new(lec_sfu *s, const char *stream)
{
    room *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    snprintf(r->stream, sizeof r->stream, "%s", stream);
    r->sfu = s;
    r->rtcp_ssrc = lec_rand_u32(s->env.rand) | 1;
    lec_kf_init(&r->kf, KF_INTERVAL);
    uv_timer_init(s->env.loop, &r->timer);
    r->timer.data = r;
    uv_timer_start(&r->timer, on_room_tick, TICK_MS, TICK_MS);
    r->next = s->rooms;
    s->rooms = r;
    return r;
}

/* Creates the session's peer; fills the answer options' ICE and DTLS part. */
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
                        .ud = x};
    int rc = lec_peer_new(&x->peer, &pc, &cbs);
    if (rc)
        return rc;
    lec_ice *ice = lec_peer_ice(x->peer);
    snprintf(x->remote_ufrag, sizeof x->remote_ufrag, "%s", lec_sdp_ufrag(offer, m));
    lec_ice_set_remote(ice, lec_sdp_ufrag(offer, m), lec_sdp_pwd(offer, m));
    for (unsigned i = 0; i < offer->nmedia; i++)
        for (unsigned k = 0; k < offer->media[i].ncandidates; k++)
            lec_ice_add_remote_candidate(ice, offer->media[i].candidates[k]);
    return 0;
}

static void fail(lec_sfu_result *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(lec_sfu_result *out, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    out->status = status;
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    out->answer = NULL;
    va_end(ap);
}

/* Negotiates and writes the answer; 0 or an HTTP status with a reason. */
static int answer(lec_sfu *s, session *x, const lec_sdp *offer, lec_sdp_answer_opts *o,
                  lec_sdp *ans, lec_sfu_result *out)
{
    (void)s;
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
        fail(out, rc == LEC_ERR_UNSUPPORTED ? 406 : 400, "%s", err);
        return rc;
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
    x->created = now();
    return x;
}

static void finish(lec_sfu *s, session *x, lec_sdp *ans, lec_sfu_result *out)
{
    lec_sbuf sb;
    lec_sbuf_init(&sb, NULL);
    lec_sdp_write(ans, &sb);
    out->status = 201;
    out->answer = lec_sbuf_steal(&sb, NULL);
    x->next = s->sessions;
    s->sessions = x;
}

static const char *const EXTMAPS[] = {"urn:ietf:params:rtp-hdrext:sdes:mid", NULL};

void lec_sfu_publish(lec_sfu *s, const char *stream, const char *id, const lec_sdp *offer,
                     lec_sfu_result *out)
{
    room *r = find_room(s, stream);
    if (r && r->pub) {
        fail(out, 409, "stream %s already has a publisher", stream);
        return;
    }
    session *x = session_new(s, id, true);
    lec_sdp *ans = calloc(1, sizeof *ans);
    if (!x || !ans) {
        free(x);
        free(ans);
        fail(out, 500, "%s", "out of memory");
        return;
    }
    int rc = session_peer(s, x, offer, true);
    /* VP9 and AV1 pass through when the publisher prefers them; viewers
     * that cannot decode them get 406 from WHEP. */
    lec_sdp_answer_opts o = {.dir = LEC_SDP_RECVONLY,
                             .fb_allowed = LEC_FB_NACK | LEC_FB_PLI | LEC_FB_FIR,
                             .extmaps = EXTMAPS,
                             .allow_vp9 = true,
                             .allow_av1 = true,
                             .sess_id = lec_rand_u64(s->env.rand) >> 1};
    if (rc) {
        fail(out, rc == LEC_ERR_INVAL ? 400 : 503, "%s",
             rc == LEC_ERR_INVAL ? "the offer has no usable media section or fingerprint"
                                 : "no media port available");
    } else if (!answer(s, x, offer, &o, ans, out)) {
        if (!r)
            r = room_new(s, stream);
        if (!r) {
            fail(out, 500, "%s", "out of memory");
        } else {
            x->room = r;
            r->pub = x;
            r->ntracks = 0;
            for (unsigned i = 0; i < ans->nmedia && r->ntracks < MAX_TRACKS; i++) {
                const lec_sdp_media *m = &ans->media[i];
                if (!m->port || !m->ncodecs)
                    continue;
                track *t = &r->tracks[r->ntracks++];
                if (t->has_ring)
                    lec_ring_free(&t->ring);
                memset(t, 0, sizeof *t);
                t->kind = m->kind;
                t->codec = m->codecs[0];
                if (m->kind == LEC_SDP_VIDEO)
                    t->has_ring = lec_ring_init(&t->ring, NULL, RING_SLOTS, PKT_MAX) == 0;
            }
            finish(s, x, ans, out);
            LEC_INFO(s->env.log, MOD, "stream %s: publisher %s offered; answered", stream, id);
            free(ans);
            return;
        }
    }
    if (x->peer)
        lec_peer_close(x->peer);
    free(x);
    free(ans);
}

void lec_sfu_view(lec_sfu *s, const char *stream, const char *id, const lec_sdp *offer,
                  lec_sfu_result *out)
{
    room *r = find_room(s, stream);
    if (!r || !r->live || !r->pub) {
        fail(out, 409, "stream %s is not live", stream);
        return;
    }
    session *x = session_new(s, id, false);
    lec_sdp *ans = calloc(1, sizeof *ans);
    if (!x || !ans) {
        free(x);
        free(ans);
        fail(out, 500, "%s", "out of memory");
        return;
    }
    lec_sdp_answer_opts o = {.dir = LEC_SDP_SENDONLY,
                             .fb_allowed = LEC_FB_NACK | LEC_FB_PLI | LEC_FB_FIR,
                             .extmaps = EXTMAPS,
                             .no_rtx = true,
                             .sess_id = lec_rand_u64(s->env.rand) >> 1};
    for (unsigned i = 0; i < r->ntracks; i++) {
        if (r->tracks[i].kind == LEC_SDP_AUDIO)
            o.source_audio = &r->tracks[i].codec;
        else
            o.source_video = &r->tracks[i].codec;
    }
    int rc = session_peer(s, x, offer, false);
    if (rc) {
        fail(out, rc == LEC_ERR_INVAL ? 400 : 503, "%s",
             rc == LEC_ERR_INVAL ? "the offer has no usable media section or fingerprint"
                                 : "no media port available");
    } else if (!answer(s, x, offer, &o, ans, out)) {
        /* Our outgoing SSRC per track, announced with a stream id (msid) so
         * the browser puts audio and video in one MediaStream. */
        for (unsigned i = 0; i < ans->nmedia; i++) {
            lec_sdp_media *m = &ans->media[i];
            if (!m->port || !m->ncodecs)
                continue;
            for (unsigned ti = 0; ti < r->ntracks; ti++) {
                if (r->tracks[ti].kind != m->kind || x->has[ti])
                    continue;
                uint32_t ssrc = lec_rand_u32(s->env.rand) | 1;
                lec_fwd_init(&x->fwd[ti], ssrc, m->codecs[0].pt, m->codecs[0].clock_rate,
                             (uint16_t)lec_rand_u32(s->env.rand), lec_rand_u32(s->env.rand));
                x->has[ti] = true;
                snprintf(m->msid, sizeof m->msid, "lectern-%s %s-%s", stream, stream,
                         m->kind == LEC_SDP_AUDIO ? "audio" : "video");
                m->nssrcs = 1;
                m->ssrcs[0].ssrc = ssrc;
                snprintf(m->ssrcs[0].cname, sizeof m->ssrcs[0].cname, "lectern");
                snprintf(m->ssrcs[0].msid, sizeof m->ssrcs[0].msid, "%s", m->msid);
                break;
            }
        }
        x->room = r;
        x->next_viewer = r->viewers;
        r->viewers = x;
        r->nviewers++;
        finish(s, x, ans, out);
        emit(s, LEC_SFU_VIEWERS, stream, NULL, r->nviewers);
        free(ans);
        return;
    }
    if (x->peer)
        lec_peer_close(x->peer);
    free(x);
    free(ans);
}

int lec_sfu_end(lec_sfu *s, const char *id)
{
    session *x = find_session(s, id);
    if (!x)
        return LEC_ERR_NOTFOUND;
    end_session(x, false);
    return 0;
}

int lec_sfu_trickle(lec_sfu *s, const char *id, const char *frag, size_t len)
{
    session *x = find_session(s, id);
    if (!x)
        return LEC_ERR_NOTFOUND;
    const char *p = frag, *end = frag + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);
        if (n && p[n - 1] == '\r')
            n--;
        char line[256];
        if (n < sizeof line) {
            memcpy(line, p, n);
            line[n] = '\0';
            if (!strncmp(line, "a=ice-ufrag:", 12) && strcmp(line + 12, x->remote_ufrag))
                return LEC_ERR_UNSUPPORTED; /* new credentials: an ICE restart */
            if (!strncmp(line, "a=candidate:", 12))
                lec_ice_add_remote_candidate(lec_peer_ice(x->peer), line + 12);
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

lec_sfu *lec_sfu_new(const lec_sfu_env *env)
{
    lec_sfu *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->env = *env;
    uv_timer_init(env->loop, &s->reaper);
    s->reaper.data = s;
    return s;
}

static void reaper_closed(uv_handle_t *h)
{
    lec_sfu *s = h->data;
    if (--s->open_handles == 0)
        free(s);
}

void lec_sfu_free(lec_sfu *s)
{
    if (!s)
        return;
    s->env.event = NULL; /* the node is going away: no more events */
    for (session *x = s->sessions; x; x = x->next)
        end_session(x, false);
    reap(&s->reaper);
    s->freeing = true;
    s->open_handles++;
    uv_close((uv_handle_t *)&s->reaper, reaper_closed);
    /* Rooms that had no session never got freed by a reap. */
    while (s->rooms)
        room_maybe_free(s->rooms);
}
