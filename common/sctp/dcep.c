/* Data channels and DCEP (dcep.h). */
#include "sctp/dcep.h"

#include <stdio.h>
#include <string.h>

#define OPEN_MSG 0x03 /* RFC 8832 8.2.1 */
#define ACK_MSG  0x02

void lec_dcep_init(lec_dcep *d, bool dtls_server, const char *accept_label)
{
    memset(d, 0, sizeof *d);
    d->dtls_server = dtls_server;
    d->accept_label = accept_label;
}

static int by_sid(const lec_dcep *d, uint16_t sid)
{
    for (int i = 0; i < LEC_DCEP_MAX_CHANNELS; i++)
        if (d->chans[i].open && d->chans[i].sid == sid)
            return i;
    return -1;
}

static void refuse(lec_dcep *d, lec_dcep_event *ev, const char *why, const char *arg)
{
    d->refused++;
    ev->kind = LEC_DCEP_REFUSED;
    snprintf(ev->reason, sizeof ev->reason, "%s%s", why, arg ? arg : "");
}

static void drop(lec_dcep *d, lec_dcep_event *ev, const char *why)
{
    d->dropped++;
    ev->kind = LEC_DCEP_DROPPED;
    snprintf(ev->reason, sizeof ev->reason, "%s", why);
}

/* Printable ASCII only (labels go to logs and JSON). */
static bool plain(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
            return false;
    return true;
}

static void on_open(lec_dcep *d, uint16_t sid, const uint8_t *m, size_t len, lec_dcep_event *ev)
{
    if (len < 12)
        return refuse(d, ev, "DATA_CHANNEL_OPEN shorter than 12 bytes", NULL);
    size_t label_len = (size_t)m[8] << 8 | m[9], proto_len = (size_t)m[10] << 8 | m[11];
    if (12 + label_len + proto_len != len)
        return refuse(d, ev, "DATA_CHANNEL_OPEN lengths do not add up", NULL);
    /* RFC 8832 6: the opener uses its own parity; ours would collide. */
    if ((sid & 1) == (d->dtls_server ? 1 : 0))
        return refuse(d, ev, "channel opened on a stream of the wrong parity", NULL);
    if (by_sid(d, sid) >= 0)
        return refuse(d, ev, "a channel already uses that stream", NULL);
    lec_dcep_chan c = {.open = true, .sid = sid, .type = m[1]};
    c.reliability = (uint32_t)m[4] << 24 | (uint32_t)m[5] << 16 | (uint32_t)m[6] << 8 | m[7];
    if (label_len >= sizeof c.label || proto_len >= sizeof c.protocol ||
        !plain(m + 12, label_len) || !plain(m + 12 + label_len, proto_len))
        return refuse(d, ev, "label or protocol too long or not plain ASCII", NULL);
    memcpy(c.label, m + 12, label_len);
    memcpy(c.protocol, m + 12 + label_len, proto_len);
    if (d->accept_label && strcmp(c.label, d->accept_label)) {
        d->refused++;
        ev->kind = LEC_DCEP_REFUSED;
        snprintf(ev->reason, sizeof ev->reason, "channel '%.40s' is not served (only '%.20s')",
                 c.label, d->accept_label);
        return;
    }
    int slot = -1;
    for (int i = 0; i < LEC_DCEP_MAX_CHANNELS && slot < 0; i++)
        if (!d->chans[i].open)
            slot = i;
    if (slot < 0)
        return refuse(d, ev, "too many channels", NULL);
    d->chans[slot] = c;
    ev->kind = LEC_DCEP_OPENED;
    ev->chan = slot;
    ev->reply[0] = ACK_MSG;
    ev->reply_len = 1;
}

void lec_dcep_input(lec_dcep *d, uint16_t sid, uint32_t ppid, const uint8_t *msg, size_t len,
                    lec_dcep_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->chan = -1;
    ev->sid = sid;
    if (ppid == LEC_PPID_DCEP) {
        if (len >= 1 && msg[0] == OPEN_MSG)
            return on_open(d, sid, msg, len, ev);
        if (len == 1 && msg[0] == ACK_MSG) {
            int c = by_sid(d, sid);
            if (c >= 0 && d->chans[c].ours)
                d->chans[c].acked = true;
            return;
        }
        return drop(d, ev, "unknown DCEP message");
    }
    int c = by_sid(d, sid);
    if (c < 0)
        return drop(d, ev, "message on a stream with no open channel");
    switch (ppid) {
    case LEC_PPID_STRING:
    case LEC_PPID_BINARY:
        ev->data = msg;
        ev->len = len;
        break;
    case LEC_PPID_STRING_EMPTY:
    case LEC_PPID_BINARY_EMPTY:
        ev->data = msg;
        ev->len = 0;
        break;
    default: /* 52/54 are deprecated partial messages; others are not ours */
        return drop(d, ev, "unsupported payload protocol id");
    }
    ev->kind = LEC_DCEP_MESSAGE;
    ev->chan = c;
    ev->binary = ppid == LEC_PPID_BINARY || ppid == LEC_PPID_BINARY_EMPTY;
}

int lec_dcep_open(lec_dcep *d, const char *label, uint16_t *sid, uint8_t *out, size_t cap,
                  size_t *len)
{
    int slot = -1;
    for (int i = 0; i < LEC_DCEP_MAX_CHANNELS && slot < 0; i++)
        if (!d->chans[i].open)
            slot = i;
    if (slot < 0 || strlen(label) >= sizeof d->chans[0].label)
        return -1;
    /* The lowest free stream of our parity (RFC 8832 6). */
    uint16_t s = d->dtls_server ? 1 : 0;
    while (by_sid(d, s) >= 0)
        s = (uint16_t)(s + 2);
    size_t n = lec_dcep_open_msg(LEC_DCEP_RELIABLE, 0, label, "", out, cap);
    if (!n)
        return -1;
    lec_dcep_chan *c = &d->chans[slot];
    memset(c, 0, sizeof *c);
    c->open = c->ours = true;
    c->sid = s;
    c->type = LEC_DCEP_RELIABLE;
    snprintf(c->label, sizeof c->label, "%s", label);
    *sid = s;
    *len = n;
    return slot;
}

int lec_dcep_closed(lec_dcep *d, uint16_t sid)
{
    int c = by_sid(d, sid);
    if (c >= 0)
        d->chans[c].open = false;
    return c;
}

int lec_dcep_find(const lec_dcep *d, const char *label)
{
    for (int i = 0; i < LEC_DCEP_MAX_CHANNELS; i++)
        if (d->chans[i].open && !strcmp(d->chans[i].label, label))
            return i;
    return -1;
}

uint32_t lec_dcep_ppid(bool binary, size_t len)
{
    if (binary)
        return len ? LEC_PPID_BINARY : LEC_PPID_BINARY_EMPTY;
    return len ? LEC_PPID_STRING : LEC_PPID_STRING_EMPTY;
}

size_t lec_dcep_open_msg(uint8_t type, uint32_t reliability, const char *label,
                         const char *protocol, uint8_t *out, size_t cap)
{
    size_t ll = strlen(label), pl = strlen(protocol);
    if (ll > 0xffff || pl > 0xffff || 12 + ll + pl > cap)
        return 0;
    out[0] = OPEN_MSG;
    out[1] = type;
    out[2] = out[3] = 0; /* priority */
    out[4] = (uint8_t)(reliability >> 24);
    out[5] = (uint8_t)(reliability >> 16);
    out[6] = (uint8_t)(reliability >> 8);
    out[7] = (uint8_t)reliability;
    out[8] = (uint8_t)(ll >> 8);
    out[9] = (uint8_t)ll;
    out[10] = (uint8_t)(pl >> 8);
    out[11] = (uint8_t)pl;
    memcpy(out + 12, label, ll);
    memcpy(out + 12 + ll, protocol, pl);
    return 12 + ll + pl;
}
