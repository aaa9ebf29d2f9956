/*
 * lectern-ctl: the operators' tool.  It asks any node of a cluster over
 * its HTTP API (GET /v1/cluster: that node's view of every node, stream
 * and audience) and acts on the node concerned (its http_url from the
 * view) with an admin token:
 *
 *   nodes              every node: role, region, state, load, egress, CPU, joins
 *   streams            every live stream: audience, by region, where it is published
 *   path <stream>      the cascade: which node feeds which, viewers at each
 *   drain <node>       stop sending viewers there (POST /v1/admin/drain)
 *   undrain <node>     take viewers again (DELETE /v1/admin/drain)
 *   end <stream>       end it where it is published (DELETE /v1/streams/<stream>)
 *   cluster            the raw view as JSON
 *
 * Exit status: 0 done, 1 the cluster or a node said no (or was not
 * reached), 2 a usage error.
 */
#include "base/json.h"
#include "fetch.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ctl {
    const char *url;
    const char *token;
    int timeout;
    lec_json *view; /* GET /v1/cluster */
} ctl;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: lectern-ctl [--url URL] [--token T | --token-file F] [--timeout S] COMMAND\n"
            "\n"
            "  --url URL         any node of the cluster (default $LECTERN_URL, else\n"
            "                    http://127.0.0.1:8080)\n"
            "  --token T         an admin token (auth.admin_tokens_file; default\n"
            "                    $LECTERN_ADMIN_TOKEN), for drain, undrain and end\n"
            "  --token-file F    the token from the first line of F\n"
            "  --timeout S       seconds per request (default 10)\n"
            "\n"
            "commands:\n"
            "  nodes             every node: role, region, state, viewers, load, egress, CPU, joins\n"
            "  streams           every live stream: its audience by region and its origin\n"
            "  path STREAM       the cascade of STREAM: which node feeds which\n"
            "  drain NODE        send no new viewers to NODE (its viewers stay)\n"
            "  undrain NODE      let NODE take viewers again\n"
            "  end STREAM        end STREAM where it is published (every node's viewers end)\n"
            "  cluster           the view as JSON (GET /v1/cluster)\n");
}

/* Prints s with control bytes replaced: what a node says is not trusted
 * to be printable. */
static void put(const char *s)
{
    for (; s && *s; s++)
        putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

/* put() padded with spaces to `width` columns (and one more). */
static void col(const char *s, int width)
{
    put(s);
    int n = (int)strlen(s ? s : "");
    printf("%*s ", n < width ? width - n : 0, "");
}

static const char *str(const lec_json *v, const char *key)
{
    return lec_json_string(lec_json_get(v, key), "");
}

static double num(const lec_json *v, const char *key)
{
    return lec_json_number(lec_json_get(v, key), 0);
}

/* A request; the body parsed as JSON into *doc when doc is given.
 * Returns the HTTP status, or -1 (reported on stderr). */
static int request(ctl *c, const char *method, const char *url, const char *token, lec_json **doc,
                   char *msg, size_t msgcap)
{
    ctl_resp r;
    char err[256];
    if (ctl_fetch(method, url, token, c->timeout, &r, err, sizeof err)) {
        fprintf(stderr, "lectern-ctl: %s %s: %s\n", method, url, err);
        return -1;
    }
    int status = r.status;
    lec_json *v = NULL;
    if (r.body.len &&
        lec_json_parse(NULL, r.body.data, r.body.len, &v, err, sizeof err) && doc && status < 300) {
        fprintf(stderr, "lectern-ctl: %s %s: the answer is not JSON: %s\n", method, url, err);
        lec_sbuf_free(&r.body);
        return -1;
    }
    if (msg && msgcap)
        snprintf(msg, msgcap, "%s", v ? str(v, "error") : "");
    lec_sbuf_free(&r.body);
    if (doc)
        *doc = v;
    else
        lec_json_free(NULL, v);
    return status;
}

static int load_view(ctl *c)
{
    char url[1200];
    snprintf(url, sizeof url, "%s/v1/cluster", c->url);
    int st = request(c, "GET", url, NULL, &c->view, NULL, 0);
    if (st != 200 || !lec_json_get(c->view, "nodes")) {
        if (st > 0)
            fprintf(stderr, "lectern-ctl: GET %s answered %d\n", url, st);
        return -1;
    }
    return 0;
}

static const lec_json *find_node(const ctl *c, const char *id)
{
    const lec_json *nodes = lec_json_get(c->view, "nodes");
    for (size_t i = 0; nodes && i < nodes->len; i++)
        if (!strcmp(str(&nodes->items[i], "id"), id))
            return &nodes->items[i];
    return NULL;
}

/* The highest of a node's utilisations, as steering takes it. */
static double utilisation(const lec_json *n)
{
    const lec_json *cap = lec_json_get(n, "capacity"), *load = lec_json_get(n, "load");
    double u = 0, mv = num(cap, "max_viewers"), me = num(cap, "max_egress_bps");
    double parts[4] = {mv > 0 ? num(load, "viewers") / mv : 0,
                       me > 0 ? num(load, "egress_bps") / me : 0,
                       num(load, "cpu_permille") / 1000, num(load, "worker_cpu_permille") / 1000};
    for (int i = 0; i < 4; i++)
        if (parts[i] > u)
            u = parts[i];
    return u;
}

static int cmd_nodes(ctl *c)
{
    const lec_json *nodes = lec_json_get(c->view, "nodes");
    printf("%-24s %-6s %-16s %-9s %9s %5s %10s %5s %5s %9s %6s\n", "NODE", "ROLE", "REGION",
           "STATE", "VIEWERS", "LOAD", "EGRESS", "CPU", "WCPU", "JOIN_P95", "AGE");
    for (size_t i = 0; nodes && i < nodes->len; i++) {
        const lec_json *n = &nodes->items[i], *load = lec_json_get(n, "load");
        const lec_json *joins = lec_json_get(n, "joins");
        char id[80], viewers[32], join[16], age[16];
        snprintf(id, sizeof id, "%s%s", str(n, "id"), lec_json_true(lec_json_get(n, "self")) ? "*" : "");
        snprintf(viewers, sizeof viewers, "%.0f/%.0f", num(load, "viewers"),
                 num(lec_json_get(n, "capacity"), "max_viewers"));
        const lec_json *p95 = lec_json_get(joins, "p95_ms");
        if (p95 && p95->type == LEC_JSON_NUMBER)
            snprintf(join, sizeof join, "%.0fms", p95->number);
        else
            snprintf(join, sizeof join, "-");
        snprintf(age, sizeof age, "%.1fs", num(n, "age_ms") / 1000);
        col(id, 24);
        col(str(n, "role"), 6);
        col(str(n, "region"), 16);
        printf("%-9s %9s %4.0f%% %6.1fMb/s %4.0f%% %4.0f%% %9s %6s\n",
               lec_json_true(lec_json_get(n, "draining")) ? "draining" : "serving", viewers,
               utilisation(n) * 100, num(load, "egress_bps") / 1e6, num(load, "cpu_permille") / 10,
               num(load, "worker_cpu_permille") / 10, join, age);
    }
    printf("(* the node asked: %s)\n", c->url);
    return 0;
}

static int cmd_streams(ctl *c)
{
    const lec_json *aud = lec_json_get(c->view, "audience");
    const lec_json *streams = lec_json_get(aud, "streams");
    const lec_json *held = lec_json_get(c->view, "streams");
    printf("%-24s %8s  %-18s %s\n", "STREAM", "VIEWERS", "PUBLISHED ON", "BY REGION");
    for (size_t i = 0; streams && i < streams->len; i++) {
        const char *name = streams->keys[i];
        const lec_json *s = &streams->items[i], *regions = lec_json_get(s, "regions");
        const lec_json *holders = lec_json_get(held, name);
        const char *origin = "?";
        for (size_t k = 0; holders && k < holders->len; k++)
            if (num(&holders->items[k], "depth") == 0)
                origin = str(&holders->items[k], "node");
        col(name, 24);
        printf("%8.0f  ", num(s, "viewers"));
        col(origin, 18);
        for (size_t r = 0; regions && r < regions->len; r++) {
            printf("%s", r ? ", " : "");
            put(regions->keys[r]);
            printf(" %.0f", lec_json_number(&regions->items[r], 0));
        }
        printf("\n");
    }
    printf("%.0f viewers of %zu streams in the cluster", num(aud, "viewers"),
           streams ? streams->len : 0);
    const lec_json *regions = lec_json_get(aud, "regions");
    for (size_t r = 0; regions && r < regions->len; r++) {
        printf("%s", r ? ", " : "; by region: ");
        put(regions->keys[r]);
        printf(" %.0f", lec_json_number(&regions->items[r], 0));
    }
    printf("\n");
    return 0;
}

/* One holder of a stream and, under it, the holders it feeds. */
static void path_node(const lec_json *holders, const lec_json *h, int depth, const char *indent)
{
    put(indent);
    printf("%s", depth ? "+- " : "");
    put(str(h, "node"));
    printf(" (");
    put(str(h, "region"));
    printf(") %s%.0f viewer%s\n", depth ? "" : "published here, ", num(h, "viewers"),
           num(h, "viewers") == 1 ? "" : "s");
    if (depth >= 16)
        return; /* relay.max_depth is at most 16: a loop in what a node says */
    char deeper[128];
    snprintf(deeper, sizeof deeper, "%s%s", indent, depth ? "   " : "");
    for (size_t k = 0; k < holders->len; k++) {
        const lec_json *child = &holders->items[k];
        if (child != h && !strcmp(str(child, "source"), str(h, "node")))
            path_node(holders, child, depth + 1, deeper);
    }
}

static int cmd_path(ctl *c, const char *stream)
{
    const lec_json *holders = lec_json_get(lec_json_get(c->view, "streams"), stream);
    if (!holders || holders->type != LEC_JSON_ARRAY || !holders->len) {
        fprintf(stderr, "lectern-ctl: no node holds stream %s\n", stream);
        return 1;
    }
    put(stream);
    printf(": %.0f viewers on %zu node%s\n",
           num(lec_json_get(lec_json_get(lec_json_get(c->view, "audience"), "streams"), stream),
               "viewers"),
           holders->len, holders->len == 1 ? "" : "s");
    bool any = false;
    for (size_t k = 0; k < holders->len; k++) {
        const lec_json *h = &holders->items[k];
        const char *src = str(h, "source");
        /* Roots: published there, or fed by a node the view does not hold. */
        bool fed = false;
        for (size_t j = 0; j < holders->len && *src; j++)
            fed |= !strcmp(str(&holders->items[j], "node"), src);
        if (!fed) {
            path_node(holders, h, 0, "");
            any = true;
        }
    }
    return any ? 0 : 1;
}

static int admin_call(ctl *c, const char *method, const char *base, const char *path,
                      const char *what)
{
    if (!c->token) {
        fprintf(stderr, "lectern-ctl: %s needs an admin token (--token, --token-file or "
                        "$LECTERN_ADMIN_TOKEN)\n", what);
        return 2;
    }
    char url[1400], msg[256];
    snprintf(url, sizeof url, "%s%s", base, path);
    int st = request(c, method, url, c->token, NULL, msg, sizeof msg);
    if (st < 200 || st >= 300) {
        if (st > 0) {
            fprintf(stderr, "lectern-ctl: %s: %d ", what, st);
            for (const char *p = msg; *p; p++)
                fputc((unsigned char)*p < 0x20 ? '?' : *p, stderr);
            fputc('\n', stderr);
        }
        return 1;
    }
    return 0;
}

static int cmd_drain(ctl *c, const char *node, bool drain)
{
    const lec_json *n = find_node(c, node);
    if (!n) {
        fprintf(stderr, "lectern-ctl: no node %s in the view of %s\n", node, c->url);
        return 1;
    }
    int rc = admin_call(c, drain ? "POST" : "DELETE", str(n, "http_url"), "/v1/admin/drain",
                        drain ? "drain" : "undrain");
    if (!rc)
        printf("%s: %s\n", node, drain ? "draining (no new viewers; those there stay)"
                                       : "taking viewers");
    return rc;
}

static int cmd_end(ctl *c, const char *stream)
{
    const lec_json *holders = lec_json_get(lec_json_get(c->view, "streams"), stream);
    int rc = -1;
    for (size_t k = 0; holders && k < holders->len; k++) {
        const lec_json *h = &holders->items[k];
        if (num(h, "depth") != 0)
            continue;
        const lec_json *n = find_node(c, str(h, "node"));
        char path[200];
        snprintf(path, sizeof path, "/v1/streams/%s", stream);
        rc = admin_call(c, "DELETE", str(n, "http_url"), path, "end");
        if (!rc) {
            printf("%s: ended on %s; every node it was relayed to ends it too\n", stream,
                   str(h, "node"));
        }
    }
    if (rc < 0) {
        fprintf(stderr, "lectern-ctl: nobody publishes stream %s\n", stream);
        return 1;
    }
    return rc;
}

static char *token_from_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return NULL;
    }
    char line[512];
    char *tok = fgets(line, sizeof line, f) ? strdup(strtok(line, "\r\n") ? line : "") : NULL;
    fclose(f);
    return tok;
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return false;
    return true;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"url", 1, NULL, 'u'},     {"token", 1, NULL, 't'},
                                         {"token-file", 1, NULL, 'f'}, {"timeout", 1, NULL, 'T'},
                                         {"help", 0, NULL, 'h'},    {NULL, 0, NULL, 0}};
    ctl c = {.url = getenv("LECTERN_URL"), .token = getenv("LECTERN_ADMIN_TOKEN"), .timeout = 10};
    char *file_token = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "u:t:f:T:h", opts, NULL)) != -1) {
        switch (o) {
        case 'u':
            c.url = optarg;
            break;
        case 't':
            c.token = optarg;
            break;
        case 'f':
            free(file_token);
            file_token = token_from_file(optarg);
            if (!file_token)
                return 2;
            c.token = file_token;
            break;
        case 'T':
            c.timeout = atoi(optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!c.url || !*c.url)
        c.url = "http://127.0.0.1:8080";
    const char *cmd = optind < argc ? argv[optind] : NULL;
    const char *arg = optind + 1 < argc ? argv[optind + 1] : NULL;
    bool needs_arg = cmd && (!strcmp(cmd, "path") || !strcmp(cmd, "drain") ||
                             !strcmp(cmd, "undrain") || !strcmp(cmd, "end"));
    if (!cmd || c.timeout < 1 || c.timeout > 600 || (needs_arg && (!arg || !valid_name(arg))) ||
        argc - optind > (needs_arg ? 2 : 1)) {
        if (needs_arg && arg && !valid_name(arg))
            fprintf(stderr, "lectern-ctl: '%s' is not a node or stream name "
                            "(1-64 of A-Z a-z 0-9 _ -)\n", arg);
        usage(stderr);
        free(file_token);
        return 2;
    }
    char base[1024];
    snprintf(base, sizeof base, "%s", c.url);
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        base[--bl] = '\0';
    c.url = base;
    int rc;
    if (!strcmp(cmd, "cluster")) {
        ctl_resp r;
        char err[256], url[1100];
        snprintf(url, sizeof url, "%s/v1/cluster", c.url);
        rc = ctl_fetch("GET", url, NULL, c.timeout, &r, err, sizeof err);
        if (rc)
            fprintf(stderr, "lectern-ctl: %s\n", err);
        else {
            fwrite(r.body.data, 1, r.body.len, stdout);
            rc = r.status == 200 ? 0 : 1;
            lec_sbuf_free(&r.body);
        }
        rc = rc ? 1 : 0;
    } else if (load_view(&c)) {
        rc = 1;
    } else if (!strcmp(cmd, "nodes")) {
        rc = cmd_nodes(&c);
    } else if (!strcmp(cmd, "streams")) {
        rc = cmd_streams(&c);
    } else if (!strcmp(cmd, "path")) {
        rc = cmd_path(&c, arg);
    } else if (!strcmp(cmd, "drain") || !strcmp(cmd, "undrain")) {
        rc = cmd_drain(&c, arg, !strcmp(cmd, "drain"));
    } else if (!strcmp(cmd, "end")) {
        rc = cmd_end(&c, arg);
    } else {
        fprintf(stderr, "lectern-ctl: unknown command %s\n", cmd);
        usage(stderr);
        rc = 2;
    }
    lec_json_free(NULL, c.view);
    free(file_token);
    return rc;
}
