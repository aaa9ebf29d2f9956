/*
 * The node's configuration: one YAML file (DESIGN.md section 9) parsed with
 * libyaml into typed structs with defaults.
 *
 * Parsing is schema-driven (config_schema.c): every key has a type, bounds
 * and a place in lec_config.  Every error names the file, the line and the
 * dotted key ("edge.yaml:12: http.listen: expected host:port"), and the
 * parser reports them all rather than the first.  Unknown keys are errors,
 * so a typo never silently falls back to a default.
 *
 * A lec_config is immutable once loaded and owns all its memory (an arena);
 * SIGHUP loads a new one and the node swaps it in where that is safe
 * (lec_config_diff says which changed keys need a restart).
 */
#ifndef LEC_CONFIG_CONFIG_H
#define LEC_CONFIG_CONFIG_H

#include "base/addr.h"
#include "base/log.h"
#include "base/role.h"
#include "base/sbuf.h"
#include "base/time.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lec_strlist {
    char **v;
    size_t n;
} lec_strlist;

typedef struct lec_iplist {
    lec_ip *v;
    size_t n;
} lec_iplist;

typedef struct lec_cidrlist {
    lec_cidr *v;
    size_t n;
} lec_cidrlist;

typedef struct lec_region_cfg {
    char *name;
    double lat, lon;
} lec_region_cfg;

typedef struct lec_regionlist {
    lec_region_cfg *v;
    size_t n;
} lec_regionlist;

typedef struct lec_cidr_region {
    lec_cidr cidr;
    char *region;
} lec_cidr_region;

typedef struct lec_cidrmap {
    lec_cidr_region *v;
    size_t n;
} lec_cidrmap;

typedef struct lec_location {
    double lat, lon;
    bool set;
} lec_location;

typedef struct lec_port_range {
    uint16_t min, max;
} lec_port_range;

typedef struct lec_config {
    char *path; /* the file it came from; "<default>" for the embedded one */
    struct {
        char *id;
        lec_role role;
        char *region;
        lec_location location;    /* defaults to the region's coordinates */
        lec_tstamp drain_timeout; /* SIGTERM: how long sessions get to move */
    } node;
    uint32_t workers; /* 0: auto (one per core), resolved by the node */
    /* A stream's viewers open on another worker (a shard) once the workers
     * serving it carry this many sessions more than the least loaded one;
     * 0: each stream stays on one worker. */
    uint32_t worker_spread;
    struct {
        lec_addr listen;
        char *public_url; /* no trailing slash; NULL: built from Host */
        lec_strlist cors_origins;
        lec_cidrlist trusted_proxies;
        uint32_t max_header_bytes;
        uint32_t max_body_bytes;
        uint32_t max_connections;
        uint32_t max_connections_per_address; /* trusted proxies exempt */
        lec_tstamp request_timeout; /* first byte to complete request */
        lec_tstamp idle_timeout;    /* between keep-alive requests */
    } http;
    struct {
        lec_iplist addresses; /* empty: every non-loopback interface */
        lec_port_range port_range;
        lec_ip public_ip; /* family 0: none */
        lec_strlist servers;      /* STUN/TURN URLs for clients (WHIP/WHEP Link headers) */
        char *server_username;    /* for the turn(s): ones */
        char *server_credential;
    } ice;
    struct {
        lec_addr listen;
        lec_addr public_addr; /* ip.family 0: none */
        uint32_t max_depth;
        lec_tstamp linger;
        lec_strlist prewarm; /* regions whose edges pull a stream as soon as it starts */
        lec_strlist prefer;  /* node ids to pull from first, in order */
        uint32_t max_legs;   /* legs this node feeds at most; 0: no limit */
    } relay;
    struct {
        bool enabled; /* the section is present */
        lec_strlist urls;
        char *creds;
        struct {
            char *ca, *cert, *key;
            char *server_name; /* checked against the server's certificate */
        } tls;
    } nats;
    struct {
        char *trust_key;     /* hex: the cluster's Ed25519 public key */
        char *identity_file; /* this node's identity (trust/trust.h) */
        bool insecure;       /* no signatures: a closed lab only */
        lec_strlist allowed_url_hosts;   /* hosts peers may send viewers to; empty: any */
        lec_cidrlist allowed_relay_nets; /* where legs may go; empty: anywhere */
    } cluster;
    struct {
        char *publish_tokens_file;
        char *view_tokens_file;
        char *admin_tokens_file;
        bool open_publish; /* WHIP without a token; false: no tokens means no publishing */
        bool private_status; /* /metrics and /v1/cluster only with an admin token */
    } auth;
    struct {
        char *mmdb;
        lec_cidrmap cidr_regions;
    } geo;
    lec_regionlist regions;
    struct {
        uint32_t max_viewers;
        uint32_t max_publishers;
        uint32_t max_egress_mbps;
        uint32_t publish_max_kbps;        /* REMB ceiling for publishers; 0: none */
        uint32_t max_pending_per_address; /* offers not yet connected, per client address */
        lec_tstamp connect_timeout;       /* offer answered -> ICE and DTLS done */
    } limits;
    struct {
        uint32_t origin_viewers; /* lec_origin_viewers (cluster/steer.h); "own_region" */
    } steering;
    struct {
        /* A quiz is released this long after the teacher starts it, at one
         * wall-clock instant on every node: longer than the cascade's
         * deepest path takes to carry it (classroom/class.h). */
        lec_tstamp quiz_lead;
    } classroom;
    struct {
        lec_log_level level;
        lec_log_format format;
    } log;

    struct lec_config_arena *arena; /* owns every pointer above */
    struct lec_config *retained;    /* an older config whose strings we use */
} lec_config;

/*
 * Loads and validates `path`.  `role` is the binary's role: a file naming
 * the other role is an error; a file without node.role takes it.  On
 * success returns 0 and *out (free with lec_config_free).  On failure
 * returns LEC_ERR_CONFIG (invalid), LEC_ERR_IO (unreadable) or
 * LEC_ERR_NOMEM, and appends one "file:line: key: reason\n" per problem to
 * `errs` (which may be NULL).
 */
int lec_config_load_file(const char *path, lec_role role, lec_config **out, lec_sbuf *errs);

/* The same for YAML in memory; `name` stands for the file in messages. */
int lec_config_load_string(const char *name, const char *yaml, size_t len, lec_role role,
                           lec_config **out, lec_sbuf *errs);

/* The embedded default: one node of `role` on 0.0.0.0:8080, no cluster. */
int lec_config_default(lec_role role, lec_config **out);

void lec_config_free(lec_config *cfg);

/* The effective configuration as "key=value" lines, one per key, in schema
 * order, defaults filled in: what --check-config -v prints, and what
 * lec_config_diff compares. */
void lec_config_dump(const lec_config *cfg, lec_sbuf *out);

/* Calls `fn` for each key whose value differs between `a` and `b`, with
 * whether changing it needs a restart (listen addresses, identity, workers,
 * ICE, NATS) or can be applied live (log, limits, CORS, auth, steering
 * tables).  Returns the number of keys that differ. */
typedef void (*lec_config_diff_fn)(void *ud, const char *key, bool needs_restart);
int lec_config_diff(const lec_config *a, const lec_config *b, lec_config_diff_fn fn, void *ud);

/* SIGHUP: copies into `next` the running values of the keys that need a
 * restart (node identity, listen addresses, workers, ICE, NATS), so the
 * node's view stays true to what runs.  Returns true when nothing had to
 * be copied (the caller frees `prev`); false when `next` now references
 * and owns `prev` (freed with it). */
bool lec_config_adopt_restart_keys(lec_config *next, lec_config *prev);

#endif
