/*
 * What the node's modules register with it and ask of it (node.h): HTTP
 * routes, drain hooks, readiness, the admin bearer and the admin drain,
 * the admin check that answers 401/403, and the join-failure reasons.
 * Below every module that serves: media, status, steering and the
 * built-in routes call these, and this file calls none of them (the end
 * of a drain reaches node.c through node->drained), so node.c, which
 * starts them all, is the only file above them.
 */
#include "base/err.h"
#include "node/node.h"
#include "sys/sys.h"

#define MOD "node"

int lec_node_route(lec_node *node, const char *name, unsigned methods, const char *pattern,
                   lec_http_handler_fn fn, void *ud)
{
    lec_http_route r = {
        .name = name, .pattern = pattern, .methods = methods, .handler = (void *)fn, .ud = ud};
    return lec_http_router_add(&node->router, &r);
}

int lec_node_on_drain(lec_node *node, lec_node_drain_fn fn, void *ud)
{
    if (node->ndrain_hooks == sizeof node->drain_hooks / sizeof node->drain_hooks[0])
        return LEC_ERR_FULL;
    node->drain_hooks[node->ndrain_hooks].fn = fn;
    node->drain_hooks[node->ndrain_hooks++].ud = ud;
    return 0;
}

void lec_node_drain_done(lec_node *node)
{
    if (node->drains_pending && --node->drains_pending == 0 && node->drained)
        node->drained(node);
}

bool lec_node_ready(const lec_node *node)
{
    return node->http && !node->draining;
}

bool lec_node_is_admin(const lec_node *node, const lec_http_req *req)
{
    size_t len = 0;
    const char *tok = lec_http_req_bearer(req, &len);
    return node->admin_tokens.n && tok && lec_tokens_check(&node->admin_tokens, tok, len);
}

void lec_node_set_draining(lec_node *node, bool draining)
{
    if (node->stopping || node->shutting_down || node->draining == draining)
        return;
    node->draining = draining;
    LEC_INFO(&node->log, MOD,
             draining ? "draining (admin): no new sessions"
                      : "drain cancelled (admin): taking sessions again");
    lec_sys_notify(draining ? "STATUS=draining" : "STATUS=serving");
    lec_control_heartbeat_now(node->control);
}

bool lec_node_admin_refused(lec_node *node, lec_http_ex *ex)
{
    if (!node->admin_tokens.n) {
        lec_http_resp_error(&ex->resp, 403, "the admin API is off: set auth.admin_tokens_file");
    } else if (!lec_node_is_admin(node, ex->req)) {
        lec_http_resp_error(&ex->resp, 401, "a valid admin bearer token is required");
        lec_http_resp_header(&ex->resp, "WWW-Authenticate", "Bearer realm=\"lectern-admin\"");
    } else {
        return false;
    }
    lec_http_ex_finish(ex);
    return true;
}

const char *const lec_join_failure_names[LEC_JOIN_FAILURE_REASONS] = {
    "bad_offer", "unauthorized", "not_live", "busy", "full", "upstream", "error",
    "never_connected"};

int lec_node_join_failure_reason(int status)
{
    switch (status) {
    case 201:
    case 307:
        return -1;
    case 400:
    case 406:
    case 413:
    case 415:
    case 422:
        return 0;
    case 401:
    case 403:
        return 1;
    case 404:
    case 409:
        return 2;
    case 429:
        return 3;
    case 503:
        return 4;
    case 502:
    case 504:
        return 5;
    default:
        return status < 400 ? -1 : 6;
    }
}
