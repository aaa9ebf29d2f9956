/* libFuzzer: a datagram as it arrives on a WebRTC 5-tuple: classified,
 * then parsed as RTP (every extension id looked up) or walked as RTCP
 * (every parser tried on every packet). */
#include "base/err.h"
#include "media/twcc.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lec_pkt_class c = lec_pkt_classify(data, size);
    lec_rtp_hdr h;
    if (c == LEC_PKT_RTP && lec_rtp_parse(data, size, &h) == 0) {
        for (unsigned id = 1; id < 256; id++) {
            const uint8_t *d;
            size_t n;
            if (lec_rtp_ext_find(data, &h, (uint8_t)id, &d, &n) == 0 &&
                (d < data || d + n > data + size))
                __builtin_trap();
        }
    }
    /* A payload's picture size (H.264's SPS reader, VP8's header). */
    unsigned w, ht;
    lec_rtp_picture_size(LEC_VCODEC_H264, data, size, &w, &ht);
    lec_rtp_picture_size(LEC_VCODEC_VP8, data, size, &w, &ht);
    lec_rtcp_iter it;
    lec_rtcp_pkt p;
    /* Transport-cc feedback as a sender reads it; and the transport-wide
     * sequence numbers in the datagram noted as a receiver would. */
    static lec_twcc_report rep;
    lec_twcc_parse(data, size, &rep);
    /* Numbers near the first two bytes' (wraps and reordering; long jumps
     * are test_twcc's: a wide span makes every run slow under coverage). */
    static lec_twcc tw;
    lec_twcc_init(&tw);
    uint16_t base = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
    for (size_t i = 2; i < size && i < 130; i++)
        lec_twcc_arrived(&tw, (uint16_t)(base + data[i]), (lec_tstamp)i * 7919 * LEC_US);
    uint8_t fbk[1200];
    size_t fl;
    while ((fl = lec_twcc_feedback(&tw, 1, 2, fbk, sizeof fbk)) > 0)
        if (lec_twcc_parse(fbk, fl, &rep) && (fbk[14] << 8 | fbk[15]) <= LEC_TWCC_PARSE_MAX)
            __builtin_trap(); /* what we build, we read back (up to the reader's limit) */
    lec_rtcp_iter_init(&it, data, size);
    for (int i = 0; i < 64 && lec_rtcp_next(&it, &p) == 1; i++) {
        lec_rtcp_sr sr;
        lec_rtcp_rr rr;
        lec_rtcp_fb fb;
        lec_rtcp_fir fir;
        lec_rtcp_remb remb;
        uint16_t seqs[64];
        uint32_t ssrcs[8];
        lec_rtcp_parse_sr(&p, &sr);
        lec_rtcp_parse_rr(&p, &rr);
        lec_rtcp_parse_pli(&p, &fb);
        lec_rtcp_parse_fir(&p, &fir);
        lec_rtcp_parse_remb(&p, &remb);
        lec_rtcp_parse_nack(&p, &fb, seqs, 64);
        lec_rtcp_parse_bye(&p, ssrcs, 8);
    }
    return 0;
}
