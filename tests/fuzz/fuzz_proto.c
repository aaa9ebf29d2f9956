/* libFuzzer: every control-plane message type through the strict decoder;
 * whatever decodes must encode and decode again. */
#include "base/err.h"
#include "bus/codec.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned kind = data[0] % 7;
    data++;
    size--;
    lec_msg_header h;
    lec_sbuf sb;
    lec_sbuf_init(&sb, NULL);
    int rc = 0;
    switch (kind) {
    case 0: {
        lec_node_info m;
        if (lec_codec_decode_heartbeat(data, size, &h, &m) == 0) {
            rc = lec_codec_encode_heartbeat(&h, &m, &sb);
            lec_codec_node_info_free(&m);
            if (!rc) {
                rc = lec_codec_decode_heartbeat((const uint8_t *)sb.data, sb.len, &h, &m);
                lec_codec_node_info_free(&m);
            }
        }
        break;
    }
    case 1: {
        lec_stream_event *m = malloc(sizeof *m);
        if (lec_codec_decode_stream_event(data, size, &h, m) == 0) {
            rc = lec_codec_encode_stream_event(&h, m, &sb);
            if (!rc)
                rc = lec_codec_decode_stream_event((const uint8_t *)sb.data, sb.len, &h, m);
        }
        free(m);
        break;
    }
    case 2: {
        lec_relay_open m;
        if (lec_codec_decode_relay_open(data, size, &h, &m) == 0) {
            rc = lec_codec_encode_relay_open(&h, &m, &sb);
            if (!rc)
                rc = lec_codec_decode_relay_open((const uint8_t *)sb.data, sb.len, &h, &m);
        }
        break;
    }
    case 3: {
        lec_relay_opened *m = malloc(sizeof *m);
        if (lec_codec_decode_relay_opened(data, size, &h, m) == 0) {
            rc = lec_codec_encode_relay_opened(&h, m, &sb);
            if (!rc)
                rc = lec_codec_decode_relay_opened((const uint8_t *)sb.data, sb.len, &h, m);
        }
        free(m);
        break;
    }
    case 4: {
        lec_relay_close m;
        if (lec_codec_decode_relay_close(data, size, &h, &m) == 0) {
            rc = lec_codec_encode_relay_close(&h, &m, &sb);
            if (!rc)
                rc = lec_codec_decode_relay_close((const uint8_t *)sb.data, sb.len, &h, &m);
        }
        break;
    }
    case 5:
    case 6: {
        lec_ping m;
        int (*dec)(const uint8_t *, size_t, lec_msg_header *, lec_ping *) =
            kind == 5 ? lec_codec_decode_ping : lec_codec_decode_pong;
        int (*enc)(const lec_msg_header *, const lec_ping *, lec_sbuf *) =
            kind == 5 ? lec_codec_encode_ping : lec_codec_encode_pong;
        if (dec(data, size, &h, &m) == 0) {
            rc = enc(&h, &m, &sb);
            if (!rc)
                rc = dec((const uint8_t *)sb.data, sb.len, &h, &m);
        }
        break;
    }
    }
    /* What decoded once re-encodes into something that decodes. */
    if (rc != 0 && rc != LEC_ERR_NOMEM)
        abort();
    lec_sbuf_free(&sb);
    return 0;
}
