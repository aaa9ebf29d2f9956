/*
 * Logging: levels, text or JSON-lines, level checked before formatting.
 *
 * A lec_log is a context passed to whoever logs (no global logger in
 * common/).  The macros test the level before evaluating the arguments, so a
 * disabled debug line on the packet path costs one atomic load.  A line is
 * formatted into a stack buffer (never allocated) and handed whole to the
 * sink, which writes it with one call; lines from several threads therefore
 * never interleave.  Level and format are atomics: SIGHUP may change them
 * while workers log.
 */
#ifndef LEC_BASE_LOG_H
#define LEC_BASE_LOG_H

#include "base/time.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum lec_log_level {
    LEC_LOG_DEBUG = 0,
    LEC_LOG_INFO = 1,
    LEC_LOG_WARN = 2,
    LEC_LOG_ERROR = 3,
    LEC_LOG_OFF = 4,
} lec_log_level;

typedef enum lec_log_format {
    LEC_LOG_TEXT = 0,
    LEC_LOG_JSON = 1,
} lec_log_format;

/* Receives one complete line, newline included. */
typedef void (*lec_log_sink_fn)(void *ud, const char *line, size_t len);

#define LEC_LOG_LINE_MAX 2048 /* longer lines are cut and marked */

typedef struct lec_log {
    atomic_int level;
    atomic_int format;
    lec_log_sink_fn sink;
    void *sink_ud;
    const lec_clock *wall; /* Unix-epoch ns for timestamps; NULL: none */
    const char *node;      /* added to every line when set; borrowed */
} lec_log;

void lec_log_init(lec_log *log, lec_log_sink_fn sink, void *ud, const lec_clock *wall);
void lec_log_set_level(lec_log *log, lec_log_level level);
void lec_log_set_format(lec_log *log, lec_log_format format);

static inline bool lec_log_enabled(const lec_log *log, lec_log_level level)
{
    return log && (int)level >= atomic_load_explicit(&log->level, memory_order_relaxed);
}

/* Formats and emits a line; callers use the macros below. */
void lec_log_write(lec_log *log, lec_log_level level, const char *mod, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void lec_log_vwrite(lec_log *log, lec_log_level level, const char *mod, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* "debug" ... "error", "off"; returns 0 or LEC_ERR_INVAL. */
int lec_log_level_parse(const char *s, lec_log_level *out);
const char *lec_log_level_name(lec_log_level level);
int lec_log_format_parse(const char *s, lec_log_format *out);

#define LEC_LOG(log, lvl, mod, ...)                                                                \
    do {                                                                                           \
        if (lec_log_enabled((log), (lvl)))                                                         \
            lec_log_write((log), (lvl), (mod), __VA_ARGS__);                                       \
    } while (0)
#define LEC_DEBUG(log, mod, ...) LEC_LOG(log, LEC_LOG_DEBUG, mod, __VA_ARGS__)
#define LEC_INFO(log, mod, ...)  LEC_LOG(log, LEC_LOG_INFO, mod, __VA_ARGS__)
#define LEC_WARN(log, mod, ...)  LEC_LOG(log, LEC_LOG_WARN, mod, __VA_ARGS__)
#define LEC_ERROR(log, mod, ...) LEC_LOG(log, LEC_LOG_ERROR, mod, __VA_ARGS__)

/*
 * A rate limiter for per-packet logs: at most `burst` events per `interval`;
 * lec_ratelimit_allow returns false for the rest and counts them in
 * `suppressed`, which the caller may report (and reset) on the next allowed
 * event.  Single-threaded; one per owner.
 */
typedef struct lec_ratelimit {
    lec_tstamp interval;
    lec_tstamp window_start;
    unsigned burst;
    unsigned used;
    unsigned long suppressed;
} lec_ratelimit;

void lec_ratelimit_init(lec_ratelimit *rl, lec_tstamp interval, unsigned burst);
bool lec_ratelimit_allow(lec_ratelimit *rl, lec_tstamp now);

#endif
