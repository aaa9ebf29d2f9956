/* Bearer-token files: parsing, checks, limits. */
#include "testdata.h"
#include "base/err.h"
#include "node/tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/lectern-tokens-XXXXXX");
    int fd = mkstemp(path);
    assert_true(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_load_and_check(void **state)
{
    (void)state;
    char *p = write_tmp("# teachers\n  alpha-token-123  \r\n\nbeta\n#gamma\n");
    lec_tokens t = {0};
    assert_int_equal(lec_tokens_load(&t, p, NULL), 0);
    assert_int_equal(t.n, 2);
    assert_true(lec_tokens_check(&t, "alpha-token-123", 15));
    assert_true(lec_tokens_check(&t, "beta", 4));
    assert_false(lec_tokens_check(&t, "bet", 3));
    assert_false(lec_tokens_check(&t, "betaa", 5));
    assert_false(lec_tokens_check(&t, "#gamma", 6));
    assert_false(lec_tokens_check(&t, "", 0));
    lec_tokens_free(&t);
    unlink(p);
}

static void test_errors(void **state)
{
    (void)state;
    lec_tokens t = {0};
    const char *why = NULL;
    assert_int_equal(lec_tokens_load(&t, "/nonexistent/tokens", &why), LEC_ERR_IO);
    assert_string_equal(why, "No such file or directory");
    char *big = malloc(3000);
    memset(big, 'x', 2999);
    big[2999] = '\0';
    char *p = write_tmp(big);
    free(big);
    assert_int_equal(lec_tokens_load(&t, p, &why), LEC_ERR_RANGE);
    assert_int_equal(t.n, 0);
    unlink(p);
    /* An empty file: an empty set, nothing passes. */
    p = write_tmp("");
    assert_int_equal(lec_tokens_load(&t, p, NULL), 0);
    assert_false(lec_tokens_check(&t, "x", 1));
    lec_tokens_free(&t);
    unlink(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_and_check),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
