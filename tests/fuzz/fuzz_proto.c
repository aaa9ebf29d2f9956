/* libFuzzer: every control-plane message type through the strict decoder.
 * Whatever decodes must come back equal: encode it, decode that, encode
 * again, and the two encodings must be the same bytes (the encoder is
 * deterministic, so a field the decoder dropped, misread or clipped shows
 * up as a difference).  Anything else is a bug and traps.  Also the
 * Envelope (round trip, and a signature check that must refuse what we
 * did not sign), and hostile but well-formed heartbeats ingested into a
 * cluster view kept across inputs (joins, restarts, expiry, its JSON, the
 * allow lists). */
#include "base/err.h"
#include "bus/codec.h"
#include "cluster/allow.h"
#include "cluster/cluster.h"
#include "trust/trust.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void no_free(void *m)
{
    (void)m;
}

static void free_info(void *m)
{
    lec_codec_node_info_free(m);
}

typedef int (*dec_fn)(const uint8_t *, size_t, lec_msg_header *, void *);
typedef int (*enc_fn)(const lec_msg_header *, const void *, lec_sbuf *);

/* One message type: decode, and if that succeeds, the round trip. */
static void round_trip(const uint8_t *data, size_t size, size_t msg_size, dec_fn dec, enc_fn enc,
                       void (*fr)(void *))
{
    void *a = calloc(1, msg_size), *b = calloc(1, msg_size);
    lec_msg_header h, h2;
    lec_sbuf one, two;
    lec_sbuf_init(&one, NULL);
    lec_sbuf_init(&two, NULL);
    if (a && b && dec(data, size, &h, a) == 0) {
        int rc = enc(&h, a, &one);
        if (rc == 0) {
            rc = dec((const uint8_t *)one.data, one.len, &h2, b);
            if (rc != 0 && rc != LEC_ERR_NOMEM)
                __builtin_trap(); /* our own encoding does not decode */
            if (rc == 0) {
                rc = enc(&h2, b, &two);
                if (rc == 0 && (two.len != one.len || memcmp(two.data, one.data, one.len)))
                    __builtin_trap(); /* it decoded to something else */
                fr(b);
            }
        }
        if (rc != 0 && rc != LEC_ERR_NOMEM)
            __builtin_trap(); /* what decoded once must encode */
        fr(a);
    }
    lec_sbuf_free(&one);
    lec_sbuf_free(&two);
    free(a);
    free(b);
}

/* A trust of our own (a fixed cluster key and identity): nothing the
 * fuzzer makes is signed by it. */
static lec_trust *our_trust(void)
{
    static lec_trust *t;
    if (!t) {
        lec_rand_seeded r;
        lec_rand_seeded_init(&r, 1);
        uint8_t seed[32], pub[32];
        lec_trust_identity id;
        if (lec_trust_keypair(&r.rand, seed, pub) || lec_trust_issue(seed, "n", &r.rand, &id) ||
            lec_trust_new(&t, pub, &id))
            __builtin_trap();
    }
    return t;
}

static void envelope(const uint8_t *data, size_t size)
{
    lec_envelope a, b;
    if (lec_codec_decode_envelope(data, size, &a))
        return;
    lec_sbuf one, two;
    lec_sbuf_init(&one, NULL);
    lec_sbuf_init(&two, NULL);
    if (lec_codec_encode_envelope(a.sig.signer, a.is_signed ? &a.sig : NULL, a.body, a.body_len,
                                  &one) ||
        lec_codec_decode_envelope((const uint8_t *)one.data, one.len, &b))
        __builtin_trap(); /* what decoded must encode and decode again */
    if (lec_codec_encode_envelope(b.sig.signer, b.is_signed ? &b.sig : NULL, b.body, b.body_len,
                                  &two) ||
        two.len != one.len || memcmp(two.data, one.data, one.len))
        __builtin_trap();
    if (a.is_signed &&
        lec_trust_verify(our_trust(), "s", a.body, a.body_len, &a.sig, a.sig.unix_ms) == 0)
        __builtin_trap(); /* a forgery accepted */
    lec_codec_envelope_free(&a);
    lec_codec_envelope_free(&b);
    lec_sbuf_free(&one);
    lec_sbuf_free(&two);
}

/* Heartbeats into one view across inputs, as a node's control plane feeds
 * it; the view is remade now and then so it does not only grow. */
static void ingest(const uint8_t *data, size_t size)
{
    static lec_cluster view;
    static bool have;
    static unsigned runs;
    static lec_tstamp now = LEC_S;
    if (!have || ++runs % 256 == 0) {
        if (have)
            lec_cluster_free(&view);
        if (lec_cluster_init(&view, NULL, "self-node", 1, 3 * LEC_S))
            __builtin_trap();
        have = true;
    }
    lec_node_info hb;
    lec_msg_header h;
    memset(&hb, 0, sizeof hb);
    if (lec_codec_decode_heartbeat(data, size, &h, &hb))
        return;
    now += 100 * LEC_MS;
    lec_cluster_heartbeat(&view, &hb, now);
    static char h0[] = "example.com", h1[] = "127.0.0.1";
    char *hosts[] = {h0, h1};
    lec_cidr nets[1];
    lec_cidr_parse("10.0.0.0/8", &nets[0]);
    lec_allow_url(hb.http_url, hosts, 2);
    lec_allow_relay_addr(hb.relay_addr, nets, 1);
    lec_cluster_expire(&view, now, NULL, NULL);
    lec_sbuf out;
    lec_sbuf_init(&out, NULL);
    lec_jw w;
    lec_jw_init(&w, &out);
    lec_jw_obj_open(&w);
    lec_cluster_json(&view, now, &w);
    lec_jw_obj_close(&w);
    lec_sbuf_free(&out);
    lec_codec_node_info_free(&hb);
}

#define RT(T, dec, enc, fr) round_trip(data, size, sizeof(T), (dec_fn)dec, (enc_fn)enc, fr)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned kind = data[0] % 9;
    data++;
    size--;
    switch (kind) {
    case 0:
        RT(lec_node_info, lec_codec_decode_heartbeat, lec_codec_encode_heartbeat, free_info);
        break;
    case 1:
        RT(lec_stream_event, lec_codec_decode_stream_event, lec_codec_encode_stream_event,
           no_free);
        break;
    case 2:
        RT(lec_relay_open, lec_codec_decode_relay_open, lec_codec_encode_relay_open, no_free);
        break;
    case 3:
        RT(lec_relay_opened, lec_codec_decode_relay_opened, lec_codec_encode_relay_opened,
           no_free);
        break;
    case 4:
        RT(lec_relay_close, lec_codec_decode_relay_close, lec_codec_encode_relay_close, no_free);
        break;
    case 5:
        RT(lec_ping, lec_codec_decode_ping, lec_codec_encode_ping, no_free);
        break;
    case 6:
        RT(lec_ping, lec_codec_decode_pong, lec_codec_encode_pong, no_free);
        break;
    case 7:
        envelope(data, size);
        break;
    case 8:
        ingest(data, size);
        break;
    }
    return 0;
}
