/* Addresses (addr.h).  inet_pton/ntop are pure conversions, no I/O. */
#include "base/addr.h"
#include "base/err.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lec_ip_parse(const char *s, lec_ip *out)
{
    memset(out, 0, sizeof *out);
    if (strchr(s, ':')) {
        if (inet_pton(AF_INET6, s, out->bytes) != 1)
            return LEC_ERR_INVAL;
        out->family = 6;
    } else {
        if (inet_pton(AF_INET, s, out->bytes) != 1)
            return LEC_ERR_INVAL;
        out->family = 4;
    }
    return 0;
}

static int parse_port(const char *s, uint16_t *out)
{
    if (!*s || strlen(s) > 5)
        return LEC_ERR_INVAL;
    unsigned v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return LEC_ERR_INVAL;
        v = v * 10 + (unsigned)(*s - '0');
    }
    if (v > 65535)
        return LEC_ERR_INVAL;
    *out = (uint16_t)v;
    return 0;
}

int lec_addr_parse(const char *s, lec_addr *out)
{
    memset(out, 0, sizeof *out);
    char host[64];
    const char *colon;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof host)
            return LEC_ERR_INVAL;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        if (!strchr(host, ':'))
            return LEC_ERR_INVAL;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host)
            return LEC_ERR_INVAL;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        if (strchr(host, ':'))
            return LEC_ERR_INVAL; /* an IPv6 address needs brackets */
    }
    if (parse_port(colon + 1, &out->port))
        return LEC_ERR_INVAL;
    if (!host[0] || !strcmp(host, "*")) {
        out->ip.family = 4; /* 0.0.0.0 */
        return 0;
    }
    return lec_ip_parse(host, &out->ip);
}

int lec_cidr_parse(const char *s, lec_cidr *out)
{
    memset(out, 0, sizeof *out);
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t hl = slash ? (size_t)(slash - s) : strlen(s);
    if (hl >= sizeof buf)
        return LEC_ERR_INVAL;
    memcpy(buf, s, hl);
    buf[hl] = '\0';
    if (lec_ip_parse(buf, &out->ip))
        return LEC_ERR_INVAL;
    unsigned max = out->ip.family == 4 ? 32 : 128;
    unsigned prefix = max;
    if (slash) {
        const char *p = slash + 1;
        if (!*p || strlen(p) > 3)
            return LEC_ERR_INVAL;
        prefix = 0;
        for (; *p; p++) {
            if (*p < '0' || *p > '9')
                return LEC_ERR_INVAL;
            prefix = prefix * 10 + (unsigned)(*p - '0');
        }
        if (prefix > max)
            return LEC_ERR_INVAL;
    }
    out->prefix = (uint8_t)prefix;
    for (unsigned bit = prefix; bit < max; bit++)
        if (out->ip.bytes[bit / 8] & (0x80u >> (bit % 8)))
            return LEC_ERR_INVAL;
    return 0;
}

bool lec_ip_equal(const lec_ip *a, const lec_ip *b)
{
    size_t n = a->family == 4 ? 4 : 16;
    return a->family == b->family && !memcmp(a->bytes, b->bytes, n);
}

bool lec_ip_is_any(const lec_ip *ip)
{
    static const uint8_t zero[16];
    return ip->family == 0 || !memcmp(ip->bytes, zero, ip->family == 4 ? 4 : 16);
}

bool lec_cidr_contains(const lec_cidr *c, const lec_ip *ip)
{
    lec_ip v = *ip;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (c->ip.family == 4 && v.family == 6 && !memcmp(v.bytes, mapped, 12)) {
        memmove(v.bytes, v.bytes + 12, 4);
        v.family = 4;
    }
    if (v.family != c->ip.family)
        return false;
    unsigned full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(v.bytes, c->ip.bytes, full))
        return false;
    if (rest) {
        uint8_t mask = (uint8_t)(0xffu << (8 - rest));
        if ((v.bytes[full] & mask) != c->ip.bytes[full])
            return false;
    }
    return true;
}

char *lec_ip_format(const lec_ip *ip, char *out, size_t cap)
{
    if (!ip->family ||
        !inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->bytes, out, (socklen_t)cap))
        snprintf(out, cap, "-");
    return out;
}

char *lec_addr_format(const lec_addr *a, char *out, size_t cap)
{
    char ip[LEC_IP_STRLEN];
    lec_ip_format(&a->ip, ip, sizeof ip);
    snprintf(out, cap, a->ip.family == 6 ? "[%s]:%u" : "%s:%u", ip, (unsigned)a->port);
    return out;
}
