/* libFuzzer: the HTTP request reader and router, fed in pieces whose sizes
 * the first byte chooses, with pipelined requests. */
#include "http/client_ip.h"
#include "http/http_parse.h"
#include "http/http_router.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void handler(void) {}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = 1 + data[0] % 64;
    data++;
    size--;
    static const lec_http_limits lim = {.max_header_bytes = 4096, .max_body_bytes = 8192};
    lec_http_reader *r = lec_http_reader_new(NULL, &lim);
    if (!r)
        return 0;
    lec_http_router router;
    lec_http_router_init(&router);
    lec_http_route routes[] = {
        {.name = "a", .pattern = "/whip/:stream", .methods = LEC_HTTP_POST, .handler = handler},
        {.name = "b",
         .pattern = "/whip/:stream/:id",
         .methods = LEC_HTTP_DELETE | LEC_HTTP_PATCH,
         .handler = handler},
        {.name = "c", .pattern = "/static/*", .methods = LEC_HTTP_GET, .handler = handler},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        lec_http_router_add(&router, &routes[i]);

    size_t off = 0;
    while (off < size) {
        size_t n = size - off < step ? size - off : step, used = 0;
        int rc = lec_http_reader_feed(r, data + off, n, &used);
        if (used > n)
            __builtin_trap(); /* took more than it was given */
        off += used;
        if (rc == LEC_HTTP_DONE) {
            lec_http_req *q = lec_http_reader_request(r);
            if (!q || q->body_len > lim.max_body_bytes)
                __builtin_trap(); /* a request past its limits was let through */
            const lec_http_route *rt;
            unsigned allowed;
            char v[64];
            size_t tl;
            lec_http_router_match(&router, q, &rt, &allowed);
            lec_http_req_query(q, "region", v, sizeof v);
            lec_http_req_bearer(q, &tl);
            lec_http_req_header(q, "content-type");
            /* X-Forwarded-For behind proxies trusted for everything: every
             * hop of every header is walked. */
            lec_cidr all[2];
            if (lec_cidr_parse("0.0.0.0/0", &all[0]) || lec_cidr_parse("::/0", &all[1]))
                __builtin_trap();
            lec_ip conn;
            lec_ip_parse("127.0.0.1", &conn);
            lec_http_client_ip(q, &conn, all, 2);
            lec_http_reader_reset(r);
            continue;
        }
        if (rc < 0)
            break;
        /* Neither done nor an error: the reader wants more, so it must
         * have taken all it was given.  Anything else is a bug. */
        if (used != n)
            __builtin_trap();
    }
    lec_http_reader_del(r);
    return 0;
}
