/*
 * A fixed pool of equal-sized objects for one owner thread: every object is
 * allocated at init, get/put are O(1) and never allocate.  Used for things
 * the packet path would otherwise malloc (timers, pending NACKs, scratch).
 */
#ifndef LEC_BASE_POOL_H
#define LEC_BASE_POOL_H

#include "base/alloc.h"

#include <stddef.h>
#include <stdint.h>

typedef struct lec_pool {
    void *mem;
    void *free_list;
    size_t obj_size;
    uint32_t count;
    uint32_t in_use;
    const lec_alloc *alloc;
} lec_pool;

/* `count` objects of `obj_size` bytes each (aligned for any type).
 * Returns 0, LEC_ERR_INVAL (zero size or count), or LEC_ERR_NOMEM. */
int lec_pool_init(lec_pool *p, const lec_alloc *a, size_t obj_size, uint32_t count);
void lec_pool_free(lec_pool *p);
/* An object (contents undefined), or NULL when all are in use. */
void *lec_pool_get(lec_pool *p);
/* Returns an object obtained from this pool. */
void lec_pool_put(lec_pool *p, void *obj);

#endif
