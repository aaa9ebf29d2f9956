/* HTTP request accessors and response building (http_msg.h). */
#include "http/http_msg.h"
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *lec_http_req_header(const lec_http_req *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (!strcasecmp(req->headers[i].name, name))
            return req->headers[i].value;
    return NULL;
}

const char *lec_http_req_param(const lec_http_req *req, const char *name)
{
    for (size_t i = 0; i < req->nparams; i++)
        if (!strcmp(req->params[i].name, name))
            return req->params[i].value;
    return NULL;
}


int lec_http_pct_decode(const char *src, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%') {
            int h, l;
            if (i + 2 >= len || (h = lec_hex_digit(src[i + 1])) < 0 || (l = lec_hex_digit(src[i + 2])) < 0)
                return -1;
            c = (char)(h * 16 + l);
            if (c == '\0')
                return -1;
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    if (cap == 0)
        return -1;
    out[o] = '\0';
    return (int)o;
}

int lec_http_req_query(const lec_http_req *req, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    const char *q = req->query;
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t plen = amp ? (size_t)(amp - q) : strlen(q);
        if (plen >= nlen && !strncmp(q, name, nlen) && (plen == nlen || q[nlen] == '=')) {
            const char *v = plen == nlen ? q + plen : q + nlen + 1;
            size_t vlen = plen == nlen ? 0 : plen - nlen - 1;
            /* '+' means space in a form-encoded query. */
            char tmp[1024];
            if (vlen >= sizeof tmp)
                return -1;
            for (size_t i = 0; i < vlen; i++)
                tmp[i] = v[i] == '+' ? ' ' : v[i];
            return lec_http_pct_decode(tmp, vlen, out, cap);
        }
        q = amp ? amp + 1 : NULL;
    }
    return -1;
}

const char *lec_http_req_bearer(const lec_http_req *req, size_t *len)
{
    const char *a = lec_http_req_header(req, "authorization");
    if (!a || strncasecmp(a, "Bearer ", 7))
        return NULL;
    a += 7;
    while (*a == ' ')
        a++;
    size_t n = strlen(a);
    while (n > 0 && (a[n - 1] == ' ' || a[n - 1] == '\t'))
        n--;
    if (!n)
        return NULL;
    *len = n;
    return a;
}

static const struct {
    lec_http_method m;
    const char *name;
} methods[] = {
    {LEC_HTTP_GET, "GET"},         {LEC_HTTP_HEAD, "HEAD"},   {LEC_HTTP_POST, "POST"},
    {LEC_HTTP_PUT, "PUT"},         {LEC_HTTP_PATCH, "PATCH"}, {LEC_HTTP_DELETE, "DELETE"},
    {LEC_HTTP_OPTIONS, "OPTIONS"},
};

lec_http_method lec_http_method_parse(const char *name)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (!strcmp(methods[i].name, name))
            return methods[i].m;
    return LEC_HTTP_OTHER;
}

void lec_http_methods_format(unsigned mask, lec_sbuf *out)
{
    bool first = true;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        if (mask & methods[i].m) {
            lec_sbuf_printf(out, "%s%s", first ? "" : ", ", methods[i].name);
            first = false;
        }
    }
}

const char *lec_http_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Content";
    case 428:
        return "Precondition Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

void lec_http_resp_init(lec_http_resp *r)
{
    r->status = 200;
    lec_sbuf_init(&r->headers, NULL);
    lec_sbuf_init(&r->body, NULL);
    r->content_type[0] = '\0';
}

void lec_http_resp_free(lec_http_resp *r)
{
    lec_sbuf_free(&r->headers);
    lec_sbuf_free(&r->body);
}

int lec_http_resp_header(lec_http_resp *r, const char *name, const char *fmt, ...)
{
    char value[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof value || strpbrk(value, "\r\n") || strpbrk(name, "\r\n: "))
        return LEC_ERR_INVAL;
    lec_sbuf_printf(&r->headers, "%s: %s\r\n", name, value);
    return 0;
}

bool lec_http_resp_has_header(const lec_http_resp *r, const char *name)
{
    size_t nl = strlen(name);
    const char *p = r->headers.data;
    while (p && *p) {
        if (!strncasecmp(p, name, nl) && p[nl] == ':')
            return true;
        p = strstr(p, "\r\n");
        if (p)
            p += 2;
    }
    return false;
}

void lec_http_resp_text(lec_http_resp *r, int status, const char *text)
{
    r->status = status;
    lec_sbuf_reset(&r->body);
    lec_sbuf_puts(&r->body, text);
    snprintf(r->content_type, sizeof r->content_type, "text/plain; charset=utf-8");
}

void lec_http_resp_error(lec_http_resp *r, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lec_jw w;
    lec_sbuf_reset(&r->body);
    lec_http_resp_json(r, status, &w);
    lec_jw_obj_open(&w);
    lec_jw_key(&w, "error");
    lec_jw_str(&w, msg);
    lec_jw_key(&w, "status");
    lec_jw_int(&w, status);
    lec_jw_obj_close(&w);
    lec_sbuf_putc(&r->body, '\n');
}

void lec_http_resp_json(lec_http_resp *r, int status, lec_jw *w)
{
    r->status = status;
    snprintf(r->content_type, sizeof r->content_type, "application/json");
    lec_jw_init(w, &r->body);
}

void lec_http_resp_json_done(lec_http_resp *r)
{
    lec_sbuf_putc(&r->body, '\n');
    lec_http_resp_header(r, "Cache-Control", "no-store");
}

void lec_http_resp_serialize(const lec_http_resp *r, bool keep_alive, bool head_only,
                             const char *date, lec_sbuf *out)
{
    lec_sbuf_printf(out, "HTTP/1.1 %d %s\r\n", r->status, lec_http_reason(r->status));
    if (date)
        lec_sbuf_printf(out, "Date: %s\r\n", date);
    lec_sbuf_puts(out, "Server: lectern/" LEC_VERSION "\r\n");
    if (r->content_type[0] && (r->body.len || head_only))
        lec_sbuf_printf(out, "Content-Type: %s\r\n", r->content_type);
    /* RFC 9110 8.6: no Content-Length in 1xx and 204 responses. */
    if (r->status >= 200 && r->status != 204)
        lec_sbuf_printf(out, "Content-Length: %zu\r\n", r->body.len);
    if (!keep_alive)
        lec_sbuf_puts(out, "Connection: close\r\n");
    lec_sbuf_append(out, r->headers.data, r->headers.len);
    lec_sbuf_puts(out, "\r\n");
    if (!head_only && r->status != 204 && r->status != 304)
        lec_sbuf_append(out, r->body.data, r->body.len);
}

void lec_http_date(lec_tstamp unix_ns, char *out, size_t cap)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(unix_ns / LEC_S);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, cap, "Thu, 01 Jan 1970 00:00:00 GMT");
        return;
    }
    snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* A Host header we are willing to echo into a Location: host[:port] only. */
static bool plausible_host(const char *h)
{
    size_t n = strlen(h);
    if (!n || n > 255)
        return false;
    for (; *h; h++) {
        char c = *h;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_'))
            return false;
    }
    return true;
}

void lec_http_base_url(const char *public_url, const lec_http_req *req, const char *fallback_host,
                       lec_sbuf *out)
{
    if (public_url && *public_url) {
        lec_sbuf_puts(out, public_url);
        return;
    }
    const char *host = req ? lec_http_req_header(req, "host") : NULL;
    lec_sbuf_printf(out, "http://%s", host && plausible_host(host) ? host : fallback_host);
}
