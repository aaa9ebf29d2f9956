/* Fixed object pool (pool.h). */
#include "base/pool.h"
#include "base/err.h"

#include <stdalign.h>
#include <string.h>

int lec_pool_init(lec_pool *p, const lec_alloc *a, size_t obj_size, uint32_t count)
{
    memset(p, 0, sizeof *p);
    if (!obj_size || !count)
        return LEC_ERR_INVAL;
    size_t align = alignof(max_align_t);
    if (obj_size < sizeof(void *))
        obj_size = sizeof(void *);
    obj_size = (obj_size + align - 1) / align * align;
    if (obj_size > SIZE_MAX / count)
        return LEC_ERR_INVAL;
    p->alloc = lec_alloc_or_default(a);
    p->mem = lec_malloc(p->alloc, obj_size * count);
    if (!p->mem)
        return LEC_ERR_NOMEM;
    p->obj_size = obj_size;
    p->count = count;
    for (uint32_t i = count; i-- > 0;) {
        void **obj = (void **)((char *)p->mem + (size_t)i * obj_size);
        *obj = p->free_list;
        p->free_list = obj;
    }
    return 0;
}

void lec_pool_free(lec_pool *p)
{
    if (p->mem)
        lec_free(p->alloc, p->mem);
    memset(p, 0, sizeof *p);
}

void *lec_pool_get(lec_pool *p)
{
    void **obj = p->free_list;
    if (!obj)
        return NULL;
    p->free_list = *obj;
    p->in_use++;
    return obj;
}

void lec_pool_put(lec_pool *p, void *obj)
{
    *(void **)obj = p->free_list;
    p->free_list = obj;
    p->in_use--;
}
