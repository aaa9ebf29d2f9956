/*
 * lectern-ctl's HTTP client: one blocking request per connection over
 * http:// or https:// (OpenSSL with the system's CAs; the certificate must
 * name the host), Connection: close, an answer of at most 16 MiB, and a
 * timeout on every step.  Content-Length, chunked and read-to-close bodies.
 */
#ifndef LEC_CTL_FETCH_H
#define LEC_CTL_FETCH_H

#include "base/sbuf.h"

typedef struct ctl_resp {
    int status;
    lec_sbuf body;
} ctl_resp;

/* 0 with *out filled (free out->body), or -1 with the reason in err.
 * `token`: a bearer token, or NULL. */
int ctl_fetch(const char *method, const char *url, const char *token, int timeout_s,
              ctl_resp *out, char *err, size_t errcap);

#endif
