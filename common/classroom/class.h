/*
 * One stream's classroom on one worker of one node, as a sans-I/O core:
 * the quiz clock, the answers, the ranking, and the audience's questions
 * and raised hands.  JSON in, JSON out, `now` (monotonic) and `wall`
 * (Unix milliseconds) passed in.  The shell (sfu/classroom.c) owns the
 * sessions and channels and carries messages between nodes.
 *
 * Two kinds of messages:
 *   - to students (JSON objects with a `type`, sent on their channels):
 *     quiz, quiz_result, reply, answered, error;
 *   - between nodes, down the cascade (from the node holding the teacher,
 *     the *home*, to every node with viewers): quiz (with its release
 *     instant), quiz_result, reply; and up (to the home): answer records,
 *     asks, hands.
 *
 * Fairness.  The home gives each quiz a release instant on the cluster's
 * wall clock, `lead` ahead (long enough for the question to reach every
 * edge); every node releases it to its viewers at that instant, so
 * students everywhere see it together.  A node that gets it late releases
 * it at once and counts it late (and closes it when the home does, not
 * later).  A student's reaction time is what its page measured from
 * showing the question to sending the answer; the node serving the student
 * checks it against what it saw: the time from its release of the
 * question (not the student's session's own showing: a second tab opened
 * after reading the question must not restart the clock) to receiving the
 * answer, less the student's round trip (its path delay both ways, the
 * smallest seen lately, at most LEC_CLASS_RTT_MAX: a client that inflates
 * one report gains nothing), less at most LEC_CLASS_SHOW_SLACK for the
 * page to show it.  A claim outside [elapsed - rtt - slack, elapsed]
 * is clamped into it and marked adjusted: a modified page cannot answer
 * faster than its own path allows (nor slower than the node saw), and gains
 * at most LEC_CLASS_SHOW_SLACK by claiming it showed the question late
 * (a busy phone honestly takes a frame or a few to show it).
 */
#ifndef LEC_CLASSROOM_CLASS_H
#define LEC_CLASSROOM_CLASS_H

#include "base/sbuf.h"
#include "base/time.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEC_CLASS_OPTIONS      8    /* a quiz's options, at most */
#define LEC_CLASS_QUESTION_MAX 500  /* bytes */
#define LEC_CLASS_OPTION_MAX   200  /* bytes */
#define LEC_CLASS_QUIZZES      16   /* kept per stream (the oldest closed one goes) */
#define LEC_CLASS_QUIZ_RATE    1    /* quizzes started a second, after a burst of */
#define LEC_CLASS_QUIZ_BURST   5
#define LEC_CLASS_OPEN_MIN     1000 /* ms a quiz stays open */
#define LEC_CLASS_OPEN_MAX     600000
#define LEC_CLASS_GRACE        (1500 * LEC_MS) /* answers still in flight at closing */
#define LEC_CLASS_SHOW_SLACK   (150 * LEC_MS)  /* a page's time to show a question */
#define LEC_CLASS_ASK_MAX      500             /* bytes of a question from the audience */
#define LEC_CLASS_ASK_EVERY    (5 * LEC_S)     /* a student's asks: one per 5 s, 3 at once */
#define LEC_CLASS_ASK_BURST    3
#define LEC_CLASS_BLOCKED      256        /* askers a teacher may block per stream */
#define LEC_CLASS_MAX_ANSWERS  (1u << 17) /* answers one quiz ranks */
#define LEC_CLASS_ROOM_RATE    10 /* asks and hands reaching a teacher, a second (20 at once) */
#define LEC_CLASS_ROOM_BURST   20
/* A student's round trip, at most, as the bounds take it: the farthest
 * student's path (Sydney to Frankfurt is ~300 ms) with room for jitter.
 * A client that inflates its round trip widens its window by at most
 * this (and is flagged when it claims the window's floor). */
#define LEC_CLASS_RTT_MAX (500 * LEC_MS)
/* A claim within this of the window's floor is flagged (at_bound): an
 * honest page lands there only with a round trip much shorter than the
 * one the node measured. */
#define LEC_CLASS_AT_BOUND (20 * LEC_MS)

typedef struct lec_class_answer {
    char session[33], node[65], region[33];
    int option;
    bool right;
    double reaction_ms; /* what the ranking uses */
    double claimed_ms;  /* the page's own figure; < 0: none */
    double elapsed_ms;  /* the node's: question sent to answer received */
    double rtt_ms;      /* the student's round trip, as the node knew it */
    bool adjusted;      /* the claim was outside the node's bounds */
    bool at_bound;      /* the claim sits at the window's floor (LEC_CLASS_AT_BOUND) */
} lec_class_answer;

/* A viewer of this worker that was shown a quiz. */
typedef struct lec_class_seen {
    uint32_t vid;
    lec_tstamp shown; /* when it was sent to it */
    bool answered;
} lec_class_seen;

/* An open-addressed index over one of a quiz's arrays (position + 1 per
 * slot; 0 is empty): a worker's viewers shown it, the home's answers. */
typedef struct lec_class_index {
    uint32_t *slot;
    size_t cap; /* a power of two, at least twice the entries */
} lec_class_index;

typedef struct lec_quiz {
    char id[17];
    char question[LEC_CLASS_QUESTION_MAX + 1];
    char options[LEC_CLASS_OPTIONS][LEC_CLASS_OPTION_MAX + 1];
    unsigned noptions;
    int answer; /* the home's only; -1 elsewhere (never sent down) */
    uint32_t open_ms;
    int64_t release_wall;   /* Unix ms */
    lec_tstamp release_at;  /* on this worker's clock */
    lec_tstamp released_at; /* when this worker showed it: every answer is timed from here */
    bool released, closed, late;
    lec_tstamp late_by;
    lec_class_seen *seen; /* this worker's viewers it was sent to */
    size_t nseen, capseen;
    lec_class_index seen_ix;   /* by vid */
    lec_class_answer *answers; /* the home's: every node's answers */
    size_t nanswers, capanswers;
    lec_class_index answers_ix; /* by session */
} lec_quiz;

typedef struct lec_class_ask_budget {
    double tokens;
    lec_tstamp at;
} lec_class_ask_budget;

typedef struct lec_class_stats {
    uint64_t quizzes, quizzes_refused, released_late, answers, answers_adjusted, answers_refused;
    uint64_t asks, asks_refused, hands;
} lec_class_stats;

typedef struct lec_class {
    bool home; /* the teacher publishes here: quizzes start and rank here */
    lec_tstamp lead;
    lec_quiz *quizzes[LEC_CLASS_QUIZZES]; /* oldest first */
    unsigned nquizzes;
    uint64_t next_ask;
    char blocked[LEC_CLASS_BLOCKED][33]; /* sessions whose asks the teacher blocked */
    unsigned nblocked;
    lec_class_ask_budget room_budget; /* the home: asks and hands of the whole audience */
    lec_class_ask_budget quiz_budget; /* the home: quizzes started */
    lec_class_stats stats;
} lec_class;

void lec_class_init(lec_class *c, bool home, lec_tstamp lead);
void lec_class_free(lec_class *c);

/* ---- at the home ---- */

typedef struct lec_quiz_spec {
    const char *question;
    const char *options[LEC_CLASS_OPTIONS];
    unsigned noptions;
    int answer;
    uint32_t open_ms; /* 0: 20 s */
} lec_quiz_spec;

/* Parses a quiz as the teacher sends it ({"question", "options": [...],
 * "answer", "open_ms"}), from the API or the teacher's channel.  0, or
 * LEC_ERR_INVAL with why in err.  The strings point into *json_out (free
 * it with lec_json_free). */
struct lec_json;
int lec_class_quiz_parse(const char *json, size_t len, lec_quiz_spec *spec,
                         struct lec_json **json_out, char *err, size_t errcap);

/* Starts a quiz with id `id` (16 hex digits, the shell's random), to be
 * released at wall + lead.  Writes the node-to-node message for the
 * cascade into `down` and schedules it here.  0, LEC_ERR_INVAL (why in
 * err), LEC_ERR_FULL (why in err: past LEC_CLASS_QUIZ_BURST, then
 * LEC_CLASS_QUIZ_RATE a second; or LEC_CLASS_QUIZZES scheduled or open),
 * LEC_ERR_STATE (not the home), LEC_ERR_NOMEM. */
int lec_class_quiz_start(lec_class *c, const lec_quiz_spec *spec, const char *id, lec_tstamp now,
                         int64_t wall, lec_sbuf *down, char *err, size_t errcap);

/* ---- on every node ---- */

/* What the shell must do after a call. */
typedef enum lec_class_kind {
    LEC_CLASS_NONE,
    LEC_CLASS_TO_STUDENTS, /* send `msg` to every student here */
    LEC_CLASS_RELEASE,     /* send quiz `quiz` to every student here (lec_class_show each) */
    LEC_CLASS_TO_TEACHER,  /* the home: send `msg` to the teacher */
    LEC_CLASS_UP,          /* not the home: send `msg` up the cascade */
    LEC_CLASS_CLOSED,      /* the home: quiz `quiz` closed; `msg` goes down and to students */
} lec_class_kind;

typedef struct lec_class_event {
    lec_class_kind kind;
    lec_quiz *quiz;
    lec_sbuf *msg; /* the caller's buffer, filled */
} lec_class_event;

/* A message from upstream (quiz, quiz_result, reply).  Fills *ev (msg: the
 * caller's sbuf).  A quiz is scheduled (ev NONE, or RELEASE when already
 * due).  0, LEC_ERR_INVAL (malformed: dropped). */
int lec_class_down(lec_class *c, const char *json, size_t len, lec_tstamp now, int64_t wall,
                   lec_sbuf *msg, lec_class_event *ev);

/* The next instant lec_class_tick has work (a release, a closing), or
 * LEC_TSTAMP_NEVER. */
lec_tstamp lec_class_deadline(const lec_class *c);

/* Runs what is due: at most one event per call (call again while it
 * returns one).  RELEASE: the quiz for students is in msg (its
 * closes_in_ms as of now).  CLOSED (home): the result. */
void lec_class_tick(lec_class *c, lec_tstamp now, int64_t wall, lec_sbuf *msg, lec_class_event *ev);

/* A quiz was sent to viewer vid at `now` (a release, or a late joiner:
 * lec_class_open_quiz gives what to send it). */
void lec_class_show(lec_class *c, lec_quiz *q, uint32_t vid, lec_tstamp now);
/* The open quiz a joining viewer should get (its closes_in_ms as of now,
 * into msg), or NULL. */
lec_quiz *lec_class_open_quiz(lec_class *c, lec_tstamp now, lec_sbuf *msg);

typedef struct lec_class_who {
    uint32_t vid;
    const char *session, *node, *region;
    lec_tstamp rtt; /* its round trip as the node knows it; 0: unknown */
} lec_class_who;

/* A student's message (its `type`: answer, ask, hand).  Replies for the
 * student go in `reply` (answered, error); what else to do in *ev (UP with
 * the record, or at the home TO_TEACHER).  0; LEC_ERR_INVAL (malformed or
 * refused: reply says why when the student should know). */
int lec_class_from_student(lec_class *c, const lec_class_who *who, const char *json, size_t len,
                           lec_tstamp now, lec_class_ask_budget *budget, lec_sbuf *reply,
                           lec_sbuf *msg, lec_class_event *ev);

/* At the home: a message from below (answer record, ask, hand).  ev:
 * TO_TEACHER.  0, LEC_ERR_INVAL, LEC_ERR_STATE (not the home). */
int lec_class_up(lec_class *c, const char *json, size_t len, lec_tstamp now, lec_sbuf *msg,
                 lec_class_event *ev);

/* At the home: a teacher's message (quiz, reply, hide, block).  ev: for a
 * quiz, nothing until its release (the cascade message in `down`); for a
 * reply, TO_STUDENTS and down.  0, LEC_ERR_INVAL (why in err). */
int lec_class_from_teacher(lec_class *c, const char *json, size_t len, const char *new_id,
                           lec_tstamp now, int64_t wall, lec_sbuf *down, lec_class_event *ev,
                           char *err, size_t errcap);

/* The ranking of quiz `id` as JSON (GET /v1/streams/<s>/quiz/<id>): right
 * answers first by reaction time, then the others.  0 or LEC_ERR_NOTFOUND. */
int lec_class_ranking(const lec_class *c, const char *id, lec_tstamp now, lec_sbuf *out);

lec_quiz *lec_class_find(const lec_class *c, const char *id);

/* A student's round trip for its answers' bound: the smallest sample of
 * the last 15 to 30 s (two windows of LEC_RTT_WINDOW), so a client that
 * delays one report (or all, a while) to widen its bound gains nothing,
 * and an old small sample does not hold forever.  Samples come with the
 * student's RTCP reports. */
#define LEC_RTT_WINDOW (15 * LEC_S)
typedef struct lec_rtt_window {
    lec_tstamp min[2]; /* this window's smallest, the last one's; 0: none */
    lec_tstamp at;     /* when this window began */
} lec_rtt_window;
void lec_rtt_window_add(lec_rtt_window *w, lec_tstamp now, lec_tstamp rtt);
/* The smallest sample of this window and the last; 0 when none. */
lec_tstamp lec_rtt_window_get(lec_rtt_window *w, lec_tstamp now);

/* For a new leg down the cascade: the i-th quiz's message, if it is still
 * open (written to `down`; nothing written for a closed one).  False once
 * i is past the last quiz. */
bool lec_class_open_down(const lec_class *c, unsigned i, lec_tstamp now, lec_sbuf *down);

#endif
