/* SDP parsing, writing and answering, with offers as real clients send
 * them, and the ways a hostile offer goes wrong. */
#include "testdata.h"
#include "offers.h"
#include "base/err.h"
#include "sdp/negotiate.h"
#include "sdp/sdp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const EXTS[] = {"urn:ietf:params:rtp-hdrext:sdes:mid",
                                   "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
                                   "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", NULL};
static const char *const CANDS[] = {"1 1 udp 2130706431 127.0.0.1 20000 typ host", NULL};
#define FP                                                                                         \
    "sha-256 "                                                                                     \
    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:"   \
    "88:99"

static lec_sdp_answer_opts whip_opts(void)
{
    lec_sdp_answer_opts o = {
        .dir = LEC_SDP_RECVONLY,
        .ice_ufrag = "lect",
        .ice_pwd = "0123456789abcdefghijklmn",
        .fingerprint = FP,
        .candidates = CANDS,
        .fb_allowed = LEC_FB_NACK | LEC_FB_PLI | LEC_FB_FIR,
        .extmaps = EXTS,
        .accept_simulcast = 3,
        .sess_id = 42,
    };
    return o;
}

static lec_sdp *parse_ok(const char *text)
{
    lec_sdp *s = calloc(1, sizeof *s);
    char err[256];
    int rc = lec_sdp_parse(text, strlen(text), s, err, sizeof err);
    if (rc)
        fail_msg("parse failed: %s", err);
    return s;
}

static void test_parse_chrome(void **state)
{
    (void)state;
    lec_sdp *s = parse_ok(CHROME_WHIP_OFFER);
    assert_int_equal(s->nmedia, 2);
    assert_int_equal(s->nbundle, 2);
    assert_true(s->sess_id == 4611731400430051336ULL);
    lec_sdp_media *a = &s->media[0], *v = &s->media[1];
    assert_int_equal(a->kind, LEC_SDP_AUDIO);
    assert_int_equal(a->dir, LEC_SDP_SENDONLY);
    assert_true(a->rtcp_mux && a->rtcp_rsize);
    assert_string_equal(lec_sdp_ufrag(s, a), "Xk3r");
    assert_int_equal(a->ncodecs, 8);
    assert_string_equal(a->codecs[0].name, "opus");
    assert_int_equal(a->codecs[0].channels, 2);
    assert_int_equal(a->codecs[0].fb, LEC_FB_TRANSPORT_CC);
    assert_int_equal(a->nssrcs, 1);
    assert_string_equal(a->ssrcs[0].cname, "abcdEFGH");
    assert_int_equal(v->ncodecs, 10);
    assert_int_equal(v->codecs[0].fb,
                     LEC_FB_NACK | LEC_FB_PLI | LEC_FB_FIR | LEC_FB_REMB | LEC_FB_TRANSPORT_CC);
    assert_int_equal(v->codecs[1].rtx_apt, 96);
    assert_int_equal(v->nrids, 2);
    assert_string_equal(v->rids[1].params, "max-width=320");
    assert_string_equal(v->simulcast, "send h;l");
    assert_int_equal(v->nextmaps, 7);
    uint8_t fp[32];
    assert_int_equal(lec_sdp_fingerprint_parse(lec_sdp_fingerprint(s, v), fp, sizeof fp), 32);
    assert_int_equal(fp[0], 0x0f);
    assert_int_equal(fp[31], 0x8e);
    free(s);
}

static void test_answer_chrome_whip(void **state)
{
    (void)state;
    lec_sdp *offer = parse_ok(CHROME_WHIP_OFFER);
    lec_sdp *ans = calloc(1, sizeof *ans);
    lec_sdp_answer_opts o = whip_opts();
    char err[256];
    assert_int_equal(lec_sdp_answer(offer, &o, ans, err, sizeof err), 0);
    assert_true(ans->ice_lite);
    assert_int_equal(ans->nbundle, 2);
    lec_sdp_media *a = &ans->media[0], *v = &ans->media[1];
    assert_int_equal(a->dir, LEC_SDP_RECVONLY);
    assert_int_equal(a->setup, LEC_SDP_SETUP_PASSIVE);
    assert_int_equal(a->ncodecs, 1);
    assert_string_equal(a->codecs[0].name, "opus");
    assert_int_equal(a->codecs[0].fb, 0); /* transport-cc not implemented: not negotiated */
    /* Video: the offerer's first acceptable codec (VP8) and its RTX only. */
    assert_int_equal(v->ncodecs, 2);
    assert_string_equal(v->codecs[0].name, "VP8");
    assert_int_equal(v->codecs[0].fb, LEC_FB_NACK | LEC_FB_PLI | LEC_FB_FIR);
    assert_int_equal(v->codecs[1].pt, 97);
    /* Only the extensions we implement, with the offer's ids. */
    assert_int_equal(v->nextmaps, 3);
    assert_int_equal(v->extmaps[0].id, 2);
    assert_int_equal(v->extmaps[1].id, 4);
    assert_int_equal(v->extmaps[2].id, 10); /* the rid: simulcast needs it */
    assert_string_equal(v->simulcast, "recv h;l");
    assert_false(v->rids[0].send);

    lec_sbuf out;
    lec_sbuf_init(&out, NULL);
    lec_sdp_write(ans, &out);
    assert_contains(out.data, "a=group:BUNDLE 0 1\r\n");
    assert_contains(out.data, "a=ice-lite\r\n");
    assert_contains(out.data, "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n");
    assert_contains(out.data, "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n");
    assert_contains(out.data, "a=setup:passive\r\n");
    assert_contains(out.data, "a=candidate:1 1 udp 2130706431 127.0.0.1 20000 typ host\r\n");
    assert_contains(out.data, "a=simulcast:recv h;l\r\n");
    assert_contains(out.data, "a=fingerprint:" FP "\r\n");
    /* What we write parses back to the same answer. */
    lec_sdp *again = parse_ok(out.data);
    assert_int_equal(again->nmedia, 2);
    assert_string_equal(again->media[1].codecs[0].name, "VP8");
    assert_string_equal(lec_sdp_pwd(again, &again->media[0]), "0123456789abcdefghijklmn");
    lec_sbuf_free(&out);
    free(offer);
    free(ans);
    free(again);
}

static void test_answer_obs_h264(void **state)
{
    (void)state;
    lec_sdp *offer = parse_ok(OBS_WHIP_OFFER);
    assert_string_equal(lec_sdp_ufrag(offer, &offer->media[1]), "zqo7"); /* session level */
    assert_int_equal(offer->media[0].ncandidates, 1);
    assert_true(offer->media[0].end_of_candidates);
    lec_sdp *ans = calloc(1, sizeof *ans);
    lec_sdp_answer_opts o = whip_opts();
    assert_int_equal(lec_sdp_answer(offer, &o, ans, NULL, 0), 0);
    assert_string_equal(ans->media[1].codecs[0].name, "H264");
    assert_int_equal(ans->media[1].codecs[0].pt, 96);
    free(offer);
    free(ans);
}

/* OBS publishing three H.264 layers, answered as lec_sfu_publish does:
 * all three received (a=rid recv, a=simulcast recv in the offer's order),
 * with the rid extensions that name each packet's layer, and transport-cc;
 * a node that declines simulcast answers no a=simulcast and no rids (RFC
 * 8853 5.3), so the encoder sends a single stream. */
static void test_answer_obs_simulcast(void **state)
{
    (void)state;
    lec_sdp *offer = parse_ok(OBS_SIMULCAST_OFFER);
    assert_int_equal(offer->media[1].nrids, 3);
    assert_string_equal(offer->media[1].simulcast, "send 0;1;2");
    lec_sdp *ans = calloc(1, sizeof *ans);
    lec_sdp_answer_opts o = whip_opts();
    static const char *const exts[] = {
        "urn:ietf:params:rtp-hdrext:sdes:mid",
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
        "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
        "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id", NULL};
    o.extmaps = exts;
    o.fb_allowed |= LEC_FB_TRANSPORT_CC;
    assert_int_equal(lec_sdp_answer(offer, &o, ans, NULL, 0), 0);
    const lec_sdp_media *v = &ans->media[1];
    assert_int_equal(v->port, 9);
    assert_string_equal(v->codecs[0].name, "H264");
    assert_int_equal(v->nrids, 3);
    assert_string_equal(v->simulcast, "recv 0;1;2");
    assert_true(v->codecs[0].fb & LEC_FB_TRANSPORT_CC);
    assert_int_equal(v->nextmaps, 4);
    lec_sbuf out;
    lec_sbuf_init(&out, NULL);
    lec_sdp_write(ans, &out);
    assert_contains(out.data, "a=rid:0 recv\r\na=rid:1 recv\r\na=rid:2 recv\r\n");
    assert_contains(out.data, "a=simulcast:recv 0;1;2\r\n");
    assert_contains(out.data, "a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n");
    assert_contains(out.data, "a=rtcp-fb:96 transport-cc\r\n");
    lec_sbuf_free(&out);

    o.accept_simulcast = 0;
    assert_int_equal(lec_sdp_answer(offer, &o, ans, NULL, 0), 0);
    assert_int_equal(ans->media[1].nrids, 0);
    assert_string_equal(ans->media[1].simulcast, "");
    lec_sbuf_init(&out, NULL);
    lec_sdp_write(ans, &out);
    assert_null(strstr(out.data, "a=simulcast"));
    assert_null(strstr(out.data, "a=rid"));
    lec_sbuf_free(&out);
    free(offer);
    free(ans);
}

/* RFC 8853's syntax: a paused stream (~) is taken, of alternatives (,) the
 * first, a rid without its a=rid send line is not, and at most the cap. */
static void test_answer_simulcast_syntax(void **state)
{
    (void)state;
    static const char sdp_text[] =
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
        "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n"
        "a=fingerprint:sha-256 "
        "A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n"
        "a=rtpmap:96 VP8/90000\r\na=extmap:9 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
        "a=rid:lo send max-width=320\r\na=rid:mid send\r\na=rid:x recv\r\na=rid:hi send\r\n"
        "a=simulcast:send ~lo;x;mid,hi;hi;ghost recv z\r\n";
    lec_sdp *offer = parse_ok(sdp_text);
    lec_sdp *ans = calloc(1, sizeof *ans);
    lec_sdp_answer_opts o = whip_opts();
    assert_int_equal(lec_sdp_answer(offer, &o, ans, NULL, 0), 0);
    const lec_sdp_media *v = &ans->media[0];
    assert_string_equal(v->simulcast, "recv lo;mid;hi");
    assert_int_equal(v->nrids, 3);
    assert_string_equal(v->rids[0].params, "");
    o.accept_simulcast = 2;
    assert_int_equal(lec_sdp_answer(offer, &o, ans, NULL, 0), 0);
    assert_string_equal(ans->media[0].simulcast, "recv lo;mid");
    /* Without the rid extension answered, layers could not be told
     * apart: no simulcast. */
    static const char *const no_rid[] = {"urn:ietf:params:rtp-hdrext:sdes:mid", NULL};
    o.extmaps = no_rid;
    assert_int_equal(lec_sdp_answer(offer, &o, ans, NULL, 0), 0);
    assert_string_equal(ans->media[0].simulcast, "");
    assert_int_equal(ans->media[0].nrids, 0);
    free(offer);
    free(ans);
}

static void test_answer_whep_maps_payload_types(void **state)
{
    (void)state;
    /* The publisher sends H.264 42e01f as pt 102; the viewer calls it 127. */
    lec_sdp_codec src = {.pt = 102,
                         .name = "H264",
                         .clock_rate = 90000,
                         .fmtp = "packetization-mode=1;profile-level-id=42e01f",
                         .rtx_apt = -1};
    lec_sdp_codec opus = {
        .pt = 111, .name = "opus", .clock_rate = 48000, .channels = 2, .rtx_apt = -1};
    lec_sdp *offer = parse_ok(CHROME_WHEP_OFFER);
    lec_sdp *ans = calloc(1, sizeof *ans);
    lec_sdp_answer_opts o = whip_opts();
    o.dir = LEC_SDP_SENDONLY;
    o.source_video = &src;
    o.source_audio = &opus;
    assert_int_equal(lec_sdp_answer(offer, &o, ans, NULL, 0), 0);
    assert_int_equal(ans->media[1].dir, LEC_SDP_SENDONLY);
    assert_int_equal(ans->media[1].codecs[0].pt, 127);
    assert_int_equal(ans->media[1].codecs[1].pt, 125); /* its RTX */
    /* A profile the viewer does not offer: no codec in common. */
    snprintf(src.fmtp, sizeof src.fmtp, "packetization-mode=1;profile-level-id=640c1f");
    ans->media[0].dir = LEC_SDP_SENDONLY;
    o.source_audio = NULL;
    char err[256];
    assert_int_equal(lec_sdp_answer(offer, &o, ans, err, sizeof err), 0); /* audio still works */
    assert_int_equal(ans->media[1].port, 0);                              /* video rejected */
    o.source_audio = &src; /* and now audio cannot match either */
    assert_int_equal(lec_sdp_answer(offer, &o, ans, err, sizeof err), LEC_ERR_UNSUPPORTED);
    assert_contains(err, "no codec in common: offered opus, VP8, H264");
    free(offer);
    free(ans);
}

static void test_h264_match(void **state)
{
    (void)state;
    lec_sdp_codec a = {.name = "H264",
                       .clock_rate = 90000,
                       .fmtp = "profile-level-id=42e01f;packetization-mode=1"};
    lec_sdp_codec b = {.name = "h264",
                       .clock_rate = 90000,
                       .fmtp = "packetization-mode=1;profile-level-id=42E034"};
    lec_sdp_codec c = {.name = "H264", .clock_rate = 90000, .fmtp = "profile-level-id=42e01f"};
    assert_true(lec_sdp_codec_match(&a, &b));  /* level differs: still a match */
    assert_false(lec_sdp_codec_match(&a, &c)); /* packetization mode differs */
}

/* H.264 profiles by profile_idc and constraint flags (RFC 6184 table 5). */
static void test_h264_profiles(void **state)
{
    (void)state;
    uint8_t level = 0;
    assert_int_equal(lec_sdp_h264_profile("profile-level-id=42e01f", &level),
                     LEC_H264_CONSTRAINED_BASELINE);
    assert_int_equal(level, 0x1f);
    assert_int_equal(lec_sdp_h264_profile("profile-level-id=42C01E", NULL),
                     LEC_H264_CONSTRAINED_BASELINE); /* x264 */
    assert_int_equal(lec_sdp_h264_profile("profile-level-id=4d801f", NULL),
                     LEC_H264_CONSTRAINED_BASELINE);
    assert_int_equal(lec_sdp_h264_profile("profile-level-id=42001f", NULL), LEC_H264_BASELINE);
    assert_int_equal(lec_sdp_h264_profile("packetization-mode=1", &level), LEC_H264_BASELINE);
    assert_int_equal(level, 0x10); /* absent: 420010 */
    assert_int_equal(lec_sdp_h264_profile("profile-level-id=4d001f", NULL), LEC_H264_MAIN);
    assert_int_equal(lec_sdp_h264_profile("profile-level-id=640c1f", NULL),
                     LEC_H264_CONSTRAINED_HIGH);
    assert_int_equal(lec_sdp_h264_profile("profile-level-id=64001f", NULL), LEC_H264_HIGH);
    assert_int_equal(lec_sdp_h264_profile("profile-level-id=zz001f", NULL), LEC_H264_UNKNOWN);
    assert_int_equal(lec_sdp_h264_profile("profile-level-id=42e0", NULL), LEC_H264_UNKNOWN);
#define H(f) {.name = "H264", .clock_rate = 90000, .fmtp = "packetization-mode=1;" f}
    lec_sdp_codec x264 = H("profile-level-id=42c01e"), chrome_cb = H("profile-level-id=42e01f"),
                  base = H("profile-level-id=42001f"), main_ = H("profile-level-id=4d001f"),
                  ch = H("profile-level-id=640c1f"), high = H("profile-level-id=64001f"),
                  absent = H("level-asymmetry-allowed=1");
#undef H
    /* (viewer's offer, publisher's): does the viewer decode it? */
    assert_true(lec_sdp_codec_match(&chrome_cb, &x264)); /* the case */
    assert_true(lec_sdp_codec_match(&base, &x264));      /* CB is Baseline */
    assert_true(lec_sdp_codec_match(&main_, &x264));     /* and Main */
    assert_false(lec_sdp_codec_match(&chrome_cb, &base)); /* Baseline is not CB */
    assert_true(lec_sdp_codec_match(&absent, &base));     /* absent: Baseline */
    assert_true(lec_sdp_codec_match(&high, &ch));
    assert_false(lec_sdp_codec_match(&ch, &high));
    assert_false(lec_sdp_codec_match(&chrome_cb, &high));
}

/* GStreamer's stock max-bundle offer: the bundle-only audio section is
 * answered, not rejected. */
static void test_answer_bundle_only(void **state)
{
    (void)state;
    lec_sdp *offer = parse_ok(GST_WHIP_OFFER), *ans = calloc(1, sizeof *ans);
    assert_true(offer->media[1].bundle_only);
    assert_int_equal(offer->media[1].port, 0);
    lec_sdp_answer_opts o = whip_opts();
    char err[256];
    assert_int_equal(lec_sdp_answer(offer, &o, ans, err, sizeof err), 0);
    assert_int_equal(ans->nmedia, 2);
    assert_int_not_equal(ans->media[0].port, 0);
    assert_string_equal(ans->media[0].codecs[0].name, "H264");
    assert_int_not_equal(ans->media[1].port, 0); /* was: m=audio 0, no audio */
    assert_string_equal(ans->media[1].codecs[0].name, "OPUS");
    assert_int_equal(ans->nbundle, 2);
    /* A publisher whose only video codec we cannot take (H.264 in single
     * NAL mode): refused with why, not 201 with the camera dropped. */
    char *text = strdup(GST_WHIP_OFFER), *pm = strstr(text, "packetization-mode=1");
    pm[19] = '0';
    lec_sdp *single = parse_ok(text);
    assert_int_equal(lec_sdp_answer(single, &o, ans, err, sizeof err), LEC_ERR_UNSUPPORTED);
    assert_contains(err, "the video cannot be published: no codec we take: offered H264");
    /* A viewer (WHEP) of an H.264 stream offering only VP8: its audio is
     * answered, its video refused with the reason kept. */
    lec_sdp_codec h264 = {.pt = 102, .name = "H264", .clock_rate = 90000,
                          .fmtp = "packetization-mode=1;profile-level-id=42c01f"};
    lec_sdp_codec opus = {.pt = 111, .name = "opus", .clock_rate = 48000, .channels = 2};
    lec_sdp *view = parse_ok(CHROME_WHEP_OFFER);
    for (unsigned i = 0; i < view->nmedia; i++) /* keep only VP8 in its video */
        if (view->media[i].kind == LEC_SDP_VIDEO)
            for (unsigned k = 0; k < view->media[i].ncodecs; k++)
                if (strcasecmp(view->media[i].codecs[k].name, "VP8"))
                    strcpy(view->media[i].codecs[k].name, "X-NONE");
    lec_sdp_answer_opts w = whip_opts();
    w.dir = LEC_SDP_SENDONLY;
    w.source_audio = &opus;
    w.source_video = &h264;
    assert_int_equal(lec_sdp_answer(view, &w, ans, err, sizeof err), 0);
    bool video_refused = false;
    for (unsigned i = 0; i < ans->nmedia; i++)
        if (ans->media[i].kind == LEC_SDP_VIDEO) {
            assert_int_equal(ans->media[i].port, 0);
            assert_contains(ans->media[i].reason, "offered VP8");
            assert_contains(ans->media[i].reason, "the stream is H264");
            video_refused = true;
        }
    assert_true(video_refused);
    free(text);
    free(single);
    free(view);
    free(offer);
    free(ans);
}

/* Firefox's WHEP offer: opus and VP8 answered with its own numbers. */
static void test_answer_firefox(void **state)
{
    (void)state;
    lec_sdp *offer = parse_ok(FIREFOX_WHEP_OFFER), *ans = calloc(1, sizeof *ans);
    lec_sdp_answer_opts o = whip_opts();
    o.dir = LEC_SDP_SENDONLY;
    lec_sdp_codec vp8 = {.pt = 96, .name = "VP8", .clock_rate = 90000};
    lec_sdp_codec opus = {.pt = 111, .name = "opus", .clock_rate = 48000, .channels = 2};
    o.source_audio = &opus;
    o.source_video = &vp8;
    char err[256];
    assert_int_equal(lec_sdp_answer(offer, &o, ans, err, sizeof err), 0);
    assert_int_equal(ans->nmedia, 2);
    assert_int_equal(ans->media[0].codecs[0].pt, 109);
    assert_int_equal(ans->media[1].codecs[0].pt, 120);
    assert_string_equal(ans->media[1].codecs[0].name, "VP8");
    assert_int_equal(ans->media[1].codecs[1].pt, 124); /* its RTX */
    free(offer);
    free(ans);
}

/* A Safari-shaped viewer of x264's Constrained Baseline: answered with its
 * own CB entry (98) and its RTX, not the Constrained High it lists first;
 * of a Constrained High stream, with 96. */
static void test_answer_safari(void **state)
{
    (void)state;
    lec_sdp *offer = parse_ok(SAFARI_WHEP_OFFER), *ans = calloc(1, sizeof *ans);
    lec_sdp_answer_opts o = whip_opts();
    o.dir = LEC_SDP_SENDONLY;
    lec_sdp_codec cb = {.pt = 102, .name = "H264", .clock_rate = 90000,
                        .fmtp = "packetization-mode=1;profile-level-id=42c01e"};
    lec_sdp_codec opus = {.pt = 111, .name = "opus", .clock_rate = 48000, .channels = 2};
    o.source_audio = &opus;
    o.source_video = &cb;
    char err[256];
    assert_int_equal(lec_sdp_answer(offer, &o, ans, err, sizeof err), 0);
    assert_int_equal(ans->media[0].codecs[0].pt, 111); /* opus, not RED */
    assert_int_equal(ans->media[1].codecs[0].pt, 98);
    assert_int_equal(ans->media[1].codecs[1].pt, 99);
    lec_sdp_codec ch = {.pt = 102, .name = "H264", .clock_rate = 90000,
                        .fmtp = "packetization-mode=1;profile-level-id=640c1f"};
    o.source_video = &ch;
    assert_int_equal(lec_sdp_answer(offer, &o, ans, err, sizeof err), 0);
    assert_int_equal(ans->media[1].codecs[0].pt, 96);
    free(offer);
    free(ans);
}

static void test_rejects(void **state)
{
    (void)state;
    lec_sdp *offer = calloc(1, sizeof *offer), *ans = calloc(1, sizeof *ans);
    lec_sdp_answer_opts o = whip_opts();
    char err[256];
    /* A viewer offer (recvonly) sent to WHIP: nothing to ingest. */
    assert_int_equal(
        lec_sdp_parse(CHROME_WHEP_OFFER, strlen(CHROME_WHEP_OFFER), offer, err, sizeof err), 0);
    assert_int_equal(lec_sdp_answer(offer, &o, ans, err, sizeof err), LEC_ERR_UNSUPPORTED);
    /* Without BUNDLE, rtcp-mux, ICE or a sha-256 fingerprint: not WebRTC. */
    struct {
        const char *from, *to, *msg;
    } cases[] = {
        {"a=group:BUNDLE 0 1\n", "", "no a=group:BUNDLE"},
        {"a=rtcp-mux\n", "", "lacks a=rtcp-mux"},
        {"a=ice-pwd:3Fh0o5lbVv2rE8dV2s3bTT\n", "", "no ICE credentials"},
        {"a=fingerprint:sha-256", "a=fingerprint:sha-1", "no usable DTLS fingerprint"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[4096];
        const char *at = strstr(OBS_WHIP_OFFER, cases[i].from);
        assert_non_null(at);
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - OBS_WHIP_OFFER), OBS_WHIP_OFFER,
                 cases[i].to, at + strlen(cases[i].from));
        assert_int_equal(lec_sdp_parse(buf, strlen(buf), offer, err, sizeof err), 0);
        assert_int_equal(lec_sdp_answer(offer, &o, ans, err, sizeof err), LEC_ERR_INVAL);
        assert_contains(err, cases[i].msg);
    }
    free(offer);
    free(ans);
}

/* Chrome's WHEP offer with a data channel, as Chromium 156 writes it: the
 * application section last, in the BUNDLE group. */
static char *chrome_dc_offer(const char *proto_line)
{
    static const char app[] =
        "m=application 9 %s\r\n"
        "c=IN IP4 0.0.0.0\r\n"
        "a=ice-ufrag:v1ew\r\n"
        "a=ice-pwd:Ab3dE6fG9hIj2kLm5nOp8qRs\r\n"
        "a=ice-options:trickle\r\n"
        "a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:"
        "77:88:99:AA:BB:CC:DD:EE:FF:00\r\n"
        "a=setup:actpass\r\n"
        "a=mid:2\r\n"
        "a=sctp-port:5000\r\n"
        "a=max-message-size:262144\r\n";
    size_t cap = sizeof CHROME_WHEP_OFFER + sizeof app + 64;
    char *s = malloc(cap);
    const char *b = strstr(CHROME_WHEP_OFFER, "a=group:BUNDLE 0 1\r\n");
    assert_non_null(b);
    int n = snprintf(s, cap, "%.*sa=group:BUNDLE 0 1 2\r\n%s", (int)(b - CHROME_WHEP_OFFER),
                     CHROME_WHEP_OFFER, b + strlen("a=group:BUNDLE 0 1\r\n"));
    snprintf(s + n, cap - (size_t)n, app, proto_line);
    return s;
}

static void test_answer_data_channel(void **state)
{
    (void)state;
    char *text = chrome_dc_offer("UDP/DTLS/SCTP webrtc-datachannel");
    lec_sdp *offer = parse_ok(text), *ans = calloc(1, sizeof *ans);
    assert_int_equal(offer->nmedia, 3);
    assert_int_equal(offer->media[2].kind, LEC_SDP_APPLICATION);
    assert_string_equal(offer->media[2].sctp_port, "5000");
    assert_true(offer->media[2].has_max_message);
    assert_int_equal(offer->media[2].max_message, 262144);
    lec_sdp_answer_opts o = whip_opts();
    o.dir = LEC_SDP_SENDONLY;
    o.data_max_message = 16384;
    char err[256];
    assert_int_equal(lec_sdp_answer(offer, &o, ans, err, sizeof err), 0);
    assert_int_equal(ans->nbundle, 3);
    lec_sdp_media *d = &ans->media[2];
    assert_int_equal(d->port, 9);
    assert_string_equal(d->sctp_port, "5000");
    assert_int_equal(d->max_message, 16384);
    lec_sbuf out;
    lec_sbuf_init(&out, NULL);
    lec_sdp_write(ans, &out);
    assert_contains(out.data, "a=group:BUNDLE 0 1 2\r\n");
    assert_contains(out.data, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n");
    assert_contains(out.data, "a=mid:2\r\na=sctp-port:5000\r\na=max-message-size:16384\r\n");
    assert_contains(out.data, "a=setup:passive\r\n");
    lec_sdp *again = parse_ok(out.data);
    assert_int_equal(again->media[2].max_message, 16384);
    lec_sbuf_free(&out);
    free(again);

    /* Not served here: refused with why, the media still answered. */
    o.data_max_message = 0;
    assert_int_equal(lec_sdp_answer(offer, &o, ans, err, sizeof err), 0);
    assert_int_equal(ans->media[2].port, 0);
    assert_contains(ans->media[2].reason, "not served");
    assert_int_equal(ans->nbundle, 2);
    free(offer);
    free(text);

    /* The old draft syntax (DTLS/SCTP with a=sctpmap) is refused. */
    text = chrome_dc_offer("DTLS/SCTP 5000");
    offer = parse_ok(text);
    o.data_max_message = 16384;
    assert_int_equal(lec_sdp_answer(offer, &o, ans, err, sizeof err), 0);
    assert_int_equal(ans->media[2].port, 0);
    assert_contains(ans->media[2].reason, "RFC 8841");
    free(offer);
    free(text);
    /* A bad port or size is a malformed offer. */
    text = chrome_dc_offer("UDP/DTLS/SCTP webrtc-datachannel");
    char *at = strstr(text, "a=sctp-port:5000");
    memcpy(at, "a=sctp-port:0   ", 16);
    lec_sdp *bad = calloc(1, sizeof *bad);
    assert_int_equal(lec_sdp_parse(text, strlen(text), bad, err, sizeof err), LEC_ERR_INVAL);
    free(text);
    text = chrome_dc_offer("UDP/DTLS/SCTP webrtc-datachannel");
    at = strstr(text, "a=max-message-size:262144");
    memcpy(at, "a=max-message-size:-26214", 25);
    assert_int_equal(lec_sdp_parse(text, strlen(text), bad, err, sizeof err), LEC_ERR_INVAL);
    free(text);
    free(bad);
    free(ans);
}

/* A data channel alone is not a session: there is nothing to watch. */
static void test_answer_data_channel_alone(void **state)
{
    (void)state;
    static const char only[] =
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
        "a=ice-ufrag:v1ew\r\na=ice-pwd:Ab3dE6fG9hIj2kLm5nOp8qRs\r\n"
        "a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:"
        "77:88:99:AA:BB:CC:DD:EE:FF:00\r\na=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\n";
    lec_sdp *offer = parse_ok(only), *ans = calloc(1, sizeof *ans);
    lec_sdp_answer_opts o = whip_opts();
    o.data_max_message = 16384;
    char err[256];
    assert_int_equal(lec_sdp_answer(offer, &o, ans, err, sizeof err), LEC_ERR_UNSUPPORTED);
    free(offer);
    free(ans);
}

static void expect_parse_error(const char *text, int code, const char *msg)
{
    lec_sdp *s = calloc(1, sizeof *s);
    char err[256];
    assert_int_equal(lec_sdp_parse(text, strlen(text), s, err, sizeof err), code);
    assert_contains(err, msg);
    free(s);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_parse_error("", LEC_ERR_INVAL, "empty SDP");
    expect_parse_error("hello world\n", LEC_ERR_INVAL, "line 1: expected <type>=<value>");
    expect_parse_error("o=- 1 1 IN IP4 0.0.0.0\n", LEC_ERR_INVAL, "line 1: an SDP starts with v=0");
    expect_parse_error("v=0\nv=0\n", LEC_ERR_INVAL, "line 2: expected v=0 once");
    expect_parse_error("v=0\nm=video 9 RTP/SAVPF 300\n", LEC_ERR_INVAL,
                       "line 2: m=: payload type '300' is not 0-127");
    expect_parse_error("v=0\nm=video 9 RTP/SAVPF 96\n", LEC_ERR_INVAL,
                       "payload type 96 has no a=rtpmap");
    expect_parse_error("v=0\nm=video 9 RTP/SAVPF 96\na=rtpmap:97 VP8/90000\n", LEC_ERR_INVAL,
                       "line 3: a=rtpmap: payload type 97 is not on the m= line");
    expect_parse_error("v=0\nm=video 9 RTP/SAVPF 96\na=rtpmap:96 VP8/0\n", LEC_ERR_INVAL,
                       "bad clock rate");
    expect_parse_error("v=0\nm=video 99999 RTP/SAVPF 96\n", LEC_ERR_INVAL, "m=: bad port");
    expect_parse_error("v=0\nm=text 9 RTP/SAVPF 96\n", LEC_ERR_INVAL, "unknown media type 'text'");
    expect_parse_error("v=0\na=setup:sometimes\n", LEC_ERR_INVAL, "a=setup: expected actpass");
    expect_parse_error("v=0\nm=audio 9 RTP/SAVPF 0\na=extmap:15 urn:x\n", LEC_ERR_INVAL,
                       "a=extmap: id must be");
    expect_parse_error("v=0\nm=audio 9 RTP/SAVPF 0\na=rid:h sideways\n", LEC_ERR_INVAL,
                       "direction must be send or recv");
    expect_parse_error("v=0\na=ice-ufrag:x\x01y\n", LEC_ERR_INVAL, "control character");
    /* Limits: too many m= sections, payload types, candidates. */
    char big[8192] = "v=0\n";
    for (int i = 0; i <= LEC_SDP_MAX_MEDIA; i++)
        strcat(big, "m=audio 9 RTP/SAVPF 0\n");
    expect_parse_error(big, LEC_ERR_RANGE, "more than 8 m= sections");
    strcpy(big, "v=0\nm=video 9 RTP/SAVPF");
    for (int i = 0; i <= LEC_SDP_MAX_CODECS; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big), " %d", 96 + i % 30 + (i / 30) * 0);
    expect_parse_error(big, LEC_ERR_INVAL, "listed twice");
    strcpy(big, "v=0\nm=audio 9 RTP/SAVPF 0\n");
    for (int i = 0; i <= LEC_SDP_MAX_CANDIDATES; i++)
        strcat(big, "a=candidate:1 1 udp 1 192.0.2.1 1 typ host\n");
    expect_parse_error(big, LEC_ERR_RANGE, "more than 16 a=candidate");
    /* A field longer than its storage is refused, not cut. */
    char longpwd[400] = "v=0\na=ice-pwd:";
    memset(longpwd + strlen(longpwd), 'p', 200);
    expect_parse_error(longpwd, LEC_ERR_INVAL, "a=ice-pwd is longer than 127 bytes");
}

static void test_fmtp_and_fingerprint(void **state)
{
    (void)state;
    char v[32];
    assert_int_equal(lec_sdp_fmtp_get("minptime=10;useinbandfec=1", "useinbandfec", v, sizeof v),
                     1);
    assert_string_equal(v, "1");
    assert_int_equal(lec_sdp_fmtp_get("a=1; b=22", "b", v, sizeof v), 2);
    assert_int_equal(lec_sdp_fmtp_get("ab=1", "a", v, sizeof v), -1);
    uint8_t fp[32];
    assert_int_equal(lec_sdp_fingerprint_parse("sha-256 00:11", fp, sizeof fp), -1);
    assert_int_equal(lec_sdp_fingerprint_parse("sha-1 00:11:22", fp, sizeof fp), -1);
    assert_int_equal(lec_sdp_fingerprint_parse(FP, fp, sizeof fp), 32);
    assert_int_equal(lec_sdp_fingerprint_parse("sha-256 ZZ:11", fp, sizeof fp), -1);
}

/* Trickle PATCH bodies (RFC 8840): credentials, candidates, the cap. */
static void test_trickle_frag(void **state)
{
    (void)state;
    static lec_sdp_frag f;
    const char *body = "a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
                       "m=audio 9 RTP/AVP 0\r\na=mid:0\r\n"
                       "a=candidate:1 1 udp 2130706431 198.51.100.1 39132 typ host\r\n"
                       "a=end-of-candidates\r\n";
    lec_sdp_frag_parse(body, strlen(body), &f);
    assert_string_equal(f.ufrag, "EsAw");
    assert_string_equal(f.pwd, "P2uYro0UCOQ4zxjKXaWCBui1");
    assert_int_equal(f.ncandidates, 1);
    assert_string_equal(f.candidates[0], "1 1 udp 2130706431 198.51.100.1 39132 typ host");
    assert_true(f.end_of_candidates);
    /* 40 candidates and a line too long: 32 kept, the rest counted. */
    char big[8192] = "";
    for (int i = 0; i < 40; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big),
                 "a=candidate:%d 1 udp 1 198.51.100.1 %d typ host\n", i, 40000 + i);
    memset(big + strlen(big), 'x', 300);
    lec_sdp_frag_parse(big, strlen(big), &f);
    assert_int_equal(f.ncandidates, LEC_SDP_FRAG_CANDIDATES);
    assert_int_equal(f.dropped, 8);
    assert_false(f.end_of_candidates);
    assert_string_equal(f.ufrag, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_chrome),
        cmocka_unit_test(test_answer_chrome_whip),
        cmocka_unit_test(test_answer_obs_h264),
        cmocka_unit_test(test_answer_obs_simulcast),
        cmocka_unit_test(test_answer_simulcast_syntax),
        cmocka_unit_test(test_answer_whep_maps_payload_types),
        cmocka_unit_test(test_h264_match),
        cmocka_unit_test(test_h264_profiles),
        cmocka_unit_test(test_answer_bundle_only),
        cmocka_unit_test(test_answer_firefox),
        cmocka_unit_test(test_answer_safari),
        cmocka_unit_test(test_answer_data_channel),
        cmocka_unit_test(test_answer_data_channel_alone),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_fmtp_and_fingerprint),
        cmocka_unit_test(test_trickle_frag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
