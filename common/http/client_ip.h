/*
 * The client's address for a request, as every part of the node takes it
 * (steering, admission): the connection's address, or, when the
 * connection comes from a trusted proxy (http.trusted_proxies), the
 * rightmost X-Forwarded-For hop that is not a trusted proxy, reading the
 * last header first (proxies append).  A malformed or absurd chain (an
 * empty or unparsable hop, more than 16 hops) believes only the
 * connection.  Pure: no I/O.
 */
#ifndef LEC_HTTP_CLIENT_IP_H
#define LEC_HTTP_CLIENT_IP_H

#include "base/addr.h"
#include "http/http_msg.h"

#include <stdbool.h>
#include <stddef.h>

bool lec_http_ip_in(const lec_ip *ip, const lec_cidr *set, size_t n);
lec_ip lec_http_client_ip(const lec_http_req *req, const lec_ip *conn, const lec_cidr *trusted,
                          size_t ntrusted);

#endif
