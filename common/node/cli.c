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
            "Cluster identities (README \"Security model\"):\n"
            "      --new-cluster-key FILE   make the cluster's key pair (keep FILE off\n"
            "                      the nodes); prints the cluster.trust_key line\n"
            "      --issue-identity NODE --cluster-key FILE [--out FILE]\n"
            "                      write NODE's identity file (cluster.identity_file)\n"
            "\n"
            "Signals: SIGTERM or SIGINT drain and stop (twice: stop at once);\n"
            "SIGHUP re-reads the config and applies what can change live.\n"
            "HTTP: /healthz (alive), /readyz (ready; 503 while draining), /v1/cluster,\n"
            "/metrics; WHIP /whip/<stream>, WHEP /whep/<stream>, the quiz\n"
            "/v1/streams/<stream>/quiz; pages /publish and /watch/<stream>;\n"
            "operators: lectern-ctl --help (nodes, streams, drain, end).\n",
            role->binary, role->summary, lec_role_name(role->role));
}

int lec__cli_parse(int argc, char **argv, const lec_node_role *role, lec_cli *out)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"check-config", no_argument, NULL, 'C'},
        {"verbose", no_argument, NULL, 'v'},      {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},         {"new-cluster-key", required_argument, NULL, 'K'},
        {"issue-identity", required_argument, NULL, 'I'},
        {"cluster-key", required_argument, NULL, 'k'},
        {"out", required_argument, NULL, 'o'},    {NULL, 0, NULL, 0},
    };
    const char *new_key = NULL, *issue = NULL, *cluster_key = NULL, *out_file = NULL;
    memset(out, 0, sizeof *out);
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:vVh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            out->config = optarg;
            break;
        case 'K':
            new_key = optarg;
            break;
        case 'I':
            issue = optarg;
            break;
        case 'k':
            cluster_key = optarg;
            break;
        case 'o':
            out_file = optarg;
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
    if (new_key)
        return lec__cli_new_cluster_key(new_key);
    if (issue)
        return lec__cli_issue_identity(issue, cluster_key, out_file);
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", role->binary, argv[optind]);
        usage(stderr, role);
        return 2;
    }
    return -1;
}
