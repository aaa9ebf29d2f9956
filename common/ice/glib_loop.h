/*
 * A GLib main context driven from a libuv loop on the same thread
 * (TOOLCHAIN.md): libnice agents attach their sockets and timers to the
 * context; the uv loop polls them.  Each worker has one.  No GLib type in
 * this header.
 */
#ifndef LEC_ICE_GLIB_LOOP_H
#define LEC_ICE_GLIB_LOOP_H

#include <uv.h>

typedef struct lec_glib_loop lec_glib_loop;

/* Creates a context, acquires it for the calling thread (the loop's) and
 * starts driving it.  NULL on failure. */
lec_glib_loop *lec_glib_loop_new(uv_loop_t *loop);
/* Stops driving and frees once the uv handles are closed; call on the
 * loop's thread after every agent on the context is gone. */
void lec_glib_loop_close(lec_glib_loop *g);
/* Drops the poll of every fd that was closed since the last turn.  Call
 * before making sockets on the context (a new agent): a new socket may
 * take a closed one's fd number, and a poll kept for that number is
 * registered for the closed socket, not the new one (the kernel dropped
 * the closed socket from epoll; libuv, seeing the same fd and events, does
 * not register it again), so the new socket would never be read. */
void lec_glib_loop_forget_closed(lec_glib_loop *g);
/* The GMainContext, as void * (callers that include glib.h cast it). */
void *lec_glib_loop_context(lec_glib_loop *g);

#endif
