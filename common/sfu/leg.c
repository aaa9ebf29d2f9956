/*
 * Relay legs on a worker (sfu.h, relay/relay.h): SRTP over the node's
 * relay socket, one leg per stream per hop.
 *
 * Downstream (we are the source): the leg is a subscriber of the room; it
 * gets media once the requester's first packet proves its end is ready
 * (then from the GOP cache), and its RTCP (NACK, PLI, RR) is a viewer's.
 * Upstream (we are the requester): the leg is the room's publisher; its
 * first packet makes the stream live here.  What the leg protocol decides
 * (keepalives, when media starts, silence, what a BYE means, how many BYEs
 * to send) is the sans-I/O core media/leg_proto.h, tested in virtual time
 * (tests/unit/media/test_leg_protocol.c); this file carries its packets
 * and acts on its events: an upstream leg quiet for a second is reported
 * (the node re-sources it; viewers stay), a downstream one quiet for ten
 * is dropped, a BYE ends the stream (upstream) or the leg (downstream).
 *
 * A pipe (pipes/pipes.h) is a leg between two workers of this node, for a
 * stream whose viewers spread over them: the same protocol in the clear
 * through a queue, one copy of each repair, and no silence reports (the
 * node closes an idle shard itself).
 */
#include "base/err.h"
#include "pipes/pipes.h"
#include "relay/relay.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"
#include "sfu/sfu_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD     "relay"
#define LEG_BUF (LEC_ROOM_PKT_MAX + LEC_ROOM_TRAILER)

static leg **bucket(lec_sfu *s, uint64_t tag)
{
    return &s->legs[tag % LEG_BUCKETS]; /* the tag's low bits are random */
}

/* Every packet on a leg starts here: a short chain, not a scan of all. */
static leg *leg_by_rx(lec_sfu *s, uint64_t tag)
{
    for (leg *l = *bucket(s, tag); l; l = l->next)
        if (l->rx_tag == tag)
            return l;
    return NULL;
}

static void leg_send(leg *l, uint8_t *pkt, size_t len, size_t cap, bool rtcp)
{
    lec_sfu *s = l->room->sfu;
    if (l->dead)
        return;
    if (l->pipe) {
        if (s->env.pipes)
            lec_pipes_send(s->env.pipes, s->env.worker, l->peer_worker, l->tx_tag, pkt, len);
        lec_leg_proto_sent(&l->proto, lec__sfu_now(s));
        return;
    }
    if (!s->env.relay)
        return;
    int rc = rtcp ? lec_srtp_protect_rtcp(l->tx, pkt, &len, cap)
                  : lec_srtp_protect(l->tx, pkt, &len, cap);
    if (rc)
        return;
    lec_relay_send(s->env.relay, &l->peer, l->tx_tag, pkt, len);
    lec_leg_proto_sent(&l->proto, lec__sfu_now(s));
}

void lec__leg_send_rtp(leg *l, uint8_t *pkt, size_t len, size_t cap)
{
    leg_send(l, pkt, len, cap, false);
}

void lec__leg_send_rtcp(leg *l, uint8_t *pkt, size_t len, size_t cap)
{
    leg_send(l, pkt, len, cap, true);
}

/* A small RTCP packet: a keepalive (an empty RR) or a BYE. */
static void leg_send_small(leg *l, bool bye)
{
    uint8_t b[64 + LEC_ROOM_TRAILER];
    uint32_t ssrc = l->room->core.rtcp_ssrc;
    size_t n = bye ? lec_rtcp_build_bye(b, 64, ssrc) : lec_rtcp_build_rr(b, 64, ssrc, NULL, 0);
    if (n)
        leg_send(l, b, n, sizeof b, true);
}

/* As many BYEs as the protocol says for why this end stops. */
static void leg_send_byes(leg *l, lec_leg_stop why)
{
    for (unsigned n = lec_leg_proto_byes(&l->proto, why); n; n--)
        leg_send_small(l, true);
}

static void leg_unlink(leg *l)
{
    lec_sfu *s = l->room->sfu;
    for (leg **pp = bucket(s, l->rx_tag); *pp; pp = &(*pp)->next)
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    stream_room *r = l->room;
    if (r->up == l)
        r->up = NULL;
    for (leg **pp = &r->downs; *pp; pp = &(*pp)->next_down)
        if (*pp == l) {
            *pp = l->next_down;
            if (l->pipe)
                r->npipes--;
            else
                r->ndowns--;
            lec_room_remove_viewer(&r->core, l->vid);
            break;
        }
}

static void leg_free(leg *l)
{
    lec_msgline_free(&l->ml);
    lec_srtp_free(l->tx);
    lec_srtp_free(l->rx);
    free(l);
}

/* Drops a downstream leg and tells the node. */
static void down_close(leg *l, const char *why)
{
    stream_room *r = l->room;
    lec_sfu *s = r->sfu;
    if (l->pipe)
        LEC_DEBUG(s->env.log, MOD, "stream %s: pipe to worker %u closed (%s)", r->stream,
                  l->peer_worker, why);
    else
        LEC_INFO(s->env.log, MOD, "stream %s: leg to %s closed (%s)", r->stream, l->peer_node, why);
    lec_sfu_event ev = {
        .kind = LEC_SFU_LEG_GONE, .leg_id = l->tx_tag, .worker = s->env.worker, .pipe = l->pipe};
    snprintf(ev.stream, sizeof ev.stream, "%s", r->stream);
    leg_unlink(l);
    leg_free(l);
    if (s->env.event)
        s->env.event(s->env.ud, &ev);
    lec__sfu_emit_count(r);
}

void lec__legs_end_downs(stream_room *r)
{
    while (r->downs) {
        leg_send_byes(r->downs, LEC_LEG_STOP_STREAM_ENDED);
        down_close(r->downs, "the stream ended");
    }
}

/* The stream ended upstream (a BYE), or the node closed the leg. */
static void up_end(stream_room *r, const char *why)
{
    lec_sfu *s = r->sfu;
    leg *l = r->up;
    bool shard = l && l->pipe;
    if (l) {
        if (l->pipe)
            LEC_DEBUG(s->env.log, MOD, "stream %s: pipe from worker %u closed (%s)", r->stream,
                      l->peer_worker, why);
        else
            LEC_INFO(s->env.log, MOD, "stream %s: leg from %s closed (%s)", r->stream, l->peer_node,
                     why);
        leg_unlink(l);
        leg_free(l);
    }
    r->core.publisher_ready = false;
    if (r->live && !shard) /* a shard's stream is its home's to report */
        lec__sfu_emit(s, LEC_SFU_STREAM_ENDED, r->stream, NULL, 0);
    r->live = false;
    lec__sfu_end_viewers(r);
    lec__sfu_room_maybe_free(r);
}

static bool has_bye(const uint8_t *pkt, size_t len)
{
    lec_rtcp_iter it;
    lec_rtcp_pkt p;
    lec_rtcp_iter_init(&it, pkt, len);
    while (lec_rtcp_next(&it, &p) == 1)
        if (p.pt == LEC_RTCP_BYE)
            return true;
    return false;
}

static void deliver_clear(lec_sfu *s, leg *l, uint8_t *pkt, size_t len, lec_pkt_class c);

/* ---- the classroom's messages on legs (media/msgline.h) ---- */

static void ml_send(void *ud, uint8_t *pkt, size_t len)
{
    leg_send(ud, pkt, len, len + LEC_ML_TRAILER, true);
}

/* A whole message from the far end: down from the home on our upstream
 * leg, up to it on a downstream one. */
static void ml_deliver(void *ud, const uint8_t *msg, size_t len)
{
    leg *l = ud;
    if (l->dead)
        return;
    if (l->room->class_in)
        l->room->class_in(l->room, l->upstream, msg, len);
}

static lec_ml_io ml_io(leg *l)
{
    return (lec_ml_io){ml_send, ml_deliver, l};
}

static void ml_out(leg *l, const char *msg, size_t len)
{
    if (l->dead)
        return;
    lec_ml_io io = ml_io(l);
    if (lec_msgline_send(&l->ml, (const uint8_t *)msg, len, lec__sfu_now(l->room->sfu), &io) &&
        l->ml.st.refused % 100 == 1) /* the first, then every hundredth */
        LEC_WARN(l->room->sfu->env.log, MOD,
                 "stream %s: leg %s: classroom messages dropped (%llu so far; %u waiting "
                 "or unacknowledged)",
                 l->room->stream, l->peer_node, (unsigned long long)l->ml.st.refused,
                 lec_msgline_in_flight(&l->ml));
}

void lec__legs_class_out(stream_room *r, bool down, const char *msg, size_t len)
{
    if (!down) {
        if (r->up)
            ml_out(r->up, msg, len);
        return;
    }
    for (leg *l = r->downs; l; l = l->next_down)
        ml_out(l, msg, len);
}

/* A new downstream leg gets the quizzes still open, as a late joiner gets
 * the GOP: its node releases them at once (counted late). */
static void ml_replay(leg *l)
{
    stream_room *r = l->room;
    for (unsigned i = 0;; i++) {
        lec_sbuf sb;
        lec_sbuf_init(&sb, NULL);
        bool more = lec_class_open_down(&r->cls, i, lec__sfu_now(r->sfu), &sb);
        if (more && sb.len && !lec_sbuf_status(&sb))
            ml_out(l, sb.data, sb.len);
        lec_sbuf_free(&sb);
        if (!more)
            return;
    }
}

/* The relay socket's callback on this worker. */
static void deliver(void *ud, uint64_t tag, uint8_t *pkt, size_t len, size_t cap)
{
    (void)cap;
    lec_sfu *s = ud;
    leg *l = leg_by_rx(s, tag);
    if (!l || l->dead || l->pipe)
        return;
    lec_pkt_class c = lec_pkt_classify(pkt, len);
    int rc = c == LEC_PKT_RTP    ? lec_srtp_unprotect(l->rx, pkt, &len)
             : c == LEC_PKT_RTCP ? lec_srtp_unprotect_rtcp(l->rx, pkt, &len)
                                 : LEC_ERR_INVAL;
    if (rc) {
        /* Mostly the copies of a repair (sent three times; the first one
         * in wins, libsrtp refuses the others as replays); a forged or
         * misrouted packet looks the same from here. */
        if (l->auth_failures++ % 1000 == 0)
            LEC_DEBUG(s->env.log, MOD,
                      "stream %s: leg %s: %llu packet(s) failed SRTP authentication or replay",
                      l->room->stream, l->peer_node, (unsigned long long)l->auth_failures);
        return;
    }
    deliver_clear(s, l, pkt, len, c);
}

/* The pipes' callback on this worker: a packet from another worker. */
static void pipe_deliver(void *ud, uint64_t tag, uint8_t *pkt, size_t len, size_t cap)
{
    (void)cap;
    lec_sfu *s = ud;
    leg *l = leg_by_rx(s, tag);
    if (l && !l->dead && l->pipe)
        deliver_clear(s, l, pkt, len, lec_pkt_classify(pkt, len));
}

static void deliver_clear(lec_sfu *s, leg *l, uint8_t *pkt, size_t len, lec_pkt_class c)
{
    lec_tstamp now = lec__sfu_now(s);
    stream_room *r = l->room;
    bool rtcp = c == LEC_PKT_RTCP;
    unsigned ev = lec_leg_proto_rx(&l->proto, rtcp && has_bye(pkt, len), now);
    if (rtcp && lec_msgline_is(pkt, len)) {
        if (ev & LEC_LEG_STARTED) {
            lec_room_viewer_ready(&r->core, l->vid, now);
            ml_replay(l);
        }
        lec_ml_io io = ml_io(l);
        lec_msgline_input(&l->ml, pkt, len, now, &io);
        return;
    }
    if (l->upstream) {
        if (ev & LEC_LEG_HEARD)
            LEC_INFO(s->env.log, MOD, "stream %s: the leg from %s is heard again", r->stream,
                     l->peer_node);
        if (ev & LEC_LEG_ENDED) {
            up_end(r, "the stream ended");
        } else if (c == LEC_PKT_RTP) {
            if (!r->live) {
                r->live = true;
                lec__sfu_emit(s, LEC_SFU_STREAM_LIVE, r->stream, NULL, 0);
            }
            lec_room_publisher_rtp(&r->core, pkt, len, now);
        } else if (rtcp) {
            lec_room_publisher_rtcp(&r->core, pkt, len, now);
        }
        return;
    }
    if (ev & LEC_LEG_CLOSED) {
        down_close(l, "the requester closed it");
        return;
    }
    if (ev & LEC_LEG_STARTED) { /* its first packet: the far end listens */
        lec_room_viewer_ready(&r->core, l->vid, now);
        ml_replay(l);
    }
    if (rtcp) /* a requester sends no media */
        lec_room_viewer_rtcp(&r->core, l->vid, pkt, len, now);
}

void lec__legs_tick(stream_room *r, lec_tstamp now)
{
    lec_sfu *s = r->sfu;
    leg *u = r->up;
    unsigned ev = u ? lec_leg_proto_tick(&u->proto, now, NULL) : 0;
    if (ev & LEC_LEG_SILENT) {
        LEC_WARN(s->env.log, MOD, "stream %s: the leg from %s is silent", r->stream, u->peer_node);
        lec_sfu_event e = {
            .kind = LEC_SFU_LEG_SILENT, .leg_id = u->rx_tag, .worker = s->env.worker};
        snprintf(e.stream, sizeof e.stream, "%s", r->stream);
        if (s->env.event)
            s->env.event(s->env.ud, &e);
    }
    if (ev & LEC_LEG_KEEPALIVE)
        leg_send_small(u, false);
    if (u) {
        lec_ml_io io = ml_io(u);
        lec_msgline_tick(&u->ml, now, &io);
    }
    for (leg *l = r->downs, *next; l; l = next) {
        next = l->next_down;
        ev = lec_leg_proto_tick(&l->proto, now, NULL);
        if (ev & LEC_LEG_CLOSED) {
            down_close(l, "the requester went quiet");
            continue;
        }
        if (ev & LEC_LEG_KEEPALIVE)
            leg_send_small(l, false);
        lec_ml_io io = ml_io(l);
        lec_msgline_tick(&l->ml, now, &io);
    }
}

static int leg_keys(leg *l, const uint8_t *tx_key, const uint8_t *rx_key)
{
    int rc = lec_srtp_new(&l->tx, LEC_DTLS_SRTP_AEAD_AES_128_GCM, tx_key, LEC_SFU_LEG_KEY, true);
    if (!rc)
        rc = lec_srtp_new(&l->rx, LEC_DTLS_SRTP_AEAD_AES_128_GCM, rx_key, LEC_SFU_LEG_KEY, false);
    return rc;
}

/* Who a leg talks to, and the tags both ways. */
typedef struct leg_ident {
    uint64_t rx_tag, tx_tag, leg_id;
    lec_addr peer;
    bool pipe;
    unsigned peer_worker;
    const char *peer_node;
} leg_ident;

static leg *leg_new(lec_sfu *s, stream_room *r, bool upstream, const leg_ident *id)
{
    leg *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->room = r;
    l->upstream = upstream;
    /* Pipes report no silence: the node closes an idle shard itself. */
    lec_leg_proto_init(&l->proto, NULL, upstream, !id->pipe, lec__sfu_now(s));
    lec_msgline_init(&l->ml, r->core.rtcp_ssrc);
    l->rx_tag = id->rx_tag;
    l->tx_tag = id->tx_tag;
    l->leg_id = id->leg_id;
    l->peer = id->peer;
    l->pipe = id->pipe;
    l->peer_worker = id->peer_worker;
    snprintf(l->peer_node, sizeof l->peer_node, "%s", id->peer_node);
    leg **b = bucket(s, l->rx_tag);
    l->next = *b;
    *b = l;
    return l;
}

static void fill_tracks(const stream_room *r, lec_sfu_leg_track *out, unsigned *n)
{
    *n = 0;
    for (unsigned i = 0; i < r->core.ntracks && i < LEC_ROOM_MAX_TRACKS; i++) {
        const lec_room_track *t = &r->core.tracks[i];
        out[i].kind = t->kind;
        out[i].codec = t->codec;
        memcpy(out[i].rid, t->layer ? t->rid : "", t->layer ? sizeof out[i].rid : 1);
        (*n)++;
    }
}

void lec_sfu_leg_out_open(lec_sfu *s, lec_sfu_leg_out *q)
{
    stream_room *r = lec__sfu_find_room(s, q->stream);
    q->error = 0;
    if (q->pipe ? !s->env.pipes : !s->env.relay) {
        q->error = LEC_ERR_UNSUPPORTED;
        snprintf(q->reason, sizeof q->reason, "this node has no %s",
                 q->pipe ? "pipes between workers" : "relay socket");
        return;
    }
    if (!r || !r->live || !(r->pub || r->up)) {
        q->error = LEC_ERR_NOTFOUND;
        snprintf(q->reason, sizeof q->reason, "stream %s is not live here", q->stream);
        return;
    }
    /* One leg per (requester, leg id): a request repeated (or replayed)
     * opens nothing more. */
    for (leg *d = r->downs; d; d = d->next_down)
        if (d->leg_id == q->leg_id && d->pipe == q->pipe && !strcmp(d->peer_node, q->requester)) {
            q->error = LEC_ERR_EXISTS;
            snprintf(q->reason, sizeof q->reason, "leg %llu of %s is open already",
                     (unsigned long long)q->leg_id, q->requester);
            return;
        }
    const lec_rand *rnd = s->env.rand;
    leg_ident id = {.rx_tag = lec_relay_tag(s->env.worker, lec_rand_u64(rnd)),
                    .tx_tag = q->leg_id,
                    .leg_id = q->leg_id,
                    .peer = q->to,
                    .pipe = q->pipe,
                    .peer_worker = q->pipe_worker,
                    .peer_node = q->requester};
    leg *l = leg_new(s, r, false, &id);
    if (!q->pipe) {
        rnd->fill(rnd->ud, q->key_down, sizeof q->key_down);
        rnd->fill(rnd->ud, q->key_up, sizeof q->key_up);
    }
    uint32_t ssrcs[LEC_ROOM_MAX_TRACKS];
    for (unsigned i = 0; i < LEC_ROOM_MAX_TRACKS; i++)
        ssrcs[i] = lec_rand_u32(rnd) | 1;
    if (l) {
        l->vid = ++s->next_vid;
        l->next_down = r->downs;
        r->downs = l;
        if (l->pipe)
            r->npipes++;
        else
            r->ndowns++;
    }
    if (!l || (!q->pipe && leg_keys(l, q->key_down, q->key_up)) ||
        lec_room_add_leg(&r->core, l->vid, ssrcs, (uint16_t)lec_rand_u32(rnd), lec_rand_u32(rnd),
                         q->resume)) {
        if (l) {
            leg_unlink(l);
            leg_free(l);
        }
        q->error = LEC_ERR_NOMEM;
        snprintf(q->reason, sizeof q->reason, "out of memory");
        return;
    }
    lec_room_viewer_bind(&r->core, l->vid, lec__sfu_leg_ud(l));
    if (q->pipe)
        lec_room_set_copies(&r->core, l->vid, 1);
    fill_tracks(r, q->tracks, &q->ntracks);
    for (unsigned i = 0; i < q->ntracks; i++)
        q->tracks[i].ssrc = ssrcs[i];
    q->source_tag = l->rx_tag;
    q->depth = r->depth;
    char a[LEC_ADDR_STRLEN];
    if (q->pipe)
        LEC_DEBUG(s->env.log, MOD, "stream %s: pipe to worker %u opened", r->stream,
                  q->pipe_worker);
    else
        LEC_INFO(s->env.log, MOD, "stream %s: leg to %s (%s) opened", r->stream, q->requester,
                 lec_addr_format(&q->to, a, sizeof a));
    lec__sfu_emit_count(r);
}

int lec_sfu_leg_in_open(lec_sfu *s, const lec_sfu_leg_in *q)
{
    if ((q->pipe ? !s->env.pipes : !s->env.relay) || !q->ntracks ||
        q->ntracks > LEC_ROOM_MAX_TRACKS)
        return LEC_ERR_INVAL;
    stream_room *r = lec__sfu_find_room(s, q->stream);
    if (r && r->pub)
        return LEC_ERR_EXISTS;
    bool fresh = !r;
    if (fresh && !(r = lec__sfu_room_new(s, q->stream)))
        return LEC_ERR_NOMEM;
    lec_room_track_spec specs[LEC_ROOM_MAX_TRACKS];
    bool same = r->core.ntracks == q->ntracks;
    for (unsigned i = 0; i < q->ntracks; i++) {
        specs[i] = (lec_room_track_spec){
            .kind = q->tracks[i].kind, .codec = q->tracks[i].codec, .ssrc = q->tracks[i].ssrc};
        memcpy(specs[i].rid, q->tracks[i].rid, sizeof specs[i].rid);
        specs[i].rid[sizeof specs[i].rid - 1] = '\0';
        same = same && r->core.tracks[i].kind == specs[i].kind &&
               r->core.tracks[i].codec.pt == specs[i].codec.pt &&
               r->core.tracks[i].layer == (specs[i].kind == LEC_SDP_VIDEO && specs[i].rid[0]);
    }
    /* A failover keeps the tracks (the viewers' rewrites point at them);
     * a new source SSRC resets each track's numbering by itself (layers
     * learn theirs). */
    int rc = 0;
    if (same)
        lec_room_set_layer_ssrcs(&r->core, specs, q->ntracks);
    else
        rc = lec_room_set_track_specs(&r->core, specs, q->ntracks);
    leg *old = r->up;
    if (old) {
        leg_send_byes(old, LEC_LEG_STOP_LEAVING); /* the old source frees its end now, if alive */
        leg_unlink(old);
        leg_free(old);
    }
    leg_ident id = {.rx_tag = q->leg_id,
                    .tx_tag = q->source_tag,
                    .leg_id = q->leg_id,
                    .peer = q->from,
                    .pipe = q->pipe,
                    .peer_worker = q->pipe_worker,
                    .peer_node = q->source};
    leg *l = rc ? NULL : leg_new(s, r, true, &id);
    if (l) {
        r->up = l;
        rc = q->pipe ? 0 : leg_keys(l, q->key_up, q->key_down);
    }
    if (!l || rc) {
        if (l) {
            leg_unlink(l);
            leg_free(l);
        }
        lec__sfu_room_maybe_free(r);
        return rc ? rc : LEC_ERR_NOMEM;
    }
    r->depth = q->depth;
    lec_room_set_upstream(&r->core, true, q->rtt);
    if (q->pipe) {
        lec_room_set_copies(&r->core, 0, 1);
        /* The home was live when it opened the pipe: a shard takes viewers
         * at once (they arrive right behind this job), and reports nothing
         * of the stream's life itself. */
        r->live = true;
    }
    lec_room_publisher_ready(&r->core, l->proto.created);
    leg_send_small(l, false); /* hello: the source starts sending */
    char a[LEC_ADDR_STRLEN];
    if (q->pipe)
        LEC_DEBUG(s->env.log, MOD, "stream %s: a shard fed by worker %u", r->stream,
                  q->pipe_worker);
    else
        LEC_INFO(s->env.log, MOD, "stream %s: %s leg from %s (%s), depth %u", r->stream,
                 old ? "failover:" : "pulling over a", q->source,
                 lec_addr_format(&q->from, a, sizeof a), q->depth);
    return 0;
}

void lec_sfu_leg_close(lec_sfu *s, const char *stream, uint64_t leg_id, const char *requester)
{
    stream_room *r = lec__sfu_find_room(s, stream);
    if (!r)
        return;
    if (!leg_id) {
        if (r->up)
            leg_send_byes(r->up, LEC_LEG_STOP_LEAVING);
        up_end(r, "no viewers left");
        return;
    }
    for (leg *l = r->downs; l; l = l->next_down)
        if (l->leg_id == leg_id) {
            if (requester && strcmp(requester, l->peer_node)) {
                LEC_WARN(s->env.log, MOD, "stream %s: %s may not close the leg to %s; ignored",
                         r->stream, requester, l->peer_node);
                return;
            }
            down_close(l, "the requester closed it");
            lec__sfu_room_maybe_free(r);
            return;
        }
}

void lec__leg_free_all(lec_sfu *s)
{
    /* Shutting down: upstream legs say BYE (the source frees its end);
     * downstream ones do not (a BYE means "the stream ended", and it has
     * not: their requesters re-source when we go quiet). */
    for (unsigned b = 0; b < LEG_BUCKETS; b++)
        while (s->legs[b]) {
            leg *l = s->legs[b];
            leg_send_byes(l, LEC_LEG_STOP_SHUTDOWN);
            leg_unlink(l);
            leg_free(l);
        }
}

int lec__sfu_relay_attach(lec_sfu *s)
{
    int rc = 0;
    if (s->env.pipes)
        rc = lec_pipes_attach(s->env.pipes, s->env.worker, s->env.loop, pipe_deliver, s);
    if (!rc && s->env.relay)
        rc = lec_relay_attach(s->env.relay, s->env.worker, s->env.loop, deliver, s);
    return rc;
}

void lec__sfu_relay_detach(lec_sfu *s)
{
    lec_relay_detach(s->env.relay, s->env.worker);
    lec_pipes_detach(s->env.pipes, s->env.worker);
}
