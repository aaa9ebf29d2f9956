/*
 * Cluster trust (trust/trust.h): identities issued by the cluster key and
 * their file; signed messages, and every way a forgery fails (another
 * cluster's node, a node claiming another's id, a changed body, subject
 * or time, a stale replay); sealed relay keys that only the requester
 * opens, bound to their leg.
 */
#include "testdata.h"
#include "base/err.h"
#include "trust/trust.h"

#include <stdio.h>
#include <string.h>

static lec_rand_seeded rnd;
static uint8_t cluster_seed[32], cluster_pub[32];

static int setup(void **state)
{
    (void)state;
    lec_rand_seeded_init(&rnd, 42);
    return lec_trust_keypair(&rnd.rand, cluster_seed, cluster_pub);
}

static lec_trust *trust_for(const char *node, lec_trust_identity *id_out)
{
    lec_trust_identity id;
    assert_int_equal(lec_trust_issue(cluster_seed, node, &rnd.rand, &id), 0);
    lec_trust *t = NULL;
    assert_int_equal(lec_trust_new(&t, cluster_pub, &id), 0);
    if (id_out)
        *id_out = id;
    return t;
}

static void test_identity_file(void **state)
{
    (void)state;
    lec_trust_identity id, back;
    assert_int_equal(lec_trust_issue(cluster_seed, "edge-us", &rnd.rand, &id), 0);
    char text[1024];
    assert_int_equal(lec_trust_identity_format(&id, text, sizeof text), 0);
    const char *why = NULL;
    assert_int_equal(lec_trust_identity_parse(text, strlen(text), &back, &why), 0);
    assert_string_equal(back.node, "edge-us");
    assert_memory_equal(back.seed, id.seed, 32);
    assert_memory_equal(back.pub, id.pub, 32);
    assert_memory_equal(back.cert, id.cert, 64);
    /* Broken files say why. */
    assert_int_equal(lec_trust_identity_parse("node: a\n", 8, &back, &why), LEC_ERR_INVAL);
    assert_string_equal(why, "node:, key: and cert: are all required");
    const char *bad = "node: a b\nkey: 00\ncert: 00\n";
    assert_int_equal(lec_trust_identity_parse(bad, strlen(bad), &back, &why), LEC_ERR_INVAL);
    assert_string_equal(why, "node: is not a valid node id");
    bad = "node: a\nkey: zz\n";
    assert_int_equal(lec_trust_identity_parse(bad, strlen(bad), &back, &why), LEC_ERR_INVAL);
    assert_string_equal(why, "key: is not 64 hex digits");
    /* An identity from another cluster is refused at start. */
    uint8_t other_seed[32], other_pub[32];
    assert_int_equal(lec_trust_keypair(&rnd.rand, other_seed, other_pub), 0);
    lec_trust *t = NULL;
    assert_int_equal(lec_trust_new(&t, other_pub, &id), LEC_ERR_AUTH);
    assert_null(t);
    /* A renamed identity (its certificate names another node) too. */
    lec_trust_identity renamed = id;
    snprintf(renamed.node, sizeof renamed.node, "origin-eu");
    assert_int_equal(lec_trust_new(&t, cluster_pub, &renamed), LEC_ERR_AUTH);
}

static void test_sign_verify_and_forgeries(void **state)
{
    (void)state;
    lec_trust *a = trust_for("origin-eu", NULL), *b = trust_for("edge-us", NULL);
    const uint8_t body[] = "a heartbeat";
    const char *subj = "lectern.v1.node.hb.eu.origin-eu";
    uint64_t now = 1800000000000ull;
    lec_trust_sig s;
    assert_int_equal(lec_trust_sign(a, subj, body, sizeof body, now, &s), 0);
    assert_string_equal(s.signer, "origin-eu");
    assert_int_equal(lec_trust_verify(b, subj, body, sizeof body, &s, now + 500), 0);
    /* Changed body, subject, time, signer name: each fails. */
    uint8_t body2[sizeof body];
    memcpy(body2, body, sizeof body);
    body2[0] ^= 1;
    assert_int_equal(lec_trust_verify(b, subj, body2, sizeof body, &s, now), LEC_ERR_AUTH);
    assert_int_equal(lec_trust_verify(b, "lectern.v1.relay.edge-us.close", body, sizeof body, &s, now),
                     LEC_ERR_AUTH);
    lec_trust_sig t = s;
    t.unix_ms += 1;
    assert_int_equal(lec_trust_verify(b, subj, body, sizeof body, &t, now), LEC_ERR_AUTH);
    t = s;
    snprintf(t.signer, sizeof t.signer, "edge-ap"); /* claims to be another node */
    assert_int_equal(lec_trust_verify(b, subj, body, sizeof body, &t, now), LEC_ERR_AUTH);
    /* A stale replay, and one from the future. */
    assert_int_equal(lec_trust_verify(b, subj, body, sizeof body, &s, now + LEC_TRUST_WINDOW + 1),
                     LEC_ERR_TIMEOUT);
    assert_int_equal(lec_trust_verify(b, subj, body, sizeof body, &s, now - LEC_TRUST_WINDOW - 1),
                     LEC_ERR_TIMEOUT);
    /* A node of another cluster signs well, but is not ours. */
    uint8_t cs[32], cp[32];
    lec_trust_identity foreign;
    assert_int_equal(lec_trust_keypair(&rnd.rand, cs, cp), 0);
    assert_int_equal(lec_trust_issue(cs, "origin-eu", &rnd.rand, &foreign), 0);
    lec_trust *f = NULL;
    assert_int_equal(lec_trust_new(&f, cp, &foreign), 0);
    assert_int_equal(lec_trust_sign(f, subj, body, sizeof body, now, &t), 0);
    assert_int_equal(lec_trust_verify(b, subj, body, sizeof body, &t, now), LEC_ERR_AUTH);
    /* An empty signature (an unsigned message) fails. */
    memset(&t, 0, sizeof t);
    snprintf(t.signer, sizeof t.signer, "origin-eu");
    assert_int_equal(lec_trust_verify(b, subj, body, sizeof body, &t, now), LEC_ERR_AUTH);
    lec_trust_free(a);
    lec_trust_free(b);
    lec_trust_free(f);
}

static void test_sealed_keys(void **state)
{
    (void)state;
    uint8_t priv[32], pub[32], keys[56], box[56 + LEC_TRUST_SEAL_OVERHEAD], out[56];
    for (size_t i = 0; i < sizeof keys; i++)
        keys[i] = (uint8_t)(i * 7 + 1);
    const uint8_t aad[] = "class\0leg 1234";
    assert_int_equal(lec_trust_seal_keypair(&rnd.rand, priv, pub), 0);
    assert_int_equal(lec_trust_seal(pub, &rnd.rand, keys, sizeof keys, aad, sizeof aad, box), 0);
    for (size_t i = 0; i + 8 <= sizeof box; i++) /* not in clear */
        assert_true(memcmp(box + i, keys, 8) != 0);
    assert_int_equal(lec_trust_unseal(priv, box, sizeof box, aad, sizeof aad, out), 0);
    assert_memory_equal(out, keys, sizeof keys);
    /* Another leg (aad), another key, a flipped bit: refused. */
    const uint8_t aad2[] = "class\0leg 1235";
    assert_int_equal(lec_trust_unseal(priv, box, sizeof box, aad2, sizeof aad2, out), LEC_ERR_AUTH);
    uint8_t priv2[32], pub2[32];
    assert_int_equal(lec_trust_seal_keypair(&rnd.rand, priv2, pub2), 0);
    assert_int_equal(lec_trust_unseal(priv2, box, sizeof box, aad, sizeof aad, out), LEC_ERR_AUTH);
    box[40] ^= 1;
    assert_int_equal(lec_trust_unseal(priv, box, sizeof box, aad, sizeof aad, out), LEC_ERR_AUTH);
    assert_int_equal(lec_trust_unseal(priv, box, 10, aad, sizeof aad, out), LEC_ERR_AUTH);
    /* A small-order public key (all zero) gives no key. */
    uint8_t zero[32] = {0};
    assert_int_not_equal(lec_trust_seal(zero, &rnd.rand, keys, sizeof keys, aad, sizeof aad, box), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_file),
        cmocka_unit_test(test_sign_verify_and_forgeries),
        cmocka_unit_test(test_sealed_keys),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
