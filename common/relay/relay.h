/*
 * The relay socket: one UDP socket per node carrying all its cascade legs
 * (DESIGN.md section 3, step 4), shared by the workers.
 *
 * Every datagram is an 8-byte tag followed by one SRTP or SRTCP packet.
 * The tag is chosen by the datagram's receiver when the leg is set up (the
 * requester's leg_id one way, RelayOpened.source_leg_id the other) and its
 * top byte names the receiving node's worker, so the reader can hand a
 * packet to the right worker without looking anything up.
 *
 * Worker 0's loop reads the socket; packets for other workers travel
 * through a lock-free queue per worker (base/spsc.h) and an async wake.
 * Any worker sends with a plain sendmsg on the shared descriptor (the
 * kernel keeps each datagram whole).  Legs authenticate every packet with
 * SRTP, so the tag is a route, not a credential.
 */
#ifndef LEC_RELAY_RELAY_H
#define LEC_RELAY_RELAY_H

#include "base/addr.h"
#include "base/log.h"

#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#define LEC_RELAY_TAG_LEN 8
#define LEC_RELAY_PKT_MAX 1600 /* an SRTP packet; larger datagrams are dropped */

typedef struct lec_relay lec_relay;

/* A packet for this worker: `pkt` (len bytes, cap >= len + 32 for
 * in-place work) on the worker's loop. */
typedef void (*lec_relay_deliver_fn)(void *ud, uint64_t tag, uint8_t *pkt, size_t len, size_t cap);

typedef struct lec_relay_stats {
    uint64_t rx, tx, rx_dropped, tx_errors;
} lec_relay_stats;

/* Binds `listen` (port 0: any free port).  0, LEC_ERR_IO (with a log line
 * naming the address), LEC_ERR_NOMEM. */
int lec_relay_bind(lec_relay **out, const lec_addr *listen, unsigned nworkers, lec_log *log);
/* The bound address (the port when listen's was 0). */
lec_addr lec_relay_local(const lec_relay *r);
/* A tag for a leg that `worker` receives: the worker in the top byte. */
uint64_t lec_relay_tag(unsigned worker, uint64_t random);
static inline unsigned lec_relay_tag_worker(uint64_t tag)
{
    return (unsigned)(tag >> 56);
}

/* On worker `w`'s loop: start receiving this worker's packets (worker 0
 * also reads the socket).  0 or LEC_ERR_*. */
int lec_relay_attach(lec_relay *r, unsigned w, uv_loop_t *loop, lec_relay_deliver_fn fn, void *ud);
/* On worker `w`'s loop: stop; its handles close on that loop. */
void lec_relay_detach(lec_relay *r, unsigned w);

/* Any worker: sends tag + pkt to `to`.  0, or LEC_ERR_AGAIN / LEC_ERR_IO
 * (counted; the leg's NACKs repair a drop). */
int lec_relay_send(lec_relay *r, const lec_addr *to, uint64_t tag, const uint8_t *pkt, size_t len);

void lec_relay_get_stats(const lec_relay *r, lec_relay_stats *out);
/* After every worker detached (their loops have run the closes). */
void lec_relay_free(lec_relay *r);

#endif
