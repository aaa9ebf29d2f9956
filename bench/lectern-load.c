/*
 * lectern-load: a load generator of our own, on Lectern's own stack (a
 * benchmark tool, not a test).  One synthetic publisher sends RTP at a
 * given bitrate over WHIP; N synthetic viewers play it over WHEP, each a
 * full PeerConnection (full ICE, DTLS client, SRTP).  Prints what the
 * viewers received as JSON.  Talks only to the server it is given
 * (loopback in bench/run.sh).
 *
 *   lectern-load --url http://127.0.0.1:8080 --viewers 50 --seconds 20
 *
 * With --view-only there is no publisher (another lectern-load on this
 * machine publishes; the delay is still measured against its clock).
 * With --view-url the viewers play from another node (an edge fed over
 * relay legs; a 307 from steering is followed).  Each video packet carries
 * the publisher's send time (monotonic ns, this machine's clock), so the
 * viewers report the end-to-end delay through every hop: p50/p95/p99.
 */
#define _GNU_SOURCE
#include "base/err.h"
#include "base/sbuf.h"
#include "peer/peer.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"
#include "sdp/sdp.h"
#include "srtp/srtp_session.h"
#include "sys/sys.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct client {
    lec_peer *peer;
    bool publisher;
    bool connected; /* now: a viewer whose peer failed or closed is not */
    bool ever_connected;
    uint64_t packets, bytes;
    /* Video while measuring: distinct sequence numbers seen (a bitmap),
     * the span they cover, the packets that came, and the longest silence,
     * counted from the window's start up to its end (a viewer that stops
     * getting video midway has a gap that lasts to the end of the run). */
    uint8_t *seen;
    lec_seq_unwrap unwrap;
    uint64_t first_ext, last_ext, unique, video;
    bool have_ext;
    uint64_t last_video_ns, max_gap_ns;
    uint64_t posted_ns, first_video_ns; /* join time: offer posted -> first video */
    char resource[512];                 /* the session's URL (Location), for DELETE */
    /* --hostile: this viewer floods NACKs and keyframe requests. */
    bool hostile;
    bool have_vseq;
    uint32_t vssrc;
    uint16_t vseq; /* the newest video sequence number it got */
} client;

#define LAT_BUCKETS 5000 /* 0.1 ms each: up to 500 ms */

static struct {
    char host[64];
    uint16_t port;
    char vhost[64];
    uint16_t vport;
    bool measuring;
    uint64_t sent_video; /* video packets the publisher sent while measuring */
    bool frozen;         /* the window is over: late repairs still count, new packets do not */
    uint64_t lat[LAT_BUCKETS + 1];
    uint64_t nlat;
    const char *stream, *token;
    int viewers, seconds, hostile;
    uint64_t bitrate;
    uv_loop_t loop;
    lec_glib_loop *glib;
    lec_dtls_cert *cert;
    lec_log log;
    client pub;
    client *v;
    uint16_t seq;
    uint32_t ts;
} g = {.stream = "bench", .token = "", .viewers = 10, .seconds = 20, .bitrate = 1500000};

/* A blocking HTTP/1.1 POST to our own server (the tool's setup path, not
 * its measured path).  Returns the status; the body into answer, and a
 * redirect's Location into location. */
static int http_post(const char *host, uint16_t port, const char *path, const char *body,
                     char *answer, size_t cap, char *location, size_t lcap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        close(fd);
        return -1;
    }
    char head[512];
    int n = snprintf(head, sizeof head,
                     "POST %s HTTP/1.1\r\nHost: %s:%u\r\nContent-Type: application/sdp\r\n"
                     "Authorization: Bearer %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     path, host, port, g.token, strlen(body));
    if (write(fd, head, (size_t)n) != n || write(fd, body, strlen(body)) != (ssize_t)strlen(body)) {
        close(fd);
        return -1;
    }
    size_t len = 0;
    ssize_t r;
    while (len + 1 < cap && (r = read(fd, answer + len, cap - len - 1)) > 0)
        len += (size_t)r;
    answer[len] = '\0';
    close(fd);
    int status = len > 12 ? atoi(answer + 9) : -1;
    const char *loc = strcasestr(answer, "\r\nLocation: ");
    if (loc && location) {
        size_t k = 0;
        for (loc += 12; *loc && *loc != '\r' && k + 1 < lcap; loc++)
            location[k++] = *loc;
        location[k] = '\0';
    }
    char *b = strstr(answer, "\r\n\r\n");
    if (b)
        memmove(answer, b + 4, strlen(b + 4) + 1);
    return status;
}

/* DELETE on a session URL (http://host:port/path): ends it at once
 * instead of leaving the server to notice the silence. */
static void http_delete(const char *url)
{
    char host[64], path[448];
    unsigned port;
    if (sscanf(url, "http://%63[^:]:%u%447s", host, &port, path) != 3)
        return;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    if (!connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        char req[640];
        int n = snprintf(req, sizeof req,
                         "DELETE %s HTTP/1.1\r\nHost: %s:%u\r\nConnection: close\r\n\r\n", path,
                         host, port);
        char buf[512];
        if (write(fd, req, (size_t)n) == n)
            while (read(fd, buf, sizeof buf) > 0) {
            }
    }
    close(fd);
}

static void on_state(void *ud, lec_peer *p, lec_peer_state st)
{
    (void)p;
    client *c = ud;
    c->connected = st == LEC_PEER_CONNECTED;
    c->ever_connected |= c->connected;
}

static uint64_t mono_ns(void)
{
    return lec_clock_now(lec_sys_clock());
}

static void on_rtp(void *ud, lec_peer *p, uint8_t *pkt, size_t len)
{
    (void)p;
    client *c = ud;
    c->packets++;
    c->bytes += len;
    lec_rtp_hdr h;
    if (lec_rtp_parse(pkt, len, &h) || h.payload_len < 12 || len < 200)
        return;
    /* Video: the newest sequence number, always; while measuring, which
     * numbers past the window's start arrived (a repair of an older one
     * is not counted against the window). */
    uint64_t ext = lec_seq_unwrap_next(&c->unwrap, h.seq);
    if (!c->have_vseq || lec_seq_newer(h.seq, c->vseq))
        c->vseq = h.seq;
    c->vssrc = h.ssrc, c->have_vseq = true;
    if (!c->first_video_ns)
        c->first_video_ns = mono_ns();
    if (!g.measuring) {
        c->last_ext = ext > c->last_ext ? ext : c->last_ext;
        return;
    }
    uint64_t t = mono_ns();
    if (!g.frozen) { /* past the window, its gaps are closed already */
        if (t - c->last_video_ns > c->max_gap_ns)
            c->max_gap_ns = t - c->last_video_ns;
        c->last_video_ns = t;
        c->video++;
    }
    if (!c->have_ext) {
        c->have_ext = true;
        c->first_ext = c->last_ext + 1;
    }
    if (ext > c->last_ext && !g.frozen)
        c->last_ext = ext;
    if (c->seen && ext >= c->first_ext && ext <= c->last_ext && ext - c->first_ext < (1u << 20)) {
        uint64_t k = ext - c->first_ext;
        if (!(c->seen[k / 8] & (1u << (k % 8)))) {
            c->seen[k / 8] |= (uint8_t)(1u << (k % 8));
            c->unique++;
        }
    }
    uint64_t sent = 0;
    for (int i = 0; i < 8; i++)
        sent = sent << 8 | pkt[h.header_len + 4 + i];
    uint64_t now = mono_ns();
    if (sent > now || now - sent > 10 * LEC_S)
        return;
    uint64_t b = (now - sent) / 100000; /* 0.1 ms */
    g.lat[b < LAT_BUCKETS ? b : LAT_BUCKETS]++;
    g.nlat++;
}

static double lat_pct(double q)
{
    uint64_t want = (uint64_t)(q * (double)g.nlat), seen = 0;
    for (int b = 0; b <= LAT_BUCKETS; b++)
        if ((seen += g.lat[b]) > want)
            return b / 10.0;
    return LAT_BUCKETS / 10.0;
}

/* Creates a client's peer and its offer, posts it, applies the answer. */
static int join(client *c, bool publisher)
{
    lec_ip lo;
    lec_ip_parse(g.host, &lo);
    lec_peer_cfg pc = {.loop = &g.loop,
                       .glib = g.glib,
                       .log = &g.log,
                       .cert = g.cert,
                       .dtls_server = false,
                       /* A server silent this long has failed the viewer
                        * (connected turns false), as a browser sees it. */
                       .silence_timeout = 5 * LEC_S};
    pc.ice.addresses = &lo;
    pc.ice.naddresses = 1;
    pc.ice.full = true;
    lec_peer_cbs cbs = {.state = on_state, .rtp = on_rtp, .ud = c};
    c->publisher = publisher;
    if (lec_peer_new(&c->peer, &pc, &cbs))
        return -1;
    lec_ice *ice = lec_peer_ice(c->peer);
    static lec_sdp offer, answer;
    memset(&offer, 0, sizeof offer);
    offer.sess_id = lec_rand_u64(lec_sys_rand()) >> 1;
    char cands[4][160];
    size_t nc = lec_ice_candidates(ice, cands, 4);
    for (int i = 0; i < 2; i++) {
        lec_sdp_media *m = &offer.media[offer.nmedia++];
        m->kind = i ? LEC_SDP_VIDEO : LEC_SDP_AUDIO;
        m->port = 9;
        snprintf(m->proto, sizeof m->proto, "UDP/TLS/RTP/SAVPF");
        snprintf(m->mid, sizeof m->mid, "%d", i);
        m->dir = publisher ? LEC_SDP_SENDONLY : LEC_SDP_RECVONLY;
        m->rtcp_mux = true;
        snprintf(m->ice_ufrag, sizeof m->ice_ufrag, "%s", lec_ice_ufrag(ice));
        snprintf(m->ice_pwd, sizeof m->ice_pwd, "%s", lec_ice_pwd(ice));
        snprintf(m->fingerprint, sizeof m->fingerprint, "%s", lec_dtls_cert_fingerprint(g.cert));
        m->setup = LEC_SDP_SETUP_ACTIVE;
        lec_sdp_codec *cd = &m->codecs[m->ncodecs++];
        *cd = (lec_sdp_codec){.pt = i ? 96 : 111,
                              .clock_rate = i ? 90000 : 48000,
                              .channels = i ? 0 : 2,
                              .rtx_apt = -1,
                              .fb = i ? LEC_FB_NACK | LEC_FB_PLI : 0};
        snprintf(cd->name, sizeof cd->name, i ? "VP8" : "opus");
        for (size_t k = 0; k < nc; k++)
            memcpy(m->candidates[m->ncandidates++], cands[k], sizeof m->candidates[0]);
        snprintf(offer.bundle[offer.nbundle++], sizeof offer.bundle[0], "%d", i);
    }
    lec_sbuf sb;
    lec_sbuf_init(&sb, NULL);
    lec_sdp_write(&offer, &sb);
    char path[512], resp[16384], loc[512] = "";
    snprintf(path, sizeof path, "/%s/%s", publisher ? "whip" : "whep", g.stream);
    const char *host = publisher ? g.host : g.vhost;
    uint16_t port = publisher ? g.port : g.vport;
    c->posted_ns = mono_ns();
    int st = http_post(host, port, path, sb.data, resp, sizeof resp, loc, sizeof loc);
    char rhost[64];
    unsigned rport;
    /* Steering may send a viewer elsewhere (307): follow it once. */
    if (st == 307 && sscanf(loc, "http://%63[^:]:%u%511s", rhost, &rport, path) == 3) {
        host = rhost;
        port = (uint16_t)rport;
        st = http_post(host, port, path, sb.data, resp, sizeof resp, loc, sizeof loc);
    }
    if (st == 201 && loc[0] == '/')
        snprintf(c->resource, sizeof c->resource, "http://%s:%u%s", host, port, loc);
    else if (st == 201)
        snprintf(c->resource, sizeof c->resource, "%s", loc);
    lec_sbuf_free(&sb);
    char err[128];
    if (st != 201 || lec_sdp_parse(resp, strlen(resp), &answer, err, sizeof err)) {
        fprintf(stderr, "lectern-load: %s answered %d: %.200s\n", path, st, resp);
        return -1;
    }
    const lec_sdp_media *am = &answer.media[0];
    uint8_t fp[32];
    if (lec_sdp_fingerprint_parse(lec_sdp_fingerprint(&answer, am), fp, 32) != 32)
        return -1;
    lec_peer_set_remote_fingerprint(c->peer, fp);
    lec_ice_set_remote(ice, lec_sdp_ufrag(&answer, am), lec_sdp_pwd(&answer, am));
    for (unsigned k = 0; k < am->ncandidates; k++)
        lec_ice_add_remote_candidate(ice, am->candidates[k]);
    return 0;
}

/* The publisher: video in ~1100-byte packets at the bitrate, plus Opus-
 * sized audio every 20 ms, every 10 ms tick.  A late timer (a loaded
 * machine) sends the ticks it missed at once, up to half a second of
 * them: the stream keeps its rate, so what viewers get is measured
 * against what was really sent (sent_video). */
static void send_tick(uint64_t tick)
{
    uint8_t buf[1500];
    uint64_t video_bytes = g.bitrate / 8 / 100;
    for (uint64_t sent = 0; sent < video_bytes;) {
        size_t chunk = video_bytes - sent < 1100 ? (size_t)(video_bytes - sent) : 1100;
        sent += chunk;
        bool first = sent == chunk;
        size_t n = lec_rtp_write_header(buf, 96, sent >= video_bytes, g.seq++, g.ts, 0x11111111);
        memset(buf + n, 0x5a, chunk);
        /* VP8's descriptor: a keyframe every 2 s (S, PID 0, P clear) so
         * the GOP cache has something to start joiners from. */
        buf[n] = first && tick % 3 == 0 ? 0x10 : 0x00;
        buf[n + 1] = first && tick % 201 == 0 ? 0x00 : 0x01;
        uint64_t now = mono_ns();
        for (int i = 0; i < 8 && chunk >= 12; i++)
            buf[n + 4 + i] = (uint8_t)(now >> (56 - 8 * i));
        lec_peer_send_rtp(g.pub.peer, buf, n + chunk, sizeof buf);
        if (g.measuring && !g.frozen)
            g.sent_video++;
    }
    if (tick % 3 == 0)
        g.ts += 3000; /* ~30 fps */
    if (tick % 2 == 0) {
        static uint16_t aseq;
        static uint32_t ats;
        size_t n = lec_rtp_write_header(buf, 111, false, aseq++, ats += 960, 0x22222222);
        memset(buf + n, 0x33, 80);
        lec_peer_send_rtp(g.pub.peer, buf, n + 80, sizeof buf);
    }
}

static void on_send(uv_timer_t *t)
{
    (void)t;
    static uint64_t tick, start;
    if (!g.pub.connected)
        return;
    uint64_t now = mono_ns();
    if (!start)
        start = now - 10 * LEC_MS;
    uint64_t due = (now - start) / (10 * LEC_MS);
    if (due > tick + 50)
        tick = due - 50; /* more than half a second late: those are lost */
    while (tick < due)
        send_tick(tick++);
}

/* Every viewer reports once a second (an RTCP RR, as a browser does): the
 * server takes authentic RTCP as the viewer's consent to keep receiving. */
static void on_report(uv_timer_t *t)
{
    (void)t;
    for (int i = 0; i < g.viewers && g.v; i++) {
        if (!g.v[i].connected)
            continue;
        uint8_t b[64 + 32];
        size_t n = lec_rtcp_build_rr(b, 64, 0x70000000u + (uint32_t)i, NULL, 0);
        if (n)
            lec_peer_send_rtcp(g.v[i].peer, b, n, sizeof b);
    }
}

/* --hostile: every 10 ms each hostile viewer NACKs the newest 256 video
 * packets it knows of (four RTCP packets of 64) and asks for a keyframe,
 * as a modified client would to pin the server and the teacher. */
static void on_hostile(uv_timer_t *t)
{
    (void)t;
    for (int i = 0; i < g.viewers && g.v; i++) {
        client *c = &g.v[i];
        if (!c->hostile || !c->connected || !c->have_vseq)
            continue;
        uint8_t b[512 + 32];
        uint16_t seqs[64];
        for (int k = 0; k < 4; k++) {
            for (int j = 0; j < 64; j++)
                seqs[j] = (uint16_t)(c->vseq - 255 + k * 64 + j);
            size_t n = lec_rtcp_build_nack(b, 512, 0x70000000u + (uint32_t)i, c->vssrc, seqs, 64);
            if (n)
                lec_peer_send_rtcp(c->peer, b, n, sizeof b);
        }
        size_t n = lec_rtcp_build_pli(b, 512, 0x70000000u + (uint32_t)i, c->vssrc);
        if (n)
            lec_peer_send_rtcp(c->peer, b, n, sizeof b);
    }
}

static void on_stop(uv_timer_t *t)
{
    uv_stop(t->loop);
}

static void run_for(int ms)
{
    uv_timer_t t;
    uv_timer_init(&g.loop, &t);
    uv_timer_start(&t, on_stop, (uint64_t)ms, 0);
    uv_run(&g.loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&g.loop, UV_RUN_NOWAIT);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"url", 1, NULL, 'u'},      {"stream", 1, NULL, 's'},
                                         {"token", 1, NULL, 't'},    {"viewers", 1, NULL, 'n'},
                                         {"seconds", 1, NULL, 'd'},  {"bitrate", 1, NULL, 'b'},
                                         {"view-url", 1, NULL, 'v'}, {"view-only", 0, NULL, 'o'},
                                         {"hostile", 1, NULL, 'H'},  {NULL, 0, NULL, 0}};
    const char *view_url = NULL;
    bool view_only = false;
    const char *url = "http://127.0.0.1:8080";
    int c;
    while ((c = getopt_long(argc, argv, "u:s:t:n:d:b:v:oH:", opts, NULL)) != -1) {
        switch (c) {
        case 'H':
            g.hostile = atoi(optarg);
            break;
        case 'o':
            view_only = true;
            break;
        case 'v':
            view_url = optarg;
            break;
        case 'u':
            url = optarg;
            break;
        case 's':
            g.stream = optarg;
            break;
        case 't':
            g.token = optarg;
            break;
        case 'n':
            g.viewers = atoi(optarg);
            break;
        case 'd':
            g.seconds = atoi(optarg);
            break;
        case 'b':
            g.bitrate = strtoull(optarg, NULL, 10);
            break;
        default:
            fprintf(stderr, "usage: lectern-load [--url http://127.0.0.1:8080] [--viewers N] "
                            "[--seconds S] [--bitrate BPS] [--stream NAME] [--token T] "
                            "[--view-url http://127.0.0.1:8081] [--view-only] [--hostile N]\n"
                            "  --hostile N: the first N viewers flood NACKs and keyframe "
                            "requests (an attack test)\n");
            return 2;
        }
    }
    unsigned port = 0;
    if (sscanf(url, "http://%63[^:]:%u", g.host, &port) != 2 || !port || port > 65535 ||
        g.viewers < 1 || g.viewers > 2000 || g.seconds < 1 || g.seconds > 600 || g.hostile < 0 ||
        g.hostile >= g.viewers) {
        fprintf(stderr, "lectern-load: bad --url, --viewers (1-2000), --seconds (1-600) or "
                        "--hostile (0 to viewers - 1)\n");
        return 2;
    }
    g.port = (uint16_t)port;
    unsigned vport = port;
    snprintf(g.vhost, sizeof g.vhost, "%s", g.host);
    if (view_url &&
        (sscanf(view_url, "http://%63[^:]:%u", g.vhost, &vport) != 2 || !vport || vport > 65535)) {
        fprintf(stderr, "lectern-load: bad --view-url\n");
        return 2;
    }
    g.vport = (uint16_t)vport;
    uv_loop_init(&g.loop);
    g.glib = lec_glib_loop_new(&g.loop);
    lec_log_init(&g.log, lec_sys_log_sink_fd, (void *)(intptr_t)2, NULL);
    lec_log_set_level(&g.log, LEC_LOG_WARN);
    if (lec_dtls_cert_new(&g.cert) || (!view_only && join(&g.pub, true)))
        return 1;
    uv_timer_t send_timer;
    uv_timer_init(&g.loop, &send_timer);
    uv_timer_start(&send_timer, on_send, 10, 10);
    uv_timer_t report_timer;
    uv_timer_init(&g.loop, &report_timer);
    uv_timer_start(&report_timer, on_report, 1000, 1000);
    uv_timer_t hostile_timer;
    uv_timer_init(&g.loop, &hostile_timer);
    if (g.hostile)
        uv_timer_start(&hostile_timer, on_hostile, 10, 10);
    if (!view_only)
        run_for(1500); /* the publisher connects and goes live */
    if (!view_only && !g.pub.connected) {
        fprintf(stderr, "lectern-load: the publisher did not connect\n");
        return 1;
    }
    g.v = calloc((size_t)g.viewers, sizeof *g.v);
    for (int i = 0; i < g.viewers; i++) {
        g.v[i].hostile = i < g.hostile;
        if (join(&g.v[i], false))
            return 1;
        run_for(5); /* let ICE start between joins */
    }
    run_for(2000); /* settle */
    for (int i = 0; i < g.viewers; i++)
        g.v[i].seen = calloc(1, 1u << 17);
    uint64_t p0 = 0, b0 = 0;
    for (int i = 0; i < g.viewers; i++)
        p0 += g.v[i].packets, b0 += g.v[i].bytes;
    lec_tstamp t0 = lec_clock_now(lec_sys_clock());
    struct timespec wall; /* for tests that line the window up with their events */
    clock_gettime(CLOCK_REALTIME, &wall);
    for (int i = 0; i < g.viewers; i++)
        g.v[i].last_video_ns = t0; /* a viewer silent from the start: a gap from the start */
    g.measuring = true;
    run_for(g.seconds * 1000);
    lec_tstamp t1 = lec_clock_now(lec_sys_clock());
    double dt = (double)(t1 - t0) / 1e9;
    /* Repairs of the window's last packets are still on their way. */
    g.frozen = true;
    for (int i = 0; i < g.viewers; i++) /* a gap still open at the window's end counts */
        if (t1 - g.v[i].last_video_ns > g.v[i].max_gap_ns)
            g.v[i].max_gap_ns = t1 - g.v[i].last_video_ns;
    uint64_t pw = 0, bw = 0;
    for (int i = 0; i < g.viewers; i++)
        pw += g.v[i].packets, bw += g.v[i].bytes;
    run_for(1000);
    uint64_t p1 = pw, b1 = bw, expected = 0, unique = 0, max_gap = 0;
    uint64_t min_video = UINT64_MAX, max_join = 0;
    int connected = 0, silent = 0, never = 0;
    lec_sbuf per;
    lec_sbuf_init(&per, NULL);
    for (int i = 0; i < g.viewers; i++) {
        client *v = &g.v[i];
        connected += v->connected;
        never += !v->ever_connected;
        silent += v->video == 0;
        uint64_t vexp = 0, join = v->first_video_ns ? v->first_video_ns - v->posted_ns : 0;
        if (v->have_ext && v->last_ext >= v->first_ext)
            vexp = v->last_ext - v->first_ext + 1;
        expected += vexp;
        unique += v->unique;
        max_gap = v->max_gap_ns > max_gap ? v->max_gap_ns : max_gap;
        min_video = v->video < min_video ? v->video : min_video;
        if (!v->first_video_ns)
            max_join = UINT64_MAX;
        else if (max_join != UINT64_MAX && join > max_join)
            max_join = join;
        lec_sbuf_printf(&per,
                        "%s{\"connected\":%s,\"hostile\":%s,\"video\":%llu,\"unique\":%llu,"
                        "\"lost\":%llu,\"gap_ms\":%.0f,\"last_video_ms\":%.0f,\"join_ms\":%.0f}",
                        i ? "," : "", v->connected ? "true" : "false",
                        v->hostile ? "true" : "false", (unsigned long long)v->video,
                        (unsigned long long)v->unique, (unsigned long long)(vexp - v->unique),
                        (double)v->max_gap_ns / 1e6, (double)(v->last_video_ns - t0) / 1e6,
                        v->first_video_ns ? (double)join / 1e6 : -1.0);
        free(v->seen);
    }
    for (int i = 0; i < g.viewers; i++)
        http_delete(g.v[i].resource);
    if (!view_only)
        http_delete(g.pub.resource);
    /* Aggregates, and each viewer's own figures: a test asserts on every
     * viewer (min_video, silent, connected), never only on a sum that one
     * silent viewer hides.  gap_ms includes a gap still open at the end;
     * join_ms (offer posted -> first video) is -1 for a viewer that never
     * got video; never_connected counts viewers whose connection never
     * came up; connected is the state at the end. */
    printf("{\"viewers\":%d,\"connected\":%d,\"never_connected\":%d,\"silent\":%d,"
           "\"min_video\":%llu,\"max_join_ms\":%.0f,\"t0_unix_ms\":%.0f,\"seconds\":%.1f,"
           "\"packets\":%llu,\"packets_per_s\":%.0f,\"mbps_per_viewer\":%.2f,"
           "\"latency_ms\":{\"p50\":%.1f,\"p95\":%.1f,\"p99\":%.1f,\"samples\":%llu},"
           "\"video_lost\":%llu,\"video_expected\":%llu,\"max_gap_ms\":%.0f,"
           "\"sent_video\":%llu,\"per_viewer\":[%s]}\n",
           g.viewers, connected, never, silent, (unsigned long long)min_video,
           max_join == UINT64_MAX ? -1.0 : (double)max_join / 1e6,
           (double)wall.tv_sec * 1e3 + (double)wall.tv_nsec / 1e6, dt,
           (unsigned long long)(p1 - p0), (double)(p1 - p0) / dt,
           (double)(b1 - b0) * 8 / dt / 1e6 / (connected ? connected : 1), lat_pct(0.5),
           lat_pct(0.95), lat_pct(0.99), (unsigned long long)g.nlat,
           (unsigned long long)(expected - unique), (unsigned long long)expected,
           (double)max_gap / 1e6, (unsigned long long)g.sent_video, per.data ? per.data : "");
    lec_sbuf_free(&per);
    return 0;
}
