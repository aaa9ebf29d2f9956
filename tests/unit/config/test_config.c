/* The config loader: every error class names file, line and key. */
#include "testdata.h"
#include "base/err.h"
#include "config/config.h"
#include "cluster/steer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NODE "node: {id: o1, role: origin, region: eu}\n"

/* Loads `yaml` as an origin config; returns the error text ("" if valid). */
static char *load(const char *yaml, lec_config **out, int *rc)
{
    static char text[8192];
    lec_sbuf errs;
    lec_sbuf_init(&errs, NULL);
    lec_config *cfg = NULL;
    *rc = lec_config_load_string("t.yaml", yaml, strlen(yaml), LEC_ROLE_ORIGIN, &cfg, &errs);
    snprintf(text, sizeof text, "%s", errs.data ? errs.data : "");
    lec_sbuf_free(&errs);
    if (out)
        *out = cfg;
    else
        lec_config_free(cfg);
    return text;
}

static void expect_error(const char *yaml, const char *msg)
{
    int rc;
    char *e = load(yaml, NULL, &rc);
    assert_int_equal(rc, LEC_ERR_CONFIG);
    assert_contains(e, msg);
}

static void test_minimal_and_defaults(void **state)
{
    (void)state;
    lec_config *c;
    int rc;
    char *e = load(NODE, &c, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(e, "");
    assert_string_equal(c->node.id, "o1");
    assert_int_equal(c->node.role, LEC_ROLE_ORIGIN);
    assert_int_equal(c->workers, 0);
    assert_int_equal(c->worker_spread, 16);
    assert_int_equal(c->http.listen.port, 8080);
    assert_null(c->http.public_url);
    assert_int_equal(c->http.cors_origins.n, 1);
    assert_string_equal(c->http.cors_origins.v[0], "*");
    assert_int_equal(c->ice.port_range.min, 20000);
    assert_int_equal(c->relay.max_depth, 3);
    assert_true(c->relay.linger == 30 * LEC_S);
    assert_false(c->nats.enabled);
    assert_int_equal(c->log.level, LEC_LOG_INFO);
    assert_int_equal(c->limits.max_viewers, 5000);
    assert_false(c->auth.open_publish); /* publishing needs a token by default */
    lec_config_free(c);
    e = load(NODE "auth: {open_publish: true}\n", &c, &rc);
    assert_int_equal(rc, 0);
    assert_true(c->auth.open_publish);
    lec_config_free(c);
}

static void test_full(void **state)
{
    (void)state;
    const char *y =
        "node:\n"
        "  id: edge-1\n"
        "  role: origin\n"
        "  region: us-east-1\n"
        "workers: 4\n"
        "worker_spread: 0\n"
        "http:\n"
        "  listen: '[::]:9000'\n"
        "  public_url: https://e.example.com/\n"
        "  trusted_proxies: [10.0.0.0/8, '2001:db8::/32']\n"
        "ice: {addresses: [127.0.0.1], port_range: 40000-40100, public_ip: 203.0.113.9}\n"
        "relay: {listen: 0.0.0.0:7001, linger: 500ms, prewarm: [eu]}\n"
        "nats: {urls: ['nats://127.0.0.1:4222'], tls: {ca: /ca.pem}}\n"
        "cluster: {trust_key: 1caaf176acd867af4eb89704126613b206f2b07ca1afeebbc4bf3bcb2ffe773c,\n"
        "  identity_file: /etc/lectern/node.identity, allowed_url_hosts: [example.com]}\n"
        "geo: {cidr_regions: {'203.0.113.0/24': eu}}\n"
        "regions:\n"
        "  - {name: eu, lat: 50.1, lon: 8.7}\n"
        "  - {name: us-east-1, lat: 39.0, lon: -77.5}\n"
        "log: {level: debug, format: json}\n"
        "steering: {origin_viewers: never}\n";
    lec_config *c;
    int rc;
    char *e = load(y, &c, &rc);
    assert_string_equal(e, "");
    assert_int_equal(rc, 0);
    assert_int_equal(c->workers, 4);
    assert_int_equal(c->worker_spread, 0);
    assert_int_equal(c->http.listen.ip.family, 6);
    assert_int_equal(c->http.listen.port, 9000);
    assert_string_equal(c->http.public_url, "https://e.example.com");
    assert_int_equal(c->http.trusted_proxies.n, 2);
    assert_int_equal(c->ice.port_range.max, 40100);
    assert_true(c->relay.linger == 500 * LEC_MS);
    assert_true(c->nats.enabled);
    assert_string_equal(c->nats.tls.ca, "/ca.pem");
    assert_true(c->node.location.set); /* from the region */
    assert_true(c->node.location.lat == 39.0);
    assert_int_equal(c->log.format, LEC_LOG_JSON);
    assert_int_equal(c->steering.origin_viewers, LEC_ORIGIN_VIEWERS_NEVER);
    lec_sbuf d;
    lec_sbuf_init(&d, NULL);
    lec_config_dump(c, &d);
    assert_contains(d.data, "steering.origin_viewers=never\n");
    lec_sbuf_free(&d);
    lec_config_free(c);
}

static void test_error_classes(void **state)
{
    (void)state;
    /* unknown key, with its line */
    expect_error(NODE "http:\n  listen: 0.0.0.0:80\n  lisen: 1\n",
                 "t.yaml:4: http.lisen: unknown key");
    expect_error(NODE "bogus: 1\n", "t.yaml:2: bogus: unknown key");
    expect_error(NODE "steering: {origin_viewers: sometimes}\n",
                 "t.yaml:2: steering.origin_viewers: expected own_region, never or always, got "
                 "'sometimes'");
    /* wrong type */
    expect_error(NODE "http: [1, 2]\n", "t.yaml:2: http: expected a mapping, found a list");
    expect_error(NODE "http:\n  cors_origins: '*'\n",
                 "t.yaml:3: http.cors_origins: expected a list");
    expect_error(
        NODE "http:\n  max_body_bytes: lots\n",
        "t.yaml:3: http.max_body_bytes: expected an integer in 1024..16777216, got 'lots'");
    expect_error(NODE "http:\n  listen: {a: 1}\n",
                 "t.yaml:3: http.listen: expected a single value, found a mapping");
    expect_error(NODE "workers: many\n", "t.yaml:2: workers: expected auto or an integer");
    expect_error(NODE "worker_spread: -1\n", "t.yaml:2: worker_spread:");
    /* bad address */
    expect_error(NODE "http: {listen: 'localhost:80'}\n",
                 "t.yaml:2: http.listen: 'localhost:80' is not an address");
    expect_error(NODE "ice:\n  public_ip: 300.1.1.1\n",
                 "t.yaml:3: ice.public_ip: '300.1.1.1' is not an IP address");
    expect_error(NODE "ice:\n  addresses: [10.0.0.1, x]\n",
                 "t.yaml:3: ice.addresses[1]: 'x' is not an IP address");
    expect_error(NODE "http:\n  trusted_proxies: [10.0.0.1/8]\n",
                 "t.yaml:3: http.trusted_proxies[0]");
    /* inverted port range, and a malformed one */
    expect_error(NODE "ice:\n  port_range: 30000-20000\n",
                 "t.yaml:3: ice.port_range: port range is inverted (30000 > 20000)");
    expect_error(NODE "ice:\n  port_range: 20000\n",
                 "t.yaml:3: ice.port_range: expected a port range");
    /* duplicate region, duplicate key */
    expect_error(NODE "regions:\n  - {name: eu, lat: 1, lon: 2}\n  - {name: eu, lat: 3, lon: 4}\n",
                 "t.yaml:4: regions[1].name: duplicate region 'eu'");
    expect_error(NODE "log: {level: info}\nlog: {level: debug}\n",
                 "t.yaml:3: log: duplicate key (first at line 2)");
    /* missing required keys */
    expect_error("http: {listen: 0.0.0.0:80}\n", "t.yaml:1: node: required key is missing");
    expect_error("node:\n  id: a\n  role: origin\n",
                 "t.yaml:2: node.region: required key is missing");
    expect_error(NODE "nats: {creds: /x}\n", "t.yaml:2: nats.urls: required key is missing");
    expect_error(NODE "nats:\n", "nats.urls: required key is missing");
    /* values out of range or malformed */
    expect_error(NODE "relay: {max_depth: 0}\n",
                 "t.yaml:2: relay.max_depth: expected an integer in 1..16");
    expect_error(NODE "relay: {linger: soon}\n", "t.yaml:2: relay.linger: expected a duration");
    expect_error(NODE "nats: {urls: ['nats://x:4222']}\n",
                 "cluster: a cluster needs cluster.trust_key and cluster.identity_file");
    expect_error(NODE "cluster: {trust_key: abc}\n",
                 "t.yaml:2: cluster.trust_key: expected the cluster's public key: 64 hex digits");
    expect_error(NODE "auth: {open_publish: yes}\n",
                 "t.yaml:2: auth.open_publish: expected true or false, got 'yes'");
    expect_error(NODE "http: {public_url: 'ftp://x'}\n",
                 "t.yaml:2: http.public_url: 'ftp://x' is not an absolute");
    expect_error(NODE "nats: {urls: ['http://x']}\n",
                 "t.yaml:2: nats.urls[0]: 'http://x' is not a NATS URL");
    expect_error(NODE "log: {level: loud}\n",
                 "t.yaml:2: log.level: expected debug, info, warn or error, got 'loud'");
    expect_error("node: {id: 'a.b', role: origin, region: eu}\n",
                 "t.yaml:1: node.id: 'a.b' is not a valid name");
    expect_error(NODE "regions:\n  - {name: eu, lat: 91, lon: 2}\n",
                 "t.yaml:3: regions[0].lat: expected degrees in -90..90");
    expect_error("node: {id: a, role: origin, region: eu, location: {lat: 1}}\n",
                 "node.location: needs both lat and lon");
    /* cross-key checks */
    expect_error("node:\n  id: a\n  role: edge\n  region: eu\n",
                 "t.yaml:3: node.role: this is lectern-origin, but the file is for an edge");
    expect_error("node:\n  id: a\n  region: nowhere\nregions:\n  - {name: eu, lat: 1, lon: 2}\n",
                 "t.yaml:3: node.region: 'nowhere' is not listed in regions");
    expect_error(NODE "relay:\n  prewarm: [mars]\n",
                 "t.yaml:3: relay.prewarm: names regions, but no regions are listed");
    expect_error(NODE "nats: {urls: ['nats://a:1'], tls: {cert: /c}}\n",
                 "nats.tls: cert and key go together");
    /* YAML syntax, empty file, non-mapping root, two documents */
    expect_error(NODE "http: {listen: [\n", "t.yaml:3: (yaml): ");
    expect_error("", "t.yaml:1: (root): the file is empty");
    expect_error("- a\n- b\n", "t.yaml:1: (root): expected a mapping of sections, found a list");
    expect_error(NODE "---\nnode: {id: b}\n",
                 "t.yaml:2: (root): only one YAML document is allowed");
    expect_error(NODE "? [a, b]\n: c\n", "keys must be plain words");
}

static void test_all_errors_reported(void **state)
{
    (void)state;
    int rc;
    char *e = load(NODE "a: 1\nb: 2\nhttp: {listen: x, c: 3}\n", NULL, &rc);
    assert_int_equal(rc, LEC_ERR_CONFIG);
    int lines = 0;
    for (char *p = e; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 4);
}

static void test_role_default_from_binary(void **state)
{
    (void)state;
    lec_config *c = NULL;
    const char *y = "node: {id: a, region: eu}\n";
    assert_int_equal(lec_config_load_string("t", y, strlen(y), LEC_ROLE_EDGE, &c, NULL), 0);
    assert_int_equal(c->node.role, LEC_ROLE_EDGE);
    lec_config_free(c);
    assert_int_equal(lec_config_load_string("t", y, strlen(y), LEC_ROLE_ANY, &c, NULL),
                     LEC_ERR_CONFIG);
}

static void test_files(void **state)
{
    (void)state;
    lec_config *c = NULL;
    lec_sbuf errs;
    lec_sbuf_init(&errs, NULL);
    assert_int_equal(
        lec_config_load_file(test_src_path("deploy/origin.yaml"), LEC_ROLE_ORIGIN, &c, &errs), 0);
    lec_config_free(c);
    assert_int_equal(
        lec_config_load_file(test_src_path("deploy/edge.yaml"), LEC_ROLE_EDGE, &c, &errs), 0);
    lec_config_free(c);
    assert_int_equal(lec_config_load_file("/nonexistent/x.yaml", LEC_ROLE_EDGE, &c, &errs),
                     LEC_ERR_IO);
    assert_contains(errs.data, "/nonexistent/x.yaml: cannot open: No such file");
    lec_sbuf_free(&errs);

    /* A huge file is refused before parsing. */
    char path[] = "/tmp/lectern-test-big-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    for (int i = 0; i < (1 << 20) / 16 + 10; i++)
        fputs("# padding line.\n", f);
    fclose(f);
    lec_sbuf_init(&errs, NULL);
    assert_int_equal(lec_config_load_file(path, LEC_ROLE_ORIGIN, &c, &errs), LEC_ERR_CONFIG);
    assert_contains(errs.data, "larger than");
    lec_sbuf_free(&errs);
    unlink(path);
}

static void test_default(void **state)
{
    (void)state;
    lec_config *c = NULL;
    assert_int_equal(lec_config_default(LEC_ROLE_EDGE, &c), 0);
    assert_int_equal(c->node.role, LEC_ROLE_EDGE);
    assert_false(c->nats.enabled);
    lec_config_free(c);
}

typedef struct seen {
    char keys[512];
    int restart;
} seen;

static void on_diff(void *ud, const char *key, bool restart)
{
    seen *s = ud;
    strcat(s->keys, key);
    strcat(s->keys, " ");
    s->restart += restart;
}

static void test_diff_and_adopt(void **state)
{
    (void)state;
    int rc;
    lec_config *a, *b;
    load(NODE "http: {listen: 0.0.0.0:80}\nlog: {level: info}\n", &a, &rc);
    assert_int_equal(rc, 0);
    load(NODE "http: {listen: 0.0.0.0:81, cors_origins: [https://x]}\nlog: {level: debug}\n", &b,
         &rc);
    assert_int_equal(rc, 0);
    seen s = {{0}, 0};
    assert_int_equal(lec_config_diff(a, b, on_diff, &s), 3);
    assert_string_equal(s.keys, "http.listen http.cors_origins log.level ");
    assert_int_equal(s.restart, 1);
    /* The restart-only key keeps its running value; live keys take the new. */
    assert_false(lec_config_adopt_restart_keys(b, a)); /* b now owns a */
    assert_int_equal(b->http.listen.port, 80);
    assert_string_equal(b->http.cors_origins.v[0], "https://x");
    assert_int_equal(b->log.level, LEC_LOG_DEBUG);
    lec_config_free(b);

    /* Equal restart keys: nothing is retained. */
    load(NODE, &a, &rc);
    load(NODE "log: {level: warn}\n", &b, &rc);
    assert_true(lec_config_adopt_restart_keys(b, a));
    lec_config_free(a);
    lec_config_free(b);
}

static void test_dump(void **state)
{
    (void)state;
    int rc;
    lec_config *c;
    load(NODE, &c, &rc);
    lec_sbuf out;
    lec_sbuf_init(&out, NULL);
    lec_config_dump(c, &out);
    assert_contains(out.data, "node.id=o1\n");
    assert_contains(out.data, "workers=auto\n");
    assert_contains(out.data, "ice.port_range=20000-29999\n");
    assert_contains(out.data, "relay.linger=30s\n");
    lec_sbuf_free(&out);
    lec_config_free(c);
    /* Secrets are masked: the TURN credential, the NATS URLs' passwords. */
    const char *y = "node: {id: e1, role: edge, region: r}\n"
                    "nats: {urls: ['nats://lectern:s3cret@10.0.0.5:4222', 'nats://10.0.0.6:4222', "
                    "'tls://a:b@[::1]:4222']}\n"
                    "cluster: {insecure: true}\n"
                    "ice: {servers: ['turn:turn.example:3478'], server_username: u, "
                    "server_credential: hunter2}\n";
    assert_int_equal(lec_config_load_string("t", y, strlen(y), LEC_ROLE_EDGE, &c, NULL), 0);
    lec_sbuf_init(&out, NULL);
    lec_config_dump(c, &out);
    assert_null(strstr(out.data, "s3cret"));
    assert_null(strstr(out.data, "hunter2"));
    assert_null(strstr(out.data, "a:b@"));
    assert_contains(out.data, "nats://lectern:****@10.0.0.5:4222");
    assert_contains(out.data, "nats://10.0.0.6:4222");
    assert_contains(out.data, "ice.server_credential=****\n");
    lec_sbuf_free(&out);
    lec_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_and_defaults),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_error_classes),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_role_default_from_binary),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_diff_and_adopt),
        cmocka_unit_test(test_dump),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
