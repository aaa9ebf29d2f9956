/* libFuzzer: SDP parsing; what parses is answered, written and parsed again. */
#include "base/err.h"
#include "sdp/negotiate.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static lec_sdp offer, answer, again;
    static lec_sdp_frag frag;
    char err[128];
    /* The same bytes as a trickle PATCH body. */
    lec_sdp_frag_parse((const char *)data, size, &frag);
    if (frag.ncandidates > LEC_SDP_FRAG_CANDIDATES)
        abort();
    for (unsigned i = 0; i < frag.ncandidates; i++)
        if (!memchr(frag.candidates[i], '\0', sizeof frag.candidates[i]))
            abort();
    if (lec_sdp_parse((const char *)data, size, &offer, err, sizeof err))
        return 0;
    static const char *const exts[] = {"urn:ietf:params:rtp-hdrext:sdes:mid", NULL};
    lec_sdp_answer_opts o = {
        .dir = data[size / 2] & 1 ? LEC_SDP_RECVONLY : LEC_SDP_SENDONLY,
        .ice_ufrag = "abcd",
        .ice_pwd = "0123456789abcdefghijklmn",
        .fingerprint = "sha-256 "
                       "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:"
                       "33:44:55:66:77:88:99",
        .fb_allowed = LEC_FB_NACK | LEC_FB_PLI,
        .extmaps = exts,
        .accept_simulcast = 3,
        .allow_vp9 = true,
        .allow_av1 = true,
    };
    lec_sbuf out;
    lec_sbuf_init(&out, NULL);
    lec_sdp_write(&offer, &out); /* writing what we parsed must not crash either */
    lec_sbuf_reset(&out);
    if (lec_sdp_answer(&offer, &o, &answer, err, sizeof err) == 0) {
        lec_sdp_write(&answer, &out);
        if (lec_sdp_parse(out.data, out.len, &again, err, sizeof err))
            abort(); /* our own answers must always parse */
    }
    lec_sbuf_free(&out);
    return 0;
}
