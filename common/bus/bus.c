/*
 * The control-plane bus over nats.c (bus.h).
 *
 * nats.c threads run on_msg and the connection callbacks.  Each callback
 * counts itself in `inflight`, checks `closing`, decodes, posts an event to
 * the loop and returns.  lec_bus_close sets `closing`, destroys the
 * connection, waits until no callback is inside our code, then closes the
 * loop queue; the bus is freed when that close completes.  So no nats.c
 * thread ever touches freed memory, and no handler runs after close.
 */
#include "bus/bus_int.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#define MOD "bus"

const char *const lec__bus_ep_names[EP_COUNT] = {"relay_open", "ping"};

static void deliver(void *arg);

/* ---- nats.c threads --------------------------------------------------- */

static bool enter(lec_bus *b)
{
    atomic_fetch_add(&b->inflight, 1);
    if (atomic_load(&b->closing)) {
        atomic_fetch_sub(&b->inflight, 1);
        return false;
    }
    return true;
}

static void leave(lec_bus *b)
{
    atomic_fetch_sub(&b->inflight, 1);
}

static void event_free(bus_event *ev)
{
    if (ev->kind == EV_HB)
        lec_codec_node_info_free(&ev->u.hb);
    if (ev->kind == EV_REPLY) /* relay keys */
        lec_trust_wipe(&ev->u.rd, sizeof ev->u.rd);
    free(ev);
}

static void post(lec_bus *b, bus_event *ev)
{
    if (lec_msgq_post(&b->q, deliver, ev))
        event_free(ev);
}

/* Parses "<inbox>.<kind>.<token>". */
static bool parse_reply_subject(const lec_bus *b, const char *subj, char *kind, uint64_t *token)
{
    size_t il = strlen(b->inbox);
    if (strncmp(subj, b->inbox, il) || subj[il] != '.' ||
        (subj[il + 1] != 'r' && subj[il + 1] != 'p') || subj[il + 2] != '.')
        return false;
    *kind = subj[il + 1];
    const char *p = subj + il + 3;
    if (!*p)
        return false;
    uint64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > UINT64_MAX / 10)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *token = v;
    return true;
}

/* Whether a request's reply subject is one of a lectern node's inboxes,
 * for the kind of request (`k`: 'r' RelayOpen, 'p' ping): an answer goes
 * nowhere else. */
static bool inbox_reply(const char *reply, char k)
{
    static const char pre[] = "_INBOX.lectern.";
    if (strncmp(reply, pre, sizeof pre - 1))
        return false;
    const char *p = reply + sizeof pre - 1;
    size_t hex = strspn(p, "0123456789abcdef");
    if (hex != 16 || p[16] != '.' || p[17] != k || p[18] != '.' || !p[19])
        return false;
    return strspn(p + 19, "0123456789") == strlen(p + 19);
}

/* The message in the envelope, by subscription kind. */
static int decode_body(enum sub_kind kind, const uint8_t *data, size_t len, bus_event *ev)
{
    switch (kind) {
    case K_HB:
        ev->kind = EV_HB;
        return lec_codec_decode_heartbeat(data, len, &ev->h, &ev->u.hb);
    case K_STREAM:
        ev->kind = EV_STREAM;
        return lec_codec_decode_stream_event(data, len, &ev->h, &ev->u.se);
    case K_RELAY_OPEN:
        ev->kind = EV_RELAY_OPEN;
        return lec_codec_decode_relay_open(data, len, &ev->h, &ev->u.ro);
    case K_RELAY_CLOSE:
        ev->kind = EV_RELAY_CLOSE;
        return lec_codec_decode_relay_close(data, len, &ev->h, &ev->u.rc);
    case K_PING:
        ev->kind = EV_PING;
        return lec_codec_decode_ping(data, len, &ev->h, &ev->u.ping);
    case K_REPLY:
        /* A bad reply still goes to the loop: its request fails at once. */
        ev->status = ev->reply_kind == 'r'
                         ? lec_codec_decode_relay_opened(data, len, &ev->h, &ev->u.rd)
                         : lec_codec_decode_pong(data, len, &ev->h, &ev->u.ping);
        return 0;
    case K_SRV:
        break;
    }
    return LEC_ERR_INVAL;
}

/* Whether the node the message names is its signer: the header's sender
 * always, and the node a heartbeat describes, a RelayOpen's requester, a
 * RelayClose's closer, a RelayOpened's source. */
static bool names_its_signer(const bus_event *ev)
{
    const char *s = ev->signer;
    if (strcmp(ev->h.sender_id, s))
        return false;
    switch (ev->kind) {
    case EV_HB:
        return !strcmp(ev->u.hb.id, s);
    case EV_RELAY_OPEN:
        return !strcmp(ev->u.ro.requester_id, s);
    case EV_RELAY_CLOSE:
        return !strcmp(ev->u.rc.node_id, s);
    case EV_REPLY:
        return ev->status || ev->reply_kind != 'r' || !ev->u.rd.source_id[0] ||
               !strcmp(ev->u.rd.source_id, s);
    default:
        return true;
    }
}

/* Unwraps and checks a message (bus.h "Trust") into ev.  0, or a drop:
 * LEC_ERR_INVAL (malformed), LEC_ERR_UNSUPPORTED (version), LEC_ERR_AUTH
 * (forged), LEC_ERR_TIMEOUT (stale). */
static int decode(lec_bus *b, enum sub_kind kind, natsMsg *msg, bus_event *ev)
{
    const uint8_t *data = (const uint8_t *)natsMsg_GetData(msg);
    size_t len = (size_t)natsMsg_GetDataLength(msg);
    const char *reply = natsMsg_GetReply(msg), *subject = natsMsg_GetSubject(msg);
    bool needs_reply = kind == K_RELAY_OPEN || kind == K_PING || kind == K_SRV;
    if (needs_reply) {
        if (!reply || strlen(reply) >= sizeof ev->reply)
            return LEC_ERR_INVAL;
        if (kind != K_SRV && !inbox_reply(reply, kind == K_RELAY_OPEN ? 'r' : 'p'))
            return LEC_ERR_INVAL;
        memcpy(ev->reply, reply, strlen(reply) + 1);
    }
    if (kind == K_SRV) { /* JSON from NATS tooling: no envelope */
        ev->kind = EV_SRV;
        ev->verb = !strncmp(subject, "$SRV.PING", 9)   ? SRV_PING
                   : !strncmp(subject, "$SRV.INFO", 9) ? SRV_INFO
                                                       : SRV_STATS;
        return 0;
    }
    if (kind == K_REPLY) {
        ev->kind = EV_REPLY;
        if (!parse_reply_subject(b, subject, &ev->reply_kind, &ev->token))
            return LEC_ERR_INVAL;
        if (natsMsg_IsNoResponders(msg)) {
            /* A status on our inbox ("no responders") carries no
             * signature: anyone can send one (HPUB to the inbox).  With
             * cluster trust it ends nothing (the request waits for the
             * real answer or its timeout); counted as forged. */
            if (b->trust)
                return LEC_ERR_AUTH;
            ev->status = LEC_ERR_NOTFOUND;
            return 0;
        }
    }
    lec_envelope env;
    int rc = lec_codec_decode_envelope(data, len, &env);
    if (rc)
        return rc == LEC_ERR_NOMEM ? LEC_ERR_NOMEM : LEC_ERR_INVAL;
    memcpy(ev->signer, env.sig.signer, sizeof ev->signer);
    if (b->trust) {
        if (!env.is_signed)
            rc = LEC_ERR_AUTH;
        else
            rc = lec_trust_verify(b->trust, subject, env.body, env.body_len, &env.sig,
                                  lec_clock_now(b->wall) / LEC_MS);
    }
    if (!rc && b->trust) {
        ev->is_signed = true;
        memcpy(ev->sig, env.sig.sig, sizeof ev->sig);
        ev->sig_ms = env.sig.unix_ms;
    }
    if (!rc)
        rc = decode_body(kind, env.body, env.body_len, ev);
    lec_codec_envelope_free(&env);
    if (!rc && !names_its_signer(ev))
        rc = LEC_ERR_AUTH;
    /* A request is answered only on the subject it signed: a captured
     * request republished with another node's inbox (to fail that node's
     * pending request with an answer it cannot open) is forged. */
    if (!rc && b->trust &&
        ((kind == K_RELAY_OPEN && strcmp(ev->u.ro.reply_to, ev->reply)) ||
         (kind == K_PING && strcmp(ev->u.ping.reply_to, ev->reply))))
        rc = LEC_ERR_AUTH;
    return rc;
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    sub_ctx *sc = closure;
    lec_bus *b = sc->bus;
    if (!enter(b)) {
        natsMsg_Destroy(msg);
        return;
    }
    atomic_fetch_add(&b->st.received, 1);
    bus_event *ev = calloc(1, sizeof *ev);
    if (ev) {
        ev->bus = b;
        int rc = decode(b, sc->kind, msg, ev);
        if (rc == LEC_ERR_AUTH)
            atomic_fetch_add(&b->st.dropped_forged, 1);
        else if (rc == LEC_ERR_TIMEOUT)
            atomic_fetch_add(&b->st.dropped_stale, 1);
        else if (rc == LEC_ERR_UNSUPPORTED ||
                 (ev->kind == EV_REPLY && ev->status == LEC_ERR_UNSUPPORTED))
            atomic_fetch_add(&b->st.dropped_version, 1);
        else if (rc || (ev->kind == EV_REPLY && ev->status && ev->status != LEC_ERR_NOTFOUND))
            atomic_fetch_add(&b->st.dropped_malformed, 1);
        if (rc)
            event_free(ev);
        else
            post(b, ev);
    }
    natsMsg_Destroy(msg);
    leave(b);
}

static void post_conn(lec_bus *b, bool connected, bool reconnect)
{
    if (!enter(b))
        return;
    if (connected)
        atomic_fetch_add(reconnect ? &b->st.reconnects : &b->st.connects, 1);
    else
        atomic_fetch_add(&b->st.disconnects, 1);
    bus_event *ev = calloc(1, sizeof *ev);
    if (ev) {
        ev->bus = b;
        ev->kind = EV_CONN;
        ev->connected = connected;
        post(b, ev);
    }
    leave(b);
}

static void on_connected(natsConnection *nc, void *closure)
{
    (void)nc;
    post_conn(closure, true, false);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    post_conn(closure, true, true);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    post_conn(closure, false, false);
}

/* nats.c runs the closed callback last of all for a connection, on its
 * callback thread, after any disconnected callback that Close queued: until
 * it has run, that thread may still hold our pointer. */
static void on_closed(natsConnection *nc, void *closure)
{
    (void)nc;
    lec_bus *b = closure;
    atomic_store(&b->nc_closed, true);
}

static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
    (void)nc;
    (void)sub;
    lec_bus *b = closure;
    if (!enter(b))
        return;
    if (err == NATS_SLOW_CONSUMER)
        atomic_fetch_add(&b->st.dropped_slow, 1);
    else
        LEC_WARN(b->log, MOD, "NATS error: %s", natsStatus_GetText(err));
    leave(b);
}

/* Capped exponential backoff with jitter: 100 ms, 200 ms, ... 1 s. */
static int64_t reconnect_delay(natsConnection *nc, int attempts, void *closure)
{
    (void)nc;
    (void)closure;
    int64_t d = 100;
    for (int i = 1; i < attempts && d < 1000; i++)
        d *= 2;
    if (d > 1000)
        d = 1000;
    return d + (int64_t)(((unsigned)attempts * 2654435761u) % 100u);
}

/* ---- loop: publishing ------------------------------------------------- */

void lec__bus_header(lec_bus *b, lec_msg_header *h)
{
    memset(h, 0, sizeof *h);
    h->version = LEC_PROTO_VERSION;
    memcpy(h->sender_id, b->node_id, sizeof h->sender_id);
    h->sent_unix_ms = lec_clock_now(b->wall) / LEC_MS;
}

int lec__bus_publish(lec_bus *b, const char *subject, const char *reply, const lec_sbuf *data)
{
    if (!b->nc)
        return LEC_ERR_CLOSED;
    lec_trust_sig sig;
    lec_sbuf env;
    lec_sbuf_init(&env, NULL);
    int rc = 0;
    if (b->trust)
        rc = lec_trust_sign(b->trust, subject, (const uint8_t *)data->data, data->len,
                            lec_clock_now(b->wall) / LEC_MS, &sig);
    if (!rc)
        rc = lec_codec_encode_envelope(b->node_id, b->trust ? &sig : NULL,
                                       (const uint8_t *)data->data, data->len, &env);
    natsStatus s = NATS_ERR;
    if (!rc)
        s = reply ? natsConnection_PublishRequest(b->nc, subject, reply, env.data, (int)env.len)
                  : natsConnection_Publish(b->nc, subject, env.data, (int)env.len);
    lec_sbuf_free(&env);
    if (s != NATS_OK) {
        atomic_fetch_add(&b->st.publish_errors, 1);
        return LEC_ERR_IO;
    }
    atomic_fetch_add(&b->st.published, 1);
    return 0;
}

int lec_bus_publish_heartbeat(lec_bus *b, const lec_node_info *hb)
{
    if (!b->connected)
        return LEC_ERR_CLOSED;
    lec_msg_header h;
    lec__bus_header(b, &h);
    lec_sbuf data;
    lec_sbuf_init(&data, NULL);
    int rc = lec_codec_encode_heartbeat(&h, hb, &data);
    char subj[160];
    snprintf(subj, sizeof subj, "lectern.v1.node.hb.%s.%s", b->region, b->node_id);
    if (!rc)
        rc = lec__bus_publish(b, subj, NULL, &data);
    lec_sbuf_free(&data);
    return rc;
}

int lec_bus_publish_stream_event(lec_bus *b, const lec_stream_event *ev)
{
    if (!b->connected)
        return LEC_ERR_CLOSED;
    if (!lec_codec_valid_token(ev->stream))
        return LEC_ERR_INVAL;
    lec_msg_header h;
    lec__bus_header(b, &h);
    lec_sbuf data;
    lec_sbuf_init(&data, NULL);
    int rc = lec_codec_encode_stream_event(&h, ev, &data);
    char subj[160];
    snprintf(subj, sizeof subj, "lectern.v1.stream.%s.event", ev->stream);
    if (!rc)
        rc = lec__bus_publish(b, subj, NULL, &data);
    lec_sbuf_free(&data);
    return rc;
}

int lec_bus_publish_relay_close(lec_bus *b, const char *target, const lec_relay_close *m)
{
    if (!b->connected)
        return LEC_ERR_CLOSED;
    if (!lec_codec_valid_token(target))
        return LEC_ERR_INVAL;
    lec_msg_header h;
    lec__bus_header(b, &h);
    lec_sbuf data;
    lec_sbuf_init(&data, NULL);
    int rc = lec_codec_encode_relay_close(&h, m, &data);
    char subj[160];
    snprintf(subj, sizeof subj, "lectern.v1.relay.%s.close", target);
    if (!rc)
        rc = lec__bus_publish(b, subj, NULL, &data);
    lec_sbuf_free(&data);
    return rc;
}

/* ---- loop: dispatch --------------------------------------------------- */

static void deliver(void *arg)
{
    bus_event *ev = arg;
    lec_bus *b = ev->bus;
    /* A signed message is taken once: the same one again within its
     * window is a replay (trust/replay.h). */
    if (ev->is_signed && lec_replay_seen(&b->replay, ev->sig, sizeof ev->sig, ev->sig_ms,
                                         lec_clock_now(b->wall) / LEC_MS, LEC_TRUST_WINDOW)) {
        atomic_fetch_add(&b->st.dropped_stale, 1);
        event_free(ev);
        return;
    }
    switch (ev->kind) {
    case EV_CONN:
        if (b->connected != ev->connected) {
            b->connected = ev->connected;
            if (ev->connected) {
                char url[128] = "";
                natsConnection_GetConnectedUrl(b->nc, url, sizeof url);
                LEC_INFO(b->log, MOD, "%s NATS at %s",
                         b->ever_connected ? "reconnected to" : "connected to", url);
                b->ever_connected = true;
            } else {
                LEC_WARN(b->log, MOD, "lost NATS; retrying (media keeps flowing)");
            }
            if (b->h.connection)
                b->h.connection(b->h.ud, ev->connected);
        }
        break;
    case EV_HB:
        if (b->h.heartbeat)
            b->h.heartbeat(b->h.ud, &ev->h, &ev->u.hb);
        break;
    case EV_STREAM:
        if (b->h.stream_event)
            b->h.stream_event(b->h.ud, &ev->h, &ev->u.se);
        break;
    case EV_RELAY_OPEN: {
        lec_bus_request *req = calloc(1, sizeof *req);
        if (!req)
            break;
        memcpy(req->reply, ev->reply, sizeof req->reply);
        req->recv_at = lec_clock_now(b->mono);
        req->ep = EP_RELAY_OPEN;
        req->has_seal_key = ev->u.ro.has_seal_key;
        memcpy(req->seal_key, ev->u.ro.seal_key, sizeof req->seal_key);
        if (b->relay.open) {
            b->relay.open(b->relay.ud, req, &ev->u.ro);
        } else {
            lec_relay_opened r = {.leg_id = ev->u.ro.leg_id, .error = LEC_RELAY_NOT_FOUND};
            memcpy(r.stream, ev->u.ro.stream, sizeof r.stream);
            lec_bus_reply_relay_opened(b, req, &r);
        }
        break;
    }
    case EV_RELAY_CLOSE:
        if (b->relay.close)
            b->relay.close(b->relay.ud, &ev->u.rc);
        break;
    case EV_PING:
        lec__bus_answer_ping(b, ev);
        break;
    case EV_REPLY:
        lec__bus_on_reply(b, ev);
        break;
    case EV_SRV:
        lec__bus_answer_srv(b, ev);
        break;
    }
    event_free(ev);
}

/* ---- lifecycle -------------------------------------------------------- */

lec_bus *lec_bus_new(uv_loop_t *loop, lec_log *log, const lec_clock *mono, const lec_clock *wall,
                     const lec_rand *rand)
{
    lec_bus *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->loop = loop;
    b->log = log;
    b->mono = mono;
    b->wall = wall;
    b->rand = rand;
    atomic_init(&b->closing, false);
    atomic_init(&b->inflight, 0);
    atomic_init(&b->nc_closed, false);
    snprintf(b->inbox, sizeof b->inbox, "_INBOX.lectern.%016llx",
             (unsigned long long)lec_rand_u64(rand));
    if (lec_replay_init(&b->replay)) {
        free(b);
        return NULL;
    }
    if (lec_msgq_init(&b->q, loop)) {
        lec_replay_free(&b->replay);
        free(b);
        return NULL;
    }
    return b;
}

static int subscribe(lec_bus *b, const char *subject, enum sub_kind kind)
{
    if (b->nsubs == MAX_SUBS)
        return LEC_ERR_FULL;
    sub_ctx *sc = &b->sub_ctx[b->nsubs];
    sc->bus = b;
    sc->kind = kind;
    natsStatus s = natsConnection_Subscribe(&b->subs[b->nsubs], b->nc, subject, on_msg, sc);
    if (s != NATS_OK) {
        /* A closed connection at start: NATS refused us for good (a TLS
         * certificate that does not carry the server's name, an
         * authorization error).  Say why. */
        const char *why = NULL;
        natsConnection_GetLastError(b->nc, &why);
        LEC_ERROR(b->log, MOD, "cannot subscribe to %s: %s%s%s%s", subject, natsStatus_GetText(s),
                  why && *why ? ": " : "", why ? why : "",
                  b->tls ? " (with nats.tls: the server's certificate must be signed by "
                           "nats.tls.ca and name nats.tls.server_name, or the URL's host)"
                         : "");
        return LEC_ERR_IO;
    }
    /* Bound what a flood can queue; beyond it nats.c drops and reports. */
    natsSubscription_SetPendingLimits(b->subs[b->nsubs], 65536, 64 * 1024 * 1024);
    b->nsubs++;
    return 0;
}

static int set_options(lec_bus *b, const lec_config *cfg)
{
    natsOptions *o = b->opts;
    const char *urls[16];
    size_t n = cfg->nats.urls.n < 16 ? cfg->nats.urls.n : 16;
    for (size_t i = 0; i < n; i++)
        urls[i] = cfg->nats.urls.v[i];
    natsStatus s = natsOptions_SetServers(o, urls, (int)n);
    if (s == NATS_OK)
        s = natsOptions_SetName(o, cfg->node.id);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(o, -1);
    if (s == NATS_OK)
        s = natsOptions_SetCustomReconnectDelay(o, reconnect_delay, b);
    if (s == NATS_OK)
        s = natsOptions_SetRetryOnFailedConnect(o, true, on_connected, b);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(o, on_disconnected, b);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(o, on_reconnected, b);
    if (s == NATS_OK)
        s = natsOptions_SetErrorHandler(o, on_error, b);
    if (s == NATS_OK)
        s = natsOptions_SetClosedCB(o, on_closed, b);
    if (s == NATS_OK) /* a dead server is noticed within ~3 s */
        s = natsOptions_SetPingInterval(o, 1000);
    if (s == NATS_OK)
        s = natsOptions_SetMaxPingsOut(o, 2);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(o, 2000);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectBufSize(o, 1 << 20);
    if (s != NATS_OK) {
        LEC_ERROR(b->log, MOD, "NATS options: %s", natsStatus_GetText(s));
        return LEC_ERR_CONFIG;
    }
    if (cfg->nats.creds &&
        (s = natsOptions_SetUserCredentialsFromFiles(o, cfg->nats.creds, NULL)) != NATS_OK) {
        LEC_ERROR(b->log, MOD, "nats.creds %s: %s", cfg->nats.creds, natsStatus_GetText(s));
        return LEC_ERR_CONFIG;
    }
    if (cfg->nats.tls.ca) {
        /* The server's certificate must name it: nats.tls.server_name, or
         * the first URL's host (nats.c checks nothing unless told). */
        char host[256] = "";
        const char *name = cfg->nats.tls.server_name;
        if (!name) {
            const char *u = strstr(cfg->nats.urls.v[0], "://");
            u = u ? u + 3 : cfg->nats.urls.v[0];
            const char *at = strchr(u, '@');
            u = at ? at + 1 : u;
            size_t hl = u[0] == '[' ? strcspn(u + 1, "]") : strcspn(u, ":/");
            snprintf(host, sizeof host, "%.*s", (int)hl, u[0] == '[' ? u + 1 : u);
            name = host;
        }
        b->tls = true;
        s = natsOptions_SetSecure(o, true);
        if (s == NATS_OK && *name)
            s = natsOptions_SetExpectedHostname(o, name);
        if (s == NATS_OK)
            s = natsOptions_LoadCATrustedCertificates(o, cfg->nats.tls.ca);
        if (s != NATS_OK) {
            LEC_ERROR(b->log, MOD, "nats.tls.ca %s: %s", cfg->nats.tls.ca, natsStatus_GetText(s));
            return LEC_ERR_CONFIG;
        }
    }
    if (cfg->nats.tls.cert && (s = natsOptions_LoadCertificatesChain(
                                   o, cfg->nats.tls.cert, cfg->nats.tls.key)) != NATS_OK) {
        LEC_ERROR(b->log, MOD, "nats.tls.cert/key: %s", natsStatus_GetText(s));
        return LEC_ERR_CONFIG;
    }
    return 0;
}

void lec_bus_serve_relay(lec_bus *b, const lec_bus_relay_server *s)
{
    b->relay = s ? *s : (lec_bus_relay_server){0};
}

/* cluster.trust_key and cluster.identity_file (bus.h "Trust"); none with
 * cluster.insecure.  0 or LEC_ERR_CONFIG with the reason logged. */
static int load_trust(lec_bus *b, const lec_config *cfg)
{
    if (cfg->cluster.insecure) {
        LEC_WARN(b->log, MOD, "cluster.insecure: bus messages are neither signed nor checked, "
                              "and relay keys cross the bus in clear");
        return 0;
    }
    uint8_t pub[LEC_TRUST_KEY];
    const char *path = cfg->cluster.identity_file;
    if (!path || !cfg->cluster.trust_key ||
        lec_trust_hex_decode(cfg->cluster.trust_key, pub, sizeof pub)) {
        LEC_ERROR(b->log, MOD, "a cluster needs cluster.trust_key and cluster.identity_file");
        return LEC_ERR_CONFIG;
    }
    FILE *f = fopen(path, "r");
    char text[2048];
    size_t len = f ? fread(text, 1, sizeof text, f) : 0;
    if (f)
        fclose(f);
    lec_trust_identity id;
    const char *why = f ? "" : strerror(errno);
    int rc = f && len < sizeof text ? lec_trust_identity_parse(text, len, &id, &why)
                                    : LEC_ERR_INVAL;
    lec_trust_wipe(text, sizeof text);
    if (!rc && strcmp(id.node, cfg->node.id)) {
        why = "it is another node's (its node: is not node.id)";
        rc = LEC_ERR_INVAL;
    }
    if (!rc && (rc = lec_trust_new(&b->trust, pub, &id)))
        why = rc == LEC_ERR_AUTH ? "its certificate is not from cluster.trust_key" : "unusable";
    lec_trust_wipe(&id, sizeof id);
    if (rc) {
        LEC_ERROR(b->log, MOD, "cluster.identity_file %s: %s", path,
                  *why ? why : "not an identity file");
        return LEC_ERR_CONFIG;
    }
    return 0;
}

int lec_bus_start(lec_bus *b, const lec_config *cfg, const lec_bus_handlers *h)
{
    b->h = *h;
    int trc = load_trust(b, cfg);
    if (trc)
        return trc;
    snprintf(b->node_id, sizeof b->node_id, "%s", cfg->node.id);
    snprintf(b->region, sizeof b->region, "%s", cfg->node.region);
    snprintf(b->role, sizeof b->role, "%s", lec_role_name(cfg->node.role));
    b->started_unix_ms = lec_clock_now(b->wall) / LEC_MS;
    if (natsOptions_Create(&b->opts) != NATS_OK)
        return LEC_ERR_NOMEM;
    int rc = set_options(b, cfg);
    if (rc)
        return rc;
    natsStatus s = natsConnection_Connect(&b->nc, b->opts);
    if (s == NATS_NOT_YET_CONNECTED) {
        LEC_WARN(b->log, MOD, "no NATS server answers yet (%s ...); serving alone and retrying",
                 cfg->nats.urls.v[0]);
    } else if (s == NATS_OK) {
        post_conn(b, true, false);
    } else {
        LEC_ERROR(b->log, MOD, "NATS connect: %s", natsStatus_GetText(s));
        return LEC_ERR_CONFIG;
    }
    char subj[160];
    rc = subscribe(b, "lectern.v1.node.hb.>", K_HB);
    if (!rc)
        rc = subscribe(b, "lectern.v1.stream.*.event", K_STREAM);
    snprintf(subj, sizeof subj, "lectern.v1.relay.%s.open", b->node_id);
    if (!rc)
        rc = subscribe(b, subj, K_RELAY_OPEN);
    snprintf(subj, sizeof subj, "lectern.v1.relay.%s.close", b->node_id);
    if (!rc)
        rc = subscribe(b, subj, K_RELAY_CLOSE);
    snprintf(subj, sizeof subj, "lectern.v1.node.%s.ping", b->node_id);
    if (!rc)
        rc = subscribe(b, subj, K_PING);
    snprintf(subj, sizeof subj, "%s.>", b->inbox);
    if (!rc)
        rc = subscribe(b, subj, K_REPLY);
    static const char *const verbs[] = {"PING", "INFO", "STATS"};
    for (int v = 0; v < 3 && !rc; v++) {
        snprintf(subj, sizeof subj, "$SRV.%s", verbs[v]);
        rc = subscribe(b, subj, K_SRV);
        snprintf(subj, sizeof subj, "$SRV.%s.%s", verbs[v], SERVICE_NAME);
        if (!rc)
            rc = subscribe(b, subj, K_SRV);
        snprintf(subj, sizeof subj, "$SRV.%s.%s.%s", verbs[v], SERVICE_NAME, b->node_id);
        if (!rc)
            rc = subscribe(b, subj, K_SRV);
    }
    return rc;
}

static void bus_freed(lec_msgq *q)
{
    lec_bus *b = (lec_bus *)((char *)q - offsetof(lec_bus, q));
    lec_replay_free(&b->replay);
    free(b);
}

void lec_bus_close(lec_bus *b)
{
    if (!b)
        return;
    atomic_store(&b->closing, true);
    for (size_t i = 0; i < b->nsubs; i++)
        natsSubscription_Destroy(b->subs[i]);
    if (b->nc) {
        natsConnection_Close(b->nc);
        natsConnection_Destroy(b->nc);
        /* Callbacks queued by Close may run after it returns: b must
         * outlive them (bounded: the callback thread only has ours). */
        for (int i = 0; i < 5000 && !atomic_load(&b->nc_closed); i++)
            usleep(1000);
        if (!atomic_load(&b->nc_closed))
            LEC_WARN(b->log, MOD, "NATS closed callback not seen within 5 s");
    }
    if (b->opts)
        natsOptions_Destroy(b->opts);
    /* Wait out callbacks already inside our code (they exit promptly). */
    while (atomic_load(&b->inflight) > 0)
        usleep(1000);
    lec__bus_fail_pending(b, LEC_ERR_CLOSED);
    b->nc = NULL;
    lec_trust_free(b->trust);
    b->trust = NULL;
    /* Events already queued are dropped: no handler runs after close. */
    b->h = (lec_bus_handlers){0};
    b->relay = (lec_bus_relay_server){0};
    b->connected = false;
    lec_msgq_close(&b->q, bus_freed);
}

void lec_bus_get_stats(lec_bus *b, lec_bus_stats *o)
{
    memset(o, 0, sizeof *o);
    o->connected = b->connected;
    o->connects = atomic_load(&b->st.connects);
    o->reconnects = atomic_load(&b->st.reconnects);
    o->disconnects = atomic_load(&b->st.disconnects);
    o->received = atomic_load(&b->st.received);
    o->published = atomic_load(&b->st.published);
    o->publish_errors = atomic_load(&b->st.publish_errors);
    o->dropped_malformed = atomic_load(&b->st.dropped_malformed);
    o->dropped_version = atomic_load(&b->st.dropped_version);
    o->dropped_slow = atomic_load(&b->st.dropped_slow);
    o->dropped_forged = atomic_load(&b->st.dropped_forged);
    o->dropped_stale = atomic_load(&b->st.dropped_stale);
    o->requests_sent = atomic_load(&b->st.requests_sent);
    o->requests_timed_out = atomic_load(&b->st.requests_timed_out);
    o->requests_answered = atomic_load(&b->st.requests_answered);
    if (b->nc && b->connected)
        natsConnection_GetConnectedUrl(b->nc, o->server, sizeof o->server);
}

void lec_bus_library_shutdown(void)
{
    nats_CloseAndWait(2000);
}
