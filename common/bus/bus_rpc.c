/*
 * Request and reply on the bus (bus.h, bus_int.h): RelayOpen and Ping
 * asked of another node (a pending entry per request, answered by the
 * reply on our inbox or failed by its timer), our answers to theirs, and
 * the NATS service API ($SRV.PING / INFO / STATS) that `nats micro`
 * tooling reads.  All on the loop.
 */
#include "base/err.h"
#include "base/sbuf.h"
#include "bus/bus_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "bus"

/* ---- loop: requests --------------------------------------------------- */

static void pending_closed(uv_handle_t *h)
{
    pending *p = h->data;
    lec_trust_wipe(p->seal_priv, sizeof p->seal_priv);
    free(p);
}

size_t lec__bus_seal_aad(const char *stream, uint64_t leg_id, uint8_t *out)
{
    size_t n = strlen(stream) + 1;
    memcpy(out, stream, n);
    for (int i = 0; i < 8; i++)
        out[n + (size_t)i] = (uint8_t)(leg_id >> (56 - 8 * i));
    return n + 8;
}

static void pending_finish(pending *p)
{
    lec_bus *b = p->bus;
    if (p->prev)
        p->prev->next = p->next;
    else
        b->pending = p->next;
    if (p->next)
        p->next->prev = p->prev;
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, pending_closed);
}

static void pending_fail(pending *p, int status)
{
    pending_finish(p);
    if (p->kind == 'r')
        p->rcb(p->ud, status, NULL);
    else
        p->pcb(p->ud, p->node, status, 0);
}

static void on_request_timeout(uv_timer_t *t)
{
    pending *p = t->data;
    atomic_fetch_add(&p->bus->st.requests_timed_out, 1);
    pending_fail(p, LEC_ERR_TIMEOUT);
}

/* A fresh reply token: random (an answer to our inbox cannot be aimed at
 * a request by guessing its number), never one pending. */
static uint64_t new_token(lec_bus *b)
{
    for (;;) {
        uint64_t t = lec_rand_u64(b->rand);
        pending *p = b->pending;
        while (p && p->token != t)
            p = p->next;
        if (t && !p)
            return t;
    }
}

/* The reply subject of request `token`: "<inbox>.<kind>.<token>". */
static void reply_subject(const lec_bus *b, char kind, uint64_t token, char *out, size_t cap)
{
    snprintf(out, cap, "%s.%c.%llu", b->inbox, kind, (unsigned long long)token);
}

/* Publishes a request on `subj` (which names `target`) with the reply
 * subject of `token` (which the request's body names too: signed with
 * it), and arms its timeout. */
static int request(lec_bus *b, char kind, const char *target, const char *subj,
                   const lec_sbuf *data, lec_tstamp timeout, uint64_t token, pending **out)
{
    if (!b->connected)
        return LEC_ERR_CLOSED;
    if (!lec_codec_valid_token(target))
        return LEC_ERR_INVAL;
    pending *p = calloc(1, sizeof *p);
    if (!p)
        return LEC_ERR_NOMEM;
    p->bus = b;
    p->kind = kind;
    p->token = token;
    p->sent = lec_clock_now(b->mono);
    memcpy(p->node, target, strlen(target) + 1);
    char reply[REPLY_MAX];
    reply_subject(b, kind, token, reply, sizeof reply);
    if (lec__bus_publish(b, subj, reply, data)) {
        free(p);
        return LEC_ERR_IO;
    }
    atomic_fetch_add(&b->st.requests_sent, 1);
    uv_timer_init(b->loop, &p->timer);
    p->timer.data = p;
    uv_timer_start(&p->timer, on_request_timeout, (timeout + LEC_MS - 1) / LEC_MS, 0);
    p->next = b->pending;
    if (b->pending)
        b->pending->prev = p;
    b->pending = p;
    *out = p;
    return 0;
}

int lec_bus_request_relay_open(lec_bus *b, const char *target, const lec_relay_open *m,
                               lec_tstamp timeout, lec_bus_relay_cb cb, void *ud)
{
    lec_msg_header h;
    lec__bus_header(b, &h);
    lec_sbuf data;
    lec_sbuf_init(&data, NULL);
    pending *p = NULL;
    char subj[160];
    snprintf(subj, sizeof subj, "lectern.v1.relay.%s.open", target);
    /* The leg's keys come back sealed to a key pair made for this leg. */
    lec_relay_open sm = *m;
    uint64_t token = new_token(b);
    reply_subject(b, 'r', token, sm.reply_to, sizeof sm.reply_to);
    uint8_t priv[LEC_TRUST_KEY];
    int rc = 0;
    if (b->trust) {
        rc = lec_trust_seal_keypair(b->rand, priv, sm.seal_key);
        sm.has_seal_key = true;
    }
    if (!rc)
        rc = lec_codec_encode_relay_open(&h, &sm, &data);
    if (!rc)
        rc = request(b, 'r', target, subj, &data, timeout, token, &p);
    lec_sbuf_free(&data);
    if (!rc) {
        p->rcb = cb;
        p->ud = ud;
        p->sealed = b->trust != NULL;
        memcpy(p->seal_priv, priv, sizeof priv);
        snprintf(p->stream, sizeof p->stream, "%s", m->stream);
        p->leg_id = m->leg_id;
    }
    lec_trust_wipe(priv, sizeof priv);
    return rc;
}

int lec_bus_ping(lec_bus *b, const char *target, lec_tstamp timeout, lec_bus_ping_cb cb, void *ud)
{
    lec_msg_header h;
    lec__bus_header(b, &h);
    lec_ping ping = {.nonce = ++b->next_token, .mono_ns = lec_clock_now(b->mono)};
    uint64_t token = new_token(b);
    reply_subject(b, 'p', token, ping.reply_to, sizeof ping.reply_to);
    lec_sbuf data;
    lec_sbuf_init(&data, NULL);
    pending *p = NULL;
    char subj[160];
    snprintf(subj, sizeof subj, "lectern.v1.node.%s.ping", target);
    int rc = lec_codec_encode_ping(&h, &ping, &data);
    if (!rc)
        rc = request(b, 'p', target, subj, &data, timeout, token, &p);
    lec_sbuf_free(&data);
    if (!rc) {
        p->pcb = cb;
        p->ud = ud;
    }
    return rc;
}

/* A RelayOpened's sealed keys, opened into key_down and key_up.  0 or
 * LEC_ERR_AUTH (keys in clear, or a box that does not open). */
static int open_keys(pending *p, lec_relay_opened *r)
{
    uint8_t aad[LEC_ID_MAX + 8], keys[2 * LEC_SRTP_KEY_MAX];
    size_t al = lec__bus_seal_aad(p->stream, p->leg_id, aad);
    if (r->key_down_len || r->key_up_len || r->sealed_len <= LEC_TRUST_SEAL_OVERHEAD ||
        (r->sealed_len - LEC_TRUST_SEAL_OVERHEAD) % 2 ||
        lec_trust_unseal(p->seal_priv, r->sealed, r->sealed_len, aad, al, keys))
        return LEC_ERR_AUTH;
    size_t half = (r->sealed_len - LEC_TRUST_SEAL_OVERHEAD) / 2;
    memcpy(r->key_down, keys, half);
    memcpy(r->key_up, keys + half, half);
    r->key_down_len = r->key_up_len = half;
    lec_trust_wipe(keys, sizeof keys);
    return 0;
}

/* A reply for a pending request that is not its answer: dropped, and the
 * request waits on for the real one or its timeout (nothing that anyone
 * on the bus can send ends a request). */
static void not_the_answer(lec_bus *b, const pending *p, const bus_event *ev, const char *why)
{
    atomic_fetch_add(&b->st.dropped_forged, 1);
    LEC_WARN(b->log, MOD, "a reply for %s (signed by %s): %s; dropped", p->node,
             ev->signer[0] ? ev->signer : "nobody", why);
}

void lec__bus_on_reply(lec_bus *b, bus_event *ev)
{
    pending *p = b->pending;
    while (p && (p->token != ev->token || p->kind != ev->reply_kind))
        p = p->next;
    if (!p)
        return; /* late: its request already timed out */
    /* Only the node asked answers (its signature was checked).  Another's
     * answer is dropped and the request waits on: whoever sees requests
     * on the bus cannot make them fail by answering first. */
    if (b->trust && strcmp(ev->signer, p->node)) {
        not_the_answer(b, p, ev, "not the node asked");
        return;
    }
    if (p->kind == 'r' && !ev->status &&
        (strcmp(ev->u.rd.stream, p->stream) || ev->u.rd.leg_id != p->leg_id)) {
        not_the_answer(b, p, ev, "for another stream or leg");
        return;
    }
    /* Keys sealed to another request's key (an answer the node gave to
     * someone else, sent on here): not ours to fail on. */
    if (p->kind == 'r' && p->sealed && !ev->status && ev->u.rd.error == LEC_RELAY_OK &&
        open_keys(p, &ev->u.rd)) {
        not_the_answer(b, p, ev, "keys that do not open with this request's key");
        return;
    }
    atomic_fetch_add(&b->st.requests_answered, 1);
    if (ev->status) {
        pending_fail(p, ev->status == LEC_ERR_NOTFOUND ? LEC_ERR_NOTFOUND : LEC_ERR_INVAL);
        return;
    }
    pending_finish(p);
    if (p->kind == 'r')
        p->rcb(p->ud, 0, &ev->u.rd);
    else
        p->pcb(p->ud, p->node, 0, lec_clock_now(b->mono) - p->sent);
}

/* ---- loop: answering -------------------------------------------------- */

/* The answer's keys sealed to the requester's one-leg key, and out of the
 * clear fields.  0, or LEC_ERR_AUTH when the request had no key to seal to. */
static int seal_keys(lec_bus *b, const lec_bus_request *req, lec_relay_opened *r)
{
    if (!req->has_seal_key)
        return LEC_ERR_AUTH;
    uint8_t aad[LEC_ID_MAX + 8], keys[2 * LEC_SRTP_KEY_MAX];
    size_t al = lec__bus_seal_aad(r->stream, r->leg_id, aad);
    if (r->key_down_len != r->key_up_len)
        return LEC_ERR_INVAL;
    size_t half = r->key_down_len;
    memcpy(keys, r->key_down, half);
    memcpy(keys + half, r->key_up, half);
    int rc = lec_trust_seal(req->seal_key, b->rand, keys, 2 * half, aad, al, r->sealed);
    r->sealed_len = rc ? 0 : 2 * half + LEC_TRUST_SEAL_OVERHEAD;
    lec_trust_wipe(keys, sizeof keys);
    lec_trust_wipe(r->key_down, sizeof r->key_down);
    lec_trust_wipe(r->key_up, sizeof r->key_up);
    r->key_down_len = r->key_up_len = 0;
    return rc;
}

void lec_bus_reply_relay_opened(lec_bus *b, lec_bus_request *req, const lec_relay_opened *m)
{
    lec_msg_header h;
    lec__bus_header(b, &h);
    lec_sbuf data;
    lec_sbuf_init(&data, NULL);
    lec_relay_opened r = *m;
    int rc = 0;
    if (b->trust && r.error == LEC_RELAY_OK && seal_keys(b, req, &r)) {
        /* Never in clear: an answer without its keys. */
        lec_trust_wipe(&r, sizeof r);
        memcpy(r.stream, m->stream, sizeof r.stream);
        r.leg_id = m->leg_id;
        memcpy(r.source_id, m->source_id, sizeof r.source_id);
        r.error = LEC_RELAY_BAD_REQUEST;
        snprintf(r.error_message, sizeof r.error_message,
                 "the request has no seal_key: relay keys are never sent in clear");
    }
    rc = lec_codec_encode_relay_opened(&h, &r, &data);
    lec_trust_wipe(&r, sizeof r);
    if (!rc)
        rc = lec__bus_publish(b, req->reply, NULL, &data);
    b->ep[req->ep].requests++;
    b->ep[req->ep].errors += rc != 0 || m->error != LEC_RELAY_OK;
    b->ep[req->ep].processing_ns += lec_clock_now(b->mono) - req->recv_at;
    lec_sbuf_free(&data);
    free(req);
}

void lec__bus_answer_ping(lec_bus *b, bus_event *ev)
{
    lec_tstamp t0 = lec_clock_now(b->mono);
    lec_msg_header h;
    lec__bus_header(b, &h);
    lec_sbuf data;
    lec_sbuf_init(&data, NULL);
    if (!lec_codec_encode_pong(&h, &ev->u.ping, &data))
        lec__bus_publish(b, ev->reply, NULL, &data);
    lec_sbuf_free(&data);
    b->ep[EP_PING].requests++;
    b->ep[EP_PING].processing_ns += lec_clock_now(b->mono) - t0;
}

/* The NATS micro protocol (ADR-32): service discovery as JSON. */
void lec__bus_answer_srv(lec_bus *b, bus_event *ev)
{
    static const char *const types[] = {"io.nats.micro.v1.ping_response",
                                        "io.nats.micro.v1.info_response",
                                        "io.nats.micro.v1.stats_response"};
    lec_sbuf out;
    lec_sbuf_init(&out, NULL);
    lec_jw w;
    lec_jw_init(&w, &out);
    lec_jw_obj_open(&w);
    lec_jw_key(&w, "type");
    lec_jw_str(&w, types[ev->verb]);
    lec_jw_key(&w, "name");
    lec_jw_str(&w, SERVICE_NAME);
    lec_jw_key(&w, "id");
    lec_jw_str(&w, b->node_id);
    lec_jw_key(&w, "version");
    lec_jw_str(&w, LEC_VERSION);
    lec_jw_key(&w, "metadata");
    lec_jw_obj_open(&w);
    lec_jw_key(&w, "region");
    lec_jw_str(&w, b->region);
    lec_jw_key(&w, "role");
    lec_jw_str(&w, b->role);
    lec_jw_obj_close(&w);
    if (ev->verb == SRV_INFO) {
        lec_jw_key(&w, "description");
        lec_jw_str(&w, "Lectern media node: relay legs and RTT probes");
    }
    if (ev->verb == SRV_STATS) {
        char ts[32];
        lec_time_format_rfc3339(b->started_unix_ms * LEC_MS, ts, sizeof ts);
        lec_jw_key(&w, "started");
        lec_jw_str(&w, ts);
    }
    if (ev->verb != SRV_PING) {
        lec_jw_key(&w, "endpoints");
        lec_jw_arr_open(&w);
        for (int e = 0; e < EP_COUNT; e++) {
            char subj[160];
            snprintf(subj, sizeof subj,
                     e == EP_RELAY_OPEN ? "lectern.v1.relay.%s.open" : "lectern.v1.node.%s.ping",
                     b->node_id);
            lec_jw_obj_open(&w);
            lec_jw_key(&w, "name");
            lec_jw_str(&w, lec__bus_ep_names[e]);
            lec_jw_key(&w, "subject");
            lec_jw_str(&w, subj);
            lec_jw_key(&w, "queue_group");
            lec_jw_str(&w, "");
            if (ev->verb == SRV_INFO) {
                lec_jw_key(&w, "metadata");
                lec_jw_null(&w);
            } else {
                uint64_t n = b->ep[e].requests;
                lec_jw_key(&w, "num_requests");
                lec_jw_uint(&w, n);
                lec_jw_key(&w, "num_errors");
                lec_jw_uint(&w, b->ep[e].errors);
                lec_jw_key(&w, "last_error");
                lec_jw_str(&w, "");
                lec_jw_key(&w, "processing_time");
                lec_jw_uint(&w, b->ep[e].processing_ns);
                lec_jw_key(&w, "average_processing_time");
                lec_jw_uint(&w, n ? b->ep[e].processing_ns / n : 0);
            }
            lec_jw_obj_close(&w);
        }
        lec_jw_arr_close(&w);
    }
    lec_jw_obj_close(&w);
    if (!lec_sbuf_status(&out) && b->nc)
        natsConnection_Publish(b->nc, ev->reply, out.data, (int)out.len);
    lec_sbuf_free(&out);
}

void lec__bus_fail_pending(lec_bus *b, int status)
{
    while (b->pending)
        pending_fail(b->pending, status);
}
