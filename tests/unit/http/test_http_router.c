/* Routing: patterns, parameters, 404 and 405, and response building. */
#include "testdata.h"
#include "base/err.h"
#include "http/http_msg.h"
#include "http/http_router.h"

#include <string.h>

static int h1, h2;

static lec_http_req req_for(lec_http_method m, const char *path)
{
    lec_http_req q;
    memset(&q, 0, sizeof q);
    q.method = m;
    q.path = path;
    q.query = "";
    return q;
}

static void setup_router(lec_http_router *r)
{
    lec_http_router_init(r);
    lec_http_route a = {
        .name = "whip", .pattern = "/whip/:stream", .methods = LEC_HTTP_POST, .handler = &h1};
    lec_http_route b = {.name = "whip_res",
                        .pattern = "/whip/:stream/:session",
                        .methods = LEC_HTTP_PATCH | LEC_HTTP_DELETE,
                        .handler = &h2};
    lec_http_route c = {
        .name = "health", .pattern = "/healthz", .methods = LEC_HTTP_GET, .handler = &h1};
    lec_http_route d = {
        .name = "static", .pattern = "/static/*", .methods = LEC_HTTP_GET, .handler = &h2};
    assert_int_equal(lec_http_router_add(r, &a), 0);
    assert_int_equal(lec_http_router_add(r, &b), 0);
    assert_int_equal(lec_http_router_add(r, &c), 0);
    assert_int_equal(lec_http_router_add(r, &d), 0);
}

static void test_match(void **state)
{
    (void)state;
    lec_http_router r;
    setup_router(&r);
    const lec_http_route *rt;
    unsigned allowed;

    lec_http_req q = req_for(LEC_HTTP_POST, "/whip/class%2D1");
    assert_int_equal(lec_http_router_match(&r, &q, &rt, &allowed), 0);
    assert_string_equal(rt->name, "whip");
    assert_string_equal(lec_http_req_param(&q, "stream"), "class-1");

    q = req_for(LEC_HTTP_DELETE, "/whip/s1/abc");
    assert_int_equal(lec_http_router_match(&r, &q, &rt, &allowed), 0);
    assert_string_equal(rt->name, "whip_res");
    assert_string_equal(lec_http_req_param(&q, "stream"), "s1");
    assert_string_equal(lec_http_req_param(&q, "session"), "abc");
    assert_null(lec_http_req_param(&q, "other"));

    q = req_for(LEC_HTTP_HEAD, "/healthz"); /* GET implies HEAD */
    assert_int_equal(lec_http_router_match(&r, &q, &rt, &allowed), 0);

    q = req_for(LEC_HTTP_GET, "/static/js/app.js");
    assert_int_equal(lec_http_router_match(&r, &q, &rt, &allowed), 0);
    assert_string_equal(rt->name, "static");
}

static void test_404_405_400(void **state)
{
    (void)state;
    lec_http_router r;
    setup_router(&r);
    const lec_http_route *rt;
    unsigned allowed = 0;
    lec_http_req q = req_for(LEC_HTTP_GET, "/whip/s1");
    assert_int_equal(lec_http_router_match(&r, &q, &rt, &allowed), LEC_ERR_UNSUPPORTED);
    assert_int_equal(allowed, LEC_HTTP_POST);
    q = req_for(LEC_HTTP_GET, "/whip/");
    assert_int_equal(lec_http_router_match(&r, &q, &rt, &allowed), LEC_ERR_NOTFOUND);
    q = req_for(LEC_HTTP_GET, "/healthz/more");
    assert_int_equal(lec_http_router_match(&r, &q, &rt, &allowed), LEC_ERR_NOTFOUND);
    q = req_for(LEC_HTTP_GET, "/nope");
    assert_int_equal(lec_http_router_match(&r, &q, &rt, &allowed), LEC_ERR_NOTFOUND);
    /* An encoded slash or a bad escape inside a parameter. */
    q = req_for(LEC_HTTP_POST, "/whip/a%2Fb");
    assert_int_equal(lec_http_router_match(&r, &q, &rt, &allowed), LEC_ERR_INVAL);
    q = req_for(LEC_HTTP_POST, "/whip/a%zz");
    assert_int_equal(lec_http_router_match(&r, &q, &rt, &allowed), LEC_ERR_INVAL);
    assert_int_equal(lec_http_router_allowed(&r, "/whip/s/t"), LEC_HTTP_PATCH | LEC_HTTP_DELETE);
    assert_int_equal(lec_http_router_allowed(&r, "/zzz"), 0);

    lec_http_route bad = {.pattern = "nope"};
    assert_int_equal(lec_http_router_add(&r, &bad), LEC_ERR_INVAL);
    lec_http_route ok = {.pattern = "/x", .methods = LEC_HTTP_GET};
    while (r.n < LEC_HTTP_MAX_ROUTES)
        assert_int_equal(lec_http_router_add(&r, &ok), 0);
    assert_int_equal(lec_http_router_add(&r, &ok), LEC_ERR_FULL);
}

static void test_response(void **state)
{
    (void)state;
    lec_http_resp resp;
    lec_http_resp_init(&resp);
    lec_http_resp_error(&resp, 409, "stream %s is not live", "s1");
    assert_int_equal(lec_http_resp_header(&resp, "Retry-After", "%d", 5), 0);
    assert_int_equal(lec_http_resp_header(&resp, "X-Bad", "a\r\nSet-Cookie: x"), LEC_ERR_INVAL);
    assert_true(lec_http_resp_has_header(&resp, "retry-after"));
    assert_false(lec_http_resp_has_header(&resp, "X-Bad"));
    lec_sbuf out;
    lec_sbuf_init(&out, NULL);
    lec_http_resp_serialize(&resp, false, false, "Fri, 27 Nov 2026 17:30:00 GMT", &out);
    assert_contains(out.data, "HTTP/1.1 409 Conflict\r\n");
    assert_contains(out.data, "Date: Fri, 27 Nov 2026 17:30:00 GMT\r\n");
    assert_contains(out.data, "Content-Type: application/json\r\n");
    assert_contains(out.data, "Connection: close\r\n");
    assert_contains(out.data, "Retry-After: 5\r\n");
    assert_contains(out.data, "\r\n\r\n{\"error\":\"stream s1 is not live\",\"status\":409}\n");
    /* HEAD: headers and length, no body. */
    lec_sbuf_reset(&out);
    lec_http_resp_serialize(&resp, true, true, NULL, &out);
    assert_contains(out.data, "Content-Length: 47\r\n");
    assert_true(!strcmp(out.data + out.len - 4, "\r\n\r\n"));
    /* 204: no Content-Length. */
    lec_http_resp_free(&resp);
    lec_http_resp_init(&resp);
    resp.status = 204;
    lec_sbuf_reset(&out);
    lec_http_resp_serialize(&resp, true, false, NULL, &out);
    assert_false(test_contains(out.data, "Content-Length"));
    lec_sbuf_free(&out);
    lec_http_resp_free(&resp);

    char date[40];
    lec_http_date(1795800600ULL * LEC_S, date, sizeof date);
    assert_string_equal(date, "Fri, 27 Nov 2026 17:30:00 GMT");
}

static void test_base_url(void **state)
{
    (void)state;
    lec_http_req q = req_for(LEC_HTTP_POST, "/whip/a");
    lec_http_header hs[] = {{"Host", "edge.example.com:8443"}};
    memcpy(q.headers, hs, sizeof hs);
    q.nheaders = 1;
    lec_sbuf out;
    lec_sbuf_init(&out, NULL);
    lec_http_base_url("https://pub.example.com", &q, "127.0.0.1:8080", &out);
    assert_string_equal(out.data, "https://pub.example.com");
    lec_sbuf_reset(&out);
    lec_http_base_url(NULL, &q, "127.0.0.1:8080", &out);
    assert_string_equal(out.data, "http://edge.example.com:8443");
    lec_sbuf_reset(&out);
    q.headers[0].value = "evil.com/<script>";
    lec_http_base_url(NULL, &q, "127.0.0.1:8080", &out);
    assert_string_equal(out.data, "http://127.0.0.1:8080");
    lec_sbuf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_404_405_400),
        cmocka_unit_test(test_response),
        cmocka_unit_test(test_base_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
