/* String builder and JSON writer (sbuf.h). */
#include "base/sbuf.h"
#include "base/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lec_sbuf_init(lec_sbuf *sb, const lec_alloc *a)
{
    memset(sb, 0, sizeof *sb);
    sb->alloc = lec_alloc_or_default(a);
}

void lec_sbuf_init_fixed(lec_sbuf *sb, char *buf, size_t cap)
{
    memset(sb, 0, sizeof *sb);
    sb->data = buf;
    sb->cap = cap;
    if (cap)
        buf[0] = '\0';
}

void lec_sbuf_free(lec_sbuf *sb)
{
    if (sb->alloc && sb->data)
        lec_free(sb->alloc, sb->data);
    if (sb->alloc) {
        sb->data = NULL;
        sb->cap = 0;
    }
    sb->len = 0;
}

void lec_sbuf_reset(lec_sbuf *sb)
{
    sb->len = 0;
    sb->truncated = sb->oom = false;
    if (sb->cap)
        sb->data[0] = '\0';
}

/* Makes room for `extra` more bytes plus the NUL; returns the room available. */
static size_t reserve(lec_sbuf *sb, size_t extra)
{
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return extra;
    if (sb->alloc && !sb->oom && (!sb->max || need <= sb->max + 1)) {
        size_t ncap = sb->cap ? sb->cap : 64;
        while (ncap < need)
            ncap *= 2;
        if (sb->max && ncap > sb->max + 1)
            ncap = sb->max + 1;
        char *p = lec_realloc(sb->alloc, sb->data, ncap);
        if (p) {
            sb->data = p;
            sb->cap = ncap;
            return extra;
        }
        sb->oom = true;
    }
    if (!sb->oom)
        sb->truncated = true;
    return sb->cap > sb->len + 1 ? sb->cap - sb->len - 1 : 0;
}

void lec_sbuf_append(lec_sbuf *sb, const void *data, size_t len)
{
    size_t room = reserve(sb, len);
    if (room < len)
        sb->truncated = sb->truncated || !sb->oom;
    size_t n = room < len ? room : len;
    if (n)
        memcpy(sb->data + sb->len, data, n);
    sb->len += n;
    if (sb->cap)
        sb->data[sb->len] = '\0';
}

void lec_sbuf_puts(lec_sbuf *sb, const char *s)
{
    lec_sbuf_append(sb, s, strlen(s));
}
void lec_sbuf_putc(lec_sbuf *sb, char c)
{
    lec_sbuf_append(sb, &c, 1);
}

void lec_sbuf_vprintf(lec_sbuf *sb, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        lec_sbuf_append(sb, tmp, (size_t)n);
        return;
    }
    size_t room = reserve(sb, (size_t)n);
    if (room >= (size_t)n) {
        vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
        sb->len += (size_t)n;
    } else {
        lec_sbuf_append(sb, tmp, sizeof tmp - 1); /* truncates */
    }
}

void lec_sbuf_printf(lec_sbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lec_sbuf_vprintf(sb, fmt, ap);
    va_end(ap);
}

int lec_sbuf_status(const lec_sbuf *sb)
{
    return sb->oom ? LEC_ERR_NOMEM : sb->truncated ? LEC_ERR_RANGE : 0;
}

char *lec_sbuf_steal(lec_sbuf *sb, size_t *len)
{
    if (!sb->alloc)
        return NULL;
    if (!sb->data)
        reserve(sb, 0);
    char *p = sb->data;
    if (len)
        *len = sb->len;
    sb->data = NULL;
    sb->cap = sb->len = 0;
    return p;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0)
        len = 2, min = 0x80, c &= 0x1f;
    else if ((c & 0xf0) == 0xe0)
        len = 3, min = 0x800, c &= 0x0f;
    else if ((c & 0xf8) == 0xf0)
        len = 4, min = 0x10000, c &= 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    return len;
}

void lec_json_put_str(lec_sbuf *sb, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    lec_sbuf_putc(sb, '"');
    size_t run = 0; /* bytes copied verbatim in one append */
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        const char *esc = NULL;
        char ubuf[8];
        size_t ul = c < 0x80 ? 1 : utf8_len(s + i, len - i);
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 0x20 || c == 0x7f) {
            snprintf(ubuf, sizeof ubuf, "\\u%04x", c);
            esc = ubuf;
        } else if (ul == 0)
            esc = "\xef\xbf\xbd"; /* U+FFFD for a bad byte */
        if (!esc) {
            run += ul;
            i += ul;
            continue;
        }
        lec_sbuf_append(sb, s + i - run, run);
        run = 0;
        lec_sbuf_puts(sb, esc);
        i += 1;
    }
    lec_sbuf_append(sb, s + len - run, run);
    lec_sbuf_putc(sb, '"');
}

void lec_jw_init(lec_jw *w, lec_sbuf *sb)
{
    memset(w, 0, sizeof *w);
    w->sb = sb;
    w->first[0] = true;
}

/* Separator before a value (not a key's value). */
static void before_value(lec_jw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (!w->first[w->depth])
        lec_sbuf_putc(w->sb, ',');
    w->first[w->depth] = false;
}

static void open_(lec_jw *w, char c)
{
    before_value(w);
    lec_sbuf_putc(w->sb, c);
    if (w->depth < LEC_JW_MAX_DEPTH)
        w->depth++;
    else
        w->sb->truncated = true; /* too deep: the output is wrong, say so */
    w->first[w->depth] = true;
}

static void close_(lec_jw *w, char c)
{
    lec_sbuf_putc(w->sb, c);
    if (w->depth > 0)
        w->depth--;
}

void lec_jw_obj_open(lec_jw *w)
{
    open_(w, '{');
}
void lec_jw_obj_close(lec_jw *w)
{
    close_(w, '}');
}
void lec_jw_arr_open(lec_jw *w)
{
    open_(w, '[');
}
void lec_jw_arr_close(lec_jw *w)
{
    close_(w, ']');
}

void lec_jw_key(lec_jw *w, const char *key)
{
    before_value(w);
    lec_json_put_str(w->sb, key, strlen(key));
    lec_sbuf_putc(w->sb, ':');
    w->after_key = true;
}

void lec_jw_strn(lec_jw *w, const char *s, size_t len)
{
    before_value(w);
    lec_json_put_str(w->sb, s, len);
}

void lec_jw_str(lec_jw *w, const char *s)
{
    if (!s) {
        lec_jw_null(w);
        return;
    }
    lec_jw_strn(w, s, strlen(s));
}

void lec_jw_int(lec_jw *w, int64_t v)
{
    before_value(w);
    lec_sbuf_printf(w->sb, "%lld", (long long)v);
}

void lec_jw_uint(lec_jw *w, uint64_t v)
{
    before_value(w);
    lec_sbuf_printf(w->sb, "%llu", (unsigned long long)v);
}

void lec_jw_double(lec_jw *w, double v)
{
    before_value(w);
    if (isfinite(v)) {
        /* Shortest of %.15g and %.17g that reads back as the same double. */
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%.15g", v);
        if (strtod(tmp, NULL) != v)
            snprintf(tmp, sizeof tmp, "%.17g", v);
        lec_sbuf_puts(w->sb, tmp);
    } else
        lec_sbuf_puts(w->sb, "null");
}

void lec_jw_bool(lec_jw *w, bool v)
{
    before_value(w);
    lec_sbuf_puts(w->sb, v ? "true" : "false");
}

void lec_jw_null(lec_jw *w)
{
    before_value(w);
    lec_sbuf_puts(w->sb, "null");
}
