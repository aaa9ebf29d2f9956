/* libFuzzer: every control-plane message type through the strict decoder.
 * Whatever decodes must come back equal: encode it, decode that, encode
 * again, and the two encodings must be the same bytes (the encoder is
 * deterministic, so a field the decoder dropped, misread or clipped shows
 * up as a difference).  Anything else is a bug and traps. */
#include "base/err.h"
#include "bus/codec.h"

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

#define RT(T, dec, enc, fr) round_trip(data, size, sizeof(T), (dec_fn)dec, (enc_fn)enc, fr)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned kind = data[0] % 7;
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
    }
    return 0;
}
