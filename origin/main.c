/*
 * lectern-origin: WHIP ingest, the first hop of every stream, the relay
 * source for edges; its viewers play over WHEP too.  With no NATS
 * configured it is a complete one-node server.  Everything shared lives in
 * common/; this file is the wiring.
 */
#include "base/err.h"
#include "node/node.h"

static int origin_setup(lec_node *node)
{
    node->media = lec_media_start(node, true);
    return node->media ? 0 : LEC_ERR_INTERNAL;
}

int main(int argc, char **argv)
{
    static const lec_node_role role = {
        .role = LEC_ROLE_ORIGIN,
        .binary = "lectern-origin",
        .summary = "Lectern origin: takes WHIP publishers and feeds the edges.",
        .setup = origin_setup,
    };
    return lec_node_main(argc, argv, &role);
}
