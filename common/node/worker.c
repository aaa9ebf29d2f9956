/* Worker threads (worker.h). */
#define _GNU_SOURCE
#include "node/worker.h"
#include "base/err.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static void worker_main(void *arg)
{
    lec_worker *w = arg;
    /* "lectern-w3" in top -H, perf and /proc/<pid>/task/<tid>/comm. */
    char name[16];
    snprintf(name, sizeof name, "lectern-w%u", w->index);
    pthread_setname_np(pthread_self(), name);
    /* The GLib context must be acquired by the thread that runs it. */
    w->glib = lec_glib_loop_new(&w->loop);
    uv_sem_post(&w->ready);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    /* Whatever was still open: close it so the loop can be freed. */
    uv_run(&w->loop, UV_RUN_DEFAULT);
}

int lec_worker_start(lec_worker *w, unsigned index, lec_log *log)
{
    memset(w, 0, sizeof *w);
    w->index = index;
    w->log = log;
    if (uv_loop_init(&w->loop))
        return LEC_ERR_IO;
    if (lec_msgq_init(&w->q, &w->loop) || uv_sem_init(&w->ready, 0)) {
        uv_loop_close(&w->loop);
        return LEC_ERR_IO;
    }
    if (uv_thread_create(&w->thread, worker_main, w)) {
        lec_msgq_close(&w->q, NULL);
        uv_run(&w->loop, UV_RUN_DEFAULT);
        uv_loop_close(&w->loop);
        uv_sem_destroy(&w->ready);
        return LEC_ERR_IO;
    }
    uv_sem_wait(&w->ready);
    w->started = true;
    return 0;
}

int lec_worker_post(lec_worker *w, lec_msg_fn fn, void *arg)
{
    return lec_msgq_post(&w->q, fn, arg);
}

static void stop_msg(void *arg)
{
    lec_worker *w = arg;
    /* Closing the queue's and GLib's handles leaves the loop with nothing
     * to wait for (the media engine closed its sessions before). */
    lec_glib_loop_close(w->glib);
    w->glib = NULL;
    lec_msgq_close(&w->q, NULL);
}

void lec_worker_stop(lec_worker *w)
{
    if (!w->started)
        return;
    if (lec_msgq_post(&w->q, stop_msg, w) == 0)
        uv_thread_join(&w->thread);
    uv_loop_close(&w->loop);
    uv_sem_destroy(&w->ready);
    w->started = false;
}
