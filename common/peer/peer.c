/* A WebRTC peer connection (peer.h). */
#include "peer/peer.h"
#include "base/err.h"
#include "rtp/rtp.h"
#include "srtp/srtp_session.h"
#include "sys/sys.h"

#include <stdlib.h>
#include <string.h>

#define MOD "peer"

struct lec_peer {
    lec_peer_cfg cfg;
    lec_peer_cbs cbs;
    lec_peer_state state;
    lec_ice *ice;
    lec_dtls *dtls;
    lec_srtp *srtp_in, *srtp_out;
    uv_timer_t timer;
    lec_tstamp last_heard;
    lec_tstamp created;
    lec_peer_stats stats;
    bool closing;
    uint8_t buf[1500 + LEC_SRTP_MAX_TRAILER];
};

/* The clock comes with the config (the caller's: the node's system clock,
 * a test's manual one); a config without one gets the system clock. */
static lec_tstamp now(const lec_peer *p)
{
    return lec_clock_now(p->cfg.clock ? p->cfg.clock : lec_sys_clock());
}

static void set_state(lec_peer *p, lec_peer_state st)
{
    if (p->state == st || p->closing)
        return;
    p->state = st;
    if (p->cbs.state)
        p->cbs.state(p->cbs.ud, p, st);
}

/* Sends whatever DTLS queued. */
static void flush_dtls(lec_peer *p)
{
    uint8_t out[1500];
    int n;
    while ((n = lec_dtls_pop(p->dtls, out, sizeof out)) > 0)
        lec_ice_send(p->ice, out, (size_t)n);
}

static void arm_timer(lec_peer *p);

static void keyed(lec_peer *p)
{
    lec_dtls_profile prof;
    uint8_t local[32], remote[32];
    size_t len;
    if (lec_dtls_srtp_keys(p->dtls, &prof, local, remote, &len) ||
        lec_srtp_new(&p->srtp_out, prof, local, len, true) ||
        lec_srtp_new(&p->srtp_in, prof, remote, len, false)) {
        LEC_WARN(p->cfg.log, MOD, "SRTP setup failed");
        set_state(p, LEC_PEER_FAILED);
        return;
    }
    memset(local, 0, sizeof local);
    memset(remote, 0, sizeof remote);
    set_state(p, LEC_PEER_CONNECTED);
}

static void on_dtls(lec_peer *p, const uint8_t *data, size_t len)
{
    lec_dtls_state before = lec_dtls_get_state(p->dtls);
    lec_dtls_handle(p->dtls, data, len);
    flush_dtls(p);
    lec_dtls_state after = lec_dtls_get_state(p->dtls);
    if (before != after) {
        p->last_heard = now(p); /* the handshake moved: it was the peer */
        if (after == LEC_DTLS_CONNECTED)
            keyed(p);
        else if (after == LEC_DTLS_FAILED) {
            LEC_INFO(p->cfg.log, MOD, "DTLS failed: %s", lec_dtls_error(p->dtls));
            set_state(p, LEC_PEER_FAILED);
        } else if (after == LEC_DTLS_CLOSED)
            set_state(p, LEC_PEER_CLOSED);
    }
    arm_timer(p);
}

static void on_packet(void *ud, const uint8_t *data, size_t len)
{
    lec_peer *p = ud;
    if (p->closing)
        return;
    /* Consent (RFC 7675) is renewed only by what authenticates: SRTP and
     * SRTCP that open with the keys, or DTLS that moves the handshake.
     * Anything else may come from whoever has the peer's address now. */
    p->stats.bytes_in += len;
    switch (lec_pkt_classify(data, len)) {
    case LEC_PKT_DTLS:
        on_dtls(p, data, len);
        return;
    case LEC_PKT_RTP:
    case LEC_PKT_RTCP: {
        if (p->state != LEC_PEER_CONNECTED || len > 1500) {
            p->stats.malformed++;
            return;
        }
        bool rtcp = lec_pkt_classify(data, len) == LEC_PKT_RTCP;
        memcpy(p->buf, data, len);
        size_t n = len;
        int rc = rtcp ? lec_srtp_unprotect_rtcp(p->srtp_in, p->buf, &n)
                      : lec_srtp_unprotect(p->srtp_in, p->buf, &n);
        if (rc) { /* unauthentic or replayed: count and drop (STYLE rule 4) */
            p->stats.srtp_fail++;
            return;
        }
        p->last_heard = now(p);
        if (rtcp) {
            p->stats.rtcp_in++;
            if (p->cbs.rtcp)
                p->cbs.rtcp(p->cbs.ud, p, p->buf, n);
        } else {
            p->stats.rtp_in++;
            if (p->cbs.rtp)
                p->cbs.rtp(p->cbs.ud, p, p->buf, n);
        }
        return;
    }
    default:
        p->stats.malformed++;
        return;
    }
}

static void on_ice_state(void *ud, lec_ice_state st)
{
    lec_peer *p = ud;
    if (st == LEC_ICE_FAILED)
        set_state(p, LEC_PEER_FAILED);
    if (st == LEC_ICE_CONNECTED && !p->cfg.dtls_server &&
        lec_dtls_get_state(p->dtls) == LEC_DTLS_HANDSHAKING) {
        lec_dtls_start(p->dtls);
        flush_dtls(p);
        arm_timer(p);
    }
}

static void on_timer(uv_timer_t *t)
{
    lec_peer *p = t->data;
    if (p->closing)
        return;
    if (lec_dtls_get_state(p->dtls) == LEC_DTLS_HANDSHAKING) {
        lec_dtls_on_timeout(p->dtls);
        flush_dtls(p);
        if (lec_dtls_get_state(p->dtls) == LEC_DTLS_FAILED)
            set_state(p, LEC_PEER_FAILED);
    }
    lec_tstamp connect = p->cfg.connect_timeout;
    if (p->state == LEC_PEER_CONNECTING && connect && now(p) - p->created > connect) {
        LEC_INFO(p->cfg.log, MOD, "not connected (ICE and DTLS) in %.0f s: closing",
                 (double)connect / 1e9);
        set_state(p, LEC_PEER_FAILED);
    }
    lec_tstamp silence = p->cfg.silence_timeout ? p->cfg.silence_timeout : 30 * LEC_S;
    if (now(p) - p->last_heard > silence && p->state != LEC_PEER_FAILED) {
        LEC_INFO(p->cfg.log, MOD, "peer silent for %.0f s: closing", (double)silence / 1e9);
        set_state(p, LEC_PEER_FAILED);
    }
    arm_timer(p);
}

/* The next wake-up: the DTLS deadline or a silence check, whichever first. */
static void arm_timer(lec_peer *p)
{
    if (p->closing)
        return;
    lec_tstamp t = now(p);
    lec_tstamp next = t + LEC_S; /* silence is checked every second */
    lec_tstamp d = lec_dtls_deadline(p->dtls, t);
    if (d < next)
        next = d;
    uint64_t ms = next > t ? (next - t + LEC_MS - 1) / LEC_MS : 0;
    uv_timer_start(&p->timer, on_timer, ms ? ms : 1, 0);
}

int lec_peer_new(lec_peer **out, const lec_peer_cfg *cfg, const lec_peer_cbs *cbs)
{
    *out = NULL;
    lec_peer *p = calloc(1, sizeof *p);
    if (!p)
        return LEC_ERR_NOMEM;
    p->cfg = *cfg;
    p->cbs = *cbs;
    p->state = LEC_PEER_CONNECTING;
    p->last_heard = p->created = now(p);
    lec_dtls_cfg dc = {.server = cfg->dtls_server, .cert = cfg->cert};
    memcpy(dc.peer_fp, cfg->remote_fp, sizeof dc.peer_fp);
    p->dtls = lec_dtls_new(&dc);
    if (!p->dtls) {
        free(p);
        return LEC_ERR_NOMEM;
    }
    lec_ice_cfg ic = cfg->ice;
    ic.glib = cfg->glib;
    ic.on_packet = on_packet;
    ic.on_state = on_ice_state;
    ic.ud = p;
    int rc = lec_ice_new(&p->ice, &ic);
    if (rc) {
        lec_dtls_free(p->dtls);
        free(p);
        return rc;
    }
    uv_timer_init(cfg->loop, &p->timer);
    p->timer.data = p;
    arm_timer(p);
    *out = p;
    return 0;
}

static void timer_closed(uv_handle_t *h)
{
    free(h->data);
}

void lec_peer_close(lec_peer *p)
{
    if (!p || p->closing)
        return;
    p->closing = true;
    lec_ice_free(p->ice);
    lec_dtls_free(p->dtls);
    lec_srtp_free(p->srtp_in);
    lec_srtp_free(p->srtp_out);
    p->ice = NULL;
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, timer_closed);
}

void lec_peer_set_remote_fingerprint(lec_peer *p, const uint8_t fp[32])
{
    lec_dtls_set_peer_fp(p->dtls, fp);
}

void lec_peer_set_silence_timeout(lec_peer *p, lec_tstamp t)
{
    p->cfg.silence_timeout = t;
}

lec_ice *lec_peer_ice(lec_peer *p)
{
    return p->ice;
}

lec_peer_state lec_peer_get_state(const lec_peer *p)
{
    return p->state;
}

const lec_peer_stats *lec_peer_stats_get(const lec_peer *p)
{
    return &p->stats;
}

static int send_protected(lec_peer *p, uint8_t *buf, size_t len, size_t cap, bool rtcp)
{
    if (p->state != LEC_PEER_CONNECTED || p->closing)
        return LEC_ERR_STATE;
    int rc = rtcp ? lec_srtp_protect_rtcp(p->srtp_out, buf, &len, cap)
                  : lec_srtp_protect(p->srtp_out, buf, &len, cap);
    if (!rc)
        rc = lec_ice_send(p->ice, buf, len);
    if (rc) {
        p->stats.dropped_send++;
        return rc;
    }
    p->stats.bytes_out += len;
    if (rtcp)
        p->stats.rtcp_out++;
    else
        p->stats.rtp_out++;
    return 0;
}

int lec_peer_send_rtp(lec_peer *p, uint8_t *buf, size_t len, size_t cap)
{
    return send_protected(p, buf, len, cap, false);
}

int lec_peer_send_rtcp(lec_peer *p, uint8_t *buf, size_t len, size_t cap)
{
    return send_protected(p, buf, len, cap, true);
}
