/*
 * A wake bound to a libuv loop: the one way this code base crosses from
 * one thread's loop to another's.  Any thread signals after it put work in
 * the consumer's queue; the consumer's loop then runs the callback once
 * for any number of signals since it last ran, and the callback drains
 * its queue(s).  Every cross-thread hand-off uses it: the message queues
 * of the node's loops (sys/msgq.h: jobs to workers, their answers and
 * events, the bus's deliveries from nats.c's threads), the relay socket's
 * hand-off to workers (relay/relay.c), and the pipes between workers
 * (pipes/pipes.c).  The queues differ in shape (a locked list of closures
 * for control messages, lock-free rings for packets); the wake, and the
 * argument that no work is ever left behind, are these:
 *
 *   signal (producer):  push to the queue; then
 *                       if (!exchange(pending, true)) write(eventfd)
 *   run (consumer):     read(eventfd) until empty; store(pending, false);
 *                       then drain the queue
 *
 * The consumer clears `pending` before it drains, so an item pushed after
 * the clear finds `pending` false and writes again: the loop comes back.
 * An item pushed before the clear is drained by this run.  The producer
 * uses a full exchange (not a load, then a store) so that its push is
 * visible before it reads `pending`; otherwise a consumer clearing it at
 * that moment could miss the push with no wake to follow (store-load
 * reordering, Dekker's problem).  A signal with `pending` already true
 * costs one atomic exchange and no system call, so a burst of packets
 * wakes the loop once.  A consumer that stops draining early (to give its
 * loop a turn) calls lec_wake_again.
 *
 * The eventfd lives until lec_wake_free, after the loop detached, so a
 * producer may signal a wake whose loop has gone (it is simply not run).
 */
#ifndef LEC_SYS_WAKE_H
#define LEC_SYS_WAKE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <uv.h>

typedef struct lec_wake {
    int efd;
    uv_poll_t poll;
    bool has_poll;
    atomic_bool pending; /* a wake is on its way: signalers need not write again */
    void (*fn)(void *ud);
    void *ud;
    void (*detached)(struct lec_wake *w);
} lec_wake;

/* Any thread (before use).  0 or LEC_ERR_IO. */
int lec_wake_init(lec_wake *w);
/* On the loop's thread: fn(ud) runs there after signals.  0 or LEC_ERR_IO. */
int lec_wake_attach(lec_wake *w, uv_loop_t *loop, void (*fn)(void *ud), void *ud);
/* Any thread, after pushing work. */
void lec_wake_signal(lec_wake *w);
/* On the loop's thread, from fn: work is left; run again after a loop turn. */
void lec_wake_again(lec_wake *w);
/* On the loop's thread: no more runs; `done` (may be NULL) once the handle
 * closed. */
void lec_wake_detach(lec_wake *w, void (*done)(lec_wake *w));
/* After the detach completed, or if never attached: closes the eventfd. */
void lec_wake_free(lec_wake *w);

#endif
