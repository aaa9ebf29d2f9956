/* The steering scorer as a pure function: positions, load, draining,
 * staleness, holding, measured RTTs, ties. */
#include "testdata.h"
#include "cluster/steer.h"

#include <stdio.h>
#include <string.h>

static const lec_steer_region REGIONS[] = {
    {"eu-central-1", 50.1, 8.7}, {"us-east-1", 39.0, -77.5}, {"ap-southeast-2", -33.9, 151.2}};

static lec_cluster view;
static uint64_t seq;

static void node(const char *id, lec_role role, const char *region, uint32_t viewers, bool draining,
                 lec_tstamp seen)
{
    lec_node_info i;
    memset(&i, 0, sizeof i);
    snprintf(i.id, sizeof i.id, "%s", id);
    snprintf(i.region, sizeof i.region, "%s", region);
    i.role = role;
    for (size_t k = 0; k < 3; k++)
        if (!strcmp(REGIONS[k].name, region))
            i.lat = REGIONS[k].lat, i.lon = REGIONS[k].lon;
    i.max_viewers = 100;
    i.load.viewers = viewers;
    i.draining = draining;
    i.boot_id = 1;
    i.seq = ++seq;
    lec_cluster_heartbeat(&view, &i, seen);
}

static lec_origin_viewers policy; /* own_region unless a test sets it */

static const char *best(double lat, double lon, const char *region, const char *stream)
{
    lec_steer_input in = {.origin_viewers = policy,
                          .view = &view,
                          .now = 10 * LEC_S,
                          .stream = stream,
                          .located = region == NULL,
                          .lat = lat,
                          .lon = lon,
                          .region = region,
                          .regions = REGIONS,
                          .nregions = 3};
    static lec_steer_choice out[8];
    size_t n = lec_steer_rank(&in, out, 8);
    return n ? out[0].node->info.id : "(none)";
}

static void setup_view(void)
{
    lec_cluster_free(&view);
    lec_cluster_init(&view, NULL, "me", 99, 3 * LEC_S);
    node("origin-eu", LEC_ROLE_ORIGIN, "eu-central-1", 0, false, 10 * LEC_S);
    node("edge-eu", LEC_ROLE_EDGE, "eu-central-1", 10, false, 10 * LEC_S);
    node("edge-us", LEC_ROLE_EDGE, "us-east-1", 10, false, 10 * LEC_S);
    node("edge-ap", LEC_ROLE_EDGE, "ap-southeast-2", 10, false, 10 * LEC_S);
}

static void test_nearest(void **state)
{
    (void)state;
    setup_view();
    assert_string_equal(best(50.1, 8.7, NULL, NULL), "edge-eu");    /* Frankfurt */
    assert_string_equal(best(38.9, -77.0, NULL, NULL), "edge-us");  /* Washington */
    assert_string_equal(best(-33.9, 151.2, NULL, NULL), "edge-ap"); /* Sydney */
    assert_string_equal(best(48.9, 2.35, NULL, NULL), "edge-eu");   /* Paris */
    assert_string_equal(best(-23.5, -46.6, NULL, NULL), "edge-us"); /* Sao Paulo */
    /* A region hint without coordinates uses the region's site. */
    assert_string_equal(best(0, 0, "ap-southeast-2", NULL), "edge-ap");
    assert_true(lec_steer_distance_km(50.1, 8.7, 39.0, -77.5) > 6500);
}

static void test_exclusions(void **state)
{
    (void)state;
    setup_view();
    node("edge-eu", LEC_ROLE_EDGE, "eu-central-1", 100, false, 10 * LEC_S); /* full */
    /* Spills to the origin of its own region (origin_viewers: own_region)... */
    assert_string_equal(best(50.1, 8.7, NULL, NULL), "origin-eu");
    /* ... or, where the origin keeps to ingest, to the next nearest edge. */
    policy = LEC_ORIGIN_VIEWERS_NEVER;
    assert_string_equal(best(50.1, 8.7, NULL, NULL), "edge-us");
    setup_view();
    node("edge-eu", LEC_ROLE_EDGE, "eu-central-1", 10, true, 10 * LEC_S); /* draining */
    assert_string_equal(best(50.1, 8.7, NULL, NULL), "edge-us");
    policy = LEC_ORIGIN_VIEWERS_OWN_REGION;
    /* Stale: last heard 3 s before `now` (more than 2 s). */
    lec_cluster_free(&view);
    lec_cluster_init(&view, NULL, "me", 99, 3 * LEC_S);
    node("edge-eu", LEC_ROLE_EDGE, "eu-central-1", 10, false, 7 * LEC_S);
    node("edge-us", LEC_ROLE_EDGE, "us-east-1", 10, false, 10 * LEC_S);
    assert_string_equal(best(50.1, 8.7, NULL, NULL), "edge-us");
    /* No edge at all: the origin serves. */
    lec_cluster_free(&view);
    lec_cluster_init(&view, NULL, "me", 99, 3 * LEC_S);
    node("origin-eu", LEC_ROLE_ORIGIN, "eu-central-1", 0, false, 10 * LEC_S);
    assert_string_equal(best(-33.9, 151.2, NULL, NULL), "origin-eu");
    node("origin-eu", LEC_ROLE_ORIGIN, "eu-central-1", 0, true, 10 * LEC_S);
}

static void test_load_and_holding(void **state)
{
    (void)state;
    lec_cluster_free(&view);
    lec_cluster_init(&view, NULL, "me", 99, 3 * LEC_S);
    /* Two edges in one region: the less loaded wins; above 85% sharply. */
    node("edge-a", LEC_ROLE_EDGE, "eu-central-1", 90, false, 10 * LEC_S);
    node("edge-b", LEC_ROLE_EDGE, "eu-central-1", 20, false, 10 * LEC_S);
    assert_string_equal(best(50.1, 8.7, NULL, NULL), "edge-b");
    /* An overloaded near edge loses to a far one: 95% costs ~240 ms. */
    node("edge-a", LEC_ROLE_EDGE, "eu-central-1", 95, false, 10 * LEC_S);
    node("edge-b", LEC_ROLE_EDGE, "us-east-1", 0, false, 10 * LEC_S);
    assert_string_equal(best(50.1, 8.7, NULL, NULL), "edge-b");
    /* Equal edges: the one holding the stream wins; else the id decides. */
    lec_cluster_free(&view);
    lec_cluster_init(&view, NULL, "me", 99, 3 * LEC_S);
    node("edge-2", LEC_ROLE_EDGE, "eu-central-1", 0, false, 10 * LEC_S);
    node("edge-1", LEC_ROLE_EDGE, "eu-central-1", 0, false, 10 * LEC_S);
    assert_string_equal(best(50.1, 8.7, NULL, "class"), "edge-1");
    lec_node_info i = lec_cluster_find(&view, "edge-2")->info;
    lec_cluster_held h = {.stream = "class", .depth = 1};
    i.streams = &h;
    i.nstreams = 1;
    i.seq = ++seq;
    lec_cluster_heartbeat(&view, &i, 10 * LEC_S);
    assert_string_equal(best(50.1, 8.7, NULL, "class"), "edge-2");
    /* The reason says why. */
    lec_steer_input in = {.view = &view,
                          .now = 10 * LEC_S,
                          .stream = "class",
                          .located = true,
                          .lat = 50.1,
                          .lon = 8.7,
                          .regions = REGIONS,
                          .nregions = 3};
    lec_steer_choice out[1];
    assert_int_equal(lec_steer_rank(&in, out, 1), 1); /* a full output keeps the best */
    assert_string_equal(out[0].node->info.id, "edge-2");
    assert_contains(out[0].reason, "holds the stream");
}

/* A fresh view: an idle eu edge, and a us edge with `viewers` of 100 that
 * measured its RTT to the eu edge as rtt_us. */
static void us_and_eu_edges(uint32_t viewers, uint32_t rtt_us)
{
    lec_cluster_free(&view);
    lec_cluster_init(&view, NULL, "me", 99, 3 * LEC_S);
    node("edge-eu", LEC_ROLE_EDGE, "eu-central-1", 0, false, 10 * LEC_S);
    lec_node_info us;
    memset(&us, 0, sizeof us);
    snprintf(us.id, sizeof us.id, "edge-us");
    snprintf(us.region, sizeof us.region, "us-east-1");
    us.role = LEC_ROLE_EDGE;
    us.lat = 39.0, us.lon = -77.5;
    us.max_viewers = 100;
    us.load.viewers = viewers;
    us.seq = ++seq;
    us.boot_id = 1;
    lec_cluster_rtt r = {"edge-eu", rtt_us};
    us.rtts = &r;
    us.nrtts = 1;
    lec_cluster_heartbeat(&view, &us, 10 * LEC_S); /* copies the RTTs */
}

static void test_measured_rtt(void **state)
{
    (void)state;
    /* The client is in us-east-1; the cluster measured us-east-1 <-> eu at
     * 300 ms (a bad day), so the eu edge is far in practice. */
    /* A us edge nearly full (+40 ms + 280 ms of load). */
    us_and_eu_edges(99, 300000);
    lec_steer_input in = {
        .view = &view, .now = 10 * LEC_S, .region = "us-east-1", .regions = REGIONS, .nregions = 3};
    lec_steer_choice out[4];
    assert_int_equal(lec_steer_rank(&in, out, 4), 2);
    /* Measured, not guessed: ~305 ms to eu (the geodesic guess is ~70). */
    assert_string_equal(out[0].node->info.id, "edge-eu");
    assert_contains(out[0].reason, "measured us-east-1-eu-central-1 300 ms");
    assert_true(out[0].latency_ms > 300);
    /* ... which still beats a 99%-full local edge (~5 + 320 ms of load). */
    assert_string_equal(out[1].node->info.id, "edge-us");
    assert_true(out[1].score > out[0].score);
}

static void test_measured_rtt_below_light(void **state)
{
    (void)state;
    /* Everything on one machine: eu <-> us "measures" 0.2 ms, which light
     * cannot do over 6,500 km.  The distance wins, so the us client still
     * goes to the us edge. */
    us_and_eu_edges(10, 200);
    lec_steer_input in = {
        .view = &view, .now = 10 * LEC_S, .region = "us-east-1", .regions = REGIONS, .nregions = 3};
    lec_steer_choice out[4];
    assert_int_equal(lec_steer_rank(&in, out, 4), 2);
    assert_string_equal(out[0].node->info.id, "edge-us");
    assert_contains(out[1].reason, " km");
    assert_true(out[1].latency_ms > 60);
}

/* The three-region example as the issue found it: the origin alone in
 * eu-central-1, edges in us-east-1 and ap-southeast-2. */
static void origin_eu_edges_us_ap(uint32_t origin_viewers)
{
    lec_cluster_free(&view);
    lec_cluster_init(&view, NULL, "me", 99, 3 * LEC_S);
    node("origin-eu", LEC_ROLE_ORIGIN, "eu-central-1", origin_viewers, false, 10 * LEC_S);
    node("edge-us", LEC_ROLE_EDGE, "us-east-1", 10, false, 10 * LEC_S);
    node("edge-ap", LEC_ROLE_EDGE, "ap-southeast-2", 10, false, 10 * LEC_S);
}

static void test_origin_viewers(void **state)
{
    (void)state;
    /* own_region (the default): a Frankfurt client stays in Frankfurt while
     * the origin has room, located or by its region... */
    policy = LEC_ORIGIN_VIEWERS_OWN_REGION;
    origin_eu_edges_us_ap(0);
    assert_string_equal(best(50.1, 8.7, NULL, NULL), "origin-eu");
    assert_string_equal(best(0, 0, "eu-central-1", NULL), "origin-eu");
    assert_string_equal(best(48.9, 2.35, NULL, NULL), "origin-eu"); /* Paris: nearest is eu */
    /* ... and others go to their edges, even when the origin is nearer
     * (Sao Paulo's nearest region is us-east-1: the origin is not its own). */
    assert_string_equal(best(38.9, -77.0, NULL, NULL), "edge-us");
    assert_string_equal(best(-23.5, -46.6, NULL, NULL), "edge-us");
    /* The origin full: the Frankfurt client goes to the nearest edge. */
    origin_eu_edges_us_ap(100);
    assert_string_equal(best(50.1, 8.7, NULL, NULL), "edge-us");
    /* An edge of its own region with room takes it instead of the origin;
     * once that edge is full, the origin serves again. */
    origin_eu_edges_us_ap(0);
    node("edge-eu", LEC_ROLE_EDGE, "eu-central-1", 50, false, 10 * LEC_S);
    assert_string_equal(best(50.1, 8.7, NULL, NULL), "edge-eu");
    node("edge-eu", LEC_ROLE_EDGE, "eu-central-1", 100, false, 10 * LEC_S);
    assert_string_equal(best(50.1, 8.7, NULL, NULL), "origin-eu");
    /* No edge anywhere with room: the origin serves everyone. */
    origin_eu_edges_us_ap(0);
    node("edge-us", LEC_ROLE_EDGE, "us-east-1", 10, true, 10 * LEC_S);
    node("edge-ap", LEC_ROLE_EDGE, "ap-southeast-2", 100, false, 10 * LEC_S);
    assert_string_equal(best(-33.9, 151.2, NULL, NULL), "origin-eu");

    /* never: the origin keeps to ingest while any edge exists, even full. */
    policy = LEC_ORIGIN_VIEWERS_NEVER;
    origin_eu_edges_us_ap(0);
    assert_string_equal(best(50.1, 8.7, NULL, NULL), "edge-us");
    node("edge-us", LEC_ROLE_EDGE, "us-east-1", 100, false, 10 * LEC_S);
    node("edge-ap", LEC_ROLE_EDGE, "ap-southeast-2", 100, false, 10 * LEC_S);
    assert_string_equal(best(50.1, 8.7, NULL, NULL), "(none)");
    lec_cluster_free(&view); /* a lone origin still serves */
    lec_cluster_init(&view, NULL, "me", 99, 3 * LEC_S);
    node("origin-eu", LEC_ROLE_ORIGIN, "eu-central-1", 0, false, 10 * LEC_S);
    assert_string_equal(best(-33.9, 151.2, NULL, NULL), "origin-eu");

    /* always: ranked like an edge, so by distance for everyone. */
    policy = LEC_ORIGIN_VIEWERS_ALWAYS;
    origin_eu_edges_us_ap(0);
    assert_string_equal(best(50.1, 8.7, NULL, NULL), "origin-eu");
    assert_string_equal(best(30.0, 31.2, NULL, NULL), "origin-eu"); /* Cairo */
    assert_string_equal(best(38.9, -77.0, NULL, NULL), "edge-us");
    policy = LEC_ORIGIN_VIEWERS_OWN_REGION;
    assert_string_equal(best(30.0, 31.2, NULL, NULL), "origin-eu"); /* nearest region: eu */
}

static void test_cpu_and_egress_load(void **state)
{
    (void)state;
    policy = LEC_ORIGIN_VIEWERS_OWN_REGION;
    lec_cluster_free(&view);
    lec_cluster_init(&view, NULL, "me", 99, 3 * LEC_S);
    node("edge-a", LEC_ROLE_EDGE, "eu-central-1", 10, false, 10 * LEC_S);
    node("edge-b", LEC_ROLE_EDGE, "eu-central-1", 20, false, 10 * LEC_S);
    assert_string_equal(best(50.1, 8.7, NULL, NULL), "edge-a");
    /* edge-a's busiest worker near saturation: the highest utilisation counts. */
    lec_node_info a = lec_cluster_find(&view, "edge-a")->info;
    a.streams = NULL, a.nstreams = 0, a.rtts = NULL, a.nrtts = 0;
    a.load.worker_cpu_permille = 950;
    a.seq = ++seq;
    lec_cluster_heartbeat(&view, &a, 10 * LEC_S);
    assert_true(lec_steer_utilisation(&lec_cluster_find(&view, "edge-a")->info) > 0.94);
    assert_string_equal(best(50.1, 8.7, NULL, NULL), "edge-b");
    /* The whole process at its cores' limit: left out. */
    a.load.worker_cpu_permille = 0;
    a.load.cpu_permille = 1000;
    a.seq = ++seq;
    lec_cluster_heartbeat(&view, &a, 10 * LEC_S);
    lec_steer_choice out[4];
    lec_steer_input in = {.view = &view, .now = 10 * LEC_S, .located = true, .lat = 50.1,
                          .lon = 8.7, .regions = REGIONS, .nregions = 3};
    assert_int_equal(lec_steer_rank(&in, out, 4), 1);
    /* Egress: 90% of the configured capacity costs more than 90 viewers of 100. */
    a.load.cpu_permille = 100;
    a.max_egress_bps = 1000000000;
    a.load.egress_bps = 900000000;
    a.seq = ++seq;
    lec_cluster_heartbeat(&view, &a, 10 * LEC_S);
    assert_int_equal(lec_steer_rank(&in, out, 4), 2);
    assert_string_equal(out[0].node->info.id, "edge-b");
    assert_contains(out[1].reason, "load 90%");
}

static int teardown(void **state)
{
    (void)state;
    lec_cluster_free(&view);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nearest),
        cmocka_unit_test(test_exclusions),
        cmocka_unit_test(test_load_and_holding),
        cmocka_unit_test(test_measured_rtt),
        cmocka_unit_test(test_measured_rtt_below_light),
        cmocka_unit_test(test_origin_viewers),
        cmocka_unit_test(test_cpu_and_egress_load),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
