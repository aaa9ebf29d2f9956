/* Command line of lectern-origin and lectern-edge. */
#include "node/node.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f, const lec_node_role *role)
{
    fprintf(f,
            "Usage: %s [--config FILE] [--check-config [-v]]\n"
            "%s\n"
            "\n"
            "  -c, --config FILE   the node's YAML config (DESIGN.md section 9);\n"
            "                      without it: one %s on 0.0.0.0:8080, no cluster\n"
            "      --check-config  validate the config, print problems as\n"
            "                      file:line: key: reason, and exit (0 if valid)\n"
            "  -v, --verbose       with --check-config: print the effective config\n"
            "  -V, --version       print the version and exit\n"
            "  -h, --help          print this help and exit\n"
            "\n"
            "Signals: SIGTERM or SIGINT drain and stop (twice: stop at once);\n"
            "SIGHUP re-reads the config and applies what can change live.\n"
            "HTTP: /healthz (alive), /readyz (ready; 503 while draining).\n",
            role->binary, role->summary, lec_role_name(role->role));
}

int lec__cli_parse(int argc, char **argv, const lec_node_role *role, lec_cli *out)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"check-config", no_argument, NULL, 'C'},
        {"verbose", no_argument, NULL, 'v'},      {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    memset(out, 0, sizeof *out);
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:vVh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            out->config = optarg;
            break;
        case 'C':
            out->check_config = true;
            break;
        case 'v':
            out->verbose = true;
            break;
        case 'V':
            printf("%s %s\n", role->binary, LEC_VERSION);
            return 0;
        case 'h':
            usage(stdout, role);
            return 0;
        default:
            usage(stderr, role);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", role->binary, argv[optind]);
        usage(stderr, role);
        return 2;
    }
    return -1;
}
