/*
 * Bearer-token sets from files (auth.publish_tokens_file,
 * auth.admin_tokens_file): one token per line, blank lines and lines
 * starting with '#' ignored, surrounding spaces trimmed.  Checks compare in
 * constant time, so a wrong token does not leak how much of it was right.
 */
#ifndef LEC_NODE_TOKENS_H
#define LEC_NODE_TOKENS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct lec_tokens {
    char **v;
    size_t n;
} lec_tokens;

/* Loads `path` into t (replacing nothing: t must be empty or freed).
 * 0, LEC_ERR_IO (unreadable; *why* says why), LEC_ERR_RANGE (a line over
 * 1024 bytes or more than 100000 tokens), LEC_ERR_NOMEM. */
int lec_tokens_load(lec_tokens *t, const char *path, const char **why);
void lec_tokens_free(lec_tokens *t);
/* Whether `tok` (len bytes, not NUL-terminated) is in the set. */
bool lec_tokens_check(const lec_tokens *t, const char *tok, size_t len);

#endif
