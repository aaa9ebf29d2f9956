/*
 * Two peer connections on one uv loop over 127.0.0.1: ours (ICE-lite, DTLS
 * server) and a stand-in for a browser (full ICE, DTLS client).  They
 * connect, RTP goes one way and RTCP the other in the clear at the far
 * end (SRTP in between), and when the "browser" goes quiet ours fails
 * after its silence timeout.  Then data channels (RFC 8831) between two
 * such peers: SCTP in DTLS records, the "browser" opens the lectern
 * channel and a message goes each way, another label is refused and
 * closes at the opener, and closing our peer aborts the association at
 * the other end.
 */
#include "testdata.h"
#include "base/err.h"
#include "peer/peer.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"
#include "sdp/sdp.h"
#include "sctp/sctp.h"
#include "srtp/srtp_session.h"
#include "sys/sys.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct side {
    lec_peer *p;
    lec_peer_state st;
    int rtp, rtcp;
    uint8_t last[256];
    size_t last_len;
} side;

static void on_state(void *ud, lec_peer *p, lec_peer_state st)
{
    (void)p;
    ((side *)ud)->st = st;
}

static void on_rtp(void *ud, lec_peer *p, uint8_t *pkt, size_t len)
{
    (void)p;
    side *s = ud;
    s->rtp++;
    s->last_len = len < sizeof s->last ? len : sizeof s->last;
    memcpy(s->last, pkt, s->last_len);
}

static void on_rtcp(void *ud, lec_peer *p, uint8_t *pkt, size_t len)
{
    (void)p, (void)pkt, (void)len;
    ((side *)ud)->rtcp++;
}

typedef struct run {
    side *a, *b;
    int step;
    bool done;
} run;

static void tick(uv_timer_t *t)
{
    run *r = t->data;
    if (r->a->st == LEC_PEER_CONNECTED && r->b->st == LEC_PEER_CONNECTED) {
        uint8_t buf[256];
        size_t n = lec_rtp_write_header(buf, 96, true, (uint16_t)(500 + r->step), 3000, 0xabcdef);
        memcpy(buf + n, "frame", 5);
        lec_peer_send_rtp(r->b->p, buf, n + 5, sizeof buf);
        n = lec_rtcp_build_pli(buf, sizeof buf, 1, 0xabcdef);
        lec_peer_send_rtcp(r->a->p, buf, n, sizeof buf);
        r->step++;
    }
    if (r->a->rtp >= 3 && r->b->rtcp >= 3) {
        r->done = true;
        uv_stop(t->loop);
    }
}

static void stop_loop(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* A stranger who took over the vanished peer's address (its port, after
 * it closed: a NAT binding handed to someone else) and sends RTP-looking
 * junk: it must not count as consent (RFC 7675: only what authenticates
 * does), or we would stream to whoever sits there now. */
static int spoof_fd = -1;
static struct sockaddr_in spoof_to;
static unsigned spoofed;

static void wait_failed(uv_timer_t *t)
{
    run *r = t->data;
    uint8_t junk[64] = {0x80, 0x60, 0x12, 0x34};
    if (spoof_fd >= 0 && sendto(spoof_fd, junk, sizeof junk, 0, (struct sockaddr *)&spoof_to,
                                sizeof spoof_to) == (ssize_t)sizeof junk)
        spoofed++;
    if (r->a->st == LEC_PEER_FAILED)
        uv_stop(t->loop);
}

static void test_connect_and_carry_media(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    lec_glib_loop *g = lec_glib_loop_new(&loop);
    lec_log log;
    lec_log_init(&log, NULL, NULL, NULL);
    lec_dtls_cert *ca, *cb;
    assert_int_equal(lec_dtls_cert_new(&ca), 0);
    assert_int_equal(lec_dtls_cert_new(&cb), 0);
    lec_ip lo;
    lec_ip_parse("127.0.0.1", &lo);
    side a = {0}, b = {0};
    lec_peer_cbs cba = {.state = on_state, .rtp = on_rtp, .rtcp = on_rtcp, .ud = &a},
                 cbb = {.state = on_state, .rtp = on_rtp, .rtcp = on_rtcp, .ud = &b};
    lec_peer_cfg pa = {.loop = &loop,
                       .glib = g,
                       .log = &log,
                       .cert = ca,
                       .dtls_server = true,
                       .silence_timeout = 10 * LEC_S};
    pa.ice.addresses = &lo;
    pa.ice.naddresses = 1;
    lec_peer_cfg pb = pa;
    pb.cert = cb;
    pb.dtls_server = false;
    pb.ice.full = true;
    lec_sdp_fingerprint_parse(lec_dtls_cert_fingerprint(cb), pa.remote_fp, 32);
    lec_sdp_fingerprint_parse(lec_dtls_cert_fingerprint(ca), pb.remote_fp, 32);
    assert_int_equal(lec_peer_new(&a.p, &pa, &cba), 0);
    assert_int_equal(lec_peer_new(&b.p, &pb, &cbb), 0);
    /* Signalling. */
    lec_ice *ia = lec_peer_ice(a.p), *ib = lec_peer_ice(b.p);
    lec_ice_set_remote(ia, lec_ice_ufrag(ib), lec_ice_pwd(ib));
    lec_ice_set_remote(ib, lec_ice_ufrag(ia), lec_ice_pwd(ia));
    char cands[4][160];
    size_t n = lec_ice_candidates(ia, cands, 4);
    for (size_t i = 0; i < n; i++)
        lec_ice_add_remote_candidate(ib, cands[i]);

    run r = {&a, &b, 0, false};
    uv_timer_t t, deadline;
    uv_timer_init(&loop, &t);
    uv_timer_init(&loop, &deadline);
    t.data = &r;
    uv_timer_start(&t, tick, 20, 20);
    uv_timer_start(&deadline, stop_loop, 20000, 0); /* bounded; valgrind is slow */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(r.done);
    assert_int_equal(a.st, LEC_PEER_CONNECTED);
    /* The far end sees the clear packet the near end sent. */
    lec_rtp_hdr h;
    assert_int_equal(lec_rtp_parse(a.last, a.last_len, &h), 0);
    assert_true(h.ssrc == 0xabcdef);
    assert_memory_equal(a.last + h.header_len, "frame", 5);
    assert_true(lec_peer_stats_get(a.p)->rtp_in >= 3);
    assert_true(lec_peer_stats_get(b.p)->rtp_out >= 3);
    assert_int_equal(lec_peer_stats_get(a.p)->srtp_fail, 0);

    /* Garbage on the wire is counted, not fatal: a fake "RTP" datagram
     * that does not authenticate. */
    uint8_t junk[64] = {0x80, 0x60};
    lec_ice_send(ib, junk, sizeof junk);
    /* Then the browser goes away without a word: ours fails on silence,
     * even while a stranger sends junk to its port all along. */
    lec_peer_set_silence_timeout(a.p, 700 * LEC_MS);
    unsigned port = 0, bport = 0;
    char bc[2][160];
    assert_int_equal(lec_ice_candidates(ib, bc, 2) >= 1, 1);
    assert_int_equal(sscanf(cands[0], "%*s %*s %*s %*s %*s %u", &port), 1);
    assert_int_equal(sscanf(bc[0], "%*s %*s %*s %*s %*s %u", &bport), 1);
    lec_peer_close(b.p); /* its socket goes: the stranger takes the address */
    uv_run(&loop, UV_RUN_NOWAIT);
    spoof_to = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &spoof_to.sin_addr);
    spoof_fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons((uint16_t)bport)};
    inet_pton(AF_INET, "127.0.0.1", &from.sin_addr);
    assert_true(spoof_fd >= 0);
    assert_int_equal(bind(spoof_fd, (struct sockaddr *)&from, sizeof from), 0);
    uint64_t fails0 = lec_peer_stats_get(a.p)->srtp_fail;
    uv_timer_start(&t, wait_failed, 20, 20);
    uv_timer_start(&deadline, stop_loop, 10000, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(a.st, LEC_PEER_FAILED); /* the loop stopped early only through the deadline */
    assert_true(spoofed >= 20);
    assert_true(lec_peer_stats_get(a.p)->srtp_fail >= fails0 + 10); /* they arrived, and failed */
    close(spoof_fd);
    spoof_fd = -1;

    lec_peer_close(a.p);
    uv_close((uv_handle_t *)&t, NULL);
    uv_close((uv_handle_t *)&deadline, NULL);
    lec_glib_loop_close(g);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    lec_dtls_cert_free(ca);
    lec_dtls_cert_free(cb);
}

/* ---- data channels ---- */

typedef struct dside {
    lec_peer *p;
    lec_peer_state st;
    int opened, closed; /* channel events */
    int chan;           /* the open channel */
    unsigned msgs;
    char last[128];
} dside;

static void d_state(void *ud, lec_peer *p, lec_peer_state st)
{
    (void)p;
    ((dside *)ud)->st = st;
}

static void d_channel(void *ud, lec_peer *p, int chan, bool open)
{
    (void)p;
    dside *s = ud;
    if (open) {
        s->opened++;
        s->chan = chan;
    } else {
        s->closed++;
    }
}

static void d_message(void *ud, lec_peer *p, int chan, bool binary, const uint8_t *data, size_t len)
{
    dside *s = ud;
    s->msgs++;
    snprintf(s->last, sizeof s->last, "%.*s", (int)len, (const char *)data);
    if (!binary && len >= 4 && !memcmp(data, "ping", 4)) /* the server side echoes */
        lec_peer_send_message(p, chan, false, "pong", 4);
}

typedef struct drun {
    dside *a, *b;
    int phase, lectern, chat;
    lec_tstamp phase_at;
} drun;

static void d_tick(uv_timer_t *t)
{
    drun *r = t->data;
    lec_sctp_tick(lec_clock_now(lec_sys_clock()));
    lec_peer_poll_data(r->a->p);
    if (r->b->p)
        lec_peer_poll_data(r->b->p);
    if (r->phase == 0 && r->b->st == LEC_PEER_CONNECTED) {
        r->lectern = lec_peer_open_channel(r->b->p, "lectern");
        if (r->lectern >= 0)
            r->phase = 1;
    } else if (r->phase == 1 && r->a->opened) {
        assert_int_equal(lec_peer_send_message(r->b->p, r->lectern, false, "ping", 4), 0);
        r->phase = 2;
    } else if (r->phase == 2 && r->b->msgs) {
        r->chat = lec_peer_open_channel(r->b->p, "chat");
        assert_true(r->chat >= 0);
        r->phase = 3;
    } else if (r->phase == 3 && r->b->closed) {
        lec_peer_close(r->a->p); /* ours goes: an ABORT to the browser */
        r->a->p = NULL;
        r->phase = 4;
    } else if (r->phase == 4 && r->b->closed >= 2) {
        uv_stop(t->loop);
    }
    if (!r->a->p && r->phase < 4)
        uv_stop(t->loop);
}

static void d_tick_safe(uv_timer_t *t)
{
    drun *r = t->data;
    if (r->a->p) {
        d_tick(t);
        return;
    }
    lec_sctp_tick(lec_clock_now(lec_sys_clock()));
    lec_peer_poll_data(r->b->p);
    if (r->b->closed >= 2)
        uv_stop(t->loop);
}

static void test_data_channels(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    lec_glib_loop *g = lec_glib_loop_new(&loop);
    lec_log log;
    lec_log_init(&log, NULL, NULL, NULL);
    lec_dtls_cert *ca, *cb;
    assert_int_equal(lec_dtls_cert_new(&ca), 0);
    assert_int_equal(lec_dtls_cert_new(&cb), 0);
    lec_ip lo;
    lec_ip_parse("127.0.0.1", &lo);
    dside a = {.chan = -1}, b = {.chan = -1};
    lec_peer_cbs cba = {.state = d_state, .channel = d_channel, .message = d_message, .ud = &a},
                 cbb = {.state = d_state, .channel = d_channel, .message = d_message, .ud = &b};
    lec_peer_cfg pa = {.loop = &loop, .glib = g, .log = &log, .cert = ca, .dtls_server = true};
    pa.ice.addresses = &lo;
    pa.ice.naddresses = 1;
    lec_peer_cfg pb = pa;
    pb.cert = cb;
    pb.dtls_server = false;
    pb.ice.full = true;
    lec_sdp_fingerprint_parse(lec_dtls_cert_fingerprint(cb), pa.remote_fp, 32);
    lec_sdp_fingerprint_parse(lec_dtls_cert_fingerprint(ca), pb.remote_fp, 32);
    assert_int_equal(lec_peer_new(&a.p, &pa, &cba), 0);
    assert_int_equal(lec_peer_new(&b.p, &pb, &cbb), 0);
    lec_peer_data_cfg da = {.max_message = 16384, .label = "lectern"}, db = {.max_message = 65536};
    assert_int_equal(lec_peer_enable_data(a.p, &da), 0);
    assert_int_equal(lec_peer_enable_data(b.p, &db), 0);
    assert_int_equal(lec_peer_enable_data(b.p, &db), LEC_ERR_STATE);
    lec_ice *ia = lec_peer_ice(a.p), *ib = lec_peer_ice(b.p);
    lec_ice_set_remote(ia, lec_ice_ufrag(ib), lec_ice_pwd(ib));
    lec_ice_set_remote(ib, lec_ice_ufrag(ia), lec_ice_pwd(ia));
    char cands[4][160];
    size_t n = lec_ice_candidates(ia, cands, 4);
    for (size_t i = 0; i < n; i++)
        lec_ice_add_remote_candidate(ib, cands[i]);

    drun r = {&a, &b, 0, -1, -1, 0};
    uv_timer_t t, deadline;
    uv_timer_init(&loop, &t);
    uv_timer_init(&loop, &deadline);
    t.data = &r;
    uv_timer_start(&t, d_tick_safe, 10, 10);
    uv_timer_start(&deadline, stop_loop, 20000, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(r.phase, 4);
    assert_int_equal(a.opened, 1); /* lectern; chat was refused */
    assert_int_equal(a.msgs, 1);
    assert_string_equal(a.last, "ping");
    assert_int_equal(b.msgs, 1);
    assert_string_equal(b.last, "pong");
    assert_true(b.closed >= 2); /* chat (reset by us), then all on the abort */
    lec_peer_data_stats ds;
    lec_peer_data_stats_get(b.p, &ds);
    assert_true(ds.enabled);
    assert_false(ds.open);

    lec_peer_close(b.p);
    uv_close((uv_handle_t *)&t, NULL);
    uv_close((uv_handle_t *)&deadline, NULL);
    lec_glib_loop_close(g);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    lec_dtls_cert_free(ca);
    lec_dtls_cert_free(cb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_connect_and_carry_media),
                                       cmocka_unit_test(test_data_channels)};
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    return failed ? failed : lec_sctp_library_shutdown() ? 1 : 0;
}
