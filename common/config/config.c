/*
 * Loading a config: read the file, parse the YAML, walk the schema
 * (schema.c), then the checks that span keys (a region that must be listed,
 * a role that must match the binary), then defaults that derive from other
 * keys.  Also the dump and the reload diff.
 */
#include "config/config_internal.h"
#include "cluster/steer.h"
#include "trust/trust.h"
#include "base/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE_BYTES (1u << 20) /* a config larger than 1 MiB is a mistake */

struct lec_config_arena {
    struct lec_config_arena *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void *lec__arena_alloc(lec_config *cfg, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    struct lec_config_arena *a = cfg->arena;
    if (!a || a->cap - a->used < size) {
        size_t cap = size > 4096 ? size : 4096;
        struct lec_config_arena *n = malloc(sizeof *n + cap);
        if (!n)
            return NULL;
        n->next = a;
        n->used = 0;
        n->cap = cap;
        cfg->arena = a = n;
    }
    void *p = a->data + a->used;
    a->used += size;
    memset(p, 0, size);
    return p;
}

char *lec__arena_strdup(lec_config *cfg, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = lec__arena_alloc(cfg, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void lec__config_error(lec_parse *p, int line, const char *key, const char *fmt, ...)
{
    p->nerr++;
    if (!p->errs)
        return;
    va_list ap;
    va_start(ap, fmt);
    lec_sbuf_printf(p->errs, "%s:%d: %s: ", p->file, line, key);
    lec_sbuf_vprintf(p->errs, fmt, ap);
    lec_sbuf_putc(p->errs, '\n');
    va_end(ap);
}

void lec_config_free(lec_config *cfg)
{
    if (!cfg)
        return;
    lec_config_free(cfg->retained);
    struct lec_config_arena *a = cfg->arena;
    while (a) {
        struct lec_config_arena *n = a->next;
        free(a);
        a = n;
    }
    free(cfg);
}

static lec_config *config_new(const char *name, lec_role role)
{
    lec_config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->path = lec__arena_strdup(c, name);
    c->node.role = role;
    c->workers = 0;
    c->worker_spread = 16;
    c->node.drain_timeout = 30 * LEC_S;
    lec_addr_parse("0.0.0.0:8080", &c->http.listen);
    c->http.max_header_bytes = 16 * 1024;
    c->http.max_body_bytes = 64 * 1024;
    c->http.max_connections = 4096;
    c->http.max_connections_per_address = 128;
    c->http.request_timeout = 10 * LEC_S;
    c->http.idle_timeout = 60 * LEC_S;
    c->ice.port_range.min = 20000;
    c->ice.port_range.max = 29999;
    lec_addr_parse("0.0.0.0:7000", &c->relay.listen);
    c->relay.max_depth = 3;
    c->relay.linger = 30 * LEC_S;
    c->relay.max_legs = 200;
    c->limits.max_viewers = 5000;
    c->limits.max_publishers = 100;
    c->limits.max_egress_mbps = 4000;
    c->limits.max_pending_per_address = 32;
    c->limits.connect_timeout = 10 * LEC_S;
    c->steering.origin_viewers = LEC_ORIGIN_VIEWERS_OWN_REGION;
    c->classroom.quiz_lead = 500 * LEC_MS;
    c->log.level = LEC_LOG_INFO;
    c->log.format = LEC_LOG_TEXT;
    char *star = lec__arena_strdup(c, "*");
    char **origins = lec__arena_alloc(c, sizeof(char *));
    if (!c->path || !star || !origins) {
        lec_config_free(c);
        return NULL;
    }
    origins[0] = star;
    c->http.cors_origins.v = origins;
    c->http.cors_origins.n = 1;
    return c;
}

static const lec_region_cfg *find_region(const lec_config *c, const char *name)
{
    for (size_t i = 0; i < c->regions.n; i++)
        if (!strcmp(c->regions.v[i].name, name))
            return &c->regions.v[i];
    return NULL;
}

/* Checks that span several keys; runs only when the walk found no error. */
static void check(lec_parse *p, lec_role role)
{
    lec_config *c = p->cfg;
    if (role != LEC_ROLE_ANY && c->node.role != role)
        lec__config_error(p, lec__config_line(p, "node.role"), "node.role",
                          "this is lectern-%s, but the file is for an %s", lec_role_name(role),
                          lec_role_name(c->node.role));
    if (c->node.role == LEC_ROLE_ANY)
        lec__config_error(p, lec__config_line(p, "node"), "node.role",
                          "required key is missing (origin or edge)");
    if (c->regions.n) {
        const lec_region_cfg *r = find_region(c, c->node.region);
        if (!r)
            lec__config_error(p, lec__config_line(p, "node.region"), "node.region",
                              "'%s' is not listed in regions", c->node.region);
        else if (!c->node.location.set)
            c->node.location = (lec_location){r->lat, r->lon, true};
        for (size_t i = 0; i < c->relay.prewarm.n; i++)
            if (!find_region(c, c->relay.prewarm.v[i]))
                lec__config_error(p, lec__config_line(p, "relay.prewarm"), "relay.prewarm",
                                  "region '%s' is not listed in regions", c->relay.prewarm.v[i]);
        for (size_t i = 0; i < c->geo.cidr_regions.n; i++) {
            if (find_region(c, c->geo.cidr_regions.v[i].region))
                continue;
            char key[128], cidr[LEC_IP_STRLEN];
            snprintf(key, sizeof key, "geo.cidr_regions.%s/%u",
                     lec_ip_format(&c->geo.cidr_regions.v[i].cidr.ip, cidr, sizeof cidr),
                     c->geo.cidr_regions.v[i].cidr.prefix);
            int line = lec__config_line(p, key);
            lec__config_error(p, line ? line : lec__config_line(p, "geo.cidr_regions"),
                              "geo.cidr_regions", "region '%s' is not listed in regions",
                              c->geo.cidr_regions.v[i].region);
        }
    } else if (c->relay.prewarm.n || c->geo.cidr_regions.n) {
        lec__config_error(p, lec__config_line(p, c->relay.prewarm.n ? "relay.prewarm" : "geo"),
                          c->relay.prewarm.n ? "relay.prewarm" : "geo.cidr_regions",
                          "names regions, but no regions are listed");
    }
    if (c->relay.public_addr.ip.family && c->relay.public_addr.port == 0)
        lec__config_error(p, lec__config_line(p, "relay.public_addr"), "relay.public_addr",
                          "needs a port other than 0");
    if (!c->nats.tls.cert != !c->nats.tls.key)
        lec__config_error(p, lec__config_line(p, "nats.tls"), "nats.tls",
                          "cert and key go together");
    for (size_t i = 0; i < c->ice.servers.n; i++) {
        const char *u = c->ice.servers.v[i];
        if ((strncmp(u, "stun:", 5) && strncmp(u, "stuns:", 6) && strncmp(u, "turn:", 5) &&
             strncmp(u, "turns:", 6)) ||
            strpbrk(u, " \t\r\n<>\"") || strlen(u) > 256)
            lec__config_error(p, lec__config_line(p, "ice.servers"), "ice.servers",
                              "'%s' is not a stun:, stuns:, turn: or turns: URI (RFC 7064/7065)", u);
    }
    const char *const quoted[2][2] = {{"ice.server_username", c->ice.server_username},
                                      {"ice.server_credential", c->ice.server_credential}};
    for (int k = 0; k < 2; k++) /* they go in quoted Link header parameters */
        if (quoted[k][1] && strpbrk(quoted[k][1], "\"\\\x01\x02\x03\x04\x05\x06\x07\x08\t\n"
                                                 "\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15"
                                                 "\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"))
            lec__config_error(p, lec__config_line(p, quoted[k][0]), quoted[k][0],
                              "may not contain quotes, backslashes or control characters");
    uint8_t key[LEC_TRUST_KEY];
    if (c->cluster.trust_key && lec_trust_hex_decode(c->cluster.trust_key, key, sizeof key))
        lec__config_error(p, lec__config_line(p, "cluster.trust_key"), "cluster.trust_key",
                          "expected the cluster's public key: 64 hex digits");
    /* Secure by default: a node on a shared bus signs and checks every
     * message (trust/trust.h) unless the config says it must not. */
    if (c->nats.enabled && !c->cluster.insecure &&
        (!c->cluster.trust_key || !c->cluster.identity_file))
        lec__config_error(p, lec__config_line(p, "nats"), "cluster",
                          "a cluster needs cluster.trust_key and cluster.identity_file "
                          "(lectern-origin --issue-identity), or cluster.insecure: true");
}

int lec_config_load_string(const char *name, const char *yaml, size_t len, lec_role role,
                           lec_config **out, lec_sbuf *errs)
{
    *out = NULL;
    lec_config *cfg = config_new(name, role);
    if (!cfg)
        return LEC_ERR_NOMEM;
    lec_parse p = {.file = name, .cfg = cfg, .errs = errs};

    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        lec_config_free(cfg);
        return LEC_ERR_NOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&parser, &doc)) {
        lec__config_error(&p, (int)parser.problem_mark.line + 1, "(yaml)", "%s%s%s",
                          parser.problem ? parser.problem : "syntax error",
                          parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        lec_config_free(cfg);
        return LEC_ERR_CONFIG;
    }
    p.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        lec__config_error(&p, 1, "(root)", "the file is empty");
    } else {
        lec__config_walk(&p, root);
        /* A second document is ignored by most tools; here it is a mistake. */
        yaml_document_t extra;
        if (yaml_parser_load(&parser, &extra)) {
            if (yaml_document_get_root_node(&extra))
                lec__config_error(&p, (int)extra.start_mark.line + 1, "(root)",
                                  "only one YAML document is allowed");
            yaml_document_delete(&extra);
        }
        if (!p.nerr && !p.oom)
            check(&p, role);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    free(p.lines);
    if (p.oom) {
        lec_config_free(cfg);
        return LEC_ERR_NOMEM;
    }
    if (p.nerr) {
        lec_config_free(cfg);
        return LEC_ERR_CONFIG;
    }
    *out = cfg;
    return 0;
}

int lec_config_load_file(const char *path, lec_role role, lec_config **out, lec_sbuf *errs)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errs)
            lec_sbuf_printf(errs, "%s: cannot open: %s\n", path, strerror(errno));
        return LEC_ERR_IO;
    }
    char *buf = malloc(MAX_FILE_BYTES + 1);
    if (!buf) {
        fclose(f);
        return LEC_ERR_NOMEM;
    }
    size_t n = fread(buf, 1, MAX_FILE_BYTES + 1, f);
    int rerr = ferror(f);
    fclose(f);
    int rc;
    if (rerr) {
        if (errs)
            lec_sbuf_printf(errs, "%s: cannot read\n", path);
        rc = LEC_ERR_IO;
    } else if (n > MAX_FILE_BYTES) {
        if (errs)
            lec_sbuf_printf(errs, "%s: larger than %u bytes; not a config file?\n", path,
                            MAX_FILE_BYTES);
        rc = LEC_ERR_CONFIG;
    } else {
        rc = lec_config_load_string(path, buf, n, role, out, errs);
    }
    free(buf);
    return rc;
}

int lec_config_default(lec_role role, lec_config **out)
{
    static const char origin_yaml[] = "node: {id: origin-local, role: origin, region: local}\n";
    static const char edge_yaml[] = "node: {id: edge-local, role: edge, region: local}\n";
    const char *y = role == LEC_ROLE_EDGE ? edge_yaml : origin_yaml;
    return lec_config_load_string("<default>", y, strlen(y), role, out, NULL);
}

/* ---- dump and diff ---------------------------------------------------- */

static void dump_value(const lec_config *c, const lec_field *f, lec_sbuf *v)
{
    const void *at = (const char *)c + f->off;
    char tmp[LEC_ADDR_STRLEN];
    switch (f->type) {
    case F_STR:
    case F_ID:
    case F_URL:
        lec_sbuf_puts(v, *(char *const *)at ? *(char *const *)at : "");
        break;
    case F_ROLE:
        lec_sbuf_puts(v, lec_role_name(*(const lec_role *)at));
        break;
    case F_LOCATION: {
        const lec_location *l = at;
        if (l->set)
            lec_sbuf_printf(v, "%g,%g", l->lat, l->lon);
        break;
    }
    case F_U32:
        lec_sbuf_printf(v, "%u", *(const uint32_t *)at);
        break;
    case F_BOOL:
        lec_sbuf_puts(v, *(const bool *)at ? "true" : "false");
        break;
    case F_ENUM:
        lec_sbuf_puts(v, f->choices[*(const uint32_t *)at]);
        break;
    case F_WORKERS:
        if (*(const uint32_t *)at)
            lec_sbuf_printf(v, "%u", *(const uint32_t *)at);
        else
            lec_sbuf_puts(v, "auto");
        break;
    case F_ADDR:
        if (((const lec_addr *)at)->ip.family)
            lec_sbuf_puts(v, lec_addr_format(at, tmp, sizeof tmp));
        break;
    case F_IP:
        if (((const lec_ip *)at)->family)
            lec_sbuf_puts(v, lec_ip_format(at, tmp, sizeof tmp));
        break;
    case F_PORTRANGE:
        lec_sbuf_printf(v, "%u-%u", ((const lec_port_range *)at)->min,
                        ((const lec_port_range *)at)->max);
        break;
    case F_DURATION:
        lec_sbuf_printf(v, "%gs", (double)*(const lec_tstamp *)at / 1e9);
        break;
    case F_LEVEL:
        lec_sbuf_puts(v, lec_log_level_name(*(const lec_log_level *)at));
        break;
    case F_FORMAT:
        lec_sbuf_puts(v, *(const lec_log_format *)at == LEC_LOG_JSON ? "json" : "text");
        break;
    case F_STRLIST:
    case F_IDLIST:
    case F_NATSURLS: {
        const lec_strlist *l = at;
        for (size_t i = 0; i < l->n; i++)
            lec_sbuf_printf(v, "%s%s", i ? "," : "", l->v[i]);
        break;
    }
    case F_IPLIST: {
        const lec_iplist *l = at;
        for (size_t i = 0; i < l->n; i++)
            lec_sbuf_printf(v, "%s%s", i ? "," : "", lec_ip_format(&l->v[i], tmp, sizeof tmp));
        break;
    }
    case F_CIDRLIST: {
        const lec_cidrlist *l = at;
        for (size_t i = 0; i < l->n; i++)
            lec_sbuf_printf(v, "%s%s/%u", i ? "," : "", lec_ip_format(&l->v[i].ip, tmp, sizeof tmp),
                            l->v[i].prefix);
        break;
    }
    case F_REGIONS: {
        const lec_regionlist *l = at;
        for (size_t i = 0; i < l->n; i++)
            lec_sbuf_printf(v, "%s%s(%g,%g)", i ? "," : "", l->v[i].name, l->v[i].lat, l->v[i].lon);
        break;
    }
    case F_CIDRMAP: {
        const lec_cidrmap *l = at;
        for (size_t i = 0; i < l->n; i++)
            lec_sbuf_printf(v, "%s%s/%u=%s", i ? "," : "",
                            lec_ip_format(&l->v[i].cidr.ip, tmp, sizeof tmp), l->v[i].cidr.prefix,
                            l->v[i].region);
        break;
    }
    case F_SECTION:
        break;
    }
}

static void dump_fields(const lec_config *c, const lec_field *fields, const char *prefix,
                        unsigned inherited, lec_dump_fn fn, void *ud)
{
    for (const lec_field *f = fields; f->name; f++) {
        char key[192];
        snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", f->name);
        if (f->type == F_SECTION) {
            dump_fields(c, f->sub, key, inherited | f->flags, fn, ud);
            continue;
        }
        char vbuf[1024];
        lec_sbuf v;
        lec_sbuf_init_fixed(&v, vbuf, sizeof vbuf);
        dump_value(c, f, &v);
        fn(ud, key, v.data, (inherited | f->flags) & LEC_F_RESTART);
    }
}

void lec__config_dump_walk(const lec_config *cfg, lec_dump_fn fn, void *ud)
{
    dump_fields(cfg, lec__config_schema, "", 0, fn, ud);
}

/* A secret is never printed: a TURN credential whole, a URL's password
 * (scheme://user:password@host). */
static void dump_line(void *ud, const char *key, const char *value, unsigned flags)
{
    (void)flags;
    size_t kl = strlen(key);
    if (kl >= 10 && !strcmp(key + kl - 10, "credential") && *value) {
        lec_sbuf_printf(ud, "%s=****\n", key);
        return;
    }
    lec_sbuf_printf(ud, "%s=", key);
    for (const char *v = value; *v;) {
        const char *scheme = strstr(v, "://");
        if (!scheme) {
            lec_sbuf_puts(ud, v);
            break;
        }
        const char *auth = scheme + 3;
        size_t alen = strcspn(auth, ", ]/");
        const char *at = memchr(auth, '@', alen);
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon) {
            lec_sbuf_printf(ud, "%.*s****", (int)(colon + 1 - v), v);
            v = at;
        } else {
            lec_sbuf_printf(ud, "%.*s", (int)(auth + alen - v), v);
            v = auth + alen;
        }
    }
    lec_sbuf_putc(ud, '\n');
}

void lec_config_dump(const lec_config *cfg, lec_sbuf *out)
{
    lec__config_dump_walk(cfg, dump_line, out);
}

typedef struct diff_entry {
    char key[192];
    char value[1024];
} diff_entry;

typedef struct diff_ctx {
    diff_entry *a;
    size_t n, i;
    int changed;
    lec_config_diff_fn fn;
    void *ud;
    bool collecting;
} diff_ctx;

static void diff_visit(void *ud, const char *key, const char *value, unsigned flags)
{
    diff_ctx *d = ud;
    if (d->collecting) {
        if (d->a) {
            snprintf(d->a[d->n].key, sizeof d->a[d->n].key, "%s", key);
            snprintf(d->a[d->n].value, sizeof d->a[d->n].value, "%s", value);
        }
        d->n++;
        return;
    }
    /* Both walks follow the same schema, so the entries line up. */
    diff_entry *e = &d->a[d->i++];
    if (strcmp(e->value, value)) {
        d->changed++;
        if (d->fn)
            d->fn(d->ud, key, flags & LEC_F_RESTART);
    }
}

int lec_config_diff(const lec_config *a, const lec_config *b, lec_config_diff_fn fn, void *ud)
{
    diff_ctx d = {.fn = fn, .ud = ud, .collecting = true};
    lec__config_dump_walk(a, diff_visit, &d); /* count */
    d.a = calloc(d.n, sizeof *d.a);
    if (!d.a)
        return LEC_ERR_NOMEM;
    d.n = 0;
    lec__config_dump_walk(a, diff_visit, &d);
    d.collecting = false;
    lec__config_dump_walk(b, diff_visit, &d);
    free(d.a);
    return d.changed;
}

static size_t field_size(lec_ftype t)
{
    switch (t) {
    case F_STR:
    case F_ID:
    case F_URL:
        return sizeof(char *);
    case F_ROLE:
        return sizeof(lec_role);
    case F_BOOL:
        return sizeof(bool);
    case F_LOCATION:
        return sizeof(lec_location);
    case F_U32:
    case F_WORKERS:
    case F_ENUM:
        return sizeof(uint32_t);
    case F_ADDR:
        return sizeof(lec_addr);
    case F_IP:
        return sizeof(lec_ip);
    case F_PORTRANGE:
        return sizeof(lec_port_range);
    case F_DURATION:
        return sizeof(lec_tstamp);
    case F_STRLIST:
    case F_IDLIST:
    case F_NATSURLS:
        return sizeof(lec_strlist);
    case F_IPLIST:
        return sizeof(lec_iplist);
    case F_CIDRLIST:
        return sizeof(lec_cidrlist);
    case F_LEVEL:
        return sizeof(lec_log_level);
    case F_FORMAT:
        return sizeof(lec_log_format);
    case F_REGIONS:
        return sizeof(lec_regionlist);
    case F_CIDRMAP:
        return sizeof(lec_cidrmap);
    case F_SECTION:
        return 0;
    }
    return 0;
}

/* Copies restart-only fields from prev to next; returns how many differed. */
static int adopt(lec_config *next, const lec_config *prev, const lec_field *fields, bool all)
{
    int differ = 0;
    for (const lec_field *f = fields; f->name; f++) {
        bool restart = all || (f->flags & LEC_F_RESTART);
        if (f->type == F_SECTION) {
            if (f->off && restart) /* presence flag */
                *((bool *)((char *)next + f->off)) = *((const bool *)((const char *)prev + f->off));
            differ += adopt(next, prev, f->sub, restart);
            continue;
        }
        if (!restart)
            continue;
        size_t n = field_size(f->type);
        if (memcmp((char *)next + f->off, (const char *)prev + f->off, n)) {
            memcpy((char *)next + f->off, (const char *)prev + f->off, n);
            differ++;
        }
    }
    return differ;
}

static void count_restart(void *ud, const char *key, bool needs_restart)
{
    (void)key;
    *(int *)ud += needs_restart;
}

bool lec_config_adopt_restart_keys(lec_config *next, lec_config *prev)
{
    int restart = 0;
    lec_config_diff(prev, next, count_restart, &restart);
    if (restart == 0)
        return true; /* equal values: next needs nothing of prev */
    /* Copy every restart-only field (pointers differ between loads even for
     * equal strings) and keep prev alive for the strings they point to. */
    adopt(next, prev, lec__config_schema, false);
    next->retained = prev;
    return false;
}
