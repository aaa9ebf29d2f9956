/* The JSON reader (json.h): recursive descent with a depth bound. */
#include "base/json.h"
#include "base/err.h"
#include "base/sbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const lec_alloc *a;
    const char *s, *end, *p;
    char *err;
    size_t errcap;
    int rc;
    size_t values;
} parser;

static int fail(parser *x, const char *why)
{
    if (!x->rc) {
        x->rc = LEC_ERR_INVAL;
        if (x->errcap)
            snprintf(x->err, x->errcap, "%s at byte %zu", why, (size_t)(x->p - x->s));
    }
    return x->rc;
}

static int oom(parser *x)
{
    if (!x->rc) {
        x->rc = LEC_ERR_NOMEM;
        if (x->errcap)
            snprintf(x->err, x->errcap, "out of memory");
    }
    return x->rc;
}

static void skip_ws(parser *x)
{
    while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r'))
        x->p++;
}

static bool literal(parser *x, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(x->end - x->p) < n || memcmp(x->p, word, n))
        return false;
    x->p += n;
    return true;
}

static int parse_value(parser *x, lec_json *v, int depth);

/* Four hex digits of a \u escape. */
static int hex4(parser *x, unsigned *out)
{
    if (x->end - x->p < 4)
        return fail(x, "short \\u escape");
    unsigned u = 0;
    for (int i = 0; i < 4; i++) {
        int d = lec_hex_digit(x->p[i]);
        if (d < 0)
            return fail(x, "bad \\u escape");
        u = u << 4 | (unsigned)d;
    }
    x->p += 4;
    *out = u;
    return 0;
}

static void put_utf8(lec_sbuf *b, unsigned cp)
{
    if (cp < 0x80) {
        lec_sbuf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        lec_sbuf_putc(b, (char)(0xc0 | cp >> 6));
        lec_sbuf_putc(b, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        lec_sbuf_putc(b, (char)(0xe0 | cp >> 12));
        lec_sbuf_putc(b, (char)(0x80 | (cp >> 6 & 0x3f)));
        lec_sbuf_putc(b, (char)(0x80 | (cp & 0x3f)));
    } else {
        lec_sbuf_putc(b, (char)(0xf0 | cp >> 18));
        lec_sbuf_putc(b, (char)(0x80 | (cp >> 12 & 0x3f)));
        lec_sbuf_putc(b, (char)(0x80 | (cp >> 6 & 0x3f)));
        lec_sbuf_putc(b, (char)(0x80 | (cp & 0x3f)));
    }
}

static int escape(parser *x, lec_sbuf *b)
{
    if (x->p >= x->end)
        return fail(x, "unterminated string");
    char c = *x->p++;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k = c ? strchr(from, c) : NULL;
    if (k) {
        lec_sbuf_putc(b, to[k - from]);
        return 0;
    }
    if (c != 'u')
        return fail(x, "bad escape");
    unsigned cp, lo;
    if (hex4(x, &cp))
        return x->rc;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return fail(x, "unpaired low surrogate");
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (x->end - x->p < 2 || x->p[0] != '\\' || x->p[1] != 'u')
            return fail(x, "unpaired high surrogate");
        x->p += 2;
        if (hex4(x, &lo))
            return x->rc;
        if (lo < 0xdc00 || lo > 0xdfff)
            return fail(x, "unpaired high surrogate");
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    put_utf8(b, cp);
    return 0;
}

/* A string after its opening quote, into *out (allocated) and *len. */
static int parse_string(parser *x, char **out, size_t *len)
{
    lec_sbuf b;
    lec_sbuf_init(&b, NULL);
    for (;;) {
        if (x->p >= x->end) {
            fail(x, "unterminated string");
            break;
        }
        unsigned char c = (unsigned char)*x->p;
        if (c == '"') {
            x->p++;
            break;
        }
        if (c < 0x20) {
            fail(x, "control character in a string");
            break;
        }
        x->p++;
        if (c == '\\') {
            if (escape(x, &b))
                break;
        } else {
            lec_sbuf_putc(&b, (char)c);
        }
    }
    if (!x->rc && b.oom)
        oom(x);
    if (x->rc) {
        lec_sbuf_free(&b);
        return x->rc;
    }
    *len = b.len;
    *out = lec_calloc(x->a, b.len + 1, 1);
    if (!*out) {
        lec_sbuf_free(&b);
        return oom(x);
    }
    if (b.len)
        memcpy(*out, b.data, b.len);
    lec_sbuf_free(&b);
    return 0;
}

static int parse_number(parser *x, lec_json *v)
{
    const char *q = x->p;
    if (q < x->end && *q == '-')
        q++;
    if (q >= x->end || *q < '0' || *q > '9')
        return fail(x, "unexpected character");
    if (*q == '0')
        q++;
    else
        while (q < x->end && *q >= '0' && *q <= '9')
            q++;
    if (q < x->end && *q == '.') {
        q++;
        if (q >= x->end || *q < '0' || *q > '9')
            return fail(x, "bad number");
        while (q < x->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < x->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < x->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= x->end || *q < '0' || *q > '9')
            return fail(x, "bad number");
        while (q < x->end && *q >= '0' && *q <= '9')
            q++;
    }
    char buf[64];
    size_t n = (size_t)(q - x->p);
    if (n >= sizeof buf)
        return fail(x, "number too long");
    memcpy(buf, x->p, n);
    buf[n] = '\0';
    v->type = LEC_JSON_NUMBER;
    v->number = strtod(buf, NULL);
    x->p = q;
    return 0;
}

/* Appends one member slot to an array or object (grown by doubling). */
static lec_json *grow(parser *x, lec_json *v, size_t *cap, bool keys)
{
    if (v->len == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        lec_json *items = lec_realloc(x->a, v->items, ncap * sizeof *items);
        if (!items)
            return NULL;
        v->items = items;
        if (keys) {
            char **k = lec_realloc(x->a, v->keys, ncap * sizeof *k);
            if (!k)
                return NULL;
            v->keys = k;
        }
        *cap = ncap;
    }
    lec_json *slot = &v->items[v->len];
    memset(slot, 0, sizeof *slot);
    if (keys)
        v->keys[v->len] = NULL;
    v->len++;
    return slot;
}

static int parse_container(parser *x, lec_json *v, int depth, bool object)
{
    v->type = object ? LEC_JSON_OBJECT : LEC_JSON_ARRAY;
    if (depth >= LEC_JSON_MAX_DEPTH)
        return fail(x, "nested too deep");
    char close = object ? '}' : ']';
    size_t cap = 0;
    skip_ws(x);
    if (x->p < x->end && *x->p == close) {
        x->p++;
        return 0;
    }
    for (;;) {
        lec_json *slot = grow(x, v, &cap, object);
        if (!slot)
            return oom(x);
        if (object) {
            skip_ws(x);
            if (x->p >= x->end || *x->p != '"')
                return fail(x, "expected a key");
            x->p++;
            size_t klen;
            if (parse_string(x, &v->keys[v->len - 1], &klen))
                return x->rc;
            skip_ws(x);
            if (x->p >= x->end || *x->p != ':')
                return fail(x, "expected ':'");
            x->p++;
        }
        if (parse_value(x, slot, depth + 1))
            return x->rc;
        skip_ws(x);
        if (x->p < x->end && *x->p == ',') {
            x->p++;
            continue;
        }
        if (x->p < x->end && *x->p == close) {
            x->p++;
            return 0;
        }
        return fail(x, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int parse_value(parser *x, lec_json *v, int depth)
{
    if (++x->values > LEC_JSON_MAX_VALUES)
        return fail(x, "too many values");
    skip_ws(x);
    if (x->p >= x->end)
        return fail(x, "unexpected end");
    switch (*x->p) {
    case '{':
    case '[': {
        bool object = *x->p == '{';
        x->p++;
        return parse_container(x, v, depth, object);
    }
    case '"':
        x->p++;
        v->type = LEC_JSON_STRING;
        return parse_string(x, &v->str, &v->len);
    case 't':
    case 'f':
    case 'n':
        if (literal(x, "true"))
            v->type = LEC_JSON_BOOL, v->boolean = true;
        else if (literal(x, "false"))
            v->type = LEC_JSON_BOOL;
        else if (literal(x, "null"))
            v->type = LEC_JSON_NULL;
        else
            return fail(x, "unexpected word");
        return 0;
    default:
        return parse_number(x, v);
    }
}

static void free_members(const lec_alloc *a, lec_json *v)
{
    for (size_t i = 0; v->items && i < v->len; i++) {
        free_members(a, &v->items[i]);
        if (v->keys && v->keys[i])
            lec_free(a, v->keys[i]);
    }
    if (v->items)
        lec_free(a, v->items);
    if (v->keys)
        lec_free(a, v->keys);
    if (v->str)
        lec_free(a, v->str);
}

void lec_json_free(const lec_alloc *a, lec_json *v)
{
    if (!v)
        return;
    a = lec_alloc_or_default(a);
    free_members(a, v);
    lec_free(a, v);
}

int lec_json_parse(const lec_alloc *a, const char *s, size_t len, lec_json **out, char *err,
                   size_t errcap)
{
    a = lec_alloc_or_default(a);
    parser x = {.a = a, .s = s, .end = s + len, .p = s, .err = err, .errcap = errcap};
    if (errcap)
        err[0] = '\0';
    *out = NULL;
    lec_json *v = lec_calloc(a, 1, sizeof *v);
    if (!v)
        return oom(&x);
    if (!parse_value(&x, v, 0)) {
        skip_ws(&x);
        if (x.p != x.end)
            fail(&x, "trailing bytes");
    }
    if (x.rc) {
        lec_json_free(a, v);
        return x.rc;
    }
    *out = v;
    return 0;
}

const lec_json *lec_json_get(const lec_json *v, const char *key)
{
    if (!v || v->type != LEC_JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < v->len; i++)
        if (!strcmp(v->keys[i], key))
            return &v->items[i];
    return NULL;
}

const lec_json *lec_json_at(const lec_json *v, size_t i)
{
    return v && v->type == LEC_JSON_ARRAY && i < v->len ? &v->items[i] : NULL;
}

size_t lec_json_count(const lec_json *v)
{
    return v && (v->type == LEC_JSON_ARRAY || v->type == LEC_JSON_OBJECT) ? v->len : 0;
}

const char *lec_json_key(const lec_json *v, size_t i)
{
    return v && v->type == LEC_JSON_OBJECT && i < v->len ? v->keys[i] : NULL;
}

const lec_json *lec_json_value(const lec_json *v, size_t i)
{
    return v && v->type == LEC_JSON_OBJECT && i < v->len ? &v->items[i] : NULL;
}

const char *lec_json_string(const lec_json *v, const char *dflt)
{
    return v && v->type == LEC_JSON_STRING ? v->str : dflt;
}

double lec_json_number(const lec_json *v, double dflt)
{
    return v && v->type == LEC_JSON_NUMBER ? v->number : dflt;
}

bool lec_json_true(const lec_json *v)
{
    return v && v->type == LEC_JSON_BOOL && v->boolean;
}
