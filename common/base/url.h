/*
 * http and https URLs as nodes announce them (a heartbeat's http_url, a
 * node's http.public_url), read by their grammar (RFC 3986 3) and nothing
 * looser: scheme "://" host [":" port] [path].  Browsers follow what we
 * put in a Location header, and they read a URL more freely than a
 * naive scan does (a backslash ends the host for them: "https://evil\
 * .lectern.example/" goes to evil), so anything outside the narrow
 * grammar below is refused rather than guessed at:
 *  - scheme http or https (any case);
 *  - no userinfo, query or fragment;
 *  - host: a registered name of letters, digits, '-' and '.' (labels of
 *    1-63, not starting or ending with '-', 253 at most), an IPv4
 *    address, or an IPv6 address in brackets;
 *  - port: 1 to 65535, digits only;
 *  - path: "/" then unreserved characters, '/', and %XX escapes; no dot
 *    segments.
 * No control characters, spaces or backslashes anywhere.
 */
#ifndef LEC_BASE_URL_H
#define LEC_BASE_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEC_URL_HOST_MAX 256

typedef struct lec_url {
    bool https;
    char host[LEC_URL_HOST_MAX]; /* as written (IPv6 without its brackets), lower case */
    uint16_t port;               /* 0: none given */
    size_t path_off;             /* where the path starts in the input (its length when none) */
} lec_url;

/* 0, or LEC_ERR_INVAL with *why (static text) saying what is wrong. */
int lec_url_parse(const char *s, lec_url *out, const char **why);

#endif
