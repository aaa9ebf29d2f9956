/*
 * Request reader over http-parser 2.9 (http_parse.h).
 *
 * http-parser calls back with fragments: a header name may arrive in
 * several pieces when the bytes were split across reads.  We append every
 * fragment to one growing store and record offsets (the store may move when
 * it grows); pointers into it are fixed up once the request is complete.
 * On message completion the parser is paused, so it stops exactly at the
 * end of this request and pipelined bytes stay unconsumed.
 */
#include "http/http_parse.h"
#include "base/err.h"

#include <http_parser.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

typedef struct span {
    size_t off, len;
} span;

struct lec_http_reader {
    http_parser parser;
    http_parser_settings settings;
    lec_http_limits lim;
    const lec_alloc *alloc;
    lec_sbuf store; /* url, header names and values, each NUL-terminated */
    lec_sbuf body;
    span url;
    span names[LEC_HTTP_MAX_HEADERS];
    span values[LEC_HTTP_MAX_HEADERS];
    size_t nheaders;
    size_t header_bytes;
    bool in_value; /* the last header callback was for a value */
    bool url_begun;
    bool started;
    bool done;
    bool expect_continue;
    bool continue_sent;
    int status;
    const char *reason;
    lec_http_req req;
};

static int fail(lec_http_reader *r, int status, const char *reason)
{
    if (!r->status) {
        r->status = status;
        r->reason = reason;
    }
    return -1; /* makes http-parser stop with HPE_CB_* */
}

/* Starts a new NUL-terminated string in the store for `sp`. */
static int begin(lec_http_reader *r, span *sp)
{
    sp->off = r->store.len;
    sp->len = 0;
    lec_sbuf_putc(&r->store, '\0');
    return r->store.oom ? fail(r, 500, "out of memory") : 0;
}

/* Extends `sp`, which must be the last string in the store. */
static int extend(lec_http_reader *r, span *sp, const char *at, size_t len)
{
    r->store.len--; /* drop the NUL */
    lec_sbuf_append(&r->store, at, len);
    lec_sbuf_putc(&r->store, '\0');
    if (r->store.oom)
        return fail(r, 500, "out of memory");
    if (r->store.truncated)
        return fail(r, 431, "request headers too large");
    sp->len += len;
    return 0;
}

static int on_message_begin(http_parser *p)
{
    lec_http_reader *r = p->data;
    r->started = true;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    lec_http_reader *r = p->data;
    r->started = true;
    if (r->url.len + len > r->lim.max_header_bytes || r->url.len + len > 8192)
        return fail(r, 414, "request target too long");
    r->header_bytes += len;
    if (!r->url_begun) {
        r->url_begun = true;
        if (begin(r, &r->url))
            return -1;
    }
    return extend(r, &r->url, at, len);
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    lec_http_reader *r = p->data;
    r->header_bytes += len;
    if (r->header_bytes > r->lim.max_header_bytes)
        return fail(r, 431, "request headers too large");
    if (r->in_value || r->nheaders == 0) {
        if (r->nheaders == LEC_HTTP_MAX_HEADERS)
            return fail(r, 431, "too many request headers");
        r->nheaders++;
        r->in_value = false;
        if (begin(r, &r->names[r->nheaders - 1]))
            return -1;
    }
    return extend(r, &r->names[r->nheaders - 1], at, len);
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    lec_http_reader *r = p->data;
    r->header_bytes += len + 4; /* ": " and CRLF count against the limit too */
    if (r->header_bytes > r->lim.max_header_bytes)
        return fail(r, 431, "request headers too large");
    if (!r->in_value) {
        r->in_value = true;
        if (begin(r, &r->values[r->nheaders - 1]))
            return -1;
    }
    return extend(r, &r->values[r->nheaders - 1], at, len);
}

static int on_headers_complete(http_parser *p)
{
    lec_http_reader *r = p->data;
    /* A last header with a name and no value callback at all. */
    if (r->nheaders && !r->in_value && begin(r, &r->values[r->nheaders - 1]))
        return -1;
    if (p->http_major != 1)
        return fail(r, 505, "only HTTP/1.x is supported");
    if (p->content_length != ULLONG_MAX && p->content_length > r->lim.max_body_bytes)
        return fail(r, 413, "request body too large");
    for (size_t i = 0; i < r->nheaders; i++) {
        if (!strcasecmp(r->store.data + r->names[i].off, "expect")) {
            if (strcasecmp(r->store.data + r->values[i].off, "100-continue"))
                return fail(r, 417, "unsupported Expect header");
            r->expect_continue = true;
        }
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    lec_http_reader *r = p->data;
    if (r->body.len + len > r->lim.max_body_bytes)
        return fail(r, 413, "request body too large");
    lec_sbuf_append(&r->body, at, len);
    if (r->body.oom)
        return fail(r, 500, "out of memory");
    return 0;
}

static int on_message_complete(http_parser *p)
{
    lec_http_reader *r = p->data;
    r->done = true;
    http_parser_pause(p, 1);
    return 0;
}

static void reader_clear(lec_http_reader *r)
{
    lec_sbuf_reset(&r->store);
    lec_sbuf_reset(&r->body);
    r->url = (span){0, 0};
    r->nheaders = 0;
    r->header_bytes = 0;
    r->in_value = r->url_begun = r->started = r->done = false;
    r->expect_continue = r->continue_sent = false;
    r->status = 0;
    r->reason = NULL;
    memset(&r->req, 0, sizeof r->req);
}

lec_http_reader *lec_http_reader_new(const lec_alloc *a, const lec_http_limits *lim)
{
    a = lec_alloc_or_default(a);
    lec_http_reader *r = lec_calloc(a, 1, sizeof *r);
    if (!r)
        return NULL;
    r->alloc = a;
    r->lim = *lim;
    lec_sbuf_init(&r->store, a);
    lec_sbuf_init(&r->body, a);
    r->store.max = (size_t)lim->max_header_bytes * 2 + 1024;
    r->body.max = (size_t)lim->max_body_bytes + 1;
    http_parser_settings_init(&r->settings);
    r->settings.on_message_begin = on_message_begin;
    r->settings.on_url = on_url;
    r->settings.on_header_field = on_header_field;
    r->settings.on_header_value = on_header_value;
    r->settings.on_headers_complete = on_headers_complete;
    r->settings.on_body = on_body;
    r->settings.on_message_complete = on_message_complete;
    lec_http_reader_reset(r);
    return r;
}

void lec_http_reader_del(lec_http_reader *r)
{
    if (!r)
        return;
    lec_sbuf_free(&r->store);
    lec_sbuf_free(&r->body);
    lec_free(r->alloc, r);
}

void lec_http_reader_reset(lec_http_reader *r)
{
    reader_clear(r);
    http_parser_init(&r->parser, HTTP_REQUEST);
    r->parser.data = r;
}

static void finish_request(lec_http_reader *r)
{
    lec_http_req *q = &r->req;
    const char *base = r->store.data;
    q->method_name = http_method_str((enum http_method)r->parser.method);
    q->method = lec_http_method_parse(q->method_name);
    /* Split the target at '?' in place: path and query get their own NULs. */
    char *t = r->store.data + r->url.off;
    char *qm = strchr(t, '?');
    q->path = t;
    q->query = "";
    if (qm) {
        *qm = '\0';
        q->query = qm + 1;
    }
    char *hash = strchr(t, '#'); /* a fragment is never sent, but be safe */
    if (hash)
        *hash = '\0';
    q->nheaders = r->nheaders;
    for (size_t i = 0; i < r->nheaders; i++) {
        q->headers[i].name = base + r->names[i].off;
        q->headers[i].value = base + r->values[i].off;
    }
    lec_sbuf_putc(&r->body, '\0'); /* NUL-terminate for convenience */
    r->body.len--;
    q->body = (const uint8_t *)(r->body.data ? r->body.data : "");
    q->body_len = r->body.len;
    q->keep_alive = http_should_keep_alive(&r->parser) != 0;
    q->http_major = (uint8_t)r->parser.http_major;
    q->http_minor = (uint8_t)r->parser.http_minor;
}

int lec_http_reader_feed(lec_http_reader *r, const uint8_t *data, size_t len, size_t *consumed)
{
    *consumed = 0;
    if (r->status)
        return LEC_ERR_PROTO;
    if (r->done)
        return LEC_HTTP_DONE;
    if (len == 0)
        return LEC_HTTP_NEED_MORE; /* EOF is the shell's business */
    size_t n = http_parser_execute(&r->parser, &r->settings, (const char *)data, len);
    *consumed = n;
    enum http_errno e = HTTP_PARSER_ERRNO(&r->parser);
    if (r->done) {
        finish_request(r);
        if (r->store.oom || r->body.oom)
            return LEC_ERR_NOMEM;
        return LEC_HTTP_DONE;
    }
    if (r->status)
        return r->status == 500 ? LEC_ERR_NOMEM : LEC_ERR_PROTO;
    if (e != HPE_OK) {
        if (e == HPE_INVALID_METHOD)
            fail(r, 501, "unknown method");
        else if (e == HPE_INVALID_VERSION)
            fail(r, 505, "bad HTTP version");
        else if (e == HPE_HEADER_OVERFLOW)
            fail(r, 431, "request headers too large");
        else
            fail(r, 400, http_errno_description(e));
        return LEC_ERR_PROTO;
    }
    return LEC_HTTP_NEED_MORE;
}

bool lec_http_reader_wants_continue(lec_http_reader *r)
{
    if (!r->expect_continue || r->continue_sent || r->done || r->status)
        return false;
    r->continue_sent = true;
    return true;
}

bool lec_http_reader_started(const lec_http_reader *r)
{
    return r->started;
}
int lec_http_reader_status(const lec_http_reader *r)
{
    return r->status;
}
const char *lec_http_reader_reason(const lec_http_reader *r)
{
    return r->reason ? r->reason : "";
}
lec_http_req *lec_http_reader_request(lec_http_reader *r)
{
    return r->done ? &r->req : NULL;
}
