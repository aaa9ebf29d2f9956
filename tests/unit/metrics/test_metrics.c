/* The metrics registry: slots summed, histograms cumulative, the text
 * format, bounded registration. */
#include "testdata.h"
#include "metrics/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static lec_metrics m;

static void test_counters_across_threads(void **state)
{
    (void)state;
    assert_int_equal(lec_metrics_init(&m, 3), 0);
    lec_metric c = lec_metrics_counter(&m, "lectern_rtp_packets_total",
                                       "direction=\"in\",kind=\"video\"", "RTP packets");
    assert_int_not_equal(c, LEC_METRIC_NONE);
    /* Same name and labels: the same series; same name as another type: refused. */
    assert_int_equal(lec_metrics_counter(&m, "lectern_rtp_packets_total",
                                         "direction=\"in\",kind=\"video\"", "x"),
                     c);
    assert_int_equal(
        lec_metrics_gauge(&m, "lectern_rtp_packets_total", "direction=\"in\",kind=\"video\"", "x"),
        LEC_METRIC_NONE);
    lec_metric_add(&m, 0, c, 5);
    lec_metric_add(&m, 1, c, 7);
    lec_metric_add(&m, 2, c, 30);
    assert_int_equal(lec_metric_value(&m, c), 42);
    lec_metric g = lec_metrics_gauge(&m, "lectern_viewers", "", "Viewers");
    lec_metric_set(&m, 1, g, 10);
    lec_metric_set(&m, 2, g, -3);
    assert_int_equal(lec_metric_value(&m, g), 7);
    lec_metrics_free(&m);
}

typedef struct worker_arg {
    unsigned slot;
    lec_metric id;
} worker_arg;

static void *worker(void *arg)
{
    worker_arg *w = arg;
    for (int i = 0; i < 100000; i++)
        lec_metric_add(&m, w->slot, w->id, 1);
    return NULL;
}

static void test_single_writer_slots(void **state)
{
    (void)state;
    assert_int_equal(lec_metrics_init(&m, 4), 0);
    lec_metric c = lec_metrics_counter(&m, "lectern_x_total", "", "x");
    pthread_t t[4];
    worker_arg a[4];
    for (unsigned i = 0; i < 4; i++) {
        a[i] = (worker_arg){i, c};
        pthread_create(&t[i], NULL, worker, &a[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(lec_metric_value(&m, c), 400000);
    lec_metrics_free(&m);
}

static void test_render(void **state)
{
    (void)state;
    assert_int_equal(lec_metrics_init(&m, 2), 0);
    lec_metric a =
        lec_metrics_counter(&m, "lectern_sessions_total", "role=\"viewer\",result=\"ok\"",
                            "Sessions\nwith a \\ in help");
    lec_metric b = lec_metrics_gauge(&m, "lectern_draining", "", "Draining");
    lec_metric c = lec_metrics_counter(&m, "lectern_sessions_total",
                                       "role=\"viewer\",result=\"error\"", "Sessions");
    static const uint64_t bounds[] = {1000000, 10000000, 100000000}; /* 1, 10, 100 ms */
    lec_metric h =
        lec_metrics_histogram(&m, "lectern_join_duration_seconds", "", "Join time", bounds, 3, 1e9);
    lec_metric_add(&m, 0, a, 3);
    lec_metric_add(&m, 1, c, 1);
    lec_metric_set(&m, 0, b, 1);
    lec_metric_observe(&m, 0, h, 500000);     /* 0.5 ms */
    lec_metric_observe(&m, 1, h, 20000000);   /* 20 ms */
    lec_metric_observe(&m, 1, h, 5000000000); /* 5 s: +Inf */
    lec_sbuf out;
    lec_sbuf_init(&out, NULL);
    lec_metrics_render(&m, &out);
    /* One HELP/TYPE per name, its series together, help escaped. */
    assert_contains(out.data, "# HELP lectern_sessions_total Sessions\\nwith a \\\\ in help\n"
                              "# TYPE lectern_sessions_total counter\n"
                              "lectern_sessions_total{role=\"viewer\",result=\"ok\"} 3\n"
                              "lectern_sessions_total{role=\"viewer\",result=\"error\"} 1\n");
    assert_contains(out.data, "lectern_draining 1\n");
    assert_contains(out.data, "# TYPE lectern_join_duration_seconds histogram\n"
                              "lectern_join_duration_seconds_bucket{le=\"0.001\"} 1\n"
                              "lectern_join_duration_seconds_bucket{le=\"0.01\"} 1\n"
                              "lectern_join_duration_seconds_bucket{le=\"0.1\"} 2\n"
                              "lectern_join_duration_seconds_bucket{le=\"+Inf\"} 3\n"
                              "lectern_join_duration_seconds_sum 5.0205\n"
                              "lectern_join_duration_seconds_count 3\n");
    lec_sbuf_free(&out);
    lec_metrics_free(&m);
}

/* Buckets summed over slots, and quantiles as histogram_quantile takes them. */
static void test_quantiles(void **state)
{
    (void)state;
    static const uint64_t b[] = {100, 200, 400};
    assert_int_equal(lec_metrics_init(&m, 2), 0);
    lec_metric h = lec_metrics_histogram(&m, "lectern_q_seconds", "", "q", b, 3, 1);
    lec_metric c = lec_metrics_counter(&m, "lectern_c_total", "", "c");
    uint64_t counts[4];
    assert_int_equal(lec_metric_buckets(&m, c, counts, 4), 0);
    for (int i = 0; i < 10; i++)
        lec_metric_observe(&m, i % 2, h, 150); /* 10 in (100, 200] */
    for (int i = 0; i < 10; i++)
        lec_metric_observe(&m, 0, h, 50); /* 10 in [0, 100] */
    assert_int_equal(lec_metric_buckets(&m, h, counts, 4), 4);
    assert_true(counts[0] == 10 && counts[1] == 10 && counts[2] == 0 && counts[3] == 0);
    /* rank 10 of 20: the top of the first bucket; rank 19: 90% into the second. */
    assert_true(lec_metrics_quantile(b, 3, counts, 0.5) == 100);
    double p95 = lec_metrics_quantile(b, 3, counts, 0.95);
    assert_true(p95 > 189.9 && p95 < 190.1);
    counts[3] = 100; /* most in +Inf: the highest bound */
    assert_true(lec_metrics_quantile(b, 3, counts, 0.95) == 400);
    uint64_t none[4] = {0};
    assert_true(lec_metrics_quantile(b, 3, none, 0.5) == 0);
    lec_metrics_free(&m);
}

static void test_limits(void **state)
{
    (void)state;
    assert_int_equal(lec_metrics_init(&m, 1), 0);
    assert_int_equal(lec_metrics_counter(&m, "9bad", "", ""), LEC_METRIC_NONE);
    assert_int_equal(lec_metrics_counter(&m, "bad-name", "", ""), LEC_METRIC_NONE);
    assert_int_equal(lec_metrics_counter(&m, "ok", "a=\"1\"\n", ""), LEC_METRIC_NONE);
    static const uint64_t down[] = {10, 5};
    assert_int_equal(lec_metrics_histogram(&m, "h", "", "", down, 2, 1), LEC_METRIC_NONE);
    char labels[32];
    unsigned made = 0;
    for (unsigned i = 0; i < LEC_METRICS_MAX_SERIES + 10; i++) {
        snprintf(labels, sizeof labels, "i=\"%u\"", i);
        made += lec_metrics_counter(&m, "lectern_many_total", labels, "") != LEC_METRIC_NONE;
    }
    assert_int_equal(made, LEC_METRICS_MAX_SERIES);
    /* Recording to NONE is a no-op, not a crash. */
    lec_metric_add(&m, 0, LEC_METRIC_NONE, 1);
    lec_metric_observe(&m, 0, LEC_METRIC_NONE, 1);
    lec_metrics_free(&m);
    assert_int_not_equal(lec_metrics_init(&m, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_across_threads),
        cmocka_unit_test(test_single_writer_slots),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_quantiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
