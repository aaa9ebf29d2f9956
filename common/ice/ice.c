/* ICE over libnice (ice.h). */
#include "ice/ice.h"
#include "sys/sys.h"
#include "base/err.h"

#include <agent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CANDIDATES 16

struct lec_ice {
    NiceAgent *agent;
    guint stream;
    lec_ice_cfg cfg;
    lec_ice_state state;
    char ufrag[64], pwd[128];
    char candidates[MAX_CANDIDATES][160];
    size_t ncandidates;
    gulong state_handler;
};

static void on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf,
                    gpointer ud)
{
    (void)agent;
    (void)stream;
    (void)component;
    lec_ice *ice = ud;
    if (ice->cfg.on_packet)
        ice->cfg.on_packet(ice->cfg.ud, (const uint8_t *)buf, len);
}

static void set_state(lec_ice *ice, lec_ice_state st)
{
    if (ice->state == st)
        return;
    ice->state = st;
    if (ice->cfg.on_state)
        ice->cfg.on_state(ice->cfg.ud, st);
}

static void on_component_state(NiceAgent *agent, guint stream, guint component, guint state,
                               gpointer ud)
{
    (void)agent;
    (void)stream;
    (void)component;
    lec_ice *ice = ud;
    switch (state) {
    case NICE_COMPONENT_STATE_CONNECTING:
        set_state(ice, LEC_ICE_CHECKING);
        break;
    case NICE_COMPONENT_STATE_CONNECTED:
    case NICE_COMPONENT_STATE_READY:
        set_state(ice, LEC_ICE_CONNECTED);
        break;
    case NICE_COMPONENT_STATE_FAILED:
        set_state(ice, LEC_ICE_FAILED);
        break;
    default:
        break;
    }
}

/* Replaces the address (the 5th field) of a candidate line with the 1:1
 * NAT address: "foundation component transport priority ADDRESS port typ
 * host".  The port stays: a 1:1 NAT maps ports unchanged. */
static void advertise_public(char *line, size_t cap, const lec_ip *ip)
{
    char *f = line;
    for (int i = 0; i < 4 && f; i++) {
        f = strchr(f, ' ');
        if (f)
            f++;
    }
    char *e = f ? strchr(f, ' ') : NULL;
    if (!e)
        return;
    char rest[160], addr[LEC_IP_STRLEN];
    snprintf(rest, sizeof rest, "%s", e);
    lec_ip_format(ip, addr, sizeof addr);
    snprintf(f, cap - (size_t)(f - line), "%s%s", addr, rest);
}

/* Our candidate lines, with the 1:1 NAT address in place of the local one. */
static void collect_candidates(lec_ice *ice)
{
    GSList *cands = nice_agent_get_local_candidates(ice->agent, ice->stream, 1);
    for (GSList *l = cands; l && ice->ncandidates < MAX_CANDIDATES; l = l->next) {
        NiceCandidate *c = l->data;
        gchar *sdp = nice_agent_generate_local_candidate_sdp(ice->agent, c);
        const char *v = sdp && !strncmp(sdp, "a=candidate:", 12) ? sdp + 12 : sdp;
        char *out = ice->candidates[ice->ncandidates];
        if (v && strlen(v) < sizeof ice->candidates[0]) {
            snprintf(out, sizeof ice->candidates[0], "%s", v);
            if (ice->cfg.public_ip.family)
                advertise_public(out, sizeof ice->candidates[0], &ice->cfg.public_ip);
            ice->ncandidates++;
        }
        g_free(sdp);
    }
    g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
}

/* n random ice-chars (RFC 8839: ALPHA / DIGIT / "+" / "/") from the
 * system's cryptographic generator: libnice draws its own credentials
 * from GLib's Mersenne Twister, which is not one. */
static void ice_chars(char *out, size_t n)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t r[64];
    const lec_rand *rnd = lec_sys_rand();
    rnd->fill(rnd->ud, r, n);
    for (size_t i = 0; i < n; i++)
        out[i] = set[r[i] & 63];
    out[n] = '\0';
}

int lec_ice_new(lec_ice **out, const lec_ice_cfg *cfg)
{
    *out = NULL;
    lec_ice *ice = calloc(1, sizeof *ice);
    if (!ice)
        return LEC_ERR_NOMEM;
    ice->cfg = *cfg;
    lec_glib_loop_forget_closed(cfg->glib); /* before our sockets take closed fds' numbers */
    ice->agent =
        nice_agent_new_full(lec_glib_loop_context(cfg->glib), NICE_COMPATIBILITY_RFC5245,
                            cfg->full ? NICE_AGENT_OPTION_NONE : NICE_AGENT_OPTION_LITE_MODE);
    if (!ice->agent) {
        free(ice);
        return LEC_ERR_INTERNAL;
    }
    /* upnp defaults to TRUE and multicasts SSDP off the host: never. */
    g_object_set(ice->agent, "upnp", FALSE, "ice-tcp", FALSE, "controlling-mode",
                 cfg->full ? TRUE : FALSE, NULL);
    for (size_t i = 0; i < cfg->naddresses; i++) {
        char ip[LEC_IP_STRLEN];
        NiceAddress a;
        nice_address_init(&a);
        if (nice_address_set_from_string(&a, lec_ip_format(&cfg->addresses[i], ip, sizeof ip)))
            nice_agent_add_local_address(ice->agent, &a);
    }
    ice->stream = nice_agent_add_stream(ice->agent, 1);
    if (!ice->stream)
        goto fail;
    if (cfg->port_min)
        nice_agent_set_port_range(ice->agent, ice->stream, 1, cfg->port_min, cfg->port_max);
    char uf[17], pw[33]; /* 96 and 192 bits */
    ice_chars(uf, 16);
    ice_chars(pw, 32);
    if (!nice_agent_set_local_credentials(ice->agent, ice->stream, uf, pw))
        goto fail;
    ice->state_handler = g_signal_connect(ice->agent, "component-state-changed",
                                          G_CALLBACK(on_component_state), ice);
    nice_agent_attach_recv(ice->agent, ice->stream, 1, lec_glib_loop_context(cfg->glib), on_recv,
                           ice);
    if (!nice_agent_gather_candidates(ice->agent, ice->stream)) {
        lec_ice_free(ice);
        return LEC_ERR_IO;
    }
    gchar *ufrag = NULL, *pwd = NULL;
    if (!nice_agent_get_local_credentials(ice->agent, ice->stream, &ufrag, &pwd))
        goto fail;
    snprintf(ice->ufrag, sizeof ice->ufrag, "%s", ufrag);
    snprintf(ice->pwd, sizeof ice->pwd, "%s", pwd);
    g_free(ufrag);
    g_free(pwd);
    collect_candidates(ice);
    if (ice->ncandidates == 0) {
        lec_ice_free(ice);
        return LEC_ERR_IO;
    }
    *out = ice;
    return 0;
fail:
    lec_ice_free(ice);
    return LEC_ERR_INTERNAL;
}

void lec_ice_free(lec_ice *ice)
{
    if (!ice)
        return;
    if (ice->agent) {
        if (ice->stream)
            nice_agent_attach_recv(ice->agent, ice->stream, 1, NULL, NULL, NULL);
        if (ice->state_handler)
            g_signal_handler_disconnect(ice->agent, ice->state_handler);
        g_object_unref(ice->agent);
    }
    free(ice);
}

const char *lec_ice_ufrag(const lec_ice *ice)
{
    return ice->ufrag;
}

const char *lec_ice_pwd(const lec_ice *ice)
{
    return ice->pwd;
}

size_t lec_ice_candidates(const lec_ice *ice, char (*out)[160], size_t max)
{
    size_t n = ice->ncandidates < max ? ice->ncandidates : max;
    for (size_t i = 0; i < n; i++)
        memcpy(out[i], ice->candidates[i], sizeof out[i]);
    return n;
}

int lec_ice_restart(lec_ice *ice, const char *ufrag, const char *pwd)
{
    char uf[17], pw[33];
    ice_chars(uf, 16);
    ice_chars(pw, 32);
    if (!*ufrag || !*pwd || !nice_agent_restart_stream(ice->agent, ice->stream) ||
        !nice_agent_set_local_credentials(ice->agent, ice->stream, uf, pw))
        return LEC_ERR_INVAL;
    snprintf(ice->ufrag, sizeof ice->ufrag, "%s", uf);
    snprintf(ice->pwd, sizeof ice->pwd, "%s", pw);
    return lec_ice_set_remote(ice, ufrag, pwd);
}

int lec_ice_set_remote(lec_ice *ice, const char *ufrag, const char *pwd)
{
    if (!*ufrag || !*pwd || !nice_agent_set_remote_credentials(ice->agent, ice->stream, ufrag, pwd))
        return LEC_ERR_INVAL;
    if (ice->state == LEC_ICE_NEW)
        set_state(ice, LEC_ICE_CHECKING);
    return 0;
}

int lec_ice_add_remote_candidate(lec_ice *ice, const char *candidate)
{
    char line[200];
    if (strlen(candidate) > 160)
        return LEC_ERR_INVAL;
    snprintf(line, sizeof line, "a=candidate:%s", candidate);
    NiceCandidate *c = nice_agent_parse_remote_candidate_sdp(ice->agent, ice->stream, line);
    if (!c)
        return LEC_ERR_INVAL;
    if (c->transport != NICE_CANDIDATE_TRANSPORT_UDP || c->component_id != 1) {
        nice_candidate_free(c);
        return 0; /* TCP candidates or RTCP components: not for us */
    }
    GSList *l = g_slist_append(NULL, c);
    int n = nice_agent_set_remote_candidates(ice->agent, ice->stream, 1, l);
    g_slist_free_full(l, (GDestroyNotify)nice_candidate_free);
    return n >= 0 ? 0 : LEC_ERR_INVAL;
}

int lec_ice_send(lec_ice *ice, const uint8_t *data, size_t len)
{
    /* A lite agent may hear the peer (its DTLS ClientHello) a moment before
     * its own state says connected; libnice sends as soon as a pair is
     * selected, so try unless ICE failed. */
    if (ice->state == LEC_ICE_FAILED || ice->state == LEC_ICE_NEW)
        return LEC_ERR_STATE;
    gint n = nice_agent_send(ice->agent, ice->stream, 1, (guint)len, (const gchar *)data);
    if (n == (gint)len)
        return 0;
    return ice->state == LEC_ICE_CONNECTED ? LEC_ERR_IO : LEC_ERR_STATE;
}

lec_ice_state lec_ice_get_state(const lec_ice *ice)
{
    return ice->state;
}
