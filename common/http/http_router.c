/* Path-pattern routing (http_router.h). */
#include "http/http_router.h"
#include "base/err.h"

#include <string.h>

void lec_http_router_init(lec_http_router *r)
{
    r->n = 0;
}

int lec_http_router_add(lec_http_router *r, const lec_http_route *route)
{
    if (!route->pattern || route->pattern[0] != '/')
        return LEC_ERR_INVAL;
    if (r->n == LEC_HTTP_MAX_ROUTES)
        return LEC_ERR_FULL;
    r->routes[r->n] = *route;
    if (route->methods & LEC_HTTP_GET)
        r->routes[r->n].methods |= LEC_HTTP_HEAD;
    r->n++;
    return 0;
}

/* Matches `path` against `pattern`; fills params when `req` is given.
 * Returns 1 on a match, 0 on none, -1 on a badly encoded parameter. */
static int match(const char *pattern, const char *path, lec_http_req *req)
{
    size_t np = 0;
    while (*pattern && *path) {
        if (*pattern == '*' && pattern[1] == '\0')
            return 1;
        if (*pattern == ':') {
            const char *name = pattern + 1;
            const char *pend = strchr(pattern, '/');
            size_t nlen = pend ? (size_t)(pend - name) : strlen(name);
            const char *send = strchr(path, '/');
            size_t slen = send ? (size_t)(send - path) : strlen(path);
            if (slen == 0)
                return 0;
            if (req) {
                if (np == LEC_HTTP_MAX_PARAMS)
                    return -1;
                if (nlen >= sizeof req->params[np].name)
                    return -1;
                memcpy(req->params[np].name, name, nlen);
                req->params[np].name[nlen] = '\0';
                int n = lec_http_pct_decode(path, slen, req->params[np].value,
                                            sizeof req->params[np].value);
                if (n <= 0 || strchr(req->params[np].value, '/'))
                    return -1;
                np++;
            }
            pattern += 1 + nlen;
            path += slen;
            continue;
        }
        if (*pattern != *path)
            return 0;
        pattern++;
        path++;
    }
    if (*pattern == '*' && pattern[1] == '\0')
        return 1;
    if (*pattern || *path)
        return 0;
    if (req)
        req->nparams = np;
    return 1;
}

int lec_http_router_match(const lec_http_router *r, lec_http_req *req, const lec_http_route **out,
                          unsigned *allowed)
{
    unsigned allow = 0;
    for (size_t i = 0; i < r->n; i++) {
        const lec_http_route *rt = &r->routes[i];
        int m = match(rt->pattern, req->path, NULL);
        if (m <= 0)
            continue;
        allow |= rt->methods;
        if (!(rt->methods & req->method))
            continue;
        if (match(rt->pattern, req->path, req) < 0)
            return LEC_ERR_INVAL;
        *out = rt;
        return 0;
    }
    if (allowed)
        *allowed = allow;
    return allow ? LEC_ERR_UNSUPPORTED : LEC_ERR_NOTFOUND;
}

unsigned lec_http_router_allowed(const lec_http_router *r, const char *path)
{
    unsigned allow = 0;
    for (size_t i = 0; i < r->n; i++)
        if (match(r->routes[i].pattern, path, NULL) > 0)
            allow |= r->routes[i].methods;
    return allow;
}

bool lec_http_route_matches(const lec_http_route *rt, const char *path)
{
    return match(rt->pattern, path, NULL) > 0;
}
