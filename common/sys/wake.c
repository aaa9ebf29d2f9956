/* A wake bound to a libuv loop (wake.h: the protocol and why it is right). */
#include "sys/wake.h"
#include "base/err.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

int lec_wake_init(lec_wake *w)
{
    w->has_poll = false;
    w->fn = NULL;
    w->ud = NULL;
    w->detached = NULL;
    atomic_init(&w->pending, false);
    w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return w->efd < 0 ? LEC_ERR_IO : 0;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    (void)status, (void)events;
    lec_wake *w = h->data;
    uint64_t v;
    while (read(w->efd, &v, sizeof v) > 0) {
    }
    /* Cleared before the drain: work pushed from here on wakes us again.
     * The fence keeps the queue's loads in the drain after the clear (a
     * seq_cst store alone does not order later acquire loads everywhere). */
    atomic_store(&w->pending, false);
    atomic_thread_fence(memory_order_seq_cst);
    w->fn(w->ud);
}

int lec_wake_attach(lec_wake *w, uv_loop_t *loop, void (*fn)(void *ud), void *ud)
{
    w->fn = fn;
    w->ud = ud;
    if (uv_poll_init(loop, &w->poll, w->efd))
        return LEC_ERR_IO;
    w->has_poll = true;
    w->poll.data = w;
    uv_poll_start(&w->poll, UV_READABLE, on_readable);
    return 0;
}

static void write_one(lec_wake *w)
{
    uint64_t one = 1;
    /* EAGAIN: the counter is full, so a wake is pending anyway. */
    while (write(w->efd, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

void lec_wake_signal(lec_wake *w)
{
    if (!atomic_exchange(&w->pending, true))
        write_one(w);
}

void lec_wake_again(lec_wake *w)
{
    atomic_store(&w->pending, true);
    write_one(w);
}

static void on_closed(uv_handle_t *h)
{
    lec_wake *w = h->data;
    if (w->detached)
        w->detached(w);
}

void lec_wake_detach(lec_wake *w, void (*done)(lec_wake *w))
{
    if (!w->has_poll) {
        if (done)
            done(w);
        return;
    }
    w->has_poll = false;
    w->detached = done;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, on_closed);
}

void lec_wake_free(lec_wake *w)
{
    if (w->efd >= 0)
        close(w->efd);
    w->efd = -1;
}
