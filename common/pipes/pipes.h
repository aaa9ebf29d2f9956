/*
 * Pipes between the workers of one node: how a stream's viewers spread
 * over several workers.  The stream's home worker (its publisher, or the
 * relay leg that feeds it) keeps a local leg to each other worker that
 * serves some of its viewers (a "shard"); on that worker the leg feeds a
 * room of its own, as a relay leg feeds an edge's room.  So the fan-out
 * of one stream runs on as many cores as it needs, each worker touches
 * only its own rooms, and the shard answers its viewers' NACKs from its
 * own ring.
 *
 * A pipe is a lock-free single-producer, single-consumer queue of clear
 * RTP/RTCP packets (base/spsc.h) per ordered pair of workers, made on
 * first use; the consumer is woken (sys/wake.h) at most once per
 * drain (no system call per packet while it is busy).  The packet's tag
 * is the receiving leg's, as on the relay socket.  No lock and no
 * allocation per packet; a full queue drops (the leg's NACK repairs it).
 */
#ifndef LEC_PIPES_PIPES_H
#define LEC_PIPES_PIPES_H

#include "base/log.h"
#include "relay/relay.h"

#include <stdint.h>
#include <uv.h>

typedef struct lec_pipes lec_pipes;

typedef struct lec_pipes_stats {
    uint64_t sent, dropped;
} lec_pipes_stats;

/* 0, LEC_ERR_INVAL (nworkers not in 1..256), LEC_ERR_NOMEM, LEC_ERR_IO. */
int lec_pipes_new(lec_pipes **out, unsigned nworkers);
/* Main thread, before either worker uses it: makes the queues between
 * `a` and `b` (both ways) if they are not there yet.  0 or LEC_ERR_NOMEM. */
int lec_pipes_connect(lec_pipes *p, unsigned a, unsigned b);
/* On worker `w`'s loop: start receiving.  0 or LEC_ERR_*. */
int lec_pipes_attach(lec_pipes *p, unsigned w, uv_loop_t *loop, lec_relay_deliver_fn fn, void *ud);
/* On worker `w`'s loop: stop; its handle closes on that loop. */
void lec_pipes_detach(lec_pipes *p, unsigned w);
/* On worker `from`: a packet for worker `to`.  0, LEC_ERR_AGAIN (full:
 * dropped and counted) or LEC_ERR_INVAL (no such pipe, too long). */
int lec_pipes_send(lec_pipes *p, unsigned from, unsigned to, uint64_t tag, const uint8_t *pkt,
                   size_t len);
void lec_pipes_get_stats(const lec_pipes *p, lec_pipes_stats *out);
/* After every worker detached. */
void lec_pipes_free(lec_pipes *p);

#endif
