/* SDP answers for WHIP and WHEP (negotiate.h). */
#include "sdp/negotiate.h"
#include "base/err.h"
#include "base/sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int fail(char *err, size_t cap, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t cap, int code, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* H.264 profiles as profile-level-id names them (RFC 6184 section 8.1,
 * table 5): profile_idc and the constraint flags of profile-iop, so that
 * x264's Constrained Baseline (42c01e) and Chrome's (42e01f) are one. */
static const struct {
    uint8_t idc;
    const char *iop; /* the eight flag bits, MSB first; x: any */
    lec_h264_profile profile;
} h264_patterns[] = {
    {0x42, "x1xx0000", LEC_H264_CONSTRAINED_BASELINE},
    {0x4D, "1xxx0000", LEC_H264_CONSTRAINED_BASELINE},
    {0x58, "11xx0000", LEC_H264_CONSTRAINED_BASELINE},
    {0x42, "x0xx0000", LEC_H264_BASELINE},
    {0x58, "10xx0000", LEC_H264_BASELINE},
    {0x4D, "0x0x0000", LEC_H264_MAIN},
    {0x64, "00000000", LEC_H264_HIGH},
    {0x64, "00001100", LEC_H264_CONSTRAINED_HIGH},
    {0xF4, "00000000", LEC_H264_HIGH_444},
};

lec_h264_profile lec_sdp_h264_profile(const char *fmtp, uint8_t *level)
{
    char v[16] = "420010"; /* absent: Baseline, level 1.0 (RFC 6184 8.1) */
    if (lec_sdp_fmtp_get(fmtp, "profile-level-id", v, sizeof v) >= 0 && strlen(v) != 6)
        return LEC_H264_UNKNOWN;
    uint8_t b[3];
    for (int i = 0; i < 3; i++) {
        int hi = lec_hex_digit(v[2 * i]), lo = lec_hex_digit(v[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return LEC_H264_UNKNOWN;
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    if (level)
        *level = b[2];
    for (size_t i = 0; i < sizeof h264_patterns / sizeof h264_patterns[0]; i++) {
        if (h264_patterns[i].idc != b[0])
            continue;
        bool ok = true;
        for (int bit = 0; bit < 8 && ok; bit++) {
            char want = h264_patterns[i].iop[bit];
            ok = want == 'x' || (((b[1] >> (7 - bit)) & 1) == (want == '1'));
        }
        if (ok)
            return h264_patterns[i].profile;
    }
    return LEC_H264_UNKNOWN;
}

static int h264_mode(const char *fmtp)
{
    char v[16];
    return lec_sdp_fmtp_get(fmtp, "packetization-mode", v, sizeof v) > 0 ? v[0] - '0' : 0;
}

/* Whether a receiver that offered profile `rx` decodes a stream of profile
 * `tx`: the same profile, or a subset of it (Constrained Baseline is
 * Baseline and Main; Constrained High is High).  Levels are not compared:
 * a forwarding server cannot change the sender's level, and receivers
 * take higher levels in practice (level-asymmetry-allowed). */
static bool h264_decodes(lec_h264_profile rx, lec_h264_profile tx)
{
    if (rx == LEC_H264_UNKNOWN || tx == LEC_H264_UNKNOWN)
        return false;
    if (rx == tx)
        return true;
    if (tx == LEC_H264_CONSTRAINED_BASELINE)
        return rx == LEC_H264_BASELINE || rx == LEC_H264_MAIN || rx == LEC_H264_HIGH;
    return tx == LEC_H264_CONSTRAINED_HIGH && rx == LEC_H264_HIGH;
}

bool lec_sdp_codec_match(const lec_sdp_codec *c, const lec_sdp_codec *ref)
{
    if (strcasecmp(c->name, ref->name) || c->clock_rate != ref->clock_rate)
        return false;
    if ((c->channels ? c->channels : 1) != (ref->channels ? ref->channels : 1))
        return false;
    if (!strcasecmp(c->name, "H264"))
        return h264_mode(c->fmtp) == h264_mode(ref->fmtp) &&
               h264_decodes(lec_sdp_h264_profile(c->fmtp, NULL),
                            lec_sdp_h264_profile(ref->fmtp, NULL));
    if (!strcasecmp(c->name, "VP9")) {
        char a[8] = "0", b[8] = "0";
        lec_sdp_fmtp_get(c->fmtp, "profile-id", a, sizeof a);
        lec_sdp_fmtp_get(ref->fmtp, "profile-id", b, sizeof b);
        return !strcmp(a, b);
    }
    return true;
}

/* Codecs we can carry, when nothing restricts us to a source codec. */
static bool acceptable(const lec_sdp_codec *c, lec_sdp_kind kind, const lec_sdp_answer_opts *o)
{
    if (kind == LEC_SDP_AUDIO)
        return !strcasecmp(c->name, "opus") && c->clock_rate == 48000;
    if (c->clock_rate != 90000)
        return false;
    if (!strcasecmp(c->name, "VP8"))
        return true;
    if (!strcasecmp(c->name, "H264")) /* single NAL mode cannot carry large frames well */
        return h264_mode(c->fmtp) == 1 && lec_sdp_h264_profile(c->fmtp, NULL) != LEC_H264_UNKNOWN;
    if (!strcasecmp(c->name, "VP9"))
        return o->allow_vp9;
    if (!strcasecmp(c->name, "AV1"))
        return o->allow_av1;
    return false;
}

static bool in_bundle(const lec_sdp *offer, const char *mid)
{
    for (unsigned i = 0; i < offer->nbundle; i++)
        if (!strcmp(offer->bundle[i], mid))
            return true;
    return false;
}

/* Our direction given the offer's (RFC 3264 6.1). */
static lec_sdp_dir answer_dir(lec_sdp_dir offered, lec_sdp_dir ours)
{
    if (offered == LEC_SDP_INACTIVE)
        return LEC_SDP_INACTIVE;
    if (ours == LEC_SDP_RECVONLY)
        return offered == LEC_SDP_RECVONLY ? LEC_SDP_INACTIVE : LEC_SDP_RECVONLY;
    if (ours == LEC_SDP_SENDONLY)
        return offered == LEC_SDP_SENDONLY ? LEC_SDP_INACTIVE : LEC_SDP_SENDONLY;
    return offered;
}

static void reject(lec_sdp_media *a, const lec_sdp_media *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reject(lec_sdp_media *a, const lec_sdp_media *m, const char *fmt, ...)
{
    memset(a, 0, sizeof *a);
    a->kind = m->kind;
    a->port = 0;
    memcpy(a->proto, m->proto, sizeof a->proto);
    memcpy(a->mid, m->mid, sizeof a->mid);
    a->dir = LEC_SDP_INACTIVE;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->reason, sizeof a->reason, fmt, ap);
    va_end(ap);
}

/* The codecs a section offers, for messages ("VP8, VP9"). */
static void offered_names(const lec_sdp_media *m, char *out, size_t cap)
{
    out[0] = '\0';
    for (unsigned k = 0; k < m->ncodecs && strlen(out) + 40 < cap; k++)
        if (strcasecmp(m->codecs[k].name, "rtx") && strcasecmp(m->codecs[k].name, "red") &&
            strcasecmp(m->codecs[k].name, "ulpfec"))
            snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? ", " : "",
                     m->codecs[k].name);
}

/* Why no codec of section m fits: what it offered and what we need. */
static void no_codec(lec_sdp_media *a, const lec_sdp_media *m, const lec_sdp_answer_opts *o)
{
    const lec_sdp_codec *source = m->kind == LEC_SDP_AUDIO ? o->source_audio : o->source_video;
    char names[96];
    offered_names(m, names, sizeof names);
    char plid[16] = "420010";
    if (source && !strcasecmp(source->name, "H264")) {
        lec_sdp_fmtp_get(source->fmtp, "profile-level-id", plid, sizeof plid);
        reject(a, m, "no codec in common: offered %s; the stream is H264 (profile-level-id=%s)",
               names[0] ? names : "none", plid);
    } else if (source)
        reject(a, m, "no codec in common: offered %s; the stream is %s", names[0] ? names : "none",
               source->name);
    else
        reject(a, m, "no codec we take: offered %s; we take %s", names[0] ? names : "none",
               m->kind == LEC_SDP_AUDIO ? "opus" : "VP8, H264 (packetization-mode=1)");
}

/* Picks the primary codec (and its RTX) of one section; false if none. */
static bool pick_codecs(const lec_sdp_media *m, const lec_sdp_answer_opts *o, lec_sdp_media *a)
{
    const lec_sdp_codec *source = m->kind == LEC_SDP_AUDIO ? o->source_audio : o->source_video;
    const lec_sdp_codec *primary = NULL;
    /* A receiver's own profile first (Chrome and Safari offer several
     * H.264 profiles); a superset profile only when that is all it has. */
    for (unsigned i = 0; source && i < m->ncodecs && !primary; i++) {
        const lec_sdp_codec *c = &m->codecs[i];
        if (lec_sdp_codec_match(c, source) &&
            (strcasecmp(c->name, "H264") ||
             lec_sdp_h264_profile(c->fmtp, NULL) == lec_sdp_h264_profile(source->fmtp, NULL)))
            primary = c;
    }
    for (unsigned i = 0; i < m->ncodecs && !primary; i++) {
        const lec_sdp_codec *c = &m->codecs[i];
        if (source ? lec_sdp_codec_match(c, source) : acceptable(c, m->kind, o))
            primary = c;
    }
    if (!primary)
        return false;
    a->codecs[0] = *primary;
    a->codecs[0].fb &= o->fb_allowed;
    if (m->kind == LEC_SDP_AUDIO)
        a->codecs[0].fb &= ~(unsigned)(LEC_FB_NACK | LEC_FB_PLI | LEC_FB_FIR);
    a->ncodecs = 1;
    for (unsigned i = 0; i < m->ncodecs; i++) {
        const lec_sdp_codec *c = &m->codecs[i];
        if (!strcasecmp(c->name, "rtx") && c->rtx_apt == primary->pt && !o->no_rtx &&
            (o->fb_allowed & LEC_FB_NACK)) {
            a->codecs[1] = *c;
            a->codecs[1].fb = 0;
            a->ncodecs = 2;
            break;
        }
    }
    return true;
}

static void pick_extmaps(const lec_sdp_media *m, const lec_sdp_answer_opts *o, lec_sdp_media *a)
{
    for (unsigned i = 0; i < m->nextmaps; i++)
        for (const char *const *u = o->extmaps; u && *u; u++)
            if (!strcmp(m->extmaps[i].uri, *u) && a->nextmaps < LEC_SDP_MAX_EXTMAPS)
                a->extmaps[a->nextmaps++] = m->extmaps[i];
}

/* Simulcast: the offerer's send streams become our receive streams (RFC
 * 8853 5.3), in its order, at most o->accept_simulcast of them.  Of a
 * stream's alternatives ("1,2") we take the first; a paused one ("~1") is
 * taken (it is received once it starts); a rid with no a=rid send line is
 * not.  Nothing taken: no a=simulcast (one stream). */
static void pick_simulcast(const lec_sdp_media *m, const lec_sdp_answer_opts *o, lec_sdp_media *a)
{
    if (!o->accept_simulcast || !m->nrids || strncmp(m->simulcast, "send ", 5) ||
        o->dir != LEC_SDP_RECVONLY)
        return;
    /* Layers are told apart by the rid extension: without it answered
     * (a one-byte id), no simulcast. */
    bool rid_ext = false;
    for (unsigned i = 0; i < a->nextmaps; i++)
        rid_ext = rid_ext ||
                  (!strcmp(a->extmaps[i].uri, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id") &&
                   a->extmaps[i].id >= 1 && a->extmaps[i].id <= 14);
    if (!rid_ext)
        return;
    char list[sizeof m->simulcast] = "recv ";
    size_t at = 5;
    const char *s = m->simulcast + 5;
    while (*s && *s != ' ' && a->nrids < o->accept_simulcast && a->nrids < LEC_SDP_MAX_RIDS) {
        size_t stream = strcspn(s, "; "), first = strcspn(s, ",; ");
        const char *id = s + (*s == '~');
        size_t idn = first - (size_t)(id - s);
        for (unsigned i = 0; i < m->nrids && idn; i++) {
            const lec_sdp_rid *rd = &m->rids[i];
            bool dup = false;
            for (unsigned k = 0; k < a->nrids; k++)
                dup = dup || !strcmp(a->rids[k].id, rd->id);
            if (!rd->send || dup || strlen(rd->id) != idn || strncmp(rd->id, id, idn))
                continue;
            a->rids[a->nrids] = *rd;
            a->rids[a->nrids].send = false;
            a->rids[a->nrids].params[0] = '\0';
            a->nrids++;
            int w = snprintf(list + at, sizeof list - at, "%s%s", at > 5 ? ";" : "", rd->id);
            at = w > 0 && (size_t)w < sizeof list - at ? at + (size_t)w : sizeof list - 1;
            break;
        }
        s += stream + (s[stream] == ';');
    }
    if (a->nrids)
        snprintf(a->simulcast, sizeof a->simulcast, "%s", list);
}

/* Why an m=application section is not served, or NULL. */
static const char *data_refusal(const lec_sdp_media *m, const lec_sdp_answer_opts *o, bool taken)
{
    if (!o->data_max_message)
        return "data channels are not served here";
    if (strcmp(m->proto, "UDP/DTLS/SCTP") && strcmp(m->proto, "TCP/DTLS/SCTP"))
        return "only SCTP over DTLS as RFC 8841 writes it (UDP/DTLS/SCTP webrtc-datachannel) "
               "is served";
    if (taken)
        return "one data channel section per session";
    return NULL;
}

/* Our side of the data channel section (RFC 8841): port 5000 and our
 * largest message. */
static void answer_data(const lec_sdp_media *m, const lec_sdp_answer_opts *o, lec_sdp_media *a)
{
    (void)m;
    snprintf(a->sctp_port, sizeof a->sctp_port, "5000");
    a->max_message = o->data_max_message;
    a->has_max_message = true;
}

int lec_sdp_answer(const lec_sdp *offer, const lec_sdp_answer_opts *o, lec_sdp *answer, char *err,
                   size_t errcap)
{
    memset(answer, 0, sizeof *answer);
    if (err && errcap)
        err[0] = '\0';
    if (offer->nmedia == 0)
        return fail(err, errcap, LEC_ERR_INVAL, "the offer has no m= sections");
    if (offer->nbundle == 0)
        return fail(err, errcap, LEC_ERR_INVAL, "the offer has no a=group:BUNDLE (RFC 8843)");
    answer->sess_id = o->sess_id;
    answer->sess_version = 1;
    answer->ice_lite = true;
    char offered[256] = "", video_refused[160] = "";
    unsigned video_offered = 0, video_accepted = 0;
    bool simulcast_taken = false, data_taken = false;
    size_t media_accepted = 0;
    for (unsigned i = 0; i < offer->nmedia; i++) {
        const lec_sdp_media *m = &offer->media[i];
        lec_sdp_media *a = &answer->media[answer->nmedia++];
        /* Port 0 with a=bundle-only is not a rejection (RFC 8843 7.3): the
         * section shares the BUNDLE transport (max-bundle offers). */
        if ((m->port == 0 && !m->bundle_only) || !m->mid[0] || !in_bundle(offer, m->mid)) {
            reject(a, m, "%s",
                   m->port == 0 ? "the offerer disabled it (port 0)"
                                : "not in the offer's BUNDLE group");
            continue;
        }
        if (m->kind == LEC_SDP_APPLICATION) {
            const char *why = data_refusal(m, o, data_taken);
            if (why) {
                reject(a, m, "%s", why);
                continue;
            }
        }
        if (!*lec_sdp_ufrag(offer, m) || !*lec_sdp_pwd(offer, m))
            return fail(err, errcap, LEC_ERR_INVAL, "m= section %s has no ICE credentials", m->mid);
        uint8_t fp[64];
        if (lec_sdp_fingerprint_parse(lec_sdp_fingerprint(offer, m), fp, sizeof fp) < 0)
            return fail(err, errcap, LEC_ERR_INVAL,
                        "m= section %s has no usable DTLS fingerprint (need sha-256)", m->mid);
        if (m->kind == LEC_SDP_APPLICATION) {
            answer_data(m, o, a);
            data_taken = true;
        } else if (!m->rtcp_mux) {
            return fail(err, errcap, LEC_ERR_INVAL, "m= section %s lacks a=rtcp-mux", m->mid);
        }
        lec_sdp_dir dir = answer_dir(m->dir, o->dir);
        video_offered += m->kind == LEC_SDP_VIDEO;
        if (m->kind != LEC_SDP_APPLICATION && (dir == LEC_SDP_INACTIVE || !pick_codecs(m, o, a))) {
            char names[96];
            offered_names(m, names, sizeof names);
            if (names[0] && strlen(offered) + strlen(names) + 3 < sizeof offered)
                snprintf(offered + strlen(offered), sizeof offered - strlen(offered), "%s%s",
                         offered[0] ? ", " : "", names);
            if (dir == LEC_SDP_INACTIVE)
                reject(a, m, "the direction offered (%s) is not one we serve",
                       m->dir == LEC_SDP_SENDONLY   ? "sendonly"
                       : m->dir == LEC_SDP_RECVONLY ? "recvonly"
                                                    : "inactive");
            else
                no_codec(a, m, o);
            if (m->kind == LEC_SDP_VIDEO && !video_refused[0])
                snprintf(video_refused, sizeof video_refused, "%s", a->reason);
            continue;
        }
        video_accepted += m->kind == LEC_SDP_VIDEO;
        media_accepted += m->kind != LEC_SDP_APPLICATION;
        a->kind = m->kind;
        a->port = 9;
        memcpy(a->proto, m->proto, sizeof a->proto);
        memcpy(a->mid, m->mid, sizeof a->mid);
        a->dir = dir;
        a->rtcp_mux = true;
        a->rtcp_rsize = m->rtcp_rsize;
        snprintf(a->ice_ufrag, sizeof a->ice_ufrag, "%s", o->ice_ufrag);
        snprintf(a->ice_pwd, sizeof a->ice_pwd, "%s", o->ice_pwd);
        snprintf(a->fingerprint, sizeof a->fingerprint, "%s", o->fingerprint);
        /* We are DTLS server unless the offerer insists on that role. */
        a->setup = lec_sdp_media_setup(offer, m) == LEC_SDP_SETUP_PASSIVE ? LEC_SDP_SETUP_ACTIVE
                                                                          : LEC_SDP_SETUP_PASSIVE;
        pick_extmaps(m, o, a);
        if (m->kind == LEC_SDP_VIDEO && !simulcast_taken) /* one layered section */
            pick_simulcast(m, o, a);
        simulcast_taken = simulcast_taken || a->nrids;
        for (const char *const *c = o->candidates;
             c && *c && a->ncandidates < LEC_SDP_MAX_CANDIDATES; c++)
            snprintf(a->candidates[a->ncandidates++], sizeof a->candidates[0], "%s", *c);
        a->end_of_candidates = true;
        memcpy(answer->bundle[answer->nbundle++], m->mid, sizeof answer->bundle[0]);
    }
    if (!media_accepted)
        return fail(err, errcap, LEC_ERR_UNSUPPORTED,
                    "no codec in common: offered %s; accepted are opus, VP8, H264 "
                    "(packetization-mode=1)%s%s",
                    offered[0] ? offered : "nothing we can use", o->allow_vp9 ? ", VP9" : "",
                    o->allow_av1 ? ", AV1" : "");
    /* A teacher whose camera we would silently drop: refused with why. */
    if (o->dir == LEC_SDP_RECVONLY && video_offered && !video_accepted)
        return fail(err, errcap, LEC_ERR_UNSUPPORTED, "the video cannot be published: %s",
                    video_refused);
    return 0;
}
