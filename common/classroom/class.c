/* One stream's classroom (class.h): quizzes, answers, questions. */
#include "classroom/class_int.h"
#include "base/err.h"
#include "base/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEEN  (1u << 17) /* viewers a worker shows one quiz to */
#define OPEN_DFLT 20000

/* A JSON object with its `type`, opened on `out`. */
void lec__class_begin(lec_jw *w, lec_sbuf *out, const char *type)
{
    lec_jw_init(w, out);
    lec_jw_obj_open(w);
    lec_jw_key(w, "type");
    lec_jw_str(w, type);
}

int lec__class_fail(char *err, size_t cap, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return LEC_ERR_INVAL;
}

void lec_class_init(lec_class *c, bool home, lec_tstamp lead)
{
    memset(c, 0, sizeof *c);
    c->home = home;
    c->lead = lead;
}

static void quiz_free(lec_quiz *q)
{
    if (!q)
        return;
    free(q->seen);
    free(q->seen_ix.slot);
    free(q->answers_ix.slot);
    free(q->answers);
    free(q);
}

void lec_class_free(lec_class *c)
{
    for (unsigned i = 0; i < c->nquizzes; i++)
        quiz_free(c->quizzes[i]);
    c->nquizzes = 0;
}

lec_quiz *lec_class_find(const lec_class *c, const char *id)
{
    for (unsigned i = 0; i < c->nquizzes; i++)
        if (!strcmp(c->quizzes[i]->id, id))
            return c->quizzes[i];
    return NULL;
}

/* A new quiz in the list.  When it is full, the oldest closed quiz goes;
 * a quiz that is scheduled or open is never dropped (a release or a
 * ranking may be walking it): with all of them so, none is added.
 * LEC_ERR_FULL, LEC_ERR_NOMEM. */
static int quiz_new(lec_class *c, lec_quiz **out)
{
    if (c->nquizzes == LEC_CLASS_QUIZZES) {
        unsigned i = 0;
        while (i < c->nquizzes && !c->quizzes[i]->closed)
            i++;
        if (i == c->nquizzes)
            return LEC_ERR_FULL;
        quiz_free(c->quizzes[i]);
        memmove(c->quizzes + i, c->quizzes + i + 1,
                sizeof c->quizzes[0] * (LEC_CLASS_QUIZZES - 1 - i));
        c->nquizzes--;
    }
    lec_quiz *q = calloc(1, sizeof *q);
    if (!q)
        return LEC_ERR_NOMEM;
    c->quizzes[c->nquizzes++] = q;
    q->answer = -1;
    *out = q;
    return 0;
}

/* Printable text with no control characters (tabs and newlines allowed in
 * questions): what a page shows as text. */
bool lec__class_text_ok(const char *s, size_t n, size_t max, bool lines)
{
    if (!s || n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 && !(lines && (ch == '\n' || ch == '\t')))
            return false;
        if (ch == 0x7f)
            return false;
    }
    return true;
}

/* Node, region and session names as the cluster writes them. */
bool lec__class_name_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (!n || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
            return false;
    return true;
}

bool lec__class_int_of(const lec_json *v, double lo, double hi, int64_t *out)
{
    if (!v || v->type != LEC_JSON_NUMBER || v->number != floor(v->number) || v->number < lo ||
        v->number > hi)
        return false;
    *out = (int64_t)v->number;
    return true;
}

/* The fields of a quiz, from the teacher or from upstream. */
int lec__class_spec_of(const lec_json *o, lec_quiz_spec *spec, bool need_answer, char *err,
                       size_t errcap)
{
    memset(spec, 0, sizeof *spec);
    const lec_json *q = lec_json_get(o, "question"), *opts = lec_json_get(o, "options");
    if (!q || q->type != LEC_JSON_STRING ||
        !lec__class_text_ok(q->str, q->len, LEC_CLASS_QUESTION_MAX, true) ||
        strlen(q->str) != q->len)
        return lec__class_fail(err, errcap, "question: a text of 1 to %d bytes",
                               LEC_CLASS_QUESTION_MAX);
    spec->question = q->str;
    size_t n = lec_json_count(opts);
    if (!opts || opts->type != LEC_JSON_ARRAY || n < 2 || n > LEC_CLASS_OPTIONS)
        return lec__class_fail(err, errcap, "options: 2 to %d texts", LEC_CLASS_OPTIONS);
    for (size_t i = 0; i < n; i++) {
        const lec_json *v = lec_json_at(opts, i);
        if (v->type != LEC_JSON_STRING ||
            !lec__class_text_ok(v->str, v->len, LEC_CLASS_OPTION_MAX, false) ||
            strlen(v->str) != v->len)
            return lec__class_fail(err, errcap, "options[%zu]: a text of 1 to %d bytes", i,
                                   LEC_CLASS_OPTION_MAX);
        spec->options[i] = v->str;
    }
    spec->noptions = (unsigned)n;
    int64_t a = -1, ms = OPEN_DFLT;
    if (need_answer && !lec__class_int_of(lec_json_get(o, "answer"), 0, (double)n - 1, &a))
        return lec__class_fail(err, errcap, "answer: the index of the right option, 0 to %zu",
                               n - 1);
    spec->answer = (int)a;
    const lec_json *om = lec_json_get(o, "open_ms");
    if (om && !lec__class_int_of(om, LEC_CLASS_OPEN_MIN, LEC_CLASS_OPEN_MAX, &ms))
        return lec__class_fail(err, errcap, "open_ms: %d to %d", LEC_CLASS_OPEN_MIN,
                               LEC_CLASS_OPEN_MAX);
    spec->open_ms = (uint32_t)ms;
    return 0;
}

int lec_class_quiz_parse(const char *json, size_t len, lec_quiz_spec *spec, lec_json **json_out,
                         char *err, size_t errcap)
{
    *json_out = NULL;
    lec_json *o = NULL;
    char perr[96];
    if (lec_json_parse(NULL, json, len, &o, perr, sizeof perr) || o->type != LEC_JSON_OBJECT) {
        lec_json_free(NULL, o);
        return lec__class_fail(err, errcap, "not a JSON object");
    }
    int rc = lec__class_spec_of(o, spec, true, err, errcap);
    if (rc) {
        lec_json_free(NULL, o);
        return rc;
    }
    *json_out = o;
    return 0;
}

static void fill(lec_quiz *q, const lec_quiz_spec *spec, const char *id)
{
    snprintf(q->id, sizeof q->id, "%s", id);
    snprintf(q->question, sizeof q->question, "%s", spec->question);
    for (unsigned i = 0; i < spec->noptions; i++)
        snprintf(q->options[i], sizeof q->options[i], "%s", spec->options[i]);
    q->noptions = spec->noptions;
    q->open_ms = spec->open_ms ? spec->open_ms : OPEN_DFLT;
}

static void put_quiz_body(lec_jw *w, const lec_quiz *q)
{
    lec_jw_key(w, "type");
    lec_jw_str(w, "quiz");
    lec_jw_key(w, "id");
    lec_jw_str(w, q->id);
    lec_jw_key(w, "question");
    lec_jw_str(w, q->question);
    lec_jw_key(w, "options");
    lec_jw_arr_open(w);
    for (unsigned i = 0; i < q->noptions; i++)
        lec_jw_str(w, q->options[i]);
    lec_jw_arr_close(w);
}

/* For the cascade: with its release instant, without the answer. */
static void down_json(const lec_quiz *q, lec_sbuf *out)
{
    lec_jw w;
    lec_jw_init(&w, out);
    lec_jw_obj_open(&w);
    put_quiz_body(&w, q);
    lec_jw_key(&w, "open_ms");
    lec_jw_uint(&w, q->open_ms);
    lec_jw_key(&w, "release_at");
    lec_jw_int(&w, q->release_wall);
    lec_jw_obj_close(&w);
}

/* A late quiz closes when the home's does: its open time runs from its
 * instant, not from its late arrival. */
lec_tstamp lec__class_closes_at(const lec_quiz *q)
{
    lec_tstamp open = (lec_tstamp)q->open_ms * LEC_MS;
    if (q->late)
        return q->release_at + (q->late_by < open ? open - q->late_by : 0);
    return q->release_at + (lec_tstamp)q->open_ms * LEC_MS;
}

/* For students: how long it stays open, from now. */
static void student_json(const lec_quiz *q, lec_tstamp now, lec_sbuf *out)
{
    lec_jw w;
    lec_jw_init(&w, out);
    lec_jw_obj_open(&w);
    put_quiz_body(&w, q);
    lec_jw_key(&w, "closes_in_ms");
    lec_tstamp end = lec__class_closes_at(q);
    lec_jw_uint(&w, end > now ? (end - now) / LEC_MS : 0);
    lec_jw_obj_close(&w);
}

static bool id_ok(const char *id)
{
    if (!id || strlen(id) != 16)
        return false;
    for (int i = 0; i < 16; i++)
        if (lec_hex_digit(id[i]) < 0)
            return false;
    return true;
}

int lec_class_quiz_start(lec_class *c, const lec_quiz_spec *spec, const char *id, lec_tstamp now,
                         int64_t wall, lec_sbuf *down, char *err, size_t errcap)
{
    if (!c->home)
        return LEC_ERR_STATE;
    if (!id_ok(id) || lec_class_find(c, id))
        return lec__class_fail(err, errcap, "bad quiz id");
    if (spec->answer < 0 || (unsigned)spec->answer >= spec->noptions)
        return lec__class_fail(err, errcap, "answer: out of range");
    /* The API and the teacher's channel alike: a few quizzes at once, then
     * one a second. */
    if (!lec__class_take(&c->quiz_budget, now, LEC_CLASS_QUIZ_RATE, LEC_CLASS_QUIZ_BURST)) {
        c->stats.quizzes_refused++;
        snprintf(err, errcap, "too many quizzes: at most %d at once, then one a second",
                 LEC_CLASS_QUIZ_BURST);
        return LEC_ERR_FULL;
    }
    lec_quiz *q = NULL;
    int rc = quiz_new(c, &q);
    if (rc == LEC_ERR_FULL) {
        c->stats.quizzes_refused++;
        snprintf(err, errcap, "%d quizzes are scheduled or open: wait for one to close",
                 LEC_CLASS_QUIZZES);
    }
    if (rc)
        return rc;
    fill(q, spec, id);
    q->answer = spec->answer;
    q->release_at = now + c->lead;
    q->release_wall = wall + (int64_t)(c->lead / LEC_MS);
    c->stats.quizzes++;
    down_json(q, down);
    return 0;
}

/* ---- from upstream ---- */

int lec__class_parse_obj(const char *json, size_t len, lec_json **o, const char **type)
{
    *o = NULL;
    char perr[64];
    if (lec_json_parse(NULL, json, len, o, perr, sizeof perr) || (*o)->type != LEC_JSON_OBJECT) {
        lec_json_free(NULL, *o);
        *o = NULL;
        return LEC_ERR_INVAL;
    }
    *type = lec_json_string(lec_json_get(*o, "type"), "");
    return 0;
}

void lec__class_none(lec_class_event *ev, lec_sbuf *msg)
{
    memset(ev, 0, sizeof *ev);
    ev->msg = msg;
}

static int down_quiz(lec_class *c, const lec_json *o, lec_tstamp now, int64_t wall)
{
    const char *id = lec_json_string(lec_json_get(o, "id"), NULL);
    int64_t rel;
    lec_quiz_spec spec;
    if (!id_ok(id) || lec__class_spec_of(o, &spec, false, NULL, 0) ||
        !lec__class_int_of(lec_json_get(o, "release_at"), (double)wall - 86400000.0,
                           (double)wall + 3600000.0, &rel))
        return LEC_ERR_INVAL;
    if (lec_class_find(c, id))
        return 0; /* a copy (the home's own, or a repeat) */
    lec_quiz *q = NULL;
    int rc = quiz_new(c, &q);
    if (rc)
        return rc; /* the home keeps at most as many open: not an honest one */
    fill(q, &spec, id);
    q->release_wall = rel;
    if (rel > wall) {
        q->release_at = now + (lec_tstamp)(rel - wall) * LEC_MS;
    } else { /* it came after its instant: out at once, counted */
        q->release_at = now;
        q->late = true;
        q->late_by = (lec_tstamp)(wall - rel) * LEC_MS;
        c->stats.released_late++;
    }
    return 0;
}

int lec_class_down(lec_class *c, const char *json, size_t len, lec_tstamp now, int64_t wall,
                   lec_sbuf *msg, lec_class_event *ev)
{
    lec__class_none(ev, msg);
    lec_json *o;
    const char *type;
    if (lec__class_parse_obj(json, len, &o, &type))
        return LEC_ERR_INVAL;
    int rc = 0;
    if (!strcmp(type, "quiz")) {
        rc = down_quiz(c, o, now, wall);
    } else if (!strcmp(type, "quiz_result") || !strcmp(type, "reply")) {
        lec_quiz *q = lec_class_find(c, lec_json_string(lec_json_get(o, "id"), ""));
        if (q)
            q->closed = true;
        lec_sbuf_append(msg, json, len); /* the home wrote it: as it is */
        ev->kind = LEC_CLASS_TO_STUDENTS;
    } else {
        rc = LEC_ERR_INVAL;
    }
    lec_json_free(NULL, o);
    return rc;
}

/* ---- the clock ---- */

static lec_tstamp due(const lec_class *c, const lec_quiz *q)
{
    if (!q->released)
        return q->release_at;
    if (c->home && !q->closed)
        return lec__class_closes_at(q) + LEC_CLASS_GRACE;
    return LEC_TSTAMP_NEVER;
}

lec_tstamp lec_class_deadline(const lec_class *c)
{
    lec_tstamp t = LEC_TSTAMP_NEVER;
    for (unsigned i = 0; i < c->nquizzes; i++) {
        lec_tstamp d = due(c, c->quizzes[i]);
        if (d < t)
            t = d;
    }
    return t;
}

static int by_rank(const void *a, const void *b)
{
    const lec_class_answer *x = a, *y = b;
    if (x->right != y->right)
        return x->right ? -1 : 1;
    if (x->reaction_ms != y->reaction_ms)
        return x->reaction_ms < y->reaction_ms ? -1 : 1;
    return strcmp(x->session, y->session); /* ties: always the same order */
}

/* An answer in the ranking (full: the teacher's, with the student's
 * session) or among the winners every student sees: only a tag, the first
 * 8 of its session's 32 hex digits (the session id is what ends the
 * session: it stays with its page and the teacher). */
void lec__class_answer_fields(lec_jw *w, const lec_class_answer *a, bool full)
{
    if (full) {
        lec_jw_key(w, "session");
        lec_jw_str(w, a->session);
        lec_jw_key(w, "node");
        lec_jw_str(w, a->node);
    } else {
        lec_jw_key(w, "tag");
        lec_jw_strn(w, a->session, strlen(a->session) < 8 ? strlen(a->session) : 8);
    }
    lec_jw_key(w, "region");
    lec_jw_str(w, a->region);
    lec_jw_key(w, "option");
    lec_jw_int(w, a->option);
    lec_jw_key(w, "right");
    lec_jw_bool(w, a->right);
    lec_jw_key(w, "reaction_ms");
    lec_jw_double(w, round(a->reaction_ms * 10) / 10);
    if (full) {
        lec_jw_key(w, "claimed_ms");
        if (a->claimed_ms >= 0)
            lec_jw_double(w, round(a->claimed_ms * 10) / 10);
        else
            lec_jw_null(w);
        lec_jw_key(w, "elapsed_ms");
        lec_jw_double(w, round(a->elapsed_ms * 10) / 10);
        lec_jw_key(w, "rtt_ms");
        lec_jw_double(w, round(a->rtt_ms * 10) / 10);
        lec_jw_key(w, "adjusted");
        lec_jw_bool(w, a->adjusted);
        lec_jw_key(w, "at_bound");
        lec_jw_bool(w, a->at_bound);
    }
}

/* ---- the indexes ---- */

static uint32_t mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    return x ^ (x >> 16);
}

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261U; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619U;
    return mix(h);
}

static void put(lec_class_index *ix, uint32_t hash, size_t pos)
{
    size_t i = hash & (ix->cap - 1);
    while (ix->slot[i])
        i = (i + 1) & (ix->cap - 1);
    ix->slot[i] = (uint32_t)(pos + 1);
}

/* Makes room for one more entry (rebuilding with `hash_of` when it
 * grows).  0 or LEC_ERR_NOMEM. */
static int ix_room(lec_class_index *ix, size_t entries, const lec_quiz *q,
                   uint32_t (*hash_of)(const lec_quiz *q, size_t pos))
{
    if ((entries + 1) * 2 <= ix->cap)
        return 0;
    size_t cap = ix->cap ? ix->cap * 2 : 128;
    uint32_t *slot = calloc(cap, sizeof *slot);
    if (!slot)
        return LEC_ERR_NOMEM;
    free(ix->slot);
    ix->slot = slot;
    ix->cap = cap;
    for (size_t p = 0; p < entries; p++)
        put(ix, hash_of(q, p), p);
    return 0;
}

static uint32_t seen_hash(const lec_quiz *q, size_t pos)
{
    return mix(q->seen[pos].vid);
}

static uint32_t answer_hash(const lec_quiz *q, size_t pos)
{
    return hash_str(q->answers[pos].session);
}

lec_class_seen *lec__class_seen_find(lec_quiz *q, uint32_t vid)
{
    const lec_class_index *ix = &q->seen_ix;
    for (size_t i = mix(vid) & (ix->cap - 1), n = 0; ix->cap && n < ix->cap;
         i = (i + 1) & (ix->cap - 1), n++) {
        if (!ix->slot[i])
            return NULL;
        if (q->seen[ix->slot[i] - 1].vid == vid)
            return &q->seen[ix->slot[i] - 1];
    }
    return NULL;
}

lec_class_answer *lec__class_answer_find(lec_quiz *q, const char *session)
{
    const lec_class_index *ix = &q->answers_ix;
    for (size_t i = hash_str(session) & (ix->cap - 1), n = 0; ix->cap && n < ix->cap;
         i = (i + 1) & (ix->cap - 1), n++) {
        if (!ix->slot[i])
            return NULL;
        if (!strcmp(q->answers[ix->slot[i] - 1].session, session))
            return &q->answers[ix->slot[i] - 1];
    }
    return NULL;
}

int lec__class_answer_push(lec_quiz *q, const lec_class_answer *a)
{
    if (q->nanswers == q->capanswers) {
        size_t cap = q->capanswers ? q->capanswers * 2 : 64;
        lec_class_answer *n =
            cap <= LEC_CLASS_MAX_ANSWERS ? realloc(q->answers, cap * sizeof *n) : NULL;
        if (!n)
            return LEC_ERR_NOMEM;
        q->answers = n;
        q->capanswers = cap;
    }
    if (ix_room(&q->answers_ix, q->nanswers, q, answer_hash))
        return LEC_ERR_NOMEM;
    q->answers[q->nanswers] = *a;
    put(&q->answers_ix, hash_str(a->session), q->nanswers);
    q->nanswers++;
    return 0;
}

static void rtt_roll(lec_rtt_window *w, lec_tstamp now)
{
    if (!w->at) {
        w->at = now;
        return;
    }
    if (now - w->at < LEC_RTT_WINDOW)
        return;
    /* One window on, or more: what is older than the last window goes. */
    w->min[1] = now - w->at < 2 * LEC_RTT_WINDOW ? w->min[0] : 0;
    w->min[0] = 0;
    w->at = now - (now - w->at) % LEC_RTT_WINDOW;
}

void lec_rtt_window_add(lec_rtt_window *w, lec_tstamp now, lec_tstamp rtt)
{
    rtt_roll(w, now);
    if (rtt && (!w->min[0] || rtt < w->min[0]))
        w->min[0] = rtt;
}

lec_tstamp lec_rtt_window_get(lec_rtt_window *w, lec_tstamp now)
{
    rtt_roll(w, now);
    lec_tstamp a = w->min[0], b = w->min[1];
    return !a ? b : !b ? a : a < b ? a : b;
}

bool lec__class_take(lec_class_ask_budget *b, lec_tstamp now, double rate, double burst)
{
    if (!b->at) {
        b->at = now;
        b->tokens = burst;
    }
    b->tokens += (double)(now - b->at) / LEC_S * rate;
    if (b->tokens > burst)
        b->tokens = burst;
    b->at = now;
    if (b->tokens < 1)
        return false;
    b->tokens -= 1;
    return true;
}

/* Sorts the answers into their ranking (the index follows them). */
static void rank(lec_quiz *q)
{
    if (q->nanswers < 2)
        return;
    qsort(q->answers, q->nanswers, sizeof q->answers[0], by_rank);
    memset(q->answers_ix.slot, 0, q->answers_ix.cap * sizeof *q->answers_ix.slot);
    for (size_t p = 0; p < q->nanswers; p++)
        put(&q->answers_ix, answer_hash(q, p), p);
}

static void put_answer(lec_jw *w, const lec_class_answer *a, bool full)
{
    lec_jw_obj_open(w);
    lec__class_answer_fields(w, a, full);
    lec_jw_obj_close(w);
}

/* The home's closing word: the right option, the count, the first three. */
static void result_json(lec_quiz *q, lec_sbuf *out)
{
    rank(q);
    size_t right = 0;
    for (size_t i = 0; i < q->nanswers; i++)
        right += q->answers[i].right;
    lec_jw w;
    lec__class_begin(&w, out, "quiz_result");
    lec_jw_key(&w, "id");
    lec_jw_str(&w, q->id);
    lec_jw_key(&w, "answer");
    lec_jw_int(&w, q->answer);
    lec_jw_key(&w, "answers");
    lec_jw_uint(&w, q->nanswers);
    lec_jw_key(&w, "right");
    lec_jw_uint(&w, right);
    lec_jw_key(&w, "winners");
    lec_jw_arr_open(&w);
    for (size_t i = 0; i < q->nanswers && i < 3 && q->answers[i].right; i++)
        put_answer(&w, &q->answers[i], false);
    lec_jw_arr_close(&w);
    lec_jw_obj_close(&w);
}

void lec_class_tick(lec_class *c, lec_tstamp now, int64_t wall, lec_sbuf *msg, lec_class_event *ev)
{
    (void)wall;
    lec__class_none(ev, msg);
    for (unsigned i = 0; i < c->nquizzes; i++) {
        lec_quiz *q = c->quizzes[i];
        if (due(c, q) > now)
            continue;
        if (!q->released) {
            q->released = true;
            q->released_at = now;
            student_json(q, now, msg);
            ev->kind = LEC_CLASS_RELEASE;
        } else {
            q->closed = true;
            result_json(q, msg);
            ev->kind = LEC_CLASS_CLOSED;
        }
        ev->quiz = q;
        return;
    }
}

void lec_class_show(lec_class *c, lec_quiz *q, uint32_t vid, lec_tstamp now)
{
    (void)c;
    if (lec__class_seen_find(q, vid) || ix_room(&q->seen_ix, q->nseen, q, seen_hash))
        return;
    if (q->nseen == q->capseen) {
        size_t cap = q->capseen ? q->capseen * 2 : 64;
        lec_class_seen *n = cap <= MAX_SEEN ? realloc(q->seen, cap * sizeof *n) : NULL;
        if (!n)
            return; /* its answer will be refused: "not shown" */
        q->seen = n;
        q->capseen = cap;
    }
    q->seen[q->nseen] = (lec_class_seen){.vid = vid, .shown = now};
    put(&q->seen_ix, mix(vid), q->nseen);
    q->nseen++;
}

lec_quiz *lec_class_open_quiz(lec_class *c, lec_tstamp now, lec_sbuf *msg)
{
    for (unsigned i = c->nquizzes; i-- > 0;) {
        lec_quiz *q = c->quizzes[i];
        if (q->released && !q->closed && now < lec__class_closes_at(q)) {
            student_json(q, now, msg);
            return q;
        }
    }
    return NULL;
}

bool lec_class_open_down(const lec_class *c, unsigned i, lec_tstamp now, lec_sbuf *down)
{
    if (i >= c->nquizzes)
        return false;
    const lec_quiz *q = c->quizzes[i];
    if (!q->closed && now < lec__class_closes_at(q))
        down_json(q, down);
    return true;
}

int lec_class_ranking(const lec_class *c, const char *id, lec_tstamp now, lec_sbuf *out)
{
    lec_quiz *q = lec_class_find(c, id);
    if (!q)
        return LEC_ERR_NOTFOUND;
    rank(q);
    lec_jw w;
    lec_jw_init(&w, out);
    lec_jw_obj_open(&w);
    lec_jw_key(&w, "id");
    lec_jw_str(&w, q->id);
    lec_jw_key(&w, "question");
    lec_jw_str(&w, q->question);
    lec_jw_key(&w, "options");
    lec_jw_arr_open(&w);
    for (unsigned i = 0; i < q->noptions; i++)
        lec_jw_str(&w, q->options[i]);
    lec_jw_arr_close(&w);
    lec_jw_key(&w, "answer");
    lec_jw_int(&w, q->answer);
    lec_jw_key(&w, "release_at");
    lec_jw_int(&w, q->release_wall);
    lec_jw_key(&w, "open_ms");
    lec_jw_uint(&w, q->open_ms);
    lec_jw_key(&w, "state");
    lec_jw_str(&w, !q->released                    ? "scheduled"
                   : q->closed                     ? "closed"
                   : now < lec__class_closes_at(q) ? "open"
                                                   : "closing");
    lec_jw_key(&w, "ranking");
    lec_jw_arr_open(&w);
    for (size_t i = 0; i < q->nanswers; i++)
        put_answer(&w, &q->answers[i], true);
    lec_jw_arr_close(&w);
    lec_jw_obj_close(&w);
    return 0;
}
