/*
 * A string builder and a JSON writer on top of it.
 *
 * lec_sbuf either grows through an allocator or writes into caller storage
 * and truncates (the log formats into a stack buffer that way, so a log line
 * never allocates).  Errors are sticky: append freely, check once at the end.
 */
#ifndef LEC_BASE_SBUF_H
#define LEC_BASE_SBUF_H

#include "base/alloc.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lec_sbuf {
    char *data; /* always NUL-terminated when cap > 0 */
    size_t len;
    size_t cap;
    size_t max;             /* growing buffers stop here (0: no limit) */
    const lec_alloc *alloc; /* NULL: fixed caller storage */
    bool truncated;         /* a fixed buffer ran out, or `max` was reached */
    bool oom;               /* an allocation failed */
} lec_sbuf;

/* A growing buffer.  Free with lec_sbuf_free. */
void lec_sbuf_init(lec_sbuf *sb, const lec_alloc *a);
/* A fixed buffer over `buf` (cap >= 1); never allocates, truncates. */
void lec_sbuf_init_fixed(lec_sbuf *sb, char *buf, size_t cap);
void lec_sbuf_free(lec_sbuf *sb);
void lec_sbuf_reset(lec_sbuf *sb);

void lec_sbuf_append(lec_sbuf *sb, const void *data, size_t len);
void lec_sbuf_puts(lec_sbuf *sb, const char *s);
void lec_sbuf_putc(lec_sbuf *sb, char c);
void lec_sbuf_printf(lec_sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lec_sbuf_vprintf(lec_sbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* 0, LEC_ERR_NOMEM after a failed allocation, LEC_ERR_RANGE after truncation. */
int lec_sbuf_status(const lec_sbuf *sb);

/* Takes the buffer's storage (NUL-terminated, owned by the caller, freed with
 * the sbuf's allocator); the sbuf is left empty.  Growing buffers only. */
char *lec_sbuf_steal(lec_sbuf *sb, size_t *len);

/* Appends `s` (len bytes) as a JSON string with quotes and RFC 8259 escapes.
 * Bytes that are not valid UTF-8 become U+FFFD. */
void lec_json_put_str(lec_sbuf *sb, const char *s, size_t len);

/* A JSON writer: puts commas and colons where they belong. */
#define LEC_JW_MAX_DEPTH 32
typedef struct lec_jw {
    lec_sbuf *sb;
    uint32_t depth;
    bool first[LEC_JW_MAX_DEPTH + 1];
    bool after_key;
} lec_jw;

void lec_jw_init(lec_jw *w, lec_sbuf *sb);
void lec_jw_obj_open(lec_jw *w);
void lec_jw_obj_close(lec_jw *w);
void lec_jw_arr_open(lec_jw *w);
void lec_jw_arr_close(lec_jw *w);
void lec_jw_key(lec_jw *w, const char *key);
void lec_jw_str(lec_jw *w, const char *s); /* NULL writes null */
void lec_jw_strn(lec_jw *w, const char *s, size_t len);
void lec_jw_int(lec_jw *w, int64_t v);
void lec_jw_uint(lec_jw *w, uint64_t v);
void lec_jw_double(lec_jw *w, double v); /* NaN and infinities write null */
void lec_jw_bool(lec_jw *w, bool v);
void lec_jw_null(lec_jw *w);

/* A hex digit's value (either case), or -1. */
static inline int lec_hex_digit(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

#endif
