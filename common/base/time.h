/*
 * Time and randomness, injected.
 *
 * lec_tstamp is monotonic nanoseconds from an arbitrary origin.  Cores never
 * read a clock: every time-dependent call takes `now`.  Shells get their
 * clock as a lec_clock (the real ones live in common/sys), so a test can
 * substitute a manual clock and replay hours in microseconds.  Randomness
 * (SSRCs, transaction ids, keys in tests) comes through lec_rand likewise.
 */
#ifndef LEC_BASE_TIME_H
#define LEC_BASE_TIME_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t lec_tstamp;

#define LEC_NS           ((lec_tstamp)1)
#define LEC_US           ((lec_tstamp)1000)
#define LEC_MS           ((lec_tstamp)1000000)
#define LEC_S            ((lec_tstamp)1000000000)
#define LEC_TSTAMP_NEVER UINT64_MAX /* "no deadline" */

/* A clock: `now` returns nanoseconds (monotonic or since the Unix epoch,
 * as the clock's documentation says). */
typedef struct lec_clock {
    lec_tstamp (*now)(void *ud);
    void *ud;
} lec_clock;

static inline lec_tstamp lec_clock_now(const lec_clock *c)
{
    return c->now(c->ud);
}

/* A clock that moves only when told; for tests. */
typedef struct lec_manual_clock {
    lec_clock clock;
    lec_tstamp t;
} lec_manual_clock;

void lec_manual_clock_init(lec_manual_clock *m, lec_tstamp start);
static inline void lec_manual_clock_advance(lec_manual_clock *m, lec_tstamp d)
{
    m->t += d;
}

/* A random source: `fill` writes `len` random bytes to `out`; it cannot fail. */
typedef struct lec_rand {
    void (*fill)(void *ud, void *out, size_t len);
    void *ud;
} lec_rand;

uint32_t lec_rand_u32(const lec_rand *r);
uint64_t lec_rand_u64(const lec_rand *r);

/* A deterministic generator (xoshiro256**, seeded by splitmix64) for tests
 * and simulations.  Not for keys in production. */
typedef struct lec_rand_seeded {
    lec_rand rand;
    uint64_t s[4];
} lec_rand_seeded;

void lec_rand_seeded_init(lec_rand_seeded *r, uint64_t seed);

/* Writes `t` (nanoseconds since the Unix epoch) as RFC 3339 UTC with
 * milliseconds ("2026-11-27T17:30:00.123Z") into `out` (at least 25 bytes).
 * Returns the length written, or 0 when `cap` is too small. */
size_t lec_time_format_rfc3339(lec_tstamp unix_ns, char *out, size_t cap);

/* Parses a duration: "250ms", "30s", "2m", "1h", "1500us", or a bare number
 * of seconds.  Returns 0 and sets *out (ns), or LEC_ERR_INVAL. */
int lec_duration_parse(const char *s, lec_tstamp *out);

#endif
