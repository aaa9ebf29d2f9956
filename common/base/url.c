/* http(s) URLs by their grammar (url.h). */
#include "base/url.h"
#include "base/addr.h"
#include "base/err.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int fail(const char **why, const char *w)
{
    if (why)
        *why = w;
    return LEC_ERR_INVAL;
}

static bool reg_name(const char *h, size_t n)
{
    if (!n || n > 253)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (c == '.') {
            if (!label || h[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        if (!isalnum((unsigned char)c) && c != '-')
            return false;
        if (c == '-' && !label)
            return false;
        if (++label > 63)
            return false;
    }
    return label ? h[n - 1] != '-' : n > 1; /* a trailing dot (FQDN) is fine */
}

static bool unreserved(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_' || c == '~';
}

int lec_url_parse(const char *s, lec_url *out, const char **why)
{
    memset(out, 0, sizeof *out);
    const char *p;
    if (!strncasecmp(s, "http://", 7)) {
        p = s + 7;
    } else if (!strncasecmp(s, "https://", 8)) {
        p = s + 8;
        out->https = true;
    } else {
        return fail(why, "not an http:// or https:// URL");
    }
    for (const char *q = s; *q; q++)
        if ((unsigned char)*q <= 0x20 || *q == 0x7f || *q == '\\')
            return fail(why, "a space, control character or backslash");
    /* The authority runs to the first '/', '?' or '#' (RFC 3986 3.2). */
    size_t alen = strcspn(p, "/?#");
    const char *a = p, *end = p + alen;
    if (memchr(a, '@', alen))
        return fail(why, "userinfo in the authority");
    const char *host = a, *hend;
    if (*a == '[') {
        const char *rb = memchr(a, ']', alen);
        if (!rb)
            return fail(why, "an unclosed IPv6 bracket");
        host = a + 1;
        hend = rb;
        size_t hn = (size_t)(hend - host);
        char ip[64];
        lec_ip v6;
        if (!hn || hn >= sizeof ip)
            return fail(why, "a bad IPv6 address");
        memcpy(ip, host, hn);
        ip[hn] = 0;
        if (lec_ip_parse(ip, &v6) || v6.family != 6)
            return fail(why, "a bad IPv6 address");
        p = rb + 1;
    } else {
        hend = memchr(a, ':', alen) ? (const char *)memchr(a, ':', alen) : end;
        if (!reg_name(host, (size_t)(hend - host)))
            return fail(why, "a host that is no name or address");
        p = hend;
    }
    size_t hn = (size_t)(hend - host);
    for (size_t i = 0; i < hn && i + 1 < sizeof out->host; i++)
        out->host[i] = (char)tolower((unsigned char)host[i]);
    if (p < end) {
        if (*p != ':' || p + 1 == end || end - p > 6)
            return fail(why, "a bad port");
        unsigned port = 0;
        for (const char *d = p + 1; d < end; d++) {
            if (!isdigit((unsigned char)*d))
                return fail(why, "a bad port");
            port = port * 10 + (unsigned)(*d - '0');
        }
        if (!port || port > 65535)
            return fail(why, "a port out of range");
        out->port = (uint16_t)port;
    }
    out->path_off = (size_t)(end - s);
    if (*end == '?' || *end == '#')
        return fail(why, "a query or fragment");
    /* The path: segments of unreserved characters and %XX, no dot segments. */
    for (const char *q = end; *q;) {
        if (*q != '/')
            return fail(why, "a bad path");
        const char *seg = ++q;
        while (*q && *q != '/') {
            if (*q == '%' && isxdigit((unsigned char)q[1]) && isxdigit((unsigned char)q[2]))
                q += 3;
            else if (unreserved(*q))
                q++;
            else
                return fail(why, "a bad character in the path");
        }
        if ((q - seg == 1 && seg[0] == '.') || (q - seg == 2 && seg[0] == '.' && seg[1] == '.'))
            return fail(why, "a dot segment in the path");
    }
    return 0;
}
