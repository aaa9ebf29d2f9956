/*
 * The bus against a real nats-server: relay-open request/reply with a test
 * responder (a raw nats.c client that signs as a node and seals the keys),
 * a request that times out, two buses pinging and answering each other,
 * heartbeats delivered, floods of garbage and of unknown versions counted
 * and dropped, the NATS micro $SRV discovery answered, and forgeries of
 * every kind (unsigned, another cluster, a node speaking for another, the
 * wrong subject, a replay, a reply from a node not asked, keys in clear)
 * dropped and counted (bus.h "Trust").
 */
#include "testdata.h"
#include "natsserver.h"
#include "base/err.h"
#include "bus/bus.h"
#include "config/config.h"
#include "sys/sys.h"
#include "trust/trust.h"

#include <nats/nats.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static test_nats server;
static lec_log quiet;
static lec_rand_seeded rnd;
static uint8_t cluster_seed[32], cluster_pub[32];
static char idir[64];

/* Node `id`'s identity, from this run's cluster key (or another's). */
static lec_trust *identity(const char *id, const uint8_t *seed, const uint8_t *pub,
                           lec_trust_identity *out)
{
    lec_trust_identity tmp, *ident = out ? out : &tmp;
    assert_int_equal(lec_trust_issue(seed, id, &rnd.rand, ident), 0);
    lec_trust *t = NULL;
    assert_int_equal(lec_trust_new(&t, pub, ident), 0);
    return t;
}

/* Wraps `body` for `subject` in an Envelope signed by t (NULL: unsigned,
 * naming `who`), `age_ms` in the past. */
static void wrap(const lec_trust *t, const char *who, const char *subject, const lec_sbuf *body,
                 uint64_t age_ms, lec_sbuf *out)
{
    lec_trust_sig sig;
    if (t)
        assert_int_equal(lec_trust_sign(t, subject, (const uint8_t *)body->data, body->len,
                                        lec_clock_now(lec_sys_wall_clock()) / LEC_MS - age_ms,
                                        &sig),
                         0);
    assert_int_equal(lec_codec_encode_envelope(who, t ? &sig : NULL, (const uint8_t *)body->data,
                                               body->len, out),
                     0);
}

static void null_sink(void *ud, const char *line, size_t len)
{
    (void)ud, (void)line, (void)len;
}

static lec_config *config_for(const char *id, const char *region)
{
    lec_trust_identity ident;
    lec_trust_free(identity(id, cluster_seed, cluster_pub, &ident));
    char text[1024], path[128], hex[65], y[1024];
    assert_int_equal(lec_trust_identity_format(&ident, text, sizeof text), 0);
    snprintf(path, sizeof path, "%s/%s.identity", idir, id);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    lec_trust_hex_encode(cluster_pub, 32, hex);
    snprintf(y, sizeof y,
             "node: {id: %s, role: edge, region: %s}\nnats: {urls: ['%s']}\n"
             "cluster: {trust_key: %s, identity_file: %s}\n",
             id, region, server.url, hex, path);
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
    int forged_seen; /* heartbeats naming edge-x delivered (none may be) */
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
    c->forged_seen += !strcmp(hb->id, "edge-x");
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
    r.key_down_len = r.key_up_len = 28;
    memset(r.key_down, 0x5a, 28);
    memset(r.key_up, 0xa5, 28);
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

/* How the raw responder answers (closure): as resp-1 should, or signed by
 * another node, or with its keys in clear. */
enum answer_as { AS_SELF, AS_OTHER_NODE, AS_CLEAR_KEYS };
static lec_trust *resp_self, *resp_other, *resp_clear;

static void responder(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    enum answer_as how = (enum answer_as)(intptr_t)closure;
    lec_msg_header h;
    lec_relay_open req;
    lec_envelope env;
    if (lec_codec_decode_envelope((const uint8_t *)natsMsg_GetData(msg),
                                  (size_t)natsMsg_GetDataLength(msg), &env) == 0 &&
        lec_codec_decode_relay_open(env.body, env.body_len, &h, &req) == 0 && req.has_seal_key) {
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
        if (how != AS_CLEAR_KEYS) { /* sealed to the requester's key */
            uint8_t keys[56], aad[80];
            memcpy(keys, r.key_down, 28);
            memcpy(keys + 28, r.key_up, 28);
            size_t al = strlen(r.stream) + 1;
            memcpy(aad, r.stream, al);
            for (int i = 0; i < 8; i++)
                aad[al + (size_t)i] = (uint8_t)(r.leg_id >> (56 - 8 * i));
            assert_int_equal(lec_trust_seal(req.seal_key, &rnd.rand, keys, 56, aad, al + 8, r.sealed),
                             0);
            r.sealed_len = 56 + LEC_TRUST_SEAL_OVERHEAD;
            r.key_down_len = r.key_up_len = 0;
        }
        lec_msg_header rh = {.version = 1};
        const lec_trust *signer = how == AS_OTHER_NODE   ? resp_other
                                  : how == AS_CLEAR_KEYS ? resp_clear
                                                         : resp_self;
        snprintf(rh.sender_id, sizeof rh.sender_id, "%s", lec_trust_self(signer));
        snprintf(r.source_id, sizeof r.source_id, "%s", lec_trust_self(signer));
        lec_sbuf sb, out;
        lec_sbuf_init(&sb, NULL);
        lec_sbuf_init(&out, NULL);
        lec_codec_encode_relay_opened(&rh, &r, &sb);
        wrap(signer, NULL, natsMsg_GetReply(msg), &sb, 0, &out);
        natsConnection_Publish(nc, natsMsg_GetReply(msg), out.data, (int)out.len);
        lec_sbuf_free(&sb);
        lec_sbuf_free(&out);
    }
    lec_codec_envelope_free(&env);
    natsMsg_Destroy(msg);
}

static void test_relay_request_reply(void **state)
{
    (void)state;
    uv_loop_t *loop = uv_default_loop();
    natsConnection *raw;
    natsSubscription *sub;
    assert_int_equal(natsConnection_ConnectTo(&raw, server.url), NATS_OK);
    assert_int_equal(natsConnection_Subscribe(&sub, raw, "lectern.v1.relay.resp-1.open", responder,
                                              (void *)(intptr_t)AS_SELF),
                     NATS_OK);
    natsSubscription *sub2, *sub3;
    assert_int_equal(natsConnection_Subscribe(&sub2, raw, "lectern.v1.relay.resp-2.open", responder,
                                              (void *)(intptr_t)AS_OTHER_NODE),
                     NATS_OK);
    assert_int_equal(natsConnection_Subscribe(&sub3, raw, "lectern.v1.relay.resp-3.open", responder,
                                              (void *)(intptr_t)AS_CLEAR_KEYS),
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
    assert_int_equal(c.reply.key_up_len, 28); /* unsealed: only we could */
    assert_int_equal(c.reply.key_up[27], 2);
    assert_int_equal(c.reply.key_down[0], 1);

    /* A reply signed by a node other than the one asked is dropped (the
     * request waits on for the real one: here none comes), and so is one
     * with its keys in clear (not sealed to this request's key): neither
     * ends the request, which times out. */
    lec_bus_stats st0;
    lec_bus_get_stats(b, &st0);
    c.relay_done = 0;
    assert_int_equal(lec_bus_request_relay_open(b, "resp-2", &m, 300 * LEC_MS, on_relay_reply, &c),
                     0);
    run_until(loop, &c.relay_done, 3000);
    assert_int_equal(c.relay_status, LEC_ERR_TIMEOUT);
    c.relay_done = 0;
    assert_int_equal(lec_bus_request_relay_open(b, "resp-3", &m, 300 * LEC_MS, on_relay_reply, &c),
                     0);
    run_until(loop, &c.relay_done, 3000);
    assert_int_equal(c.relay_status, LEC_ERR_TIMEOUT);

    /* No such node: NATS says "no responders", but that status carries no
     * signature (anyone can send one to our inbox): it ends nothing, and
     * the request times out. */
    c.relay_done = 0;
    lec_tstamp t0 = lec_clock_now(lec_sys_clock());
    assert_int_equal(lec_bus_request_relay_open(b, "nobody", &m, 300 * LEC_MS, on_relay_reply, &c),
                     0);
    run_until(loop, &c.relay_done, 3000);
    assert_int_equal(c.relay_status, LEC_ERR_TIMEOUT);
    assert_true(lec_clock_now(lec_sys_clock()) - t0 >= 290 * LEC_MS);
    lec_bus_stats st1;
    lec_bus_get_stats(b, &st1);
    assert_true(st1.dropped_forged >= st0.dropped_forged + 3);

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
    /* Answered: the first only; timed out: resp-2, resp-3, nobody, silent. */
    assert_true(st.requests_sent == 5 && st.requests_answered == 1 && st.requests_timed_out == 4);
    assert_true(st.dropped_malformed == 0);
    assert_int_equal(st.dropped_forged, 3);
    lec_bus_close(b);
    uv_run(loop, UV_RUN_NOWAIT);
    natsSubscription_Destroy(silent);
    natsSubscription_Destroy(sub);
    natsSubscription_Destroy(sub2);
    natsSubscription_Destroy(sub3);
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
        /* The v9 messages come from a node of this cluster (a newer one):
         * signed, so they reach the version check. */
        lec_trust *newer = identity("rogue", cluster_seed, cluster_pub, NULL);
        lec_msg_header h = {.version = 9};
        snprintf(h.sender_id, sizeof h.sender_id, "rogue");
        lec_ping p = {0};
        lec_sbuf v9;
        lec_sbuf_init(&v9, NULL);
        lec_codec_encode_ping(&h, &p, &v9);
        static const char inbox_p[] = "_INBOX.lectern.0123456789abcdef.p.1";
        for (int i = 0; i < 200; i++)
            for (size_t s = 0; s < 5; s++) {
                natsConnection_PublishRequestString(nc, subjects[s], inbox_p, "\xff\x01garbage");
                lec_sbuf env;
                lec_sbuf_init(&env, NULL);
                wrap(newer, NULL, subjects[s], &v9, 0, &env);
                natsConnection_PublishRequest(nc, subjects[s],
                                              s == 2 ? "_INBOX.lectern.0123456789abcdef.r.1" : inbox_p,
                                              env.data, (int)env.len);
                lec_sbuf_free(&env);
            }
        lec_sbuf_free(&v9);
        lec_trust_free(newer);
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

/* Heartbeats as a stranger on the bus would send them. */
static void publish_hb(natsConnection *nc, const lec_trust *signer, const char *who,
                       const char *claims, const char *sign_subject, uint64_t age_ms)
{
    lec_node_info hb;
    memset(&hb, 0, sizeof hb);
    snprintf(hb.id, sizeof hb.id, "%s", claims);
    snprintf(hb.region, sizeof hb.region, "us-east-1");
    snprintf(hb.http_url, sizeof hb.http_url, "http://198.51.100.7:8080");
    hb.seq = 1;
    hb.boot_id = 9;
    lec_msg_header h = {.version = 1};
    snprintf(h.sender_id, sizeof h.sender_id, "%s", who ? who : lec_trust_self(signer));
    lec_sbuf body, env;
    lec_sbuf_init(&body, NULL);
    lec_sbuf_init(&env, NULL);
    assert_int_equal(lec_codec_encode_heartbeat(&h, &hb, &body), 0);
    char subj[128];
    snprintf(subj, sizeof subj, "lectern.v1.node.hb.us-east-1.%s", claims);
    wrap(signer, who, sign_subject ? sign_subject : subj, &body, age_ms, &env);
    natsConnection_Publish(nc, subj, env.data, (int)env.len);
    lec_sbuf_free(&body);
    lec_sbuf_free(&env);
}

/* Every forgery a client on the bus might try is dropped and counted; the
 * one honest heartbeat among them is delivered. */
static void test_forgeries(void **state)
{
    (void)state;
    uv_loop_t *loop = uv_default_loop();
    ctx c;
    memset(&c, 0, sizeof c);
    lec_bus *b = start_bus(loop, "victim", "eu-central-1", &c, true);
    natsConnection *raw;
    assert_int_equal(natsConnection_ConnectTo(&raw, server.url), NATS_OK);
    uint8_t os[32], op[32];
    assert_int_equal(lec_trust_keypair(&rnd.rand, os, op), 0);
    lec_trust *foreign = identity("edge-x", os, op, NULL);
    lec_trust *mallory = resp_other; /* a real node of this cluster */
    /* The victim's subscriptions reach the server asynchronously: beat
     * honestly until it hears one. */
    for (int i = 0; i < 30 && !c.hb_seen; i++) {
        publish_hb(raw, mallory, NULL, "mallory", NULL, 0);
        natsConnection_Flush(raw);
        run_until(loop, &c.hb_seen, 200);
    }
    assert_true(c.hb_seen >= 1);
    volatile int never = 0;
    run_until(loop, &never, 100);
    lec_bus_stats st;
    lec_bus_get_stats(b, &st);
    uint64_t forged0 = st.dropped_forged, stale0 = st.dropped_stale;
    int seen0 = c.hb_seen;
    c.last_hb.id[0] = '\0';
    publish_hb(raw, NULL, "edge-x", "edge-x", NULL, 0);        /* unsigned */
    publish_hb(raw, foreign, NULL, "edge-x", NULL, 0);         /* another cluster's node */
    publish_hb(raw, mallory, NULL, "edge-x", NULL, 0);         /* a node speaking for another */
    publish_hb(raw, mallory, NULL, "mallory", "lectern.v1.node.hb.x.y", 0); /* another subject */
    publish_hb(raw, mallory, NULL, "mallory", NULL, 60 * 1000); /* a replay, a minute old */
    publish_hb(raw, mallory, NULL, "mallory", NULL, 0);        /* honest */
    natsConnection_Flush(raw);
    run_until(loop, &never, 300);
    assert_true(c.hb_seen >= seen0 + 1); /* the honest one (and late warm-up ones) */
    assert_int_equal(c.forged_seen, 0);
    assert_string_equal(c.last_hb.id, "mallory");
    lec_bus_get_stats(b, &st);
    assert_int_equal(st.dropped_forged - forged0, 4);
    assert_int_equal(st.dropped_stale - stale0, 1);

    /* A RelayOpen that carries no key to seal to (as an old or hostile
     * client would send): the answer never has keys in clear. */
    lec_relay_open m;
    memset(&m, 0, sizeof m);
    snprintf(m.stream, sizeof m.stream, "class-5");
    snprintf(m.requester_id, sizeof m.requester_id, "mallory");
    m.leg_id = 77;
    snprintf(m.reply_to, sizeof m.reply_to, "_INBOX.lectern.00000000000000aa.r.1");
    lec_msg_header h = {.version = 1};
    snprintf(h.sender_id, sizeof h.sender_id, "mallory");
    lec_sbuf body, env;
    lec_sbuf_init(&body, NULL);
    lec_sbuf_init(&env, NULL);
    assert_int_equal(lec_codec_encode_relay_open(&h, &m, &body), 0);
    wrap(mallory, NULL, "lectern.v1.relay.victim.open", &body, 0, &env);
    natsMsg *reply = NULL;
    /* (answered through an inbox of a node's shape, as nodes ask) */
    natsSubscription *inbox;
    static const char box[] = "_INBOX.lectern.00000000000000aa.r.1";
    assert_int_equal(natsConnection_SubscribeSync(&inbox, raw, box), NATS_OK);
    natsConnection_PublishRequest(raw, "lectern.v1.relay.victim.open", box, env.data, (int)env.len);
    natsConnection_Flush(raw);
    for (int i = 0; i < 100 && !reply; i++) {
        run_until(loop, &never, 20);
        natsSubscription_NextMsg(&reply, inbox, 10);
    }
    assert_non_null(reply);
    lec_envelope e;
    assert_int_equal(lec_codec_decode_envelope((const uint8_t *)natsMsg_GetData(reply),
                                               (size_t)natsMsg_GetDataLength(reply), &e),
                     0);
    lec_relay_opened r;
    lec_msg_header rh;
    assert_int_equal(lec_codec_decode_relay_opened(e.body, e.body_len, &rh, &r), 0);
    assert_true(e.is_signed);
    assert_string_equal(e.sig.signer, "victim");
    /* on_relay_open's answer has keys: they are refused, not sent in clear */
    assert_int_equal(r.error, LEC_RELAY_BAD_REQUEST);
    assert_int_equal(r.key_down_len + r.key_up_len + r.sealed_len, 0);
    lec_codec_envelope_free(&e);
    natsMsg_Destroy(reply);
    natsSubscription_Destroy(inbox);
    lec_sbuf_free(&body);
    lec_sbuf_free(&env);
    lec_trust_free(foreign);
    natsConnection_Destroy(raw);
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
             "node: {id: late, role: edge, region: r}\nnats: {urls: ['nats://127.0.0.1:%u']}\n"
             "cluster: {insecure: true}\n",
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
    lec_rand_seeded_init(&rnd, 7);
    assert_int_equal(lec_trust_keypair(&rnd.rand, cluster_seed, cluster_pub), 0);
    snprintf(idir, sizeof idir, "/tmp/lectern-test-bus-XXXXXX");
    assert_non_null(mkdtemp(idir));
    resp_self = identity("resp-1", cluster_seed, cluster_pub, NULL);
    resp_other = identity("mallory", cluster_seed, cluster_pub, NULL);
    resp_clear = identity("resp-3", cluster_seed, cluster_pub, NULL);
    return test_nats_start(&server, 0);
}

static int teardown(void **state)
{
    (void)state;
    test_nats_stop(&server);
    nats_CloseAndWait(2000);
    lec_trust_free(resp_self);
    lec_trust_free(resp_other);
    lec_trust_free(resp_clear);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", idir);
    return system(cmd) ? -1 : 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relay_request_reply),
        cmocka_unit_test(test_two_buses),
        cmocka_unit_test(test_srv_and_flood),
        cmocka_unit_test(test_unreachable_then_up),
        cmocka_unit_test(test_forgeries),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
