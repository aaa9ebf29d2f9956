/* lectern-ctl's HTTP client (fetch.h). */
#define _GNU_SOURCE
#include "fetch.h"

#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_ANSWER (16u << 20)

typedef struct url {
    bool tls;
    char host[304], port[8], path[1024];
} url;

static int parse_url(const char *s, url *u, char *err, size_t cap)
{
    memset(u, 0, sizeof *u);
    if (!strncmp(s, "http://", 7)) {
        s += 7;
    } else if (!strncmp(s, "https://", 8)) {
        u->tls = true;
        s += 8;
    } else {
        snprintf(err, cap, "%s: not an http:// or https:// URL", s);
        return -1;
    }
    const char *slash = strchr(s, '/');
    size_t hostport = slash ? (size_t)(slash - s) : strlen(s);
    char hp[300];
    if (hostport == 0 || hostport >= sizeof hp || strlen(slash ? slash : "/") >= sizeof u->path) {
        snprintf(err, cap, "bad URL");
        return -1;
    }
    memcpy(hp, s, hostport);
    hp[hostport] = '\0';
    snprintf(u->path, sizeof u->path, "%s", slash ? slash : "/");
    const char *port = NULL;
    if (hp[0] == '[') { /* [v6]:port */
        char *close = strchr(hp, ']');
        if (!close) {
            snprintf(err, cap, "bad URL host");
            return -1;
        }
        *close = '\0';
        snprintf(u->host, sizeof u->host, "%s", hp + 1);
        if (close[1] == ':')
            port = close + 2;
    } else {
        char *colon = strrchr(hp, ':');
        if (colon) {
            *colon = '\0';
            port = colon + 1;
        }
        snprintf(u->host, sizeof u->host, "%s", hp);
    }
    snprintf(u->port, sizeof u->port, "%s", port && *port ? port : u->tls ? "443" : "80");
    for (const char *p = u->path; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            snprintf(err, cap, "bad character in the URL path");
            return -1;
        }
    return 0;
}

static int dial(const url *u, int timeout_s, char *err, size_t cap)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    snprintf(err, cap, "%s: no address to connect to", u->host);
    int rc = getaddrinfo(u->host, u->port, &hints, &res);
    if (rc) {
        snprintf(err, cap, "%s: %s", u->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        struct timeval tv = {.tv_sec = timeout_s};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); /* connect too */
        if (connect(fd, a->ai_addr, a->ai_addrlen)) {
            snprintf(err, cap, "%s:%s: %s", u->host, u->port, strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

typedef struct conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    struct timespec deadline; /* the whole request's, CLOCK_MONOTONIC */
} conn;

/* Seconds left before the deadline (at least a millisecond while any is
 * left), set as the socket's timeouts for the next step; false when none. */
static bool time_left(conn *c)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (c->deadline.tv_sec - now.tv_sec) * 1000LL +
                   (c->deadline.tv_nsec - now.tv_nsec) / 1000000;
    if (ms <= 0)
        return false;
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return true;
}

static int tls_start(conn *c, url *u, char *err, size_t cap)
{
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (!c->ctx || !SSL_CTX_set_default_verify_paths(c->ctx))
        goto fail;
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    /* A close without close_notify ends the answer as TCP's FIN would;
     * truncation is caught by Content-Length or chunking. */
    SSL_CTX_set_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    c->ssl = SSL_new(c->ctx);
    /* The certificate must name the host: an address as an IP SAN. */
    bool ip = strchr(u->host, ':') || strspn(u->host, "0123456789.") == strlen(u->host);
    if (!c->ssl || !SSL_set_fd(c->ssl, c->fd) ||
        (ip ? !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), u->host)
            : !SSL_set_tlsext_host_name(c->ssl, u->host) || !SSL_set1_host(c->ssl, u->host)) ||
        SSL_connect(c->ssl) != 1)
        goto fail;
    return 0;
fail:;
    unsigned long e = ERR_get_error();
    const char *why = e ? ERR_reason_error_string(e) : NULL;
    snprintf(err, cap, "TLS with %s: %s", u->host, why ? why : "handshake failed");
    return -1;
}

static void conn_close(conn *c)
{
    if (c->ssl)
        SSL_free(c->ssl);
    if (c->ctx)
        SSL_CTX_free(c->ctx);
    if (c->fd >= 0)
        close(c->fd);
}

static int send_all(conn *c, const char *p, size_t n)
{
    while (n) {
        ssize_t w = c->ssl ? SSL_write(c->ssl, p, (int)n) : send(c->fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            if (!c->ssl && w < 0 && errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Everything until the server closes, at most MAX_ANSWER bytes, before
 * the request's deadline. */
static int recv_all(conn *c, lec_sbuf *out, char *err, size_t cap)
{
    char buf[16384];
    for (;;) {
        if (!time_left(c)) {
            snprintf(err, cap, "reading the answer: timed out");
            return -1;
        }
        ssize_t r = c->ssl ? SSL_read(c->ssl, buf, sizeof buf) : recv(c->fd, buf, sizeof buf, 0);
        if (r == 0 || (c->ssl && r < 0 && SSL_get_error(c->ssl, (int)r) == SSL_ERROR_ZERO_RETURN))
            return 0;
        if (r < 0) {
            if (!c->ssl && errno == EINTR)
                continue;
            snprintf(err, cap, "reading the answer: %s",
                     c->ssl ? "TLS error"
                     : errno == EAGAIN || errno == EWOULDBLOCK ? "timed out"
                                                               : strerror(errno));
            return -1;
        }
        if (out->len + (size_t)r > MAX_ANSWER) {
            snprintf(err, cap, "the answer is larger than %u bytes", MAX_ANSWER);
            return -1;
        }
        lec_sbuf_append(out, buf, (size_t)r);
    }
}

/* A header's value in the head (case-insensitive name), or NULL. */
static const char *header(const char *head, const char *name, char *val, size_t cap)
{
    size_t n = strlen(name);
    for (const char *l = strstr(head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
        const char *h = l + 2;
        if (!strncasecmp(h, name, n) && h[n] == ':') {
            h += n + 1;
            while (*h == ' ' || *h == '\t')
                h++;
            const char *end = strstr(h, "\r\n");
            size_t len = end ? (size_t)(end - h) : strlen(h);
            if (len >= cap)
                len = cap - 1;
            memcpy(val, h, len);
            val[len] = '\0';
            return val;
        }
    }
    return NULL;
}

static int dechunk(const char *p, size_t n, lec_sbuf *out)
{
    const char *end = p + n;
    for (;;) {
        char *after;
        unsigned long size = strtoul(p, &after, 16);
        const char *crlf = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (after == p || !crlf)
            return -1;
        p = crlf + 2;
        if (size == 0)
            return 0;
        if (size > (size_t)(end - p))
            return -1;
        lec_sbuf_append(out, p, size);
        p += size;
        if (end - p < 2 || memcmp(p, "\r\n", 2))
            return -1;
        p += 2;
    }
}

static int parse_answer(const lec_sbuf *raw, ctl_resp *out, char *err, size_t cap)
{
    const char *data = raw->data ? raw->data : "";
    const char *sep = memmem(data, raw->len, "\r\n\r\n", 4);
    int status = 0;
    if (!sep || sscanf(data, "HTTP/1.%*[01] %3d", &status) != 1 || status < 100 || status > 599) {
        snprintf(err, cap, "not an HTTP answer");
        return -1;
    }
    size_t headlen = (size_t)(sep - data) + 2;
    char *head = strndup(data, headlen);
    if (!head) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    const char *body = sep + 4;
    size_t blen = raw->len - (size_t)(body - data);
    char v[64];
    int rc = 0;
    out->status = status;
    lec_sbuf_init(&out->body, NULL);
    if (header(head, "transfer-encoding", v, sizeof v) && strcasestr(v, "chunked")) {
        if (dechunk(body, blen, &out->body)) {
            snprintf(err, cap, "a broken chunked body");
            rc = -1;
        }
    } else if (header(head, "content-length", v, sizeof v)) {
        unsigned long long want = strtoull(v, NULL, 10);
        if (want > blen) {
            snprintf(err, cap, "the answer ended after %zu of %llu bytes", blen, want);
            rc = -1;
        } else {
            lec_sbuf_append(&out->body, body, (size_t)want);
        }
    } else {
        lec_sbuf_append(&out->body, body, blen);
    }
    free(head);
    if (!rc && out->body.oom) {
        snprintf(err, cap, "out of memory");
        rc = -1;
    }
    if (rc)
        lec_sbuf_free(&out->body);
    return rc;
}

int ctl_fetch(const char *method, const char *target, const char *token, int timeout_s,
              ctl_resp *out, char *err, size_t errcap)
{
    url u;
    if (parse_url(target, &u, err, errcap))
        return -1;
    if (token && strpbrk(token, "\r\n")) {
        snprintf(err, errcap, "the token holds a line break");
        return -1;
    }
    conn c = {.fd = -1};
    clock_gettime(CLOCK_MONOTONIC, &c.deadline);
    c.deadline.tv_sec += timeout_s;
    c.fd = dial(&u, timeout_s, err, errcap);
    if (c.fd < 0)
        return -1;
    int rc = !time_left(&c) ? -1 : u.tls ? tls_start(&c, &u, err, errcap) : 0;
    if (rc && !u.tls)
        snprintf(err, errcap, "timed out connecting to %s", u.host);
    lec_sbuf req, raw;
    lec_sbuf_init(&req, NULL);
    lec_sbuf_init(&raw, NULL);
    if (!rc) {
        bool v6 = strchr(u.host, ':') != NULL;
        lec_sbuf_printf(&req, "%s %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: lectern-ctl\r\n"
                        "Accept: application/json\r\nConnection: close\r\nContent-Length: 0\r\n",
                        method, u.path, v6 ? "[" : "", u.host, v6 ? "]" : "", u.port);
        if (token)
            lec_sbuf_printf(&req, "Authorization: Bearer %s\r\n", token);
        lec_sbuf_puts(&req, "\r\n");
        if (req.oom || send_all(&c, req.data, req.len)) {
            snprintf(err, errcap, "sending the request to %s failed", u.host);
            rc = -1;
        }
    }
    if (!rc)
        rc = recv_all(&c, &raw, err, errcap);
    if (!rc)
        rc = parse_answer(&raw, out, err, errcap);
    conn_close(&c);
    lec_sbuf_free(&req);
    lec_sbuf_free(&raw);
    return rc;
}
