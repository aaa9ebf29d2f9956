/*
 * One Lectern node: the main loop (HTTP, signals, control plane), the
 * worker threads (media), the current config, and the lifecycle: start,
 * SIGHUP reload, SIGTERM/SIGINT drain and stop.  origin/ and edge/ are a
 * main() that fills a lec_node_role and calls lec_node_main.
 */
#ifndef LEC_NODE_NODE_H
#define LEC_NODE_NODE_H

#include "config/config.h"
#include "http/http_router.h"
#include "http/http_server.h"
#include "metrics/metrics.h"
#include "node/control.h"
#include "node/media.h"
#include "sys/msgq.h"
#include "node/steering.h"
#include "node/tokens.h"
#include "node/worker.h"

#include <stdbool.h>
#include <uv.h>

typedef struct lec_node lec_node;

/*
 * A drain hook: when the node is told to stop, each hook is called once
 * and must call lec_node_drain_done(node) when its sessions are gone (at
 * once if it has none).  The node stops when all hooks are done, or when
 * the drain deadline passes.
 */
typedef void (*lec_node_drain_fn)(lec_node *node, void *ud);

typedef struct lec_node_role {
    lec_role role;
    const char *binary;  /* "lectern-origin" */
    const char *summary; /* one line for --help */
    /* Adds the role's own routes and hooks; returns 0 or an error. */
    int (*setup)(lec_node *node);
} lec_node_role;

/* Why a viewer's join failed, as an index into lec_join_failure_names,
 * from the WHEP answer's status; -1 when it is no failure (201, 307). */
#define LEC_JOIN_FAILURE_REASONS 8
extern const char *const lec_join_failure_names[LEC_JOIN_FAILURE_REASONS];
int lec_node_join_failure_reason(int status);

struct lec_node {
    const lec_node_role *role;
    lec_config *cfg;
    char *cfg_path; /* NULL: the embedded default */
    lec_log log;
    uv_loop_t *loop;
    uv_signal_t sig_int, sig_term, sig_hup;
    uv_timer_t drain_timer;
    lec_http_router router;
    lec_http_server *http;
    lec_worker *workers;
    unsigned nworkers;
    lec_control *control;
    struct lec_sfu_metrics *sfu_metrics; /* per worker, series registered at start */
    lec_media *media;                    /* set by the role's setup */
    lec_steering *steering;              /* viewer steering (WHEP 307) */
    struct lec_loadmeter *loadmeter;     /* heartbeats' measured load */
    lec_msgq mainq;                      /* workers and NATS post to the main loop here */
    bool mainq_open;
    lec_metrics metrics;     /* slot 0: the main loop; slot 1 + i: worker i */
    lec_tokens admin_tokens; /* auth.admin_tokens_file; empty: admin API off */
    struct {
        lec_metric relay_legs[2], relay_datagrams[2], relay_dropped; /* [in, out] */
        lec_metric pipe_packets, pipe_dropped, shards; /* a stream's viewers over workers */
        lec_metric build_info, draining, nats_connected, nats_reconnects, nats_dropped[5],
            cluster_nodes[2], uptime, egress_capacity, viewers_capacity, publishers, viewers;
        lec_metric sessions[2][3]; /* [publisher, viewer][ok, rejected, ended] */
        lec_metric refused_pending, refused_full; /* admission (media.c) */
        lec_metric join_failures[LEC_JOIN_FAILURE_REASONS]; /* lec_node_join_failure_reason */
    } m;
    char id[65]; /* node.id (restart-only): the log's, never reallocated */
    const lec_clock *clock; /* monotonic, for every module of the node (tests may pass their own) */
    bool draining;
    bool shutting_down; /* SIGTERM/SIGINT seen: drain, then stop */
    bool stopping;
    unsigned drains_pending;
    void (*drained)(lec_node *node); /* node.c's: every hook done: stop */
    struct {
        lec_node_drain_fn fn;
        void *ud;
    } drain_hooks[8];
    unsigned ndrain_hooks;
    lec_tstamp drain_timeout;
    lec_tstamp started_at;
    int exit_code;
};

/* The whole program: arguments, config, run, exit status. */
int lec_node_main(int argc, char **argv, const lec_node_role *role);

/* Adds a route (see lec_http_router_add); during setup only. */
int lec_node_route(lec_node *node, const char *name, unsigned methods, const char *pattern,
                   lec_http_handler_fn fn, void *ud);
/* Whether the request carries a bearer token of auth.admin_tokens_file
 * (false when there is none: the admin API is off). */
bool lec_node_is_admin(const lec_node *node, const lec_http_req *req);
/* Answers 403 (no admin API) or 401 (no valid admin token) and returns
 * true; false when the request carries an admin token (registry.c). */
bool lec_node_admin_refused(lec_node *node, lec_http_ex *ex);
/* Registers a drain hook; during setup only.  LEC_ERR_FULL past 8. */
int lec_node_on_drain(lec_node *node, lec_node_drain_fn fn, void *ud);
void lec_node_drain_done(lec_node *node);
/* Starts draining then stopping, as SIGTERM does. */
void lec_node_shutdown(lec_node *node);
/* Drains without stopping (admin API), or takes sessions again. */
void lec_node_set_draining(lec_node *node, bool draining);
/* (Re)loads the token files of the config; logs problems. */
int lec__node_load_tokens(lec_node *node);
/* Ready to take sessions: running and not draining. */
bool lec_node_ready(const lec_node *node);

/* Built-in routes: /healthz, /readyz, /v1/cluster, /metrics (routes.c). */
int lec__node_add_builtin_routes(lec_node *node);

/* Command line (cli.c). */
typedef struct lec_cli {
    const char *config;
    bool check_config;
    bool verbose;
} lec_cli;

/* The identity tools (identity_cli.c): exit statuses. */
int lec__cli_new_cluster_key(const char *path);
int lec__cli_issue_identity(const char *node, const char *cluster_key, const char *out);

/* Parses argv.  Returns -1 to run, or an exit status (after --help,
 * --version, or a usage error) that main should return. */
int lec__cli_parse(int argc, char **argv, const lec_node_role *role, lec_cli *out);

#endif
