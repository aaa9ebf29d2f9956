/*
 * GLib on libuv (glib_loop.h), the pattern of TOOLCHAIN.md:
 *   prepare: g_main_context_prepare + query: the fds and the timeout; one
 *            uv_poll per distinct fd (libuv allows one per fd), a uv_timer
 *            for GLib's timeout (0 when prepare said a source is ready);
 *   poll callback: remember what happened on the fd;
 *   check:   copy revents into GLib's poll records, check, dispatch.
 * The prepare handle stays referenced so uv_run never returns early.
 * Watches are found by fd through a table indexed by fd, so a turn costs
 * one pass over GLib's records and one over the watches (it was a scan of
 * the watches per record: the square of the sockets, every turn).
 */
#include "ice/glib_loop.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct fd_watch {
    uv_poll_t poll;
    int fd;
    int events;  /* uv events asked */
    int revents;   /* uv events seen since the last check */
    int want;      /* uv events GLib asks for this turn */
    unsigned turn; /* the last turn GLib listed this fd */
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
    fd_watch **byfd; /* watches by fd, NULL where none */
    int capfd;
    unsigned turn;
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
        free(g->byfd);
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

/* The watch for fd, made (and indexed) if there is none; NULL when out of
 * memory or libuv refuses the fd (GLib then waits on it in vain, as it
 * would on a dead fd: its timeout still runs). */
static fd_watch *watch_for(lec_glib_loop *g, int fd)
{
    if (fd < 0)
        return NULL;
    if (fd >= g->capfd) {
        int cap = g->capfd ? g->capfd : 64;
        while (cap <= fd)
            cap *= 2;
        fd_watch **t = realloc(g->byfd, (size_t)cap * sizeof *t);
        if (!t)
            return NULL;
        memset(t + g->capfd, 0, (size_t)(cap - g->capfd) * sizeof *t);
        g->byfd = t;
        g->capfd = cap;
    }
    if (g->byfd[fd])
        return g->byfd[fd];
    fd_watch *w = calloc(1, sizeof *w);
    if (!w || uv_poll_init(g->loop, &w->poll, fd)) {
        free(w);
        return NULL;
    }
    g->live_handles++;
    w->fd = fd;
    w->owner = g;
    w->poll.data = w;
    w->next = g->watches;
    g->watches = w;
    g->byfd[fd] = w;
    return w;
}

static void drop_watch(lec_glib_loop *g, fd_watch **pp)
{
    fd_watch *w = *pp;
    *pp = w->next;
    g->byfd[w->fd] = NULL;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, watch_closed);
}

static void sync_watches(lec_glib_loop *g)
{
    unsigned turn = ++g->turn;
    /* Merge what GLib asks for each fd (several records may share one). */
    for (gint i = 0; i < g->nfds; i++) {
        fd_watch *w = watch_for(g, g->fds[i].fd);
        if (!w)
            continue;
        if (w->turn != turn) {
            w->turn = turn;
            w->want = 0;
        }
        w->want |= to_uv(g->fds[i].events);
    }
    /* Start what changed; close polls for fds GLib no longer lists. */
    for (fd_watch **pp = &g->watches; *pp;) {
        fd_watch *w = *pp;
        if (w->turn == turn) {
            if (w->want != w->events) {
                w->events = w->want;
                uv_poll_start(&w->poll, w->want, on_poll);
            }
            pp = &w->next;
            continue;
        }
        drop_watch(g, pp);
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
        int fd = g->fds[i].fd;
        fd_watch *w = fd >= 0 && fd < g->capfd ? g->byfd[fd] : NULL;
        gushort rev = 0;
        if (w) {
            if (w->revents & UV_READABLE)
                rev |= G_IO_IN;
            if (w->revents & UV_WRITABLE)
                rev |= G_IO_OUT;
            if (w->revents & UV_DISCONNECT)
                rev |= G_IO_HUP;
        }
        g->fds[i].revents = rev & (gushort)(g->fds[i].events | G_IO_HUP | G_IO_ERR);
    }
    for (fd_watch *w = g->watches; w; w = w->next)
        w->revents = 0;
    if (g_main_context_check(g->ctx, g->max_priority, g->fds, g->nfds))
        g_main_context_dispatch(g->ctx);
}

void lec_glib_loop_forget_closed(lec_glib_loop *g)
{
    if (!g || g->closing)
        return;
    for (fd_watch **pp = &g->watches; *pp;) {
        if (fcntl((*pp)->fd, F_GETFD) == -1 && errno == EBADF)
            drop_watch(g, pp);
        else
            pp = &(*pp)->next;
    }
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
    if (g->byfd)
        memset(g->byfd, 0, (size_t)g->capfd * sizeof *g->byfd);
    uv_close((uv_handle_t *)&g->prepare, handle_closed);
    uv_close((uv_handle_t *)&g->check, handle_closed);
    uv_close((uv_handle_t *)&g->timer, handle_closed);
}
