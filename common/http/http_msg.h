/*
 * HTTP/1.1 messages as plain data: the request a reader produces and the
 * response a handler fills.  No sockets here (a core); http_server.c moves
 * the bytes.
 */
#ifndef LEC_HTTP_MSG_H
#define LEC_HTTP_MSG_H

#include "base/sbuf.h"
#include "base/time.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum lec_http_method {
    LEC_HTTP_OTHER = 0,
    LEC_HTTP_GET = 1u << 0,
    LEC_HTTP_HEAD = 1u << 1,
    LEC_HTTP_POST = 1u << 2,
    LEC_HTTP_PUT = 1u << 3,
    LEC_HTTP_PATCH = 1u << 4,
    LEC_HTTP_DELETE = 1u << 5,
    LEC_HTTP_OPTIONS = 1u << 6,
} lec_http_method;

#define LEC_HTTP_MAX_HEADERS 64
#define LEC_HTTP_MAX_PARAMS  4

typedef struct lec_http_header {
    const char *name; /* as sent; compare case-insensitively */
    const char *value;
} lec_http_header;

typedef struct lec_http_req {
    lec_http_method method;
    const char *method_name;
    const char *path;  /* target without the query, not decoded */
    const char *query; /* after '?', or "" */
    lec_http_header headers[LEC_HTTP_MAX_HEADERS];
    size_t nheaders;
    const uint8_t *body; /* NUL-terminated for convenience; may hold NULs */
    size_t body_len;
    bool keep_alive;
    uint8_t http_major, http_minor;
    /* Filled by the router: ":name" segments of the matched pattern,
     * percent-decoded. */
    struct {
        char name[32];
        char value[256];
    } params[LEC_HTTP_MAX_PARAMS];
    size_t nparams;
} lec_http_req;

/* The value of the first header called `name` (any case), or NULL. */
const char *lec_http_req_header(const lec_http_req *req, const char *name);
/* The path parameter `name`, or NULL. */
const char *lec_http_req_param(const lec_http_req *req, const char *name);
/* Copies query parameter `name` (percent-decoded) into out; returns its
 * length, or -1 when absent or longer than cap-1. */
int lec_http_req_query(const lec_http_req *req, const char *name, char *out, size_t cap);
/* The bearer token of the Authorization header (its bytes, not copied;
 * *len set), or NULL. */
const char *lec_http_req_bearer(const lec_http_req *req, size_t *len);

lec_http_method lec_http_method_parse(const char *name);
/* "GET, POST" for a mask, in a fixed order. */
void lec_http_methods_format(unsigned mask, lec_sbuf *out);
const char *lec_http_reason(int status);

/* Percent-decodes src[0..len) into out (cap bytes, NUL-terminated).
 * Returns the decoded length, or -1 for a bad escape, an encoded NUL, or
 * when it does not fit. */
int lec_http_pct_decode(const char *src, size_t len, char *out, size_t cap);

typedef struct lec_http_resp {
    int status;
    lec_sbuf headers; /* "Name: value\r\n" lines beyond the standard ones */
    lec_sbuf body;
    char content_type[96];
} lec_http_resp;

void lec_http_resp_init(lec_http_resp *r);
void lec_http_resp_free(lec_http_resp *r);
/* Adds a header line.  Names and values with CR or LF are refused
 * (response splitting); returns 0 or LEC_ERR_INVAL. */
int lec_http_resp_header(lec_http_resp *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Whether a header of that name was added. */
bool lec_http_resp_has_header(const lec_http_resp *r, const char *name);
/* Sets status, a text/plain body and content type. */
void lec_http_resp_text(lec_http_resp *r, int status, const char *text);
/* Sets status and an application/json error body {"error": message}. */
void lec_http_resp_error(lec_http_resp *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets status and content type for a JSON body the caller writes into
 * r->body with the returned writer. */
void lec_http_resp_json(lec_http_resp *r, int status, lec_jw *w);
/* Ends such a body: a final newline, and Cache-Control: no-store (what
 * the API answers is live state). */
void lec_http_resp_json_done(lec_http_resp *r);

/* Serializes status line, headers and (unless `head_only`) body.  `date`
 * is an IMF-fixdate or NULL. */
void lec_http_resp_serialize(const lec_http_resp *r, bool keep_alive, bool head_only,
                             const char *date, lec_sbuf *out);

/* IMF-fixdate (RFC 9110 5.6.7) of Unix-epoch ns into out (>= 30 bytes). */
void lec_http_date(lec_tstamp unix_ns, char *out, size_t cap);

/* The absolute base URL for Location headers: `public_url` when set, else
 * "http://" + the Host header when it is a plausible host[:port], else
 * "http://" + `fallback_host`. */
void lec_http_base_url(const char *public_url, const lec_http_req *req, const char *fallback_host,
                       lec_sbuf *out);

#endif
