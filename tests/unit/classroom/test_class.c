/* The classroom core (classroom/class.h) in virtual time: a home (the
 * teacher's node) and an edge 150 ms down the cascade.  A quiz is released
 * at one wall instant on both; an edge that gets it late releases it at
 * once and counts it; students' answers are bounded by what their node saw
 * (an honest claim stands, a too-fast or too-slow one is clamped and
 * marked); an answer counts once, only if shown, only while open; the home
 * ranks right answers by reaction time, closes the quiz with its winners
 * and refuses what comes after; asks are bounded in size and rate and a
 * blocked asker is dropped at the home; malformed messages are refused. */
#include "testdata.h"
#include "base/err.h"
#include "base/json.h"
#include "classroom/class.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEAD (400 * LEC_MS)
#define ID1  "00112233aabbccdd"
#define ID2  "00112233aabbccde"

static const char QUIZ[] = "{\"question\":\"2+2?\",\"options\":[\"3\",\"4\",\"5\"],\"answer\":1,"
                           "\"open_ms\":10000}";

static lec_json *parse(const lec_sbuf *sb)
{
    lec_json *o = NULL;
    char err[64];
    assert_int_equal(lec_json_parse(NULL, sb->data, sb->len, &o, err, sizeof err), 0);
    return o;
}

static double num(const lec_json *o, const char *k)
{
    return lec_json_number(lec_json_get(o, k), (double)NAN);
}

/* Starts quiz ID1 at the home at (now, wall); returns the cascade message. */
static void start(lec_class *home, lec_tstamp now, int64_t wall, lec_sbuf *down)
{
    lec_quiz_spec spec;
    lec_json *j;
    char err[128];
    assert_int_equal(lec_class_quiz_parse(QUIZ, strlen(QUIZ), &spec, &j, err, sizeof err), 0);
    assert_int_equal(lec_class_quiz_start(home, &spec, ID1, now, wall, down, err, sizeof err), 0);
    lec_json_free(NULL, j);
}

static void expect(lec_class *c, lec_tstamp now, lec_class_kind kind)
{
    lec_sbuf msg;
    lec_sbuf_init(&msg, NULL);
    lec_class_event ev;
    lec_class_tick(c, now, 0, &msg, &ev);
    assert_int_equal(ev.kind, kind);
    lec_sbuf_free(&msg);
}

static void test_release_at_one_instant(void **state)
{
    (void)state;
    lec_class home, edge;
    lec_class_init(&home, true, LEAD);
    lec_class_init(&edge, false, LEAD);
    lec_tstamp t0 = 1000 * LEC_S, e0 = 77 * LEC_S; /* two monotonic clocks */
    int64_t wall = 1700000000000;
    lec_sbuf down;
    lec_sbuf_init(&down, NULL);
    start(&home, t0, wall, &down);
    lec_json *d = parse(&down);
    assert_true(num(d, "release_at") == (double)(wall + 400));
    assert_null(lec_json_get(d, "answer")); /* the answer never goes down */
    lec_json_free(NULL, d);
    assert_true(lec_class_deadline(&home) == t0 + LEAD);
    /* The edge gets it 150 ms later (its wall clock agrees). */
    lec_sbuf msg;
    lec_sbuf_init(&msg, NULL);
    lec_class_event ev;
    assert_int_equal(
        lec_class_down(&edge, down.data, down.len, e0 + 150 * LEC_MS, wall + 150, &msg, &ev), 0);
    assert_int_equal(ev.kind, LEC_CLASS_NONE);
    assert_true(lec_class_deadline(&edge) == e0 + LEAD); /* the same wall instant */
    /* A copy changes nothing. */
    assert_int_equal(
        lec_class_down(&edge, down.data, down.len, e0 + 200 * LEC_MS, wall + 200, &msg, &ev), 0);
    assert_int_equal(edge.nquizzes, 1);
    expect(&edge, e0 + LEAD - LEC_MS, LEC_CLASS_NONE);
    lec_class_tick(&edge, e0 + LEAD, wall + 400, &msg, &ev);
    assert_int_equal(ev.kind, LEC_CLASS_RELEASE);
    lec_json *s = parse(&msg);
    assert_string_equal(lec_json_string(lec_json_get(s, "type"), ""), "quiz");
    assert_true(num(s, "closes_in_ms") == 10000);
    assert_int_equal(lec_json_count(lec_json_get(s, "options")), 3);
    assert_null(lec_json_get(s, "answer"));
    lec_json_free(NULL, s);
    expect(&edge, e0 + LEAD + LEC_S, LEC_CLASS_NONE); /* once */

    /* A third node that hears of it 500 ms after its instant: at once,
     * late, and it closes when everyone's does (9.5 s on). */
    lec_class late;
    lec_class_init(&late, false, LEAD);
    assert_int_equal(lec_class_down(&late, down.data, down.len, e0, wall + 900, &msg, &ev), 0);
    assert_int_equal(late.stats.released_late, 1);
    assert_true(lec_class_deadline(&late) == e0);
    expect(&late, e0, LEC_CLASS_RELEASE);
    lec_sbuf_reset(&msg);
    assert_non_null(lec_class_open_quiz(&late, e0 + 9400 * LEC_MS, &msg));
    assert_null(lec_class_open_quiz(&late, e0 + 9600 * LEC_MS, &msg));
    /* A release instant hours off the node's clock is refused. */
    lec_class far;
    lec_class_init(&far, false, LEAD);
    assert_int_equal(lec_class_down(&far, down.data, down.len, e0, wall - 2 * 3600000LL, &msg, &ev),
                     LEC_ERR_INVAL);
    lec_class_free(&far);
    /* A joiner mid-quiz gets it with what time is left. */
    lec_sbuf_reset(&msg);
    assert_non_null(lec_class_open_quiz(&edge, e0 + LEAD + 4 * LEC_S, &msg));
    s = parse(&msg);
    assert_true(num(s, "closes_in_ms") == 6000);
    lec_json_free(NULL, s);
    lec_sbuf_reset(&msg);
    assert_null(lec_class_open_quiz(&edge, e0 + LEAD + 11 * LEC_S, &msg));
    /* A new leg down from the edge gets it while it is open, not after. */
    lec_sbuf_reset(&msg);
    assert_true(lec_class_open_down(&edge, 0, e0 + LEAD + LEC_S, &msg));
    assert_contains(msg.data, "\"release_at\":1700000000400");
    lec_sbuf_reset(&msg);
    assert_true(lec_class_open_down(&edge, 0, e0 + LEAD + 11 * LEC_S, &msg));
    assert_int_equal(msg.len, 0);
    assert_false(lec_class_open_down(&edge, 1, e0, &msg));
    lec_class_free(&late);
    lec_class_free(&edge);
    lec_class_free(&home);
    lec_sbuf_free(&down);
    lec_sbuf_free(&msg);
}

/* A student's answer at a node; returns its kind and the reply and record. */
static int answer(lec_class *c, uint32_t vid, const char *session, lec_tstamp now, lec_tstamp rtt,
                  const char *body, lec_sbuf *reply, lec_sbuf *msg, lec_class_event *ev)
{
    lec_class_who who = {vid, session, "edge-a", "us-east-1", rtt};
    lec_class_ask_budget b = {0};
    lec_sbuf_reset(reply);
    lec_sbuf_reset(msg);
    return lec_class_from_student(c, &who, body, strlen(body), now, &b, reply, msg, ev);
}

static void test_answers_bounded_and_ranked(void **state)
{
    (void)state;
    lec_class home, edge;
    lec_class_init(&home, true, LEAD);
    lec_class_init(&edge, false, LEAD);
    lec_tstamp t0 = 1000 * LEC_S;
    int64_t wall = 1700000000000;
    lec_sbuf down, msg, reply;
    lec_sbuf_init(&down, NULL);
    lec_sbuf_init(&msg, NULL);
    lec_sbuf_init(&reply, NULL);
    start(&home, t0, wall, &down);
    lec_class_event ev;
    lec_class_down(&edge, down.data, down.len, t0 + 150 * LEC_MS, wall + 150, &msg, &ev);
    lec_class_tick(&edge, t0 + LEAD, wall + 400, &msg, &ev);
    lec_quiz *q = ev.quiz;
    lec_tstamp shown = t0 + LEAD;
    for (uint32_t v = 1; v <= 5; v++)
        lec_class_show(&edge, q, v, shown);
    lec_class_show(&edge, q, 1, shown + LEC_S); /* once */
    assert_int_equal(q->nseen, 5);
    /* rtt 80 ms; the answer arrives 1580 ms after the question left: the
     * node puts the reaction at 1500 ms, a page may say 1350..1580. */
    lec_tstamp rtt = 80 * LEC_MS, at = shown + 1580 * LEC_MS;
    char b[160];
    snprintf(b, sizeof b, "{\"type\":\"answer\",\"id\":\"%s\",\"option\":1,\"reaction_ms\":1490}",
             ID1);
    assert_int_equal(answer(&edge, 1, "s1", at, rtt, b, &reply, &msg, &ev), 0);
    assert_int_equal(ev.kind, LEC_CLASS_UP);
    lec_json *r = parse(&msg);
    assert_true(num(r, "reaction_ms") == 1490);
    assert_false(lec_json_true(lec_json_get(r, "adjusted")));
    assert_false(lec_json_true(lec_json_get(r, "at_bound")));
    assert_true(fabs(num(r, "elapsed_ms") - 1580) < 1e-6);
    lec_json_free(NULL, r);
    r = parse(&reply);
    assert_string_equal(lec_json_string(lec_json_get(r, "type"), ""), "answered");
    lec_json_free(NULL, r);
    char rec1[512];
    snprintf(rec1, sizeof rec1, "%.*s", (int)msg.len, msg.data);
    /* Again: refused. */
    assert_int_equal(answer(&edge, 1, "s1", at, rtt, b, &reply, &msg, &ev), LEC_ERR_INVAL);
    assert_contains(reply.data, "answered already");
    /* A modified page claims 3 ms: clamped to 1350, marked. */
    snprintf(b, sizeof b, "{\"type\":\"answer\",\"id\":\"%s\",\"option\":1,\"reaction_ms\":3}",
             ID1);
    assert_int_equal(answer(&edge, 2, "s2", at, rtt, b, &reply, &msg, &ev), 0);
    r = parse(&msg);
    assert_true(fabs(num(r, "reaction_ms") - 1350) < 1e-6);
    assert_true(lec_json_true(lec_json_get(r, "adjusted")));
    lec_json_free(NULL, r);
    char rec2[512];
    snprintf(rec2, sizeof rec2, "%.*s", (int)msg.len, msg.data);
    /* A second tab opened 3 s after the release (the question read in the
     * first) is timed from the release, not from its own showing: its
     * 100 ms claim becomes 3200 - 80 - 150 = 2970, marked. */
    lec_class_show(&edge, q, 6, shown + 3 * LEC_S);
    snprintf(b, sizeof b, "{\"type\":\"answer\",\"id\":\"%s\",\"option\":1,\"reaction_ms\":100}",
             ID1);
    assert_int_equal(answer(&edge, 6, "s6", shown + 3200 * LEC_MS, rtt, b, &reply, &msg, &ev), 0);
    r = parse(&msg);
    assert_true(fabs(num(r, "reaction_ms") - 2970) < 1e-6);
    assert_true(lec_json_true(lec_json_get(r, "adjusted")));
    lec_json_free(NULL, r);
    /* A round trip said to be 5 s (a client that times its reports to
     * make every sample large) counts as 500 ms at most: the 100 ms claim
     * becomes 2000 - 500 - 150 = 1350, marked, and flagged at the bound. */
    lec_class_show(&edge, q, 7, shown);
    assert_int_equal(answer(&edge, 7, "s7", shown + 2000 * LEC_MS, 5 * LEC_S, b, &reply, &msg, &ev),
                     0);
    r = parse(&msg);
    assert_true(fabs(num(r, "reaction_ms") - 1350) < 1e-6);
    assert_true(lec_json_true(lec_json_get(r, "adjusted")));
    assert_true(lec_json_true(lec_json_get(r, "at_bound")));
    lec_json_free(NULL, r);
    /* A claim inside the window but at its floor (1360: the floor is
     * 1350): taken, and flagged. */
    lec_class_show(&edge, q, 8, shown);
    snprintf(b, sizeof b, "{\"type\":\"answer\",\"id\":\"%s\",\"option\":1,\"reaction_ms\":1360}",
             ID1);
    assert_int_equal(answer(&edge, 8, "s8", at, rtt, b, &reply, &msg, &ev), 0);
    r = parse(&msg);
    assert_true(fabs(num(r, "reaction_ms") - 1360) < 1e-6);
    assert_false(lec_json_true(lec_json_get(r, "adjusted")));
    assert_true(lec_json_true(lec_json_get(r, "at_bound")));
    lec_json_free(NULL, r);
    snprintf(b, sizeof b, "{\"type\":\"answer\",\"id\":\"%s\",\"option\":1,\"reaction_ms\":100}",
             ID1);
    /* One claims longer than the node saw pass: no more than 1580. */
    snprintf(b, sizeof b, "{\"type\":\"answer\",\"id\":\"%s\",\"option\":2,\"reaction_ms\":5000}",
             ID1);
    assert_int_equal(answer(&edge, 5, "s5", at, rtt, b, &reply, &msg, &ev), 0);
    r = parse(&msg);
    assert_true(fabs(num(r, "reaction_ms") - 1580) < 1e-6);
    assert_true(lec_json_true(lec_json_get(r, "adjusted")));
    lec_json_free(NULL, r);
    /* A wrong option, no claim: the node's own figure (1500 - 0 = elapsed - rtt). */
    snprintf(b, sizeof b, "{\"type\":\"answer\",\"id\":\"%s\",\"option\":0}", ID1);
    assert_int_equal(answer(&edge, 3, "s3", at + 100 * LEC_MS, rtt, b, &reply, &msg, &ev), 0);
    char rec3[512];
    snprintf(rec3, sizeof rec3, "%.*s", (int)msg.len, msg.data);
    /* Not shown, out of range, no such quiz, closed. */
    snprintf(b, sizeof b, "{\"type\":\"answer\",\"id\":\"%s\",\"option\":1}", ID1);
    assert_int_equal(answer(&edge, 9, "s9", at, rtt, b, &reply, &msg, &ev), LEC_ERR_INVAL);
    assert_contains(reply.data, "not shown");
    snprintf(b, sizeof b, "{\"type\":\"answer\",\"id\":\"%s\",\"option\":3}", ID1);
    assert_int_equal(answer(&edge, 4, "s4", at, rtt, b, &reply, &msg, &ev), LEC_ERR_INVAL);
    assert_int_equal(answer(&edge, 4, "s4", at, rtt,
                            "{\"type\":\"answer\",\"id\":\"x\",\"option\":1}", &reply, &msg, &ev),
                     LEC_ERR_INVAL);
    snprintf(b, sizeof b, "{\"type\":\"answer\",\"id\":\"%s\",\"option\":1}", ID1);
    assert_int_equal(answer(&edge, 4, "s4", shown + 11 * LEC_S, rtt, b, &reply, &msg, &ev),
                     LEC_ERR_INVAL);
    assert_contains(reply.data, "closed");

    /* The home ranks them: right first by reaction (s2 1350, s1 1490), then s3. */
    lec_class_tick(&home, t0 + LEAD, wall + 400, &msg, &ev);
    assert_int_equal(ev.kind, LEC_CLASS_RELEASE);
    const char *recs[] = {rec1, rec3, rec2, rec1};
    int want[] = {0, 0, 0, LEC_ERR_INVAL}; /* the repeat of s1 counts once */
    for (int i = 0; i < 4; i++) {
        lec_sbuf_reset(&msg);
        assert_int_equal(lec_class_up(&home, recs[i], strlen(recs[i]), at + LEC_S, &msg, &ev),
                         want[i]);
        if (!want[i])
            assert_int_equal(ev.kind, LEC_CLASS_TO_TEACHER);
    }
    lec_sbuf_reset(&msg);
    assert_int_equal(lec_class_ranking(&home, ID1, at + LEC_S, &msg), 0);
    lec_json *rk = parse(&msg);
    const lec_json *list = lec_json_get(rk, "ranking");
    assert_int_equal(lec_json_count(list), 3);
    assert_string_equal(lec_json_string(lec_json_get(lec_json_at(list, 0), "session"), ""), "s2");
    assert_string_equal(lec_json_string(lec_json_get(lec_json_at(list, 1), "session"), ""), "s1");
    assert_string_equal(lec_json_string(lec_json_get(lec_json_at(list, 2), "session"), ""), "s3");
    assert_false(lec_json_true(lec_json_get(lec_json_at(list, 2), "right")));
    assert_string_equal(lec_json_string(lec_json_get(lec_json_at(list, 0), "region"), ""),
                        "us-east-1");
    assert_true(num(rk, "answer") == 1);
    lec_json_free(NULL, rk);
    assert_int_equal(lec_class_ranking(&home, ID2, at, &msg), LEC_ERR_NOTFOUND);
    /* Closing: open 10 s + grace. */
    assert_true(lec_class_deadline(&home) == t0 + LEAD + 10 * LEC_S + LEC_CLASS_GRACE);
    lec_sbuf_reset(&msg);
    lec_class_tick(&home, t0 + LEAD + 12 * LEC_S, 0, &msg, &ev);
    assert_int_equal(ev.kind, LEC_CLASS_CLOSED);
    lec_json *res = parse(&msg);
    assert_string_equal(lec_json_string(lec_json_get(res, "type"), ""), "quiz_result");
    assert_int_equal(lec_json_count(lec_json_get(res, "winners")), 2);
    assert_true(num(res, "answers") == 3);
    lec_json_free(NULL, res);
    /* The result passes down to the edge's students; late records are refused. */
    lec_sbuf r2;
    lec_sbuf_init(&r2, NULL);
    assert_int_equal(lec_class_down(&edge, msg.data, msg.len, at, wall, &r2, &ev), 0);
    assert_int_equal(ev.kind, LEC_CLASS_TO_STUDENTS);
    lec_sbuf_free(&r2);
    char late[512];
    snprintf(late, sizeof late, "%s", rec1);
    char *s1 = strstr(late, "\"s1\"");
    s1[2] = '7';
    assert_int_equal(lec_class_up(&home, late, strlen(late), t0 + 13 * LEC_S, &msg, &ev),
                     LEC_ERR_INVAL);
    lec_class_free(&edge);
    lec_class_free(&home);
    lec_sbuf_free(&down);
    lec_sbuf_free(&msg);
    lec_sbuf_free(&reply);
}

static void test_asks_hands_and_teacher(void **state)
{
    (void)state;
    lec_class home, edge;
    lec_class_init(&home, true, LEAD);
    lec_class_init(&edge, false, LEAD);
    lec_sbuf msg, reply;
    lec_sbuf_init(&msg, NULL);
    lec_sbuf_init(&reply, NULL);
    lec_class_event ev;
    lec_class_who who = {5, "s5", "edge-a", "us-east-1", 0};
    lec_class_ask_budget b = {0};
    const char *ask = "{\"type\":\"ask\",\"text\":\"<b>why?</b>\"}";
    lec_tstamp t = 10 * LEC_S;
    for (int i = 0; i < 3; i++) {
        lec_sbuf_reset(&msg);
        assert_int_equal(
            lec_class_from_student(&edge, &who, ask, strlen(ask), t, &b, &reply, &msg, &ev), 0);
        assert_int_equal(ev.kind, LEC_CLASS_UP);
    }
    assert_int_equal(
        lec_class_from_student(&edge, &who, ask, strlen(ask), t, &b, &reply, &msg, &ev),
        LEC_ERR_INVAL);
    assert_contains(reply.data, "every 5 seconds");
    lec_sbuf_reset(&msg);
    assert_int_equal(
        lec_class_from_student(&edge, &who, ask, strlen(ask), t + 5 * LEC_S, &b, &reply, &msg, &ev),
        0);
    /* The home gives it an id and hands it to the teacher, as text. */
    char up[512];
    snprintf(up, sizeof up, "%.*s", (int)msg.len, msg.data);
    lec_sbuf_reset(&msg);
    assert_int_equal(lec_class_up(&home, up, strlen(up), t, &msg, &ev), 0);
    assert_int_equal(ev.kind, LEC_CLASS_TO_TEACHER);
    lec_json *o = parse(&msg);
    assert_string_equal(lec_json_string(lec_json_get(o, "text"), ""), "<b>why?</b>");
    assert_true(num(o, "id") == 1);
    lec_json_free(NULL, o);
    /* Blocked: the next is dropped at the home. */
    char err[128];
    const char *blk = "{\"type\":\"block\",\"session\":\"s5\"}";
    assert_int_equal(
        lec_class_from_teacher(&home, blk, strlen(blk), NULL, t, 0, &msg, &ev, err, sizeof err), 0);
    assert_int_equal(lec_class_up(&home, up, strlen(up), t, &msg, &ev), LEC_ERR_INVAL);
    /* Too long, control characters, not a string. */
    char big[700];
    snprintf(big, sizeof big, "{\"type\":\"ask\",\"text\":\"%0600d\"}", 0);
    lec_class_ask_budget b2 = {0};
    assert_int_equal(
        lec_class_from_student(&edge, &who, big, strlen(big), t, &b2, &reply, &msg, &ev),
        LEC_ERR_INVAL);
    const char *ctl = "{\"type\":\"ask\",\"text\":\"a\\u0000b\"}";
    assert_int_equal(
        lec_class_from_student(&edge, &who, ctl, strlen(ctl), t, &b2, &reply, &msg, &ev),
        LEC_ERR_INVAL);
    const char *nostr = "{\"type\":\"ask\",\"text\":7}";
    assert_int_equal(
        lec_class_from_student(&edge, &who, nostr, strlen(nostr), t, &b2, &reply, &msg, &ev),
        LEC_ERR_INVAL);
    /* A hand goes up. */
    const char *hand = "{\"type\":\"hand\",\"up\":true}";
    lec_sbuf_reset(&msg);
    assert_int_equal(lec_class_from_student(&edge, &who, hand, strlen(hand), t + 60 * LEC_S, &b2,
                                            &reply, &msg, &ev),
                     0);
    assert_int_equal(ev.kind, LEC_CLASS_UP);
    assert_contains(msg.data, "\"up\":true");
    /* At the home, the blocked student's hand is dropped; another
     * student's reaches the teacher. */
    snprintf(up, sizeof up, "%.*s", (int)msg.len, msg.data);
    lec_sbuf_reset(&msg);
    assert_int_equal(lec_class_up(&home, up, strlen(up), t + 60 * LEC_S, &msg, &ev), LEC_ERR_INVAL);
    assert_int_equal(ev.kind, LEC_CLASS_NONE);
    const char *other = "{\"type\":\"hand\",\"session\":\"s6\",\"node\":\"edge-a\","
                        "\"region\":\"us-east-1\",\"up\":true}";
    assert_int_equal(lec_class_up(&home, other, strlen(other), t + 60 * LEC_S, &msg, &ev), 0);
    assert_int_equal(ev.kind, LEC_CLASS_TO_TEACHER);
    assert_contains(msg.data, "\"session\":\"s6\"");
    /* The teacher's reply to all; a quiz from the teacher's channel. */
    const char *rep = "{\"type\":\"reply\",\"question\":\"why?\",\"text\":\"because\"}";
    lec_sbuf_reset(&msg);
    assert_int_equal(
        lec_class_from_teacher(&home, rep, strlen(rep), NULL, t, 0, &msg, &ev, err, sizeof err), 0);
    assert_int_equal(ev.kind, LEC_CLASS_TO_STUDENTS);
    char quiz[256];
    snprintf(quiz, sizeof quiz, "{\"type\":\"quiz\",%s", QUIZ + 1);
    lec_sbuf_reset(&msg);
    assert_int_equal(lec_class_from_teacher(&home, quiz, strlen(quiz), ID2, t, 1700000000000, &msg,
                                            &ev, err, sizeof err),
                     0);
    assert_contains(msg.data, "\"release_at\":1700000000400");
    assert_int_equal(
        lec_class_from_teacher(&edge, quiz, strlen(quiz), ID2, t, 0, &msg, &ev, err, sizeof err),
        LEC_ERR_STATE);
    lec_class_free(&edge);
    lec_class_free(&home);
    lec_sbuf_free(&msg);
    lec_sbuf_free(&reply);
}

/* The whole audience's asks and hands reach the teacher at most
 * LEC_CLASS_ROOM_RATE a second after a burst of LEC_CLASS_ROOM_BURST,
 * however many students send them (each within its own budget). */
static void test_audience_budget(void **state)
{
    (void)state;
    lec_class home;
    lec_class_init(&home, true, LEAD);
    lec_sbuf msg;
    lec_sbuf_init(&msg, NULL);
    lec_class_event ev;
    lec_tstamp t = 10 * LEC_S;
    unsigned passed = 0;
    for (unsigned i = 0; i < 100; i++) { /* 100 students at once, a hand or an ask each */
        char m[200];
        snprintf(m, sizeof m,
                 i % 2 ? "{\"type\":\"hand\",\"session\":\"s%u\",\"node\":\"n\",\"region\":\"r\","
                         "\"up\":true}"
                       : "{\"type\":\"ask\",\"session\":\"s%u\",\"node\":\"n\",\"region\":\"r\","
                         "\"text\":\"q\"}",
                 i);
        lec_sbuf_reset(&msg);
        passed += lec_class_up(&home, m, strlen(m), t, &msg, &ev) == 0;
    }
    assert_int_equal(passed, LEC_CLASS_ROOM_BURST);
    /* Then 10 a second: 100 more spread over 2 s, 20 get through. */
    passed = 0;
    for (unsigned i = 0; i < 100; i++) {
        char m[200];
        snprintf(m, sizeof m,
                 "{\"type\":\"hand\",\"session\":\"t%u\",\"node\":\"n\",\"region\":\"r\","
                 "\"up\":true}",
                 i);
        lec_sbuf_reset(&msg);
        passed += lec_class_up(&home, m, strlen(m), t + (i + 1) * 20 * LEC_MS, &msg, &ev) == 0;
    }
    assert_int_equal(passed, 2 * LEC_CLASS_ROOM_RATE);
    lec_class_free(&home);
    lec_sbuf_free(&msg);
}

static void test_malformed(void **state)
{
    (void)state;
    const char *bad_quiz[] = {
        "{\"question\":\"\",\"options\":[\"a\",\"b\"],\"answer\":0}",
        "{\"question\":\"q\",\"options\":[\"a\"],\"answer\":0}",
        "{\"question\":\"q\",\"options\":[\"a\",\"b\"],\"answer\":2}",
        "{\"question\":\"q\",\"options\":[\"a\",\"b\"],\"answer\":0.5}",
        "{\"question\":\"q\",\"options\":[\"a\",1],\"answer\":0}",
        "{\"question\":\"q\",\"options\":[\"a\",\"b\"],\"answer\":0,\"open_ms\":10}",
        ("{\"question\":\"q\",\"options\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"],"
         "\"answer\":0}"),
        "[1,2]",
        "{\"question\":\"q\\u0001\",\"options\":[\"a\",\"b\"],\"answer\":0}",
        "not json",
    };
    for (size_t i = 0; i < sizeof bad_quiz / sizeof bad_quiz[0]; i++) {
        lec_quiz_spec spec;
        lec_json *j;
        char err[128] = "";
        assert_int_equal(
            lec_class_quiz_parse(bad_quiz[i], strlen(bad_quiz[i]), &spec, &j, err, sizeof err),
            LEC_ERR_INVAL);
        assert_true(err[0]);
        assert_null(j);
    }
    lec_class edge, home;
    lec_class_init(&edge, false, LEAD);
    lec_class_init(&home, true, LEAD);
    lec_sbuf msg;
    lec_sbuf_init(&msg, NULL);
    lec_class_event ev;
    const char *bad_down[] = {
        "{\"type\":\"quiz\",\"id\":\"zz112233aabbccdd\",\"question\":\"q\",\"options\":[\"a\","
        "\"b\"],\"release_at\":1}",
        "{\"type\":\"quiz\",\"id\":\"00112233aabbccdd\",\"question\":\"q\",\"options\":[\"a\","
        "\"b\"]}",
        "{\"type\":\"nope\"}",
        "{}",
        "",
    };
    for (size_t i = 0; i < sizeof bad_down / sizeof bad_down[0]; i++)
        assert_int_equal(lec_class_down(&edge, bad_down[i], strlen(bad_down[i]), 0, 0, &msg, &ev),
                         LEC_ERR_INVAL);
    assert_int_equal(edge.nquizzes, 0);
    const char *bad_up[] = {
        "{\"type\":\"answer\",\"quiz\":\"00112233aabbccdd\"}",
        "{\"type\":\"ask\",\"session\":\"s 1\",\"node\":\"n\",\"region\":\"r\",\"text\":\"x\"}",
        "{\"type\":\"hand\",\"session\":\"\",\"node\":\"n\",\"region\":\"r\"}",
        "{\"type\":\"ask\",\"session\":\"s\",\"node\":\"n\",\"region\":\"r\",\"text\":\"\"}",
    };
    for (size_t i = 0; i < sizeof bad_up / sizeof bad_up[0]; i++)
        assert_int_equal(lec_class_up(&home, bad_up[i], strlen(bad_up[i]), 0, &msg, &ev),
                         LEC_ERR_INVAL);
    assert_int_equal(lec_class_up(&edge, "{}", 2, 0, &msg, &ev), LEC_ERR_STATE);
    lec_class_free(&edge);
    lec_class_free(&home);
    lec_sbuf_free(&msg);
}

/* Starts quiz number i at the home at `now`; the return code, why in err. */
static int start_nth(lec_class *home, int i, lec_tstamp now, char *err, size_t errcap)
{
    char id[17];
    snprintf(id, sizeof id, "%016x", i);
    lec_quiz_spec spec;
    lec_json *j;
    assert_int_equal(lec_class_quiz_parse(QUIZ, strlen(QUIZ), &spec, &j, err, errcap), 0);
    lec_sbuf down;
    lec_sbuf_init(&down, NULL);
    int rc = lec_class_quiz_start(home, &spec, id, now, 0, &down, err, errcap);
    lec_json_free(NULL, j);
    lec_sbuf_free(&down);
    return rc;
}

/* Quizzes at the home: five at once, then one a second (the API and the
 * teacher's channel both start them here); sixteen kept, and a quiz that
 * is scheduled or open is never dropped for a new one (a release may be
 * walking it): the new one is refused with why; once they close, the
 * oldest closed one makes room. */
static void test_quiz_limits(void **state)
{
    (void)state;
    lec_class home;
    lec_class_init(&home, true, LEAD);
    char err[128];
    lec_tstamp t = 10 * LEC_S;
    int n = 0;
    for (; n < LEC_CLASS_QUIZ_BURST; n++)
        assert_int_equal(start_nth(&home, n, t, err, sizeof err), 0);
    assert_int_equal(start_nth(&home, n, t, err, sizeof err), LEC_ERR_FULL);
    assert_contains(err, "too many quizzes");
    assert_int_equal(start_nth(&home, n, t + 500 * LEC_MS, err, sizeof err), LEC_ERR_FULL);
    for (; n < LEC_CLASS_QUIZZES; n++) {
        t += LEC_S;
        assert_int_equal(start_nth(&home, n, t, err, sizeof err), 0);
    }
    /* Sixteen scheduled or open (20 s each): the seventeenth is refused,
     * and every one of the sixteen is still there. */
    lec_quiz *first = lec_class_find(&home, "0000000000000000");
    assert_non_null(first);
    t += 2 * LEC_S;
    assert_int_equal(start_nth(&home, n, t, err, sizeof err), LEC_ERR_FULL);
    assert_contains(err, "scheduled or open");
    assert_int_equal(home.nquizzes, LEC_CLASS_QUIZZES);
    assert_ptr_equal(lec_class_find(&home, "0000000000000000"), first);
    assert_int_equal(home.stats.quizzes_refused, 3);
    /* Released and closed, all of them; then a new one replaces the oldest. */
    lec_sbuf msg;
    lec_sbuf_init(&msg, NULL);
    lec_class_event ev;
    for (int k = 0; k < 4 * LEC_CLASS_QUIZZES; k++) {
        lec_sbuf_reset(&msg);
        lec_class_tick(&home, t + 60 * LEC_S, 0, &msg, &ev);
    }
    for (unsigned i = 0; i < home.nquizzes; i++)
        assert_true(home.quizzes[i]->closed);
    assert_int_equal(start_nth(&home, n, t + 60 * LEC_S, err, sizeof err), 0);
    assert_int_equal(home.nquizzes, LEC_CLASS_QUIZZES);
    assert_null(lec_class_find(&home, "0000000000000000"));
    assert_non_null(lec_class_find(&home, "0000000000000010"));
    lec_sbuf_free(&msg);
    lec_class_free(&home);
}

/* A student's round trip for its bound: the smallest sample of the last
 * 15 to 30 s.  One small sample among large ones holds for at least 15 s
 * and at most 30 s, a delayed report (a large sample) never raises it, and
 * nothing older than 30 s counts, even with no samples since. */
static void test_rtt_window(void **state)
{
    (void)state;
    lec_rtt_window w = {0};
    lec_tstamp t = 100 * LEC_S;
    assert_int_equal(lec_rtt_window_get(&w, t), 0);
    lec_rtt_window_add(&w, t, 80 * LEC_MS);
    lec_rtt_window_add(&w, t + LEC_S, 20 * LEC_MS);   /* the honest path */
    lec_rtt_window_add(&w, t + 2 * LEC_S, 900 * LEC_MS); /* a report held back */
    assert_true(lec_rtt_window_get(&w, t + 2 * LEC_S) == 20 * LEC_MS);
    for (lec_tstamp k = 3; k < 40; k++)
        lec_rtt_window_add(&w, t + k * LEC_S, 900 * LEC_MS);
    /* 20 ms came at t + 1 s: still the bound at t + 15 s, gone by t + 30 s. */
    lec_rtt_window w2 = {0};
    lec_rtt_window_add(&w2, t, 80 * LEC_MS);
    lec_rtt_window_add(&w2, t + LEC_S, 20 * LEC_MS);
    for (lec_tstamp k = 2; k <= 15; k++)
        lec_rtt_window_add(&w2, t + k * LEC_S, 900 * LEC_MS);
    assert_true(lec_rtt_window_get(&w2, t + 16 * LEC_S) == 20 * LEC_MS);
    for (lec_tstamp k = 16; k <= 31; k++)
        lec_rtt_window_add(&w2, t + k * LEC_S, 900 * LEC_MS);
    assert_true(lec_rtt_window_get(&w2, t + 31 * LEC_S) == 900 * LEC_MS);
    assert_true(lec_rtt_window_get(&w, t + 40 * LEC_S) == 900 * LEC_MS);
    /* Silence for a minute: nothing old counts. */
    assert_int_equal(lec_rtt_window_get(&w, t + 100 * LEC_S), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_release_at_one_instant),
        cmocka_unit_test(test_answers_bounded_and_ranked),
        cmocka_unit_test(test_asks_hands_and_teacher),
        cmocka_unit_test(test_audience_budget),
        cmocka_unit_test(test_quiz_limits),
        cmocka_unit_test(test_rtt_window),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
