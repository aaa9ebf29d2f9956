/* libFuzzer: the JSON reader (lectern-ctl reads whatever a server answers).
 * What parses is walked to the bottom; every string is terminated. */
#include "base/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t walk(const lec_json *v, int depth)
{
    if (depth > LEC_JSON_MAX_DEPTH + 1)
        abort();
    size_t n = 1;
    if (v->type == LEC_JSON_STRING && v->str[v->len] != '\0')
        abort();
    if (v->type == LEC_JSON_OBJECT)
        for (size_t i = 0; i < v->len; i++)
            if (!v->keys[i] || lec_json_get(v, v->keys[i]) == NULL)
                abort();
    if (v->type == LEC_JSON_ARRAY || v->type == LEC_JSON_OBJECT)
        for (size_t i = 0; i < v->len; i++)
            n += walk(&v->items[i], depth + 1);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lec_json *v;
    char err[96];
    if (lec_json_parse(NULL, (const char *)data, size, &v, err, sizeof err)) {
        if (!memchr(err, '\0', sizeof err))
            abort();
        return 0;
    }
    walk(v, 0);
    lec_json_free(NULL, v);
    return 0;
}
