/*
 * IP addresses, socket addresses and CIDR blocks as plain values, with
 * parsing and formatting.  Our own type rather than struct sockaddr so that
 * cores (the cluster view, steering) can hold addresses without OS headers;
 * shells convert at the socket.
 */
#ifndef LEC_BASE_ADDR_H
#define LEC_BASE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lec_ip {
    uint8_t family; /* 4 or 6; 0: unset */
    uint8_t bytes[16];
} lec_ip;

typedef struct lec_addr {
    lec_ip ip;
    uint16_t port;
} lec_addr;

typedef struct lec_cidr {
    lec_ip ip;      /* the network, host bits cleared */
    uint8_t prefix; /* 0..32 or 0..128 */
} lec_cidr;

#define LEC_IP_STRLEN   46 /* INET6_ADDRSTRLEN */
#define LEC_ADDR_STRLEN 56 /* "[v6]:65535" */

/* "192.0.2.1" or "2001:db8::1".  0 or LEC_ERR_INVAL. */
int lec_ip_parse(const char *s, lec_ip *out);
/* "192.0.2.1:80", "[2001:db8::1]:80", "*:80" or ":80" (any IPv4 address).
 * The port must be given and be 0..65535.  0 or LEC_ERR_INVAL. */
int lec_addr_parse(const char *s, lec_addr *out);
/* "10.0.0.0/8", "2001:db8::/32"; a bare address is a /32 or /128.
 * Host bits set below the prefix are LEC_ERR_INVAL (a typo, usually). */
int lec_cidr_parse(const char *s, lec_cidr *out);

bool lec_ip_equal(const lec_ip *a, const lec_ip *b);
bool lec_ip_is_any(const lec_ip *ip);
/* Whether `ip` lies in `c`.  IPv4-mapped IPv6 addresses match IPv4 blocks. */
bool lec_cidr_contains(const lec_cidr *c, const lec_ip *ip);

/* Format into `out` (at least LEC_IP_STRLEN / LEC_ADDR_STRLEN); returns out. */
char *lec_ip_format(const lec_ip *ip, char *out, size_t cap);
char *lec_addr_format(const lec_addr *a, char *out, size_t cap);

#endif
