/* Refcounted buffers, the packet ring, the object pool. */
#include "testdata.h"
#include "failalloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/pool.h"
#include "base/ring.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>

static void test_buf_refs(void **state)
{
    (void)state;
    failalloc fa;
    failalloc_init(&fa, 0);
    lec_buf *b = lec_buf_new_copy(&fa.alloc, "hello", 5);
    assert_non_null(b);
    assert_int_equal(b->len, 5);
    assert_memory_equal(b->data, "hello", 5);
    lec_buf *b2 = lec_buf_ref(b);
    assert_ptr_equal(b, b2);
    lec_buf_unref(b);
    assert_int_equal(fa.live, 1);
    lec_buf_unref(b2);
    assert_int_equal(fa.live, 0);
    lec_buf_unref(NULL);
    failalloc_init(&fa, 1);
    assert_null(lec_buf_new(&fa.alloc, 10));
}

static void test_ring_basic(void **state)
{
    (void)state;
    lec_ring r;
    assert_int_equal(lec_ring_init(&r, NULL, 3, 100), LEC_ERR_INVAL); /* not a power of 2 */
    assert_int_equal(lec_ring_init(&r, NULL, 8, 100), 0);
    assert_true(lec_ring_head(&r) == 0);
    char out[128];
    size_t len;
    uint64_t meta;
    assert_int_equal(lec_ring_read(&r, 0, out, sizeof out, &len, &meta), LEC_ERR_NOTFOUND);
    for (uint64_t k = 100; k < 110; k++) {
        char pkt[32];
        int n = snprintf(pkt, sizeof pkt, "packet %llu", (unsigned long long)k);
        assert_int_equal(lec_ring_push(&r, k, pkt, (size_t)n, k * 10), 0);
    }
    assert_true(lec_ring_head(&r) == 110);
    /* The last 8 are there, older ones were overwritten. */
    assert_int_equal(lec_ring_read(&r, 101, out, sizeof out, &len, &meta), LEC_ERR_NOTFOUND);
    assert_int_equal(lec_ring_read(&r, 102, out, sizeof out, &len, &meta), 0);
    assert_int_equal(len, 10);
    assert_memory_equal(out, "packet 102", 10);
    assert_true(meta == 1020);
    /* A buffer too short, an entry too large, a key too old to store. */
    assert_int_equal(lec_ring_read(&r, 109, out, 4, &len, &meta), LEC_ERR_RANGE);
    char big[200] = {0};
    assert_int_equal(lec_ring_push(&r, 110, big, sizeof big, 0), LEC_ERR_RANGE);
    assert_int_equal(lec_ring_push(&r, 101, "x", 1, 0), LEC_ERR_NOTFOUND);
    lec_ring_free(&r);
}

static void test_ring_gap_filled_late(void **state)
{
    (void)state;
    lec_ring r;
    assert_int_equal(lec_ring_init(&r, NULL, 16, 64), 0);
    assert_int_equal(lec_ring_push(&r, 1, "a", 1, 0), 0);
    assert_int_equal(lec_ring_push(&r, 3, "c", 1, 0), 0);
    char out[8];
    size_t len;
    assert_int_equal(lec_ring_read(&r, 2, out, sizeof out, &len, NULL), LEC_ERR_NOTFOUND);
    assert_int_equal(lec_ring_push(&r, 2, "b", 1, 0), 0); /* a retransmission arrives */
    assert_int_equal(lec_ring_read(&r, 2, out, sizeof out, &len, NULL), 0);
    assert_int_equal(out[0], 'b');
    assert_true(lec_ring_head(&r) == 4); /* a late key does not move head back */
    lec_ring_free(&r);
}

/* One producer, two readers on other threads: every packet a reader gets
 * must be whole (its bytes all derive from its key), never torn. */
typedef struct stress {
    lec_ring ring;
    atomic_bool stop;
    long got, torn;
} stress;

static void *reader_main(void *arg)
{
    stress *s = arg;
    uint64_t cursor = 0;
    uint8_t out[256];
    for (;;) {
        /* One last pass after the producer stopped, whatever the scheduling. */
        bool last = atomic_load(&s->stop);
        uint64_t head = lec_ring_head(&s->ring);
        if (head > cursor + s->ring.count)
            cursor = head - s->ring.count;
        for (; cursor < head; cursor++) {
            size_t len;
            uint64_t meta;
            if (lec_ring_read(&s->ring, cursor, out, sizeof out, &len, &meta))
                continue;
            int bad = meta != cursor || len != 64 + cursor % 128;
            for (size_t i = 0; i < len && !bad; i++)
                bad = out[i] != (uint8_t)(cursor + i);
            s->torn += bad;
            s->got++;
        }
        if (last)
            break;
    }
    return NULL;
}

static void test_ring_threads(void **state)
{
    (void)state;
    static stress s;
    memset(&s, 0, sizeof s);
    assert_int_equal(lec_ring_init(&s.ring, NULL, 64, 256), 0);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, reader_main, &s), 0);
    uint8_t pkt[256];
    for (uint64_t k = 0; k < 200000; k++) { /* bounded */
        size_t len = 64 + k % 128;
        for (size_t i = 0; i < len; i++)
            pkt[i] = (uint8_t)(k + i);
        assert_int_equal(lec_ring_push(&s.ring, k, pkt, len, k), 0);
    }
    atomic_store(&s.stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(s.torn, 0);
    assert_true(s.got > 0);
    lec_ring_free(&s.ring);
}

static void test_ring_oom(void **state)
{
    (void)state;
    failalloc fa;
    failalloc_init(&fa, 1);
    lec_ring r;
    assert_int_equal(lec_ring_init(&r, &fa.alloc, 8, 64), LEC_ERR_NOMEM);
    lec_ring_free(&r);
}

static void test_pool(void **state)
{
    (void)state;
    lec_pool p;
    assert_int_equal(lec_pool_init(&p, NULL, 0, 4), LEC_ERR_INVAL);
    assert_int_equal(lec_pool_init(&p, NULL, 24, 3), 0);
    void *a = lec_pool_get(&p), *b = lec_pool_get(&p), *c = lec_pool_get(&p);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_null(lec_pool_get(&p));
    assert_int_equal(p.in_use, 3);
    memset(b, 0xab, 24); /* the whole object is usable */
    lec_pool_put(&p, b);
    assert_ptr_equal(lec_pool_get(&p), b);
    assert_true(((uintptr_t)a % _Alignof(max_align_t)) == 0);
    lec_pool_put(&p, a);
    lec_pool_put(&p, b);
    lec_pool_put(&p, c);
    assert_int_equal(p.in_use, 0);
    lec_pool_free(&p);

    failalloc fa;
    failalloc_init(&fa, 1);
    assert_int_equal(lec_pool_init(&p, &fa.alloc, 8, 8), LEC_ERR_NOMEM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_refs),
        cmocka_unit_test(test_ring_basic),
        cmocka_unit_test(test_ring_gap_filled_late),
        cmocka_unit_test(test_ring_threads),
        cmocka_unit_test(test_ring_oom),
        cmocka_unit_test(test_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
