/* The control-plane codec: every message round-trips; malformed bytes,
 * wrong versions, oversized fields and lists are refused. */
#include "testdata.h"
#include "base/err.h"
#include "bus/codec.h"
#include "lectern/v1/stream.pb-c.h"

#include <stdio.h>
#include <string.h>

static lec_msg_header hdr(uint32_t version)
{
    lec_msg_header h;
    memset(&h, 0, sizeof h);
    h.version = version;
    snprintf(h.sender_id, sizeof h.sender_id, "origin-1");
    h.sent_unix_ms = 1795800600000ULL;
    return h;
}

static void test_heartbeat(void **state)
{
    (void)state;
    lec_node_info in;
    memset(&in, 0, sizeof in);
    snprintf(in.id, sizeof in.id, "edge-us-1");
    in.role = LEC_ROLE_EDGE;
    snprintf(in.region, sizeof in.region, "us-east-1");
    in.lat = 39.0;
    in.lon = -77.5;
    snprintf(in.http_url, sizeof in.http_url, "https://e.example.com");
    snprintf(in.relay_addr, sizeof in.relay_addr, "198.51.100.20:7000");
    snprintf(in.version, sizeof in.version, "0.1.0");
    in.max_viewers = 5000;
    in.max_egress_bps = 4000000000ULL;
    in.load.viewers = 1234;
    in.load.egress_bps = 1500000000ULL;
    in.load.cpu_permille = 420;
    in.load.worker_cpu_permille = 1700; /* more than whole: taken as full */
    in.load.sessions = 1240;
    in.load.join_p50_us = 180000;
    in.load.join_p95_us = 640000;
    in.load.joins = 5000;
    in.load.join_failures = 12;
    in.draining = true;
    lec_cluster_held streams[] = {{.stream = "class-1", .depth = 0, .viewers = 41},
                                  {.stream = "class-2", .depth = 2, .viewers = 7, .source = "edge-a"}};
    lec_cluster_rtt rtts[] = {{"origin-1", 91000}};
    in.streams = streams;
    in.nstreams = 2;
    in.rtts = rtts;
    in.nrtts = 1;
    in.seq = 77;
    in.boot_id = 0xfeedfacecafebeefULL;
    in.started_unix_ms = 42;

    lec_msg_header h = hdr(1), ho;
    lec_sbuf sb;
    lec_sbuf_init(&sb, NULL);
    assert_int_equal(lec_codec_encode_heartbeat(&h, &in, &sb), 0);
    lec_node_info out;
    assert_int_equal(lec_codec_decode_heartbeat((const uint8_t *)sb.data, sb.len, &ho, &out), 0);
    assert_string_equal(ho.sender_id, "origin-1");
    assert_true(ho.sent_unix_ms == h.sent_unix_ms);
    assert_string_equal(out.id, "edge-us-1");
    assert_int_equal(out.role, LEC_ROLE_EDGE);
    assert_string_equal(out.region, "us-east-1");
    assert_true(out.lat == 39.0 && out.lon == -77.5);
    assert_string_equal(out.http_url, "https://e.example.com");
    assert_string_equal(out.relay_addr, "198.51.100.20:7000");
    assert_int_equal(out.load.viewers, 1234);
    assert_true(out.load.egress_bps == 1500000000ULL);
    assert_true(out.max_egress_bps == 4000000000ULL);
    assert_true(out.draining);
    assert_int_equal(out.nstreams, 2);
    assert_string_equal(out.streams[1].stream, "class-2");
    assert_int_equal(out.streams[1].depth, 2);
    assert_int_equal(out.streams[1].viewers, 7);
    assert_string_equal(out.streams[1].source, "edge-a");
    assert_int_equal(out.streams[0].viewers, 41);
    assert_string_equal(out.streams[0].source, "");
    assert_int_equal(out.load.cpu_permille, 420);
    assert_int_equal(out.load.worker_cpu_permille, 1000);
    assert_int_equal(out.load.sessions, 1240);
    assert_int_equal(out.load.join_p50_us, 180000);
    assert_int_equal(out.load.join_p95_us, 640000);
    assert_true(out.load.joins == 5000 && out.load.join_failures == 12);
    assert_int_equal(out.nrtts, 1);
    assert_int_equal(out.rtts[0].rtt_us, 91000);
    assert_true(out.boot_id == 0xfeedfacecafebeefULL);
    assert_true(out.seq == 77);
    lec_codec_node_info_free(&out);

    /* Version 2: refused as unsupported, not as malformed. */
    lec_sbuf_reset(&sb);
    h = hdr(2);
    lec_codec_encode_heartbeat(&h, &in, &sb);
    assert_int_equal(lec_codec_decode_heartbeat((const uint8_t *)sb.data, sb.len, &ho, &out),
                     LEC_ERR_UNSUPPORTED);
    /* A stream name that cannot be a subject token: malformed. */
    snprintf(streams[0].stream, sizeof streams[0].stream, "a.b");
    lec_sbuf_reset(&sb);
    h = hdr(1);
    lec_codec_encode_heartbeat(&h, &in, &sb);
    assert_int_equal(lec_codec_decode_heartbeat((const uint8_t *)sb.data, sb.len, &ho, &out),
                     LEC_ERR_INVAL);
    /* A URL outside the grammar (base/url.h): a backslash that browsers
     * take as the end of the host, userinfo, a query. */
    snprintf(streams[0].stream, sizeof streams[0].stream, "class-1");
    static const char *const urls[] = {"https://evil.tld\\.e.example.com/",
                                       "https://e.example.com@evil.tld/",
                                       "https://e.example.com/?x=1", "javascript:alert(1)"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        snprintf(in.http_url, sizeof in.http_url, "%s", urls[i]);
        lec_sbuf_reset(&sb);
        lec_codec_encode_heartbeat(&h, &in, &sb);
        assert_int_equal(lec_codec_decode_heartbeat((const uint8_t *)sb.data, sb.len, &ho, &out),
                         LEC_ERR_INVAL);
    }
    lec_sbuf_free(&sb);
}

static lec_track_info video_track(void)
{
    lec_track_info t;
    memset(&t, 0, sizeof t);
    snprintf(t.mid, sizeof t.mid, "1");
    t.kind = LEC_TRACK_VIDEO;
    snprintf(t.codec, sizeof t.codec, "H264");
    t.payload_type = 102;
    t.clock_rate = 90000;
    snprintf(t.fmtp, sizeof t.fmtp,
             "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
    t.ssrcs[0] = 111;
    t.ssrcs[1] = 222;
    t.nssrcs = 2;
    snprintf(t.rids[0], sizeof t.rids[0], "h");
    snprintf(t.rids[1], sizeof t.rids[1], "l");
    t.nrids = 2;
    t.rtx_payload_type = 103;
    return t;
}

static void test_stream_event(void **state)
{
    (void)state;
    lec_stream_event in;
    memset(&in, 0, sizeof in);
    snprintf(in.stream, sizeof in.stream, "class-1");
    in.type = LEC_STREAM_STARTED;
    snprintf(in.node_id, sizeof in.node_id, "origin-1");
    in.tracks[0] = video_track();
    in.ntracks = 1;
    lec_msg_header h = hdr(1), ho;
    lec_sbuf sb;
    lec_sbuf_init(&sb, NULL);
    assert_int_equal(lec_codec_encode_stream_event(&h, &in, &sb), 0);
    lec_stream_event out;
    assert_int_equal(lec_codec_decode_stream_event((const uint8_t *)sb.data, sb.len, &ho, &out), 0);
    assert_int_equal(out.type, LEC_STREAM_STARTED);
    assert_int_equal(out.ntracks, 1);
    assert_string_equal(out.tracks[0].codec, "H264");
    assert_int_equal(out.tracks[0].nssrcs, 2);
    assert_int_equal(out.tracks[0].ssrcs[1], 222);
    assert_string_equal(out.tracks[0].rids[1], "l");
    assert_int_equal(out.tracks[0].rtx_payload_type, 103);
    assert_string_equal(out.tracks[0].fmtp, in.tracks[0].fmtp);
    lec_sbuf_free(&sb);
}

static void test_relay(void **state)
{
    (void)state;
    lec_msg_header h = hdr(1), ho;
    lec_sbuf sb;
    lec_sbuf_init(&sb, NULL);

    lec_relay_open o;
    memset(&o, 0, sizeof o);
    snprintf(o.stream, sizeof o.stream, "class-1");
    snprintf(o.requester_id, sizeof o.requester_id, "edge-us-1");
    snprintf(o.requester_relay_addr, sizeof o.requester_relay_addr, "198.51.100.20:7000");
    o.leg_id = 9;
    o.profiles[0] = LEC_SRTP_AEAD_AES_128_GCM;
    o.profiles[1] = LEC_SRTP_AES_CM_128_HMAC_SHA1_80;
    o.nprofiles = 2;
    assert_int_equal(lec_codec_encode_relay_open(&h, &o, &sb), 0);
    lec_relay_open oo;
    assert_int_equal(lec_codec_decode_relay_open((const uint8_t *)sb.data, sb.len, &ho, &oo), 0);
    assert_string_equal(oo.requester_relay_addr, "198.51.100.20:7000");
    assert_int_equal(oo.nprofiles, 2);
    assert_int_equal(oo.profiles[0], LEC_SRTP_AEAD_AES_128_GCM);
    assert_true(oo.leg_id == 9);

    lec_relay_opened r;
    memset(&r, 0, sizeof r);
    snprintf(r.stream, sizeof r.stream, "class-1");
    r.leg_id = 9;
    snprintf(r.source_id, sizeof r.source_id, "origin-1");
    snprintf(r.source_relay_addr, sizeof r.source_relay_addr, "203.0.113.10:7000");
    r.tracks[0] = video_track();
    r.ntracks = 1;
    r.profile = LEC_SRTP_AEAD_AES_128_GCM;
    for (int i = 0; i < 28; i++)
        r.key_down[i] = (uint8_t)i, r.key_up[i] = (uint8_t)(100 + i);
    r.key_down_len = r.key_up_len = 28;
    r.depth = 1;
    lec_sbuf_reset(&sb);
    assert_int_equal(lec_codec_encode_relay_opened(&h, &r, &sb), 0);
    lec_relay_opened ro;
    assert_int_equal(lec_codec_decode_relay_opened((const uint8_t *)sb.data, sb.len, &ho, &ro), 0);
    assert_int_equal(ro.error, LEC_RELAY_OK);
    assert_int_equal(ro.key_down_len, 28);
    assert_memory_equal(ro.key_up, r.key_up, 28);
    assert_int_equal(ro.depth, 1);
    assert_string_equal(ro.tracks[0].mid, "1");

    lec_relay_close c = {.leg_id = 9};
    snprintf(c.stream, sizeof c.stream, "class-1");
    snprintf(c.node_id, sizeof c.node_id, "edge-us-1");
    lec_sbuf_reset(&sb);
    assert_int_equal(lec_codec_encode_relay_close(&h, &c, &sb), 0);
    lec_relay_close co;
    assert_int_equal(lec_codec_decode_relay_close((const uint8_t *)sb.data, sb.len, &ho, &co), 0);
    assert_string_equal(co.node_id, "edge-us-1");

    lec_ping p = {.nonce = 5, .mono_ns = 123456789}, po;
    lec_sbuf_reset(&sb);
    assert_int_equal(lec_codec_encode_ping(&h, &p, &sb), 0);
    assert_int_equal(lec_codec_decode_ping((const uint8_t *)sb.data, sb.len, &ho, &po), 0);
    assert_true(po.nonce == 5 && po.mono_ns == 123456789);
    lec_sbuf_reset(&sb);
    assert_int_equal(lec_codec_encode_pong(&h, &p, &sb), 0);
    assert_int_equal(lec_codec_decode_pong((const uint8_t *)sb.data, sb.len, &ho, &po), 0);
    assert_true(po.mono_ns == 123456789);
    lec_sbuf_free(&sb);
}

static void test_malformed(void **state)
{
    (void)state;
    lec_msg_header h;
    lec_node_info hb;
    lec_stream_event se;
    lec_relay_open ro;
    lec_relay_opened rd;
    lec_relay_close rc;
    lec_ping p;
    /* Not protobuf at all, truncated varints, a length past the end. */
    const char *junk[] = {"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", "\x0a\x7f", "\x12",
                          "hello world"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        const uint8_t *d = (const uint8_t *)junk[i];
        size_t n = strlen(junk[i]);
        assert_int_not_equal(lec_codec_decode_heartbeat(d, n, &h, &hb), 0);
        assert_int_not_equal(lec_codec_decode_stream_event(d, n, &h, &se), 0);
        assert_int_not_equal(lec_codec_decode_relay_open(d, n, &h, &ro), 0);
        assert_int_not_equal(lec_codec_decode_relay_opened(d, n, &h, &rd), 0);
        assert_int_not_equal(lec_codec_decode_relay_close(d, n, &h, &rc), 0);
        assert_int_not_equal(lec_codec_decode_ping(d, n, &h, &p), 0);
    }
    /* Empty bytes decode as an empty message: no header, so malformed. */
    assert_int_equal(lec_codec_decode_heartbeat((const uint8_t *)"", 0, &h, &hb), LEC_ERR_INVAL);
    assert_int_equal(lec_codec_decode_ping((const uint8_t *)"", 0, &h, &p), LEC_ERR_INVAL);
    /* A string longer than its field. */
    lec_stream_event ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.stream, sizeof ev.stream, "s");
    ev.type = LEC_STREAM_STARTED;
    ev.ntracks = 1;
    memset(ev.tracks[0].fmtp, 'x', sizeof ev.tracks[0].fmtp - 1);
    lec_msg_header hh = hdr(1);
    lec_sbuf sb;
    lec_sbuf_init(&sb, NULL);
    assert_int_equal(lec_codec_encode_stream_event(&hh, &ev, &sb), 0);
    assert_int_equal(lec_codec_decode_stream_event((const uint8_t *)sb.data, sb.len, &h, &se), 0);
    lec_sbuf_free(&sb);
    /* Handcrafted with protobuf-c: a 300-byte fmtp (over its 255) and 17
     * tracks (over 16) are both malformed. */
    char fmtp[301];
    memset(fmtp, 'y', 300);
    fmtp[300] = '\0';
    static char sender[] = "origin-1", sname[] = "s", ok[] = "ok";
    Lectern__V1__Header ph;
    lectern__v1__header__init(&ph);
    ph.version = 1;
    ph.sender_id = sender;
    Lectern__V1__Track t;
    lectern__v1__track__init(&t);
    t.fmtp = fmtp;
    Lectern__V1__Track *tp[17];
    for (int i = 0; i < 17; i++)
        tp[i] = &t;
    Lectern__V1__StreamEvent m;
    lectern__v1__stream_event__init(&m);
    m.header = &ph;
    m.stream = sname;
    m.type = LECTERN__V1__STREAM_EVENT_TYPE__STREAM_EVENT_TYPE_STARTED;
    m.n_tracks = 1;
    m.tracks = tp;
    uint8_t buf[8192];
    size_t n = lectern__v1__stream_event__pack(&m, buf);
    assert_int_equal(lec_codec_decode_stream_event(buf, n, &h, &se), LEC_ERR_INVAL);
    t.fmtp = ok;
    m.n_tracks = 17;
    n = lectern__v1__stream_event__pack(&m, buf);
    assert_int_equal(lec_codec_decode_stream_event(buf, n, &h, &se), LEC_ERR_INVAL);
    m.n_tracks = 16;
    n = lectern__v1__stream_event__pack(&m, buf);
    assert_int_equal(lec_codec_decode_stream_event(buf, n, &h, &se), 0);
    assert_false(lec_codec_valid_token("a.b"));
    assert_false(lec_codec_valid_token(""));
    assert_false(lec_codec_valid_token("*"));
    assert_false(lec_codec_valid_token(">"));
    assert_true(lec_codec_valid_token("edge-us_1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heartbeat),
        cmocka_unit_test(test_stream_event),
        cmocka_unit_test(test_relay),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
