/* Address, socket address and CIDR parsing. */
#include "testdata.h"
#include "base/addr.h"

#include <string.h>

static void test_addr_parse(void **state)
{
    (void)state;
    lec_addr a;
    char buf[LEC_ADDR_STRLEN];
    assert_int_equal(lec_addr_parse("127.0.0.1:8080", &a), 0);
    assert_int_equal(a.port, 8080);
    assert_string_equal(lec_addr_format(&a, buf, sizeof buf), "127.0.0.1:8080");
    assert_int_equal(lec_addr_parse("[::1]:443", &a), 0);
    assert_int_equal(a.ip.family, 6);
    assert_string_equal(lec_addr_format(&a, buf, sizeof buf), "[::1]:443");
    assert_int_equal(lec_addr_parse(":7000", &a), 0);
    assert_true(lec_ip_is_any(&a.ip));
    assert_int_equal(lec_addr_parse("*:0", &a), 0);
    const char *bad[] = {"127.0.0.1", "1.2.3.4:",     "1.2.3.4:65536", "1.2.3.4:-1", "::1:80",
                         "[::1]80",   "[1.2.3.4]:80", "host:80",       "1.2.3.4:8o", "[::1]:"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(lec_addr_parse(bad[i], &a), 0);
}

static void test_cidr(void **state)
{
    (void)state;
    lec_cidr c;
    lec_ip ip;
    assert_int_equal(lec_cidr_parse("10.0.0.0/8", &c), 0);
    assert_int_equal(lec_ip_parse("10.200.3.4", &ip), 0);
    assert_true(lec_cidr_contains(&c, &ip));
    assert_int_equal(lec_ip_parse("11.0.0.1", &ip), 0);
    assert_false(lec_cidr_contains(&c, &ip));
    assert_int_equal(lec_ip_parse("::ffff:10.1.2.3", &ip), 0); /* v4-mapped */
    assert_true(lec_cidr_contains(&c, &ip));
    assert_int_equal(lec_cidr_parse("203.0.113.0/25", &c), 0);
    assert_int_equal(lec_ip_parse("203.0.113.127", &ip), 0);
    assert_true(lec_cidr_contains(&c, &ip));
    assert_int_equal(lec_ip_parse("203.0.113.128", &ip), 0);
    assert_false(lec_cidr_contains(&c, &ip));
    assert_int_equal(lec_cidr_parse("2001:db8::/32", &c), 0);
    assert_int_equal(lec_ip_parse("2001:db8:1::5", &ip), 0);
    assert_true(lec_cidr_contains(&c, &ip));
    assert_int_equal(lec_cidr_parse("0.0.0.0/0", &c), 0);
    assert_true(lec_cidr_contains(&c, &ip) == false); /* family differs */
    assert_int_equal(lec_cidr_parse("192.0.2.7", &c), 0);
    assert_int_equal(c.prefix, 32);
    const char *bad[] = {"10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/",
                         "10.0.0.0/x", "nonsense/8",  "2001:db8::/129"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(lec_cidr_parse(bad[i], &c), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_parse),
        cmocka_unit_test(test_cidr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
