/* Internal to common/config: the arena, the schema and the parse context. */
#ifndef LEC_CONFIG_INTERNAL_H
#define LEC_CONFIG_INTERNAL_H

#include "config/config.h"

#include <yaml.h>

/* All of a config's memory, freed at once. */
typedef struct lec_config_arena lec_config_arena;
void *lec__arena_alloc(lec_config *cfg, size_t size);
char *lec__arena_strdup(lec_config *cfg, const char *s);

typedef enum lec_ftype {
    F_SECTION,  /* a mapping of `sub` fields */
    F_STR,      /* any string; "" stores NULL */
    F_ID,       /* [A-Za-z0-9_-]{1,64}: node ids, regions (they go in NATS subjects) */
    F_URL,      /* http(s)://host[:port][/path], trailing slash removed */
    F_NATSURLS, /* list of nats://, tls://, ws:// URLs */
    F_ROLE,
    F_LOCATION, /* {lat, lon} */
    F_U32,      /* integer in [min, max] */
    F_BOOL,     /* true or false */
    F_WORKERS,  /* "auto" or 1..256 */
    F_ADDR,     /* host:port */
    F_IP,
    F_PORTRANGE,
    F_DURATION,
    F_STRLIST,
    F_IDLIST,
    F_IPLIST,
    F_CIDRLIST,
    F_LEVEL,
    F_FORMAT,
    F_REGIONS,
    F_CIDRMAP,
    F_ENUM, /* one of `choices`, stored as its uint32_t index */
} lec_ftype;

#define LEC_F_REQUIRED 1u /* must be present when its section is */
#define LEC_F_RESTART  2u /* a change needs a restart (SIGHUP cannot apply it) */

typedef struct lec_field {
    const char *name;
    lec_ftype type;
    unsigned flags;
    size_t off;                  /* offsetof(lec_config, ...) */
    const struct lec_field *sub; /* F_SECTION only; ends with name NULL */
    uint64_t min, max;           /* F_U32, F_DURATION (ns) */
    const char *const *choices;  /* F_ENUM: the names, NULL-terminated */
} lec_field;

extern const lec_field lec__config_schema[];

/* Where each key was seen, for errors found after the walk. */
typedef struct lec_keyline {
    char key[192];
    int line;
} lec_keyline;

typedef struct lec_parse {
    const char *file;
    yaml_document_t *doc;
    lec_config *cfg;
    lec_sbuf *errs;
    int nerr;
    bool oom;
    lec_keyline *lines;
    size_t nlines, caplines;
} lec_parse;

void lec__config_error(lec_parse *p, int line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The line where `key` appeared, or 0. */
int lec__config_line(const lec_parse *p, const char *key);
/* Walks the root mapping against the schema, filling p->cfg. */
void lec__config_walk(lec_parse *p, yaml_node_t *root);

/* Emits each key of `cfg` in schema order with its value as text. */
typedef void (*lec_dump_fn)(void *ud, const char *key, const char *value, unsigned flags);
void lec__config_dump_walk(const lec_config *cfg, lec_dump_fn fn, void *ud);

#endif
