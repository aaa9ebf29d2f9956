/* Signed messages seen lately (replay.h). */
#include "trust/replay.h"
#include "base/err.h"

#include <stdlib.h>
#include <string.h>

#define ISIZE (2 * LEC_REPLAY_CAP) /* a power of two */

int lec_replay_init(lec_replay *r)
{
    memset(r, 0, sizeof *r);
    r->ring = calloc(LEC_REPLAY_CAP, sizeof *r->ring);
    r->index = calloc(ISIZE, sizeof *r->index);
    if (!r->ring || !r->index) {
        lec_replay_free(r);
        return LEC_ERR_NOMEM;
    }
    return 0;
}

void lec_replay_free(lec_replay *r)
{
    free(r->ring);
    free(r->index);
    memset(r, 0, sizeof *r);
}

/* FNV-1a over the signature, two ways: a 128-bit name.  Signatures are
 * unpredictable to anyone without the key, so no keyed hash is needed for
 * the index's spread; a forger cannot make a name collide with one seen
 * without a valid signature, which it does not have. */
static void name_of(const uint8_t *sig, size_t len, uint64_t *a, uint64_t *b)
{
    uint64_t x = 0xcbf29ce484222325ull, y = 0x84222325cbf29ce4ull;
    for (size_t i = 0; i < len; i++) {
        x = (x ^ sig[i]) * 0x100000001b3ull;
        y = (y ^ sig[len - 1 - i]) * 0x100000001b3ull;
    }
    *a = x;
    *b = y;
}

/* The index slot holding ring slot `slot`, or where name (a, b) would go. */
static size_t find(const lec_replay *r, uint64_t a, uint64_t b, bool *found)
{
    size_t i = (size_t)(a & (ISIZE - 1));
    for (;;) {
        uint32_t v = r->index[i];
        if (!v) {
            *found = false;
            return i;
        }
        const lec_replay_ent *e = &r->ring[v - 1];
        if (e->a == a && e->b == b) {
            *found = true;
            return i;
        }
        i = (i + 1) & (ISIZE - 1);
    }
}

/* Removes index slot i, moving later entries of its run back (linear
 * probing's deletion without tombstones). */
static void unindex(lec_replay *r, size_t i)
{
    r->index[i] = 0;
    for (size_t j = (i + 1) & (ISIZE - 1); r->index[j]; j = (j + 1) & (ISIZE - 1)) {
        uint32_t v = r->index[j];
        size_t home = (size_t)(r->ring[v - 1].a & (ISIZE - 1));
        /* Move v back to i when i lies cyclically in [home, j). */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            r->index[i] = v;
            r->index[j] = 0;
            i = j;
        }
    }
}

/* Drops the oldest name. */
static void drop_oldest(lec_replay *r, uint64_t now_ms)
{
    size_t tail = (r->head + LEC_REPLAY_CAP - r->n) % LEC_REPLAY_CAP;
    lec_replay_ent *e = &r->ring[tail];
    bool found;
    size_t i = find(r, e->a, e->b, &found);
    if (found)
        unindex(r, i);
    if (e->until_ms >= now_ms)
        r->evicted++;
    r->n--;
}

bool lec_replay_seen(lec_replay *r, const uint8_t *sig, size_t sig_len, uint64_t msg_ms,
                     uint64_t now_ms, uint64_t window_ms)
{
    if (!r->ring)
        return false;
    /* Forget what has left its window, oldest first. */
    while (r->n) {
        size_t tail = (r->head + LEC_REPLAY_CAP - r->n) % LEC_REPLAY_CAP;
        if (r->ring[tail].until_ms >= now_ms)
            break;
        drop_oldest(r, now_ms);
    }
    uint64_t a, b;
    name_of(sig, sig_len, &a, &b);
    bool found;
    size_t i = find(r, a, b, &found);
    if (found)
        return true;
    if (r->n == LEC_REPLAY_CAP) {
        drop_oldest(r, now_ms);
        i = find(r, a, b, &found);
    }
    r->ring[r->head] = (lec_replay_ent){.a = a, .b = b, .until_ms = msg_ms + window_ms};
    r->index[i] = (uint32_t)r->head + 1;
    r->head = (r->head + 1) % LEC_REPLAY_CAP;
    r->n++;
    return false;
}
