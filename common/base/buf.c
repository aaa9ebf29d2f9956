/* Refcounted buffers (buf.h). */
#include "base/buf.h"

#include <string.h>

lec_buf *lec_buf_new(const lec_alloc *a, size_t cap)
{
    a = lec_alloc_or_default(a);
    if (cap > UINT32_MAX)
        return NULL;
    lec_buf *b = lec_malloc(a, sizeof *b + cap);
    if (!b)
        return NULL;
    atomic_init(&b->refs, 1);
    b->len = 0;
    b->cap = (uint32_t)cap;
    b->alloc = a;
    return b;
}

lec_buf *lec_buf_new_copy(const lec_alloc *a, const void *data, size_t len)
{
    lec_buf *b = lec_buf_new(a, len);
    if (b && len) {
        memcpy(b->data, data, len);
        b->len = (uint32_t)len;
    }
    return b;
}

lec_buf *lec_buf_ref(lec_buf *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

void lec_buf_unref(lec_buf *b)
{
    if (!b)
        return;
    /* acq_rel: the freeing thread must see every write made before other
     * threads dropped their references. */
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
        lec_free(b->alloc, b);
}
