/*
 * The cascade on the main loop (DESIGN.md sections 3 and 5): pulling a
 * stream this node does not hold over a relay leg, serving other nodes'
 * RelayOpen, linger, failover and prewarm.  The legs themselves live on
 * the workers (sfu/leg.c); this file decides where they go.
 *
 * Pull: a WHEP offer for a stream that another node holds waits here
 * while we pick a source (cluster/source.h), ask it with RelayOpen, and
 * set up the leg on the stream's worker; the first packet on the leg
 * makes the stream live and the waiting offers go to the worker as usual.
 * A source that refuses, does not answer or fails is left out and the
 * next one is asked, a few times at most.
 *
 * Failover: a leg silent for a second is reported by its worker; we pull
 * again from another holder (or the origin) and the worker swaps the leg
 * under the same room, so viewers keep their sessions.
 *
 * Linger: when a pulled stream has had no viewer and no downstream leg
 * for relay.linger, its leg closes (RelayClose tells the source).  A
 * prewarmed stream (relay.prewarm on the origin) stays while it is live.
 */
#include "base/err.h"
#include "bus/bus.h"
#include "bus/codec.h"
#include "cluster/source.h"
#include "node/media_int.h"
#include "cluster/allow.h"
#include "trust/trust.h"
#include "node/node.h"
#include "relay/relay.h"
#include "sys/sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD            "cascade"
#define OPEN_TIMEOUT   (1 * LEC_S)
#define PULL_DEADLINE  (5 * LEC_S) /* waiting offers give up after this */
#define PREWARM_REPEAT (5 * LEC_S) /* StreamEvent STARTED again, for relay.prewarm */
#define MAX_WAITING    512
#define TIMER_MS       250

static lec_tstamp now(const lec_media *m)
{
    return lec_clock_now(m->node->clock); /* the node's: nothing here reads a clock */
}

static lec_bus *bus_of(lec_media *m)
{
    return m->node->control ? lec_control_bus(m->node->control) : NULL;
}

/* ---- waiting offers ----------------------------------------------------- */

static void answer_waiting(lec_media *m, stream_ent *e, int status, const char *why)
{
    while (e->waiting) {
        job *j = e->waiting;
        e->waiting = j->next_waiting;
        j->next_waiting = NULL;
        if (status == 0) {
            lec__shards_view(m, j); /* live here now: placed on a worker, then posted */
            continue;
        }
        lec_http_resp_error(&j->ex->resp, status, "%s", why);
        lec_http_resp_header(&j->ex->resp, "Retry-After", "2");
        lec_http_ex_finish(j->ex);
        lec__job_free(j);
    }
    e->nwaiting = 0;
}

/* ---- pulling ------------------------------------------------------------ */

typedef struct pull_ctx {
    lec_media *m;
    char stream[65];
    char source[65];
    uint64_t leg_id;
} pull_ctx;

static void pull(lec_media *m, stream_ent *e);
static void leg_in_done(job *j);

static void pull_failed(lec_media *m, stream_ent *e, const char *why)
{
    LEC_WARN(&m->node->log, MOD, "stream %s: cannot pull it: %s", e->name, why);
    e->pulling = false;
    answer_waiting(m, e, 503, "the stream could not be relayed to this node; try again");
    if (e->pulled) {
        /* A failover with nowhere to go: the stream has ended for us. */
        job *j = lec__job_new(m, NULL, e->name, lec__job_run_leg_close, NULL);
        if (j)
            lec__job_post(j);
        e->pulled = false;
    }
    lec__streams_gc(m);
}


static void codec_from_track(const lec_track_info *t, lec_sfu_leg_track *out)
{
    memset(out, 0, sizeof *out);
    out->kind = t->kind == LEC_TRACK_VIDEO ? LEC_SDP_VIDEO : LEC_SDP_AUDIO;
    lec_sdp_codec *c = &out->codec;
    c->pt = (uint8_t)t->payload_type;
    snprintf(c->name, sizeof c->name, "%s", t->codec);
    c->clock_rate = t->clock_rate;
    c->channels = (uint8_t)t->channels;
    snprintf(c->fmtp, sizeof c->fmtp, "%s", t->fmtp);
    c->fb = out->kind == LEC_SDP_VIDEO ? LEC_FB_NACK | LEC_FB_PLI | LEC_FB_FIR : 0;
    c->rtx_apt = -1;
    out->ssrc = t->nssrcs ? t->ssrcs[0] : 0;
    if (t->nrids)
        snprintf(out->rid, sizeof out->rid, "%s", t->rids[0]);
}

static void on_opened(void *ud, int status, const lec_relay_opened *r)
{
    pull_ctx *ctx = ud;
    lec_media *m = ctx->m;
    stream_ent *e = m->closing ? NULL : lec__streams_find(m, ctx->stream);
    bool current = e && e->pulling && e->leg_id == ctx->leg_id;
    if (!current) {
        /* Stale (we moved on, or are closing): free the source's end. */
        lec_bus *b = bus_of(m);
        if (status == 0 && r->error == LEC_RELAY_OK && b) {
            lec_relay_close c = {.leg_id = ctx->leg_id};
            snprintf(c.stream, sizeof c.stream, "%s", ctx->stream);
            snprintf(c.node_id, sizeof c.node_id, "%s", m->node->cfg->node.id);
            lec_bus_publish_relay_close(b, ctx->source, &c);
        }
        free(ctx);
        return;
    }
    lec_addr from;
    const char *why = NULL;
    if (status)
        why = lec_strerror(status);
    else if (r->error != LEC_RELAY_OK)
        why = r->error_message[0] ? r->error_message : "refused";
    else if (lec_addr_parse(r->source_relay_addr, &from))
        why = "the source's relay address is not host:port";
    else if (!lec_allow_relay_addr(r->source_relay_addr, m->node->cfg->cluster.allowed_relay_nets.v,
                                   m->node->cfg->cluster.allowed_relay_nets.n))
        why = "the source's relay address is outside cluster.allowed_relay_networks";
    else if (!r->ntracks || r->ntracks > LEC_ROOM_MAX_TRACKS || r->key_down_len != LEC_SFU_LEG_KEY ||
             r->key_up_len != LEC_SFU_LEG_KEY || r->profile != LEC_SRTP_AEAD_AES_128_GCM)
        why = "the source offered tracks or keys we cannot use";
    if (why) {
        LEC_INFO(&m->node->log, MOD, "stream %s: %s did not open a leg: %s", ctx->stream,
                 ctx->source, why);
        lec_pull_exclude(&e->pull, ctx->source);
        e->pulling = false;
        free(ctx);
        pull(m, e);
        return;
    }
    job *j = lec__job_new(m, NULL, e->name, lec__job_run_leg_in, leg_in_done);
    lec_sfu_leg_in *in = j ? calloc(1, sizeof *in) : NULL;
    if (!in) {
        free(j);
        free(ctx);
        pull_failed(m, e, "out of memory");
        return;
    }
    j->leg_in = in;
    snprintf(in->stream, sizeof in->stream, "%s", e->name);
    snprintf(in->source, sizeof in->source, "%s", ctx->source);
    in->leg_id = ctx->leg_id;
    in->source_tag = r->source_leg_id;
    in->from = from;
    in->ntracks = (unsigned)r->ntracks;
    for (size_t i = 0; i < r->ntracks; i++)
        codec_from_track(&r->tracks[i], &in->tracks[i]);
    memcpy(in->key_down, r->key_down, LEC_SFU_LEG_KEY);
    memcpy(in->key_up, r->key_up, LEC_SFU_LEG_KEY);
    in->depth = r->depth + 1;
    const lec_cluster_node *src =
        m->node->control ? lec_cluster_find(lec_control_view(m->node->control), ctx->source) : NULL;
    in->rtt = src && src->srtt_us ? (lec_tstamp)src->srtt_us * LEC_US : 0;
    snprintf(e->source, sizeof e->source, "%s", ctx->source);
    e->depth = in->depth;
    free(ctx);
    lec__job_post(j);
}

/* Picks a source and asks it; the answer comes to on_opened. */
static void pull(lec_media *m, stream_ent *e)
{
    if (e->pulling)
        return;
    lec_bus *b = bus_of(m);
    if (!b) {
        pull_failed(m, e, "no control plane");
        return;
    }
    const lec_config *cfg = m->node->cfg;
    lec_source_query q = {.stream = e->name,
                          .max_depth = cfg->relay.max_depth,
                          .prefer = (const char *const *)cfg->relay.prefer.v,
                          .nprefer = cfg->relay.prefer.n};
    const char *why = "";
    lec_source_pick p = lec_pull_next(&e->pull, lec_control_view(m->node->control), &q, &why);
    if (!p.node) {
        pull_failed(m, e, why);
        return;
    }
    pull_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        pull_failed(m, e, "out of memory");
        return;
    }
    ctx->m = m;
    snprintf(ctx->stream, sizeof ctx->stream, "%s", e->name);
    snprintf(ctx->source, sizeof ctx->source, "%s", p.node->info.id);
    unsigned w = lec__streams_home(m, e->name);
    ctx->leg_id = lec_relay_tag(w, lec_rand_u64(lec_sys_rand()));
    lec_relay_open o = {.leg_id = ctx->leg_id, .nprofiles = 1, .resume = e->pulled};
    o.profiles[0] = LEC_SRTP_AEAD_AES_128_GCM;
    snprintf(o.stream, sizeof o.stream, "%s", e->name);
    snprintf(o.requester_id, sizeof o.requester_id, "%s", cfg->node.id);
    lec_control_relay_addr(m->node, o.requester_relay_addr, sizeof o.requester_relay_addr);
    e->pulling = true;
    e->leg_id = ctx->leg_id;
    if (!e->pull_started)
        e->pull_started = now(m);
    LEC_INFO(&m->node->log, MOD, "stream %s: asking %s for a leg (depth %u, %s RTT %.1f ms%s)",
             e->name, ctx->source, p.depth, p.measured ? "measured" : "estimated",
             p.cost_us / 1000.0, p.preferred ? ", preferred" : "");
    int rc = lec_bus_request_relay_open(b, ctx->source, &o, OPEN_TIMEOUT, on_opened, ctx);
    if (rc) {
        e->pulling = false;
        lec_pull_exclude(&e->pull, ctx->source);
        free(ctx);
        pull(m, e);
    }
}

/* A fresh pull (not a retry within one). */
static void start_pull(lec_media *m, stream_ent *e)
{
    lec_pull_reset(&e->pull);
    e->pull_started = 0;
    pull(m, e);
}

bool lec__cascade_wait(lec_media *m, job *j)
{
    if (!m->relay || !m->node->control || m->closing)
        return false;
    stream_ent *e = lec__streams_find(m, j->stream);
    bool held = lec_cluster_stream_held(lec_control_view(m->node->control), j->stream);
    if (!held && !(e && (e->pulling || e->pulled)))
        return false;
    if (!e && !(e = lec__streams_get(m, j->stream)))
        return false;
    if (e->nwaiting >= MAX_WAITING)
        return false;
    j->next_waiting = e->waiting;
    e->waiting = j;
    e->nwaiting++;
    if (!e->pulling && !e->pulled)
        start_pull(m, e);
    return true;
}

/* A leg we opened from our room for another node (or not): the RelayOpen
 * is answered. */
static void leg_out_done(job *j)
{
    lec_media *m = j->m;
    stream_ent *e = lec__streams_find(m, j->stream);
    lec_sfu_leg_out *o = j->leg_out;
    /* The engine's error codes, as the wire says them (RelayOpened). */
    lec_relay_error err = !o->error                    ? LEC_RELAY_OK
                          : o->error == LEC_ERR_NOTFOUND ? LEC_RELAY_NOT_FOUND
                          : o->error == LEC_ERR_EXISTS   ? LEC_RELAY_BAD_REQUEST
                                                         : LEC_RELAY_INTERNAL;
    lec_relay_opened r = {.leg_id = o->leg_id, .error = err};
    snprintf(r.stream, sizeof r.stream, "%s", o->stream);
    snprintf(r.error_message, sizeof r.error_message, "%s", o->reason);
    snprintf(r.source_id, sizeof r.source_id, "%s", m->node->cfg->node.id);
    if (j->rc)
        r.error = LEC_RELAY_INTERNAL;
    if (r.error == LEC_RELAY_OK) {
        lec_control_relay_addr(m->node, r.source_relay_addr, sizeof r.source_relay_addr);
        r.ntracks = o->ntracks;
        for (unsigned i = 0; i < o->ntracks; i++) {
            lec_track_info *t = &r.tracks[i];
            const lec_sdp_codec *c = &o->tracks[i].codec;
            t->kind = o->tracks[i].kind == LEC_SDP_VIDEO ? LEC_TRACK_VIDEO : LEC_TRACK_AUDIO;
            snprintf(t->codec, sizeof t->codec, "%s", c->name);
            t->payload_type = c->pt;
            t->clock_rate = c->clock_rate;
            t->channels = c->channels;
            snprintf(t->fmtp, sizeof t->fmtp, "%s", c->fmtp);
            t->ssrcs[0] = o->tracks[i].ssrc;
            t->nssrcs = 1;
            if (o->tracks[i].rid[0]) { /* a simulcast layer */
                snprintf(t->rids[0], sizeof t->rids[0], "%s", o->tracks[i].rid);
                t->nrids = 1;
            }
            snprintf(t->mid, sizeof t->mid, "%u", i);
        }
        r.profile = LEC_SRTP_AEAD_AES_128_GCM;
        memcpy(r.key_down, o->key_down, LEC_SFU_LEG_KEY);
        r.key_down_len = LEC_SFU_LEG_KEY;
        memcpy(r.key_up, o->key_up, LEC_SFU_LEG_KEY);
        r.key_up_len = LEC_SFU_LEG_KEY;
        r.depth = o->depth;
        r.source_leg_id = o->source_tag;
    }
    if (e && e->legs_asked)
        e->legs_asked--; /* answered: an open leg is in the worker's count now */
    lec_bus *b = bus_of(m);
    if (b && j->req)
        lec_bus_reply_relay_opened(b, j->req, &r);
    j->req = NULL;
    lec_trust_wipe(&r, sizeof r); /* the leg's keys */
}

/* The leg that pulls a stream here is open in our room (or not). */
static void leg_in_done(job *j)
{
    lec_media *m = j->m;
    stream_ent *e = lec__streams_find(m, j->stream);
    if (!e || e->leg_id != j->leg_in->leg_id)
        return;
    e->pulling = false;
    if (j->rc) {
        pull_failed(m, e, j->rc == LEC_ERR_EXISTS ? "it is published here" : lec_strerror(j->rc));
        return;
    }
    e->pulled = true;
    if (!e->viewers && !e->legs && !e->legs_asked && !e->idle_since)
        e->idle_since = now(m);
    /* The stream goes live here with the leg's first packet (an event). */
}

void lec__cascade_event(lec_media *m, const lec_sfu_event *ev)
{
    stream_ent *e = lec__streams_find(m, ev->stream);
    if (!e)
        return;
    switch (ev->kind) {
    case LEC_SFU_STREAM_LIVE:
        if (e->pulled) {
            LEC_INFO(&m->node->log, MOD,
                     "stream %s: relayed from %s, depth %u, %.0f ms after "
                     "the pull began",
                     e->name, e->source, e->depth,
                     e->pull_started ? (double)(now(m) - e->pull_started) / LEC_MS : 0.0);
            e->pull_started = 0;
            lec_pull_reset(&e->pull);
        }
        answer_waiting(m, e, 0, NULL);
        break;
    case LEC_SFU_STREAM_ENDED:
        e->pulled = false;
        e->pulling = false;
        e->prewarm = false;
        answer_waiting(m, e, 409, "the stream ended");
        break;
    case LEC_SFU_VIEWERS: /* media.c summed them over the workers */
        if (e->viewers || e->legs || e->legs_asked)
            e->idle_since = 0;
        else if (!e->idle_since)
            e->idle_since = now(m);
        break;
    case LEC_SFU_LEG_SILENT:
        if (e->pulled && ev->leg_id == e->leg_id && !e->pulling) {
            LEC_WARN(&m->node->log, MOD, "stream %s: %s went quiet; re-sourcing", e->name,
                     e->source);
            /* A failover: a fresh pull without the quiet source. */
            lec_pull_reset(&e->pull);
            lec_pull_exclude(&e->pull, e->source);
            e->pull_started = now(m);
            pull(m, e);
        }
        break;
    default:
        break;
    }
}

/* ---- serving other nodes ------------------------------------------------ */

static void refuse(lec_media *m, lec_bus_request *req, const lec_relay_open *o, lec_relay_error err,
                   const char *why)
{
    lec_relay_opened r = {.leg_id = o->leg_id, .error = err};
    snprintf(r.stream, sizeof r.stream, "%s", o->stream);
    snprintf(r.error_message, sizeof r.error_message, "%s", why);
    snprintf(r.source_id, sizeof r.source_id, "%s", m->node->cfg->node.id);
    lec_bus *b = bus_of(m);
    if (b)
        lec_bus_reply_relay_opened(b, req, &r);
}

/* A leg goes only to the relay address the requester advertises in its
 * own (signed) heartbeats: a node cannot have a stream sent elsewhere.  A
 * requester not in the view yet is taken at its word (the allowlist still
 * applies). */
static bool own_relay_addr(lec_media *m, const lec_relay_open *o)
{
    const lec_cluster_node *n =
        m->node->control ? lec_cluster_find(lec_control_view(m->node->control), o->requester_id)
                         : NULL;
    return !n || !n->info.relay_addr[0] || !strcmp(n->info.relay_addr, o->requester_relay_addr);
}

static void relay_open(void *ud, lec_bus_request *req, const lec_relay_open *o)
{
    lec_media *m = ud;
    const lec_config *cfg = m->node->cfg;
    stream_ent *e = lec__streams_find(m, o->stream);
    /* Open legs and those asked for: a burst of requests cannot pass
     * relay.max_legs while the worker is still adding them. */
    unsigned legs = 0;
    for (stream_ent *x = m->streams; x; x = x->next)
        legs += x->legs + x->legs_asked;
    bool gcm = !o->nprofiles;
    for (size_t i = 0; i < o->nprofiles; i++)
        gcm = gcm || o->profiles[i] == LEC_SRTP_AEAD_AES_128_GCM;
    lec_addr to;
    if (!m->relay || m->closing)
        refuse(m, req, o, LEC_RELAY_INTERNAL, "this node relays nothing");
    else if (m->node->draining)
        refuse(m, req, o, LEC_RELAY_DRAINING, "this node is draining");
    else if (!e || !e->live)
        refuse(m, req, o, LEC_RELAY_NOT_FOUND, "the stream is not live here");
    else if ((e->pulled ? e->depth : 0) + 1 > cfg->relay.max_depth)
        refuse(m, req, o, LEC_RELAY_TOO_DEEP, "a leg from here would pass relay.max_depth");
    else if (cfg->relay.max_legs && legs >= cfg->relay.max_legs)
        refuse(m, req, o, LEC_RELAY_FULL, "relay.max_legs reached");
    else if (!gcm || lec_addr_parse(o->requester_relay_addr, &to) || !to.port)
        refuse(m, req, o, LEC_RELAY_BAD_REQUEST, "needs AEAD_AES_128_GCM and a host:port");
    else if (!lec_allow_relay_addr(o->requester_relay_addr, cfg->cluster.allowed_relay_nets.v,
                                   cfg->cluster.allowed_relay_nets.n))
        refuse(m, req, o, LEC_RELAY_BAD_REQUEST,
               "the relay address is outside cluster.allowed_relay_networks");
    else if (!own_relay_addr(m, o))
        refuse(m, req, o, LEC_RELAY_BAD_REQUEST,
               "the relay address is not the one the requester's heartbeats advertise");
    else {
        job *j = lec__job_new(m, NULL, o->stream, lec__job_run_leg_out, leg_out_done);
        lec_sfu_leg_out *out = j ? calloc(1, sizeof *out) : NULL;
        if (!out) {
            free(j);
            refuse(m, req, o, LEC_RELAY_INTERNAL, "out of memory");
            return;
        }
        j->leg_out = out;
        j->req = req;
        snprintf(out->stream, sizeof out->stream, "%s", o->stream);
        snprintf(out->requester, sizeof out->requester, "%s", o->requester_id);
        out->leg_id = o->leg_id;
        out->to = to;
        out->resume = o->resume;
        e->legs_asked++;
        lec__job_post(j);
    }
}

static void relay_close(void *ud, const lec_relay_close *c)
{
    lec_media *m = ud;
    if (!m->relay || m->closing || !lec__streams_find(m, c->stream))
        return;
    /* A RelayClose names the requester's leg.  leg_id 0 is no leg: inside
     * the node it means "this room's upstream", which only the node itself
     * may close (a forged close with the field left out ended whole
     * classes).  Legs never get tag 0 (lec_relay_tag). */
    if (!c->leg_id) {
        LEC_DEBUG(&m->node->log, MOD, "stream %s: RelayClose from %s names no leg; ignored",
                 c->stream, c->node_id);
        return;
    }
    /* Only the node that asked for the leg closes it (its id is the
     * message's checked signer: bus.h "Trust"). */
    job *j = lec__job_new(m, NULL, c->stream, lec__job_run_leg_close, NULL);
    if (j)
        j->ctx = strdup(c->node_id);
    if (!j || !j->ctx) {
        lec__job_free(j);
        return;
    }
    j->leg_id = c->leg_id;
    lec__job_post(j);
}

void lec_media_bus_ready(lec_media *m)
{
    lec_bus *b = bus_of(m);
    if (b && m->relay)
        lec_bus_serve_relay(b, &(lec_bus_relay_server){.open = relay_open, .close = relay_close,
                                                       .ud = m});
}

/* ---- prewarm ------------------------------------------------------------ */

/* Whether this edge is its region's choice for a prewarmed stream: the
 * least loaded ready edge of the region, by id on a tie, so each region's
 * edges agree on one without talking. */
static bool chosen_in_region(lec_media *m)
{
    const lec_cluster *v = lec_control_view(m->node->control);
    const lec_config *cfg = m->node->cfg;
    const lec_cluster_node *best = NULL;
    for (size_t i = 0; i < v->n; i++) {
        const lec_cluster_node *n = &v->nodes[i];
        if (n->info.role != LEC_ROLE_EDGE || n->info.draining ||
            strcmp(n->info.region, cfg->node.region))
            continue;
        if (!best || n->info.load.viewers < best->info.load.viewers ||
            (n->info.load.viewers == best->info.load.viewers &&
             strcmp(n->info.id, best->info.id) < 0))
            best = n;
    }
    return best && !strcmp(best->info.id, cfg->node.id);
}

void lec_media_stream_event(lec_media *m, const lec_stream_event *ev)
{
    if (!m->relay || m->closing || ev->type != LEC_STREAM_STARTED ||
        m->node->cfg->node.role != LEC_ROLE_EDGE || m->node->draining)
        return;
    bool listed = false;
    for (size_t i = 0; i < ev->nprewarm && !listed; i++)
        listed = !strcmp(ev->prewarm_regions[i], m->node->cfg->node.region);
    if (!listed || !chosen_in_region(m))
        return;
    stream_ent *e = lec__streams_get(m, ev->stream);
    if (!e || e->live || e->pulling || e->pulled)
        return;
    LEC_INFO(&m->node->log, MOD, "stream %s: prewarming (relay.prewarm on %s)", ev->stream,
             ev->node_id);
    e->prewarm = true;
    start_pull(m, e);
}

/* On the origin: a stream published here went live. */
static void announce(lec_media *m, const stream_ent *e, bool first)
{
    const lec_config *cfg = m->node->cfg;
    lec_bus *b = bus_of(m);
    if (!b || e->pulled)
        return;
    /* Our heartbeat first, so edges that hear of the stream see us hold it. */
    if (first)
        lec_control_heartbeat_now(m->node->control);
    lec_stream_event ev = {.type = LEC_STREAM_STARTED, .started_unix_ms = e->started_unix_ms};
    snprintf(ev.stream, sizeof ev.stream, "%s", e->name);
    snprintf(ev.node_id, sizeof ev.node_id, "%s", cfg->node.id);
    for (size_t i = 0; i < cfg->relay.prewarm.n && i < LEC_MAX_PREWARM; i++)
        snprintf(ev.prewarm_regions[ev.nprewarm++], LEC_ID_MAX, "%s", cfg->relay.prewarm.v[i]);
    lec_bus_publish_stream_event(b, &ev);
}

/* ---- housekeeping ------------------------------------------------------- */

static void close_leg(lec_media *m, stream_ent *e, const char *why)
{
    LEC_INFO(&m->node->log, MOD, "stream %s: closing the leg from %s (%s)", e->name, e->source,
             why);
    lec_bus *b = bus_of(m);
    if (b) {
        lec_relay_close c = {.leg_id = e->leg_id};
        snprintf(c.stream, sizeof c.stream, "%s", e->name);
        snprintf(c.node_id, sizeof c.node_id, "%s", m->node->cfg->node.id);
        lec_bus_publish_relay_close(b, e->source, &c);
    }
    job *j = lec__job_new(m, NULL, e->name, lec__job_run_leg_close, NULL);
    if (j)
        lec__job_post(j);
    e->pulled = false;
    e->idle_since = 0;
}

static void on_timer(uv_timer_t *t)
{
    lec_media *m = t->data;
    lec_tstamp n = now(m);
    lec_tstamp linger = m->node->cfg->relay.linger;
    bool collect = false;
    /* The collector runs after the walk: it may free any stream that is
     * no longer used, the walk's next one included. */
    for (stream_ent *e = m->streams; e; e = e->next) {
        /* Again every PREWARM_REPEAT while live with relay.prewarm set:
         * an edge that missed it, failed its pull, or started late
         * still gets the stream before its first viewer. */
        if (e->live && !e->pulled &&
            (!e->announced ||
             (m->node->cfg->relay.prewarm.n && n - e->announced >= PREWARM_REPEAT))) {
            bool first = !e->announced;
            e->announced = n;
            announce(m, e, first);
        }
        if (!e->live)
            e->announced = 0;
        if (e->waiting && e->pull_started && n - e->pull_started >= PULL_DEADLINE) {
            answer_waiting(m, e, 503, "the stream could not be relayed here in time; try again");
            collect = true;
            continue;
        }
        if (e->pulled && !e->prewarm && e->idle_since && !e->pulling && n - e->idle_since >= linger)
            close_leg(m, e, "no viewers for relay.linger");
    }
    if (collect)
        lec__streams_gc(m);
}

int lec__cascade_start(lec_media *m)
{
    if (uv_timer_init(m->node->loop, &m->cascade_timer))
        return LEC_ERR_IO;
    m->cascade_timer.data = m;
    m->has_cascade_timer = true;
    uv_timer_start(&m->cascade_timer, on_timer, TIMER_MS, TIMER_MS);
    return 0;
}

void lec__cascade_stop(lec_media *m)
{
    for (stream_ent *e = m->streams; e; e = e->next)
        answer_waiting(m, e, 503, "this node is shutting down");
    if (m->has_cascade_timer) {
        uv_timer_stop(&m->cascade_timer);
        uv_close((uv_handle_t *)&m->cascade_timer, NULL);
        m->has_cascade_timer = false;
    }
}
