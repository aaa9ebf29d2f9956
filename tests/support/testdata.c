#include "testdata.h"

#include <stdio.h>
#include <string.h>

const char *test_src_path(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", LEC_SOURCE_DIR, rel);
    return buf;
}

int test_contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle);
}
