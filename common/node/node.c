/*
 * The node's lifecycle (node.h).
 *
 * The main loop owns HTTP, signals and (later) the control plane; workers
 * own media.  Stop is two-phase: draining (readyz says 503, drain hooks
 * move or end sessions) then stopping (listeners close, workers join).  A
 * second SIGTERM/SIGINT during the drain stops at once.  SIGHUP loads the
 * file again; keys that need a restart keep their running values and are
 * logged, the rest apply live.
 */
#include "node/node.h"
#include "base/err.h"
#include "cluster/cluster.h"
#include "node/loadmeter.h"
#include "sctp/sctp.h"
#include "sfu/sfu.h"
#include "sys/sys.h"

#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "node"

static void apply_log_config(lec_node *node)
{
    lec_log_set_level(&node->log, node->cfg->log.level);
    lec_log_set_format(&node->log, node->cfg->log.format);
    /* Workers read log.node while they log: it points at the node's own
     * copy, set once (node.id needs a restart), never at a config that a
     * reload frees. */
    if (!node->log.node) {
        snprintf(node->id, sizeof node->id, "%s", node->cfg->node.id ? node->cfg->node.id : "");
        node->log.node = node->id;
    }
}

/* Files named by the config whose contents may change under the same
 * config: auth token files and the geo database.  Re-read on every
 * SIGHUP, so a revoked token is refused without a restart. */
static void reload_files(lec_node *node)
{
    lec__node_load_tokens(node); /* a broken file keeps the old tokens */
    if (node->media)
        lec_media_load_tokens(node->media);
    if (node->steering)
        lec_steering_reload(node->steering);
}

/* ---- stop ------------------------------------------------------------- */

static void on_http_closed(void *ud)
{
    (void)ud;
}

static void node_stop(lec_node *node)
{
    if (node->stopping)
        return;
    node->stopping = true;
    LEC_INFO(&node->log, MOD, "stopping");
    lec_sys_notify("STOPPING=1");
    uv_timer_stop(&node->drain_timer);
    uv_close((uv_handle_t *)&node->drain_timer, NULL);
    uv_close((uv_handle_t *)&node->sig_int, NULL);
    uv_close((uv_handle_t *)&node->sig_term, NULL);
    uv_close((uv_handle_t *)&node->sig_hup, NULL);
    lec_control_close(node->control);
    node->control = NULL;
    lec_media_close(node->media);
    if (node->mainq_open) {
        lec_msgq_close(&node->mainq, NULL);
        node->mainq_open = false;
    }
    if (node->http) {
        lec_http_server_close(node->http, on_http_closed, node);
        node->http = NULL;
    }
}

static void on_drain_timeout(uv_timer_t *t)
{
    lec_node *node = t->data;
    LEC_WARN(&node->log, MOD, "drain did not finish within %.0f s; stopping anyway",
             (double)node->drain_timeout / 1e9);
    node_stop(node);
}

int lec__node_load_tokens(lec_node *node)
{
    lec_tokens fresh = {0};
    const char *path = node->cfg->auth.admin_tokens_file, *why = "";
    if (path) {
        int rc = lec_tokens_load(&fresh, path, &why);
        if (rc) {
            LEC_ERROR(&node->log, MOD, "auth.admin_tokens_file %s: %s", path, why);
            return rc;
        }
    }
    lec_tokens_free(&node->admin_tokens);
    node->admin_tokens = fresh;
    return 0;
}

void lec_node_shutdown(lec_node *node)
{
    if (node->stopping)
        return;
    if (node->shutting_down) {
        LEC_WARN(&node->log, MOD, "asked again: stopping without waiting for the drain");
        node_stop(node);
        return;
    }
    node->shutting_down = true;
    node->draining = true;
    LEC_INFO(&node->log, MOD, "draining: no new sessions");
    lec_sys_notify("STATUS=draining");
    lec_control_heartbeat_now(node->control);      /* tell the cluster at once */
    node->drains_pending = node->ndrain_hooks + 1; /* +1: ours, released below */
    for (unsigned i = 0; i < node->ndrain_hooks; i++)
        node->drain_hooks[i].fn(node, node->drain_hooks[i].ud);
    if (node->drains_pending > 1)
        uv_timer_start(&node->drain_timer, on_drain_timeout,
                       (node->drain_timeout + LEC_MS - 1) / LEC_MS, 0);
    lec_node_drain_done(node);
}

/* ---- reload ----------------------------------------------------------- */

static void log_changed(void *ud, const char *key, bool needs_restart)
{
    lec_node *node = ud;
    if (needs_restart)
        LEC_WARN(&node->log, MOD, "reload: %s changed; it takes effect after a restart", key);
    else
        LEC_INFO(&node->log, MOD, "reload: %s updated", key);
}

static void reload(lec_node *node)
{
    if (!node->cfg_path) {
        LEC_INFO(&node->log, MOD, "reload: running the embedded default; nothing to read");
        return;
    }
    lec_sbuf errs;
    lec_sbuf_init(&errs, NULL);
    lec_config *next = NULL;
    int rc = lec_config_load_file(node->cfg_path, node->role->role, &next, &errs);
    if (rc) {
        /* One log line per problem, each "file:line: key: reason". */
        for (char *line = errs.data, *nl; line && *line; line = nl + 1) {
            nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            LEC_ERROR(&node->log, MOD, "reload: %s", line);
            if (!nl)
                break;
        }
        LEC_ERROR(&node->log, MOD, "reload failed (%s); the running config stays",
                  lec_strerror(rc));
        lec_sbuf_free(&errs);
        return;
    }
    lec_sbuf_free(&errs);
    int changed = lec_config_diff(node->cfg, next, log_changed, node);
    if (changed <= 0) {
        lec_config_free(next);
        reload_files(node);
        LEC_INFO(&node->log, MOD, "reload: no config change; token files and geo read again");
        return;
    }
    lec_config *prev = node->cfg;
    if (lec_config_adopt_restart_keys(next, prev))
        lec_config_free(prev); /* nothing of it is referenced by next */
    node->cfg = next;
    apply_log_config(node);
    node->drain_timeout = next->node.drain_timeout;
    reload_files(node);
    lec_http_server_cfg hc;
    lec_http_server_cfg_from(&hc, next);
    lec_http_server_configure(node->http, &hc);
    LEC_INFO(&node->log, MOD, "reload: applied %d change(s)", changed);
}

static void on_signal(uv_signal_t *h, int signum)
{
    lec_node *node = h->data;
    if (signum == SIGHUP) {
        lec_sys_notify_reloading();
        reload(node);
        lec_sys_notify("READY=1\nSTATUS=serving");
        return;
    }
    LEC_INFO(&node->log, MOD, "%s received", signum == SIGINT ? "SIGINT" : "SIGTERM");
    lec_node_shutdown(node);
}

/* ---- start ------------------------------------------------------------ */

static int start_workers(lec_node *node)
{
    node->workers = calloc(node->nworkers, sizeof *node->workers);
    if (!node->workers)
        return LEC_ERR_NOMEM;
    for (unsigned i = 0; i < node->nworkers; i++) {
        int rc = lec_worker_start(&node->workers[i], i, &node->log);
        if (rc) {
            LEC_ERROR(&node->log, MOD, "cannot start worker %u", i);
            return rc;
        }
    }
    return 0;
}

static void stop_workers(lec_node *node)
{
    for (unsigned i = 0; i < node->nworkers && node->workers; i++)
        lec_worker_stop(&node->workers[i]);
    free(node->workers);
    node->workers = NULL;
}

#define JOIN_FAILURES_HELP                                                                         \
    "Viewers who did not get to play: the offer refused (bad_offer, unauthorized, not_live, "      \
    "busy, full or draining, upstream, error) or ICE and DTLS never completed"

/* The media engine's series, one set shared by every worker (each records
 * into its own metrics slot). */
static void register_media_metrics(lec_node *node)
{
    lec_metrics *m = &node->metrics;
    node->sfu_metrics = calloc(node->nworkers, sizeof *node->sfu_metrics);
    if (!node->sfu_metrics)
        return;
    static const char *const kinds[] = {"audio", "video"};
    lec_sfu_metrics t = {.m = m};
    char labels[64];
    for (int k = 0; k < 2; k++) {
        snprintf(labels, sizeof labels, "direction=\"in\",kind=\"%s\"", kinds[k]);
        t.rtp_in[k] = lec_metrics_counter(m, "lectern_rtp_packets_total", labels, "RTP packets");
        t.bytes_in[k] = lec_metrics_counter(m, "lectern_rtp_bytes_total", labels, "RTP bytes");
        snprintf(labels, sizeof labels, "direction=\"out\",kind=\"%s\"", kinds[k]);
        t.rtp_out[k] = lec_metrics_counter(m, "lectern_rtp_packets_total", labels, "RTP packets");
        t.bytes_out[k] = lec_metrics_counter(m, "lectern_rtp_bytes_total", labels, "RTP bytes");
    }
    t.lost_in = lec_metrics_counter(m, "lectern_rtp_packets_lost_total", "direction=\"in\"",
                                    "RTP packets lost on the way in (sequence gaps)");
    t.nack_in =
        lec_metrics_counter(m, "lectern_rtcp_nack_total", "direction=\"in\"", "RTCP NACK packets");
    t.nack_out =
        lec_metrics_counter(m, "lectern_rtcp_nack_total", "direction=\"out\"", "RTCP NACK packets");
    t.repaired = lec_metrics_counter(m, "lectern_publisher_holes_total", "result=\"repaired\"",
                                     "Holes in publishers' streams, NACKed: filled or given up");
    t.unrepaired = lec_metrics_counter(m, "lectern_publisher_holes_total", "result=\"given_up\"",
                                       "Holes in publishers' streams, NACKed: filled or given up");
    t.retransmits = lec_metrics_counter(m, "lectern_retransmits_total", "",
                                        "Packets resent from the ring for NACKs");
    t.pli_in = lec_metrics_counter(m, "lectern_rtcp_pli_total", "direction=\"in\"",
                                   "Keyframe requests (PLI/FIR)");
    t.pli_out = lec_metrics_counter(m, "lectern_rtcp_pli_total", "direction=\"out\"",
                                    "Keyframe requests (PLI/FIR)");
#define REFUSED(reason)                                                                            \
    lec_metrics_counter(m, LEC_METRICS_REFUSED, "reason=\"" reason "\"", LEC_METRICS_REFUSED_HELP)
    t.resend_refused = REFUSED("resend_budget");
    t.resend_repeated = REFUSED("resend_repeated");
    t.keyframe_refused = REFUSED("keyframe_budget");
    t.never_connected = REFUSED("never_connected");
    t.viewer_never_connected = lec_metrics_counter(
        m, "lectern_join_failures_total", "reason=\"never_connected\"", JOIN_FAILURES_HELP);
    t.candidates_refused = REFUSED("remote_candidates");
    t.feedback[0] =
        lec_metrics_counter(m, "lectern_publisher_feedback_total", "kind=\"transport_cc\"",
                            "Congestion feedback packets sent to publishers");
    t.feedback[1] = lec_metrics_counter(m, "lectern_publisher_feedback_total", "kind=\"remb\"",
                                        "Congestion feedback packets sent to publishers");
    static const char *const layers[] = {"low", "medium", "high"};
    for (int k = 0; k < 3; k++) {
        snprintf(labels, sizeof labels, "layer=\"%s\"", layers[k]);
        t.layer_viewers[k] = lec_metrics_gauge(m, "lectern_layer_viewers", labels,
                                               "Viewers on each simulcast layer (by rank)");
    }
    t.layer_switches = lec_metrics_counter(m, "lectern_layer_switches_total", "",
                                           "Viewers moved from one simulcast layer to another");
    t.unknown_layer = REFUSED("unknown_layer");
    t.probes = lec_metrics_counter(m, "lectern_bandwidth_probes_total", "",
                                   "Probes of a viewer's link before a move to a bigger layer");
    t.quizzes = lec_metrics_counter(m, "lectern_quizzes_total", "",
                                    "Quizzes started by teachers publishing here");
    t.quiz_late = lec_metrics_counter(m, "lectern_quiz_released_late_total", "",
                                      "Quizzes that reached this node after their release instant");
    static const char *const ans[] = {"ranked", "adjusted", "refused"};
    for (int k = 0; k < 3; k++) {
        snprintf(labels, sizeof labels, "result=\"%s\"", ans[k]);
        t.quiz_answers[k] = lec_metrics_counter(
            m, "lectern_quiz_answers_total", labels,
            "Quiz answers: ranked here (the home), of which adjusted to the node's bounds, and "
            "refused (twice, late, not shown, malformed)");
    }
    t.asks = lec_metrics_counter(m, "lectern_audience_questions_total", "result=\"taken\"",
                                 "Questions from the audience");
    t.asks_refused = lec_metrics_counter(m, "lectern_audience_questions_total",
                                         "result=\"refused\"", "Questions from the audience");
    t.class_refused = REFUSED("classroom_message");
    static const uint64_t bps_bounds[] = {100000,  250000,  500000,   1000000,
                                          2000000, 5000000, 10000000, 20000000};
    t.estimate = lec_metrics_histogram(m, "lectern_viewer_estimate_bytes_per_second", "",
                                       "Viewers' link estimates (transport-cc), each every 5 s",
                                       bps_bounds, 8, 8); /* recorded in bits/s */
    t.join =
        lec_metrics_histogram(m, "lectern_join_duration_seconds", "",
                              "From a WHEP request to the first media sent to the viewer",
                              lec_metrics_duration_buckets, lec_metrics_duration_nbuckets, 1e9);
    for (unsigned i = 0; i < node->nworkers; i++) {
        node->sfu_metrics[i] = t;
        node->sfu_metrics[i].slot = 1 + i;
    }
}

/* The series every node has from the start; the rest register as their
 * subsystems start. */
static void register_metrics(lec_node *node)
{
    lec_metrics *m = &node->metrics;
    char labels[64];
    snprintf(labels, sizeof labels, "version=\"%s\"", LEC_VERSION);
    node->m.build_info = lec_metrics_gauge(m, "lectern_build_info", labels,
                                           "Always 1; the labels say which build runs");
    lec_metric_set(m, 0, node->m.build_info, 1);
    node->m.draining =
        lec_metrics_gauge(m, "lectern_draining", "", "1 while the node drains, else 0");
    node->m.uptime =
        lec_metrics_gauge(m, "lectern_uptime_seconds", "", "Seconds since the node started");
    node->m.cluster_nodes[0] = lec_metrics_gauge(m, "lectern_cluster_nodes", "role=\"origin\"",
                                                 "Nodes in this node's cluster view, by role");
    node->m.cluster_nodes[1] = lec_metrics_gauge(m, "lectern_cluster_nodes", "role=\"edge\"",
                                                 "Nodes in this node's cluster view, by role");
    node->m.egress_capacity =
        lec_metrics_gauge(m, "lectern_egress_capacity_bytes_per_second", "",
                          "Configured egress capacity (limits.max_egress_mbps)");
    node->m.viewers_capacity = lec_metrics_gauge(m, "lectern_viewers_capacity", "",
                                                 "Configured viewer capacity (limits.max_viewers)");
    node->m.publishers =
        lec_metrics_gauge(m, "lectern_publishers", "", "Publishers connected here");
    node->m.viewers = lec_metrics_gauge(m, "lectern_viewers", "", "Viewers connected here");
    static const char *const roles[] = {"publisher", "viewer"};
    static const char *const results[] = {"ok", "rejected", "ended"};
    for (int r = 0; r < 2; r++)
        for (int k = 0; k < 3; k++) {
            snprintf(labels, sizeof labels, "role=\"%s\",result=\"%s\"", roles[r], results[k]);
            node->m.sessions[r][k] = lec_metrics_counter(
                m, "lectern_sessions_total", labels,
                "WHIP/WHEP sessions: ok (answered), rejected (4xx/5xx), ended (failed or silent)");
        }
    register_media_metrics(node);
    node->m.refused_pending = REFUSED("sessions_in_progress_per_address");
    node->m.refused_full = REFUSED("node_full");
    for (int i = 0; i < LEC_JOIN_FAILURE_REASONS; i++) {
        snprintf(labels, sizeof labels, "reason=\"%s\"", lec_join_failure_names[i]);
        node->m.join_failures[i] =
            lec_metrics_counter(m, "lectern_join_failures_total", labels, JOIN_FAILURES_HELP);
    }
#undef REFUSED
    node->m.shards = lec_metrics_gauge(
        m, "lectern_stream_shards", "",
        "Rooms on workers other than their stream's home, each fed by a pipe (worker_spread)");
    node->m.pipe_packets = lec_metrics_counter(m, "lectern_worker_pipe_packets_total", "",
                                               "Packets through the pipes between workers");
    node->m.pipe_dropped =
        lec_metrics_counter(m, "lectern_worker_pipe_dropped_total", "",
                            "Packets a pipe between workers dropped (its queue full)");
    node->m.nats_connected = node->m.nats_reconnects = LEC_METRIC_NONE;
    node->m.relay_dropped = LEC_METRIC_NONE;
    for (int i = 0; i < 5; i++)
        node->m.nats_dropped[i] = LEC_METRIC_NONE;
    for (int i = 0; i < 2; i++)
        node->m.relay_legs[i] = node->m.relay_datagrams[i] = LEC_METRIC_NONE;
    if (node->cfg->nats.enabled) {
        static const char *const dirs[] = {"direction=\"in\"", "direction=\"out\""};
        for (int i = 0; i < 2; i++) {
            node->m.relay_legs[i] = lec_metrics_gauge(
                m, "lectern_relay_legs", dirs[i],
                "Relay legs: in (streams pulled here) and out (legs this node feeds)");
            node->m.relay_datagrams[i] = lec_metrics_counter(
                m, "lectern_relay_datagrams_total", dirs[i], "Datagrams on the relay socket");
        }
        node->m.relay_dropped = lec_metrics_counter(
            m, "lectern_relay_datagrams_dropped_total", "",
            "Relay datagrams dropped: unknown leg, too short or long, a worker's queue full, or "
            "a send that failed");
        node->m.nats_connected =
            lec_metrics_gauge(m, "lectern_nats_connected", "", "1 while connected to NATS");
        node->m.nats_reconnects =
            lec_metrics_counter(m, "lectern_nats_reconnects_total", "", "Reconnections to NATS");
        static const char *const reasons[] = {"malformed", "version", "slow", "forged", "stale"};
        for (int i = 0; i < 5; i++) {
            snprintf(labels, sizeof labels, "reason=\"%s\"", reasons[i]);
            node->m.nats_dropped[i] = lec_metrics_counter(
                m, "lectern_nats_messages_dropped_total", labels,
                "Control-plane messages dropped: malformed, unknown version, a slow consumer, "
                "forged (not signed by the node it names) or stale (a replay)");
        }
    }
}

/* ---- wiring: the control plane asks the media plane through hooks ------ */

static size_t hook_load(void *ud, lec_node_info *i, lec_cluster_held *held, size_t max)
{
    lec_node *node = ud;
    unsigned pubs, viewers;
    if (node->loadmeter)
        lec_loadmeter_sample(node->loadmeter, &i->load);
    lec_media_counts(node->media, &pubs, &viewers);
    i->load.publishers = pubs;
    i->load.viewers = viewers;
    i->load.sessions = lec_media_sessions(node->media);
    lec_media_leg_counts(node->media, &i->load.legs_in, &i->load.legs_out);
    return lec_media_held(node->media, held, max);
}

static bool hook_relay_addr(void *ud, lec_addr *out)
{
    return lec_media_relay_addr(((lec_node *)ud)->media, out);
}

static void hook_stream_event(void *ud, const struct lec_stream_event *ev)
{
    lec_media_stream_event(((lec_node *)ud)->media, ev);
}

static void media_hooks(lec_node *node, lec_control_media *h)
{
    *h = (lec_control_media){.ud = node,
                             .load = hook_load,
                             .relay_addr = hook_relay_addr,
                             .stream_event = hook_stream_event};
}

static int node_start(lec_node *node)
{
    node->nworkers = node->cfg->workers ? node->cfg->workers : uv_available_parallelism();
    if (node->nworkers == 0)
        node->nworkers = 1;
    int rc = lec_metrics_init(&node->metrics, 1 + node->nworkers);
    if (rc)
        return rc;
    register_metrics(node);
    rc = lec__node_load_tokens(node);
    if (!rc) {
        node->steering = lec_steering_start(node);
        if (!node->steering)
            rc = LEC_ERR_CONFIG;
    }
    if (!rc) {
        rc = lec_msgq_init(&node->mainq, node->loop);
        node->mainq_open = rc == 0;
    }
    if (!rc)
        rc = start_workers(node); /* before setup: the media engines live on them */
    if (!rc)
        rc = lec__node_add_builtin_routes(node);
    if (!rc && node->role->setup)
        rc = node->role->setup(node);
    if (!rc) {
        node->http = lec_http_server_new(node->loop, &node->router, &node->log, node->clock,
                                         lec_sys_wall_clock());
        if (!node->http)
            rc = LEC_ERR_NOMEM;
        else
            lec_http_server_set_metrics(node->http, &node->metrics, 0);
    }
    if (!rc) {
        lec_http_server_cfg hc;
        lec_http_server_cfg_from(&hc, node->cfg);
        rc = lec_http_server_start(node->http, &hc);
    }
    if (!rc) {
        lec_control_media hooks = {0};
        node->loadmeter = lec_loadmeter_new(node);
        if (node->media)
            media_hooks(node, &hooks);
        node->control = lec_control_start(node, &hooks);
        if (!node->control)
            rc = LEC_ERR_CONFIG;
        else if (node->media) /* the cascade serves RelayOpen on the bus itself */
            lec_media_bus_ready(node->media);
    }
    return rc;
}

static int node_run(lec_node *node)
{
    uv_loop_t loop;
    if (uv_loop_init(&loop))
        return 1;
    node->loop = &loop;
    node->drained = node_stop;
    node->exit_code = 0;
    node->drain_timeout = node->cfg->node.drain_timeout;
    lec_http_router_init(&node->router);
    uv_signal_init(&loop, &node->sig_int);
    uv_signal_init(&loop, &node->sig_term);
    uv_signal_init(&loop, &node->sig_hup);
    uv_timer_init(&loop, &node->drain_timer);
    node->sig_int.data = node->sig_term.data = node->sig_hup.data = node;
    node->drain_timer.data = node;

    int rc = node_start(node);
    if (rc) {
        if (rc != LEC_ERR_IO)
            LEC_ERROR(&node->log, MOD, "cannot start: %s", lec_strerror(rc));
        node->exit_code = 1;
        node->draining = true;
        node_stop(node);
    } else {
        uv_signal_start(&node->sig_int, on_signal, SIGINT);
        uv_signal_start(&node->sig_term, on_signal, SIGTERM);
        uv_signal_start(&node->sig_hup, on_signal, SIGHUP);
        node->started_at = lec_clock_now(node->clock);
        lec_sys_notify("READY=1\nSTATUS=serving");
        LEC_INFO(&node->log, MOD, "%s %s up: node %s, region %s, %u worker(s), HTTP port %u%s",
                 node->role->binary, LEC_VERSION, node->cfg->node.id, node->cfg->node.region,
                 node->nworkers, lec_http_server_port(node->http),
                 node->cfg->nats.enabled ? "" : ", no cluster (single node)");
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    stop_workers(node);
    lec_media_free(node->media);
    node->media = NULL;
    if (lec_sctp_library_shutdown()) /* every session is gone: SCTP's last timers */
        LEC_DEBUG(&node->log, MOD, "libusrsctp did not stop cleanly");
    lec_steering_free(node->steering);
    node->steering = NULL;
    lec_loadmeter_free(node->loadmeter);
    node->loadmeter = NULL;
    if (node->cfg->nats.enabled)
        lec_control_library_shutdown();
    lec_metrics_free(&node->metrics);
    free(node->sfu_metrics);
    node->sfu_metrics = NULL;
    lec_tokens_free(&node->admin_tokens);
    if (uv_loop_close(&loop))
        LEC_WARN(&node->log, MOD, "handles left open at exit");
    LEC_INFO(&node->log, MOD, "stopped");
    return node->exit_code;
}

int lec_node_main(int argc, char **argv, const lec_node_role *role)
{
    lec_cli cli;
    int rc = lec__cli_parse(argc, argv, role, &cli);
    if (rc >= 0)
        return rc;
    signal(SIGPIPE, SIG_IGN);
    /* No OpenSSL cleanup at exit: nats.c's TLS threads may still be
     * unwinding then, and the two raced to a crash in OPENSSL_cleanup
     * (every node on a TLS bus, at every exit).  The process's memory goes
     * with it anyway. */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);

    lec_node node;
    memset(&node, 0, sizeof node);
    node.role = role;
    lec_log_init(&node.log, lec_sys_log_sink_fd, (void *)(intptr_t)2, lec_sys_wall_clock());

    lec_sbuf errs;
    lec_sbuf_init(&errs, NULL);
    if (cli.config)
        rc = lec_config_load_file(cli.config, role->role, &node.cfg, &errs);
    else
        rc = lec_config_default(role->role, &node.cfg);
    if (rc) {
        fputs(errs.data ? errs.data : "", stderr);
        fprintf(stderr, "%s: %s: %s\n", role->binary, cli.config ? cli.config : "<default>",
                rc == LEC_ERR_CONFIG ? "invalid config" : lec_strerror(rc));
        lec_sbuf_free(&errs);
        return 1;
    }
    lec_sbuf_free(&errs);
    if (cli.check_config) {
        if (cli.verbose) {
            lec_sbuf out;
            lec_sbuf_init(&out, NULL);
            lec_config_dump(node.cfg, &out);
            fputs(out.data ? out.data : "", stdout);
            lec_sbuf_free(&out);
        }
        printf("%s: OK\n", cli.config ? cli.config : "<default>");
        lec_config_free(node.cfg);
        return 0;
    }
    node.cfg_path = cli.config ? strdup(cli.config) : NULL;
    node.clock = lec_sys_clock();
    apply_log_config(&node);
    rc = node_run(&node);
    lec_config_free(node.cfg);
    free(node.cfg_path);
    return rc;
}
