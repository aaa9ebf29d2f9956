/* The client's address behind trusted proxies (client_ip.h). */
#include "http/client_ip.h"

#include <string.h>
#include <strings.h>

#define MAX_HOPS 16

bool lec_http_ip_in(const lec_ip *ip, const lec_cidr *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lec_cidr_contains(&set[i], ip))
            return true;
    return false;
}

/* Walks one X-Forwarded-For value from its right end: each hop that is a
 * trusted proxy passes the question one step left.  Returns true when the
 * answer is found in *ip (an untrusted hop, or the connection's address
 * when the chain is malformed); false to go on to an earlier header. */
static bool walk_xff(const char *xff, lec_ip *ip, const lec_ip *conn, const lec_cidr *trusted,
                     size_t ntrusted, int *hops)
{
    const char *end = xff + strlen(xff);
    while (end > xff) {
        const char *start = end;
        while (start > xff && start[-1] != ',')
            start--;
        const char *a = start, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        char tok[LEC_IP_STRLEN];
        size_t n = (size_t)(b - a);
        lec_ip hop;
        if (n == 0 || n >= sizeof tok || ++*hops > MAX_HOPS) {
            *ip = *conn; /* malformed or absurd: believe only the connection */
            return true;
        }
        memcpy(tok, a, n);
        tok[n] = '\0';
        if (lec_ip_parse(tok, &hop)) {
            *ip = *conn;
            return true;
        }
        *ip = hop;
        if (!lec_http_ip_in(&hop, trusted, ntrusted))
            return true;
        end = start > xff ? start - 1 : xff;
    }
    return false;
}

lec_ip lec_http_client_ip(const lec_http_req *req, const lec_ip *conn, const lec_cidr *trusted,
                          size_t ntrusted)
{
    lec_ip ip = *conn;
    if (!lec_http_ip_in(conn, trusted, ntrusted))
        return ip;
    int hops = 0;
    for (size_t k = req->nheaders; k-- > 0;) {
        const lec_http_header *h = &req->headers[k];
        if (!strcasecmp(h->name, "x-forwarded-for") &&
            walk_xff(h->value, &ip, conn, trusted, ntrusted, &hops))
            return ip;
    }
    return ip; /* every hop trusted: the leftmost one */
}
