/* Viewer location (geo.h). */
#include "geo/geo.h"

#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

typedef struct block {
    lec_cidr cidr;
    char *region; /* our copy */
} block;

struct lec_geo {
    MMDB_s mmdb;
    bool has_mmdb;
    block *cidr;
    size_t ncidr;
};

lec_geo *lec_geo_open(const lec_geo_cfg *cfg, const char **why)
{
    lec_geo *g = calloc(1, sizeof *g);
    if (!g) {
        *why = "out of memory";
        return NULL;
    }
    if (cfg->mmdb) {
        int rc = MMDB_open(cfg->mmdb, MMDB_MODE_MMAP, &g->mmdb);
        if (rc != MMDB_SUCCESS) {
            *why = MMDB_strerror(rc);
            free(g);
            return NULL;
        }
        g->has_mmdb = true;
    }
    g->ncidr = cfg->nblocks;
    if (g->ncidr) {
        g->cidr = calloc(g->ncidr, sizeof *g->cidr);
        if (!g->cidr) {
            lec_geo_close(g);
            *why = "out of memory";
            return NULL;
        }
        for (size_t i = 0; i < g->ncidr; i++) {
            g->cidr[i].cidr = cfg->blocks[i].cidr;
            g->cidr[i].region = strdup(cfg->blocks[i].region);
        }
    }
    return g;
}

void lec_geo_close(lec_geo *g)
{
    if (!g)
        return;
    if (g->has_mmdb)
        MMDB_close(&g->mmdb);
    for (size_t i = 0; i < g->ncidr; i++)
        free(g->cidr[i].region);
    free(g->cidr);
    free(g);
}

void lec_geo_lookup(const lec_geo *g, const lec_ip *ip, lec_geo_result *out)
{
    memset(out, 0, sizeof *out);
    if (!g || !ip->family)
        return;
    /* The most specific configured block wins. */
    int best = -1;
    for (size_t i = 0; i < g->ncidr; i++)
        if (lec_cidr_contains(&g->cidr[i].cidr, ip) &&
            (best < 0 || g->cidr[i].cidr.prefix > g->cidr[best].cidr.prefix))
            best = (int)i;
    if (best >= 0) {
        snprintf(out->region, sizeof out->region, "%s", g->cidr[best].region);
        snprintf(out->source, sizeof out->source, "cidr");
        return;
    }
    if (!g->has_mmdb)
        return;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (ip->family == 4) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, ip->bytes, 4);
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, ip->bytes, 16);
    }
    int err = 0;
    MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&g->mmdb, (struct sockaddr *)&ss, &err);
    if (err != MMDB_SUCCESS || !r.found_entry)
        return;
    MMDB_entry_data_s lat, lon;
    if (MMDB_get_value(&r.entry, &lat, "location", "latitude", NULL) == MMDB_SUCCESS &&
        lat.has_data && lat.type == MMDB_DATA_TYPE_DOUBLE &&
        MMDB_get_value(&r.entry, &lon, "location", "longitude", NULL) == MMDB_SUCCESS &&
        lon.has_data && lon.type == MMDB_DATA_TYPE_DOUBLE) {
        out->located = true;
        out->lat = lat.double_value;
        out->lon = lon.double_value;
        snprintf(out->source, sizeof out->source, "mmdb");
    }
}
