/*
 * The operating system's clocks, random source and log sink, behind the
 * injected interfaces of common/base.  This is a shell: cores never include
 * it; nodes hand its objects to the cores and shells they build.
 */
#ifndef LEC_SYS_SYS_H
#define LEC_SYS_SYS_H

#include "base/addr.h"
#include "base/log.h"
#include "base/time.h"

/* CLOCK_MONOTONIC, in ns. */
const lec_clock *lec_sys_clock(void);
/* CLOCK_REALTIME, ns since the Unix epoch (log timestamps only). */
const lec_clock *lec_sys_wall_clock(void);
/* The kernel's CSPRNG (getrandom). */
const lec_rand *lec_sys_rand(void);

/* A log sink writing each line with one write(2) to the fd in `ud`
 * (cast from intptr_t), e.g. (void *)(intptr_t)2 for stderr. */
void lec_sys_log_sink_fd(void *ud, const char *line, size_t len);

/* systemd's sd_notify protocol (Type=notify units), without libsystemd:
 * one datagram to $NOTIFY_SOCKET ("/path" or "@abstract").  Returns 0 when
 * sent, LEC_ERR_NOTFOUND when NOTIFY_SOCKET is unset (not under systemd),
 * LEC_ERR_IO otherwise.  `state` is e.g. "READY=1" or "STOPPING=1". */
int lec_sys_notify(const char *state);
/* "RELOADING=1" with the MONOTONIC_USEC that Type=notify-reload wants. */
int lec_sys_notify_reloading(void);

struct sockaddr;
struct sockaddr_storage;
/* lec_addr <-> struct sockaddr.  to: returns the sockaddr length, or 0 for
 * an unset address.  from: 0, or LEC_ERR_INVAL for other families. */
unsigned lec_sys_sockaddr_from_addr(const lec_addr *a, struct sockaddr_storage *ss);
int lec_sys_addr_from_sockaddr(const struct sockaddr *sa, lec_addr *out);

#endif
