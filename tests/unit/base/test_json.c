/* The JSON reader: values, escapes, strictness, depth, allocation failures. */
#include "testdata.h"
#include "failalloc.h"
#include "base/err.h"
#include "base/json.h"

#include <string.h>

static lec_json *parse(const char *s)
{
    lec_json *v = NULL;
    char err[96];
    int rc = lec_json_parse(NULL, s, strlen(s), &v, err, sizeof err);
    assert_int_equal(rc, 0);
    return v;
}

static void refused(const char *s, const char *why)
{
    lec_json *v = NULL;
    char err[96];
    assert_int_equal(lec_json_parse(NULL, s, strlen(s), &v, err, sizeof err), LEC_ERR_INVAL);
    assert_null(v);
    assert_contains(err, why);
}

static void test_values(void **state)
{
    (void)state;
    lec_json *v = parse(" {\"nodes\": [{\"id\": \"edge-us\", \"viewers\": 12, \"draining\": true},"
                        " {\"id\": \"o\", \"x\": null}], \"n\": -1.5e3, \"e\": {}, \"a\": []} ");
    const lec_json *nodes = lec_json_get(v, "nodes");
    assert_int_equal(nodes->type, LEC_JSON_ARRAY);
    assert_int_equal(nodes->len, 2);
    assert_string_equal(lec_json_string(lec_json_get(lec_json_at(nodes, 0), "id"), ""), "edge-us");
    assert_true(lec_json_number(lec_json_get(lec_json_at(nodes, 0), "viewers"), 0) == 12);
    assert_true(lec_json_true(lec_json_get(lec_json_at(nodes, 0), "draining")));
    assert_int_equal(lec_json_get(lec_json_at(nodes, 1), "x")->type, LEC_JSON_NULL);
    assert_true(lec_json_number(lec_json_get(v, "n"), 0) == -1500);
    /* Lookups chain through what is missing or of another type. */
    assert_null(lec_json_at(nodes, 2));
    assert_null(lec_json_get(lec_json_get(v, "missing"), "x"));
    assert_string_equal(lec_json_string(lec_json_get(v, "n"), "dflt"), "dflt");
    assert_int_equal(lec_json_get(v, "e")->len, 0);
    /* Members by position, only of the type asked. */
    assert_int_equal(lec_json_count(v), 4);
    assert_string_equal(lec_json_key(v, 1), "n");
    assert_true(lec_json_number(lec_json_value(v, 1), 0) == -1500);
    assert_null(lec_json_key(v, 4));
    assert_null(lec_json_key(nodes, 0));
    assert_null(lec_json_value(nodes, 0));
    assert_int_equal(lec_json_count(lec_json_get(v, "n")), 0);
    assert_int_equal(lec_json_count(NULL), 0);
    lec_json_free(NULL, v);
}

static void test_strings(void **state)
{
    (void)state;
    lec_json *v = parse("\"a\\\"\\\\\\/\\b\\f\\n\\r\\t \\u00e9 \\u20ac \\ud83d\\ude00 \\u0000z\"");
    static const char want[] = "a\"\\/\b\f\n\r\t \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \0z";
    assert_int_equal(v->len, sizeof want - 1);
    assert_memory_equal(v->str, want, sizeof want - 1);
    assert_int_equal(v->str[v->len], '\0');
    lec_json_free(NULL, v);
    refused("\"\\ud83d\"", "unpaired high surrogate");
    refused("\"\\ude00\"", "unpaired low surrogate");
    refused("\"\\x\"", "bad escape");
    refused("\"\\u12G4\"", "bad \\u escape");
    refused("\"tab\there\"", "control character");
    refused("\"open", "unterminated string");
}

static void test_strict(void **state)
{
    (void)state;
    refused("", "unexpected end");
    refused("{} {}", "trailing bytes");
    refused("{\"a\":1,}", "expected a key");
    refused("[1,]", "unexpected character");
    refused("[1 2]", "expected ',' or ']'");
    refused("{\"a\" 1}", "expected ':'");
    refused("01", "trailing bytes");
    refused("1.", "bad number");
    refused("1e", "bad number");
    refused("-", "unexpected character");
    refused("tru", "unexpected word");
    refused("// c\n1", "unexpected character");
    /* Nesting is bounded: 64 levels parse, 65 do not. */
    char deep[200];
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    deep[128] = '\0';
    lec_json_free(NULL, parse(deep));
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    deep[130] = '\0';
    refused(deep, "nested too deep");
}

/* Every allocation that can fail, failed in turn: an error, no leak. */
static void test_alloc_failures(void **state)
{
    (void)state;
    const char *doc = "{\"a\":[1,2,3,4,5,\"x\",{\"k\":\"v\"}],\"b\":\"s\"}";
    int ok = 0, nomem = 0;
    for (long n = 1; n < 64; n++) {
        failalloc fa;
        failalloc_init(&fa, n);
        lec_json *v = NULL;
        char err[64];
        int rc = lec_json_parse(&fa.alloc, doc, strlen(doc), &v, err, sizeof err);
        if (rc == 0) {
            ok++;
            lec_json_free(&fa.alloc, v);
        } else {
            assert_int_equal(rc, LEC_ERR_NOMEM);
            nomem++;
        }
        assert_int_equal(fa.live, 0);
    }
    assert_true(ok > 0 && nomem > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_strict),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
