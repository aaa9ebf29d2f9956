/* Where a peer may send us (allow.h). */
#include "cluster/allow.h"

#include <string.h>
#include <strings.h>

bool lec_allow_url(const char *url, char *const *hosts, size_t n)
{
    if (!n)
        return true;
    const char *h = !strncmp(url, "http://", 7) ? url + 7 : !strncmp(url, "https://", 8) ? url + 8 : NULL;
    if (!h)
        return false;
    size_t hl = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/?#");
    if (memchr(h, '@', hl) || !hl || hl > 253)
        return false; /* userinfo: not a plain host */
    for (size_t i = 0; i < n; i++) {
        size_t el = strlen(hosts[i]);
        if (!el || el > hl)
            continue;
        if (el == hl && !strncasecmp(h, hosts[i], hl))
            return true;
        if (el < hl && h[hl - el - 1] == '.' && !strncasecmp(h + hl - el, hosts[i], el))
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
