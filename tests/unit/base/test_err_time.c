/* Error codes, durations, time formatting, injected clock and randomness. */
#include "testdata.h"
#include "base/err.h"
#include "base/time.h"

#include <string.h>

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(lec_strerror(0), "success");
    assert_string_equal(lec_strerror(LEC_ERR_NOMEM), "out of memory");
    assert_string_equal(lec_strerror(-12345), "unknown error");
    for (int e = LEC_ERR_INVAL; e >= LEC_ERR_FULL; e--)
        assert_string_not_equal(lec_strerror(e), "unknown error");
    assert_true(lec_err_is_fatal(LEC_ERR_NOMEM));
    assert_true(lec_err_is_fatal(LEC_ERR_INTERNAL));
    assert_false(lec_err_is_fatal(LEC_ERR_INVAL));
}

static void test_duration(void **state)
{
    (void)state;
    lec_tstamp d;
    assert_int_equal(lec_duration_parse("30s", &d), 0);
    assert_true(d == 30 * LEC_S);
    assert_int_equal(lec_duration_parse("30", &d), 0);
    assert_true(d == 30 * LEC_S);
    assert_int_equal(lec_duration_parse("250ms", &d), 0);
    assert_true(d == 250 * LEC_MS);
    assert_int_equal(lec_duration_parse("1.5s", &d), 0);
    assert_true(d == 1500 * LEC_MS);
    assert_int_equal(lec_duration_parse("2m", &d), 0);
    assert_true(d == 120 * LEC_S);
    assert_int_equal(lec_duration_parse("1h", &d), 0);
    assert_true(d == 3600 * LEC_S);
    assert_int_equal(lec_duration_parse("100us", &d), 0);
    assert_true(d == 100 * LEC_US);
    const char *bad[] = {"",    "-1s", "+1s",  " 1s",   "1 s", "abc", "1d",
                         "inf", "nan", "0x10", "1e400", "s",   "1ss"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(lec_duration_parse(bad[i], &d), 0);
}

static void test_rfc3339(void **state)
{
    (void)state;
    char buf[32];
    /* 2026-11-27T17:30:00.123Z */
    lec_tstamp t = 1795800600ULL * LEC_S + 123 * LEC_MS;
    assert_true(lec_time_format_rfc3339(t, buf, sizeof buf) > 0);
    assert_string_equal(buf, "2026-11-27T17:30:00.123Z");
    assert_int_equal(lec_time_format_rfc3339(t, buf, 10), 0);
}

static void test_manual_clock(void **state)
{
    (void)state;
    lec_manual_clock m;
    lec_manual_clock_init(&m, 5 * LEC_S);
    assert_true(lec_clock_now(&m.clock) == 5 * LEC_S);
    lec_manual_clock_advance(&m, 250 * LEC_MS);
    assert_true(lec_clock_now(&m.clock) == 5 * LEC_S + 250 * LEC_MS);
}

static void test_seeded_rand(void **state)
{
    (void)state;
    lec_rand_seeded a, b, c;
    lec_rand_seeded_init(&a, 42);
    lec_rand_seeded_init(&b, 42);
    lec_rand_seeded_init(&c, 43);
    uint64_t va = lec_rand_u64(&a.rand), vb = lec_rand_u64(&b.rand), vc = lec_rand_u64(&c.rand);
    assert_true(va == vb);
    assert_true(va != vc);
    /* Odd lengths fill every byte. */
    uint8_t buf[13];
    memset(buf, 0, sizeof buf);
    a.rand.fill(a.rand.ud, buf, sizeof buf);
    int zeros = 0;
    for (size_t i = 0; i < sizeof buf; i++)
        zeros += buf[i] == 0;
    assert_true(zeros < 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror),    cmocka_unit_test(test_duration),
        cmocka_unit_test(test_rfc3339),     cmocka_unit_test(test_manual_clock),
        cmocka_unit_test(test_seeded_rand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
