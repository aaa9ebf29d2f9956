/* Relay source selection as a pure function over a cluster view: holders
 * only, draining and too-deep ones out, relay.prefer first, measured RTT
 * before distance, the shallower on a tie, exclusions. */
#include "testdata.h"
#include "cluster/source.h"

#include <stdio.h>
#include <string.h>

static lec_cluster view;
static uint64_t seq;

/* A node in region at (lat, lon) holding `stream` at `depth` (-1: not). */
static void node(const char *id, double lat, double lon, int depth, bool draining)
{
    lec_node_info i;
    lec_cluster_held held = {.depth = depth < 0 ? 0 : (uint32_t)depth};
    memset(&i, 0, sizeof i);
    snprintf(i.id, sizeof i.id, "%s", id);
    snprintf(i.region, sizeof i.region, "r-%s", id);
    snprintf(held.stream, sizeof held.stream, "class");
    i.role = depth == 0 ? LEC_ROLE_ORIGIN : LEC_ROLE_EDGE;
    i.lat = lat;
    i.lon = lon;
    i.draining = draining;
    i.boot_id = 1;
    i.seq = ++seq;
    i.streams = depth < 0 ? NULL : &held;
    i.nstreams = depth < 0 ? 0 : 1;
    lec_cluster_heartbeat(&view, &i, LEC_S);
}

static void setup(void)
{
    lec_cluster_free(&view);
    lec_cluster_init(&view, NULL, "me", 7, 3 * LEC_S);
    lec_node_info self = {.id = "me", .region = "ap", .lat = -33.9, .lon = 151.2, .boot_id = 7};
    lec_cluster_set_self(&view, &self, LEC_S);
    node("origin", 50.1, 8.7, 0, false);     /* Frankfurt */
    node("edge-us", 39.0, -77.5, 1, false);  /* Virginia */
    node("edge-sg", 1.3, 103.8, 1, false);   /* Singapore: nearest to Sydney */
    node("edge-jp", 35.7, 139.7, -1, false); /* Tokyo: does not hold it */
}

static const char *pick(uint32_t max_depth, const char *const *prefer, size_t np,
                        const char *const *excl, size_t ne)
{
    lec_source_query q = {.stream = "class",
                          .max_depth = max_depth,
                          .prefer = prefer,
                          .nprefer = np,
                          .exclude = excl,
                          .nexclude = ne};
    lec_source_pick p = lec_cluster_pick_source(&view, &q);
    return p.node ? p.node->info.id : "(none)";
}

static void test_nearest_holder_by_distance(void **state)
{
    (void)state;
    setup();
    assert_string_equal(pick(3, NULL, 0, NULL, 0), "edge-sg");
    assert_true(lec_cluster_stream_held(&view, "class"));
    assert_false(lec_cluster_stream_held(&view, "other"));
    lec_source_query q = {.stream = "other", .max_depth = 3};
    assert_null(lec_cluster_pick_source(&view, &q).node);
}

static void test_measured_rtt_wins(void **state)
{
    (void)state;
    setup();
    /* Measured: the Virginia edge answers faster than Singapore's guess. */
    lec_cluster_rtt_sample(&view, "edge-us", 20 * LEC_MS, LEC_S);
    lec_source_query q = {.stream = "class", .max_depth = 3};
    lec_source_pick p = lec_cluster_pick_source(&view, &q);
    assert_string_equal(p.node->info.id, "edge-us");
    assert_true(p.measured);
    assert_int_equal(p.cost_us, 20000);
}

static void test_depth_draining_prefer_exclude(void **state)
{
    (void)state;
    setup();
    /* max_depth 1: only the origin (depth 0) can feed us at depth 1. */
    assert_string_equal(pick(1, NULL, 0, NULL, 0), "origin");
    /* relay.prefer wins over distance; an unqualified preferred node is skipped. */
    const char *prefer[] = {"edge-jp", "edge-us"};
    assert_string_equal(pick(3, prefer, 2, NULL, 0), "edge-us");
    /* A source that just failed is left out. */
    const char *excl[] = {"edge-sg"};
    assert_string_equal(pick(3, NULL, 0, excl, 1), "edge-us");
    /* Draining nodes are left out. */
    node("edge-sg", 1.3, 103.8, 1, true);
    assert_string_equal(pick(3, NULL, 0, NULL, 0), "edge-us");
}

static void test_tie_shallower_then_id(void **state)
{
    (void)state;
    lec_cluster_free(&view);
    lec_cluster_init(&view, NULL, "me", 7, 3 * LEC_S);
    node("b-deep", 10, 10, 2, false);
    node("a-deep", 10, 10, 2, false);
    node("c-shallow", 10, 10, 1, false);
    assert_string_equal(pick(4, NULL, 0, NULL, 0), "c-shallow");
    node("c-shallow", 10, 10, -1, false);
    assert_string_equal(pick(4, NULL, 0, NULL, 0), "a-deep");
    lec_cluster_free(&view);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_nearest_holder_by_distance),
                                       cmocka_unit_test(test_measured_rtt_wins),
                                       cmocka_unit_test(test_depth_draining_prefer_exclude),
                                       cmocka_unit_test(test_tie_shallower_then_id)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    lec_cluster_free(&view);
    return rc;
}
