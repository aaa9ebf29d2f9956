/*
 * How long one steering decision takes (bench/README.md): a cluster view of
 * R regions x E nodes (the first node of every third region an origin),
 * each holding 20 streams and reporting RTTs to 8 peers, ranked for clients
 * at random places, with and without a region, under each
 * steering.origin_viewers policy in turn.
 * Bounded: a fixed number of decisions.  Pure CPU: no sockets.
 *
 *   steer-bench [regions] [edges per region] [decisions]
 */
#include "base/time.h"
#include "cluster/steer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int nreg = argc > 1 ? atoi(argv[1]) : 30, per = argc > 2 ? atoi(argv[2]) : 10;
    long decisions = argc > 3 ? atol(argv[3]) : 200000;
    if (nreg < 1 || nreg > 100 || per < 1 || per > 100 || decisions < 1 || decisions > 100000000) {
        fprintf(stderr, "usage: steer-bench [regions 1-100] [edges 1-100] [decisions]\n");
        return 2;
    }
    srand(20261127);
    lec_steer_region *regions = calloc((size_t)nreg, sizeof *regions);
    char(*names)[16] = calloc((size_t)nreg, sizeof *names);
    lec_cluster view;
    if (!regions || !names || lec_cluster_init(&view, NULL, "bench", 1, 3 * LEC_S))
        return 1;
    for (int r = 0; r < nreg; r++) {
        snprintf(names[r], sizeof names[r], "region-%d", r);
        regions[r] = (lec_steer_region){names[r], rand() % 140 - 70, rand() % 360 - 180};
    }
    lec_cluster_held held[20];
    lec_cluster_rtt rtts[8];
    uint64_t seq = 0;
    for (int r = 0; r < nreg; r++) {
        for (int e = 0; e < per; e++) {
            lec_node_info i;
            memset(&i, 0, sizeof i);
            snprintf(i.id, sizeof i.id, "edge-%d-%d", r, e);
            snprintf(i.region, sizeof i.region, "%s", names[r]);
            snprintf(i.http_url, sizeof i.http_url, "https://edge-%d-%d.example", r, e);
            /* Every third region has its origin (e == 0): steering ranks
             * origins too (steering.origin_viewers). */
            i.role = e == 0 && r % 3 == 0 ? LEC_ROLE_ORIGIN : LEC_ROLE_EDGE;
            i.lat = regions[r].lat, i.lon = regions[r].lon;
            i.max_viewers = 5000;
            i.load.viewers = (uint32_t)(rand() % 5000);
            for (int k = 0; k < 20; k++)
                snprintf(held[k].stream, sizeof held[k].stream, "class-%d", rand() % 100);
            i.streams = held, i.nstreams = 20;
            for (int k = 0; k < 8; k++) {
                snprintf(rtts[k].node_id, sizeof rtts[k].node_id, "edge-%d-%d", rand() % nreg,
                         rand() % per);
                rtts[k].rtt_us = 1000 + (uint32_t)(rand() % 200000);
            }
            i.rtts = rtts, i.nrtts = 8;
            i.boot_id = 1, i.seq = ++seq;
            if (lec_cluster_heartbeat(&view, &i, LEC_S) < 0)
                return 1;
        }
    }
    lec_steer_choice out[8];
    char stream[32];
    size_t ranked = 0;
    double t0 = now_s();
    for (long d = 0; d < decisions; d++) {
        snprintf(stream, sizeof stream, "class-%ld", d % 100);
        bool hint = d % 2;
        lec_steer_input in = {.view = &view,
                              .now = LEC_S,
                              .stream = stream,
                              .located = !hint,
                              .lat = (double)(rand() % 140 - 70),
                              .lon = (double)(rand() % 360 - 180),
                              .region = hint ? names[d % nreg] : NULL,
                              .regions = regions,
                              .nregions = (size_t)nreg,
                              .origin_viewers = (lec_origin_viewers)(d % 3)};
        ranked += lec_steer_rank(&in, out, 8);
    }
    double dt = now_s() - t0;
    printf("%d regions x %d edges = %zu nodes: %ld decisions in %.2f s: %.1f us each "
           "(%.0f decisions/s on one core; %zu ranked)\n",
           nreg, per, view.n, decisions, dt, dt / (double)decisions * 1e6, (double)decisions / dt,
           ranked);
    lec_cluster_free(&view);
    free(regions);
    free(names);
    return 0;
}
