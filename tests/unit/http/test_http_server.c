/*
 * The HTTP server over real loopback sockets: keep-alive, pipelining,
 * slow and idle clients, limits, asynchronous handlers, clients that leave
 * early, CORS, 100-continue and the connection limit.  The server's loop
 * runs on the test thread; a blocking client runs a scenario on another
 * thread and then stops the loop.  Every socket read has a timeout.
 */
#include "testdata.h"
#include "base/err.h"
#include "http/http_server.h"
#include "sys/sys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct fixture fixture;
typedef void (*scenario_fn)(fixture *f);

struct fixture {
    uv_loop_t loop;
    uv_async_t stop;
    lec_http_router router;
    lec_http_server *server;
    lec_log log;
    uint16_t port;
    scenario_fn scenario;
    char failure[512]; /* set by the client thread */
    int async_done;
};

/* ---- handlers --------------------------------------------------------- */

static void h_hello(lec_http_ex *ex)
{
    lec_http_resp_text(&ex->resp, 200, "hello\n");
    lec_http_ex_finish(ex);
}

static void h_echo(lec_http_ex *ex)
{
    ex->resp.status = 200;
    lec_sbuf_append(&ex->resp.body, ex->req->body, ex->req->body_len);
    lec_http_ex_finish(ex);
}

static void on_later(uv_timer_t *t)
{
    lec_http_ex *ex = t->data;
    fixture *f = ex->ud;
    lec_http_resp_text(&ex->resp, 200, "later\n");
    lec_http_ex_finish(ex); /* may be orphaned: then it just frees */
    f->async_done++;
    uv_close((uv_handle_t *)t, (uv_close_cb)free);
}

static void h_async(lec_http_ex *ex)
{
    fixture *f = ex->ud;
    uv_timer_t *t = malloc(sizeof *t);
    uv_timer_init(&f->loop, t);
    t->data = ex;
    uv_timer_start(t, on_later, 150, 0);
}

/* ---- client helpers (client thread) ----------------------------------- */

#define CHECK(f, cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond) && !(f)->failure[0]) {                                                         \
            snprintf((f)->failure, sizeof(f)->failure, __VA_ARGS__);                               \
            return;                                                                                \
        }                                                                                          \
    } while (0)

static int cli_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        close(fd);
        return -1;
    }
    return fd;
}

static void cli_send(int fd, const char *s)
{
    (void)!write(fd, s, strlen(s));
}

/* Reads one response into buf (NUL-terminated); returns its status, 0 on
 * EOF before any byte, -1 on timeout or error. */
static int cli_response(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            const char *cl = strstr(buf, "Content-Length: ");
            size_t body = cl && cl < end ? (size_t)atoi(cl + 16) : 0;
            size_t need = (size_t)(end + 4 - buf) + body;
            if (len >= need) {
                int status = atoi(buf + 9);
                /* keep any extra bytes out of the way: tests read one at a time */
                buf[need] = '\0';
                return status;
            }
        }
        if (len + 1 >= cap)
            return -1;
        ssize_t n = read(fd, buf + len, 1); /* byte at a time: never eat the next response */
        if (n == 0)
            return len ? -1 : 0;
        if (n < 0)
            return -1;
        len += (size_t)n;
    }
}

/* Whether the server closed the connection (read returns 0 in time). */
static int cli_closed(int fd)
{
    char c;
    ssize_t n = read(fd, &c, 1);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

static uint64_t ms_now(void)
{
    return lec_clock_now(lec_sys_clock()) / LEC_MS;
}

/* ---- fixture ---------------------------------------------------------- */

static void on_stop(uv_async_t *a)
{
    fixture *f = a->data;
    lec_http_server_close(f->server, NULL, NULL);
    uv_close((uv_handle_t *)a, NULL);
}

static void *client_main(void *arg)
{
    fixture *f = arg;
    f->scenario(f);
    uv_async_send(&f->stop);
    return NULL;
}

static void null_sink(void *ud, const char *line, size_t len)
{
    (void)ud;
    (void)line;
    (void)len;
}

static uint32_t per_address; /* max_per_address for the next run; 0: none */

static void run(scenario_fn scenario, char **cors, size_t ncors, uint32_t max_conns)
{
    static fixture f;
    memset(&f, 0, sizeof f);
    f.scenario = scenario;
    assert_int_equal(uv_loop_init(&f.loop), 0);
    lec_log_init(&f.log, null_sink, NULL, NULL);
    lec_http_router_init(&f.router);
    lec_http_route routes[] = {
        {.name = "hello", .pattern = "/hello", .methods = LEC_HTTP_GET, .handler = (void *)h_hello},
        {.name = "echo", .pattern = "/echo", .methods = LEC_HTTP_POST, .handler = (void *)h_echo},
        {.name = "async",
         .pattern = "/async",
         .methods = LEC_HTTP_GET,
         .handler = (void *)h_async,
         .ud = &f},
        {.name = "whip",
         .pattern = "/whip/:s",
         .methods = LEC_HTTP_POST,
         .handler = (void *)h_echo,
         .options_headers = "Accept-Post: application/sdp\r\n"},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        assert_int_equal(lec_http_router_add(&f.router, &routes[i]), 0);
    f.server =
        lec_http_server_new(&f.loop, &f.router, &f.log, lec_sys_clock(), lec_sys_wall_clock());
    lec_strlist origins = {cors, ncors};
    lec_http_server_cfg cfg = {
        .limits = {.max_header_bytes = 2048, .max_body_bytes = 4096},
        .max_connections = max_conns,
        .max_per_address = per_address,
        .request_timeout = 300 * LEC_MS,
        .idle_timeout = 500 * LEC_MS,
        .cors_origins = &origins,
    };
    lec_addr_parse("127.0.0.1:0", &cfg.listen);
    assert_int_equal(lec_http_server_start(f.server, &cfg), 0);
    f.port = lec_http_server_port(f.server);
    assert_true(f.port > 0);
    uv_async_init(&f.loop, &f.stop, on_stop);
    f.stop.data = &f;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, client_main, &f), 0);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    pthread_join(t, NULL);
    assert_int_equal(uv_loop_close(&f.loop), 0); /* every handle was closed */
    if (f.failure[0])
        fail_msg("%s", f.failure);
}

static char star[] = "*";
static char *ANY[] = {star};

/* ---- scenarios -------------------------------------------------------- */

static void sc_keepalive(fixture *f)
{
    char buf[4096];
    int fd = cli_connect(f->port);
    CHECK(f, fd >= 0, "connect failed");
    for (int i = 0; i < 3; i++) {
        cli_send(fd, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
        int st = cli_response(fd, buf, sizeof buf);
        CHECK(f, st == 200, "request %d on one connection: status %d", i, st);
        CHECK(f, strstr(buf, "\r\n\r\nhello\n"), "body: %s", buf);
        CHECK(f, !strstr(buf, "Connection: close"), "keep-alive expected: %s", buf);
    }
    cli_send(fd, "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    int st = cli_response(fd, buf, sizeof buf);
    CHECK(f, st == 200 && strstr(buf, "Connection: close"), "close requested: %d %s", st, buf);
    CHECK(f, cli_closed(fd), "server should close after Connection: close");
    close(fd);
}

static void test_keepalive(void **state)
{
    (void)state;
    run(sc_keepalive, ANY, 1, 100);
}

static void sc_pipelined(fixture *f)
{
    char buf[4096];
    int fd = cli_connect(f->port);
    cli_send(fd, "POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\none"
                 "GET /async HTTP/1.1\r\n\r\n"
                 "POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nthree");
    int st = cli_response(fd, buf, sizeof buf);
    CHECK(f, st == 200 && strstr(buf, "\r\n\r\none"), "first: %d %s", st, buf);
    st = cli_response(fd, buf, sizeof buf);
    CHECK(f, st == 200 && strstr(buf, "\r\n\r\nlater"), "second (async): %d %s", st, buf);
    st = cli_response(fd, buf, sizeof buf);
    CHECK(f, st == 200 && strstr(buf, "\r\n\r\nthree"), "third: %d %s", st, buf);
    close(fd);
}

static void test_pipelined(void **state)
{
    (void)state;
    run(sc_pipelined, ANY, 1, 100);
}

static void sc_slow_client(fixture *f)
{
    char buf[4096];
    int fd = cli_connect(f->port);
    uint64_t t0 = ms_now();
    cli_send(fd, "GET /hello HTTP/1.1\r\nHost: t\r\n"); /* and then nothing */
    usleep(100 * 1000);
    cli_send(fd, "X-Trickle: 1\r\n");
    int st = cli_response(fd, buf, sizeof buf);
    uint64_t dt = ms_now() - t0;
    CHECK(f, st == 408, "slow client: status %d", st);
    CHECK(f, dt >= 250 && dt < 3000, "cut off after %llu ms", (unsigned long long)dt);
    CHECK(f, cli_closed(fd), "connection should be closed after 408");
    close(fd);
    /* The server still serves others. */
    fd = cli_connect(f->port);
    cli_send(fd, "GET /hello HTTP/1.1\r\n\r\n");
    CHECK(f, cli_response(fd, buf, sizeof buf) == 200, "server unhealthy after a slow client");
    close(fd);
}

static void test_slow_client(void **state)
{
    (void)state;
    run(sc_slow_client, ANY, 1, 100);
}

static void sc_idle(fixture *f)
{
    int fd = cli_connect(f->port);
    uint64_t t0 = ms_now();
    CHECK(f, cli_closed(fd), "idle connection should be closed");
    uint64_t dt = ms_now() - t0;
    CHECK(f, dt >= 400 && dt < 3000, "idle closed after %llu ms", (unsigned long long)dt);
    close(fd);
}

static void test_idle(void **state)
{
    (void)state;
    run(sc_idle, ANY, 1, 100);
}

static void sc_limits(fixture *f)
{
    char buf[8192];
    int fd = cli_connect(f->port);
    char req[4096];
    int n = snprintf(req, sizeof req, "GET /hello HTTP/1.1\r\nX-Big: ");
    memset(req + n, 'a', 3000);
    strcpy(req + n + 3000, "\r\n\r\n");
    cli_send(fd, req);
    int st = cli_response(fd, buf, sizeof buf);
    CHECK(f, st == 431, "oversize header: %d", st);
    CHECK(f, strstr(buf, "Connection: close"), "431 must close: %s", buf);
    CHECK(f, cli_closed(fd), "closed after 431");
    close(fd);

    fd = cli_connect(f->port);
    cli_send(fd, "POST /echo HTTP/1.1\r\nContent-Length: 100000\r\n\r\n");
    st = cli_response(fd, buf, sizeof buf);
    CHECK(f, st == 413, "oversize body: %d", st);
    close(fd);

    fd = cli_connect(f->port);
    cli_send(fd, "GARBAGE\r\n\r\n");
    st = cli_response(fd, buf, sizeof buf);
    CHECK(f, st == 400 || st == 501, "garbage: %d", st);
    close(fd);

    fd = cli_connect(f->port);
    cli_send(fd, "GET /nothing HTTP/1.1\r\n\r\n");
    st = cli_response(fd, buf, sizeof buf);
    CHECK(f, st == 404, "unknown path: %d", st);
    cli_send(fd, "DELETE /hello HTTP/1.1\r\n\r\n");
    st = cli_response(fd, buf, sizeof buf);
    CHECK(f, st == 405 && strstr(buf, "Allow: GET, HEAD, OPTIONS\r\n"), "405: %d %s", st, buf);
    cli_send(fd, "HEAD /hello HTTP/1.1\r\n\r\n");
    /* HEAD: Content-Length 6 but no body; read just the head. */
    size_t len = 0;
    buf[0] = '\0';
    while (len < sizeof buf - 1 && !strstr(buf, "\r\n\r\n")) {
        if (read(fd, buf + len, 1) != 1)
            break;
        buf[++len] = '\0';
    }
    CHECK(f, !strncmp(buf, "HTTP/1.1 200", 12) && strstr(buf, "Content-Length: 6"), "HEAD: %s",
          buf);
    cli_send(fd, "GET /hello HTTP/1.1\r\n\r\n");
    st = cli_response(fd, buf, sizeof buf);
    CHECK(f, st == 200 && !strncmp(strstr(buf, "\r\n\r\n"), "\r\n\r\nhello", 9),
          "after HEAD, the next response is intact: %s", buf);
    close(fd);
}

static void test_limits(void **state)
{
    (void)state;
    run(sc_limits, ANY, 1, 100);
}

static void sc_leaves_early(fixture *f)
{
    char buf[4096];
    int fd = cli_connect(f->port);
    cli_send(fd, "GET /async HTTP/1.1\r\n\r\n");
    close(fd); /* gone before the handler answers */
    usleep(300 * 1000);
    CHECK(f, f->async_done == 1, "the async handler should have finished (%d)", f->async_done);
    fd = cli_connect(f->port);
    cli_send(fd, "GET /async HTTP/1.1\r\n\r\n");
    CHECK(f, cli_response(fd, buf, sizeof buf) == 200, "server fine after an orphan");
    close(fd);
}

static void test_leaves_early(void **state)
{
    (void)state;
    run(sc_leaves_early, ANY, 1, 100);
}

static void sc_cors(fixture *f)
{
    char buf[4096];
    int fd = cli_connect(f->port);
    cli_send(fd, "OPTIONS /whip/s1 HTTP/1.1\r\nOrigin: https://school.example\r\n"
                 "Access-Control-Request-Method: POST\r\n"
                 "Access-Control-Request-Headers: authorization, content-type\r\n\r\n");
    int st = cli_response(fd, buf, sizeof buf);
    CHECK(f, st == 204, "preflight: %d", st);
    CHECK(f, strstr(buf, "Access-Control-Allow-Origin: https://school.example\r\n"), "ACAO: %s",
          buf);
    CHECK(f, strstr(buf, "Vary: Origin\r\n"), "Vary: %s", buf);
    CHECK(f, strstr(buf, "Access-Control-Allow-Methods: POST, OPTIONS\r\n"), "methods: %s", buf);
    CHECK(f, strstr(buf, "Access-Control-Allow-Headers: authorization, content-type\r\n"),
          "headers: %s", buf);
    CHECK(f, strstr(buf, "Accept-Post: application/sdp\r\n"), "Accept-Post: %s", buf);
    cli_send(fd, "GET /hello HTTP/1.1\r\nOrigin: https://evil.example\r\n\r\n");
    st = cli_response(fd, buf, sizeof buf);
    CHECK(f, st == 200 && !strstr(buf, "Access-Control-Allow-Origin"), "foreign origin: %s", buf);
    cli_send(fd, "GET /hello HTTP/1.1\r\nOrigin: https://school.example\r\n\r\n");
    st = cli_response(fd, buf, sizeof buf);
    CHECK(f, strstr(buf, "Access-Control-Expose-Headers: Location"), "expose: %s", buf);
    close(fd);
}

static void test_cors(void **state)
{
    (void)state;
    static char school[] = "https://school.example";
    static char *list[] = {school};
    run(sc_cors, list, 1, 100);
}

static void sc_continue(fixture *f)
{
    char buf[4096];
    int fd = cli_connect(f->port);
    cli_send(fd, "POST /echo HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    int st = cli_response(fd, buf, sizeof buf);
    CHECK(f, st == 100, "expected 100 Continue, got %d", st);
    cli_send(fd, "ping");
    st = cli_response(fd, buf, sizeof buf);
    CHECK(f, st == 200 && strstr(buf, "\r\n\r\nping"), "after continue: %d %s", st, buf);
    close(fd);
}

static void test_continue(void **state)
{
    (void)state;
    run(sc_continue, ANY, 1, 100);
}

/* At the limit, the longest idle connection makes room for a new one;
 * when every connection is in the middle of a request, the new one is
 * refused and the others are still served. */
static void sc_max_conns(fixture *f)
{
    char buf[4096];
    int a = cli_connect(f->port);
    usleep(50 * 1000);
    int b = cli_connect(f->port);
    usleep(50 * 1000);
    int c = cli_connect(f->port);
    CHECK(f, c >= 0, "connect");
    CHECK(f, cli_closed(a), "the longest idle connection (the first) makes room");
    cli_send(c, "GET /hello HTTP/1.1\r\n\r\n");
    CHECK(f, cli_response(c, buf, sizeof buf) == 200, "the new connection is served");
    /* Both busy (a request begun): a third is refused. */
    cli_send(b, "GET /hello HTTP/1.1\r\n");
    cli_send(c, "GET /hello HTTP/1.1\r\n");
    usleep(50 * 1000);
    int d = cli_connect(f->port);
    CHECK(f, d < 0 || cli_closed(d), "with every connection busy, a new one is refused");
    cli_send(b, "\r\n");
    CHECK(f, cli_response(b, buf, sizeof buf) == 200, "existing connections still served");
    close(a);
    close(b);
    close(c);
    close(d);
}

static void test_max_conns(void **state)
{
    (void)state;
    run(sc_max_conns, ANY, 1, 2);
}

/* One address keeps at most max_per_address connections. */
static void sc_per_address(fixture *f)
{
    char buf[4096];
    int a = cli_connect(f->port), b = cli_connect(f->port);
    usleep(50 * 1000);
    int c = cli_connect(f->port);
    CHECK(f, c < 0 || cli_closed(c), "a third connection from the address is refused");
    cli_send(a, "GET /hello HTTP/1.1\r\n\r\n");
    CHECK(f, cli_response(a, buf, sizeof buf) == 200, "its others are still served");
    close(b);
    usleep(50 * 1000);
    int d = cli_connect(f->port);
    cli_send(d, "GET /hello HTTP/1.1\r\n\r\n");
    CHECK(f, cli_response(d, buf, sizeof buf) == 200, "one closed: room for another");
    close(a);
    close(c);
    close(d);
}

static void test_per_address(void **state)
{
    (void)state;
    per_address = 2;
    run(sc_per_address, ANY, 1, 100);
    per_address = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keepalive),   cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_slow_client), cmocka_unit_test(test_idle),
        cmocka_unit_test(test_limits),      cmocka_unit_test(test_leaves_early),
        cmocka_unit_test(test_cors),        cmocka_unit_test(test_continue),
        cmocka_unit_test(test_max_conns),   cmocka_unit_test(test_per_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
