/* The cluster view in virtual time: joins, expiry, freeze, duplicates,
 * restarts, RTT smoothing and the matrix, JSON. */
#include "testdata.h"
#include "base/err.h"
#include "cluster/audience.h"
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
    lec_cluster_held ms[] = {{.stream = "class-1", .depth = 0}};
    me.streams = ms;
    me.nstreams = 1;
    me.role = LEC_ROLE_ORIGIN;
    lec_cluster_set_self(&c, &me, 0);
    lec_node_info a = hb("a", "us", 10, 1);
    lec_cluster_held as[] = {{.stream = "class-1", .depth = 1, .source = "self"},
                             {.stream = "class-2", .depth = 0}};
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
    assert_contains(sb.data, "\"streams\":{\"class-1\":[{\"node\":\"self\",\"region\":\"eu\","
                             "\"depth\":0,\"source\":null,\"viewers\":0},{\"node\":\"a\","
                             "\"region\":\"us\",\"depth\":1,\"source\":\"self\",\"viewers\":0}],"
                             "\"class-2\":[{\"node\":\"a\",\"region\":\"us\",\"depth\":0,"
                             "\"source\":null,\"viewers\":0}]}");
    assert_contains(sb.data, "\"age_ms\":500");
    assert_contains(sb.data, "\"boot_id\":\"000000000000000a\"");
    lec_sbuf_free(&sb);
    lec_cluster_free(&c);
}

/* The audience: viewers per stream and region over the nodes that serve
 * them, largest stream first; regions with nodes but no viewers listed. */
static void test_audience(void **state)
{
    (void)state;
    lec_cluster c;
    lec_cluster_init(&c, NULL, "origin", 1, 3 * LEC_S);
    lec_node_info o = hb("origin", "eu", 1, 1);
    o.role = LEC_ROLE_ORIGIN;
    lec_cluster_held os[] = {{.stream = "math", .viewers = 3}, {.stream = "art", .viewers = 1}};
    o.streams = os, o.nstreams = 2;
    lec_cluster_set_self(&c, &o, 0);
    lec_node_info u1 = hb("us-1", "us", 2, 1), u2 = hb("us-2", "us", 3, 1), ap = hb("ap-1", "ap", 4, 1);
    lec_cluster_held s1[] = {{.stream = "math", .depth = 1, .viewers = 40, .source = "origin"}};
    lec_cluster_held s2[] = {{.stream = "math", .depth = 1, .viewers = 2, .source = "origin"},
                             {.stream = "art", .depth = 1, .viewers = 5, .source = "origin"}};
    u1.streams = s1, u1.nstreams = 1;
    u2.streams = s2, u2.nstreams = 2;
    lec_cluster_heartbeat(&c, &u1, 0);
    lec_cluster_heartbeat(&c, &u2, 0);
    lec_cluster_heartbeat(&c, &ap, 0);
    lec_audience a;
    assert_int_equal(lec_audience_of(&c, &a), 0);
    assert_true(a.viewers == 51);
    assert_int_equal(a.nstreams, 2);
    assert_string_equal(a.streams[0].name, "math");
    assert_true(a.streams[0].viewers == 45);
    assert_string_equal(a.streams[1].name, "art");
    assert_true(a.streams[1].viewers == 6);
    assert_int_equal(a.nregions, 3);
    assert_string_equal(a.regions[0].name, "ap");
    assert_true(a.regions[0].viewers == 0);
    assert_string_equal(a.regions[2].name, "us");
    assert_true(a.regions[2].viewers == 47);
    lec_sbuf sb;
    lec_sbuf_init(&sb, NULL);
    lec_jw w;
    lec_jw_init(&w, &sb);
    lec_audience_json(&a, &w);
    assert_string_equal(sb.data, "{\"viewers\":51,\"regions\":{\"ap\":0,\"eu\":4,\"us\":47},"
                                 "\"streams\":{\"math\":{\"viewers\":45,\"regions\":{\"eu\":3,"
                                 "\"us\":42}},\"art\":{\"viewers\":6,\"regions\":{\"eu\":1,"
                                 "\"us\":5}}}}");
    lec_sbuf_free(&sb);
    lec_audience_free(&a);
    /* An empty view, and no memory. */
    lec_cluster e;
    lec_cluster_init(&e, NULL, "x", 1, 3 * LEC_S);
    assert_int_equal(lec_audience_of(&e, &a), 0);
    assert_true(a.viewers == 0 && a.nstreams == 0 && a.nregions == 0);
    lec_audience_free(&a);
    lec_cluster_free(&e);
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
        cmocka_unit_test(test_audience),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
