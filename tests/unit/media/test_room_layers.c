/*
 * Simulcast in the room core (room.h), in virtual time.  A publisher
 * sends three VP8 layers (rids l, m, h: ~55 kbit/s, ~300 kbit/s, ~1
 * Mbit/s at 30 fps, a keyframe each second and on request) and opus;
 * viewers see one layer each:
 *  - packets are put on their layer by the rid extension, RTX by the
 *    repaired rid; a packet naming no layer is dropped and counted;
 *  - a viewer gets the highest layer by default, the one it pins, or the
 *    best that fits its estimate; with none that fits, audio only;
 *  - a switch happens at the new layer's keyframe (asked for on that
 *    layer's SSRC), and the viewer's SSRC, sequence numbers (no gap) and
 *    timestamps (never back) run on; with H.264, only at a keyframe whose
 *    SPS and PPS came first;
 *  - layers are ranked by what they carry, whatever the rids say;
 *  - a layer the encoder stops moves its viewers to one that sends;
 *  - NACKs from before a switch are not answered with the new layer;
 *  - a relay leg carries every layer, and the far room serves layers too;
 *  - a failover to another layout keeps the viewers' SSRCs and numbering.
 * Each viewer's layer from its own link's estimate: test_room_estimates.c
 * (the harness, room_layers_harness.h, is shared).
 */
#include "room_layers_harness.h"

/* A viewer gets the highest layer, one SSRC, every packet of it, in order. */
static void test_default_highest(void **state)
{
    (void)state;
    room_up("lmh");
    run(0, 500 * LEC_MS);
    add_viewer(&room, 1, 500 * LEC_MS);
    run(500 * LEC_MS, 3 * LEC_S);
    seen *s = &out.v[1];
    assert_int_equal(cur_rank(&room, 1), 2);
    assert_true(s->by_layer[2] > 250);
    assert_int_equal(s->by_layer[0] + s->by_layer[1], 0);
    assert_true(s->audio > 100);
    assert_smooth(s);
    assert_int_equal(room.stats.unknown_layer, 0);
    lec_room_layer_info li;
    assert_int_equal(lec_room_viewer_layer(&room, 1, now_, &li), 0);
    assert_int_equal(li.nlayers, 3);
    assert_string_equal(li.layers[0].rid, "l");
    assert_string_equal(li.layers[2].rid, "h");
    assert_true(li.layers[0].bps > 40000 && li.layers[0].bps < 80000);
    assert_true(li.layers[2].bps > 800000 && li.layers[2].bps < 1300000);
    lec_room_free(&room);
}

/* Pinned low, then high: each switch at the new layer's keyframe, asked
 * for on its SSRC; numbering runs on. */
static void test_pin_switches_at_keyframes(void **state)
{
    (void)state;
    room_up("lmh");
    run(0, 200 * LEC_MS);
    add_viewer(&room, 1, 200 * LEC_MS);
    add_viewer(&room, 2, 200 * LEC_MS);
    run(200 * LEC_MS, 1100 * LEC_MS);
    unsigned pli_low = out.pli[0];
    assert_int_equal(lec_room_viewer_set_layer(&room, 1, LEC_LAYER_LOW), 0);
    run(1100 * LEC_MS, 1500 * LEC_MS);
    assert_int_equal(cur_rank(&room, 1), 0); /* within the keyframe's round trip */
    assert_true(out.pli[0] > pli_low);
    assert_int_equal(cur_rank(&room, 2), 2); /* the other viewer stays */
    assert_int_equal(lec_room_viewer_set_layer(&room, 1, LEC_LAYER_MEDIUM), 0);
    run(1500 * LEC_MS, 2000 * LEC_MS);
    assert_int_equal(cur_rank(&room, 1), 1);
    assert_int_equal(lec_room_viewer_set_layer(&room, 1, LEC_LAYER_AUTO), 0);
    run(2000 * LEC_MS, 3000 * LEC_MS);
    assert_int_equal(cur_rank(&room, 1), 2);
    seen *s = &out.v[1];
    assert_int_equal(s->switches_seen, 3);
    assert_smooth(s);
    assert_smooth(&out.v[2]);
    assert_int_equal(out.v[2].switches_seen, 0);
    lec_room_layer_info li;
    assert_int_equal(lec_room_viewer_layer(&room, 1, now_, &li), 0);
    assert_int_equal(li.switches, 3);
    assert_int_equal(room.stats.layer_switches, 3);
    /* Keyframe requests stay coalesced: a few, not one per frame. */
    assert_true(out.pli[0] + out.pli[1] + out.pli[2] <= 6);
    lec_room_free(&room);
}

/* H.264: a switch happens only at a keyframe whose SPS and PPS came
 * first.  While the high layer's keyframes arrive with the IDR's first
 * fragment ahead of the STAP-A, a viewer pinned high stays on low (a
 * player switched at that IDR has no SPS: Chrome says "No PPS with id 0
 * received" and waits for another keyframe); once they come in order it
 * switches, and its first packet of the new layer is the STAP-A. */
static void test_h264_switch_waits_for_sps(void **state)
{
    (void)state;
    h264_mode = true;
    room_up("lmh");
    run(0, 300 * LEC_MS);
    add_viewer_pinned(&room, 1, LEC_LAYER_LOW, 300 * LEC_MS);
    run(300 * LEC_MS, LEC_S);
    assert_int_equal(cur_rank(&room, 1), 0);
    idr_first[2] = true;
    unsigned pli_high = out.pli[2];
    assert_int_equal(lec_room_viewer_set_layer(&room, 1, LEC_LAYER_HIGH), 0);
    run(LEC_S, 2500 * LEC_MS);
    seen *s = &out.v[1];
    assert_true(out.pli[2] > pli_high);        /* keyframes were asked for, and came */
    assert_int_equal(cur_rank(&room, 1), 0);   /* none of them a place to switch */
    assert_int_equal(s->by_layer[2], 0);
    assert_true(s->by_layer[0] > 30);          /* low went on meanwhile */
    idr_first[2] = false;
    run(2500 * LEC_MS, 3500 * LEC_MS);
    assert_int_equal(cur_rank(&room, 1), 2);
    assert_true(s->by_layer[2] > 30);
    assert_int_equal(s->switches_seen, 1);
    assert_smooth(s); /* the switch's first packet was the STAP-A */
    h264_mode = false;
    lec_room_free(&room);
}

/* An estimate picks the best layer that fits with the audio; too low for
 * any: audio only; then back up. */
static void test_estimate_and_audio_first(void **state)
{
    (void)state;
    room_up("lmh");
    run(0, 1200 * LEC_MS);
    add_viewer(&room, 1, 1200 * LEC_MS);
    assert_int_equal(lec_room_viewer_set_estimate(&room, 1, 420000), 0);
    run(1200 * LEC_MS, 2000 * LEC_MS);
    assert_int_equal(cur_rank(&room, 1), 1);
    assert_int_equal(lec_room_viewer_set_estimate(&room, 1, 60000), 0);
    /* Too little for any layer: the smallest first, audio only once that
     * has lasted LEC_ROOM_PAUSE_AFTER. */
    run(2000 * LEC_MS, 2700 * LEC_MS);
    lec_room_layer_info li;
    assert_int_equal(lec_room_viewer_layer(&room, 1, now_, &li), 0);
    assert_false(li.paused);
    assert_int_equal(li.cur, 0);
    run(2700 * LEC_MS, 4300 * LEC_MS);
    assert_int_equal(lec_room_viewer_layer(&room, 1, now_, &li), 0);
    assert_true(li.paused);
    assert_int_equal(li.cur, -1);
    unsigned v = out.v[1].video, a = out.v[1].audio;
    run(4300 * LEC_MS, 5300 * LEC_MS);
    assert_int_equal(out.v[1].video, v); /* no video at all */
    assert_true(out.v[1].audio >= a + 45);  /* the teacher stays audible */
    /* Going up from audio only needs a margin: 1.05x the smallest layer
     * (with the audio) is not enough. */
    uint32_t tight = (uint32_t)((li.layers[0].bps + 45000) * 105 / 100);
    assert_int_equal(lec_room_viewer_set_estimate(&room, 1, tight), 0);
    run(5300 * LEC_MS, 5800 * LEC_MS);
    assert_int_equal(lec_room_viewer_layer(&room, 1, now_, &li), 0);
    assert_true(li.paused);
    assert_int_equal(out.v[1].video, v);
    assert_int_equal(lec_room_viewer_set_estimate(&room, 1, 5000000), 0);
    run(5800 * LEC_MS, 6300 * LEC_MS);
    assert_int_equal(cur_rank(&room, 1), 2);
    assert_smooth(&out.v[1]);
    lec_room_free(&room);
}

/* Rids listed biggest first (as some encoders do): the rates rank them. */
static void test_ranked_by_rate(void **state)
{
    (void)state;
    room_up("hml"); /* listed as if h were the smallest */
    run(0, 2500 * LEC_MS);
    add_viewer_pinned(&room, 1, LEC_LAYER_LOW, 2500 * LEC_MS);
    run(2500 * LEC_MS, 3500 * LEC_MS);
    assert_true(out.v[1].by_layer[0] > 20);
    assert_int_equal(out.v[1].by_layer[2], 0);
    lec_room_layer_info li;
    assert_int_equal(lec_room_viewer_layer(&room, 1, now_, &li), 0);
    assert_string_equal(li.layers[0].rid, "l");
    assert_string_equal(li.layers[2].rid, "h");
    lec_room_free(&room);
}

/* Where keyframes say the picture's size (VP8), size ranks the layers,
 * whatever their rates: the smallest picture sending the most stays low. */
static void test_ranked_by_size(void **state)
{
    (void)state;
    room_up("lmh");
    with_size = true;
    LPKTS[0] = 4, LPKTS[2] = 1; /* l carries the most */
    run(0, 2500 * LEC_MS);
    add_viewer_pinned(&room, 1, LEC_LAYER_HIGH, 2500 * LEC_MS);
    run(2500 * LEC_MS, 3500 * LEC_MS);
    assert_true(out.v[1].by_layer[2] > 20);
    assert_int_equal(out.v[1].by_layer[0] + out.v[1].by_layer[1], 0);
    assert_int_equal(room.tracks[3].area, 1280 * 720);
    lec_room_free(&room);
}

/* The encoder drops its top layer (short of uplink): its viewers move down
 * within about a second, and back when it returns. */
static void test_paused_layer(void **state)
{
    (void)state;
    room_up("lmh");
    run(0, 1200 * LEC_MS);
    add_viewer(&room, 1, 1200 * LEC_MS);
    run(1200 * LEC_MS, 2000 * LEC_MS);
    assert_int_equal(cur_rank(&room, 1), 2);
    layer_on[2] = false;
    run(2000 * LEC_MS, 3300 * LEC_MS);
    lec_room_layer_info li;
    assert_int_equal(lec_room_viewer_layer(&room, 1, now_, &li), 0);
    assert_false(li.layers[2].active);
    assert_int_equal(li.cur, 1);
    layer_on[2] = true;
    run(3300 * LEC_MS, 4000 * LEC_MS);
    assert_int_equal(cur_rank(&room, 1), 2);
    assert_smooth(&out.v[1]);
    lec_room_free(&room);
}

/* A NACK for what the viewer got before its switch is not answered (the
 * new layer's packet under that number would be other bytes); one after
 * is, from the layer it is on. */
static void test_nack_across_switch(void **state)
{
    (void)state;
    room_up("lmh");
    run(0, 1200 * LEC_MS);
    add_viewer(&room, 1, 1200 * LEC_MS);
    run(1200 * LEC_MS, 1500 * LEC_MS);
    uint16_t before = out.v[1].last_seq;
    lec_room_viewer_set_layer(&room, 1, LEC_LAYER_LOW);
    run(1500 * LEC_MS, 2000 * LEC_MS);
    assert_int_equal(cur_rank(&room, 1), 0);
    uint16_t after = out.v[1].last_seq;
    uint64_t rt = room.stats.retransmits;
    uint8_t b[64];
    uint16_t old[1] = {before};
    size_t n = lec_rtcp_build_nack(b, sizeof b, 9, out.v[1].ssrc, old, 1);
    lec_room_viewer_rtcp(&room, 1, b, n, now_);
    assert_int_equal(room.stats.retransmits, rt);
    uint16_t fresh[1] = {after};
    n = lec_rtcp_build_nack(b, sizeof b, 9, out.v[1].ssrc, fresh, 1);
    lec_room_viewer_rtcp(&room, 1, b, n, now_ + 100 * LEC_MS);
    assert_int_equal(room.stats.retransmits, rt + 1);
    lec_room_free(&room);
}

/* A packet on the video payload type with an SSRC and rid of no layer is
 * dropped and counted; RTX names its layer by the repaired rid. */
static void test_unknown_and_rtx(void **state)
{
    (void)state;
    room_up("lmh");
    run(0, 500 * LEC_MS);
    uint8_t b[300];
    size_t n = lec_rtp_write_header(b, VPT, false, 7, 0, 0xBAD);
    n = with_rid(b, RID_ID, 'z');
    memset(b + n, 0, 100);
    lec_room_publisher_rtp(&room, b, n + 100, now_);
    assert_int_equal(room.stats.unknown_layer, 1);
    /* A hole in layer m, filled by RTX that names it by repaired rid. */
    uint16_t skipped = lseq[1]++;
    run(500 * LEC_MS, 600 * LEC_MS);
    uint64_t repaired = room.stats.repaired;
    n = lec_rtp_write_header(b, RTXPT, false, 1, 0, 0x2222);
    n = with_rid(b, RRID_ID, 'm');
    b[n] = (uint8_t)(skipped >> 8);
    b[n + 1] = (uint8_t)skipped;
    memset(b + n + 2, 0x42, 100);
    b[n + 2] = 0x00, b[n + 3] = 0x01, b[n + 4] = 1;
    lec_room_publisher_rtp(&room, b, n + 102, now_);
    assert_int_equal(room.stats.repaired, repaired + 1);
    assert_int_equal(room.tracks[2].rtx_ssrc, 0x2222); /* audio is track 0 */
    lec_room_free(&room);
}

/* A relay leg carries all three layers (each on its own SSRC); the edge
 * room, told which SSRC is which layer, serves a viewer there the layer
 * it pins, and asks keyframes of that layer up the leg. */
static void test_leg_carries_layers(void **state)
{
    (void)state;
    room_up("lmh");
    uint32_t ls[LEC_ROOM_MAX_TRACKS] = {0xE0, 0xE1, 0xE2, 0xE3};
    assert_int_equal(lec_room_add_leg(&room, LEG, ls, 100, 0, false), 0);
    lec_room_track_spec specs[4] = {
        {.kind = LEC_SDP_AUDIO, .codec = room.tracks[0].codec},
        {.kind = LEC_SDP_VIDEO, .codec = room.tracks[1].codec, .rid = "l", .ssrc = 0xE1},
        {.kind = LEC_SDP_VIDEO, .codec = room.tracks[2].codec, .rid = "m", .ssrc = 0xE2},
        {.kind = LEC_SDP_VIDEO, .codec = room.tracks[3].codec, .rid = "h", .ssrc = 0xE3}};
    lec_room_io io = {send_rtp, send_rtcp, NULL, &edge};
    lec_room_init(&edge, &io, 778, 350 * LEC_MS);
    assert_int_equal(lec_room_set_track_specs(&edge, specs, 4), 0);
    assert_int_equal(edge.nlayers, 3);
    lec_room_set_upstream(&edge, true, 20 * LEC_MS);
    lec_room_publisher_ready(&edge, 0);
    out.edge = &edge;
    lec_room_viewer_ready(&room, LEG, 0);
    run(0, 1500 * LEC_MS);
    unsigned pli_low = out.pli[0];
    add_viewer_pinned(&edge, 1, LEC_LAYER_LOW, 1500 * LEC_MS);
    run(1500 * LEC_MS, 3000 * LEC_MS);
    assert_int_equal(cur_rank(&edge, 1), 0);
    assert_true(out.v[1].by_layer[0] > 20);
    assert_int_equal(out.v[1].by_layer[1] + out.v[1].by_layer[2], 0);
    assert_smooth(&out.v[1]);
    assert_int_equal(edge.stats.unknown_layer, 0);
    /* Its keyframe request went up the leg for layer l only. */
    lec_room_viewer_rtcp(&edge, 1, NULL, 0, now_);
    uint8_t b[32];
    size_t n = lec_rtcp_build_pli(b, sizeof b, 9, out.v[1].ssrc);
    unsigned pm = out.pli[1], ph = out.pli[2];
    lec_room_viewer_rtcp(&edge, 1, b, n, now_);
    run(3000 * LEC_MS, 3100 * LEC_MS);
    assert_true(out.pli[0] > pli_low);
    assert_int_equal(out.pli[1], pm);
    assert_int_equal(out.pli[2], ph);
    /* Every layer reached the edge room. */
    for (int l = 1; l <= 3; l++)
        assert_true(edge.tracks[l].received > 40);
    lec_room_free(&edge);
    lec_room_free(&room);
}

/* A failover to a source with another layout (one stream, then three
 * layers): the viewer keeps its SSRC and numbering, and gets a layer. */
static void test_layout_change_keeps_viewers(void **state)
{
    (void)state;
    room_up("lmh");
    const lec_sdp_codec opus = room.tracks[0].codec, vp8 = room.tracks[1].codec;
    lec_room_track_spec plain[2] = {{.kind = LEC_SDP_AUDIO, .codec = opus},
                                    {.kind = LEC_SDP_VIDEO, .codec = vp8}};
    assert_int_equal(lec_room_set_track_specs(&room, plain, 2), 0);
    assert_int_equal(room.nlayers, 0);
    layer_on[0] = layer_on[1] = false; /* one stream: h's SSRC */
    run(0, 300 * LEC_MS);
    add_viewer(&room, 1, 300 * LEC_MS);
    run(300 * LEC_MS, 1000 * LEC_MS);
    unsigned before = out.v[1].video;
    assert_true(before > 50);
    lec_room_track_spec layered[4] = {
        {.kind = LEC_SDP_AUDIO, .codec = opus},
        {.kind = LEC_SDP_VIDEO, .codec = vp8, .rid = "l", .ssrc = 0x10},
        {.kind = LEC_SDP_VIDEO, .codec = vp8, .rid = "m", .ssrc = 0x20},
        {.kind = LEC_SDP_VIDEO, .codec = vp8, .rid = "h", .ssrc = 0x30}};
    assert_int_equal(lec_room_set_track_specs(&room, layered, 4), 0);
    assert_int_equal(room.nlayers, 3);
    layer_on[0] = layer_on[1] = true;
    run(1000 * LEC_MS, 3000 * LEC_MS);
    assert_true(out.v[1].video > before + 100);
    assert_int_equal(cur_rank(&room, 1), 2);
    assert_int_equal(out.v[1].ssrcs_changed, 0);
    assert_int_equal(out.v[1].gaps, 0);
    assert_int_equal(out.v[1].backwards, 0);
    lec_room_free(&room);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_highest),
        cmocka_unit_test(test_pin_switches_at_keyframes),
        cmocka_unit_test(test_h264_switch_waits_for_sps),
        cmocka_unit_test(test_estimate_and_audio_first),
        cmocka_unit_test(test_ranked_by_rate),
        cmocka_unit_test(test_ranked_by_size),
        cmocka_unit_test(test_paused_layer),
        cmocka_unit_test(test_nack_across_switch),
        cmocka_unit_test(test_unknown_and_rtx),
        cmocka_unit_test(test_leg_carries_layers),
        cmocka_unit_test(test_layout_change_keeps_viewers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
