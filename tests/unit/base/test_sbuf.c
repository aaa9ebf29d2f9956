/* String builder and JSON writer. */
#include "testdata.h"
#include "failalloc.h"
#include "base/err.h"
#include "base/sbuf.h"

#include <string.h>

static void test_grow(void **state)
{
    (void)state;
    lec_sbuf sb;
    lec_sbuf_init(&sb, NULL);
    for (int i = 0; i < 1000; i++)
        lec_sbuf_printf(&sb, "%d,", i);
    assert_int_equal(lec_sbuf_status(&sb), 0);
    assert_true(sb.len > 3000);
    assert_int_equal(strlen(sb.data), sb.len);
    assert_true(!strncmp(sb.data, "0,1,2,", 6));
    /* A printf longer than the internal scratch buffer. */
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    lec_sbuf_reset(&sb);
    lec_sbuf_printf(&sb, "<%s>", big);
    assert_int_equal(sb.len, 601);
    lec_sbuf_free(&sb);
}

static void test_fixed_truncates(void **state)
{
    (void)state;
    char buf[8];
    lec_sbuf sb;
    lec_sbuf_init_fixed(&sb, buf, sizeof buf);
    lec_sbuf_puts(&sb, "abcdefghij");
    assert_string_equal(buf, "abcdefg");
    assert_int_equal(lec_sbuf_status(&sb), LEC_ERR_RANGE);
}

static void test_max(void **state)
{
    (void)state;
    lec_sbuf sb;
    lec_sbuf_init(&sb, NULL);
    sb.max = 10;
    lec_sbuf_puts(&sb, "0123456789");
    assert_int_equal(lec_sbuf_status(&sb), 0);
    lec_sbuf_putc(&sb, 'x');
    assert_int_equal(lec_sbuf_status(&sb), LEC_ERR_RANGE);
    assert_int_equal(sb.len, 10);
    lec_sbuf_free(&sb);
}

static void test_oom_is_sticky(void **state)
{
    (void)state;
    failalloc fa;
    failalloc_init(&fa, 2);
    lec_sbuf sb;
    lec_sbuf_init(&sb, &fa.alloc);
    lec_sbuf_puts(&sb, "short");
    char big[200];
    memset(big, 'y', sizeof big);
    lec_sbuf_append(&sb, big, sizeof big); /* second allocation fails */
    assert_int_equal(lec_sbuf_status(&sb), LEC_ERR_NOMEM);
    lec_sbuf_puts(&sb, "more");
    assert_int_equal(lec_sbuf_status(&sb), LEC_ERR_NOMEM);
    lec_sbuf_free(&sb);
    assert_int_equal(fa.live, 0);
}

static void test_json_escapes(void **state)
{
    (void)state;
    lec_sbuf sb;
    lec_sbuf_init(&sb, NULL);
    const char in[] = "a\"b\\c\nd\te\x01 \xc3\xa9 \xff z";
    lec_json_put_str(&sb, in, sizeof in - 1);
    assert_string_equal(sb.data, "\"a\\\"b\\\\c\\nd\\te\\u0001 \xc3\xa9 \xef\xbf\xbd z\"");
    lec_sbuf_free(&sb);
}

static void test_json_writer(void **state)
{
    (void)state;
    lec_sbuf sb;
    lec_sbuf_init(&sb, NULL);
    lec_jw w;
    lec_jw_init(&w, &sb);
    lec_jw_obj_open(&w);
    lec_jw_key(&w, "a");
    lec_jw_int(&w, -3);
    lec_jw_key(&w, "list");
    lec_jw_arr_open(&w);
    lec_jw_uint(&w, 1);
    lec_jw_str(&w, "two");
    lec_jw_bool(&w, true);
    lec_jw_null(&w);
    lec_jw_double(&w, 0.1);
    lec_jw_double(&w, 1.0 / 0.0);
    lec_jw_obj_open(&w);
    lec_jw_obj_close(&w);
    lec_jw_arr_close(&w);
    lec_jw_key(&w, "s");
    lec_jw_str(&w, NULL);
    lec_jw_obj_close(&w);
    assert_string_equal(sb.data,
                        "{\"a\":-3,\"list\":[1,\"two\",true,null,0.1,null,{}],\"s\":null}");
    lec_sbuf_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow),         cmocka_unit_test(test_fixed_truncates),
        cmocka_unit_test(test_max),          cmocka_unit_test(test_oom_is_sticky),
        cmocka_unit_test(test_json_escapes), cmocka_unit_test(test_json_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
