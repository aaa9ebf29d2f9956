/* Reliable, ordered messages on a relay leg (msgline.h). */
#include "media/msgline.h"
#include "base/err.h"

#include <stdlib.h>
#include <string.h>

#define PT_APP    204
#define RTO_MIN   (60 * LEC_MS)
#define RTO_MAX   (2000 * LEC_MS)
#define RTO_START (250 * LEC_MS)

static const uint8_t NAME_DATA[4] = {'L', 'E', 'C', 'M'}, NAME_ACK[4] = {'L', 'E', 'C', 'A'};

void lec_msgline_init(lec_msgline *ml, uint32_t ssrc)
{
    memset(ml, 0, sizeof *ml);
    ml->ssrc = ssrc;
    ml->rto = RTO_START;
}

typedef struct lec_ml_wait {
    struct lec_ml_wait *next;
    size_t len;
    uint8_t data[];
} lec_ml_wait;

void lec_msgline_free(lec_msgline *ml)
{
    while (ml->wait_head) {
        lec_ml_wait *w = ml->wait_head;
        ml->wait_head = w->next;
        free(w);
    }
    ml->wait_tail = NULL;
    ml->nwait = ml->wait_bytes = 0;
    free(ml->tx);
    free(ml->rx);
    free(ml->msg);
    ml->tx = ml->rx = NULL;
    ml->msg = NULL;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Sequence order with wrap-around. */
static bool before(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

/* The RTCP APP header (RFC 3550 6.7): 12 bytes, then our 4-byte word. */
static size_t app_header(uint8_t *p, uint8_t subtype, const uint8_t name[4], uint32_t ssrc,
                         size_t body)
{
    size_t total = 12 + body; /* a multiple of 4 */
    p[0] = (uint8_t)(0x80 | (subtype & 0x1f));
    p[1] = PT_APP;
    p[2] = (uint8_t)((total / 4 - 1) >> 8);
    p[3] = (uint8_t)(total / 4 - 1);
    put32(p + 4, ssrc);
    memcpy(p + 8, name, 4);
    return total;
}

static void send_frag(lec_msgline *ml, lec_ml_frag *f, lec_tstamp now, const lec_ml_io *io)
{
    /* The payload is padded to a word with zeros; its real length is the
     * first 2 bytes after the sequence number. */
    uint8_t pkt[LEC_ML_PKT_MAX + LEC_ML_TRAILER];
    size_t body = 8 + ((size_t)f->len + 3) / 4 * 4;
    size_t n = app_header(pkt, f->flags, NAME_DATA, ml->ssrc, body);
    put32(pkt + 12, f->seq);
    pkt[16] = (uint8_t)(f->len >> 8), pkt[17] = (uint8_t)f->len;
    pkt[18] = pkt[19] = 0;
    memcpy(pkt + 20, f->data, f->len);
    memset(pkt + 20 + f->len, 0, body - 8 - f->len);
    f->sent = now;
    if (f->tries < UINT8_MAX)
        f->tries++;
    ml->st.packets_out++;
    io->send(io->ud, pkt, n);
}

static uint32_t frags_of(size_t len)
{
    return (uint32_t)((len + LEC_ML_FRAG - 1) / LEC_ML_FRAG);
}

static bool fits(const lec_msgline *ml, size_t len)
{
    return ml->next_seq - ml->acked + frags_of(len) <= LEC_ML_WINDOW;
}

static void send_now(lec_msgline *ml, const uint8_t *msg, size_t len, lec_tstamp now,
                     const lec_ml_io *io);

/* Sends what waited, in order, as far as the window allows. */
static void send_waiting(lec_msgline *ml, lec_tstamp now, const lec_ml_io *io)
{
    while (ml->wait_head && fits(ml, ml->wait_head->len)) {
        lec_ml_wait *w = ml->wait_head;
        ml->wait_head = w->next;
        if (!ml->wait_head)
            ml->wait_tail = NULL;
        ml->nwait--;
        ml->wait_bytes -= w->len;
        send_now(ml, w->data, w->len, now, io);
        free(w);
    }
}

int lec_msgline_send(lec_msgline *ml, const uint8_t *msg, size_t len, lec_tstamp now,
                     const lec_ml_io *io)
{
    if (!len || len > LEC_ML_MAX_MSG) {
        ml->st.refused++;
        return LEC_ERR_RANGE;
    }
    if (!ml->tx && !(ml->tx = calloc(LEC_ML_WINDOW, sizeof *ml->tx))) {
        ml->st.refused++;
        return LEC_ERR_NOMEM;
    }
    if (!ml->wait_head && fits(ml, len)) {
        send_now(ml, msg, len, now, io);
        return 0;
    }
    if (ml->nwait >= LEC_ML_QUEUE || ml->wait_bytes + len > LEC_ML_QUEUE_BYTES) {
        ml->st.refused++;
        return LEC_ERR_FULL;
    }
    lec_ml_wait *w = malloc(sizeof *w + len);
    if (!w) {
        ml->st.refused++;
        return LEC_ERR_NOMEM;
    }
    w->next = NULL;
    w->len = len;
    memcpy(w->data, msg, len);
    if (ml->wait_tail)
        ml->wait_tail->next = w;
    else
        ml->wait_head = w;
    ml->wait_tail = w;
    ml->nwait++;
    ml->wait_bytes += len;
    ml->st.queued++;
    return 0;
}

static void send_now(lec_msgline *ml, const uint8_t *msg, size_t len, lec_tstamp now,
                     const lec_ml_io *io)
{
    uint32_t frags = frags_of(len);
    for (uint32_t i = 0; i < frags; i++) {
        lec_ml_frag *f = &ml->tx[ml->next_seq % LEC_ML_WINDOW];
        size_t off = (size_t)i * LEC_ML_FRAG, n = len - off < LEC_ML_FRAG ? len - off : LEC_ML_FRAG;
        f->used = true;
        f->seq = ml->next_seq++;
        f->flags = (uint8_t)((i == 0 ? 1 : 0) | (i + 1 == frags ? 2 : 0));
        f->len = (uint16_t)n;
        f->tries = 0;
        memcpy(f->data, msg + off, n);
        send_frag(ml, f, now, io);
    }
    ml->st.messages_out++;
}

bool lec_msgline_is(const uint8_t *pkt, size_t len)
{
    return len >= 16 && (pkt[0] & 0xc0) == 0x80 && pkt[1] == PT_APP &&
           (!memcmp(pkt + 8, NAME_DATA, 4) || !memcmp(pkt + 8, NAME_ACK, 4));
}

/* ---- receiver ---- */

static void send_ack(lec_msgline *ml, const lec_ml_io *io)
{
    uint8_t pkt[20 + 4 * LEC_ML_MISSING + LEC_ML_TRAILER];
    uint32_t miss[LEC_ML_MISSING];
    unsigned nmiss = 0;
    /* Holes between what we expect and the newest we hold. */
    uint32_t newest = ml->expect;
    for (uint32_t s = ml->expect; ml->rx && before(s, ml->expect + LEC_ML_WINDOW); s++) {
        const lec_ml_frag *f = &ml->rx[s % LEC_ML_WINDOW];
        if (f->used && f->seq == s)
            newest = s;
    }
    for (uint32_t s = ml->expect; ml->rx && before(s, newest) && nmiss < LEC_ML_MISSING; s++) {
        const lec_ml_frag *f = &ml->rx[s % LEC_ML_WINDOW];
        if (!(f->used && f->seq == s))
            miss[nmiss++] = s;
    }
    size_t n = app_header(pkt, 0, NAME_ACK, ml->ssrc, 4 + 4 + 4 * (size_t)nmiss);
    put32(pkt + 12, ml->expect);
    put32(pkt + 16, nmiss);
    for (unsigned i = 0; i < nmiss; i++)
        put32(pkt + 20 + 4 * i, miss[i]);
    ml->st.acks_out++;
    io->send(io->ud, pkt, n);
}

/* Hands on whole messages, in order, from what is in. */
static void drain(lec_msgline *ml, const lec_ml_io *io)
{
    for (;;) {
        lec_ml_frag *f = &ml->rx[ml->expect % LEC_ML_WINDOW];
        if (!f->used || f->seq != ml->expect)
            return;
        f->used = false;
        ml->expect++;
        if (f->flags & 1) { /* a first fragment: a new message */
            ml->in_msg = true;
            ml->msg_len = 0;
        }
        if (!ml->in_msg || ml->msg_len + f->len > LEC_ML_MAX_MSG) {
            ml->in_msg = false; /* a tail with no head, or too long: dropped */
            ml->st.malformed++;
            continue;
        }
        memcpy(ml->msg + ml->msg_len, f->data, f->len);
        ml->msg_len += f->len;
        if (f->flags & 2) {
            ml->in_msg = false;
            ml->st.messages_in++;
            io->deliver(io->ud, ml->msg, ml->msg_len);
        }
    }
}

static void on_data(lec_msgline *ml, const uint8_t *pkt, size_t len, const lec_ml_io *io)
{
    if (len < 20) {
        ml->st.malformed++;
        return;
    }
    uint32_t seq = get32(pkt + 12);
    size_t n = (size_t)pkt[16] << 8 | pkt[17];
    if (n == 0 || n > LEC_ML_FRAG || 20 + n > len) {
        ml->st.malformed++;
        return;
    }
    if (!ml->rx && !(ml->rx = calloc(LEC_ML_WINDOW, sizeof *ml->rx)))
        return;
    if (!ml->msg && !(ml->msg = malloc(LEC_ML_MAX_MSG)))
        return;
    if (before(seq, ml->expect)) {
        ml->st.duplicates++; /* our ACK was lost: say it again */
    } else if (!before(seq, ml->expect + LEC_ML_WINDOW)) {
        ml->st.malformed++; /* beyond the window: the sender is not ours */
        return;
    } else {
        lec_ml_frag *f = &ml->rx[seq % LEC_ML_WINDOW];
        if (f->used && f->seq == seq) {
            ml->st.duplicates++;
        } else {
            f->used = true;
            f->seq = seq;
            f->flags = pkt[0] & 3;
            f->len = (uint16_t)n;
            memcpy(f->data, pkt + 20, n);
            drain(ml, io);
        }
    }
    send_ack(ml, io);
}

/* ---- sender, on an ACK ---- */

static void on_ack(lec_msgline *ml, const uint8_t *pkt, size_t len, lec_tstamp now,
                   const lec_ml_io *io)
{
    if (len < 20 || !ml->tx) {
        ml->st.malformed++;
        return;
    }
    uint32_t cum = get32(pkt + 12), nmiss = get32(pkt + 16);
    if (nmiss > LEC_ML_MISSING || 20 + 4 * (size_t)nmiss > len || before(ml->next_seq, cum)) {
        ml->st.malformed++;
        return;
    }
    ml->st.acks_in++;
    bool moved = before(ml->acked, cum);
    /* A round-trip sample from the newest fragment acknowledged, when the
     * ACK names no hole (so that fragment's own arrival sent it) and it
     * went once (Karn). */
    lec_ml_frag *newest = moved ? &ml->tx[(cum - 1) % LEC_ML_WINDOW] : NULL;
    if (newest && !nmiss && newest->used && newest->seq == cum - 1 && newest->tries == 1 &&
        now > newest->sent) {
        lec_tstamp rtt = now - newest->sent;
        ml->srtt = ml->srtt ? (ml->srtt * 7 + rtt) / 8 : rtt;
    }
    while (before(ml->acked, cum)) {
        lec_ml_frag *f = &ml->tx[ml->acked % LEC_ML_WINDOW];
        if (f->used && f->seq == ml->acked)
            f->used = false;
        ml->acked++;
    }
    if (moved)
        send_waiting(ml, now, io);
    if (moved) /* progress: the backoff is over */
        ml->rto = ml->srtt ? ml->srtt * 2 + 20 * LEC_MS : RTO_START;
    ml->rto = ml->rto < RTO_MIN ? RTO_MIN : ml->rto > RTO_MAX ? RTO_MAX : ml->rto;
    /* Holes: sent again now, unless sent again within a round trip. */
    lec_tstamp guard = ml->srtt ? ml->srtt : RTO_MIN;
    for (uint32_t i = 0; i < nmiss; i++) {
        uint32_t s = get32(pkt + 20 + 4 * i);
        lec_ml_frag *f = &ml->tx[s % LEC_ML_WINDOW];
        if (!before(s, ml->acked) && before(s, ml->next_seq) && f->used && f->seq == s &&
            now - f->sent >= guard) {
            ml->st.resent++;
            send_frag(ml, f, now, io);
        }
    }
}

void lec_msgline_input(lec_msgline *ml, const uint8_t *pkt, size_t len, lec_tstamp now,
                       const lec_ml_io *io)
{
    if (!lec_msgline_is(pkt, len) || (((size_t)pkt[2] << 8 | pkt[3]) + 1) * 4 > len) {
        ml->st.malformed++;
        return;
    }
    len = (((size_t)pkt[2] << 8 | pkt[3]) + 1) * 4;
    if (!memcmp(pkt + 8, NAME_DATA, 4))
        on_data(ml, pkt, len, io);
    else
        on_ack(ml, pkt, len, now, io);
}

void lec_msgline_tick(lec_msgline *ml, lec_tstamp now, const lec_ml_io *io)
{
    if (!ml->tx || ml->acked == ml->next_seq)
        return;
    bool backoff = false;
    for (uint32_t s = ml->acked; before(s, ml->next_seq); s++) {
        lec_ml_frag *f = &ml->tx[s % LEC_ML_WINDOW];
        if (!f->used || f->seq != s || now - f->sent < ml->rto)
            continue;
        ml->st.resent++;
        send_frag(ml, f, now, io);
        backoff = true;
    }
    if (backoff) {
        ml->rto *= 2;
        if (ml->rto > RTO_MAX)
            ml->rto = RTO_MAX;
    }
}

uint32_t lec_msgline_in_flight(const lec_msgline *ml)
{
    return ml->next_seq - ml->acked + (uint32_t)ml->nwait;
}
