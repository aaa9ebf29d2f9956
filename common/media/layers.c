/*
 * Simulcast in the room (room.h): which layer a publisher's packet is on,
 * each layer's rate and rank, and the layer each viewer gets.
 */
#include "base/err.h"
#include "media/room.h"
#include "media/room_int.h"
#include "rtp/rtp.h"

#include <string.h>

/* Going up needs this share of the budget to spare (percent); staying
 * fits until the layer needs more than STAY_MARGIN percent of it (the
 * estimate and the layer's rate are measured apart: no flapping on the
 * difference). */
#define UP_MARGIN   85
#define STAY_MARGIN 110
/* Ranks swap when the lower layer carries this much more (percent): a
 * clear inversion, not a layer still ramping up. */
#define RANK_SWAP 150
/* A switch not done by then asks for the keyframe again. */
#define SWITCH_RETRY (500 * LEC_MS)

lec_room_track *lec__room_layer_for(lec_room *r, const uint8_t *pkt, const lec_rtp_hdr *h)
{
    bool media = false, rtx = false;
    for (unsigned i = 0; i < r->ntracks; i++) {
        const lec_room_track *t = &r->tracks[i];
        media = media || (t->layer && t->codec.pt == h->pt);
        rtx = rtx || (t->layer && t->rtx_pt >= 0 && t->rtx_pt == h->pt);
    }
    if (!media && !rtx)
        return NULL;
    for (unsigned i = 0; i < r->ntracks; i++) {
        lec_room_track *t = &r->tracks[i];
        if (t->layer && (media ? (t->ssrc == h->ssrc || t->want_ssrc == h->ssrc)
                               : (t->rtx_ssrc && t->rtx_ssrc == h->ssrc)))
            return t;
    }
    /* A new SSRC: the rid (or, on RTX, the repaired rid) names its layer. */
    const uint8_t *v;
    size_t n;
    uint8_t id = media ? r->rid_id : r->rrid_id;
    if (id && !lec_rtp_ext_find(pkt, h, id, &v, &n))
        for (unsigned i = 0; i < r->ntracks; i++) {
            lec_room_track *t = &r->tracks[i];
            if (!t->layer || strlen(t->rid) != n || memcmp(t->rid, v, n))
                continue;
            if (rtx)
                t->rtx_ssrc = h->ssrc;
            return t;
        }
    r->stats.unknown_layer++;
    return NULL;
}

/* A layer sends, unless it has been silent for LEC_ROOM_LAYER_IDLE while
 * another layer sent (an encoder short of uplink drops its top layers;
 * still slides pause them all together, and then none is idle). */
static bool active(const lec_room *r, const lec_room_track *t, lec_tstamp now)
{
    (void)now;
    lec_tstamp newest = 0;
    for (unsigned i = 0; i < r->ntracks; i++)
        if (r->tracks[i].layer && r->tracks[i].last_at > newest)
            newest = r->tracks[i].last_at;
    return t->last_at && newest - t->last_at < LEC_ROOM_LAYER_IDLE;
}

/* The layers' track indices by rank, smallest first. */
static unsigned by_rank(const lec_room *r, unsigned out[LEC_ROOM_MAX_LAYERS])
{
    unsigned n = 0;
    for (unsigned i = 0; i < LEC_ROOM_MAX_LAYERS; i++)
        out[i] = r->vslot; /* ranks are a permutation; never garbage if not */
    for (unsigned i = 0; i < r->ntracks; i++)
        if (r->tracks[i].layer)
            n++;
    for (unsigned i = 0; i < r->ntracks; i++)
        if (r->tracks[i].layer && r->tracks[i].rank < n)
            out[r->tracks[i].rank] = i;
    return n;
}

static int rank_of(const lec_room *r, int ti)
{
    return ti < 0 ? -1 : r->tracks[ti].rank;
}

/* The layer viewer v should get (a track index), or -1: none sends, or
 * (paused set) its estimate carries none. */
static int choose(const lec_room *r, const lec_room_viewer *v, lec_tstamp now, bool *paused)
{
    unsigned order[LEC_ROOM_MAX_LAYERS], live[LEC_ROOM_MAX_LAYERS], n = 0;
    unsigned all = by_rank(r, order);
    for (unsigned i = 0; i < all; i++)
        if (active(r, &r->tracks[order[i]], now))
            live[n++] = order[i];
    *paused = false;
    if (!n)
        return -1;
    switch ((lec_room_layer_pref)v->pref) {
    case LEC_LAYER_LOW: return (int)live[0];
    case LEC_LAYER_MEDIUM: return (int)live[(n - 1) / 2];
    case LEC_LAYER_HIGH: return (int)live[n - 1];
    case LEC_LAYER_AUTO: break;
    }
    if (!v->estimate_bps)
        return (int)live[n - 1];
    /* What the video may use: the estimate less the audio. */
    uint64_t budget = v->estimate_bps;
    for (unsigned i = 0; i < r->ntracks; i++)
        if (r->tracks[i].kind == LEC_SDP_AUDIO)
            budget = budget > r->tracks[i].bps ? budget - r->tracks[i].bps : 0;
    int cur_rank = rank_of(r, v->cur);
    for (unsigned i = n; i-- > 0;) {
        const lec_room_track *t = &r->tracks[live[i]];
        uint64_t need = t->bps;
        if (t->rank > cur_rank)
            need = need * 100 / UP_MARGIN;
        else if (t->rank == cur_rank)
            need = need * 100 / STAY_MARGIN;
        if (need <= budget)
            return (int)live[i];
    }
    *paused = true; /* not even the smallest fits: it, until it pauses */
    return (int)live[0];
}

/* Sets v's target; a new one asks for its keyframe. */
static void retarget(lec_room *r, lec_room_viewer *v, lec_tstamp now)
{
    bool too_big;
    int target = choose(r, v, now, &too_big);
    /* Audio only once not even the smallest layer has fitted for
     * LEC_ROOM_PAUSE_AFTER (one bad estimate does not take the picture
     * away); probes look for the way back (room_rtcp.c). */
    if (!too_big)
        v->short_since = 0;
    else if (!v->short_since)
        v->short_since = now ? now : 1;
    v->paused = too_big && now - v->short_since >= LEC_ROOM_PAUSE_AFTER;
    if (v->paused) {
        v->cur = -1;
        target = -1;
    }
    if (target < 0) {
        v->target = -1;
        return;
    }
    bool fresh = target != v->target;
    v->target = (int8_t)target;
    /* Its keyframe is asked for at once, again each SWITCH_RETRY until it
     * comes, and for one viewer at most once per LEC_ROOM_PLI_INTERVAL (a
     * viewer flipping its preference cannot make the teacher send
     * keyframes). */
    if (v->cur != target && (fresh || now - v->target_asked >= SWITCH_RETRY) &&
        (!v->pli_at || now - v->pli_at >= LEC_ROOM_PLI_INTERVAL)) {
        v->target_asked = now;
        v->pli_at = now;
        r->tracks[target].kf_wanted = true;
    }
}

bool lec__room_follow(lec_room *r, lec_room_viewer *v, unsigned ti, bool keyframe)
{
    if (v->cur == (int)ti)
        return true;
    if (v->target != (int)ti || !keyframe)
        return false;
    if (v->cur >= 0) {
        v->switches++;
        r->stats.layer_switches++;
    }
    v->cur = (int8_t)ti;
    v->layer_seq = (uint16_t)(v->fwd[r->vslot].last_out_seq + 1);
    lec_fwd_reanchor(&v->fwd[r->vslot]);
    return true;
}

int lec__room_start_layer(lec_room *r, lec_room_viewer *v, lec_tstamp now)
{
    bool too_big;
    v->target = (int8_t)choose(r, v, now, &too_big);
    v->target_asked = now;
    return v->target;
}

/* Whether lo (ranked below hi) is the bigger picture: by size where both
 * keyframes said (VP8's header, H.264's SPS), else by rate, clearly (a publisher's rids say
 * nothing of size, and a layer's rate ramps for a while). */
static bool ranked_wrong(const lec_room_track *lo, const lec_room_track *hi)
{
    if (lo->area && hi->area)
        return lo->area > hi->area;
    return (uint64_t)lo->bps * 100 > (uint64_t)hi->bps * RANK_SWAP;
}

/* Every second: each track's rate; the layers' ranks, kept unless the
 * order is wrong. */
static void measure(lec_room *r, lec_tstamp now)
{
    bool fresh = false;
    for (unsigned i = 0; i < r->ntracks; i++) {
        lec_room_track *t = &r->tracks[i];
        if (!t->win_start) {
            t->win_start = now;
            continue;
        }
        if (now - t->win_start < LEC_S)
            continue;
        t->bps = (uint32_t)(t->win_bytes * 8 * LEC_S / (now - t->win_start));
        t->win_bytes = 0;
        t->win_start = now;
        fresh = fresh || t->layer;
    }
    if (!fresh)
        return;
    unsigned order[LEC_ROOM_MAX_LAYERS];
    unsigned n = by_rank(r, order);
    for (unsigned pass = 0; pass < n; pass++)
        for (unsigned i = 0; i + 1 < n; i++) {
            lec_room_track *lo = &r->tracks[order[i]], *hi = &r->tracks[order[i + 1]];
            if (!active(r, lo, now) || !active(r, hi, now) || !ranked_wrong(lo, hi))
                continue;
            uint8_t k = lo->rank;
            lo->rank = hi->rank;
            hi->rank = k;
            unsigned x = order[i];
            order[i] = order[i + 1];
            order[i + 1] = x;
        }
}

void lec__room_layers_tick(lec_room *r, lec_tstamp now)
{
    measure(r, now);
    if (!r->nlayers)
        return;
    for (lec_room_viewer *v = r->viewers; v; v = v->next)
        if (!v->leg && v->ready && v->has[r->vslot])
            retarget(r, v, now);
}

uint32_t lec__room_next_need(const lec_room *r, const lec_room_viewer *v, lec_tstamp now)
{
    unsigned order[LEC_ROOM_MAX_LAYERS];
    unsigned n = by_rank(r, order);
    int cur = rank_of(r, v->cur); /* -1 (paused): the smallest is next */
    for (unsigned i = (unsigned)(cur + 1); i < n; i++) {
        const lec_room_track *t = &r->tracks[order[i]];
        if (!active(r, t, now) || !t->bps)
            continue;
        uint64_t need = (uint64_t)t->bps * 100 / UP_MARGIN;
        for (unsigned k = 0; k < r->ntracks; k++)
            if (r->tracks[k].kind == LEC_SDP_AUDIO)
                need += r->tracks[k].bps;
        return (uint32_t)(need > UINT32_MAX ? UINT32_MAX : need);
    }
    return 0;
}

int lec_room_viewer_set_layer(lec_room *r, uint32_t id, lec_room_layer_pref pref)
{
    lec_room_viewer *v = lec__room_find_viewer(r, id);
    if (!v)
        return LEC_ERR_NOTFOUND;
    v->pref = (uint8_t)pref;
    return 0;
}

int lec_room_viewer_set_estimate(lec_room *r, uint32_t id, uint32_t bps)
{
    lec_room_viewer *v = lec__room_find_viewer(r, id);
    if (!v)
        return LEC_ERR_NOTFOUND;
    v->estimate_bps = bps;
    return 0;
}

void lec_room_layers(const lec_room *r, lec_tstamp now, lec_room_layer_info *out)
{
    memset(out, 0, sizeof *out);
    out->cur = out->target = -1;
    unsigned order[LEC_ROOM_MAX_LAYERS];
    out->nlayers = by_rank(r, order);
    for (unsigned i = 0; i < out->nlayers; i++) {
        const lec_room_track *t = &r->tracks[order[i]];
        memcpy(out->layers[i].rid, t->rid, sizeof out->layers[i].rid);
        out->layers[i].bps = t->bps;
        out->layers[i].active = active(r, t, now);
    }
}

unsigned lec_room_estimates(const lec_room *r, uint32_t *out, unsigned cap)
{
    unsigned n = 0;
    for (const lec_room_viewer *v = r->viewers; v && n < cap; v = v->next)
        if (!v->leg && v->estimate_bps)
            out[n++] = v->estimate_bps;
    return n;
}

void lec_room_layer_viewers(const lec_room *r, unsigned out[LEC_ROOM_MAX_LAYERS])
{
    memset(out, 0, LEC_ROOM_MAX_LAYERS * sizeof out[0]);
    for (const lec_room_viewer *v = r->viewers; v; v = v->next)
        if (!v->leg && v->ready && v->cur >= 0 && r->tracks[v->cur].rank < LEC_ROOM_MAX_LAYERS)
            out[r->tracks[v->cur].rank]++;
}

int lec_room_viewer_layer(const lec_room *r, uint32_t id, lec_tstamp now, lec_room_layer_info *out)
{
    const lec_room_viewer *v = lec__room_find_viewer(r, id);
    if (!v)
        return LEC_ERR_NOTFOUND;
    lec_room_layers(r, now, out);
    out->cur = rank_of(r, v->cur);
    out->target = rank_of(r, v->target);
    out->pref = (lec_room_layer_pref)v->pref;
    out->paused = v->paused;
    out->estimate_bps = v->estimate_bps;
    out->switches = v->switches;
    return 0;
}
