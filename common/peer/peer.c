/* A WebRTC peer connection (peer.h). */
#include "peer/peer.h"
#include "base/err.h"
#include "rtp/rtp.h"
#include "sctp/dcep.h"
#include "sctp/sctp.h"
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
    /* data channels (lec_peer_enable_data) */
    bool data;
    lec_peer_data_cfg dc;
    lec_sctp *sctp;
    lec_dcep dcep;
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
static void data_start(lec_peer *p);
static void data_records(lec_peer *p);

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
    if (p->data && !p->closing)
        data_start(p);
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
    if (p->sctp && !p->closing)
        data_records(p);
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
        p->stats.dtls_in++;
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
        static const char *const ice[] = {"not started: no check came", "checking",
                                          "connected", "failed"};
        lec_ice_state is = lec_ice_get_state(p->ice);
        LEC_INFO(p->cfg.log, MOD,
                 "not connected (ICE and DTLS) in %.0f s: closing (ICE %s, DTLS %s, %llu "
                 "DTLS datagrams in)",
                 (double)connect / 1e9, is <= LEC_ICE_FAILED ? ice[is] : "?",
                 lec_dtls_get_state(p->dtls) == LEC_DTLS_HANDSHAKING ? "handshaking" : "done",
                 (unsigned long long)p->stats.dtls_in);
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
    lec_sctp_free(p->sctp); /* its ABORT goes out while ICE and DTLS still can */
    p->sctp = NULL;
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

/* ---- data channels ---------------------------------------------------- */

/* An SCTP packet out: one DTLS record. */
static void sctp_output(void *ud, const uint8_t *pkt, size_t len)
{
    lec_peer *p = ud;
    if (p->ice && lec_dtls_write(p->dtls, pkt, len) == 0)
        flush_dtls(p);
}

static void sctp_message(void *ud, uint16_t sid, uint32_t ppid, const uint8_t *data, size_t len)
{
    lec_peer *p = ud;
    lec_dcep_event ev;
    lec_dcep_input(&p->dcep, sid, ppid, data, len, &ev);
    switch (ev.kind) {
    case LEC_DCEP_OPENED:
        lec_sctp_send(p->sctp, sid, LEC_PPID_DCEP, ev.reply, ev.reply_len, false, -1);
        LEC_DEBUG(p->cfg.log, MOD, "data channel '%s' open (stream %u)",
                  p->dcep.chans[ev.chan].label, sid);
        if (p->cbs.channel && !p->closing)
            p->cbs.channel(p->cbs.ud, p, ev.chan, true);
        break;
    case LEC_DCEP_REFUSED:
        /* A peer that keeps opening what we refuse is not answered past
         * 32: no more resets, no more log lines (one peer must not flood
         * the node's log). */
        if (p->dcep.refused <= 32) {
            LEC_DEBUG(p->cfg.log, MOD, "data channel on stream %u refused: %s", sid, ev.reason);
            lec_sctp_reset_stream(p->sctp, sid);
        }
        break;
    case LEC_DCEP_MESSAGE:
        if (p->cbs.message && !p->closing)
            p->cbs.message(p->cbs.ud, p, ev.chan, ev.binary, ev.data, ev.len);
        break;
    default:
        break;
    }
}

static void sctp_reset(void *ud, uint16_t sid)
{
    lec_peer *p = ud;
    for (int i = 0; i < LEC_DCEP_MAX_CHANNELS; i++) {
        const lec_dcep_chan *c = &p->dcep.chans[i];
        if (!c->open || (sid != LEC_SCTP_ALL_STREAMS && c->sid != sid))
            continue;
        int chan = lec_dcep_closed(&p->dcep, c->sid);
        if (chan >= 0 && p->cbs.channel && !p->closing)
            p->cbs.channel(p->cbs.ud, p, chan, false);
    }
}

static void sctp_state(void *ud, lec_sctp_state st)
{
    lec_peer *p = ud;
    if (st != LEC_SCTP_CLOSED)
        return;
    for (int i = 0; i < LEC_DCEP_MAX_CHANNELS; i++)
        if (p->dcep.chans[i].open) {
            p->dcep.chans[i].open = false;
            if (p->cbs.channel && !p->closing)
                p->cbs.channel(p->cbs.ud, p, i, false);
        }
}

static void data_start(lec_peer *p)
{
    lec_sctp_cfg sc = {.local_port = p->dc.local_port,
                       .remote_port = p->dc.remote_port,
                       .max_message = p->dc.max_message};
    lec_sctp_cbs cbs = {sctp_output, sctp_message, sctp_state, sctp_reset, p};
    if (lec_sctp_new(&p->sctp, &sc, &cbs) || lec_sctp_connect(p->sctp)) {
        LEC_WARN(p->cfg.log, MOD, "SCTP setup failed: no data channels on this peer");
        lec_sctp_free(p->sctp);
        p->sctp = NULL;
        return;
    }
    lec_sctp_set_peer_max_message(p->sctp, p->dc.peer_max_message ? p->dc.peer_max_message : 65536);
    data_records(p); /* what came with the last handshake flight */
}

/* SCTP packets in DTLS records that were read. */
static void data_records(lec_peer *p)
{
    uint8_t rec[1500];
    int n;
    while (p->sctp && (n = lec_dtls_read(p->dtls, rec, sizeof rec)) != 0)
        if (n > 0)
            lec_sctp_input(p->sctp, rec, (size_t)n);
}

int lec_peer_enable_data(lec_peer *p, const lec_peer_data_cfg *dc)
{
    if (p->data || p->state != LEC_PEER_CONNECTING)
        return LEC_ERR_STATE;
    p->data = true;
    p->dc = *dc;
    if (!p->dc.local_port)
        p->dc.local_port = 5000;
    if (!p->dc.remote_port)
        p->dc.remote_port = 5000;
    lec_dcep_init(&p->dcep, p->cfg.dtls_server, dc->label);
    return 0;
}

int lec_peer_open_channel(lec_peer *p, const char *label)
{
    if (!p->sctp || lec_sctp_get_state(p->sctp) != LEC_SCTP_OPEN)
        return LEC_ERR_STATE;
    uint8_t msg[128];
    size_t len;
    uint16_t sid;
    int chan = lec_dcep_open(&p->dcep, label, &sid, msg, sizeof msg, &len);
    if (chan < 0)
        return LEC_ERR_FULL;
    int rc = lec_sctp_send(p->sctp, sid, LEC_PPID_DCEP, msg, len, false, -1);
    if (rc) {
        lec_dcep_closed(&p->dcep, sid);
        return rc;
    }
    return chan;
}

int lec_peer_send_message(lec_peer *p, int chan, bool binary, const void *data, size_t len)
{
    if (!p->sctp || p->closing || chan < 0 || chan >= LEC_DCEP_MAX_CHANNELS ||
        !p->dcep.chans[chan].open)
        return LEC_ERR_STATE;
    const lec_dcep_chan *c = &p->dcep.chans[chan];
    /* The channel's type, as its opener asked (RFC 8832 5.1). */
    int max_rtx = (c->type & 0x7f) == LEC_DCEP_REXMIT ? (int)c->reliability : -1;
    return lec_sctp_send(p->sctp, c->sid, lec_dcep_ppid(binary, len), data, len,
                         (c->type & 0x80) != 0, max_rtx);
}

void lec_peer_poll_data(lec_peer *p)
{
    if (p->sctp && !p->closing && lec_sctp_wants_poll(p->sctp))
        lec_sctp_poll(p->sctp);
}

void lec_peer_data_stats_get(lec_peer *p, lec_peer_data_stats *out)
{
    memset(out, 0, sizeof *out);
    out->channel = -1;
    out->rtt_ms = -1;
    out->enabled = p->data;
    if (!p->sctp)
        return;
    const lec_sctp_stats *st = lec_sctp_stats_get(p->sctp);
    out->open = lec_sctp_get_state(p->sctp) == LEC_SCTP_OPEN;
    out->channel = p->dc.label ? lec_dcep_find(&p->dcep, p->dc.label) : -1;
    out->rtt_ms = lec_sctp_rtt_ms(p->sctp);
    out->messages_in = st->messages_in;
    out->messages_out = st->messages_out;
    out->bytes_in = st->bytes_in;
    out->bytes_out = st->bytes_out;
    out->dropped = st->oversized + p->dcep.dropped;
    out->refused = p->dcep.refused;
    out->send_failed = st->send_failed;
}
