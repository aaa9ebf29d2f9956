/*
 * The bus against a real nats-server: relay-open request/reply with a test
 * responder (a raw nats.c client), a request that times out, two buses
 * pinging and answering each other, heartbeats delivered, floods of
 * garbage and of unknown versions counted and dropped, and the NATS micro
 * $SRV discovery answered.
 */
#include "testdata.h"
#include "natsserver.h"
#include "base/err.h"
#include "bus/bus.h"
#include "config/config.h"
#include "sys/sys.h"

#include <nats/nats.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static test_nats server;
static lec_log quiet;

static void null_sink(void *ud, const char *line, size_t len)
{
    (void)ud, (void)line, (void)len;
}

static lec_config *config_for(const char *id, const char *region)
{
    char y[512];
    snprintf(y, sizeof y, "node: {id: %s, role: edge, region: %s}\nnats: {urls: ['%s']}\n", id,
             region, server.url);
    lec_config *c = NULL;
    assert_int_equal(lec_config_load_string("t", y, strlen(y), LEC_ROLE_EDGE, &c, NULL), 0);
    return c;
}

/* Runs the loop until *flag turns true or `ms` pass. */
typedef struct waiter {
    uv_timer_t t;
    volatile int *flag;
    int left;
} waiter;

static void poll_flag(uv_timer_t *t)
{
    waiter *w = t->data;
    if (*w->flag || --w->left <= 0)
        uv_stop(t->loop);
}

static void run_until(uv_loop_t *loop, volatile int *flag, int ms)
{
    waiter w = {.flag = flag, .left = ms / 5};
    uv_timer_init(loop, &w.t);
    w.t.data = &w;
    uv_timer_start(&w.t, poll_flag, 5, 5);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&w.t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

typedef struct ctx {
    volatile int connected, relay_done, ping_done, hb_seen, relay_asked, srv_done;
    int relay_status, ping_status;
    lec_relay_opened reply;
    lec_tstamp rtt;
    lec_bus *bus;
    lec_node_info last_hb;
    char srv_json[4096];
} ctx;

static void on_conn(void *ud, bool connected)
{
    ((ctx *)ud)->connected = connected;
}

static void on_hb(void *ud, const lec_msg_header *h, const lec_node_info *hb)
{
    (void)h;
    ctx *c = ud;
    c->hb_seen++;
    c->last_hb = *hb;
    c->last_hb.streams = NULL;
    c->last_hb.rtts = NULL;
}

static void on_relay_reply(void *ud, int status, const lec_relay_opened *r)
{
    ctx *c = ud;
    c->relay_status = status;
    if (r)
        c->reply = *r;
    c->relay_done = 1;
}

static void on_ping(void *ud, const char *node, int status, lec_tstamp rtt)
{
    (void)node;
    ctx *c = ud;
    c->ping_status = status;
    c->rtt = rtt;
    c->ping_done = 1;
}

/* An answering node's handler: answers after a short delay, from a timer. */
typedef struct later {
    uv_timer_t t;
    lec_bus *bus;
    lec_bus_request *req;
    lec_relay_open m;
} later;

static void answer_later(uv_timer_t *t)
{
    later *l = t->data;
    lec_relay_opened r;
    memset(&r, 0, sizeof r);
    memcpy(r.stream, l->m.stream, sizeof r.stream);
    r.leg_id = l->m.leg_id;
    snprintf(r.source_id, sizeof r.source_id, "b");
    r.profile = LEC_SRTP_AEAD_AES_128_GCM;
    r.key_down_len = 28;
    memset(r.key_down, 0x5a, 28);
    lec_bus_reply_relay_opened(l->bus, l->req, &r);
    uv_close((uv_handle_t *)t, (uv_close_cb)free);
}

static void on_relay_open(void *ud, lec_bus_request *req, const lec_relay_open *m)
{
    ctx *c = ud;
    c->relay_asked++;
    later *l = calloc(1, sizeof *l);
    l->bus = c->bus;
    l->req = req;
    l->m = *m;
    uv_timer_init(uv_default_loop(), &l->t);
    l->t.data = l;
    uv_timer_start(&l->t, answer_later, 20, 0);
}

static lec_bus *start_bus(uv_loop_t *loop, const char *id, const char *region, ctx *c, bool answer)
{
    lec_config *cfg = config_for(id, region);
    lec_bus *b = lec_bus_new(loop, &quiet, lec_sys_clock(), lec_sys_wall_clock(), lec_sys_rand());
    lec_bus_handlers h = {.connection = on_conn, .heartbeat = on_hb, .ud = c};
    c->bus = b;
    if (answer)
        lec_bus_serve_relay(b, &(lec_bus_relay_server){.open = on_relay_open, .ud = c});
    assert_int_equal(lec_bus_start(b, cfg, &h), 0);
    lec_config_free(cfg);
    run_until(loop, &c->connected, 3000);
    assert_true(c->connected);
    return b;
}

/* ---- a raw responder on nats.c's thread ------------------------------- */

static void responder(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    (void)closure;
    lec_msg_header h;
    lec_relay_open req;
    if (lec_codec_decode_relay_open((const uint8_t *)natsMsg_GetData(msg),
                                    (size_t)natsMsg_GetDataLength(msg), &h, &req) == 0) {
        lec_relay_opened r;
        memset(&r, 0, sizeof r);
        memcpy(r.stream, req.stream, sizeof r.stream);
        r.leg_id = req.leg_id;
        snprintf(r.source_id, sizeof r.source_id, "resp-1");
        snprintf(r.source_relay_addr, sizeof r.source_relay_addr, "127.0.0.1:7000");
        r.profile = req.profiles[0];
        r.key_down_len = r.key_up_len = 28;
        memset(r.key_down, 1, 28);
        memset(r.key_up, 2, 28);
        r.ntracks = 2;
        r.tracks[0].kind = LEC_TRACK_AUDIO;
        snprintf(r.tracks[0].codec, sizeof r.tracks[0].codec, "opus");
        r.tracks[1].kind = LEC_TRACK_VIDEO;
        snprintf(r.tracks[1].codec, sizeof r.tracks[1].codec, "VP8");
        lec_msg_header rh = {.version = 1};
        snprintf(rh.sender_id, sizeof rh.sender_id, "resp-1");
        lec_sbuf sb;
        lec_sbuf_init(&sb, NULL);
        lec_codec_encode_relay_opened(&rh, &r, &sb);
        natsConnection_Publish(nc, natsMsg_GetReply(msg), sb.data, (int)sb.len);
        lec_sbuf_free(&sb);
    }
    natsMsg_Destroy(msg);
}

static void test_relay_request_reply(void **state)
{
    (void)state;
    uv_loop_t *loop = uv_default_loop();
    natsConnection *raw;
    natsSubscription *sub;
    assert_int_equal(natsConnection_ConnectTo(&raw, server.url), NATS_OK);
    assert_int_equal(
        natsConnection_Subscribe(&sub, raw, "lectern.v1.relay.resp-1.open", responder, NULL),
        NATS_OK);
    natsConnection_Flush(raw);

    ctx c;
    memset(&c, 0, sizeof c);
    lec_bus *b = start_bus(loop, "req-1", "us-east-1", &c, false);
    lec_relay_open m;
    memset(&m, 0, sizeof m);
    snprintf(m.stream, sizeof m.stream, "class-1");
    snprintf(m.requester_id, sizeof m.requester_id, "req-1");
    m.leg_id = 42;
    m.profiles[0] = LEC_SRTP_AEAD_AES_128_GCM;
    m.nprofiles = 1;
    assert_int_equal(lec_bus_request_relay_open(b, "resp-1", &m, 2 * LEC_S, on_relay_reply, &c), 0);
    run_until(loop, &c.relay_done, 3000);
    assert_true(c.relay_done);
    assert_int_equal(c.relay_status, 0);
    assert_true(c.reply.leg_id == 42);
    assert_string_equal(c.reply.source_id, "resp-1");
    assert_int_equal(c.reply.profile, LEC_SRTP_AEAD_AES_128_GCM);
    assert_int_equal(c.reply.ntracks, 2);
    assert_string_equal(c.reply.tracks[1].codec, "VP8");
    assert_int_equal(c.reply.key_up_len, 28);

    /* No such node: NATS says "no responders" at once. */
    c.relay_done = 0;
    lec_tstamp t0 = lec_clock_now(lec_sys_clock());
    assert_int_equal(lec_bus_request_relay_open(b, "nobody", &m, 5 * LEC_S, on_relay_reply, &c), 0);
    run_until(loop, &c.relay_done, 3000);
    assert_int_equal(c.relay_status, LEC_ERR_NOTFOUND);
    assert_true(lec_clock_now(lec_sys_clock()) - t0 < LEC_S);

    /* A node that listens but never answers: a timeout, on time. */
    natsSubscription *silent;
    assert_int_equal(natsConnection_SubscribeSync(&silent, raw, "lectern.v1.relay.silent.open"),
                     NATS_OK);
    natsConnection_Flush(raw);
    c.relay_done = 0;
    t0 = lec_clock_now(lec_sys_clock());
    assert_int_equal(lec_bus_request_relay_open(b, "silent", &m, 200 * LEC_MS, on_relay_reply, &c),
                     0);
    run_until(loop, &c.relay_done, 3000);
    lec_tstamp dt = lec_clock_now(lec_sys_clock()) - t0;
    assert_int_equal(c.relay_status, LEC_ERR_TIMEOUT);
    assert_true(dt >= 190 * LEC_MS && dt < 1500 * LEC_MS);
    /* Bad target names never reach NATS. */
    assert_int_equal(lec_bus_request_relay_open(b, "a.b", &m, LEC_S, on_relay_reply, &c),
                     LEC_ERR_INVAL);

    lec_bus_stats st;
    lec_bus_get_stats(b, &st);
    assert_true(st.requests_sent == 3 && st.requests_answered == 2 && st.requests_timed_out == 1);
    assert_true(st.dropped_malformed == 0);
    lec_bus_close(b);
    uv_run(loop, UV_RUN_NOWAIT);
    natsSubscription_Destroy(silent);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(raw);
}

static void test_two_buses(void **state)
{
    (void)state;
    uv_loop_t *loop = uv_default_loop();
    ctx ca, cb;
    memset(&ca, 0, sizeof ca);
    memset(&cb, 0, sizeof cb);
    lec_bus *a = start_bus(loop, "a", "eu-central-1", &ca, false);
    lec_bus *b = start_bus(loop, "b", "us-east-1", &cb, true);

    /* A heartbeat from a reaches b. */
    lec_node_info hb;
    memset(&hb, 0, sizeof hb);
    snprintf(hb.id, sizeof hb.id, "a");
    snprintf(hb.region, sizeof hb.region, "eu-central-1");
    hb.seq = 1;
    hb.boot_id = 7;
    /* b's subscriptions reach the server asynchronously, so, as nodes do,
     * keep beating until it hears one (a loaded machine needs a few). */
    for (int i = 0; i < 30 && !cb.hb_seen; i++) {
        hb.seq = (uint64_t)i + 1;
        assert_int_equal(lec_bus_publish_heartbeat(a, &hb), 0);
        run_until(loop, &cb.hb_seen, 200);
    }
    assert_true(cb.hb_seen >= 1);
    assert_string_equal(cb.last_hb.id, "a");

    /* a pings b. */
    assert_int_equal(lec_bus_ping(a, "b", LEC_S, on_ping, &ca), 0);
    run_until(loop, &ca.ping_done, 3000);
    assert_int_equal(ca.ping_status, 0);
    assert_true(ca.rtt > 0 && ca.rtt < LEC_S);

    /* a asks b for a leg; b answers later, from its loop. */
    lec_relay_open m;
    memset(&m, 0, sizeof m);
    snprintf(m.stream, sizeof m.stream, "class-9");
    snprintf(m.requester_id, sizeof m.requester_id, "a");
    m.leg_id = 3;
    assert_int_equal(lec_bus_request_relay_open(a, "b", &m, LEC_S, on_relay_reply, &ca), 0);
    run_until(loop, &ca.relay_done, 3000);
    assert_int_equal(ca.relay_status, 0);
    assert_int_equal(cb.relay_asked, 1);
    assert_string_equal(ca.reply.stream, "class-9");
    assert_int_equal(ca.reply.key_down[27], 0x5a);

    lec_bus_close(a);
    lec_bus_close(b);
    uv_run(loop, UV_RUN_NOWAIT);
}

static void *srv_client(void *arg)
{
    ctx *c = arg;
    natsConnection *nc;
    natsMsg *reply = NULL;
    if (natsConnection_ConnectTo(&nc, server.url) == NATS_OK) {
        if (natsConnection_RequestString(&reply, nc, "$SRV.INFO.lectern.srv-1", "", 2000) ==
            NATS_OK) {
            snprintf(c->srv_json, sizeof c->srv_json, "%.*s", natsMsg_GetDataLength(reply),
                     natsMsg_GetData(reply));
            natsMsg_Destroy(reply);
        }
        /* A flood: garbage and a future version on every subject we listen to. */
        static const char *subjects[] = {
            "lectern.v1.node.hb.x.y", "lectern.v1.stream.s.event", "lectern.v1.relay.srv-1.open",
            "lectern.v1.relay.srv-1.close", "lectern.v1.node.srv-1.ping"};
        lec_msg_header h = {.version = 9};
        snprintf(h.sender_id, sizeof h.sender_id, "rogue");
        lec_ping p = {0};
        lec_sbuf v9;
        lec_sbuf_init(&v9, NULL);
        lec_codec_encode_ping(&h, &p, &v9);
        for (int i = 0; i < 200; i++)
            for (size_t s = 0; s < 5; s++) {
                natsConnection_PublishRequestString(nc, subjects[s], "_INBOX.rogue",
                                                    "\xff\x01garbage");
                natsConnection_PublishRequest(nc, subjects[s], "_INBOX.rogue", v9.data,
                                              (int)v9.len);
            }
        lec_sbuf_free(&v9);
        natsConnection_Flush(nc);
        natsConnection_Destroy(nc);
    }
    c->srv_done = 1;
    return NULL;
}

static void test_srv_and_flood(void **state)
{
    (void)state;
    uv_loop_t *loop = uv_default_loop();
    ctx c;
    memset(&c, 0, sizeof c);
    lec_bus *b = start_bus(loop, "srv-1", "eu-central-1", &c, false);
    pthread_t t;
    pthread_create(&t, NULL, srv_client, &c);
    run_until(loop, &c.srv_done, 5000);
    pthread_join(t, NULL);
    /* Let the flood drain through the loop. */
    volatile int never = 0;
    run_until(loop, &never, 300);
    assert_contains(c.srv_json, "\"type\":\"io.nats.micro.v1.info_response\"");
    assert_contains(c.srv_json, "\"name\":\"lectern\"");
    assert_contains(c.srv_json, "\"id\":\"srv-1\"");
    assert_contains(c.srv_json, "\"subject\":\"lectern.v1.relay.srv-1.open\"");
    lec_bus_stats st;
    lec_bus_get_stats(b, &st);
    /* Every garbage message was malformed, every v9 one a version drop
     * (the v9 ping decodes as a header on all types: the version check
     * comes first); nothing was handed to handlers. */
    assert_true(st.dropped_malformed >= 1000);
    assert_true(st.dropped_version >= 200);
    assert_int_equal(c.hb_seen, 0);
    lec_bus_close(b);
    uv_run(loop, UV_RUN_NOWAIT);
}

static void test_unreachable_then_up(void **state)
{
    (void)state;
    /* No server yet: start succeeds, the bus retries, then connects. */
    test_nats later_server;
    uv_loop_t *loop = uv_default_loop();
    test_nats probe;
    assert_int_equal(test_nats_start(&probe, 0), 0);
    uint16_t port = probe.port;
    test_nats_stop(&probe); /* a port that was free a moment ago */
    char y[256];
    snprintf(y, sizeof y,
             "node: {id: late, role: edge, region: r}\nnats: {urls: ['nats://127.0.0.1:%u']}\n",
             port);
    lec_config *cfg = NULL;
    assert_int_equal(lec_config_load_string("t", y, strlen(y), LEC_ROLE_EDGE, &cfg, NULL), 0);
    ctx c;
    memset(&c, 0, sizeof c);
    lec_bus *b = lec_bus_new(loop, &quiet, lec_sys_clock(), lec_sys_wall_clock(), lec_sys_rand());
    lec_bus_handlers h = {.connection = on_conn, .ud = &c};
    assert_int_equal(lec_bus_start(b, cfg, &h), 0);
    lec_config_free(cfg);
    volatile int never = 0;
    run_until(loop, &never, 300);
    assert_false(c.connected);
    assert_int_equal(test_nats_start(&later_server, port), 0);
    run_until(loop, &c.connected, 5000);
    assert_true(c.connected);
    lec_bus_close(b);
    uv_run(loop, UV_RUN_NOWAIT);
    test_nats_stop(&later_server);
}

static int setup(void **state)
{
    (void)state;
    lec_log_init(&quiet, null_sink, NULL, NULL);
    return test_nats_start(&server, 0);
}

static int teardown(void **state)
{
    (void)state;
    test_nats_stop(&server);
    nats_CloseAndWait(2000);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relay_request_reply),
        cmocka_unit_test(test_two_buses),
        cmocka_unit_test(test_srv_and_flood),
        cmocka_unit_test(test_unreachable_then_up),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
