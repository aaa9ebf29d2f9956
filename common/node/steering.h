/*
 * Steering on a node (DESIGN.md section 6): where is this viewer
 * (X-Forwarded-For only from http.trusted_proxies; a ?region= hint; geo),
 * which node should serve it (cluster/steer.h), and the answer: serve here,
 * 307 to the chosen node's WHEP URL (RFC 9725: never 301/302), or 503 when
 * every candidate is full.  GET /v1/steer shows the ranking and why.
 */
#ifndef LEC_NODE_STEERING_H
#define LEC_NODE_STEERING_H

#include "http/http_server.h"

struct lec_node;
typedef struct lec_steering lec_steering;

lec_steering *lec_steering_start(struct lec_node *node);
void lec_steering_free(lec_steering *s);
/* After a reload: geo.mmdb and geo.cidr_regions read again (a database
 * that fails to open keeps the running one, logged). */
void lec_steering_reload(lec_steering *s);
/* For POST /whep/<stream>: true when it answered (307 or 503) and the
 * exchange is finished; false to serve the viewer here. */
bool lec_steering_redirect(lec_steering *s, lec_http_ex *ex, const char *stream);

#endif
