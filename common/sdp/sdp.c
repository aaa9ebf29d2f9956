/*
 * SDP parsing and writing (sdp.h).
 *
 * The parser walks lines, dispatching on the type letter and, for a=, on
 * the attribute name.  Values are copied into fixed fields; anything longer
 * than its field is an error rather than silently cut (a truncated
 * fingerprint or ICE password would fail later, far from the cause).
 */
#include "sdp/sdp.h"
#include "base/err.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SDP_BYTES (64 * 1024)

typedef struct parser {
    lec_sdp *sdp;
    lec_sdp_media *m; /* the current m= section, or NULL for session level */
    int line;
    char *err;
    size_t errcap;
} parser;

static int fail(parser *p, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(parser *p, int code, const char *fmt, ...)
{
    if (p->err && p->errcap) {
        int n = snprintf(p->err, p->errcap, "line %d: ", p->line);
        va_list ap;
        va_start(ap, fmt);
        if (n >= 0 && (size_t)n < p->errcap)
            vsnprintf(p->err + n, p->errcap - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Copies [s, s+n) into dst (cap bytes) or fails. */
static int copy(parser *p, char *dst, size_t cap, const char *s, size_t n, const char *what)
{
    if (n >= cap)
        return fail(p, LEC_ERR_INVAL, "%s is longer than %zu bytes", what, cap - 1);
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

static bool parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0 || n > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* The next space-separated token of [*s, end); false at the end. */
static bool token(const char **s, const char *end, const char **t, size_t *n)
{
    while (*s < end && **s == ' ')
        (*s)++;
    if (*s >= end)
        return false;
    *t = *s;
    while (*s < end && **s != ' ')
        (*s)++;
    *n = (size_t)(*s - *t);
    return true;
}

static lec_sdp_codec *find_codec(lec_sdp_media *m, unsigned pt)
{
    for (unsigned i = 0; i < m->ncodecs; i++)
        if (m->codecs[i].pt == pt)
            return &m->codecs[i];
    return NULL;
}

/* "<pt> <rest>": the codec for pt (it must be listed on the m= line). */
static int codec_of(parser *p, const char **s, const char *end, lec_sdp_codec **c, const char *attr)
{
    const char *t;
    size_t n;
    uint64_t pt;
    if (!token(s, end, &t, &n) || !parse_uint(t, n, 127, &pt))
        return fail(p, LEC_ERR_INVAL, "a=%s: expected a payload type 0-127", attr);
    *c = find_codec(p->m, (unsigned)pt);
    if (!*c)
        return fail(p, LEC_ERR_INVAL, "a=%s: payload type %u is not on the m= line", attr,
                    (unsigned)pt);
    while (*s < end && **s == ' ')
        (*s)++;
    return 0;
}

static int parse_m(parser *p, const char *s, const char *end)
{
    lec_sdp *sdp = p->sdp;
    if (sdp->nmedia == LEC_SDP_MAX_MEDIA)
        return fail(p, LEC_ERR_RANGE, "more than %d m= sections", LEC_SDP_MAX_MEDIA);
    lec_sdp_media *m = &sdp->media[sdp->nmedia++];
    memset(m, 0, sizeof *m);
    p->m = m;
    const char *t;
    size_t n;
    uint64_t v;
    if (!token(&s, end, &t, &n))
        return fail(p, LEC_ERR_INVAL, "m=: missing media type");
    if (n == 5 && !memcmp(t, "audio", 5))
        m->kind = LEC_SDP_AUDIO;
    else if (n == 5 && !memcmp(t, "video", 5))
        m->kind = LEC_SDP_VIDEO;
    else if (n == 11 && !memcmp(t, "application", 11))
        m->kind = LEC_SDP_APPLICATION;
    else
        return fail(p, LEC_ERR_INVAL, "m=: unknown media type '%.*s'", (int)(n > 32 ? 32 : n), t);
    if (!token(&s, end, &t, &n))
        return fail(p, LEC_ERR_INVAL, "m=: missing port");
    const char *slash = memchr(t, '/', n);
    if (!parse_uint(t, slash ? (size_t)(slash - t) : n, 65535, &v))
        return fail(p, LEC_ERR_INVAL, "m=: bad port");
    m->port = (uint16_t)v;
    if (!token(&s, end, &t, &n) || copy(p, m->proto, sizeof m->proto, t, n, "m= protocol"))
        return fail(p, LEC_ERR_INVAL, "m=: missing or long protocol");
    while (token(&s, end, &t, &n)) {
        if (m->kind == LEC_SDP_APPLICATION)
            continue; /* "webrtc-datachannel" */
        if (!parse_uint(t, n, 127, &v))
            return fail(p, LEC_ERR_INVAL, "m=: payload type '%.*s' is not 0-127",
                        (int)(n > 16 ? 16 : n), t);
        if (m->ncodecs == LEC_SDP_MAX_CODECS)
            return fail(p, LEC_ERR_RANGE, "m=: more than %d payload types", LEC_SDP_MAX_CODECS);
        if (find_codec(m, (unsigned)v))
            return fail(p, LEC_ERR_INVAL, "m=: payload type %u listed twice", (unsigned)v);
        lec_sdp_codec *c = &m->codecs[m->ncodecs++];
        memset(c, 0, sizeof *c);
        c->pt = (uint8_t)v;
        c->rtx_apt = -1;
    }
    return 0;
}

static int parse_rtpmap(parser *p, const char *s, const char *end)
{
    lec_sdp_codec *c;
    int rc = codec_of(p, &s, end, &c, "rtpmap");
    if (rc)
        return rc;
    /* name/clock[/channels] */
    const char *s1 = memchr(s, '/', (size_t)(end - s));
    if (!s1)
        return fail(p, LEC_ERR_INVAL, "a=rtpmap: expected name/clock-rate");
    if ((rc = copy(p, c->name, sizeof c->name, s, (size_t)(s1 - s), "codec name")))
        return rc;
    const char *s2 = memchr(s1 + 1, '/', (size_t)(end - s1 - 1));
    uint64_t v;
    if (!parse_uint(s1 + 1, (size_t)((s2 ? s2 : end) - s1 - 1), 10000000, &v) || v == 0)
        return fail(p, LEC_ERR_INVAL, "a=rtpmap: bad clock rate");
    c->clock_rate = (uint32_t)v;
    if (s2) {
        if (!parse_uint(s2 + 1, (size_t)(end - s2 - 1), 8, &v))
            return fail(p, LEC_ERR_INVAL, "a=rtpmap: bad channel count");
        c->channels = (uint8_t)v;
    }
    return 0;
}

static int parse_fmtp(parser *p, const char *s, const char *end)
{
    lec_sdp_codec *c;
    int rc = codec_of(p, &s, end, &c, "fmtp");
    if (rc)
        return rc;
    if ((rc = copy(p, c->fmtp, sizeof c->fmtp, s, (size_t)(end - s), "a=fmtp")))
        return rc;
    char apt[8];
    if (lec_sdp_fmtp_get(c->fmtp, "apt", apt, sizeof apt) > 0) {
        uint64_t v;
        if (!parse_uint(apt, strlen(apt), 127, &v))
            return fail(p, LEC_ERR_INVAL, "a=fmtp: bad apt");
        c->rtx_apt = (int16_t)v;
    }
    return 0;
}

static int parse_rtcp_fb(parser *p, const char *s, const char *end)
{
    const char *t;
    size_t n;
    if (!token(&s, end, &t, &n))
        return fail(p, LEC_ERR_INVAL, "a=rtcp-fb: empty");
    bool all = n == 1 && *t == '*';
    lec_sdp_codec *c = NULL;
    if (!all) {
        s = t;
        int rc = codec_of(p, &s, end, &c, "rtcp-fb");
        if (rc)
            return rc;
    }
    while (s < end && *s == ' ')
        s++;
    size_t len = (size_t)(end - s);
    unsigned bit = 0;
    if (len == 4 && !memcmp(s, "nack", 4))
        bit = LEC_FB_NACK;
    else if (len == 8 && !memcmp(s, "nack pli", 8))
        bit = LEC_FB_PLI;
    else if (len == 7 && !memcmp(s, "ccm fir", 7))
        bit = LEC_FB_FIR;
    else if (len == 9 && !memcmp(s, "goog-remb", 9))
        bit = LEC_FB_REMB;
    else if (len == 12 && !memcmp(s, "transport-cc", 12))
        bit = LEC_FB_TRANSPORT_CC;
    for (unsigned i = 0; i < p->m->ncodecs; i++)
        if (all || &p->m->codecs[i] == c)
            p->m->codecs[i].fb |= bit;
    return 0;
}

static int parse_extmap(parser *p, const char *s, const char *end)
{
    lec_sdp_media *m = p->m;
    const char *t;
    size_t n;
    uint64_t id;
    if (!token(&s, end, &t, &n))
        return fail(p, LEC_ERR_INVAL, "a=extmap: empty");
    const char *slash = memchr(t, '/', n); /* id/direction */
    if (!parse_uint(t, slash ? (size_t)(slash - t) : n, 255, &id) || id == 0 || id == 15)
        return fail(p, LEC_ERR_INVAL, "a=extmap: id must be 1-14 or 16-255");
    if (!token(&s, end, &t, &n))
        return fail(p, LEC_ERR_INVAL, "a=extmap: missing URI");
    if (m->nextmaps == LEC_SDP_MAX_EXTMAPS)
        return fail(p, LEC_ERR_RANGE, "more than %d a=extmap", LEC_SDP_MAX_EXTMAPS);
    for (unsigned i = 0; i < m->nextmaps; i++)
        if (m->extmaps[i].id == id)
            return fail(p, LEC_ERR_INVAL, "a=extmap: id %u used twice", (unsigned)id);
    lec_sdp_extmap *e = &m->extmaps[m->nextmaps];
    int rc = copy(p, e->uri, sizeof e->uri, t, n, "a=extmap URI");
    if (rc)
        return rc;
    e->id = (uint8_t)id;
    m->nextmaps++;
    return 0;
}

static int parse_ssrc(parser *p, const char *s, const char *end)
{
    lec_sdp_media *m = p->m;
    const char *t;
    size_t n;
    uint64_t v;
    if (!token(&s, end, &t, &n) || !parse_uint(t, n, UINT32_MAX, &v))
        return fail(p, LEC_ERR_INVAL, "a=ssrc: bad SSRC");
    lec_sdp_ssrc *x = NULL;
    for (unsigned i = 0; i < m->nssrcs; i++)
        if (m->ssrcs[i].ssrc == v)
            x = &m->ssrcs[i];
    if (!x) {
        if (m->nssrcs == LEC_SDP_MAX_SSRCS)
            return fail(p, LEC_ERR_RANGE, "more than %d SSRCs", LEC_SDP_MAX_SSRCS);
        x = &m->ssrcs[m->nssrcs++];
        memset(x, 0, sizeof *x);
        x->ssrc = (uint32_t)v;
    }
    while (s < end && *s == ' ')
        s++;
    size_t len = (size_t)(end - s);
    if (len > 6 && !memcmp(s, "cname:", 6))
        return copy(p, x->cname, sizeof x->cname, s + 6, len - 6, "a=ssrc cname");
    if (len > 5 && !memcmp(s, "msid:", 5))
        return copy(p, x->msid, sizeof x->msid, s + 5, len - 5, "a=ssrc msid");
    return 0;
}

static int parse_ssrc_group(parser *p, const char *s, const char *end)
{
    lec_sdp_media *m = p->m;
    if (m->ngroups == LEC_SDP_MAX_GROUPS)
        return fail(p, LEC_ERR_RANGE, "more than %d a=ssrc-group", LEC_SDP_MAX_GROUPS);
    lec_sdp_ssrc_group *g = &m->groups[m->ngroups];
    memset(g, 0, sizeof *g);
    const char *t;
    size_t n;
    if (!token(&s, end, &t, &n) || copy(p, g->semantics, sizeof g->semantics, t, n, "semantics"))
        return fail(p, LEC_ERR_INVAL, "a=ssrc-group: bad semantics");
    while (token(&s, end, &t, &n)) {
        uint64_t v;
        if (g->n == 4 || !parse_uint(t, n, UINT32_MAX, &v))
            return fail(p, LEC_ERR_INVAL, "a=ssrc-group: bad or too many SSRCs");
        g->ssrcs[g->n++] = (uint32_t)v;
    }
    m->ngroups++;
    return 0;
}

static int parse_rid(parser *p, const char *s, const char *end)
{
    lec_sdp_media *m = p->m;
    if (m->nrids == LEC_SDP_MAX_RIDS)
        return fail(p, LEC_ERR_RANGE, "more than %d a=rid", LEC_SDP_MAX_RIDS);
    lec_sdp_rid *r = &m->rids[m->nrids];
    memset(r, 0, sizeof *r);
    const char *t;
    size_t n;
    if (!token(&s, end, &t, &n) || copy(p, r->id, sizeof r->id, t, n, "a=rid id"))
        return fail(p, LEC_ERR_INVAL, "a=rid: bad id");
    if (!token(&s, end, &t, &n) ||
        !((n == 4 && !memcmp(t, "send", 4)) || (n == 4 && !memcmp(t, "recv", 4))))
        return fail(p, LEC_ERR_INVAL, "a=rid: direction must be send or recv");
    r->send = t[0] == 's';
    while (s < end && *s == ' ')
        s++;
    int rc = copy(p, r->params, sizeof r->params, s, (size_t)(end - s), "a=rid parameters");
    if (!rc)
        m->nrids++;
    return rc;
}

static int parse_setup(parser *p, const char *v, size_t n, lec_sdp_setup *out)
{
    if (n == 7 && !memcmp(v, "actpass", 7))
        *out = LEC_SDP_SETUP_ACTPASS;
    else if (n == 6 && !memcmp(v, "active", 6))
        *out = LEC_SDP_SETUP_ACTIVE;
    else if (n == 7 && !memcmp(v, "passive", 7))
        *out = LEC_SDP_SETUP_PASSIVE;
    else
        return fail(p, LEC_ERR_INVAL, "a=setup: expected actpass, active or passive");
    return 0;
}

static int parse_group(parser *p, const char *s, const char *end)
{
    const char *t;
    size_t n;
    if (!token(&s, end, &t, &n) || n != 6 || memcmp(t, "BUNDLE", 6))
        return 0; /* other groupings (LS) are not ours to check */
    lec_sdp *sdp = p->sdp;
    while (token(&s, end, &t, &n)) {
        if (sdp->nbundle == LEC_SDP_MAX_BUNDLE)
            return fail(p, LEC_ERR_RANGE, "a=group:BUNDLE: too many mids");
        int rc = copy(p, sdp->bundle[sdp->nbundle], sizeof sdp->bundle[0], t, n, "mid");
        if (rc)
            return rc;
        sdp->nbundle++;
    }
    return 0;
}

/* One a= line: name [":" value]. */
static int parse_attr(parser *p, const char *s, const char *end)
{
    const char *colon = memchr(s, ':', (size_t)(end - s));
    size_t nl = colon ? (size_t)(colon - s) : (size_t)(end - s);
    const char *v = colon ? colon + 1 : end;
    size_t vl = (size_t)(end - v);
    lec_sdp *sdp = p->sdp;
    lec_sdp_media *m = p->m;
#define IS(name) (nl == sizeof(name) - 1 && !memcmp(s, name, nl))
    if (IS("ice-ufrag"))
        return copy(p, m ? m->ice_ufrag : sdp->ice_ufrag, sizeof sdp->ice_ufrag, v, vl,
                    "a=ice-ufrag");
    if (IS("ice-pwd"))
        return copy(p, m ? m->ice_pwd : sdp->ice_pwd, sizeof sdp->ice_pwd, v, vl, "a=ice-pwd");
    if (IS("fingerprint"))
        return copy(p, m ? m->fingerprint : sdp->fingerprint, sizeof sdp->fingerprint, v, vl,
                    "a=fingerprint");
    if (IS("setup"))
        return parse_setup(p, v, vl, m ? &m->setup : &sdp->setup);
    if (IS("ice-lite")) {
        sdp->ice_lite = true;
        return 0;
    }
    if (IS("ice-options")) { /* space-separated tokens; the input is not NUL-terminated */
        const char *q = v, *t;
        size_t n;
        while (token(&q, end, &t, &n))
            if (n == 7 && !memcmp(t, "trickle", 7))
                sdp->ice_trickle = true;
        return 0;
    }
    if (IS("group"))
        return parse_group(p, v, end);
    if (!m)
        return 0; /* other session-level attributes: msid-semantic, extmap-allow-mixed */
    if (IS("mid"))
        return copy(p, m->mid, sizeof m->mid, v, vl, "a=mid");
    if (IS("sendrecv") || IS("sendonly") || IS("recvonly") || IS("inactive")) {
        m->dir = IS("sendrecv")   ? LEC_SDP_SENDRECV
                 : IS("sendonly") ? LEC_SDP_SENDONLY
                 : IS("recvonly") ? LEC_SDP_RECVONLY
                                  : LEC_SDP_INACTIVE;
        return 0;
    }
    if (IS("rtcp-mux")) {
        m->rtcp_mux = true;
        return 0;
    }
    if (IS("rtcp-rsize")) {
        m->rtcp_rsize = true;
        return 0;
    }
    if (IS("bundle-only")) {
        m->bundle_only = true;
        return 0;
    }
    if (IS("end-of-candidates")) {
        m->end_of_candidates = true;
        return 0;
    }
    if (IS("msid"))
        return copy(p, m->msid, sizeof m->msid, v, vl, "a=msid");
    if (IS("simulcast"))
        return copy(p, m->simulcast, sizeof m->simulcast, v, vl, "a=simulcast");
    if (IS("sctp-port")) {
        uint64_t port;
        if (!parse_uint(v, vl, 65535, &port) || !port)
            return fail(p, LEC_ERR_INVAL, "a=sctp-port: not a port");
        return copy(p, m->sctp_port, sizeof m->sctp_port, v, vl, "a=sctp-port");
    }
    if (IS("max-message-size")) {
        uint64_t mms;
        /* RFC 8841 6: any number of digits; past 4 GiB is as good as none. */
        size_t digits = 0;
        while (digits < vl && v[digits] >= '0' && v[digits] <= '9')
            digits++;
        if (!digits || digits != vl)
            return fail(p, LEC_ERR_INVAL, "a=max-message-size: not a size");
        m->max_message = parse_uint(v, vl, UINT32_MAX, &mms) ? (uint32_t)mms : UINT32_MAX;
        m->has_max_message = true;
        return 0;
    }
    if (IS("candidate")) {
        if (m->ncandidates == LEC_SDP_MAX_CANDIDATES)
            return fail(p, LEC_ERR_RANGE, "more than %d a=candidate", LEC_SDP_MAX_CANDIDATES);
        return copy(p, m->candidates[m->ncandidates++], sizeof m->candidates[0], v, vl,
                    "a=candidate");
    }
    if (!colon)
        return 0;
    if (IS("rtpmap"))
        return parse_rtpmap(p, v, end);
    if (IS("fmtp"))
        return parse_fmtp(p, v, end);
    if (IS("rtcp-fb"))
        return parse_rtcp_fb(p, v, end);
    if (IS("extmap"))
        return parse_extmap(p, v, end);
    if (IS("ssrc"))
        return parse_ssrc(p, v, end);
    if (IS("ssrc-group"))
        return parse_ssrc_group(p, v, end);
    if (IS("rid"))
        return parse_rid(p, v, end);
#undef IS
    return 0;
}

int lec_sdp_parse(const char *text, size_t len, lec_sdp *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    parser p = {.sdp = out, .err = err, .errcap = errcap};
    if (err && errcap)
        err[0] = '\0';
    if (len > MAX_SDP_BYTES)
        return fail(&p, LEC_ERR_RANGE, "SDP larger than %d bytes", MAX_SDP_BYTES);
    const char *s = text, *end = text + len;
    bool seen_v = false;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        if (le > s && le[-1] == '\r')
            le--;
        p.line++;
        if (le == s) { /* blank line: tolerated (a trailing one is common) */
            s = next;
            continue;
        }
        for (const char *c = s; c < le; c++)
            if ((unsigned char)*c < 0x20 && *c != '\t')
                return fail(&p, LEC_ERR_INVAL, "control character in a line");
        if (le - s < 2 || s[1] != '=' || !islower((unsigned char)s[0]))
            return fail(&p, LEC_ERR_INVAL, "expected <type>=<value>");
        if (!seen_v && s[0] != 'v')
            return fail(&p, LEC_ERR_INVAL, "an SDP starts with v=0");
        int rc = 0;
        switch (s[0]) {
        case 'v':
            if (seen_v || le - s != 3 || s[2] != '0')
                rc = fail(&p, LEC_ERR_INVAL, "expected v=0 once");
            seen_v = true;
            break;
        case 'o': {
            /* o=<user> <sess-id> <sess-version> IN IP4 <addr> */
            const char *q = s + 2, *t;
            size_t n;
            uint64_t v;
            if (!token(&q, le, &t, &n) || !token(&q, le, &t, &n) ||
                !parse_uint(t, n, UINT64_MAX, &v))
                rc = fail(&p, LEC_ERR_INVAL, "o=: bad session id");
            else
                out->sess_id = v;
            if (!rc && token(&q, le, &t, &n) && parse_uint(t, n, UINT64_MAX, &v))
                out->sess_version = v;
            break;
        }
        case 'm':
            rc = parse_m(&p, s + 2, le);
            break;
        case 'a':
            rc = parse_attr(&p, s + 2, le);
            break;
        default: /* s= t= c= b= i= u= e= p= z= k= r=: not needed */
            break;
        }
        if (rc)
            return rc;
        s = next;
    }
    if (!seen_v)
        return fail(&p, LEC_ERR_INVAL, "empty SDP");
    /* Every codec must have been named, except the static audio types. */
    for (unsigned i = 0; i < out->nmedia; i++) {
        lec_sdp_media *m = &out->media[i];
        for (unsigned k = 0; k < m->ncodecs; k++) {
            lec_sdp_codec *c = &m->codecs[k];
            if (!c->name[0] && c->pt >= 35) {
                p.line = 0;
                return fail(&p, LEC_ERR_INVAL, "m=%s: payload type %u has no a=rtpmap",
                            m->kind == LEC_SDP_AUDIO ? "audio" : "video", c->pt);
            }
        }
    }
    return 0;
}

/* ---- accessors -------------------------------------------------------- */

const char *lec_sdp_ufrag(const lec_sdp *sdp, const lec_sdp_media *m)
{
    return m && m->ice_ufrag[0] ? m->ice_ufrag : sdp->ice_ufrag;
}

const char *lec_sdp_pwd(const lec_sdp *sdp, const lec_sdp_media *m)
{
    return m && m->ice_pwd[0] ? m->ice_pwd : sdp->ice_pwd;
}

const char *lec_sdp_fingerprint(const lec_sdp *sdp, const lec_sdp_media *m)
{
    return m && m->fingerprint[0] ? m->fingerprint : sdp->fingerprint;
}

lec_sdp_setup lec_sdp_media_setup(const lec_sdp *sdp, const lec_sdp_media *m)
{
    return m && m->setup ? m->setup : sdp->setup;
}

int lec_sdp_fmtp_get(const char *fmtp, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    const char *s = fmtp;
    while (*s) {
        while (*s == ' ' || *s == ';')
            s++;
        const char *e = strchr(s, ';');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n > kl && !strncasecmp(s, key, kl) && s[kl] == '=') {
            size_t vl = n - kl - 1;
            if (vl >= cap)
                return -1;
            memcpy(out, s + kl + 1, vl);
            out[vl] = '\0';
            return (int)vl;
        }
        s += n;
    }
    return -1;
}

int lec_sdp_fingerprint_parse(const char *fp, uint8_t *out, size_t cap)
{
    if (strncasecmp(fp, "sha-256 ", 8))
        return -1;
    const char *s = fp + 8;
    size_t n = 0;
    while (*s) {
        int hi = isxdigit((unsigned char)s[0]) ? s[0] : -1;
        int lo = hi >= 0 && isxdigit((unsigned char)s[1]) ? s[1] : -1;
        if (hi < 0 || lo < 0 || n == cap)
            return -1;
        char hex[3] = {(char)hi, (char)lo, 0};
        out[n++] = (uint8_t)strtoul(hex, NULL, 16);
        s += 2;
        if (*s == ':')
            s++;
        else if (*s)
            return -1;
    }
    return n == 32 ? (int)n : -1;
}

/* ---- writing ---------------------------------------------------------- */

static const char *dir_name(lec_sdp_dir d)
{
    static const char *const names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
    return names[d];
}

static const char *setup_name(lec_sdp_setup s)
{
    static const char *const names[] = {"", "actpass", "active", "passive"};
    return names[s];
}

static void write_media(const lec_sdp *sdp, const lec_sdp_media *m, lec_sbuf *o)
{
    static const char *const kinds[] = {"", "audio", "video", "application"};
    lec_sbuf_printf(o, "m=%s %u %s", kinds[m->kind], m->port, m->proto);
    if (m->kind == LEC_SDP_APPLICATION)
        lec_sbuf_puts(o, " webrtc-datachannel");
    for (unsigned i = 0; i < m->ncodecs; i++)
        lec_sbuf_printf(o, " %u", m->codecs[i].pt);
    if (m->kind != LEC_SDP_APPLICATION && m->ncodecs == 0)
        lec_sbuf_puts(o, " 0"); /* a rejected section still names a format */
    lec_sbuf_puts(o, "\r\nc=IN IP4 0.0.0.0\r\n");
    if (m->port == 0) {
        lec_sbuf_printf(o, "a=mid:%s\r\n", m->mid);
        return;
    }
    if (m->kind != LEC_SDP_APPLICATION)
        lec_sbuf_puts(o, "a=rtcp:9 IN IP4 0.0.0.0\r\n");
    const char *u = lec_sdp_ufrag(sdp, m), *pw = lec_sdp_pwd(sdp, m),
               *fp = lec_sdp_fingerprint(sdp, m);
    if (*u)
        lec_sbuf_printf(o, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", u, pw);
    if (*fp)
        lec_sbuf_printf(o, "a=fingerprint:%s\r\n", fp);
    lec_sdp_setup st = lec_sdp_media_setup(sdp, m);
    if (st)
        lec_sbuf_printf(o, "a=setup:%s\r\n", setup_name(st));
    lec_sbuf_printf(o, "a=mid:%s\r\n", m->mid);
    if (m->kind == LEC_SDP_APPLICATION) {
        if (m->sctp_port[0])
            lec_sbuf_printf(o, "a=sctp-port:%s\r\n", m->sctp_port);
        if (m->has_max_message)
            lec_sbuf_printf(o, "a=max-message-size:%u\r\n", m->max_message);
    } else {
        for (unsigned i = 0; i < m->nextmaps; i++)
            lec_sbuf_printf(o, "a=extmap:%u %s\r\n", m->extmaps[i].id, m->extmaps[i].uri);
        lec_sbuf_printf(o, "a=%s\r\n", dir_name(m->dir));
        if (m->msid[0])
            lec_sbuf_printf(o, "a=msid:%s\r\n", m->msid);
        if (m->rtcp_mux)
            lec_sbuf_puts(o, "a=rtcp-mux\r\n");
        if (m->rtcp_rsize)
            lec_sbuf_puts(o, "a=rtcp-rsize\r\n");
        for (unsigned i = 0; i < m->ncodecs; i++) {
            const lec_sdp_codec *c = &m->codecs[i];
            if (c->channels)
                lec_sbuf_printf(o, "a=rtpmap:%u %s/%u/%u\r\n", c->pt, c->name, c->clock_rate,
                                c->channels);
            else
                lec_sbuf_printf(o, "a=rtpmap:%u %s/%u\r\n", c->pt, c->name, c->clock_rate);
            if (c->fb & LEC_FB_TRANSPORT_CC)
                lec_sbuf_printf(o, "a=rtcp-fb:%u transport-cc\r\n", c->pt);
            if (c->fb & LEC_FB_REMB)
                lec_sbuf_printf(o, "a=rtcp-fb:%u goog-remb\r\n", c->pt);
            if (c->fb & LEC_FB_FIR)
                lec_sbuf_printf(o, "a=rtcp-fb:%u ccm fir\r\n", c->pt);
            if (c->fb & LEC_FB_NACK)
                lec_sbuf_printf(o, "a=rtcp-fb:%u nack\r\n", c->pt);
            if (c->fb & LEC_FB_PLI)
                lec_sbuf_printf(o, "a=rtcp-fb:%u nack pli\r\n", c->pt);
            if (c->fmtp[0])
                lec_sbuf_printf(o, "a=fmtp:%u %s\r\n", c->pt, c->fmtp);
        }
        for (unsigned i = 0; i < m->nrids; i++)
            lec_sbuf_printf(o, "a=rid:%s %s%s%s\r\n", m->rids[i].id,
                            m->rids[i].send ? "send" : "recv", m->rids[i].params[0] ? " " : "",
                            m->rids[i].params);
        if (m->simulcast[0])
            lec_sbuf_printf(o, "a=simulcast:%s\r\n", m->simulcast);
        for (unsigned i = 0; i < m->ngroups; i++) {
            lec_sbuf_printf(o, "a=ssrc-group:%s", m->groups[i].semantics);
            for (unsigned k = 0; k < m->groups[i].n; k++)
                lec_sbuf_printf(o, " %u", m->groups[i].ssrcs[k]);
            lec_sbuf_puts(o, "\r\n");
        }
        for (unsigned i = 0; i < m->nssrcs; i++) {
            if (m->ssrcs[i].cname[0])
                lec_sbuf_printf(o, "a=ssrc:%u cname:%s\r\n", m->ssrcs[i].ssrc, m->ssrcs[i].cname);
            if (m->ssrcs[i].msid[0])
                lec_sbuf_printf(o, "a=ssrc:%u msid:%s\r\n", m->ssrcs[i].ssrc, m->ssrcs[i].msid);
        }
    }
    for (unsigned i = 0; i < m->ncandidates; i++)
        lec_sbuf_printf(o, "a=candidate:%s\r\n", m->candidates[i]);
    if (m->end_of_candidates)
        lec_sbuf_puts(o, "a=end-of-candidates\r\n");
}

void lec_sdp_write(const lec_sdp *sdp, lec_sbuf *o)
{
    lec_sbuf_printf(o, "v=0\r\no=- %llu %llu IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
                    (unsigned long long)sdp->sess_id, (unsigned long long)sdp->sess_version);
    if (sdp->nbundle) {
        lec_sbuf_puts(o, "a=group:BUNDLE");
        for (unsigned i = 0; i < sdp->nbundle; i++)
            lec_sbuf_printf(o, " %s", sdp->bundle[i]);
        lec_sbuf_puts(o, "\r\n");
    }
    if (sdp->ice_lite)
        lec_sbuf_puts(o, "a=ice-lite\r\n");
    lec_sbuf_puts(o, "a=msid-semantic: WMS *\r\n");
    for (unsigned i = 0; i < sdp->nmedia; i++)
        write_media(sdp, &sdp->media[i], o);
}

void lec_sdp_frag_parse(const char *frag, size_t len, lec_sdp_frag *out)
{
    memset(out, 0, sizeof *out);
    const char *p = frag, *end = frag + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);
        if (n && p[n - 1] == '\r')
            n--;
        const char *line = p;
        p = nl ? nl + 1 : end;
#define IS(prefix) (n >= sizeof prefix - 1 && !memcmp(line, prefix, sizeof prefix - 1))
        if (IS("a=ice-ufrag:") || IS("a=ice-pwd:")) {
            bool uf = line[6] == 'u';
            size_t skip = uf ? 12 : 10, cap = uf ? sizeof out->ufrag : sizeof out->pwd;
            char *dst = uf ? out->ufrag : out->pwd;
            if (n - skip < cap) {
                memcpy(dst, line + skip, n - skip);
                dst[n - skip] = '\0';
            } else {
                out->dropped++;
            }
        } else if (IS("a=candidate:")) {
            if (out->ncandidates < LEC_SDP_FRAG_CANDIDATES && n - 12 < sizeof out->candidates[0] &&
                !memchr(line + 12, '\0', n - 12)) {
                memcpy(out->candidates[out->ncandidates], line + 12, n - 12);
                out->candidates[out->ncandidates++][n - 12] = '\0';
            } else {
                out->dropped++;
            }
        } else if (IS("a=end-of-candidates")) {
            out->end_of_candidates = true;
        }
#undef IS
    }
}
