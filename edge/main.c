/*
 * lectern-edge: WHEP playback to viewers near it, fed over cascade legs
 * from the origin or other edges.  Everything shared lives in common/;
 * this file is the wiring.
 */
#include "base/err.h"
#include "node/node.h"

static int edge_setup(lec_node *node)
{
    node->media = lec_media_start(node, false); /* WHEP only; legs land with the cascade */
    return node->media ? 0 : LEC_ERR_INTERNAL;
}

int main(int argc, char **argv)
{
    static const lec_node_role role = {
        .role = LEC_ROLE_EDGE,
        .binary = "lectern-edge",
        .summary = "Lectern edge: serves WHEP viewers, pulls streams over relay legs.",
        .setup = edge_setup,
    };
    return lec_node_main(argc, argv, &role);
}
