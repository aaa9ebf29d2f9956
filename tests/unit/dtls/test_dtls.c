/*
 * DTLS-SRTP end to end in memory: two endpoints with fresh certificates
 * complete a real OpenSSL handshake by passing datagrams, agree on AES-GCM
 * and export matching keys, and SRTP protected with one side's keys opens
 * with the other's.  A wrong fingerprint fails the handshake; a lost
 * flight is retransmitted; garbage is refused without harm.
 */
#include "testdata.h"
#include "base/err.h"
#include "dtls/dtls.h"
#include "rtp/rtp.h"
#include "sdp/sdp.h"
#include "srtp/srtp_session.h"

#include <string.h>
#include <time.h>

static lec_dtls_cert *cert_a, *cert_b;

static void fp_of(const lec_dtls_cert *c, uint8_t out[32])
{
    assert_int_equal(lec_sdp_fingerprint_parse(lec_dtls_cert_fingerprint(c), out, 32), 32);
}

/* Moves every queued datagram from `from` to `to`; returns how many,
 * dropping the first `drop` of them. */
static int shuttle(lec_dtls *from, lec_dtls *to, int drop)
{
    uint8_t buf[1500];
    int n, moved = 0;
    while ((n = lec_dtls_pop(from, buf, sizeof buf)) > 0) {
        if (drop-- > 0)
            continue;
        lec_dtls_handle(to, buf, (size_t)n);
        moved++;
    }
    return moved;
}

static void pair(lec_dtls **client, lec_dtls **server, bool wrong_fp)
{
    lec_dtls_cfg cc = {.server = false, .cert = cert_a}, sc = {.server = true, .cert = cert_b};
    fp_of(cert_b, cc.peer_fp);
    fp_of(cert_a, sc.peer_fp);
    if (wrong_fp)
        sc.peer_fp[5] ^= 1;
    *client = lec_dtls_new(&cc);
    *server = lec_dtls_new(&sc);
    assert_non_null(*client);
    assert_non_null(*server);
}

static void handshake(lec_dtls *c, lec_dtls *s)
{
    assert_int_equal(lec_dtls_start(c), 0);
    for (int i = 0; i < 20; i++) { /* bounded: a handshake is 2 round trips */
        shuttle(c, s, 0);
        shuttle(s, c, 0);
        if (lec_dtls_get_state(c) != LEC_DTLS_HANDSHAKING &&
            lec_dtls_get_state(s) != LEC_DTLS_HANDSHAKING)
            break;
    }
}

static void test_cert(void **state)
{
    (void)state;
    const char *fp = lec_dtls_cert_fingerprint(cert_a);
    assert_int_equal(strlen(fp), 8 + 32 * 3 - 1);
    assert_true(!strncmp(fp, "sha-256 ", 8));
    assert_string_not_equal(fp, lec_dtls_cert_fingerprint(cert_b));
}

static void test_handshake_and_srtp(void **state)
{
    (void)state;
    lec_dtls *c, *s;
    pair(&c, &s, false);
    handshake(c, s);
    assert_int_equal(lec_dtls_get_state(c), LEC_DTLS_CONNECTED);
    assert_int_equal(lec_dtls_get_state(s), LEC_DTLS_CONNECTED);
    lec_dtls_profile pc, ps;
    uint8_t cl[32], cr[32], sl[32], sr[32];
    size_t lc, ls;
    assert_int_equal(lec_dtls_srtp_keys(c, &pc, cl, cr, &lc), 0);
    assert_int_equal(lec_dtls_srtp_keys(s, &ps, sl, sr, &ls), 0);
    assert_int_equal(pc, LEC_DTLS_SRTP_AEAD_AES_128_GCM);
    assert_int_equal(ps, pc);
    assert_int_equal(lc, 28);
    assert_memory_equal(cl, sr, 28); /* what the client sends with, the server opens with */
    assert_memory_equal(cr, sl, 28);
    assert_memory_not_equal(cl, cr, 28);

    /* SRTP with the exported keys: client -> server. */
    lec_srtp *tx, *rx;
    assert_int_equal(lec_srtp_new(&tx, pc, cl, lc, true), 0);
    assert_int_equal(lec_srtp_new(&rx, ps, sr, ls, false), 0);
    uint8_t pkt[256], orig[64];
    size_t n = lec_rtp_write_header(pkt, 96, true, 1000, 90000, 0x1234);
    memset(pkt + n, 0xab, 40);
    n += 40;
    memcpy(orig, pkt, n);
    size_t plain = n;
    assert_int_equal(lec_srtp_protect(tx, pkt, &n, sizeof pkt), 0);
    assert_int_equal(n, plain + 16); /* the GCM tag */
    assert_memory_not_equal(pkt + 12, orig + 12, 40);
    uint8_t copy[256];
    memcpy(copy, pkt, n);
    size_t cn = n;
    assert_int_equal(lec_srtp_unprotect(rx, pkt, &n), 0);
    assert_int_equal(n, plain);
    assert_memory_equal(pkt, orig, plain);
    /* The same packet again is a replay; a flipped bit fails authentication. */
    assert_int_equal(lec_srtp_unprotect(rx, copy, &cn), LEC_ERR_AUTH);
    n = lec_rtp_write_header(pkt, 96, false, 1001, 90000, 0x1234);
    memset(pkt + n, 1, 20);
    n += 20;
    assert_int_equal(lec_srtp_protect(tx, pkt, &n, sizeof pkt), 0);
    pkt[15] ^= 0x01;
    assert_int_equal(lec_srtp_unprotect(rx, pkt, &n), LEC_ERR_AUTH);
    /* SRTCP both ways of the same session pair. */
    uint8_t rtcp[128] = {0x81, 201, 0x00, 0x07, 0, 0, 0x12, 0x34};
    size_t rn = 32;
    assert_int_equal(lec_srtp_protect_rtcp(tx, rtcp, &rn, sizeof rtcp), 0);
    assert_int_equal(lec_srtp_unprotect_rtcp(rx, rtcp, &rn), 0);
    assert_int_equal(rn, 32);
    /* Not enough room for the trailer. */
    n = 40;
    assert_int_equal(lec_srtp_protect(tx, pkt, &n, 50), LEC_ERR_RANGE);
    lec_srtp_free(tx);
    lec_srtp_free(rx);
    lec_dtls_free(c);
    lec_dtls_free(s);
}

static void test_cm_sha1_profile(void **state)
{
    (void)state;
    uint8_t key[30];
    for (int i = 0; i < 30; i++)
        key[i] = (uint8_t)i;
    lec_srtp *tx, *rx, *bad;
    assert_int_equal(lec_srtp_new(&bad, LEC_DTLS_SRTP_AES_CM_128_HMAC_SHA1_80, key, 28, true),
                     LEC_ERR_INVAL);
    assert_int_equal(lec_srtp_new(&tx, LEC_DTLS_SRTP_AES_CM_128_HMAC_SHA1_80, key, 30, true), 0);
    assert_int_equal(lec_srtp_new(&rx, LEC_DTLS_SRTP_AES_CM_128_HMAC_SHA1_80, key, 30, false), 0);
    uint8_t pkt[128];
    size_t n = lec_rtp_write_header(pkt, 111, false, 5, 960, 77) + 30;
    memset(pkt + 12, 7, 30);
    assert_int_equal(lec_srtp_protect(tx, pkt, &n, sizeof pkt), 0);
    assert_int_equal(n, 42 + 10); /* 80-bit HMAC tag */
    assert_int_equal(lec_srtp_unprotect(rx, pkt, &n), 0);
    assert_int_equal(n, 42);
    lec_srtp_free(tx);
    lec_srtp_free(rx);
}

static void test_wrong_fingerprint(void **state)
{
    (void)state;
    lec_dtls *c, *s;
    pair(&c, &s, true);
    handshake(c, s);
    assert_int_equal(lec_dtls_get_state(s), LEC_DTLS_FAILED);
    assert_contains(lec_dtls_error(s), "does not match its a=fingerprint");
    assert_int_not_equal(lec_dtls_get_state(c), LEC_DTLS_CONNECTED);
    lec_dtls_profile p;
    uint8_t l[32], r[32];
    size_t n;
    assert_int_equal(lec_dtls_srtp_keys(s, &p, l, r, &n), LEC_ERR_STATE);
    lec_dtls_free(c);
    lec_dtls_free(s);
}

static void test_lost_flight(void **state)
{
    (void)state;
    lec_dtls *c, *s;
    pair(&c, &s, false);
    assert_int_equal(lec_dtls_start(c), 0);
    assert_int_equal(shuttle(c, s, 1), 0); /* the ClientHello is lost */
    lec_tstamp d = lec_dtls_deadline(c, 0);
    assert_true(d > 0 && d <= 60 * LEC_MS);
    struct timespec ts = {0, 70 * 1000 * 1000};
    nanosleep(&ts, NULL); /* OpenSSL's timer reads the wall clock */
    lec_dtls_on_timeout(c);
    handshake(c, s);
    assert_int_equal(lec_dtls_get_state(c), LEC_DTLS_CONNECTED);
    assert_int_equal(lec_dtls_get_state(s), LEC_DTLS_CONNECTED);
    assert_true(lec_dtls_deadline(c, 0) == LEC_TSTAMP_NEVER);
    lec_dtls_free(c);
    lec_dtls_free(s);
}

static void test_garbage(void **state)
{
    (void)state;
    lec_dtls *c, *s;
    pair(&c, &s, false);
    uint8_t junk[300];
    uint32_t x = 7;
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < sizeof junk; i++)
            junk[i] = (uint8_t)((x = x * 1664525 + 1013904223) >> 24);
        junk[0] = 22; /* looks like a handshake record */
        lec_dtls_handle(s, junk, sizeof junk);
    }
    /* Whatever garbage did, it did not crash, and a real client may still
     * connect if the server had not failed. */
    if (lec_dtls_get_state(s) == LEC_DTLS_HANDSHAKING) {
        handshake(c, s);
        assert_int_equal(lec_dtls_get_state(s), LEC_DTLS_CONNECTED);
    }
    assert_int_equal(lec_dtls_start(s), LEC_ERR_STATE); /* servers do not start */
    lec_dtls_free(c);
    lec_dtls_free(s);
}

static int setup(void **state)
{
    (void)state;
    return lec_dtls_cert_new(&cert_a) || lec_dtls_cert_new(&cert_b);
}

static int teardown(void **state)
{
    (void)state;
    lec_dtls_cert_free(cert_a);
    lec_dtls_cert_free(cert_b);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cert),
        cmocka_unit_test(test_handshake_and_srtp),
        cmocka_unit_test(test_cm_sha1_profile),
        cmocka_unit_test(test_wrong_fingerprint),
        cmocka_unit_test(test_lost_flight),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
