#include "failalloc.h"

#include <stdlib.h>

static int should_fail(failalloc *f)
{
    f->count++;
    return f->fail_at && f->count == f->fail_at;
}

static void *fa_malloc(size_t n, void *ud)
{
    failalloc *f = ud;
    if (should_fail(f))
        return NULL;
    void *p = malloc(n);
    f->live += p != NULL;
    return p;
}

static void *fa_calloc(size_t n, size_t sz, void *ud)
{
    failalloc *f = ud;
    if (should_fail(f))
        return NULL;
    void *p = calloc(n, sz);
    f->live += p != NULL;
    return p;
}

static void *fa_realloc(void *p, size_t n, void *ud)
{
    failalloc *f = ud;
    if (should_fail(f))
        return NULL;
    void *q = realloc(p, n);
    f->live += q && !p;
    return q;
}

static void fa_free(void *p, void *ud)
{
    failalloc *f = ud;
    f->live -= p != NULL;
    free(p);
}

void failalloc_init(failalloc *f, long fail_at)
{
    f->alloc = (lec_alloc){fa_malloc, fa_calloc, fa_realloc, fa_free, f};
    f->fail_at = fail_at;
    f->count = 0;
    f->live = 0;
}
