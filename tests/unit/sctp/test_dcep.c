/* Data channels and DCEP (sctp/dcep.h): opens as browsers send them,
 * ACKs, the one label served, stream parity, limits, payload protocol
 * ids, empty messages, and closing. */
#include "testdata.h"
#include "sctp/dcep.h"

#include <string.h>

static size_t open_msg(const char *label, uint8_t *out, size_t cap)
{
    return lec_dcep_open_msg(LEC_DCEP_RELIABLE, 0, label, "", out, cap);
}

static void test_open_ack_and_messages(void **state)
{
    (void)state;
    lec_dcep d;
    lec_dcep_init(&d, true, "lectern");
    uint8_t m[64];
    size_t n = open_msg("lectern", m, sizeof m);
    assert_int_equal(n, 12 + 7);
    lec_dcep_event ev;
    lec_dcep_input(&d, 0, LEC_PPID_DCEP, m, n, &ev);
    assert_int_equal(ev.kind, LEC_DCEP_OPENED);
    assert_int_equal(ev.chan, 0);
    assert_int_equal(ev.reply_len, 1);
    assert_int_equal(ev.reply[0], 0x02);
    assert_string_equal(d.chans[0].label, "lectern");
    assert_int_equal(lec_dcep_find(&d, "lectern"), 0);

    const uint8_t text[] = "{\"type\":\"ask\"}";
    lec_dcep_input(&d, 0, LEC_PPID_STRING, text, sizeof text - 1, &ev);
    assert_int_equal(ev.kind, LEC_DCEP_MESSAGE);
    assert_false(ev.binary);
    assert_int_equal(ev.len, sizeof text - 1);
    assert_memory_equal(ev.data, text, ev.len);

    const uint8_t zero = 0;
    lec_dcep_input(&d, 0, LEC_PPID_BINARY_EMPTY, &zero, 1, &ev);
    assert_int_equal(ev.kind, LEC_DCEP_MESSAGE);
    assert_true(ev.binary);
    assert_int_equal(ev.len, 0);

    /* A duplicate ACK or an unknown DCEP type is not a channel event. */
    const uint8_t ack = 0x02, junk = 0x7f;
    lec_dcep_input(&d, 0, LEC_PPID_DCEP, &ack, 1, &ev);
    assert_int_equal(ev.kind, LEC_DCEP_NONE);
    lec_dcep_input(&d, 0, LEC_PPID_DCEP, &junk, 1, &ev);
    assert_int_equal(ev.kind, LEC_DCEP_DROPPED);

    /* Partial (deprecated) and foreign ids are dropped and counted. */
    uint64_t dropped = d.dropped;
    lec_dcep_input(&d, 0, LEC_PPID_STRING_PARTIAL, text, 3, &ev);
    assert_int_equal(ev.kind, LEC_DCEP_DROPPED);
    lec_dcep_input(&d, 0, 1234, text, 3, &ev);
    assert_int_equal(ev.kind, LEC_DCEP_DROPPED);
    assert_int_equal(d.dropped, dropped + 2);

    assert_int_equal(lec_dcep_closed(&d, 0), 0);
    assert_int_equal(lec_dcep_find(&d, "lectern"), -1);
    lec_dcep_input(&d, 0, LEC_PPID_STRING, text, 3, &ev);
    assert_int_equal(ev.kind, LEC_DCEP_DROPPED);
    assert_int_equal(lec_dcep_closed(&d, 0), -1);
}

static void test_refusals(void **state)
{
    (void)state;
    lec_dcep d;
    lec_dcep_init(&d, true, "lectern");
    uint8_t m[128];
    lec_dcep_event ev;
    size_t n = open_msg("chat", m, sizeof m);
    lec_dcep_input(&d, 2, LEC_PPID_DCEP, m, n, &ev);
    assert_int_equal(ev.kind, LEC_DCEP_REFUSED);
    assert_non_null(strstr(ev.reason, "'chat' is not served"));
    /* The DTLS client (the browser, when we are server) opens even ids. */
    n = open_msg("lectern", m, sizeof m);
    lec_dcep_input(&d, 1, LEC_PPID_DCEP, m, n, &ev);
    assert_int_equal(ev.kind, LEC_DCEP_REFUSED);
    assert_non_null(strstr(ev.reason, "parity"));
    /* Lengths that do not add up, short messages. */
    lec_dcep_input(&d, 0, LEC_PPID_DCEP, m, n - 1, &ev);
    assert_int_equal(ev.kind, LEC_DCEP_REFUSED);
    lec_dcep_input(&d, 0, LEC_PPID_DCEP, m, 5, &ev);
    assert_int_equal(ev.kind, LEC_DCEP_REFUSED);
    m[9] = 0xff; /* label length 0x00ff */
    lec_dcep_input(&d, 0, LEC_PPID_DCEP, m, n, &ev);
    assert_int_equal(ev.kind, LEC_DCEP_REFUSED);
    /* Control bytes and quotes in a label. */
    n = open_msg("lec\"tern", m, sizeof m);
    lec_dcep_init(&d, true, NULL);
    lec_dcep_input(&d, 0, LEC_PPID_DCEP, m, n, &ev);
    assert_int_equal(ev.kind, LEC_DCEP_REFUSED);
    /* A stream already in use; then more channels than we keep. */
    n = open_msg("a", m, sizeof m);
    lec_dcep_input(&d, 0, LEC_PPID_DCEP, m, n, &ev);
    assert_int_equal(ev.kind, LEC_DCEP_OPENED);
    lec_dcep_input(&d, 0, LEC_PPID_DCEP, m, n, &ev);
    assert_int_equal(ev.kind, LEC_DCEP_REFUSED);
    for (uint16_t sid = 2; sid < 2 * LEC_DCEP_MAX_CHANNELS; sid += 2) {
        lec_dcep_input(&d, sid, LEC_PPID_DCEP, m, n, &ev);
        assert_int_equal(ev.kind, LEC_DCEP_OPENED);
    }
    lec_dcep_input(&d, 2 * LEC_DCEP_MAX_CHANNELS, LEC_PPID_DCEP, m, n, &ev);
    assert_int_equal(ev.kind, LEC_DCEP_REFUSED);
    assert_non_null(strstr(ev.reason, "too many"));
    /* As DTLS client, the peer's channels are on odd ids. */
    lec_dcep_init(&d, false, "lectern");
    n = open_msg("lectern", m, sizeof m);
    lec_dcep_input(&d, 3, LEC_PPID_DCEP, m, n, &ev);
    assert_int_equal(ev.kind, LEC_DCEP_OPENED);
    assert_int_equal(d.chans[ev.chan].sid, 3);
}

static void test_ppids_and_builder(void **state)
{
    (void)state;
    assert_int_equal(lec_dcep_ppid(false, 3), LEC_PPID_STRING);
    assert_int_equal(lec_dcep_ppid(false, 0), LEC_PPID_STRING_EMPTY);
    assert_int_equal(lec_dcep_ppid(true, 3), LEC_PPID_BINARY);
    assert_int_equal(lec_dcep_ppid(true, 0), LEC_PPID_BINARY_EMPTY);
    uint8_t m[16];
    assert_int_equal(lec_dcep_open_msg(LEC_DCEP_RELIABLE, 0, "lectern", "json", m, sizeof m), 0);
    uint8_t big[64];
    size_t n = lec_dcep_open_msg(LEC_DCEP_REXMIT_UNORDERED, 7, "lectern", "json", big, sizeof big);
    assert_int_equal(n, 23);
    lec_dcep d;
    lec_dcep_init(&d, true, "lectern");
    lec_dcep_event ev;
    lec_dcep_input(&d, 4, LEC_PPID_DCEP, big, n, &ev);
    assert_int_equal(ev.kind, LEC_DCEP_OPENED);
    assert_int_equal(d.chans[ev.chan].type, LEC_DCEP_REXMIT_UNORDERED);
    assert_int_equal(d.chans[ev.chan].reliability, 7);
    assert_string_equal(d.chans[ev.chan].protocol, "json");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_ack_and_messages),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_ppids_and_builder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
