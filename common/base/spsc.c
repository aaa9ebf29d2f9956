/* Single-producer single-consumer datagram queue (spsc.h). */
#include "base/spsc.h"
#include "base/err.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot_hdr {
    uint64_t tag;
    uint32_t len;
    uint32_t pad;
} slot_hdr;

int lec_spsc_init(lec_spsc *q, uint32_t count, uint32_t slot_bytes)
{
    memset(q, 0, sizeof *q);
    if (count < 2 || (count & (count - 1)) || !slot_bytes)
        return LEC_ERR_INVAL;
    q->stride = sizeof(slot_hdr) + ((slot_bytes + 7u) & ~7u);
    q->mem = malloc(q->stride * count);
    if (!q->mem)
        return LEC_ERR_NOMEM;
    q->count = count;
    q->slot_bytes = slot_bytes;
    atomic_init(&q->head, 0);
    atomic_init(&q->tail, 0);
    return 0;
}

void lec_spsc_free(lec_spsc *q)
{
    free(q->mem);
    q->mem = NULL;
}

bool lec_spsc_push(lec_spsc *q, uint64_t tag, const void *data, size_t len)
{
    uint32_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
    if (len > q->slot_bytes || head - tail >= q->count)
        return false;
    uint8_t *s = q->mem + (size_t)(head & (q->count - 1)) * q->stride;
    slot_hdr h = {.tag = tag, .len = (uint32_t)len};
    memcpy(s, &h, sizeof h);
    memcpy(s + sizeof h, data, len);
    atomic_store_explicit(&q->head, head + 1, memory_order_release);
    return true;
}

size_t lec_spsc_pop(lec_spsc *q, uint64_t *tag, void *out, size_t cap)
{
    uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    uint32_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    if (tail == head)
        return 0;
    const uint8_t *s = q->mem + (size_t)(tail & (q->count - 1)) * q->stride;
    slot_hdr h;
    memcpy(&h, s, sizeof h);
    size_t n = h.len <= cap ? h.len : 0;
    if (n)
        memcpy(out, s + sizeof h, n);
    *tag = h.tag;
    atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
    return n;
}
