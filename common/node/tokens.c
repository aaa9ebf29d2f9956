/* Bearer-token sets (tokens.h). */
#include "node/tokens.h"
#include "trust/trust.h"
#include "base/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE   1024
#define MAX_TOKENS 100000

void lec_tokens_free(lec_tokens *t)
{
    for (size_t i = 0; i < t->n; i++) {
        lec_trust_wipe(t->v[i], strlen(t->v[i])); /* do not leave secrets in freed memory */
        free(t->v[i]);
    }
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

int lec_tokens_load(lec_tokens *t, const char *path, const char **why)
{
    t->v = NULL;
    t->n = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (why)
            *why = strerror(errno);
        return LEC_ERR_IO;
    }
    char line[MAX_LINE + 2];
    size_t cap = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        if (len > MAX_LINE && line[len - 1] != '\n') {
            rc = LEC_ERR_RANGE;
            if (why)
                *why = "a line is longer than 1024 bytes";
            break;
        }
        char *s = line, *e = line + len;
        while (*s == ' ' || *s == '\t')
            s++;
        while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e == s || *s == '#')
            continue;
        if (t->n == MAX_TOKENS) {
            rc = LEC_ERR_RANGE;
            if (why)
                *why = "more than 100000 tokens";
            break;
        }
        if (t->n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            char **nv = realloc(t->v, ncap * sizeof *nv);
            if (!nv) {
                rc = LEC_ERR_NOMEM;
                break;
            }
            t->v = nv;
            cap = ncap;
        }
        t->v[t->n] = strndup(s, (size_t)(e - s));
        if (!t->v[t->n]) {
            rc = LEC_ERR_NOMEM;
            break;
        }
        t->n++;
    }
    fclose(f);
    if (rc)
        lec_tokens_free(t);
    return rc;
}

/* Constant time in the candidate's bytes for tokens of equal length. */
static bool equal(const char *a, size_t alen, const char *b, size_t blen)
{
    volatile unsigned char diff = (unsigned char)(alen != blen);
    size_t n = alen < blen ? alen : blen;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

bool lec_tokens_check(const lec_tokens *t, const char *tok, size_t len)
{
    bool ok = false;
    for (size_t i = 0; i < t->n; i++) /* no early exit: same time for any match */
        ok |= equal(t->v[i], strlen(t->v[i]), tok, len);
    return ok && len > 0;
}
