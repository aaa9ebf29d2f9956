/* Who may publish and view on this node (media_int.h): bearer tokens. */
#include "node/media_int.h"

/* Bearer check against a token set; an empty set means open.  A ?token=
 * query also counts: browsers drop Authorization when they follow a
 * steering 307 to another node, so the redirect carries it there. */
/* Viewing without view tokens is open; publishing without publish tokens
 * only when the config says auth.open_publish: true (secure by default). */
bool lec__media_authorized(lec_http_ex *ex, const lec_media *m, bool publish)
{
    const lec_tokens *t = publish ? &m->publish_tokens : &m->view_tokens;
    if (!t->n && (!publish || m->node->cfg->auth.open_publish))
        return true;
    if (!t->n) {
        lec_http_resp_error(&ex->resp, 403,
                            "publishing is closed: this node has no auth.publish_tokens_file "
                            "(set one, or auth.open_publish: true)");
        lec_http_ex_finish(ex);
        return false;
    }
    size_t len = 0;
    const char *tok = lec_http_req_bearer(ex->req, &len);
    if (tok && lec_tokens_check(t, tok, len))
        return true;
    char q[256];
    int qn = lec_http_req_query(ex->req, "token", q, sizeof q);
    if (qn > 0 && (size_t)qn < sizeof q && lec_tokens_check(t, q, (size_t)qn))
        return true;
    lec_http_resp_error(&ex->resp, 401, "a valid bearer token is required");
    lec_http_resp_header(&ex->resp, "WWW-Authenticate", "Bearer realm=\"lectern\"");
    lec_http_ex_finish(ex);
    return false;
}
