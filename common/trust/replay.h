/*
 * Signed messages seen lately, so that a captured one republished within
 * its validity window (LEC_TRUST_WINDOW either side of its time) is taken
 * once.  A message is named by a digest of its signature (Ed25519
 * signatures differ for any two messages, times included).  Bounded: a
 * ring of the newest LEC_REPLAY_CAP names with an open-addressing index;
 * when it is full the oldest name goes (and is counted: a replay of it
 * would pass, so the cap is set far above what honest nodes send in two
 * windows: a heartbeat a second per node, pings, legs).  Pure: the time
 * is passed in; one thread.
 */
#ifndef LEC_TRUST_REPLAY_H
#define LEC_TRUST_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEC_REPLAY_CAP 65536

typedef struct lec_replay_ent {
    uint64_t a, b;     /* the name */
    uint64_t until_ms; /* forgotten after (the message's time + the window) */
} lec_replay_ent;

typedef struct lec_replay {
    lec_replay_ent *ring; /* [LEC_REPLAY_CAP], arrival order */
    uint32_t *index;      /* [2 * LEC_REPLAY_CAP]: ring slot + 1, 0 empty */
    size_t head, n;
    uint64_t evicted; /* names dropped while still in their window */
} lec_replay;

/* 0 or LEC_ERR_NOMEM. */
int lec_replay_init(lec_replay *r);
void lec_replay_free(lec_replay *r);

/* Whether the message signed `sig` (sig_len bytes) at msg_ms was seen
 * before within its window; notes it when not.  now_ms: the wall clock. */
bool lec_replay_seen(lec_replay *r, const uint8_t *sig, size_t sig_len, uint64_t msg_ms,
                     uint64_t now_ms, uint64_t window_ms);

#endif
