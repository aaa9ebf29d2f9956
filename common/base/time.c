/* Manual clock, seeded random source, time formatting (time.h). */
#include "base/time.h"
#include "base/err.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static lec_tstamp manual_now(void *ud)
{
    return ((lec_manual_clock *)ud)->t;
}

void lec_manual_clock_init(lec_manual_clock *m, lec_tstamp start)
{
    m->clock.now = manual_now;
    m->clock.ud = m;
    m->t = start;
}

uint32_t lec_rand_u32(const lec_rand *r)
{
    uint32_t v;
    r->fill(r->ud, &v, sizeof v);
    return v;
}

uint64_t lec_rand_u64(const lec_rand *r)
{
    uint64_t v;
    r->fill(r->ud, &v, sizeof v);
    return v;
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t xoshiro_next(uint64_t s[4])
{
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static void seeded_fill(void *ud, void *out, size_t len)
{
    lec_rand_seeded *r = ud;
    uint8_t *p = out;
    while (len > 0) {
        uint64_t v = xoshiro_next(r->s);
        size_t n = len < sizeof v ? len : sizeof v;
        memcpy(p, &v, n);
        p += n;
        len -= n;
    }
}

void lec_rand_seeded_init(lec_rand_seeded *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) { /* splitmix64 */
        uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        r->s[i] = z ^ (z >> 31);
    }
    r->rand.fill = seeded_fill;
    r->rand.ud = r;
}

size_t lec_time_format_rfc3339(lec_tstamp unix_ns, char *out, size_t cap)
{
    time_t secs = (time_t)(unix_ns / LEC_S);
    unsigned ms = (unsigned)((unix_ns % LEC_S) / LEC_MS);
    struct tm tm;
    if (cap < 25 || !gmtime_r(&secs, &tm))
        return 0;
    int n = snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

int lec_duration_parse(const char *s, lec_tstamp *out)
{
    /* Digits first: strtod alone would take spaces, signs, hex, "inf". */
    if (!s || !(isdigit((unsigned char)*s) || *s == '.') || strpbrk(s, "xXnN"))
        return LEC_ERR_INVAL;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return LEC_ERR_INVAL;
    double unit;
    if (!*end || !strcmp(end, "s"))
        unit = 1e9;
    else if (!strcmp(end, "ms"))
        unit = 1e6;
    else if (!strcmp(end, "us"))
        unit = 1e3;
    else if (!strcmp(end, "m"))
        unit = 60e9;
    else if (!strcmp(end, "h"))
        unit = 3600e9;
    else
        return LEC_ERR_INVAL;
    double ns = v * unit;
    if (!(ns < 1.8e19)) /* also rejects NaN */
        return LEC_ERR_RANGE;
    *out = (lec_tstamp)ns;
    return 0;
}
