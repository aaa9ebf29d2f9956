/* Shared helpers for unit tests. */
#ifndef LEC_TEST_TESTDATA_H
#define LEC_TEST_TESTDATA_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* A path under the source tree (static buffer). */
const char *test_src_path(const char *rel);

/* Whether `hay` contains `needle`. */
int test_contains(const char *hay, const char *needle);

#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        const char *h_ = (hay);                                                                    \
        if (!test_contains(h_, (needle)))                                                          \
            fail_msg("expected to find \"%s\" in:\n%s", (needle), h_ ? h_ : "(null)");             \
    } while (0)

#endif
