/* Where a peer may send us (allow.h). */
#include "cluster/allow.h"
#include "base/url.h"

#include <string.h>
#include <strings.h>

bool lec_allow_url(const char *url, char *const *hosts, size_t n)
{
    lec_url u;
    if (lec_url_parse(url, &u, NULL))
        return false; /* by its grammar or not at all (base/url.h) */
    if (!n)
        return true;
    size_t hl = strlen(u.host);
    for (size_t i = 0; i < n; i++) {
        size_t el = strlen(hosts[i]);
        if (!el || el > hl)
            continue;
        if (el == hl && !strcasecmp(u.host, hosts[i]))
            return true;
        if (el < hl && u.host[hl - el - 1] == '.' && !strcasecmp(u.host + hl - el, hosts[i]))
            return true;
    }
    return false;
}

bool lec_allow_relay_addr(const char *hostport, const lec_cidr *nets, size_t n)
{
    if (!n)
        return true;
    lec_addr a;
    if (lec_addr_parse(hostport, &a))
        return false;
    for (size_t i = 0; i < n; i++)
        if (lec_cidr_contains(&nets[i], &a.ip))
            return true;
    return false;
}
