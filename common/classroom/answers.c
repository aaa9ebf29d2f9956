/* The classroom's answers, questions and hands, from students, from the
 * nodes below and from the teacher (class.h); the quizzes' clock and the
 * ranking are class.c. */
#include "classroom/class_int.h"
#include "base/err.h"
#include "base/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- from students ---- */

static void error_json(lec_sbuf *out, const char *what, const char *id)
{
    lec_jw w;
    lec__class_begin(&w, out, "error");
    lec_jw_key(&w, "error");
    lec_jw_str(&w, what);
    if (id) {
        lec_jw_key(&w, "id");
        lec_jw_str(&w, id);
    }
    lec_jw_obj_close(&w);
}

static void answer_record_json(const lec_quiz *q, const lec_class_answer *a, lec_sbuf *out)
{
    lec_jw w;
    lec__class_begin(&w, out, "answer");
    lec_jw_key(&w, "quiz");
    lec_jw_str(&w, q->id);
    lec__class_answer_fields(&w, a, true);
    lec_jw_obj_close(&w);
}

/* At the home: an answer joins the ranking once per session. */
static int rank_add(lec_class *c, lec_quiz *q, lec_class_answer *a, lec_tstamp now, lec_sbuf *msg,
                    lec_class_event *ev)
{
    if (q->closed || now > lec__class_closes_at(q) + LEC_CLASS_GRACE) {
        c->stats.answers_refused++;
        return LEC_ERR_INVAL;
    }
    if (lec__class_answer_find(q, a->session)) {
        c->stats.answers_refused++;
        return LEC_ERR_INVAL;
    }
    a->right = a->option == q->answer;
    if (lec__class_answer_push(q, a)) {
        c->stats.answers_refused++;
        return LEC_ERR_NOMEM;
    }
    c->stats.answers++;
    c->stats.answers_adjusted += a->adjusted;
    answer_record_json(q, a, msg);
    ev->kind = LEC_CLASS_TO_TEACHER;
    ev->quiz = q;
    return 0;
}

/* The node's bounds on a student's reaction time (class.h). */
static void bound(lec_class_answer *a, lec_tstamp elapsed, lec_tstamp rtt, double claim)
{
    if (rtt > LEC_CLASS_RTT_MAX)
        rtt = LEC_CLASS_RTT_MAX;
    if (rtt > elapsed)
        rtt = elapsed;
    /* An overestimated round trip only widens the bounds; the upper one is
     * the node's own elapsed time, which no path delay can exceed. */
    double base = (double)(elapsed - rtt) / LEC_MS;
    double lo = base - (double)LEC_CLASS_SHOW_SLACK / LEC_MS;
    double hi = (double)elapsed / LEC_MS;
    if (lo < 0)
        lo = 0;
    a->elapsed_ms = (double)elapsed / LEC_MS;
    a->rtt_ms = (double)rtt / LEC_MS;
    a->claimed_ms = claim;
    if (claim < 0) {
        a->reaction_ms = base;
    } else if (claim < lo || claim > hi) {
        a->reaction_ms = claim < lo ? lo : hi;
        a->adjusted = true;
    } else {
        a->reaction_ms = claim;
    }
    a->at_bound = claim >= 0 && lo > 0 && a->reaction_ms < lo + (double)LEC_CLASS_AT_BOUND / LEC_MS;
}

static int student_answer(lec_class *c, const lec_class_who *who, const lec_json *o, lec_tstamp now,
                          lec_sbuf *reply, lec_sbuf *msg, lec_class_event *ev)
{
    const char *id = lec_json_string(lec_json_get(o, "id"), "");
    lec_quiz *q = lec_class_find(c, id);
    lec_class_seen *s = q ? lec__class_seen_find(q, who->vid) : NULL;
    int64_t opt;
    const char *why =
        !q                                           ? "no such quiz"
        : !s                                         ? "this quiz was not shown to you"
        : s->answered                                ? "you have answered already"
        : q->closed || now > lec__class_closes_at(q) ? "the quiz is closed"
        : !lec__class_int_of(lec_json_get(o, "option"), 0, (double)q->noptions - 1, &opt)
            ? "option: the index of one of the options"
            : NULL;
    if (why) {
        c->stats.answers_refused++;
        error_json(reply, why, q ? q->id : NULL);
        return LEC_ERR_INVAL;
    }
    s->answered = true;
    lec_class_answer a = {.option = (int)opt};
    snprintf(a.session, sizeof a.session, "%s", who->session);
    snprintf(a.node, sizeof a.node, "%s", who->node);
    snprintf(a.region, sizeof a.region, "%s", who->region);
    const lec_json *cl = lec_json_get(o, "reaction_ms");
    double claim = cl && cl->type == LEC_JSON_NUMBER && isfinite(cl->number) && cl->number >= 0
                       ? cl->number
                       : -1;
    /* Timed from this node's release, not from when this session was shown
     * it: a second session opened after reading the question would
     * otherwise start a fresh clock. */
    bound(&a, now - q->released_at, who->rtt, claim);
    lec_jw w;
    lec__class_begin(&w, reply, "answered");
    lec_jw_key(&w, "id");
    lec_jw_str(&w, q->id);
    lec_jw_key(&w, "option");
    lec_jw_int(&w, a.option);
    lec_jw_key(&w, "reaction_ms");
    lec_jw_double(&w, round(a.reaction_ms * 10) / 10);
    lec_jw_key(&w, "adjusted");
    lec_jw_bool(&w, a.adjusted);
    lec_jw_obj_close(&w);
    if (c->home)
        return rank_add(c, q, &a, now, msg, ev) == LEC_ERR_NOMEM ? LEC_ERR_NOMEM : 0;
    answer_record_json(q, &a, msg);
    ev->kind = LEC_CLASS_UP;
    ev->quiz = q;
    return 0;
}

static bool blocked(const lec_class *c, const char *session)
{
    for (unsigned i = 0; i < c->nblocked; i++)
        if (!strcmp(c->blocked[i], session))
            return true;
    return false;
}

/* An ask or a hand, as it goes up: who, and what. */
static void who_json(lec_jw *w, const char *type, const char *session, const char *node,
                     const char *region)
{
    lec_jw_key(w, "type");
    lec_jw_str(w, type);
    lec_jw_key(w, "session");
    lec_jw_str(w, session);
    lec_jw_key(w, "node");
    lec_jw_str(w, node);
    lec_jw_key(w, "region");
    lec_jw_str(w, region);
}

/* At the home, an ask gets its id and goes to the teacher; a blocked
 * asker's is dropped there. */
static int ask_home(lec_class *c, const char *session, const char *node, const char *region,
                    const char *text, lec_tstamp now, lec_sbuf *msg, lec_class_event *ev)
{
    if (blocked(c, session) ||
        !lec__class_take(&c->room_budget, now, LEC_CLASS_ROOM_RATE, LEC_CLASS_ROOM_BURST)) {
        c->stats.asks_refused++;
        return LEC_ERR_INVAL;
    }
    c->stats.asks++;
    lec_jw w;
    lec_jw_init(&w, msg);
    lec_jw_obj_open(&w);
    who_json(&w, "ask", session, node, region);
    lec_jw_key(&w, "id");
    lec_jw_uint(&w, ++c->next_ask);
    lec_jw_key(&w, "text");
    lec_jw_str(&w, text);
    lec_jw_obj_close(&w);
    ev->kind = LEC_CLASS_TO_TEACHER;
    return 0;
}

/* A raised (or lowered) hand: on up the cascade, or at the home to the
 * teacher, unless its student is blocked or the audience's budget is
 * spent. */
static int hand(lec_class *c, const char *session, const char *node, const char *region, bool up,
                lec_tstamp now, lec_sbuf *msg, lec_class_event *ev)
{
    if (c->home &&
        (blocked(c, session) ||
         !lec__class_take(&c->room_budget, now, LEC_CLASS_ROOM_RATE, LEC_CLASS_ROOM_BURST)))
        return LEC_ERR_INVAL;
    c->stats.hands++;
    lec_jw w;
    lec_jw_init(&w, msg);
    lec_jw_obj_open(&w);
    who_json(&w, "hand", session, node, region);
    lec_jw_key(&w, "up");
    lec_jw_bool(&w, up);
    lec_jw_obj_close(&w);
    ev->kind = c->home ? LEC_CLASS_TO_TEACHER : LEC_CLASS_UP;
    return 0;
}

int lec_class_from_student(lec_class *c, const lec_class_who *who, const char *json, size_t len,
                           lec_tstamp now, lec_class_ask_budget *budget, lec_sbuf *reply,
                           lec_sbuf *msg, lec_class_event *ev)
{
    lec__class_none(ev, msg);
    lec_json *o;
    const char *type;
    if (lec__class_parse_obj(json, len, &o, &type))
        return LEC_ERR_INVAL;
    int rc = 0;
    if (!strcmp(type, "answer")) {
        rc = student_answer(c, who, o, now, reply, msg, ev);
    } else if (!strcmp(type, "ask")) {
        const lec_json *t = lec_json_get(o, "text");
        if (!t || t->type != LEC_JSON_STRING || strlen(t->str) != t->len ||
            !lec__class_text_ok(t->str, t->len, LEC_CLASS_ASK_MAX, true)) {
            error_json(reply, "text: 1 to 500 bytes of text", NULL);
            rc = LEC_ERR_INVAL;
        } else if (!lec__class_take(budget, now, (double)LEC_S / LEC_CLASS_ASK_EVERY,
                                    LEC_CLASS_ASK_BURST)) {
            error_json(reply, "one question every 5 seconds, please", NULL);
            rc = LEC_ERR_INVAL;
        } else if (c->home) {
            rc = ask_home(c, who->session, who->node, who->region, t->str, now, msg, ev);
        } else {
            lec_jw w;
            lec_jw_init(&w, msg);
            lec_jw_obj_open(&w);
            who_json(&w, "ask", who->session, who->node, who->region);
            lec_jw_key(&w, "text");
            lec_jw_str(&w, t->str);
            lec_jw_obj_close(&w);
            ev->kind = LEC_CLASS_UP;
        }
        if (rc)
            c->stats.asks_refused++;
    } else if (!strcmp(type, "hand")) {
        if (!lec__class_take(budget, now, (double)LEC_S / LEC_CLASS_ASK_EVERY,
                             LEC_CLASS_ASK_BURST)) {
            rc = LEC_ERR_INVAL;
        } else {
            rc = hand(c, who->session, who->node, who->region, lec_json_true(lec_json_get(o, "up")),
                      now, msg, ev);
        }
    } else {
        error_json(reply, "unknown message type", NULL);
        rc = LEC_ERR_INVAL;
    }
    lec_json_free(NULL, o);
    return rc;
}

/* ---- at the home, from below ---- */

static bool num_of(const lec_json *v, double lo, double hi, double *out)
{
    if (!v || v->type != LEC_JSON_NUMBER || !isfinite(v->number) || v->number < lo ||
        v->number > hi)
        return false;
    *out = v->number;
    return true;
}

static int up_answer(lec_class *c, const lec_json *o, lec_tstamp now, lec_sbuf *msg,
                     lec_class_event *ev)
{
    lec_quiz *q = lec_class_find(c, lec_json_string(lec_json_get(o, "quiz"), ""));
    lec_class_answer a = {0};
    const char *s = lec_json_string(lec_json_get(o, "session"), NULL),
               *n = lec_json_string(lec_json_get(o, "node"), NULL),
               *r = lec_json_string(lec_json_get(o, "region"), NULL);
    int64_t opt;
    const lec_json *cl = lec_json_get(o, "claimed_ms"); /* null: the page said none */
    a.claimed_ms = -1;
    if (!q || !lec__class_name_ok(s, 32) || !lec__class_name_ok(n, 64) ||
        !lec__class_name_ok(r, 32) ||
        !lec__class_int_of(lec_json_get(o, "option"), 0, (double)q->noptions - 1, &opt) ||
        !num_of(lec_json_get(o, "reaction_ms"), 0, 1e9, &a.reaction_ms) ||
        (cl && cl->type != LEC_JSON_NULL && !num_of(cl, 0, 1e9, &a.claimed_ms)) ||
        !num_of(lec_json_get(o, "elapsed_ms"), 0, 1e9, &a.elapsed_ms) ||
        !num_of(lec_json_get(o, "rtt_ms"), 0, 1e9, &a.rtt_ms)) {
        c->stats.answers_refused++;
        return LEC_ERR_INVAL;
    }
    snprintf(a.session, sizeof a.session, "%s", s);
    snprintf(a.node, sizeof a.node, "%s", n);
    snprintf(a.region, sizeof a.region, "%s", r);
    a.option = (int)opt;
    a.adjusted = lec_json_true(lec_json_get(o, "adjusted"));
    a.at_bound = lec_json_true(lec_json_get(o, "at_bound"));
    return rank_add(c, q, &a, now, msg, ev);
}

int lec_class_up(lec_class *c, const char *json, size_t len, lec_tstamp now, lec_sbuf *msg,
                 lec_class_event *ev)
{
    lec__class_none(ev, msg);
    if (!c->home)
        return LEC_ERR_STATE;
    lec_json *o;
    const char *type;
    if (lec__class_parse_obj(json, len, &o, &type))
        return LEC_ERR_INVAL;
    int rc = LEC_ERR_INVAL;
    const char *s = lec_json_string(lec_json_get(o, "session"), NULL),
               *n = lec_json_string(lec_json_get(o, "node"), NULL),
               *r = lec_json_string(lec_json_get(o, "region"), NULL);
    bool who = lec__class_name_ok(s, 32) && lec__class_name_ok(n, 64) && lec__class_name_ok(r, 32);
    if (!strcmp(type, "answer")) {
        rc = up_answer(c, o, now, msg, ev);
    } else if (!strcmp(type, "ask") && who) {
        const lec_json *t = lec_json_get(o, "text");
        if (t && t->type == LEC_JSON_STRING && strlen(t->str) == t->len &&
            lec__class_text_ok(t->str, t->len, LEC_CLASS_ASK_MAX, true))
            rc = ask_home(c, s, n, r, t->str, now, msg, ev);
    } else if (!strcmp(type, "hand") && who) {
        rc = hand(c, s, n, r, lec_json_true(lec_json_get(o, "up")), now, msg, ev);
    }
    lec_json_free(NULL, o);
    return rc;
}

/* ---- the teacher ---- */

int lec_class_from_teacher(lec_class *c, const char *json, size_t len, const char *new_id,
                           lec_tstamp now, int64_t wall, lec_sbuf *down, lec_class_event *ev,
                           char *err, size_t errcap)
{
    lec__class_none(ev, down);
    if (!c->home)
        return LEC_ERR_STATE;
    lec_json *o;
    const char *type;
    if (lec__class_parse_obj(json, len, &o, &type))
        return lec__class_fail(err, errcap, "not a JSON object");
    int rc = 0;
    if (!strcmp(type, "quiz")) {
        lec_quiz_spec spec;
        rc = lec__class_spec_of(o, &spec, true, err, errcap);
        if (!rc)
            rc = lec_class_quiz_start(c, &spec, new_id, now, wall, down, err, errcap);
    } else if (!strcmp(type, "reply")) {
        const lec_json *t = lec_json_get(o, "text"), *q = lec_json_get(o, "question");
        if (!t || t->type != LEC_JSON_STRING || strlen(t->str) != t->len ||
            !lec__class_text_ok(t->str, t->len, 1000, true) ||
            (q && (q->type != LEC_JSON_STRING || strlen(q->str) != q->len ||
                   !lec__class_text_ok(q->str, q->len, LEC_CLASS_ASK_MAX, true)))) {
            rc =
                lec__class_fail(err, errcap, "reply: a text of 1 to 1000 bytes (and its question)");
        } else {
            lec_jw w;
            lec_jw_init(&w, down);
            lec_jw_obj_open(&w);
            lec_jw_key(&w, "type");
            lec_jw_str(&w, "reply");
            if (q) {
                lec_jw_key(&w, "question");
                lec_jw_str(&w, q->str);
            }
            lec_jw_key(&w, "text");
            lec_jw_str(&w, t->str);
            lec_jw_obj_close(&w);
            ev->kind = LEC_CLASS_TO_STUDENTS;
        }
    } else if (!strcmp(type, "block")) {
        const char *s = lec_json_string(lec_json_get(o, "session"), NULL);
        if (!lec__class_name_ok(s, 32))
            rc = lec__class_fail(err, errcap, "block: a session id");
        else if (!blocked(c, s) && c->nblocked == LEC_CLASS_BLOCKED)
            rc = lec__class_fail(err, errcap, "block: the list is full (%d)", LEC_CLASS_BLOCKED);
        else if (!blocked(c, s))
            snprintf(c->blocked[c->nblocked++], sizeof c->blocked[0], "%s", s);
    } else {
        rc = lec__class_fail(err, errcap, "unknown message type");
    }
    lec_json_free(NULL, o);
    return rc;
}
