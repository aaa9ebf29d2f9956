/*
 * The operator's identity tools (README "Security model"), run instead of
 * a node: --new-cluster-key FILE makes the cluster's key pair (the private
 * half stays with the operator) and prints the public half for
 * cluster.trust_key; --issue-identity NODE --cluster-key FILE writes the
 * node's identity file (its own key, certified by the cluster key).
 */
#include "node/node.h"
#include "base/err.h"
#include "sys/sys.h"
#include "trust/trust.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes text to path (mode 0600, not over an existing file). */
static int write_secret(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t n = strlen(text);
    int rc = write(fd, text, n) == (ssize_t)n ? 0 : 1;
    if (close(fd) || rc) {
        fprintf(stderr, "%s: cannot write\n", path);
        return 1;
    }
    return 0;
}

int lec__cli_new_cluster_key(const char *path)
{
    uint8_t seed[LEC_TRUST_KEY], pub[LEC_TRUST_KEY];
    char hs[2 * LEC_TRUST_KEY + 1], hp[2 * LEC_TRUST_KEY + 1], text[512];
    if (lec_trust_keypair(lec_sys_rand(), seed, pub))
        return 1;
    lec_trust_hex_encode(seed, sizeof seed, hs);
    lec_trust_hex_encode(pub, sizeof pub, hp);
    snprintf(text, sizeof text,
             "# lectern cluster key: it issues node identities; keep it off the nodes\n"
             "key: %s\npublic: %s\n",
             hs, hp);
    int rc = write_secret(path, text);
    lec_trust_wipe(seed, sizeof seed);
    lec_trust_wipe(hs, sizeof hs);
    lec_trust_wipe(text, sizeof text);
    if (!rc)
        printf("cluster.trust_key: %s\n", hp);
    return rc;
}

/* Reads the cluster key file's "key:" line. */
static int read_cluster_key(const char *path, uint8_t seed[LEC_TRUST_KEY])
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return 1;
    }
    char line[256];
    int rc = 1;
    while (rc && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!strncmp(line, "key: ", 5) && !lec_trust_hex_decode(line + 5, seed, LEC_TRUST_KEY))
            rc = 0;
    }
    lec_trust_wipe(line, sizeof line);
    fclose(f);
    if (rc)
        fprintf(stderr, "%s: no 'key: <64 hex digits>' line\n", path);
    return rc;
}

int lec__cli_issue_identity(const char *node, const char *cluster_key, const char *out)
{
    uint8_t seed[LEC_TRUST_KEY];
    if (!cluster_key) {
        fprintf(stderr, "--issue-identity needs --cluster-key FILE\n");
        return 2;
    }
    if (read_cluster_key(cluster_key, seed))
        return 1;
    lec_trust_identity id;
    int rc = lec_trust_issue(seed, node, lec_sys_rand(), &id);
    lec_trust_wipe(seed, sizeof seed);
    if (rc) {
        fprintf(stderr, "'%s' is not a node id (1-64 of A-Z a-z 0-9 _ -)\n", node);
        return 2;
    }
    char text[1024];
    rc = lec_trust_identity_format(&id, text, sizeof text) ? 1 : 0;
    if (!rc && out)
        rc = write_secret(out, text);
    else if (!rc)
        fputs(text, stdout);
    lec_trust_wipe(&id, sizeof id);
    lec_trust_wipe(text, sizeof text);
    return rc;
}
