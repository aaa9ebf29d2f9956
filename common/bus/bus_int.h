/*
 * The control-plane bus, private to bus/: the types bus.c (the nats.c
 * threads, publishing, dispatch, lifecycle) and bus_rpc.c (requests,
 * replies, and answering the NATS service API) share.
 */
#ifndef LEC_BUS_BUS_INT_H
#define LEC_BUS_BUS_INT_H

#include "bus/bus.h"
#include "trust/replay.h"

#include <nats/nats.h>
#include <stdatomic.h>

#define SERVICE_NAME "lectern"
#define REPLY_MAX    192
#define MAX_SUBS     20

enum sub_kind { K_HB, K_STREAM, K_RELAY_OPEN, K_RELAY_CLOSE, K_PING, K_REPLY, K_SRV };
enum ev_kind {
    EV_CONN,
    EV_HB,
    EV_STREAM,
    EV_RELAY_OPEN,
    EV_RELAY_CLOSE,
    EV_PING,
    EV_REPLY,
    EV_SRV
};
enum srv_verb { SRV_PING, SRV_INFO, SRV_STATS };
enum endpoint { EP_RELAY_OPEN, EP_PING, EP_COUNT };

typedef struct sub_ctx {
    lec_bus *bus;
    enum sub_kind kind;
} sub_ctx;

typedef struct bus_event {
    lec_bus *bus;
    enum ev_kind kind;
    bool connected;
    int status;      /* EV_REPLY: 0 or a decode error */
    char reply_kind; /* EV_REPLY: 'r' relay, 'p' pong */
    uint64_t token;  /* EV_REPLY */
    enum srv_verb verb;
    char reply[REPLY_MAX];
    lec_msg_header h;
    char signer[LEC_ID_MAX]; /* who signed it (checked), or claims to with cluster.insecure */
    bool is_signed;          /* its signature checked: sig and sig_ms name it for the replay check */
    uint8_t sig[LEC_TRUST_SIG];
    uint64_t sig_ms;
    union {
        lec_node_info hb;
        lec_stream_event se;
        lec_relay_open ro;
        lec_relay_opened rd;
        lec_relay_close rc;
        lec_ping ping;
    } u;
} bus_event;

typedef struct pending {
    struct pending *prev, *next;
    lec_bus *bus;
    uint64_t token;
    char kind; /* 'r' or 'p' */
    char node[LEC_ID_MAX];
    lec_tstamp sent;
    uv_timer_t timer;
    lec_bus_relay_cb rcb;
    lec_bus_ping_cb pcb;
    void *ud;
    /* RelayOpen: the one-leg key the answer's keys are sealed to. */
    bool sealed;
    uint8_t seal_priv[LEC_TRUST_KEY];
    char stream[LEC_ID_MAX];
    uint64_t leg_id;
} pending;

struct lec_bus_request {
    char reply[REPLY_MAX];
    lec_tstamp recv_at;
    enum endpoint ep;
    bool has_seal_key; /* RelayOpen: seal the answer's keys to this */
    uint8_t seal_key[LEC_TRUST_KEY];
};

struct lec_bus {
    uv_loop_t *loop;
    lec_log *log;
    const lec_clock *mono, *wall;
    lec_msgq q;
    natsOptions *opts;
    natsConnection *nc;
    natsSubscription *subs[MAX_SUBS];
    sub_ctx sub_ctx[MAX_SUBS];
    size_t nsubs;
    lec_bus_handlers h;
    lec_bus_relay_server relay; /* RelayOpen/RelayClose (the cascade's) */
    struct lec_trust *trust;    /* NULL: cluster.insecure */
    bool tls;                   /* nats.tls.ca is set */
    const lec_rand *rand;
    char node_id[LEC_ID_MAX];
    char region[LEC_ID_MAX];
    char role[16];
    char inbox[64];
    uint64_t next_token; /* pings' nonces */
    lec_replay replay;   /* signed messages seen lately (the loop's) */
    pending *pending;
    bool connected; /* as the loop knows it */
    bool ever_connected;
    uint64_t started_unix_ms;
    atomic_bool closing;
    atomic_int inflight;
    atomic_bool nc_closed; /* the connection's last callback has run */
    struct {
        atomic_uint_fast64_t connects, reconnects, disconnects, received, published, publish_errors,
            dropped_malformed, dropped_version, dropped_slow, dropped_forged, dropped_stale,
            requests_sent, requests_timed_out, requests_answered;
    } st;
    struct {
        uint64_t requests, errors, processing_ns;
    } ep[EP_COUNT];
};

extern const char *const lec__bus_ep_names[EP_COUNT];

/* bus.c */
void lec__bus_header(lec_bus *b, lec_msg_header *h);
/* Publishes `data` in a signed Envelope (bus.h "Trust"). */
int lec__bus_publish(lec_bus *b, const char *subject, const char *reply, const lec_sbuf *data);
/* What a sealed box of relay keys is bound to: stream, NUL, leg id. */
size_t lec__bus_seal_aad(const char *stream, uint64_t leg_id, uint8_t *out);

/* bus_rpc.c: from the loop's dispatch. */
void lec__bus_on_reply(lec_bus *b, bus_event *ev);
void lec__bus_answer_ping(lec_bus *b, bus_event *ev);
void lec__bus_answer_srv(lec_bus *b, bus_event *ev);
/* Fails every request still waiting (closing). */
void lec__bus_fail_pending(lec_bus *b, int status);

#endif
