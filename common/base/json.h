/*
 * A JSON reader (RFC 8259) for what Lectern's own tools read back from its
 * HTTP APIs (lectern-ctl): a document in, a tree of values out.  Strict:
 * one value, no trailing bytes, no comments; strings unescaped to UTF-8
 * (\u escapes with surrogate pairs; unpaired surrogates refused); numbers as
 * doubles.  Bounded: at most LEC_JSON_MAX_DEPTH levels of nesting, so a
 * hostile body cannot exhaust the stack.  A core: no I/O.
 */
#ifndef LEC_BASE_JSON_H
#define LEC_BASE_JSON_H

#include "base/alloc.h"

#include <stdbool.h>
#include <stddef.h>

#define LEC_JSON_MAX_DEPTH  64
#define LEC_JSON_MAX_VALUES (1u << 20) /* per document: bounds the memory a body costs */

typedef enum lec_json_type {
    LEC_JSON_NULL,
    LEC_JSON_BOOL,
    LEC_JSON_NUMBER,
    LEC_JSON_STRING,
    LEC_JSON_ARRAY,
    LEC_JSON_OBJECT,
} lec_json_type;

typedef struct lec_json lec_json;
struct lec_json {
    lec_json_type type;
    bool boolean;
    double number;
    char *str;     /* STRING: NUL-terminated (may hold NULs before len) */
    size_t len;    /* STRING: bytes; ARRAY, OBJECT: members */
    lec_json *items; /* ARRAY, OBJECT: the values */
    char **keys;     /* OBJECT: the keys, in document order */
};

/* Parses `len` bytes.  0 and *out (free with lec_json_free), or
 * LEC_ERR_INVAL with the reason and byte offset in `err`, or
 * LEC_ERR_NOMEM. */
int lec_json_parse(const lec_alloc *a, const char *s, size_t len, lec_json **out, char *err,
                   size_t errcap);
void lec_json_free(const lec_alloc *a, lec_json *v);

/* An object's member (the first of that key), or NULL: also for v NULL or
 * not an object, so lookups chain. */
const lec_json *lec_json_get(const lec_json *v, const char *key);
/* An array's element, or NULL. */
const lec_json *lec_json_at(const lec_json *v, size_t i);
/* The members of an array or object; 0 for anything else (and NULL). */
size_t lec_json_count(const lec_json *v);
/* An object's i-th key and value, or NULL (v not an object, i too big). */
const char *lec_json_key(const lec_json *v, size_t i);
const lec_json *lec_json_value(const lec_json *v, size_t i);
/* The string, or `dflt` when v is not one. */
const char *lec_json_string(const lec_json *v, const char *dflt);
/* The number, or `dflt` when v is not one. */
double lec_json_number(const lec_json *v, double dflt);
/* True only for a JSON true. */
bool lec_json_true(const lec_json *v);

#endif
