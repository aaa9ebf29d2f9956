/* Error code descriptions (err.h). */
#include "base/err.h"

const char *lec_strerror(int err)
{
    switch (err) {
    case LEC_OK:
        return "success";
    case LEC_ERR_INVAL:
        return "invalid input";
    case LEC_ERR_RANGE:
        return "value out of range";
    case LEC_ERR_NOTFOUND:
        return "not found";
    case LEC_ERR_EXISTS:
        return "already exists";
    case LEC_ERR_AGAIN:
        return "try again";
    case LEC_ERR_PROTO:
        return "protocol violation";
    case LEC_ERR_IO:
        return "I/O error";
    case LEC_ERR_TIMEOUT:
        return "timed out";
    case LEC_ERR_AUTH:
        return "not authorized";
    case LEC_ERR_STATE:
        return "invalid state";
    case LEC_ERR_CLOSED:
        return "closed";
    case LEC_ERR_UNSUPPORTED:
        return "not supported";
    case LEC_ERR_CONFIG:
        return "invalid configuration";
    case LEC_ERR_FULL:
        return "capacity reached";
    case LEC_ERR_FATAL:
        return "fatal error";
    case LEC_ERR_NOMEM:
        return "out of memory";
    case LEC_ERR_INTERNAL:
        return "internal error";
    default:
        return "unknown error";
    }
}
