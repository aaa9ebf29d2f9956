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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_PATH_LINES 2000 /* a hostile view cannot make `path` print forever */

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
            "  --timeout S       seconds for each request, all of it (default 10)\n"
            "\n"
            "The node URLs come from the cluster view, so the token goes only over\n"
            "https when --url is https, else only to the host of --url.\n"
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

/* Prints s to f with everything but printable ASCII replaced: what a
 * node (or whoever answers) says is not trusted to be printable, and
 * escape sequences must not reach the operator's terminal. */
static void fput(FILE *f, const char *s)
{
    for (; s && *s; s++)
        fputc(*s >= 0x20 && *s < 0x7f ? *s : '?', f);
}

static void put(const char *s)
{
    fput(stdout, s);
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
        fprintf(stderr, "lectern-ctl: %s ", method);
        fput(stderr, url);
        fputs(": ", stderr);
        fput(stderr, err);
        fputc('\n', stderr);
        return -1;
    }
    int status = r.status;
    lec_json *v = NULL;
    if (r.body.len &&
        lec_json_parse(NULL, r.body.data, r.body.len, &v, err, sizeof err) && doc && status < 300) {
        fprintf(stderr, "lectern-ctl: %s ", method);
        fput(stderr, url);
        fputs(": the answer is not JSON: ", stderr);
        fput(stderr, err);
        fputc('\n', stderr);
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
    const lec_json *nodes = lec_json_get(c->view, "nodes");
    if (st != 200 || !nodes || nodes->type != LEC_JSON_ARRAY) {
        if (st > 0) {
            fputs("lectern-ctl: GET ", stderr);
            fput(stderr, url);
            fprintf(stderr, " answered %d%s\n", st, st == 200 ? " without a cluster view" : "");
        }
        return -1;
    }
    return 0;
}

/* The view's nodes, streams (holders by stream) and audience, each of the
 * type expected or NULL: every walk below goes through lec_json's typed
 * accessors, so an answer of another shape prints less, never crashes. */
static const lec_json *node_at(const ctl *c, size_t i)
{
    const lec_json *n = lec_json_at(lec_json_get(c->view, "nodes"), i);
    return n && n->type == LEC_JSON_OBJECT ? n : NULL;
}

static const lec_json *find_node(const ctl *c, const char *id)
{
    for (size_t i = 0; i < lec_json_count(lec_json_get(c->view, "nodes")); i++)
        if (node_at(c, i) && !strcmp(str(node_at(c, i), "id"), id))
            return node_at(c, i);
    return NULL;
}

/* The holders of a stream: an array, or NULL. */
static const lec_json *holders_of(const ctl *c, const char *stream)
{
    const lec_json *h = lec_json_get(lec_json_get(c->view, "streams"), stream);
    return h && h->type == LEC_JSON_ARRAY ? h : NULL;
}

/* A region -> viewers object printed as "r n, r n". */
static void put_regions(const lec_json *regions, const char *lead)
{
    for (size_t r = 0; r < lec_json_count(regions); r++) {
        if (!lec_json_key(regions, r))
            continue;
        printf("%s", r ? ", " : lead);
        put(lec_json_key(regions, r));
        printf(" %.0f", lec_json_number(lec_json_value(regions, r), 0));
    }
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
    printf("%-24s %-6s %-16s %-9s %9s %5s %10s %5s %5s %9s %6s\n", "NODE", "ROLE", "REGION",
           "STATE", "VIEWERS", "LOAD", "EGRESS", "CPU", "WCPU", "JOIN_P95", "AGE");
    for (size_t i = 0; i < lec_json_count(lec_json_get(c->view, "nodes")); i++) {
        const lec_json *n = node_at(c, i), *load = lec_json_get(n, "load");
        if (!n)
            continue;
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
    fputs("(* the node asked: ", stdout);
    put(c->url);
    puts(")");
    return 0;
}

static int cmd_streams(ctl *c)
{
    const lec_json *aud = lec_json_get(c->view, "audience");
    const lec_json *streams = lec_json_get(aud, "streams");
    size_t nstreams = 0;
    printf("%-24s %8s  %-18s %s\n", "STREAM", "VIEWERS", "PUBLISHED ON", "BY REGION");
    for (size_t i = 0; i < lec_json_count(streams); i++) {
        const char *name = lec_json_key(streams, i);
        const lec_json *s = lec_json_value(streams, i);
        if (!name)
            continue;
        const lec_json *holders = holders_of(c, name);
        const char *origin = "?";
        for (size_t k = 0; k < lec_json_count(holders); k++)
            if (num(lec_json_at(holders, k), "depth") == 0)
                origin = str(lec_json_at(holders, k), "node");
        col(name, 24);
        printf("%8.0f  ", num(s, "viewers"));
        col(origin, 18);
        put_regions(lec_json_get(s, "regions"), "");
        printf("\n");
        nstreams++;
    }
    printf("%.0f viewers of %zu streams in the cluster", num(aud, "viewers"), nstreams);
    put_regions(lec_json_get(aud, "regions"), "; by region: ");
    printf("\n");
    return 0;
}

/* One holder of a stream and, under it, the holders it feeds; each holder
 * printed once (`shown`), at most MAX_PATH_LINES lines in all. */
static void path_node(const lec_json *holders, size_t at, bool *shown, int *lines, int depth,
                      const char *indent)
{
    const lec_json *h = lec_json_at(holders, at);
    if (shown[at] || ++*lines > MAX_PATH_LINES)
        return;
    shown[at] = true;
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
    for (size_t k = 0; k < lec_json_count(holders); k++)
        if (!shown[k] && !strcmp(str(lec_json_at(holders, k), "source"), str(h, "node")))
            path_node(holders, k, shown, lines, depth + 1, deeper);
}

static int cmd_path(ctl *c, const char *stream)
{
    const lec_json *holders = holders_of(c, stream);
    size_t n = lec_json_count(holders);
    if (!n) {
        fprintf(stderr, "lectern-ctl: no node holds stream %s\n", stream);
        return 1;
    }
    put(stream);
    printf(": %.0f viewers on %zu node%s\n",
           num(lec_json_get(lec_json_get(lec_json_get(c->view, "audience"), "streams"), stream),
               "viewers"),
           n, n == 1 ? "" : "s");
    bool *shown = calloc(n, sizeof *shown);
    if (!shown)
        return 1;
    int lines = 0;
    bool any = false;
    for (size_t k = 0; k < n; k++) {
        const char *src = str(lec_json_at(holders, k), "source");
        /* Roots: published there, or fed by a node the view does not hold. */
        bool fed = false;
        for (size_t j = 0; j < n && *src; j++)
            fed |= !strcmp(str(lec_json_at(holders, j), "node"), src);
        if (!fed) {
            path_node(holders, k, shown, &lines, 0, "");
            any = true;
        }
    }
    free(shown);
    return any ? 0 : 1;
}

/* scheme://host of a URL (no port), into out; false when it is not one. */
static bool url_host(const char *url, char *out, size_t cap)
{
    const char *p = strstr(url, "://");
    if (!p)
        return false;
    p += 3;
    size_t n = strcspn(p, "/");
    const char *close = memchr(p, ']', n);
    const char *host_end = close ? close + 1 : p;
    const char *port = memchr(host_end, ':', n - (size_t)(host_end - p));
    if (port)
        n = (size_t)(port - p);
    int w = snprintf(out, cap, "%.*s%.*s", (int)(p - url), url, (int)n, p);
    return w > 0 && (size_t)w < cap;
}

/* Where the admin token may go: the node's URL comes from the view that
 * the --url node answered, and over plain http whoever sits in between may
 * have written it.  So: https when --url is https (the view then comes
 * from a node we trust, and its URLs from signed heartbeats), else only
 * the host of --url itself (one machine, or a private network). */
static bool token_may_go(const ctl *c, const char *target)
{
    char asked[600], to[600];
    if (!url_host(c->url, asked, sizeof asked) || !url_host(target, to, sizeof to))
        return false;
    if (!strncmp(c->url, "https://", 8))
        return !strncmp(target, "https://", 8);
    return !strcasecmp(asked, to);
}

static int admin_call(ctl *c, const char *method, const char *base, const char *path,
                      const char *what)
{
    if (!c->token) {
        fprintf(stderr, "lectern-ctl: %s needs an admin token (--token, --token-file or "
                        "$LECTERN_ADMIN_TOKEN)\n", what);
        return 2;
    }
    if (!token_may_go(c, base)) {
        fprintf(stderr, "lectern-ctl: %s: not sending the admin token to ", what);
        fput(stderr, base);
        fputs(": use an https --url (every node's URL must then be https), or --url that "
              "node itself\n", stderr);
        return 1;
    }
    char url[1400], msg[256];
    snprintf(url, sizeof url, "%s%s", base, path);
    int st = request(c, method, url, c->token, NULL, msg, sizeof msg);
    if (st < 200 || st >= 300) {
        if (st > 0) {
            fprintf(stderr, "lectern-ctl: %s: %d ", what, st);
            fput(stderr, msg);
            fputs(" (", stderr);
            fput(stderr, url);
            fputs(")\n", stderr);
        }
        return 1;
    }
    return 0;
}

static int cmd_drain(ctl *c, const char *node, bool drain)
{
    const lec_json *n = find_node(c, node);
    if (!n) {
        fprintf(stderr, "lectern-ctl: no node %s in the view of ", node);
        fput(stderr, c->url);
        fputc('\n', stderr);
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
    const lec_json *holders = holders_of(c, stream);
    int rc = -1;
    for (size_t k = 0; k < lec_json_count(holders); k++) {
        const lec_json *h = lec_json_at(holders, k);
        const lec_json *n = find_node(c, str(h, "node"));
        if (num(h, "depth") != 0 || !n)
            continue;
        char path[200];
        snprintf(path, sizeof path, "/v1/streams/%s", stream);
        rc = admin_call(c, "DELETE", str(n, "http_url"), path, "end");
        if (!rc) {
            printf("%s: ended on ", stream);
            put(str(h, "node"));
            printf("; every node it was relayed to ends it too\n");
        }
    }
    if (rc < 0) {
        fprintf(stderr, "lectern-ctl: nobody publishes stream %s\n", stream);
        return 1;
    }
    return rc;
}

/* The view as JSON, after it parsed as JSON; control bytes are escaped in
 * JSON strings, and any other byte outside printable ASCII is replaced on
 * a terminal. */
static int cmd_cluster(ctl *c)
{
    ctl_resp r;
    char err[256], url[1100];
    snprintf(url, sizeof url, "%s/v1/cluster", c->url);
    lec_json *v = NULL;
    int rc = ctl_fetch("GET", url, NULL, c->timeout, &r, err, sizeof err);
    if (rc) {
        fputs("lectern-ctl: ", stderr);
        fput(stderr, err);
        fputc('\n', stderr);
        return 1;
    }
    rc = r.status != 200 || lec_json_parse(NULL, r.body.data, r.body.len, &v, err, sizeof err);
    if (rc)
        fprintf(stderr, "lectern-ctl: GET /v1/cluster answered %d, not a cluster view\n", r.status);
    bool tty = isatty(STDOUT_FILENO);
    for (size_t i = 0; !rc && i < r.body.len; i++) {
        char ch = r.body.data[i];
        putchar(!tty || ch == '\n' || (ch >= 0x20 && ch < 0x7f) ? ch : '?');
    }
    lec_json_free(NULL, v);
    lec_sbuf_free(&r.body);
    return rc ? 1 : 0;
}

static char *token_from_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return NULL;
    }
    char line[2048]; /* nodes take tokens of up to 1024 bytes */
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
    signal(SIGPIPE, SIG_IGN); /* a server that closes mid-request: an error, not a kill */
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
        rc = cmd_cluster(&c);
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
