/*
 * Where a viewer is: the configured CIDR table first (geo.cidr_regions:
 * exact, operator-controlled), then a MaxMind database when geo.mmdb is
 * set (city coordinates), else unknown.  Lookups touch no I/O (the
 * database is memory-mapped once at open).
 */
#ifndef LEC_GEO_GEO_H
#define LEC_GEO_GEO_H

#include "base/addr.h"

#include <stddef.h>

#include <stdbool.h>

typedef struct lec_geo lec_geo;

typedef struct lec_geo_result {
    bool located; /* lat/lon known */
    double lat, lon;
    char region[65]; /* from the CIDR table, or "" */
    char source[16]; /* "cidr", "mmdb" or "" */
} lec_geo_result;

/* What a geo needs, borrowed for lec_geo_open (the node fills it from
 * geo.mmdb and geo.cidr_regions; geo knows nothing of the config). */
typedef struct lec_geo_block {
    lec_cidr cidr;
    const char *region;
} lec_geo_block;

typedef struct lec_geo_cfg {
    const char *mmdb; /* NULL: none */
    const lec_geo_block *blocks;
    size_t nblocks;
} lec_geo_cfg;

/* Opens cfg->mmdb if set (failures are logged by the caller from *why)
 * and copies the CIDR table.  NULL with *why set on failure. */
lec_geo *lec_geo_open(const lec_geo_cfg *cfg, const char **why);
void lec_geo_close(lec_geo *g);
void lec_geo_lookup(const lec_geo *g, const lec_ip *ip, lec_geo_result *out);

#endif
