/* Logging (log.h). */
#include "base/log.h"
#include "base/err.h"
#include "base/sbuf.h"

#include <stdio.h>
#include <string.h>

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};
static const char *const level_text[] = {"DEBUG", "INFO ", "WARN ", "ERROR", "OFF  "};

void lec_log_init(lec_log *log, lec_log_sink_fn sink, void *ud, const lec_clock *wall)
{
    atomic_init(&log->level, LEC_LOG_INFO);
    atomic_init(&log->format, LEC_LOG_TEXT);
    log->sink = sink;
    log->sink_ud = ud;
    log->wall = wall;
    log->node = NULL;
}

void lec_log_set_level(lec_log *log, lec_log_level level)
{
    atomic_store_explicit(&log->level, (int)level, memory_order_relaxed);
}

void lec_log_set_format(lec_log *log, lec_log_format format)
{
    atomic_store_explicit(&log->format, (int)format, memory_order_relaxed);
}

const char *lec_log_level_name(lec_log_level level)
{
    return (unsigned)level <= LEC_LOG_OFF ? level_names[level] : "?";
}

int lec_log_level_parse(const char *s, lec_log_level *out)
{
    for (int i = 0; i <= LEC_LOG_OFF; i++) {
        if (!strcmp(s, level_names[i])) {
            *out = (lec_log_level)i;
            return 0;
        }
    }
    if (!strcmp(s, "warning")) {
        *out = LEC_LOG_WARN;
        return 0;
    }
    return LEC_ERR_INVAL;
}

int lec_log_format_parse(const char *s, lec_log_format *out)
{
    if (!strcmp(s, "text"))
        *out = LEC_LOG_TEXT;
    else if (!strcmp(s, "json"))
        *out = LEC_LOG_JSON;
    else
        return LEC_ERR_INVAL;
    return 0;
}

void lec_log_vwrite(lec_log *log, lec_log_level level, const char *mod, const char *fmt, va_list ap)
{
    if (!lec_log_enabled(log, level) || level >= LEC_LOG_OFF || !log->sink)
        return;
    char ts[32] = "";
    if (log->wall)
        lec_time_format_rfc3339(lec_clock_now(log->wall), ts, sizeof ts);

    char msg[LEC_LOG_LINE_MAX];
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    if (n < 0)
        n = 0;
    size_t mlen = (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;

    /* Leave room for the newline and a truncation mark. */
    char line[LEC_LOG_LINE_MAX + 256];
    lec_sbuf sb;
    lec_sbuf_init_fixed(&sb, line, sizeof line - 16);
    if (atomic_load_explicit(&log->format, memory_order_relaxed) == LEC_LOG_JSON) {
        lec_jw w;
        lec_jw_init(&w, &sb);
        lec_jw_obj_open(&w);
        if (*ts) {
            lec_jw_key(&w, "ts");
            lec_jw_str(&w, ts);
        }
        lec_jw_key(&w, "level");
        lec_jw_str(&w, level_names[level]);
        if (log->node) {
            lec_jw_key(&w, "node");
            lec_jw_str(&w, log->node);
        }
        lec_jw_key(&w, "mod");
        lec_jw_str(&w, mod);
        lec_jw_key(&w, "msg");
        lec_jw_strn(&w, msg, mlen);
        if ((size_t)n >= sizeof msg) {
            lec_jw_key(&w, "truncated");
            lec_jw_bool(&w, true);
        }
        lec_jw_obj_close(&w);
        if (sb.truncated) { /* keep the line valid JSON whatever happened */
            lec_sbuf_reset(&sb);
            lec_sbuf_puts(&sb, "{\"level\":\"error\",\"mod\":\"log\",\"msg\":\"line too long\"}");
        }
    } else {
        if (*ts)
            lec_sbuf_printf(&sb, "%s ", ts);
        lec_sbuf_printf(&sb, "%s %s: ", level_text[level], mod);
        /* Control bytes a peer put in a string (a newline that would forge
         * a log line, a terminal escape) are shown as \xNN. */
        for (size_t i = 0; i < mlen; i++) {
            unsigned char ch = (unsigned char)msg[i];
            if (ch < 0x20 || ch == 0x7f)
                lec_sbuf_printf(&sb, "\\x%02x", ch);
            else
                lec_sbuf_putc(&sb, (char)ch);
        }
        if ((size_t)n >= sizeof msg || sb.truncated)
            lec_sbuf_puts(&sb, " [truncated]");
    }
    /* The fixed buffer reserved 16 bytes: the newline always fits. */
    sb.cap += 16;
    lec_sbuf_putc(&sb, '\n');
    log->sink(log->sink_ud, sb.data, sb.len);
}

void lec_log_write(lec_log *log, lec_log_level level, const char *mod, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lec_log_vwrite(log, level, mod, fmt, ap);
    va_end(ap);
}

void lec_ratelimit_init(lec_ratelimit *rl, lec_tstamp interval, unsigned burst)
{
    memset(rl, 0, sizeof *rl);
    rl->interval = interval;
    rl->burst = burst;
}

bool lec_ratelimit_allow(lec_ratelimit *rl, lec_tstamp now)
{
    /* A clock that went backwards wraps to a huge difference: a new window. */
    if (rl->used == 0 || now - rl->window_start >= rl->interval) {
        rl->window_start = now;
        rl->used = 0;
    }
    if (rl->used < rl->burst) {
        rl->used++;
        return true;
    }
    rl->suppressed++;
    return false;
}
