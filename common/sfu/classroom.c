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
 * page's own round trip to its node).  The rest is the room's classroom
 * (classroom/class.h): a student's answer, ask or hand; a teacher's quiz,
 * reply or block.  Its events go to this worker's students, to the
 * teacher, and along the cascade.
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

/* The worker's clock, and a room by name: from the engine's own state
 * (sfu_int.h), not through sfu.c, which calls in here. */
static lec_tstamp clock_now(const lec_sfu *s)
{
    return lec_clock_now(s->env.clock);
}

static stream_room *room_of(lec_sfu *s, const char *stream)
{
    for (stream_room *r = s->rooms; r; r = r->next)
        if (!strcmp(r->stream, stream))
            return r;
    return NULL;
}

static lec_tstamp now(const session *x)
{
    return clock_now(x->sfu);
}

static int64_t wall_ms(const lec_sfu *s)
{
    return s->env.wall ? (int64_t)(lec_clock_now(s->env.wall) / LEC_MS) : 0;
}

static void class_due(stream_room *r, lec_tstamp t);

/* A student's round trip as its RTCP reports give it, sampled every 250
 * ms; the smallest of the last 15 to 30 s is its answers' bound
 * (lec_rtt_window). */
static void rtt_sample(session *x, lec_tstamp now)
{
    lec_room_viewer_stats vs;
    if (!x->room || lec_room_viewer_get_stats(&x->room->core, x->vid, &vs) || !vs.rtt)
        return;
    lec_rtt_window_add(&x->rtt, now, vs.rtt);
}

/* A JSON object with its `type`, opened on `out`. */
static void begin(lec_jw *w, lec_sbuf *out, const char *type)
{
    lec_jw_init(w, out);
    lec_jw_obj_open(w);
    lec_jw_key(w, "type");
    lec_jw_str(w, type);
}

static void on_dc_tick(uv_timer_t *t)
{
    lec_sfu *s = t->data;
    lec_tstamp now = clock_now(s);
    lec_sctp_tick(now);
    bool sample = ++s->dc_ticks % 25 == 0; /* students' round trips, every 250 ms */
    for (session *x = s->sessions; x; x = x->next) {
        if (!x->data || x->dying || !x->peer)
            continue;
        lec_peer_poll_data(x->peer);
        if (sample && !x->publisher)
            rtt_sample(x, now);
    }
    bool pending = false;
    for (stream_room *r = s->rooms; r; r = r->next) {
        class_due(r, now);
        pending = pending || lec_class_deadline(&r->cls) != LEC_TSTAMP_NEVER;
    }
    if (!s->ndata && !pending)
        uv_timer_stop(&s->dc_timer);
}

void lec__class_kick(lec_sfu *s)
{
    if (!uv_is_active((uv_handle_t *)&s->dc_timer))
        uv_timer_start(&s->dc_timer, on_dc_tick, DC_TICK_MS, DC_TICK_MS);
}

static void class_down(stream_room *r, const uint8_t *data, size_t len);
static void class_up(stream_room *r, const uint8_t *data, size_t len);

/* A message from a leg (leg.c calls it through the room, not by name). */
static void class_in(stream_room *r, bool from_upstream, const uint8_t *data, size_t len)
{
    if (from_upstream)
        class_down(r, data, len);
    else
        class_up(r, data, len);
}

void lec__class_room_init(stream_room *r)
{
    r->class_in = class_in;
    lec_class_init(&r->cls, false, r->sfu->env.quiz_lead ? r->sfu->env.quiz_lead : 500 * LEC_MS);
}

void lec__class_room_free(stream_room *r)
{
    lec_class_free(&r->cls);
}

void lec__class_room_home(stream_room *r)
{
    r->cls.home = true;
}

/* ---- where the classroom's messages go ---- */

static void to_students(stream_room *r, const lec_sbuf *msg)
{
    for (session *v = r->viewers; v; v = v->next_viewer)
        if (v->chan >= 0)
            lec__class_send(v, msg->data, msg->len);
}

static void to_teacher(stream_room *r, const lec_sbuf *msg)
{
    if (r->pub && r->pub->chan >= 0)
        lec__class_send(r->pub, msg->data, msg->len);
}

/* What the classroom asked for after a call. */
static void handle(stream_room *r, const lec_class_event *ev, lec_tstamp now)
{
    const lec_sbuf *msg = ev->msg;
    if (lec_sbuf_status(msg))
        return;
    switch (ev->kind) {
    case LEC_CLASS_TO_STUDENTS:
        to_students(r, msg);
        r->class_out(r, true, msg->data, msg->len);
        break;
    case LEC_CLASS_RELEASE:
        for (session *v = r->viewers; v; v = v->next_viewer)
            if (v->chan >= 0 && !lec__class_send(v, msg->data, msg->len))
                lec_class_show(&r->cls, ev->quiz, v->vid, now);
        break;
    case LEC_CLASS_TO_TEACHER:
        to_teacher(r, msg);
        break;
    case LEC_CLASS_UP:
        r->class_out(r, false, msg->data, msg->len);
        break;
    case LEC_CLASS_CLOSED:
        to_students(r, msg);
        to_teacher(r, msg);
        r->class_out(r, true, msg->data, msg->len);
        break;
    case LEC_CLASS_NONE:
        break;
    }
}

static void class_due(stream_room *r, lec_tstamp t)
{
    for (int guard = 0; guard < LEC_CLASS_QUIZZES * 2; guard++) {
        if (lec_class_deadline(&r->cls) > t)
            return;
        lec_sbuf msg;
        lec_sbuf_init(&msg, NULL);
        lec_class_event ev;
        lec_class_tick(&r->cls, t, wall_ms(r->sfu), &msg, &ev);
        handle(r, &ev, t);
        lec_sbuf_free(&msg);
        if (ev.kind == LEC_CLASS_NONE)
            return;
    }
}

static void class_down(stream_room *r, const uint8_t *data, size_t len)
{
    lec_sfu *s = r->sfu;
    lec_tstamp t = clock_now(s);
    lec_sbuf msg;
    lec_sbuf_init(&msg, NULL);
    lec_class_event ev;
    if (lec_class_down(&r->cls, (const char *)data, len, t, wall_ms(s), &msg, &ev) == 0) {
        /* On down the cascade: the quiz too (each node schedules its own). */
        if (ev.kind == LEC_CLASS_TO_STUDENTS)
            handle(r, &ev, t);
        else
            r->class_out(r, true, (const char *)data, len);
        lec__class_kick(s);
        class_due(r, t);
    }
    lec_sbuf_free(&msg);
}

static void class_up(stream_room *r, const uint8_t *data, size_t len)
{
    lec_tstamp t = clock_now(r->sfu);
    if (!r->cls.home) { /* not ours to rank: on up */
        r->class_out(r, false, (const char *)data, len);
        return;
    }
    lec_sbuf msg;
    lec_sbuf_init(&msg, NULL);
    lec_class_event ev;
    if (lec_class_up(&r->cls, (const char *)data, len, t, &msg, &ev) == 0)
        handle(r, &ev, t);
    lec_sbuf_free(&msg);
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
    begin(&w, &sb, "welcome");
    lec_jw_key(&w, "session");
    lec_jw_str(&w, x->id);
    lec_jw_key(&w, "role");
    lec_jw_str(&w, x->publisher ? "teacher" : "student");
    lec_jw_key(&w, "stream");
    lec_jw_str(&w, x->room ? x->room->stream : "");
    lec_jw_obj_close(&w);
    send_jw(x, &sb);
    /* A student who comes in while a quiz is open gets it now. */
    stream_room *r = x->room;
    lec_tstamp t = now(x);
    lec_sbuf msg;
    lec_sbuf_init(&msg, NULL);
    lec_quiz *q = r && !x->publisher ? lec_class_open_quiz(&r->cls, t, &msg) : NULL;
    if (q && !lec_sbuf_status(&msg) && !lec__class_send(x, msg.data, msg.len))
        lec_class_show(&r->cls, q, x->vid, t);
    lec_sbuf_free(&msg);
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
    const lec_sfu_metrics *mt = &x->sfu->env.metrics;
    lec_metric_add(mt->m, mt->slot, mt->class_refused, 1);
    LEC_DEBUG(x->sfu->env.log, MOD, "%s: message dropped: %s", x->id, why);
}

/* A student's round trip: the smaller of two paths, the smallest its
 * RTCP reports gave lately (rtt_sample) and the data channel's own (SCTP's
 * smoothed round trip): a client that times its reports to look far away
 * must slow its SCTP acknowledgements too (ICE-lite sends no consent
 * checks of its own to time). */
static lec_tstamp student_rtt(session *x)
{
    lec_tstamp r = lec_rtt_window_get(&x->rtt, now(x));
    lec_peer_data_stats ds;
    lec_peer_data_stats_get(x->peer, &ds);
    lec_tstamp sctp = ds.rtt_ms > 0 ? (lec_tstamp)ds.rtt_ms * LEC_MS : 0;
    return !r ? sctp : !sctp ? r : r < sctp ? r : sctp;
}

static void from_student(session *x, const uint8_t *data, size_t len, lec_tstamp t)
{
    stream_room *r = x->room;
    lec_sfu *s = x->sfu;
    lec_class_who who = {x->vid, x->id, s->env.node_id ? s->env.node_id : "",
                         s->env.region ? s->env.region : "", student_rtt(x)};
    lec_sbuf reply, msg;
    lec_sbuf_init(&reply, NULL);
    lec_sbuf_init(&msg, NULL);
    lec_class_event ev;
    if (lec_class_from_student(&r->cls, &who, (const char *)data, len, t, &x->asks, &reply, &msg,
                               &ev))
        x->msg_refused++;
    if (reply.len && !lec_sbuf_status(&reply))
        lec__class_send(x, reply.data, reply.len);
    handle(r, &ev, t);
    lec_sbuf_free(&reply);
    lec_sbuf_free(&msg);
}

/* The teacher's quiz, reply or block; a quiz gets its id back. */
static void from_teacher(session *x, const uint8_t *data, size_t len, lec_tstamp t)
{
    stream_room *r = x->room;
    lec_sfu *s = x->sfu;
    char id[17], err[160] = "";
    snprintf(id, sizeof id, "%016llx", (unsigned long long)lec_rand_u64(s->env.rand));
    lec_sbuf down;
    lec_sbuf_init(&down, NULL);
    lec_class_event ev;
    unsigned before = r->cls.stats.quizzes;
    int rc = lec_class_from_teacher(&r->cls, (const char *)data, len, id, t, wall_ms(s), &down, &ev,
                                    err, sizeof err);
    char buf[256];
    lec_sbuf sb;
    lec_sbuf_init_fixed(&sb, buf, sizeof buf);
    lec_jw w;
    lec_jw_init(&w, &sb);
    lec_jw_obj_open(&w);
    if (rc) {
        x->msg_refused++;
        lec_jw_key(&w, "type");
        lec_jw_str(&w, "error");
        lec_jw_key(&w, "error");
        lec_jw_str(&w, err[0] ? err : "refused");
    } else if (r->cls.stats.quizzes != before) {
        r->class_out(r, true, down.data, down.len);
        lec__class_kick(s);
        lec_jw_key(&w, "type");
        lec_jw_str(&w, "quiz_started");
        lec_jw_key(&w, "id");
        lec_jw_str(&w, id);
    } else {
        handle(r, &ev, t);
        lec_jw_key(&w, "type");
        lec_jw_str(&w, "ok");
    }
    lec_jw_obj_close(&w);
    send_jw(x, &sb);
    lec_sbuf_free(&down);
}

static void on_ping(session *x, const lec_json *msg)
{
    char buf[128];
    lec_sbuf sb;
    lec_sbuf_init_fixed(&sb, buf, sizeof buf);
    lec_jw w;
    begin(&w, &sb, "pong");
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
    else if (!x->room)
        refuse(x, "no room");
    else if (x->publisher)
        from_teacher(x, data, len, t);
    else
        from_student(x, data, len, t);
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

/* ---- the API (node/quiz.c) ---- */

int lec_sfu_quiz_start(lec_sfu *s, const char *stream, const char *json, size_t len, const char *id,
                       char *err, size_t errcap)
{
    stream_room *r = room_of(s, stream);
    if (!r || !r->live)
        return LEC_ERR_NOTFOUND;
    if (!r->cls.home)
        return LEC_ERR_STATE;
    lec_quiz_spec spec;
    lec_json *o;
    int rc = lec_class_quiz_parse(json, len, &spec, &o, err, errcap);
    lec_sbuf down;
    lec_sbuf_init(&down, NULL);
    if (!rc)
        rc = lec_class_quiz_start(&r->cls, &spec, id, clock_now(s), wall_ms(s), &down, err, errcap);
    lec_json_free(NULL, o);
    if (!rc) {
        r->class_out(r, true, down.data, down.len);
        lec__class_kick(s);
        /* The teacher's page hears of it, to rank the answers it gets. */
        char buf[96];
        int n = snprintf(buf, sizeof buf, "{\"type\":\"quiz_started\",\"id\":\"%s\"}", id);
        if (r->pub && r->pub->chan >= 0)
            lec__class_send(r->pub, buf, (size_t)n);
    }
    lec_sbuf_free(&down);
    return rc;
}

int lec_sfu_quiz_ranking(lec_sfu *s, const char *stream, const char *id, char **out)
{
    *out = NULL;
    stream_room *r = room_of(s, stream);
    if (!r || !r->cls.home)
        return LEC_ERR_NOTFOUND;
    lec_sbuf sb;
    lec_sbuf_init(&sb, NULL);
    int rc = lec_class_ranking(&r->cls, id, clock_now(s), &sb);
    if (!rc && !lec_sbuf_status(&sb))
        *out = lec_sbuf_steal(&sb, NULL);
    lec_sbuf_free(&sb);
    return rc ? rc : *out ? 0 : LEC_ERR_NOMEM;
}

void lec__class_count(stream_room *r)
{
    const lec_sfu_metrics *mt = &r->sfu->env.metrics;
    if (!mt->m)
        return;
    const lec_class_stats *a = &r->cls.stats;
    lec_class_stats *b = &r->cls_counted;
#define DELTA(id, field) lec_metric_add(mt->m, mt->slot, (id), a->field - b->field)
    DELTA(mt->quizzes, quizzes);
    DELTA(mt->quiz_late, released_late);
    DELTA(mt->quiz_answers[0], answers);
    DELTA(mt->quiz_answers[1], answers_adjusted);
    DELTA(mt->quiz_answers[2], answers_refused);
    DELTA(mt->asks, asks);
    DELTA(mt->asks_refused, asks_refused);
#undef DELTA
    *b = *a;
}
