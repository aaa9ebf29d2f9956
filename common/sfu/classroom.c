/*
 * A session's `lectern` data channel (sfu_int.h): negotiated in the
 * answer, opened by the client, and the JSON messages on it.  Every
 * message is an object with a string `type`; what a client may send is
 * bounded (LEC_CLASS_MAX_IN bytes, LEC_CLASS_RATE a second with a burst of
 * LEC_CLASS_BURST); the rest is dropped and counted, and never reaches
 * another session.
 *
 * On open the client gets {"type":"welcome","session","role","stream"};
 * {"type":"ping","t":x} is answered {"type":"pong","t":x} at once (a
 * page's own round trip to its node).
 *
 * SCTP's timers are process-wide (sctp/sctp.h): every worker with data
 * channels ticks them every 10 ms and then runs what its peers queued.
 */
#include "base/err.h"
#include "base/json.h"
#include "base/sbuf.h"
#include "sctp/sctp.h"
#include "sfu/sfu_int.h"

#include <stdio.h>
#include <string.h>

#define MOD        "class"
#define DC_TICK_MS 10

static lec_tstamp now(const session *x)
{
    return lec__sfu_now(x->sfu);
}

static void on_dc_tick(uv_timer_t *t)
{
    lec_sfu *s = t->data;
    lec_sctp_tick(lec__sfu_now(s));
    for (session *x = s->sessions; x; x = x->next)
        if (x->data && !x->dying && x->peer)
            lec_peer_poll_data(x->peer);
}

void lec__class_init(lec_sfu *s)
{
    uv_timer_init(s->env.loop, &s->dc_timer);
    s->dc_timer.data = s;
}

void lec__class_offer(lec_sdp_answer_opts *o)
{
    o->data_max_message = LEC_CLASS_MAX_MESSAGE;
}

void lec__class_setup(session *x, const lec_sdp *offer, const lec_sdp *ans)
{
    x->chan = -1;
    for (unsigned i = 0; i < ans->nmedia && i < offer->nmedia; i++) {
        const lec_sdp_media *a = &ans->media[i], *m = &offer->media[i];
        if (a->kind != LEC_SDP_APPLICATION || !a->port)
            continue;
        unsigned port = 5000;
        if (m->sctp_port[0])
            sscanf(m->sctp_port, "%u", &port);
        lec_peer_data_cfg dc = {.local_port = 5000,
                                .remote_port = (uint16_t)port,
                                .max_message = LEC_CLASS_MAX_MESSAGE,
                                .peer_max_message = m->has_max_message && m->max_message
                                                        ? m->max_message
                                                        : (m->has_max_message ? SIZE_MAX : 65536),
                                .label = LEC_CLASS_LABEL};
        if (lec_peer_enable_data(x->peer, &dc))
            return;
        x->data = true;
        x->msg_tokens = LEC_CLASS_BURST;
        x->msg_at = now(x);
        lec_sfu *s = x->sfu;
        if (s->ndata++ == 0)
            uv_timer_start(&s->dc_timer, on_dc_tick, DC_TICK_MS, DC_TICK_MS);
        return;
    }
}

void lec__class_gone(session *x)
{
    if (!x->data)
        return;
    x->data = false;
    lec_sfu *s = x->sfu;
    if (--s->ndata == 0)
        uv_timer_stop(&s->dc_timer);
}

void lec__class_free(lec_sfu *s)
{
    uv_timer_stop(&s->dc_timer);
}

int lec__class_send(session *x, const char *json, size_t len)
{
    if (x->dying || x->chan < 0)
        return LEC_ERR_STATE;
    int rc = lec_peer_send_message(x->peer, x->chan, false, json, len);
    if (rc)
        x->msg_undelivered++;
    return rc;
}

static void send_jw(session *x, lec_sbuf *sb)
{
    if (!lec_sbuf_status(sb))
        lec__class_send(x, sb->data, sb->len);
}

void lec__class_channel(void *ud, lec_peer *p, int chan, bool open)
{
    (void)p;
    session *x = ud;
    if (x->dying)
        return;
    if (!open) {
        if (chan == x->chan)
            x->chan = -1;
        return;
    }
    x->chan = chan;
    char buf[256];
    lec_sbuf sb;
    lec_sbuf_init_fixed(&sb, buf, sizeof buf);
    lec_jw w;
    lec_jw_init(&w, &sb);
    lec_jw_obj_open(&w);
    lec_jw_key(&w, "type");
    lec_jw_str(&w, "welcome");
    lec_jw_key(&w, "session");
    lec_jw_str(&w, x->id);
    lec_jw_key(&w, "role");
    lec_jw_str(&w, x->publisher ? "teacher" : "student");
    lec_jw_key(&w, "stream");
    lec_jw_str(&w, x->room ? x->room->stream : "");
    lec_jw_obj_close(&w);
    send_jw(x, &sb);
}

/* The client's budget: LEC_CLASS_RATE messages a second, LEC_CLASS_BURST
 * at once. */
static bool take_token(session *x, lec_tstamp t)
{
    x->msg_tokens += (double)(t - x->msg_at) / LEC_S * LEC_CLASS_RATE;
    if (x->msg_tokens > LEC_CLASS_BURST)
        x->msg_tokens = LEC_CLASS_BURST;
    x->msg_at = t;
    if (x->msg_tokens < 1)
        return false;
    x->msg_tokens -= 1;
    return true;
}

static void refuse(session *x, const char *why)
{
    x->msg_refused++;
    LEC_DEBUG(x->sfu->env.log, MOD, "%s: message dropped: %s", x->id, why);
}

static void on_ping(session *x, const lec_json *msg)
{
    char buf[128];
    lec_sbuf sb;
    lec_sbuf_init_fixed(&sb, buf, sizeof buf);
    lec_jw w;
    lec_jw_init(&w, &sb);
    lec_jw_obj_open(&w);
    lec_jw_key(&w, "type");
    lec_jw_str(&w, "pong");
    lec_jw_key(&w, "t");
    lec_jw_double(&w, lec_json_number(lec_json_get(msg, "t"), 0));
    lec_jw_obj_close(&w);
    send_jw(x, &sb);
}

void lec__class_message(void *ud, lec_peer *p, int chan, bool binary, const uint8_t *data,
                        size_t len)
{
    (void)p;
    session *x = ud;
    if (x->dying)
        return;
    lec_tstamp t = now(x);
    if (!take_token(x, t))
        return refuse(x, "over the message rate");
    if (chan != x->chan || binary)
        return refuse(x, "not a text message on the lectern channel");
    if (len > LEC_CLASS_MAX_IN)
        return refuse(x, "too long");
    lec_json *msg = NULL;
    char err[96];
    if (lec_json_parse(NULL, (const char *)data, len, &msg, err, sizeof err))
        return refuse(x, "not JSON");
    const char *type = lec_json_string(lec_json_get(msg, "type"), NULL);
    x->msg_in++;
    if (!type)
        refuse(x, "no type");
    else if (!strcmp(type, "ping"))
        on_ping(x, msg);
    else
        refuse(x, "unknown type");
    lec_json_free(NULL, msg);
}

void lec__class_stats(session *x, lec_sfu_session_stats *out)
{
    lec_peer_data_stats ds;
    lec_peer_data_stats_get(x->peer, &ds);
    out->data.negotiated = ds.enabled;
    out->data.open = ds.open && x->chan >= 0;
    out->data.rtt_ms = ds.rtt_ms;
    out->data.messages_in = x->msg_in;
    out->data.messages_out = ds.messages_out;
    out->data.refused = x->msg_refused + ds.dropped + ds.refused;
    out->data.undelivered = x->msg_undelivered;
}
