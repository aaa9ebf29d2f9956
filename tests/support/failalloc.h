/* An allocator that fails the Nth allocation, for out-of-memory tests. */
#ifndef LEC_TEST_FAILALLOC_H
#define LEC_TEST_FAILALLOC_H

#include "base/alloc.h"

typedef struct failalloc {
    lec_alloc alloc;
    long fail_at; /* the 1-based allocation that fails; 0: never */
    long count;   /* allocations attempted */
    long live;    /* allocations not yet freed */
} failalloc;

void failalloc_init(failalloc *f, long fail_at);

#endif
