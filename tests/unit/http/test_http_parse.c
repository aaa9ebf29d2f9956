/* The request reader: split input, pipelining, limits, malformed input. */
#include "testdata.h"
#include "base/err.h"
#include "http/http_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const lec_http_limits LIM = {.max_header_bytes = 4096, .max_body_bytes = 1024};

static const char REQ[] = "POST /whip/class-1?x=1&name=a%20b HTTP/1.1\r\n"
                          "Host: example.com:8080\r\n"
                          "Authorization: Bearer  tok-123 \r\n"
                          "Content-Type: application/sdp\r\n"
                          "X-Empty:\r\n"
                          "Content-Length: 12\r\n"
                          "\r\n"
                          "v=0\r\no=- 1\r\n";

static void check_req(lec_http_req *q)
{
    assert_int_equal(q->method, LEC_HTTP_POST);
    assert_string_equal(q->path, "/whip/class-1");
    assert_string_equal(q->query, "x=1&name=a%20b");
    assert_string_equal(lec_http_req_header(q, "content-type"), "application/sdp");
    assert_string_equal(lec_http_req_header(q, "HOST"), "example.com:8080");
    assert_string_equal(lec_http_req_header(q, "x-empty"), "");
    assert_null(lec_http_req_header(q, "missing"));
    size_t tl;
    const char *tok = lec_http_req_bearer(q, &tl);
    assert_non_null(tok);
    assert_int_equal(tl, 7);
    assert_memory_equal(tok, "tok-123", 7);
    char v[32];
    assert_int_equal(lec_http_req_query(q, "name", v, sizeof v), 3);
    assert_string_equal(v, "a b");
    assert_int_equal(lec_http_req_query(q, "x", v, sizeof v), 1);
    assert_int_equal(lec_http_req_query(q, "nope", v, sizeof v), -1);
    assert_int_equal(q->body_len, 12);
    assert_memory_equal(q->body, "v=0\r\no=- 1\r\n", 12);
    assert_true(q->keep_alive);
}

static void test_whole(void **state)
{
    (void)state;
    lec_http_reader *r = lec_http_reader_new(NULL, &LIM);
    size_t used;
    assert_int_equal(lec_http_reader_feed(r, (const uint8_t *)REQ, sizeof REQ - 1, &used),
                     LEC_HTTP_DONE);
    assert_int_equal(used, sizeof REQ - 1);
    check_req(lec_http_reader_request(r));
    lec_http_reader_del(r);
}

static void test_byte_by_byte(void **state)
{
    (void)state;
    lec_http_reader *r = lec_http_reader_new(NULL, &LIM);
    size_t used;
    for (size_t i = 0; i < sizeof REQ - 1; i++) {
        int rc = lec_http_reader_feed(r, (const uint8_t *)REQ + i, 1, &used);
        assert_int_equal(used, 1);
        assert_int_equal(rc, i == sizeof REQ - 2 ? LEC_HTTP_DONE : LEC_HTTP_NEED_MORE);
        if (i == 0)
            assert_true(lec_http_reader_started(r));
    }
    check_req(lec_http_reader_request(r));
    lec_http_reader_del(r);
}

static void test_pipelined(void **state)
{
    (void)state;
    const char two[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n"
                       "Connection: close\r\n\r\n";
    lec_http_reader *r = lec_http_reader_new(NULL, &LIM);
    size_t used, len = sizeof two - 1;
    assert_int_equal(lec_http_reader_feed(r, (const uint8_t *)two, len, &used), LEC_HTTP_DONE);
    assert_string_equal(lec_http_reader_request(r)->path, "/a");
    assert_true(used < len);
    lec_http_reader_reset(r);
    size_t used2;
    assert_int_equal(lec_http_reader_feed(r, (const uint8_t *)two + used, len - used, &used2),
                     LEC_HTTP_DONE);
    assert_int_equal(used + used2, len);
    assert_string_equal(lec_http_reader_request(r)->path, "/b");
    assert_false(lec_http_reader_request(r)->keep_alive);
    lec_http_reader_del(r);
}

static void test_chunked_and_continue(void **state)
{
    (void)state;
    const char req[] = "PATCH /r HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n"
                       "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    lec_http_reader *r = lec_http_reader_new(NULL, &LIM);
    size_t used;
    const char *hdr_end = strstr(req, "\r\n\r\n") + 4;
    size_t hl = (size_t)(hdr_end - req);
    assert_int_equal(lec_http_reader_feed(r, (const uint8_t *)req, hl, &used), LEC_HTTP_NEED_MORE);
    assert_true(lec_http_reader_wants_continue(r));
    assert_false(lec_http_reader_wants_continue(r)); /* once */
    assert_int_equal(lec_http_reader_feed(r, (const uint8_t *)hdr_end, sizeof req - 1 - hl, &used),
                     LEC_HTTP_DONE);
    lec_http_req *q = lec_http_reader_request(r);
    assert_int_equal(q->method, LEC_HTTP_PATCH);
    assert_int_equal(q->body_len, 11);
    assert_memory_equal(q->body, "hello world", 11);
    lec_http_reader_del(r);
}

/* Feeds `req` and expects the reader to refuse it with `status`. */
static void expect_status(const char *req, size_t len, int status)
{
    lec_http_reader *r = lec_http_reader_new(NULL, &LIM);
    size_t used;
    int rc = lec_http_reader_feed(r, (const uint8_t *)req, len, &used);
    assert_int_equal(rc, LEC_ERR_PROTO);
    assert_int_equal(lec_http_reader_status(r), status);
    assert_true(strlen(lec_http_reader_reason(r)) > 0);
    /* Further input is refused the same way. */
    assert_int_equal(lec_http_reader_feed(r, (const uint8_t *)"x", 1, &used), LEC_ERR_PROTO);
    lec_http_reader_del(r);
}

static void test_limits(void **state)
{
    (void)state;
    /* Oversize header: 431 */
    char *big = malloc(8192);
    int n = snprintf(big, 8192, "GET / HTTP/1.1\r\nX-Big: ");
    memset(big + n, 'a', 5000);
    memcpy(big + n + 5000, "\r\n\r\n", 4);
    expect_status(big, (size_t)n + 5004, 431);
    /* Too many headers: 431 */
    n = snprintf(big, 8192, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < LEC_HTTP_MAX_HEADERS + 1; i++)
        n += snprintf(big + n, 8192 - (size_t)n, "H%d: v\r\n", i);
    n += snprintf(big + n, 8192 - (size_t)n, "\r\n");
    expect_status(big, (size_t)n, 431);
    /* Declared body too large: 413 before reading it */
    const char cl[] = "POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n";
    expect_status(cl, sizeof cl - 1, 413);
    /* Chunked body that grows too large: 413 */
    n = snprintf(big, 8192, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n");
    memset(big + n, 'b', 0x400);
    n += 0x400;
    n += snprintf(big + n, 8192 - (size_t)n, "\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n");
    expect_status(big, (size_t)n, 413);
    /* A target longer than the limit: 414 */
    n = snprintf(big, 8192, "GET /");
    memset(big + n, 'p', 5000);
    n += 5000;
    n += snprintf(big + n, 8192 - (size_t)n, " HTTP/1.1\r\n\r\n");
    expect_status(big, (size_t)n, 414);
    free(big);
}

static void test_malformed(void **state)
{
    (void)state;
    const char *bad400[] = {
        "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "GET /\x01 HTTP/1.1\r\n\r\n",
        "\r\n\r\n\r\nGET",
    };
    for (size_t i = 0; i < sizeof bad400 / sizeof bad400[0]; i++) {
        lec_http_reader *r = lec_http_reader_new(NULL, &LIM);
        size_t used;
        int rc = lec_http_reader_feed(r, (const uint8_t *)bad400[i], strlen(bad400[i]), &used);
        assert_true(rc == LEC_ERR_PROTO || rc == LEC_HTTP_NEED_MORE);
        if (rc == LEC_ERR_PROTO)
            assert_int_equal(lec_http_reader_status(r) / 100, 4);
        lec_http_reader_del(r);
    }
    expect_status("FROB / HTTP/1.1\r\n\r\n", 19, 501);
    expect_status("GET / HTTP/2.0\r\n\r\n", 18, 505);
    expect_status("GET / HTTP/1.1\r\nExpect: magic\r\n\r\n", 33, 417);
}

static void test_garbage_never_crashes(void **state)
{
    (void)state;
    /* Deterministic junk in random-sized pieces; every outcome is fine but a crash. */
    uint32_t x = 12345;
    uint8_t buf[512];
    for (int round = 0; round < 300; round++) {
        lec_http_reader *r = lec_http_reader_new(NULL, &LIM);
        for (size_t i = 0; i < sizeof buf; i++) {
            x = x * 1103515245 + 12345;
            buf[i] = (uint8_t)(x >> 16);
        }
        if (round % 2)
            memcpy(buf, "GET / HTTP/1.1\r\n", 16);
        size_t off = 0;
        while (off < sizeof buf) {
            size_t used, chunk = 1 + (off * 7) % 31;
            if (chunk > sizeof buf - off)
                chunk = sizeof buf - off;
            int rc = lec_http_reader_feed(r, buf + off, chunk, &used);
            if (rc != LEC_HTTP_NEED_MORE)
                break;
            off += chunk;
        }
        lec_http_reader_del(r);
    }
}

static void test_pct_decode(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(lec_http_pct_decode("a%2Fb", 5, out, sizeof out), 3);
    assert_string_equal(out, "a/b");
    assert_int_equal(lec_http_pct_decode("a%2", 3, out, sizeof out), -1);
    assert_int_equal(lec_http_pct_decode("a%zz", 4, out, sizeof out), -1);
    assert_int_equal(lec_http_pct_decode("%00", 3, out, sizeof out), -1);
    assert_int_equal(lec_http_pct_decode("0123456789abcdefg", 17, out, sizeof out), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole),
        cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_chunked_and_continue),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_garbage_never_crashes),
        cmocka_unit_test(test_pct_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
