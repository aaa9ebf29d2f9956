/* URLs by their grammar (base/url.h), and the allow list on top of it
 * (cluster/allow.h): what a browser would read otherwise is refused. */
#include "testdata.h"
#include "base/err.h"
#include "base/url.h"
#include "cluster/allow.h"

#include <string.h>

static void test_good(void **state)
{
    (void)state;
    lec_url u;
    assert_int_equal(lec_url_parse("https://Edge-1.Lectern.example:8443/whep/class", &u, NULL), 0);
    assert_true(u.https);
    assert_string_equal(u.host, "edge-1.lectern.example");
    assert_int_equal(u.port, 8443);
    assert_int_equal(lec_url_parse("http://127.0.0.1:8080", &u, NULL), 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(lec_url_parse("http://[2001:db8::1]:80/", &u, NULL), 0);
    assert_string_equal(u.host, "2001:db8::1");
    assert_int_equal(lec_url_parse("HTTP://a.example./x%20y/z", &u, NULL), 0);
}

static void test_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "https://evil.tld\\.lectern.example/", /* a browser goes to evil.tld */
        "https://evil.tld\\@lectern.example/",
        "https://user@lectern.example/",
        "https://lectern.example@evil.tld/",
        "https://lectern.example/?next=x",
        "https://lectern.example/#x",
        "https://lectern.example:0/",
        "https://lectern.example:65536/",
        "https://lectern.example:80a/",
        "https://lectern.example:/",
        "https://lec tern.example/",
        "https://lectern.example/a b",
        "https://lectern.example/\t",
        "https://-bad.example/",
        "https://bad-.example/",
        "https://a..example/",
        "https://.example/",
        "https:///path",
        "https://",
        "https://[::1/",
        "https://[nonsense]/",
        "https://lectern.example/../admin",
        "https://lectern.example/a/./b",
        "https://lectern.example/a\"b",
        "https://lec%74ern.example/",
        "ftp://lectern.example/",
        "javascript:alert(1)",
        "//lectern.example/",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lec_url u;
        const char *why = NULL;
        if (lec_url_parse(bad[i], &u, &why) != LEC_ERR_INVAL)
            fail_msg("taken: %s", bad[i]);
        assert_non_null(why);
    }
    char label[80];
    memset(label, 'a', sizeof label);
    memcpy(label, "http://", 7);
    label[sizeof label - 1] = 0; /* a 72-character label */
    lec_url u;
    assert_int_equal(lec_url_parse(label, &u, NULL), LEC_ERR_INVAL);
}

static void test_allow_list(void **state)
{
    (void)state;
    char host[] = "lectern.example";
    char *hosts[] = {host};
    assert_true(lec_allow_url("https://edge-1.lectern.example/", hosts, 1));
    assert_true(lec_allow_url("https://LECTERN.example:8443", hosts, 1));
    assert_false(lec_allow_url("https://evil.tld\\.lectern.example/", hosts, 1));
    assert_false(lec_allow_url("https://evil.tld/.lectern.example/", hosts, 1));
    assert_false(lec_allow_url("https://evil.tld?.lectern.example/", hosts, 1));
    assert_false(lec_allow_url("https://evil.tld#.lectern.example/", hosts, 1));
    assert_false(lec_allow_url("https://lectern.example@evil.tld/", hosts, 1));
    assert_false(lec_allow_url("https://notlectern.example/", hosts, 1));
    /* No list: any URL that parses, none that does not. */
    assert_true(lec_allow_url("https://anything.example/", NULL, 0));
    assert_false(lec_allow_url("https://evil.tld\\.lectern.example/", NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_allow_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
