/*
 * Where a peer may send us: the URL a node advertises for viewers (the
 * steering 307 carries the viewer's token there) and the relay address a
 * leg's packets go to are checked against the config's lists
 * (cluster.allowed_url_hosts, cluster.allowed_relay_networks) before
 * anyone is sent there.  An empty list allows any.  Pure.
 */
#ifndef LEC_CLUSTER_ALLOW_H
#define LEC_CLUSTER_ALLOW_H

#include "base/addr.h"

#include <stdbool.h>
#include <stddef.h>

/* `url` is http(s)://host[:port][/path], read by base/url.h's grammar (a
 * URL outside it is refused, whatever the list: a backslash, userinfo, a
 * query); an entry matches its host and the host's subdomains
 * ("example.com" allows "edge-1.example.com"). */
bool lec_allow_url(const char *url, char *const *hosts, size_t n);
/* `hostport` is an IP address with port, inside one of `nets`. */
bool lec_allow_relay_addr(const char *hostport, const lec_cidr *nets, size_t n);

#endif
