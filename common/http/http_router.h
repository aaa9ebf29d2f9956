/*
 * Routing: method + path pattern -> handler, with ":name" path parameters
 * ("/whip/:stream").  A core: it matches strings and knows nothing of the
 * connection.  The handler type is opaque here (void *), the server gives
 * it meaning.
 */
#ifndef LEC_HTTP_ROUTER_H
#define LEC_HTTP_ROUTER_H

#include "http/http_msg.h"

#include <stddef.h>

#define LEC_HTTP_MAX_ROUTES 64

typedef struct lec_http_route {
    const char *name;    /* for logs and metrics labels: a fixed, bounded set */
    const char *pattern; /* "/whip/:stream"; a trailing "*" matches any rest */
    unsigned methods;    /* LEC_HTTP_* mask; GET implies HEAD */
    void *handler;
    void *ud;
    const char *options_headers; /* extra header lines for OPTIONS, or NULL */
    /* Called with ud and the final status of every request the route
     * answered (the server's thread), or NULL. */
    void (*answered)(void *ud, int status);
} lec_http_route;

typedef struct lec_http_router {
    lec_http_route routes[LEC_HTTP_MAX_ROUTES];
    size_t n;
} lec_http_router;

void lec_http_router_init(lec_http_router *r);
/* Adds a route (copied; its strings are borrowed and must outlive the
 * router).  LEC_ERR_FULL when there are too many, LEC_ERR_INVAL for a
 * pattern that does not start with '/'. */
int lec_http_router_add(lec_http_router *r, const lec_http_route *route);

/*
 * Finds the route for `method` and the request's path, filling req->params.
 * Returns 0 and *out; LEC_ERR_NOTFOUND when no pattern matches the path
 * (404); LEC_ERR_UNSUPPORTED when patterns match but not for this method
 * (405), with *allowed set to the union of their methods; LEC_ERR_INVAL
 * when a path parameter is badly encoded (400).
 */
int lec_http_router_match(const lec_http_router *r, lec_http_req *req, const lec_http_route **out,
                          unsigned *allowed);

/* Whether `path` matches the route's pattern. */
bool lec_http_route_matches(const lec_http_route *rt, const char *path);

/* The methods allowed on req->path across all routes (0: no route). */
unsigned lec_http_router_allowed(const lec_http_router *r, const char *path);

#endif
