/* SDP answers for WHIP and WHEP (negotiate.h). */
#include "sdp/negotiate.h"
#include "base/err.h"

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

/* packetization-mode (default 0) and profile_idc+profile-iop of an H.264 fmtp. */
static void h264_params(const char *fmtp, int *mode, char profile[5])
{
    char v[16];
    *mode = lec_sdp_fmtp_get(fmtp, "packetization-mode", v, sizeof v) > 0 ? v[0] - '0' : 0;
    if (lec_sdp_fmtp_get(fmtp, "profile-level-id", v, sizeof v) == 6) {
        for (int i = 0; i < 4; i++)
            profile[i] = (char)(v[i] | 0x20); /* lower case hex */
        profile[4] = '\0';
    } else {
        strcpy(profile, "42e0"); /* RFC 6184 default: constrained baseline */
    }
    /* 42e0 (constrained baseline) and 4200 with constraint flags: treat
     * 42xx alike only when equal; we do not guess beyond the RFC. */
}

bool lec_sdp_codec_match(const lec_sdp_codec *c, const lec_sdp_codec *ref)
{
    if (strcasecmp(c->name, ref->name) || c->clock_rate != ref->clock_rate)
        return false;
    if ((c->channels ? c->channels : 1) != (ref->channels ? ref->channels : 1))
        return false;
    if (!strcasecmp(c->name, "H264")) {
        int m1, m2;
        char p1[5], p2[5];
        h264_params(c->fmtp, &m1, p1);
        h264_params(ref->fmtp, &m2, p2);
        return m1 == m2 && !strcmp(p1, p2);
    }
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
    if (!strcasecmp(c->name, "H264")) {
        int mode;
        char profile[5];
        h264_params(c->fmtp, &mode, profile);
        return mode == 1; /* single NAL mode cannot carry large frames well */
    }
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

static void reject(lec_sdp_media *a, const lec_sdp_media *m)
{
    memset(a, 0, sizeof *a);
    a->kind = m->kind;
    a->port = 0;
    memcpy(a->proto, m->proto, sizeof a->proto);
    memcpy(a->mid, m->mid, sizeof a->mid);
    a->dir = LEC_SDP_INACTIVE;
}

/* Picks the primary codec (and its RTX) of one section; false if none. */
static bool pick_codecs(const lec_sdp_media *m, const lec_sdp_answer_opts *o, lec_sdp_media *a)
{
    const lec_sdp_codec *source = m->kind == LEC_SDP_AUDIO ? o->source_audio : o->source_video;
    const lec_sdp_codec *primary = NULL;
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

/* Simulcast: the offerer's send layers become our receive layers (RFC 8853). */
static void pick_simulcast(const lec_sdp_media *m, const lec_sdp_answer_opts *o, lec_sdp_media *a)
{
    if (!o->accept_simulcast || !m->nrids || strncmp(m->simulcast, "send ", 5) ||
        o->dir != LEC_SDP_RECVONLY)
        return;
    for (unsigned i = 0; i < m->nrids; i++) {
        a->rids[i] = m->rids[i];
        a->rids[i].send = false;
        a->rids[i].params[0] = '\0';
    }
    a->nrids = m->nrids;
    snprintf(a->simulcast, sizeof a->simulcast, "recv %s", m->simulcast + 5);
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
    char offered[256] = "";
    size_t accepted = 0;
    for (unsigned i = 0; i < offer->nmedia; i++) {
        const lec_sdp_media *m = &offer->media[i];
        lec_sdp_media *a = &answer->media[answer->nmedia++];
        if (m->kind == LEC_SDP_APPLICATION || m->port == 0 || !m->mid[0] ||
            !in_bundle(offer, m->mid)) {
            reject(a, m);
            continue;
        }
        if (!*lec_sdp_ufrag(offer, m) || !*lec_sdp_pwd(offer, m))
            return fail(err, errcap, LEC_ERR_INVAL, "m= section %s has no ICE credentials", m->mid);
        uint8_t fp[64];
        if (lec_sdp_fingerprint_parse(lec_sdp_fingerprint(offer, m), fp, sizeof fp) < 0)
            return fail(err, errcap, LEC_ERR_INVAL,
                        "m= section %s has no usable DTLS fingerprint (need sha-256)", m->mid);
        if (!m->rtcp_mux)
            return fail(err, errcap, LEC_ERR_INVAL, "m= section %s lacks a=rtcp-mux", m->mid);
        lec_sdp_dir dir = answer_dir(m->dir, o->dir);
        if (dir == LEC_SDP_INACTIVE || !pick_codecs(m, o, a)) {
            for (unsigned k = 0; k < m->ncodecs && strlen(offered) < sizeof offered - 40; k++)
                if (strcasecmp(m->codecs[k].name, "rtx") && strcasecmp(m->codecs[k].name, "red") &&
                    strcasecmp(m->codecs[k].name, "ulpfec"))
                    snprintf(offered + strlen(offered), sizeof offered - strlen(offered), "%s%s",
                             offered[0] ? ", " : "", m->codecs[k].name);
            reject(a, m);
            continue;
        }
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
        pick_simulcast(m, o, a);
        for (const char *const *c = o->candidates;
             c && *c && a->ncandidates < LEC_SDP_MAX_CANDIDATES; c++)
            snprintf(a->candidates[a->ncandidates++], sizeof a->candidates[0], "%s", *c);
        a->end_of_candidates = true;
        memcpy(answer->bundle[answer->nbundle++], m->mid, sizeof answer->bundle[0]);
        accepted++;
    }
    if (!accepted)
        return fail(err, errcap, LEC_ERR_UNSUPPORTED,
                    "no codec in common: offered %s; accepted are opus, VP8, H264 "
                    "(packetization-mode=1)%s%s",
                    offered[0] ? offered : "nothing we can use", o->allow_vp9 ? ", VP9" : "",
                    o->allow_av1 ? ", AV1" : "");
    return 0;
}
