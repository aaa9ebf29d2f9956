/*
 * Error codes of Lectern.
 *
 * Every fallible function returns 0 or a negative LEC_ERR_* and documents
 * which codes it returns.  Codes at or below LEC_ERR_FATAL mean the process
 * (or at least the owning object) cannot go on: out of memory, a broken
 * invariant.  Everything above is an ordinary failure the caller handles,
 * usually by rejecting one input or one peer.
 */
#ifndef LEC_BASE_ERR_H
#define LEC_BASE_ERR_H

enum {
    LEC_OK = 0,
    LEC_ERR_INVAL = -1,        /* malformed input or invalid argument */
    LEC_ERR_RANGE = -2,        /* a value or size is outside its limits */
    LEC_ERR_NOTFOUND = -3,     /* no such object */
    LEC_ERR_EXISTS = -4,       /* the object already exists */
    LEC_ERR_AGAIN = -5,        /* not now: retry later */
    LEC_ERR_PROTO = -6,        /* the peer broke a protocol rule */
    LEC_ERR_IO = -7,           /* the operating system refused an I/O call */
    LEC_ERR_TIMEOUT = -8,      /* a deadline passed */
    LEC_ERR_AUTH = -9,         /* missing or wrong credentials */
    LEC_ERR_STATE = -10,       /* the call is not valid in this state */
    LEC_ERR_CLOSED = -11,      /* the object was closed */
    LEC_ERR_UNSUPPORTED = -12, /* a feature we do not implement */
    LEC_ERR_CONFIG = -13,      /* the configuration is invalid */
    LEC_ERR_FULL = -14,        /* a capacity limit was reached */
    LEC_ERR_FATAL = -500,      /* codes at or below this are fatal */
    LEC_ERR_NOMEM = -501,      /* an allocation failed */
    LEC_ERR_INTERNAL = -502,   /* a broken invariant: a bug */
};

/* A static English description of `err`; never NULL, also for unknown codes. */
const char *lec_strerror(int err);

/* Nonzero when `err` is fatal (see above). */
static inline int lec_err_is_fatal(int err)
{
    return err <= LEC_ERR_FATAL;
}

#endif
