/*
 * Control-plane codec (codec.h): our structs <-> protobuf-c messages.
 * Encoding builds protobuf-c structs on the stack that point into ours;
 * decoding unpacks, validates and copies into fixed-size fields, so what
 * crosses to the loop owns nothing of protobuf-c.
 */
#include "bus/codec.h"
#include "base/url.h"
#include "base/err.h"

#include "lectern/v1/common.pb-c.h"
#include "lectern/v1/node.pb-c.h"
#include "lectern/v1/relay.pb-c.h"
#include "lectern/v1/stream.pb-c.h"

#include <stdlib.h>
#include <string.h>

/* protobuf-c declares strings as char * but only reads them when packing. */
static char *mut(const char *s)
{
    union {
        const char *c;
        char *m;
    } u = {s};
    return u.m;
}

typedef struct sbuf_pb {
    ProtobufCBuffer base;
    lec_sbuf *sb;
} sbuf_pb;

static void sb_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
    lec_sbuf_append(((sbuf_pb *)b)->sb, data, len);
}

static int pack(const ProtobufCMessage *m, lec_sbuf *out)
{
    sbuf_pb b = {{sb_append}, out};
    protobuf_c_message_pack_to_buffer(m, &b.base);
    return lec_sbuf_status(out) ? LEC_ERR_NOMEM : 0;
}

bool lec_codec_valid_token(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= LEC_ID_MAX)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return false;
    return true;
}

/* Copies a wire string into a fixed field; too long is malformed. */
static int copy_str(char *dst, size_t cap, const char *src)
{
    if (!src)
        src = "";
    size_t n = strlen(src);
    if (n >= cap)
        return LEC_ERR_INVAL;
    memcpy(dst, src, n + 1);
    return 0;
}

/* ---- the envelope -------------------------------------------------------- */

int lec_codec_encode_envelope(const char *signer, const lec_trust_sig *sig, const uint8_t *body,
                              size_t len, lec_sbuf *out)
{
    Lectern__V1__Envelope m;
    lectern__v1__envelope__init(&m);
    m.body.data = (uint8_t *)(uintptr_t)body;
    m.body.len = len;
    m.signer = (char *)(uintptr_t)(sig ? sig->signer : signer);
    if (sig) {
        m.signer_key.data = (uint8_t *)(uintptr_t)sig->key;
        m.signer_key.len = LEC_TRUST_KEY;
        m.signer_cert.data = (uint8_t *)(uintptr_t)sig->cert;
        m.signer_cert.len = LEC_TRUST_SIG;
        m.signed_unix_ms = sig->unix_ms;
        m.signature.data = (uint8_t *)(uintptr_t)sig->sig;
        m.signature.len = LEC_TRUST_SIG;
    }
    return pack(&m.base, out);
}

int lec_codec_decode_envelope(const uint8_t *data, size_t len, lec_envelope *out)
{
    memset(out, 0, sizeof *out);
    Lectern__V1__Envelope *m = lectern__v1__envelope__unpack(NULL, len, data);
    if (!m)
        return LEC_ERR_INVAL;
    int rc = copy_str(out->sig.signer, sizeof out->sig.signer, m->signer);
    if (!rc && !lec_codec_valid_token(out->sig.signer))
        rc = LEC_ERR_INVAL;
    out->is_signed = m->signature.len > 0;
    if (!rc && out->is_signed &&
        (m->signer_key.len != LEC_TRUST_KEY || m->signer_cert.len != LEC_TRUST_SIG ||
         m->signature.len != LEC_TRUST_SIG))
        rc = LEC_ERR_INVAL;
    if (!rc && out->is_signed) {
        memcpy(out->sig.key, m->signer_key.data, LEC_TRUST_KEY);
        memcpy(out->sig.cert, m->signer_cert.data, LEC_TRUST_SIG);
        memcpy(out->sig.sig, m->signature.data, LEC_TRUST_SIG);
        out->sig.unix_ms = m->signed_unix_ms;
    }
    if (!rc) {
        out->body = malloc(m->body.len ? m->body.len : 1);
        if (!out->body)
            rc = LEC_ERR_NOMEM;
        else if (m->body.len)
            memcpy(out->body, m->body.data, m->body.len);
        out->body_len = m->body.len;
    }
    lectern__v1__envelope__free_unpacked(m, NULL);
    if (rc)
        lec_codec_envelope_free(out);
    return rc;
}

void lec_codec_envelope_free(lec_envelope *e)
{
    free(e->body);
    e->body = NULL;
    e->body_len = 0;
}

static void header_out(Lectern__V1__Header *ph, const lec_msg_header *h)
{
    lectern__v1__header__init(ph);
    ph->version = h->version ? h->version : LEC_PROTO_VERSION;
    ph->sender_id = mut(h->sender_id);
    ph->sent_unix_ms = h->sent_unix_ms;
}

static int header_in(const Lectern__V1__Header *ph, lec_msg_header *h)
{
    if (!ph)
        return LEC_ERR_INVAL;
    if (ph->version != LEC_PROTO_VERSION)
        return LEC_ERR_UNSUPPORTED;
    h->version = ph->version;
    h->sent_unix_ms = ph->sent_unix_ms;
    if (copy_str(h->sender_id, sizeof h->sender_id, ph->sender_id) ||
        !lec_codec_valid_token(h->sender_id))
        return LEC_ERR_INVAL;
    return 0;
}

/* ---- tracks ----------------------------------------------------------- */

typedef struct track_pb {
    Lectern__V1__Track t;
    char *rids[LEC_MAX_RIDS];
} track_pb;

static void track_out(track_pb *o, const lec_track_info *t)
{
    lectern__v1__track__init(&o->t);
    o->t.mid = mut(t->mid);
    o->t.kind = (Lectern__V1__TrackKind)t->kind;
    o->t.codec = mut(t->codec);
    o->t.payload_type = t->payload_type;
    o->t.clock_rate = t->clock_rate;
    o->t.channels = t->channels;
    o->t.fmtp = mut(t->fmtp);
    o->t.n_ssrcs = t->nssrcs;
    o->t.ssrcs = (uint32_t *)(uintptr_t)t->ssrcs;
    for (size_t i = 0; i < t->nrids; i++)
        o->rids[i] = mut(t->rids[i]);
    o->t.n_rids = t->nrids;
    o->t.rids = o->rids;
    o->t.rtx_payload_type = t->rtx_payload_type;
}

static int track_in(const Lectern__V1__Track *p, lec_track_info *t)
{
    memset(t, 0, sizeof *t);
    if (!p || p->n_ssrcs > LEC_MAX_SSRCS || p->n_rids > LEC_MAX_RIDS ||
        p->kind > LECTERN__V1__TRACK_KIND__TRACK_KIND_VIDEO || p->payload_type > 127 ||
        p->rtx_payload_type > 127)
        return LEC_ERR_INVAL;
    if (copy_str(t->mid, sizeof t->mid, p->mid) || copy_str(t->codec, sizeof t->codec, p->codec) ||
        copy_str(t->fmtp, sizeof t->fmtp, p->fmtp))
        return LEC_ERR_INVAL;
    t->kind = (lec_track_kind)p->kind;
    t->payload_type = p->payload_type;
    t->clock_rate = p->clock_rate;
    t->channels = p->channels;
    t->rtx_payload_type = p->rtx_payload_type;
    if (p->n_ssrcs) /* an empty list may come as NULL */
        memcpy(t->ssrcs, p->ssrcs, p->n_ssrcs * sizeof *t->ssrcs);
    t->nssrcs = p->n_ssrcs;
    for (size_t i = 0; i < p->n_rids; i++)
        if (copy_str(t->rids[i], sizeof t->rids[i], p->rids[i]))
            return LEC_ERR_INVAL;
    t->nrids = p->n_rids;
    return 0;
}

static int tracks_in(Lectern__V1__Track **p, size_t n, lec_track_info *out, size_t *nout)
{
    if (n > LEC_MAX_TRACKS)
        return LEC_ERR_INVAL;
    for (size_t i = 0; i < n; i++)
        if (track_in(p[i], &out[i]))
            return LEC_ERR_INVAL;
    *nout = n;
    return 0;
}

/* ---- heartbeat -------------------------------------------------------- */

int lec_codec_encode_heartbeat(const lec_msg_header *h, const lec_node_info *hb, lec_sbuf *out)
{
    Lectern__V1__Header ph;
    Lectern__V1__Heartbeat m;
    Lectern__V1__Location loc;
    Lectern__V1__Capacity cap;
    Lectern__V1__Load load;
    header_out(&ph, h);
    lectern__v1__heartbeat__init(&m);
    lectern__v1__location__init(&loc);
    lectern__v1__capacity__init(&cap);
    lectern__v1__load__init(&load);
    m.header = &ph;
    m.node_id = mut(hb->id);
    m.role = (Lectern__V1__Role)hb->role;
    m.region = mut(hb->region);
    loc.lat = hb->lat;
    loc.lon = hb->lon;
    m.location = &loc;
    m.http_url = mut(hb->http_url);
    m.relay_addr = mut(hb->relay_addr);
    m.version = mut(hb->version);
    cap.max_viewers = hb->max_viewers;
    cap.max_publishers = hb->max_publishers;
    cap.max_egress_bps = hb->max_egress_bps;
    m.capacity = &cap;
    load.viewers = hb->load.viewers;
    load.publishers = hb->load.publishers;
    load.legs_in = hb->load.legs_in;
    load.legs_out = hb->load.legs_out;
    load.egress_bps = hb->load.egress_bps;
    load.cpu_permille = hb->load.cpu_permille;
    load.sessions = hb->load.sessions;
    load.worker_cpu_permille = hb->load.worker_cpu_permille;
    load.join_p50_us = hb->load.join_p50_us;
    load.join_p95_us = hb->load.join_p95_us;
    load.joins = hb->load.joins;
    load.join_failures = hb->load.join_failures;
    m.load = &load;
    m.draining = hb->draining;
    m.seq = hb->seq;
    m.boot_id = hb->boot_id;
    m.started_unix_ms = hb->started_unix_ms;

    int rc = LEC_ERR_NOMEM;
    Lectern__V1__HeldStream *hs = calloc(hb->nstreams + 1, sizeof *hs);
    Lectern__V1__HeldStream **hsp = calloc(hb->nstreams + 1, sizeof *hsp);
    Lectern__V1__PeerRtt *pr = calloc(hb->nrtts + 1, sizeof *pr);
    Lectern__V1__PeerRtt **prp = calloc(hb->nrtts + 1, sizeof *prp);
    if (hs && hsp && pr && prp) {
        for (size_t i = 0; i < hb->nstreams; i++) {
            lectern__v1__held_stream__init(&hs[i]);
            hs[i].stream = mut(hb->streams[i].stream);
            hs[i].depth = hb->streams[i].depth;
            hs[i].viewers = hb->streams[i].viewers;
            hs[i].source = mut(hb->streams[i].source);
            hsp[i] = &hs[i];
        }
        for (size_t i = 0; i < hb->nrtts; i++) {
            lectern__v1__peer_rtt__init(&pr[i]);
            pr[i].node_id = mut(hb->rtts[i].node_id);
            pr[i].rtt_us = hb->rtts[i].rtt_us;
            prp[i] = &pr[i];
        }
        m.n_streams = hb->nstreams;
        m.streams = hsp;
        m.n_rtts = hb->nrtts;
        m.rtts = prp;
        rc = pack(&m.base, out);
    }
    free(hs);
    free(hsp);
    free(pr);
    free(prp);
    return rc;
}

void lec_codec_node_info_free(lec_node_info *info)
{
    free(info->streams);
    free(info->rtts);
    info->streams = NULL;
    info->rtts = NULL;
    info->nstreams = info->nrtts = 0;
}

static int heartbeat_in(const Lectern__V1__Heartbeat *m, lec_node_info *o)
{
    if (copy_str(o->id, sizeof o->id, m->node_id) || !lec_codec_valid_token(o->id) ||
        copy_str(o->region, sizeof o->region, m->region) || !lec_codec_valid_token(o->region) ||
        copy_str(o->http_url, sizeof o->http_url, m->http_url) ||
        (o->http_url[0] && lec_url_parse(o->http_url, &(lec_url){0}, NULL)) ||
        copy_str(o->relay_addr, sizeof o->relay_addr, m->relay_addr) ||
        copy_str(o->version, sizeof o->version, m->version) ||
        m->role > LECTERN__V1__ROLE__ROLE_EDGE || m->n_streams > LEC_MAX_HB_STREAMS ||
        m->n_rtts > LEC_MAX_HB_RTTS)
        return LEC_ERR_INVAL;
    o->role = (lec_role)m->role;
    if (m->location) {
        o->lat = m->location->lat;
        o->lon = m->location->lon;
        if (!(o->lat >= -90 && o->lat <= 90 && o->lon >= -180 && o->lon <= 180))
            return LEC_ERR_INVAL;
    }
    if (m->capacity) {
        o->max_viewers = m->capacity->max_viewers;
        o->max_publishers = m->capacity->max_publishers;
        o->max_egress_bps = m->capacity->max_egress_bps;
    }
    if (m->load) {
        o->load.viewers = m->load->viewers;
        o->load.publishers = m->load->publishers;
        o->load.legs_in = m->load->legs_in;
        o->load.legs_out = m->load->legs_out;
        o->load.egress_bps = m->load->egress_bps;
        /* Shares above whole are a sender's error: taken as full. */
        o->load.cpu_permille = m->load->cpu_permille > 1000 ? 1000 : m->load->cpu_permille;
        o->load.sessions = m->load->sessions;
        o->load.worker_cpu_permille =
            m->load->worker_cpu_permille > 1000 ? 1000 : m->load->worker_cpu_permille;
        o->load.join_p50_us = m->load->join_p50_us;
        o->load.join_p95_us = m->load->join_p95_us;
        o->load.joins = m->load->joins;
        o->load.join_failures = m->load->join_failures;
    }
    o->draining = m->draining;
    o->seq = m->seq;
    o->boot_id = m->boot_id;
    o->started_unix_ms = m->started_unix_ms;
    if (m->n_streams) {
        o->streams = calloc(m->n_streams, sizeof *o->streams);
        if (!o->streams)
            return LEC_ERR_NOMEM;
        for (size_t i = 0; i < m->n_streams; i++) {
            if (!m->streams[i] ||
                copy_str(o->streams[i].stream, LEC_ID_MAX, m->streams[i]->stream) ||
                !lec_codec_valid_token(o->streams[i].stream) || m->streams[i]->depth > 16 ||
                copy_str(o->streams[i].source, LEC_ID_MAX, m->streams[i]->source) ||
                (o->streams[i].source[0] && !lec_codec_valid_token(o->streams[i].source)))
                return LEC_ERR_INVAL;
            o->streams[i].depth = m->streams[i]->depth;
            o->streams[i].viewers = m->streams[i]->viewers;
        }
        o->nstreams = m->n_streams;
    }
    if (m->n_rtts) {
        o->rtts = calloc(m->n_rtts, sizeof *o->rtts);
        if (!o->rtts)
            return LEC_ERR_NOMEM;
        for (size_t i = 0; i < m->n_rtts; i++) {
            if (!m->rtts[i] || copy_str(o->rtts[i].node_id, LEC_ID_MAX, m->rtts[i]->node_id) ||
                !lec_codec_valid_token(o->rtts[i].node_id))
                return LEC_ERR_INVAL;
            o->rtts[i].rtt_us = m->rtts[i]->rtt_us;
        }
        o->nrtts = m->n_rtts;
    }
    return 0;
}

int lec_codec_decode_heartbeat(const uint8_t *data, size_t len, lec_msg_header *h,
                               lec_node_info *out)
{
    memset(out, 0, sizeof *out);
    Lectern__V1__Heartbeat *m = lectern__v1__heartbeat__unpack(NULL, len, data);
    if (!m)
        return LEC_ERR_INVAL;
    int rc = header_in(m->header, h);
    if (!rc)
        rc = heartbeat_in(m, out);
    lectern__v1__heartbeat__free_unpacked(m, NULL);
    if (rc)
        lec_codec_node_info_free(out);
    return rc;
}

/* ---- stream events ---------------------------------------------------- */

int lec_codec_encode_stream_event(const lec_msg_header *h, const lec_stream_event *ev,
                                  lec_sbuf *out)
{
    Lectern__V1__Header ph;
    Lectern__V1__StreamEvent m;
    track_pb tracks[LEC_MAX_TRACKS];
    Lectern__V1__Track *tp[LEC_MAX_TRACKS];
    if (ev->ntracks > LEC_MAX_TRACKS)
        return LEC_ERR_INVAL;
    header_out(&ph, h);
    lectern__v1__stream_event__init(&m);
    m.header = &ph;
    m.stream = mut(ev->stream);
    m.type = (Lectern__V1__StreamEventType)ev->type;
    m.node_id = mut(ev->node_id);
    for (size_t i = 0; i < ev->ntracks; i++) {
        track_out(&tracks[i], &ev->tracks[i]);
        tp[i] = &tracks[i].t;
    }
    m.n_tracks = ev->ntracks;
    m.tracks = tp;
    m.started_unix_ms = ev->started_unix_ms;
    char *regions[LEC_MAX_PREWARM];
    if (ev->nprewarm > LEC_MAX_PREWARM)
        return LEC_ERR_INVAL;
    for (size_t i = 0; i < ev->nprewarm; i++)
        regions[i] = mut(ev->prewarm_regions[i]);
    m.n_prewarm_regions = ev->nprewarm;
    m.prewarm_regions = regions;
    return pack(&m.base, out);
}

int lec_codec_decode_stream_event(const uint8_t *data, size_t len, lec_msg_header *h,
                                  lec_stream_event *out)
{
    memset(out, 0, sizeof *out);
    Lectern__V1__StreamEvent *m = lectern__v1__stream_event__unpack(NULL, len, data);
    if (!m)
        return LEC_ERR_INVAL;
    int rc = header_in(m->header, h);
    if (!rc && (copy_str(out->stream, sizeof out->stream, m->stream) ||
                !lec_codec_valid_token(out->stream) ||
                copy_str(out->node_id, sizeof out->node_id, m->node_id) ||
                m->type > LECTERN__V1__STREAM_EVENT_TYPE__STREAM_EVENT_TYPE_ENDED || m->type == 0))
        rc = LEC_ERR_INVAL;
    if (!rc)
        rc = tracks_in(m->tracks, m->n_tracks, out->tracks, &out->ntracks);
    if (!rc && m->n_prewarm_regions > LEC_MAX_PREWARM)
        rc = LEC_ERR_INVAL;
    for (size_t i = 0; !rc && i < m->n_prewarm_regions; i++)
        if (copy_str(out->prewarm_regions[i], LEC_ID_MAX, m->prewarm_regions[i]) ||
            !lec_codec_valid_token(out->prewarm_regions[i]))
            rc = LEC_ERR_INVAL;
    if (!rc)
        out->nprewarm = m->n_prewarm_regions;
    out->type = (lec_stream_event_type)m->type;
    out->started_unix_ms = m->started_unix_ms;
    lectern__v1__stream_event__free_unpacked(m, NULL);
    return rc;
}

/* ---- relay ------------------------------------------------------------ */

int lec_codec_encode_relay_open(const lec_msg_header *h, const lec_relay_open *r, lec_sbuf *out)
{
    Lectern__V1__Header ph;
    Lectern__V1__RelayOpen m;
    Lectern__V1__SrtpProfile profiles[4];
    if (r->nprofiles > 4)
        return LEC_ERR_INVAL;
    header_out(&ph, h);
    lectern__v1__relay_open__init(&m);
    m.header = &ph;
    m.stream = mut(r->stream);
    m.requester_id = mut(r->requester_id);
    m.requester_relay_addr = mut(r->requester_relay_addr);
    m.leg_id = r->leg_id;
    for (size_t i = 0; i < r->nprofiles; i++)
        profiles[i] = (Lectern__V1__SrtpProfile)r->profiles[i];
    m.n_profiles = r->nprofiles;
    m.resume = r->resume;
    m.profiles = profiles;
    if (r->has_seal_key) {
        m.seal_key.data = (uint8_t *)(uintptr_t)r->seal_key;
        m.seal_key.len = LEC_TRUST_KEY;
    }
    m.reply_to = mut(r->reply_to);
    return pack(&m.base, out);
}

int lec_codec_decode_relay_open(const uint8_t *data, size_t len, lec_msg_header *h,
                                lec_relay_open *out)
{
    memset(out, 0, sizeof *out);
    Lectern__V1__RelayOpen *m = lectern__v1__relay_open__unpack(NULL, len, data);
    if (!m)
        return LEC_ERR_INVAL;
    int rc = header_in(m->header, h);
    if (!rc && (copy_str(out->stream, sizeof out->stream, m->stream) ||
                !lec_codec_valid_token(out->stream) ||
                copy_str(out->requester_id, sizeof out->requester_id, m->requester_id) ||
                !lec_codec_valid_token(out->requester_id) ||
                copy_str(out->requester_relay_addr, sizeof out->requester_relay_addr,
                         m->requester_relay_addr) ||
                m->n_profiles > 4 || (m->seal_key.len && m->seal_key.len != LEC_TRUST_KEY) ||
                copy_str(out->reply_to, sizeof out->reply_to, m->reply_to)))
        rc = LEC_ERR_INVAL;
    if (!rc && m->seal_key.len) {
        memcpy(out->seal_key, m->seal_key.data, LEC_TRUST_KEY);
        out->has_seal_key = true;
    }
    for (size_t i = 0; !rc && i < m->n_profiles; i++) {
        if ((unsigned)m->profiles[i] > LEC_SRTP_AES_CM_128_HMAC_SHA1_80)
            rc = LEC_ERR_INVAL;
        else
            out->profiles[out->nprofiles++] = (lec_srtp_profile)m->profiles[i];
    }
    out->leg_id = m->leg_id;
    out->resume = m->resume;
    lectern__v1__relay_open__free_unpacked(m, NULL);
    return rc;
}

int lec_codec_encode_relay_opened(const lec_msg_header *h, const lec_relay_opened *r, lec_sbuf *out)
{
    Lectern__V1__Header ph;
    Lectern__V1__RelayOpened m;
    track_pb tracks[LEC_MAX_TRACKS];
    Lectern__V1__Track *tp[LEC_MAX_TRACKS];
    if (r->ntracks > LEC_MAX_TRACKS || r->key_down_len > LEC_SRTP_KEY_MAX ||
        r->key_up_len > LEC_SRTP_KEY_MAX || r->sealed_len > sizeof r->sealed)
        return LEC_ERR_INVAL;
    header_out(&ph, h);
    lectern__v1__relay_opened__init(&m);
    m.header = &ph;
    m.stream = mut(r->stream);
    m.leg_id = r->leg_id;
    m.error = (Lectern__V1__RelayError)r->error;
    m.error_message = mut(r->error_message);
    m.source_id = mut(r->source_id);
    m.source_relay_addr = mut(r->source_relay_addr);
    for (size_t i = 0; i < r->ntracks; i++) {
        track_out(&tracks[i], &r->tracks[i]);
        tp[i] = &tracks[i].t;
    }
    m.n_tracks = r->ntracks;
    m.tracks = tp;
    m.profile = (Lectern__V1__SrtpProfile)r->profile;
    m.key_down.len = r->key_down_len;
    m.key_down.data = (uint8_t *)(uintptr_t)r->key_down;
    m.key_up.len = r->key_up_len;
    m.key_up.data = (uint8_t *)(uintptr_t)r->key_up;
    m.depth = r->depth;
    m.source_leg_id = r->source_leg_id;
    m.sealed_keys.data = (uint8_t *)(uintptr_t)r->sealed;
    m.sealed_keys.len = r->sealed_len;
    return pack(&m.base, out);
}

int lec_codec_decode_relay_opened(const uint8_t *data, size_t len, lec_msg_header *h,
                                  lec_relay_opened *out)
{
    memset(out, 0, sizeof *out);
    Lectern__V1__RelayOpened *m = lectern__v1__relay_opened__unpack(NULL, len, data);
    if (!m)
        return LEC_ERR_INVAL;
    int rc = header_in(m->header, h);
    if (!rc &&
        (copy_str(out->stream, sizeof out->stream, m->stream) ||
         copy_str(out->error_message, sizeof out->error_message, m->error_message) ||
         copy_str(out->source_id, sizeof out->source_id, m->source_id) ||
         copy_str(out->source_relay_addr, sizeof out->source_relay_addr, m->source_relay_addr) ||
         m->key_down.len > LEC_SRTP_KEY_MAX || m->key_up.len > LEC_SRTP_KEY_MAX ||
         m->sealed_keys.len > sizeof out->sealed ||
         (unsigned)m->error > LEC_RELAY_BAD_REQUEST ||
         (unsigned)m->profile > LEC_SRTP_AES_CM_128_HMAC_SHA1_80 || m->depth > 16))
        rc = LEC_ERR_INVAL;
    if (!rc)
        rc = tracks_in(m->tracks, m->n_tracks, out->tracks, &out->ntracks);
    if (!rc) {
        out->leg_id = m->leg_id;
        out->error = (lec_relay_error)m->error;
        out->profile = (lec_srtp_profile)m->profile;
        if (m->key_down.len)
            memcpy(out->key_down, m->key_down.data, m->key_down.len);
        out->key_down_len = m->key_down.len;
        if (m->key_up.len)
            memcpy(out->key_up, m->key_up.data, m->key_up.len);
        out->key_up_len = m->key_up.len;
        out->depth = m->depth;
        out->source_leg_id = m->source_leg_id;
        if (m->sealed_keys.len)
            memcpy(out->sealed, m->sealed_keys.data, m->sealed_keys.len);
        out->sealed_len = m->sealed_keys.len;
    }
    lectern__v1__relay_opened__free_unpacked(m, NULL);
    return rc;
}

int lec_codec_encode_relay_close(const lec_msg_header *h, const lec_relay_close *r, lec_sbuf *out)
{
    Lectern__V1__Header ph;
    Lectern__V1__RelayClose m;
    header_out(&ph, h);
    lectern__v1__relay_close__init(&m);
    m.header = &ph;
    m.stream = mut(r->stream);
    m.leg_id = r->leg_id;
    m.node_id = mut(r->node_id);
    return pack(&m.base, out);
}

int lec_codec_decode_relay_close(const uint8_t *data, size_t len, lec_msg_header *h,
                                 lec_relay_close *out)
{
    memset(out, 0, sizeof *out);
    Lectern__V1__RelayClose *m = lectern__v1__relay_close__unpack(NULL, len, data);
    if (!m)
        return LEC_ERR_INVAL;
    int rc = header_in(m->header, h);
    if (!rc && (copy_str(out->stream, sizeof out->stream, m->stream) ||
                copy_str(out->node_id, sizeof out->node_id, m->node_id)))
        rc = LEC_ERR_INVAL;
    out->leg_id = m->leg_id;
    lectern__v1__relay_close__free_unpacked(m, NULL);
    return rc;
}

/* ---- ping ------------------------------------------------------------- */

int lec_codec_encode_ping(const lec_msg_header *h, const lec_ping *p, lec_sbuf *out)
{
    Lectern__V1__Header ph;
    Lectern__V1__Ping m;
    header_out(&ph, h);
    lectern__v1__ping__init(&m);
    m.header = &ph;
    m.nonce = p->nonce;
    m.sent_mono_ns = p->mono_ns;
    m.reply_to = mut(p->reply_to);
    return pack(&m.base, out);
}

int lec_codec_encode_pong(const lec_msg_header *h, const lec_ping *p, lec_sbuf *out)
{
    Lectern__V1__Header ph;
    Lectern__V1__Pong m;
    header_out(&ph, h);
    lectern__v1__pong__init(&m);
    m.header = &ph;
    m.nonce = p->nonce;
    m.echo_sent_mono_ns = p->mono_ns;
    return pack(&m.base, out);
}

int lec_codec_decode_ping(const uint8_t *data, size_t len, lec_msg_header *h, lec_ping *out)
{
    Lectern__V1__Ping *m = lectern__v1__ping__unpack(NULL, len, data);
    if (!m)
        return LEC_ERR_INVAL;
    memset(out, 0, sizeof *out);
    int rc = header_in(m->header, h);
    if (!rc && copy_str(out->reply_to, sizeof out->reply_to, m->reply_to))
        rc = LEC_ERR_INVAL;
    out->nonce = m->nonce;
    out->mono_ns = m->sent_mono_ns;
    lectern__v1__ping__free_unpacked(m, NULL);
    return rc;
}

int lec_codec_decode_pong(const uint8_t *data, size_t len, lec_msg_header *h, lec_ping *out)
{
    Lectern__V1__Pong *m = lectern__v1__pong__unpack(NULL, len, data);
    if (!m)
        return LEC_ERR_INVAL;
    int rc = header_in(m->header, h);
    out->nonce = m->nonce;
    out->mono_ns = m->echo_sent_mono_ns;
    lectern__v1__pong__free_unpacked(m, NULL);
    return rc;
}
