/*
 * The HTTP/1.1 request reader: bytes in, complete requests out, limits
 * enforced.  A core over http-parser (which is itself pure); it keeps no
 * socket and no clock, so a test can feed a request one byte at a time.
 *
 * One reader per connection.  Feed bytes; when a request is complete the
 * reader stops at its end (pipelined bytes after it stay with the caller),
 * the caller handles it, then calls lec_http_reader_reset for the next.
 */
#ifndef LEC_HTTP_PARSE_H
#define LEC_HTTP_PARSE_H

#include "base/alloc.h"
#include "http/http_msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lec_http_limits {
    uint32_t max_header_bytes; /* request line + headers; over: 431 (414 for the target) */
    uint32_t max_body_bytes;   /* over: 413 */
} lec_http_limits;

typedef struct lec_http_reader lec_http_reader;

enum {
    LEC_HTTP_NEED_MORE = 0, /* everything consumed; no complete request yet */
    LEC_HTTP_DONE = 1,      /* a request is complete: lec_http_reader_request */
};

/* NULL when out of memory. */
lec_http_reader *lec_http_reader_new(const lec_alloc *a, const lec_http_limits *lim);
void lec_http_reader_del(lec_http_reader *r);

/* Feeds data[0..len).  Sets *consumed to the bytes used.  Returns
 * LEC_HTTP_NEED_MORE, LEC_HTTP_DONE, or LEC_ERR_PROTO when the request is
 * malformed or over a limit: lec_http_reader_status then gives the status
 * to answer (400, 413, 414, 431, 501, 505) and the connection must close.
 * LEC_ERR_NOMEM when storage ran out. */
int lec_http_reader_feed(lec_http_reader *r, const uint8_t *data, size_t len, size_t *consumed);

/* After headers: the client sent "Expect: 100-continue" and the body is
 * acceptable, so the server should send "100 Continue" now (once). */
bool lec_http_reader_wants_continue(lec_http_reader *r);

/* Whether any byte of a request has arrived (for the slow-client timer). */
bool lec_http_reader_started(const lec_http_reader *r);

/* The error status after LEC_ERR_PROTO, and a short reason. */
int lec_http_reader_status(const lec_http_reader *r);
const char *lec_http_reader_reason(const lec_http_reader *r);

/* The completed request; valid until reset or del. */
lec_http_req *lec_http_reader_request(lec_http_reader *r);

/* Readies the reader for the next request on the same connection. */
void lec_http_reader_reset(lec_http_reader *r);

#endif
