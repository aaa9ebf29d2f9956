/* Viewer location: the operator's CIDR table (most specific block wins)
 * before a real MaxMind database written by tests/support/make_test_mmdb.pl;
 * records without a location, misses, a corrupt database. */
#include "testdata.h"
#include "config/config.h"
#include "geo/geo.h"

#include <stdio.h>
#include <string.h>

static lec_geo *open_geo(const char *yaml, const char **why)
{
    lec_config *cfg = NULL;
    lec_sbuf errs;
    lec_sbuf_init(&errs, NULL);
    int rc = lec_config_load_string("geo.yaml", yaml, strlen(yaml), LEC_ROLE_EDGE, &cfg, &errs);
    if (rc)
        fail_msg("%s", errs.data);
    lec_sbuf_free(&errs);
    lec_geo_block blocks[8];
    lec_geo_cfg gc = {.mmdb = cfg->geo.mmdb, .blocks = blocks};
    for (size_t i = 0; i < cfg->geo.cidr_regions.n && i < 8; i++)
        blocks[gc.nblocks++] = (lec_geo_block){cfg->geo.cidr_regions.v[i].cidr,
                                               cfg->geo.cidr_regions.v[i].region};
    lec_geo *g = lec_geo_open(&gc, why);
    lec_config_free(cfg); /* the geo keeps its own copies */
    return g;
}

static lec_geo_result look(const lec_geo *g, const char *addr)
{
    lec_ip ip;
    assert_int_equal(lec_ip_parse(addr, &ip), 0);
    lec_geo_result r;
    lec_geo_lookup(g, &ip, &r);
    return r;
}

#define REGIONS                                                                                    \
    "regions:\n"                                                                                   \
    "  - {name: eu-central-1, lat: 50.1, lon: 8.7}\n"                                              \
    "  - {name: us-east-1, lat: 39.0, lon: -77.5}\n"

static void test_cidr_then_mmdb(void **state)
{
    (void)state;
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "node: {id: e, region: eu-central-1}\n" REGIONS "geo:\n  mmdb: %s\n"
             "  cidr_regions: {\"192.0.2.0/24\": eu-central-1, \"192.0.2.128/25\": us-east-1}\n",
             LEC_TEST_MMDB);
    const char *why = "";
    lec_geo *g = open_geo(yaml, &why);
    assert_non_null(g);

    /* The table comes first, and its most specific block wins. */
    lec_geo_result r = look(g, "192.0.2.200");
    assert_string_equal(r.region, "us-east-1");
    assert_string_equal(r.source, "cidr");
    assert_false(r.located);
    r = look(g, "192.0.2.7");
    assert_string_equal(r.region, "eu-central-1");

    /* Then the database: coordinates, for IPv6 too. */
    r = look(g, "2001:db8:1::9");
    assert_true(r.located);
    assert_string_equal(r.source, "mmdb");
    assert_true(r.lat < -33.8 && r.lat > -33.9);
    assert_true(r.lon > 151.2 && r.lon < 151.3);
    assert_string_equal(r.region, "");

    /* A record without a location, and an address the db lacks. */
    r = look(g, "198.51.100.1");
    assert_false(r.located);
    assert_string_equal(r.source, "");
    r = look(g, "10.1.2.3");
    assert_false(r.located);
    lec_geo_close(g);
}

static void test_mmdb_ipv4(void **state)
{
    (void)state;
    char yaml[512];
    snprintf(yaml, sizeof yaml, "node: {id: e, region: eu-central-1}\n" REGIONS "geo: {mmdb: %s}\n",
             LEC_TEST_MMDB);
    const char *why = "";
    lec_geo *g = open_geo(yaml, &why);
    assert_non_null(g);
    lec_geo_result r = look(g, "192.0.2.55");
    assert_true(r.located);
    assert_true(r.lat > 50.1 && r.lat < 50.2);
    /* No address at all (a lookup before the peer is known). */
    lec_ip none;
    memset(&none, 0, sizeof none);
    lec_geo_lookup(g, &none, &r);
    assert_false(r.located);
    lec_geo_close(g);
}

static void test_bad_database(void **state)
{
    (void)state;
    const char *path = "/tmp/lectern-test-bad.mmdb";
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("this is not a MaxMind database, not even close\n", f);
    fclose(f);
    char yaml[512];
    snprintf(yaml, sizeof yaml, "node: {id: e, region: eu-central-1}\n" REGIONS "geo: {mmdb: %s}\n",
             path);
    const char *why = "";
    assert_null(open_geo(yaml, &why));
    assert_true(strlen(why) > 0);
    remove(path);

    snprintf(yaml, sizeof yaml,
             "node: {id: e, region: eu-central-1}\n" REGIONS
             "geo: {mmdb: /nonexistent/lectern.mmdb}\n");
    why = "";
    assert_null(open_geo(yaml, &why));
    assert_true(strlen(why) > 0);
}

static void test_no_geo(void **state)
{
    (void)state;
    const char *why = "";
    lec_geo *g = open_geo("node: {id: e, region: x}\n", &why);
    assert_non_null(g);
    lec_geo_result r = look(g, "192.0.2.1");
    assert_false(r.located);
    assert_string_equal(r.region, "");
    lec_geo_close(g);
    lec_geo_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr_then_mmdb),
        cmocka_unit_test(test_mmdb_ipv4),
        cmocka_unit_test(test_bad_database),
        cmocka_unit_test(test_no_geo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
