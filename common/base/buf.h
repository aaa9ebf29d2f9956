/*
 * Refcounted byte buffers, for data that fans out to several consumers or
 * crosses threads (STYLE.md rule 5).  The count is atomic; the bytes are
 * immutable once shared.  Everything else uses plain owned memory.
 */
#ifndef LEC_BASE_BUF_H
#define LEC_BASE_BUF_H

#include "base/alloc.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lec_buf {
    atomic_uint refs;
    uint32_t len;
    uint32_t cap;
    const lec_alloc *alloc;
    uint8_t data[];
} lec_buf;

/* A buffer of `cap` bytes, len 0, one reference; NULL when out of memory
 * or when cap exceeds UINT32_MAX. */
lec_buf *lec_buf_new(const lec_alloc *a, size_t cap);
/* A new buffer holding a copy of data[0..len). */
lec_buf *lec_buf_new_copy(const lec_alloc *a, const void *data, size_t len);
/* Adds a reference; returns `b`. */
lec_buf *lec_buf_ref(lec_buf *b);
/* Drops a reference and frees the buffer with the last one.  NULL is fine. */
void lec_buf_unref(lec_buf *b);

#endif
