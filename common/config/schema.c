/*
 * The config schema (DESIGN.md section 9) and the walk that applies it to a
 * libyaml document.  Adding a key means one line in a table below; its
 * parsing, error messages, dump and reload behaviour follow from its type.
 */
#include "config/config_internal.h"
#include "base/url.h"
#include "base/err.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OFF(m) offsetof(lec_config, m)
#define REQ    LEC_F_REQUIRED
#define RST    LEC_F_RESTART
#define KEYLEN 192 /* a dotted key path; longer ones are cut in messages */

static const lec_field node_fields[] = {
    {"id", F_ID, REQ | RST, OFF(node.id), NULL, 0, 0, NULL},
    {"role", F_ROLE, RST, OFF(node.role), NULL, 0, 0, NULL},
    {"region", F_ID, REQ | RST, OFF(node.region), NULL, 0, 0, NULL},
    {"location", F_LOCATION, 0, OFF(node.location), NULL, 0, 0, NULL},
    {"drain_timeout", F_DURATION, 0, OFF(node.drain_timeout), NULL, 0, 3600 * LEC_S, NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, NULL},
};

static const lec_field http_fields[] = {
    {"listen", F_ADDR, RST, OFF(http.listen), NULL, 0, 0, NULL},
    {"public_url", F_URL, 0, OFF(http.public_url), NULL, 0, 0, NULL},
    {"cors_origins", F_STRLIST, 0, OFF(http.cors_origins), NULL, 0, 0, NULL},
    {"trusted_proxies", F_CIDRLIST, 0, OFF(http.trusted_proxies), NULL, 0, 0, NULL},
    {"max_header_bytes", F_U32, 0, OFF(http.max_header_bytes), NULL, 1024, 1u << 20, NULL},
    {"max_body_bytes", F_U32, 0, OFF(http.max_body_bytes), NULL, 1024, 16u << 20, NULL},
    {"max_connections", F_U32, 0, OFF(http.max_connections), NULL, 1, 1000000, NULL},
    {"max_connections_per_address", F_U32, 0, OFF(http.max_connections_per_address), NULL, 1,
     1000000, NULL},
    {"request_timeout", F_DURATION, 0, OFF(http.request_timeout), NULL, 100 * LEC_MS, 600 * LEC_S, NULL},
    {"idle_timeout", F_DURATION, 0, OFF(http.idle_timeout), NULL, 100 * LEC_MS, 3600 * LEC_S, NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, NULL},
};

static const lec_field ice_fields[] = {
    {"addresses", F_IPLIST, RST, OFF(ice.addresses), NULL, 0, 0, NULL},
    {"port_range", F_PORTRANGE, RST, OFF(ice.port_range), NULL, 0, 0, NULL},
    {"public_ip", F_IP, RST, OFF(ice.public_ip), NULL, 0, 0, NULL},
    {"servers", F_STRLIST, 0, OFF(ice.servers), NULL, 0, 0, NULL},
    {"server_username", F_STR, 0, OFF(ice.server_username), NULL, 0, 0, NULL},
    {"server_credential", F_STR, 0, OFF(ice.server_credential), NULL, 0, 0, NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, NULL},
};

static const lec_field relay_fields[] = {
    {"listen", F_ADDR, RST, OFF(relay.listen), NULL, 0, 0, NULL},
    {"public_addr", F_ADDR, RST, OFF(relay.public_addr), NULL, 0, 0, NULL},
    {"max_depth", F_U32, 0, OFF(relay.max_depth), NULL, 1, 16, NULL},
    {"linger", F_DURATION, 0, OFF(relay.linger), NULL, 0, 24 * 3600 * LEC_S, NULL},
    {"prewarm", F_IDLIST, 0, OFF(relay.prewarm), NULL, 0, 0, NULL},
    {"prefer", F_IDLIST, 0, OFF(relay.prefer), NULL, 0, 0, NULL},
    {"max_legs", F_U32, 0, OFF(relay.max_legs), NULL, 0, 100000, NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, NULL},
};

static const lec_field tls_fields[] = {
    {"ca", F_STR, RST, OFF(nats.tls.ca), NULL, 0, 0, NULL},
    {"cert", F_STR, RST, OFF(nats.tls.cert), NULL, 0, 0, NULL},
    {"key", F_STR, RST, OFF(nats.tls.key), NULL, 0, 0, NULL},
    {"server_name", F_STR, RST, OFF(nats.tls.server_name), NULL, 0, 0, NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, NULL},
};

static const lec_field nats_fields[] = {
    {"urls", F_NATSURLS, REQ | RST, OFF(nats.urls), NULL, 0, 0, NULL},
    {"creds", F_STR, RST, OFF(nats.creds), NULL, 0, 0, NULL},
    {"tls", F_SECTION, RST, 0, tls_fields, 0, 0, NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, NULL},
};

static const lec_field cluster_fields[] = {
    {"trust_key", F_STR, RST, OFF(cluster.trust_key), NULL, 0, 0, NULL},
    {"identity_file", F_STR, RST, OFF(cluster.identity_file), NULL, 0, 0, NULL},
    {"insecure", F_BOOL, RST, OFF(cluster.insecure), NULL, 0, 0, NULL},
    {"allowed_url_hosts", F_STRLIST, 0, OFF(cluster.allowed_url_hosts), NULL, 0, 0, NULL},
    {"allowed_relay_networks", F_CIDRLIST, 0, OFF(cluster.allowed_relay_nets), NULL, 0, 0, NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, NULL},
};

static const lec_field auth_fields[] = {
    {"publish_tokens_file", F_STR, 0, OFF(auth.publish_tokens_file), NULL, 0, 0, NULL},
    {"view_tokens_file", F_STR, 0, OFF(auth.view_tokens_file), NULL, 0, 0, NULL},
    {"admin_tokens_file", F_STR, 0, OFF(auth.admin_tokens_file), NULL, 0, 0, NULL},
    {"open_publish", F_BOOL, 0, OFF(auth.open_publish), NULL, 0, 0, NULL},
    {"private_status", F_BOOL, 0, OFF(auth.private_status), NULL, 0, 0, NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, NULL},
};

static const lec_field geo_fields[] = {
    {"mmdb", F_STR, 0, OFF(geo.mmdb), NULL, 0, 0, NULL},
    {"cidr_regions", F_CIDRMAP, 0, OFF(geo.cidr_regions), NULL, 0, 0, NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, NULL},
};

static const lec_field limits_fields[] = {
    {"max_viewers", F_U32, 0, OFF(limits.max_viewers), NULL, 1, 10000000, NULL},
    {"max_publishers", F_U32, 0, OFF(limits.max_publishers), NULL, 1, 100000, NULL},
    {"max_egress_mbps", F_U32, 0, OFF(limits.max_egress_mbps), NULL, 1, 10000000, NULL},
    {"publish_max_kbps", F_U32, RST, OFF(limits.publish_max_kbps), NULL, 0, 1000000, NULL},
    {"max_pending_per_address", F_U32, 0, OFF(limits.max_pending_per_address), NULL, 1, 1000000, NULL},
    {"connect_timeout", F_DURATION, RST, OFF(limits.connect_timeout), NULL, LEC_S, 120 * LEC_S, NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, NULL},
};

static const char *const origin_viewers[] = {"own_region", "never", "always", NULL};

static const lec_field steering_fields[] = {
    {"origin_viewers", F_ENUM, 0, OFF(steering.origin_viewers), NULL, 0, 0, origin_viewers},
    {NULL, 0, 0, 0, NULL, 0, 0, NULL},
};

static const lec_field classroom_fields[] = {
    {"quiz_lead", F_DURATION, RST, OFF(classroom.quiz_lead), NULL, 50 * LEC_MS, 10 * LEC_S, NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, NULL},
};

static const lec_field log_fields[] = {
    {"level", F_LEVEL, 0, OFF(log.level), NULL, 0, 0, NULL},
    {"format", F_FORMAT, 0, OFF(log.format), NULL, 0, 0, NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, NULL},
};

const lec_field lec__config_schema[] = {
    {"node", F_SECTION, REQ | RST, 0, node_fields, 0, 0, NULL},
    {"workers", F_WORKERS, RST, OFF(workers), NULL, 0, 0, NULL},
    {"worker_spread", F_U32, 0, OFF(worker_spread), NULL, 0, 1000000, NULL},
    {"http", F_SECTION, 0, 0, http_fields, 0, 0, NULL},
    {"ice", F_SECTION, RST, 0, ice_fields, 0, 0, NULL},
    {"relay", F_SECTION, 0, 0, relay_fields, 0, 0, NULL},
    {"nats", F_SECTION, RST, OFF(nats.enabled), nats_fields, 0, 0, NULL},
    {"auth", F_SECTION, 0, 0, auth_fields, 0, 0, NULL},
    {"cluster", F_SECTION, 0, 0, cluster_fields, 0, 0, NULL},
    {"geo", F_SECTION, 0, 0, geo_fields, 0, 0, NULL},
    {"regions", F_REGIONS, 0, OFF(regions), NULL, 0, 0, NULL},
    {"limits", F_SECTION, 0, 0, limits_fields, 0, 0, NULL},
    {"steering", F_SECTION, 0, 0, steering_fields, 0, 0, NULL},
    {"classroom", F_SECTION, 0, 0, classroom_fields, 0, 0, NULL},
    {"log", F_SECTION, 0, 0, log_fields, 0, 0, NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, NULL},
};

/* ---- helpers ---------------------------------------------------------- */

/* out = prefix + sep + name, cut to KEYLEN (keys are only for messages). */
static void join_key(char out[KEYLEN], const char *prefix, const char *sep, const char *name)
{
    lec_sbuf sb;
    lec_sbuf_init_fixed(&sb, out, KEYLEN);
    lec_sbuf_puts(&sb, prefix);
    if (*prefix)
        lec_sbuf_puts(&sb, sep);
    lec_sbuf_puts(&sb, name);
}

static void index_key(char out[KEYLEN], const char *prefix, size_t i)
{
    lec_sbuf sb;
    lec_sbuf_init_fixed(&sb, out, KEYLEN);
    lec_sbuf_printf(&sb, "%s[%zu]", prefix, i);
}

#define AT(p, T, off) ((T *)((char *)(p)->cfg + (off)))

static int line_of(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

static const char *kind_name(const yaml_node_t *n)
{
    return n->type == YAML_MAPPING_NODE    ? "a mapping"
           : n->type == YAML_SEQUENCE_NODE ? "a list"
                                           : "a value";
}

static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = (const char *)n->data.scalar.value;
    return !*s || !strcmp(s, "~") || !strcmp(s, "null");
}

/* The scalar's text, or NULL after reporting a type error. */
static const char *scalar(lec_parse *p, const yaml_node_t *n, const char *key, const char *what)
{
    if (n->type != YAML_SCALAR_NODE) {
        lec__config_error(p, line_of(n), key, "expected %s, found %s", what, kind_name(n));
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

static bool valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return false;
    return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool parse_double(const char *s, double *out)
{
    if (!*s)
        return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static char *dup(lec_parse *p, const char *s)
{
    char *d = lec__arena_strdup(p->cfg, s);
    if (!d)
        p->oom = true;
    return d;
}

static void *alloc_n(lec_parse *p, size_t n, size_t size)
{
    if (n == 0)
        return NULL;
    void *v = lec__arena_alloc(p->cfg, n * size);
    if (!v)
        p->oom = true;
    return v;
}

static void record_line(lec_parse *p, const char *key, int line)
{
    if (p->nlines == p->caplines) {
        size_t ncap = p->caplines ? p->caplines * 2 : 64;
        lec_keyline *nl = realloc(p->lines, ncap * sizeof *nl);
        if (!nl) {
            p->oom = true;
            return;
        }
        p->lines = nl;
        p->caplines = ncap;
    }
    lec_keyline *kl = &p->lines[p->nlines++];
    snprintf(kl->key, sizeof kl->key, "%s", key);
    kl->line = line;
}

int lec__config_line(const lec_parse *p, const char *key)
{
    for (size_t i = 0; i < p->nlines; i++)
        if (!strcmp(p->lines[i].key, key))
            return p->lines[i].line;
    return 0;
}

#define SEQ_LEN(n) ((size_t)((n)->data.sequence.items.top - (n)->data.sequence.items.start))

/* ---- typed values ----------------------------------------------------- */

static void parse_location(lec_parse *p, yaml_node_t *n, const char *key, lec_location *loc)
{
    if (n->type != YAML_MAPPING_NODE) {
        lec__config_error(p, line_of(n), key, "expected a mapping {lat: .., lon: ..}, found %s",
                          kind_name(n));
        return;
    }
    bool have_lat = false, have_lon = false;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
        char sub[KEYLEN];
        const char *ks = scalar(p, k, key, "a key");
        if (!ks)
            continue;
        join_key(sub, key, ".", ks);
        bool lat = !strcmp(ks, "lat");
        if (!lat && strcmp(ks, "lon")) {
            lec__config_error(p, line_of(k), sub, "unknown key (expected lat or lon)");
            continue;
        }
        if (lat ? have_lat : have_lon) {
            lec__config_error(p, line_of(k), sub, "duplicate key");
            continue;
        }
        const char *s = scalar(p, v, sub, "a number");
        double d;
        if (!s)
            continue;
        if (!parse_double(s, &d) || (lat ? fabs(d) > 90 : fabs(d) > 180)) {
            lec__config_error(p, line_of(v), sub, "expected a %s in degrees, got '%s'",
                              lat ? "latitude (-90..90)" : "longitude (-180..180)", s);
            continue;
        }
        if (lat)
            loc->lat = d, have_lat = true;
        else
            loc->lon = d, have_lon = true;
    }
    if (!have_lat || !have_lon)
        lec__config_error(p, line_of(n), key, "needs both lat and lon");
    else
        loc->set = true;
}

static void parse_regions(lec_parse *p, yaml_node_t *n, const char *key, lec_regionlist *out)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        lec__config_error(p, line_of(n), key, "expected a list of {name, lat, lon}, found %s",
                          kind_name(n));
        return;
    }
    size_t cnt = SEQ_LEN(n);
    out->v = alloc_n(p, cnt, sizeof *out->v);
    if (cnt && !out->v)
        return;
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *item = yaml_document_get_node(p->doc, n->data.sequence.items.start[i]);
        char ik[KEYLEN];
        index_key(ik, key, i);
        if (item->type != YAML_MAPPING_NODE) {
            lec__config_error(p, line_of(item), ik, "expected {name, lat, lon}, found %s",
                              kind_name(item));
            continue;
        }
        const char *name = NULL;
        int name_line = line_of(item);
        lec_location loc = {0};
        /* Reuse the location parser for lat/lon; pick out name first. */
        yaml_node_pair_t *pairs = item->data.mapping.pairs.start;
        size_t np = (size_t)(item->data.mapping.pairs.top - pairs);
        bool have_lat = false, have_lon = false;
        for (size_t j = 0; j < np; j++) {
            yaml_node_t *k = yaml_document_get_node(p->doc, pairs[j].key);
            yaml_node_t *v = yaml_document_get_node(p->doc, pairs[j].value);
            const char *ks = scalar(p, k, ik, "a key");
            char sub[KEYLEN];
            if (!ks)
                continue;
            join_key(sub, ik, ".", ks);
            if (!strcmp(ks, "name")) {
                const char *s = scalar(p, v, sub, "a region name");
                if (s && !valid_id(s))
                    lec__config_error(p, line_of(v), sub,
                                      "'%s' is not a valid name (1-64 of A-Z a-z 0-9 _ -)", s);
                else if (s)
                    name = s, name_line = line_of(v);
            } else if (!strcmp(ks, "lat") || !strcmp(ks, "lon")) {
                bool lat = ks[1] == 'a';
                const char *s = scalar(p, v, sub, "a number");
                double d;
                if (s && parse_double(s, &d) && fabs(d) <= (lat ? 90 : 180)) {
                    *(lat ? &loc.lat : &loc.lon) = d;
                    *(lat ? &have_lat : &have_lon) = true;
                } else if (s) {
                    lec__config_error(p, line_of(v), sub, "expected degrees in %s, got '%s'",
                                      lat ? "-90..90" : "-180..180", s);
                }
            } else {
                lec__config_error(p, line_of(k), sub, "unknown key (expected name, lat, lon)");
            }
        }
        if (!name || !have_lat || !have_lon) {
            lec__config_error(p, line_of(item), ik, "needs name, lat and lon");
            continue;
        }
        bool dup_found = false;
        for (size_t j = 0; j < out->n; j++) {
            if (!strcmp(out->v[j].name, name)) {
                char sub[KEYLEN];
                join_key(sub, ik, ".", "name");
                lec__config_error(p, name_line, sub, "duplicate region '%s'", name);
                dup_found = true;
            }
        }
        if (dup_found)
            continue;
        lec_region_cfg *r = &out->v[out->n++];
        r->name = dup(p, name);
        r->lat = loc.lat;
        r->lon = loc.lon;
    }
}

static void parse_cidrmap(lec_parse *p, yaml_node_t *n, const char *key, lec_cidrmap *out)
{
    if (n->type != YAML_MAPPING_NODE) {
        lec__config_error(p, line_of(n), key, "expected a mapping of CIDR to region, found %s",
                          kind_name(n));
        return;
    }
    size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    out->v = alloc_n(p, cnt, sizeof *out->v);
    if (cnt && !out->v)
        return;
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_pair_t *pr = &n->data.mapping.pairs.start[i];
        yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
        const char *ks = scalar(p, k, key, "a CIDR block");
        if (!ks)
            continue;
        char sub[KEYLEN];
        join_key(sub, key, ".", ks);
        lec_cidr c;
        if (lec_cidr_parse(ks, &c)) {
            lec__config_error(p, line_of(k), sub, "'%s' is not a CIDR block (e.g. 203.0.113.0/24)",
                              ks);
            continue;
        }
        const char *vs = scalar(p, v, sub, "a region name");
        if (!vs)
            continue;
        if (!valid_id(vs)) {
            lec__config_error(p, line_of(v), sub, "'%s' is not a valid region name", vs);
            continue;
        }
        record_line(p, sub, line_of(v));
        out->v[out->n].cidr = c;
        out->v[out->n++].region = dup(p, vs);
    }
}

/* A list of scalars, each checked and stored by `item`. */
typedef bool (*item_fn)(lec_parse *p, const char *s, void *slot);

static bool item_str(lec_parse *p, const char *s, void *slot)
{
    *(char **)slot = dup(p, s);
    return true;
}
static bool item_id(lec_parse *p, const char *s, void *slot)
{
    return valid_id(s) && item_str(p, s, slot);
}
static bool item_natsurl(lec_parse *p, const char *s, void *slot)
{
    bool ok = (!strncmp(s, "nats://", 7) && s[7]) || (!strncmp(s, "tls://", 6) && s[6]) ||
              (!strncmp(s, "ws://", 5) && s[5]) || (!strncmp(s, "wss://", 6) && s[6]);
    return ok && !strpbrk(s, " \t") && item_str(p, s, slot);
}
static bool item_ip(lec_parse *p, const char *s, void *slot)
{
    (void)p;
    return lec_ip_parse(s, slot) == 0;
}
static bool item_cidr(lec_parse *p, const char *s, void *slot)
{
    (void)p;
    return lec_cidr_parse(s, slot) == 0;
}

static void parse_list(lec_parse *p, yaml_node_t *n, const char *key, void *listp, size_t isize,
                       item_fn fn, const char *what)
{
    /* Every list type is {T *v; size_t n;}. */
    struct {
        void *v;
        size_t n;
    } *list = listp;
    if (n->type != YAML_SEQUENCE_NODE) {
        lec__config_error(p, line_of(n), key, "expected a list of %s, found %s", what,
                          kind_name(n));
        return;
    }
    size_t cnt = SEQ_LEN(n);
    list->v = alloc_n(p, cnt, isize);
    list->n = 0;
    if (cnt && !list->v)
        return;
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *item = yaml_document_get_node(p->doc, n->data.sequence.items.start[i]);
        char ik[KEYLEN];
        index_key(ik, key, i);
        const char *s = scalar(p, item, ik, what);
        if (!s)
            continue;
        if (!fn(p, s, (char *)list->v + list->n * isize)) {
            lec__config_error(p, line_of(item), ik, "'%s' is not %s", s, what);
            continue;
        }
        list->n++;
    }
}

static void parse_value(lec_parse *p, const lec_field *f, yaml_node_t *n, const char *key);

static void walk_mapping(lec_parse *p, yaml_node_t *map, const lec_field *fields,
                         const char *prefix)
{
    bool seen[32] = {false};
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
        char key[KEYLEN];
        if (k->type != YAML_SCALAR_NODE) {
            lec__config_error(p, line_of(k), *prefix ? prefix : "(root)",
                              "keys must be plain words, found %s", kind_name(k));
            continue;
        }
        const char *ks = (const char *)k->data.scalar.value;
        join_key(key, prefix, ".", ks);
        const lec_field *f = fields;
        while (f->name && strcmp(f->name, ks))
            f++;
        if (!f->name) {
            lec__config_error(p, line_of(k), key, "unknown key");
            continue;
        }
        if (seen[f - fields]) {
            lec__config_error(p, line_of(k), key, "duplicate key (first at line %d)",
                              lec__config_line(p, key));
            continue;
        }
        seen[f - fields] = true;
        record_line(p, key, line_of(k));
        parse_value(p, f, v, key);
    }
    for (const lec_field *f = fields; f->name; f++) {
        if ((f->flags & LEC_F_REQUIRED) && !seen[f - fields]) {
            char key[KEYLEN];
            join_key(key, prefix, ".", f->name);
            lec__config_error(p, line_of(map), key, "required key is missing");
        }
    }
}

static void parse_scalar_value(lec_parse *p, const lec_field *f, yaml_node_t *n, const char *key)
{
    const char *s = scalar(p, n, key, "a single value");
    if (!s)
        return;
    int line = line_of(n);
    uint64_t u;
    switch (f->type) {
    case F_STR:
        *AT(p, char *, f->off) = *s ? dup(p, s) : NULL;
        break;
    case F_ID:
        if (!valid_id(s))
            lec__config_error(p, line, key, "'%s' is not a valid name (1-64 of A-Z a-z 0-9 _ -)",
                              s);
        else
            *AT(p, char *, f->off) = dup(p, s);
        break;
    case F_URL: {
        size_t len = strlen(s);
        const char *host = !strncasecmp(s, "http://", 7)    ? s + 7
                           : !strncasecmp(s, "https://", 8) ? s + 8
                                                            : NULL;
        lec_url url;
        const char *why = "";
        if (!host || len > 512 || lec_url_parse(s, &url, &why)) {
            lec__config_error(p, line, key,
                              "'%s' is not an absolute http:// or https:// URL (%s): "
                              "scheme://host[:port][/path]",
                              s, host ? why : "not http:// or https://");
            break;
        }
        char *d = dup(p, s);
        while (d && len > 0 && d[len - 1] == '/' && &d[len - 1] > d + (host - s))
            d[--len] = '\0';
        *AT(p, char *, f->off) = d;
        break;
    }
    case F_ROLE:
        if (!strcmp(s, "origin"))
            *AT(p, lec_role, f->off) = LEC_ROLE_ORIGIN;
        else if (!strcmp(s, "edge"))
            *AT(p, lec_role, f->off) = LEC_ROLE_EDGE;
        else
            lec__config_error(p, line, key, "expected origin or edge, got '%s'", s);
        break;
    case F_U32:
        if (!parse_u64(s, &u) || u < f->min || u > f->max)
            lec__config_error(p, line, key, "expected an integer in %llu..%llu, got '%s'",
                              (unsigned long long)f->min, (unsigned long long)f->max, s);
        else
            *AT(p, uint32_t, f->off) = (uint32_t)u;
        break;
    case F_BOOL:
        if (!strcmp(s, "true"))
            *AT(p, bool, f->off) = true;
        else if (!strcmp(s, "false"))
            *AT(p, bool, f->off) = false;
        else
            lec__config_error(p, line, key, "expected true or false, got '%s'", s);
        break;
    case F_WORKERS:
        if (!strcmp(s, "auto"))
            *AT(p, uint32_t, f->off) = 0;
        else if (parse_u64(s, &u) && u >= 1 && u <= 256)
            *AT(p, uint32_t, f->off) = (uint32_t)u;
        else
            lec__config_error(p, line, key, "expected auto or an integer in 1..256, got '%s'", s);
        break;
    case F_ADDR:
        if (lec_addr_parse(s, AT(p, lec_addr, f->off)))
            lec__config_error(p, line, key,
                              "'%s' is not an address with port (e.g. 0.0.0.0:8080, [::]:8080)", s);
        break;
    case F_IP:
        if (lec_ip_parse(s, AT(p, lec_ip, f->off)))
            lec__config_error(p, line, key, "'%s' is not an IP address", s);
        break;
    case F_PORTRANGE: {
        unsigned a, b;
        int used = 0;
        if (sscanf(s, "%5u-%5u%n", &a, &b, &used) != 2 || s[used] || a == 0 || b > 65535) {
            lec__config_error(p, line, key, "expected a port range like 20000-29999, got '%s'", s);
        } else if (a > b) {
            lec__config_error(p, line, key, "port range is inverted (%u > %u)", a, b);
        } else {
            AT(p, lec_port_range, f->off)->min = (uint16_t)a;
            AT(p, lec_port_range, f->off)->max = (uint16_t)b;
        }
        break;
    }
    case F_DURATION: {
        lec_tstamp d;
        if (lec_duration_parse(s, &d) || d < f->min || d > f->max)
            lec__config_error(p, line, key,
                              "expected a duration (e.g. 500ms, 30s, 5m) in %.3gs..%.6gs, got '%s'",
                              (double)f->min / 1e9, (double)f->max / 1e9, s);
        else
            *AT(p, lec_tstamp, f->off) = d;
        break;
    }
    case F_LEVEL:
        if (lec_log_level_parse(s, AT(p, lec_log_level, f->off)))
            lec__config_error(p, line, key, "expected debug, info, warn or error, got '%s'", s);
        break;
    case F_FORMAT:
        if (lec_log_format_parse(s, AT(p, lec_log_format, f->off)))
            lec__config_error(p, line, key, "expected text or json, got '%s'", s);
        break;
    case F_ENUM: {
        uint32_t k = 0;
        while (f->choices[k] && strcmp(f->choices[k], s))
            k++;
        if (f->choices[k]) {
            *AT(p, uint32_t, f->off) = k;
            break;
        }
        char list[160];
        lec_sbuf sb;
        lec_sbuf_init_fixed(&sb, list, sizeof list);
        for (k = 0; f->choices[k]; k++)
            lec_sbuf_printf(&sb, "%s%s", k ? (f->choices[k + 1] ? ", " : " or ") : "", f->choices[k]);
        lec__config_error(p, line, key, "expected %s, got '%s'", list, s);
        break;
    }
    default:
        lec__config_error(p, line, key, "internal: unhandled type");
        break;
    }
}

static void parse_value(lec_parse *p, const lec_field *f, yaml_node_t *n, const char *key)
{
    switch (f->type) {
    case F_SECTION:
        if (f->off) /* a presence flag (nats.enabled) */
            *AT(p, bool, f->off) = true;
        if (is_null(n)) { /* "nats:" alone: an empty section */
            yaml_node_t empty = {.type = YAML_MAPPING_NODE, .start_mark = n->start_mark};
            walk_mapping(p, &empty, f->sub, key);
        } else if (n->type != YAML_MAPPING_NODE) {
            lec__config_error(p, line_of(n), key, "expected a mapping, found %s", kind_name(n));
        } else {
            walk_mapping(p, n, f->sub, key);
        }
        break;
    case F_LOCATION:
        parse_location(p, n, key, AT(p, lec_location, f->off));
        break;
    case F_REGIONS:
        parse_regions(p, n, key, AT(p, lec_regionlist, f->off));
        break;
    case F_CIDRMAP:
        parse_cidrmap(p, n, key, AT(p, lec_cidrmap, f->off));
        break;
    case F_STRLIST:
        parse_list(p, n, key, AT(p, void, f->off), sizeof(char *), item_str, "strings");
        break;
    case F_IDLIST:
        parse_list(p, n, key, AT(p, void, f->off), sizeof(char *), item_id,
                   "a valid name (1-64 of A-Z a-z 0-9 _ -)");
        break;
    case F_NATSURLS:
        parse_list(p, n, key, AT(p, void, f->off), sizeof(char *), item_natsurl,
                   "a NATS URL (nats://host:port or tls://host:port)");
        break;
    case F_IPLIST:
        parse_list(p, n, key, AT(p, void, f->off), sizeof(lec_ip), item_ip, "an IP address");
        break;
    case F_CIDRLIST:
        parse_list(p, n, key, AT(p, void, f->off), sizeof(lec_cidr), item_cidr,
                   "a CIDR block (e.g. 10.0.0.0/8)");
        break;
    default:
        parse_scalar_value(p, f, n, key);
        break;
    }
}

void lec__config_walk(lec_parse *p, yaml_node_t *root)
{
    if (root->type != YAML_MAPPING_NODE) {
        lec__config_error(p, line_of(root), "(root)", "expected a mapping of sections, found %s",
                          kind_name(root));
        return;
    }
    walk_mapping(p, root, lec__config_schema, "");
}
