/*
 * The classroom core's own helpers (class.c and answers.c): not for other
 * modules.
 */
#ifndef LEC_CLASSROOM_CLASS_INT_H
#define LEC_CLASSROOM_CLASS_INT_H

#include "base/json.h"
#include "classroom/class.h"

/* A JSON object with its `type`, opened on `out`. */
void lec__class_begin(lec_jw *w, lec_sbuf *out, const char *type);
/* LEC_ERR_INVAL, with the reason in err. */
int lec__class_fail(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Printable text without control characters (`lines`: tabs and newlines
 * allowed), 1 to max bytes. */
bool lec__class_text_ok(const char *s, size_t n, size_t max, bool lines);
/* Node, region and session names: 1 to max of [A-Za-z0-9._-]. */
bool lec__class_name_ok(const char *s, size_t max);
/* An integral JSON number within [lo, hi]. */
bool lec__class_int_of(const lec_json *v, double lo, double hi, int64_t *out);
/* A quiz's fields (the answer too if need_answer). */
int lec__class_spec_of(const lec_json *o, lec_quiz_spec *spec, bool need_answer, char *err,
                       size_t errcap);
lec_tstamp lec__class_closes_at(const lec_quiz *q);

/* The indexes (class.c): a viewer shown quiz q, the home's answer of a
 * session, or NULL; an answer added to the ranking (LEC_ERR_NOMEM past
 * LEC_CLASS_MAX_ANSWERS). */
lec_class_seen *lec__class_seen_find(lec_quiz *q, uint32_t vid);
lec_class_answer *lec__class_answer_find(lec_quiz *q, const char *session);
int lec__class_answer_push(lec_quiz *q, const lec_class_answer *a);
/* A budget of `rate` a second, `burst` at once (class.c). */
bool lec__class_take(lec_class_ask_budget *b, lec_tstamp now, double rate, double burst);
/* A JSON object and its `type` ("" when absent).  0 or LEC_ERR_INVAL. */
int lec__class_parse_obj(const char *json, size_t len, lec_json **o, const char **type);
/* *ev with nothing to do, its msg the caller's. */
void lec__class_none(lec_class_event *ev, lec_sbuf *msg);
/* An answer's fields: the teacher's (full: session, node, the node's
 * figures) or every student's (a tag). */
void lec__class_answer_fields(lec_jw *w, const lec_class_answer *a, bool full);

#endif
