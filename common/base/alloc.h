/*
 * The allocator passed to constructors (STYLE.md, after ngtcp2): objects
 * that allocate take a `const lec_alloc *` so tests can fail the Nth
 * allocation.  NULL means lec_alloc_default().
 */
#ifndef LEC_BASE_ALLOC_H
#define LEC_BASE_ALLOC_H

#include <stddef.h>

typedef struct lec_alloc {
    void *(*malloc)(size_t size, void *ud);
    void *(*calloc)(size_t n, size_t size, void *ud);
    void *(*realloc)(void *p, size_t size, void *ud);
    void (*free)(void *p, void *ud);
    void *ud;
} lec_alloc;

/* The C library's allocator. */
const lec_alloc *lec_alloc_default(void);

static inline const lec_alloc *lec_alloc_or_default(const lec_alloc *a)
{
    return a ? a : lec_alloc_default();
}
static inline void *lec_malloc(const lec_alloc *a, size_t n)
{
    return a->malloc(n, a->ud);
}
static inline void *lec_calloc(const lec_alloc *a, size_t n, size_t sz)
{
    return a->calloc(n, sz, a->ud);
}
static inline void *lec_realloc(const lec_alloc *a, void *p, size_t n)
{
    return a->realloc(p, n, a->ud);
}
static inline void lec_free(const lec_alloc *a, void *p)
{
    a->free(p, a->ud);
}

/* A NUL-terminated copy of `s` (or of its first `n` bytes), or NULL. */
char *lec_strdup(const lec_alloc *a, const char *s);
char *lec_strndup(const lec_alloc *a, const char *s, size_t n);

#endif
