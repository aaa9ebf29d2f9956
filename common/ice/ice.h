/*
 * ICE for one peer connection over libnice (a shell): ICE-lite by default
 * (we are a server with public addresses; the browser does the checks),
 * UDP host candidates on the configured addresses and port range, and the
 * 1:1 NAT address advertised in their place when ice.public_ip is set.
 * With BUNDLE and rtcp-mux there is one stream of one component.  No GLib
 * or libnice type in this header.
 */
#ifndef LEC_ICE_ICE_H
#define LEC_ICE_ICE_H

#include "base/addr.h"
#include "ice/glib_loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lec_ice lec_ice;

typedef enum lec_ice_state {
    LEC_ICE_NEW,
    LEC_ICE_CHECKING,
    LEC_ICE_CONNECTED,
    LEC_ICE_FAILED,
} lec_ice_state;

typedef struct lec_ice_cfg {
    lec_glib_loop *glib;
    const lec_ip *addresses; /* where to gather; none: every interface */
    size_t naddresses;
    uint16_t port_min, port_max; /* 0, 0: any port */
    lec_ip public_ip;            /* family 0: none */
    bool full;                   /* full ICE, controlling (tests, relay clients) */
    /* Datagrams that are not STUN (libnice answers those): DTLS, RTP, RTCP. */
    void (*on_packet)(void *ud, const uint8_t *data, size_t len);
    void (*on_state)(void *ud, lec_ice_state state);
    void *ud;
} lec_ice_cfg;

/* Creates the agent and gathers host candidates (at once: no STUN/TURN).
 * 0, LEC_ERR_NOMEM, LEC_ERR_IO (no port could be bound in the range),
 * LEC_ERR_INTERNAL. */
int lec_ice_new(lec_ice **out, const lec_ice_cfg *cfg);
/* Frees at once; no callback runs afterwards. */
void lec_ice_free(lec_ice *ice);

const char *lec_ice_ufrag(const lec_ice *ice);
const char *lec_ice_pwd(const lec_ice *ice);
/* Our candidates as a=candidate values (without "a=candidate:"), up to
 * max; returns how many. */
size_t lec_ice_candidates(const lec_ice *ice, char (*out)[160], size_t max);

/* An ICE restart (RFC 8445 9): new local credentials (ours, random), the
 * peer's new ones, checks start again on the same candidates; DTLS and
 * media carry on.  0 or LEC_ERR_INVAL. */
int lec_ice_restart(lec_ice *ice, const char *ufrag, const char *pwd);

/* The peer's credentials (from its SDP).  0 or LEC_ERR_INVAL. */
int lec_ice_set_remote(lec_ice *ice, const char *ufrag, const char *pwd);
/* One of the peer's candidates (an a=candidate value, trickled or from
 * SDP).  0 or LEC_ERR_INVAL. */
int lec_ice_add_remote_candidate(lec_ice *ice, const char *candidate);

/* Sends a datagram on the selected pair.  0, LEC_ERR_STATE before the
 * connection is up, LEC_ERR_IO. */
int lec_ice_send(lec_ice *ice, const uint8_t *data, size_t len);

lec_ice_state lec_ice_get_state(const lec_ice *ice);

#endif
