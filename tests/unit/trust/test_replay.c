/* Signed messages seen lately (trust/replay.h): a republished message is
 * seen within its window, not after; the bound holds, oldest first; the
 * index stays right through many evictions. */
#include "testdata.h"
#include "trust/replay.h"

#include <stdio.h>
#include <string.h>

static void sig_of(uint32_t i, uint8_t s[64])
{
    memset(s, 0, 64);
    for (int k = 0; k < 64; k++)
        s[k] = (uint8_t)((i * 2654435761u) >> (k % 4 * 8)) ^ (uint8_t)k;
    memcpy(s, &i, 4);
}

static void test_replayed_within_window(void **state)
{
    (void)state;
    lec_replay r;
    assert_int_equal(lec_replay_init(&r), 0);
    uint8_t s[64];
    sig_of(1, s);
    uint64_t t = 1700000000000ull, w = 30000;
    assert_false(lec_replay_seen(&r, s, 64, t, t, w));
    assert_true(lec_replay_seen(&r, s, 64, t, t + 1, w));
    assert_true(lec_replay_seen(&r, s, 64, t, t + 29999, w));
    sig_of(2, s);
    assert_false(lec_replay_seen(&r, s, 64, t, t + 100, w));
    /* Past the window it is forgotten (and the signature check refuses it
     * as stale by then anyway). */
    sig_of(1, s);
    assert_false(lec_replay_seen(&r, s, 64, t, t + w + 1, w));
    lec_replay_free(&r);
}

static void test_bounded_oldest_first(void **state)
{
    (void)state;
    lec_replay r;
    assert_int_equal(lec_replay_init(&r), 0);
    uint8_t s[64];
    uint64_t t = 1700000000000ull, w = 30000;
    unsigned total = LEC_REPLAY_CAP + 1000;
    for (uint32_t i = 0; i < total; i++) {
        sig_of(i, s);
        assert_false(lec_replay_seen(&r, s, 64, t, t, w));
    }
    assert_int_equal(r.n, LEC_REPLAY_CAP);
    assert_int_equal(r.evicted, 1000);
    /* The newest are all still known; the oldest 1000 went. */
    for (uint32_t i = total - 5000; i < total; i++) {
        sig_of(i, s);
        assert_true(lec_replay_seen(&r, s, 64, t, t, w));
    }
    sig_of(0, s);
    assert_false(lec_replay_seen(&r, s, 64, t, t, w));
    lec_replay_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replayed_within_window),
        cmocka_unit_test(test_bounded_oldest_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
