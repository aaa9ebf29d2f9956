/* The cluster view in virtual time: joins, expiry, freeze, duplicates,
 * restarts, RTT smoothing and the matrix, JSON. */
#include "testdata.h"
#include "base/err.h"
#include "cluster/cluster.h"

#include <stdio.h>
#include <string.h>

static lec_node_info hb(const char *id, const char *region, uint64_t boot, uint64_t seq)
{
    lec_node_info i;
    memset(&i, 0, sizeof i);
    snprintf(i.id, sizeof i.id, "%s", id);
    snprintf(i.region, sizeof i.region, "%s", region);
    i.role = LEC_ROLE_EDGE;
    i.boot_id = boot;
    i.seq = seq;
    return i;
}

static int gone_count;
static char gone_last[LEC_ID_MAX];
static void on_gone(void *ud, const lec_cluster_node *n)
{
    (void)ud;
    gone_count++;
    snprintf(gone_last, sizeof gone_last, "%s", n->info.id);
}

static void test_join_and_expire(void **state)
{
    (void)state;
    lec_cluster c;
    assert_int_equal(lec_cluster_init(&c, NULL, "self", 1, 3 * LEC_S), 0);
    lec_node_info me = hb("self", "eu", 1, 1);
    assert_int_equal(lec_cluster_set_self(&c, &me, 0), 0);
    lec_node_info a = hb("a", "us", 10, 1);
    assert_int_equal(lec_cluster_heartbeat(&c, &a, 0), LEC_CLUSTER_JOINED);
    a.seq = 2;
    assert_int_equal(lec_cluster_heartbeat(&c, &a, LEC_S), LEC_CLUSTER_UPDATED);
    a.seq = 1; /* reordered */
    assert_int_equal(lec_cluster_heartbeat(&c, &a, LEC_S), LEC_CLUSTER_IGNORED);
    assert_int_equal(c.n, 2);
    gone_count = 0;
    /* Unseen for 3 s exactly: still there; a moment later: gone. Self stays. */
    assert_int_equal(lec_cluster_expire(&c, 4 * LEC_S, on_gone, NULL), 0);
    assert_int_equal(lec_cluster_expire(&c, 4 * LEC_S + 1, on_gone, NULL), 1);
    assert_int_equal(gone_count, 1);
    assert_string_equal(gone_last, "a");
    assert_null(lec_cluster_find(&c, "a"));
    assert_non_null(lec_cluster_find(&c, "self"));
    lec_cluster_free(&c);
}

/* A StreamEvent that overtakes the origin's heartbeat still shows the
 * stream held; the next heartbeat is the truth again. */
static void test_note_held(void **state)
{
    (void)state;
    lec_cluster c;
    assert_int_equal(lec_cluster_init(&c, NULL, "self", 1, 3 * LEC_S), 0);
    lec_node_info o = hb("origin", "eu", 10, 1);
    assert_int_equal(lec_cluster_heartbeat(&c, &o, 0), LEC_CLUSTER_JOINED);
    assert_int_equal(lec_cluster_note_held(&c, "nobody", "warm", 0), LEC_ERR_NOTFOUND);
    assert_int_equal(lec_cluster_note_held(&c, "origin", "warm", 0), 0);
    assert_int_equal(lec_cluster_note_held(&c, "origin", "warm", 0), 0); /* once */
    assert_int_equal(lec_cluster_note_held(&c, "origin", "quiz", 0), 0);
    const lec_cluster_node *n = lec_cluster_find(&c, "origin");
    assert_int_equal(n->info.nstreams, 2);
    assert_string_equal(n->info.streams[0].stream, "warm");
    assert_string_equal(n->info.streams[1].stream, "quiz");
    lec_cluster_held one = {.stream = "quiz"};
    o.seq = 2;
    o.streams = &one;
    o.nstreams = 1;
    assert_int_equal(lec_cluster_heartbeat(&c, &o, LEC_S), LEC_CLUSTER_UPDATED);
    n = lec_cluster_find(&c, "origin");
    assert_int_equal(n->info.nstreams, 1);
    assert_string_equal(n->info.streams[0].stream, "quiz");
    lec_cluster_free(&c);
}

static void test_freeze(void **state)
{
    (void)state;
    lec_cluster c;
    lec_cluster_init(&c, NULL, "self", 1, 3 * LEC_S);
    lec_node_info a = hb("a", "us", 10, 1);
    lec_cluster_heartbeat(&c, &a, 0);
    lec_cluster_freeze(&c, true, LEC_S);
    /* Disconnected for a minute: nobody is dropped. */
    assert_int_equal(lec_cluster_expire(&c, 60 * LEC_S, NULL, NULL), 0);
    /* Back: every node has a fresh 3 s to speak. */
    lec_cluster_freeze(&c, false, 60 * LEC_S);
    assert_int_equal(lec_cluster_expire(&c, 62 * LEC_S, NULL, NULL), 0);
    assert_int_equal(lec_cluster_expire(&c, 63 * LEC_S + 1, NULL, NULL), 1);
    lec_cluster_free(&c);
}

static void test_duplicates_and_restarts(void **state)
{
    (void)state;
    lec_cluster c;
    lec_cluster_init(&c, NULL, "self", 1, 3 * LEC_S);
    /* Our own echo is ignored; our id with another boot id is a duplicate. */
    lec_node_info me = hb("self", "eu", 1, 5);
    assert_int_equal(lec_cluster_heartbeat(&c, &me, 0), LEC_CLUSTER_IGNORED);
    me.boot_id = 2;
    assert_int_equal(lec_cluster_heartbeat(&c, &me, 0), LEC_CLUSTER_DUPLICATE);
    /* A restart: a new boot id once. */
    lec_node_info a = hb("a", "us", 10, 50);
    assert_int_equal(lec_cluster_heartbeat(&c, &a, 0), LEC_CLUSTER_JOINED);
    lec_node_info a2 = hb("a", "us", 11, 1);
    assert_int_equal(lec_cluster_heartbeat(&c, &a2, LEC_S), LEC_CLUSTER_RESTARTED);
    a2.seq = 2;
    assert_int_equal(lec_cluster_heartbeat(&c, &a2, 2 * LEC_S), LEC_CLUSTER_UPDATED);
    /* The old boot id speaks again: two processes share "a". */
    a.seq = 51;
    assert_int_equal(lec_cluster_heartbeat(&c, &a, 2 * LEC_S), LEC_CLUSTER_DUPLICATE);
    /* The view keeps the newer process. */
    assert_true(lec_cluster_find(&c, "a")->info.boot_id == 11);
    /* Garbage ids are refused. */
    lec_node_info bad = hb("", "us", 1, 1);
    assert_int_equal(lec_cluster_heartbeat(&c, &bad, 0), LEC_ERR_INVAL);
    lec_cluster_free(&c);
}

static void test_rtt(void **state)
{
    (void)state;
    lec_cluster c;
    lec_cluster_init(&c, NULL, "self", 1, 3 * LEC_S);
    lec_node_info me = hb("self", "eu", 1, 1);
    lec_cluster_set_self(&c, &me, 0);
    lec_node_info a = hb("a", "us", 10, 1);
    lec_node_info b = hb("b", "ap", 20, 1);
    lec_cluster_rtt brtt[] = {{"a", 180000}};
    b.rtts = brtt;
    b.nrtts = 1;
    lec_cluster_heartbeat(&c, &a, 0);
    lec_cluster_heartbeat(&c, &b, 0);
    assert_int_equal(lec_cluster_rtt_sample(&c, "nobody", LEC_MS, 0), LEC_ERR_NOTFOUND);
    assert_int_equal(lec_cluster_rtt_sample(&c, "a", 80 * LEC_MS, 0), 0);
    assert_int_equal(lec_cluster_find(&c, "a")->srtt_us, 80000);
    /* RFC 6298: srtt = 7/8 srtt + 1/8 sample */
    lec_cluster_rtt_sample(&c, "a", 160 * LEC_MS, 0);
    assert_int_equal(lec_cluster_find(&c, "a")->srtt_us, 90000);
    /* Region RTT: measured by us (eu-us), or reported by others (ap-us). */
    lec_region_rtts r;
    lec_cluster_region_rtts(&c, "eu", &r);
    assert_int_equal(lec_region_rtts_get(&r, "us"), 90000);
    assert_int_equal(lec_region_rtts_get(&r, "ap"), 0);
    lec_cluster_region_rtts(&c, "us", &r);
    assert_int_equal(lec_region_rtts_get(&r, "eu"), 90000);
    assert_int_equal(lec_region_rtts_get(&r, "ap"), 180000);
    lec_cluster_region_rtts(&c, "ap", &r);
    assert_int_equal(lec_region_rtts_get(&r, "us"), 180000);
    assert_int_equal(lec_region_rtts_get(&r, "eu"), 0);
    lec_cluster_free(&c);
}

static void test_json(void **state)
{
    (void)state;
    lec_cluster c;
    lec_cluster_init(&c, NULL, "self", 1, 3 * LEC_S);
    lec_node_info me = hb("self", "eu", 1, 1);
    lec_cluster_held ms[] = {{"class-1", 0}};
    me.streams = ms;
    me.nstreams = 1;
    me.role = LEC_ROLE_ORIGIN;
    lec_cluster_set_self(&c, &me, 0);
    lec_node_info a = hb("a", "us", 10, 1);
    lec_cluster_held as[] = {{"class-1", 1}, {"class-2", 0}};
    a.streams = as;
    a.nstreams = 2;
    lec_cluster_heartbeat(&c, &a, 0);
    lec_sbuf sb;
    lec_sbuf_init(&sb, NULL);
    lec_jw w;
    lec_jw_init(&w, &sb);
    lec_jw_obj_open(&w);
    lec_cluster_json(&c, 500 * LEC_MS, &w);
    lec_jw_obj_close(&w);
    assert_contains(sb.data, "\"self\":\"self\"");
    assert_contains(sb.data,
                    "\"streams\":{\"class-1\":[{\"node\":\"self\",\"depth\":0},"
                    "{\"node\":\"a\",\"depth\":1}],\"class-2\":[{\"node\":\"a\",\"depth\":0}]}");
    assert_contains(sb.data, "\"age_ms\":500");
    assert_contains(sb.data, "\"boot_id\":\"000000000000000a\"");
    lec_sbuf_free(&sb);
    lec_cluster_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_and_expire),
        cmocka_unit_test(test_note_held),
        cmocka_unit_test(test_freeze),
        cmocka_unit_test(test_duplicates_and_restarts),
        cmocka_unit_test(test_rtt),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
