/*
 * The packet ring: one producer, any number of readers on any threads, no
 * lock and no allocation after init.
 *
 * It is at once the fan-out queue and the retransmission store (DESIGN.md
 * section 3).  Entries are keyed by a 64-bit number that the producer picks
 * (for RTP: the extended sequence number), stored in slot key % slots.  A
 * late packet fills its own gap; a lookup by key finds a packet for as long
 * as `slots` newer keys have not overwritten it, which is what a NACK needs.
 *
 * Each slot is a seqlock: the producer marks it busy, copies the bytes in,
 * then publishes the key; a reader copies the bytes out and checks that the
 * stamp did not move meanwhile.  Readers copy rather than borrow because
 * every subscriber must SRTP-protect its own copy anyway, and copying makes
 * slot reuse safe without refcounts or hazard pointers.  The bytes are moved
 * as relaxed atomic words, so the seqlock is race-free in the C11 model.
 */
#ifndef LEC_BASE_RING_H
#define LEC_BASE_RING_H

#include "base/alloc.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lec_ring_slot lec_ring_slot;

typedef struct lec_ring {
    lec_ring_slot *slots; /* `count` slots of `stride` bytes each */
    uint32_t count;       /* a power of two */
    uint32_t slot_bytes;  /* the largest entry, rounded up to 8 */
    size_t stride;
    atomic_uint_fast64_t head; /* newest key + 1; 0 while empty */
    const lec_alloc *alloc;
} lec_ring;

/* A ring of `count` (a power of two, >= 2) entries of up to `slot_bytes`.
 * Returns 0, LEC_ERR_INVAL, or LEC_ERR_NOMEM. */
int lec_ring_init(lec_ring *r, const lec_alloc *a, uint32_t count, uint32_t slot_bytes);
void lec_ring_free(lec_ring *r);

/* Producer only.  Stores data[0..len) and `meta` (the caller's: arrival
 * time, flags) under `key`.  Returns 0; LEC_ERR_RANGE when len exceeds
 * slot_bytes; LEC_ERR_NOTFOUND when the key is so old (key + count <= head)
 * that its slot already holds a newer entry: the packet is dropped. */
int lec_ring_push(lec_ring *r, uint64_t key, const void *data, size_t len, uint64_t meta);

/* Any thread.  Copies the entry under `key` into out (cap bytes).  Returns
 * 0 with *len and *meta set; LEC_ERR_NOTFOUND when the key was never stored
 * or was overwritten; LEC_ERR_AGAIN when the producer is writing that slot
 * right now (retry, or treat as missing); LEC_ERR_RANGE when cap is short. */
int lec_ring_read(const lec_ring *r, uint64_t key, void *out, size_t cap, size_t *len,
                  uint64_t *meta);

/* Any thread: the newest key + 1 (0 while the ring is empty).  A reader
 * that has consumed up to `cursor` reads keys cursor..head-1; keys older
 * than head - count are gone. */
static inline uint64_t lec_ring_head(const lec_ring *r)
{
    return atomic_load_explicit(&r->head, memory_order_acquire);
}

#endif
