/* The packet ring (ring.h). */
#include "base/ring.h"
#include "base/err.h"

#include <string.h>

struct lec_ring_slot {
    /* (key + 1) << 1, with bit 0 set while the producer writes; 0: empty. */
    atomic_uint_fast64_t stamp;
    _Atomic uint64_t meta;
    _Atomic uint32_t len;
    _Atomic uint64_t words[]; /* slot_bytes / 8 */
};

static lec_ring_slot *slot_at(const lec_ring *r, uint64_t key)
{
    return (lec_ring_slot *)((char *)r->slots + (size_t)(key & (r->count - 1)) * r->stride);
}

int lec_ring_init(lec_ring *r, const lec_alloc *a, uint32_t count, uint32_t slot_bytes)
{
    memset(r, 0, sizeof *r);
    if (count < 2 || (count & (count - 1)) || slot_bytes == 0 || slot_bytes > (1u << 24))
        return LEC_ERR_INVAL;
    r->alloc = lec_alloc_or_default(a);
    r->count = count;
    r->slot_bytes = (slot_bytes + 7u) & ~7u;
    r->stride = sizeof(lec_ring_slot) + r->slot_bytes;
    r->slots = lec_calloc(r->alloc, count, r->stride);
    if (!r->slots)
        return LEC_ERR_NOMEM;
    for (uint32_t i = 0; i < count; i++)
        atomic_init(&slot_at(r, i)->stamp, 0);
    atomic_init(&r->head, 0);
    return 0;
}

void lec_ring_free(lec_ring *r)
{
    if (r->slots)
        lec_free(r->alloc, r->slots);
    r->slots = NULL;
}

int lec_ring_push(lec_ring *r, uint64_t key, const void *data, size_t len, uint64_t meta)
{
    if (len > r->slot_bytes)
        return LEC_ERR_RANGE;
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (key + r->count <= head)
        return LEC_ERR_NOTFOUND;
    lec_ring_slot *s = slot_at(r, key);
    uint64_t stamp = (key + 1) << 1;

    atomic_store_explicit(&s->stamp, stamp | 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    size_t words = (len + 7) / 8;
    const uint8_t *p = data;
    for (size_t i = 0; i < words; i++) {
        uint64_t w = 0;
        size_t n = len - i * 8 < 8 ? len - i * 8 : 8;
        memcpy(&w, p + i * 8, n);
        atomic_store_explicit(&s->words[i], w, memory_order_relaxed);
    }
    atomic_store_explicit(&s->len, (uint32_t)len, memory_order_relaxed);
    atomic_store_explicit(&s->meta, meta, memory_order_relaxed);
    atomic_store_explicit(&s->stamp, stamp, memory_order_release);
    if (key + 1 > head)
        atomic_store_explicit(&r->head, key + 1, memory_order_release);
    return 0;
}

int lec_ring_read(const lec_ring *r, uint64_t key, void *out, size_t cap, size_t *len,
                  uint64_t *meta)
{
    lec_ring_slot *s = slot_at(r, key);
    uint64_t want = (key + 1) << 1;
    uint64_t s1 = atomic_load_explicit(&s->stamp, memory_order_acquire);
    if (s1 == (want | 1))
        return LEC_ERR_AGAIN;
    if (s1 != want)
        return LEC_ERR_NOTFOUND;
    size_t n = atomic_load_explicit(&s->len, memory_order_relaxed);
    uint64_t m = atomic_load_explicit(&s->meta, memory_order_relaxed);
    if (n > r->slot_bytes) /* a torn read; the stamp check below catches it */
        n = r->slot_bytes;
    if (n > cap) {
        atomic_thread_fence(memory_order_acquire);
        uint64_t s2 = atomic_load_explicit(&s->stamp, memory_order_relaxed);
        return s2 == s1 ? LEC_ERR_RANGE : LEC_ERR_NOTFOUND;
    }
    uint8_t *o = out;
    for (size_t i = 0; i * 8 < n; i++) {
        uint64_t w = atomic_load_explicit(&s->words[i], memory_order_relaxed);
        size_t k = n - i * 8 < 8 ? n - i * 8 : 8;
        memcpy(o + i * 8, &w, k);
    }
    atomic_thread_fence(memory_order_acquire);
    uint64_t s2 = atomic_load_explicit(&s->stamp, memory_order_relaxed);
    if (s2 != s1)
        return s2 == (want | 1) ? LEC_ERR_AGAIN : LEC_ERR_NOTFOUND;
    *len = n;
    if (meta)
        *meta = m;
    return 0;
}
