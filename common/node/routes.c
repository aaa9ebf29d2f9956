/* The routes every node serves: liveness and readiness probes. */
#include "node/node.h"

static void write_status(lec_http_ex *ex, int status, const char *what, lec_node *node)
{
    lec_jw w;
    lec_http_resp_json(&ex->resp, status, &w);
    lec_jw_obj_open(&w);
    lec_jw_key(&w, "status");
    lec_jw_str(&w, what);
    lec_jw_key(&w, "node");
    lec_jw_str(&w, node->cfg->node.id);
    lec_jw_key(&w, "role");
    lec_jw_str(&w, lec_role_name(node->cfg->node.role));
    lec_jw_key(&w, "region");
    lec_jw_str(&w, node->cfg->node.region);
    lec_jw_key(&w, "version");
    lec_jw_str(&w, LEC_VERSION);
    lec_jw_obj_close(&w);
    lec_sbuf_putc(&ex->resp.body, '\n');
    lec_http_resp_header(&ex->resp, "Cache-Control", "no-store");
}

/* Alive: the loop answers.  Load balancers restart a node that fails this. */
static void healthz(lec_http_ex *ex)
{
    write_status(ex, 200, "ok", ex->ud);
    lec_http_ex_finish(ex);
}

/* Ready: takes new sessions.  503 while draining, so that DNS health checks
 * and steering send nobody new here. */
static void readyz(lec_http_ex *ex)
{
    lec_node *node = ex->ud;
    if (lec_node_ready(node)) {
        write_status(ex, 200, "ready", node);
    } else {
        write_status(ex, 503, node->draining ? "draining" : "starting", node);
        lec_http_resp_header(&ex->resp, "Retry-After", "5");
    }
    lec_http_ex_finish(ex);
}

/* The cluster as this node sees it: nodes, streams, RTTs, bus state. */
static void cluster(lec_http_ex *ex)
{
    lec_node *node = ex->ud;
    lec_jw w;
    lec_http_resp_json(&ex->resp, 200, &w);
    lec_jw_obj_open(&w);
    if (node->control) lec_control_json(node->control, &w);
    lec_jw_obj_close(&w);
    lec_sbuf_putc(&ex->resp.body, '\n');
    lec_http_resp_header(&ex->resp, "Cache-Control", "no-store");
    lec_http_ex_finish(ex);
}

int lec__node_add_builtin_routes(lec_node *node)
{
    int rc = lec_node_route(node, "healthz", LEC_HTTP_GET, "/healthz", healthz, node);
    if (!rc) rc = lec_node_route(node, "readyz", LEC_HTTP_GET, "/readyz", readyz, node);
    if (!rc) rc = lec_node_route(node, "cluster", LEC_HTTP_GET, "/v1/cluster", cluster, node);
    return rc;
}
