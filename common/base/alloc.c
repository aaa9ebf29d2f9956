/* The default allocator (alloc.h). */
#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

static void *d_malloc(size_t n, void *ud)
{
    (void)ud;
    return malloc(n);
}
static void *d_calloc(size_t n, size_t sz, void *ud)
{
    (void)ud;
    return calloc(n, sz);
}
static void *d_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    return realloc(p, n);
}
static void d_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

static const lec_alloc default_alloc = {d_malloc, d_calloc, d_realloc, d_free, NULL};

const lec_alloc *lec_alloc_default(void)
{
    return &default_alloc;
}

char *lec_strndup(const lec_alloc *a, const char *s, size_t n)
{
    char *p = lec_malloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *lec_strdup(const lec_alloc *a, const char *s)
{
    return lec_strndup(a, s, strlen(s));
}
