/*
 * GLib on libuv (glib_loop.h), the pattern of TOOLCHAIN.md:
 *   prepare: g_main_context_prepare + query: the fds and the timeout; one
 *            uv_poll per distinct fd (libuv allows one per fd), a uv_timer
 *            for GLib's timeout (0 when prepare said a source is ready);
 *   poll callback: remember what happened on the fd;
 *   check:   copy revents into GLib's poll records, check, dispatch.
 * The prepare handle stays referenced so uv_run never returns early.
 */
#include "ice/glib_loop.h"

#include <glib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct fd_watch {
    uv_poll_t poll;
    int fd;
    int events;  /* uv events asked */
    int revents; /* uv events seen since the last check */
    bool listed; /* GLib still wants this fd */
    bool closing;
    struct fd_watch *next;
    struct lec_glib_loop *owner;
} fd_watch;

struct lec_glib_loop {
    uv_loop_t *loop;
    GMainContext *ctx;
    uv_prepare_t prepare;
    uv_check_t check;
    uv_timer_t timer;
    GPollFD *fds;
    gint nfds, capfds;
    gint max_priority;
    fd_watch *watches;
    int live_handles;
    bool closing;
};

static void on_poll(uv_poll_t *p, int status, int events)
{
    fd_watch *w = p->data;
    w->revents |= status < 0 ? UV_DISCONNECT : events;
}

static void on_timer(uv_timer_t *t)
{
    (void)t; /* waking the loop is enough: check runs after timers */
}

/* Every uv handle counts in live_handles from init to its close callback;
 * the last close after lec_glib_loop_close frees everything. */
static void handle_gone(lec_glib_loop *g)
{
    if (--g->live_handles == 0 && g->closing) {
        g_main_context_release(g->ctx);
        g_main_context_unref(g->ctx);
        free(g->fds);
        free(g);
    }
}

static void watch_closed(uv_handle_t *h)
{
    fd_watch *w = h->data;
    lec_glib_loop *g = w->owner;
    free(w);
    handle_gone(g);
}

static void handle_closed(uv_handle_t *h)
{
    handle_gone(h->data);
}

static int to_uv(gushort ev)
{
    int e = 0;
    if (ev & (G_IO_IN | G_IO_PRI | G_IO_HUP | G_IO_ERR))
        e |= UV_READABLE;
    if (ev & G_IO_OUT)
        e |= UV_WRITABLE;
    return e;
}

static void sync_watches(lec_glib_loop *g)
{
    for (fd_watch *w = g->watches; w; w = w->next)
        w->listed = false;
    for (gint i = 0; i < g->nfds; i++) {
        fd_watch *w = g->watches;
        while (w && w->fd != g->fds[i].fd)
            w = w->next;
        if (!w) {
            w = calloc(1, sizeof *w);
            if (!w || uv_poll_init(g->loop, &w->poll, g->fds[i].fd)) {
                free(w);
                continue;
            }
            g->live_handles++;
            w->fd = g->fds[i].fd;
            w->owner = g;
            w->poll.data = w;
            w->next = g->watches;
            g->watches = w;
        }
        w->listed = true;
    }
    /* Merge what GLib asks for each fd (several records may share one). */
    for (fd_watch *w = g->watches; w; w = w->next) {
        int want = 0;
        for (gint i = 0; i < g->nfds; i++)
            if (g->fds[i].fd == w->fd)
                want |= to_uv(g->fds[i].events);
        if (w->listed && want != w->events) {
            w->events = want;
            uv_poll_start(&w->poll, want, on_poll);
        }
    }
    /* Close polls for fds GLib no longer lists. */
    for (fd_watch **pp = &g->watches; *pp;) {
        fd_watch *w = *pp;
        if (w->listed) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        uv_poll_stop(&w->poll);
        uv_close((uv_handle_t *)&w->poll, watch_closed);
    }
}

static void on_prepare(uv_prepare_t *p)
{
    lec_glib_loop *g = p->data;
    gboolean ready = g_main_context_prepare(g->ctx, &g->max_priority);
    gint timeout;
    for (;;) {
        gint n = g_main_context_query(g->ctx, g->max_priority, &timeout, g->fds, g->capfds);
        if (n <= g->capfds) {
            g->nfds = n;
            break;
        }
        GPollFD *nf = realloc(g->fds, (size_t)n * sizeof *nf);
        if (!nf) {
            g->nfds = 0;
            break;
        }
        g->fds = nf;
        g->capfds = n;
    }
    sync_watches(g);
    if (ready)
        timeout = 0;
    if (timeout >= 0)
        uv_timer_start(&g->timer, on_timer, (uint64_t)timeout, 0);
    else
        uv_timer_stop(&g->timer);
}

static void on_check(uv_check_t *c)
{
    lec_glib_loop *g = c->data;
    for (gint i = 0; i < g->nfds; i++) {
        g->fds[i].revents = 0;
        for (fd_watch *w = g->watches; w; w = w->next) {
            if (w->fd != g->fds[i].fd)
                continue;
            if (w->revents & UV_READABLE)
                g->fds[i].revents |= G_IO_IN;
            if (w->revents & UV_WRITABLE)
                g->fds[i].revents |= G_IO_OUT;
            if (w->revents & UV_DISCONNECT)
                g->fds[i].revents |= G_IO_HUP;
            g->fds[i].revents &= (gushort)(g->fds[i].events | G_IO_HUP | G_IO_ERR);
        }
    }
    for (fd_watch *w = g->watches; w; w = w->next)
        w->revents = 0;
    if (g_main_context_check(g->ctx, g->max_priority, g->fds, g->nfds))
        g_main_context_dispatch(g->ctx);
}

lec_glib_loop *lec_glib_loop_new(uv_loop_t *loop)
{
    lec_glib_loop *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->loop = loop;
    g->ctx = g_main_context_new();
    if (!g->ctx || !g_main_context_acquire(g->ctx)) {
        if (g->ctx)
            g_main_context_unref(g->ctx);
        free(g);
        return NULL;
    }
    g->live_handles = 3;
    uv_prepare_init(loop, &g->prepare);
    uv_check_init(loop, &g->check);
    uv_timer_init(loop, &g->timer);
    g->prepare.data = g->check.data = g->timer.data = g;
    uv_prepare_start(&g->prepare, on_prepare);
    uv_check_start(&g->check, on_check);
    return g;
}

void *lec_glib_loop_context(lec_glib_loop *g)
{
    return g->ctx;
}

void lec_glib_loop_close(lec_glib_loop *g)
{
    if (!g || g->closing)
        return;
    g->closing = true;
    for (fd_watch *w = g->watches; w;) {
        fd_watch *next = w->next;
        uv_poll_stop(&w->poll);
        uv_close((uv_handle_t *)&w->poll, watch_closed);
        w = next;
    }
    g->watches = NULL;
    uv_close((uv_handle_t *)&g->prepare, handle_closed);
    uv_close((uv_handle_t *)&g->check, handle_closed);
    uv_close((uv_handle_t *)&g->timer, handle_closed);
}
