/*
 * A bounded single-producer, single-consumer queue of datagrams: one
 * thread pushes, another pops, no lock and no allocation after init.
 * The relay socket's reader hands each worker the legs' packets through
 * one of these; a full queue drops (the legs' NACKs repair it).
 */
#ifndef LEC_BASE_SPSC_H
#define LEC_BASE_SPSC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lec_spsc {
    uint8_t *mem;
    uint32_t count;      /* slots, a power of two */
    uint32_t slot_bytes; /* payload room per slot */
    size_t stride;
    _Atomic uint32_t head; /* next slot to write (producer) */
    _Atomic uint32_t tail; /* next slot to read (consumer) */
} lec_spsc;

/* `count` a power of two >= 2.  0, LEC_ERR_INVAL or LEC_ERR_NOMEM. */
int lec_spsc_init(lec_spsc *q, uint32_t count, uint32_t slot_bytes);
void lec_spsc_free(lec_spsc *q);

/* Producer: one datagram of `tag` and data[0..len).  False when full or
 * len exceeds slot_bytes (the caller counts the drop). */
bool lec_spsc_push(lec_spsc *q, uint64_t tag, const void *data, size_t len);

/* Consumer: the oldest datagram into out (cap >= slot_bytes); returns its
 * length with *tag set, or 0 when empty. */
size_t lec_spsc_pop(lec_spsc *q, uint64_t *tag, void *out, size_t cap);

#endif
