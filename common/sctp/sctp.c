/*
 * SCTP over DTLS on libusrsctp (sctp.h).
 *
 * libusrsctp keeps process-wide state (its stack, its timer wheel), so
 * this file has the one table it needs: association id -> lec_sctp, under
 * a lock, for the output and readiness callbacks that libusrsctp may run
 * on any thread.  Those callbacks only queue and flag; the owner does the
 * rest in lec_sctp_poll.  Lock order: libusrsctp's own locks, then g_mu;
 * we never call into libusrsctp while holding g_mu.  (g_tick_mu is held
 * across usrsctp_handle_timers, before libusrsctp's locks, and only tried:
 * a worker that finds another advancing the timers goes on.)
 */
#include "sctp/sctp.h"
#include "base/err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <usrsctp.h>

#define BUCKETS     1024
#define MAX_QUEUE   256  /* packets out waiting for the owner */
#define PATH_MTU    1150 /* + DTLS record overhead (<= 37 bytes) fits the 1200-byte datagrams */
/* Streams each way: a session uses one channel (lectern, stream 0 or 1);
 * browsers ask 1024, and the INIT takes the smaller count (libusrsctp keeps
 * state per stream and direction; a hostile page gets no more). */
#define STREAMS     16
#define POLL_ROUNDS 64   /* reads per poll: one busy peer cannot hold its worker */

typedef struct qpkt {
    struct qpkt *next;
    size_t len;
    uint8_t data[];
} qpkt;

struct lec_sctp {
    uintptr_t id; /* the AF_CONN address libusrsctp knows us by */
    lec_sctp_cfg cfg;
    lec_sctp_cbs cbs;
    struct socket *sock;
    lec_sctp_state state;
    size_t peer_max;
    lec_sctp_stats st;
    bool polling, freeing;
    /* a message being reassembled (libusrsctp may hand it in parts) */
    uint8_t *msg;
    size_t msg_len;
    uint16_t msg_sid;
    bool msg_skip;                    /* past max_message: drop the rest up to its end */
    uint8_t reset_by_us[STREAMS / 8]; /* streams we reset: the peer's reset back ends it */
    /* under g_mu */
    qpkt *qhead, *qtail;
    unsigned qlen;
    uint64_t qdrops;
    struct lec_sctp *hnext;
    atomic_bool pending;
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;      /* the table and the queues */
static pthread_mutex_t g_tick_mu = PTHREAD_MUTEX_INITIALIZER; /* timer advances */
static lec_sctp *g_table[BUCKETS];
static uintptr_t g_next_id = 1;
static uint64_t g_last_ms;
static bool g_ticked;

static lec_sctp *find(uintptr_t id)
{
    for (lec_sctp *s = g_table[id % BUCKETS]; s; s = s->hnext)
        if (s->id == id)
            return s;
    return NULL;
}

/* libusrsctp's output callback, on whatever thread it runs. */
static int conn_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df)
{
    (void)tos, (void)set_df;
    qpkt *q = malloc(sizeof *q + len);
    pthread_mutex_lock(&g_mu);
    lec_sctp *s = find((uintptr_t)addr);
    if (s && q && s->qlen < MAX_QUEUE) {
        q->next = NULL;
        q->len = len;
        memcpy(q->data, buf, len);
        if (s->qtail)
            s->qtail->next = q;
        else
            s->qhead = q;
        s->qtail = q;
        s->qlen++;
        q = NULL;
        atomic_store(&s->pending, true);
    } else if (s) {
        s->qdrops++;
    }
    pthread_mutex_unlock(&g_mu);
    free(q);
    return 0;
}

/* The socket became readable (or writable, or errored): flag it. */
static void upcall(struct socket *sock, void *arg, int flags)
{
    (void)sock, (void)flags;
    pthread_mutex_lock(&g_mu);
    lec_sctp *s = find((uintptr_t)arg);
    if (s)
        atomic_store(&s->pending, true);
    pthread_mutex_unlock(&g_mu);
}

static void init_once(void)
{
    usrsctp_init_nothreads(0, conn_output, NULL);
    usrsctp_sysctl_set_sctp_ecn_enable(0);
    usrsctp_sysctl_set_sctp_udp_tunneling_port(0);
    /* Loss on a browser's path is repaired in a few round trips, not
     * after the 1 s floor of RFC 4960; a SACK waits 20 ms, not 200. */
    usrsctp_sysctl_set_sctp_rto_min_default(120);
    usrsctp_sysctl_set_sctp_rto_initial_default(1000);
    usrsctp_sysctl_set_sctp_rto_max_default(5000);
    usrsctp_sysctl_set_sctp_init_rto_max_default(5000);
    usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
}

static int set_opts(struct socket *so)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0}; /* close aborts: no lingering state */
    struct sctp_assoc_value av = {.assoc_id = SCTP_ALL_ASSOC, .assoc_value = 1};
    uint32_t on = 1;
    struct sctp_initmsg im = {.sinit_num_ostreams = STREAMS, .sinit_max_instreams = STREAMS};
    if (usrsctp_set_non_blocking(so, 1) ||
        usrsctp_setsockopt(so, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) ||
        usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &av, sizeof av) ||
        usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof on) ||
        usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on) ||
        usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_INITMSG, &im, sizeof im))
        return -1;
    static const uint16_t events[] = {SCTP_ASSOC_CHANGE, SCTP_SHUTDOWN_EVENT,
                                      SCTP_STREAM_RESET_EVENT, SCTP_SEND_FAILED_EVENT};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        struct sctp_event ev = {.se_assoc_id = SCTP_ALL_ASSOC, .se_on = 1, .se_type = events[i]};
        if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev))
            return -1;
    }
    return 0;
}

static struct sockaddr_conn conn_addr(const lec_sctp *s, uint16_t port)
{
    struct sockaddr_conn a;
    memset(&a, 0, sizeof a);
    a.sconn_family = AF_CONN;
    a.sconn_port = htons(port);
    a.sconn_addr = (void *)s->id;
    return a;
}

int lec_sctp_new(lec_sctp **out, const lec_sctp_cfg *cfg, const lec_sctp_cbs *cbs)
{
    *out = NULL;
    pthread_once(&g_once, init_once);
    lec_sctp *s = calloc(1, sizeof *s);
    if (!s)
        return LEC_ERR_NOMEM;
    s->cfg = *cfg;
    s->cbs = *cbs;
    if (!s->cfg.max_message)
        s->cfg.max_message = 65536;
    s->msg = malloc(s->cfg.max_message);
    if (!s->msg) {
        free(s);
        return LEC_ERR_NOMEM;
    }
    pthread_mutex_lock(&g_mu);
    s->id = g_next_id++;
    s->hnext = g_table[s->id % BUCKETS];
    g_table[s->id % BUCKETS] = s;
    pthread_mutex_unlock(&g_mu);
    usrsctp_register_address((void *)s->id);
    s->sock = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
    struct sockaddr_conn local = conn_addr(s, cfg->local_port);
    if (!s->sock || set_opts(s->sock) || usrsctp_set_upcall(s->sock, upcall, (void *)s->id) ||
        usrsctp_bind(s->sock, (struct sockaddr *)&local, sizeof local)) {
        lec_sctp_free(s);
        return LEC_ERR_INTERNAL;
    }
    *out = s;
    return 0;
}

int lec_sctp_connect(lec_sctp *s)
{
    struct sockaddr_conn remote = conn_addr(s, s->cfg.remote_port);
    if (usrsctp_connect(s->sock, (struct sockaddr *)&remote, sizeof remote) < 0 &&
        errno != EINPROGRESS)
        return LEC_ERR_INTERNAL;
    /* No path MTU discovery: the DTLS datagrams are 1200 bytes at most. */
    struct sctp_paddrparams pp;
    memset(&pp, 0, sizeof pp);
    memcpy(&pp.spp_address, &remote, sizeof remote);
    pp.spp_flags = SPP_PMTUD_DISABLE;
    pp.spp_pathmtu = PATH_MTU;
    usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp);
    lec_sctp_poll(s);
    return 0;
}

/* Sends what libusrsctp queued for us, in order. */
static void flush(lec_sctp *s)
{
    pthread_mutex_lock(&g_mu);
    qpkt *q = s->qhead;
    s->qhead = s->qtail = NULL;
    s->qlen = 0;
    s->st.queue_drops = s->qdrops;
    pthread_mutex_unlock(&g_mu);
    while (q) {
        qpkt *next = q->next;
        if (s->cbs.output) /* freeing too: the ABORT */
            s->cbs.output(s->cbs.ud, q->data, q->len);
        free(q);
        q = next;
    }
}

static void set_state(lec_sctp *s, lec_sctp_state st)
{
    if (s->state == st || s->state == LEC_SCTP_CLOSED)
        return;
    s->state = st;
    if (s->cbs.state && !s->freeing)
        s->cbs.state(s->cbs.ud, st);
}

static bool was_reset_by_us(lec_sctp *s, uint16_t sid, bool clear)
{
    if (sid >= STREAMS)
        return false;
    bool set = s->reset_by_us[sid / 8] & (1u << (sid % 8));
    if (clear)
        s->reset_by_us[sid / 8] &= (uint8_t) ~(1u << (sid % 8));
    return set;
}

static void reset_out(lec_sctp *s, uint16_t sid, bool ours);

static void one_reset(lec_sctp *s, uint16_t sid)
{
    /* RFC 8831 6.7: the peer closed its side; we close ours, unless this
     * is its answer to our own reset. */
    if (!was_reset_by_us(s, sid, true))
        reset_out(s, sid, false);
    if (s->cbs.reset && !s->freeing)
        s->cbs.reset(s->cbs.ud, sid);
}

static void on_stream_reset(lec_sctp *s, const struct sctp_stream_reset_event *e, size_t len)
{
    if (len < sizeof *e)
        return;
    uint16_t fl = e->strreset_flags;
    size_t n = (len - sizeof *e) / sizeof e->strreset_stream_list[0];
    if (fl & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) {
        for (size_t i = 0; i < n; i++) /* ours did not happen: no answer is coming */
            was_reset_by_us(s, e->strreset_stream_list[i], true);
        return;
    }
    if (!(fl & SCTP_STREAM_RESET_INCOMING_SSN))
        return;
    for (size_t i = 0; i < n; i++)
        one_reset(s, e->strreset_stream_list[i]);
    if (!n && s->cbs.reset && !s->freeing) /* an empty list: every stream */
        s->cbs.reset(s->cbs.ud, LEC_SCTP_ALL_STREAMS);
}

static void on_notification(lec_sctp *s, const union sctp_notification *n, size_t len)
{
    if (len < sizeof n->sn_header || n->sn_header.sn_length != len)
        return;
    switch (n->sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE:
        if (len < sizeof n->sn_assoc_change)
            return;
        switch (n->sn_assoc_change.sac_state) {
        case SCTP_COMM_UP:
        case SCTP_RESTART:
            set_state(s, LEC_SCTP_OPEN);
            break;
        case SCTP_COMM_LOST:
        case SCTP_SHUTDOWN_COMP:
        case SCTP_CANT_STR_ASSOC:
            set_state(s, LEC_SCTP_CLOSED);
            break;
        }
        break;
    case SCTP_SHUTDOWN_EVENT:
        set_state(s, LEC_SCTP_CLOSED);
        break;
    case SCTP_STREAM_RESET_EVENT:
        on_stream_reset(s, &n->sn_strreset_event, len);
        break;
    case SCTP_SEND_FAILED_EVENT:
        s->st.send_failed++;
        break;
    }
}

/* Reads what arrived; false when nothing was there. */
static bool read_some(lec_sctp *s)
{
    struct sctp_rcvinfo info;
    struct sockaddr_conn from;
    socklen_t fromlen = sizeof from, infolen = sizeof info;
    unsigned infotype = 0;
    int flags = 0;
    size_t room = s->cfg.max_message - s->msg_len;
    uint8_t spill[2304]; /* a message past max_message is read here and dropped */
    uint8_t *into = s->msg_skip || !room ? spill : s->msg + s->msg_len;
    size_t cap = s->msg_skip || !room ? sizeof spill : room;
    ssize_t n = usrsctp_recvv(s->sock, into, cap, (struct sockaddr *)&from, &fromlen, &info,
                              &infolen, &infotype, &flags);
    if (n < 0)
        return false;
    if (n == 0) { /* end of stream: the association is gone */
        set_state(s, LEC_SCTP_CLOSED);
        return false;
    }
    if (flags & MSG_NOTIFICATION) {
        /* Notifications are small and come whole; copied to be aligned. */
        _Alignas(8) uint8_t nb[2304]; /* a stream reset lists up to 1024 streams */
        if ((size_t)n <= sizeof nb) {
            memcpy(nb, into, (size_t)n);
            on_notification(s, (const union sctp_notification *)(void *)nb, (size_t)n);
        }
        return true;
    }
    bool eor = flags & MSG_EOR;
    if (infotype == SCTP_RECVV_RCVINFO) {
        if ((s->msg_len || s->msg_skip) && info.rcv_sid != s->msg_sid) {
            /* The one before was abandoned part way (partial reliability):
             * what came starts the next message. */
            s->msg_skip = false;
            if ((size_t)n > s->cfg.max_message) {
                into = spill;
            } else {
                memmove(s->msg, into, (size_t)n);
                into = s->msg;
            }
            s->msg_len = 0;
        }
        s->msg_sid = info.rcv_sid;
        was_reset_by_us(s, info.rcv_sid, true); /* the stream is in use again */
    }
    if (into == spill) {
        if (!s->msg_skip) {
            s->msg_skip = true;
            s->st.oversized++;
        }
    } else {
        s->msg_len += (size_t)n;
    }
    if (!eor)
        return true;
    if (!s->msg_skip && infotype == SCTP_RECVV_RCVINFO) {
        s->st.messages_in++;
        s->st.bytes_in += s->msg_len;
        if (s->cbs.message && !s->freeing)
            s->cbs.message(s->cbs.ud, info.rcv_sid, ntohl(info.rcv_ppid), s->msg, s->msg_len);
    }
    s->msg_len = 0;
    s->msg_skip = false;
    return true;
}

void lec_sctp_poll(lec_sctp *s)
{
    if (s->polling)
        return; /* a callback sent: the outer loop flushes it */
    s->polling = true;
    /* Cleared before reading: what another thread flags from here on
     * calls for the next poll. */
    atomic_store(&s->pending, false);
    int round = 0;
    for (; round < POLL_ROUNDS; round++) {
        flush(s);
        if (!s->sock || !read_some(s))
            break;
    }
    flush(s);
    if (round == POLL_ROUNDS) /* more may wait: the next tick reads on */
        atomic_store(&s->pending, true);
    s->polling = false;
}

bool lec_sctp_wants_poll(lec_sctp *s)
{
    return atomic_load(&s->pending);
}

void lec_sctp_input(lec_sctp *s, const uint8_t *pkt, size_t len)
{
    usrsctp_conninput((void *)s->id, pkt, len, 0);
    lec_sctp_poll(s);
}

int lec_sctp_send(lec_sctp *s, uint16_t sid, uint32_t ppid, const void *data, size_t len,
                  bool unordered, int max_rtx)
{
    if (s->state != LEC_SCTP_OPEN) {
        s->st.send_failed++;
        return LEC_ERR_STATE;
    }
    if (s->peer_max && len > s->peer_max) {
        s->st.send_failed++;
        return LEC_ERR_RANGE;
    }
    struct sctp_sendv_spa spa;
    memset(&spa, 0, sizeof spa);
    spa.sendv_sndinfo.snd_sid = sid;
    spa.sendv_sndinfo.snd_flags = SCTP_EOR | (unordered ? SCTP_UNORDERED : 0);
    spa.sendv_sndinfo.snd_ppid = htonl(ppid);
    spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
    if (max_rtx >= 0) {
        spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
        spa.sendv_prinfo.pr_value = (uint32_t)max_rtx;
        spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    }
    static const uint8_t empty = 0; /* RFC 8831 6.6: an empty message is one byte */
    ssize_t n = usrsctp_sendv(s->sock, len ? data : &empty, len ? len : 1, NULL, 0, &spa,
                              sizeof spa, SCTP_SENDV_SPA, 0);
    if (n < 0) {
        s->st.send_failed++;
        return errno == EWOULDBLOCK || errno == EAGAIN || errno == ENOBUFS ? LEC_ERR_FULL
                                                                           : LEC_ERR_STATE;
    }
    s->st.messages_out++;
    s->st.bytes_out += len;
    /* Out only: sending never reads and dispatches what came in (a
     * caller that sends to many sessions in a loop, as a quiz's release
     * does, must not have a message callback run in between: it could
     * free what the loop walks).  Input is read in lec_sctp_input and
     * the tick's poll. */
    if (!s->polling)
        flush(s);
    return 0;
}

void lec_sctp_reset_stream(lec_sctp *s, uint16_t sid)
{
    reset_out(s, sid, true);
}

/* Resets our outgoing stream.  `ours`: we close it first, so the peer's
 * reset back is its answer (not a close to answer). */
static void reset_out(lec_sctp *s, uint16_t sid, bool ours)
{
    if (!s->sock || s->state != LEC_SCTP_OPEN)
        return;
    size_t sz = sizeof(struct sctp_reset_streams) + sizeof(uint16_t);
    struct sctp_reset_streams *r = calloc(1, sz);
    if (!r)
        return;
    r->srs_assoc_id = SCTP_ALL_ASSOC;
    r->srs_flags = SCTP_STREAM_RESET_OUTGOING;
    r->srs_number_streams = 1;
    r->srs_stream_list[0] = sid;
    if (!usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, r, (socklen_t)sz) && ours &&
        sid < STREAMS)
        s->reset_by_us[sid / 8] |= (uint8_t)(1u << (sid % 8));
    free(r);
    lec_sctp_poll(s);
}

void lec_sctp_free(lec_sctp *s)
{
    if (!s)
        return;
    s->freeing = true;
    if (s->sock) {
        usrsctp_set_upcall(s->sock, NULL, NULL);
        usrsctp_close(s->sock); /* SO_LINGER 0: an ABORT, queued now */
        s->sock = NULL;
    }
    flush(s); /* the ABORT goes out while the peer can still send it */
    pthread_mutex_lock(&g_mu);
    for (lec_sctp **pp = &g_table[s->id % BUCKETS]; *pp; pp = &(*pp)->hnext)
        if (*pp == s) {
            *pp = s->hnext;
            break;
        }
    qpkt *q = s->qhead;
    pthread_mutex_unlock(&g_mu);
    usrsctp_deregister_address((void *)s->id);
    while (q) {
        qpkt *next = q->next;
        free(q);
        q = next;
    }
    free(s->msg);
    free(s);
}

void lec_sctp_set_peer_max_message(lec_sctp *s, size_t max)
{
    s->peer_max = max;
}

lec_sctp_state lec_sctp_get_state(const lec_sctp *s)
{
    return s->state;
}

const lec_sctp_stats *lec_sctp_stats_get(const lec_sctp *s)
{
    return &s->st;
}

int lec_sctp_rtt_ms(lec_sctp *s)
{
    struct sctp_status st;
    socklen_t len = sizeof st;
    memset(&st, 0, sizeof st);
    if (!s->sock || s->state != LEC_SCTP_OPEN ||
        usrsctp_getsockopt(s->sock, IPPROTO_SCTP, SCTP_STATUS, &st, &len))
        return -1;
    return (int)st.sstat_primary.spinfo_srtt;
}

int lec_sctp_library_shutdown(void)
{
    pthread_mutex_lock(&g_tick_mu);
    int rc = 0;
    if (g_ticked || g_next_id > 1) {
        /* Freed sockets go on the wheel's last timers (their PCBs are
         * killed by a timer); a few virtual seconds let them run. */
        rc = LEC_ERR_STATE;
        for (int i = 0; i < 100 && rc; i++) {
            usrsctp_handle_timers(100);
            rc = usrsctp_finish() == 0 ? 0 : LEC_ERR_STATE;
        }
    }
    pthread_mutex_unlock(&g_tick_mu);
    return rc;
}

void lec_sctp_tick(lec_tstamp now)
{
    pthread_once(&g_once, init_once);
    uint64_t ms = now / LEC_MS;
    if (pthread_mutex_trylock(&g_tick_mu))
        return; /* another worker is running them: not ours to wait on */
    if (!g_ticked) {
        g_ticked = true;
        g_last_ms = ms;
    } else if (ms > g_last_ms) {
        uint64_t e = ms - g_last_ms;
        g_last_ms = ms;
        usrsctp_handle_timers((uint32_t)(e > 60000 ? 60000 : e));
    }
    pthread_mutex_unlock(&g_tick_mu);
}
