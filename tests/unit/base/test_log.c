/* Logging: levels, formats, no formatting when disabled, rate limiting. */
#include "testdata.h"
#include "base/log.h"

#include <string.h>

typedef struct capture {
    char text[8192];
    int lines;
} capture;

static void sink(void *ud, const char *line, size_t len)
{
    capture *c = ud;
    size_t have = strlen(c->text);
    if (have + len < sizeof c->text) {
        memcpy(c->text + have, line, len);
        c->text[have + len] = '\0';
    }
    c->lines++;
}

static int evaluated;
static const char *expensive(void)
{
    evaluated++;
    return "value";
}

static void test_levels(void **state)
{
    (void)state;
    capture c = {0};
    lec_log log;
    lec_log_init(&log, sink, &c, NULL);
    lec_log_set_level(&log, LEC_LOG_WARN);
    evaluated = 0;
    LEC_DEBUG(&log, "t", "debug %s", expensive());
    LEC_INFO(&log, "t", "info %s", expensive());
    assert_int_equal(evaluated, 0); /* arguments not even evaluated */
    assert_int_equal(c.lines, 0);
    LEC_WARN(&log, "t", "warn %s", expensive());
    LEC_ERROR(&log, "mod", "error %d", 7);
    assert_int_equal(evaluated, 1);
    assert_int_equal(c.lines, 2);
    assert_string_equal(c.text, "WARN  t: warn value\nERROR mod: error 7\n");
    lec_log_set_level(&log, LEC_LOG_OFF);
    LEC_ERROR(&log, "mod", "nothing");
    assert_int_equal(c.lines, 2);
    /* A peer's string cannot forge a line or drive the terminal. */
    lec_log_set_level(&log, LEC_LOG_INFO);
    c.text[0] = '\0';
    LEC_INFO(&log, "bus", "refused: %s", "x\nERROR node: fake\x1b[2J");
    assert_string_equal(c.text, "INFO  bus: refused: x\\x0aERROR node: fake\\x1b[2J\n");
}

static lec_tstamp fixed_wall(void *ud)
{
    (void)ud;
    return 1795800600ULL * LEC_S + 5 * LEC_MS;
}

static void test_json_format(void **state)
{
    (void)state;
    capture c = {0};
    lec_clock wall = {fixed_wall, NULL};
    lec_log log;
    lec_log_init(&log, sink, &c, &wall);
    lec_log_set_format(&log, LEC_LOG_JSON);
    log.node = "origin-1";
    LEC_INFO(&log, "http", "said \"hi\"\n");
    assert_string_equal(c.text, "{\"ts\":\"2026-11-27T17:30:00.005Z\",\"level\":\"info\","
                                "\"node\":\"origin-1\",\"mod\":\"http\","
                                "\"msg\":\"said \\\"hi\\\"\\n\"}\n");
}

static void test_long_line(void **state)
{
    (void)state;
    static char big[LEC_LOG_LINE_MAX * 2];
    memset(big, 'q', sizeof big - 1);
    for (int fmt = 0; fmt < 2; fmt++) {
        capture c = {0};
        lec_log log;
        lec_log_init(&log, sink, &c, NULL);
        lec_log_set_format(&log, fmt ? LEC_LOG_JSON : LEC_LOG_TEXT);
        LEC_INFO(&log, "t", "%s", big);
        assert_int_equal(c.lines, 1);
        size_t n = strlen(c.text);
        assert_true(n < LEC_LOG_LINE_MAX + 256);
        assert_true(c.text[n - 1] == '\n');
        assert_contains(c.text, fmt ? "\"truncated\":true}" : "[truncated]");
    }
}

static void test_parse(void **state)
{
    (void)state;
    lec_log_level l;
    lec_log_format f;
    assert_int_equal(lec_log_level_parse("debug", &l), 0);
    assert_int_equal(l, LEC_LOG_DEBUG);
    assert_int_equal(lec_log_level_parse("warning", &l), 0);
    assert_int_equal(l, LEC_LOG_WARN);
    assert_int_not_equal(lec_log_level_parse("loud", &l), 0);
    assert_int_equal(lec_log_format_parse("json", &f), 0);
    assert_int_equal(f, LEC_LOG_JSON);
    assert_int_not_equal(lec_log_format_parse("xml", &f), 0);
}

static void test_ratelimit(void **state)
{
    (void)state;
    lec_ratelimit rl;
    lec_ratelimit_init(&rl, LEC_S, 3);
    lec_tstamp t = 10 * LEC_S;
    int allowed = 0;
    for (int i = 0; i < 100; i++)
        allowed += lec_ratelimit_allow(&rl, t + (lec_tstamp)i * LEC_MS);
    assert_int_equal(allowed, 3);
    assert_int_equal(rl.suppressed, 97);
    assert_true(lec_ratelimit_allow(&rl, t + LEC_S));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels),    cmocka_unit_test(test_json_format),
        cmocka_unit_test(test_long_line), cmocka_unit_test(test_parse),
        cmocka_unit_test(test_ratelimit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
