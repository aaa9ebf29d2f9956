/*
 * Cluster trust (README "Security model"), sans I/O: who may speak on the
 * bus, and relay keys that only their receiver can read.
 *
 * The cluster has one Ed25519 key pair.  Its public half is in every
 * node's config (cluster.trust_key); its private half stays with the
 * operator, who issues each node an identity: the node's own Ed25519 key
 * and a certificate, the cluster key's signature over the node id and the
 * node's public key (`lectern-origin --issue-identity`).  Every bus
 * message is signed by its sender over the subject, the time and the
 * body, and carries the sender's key and certificate, so a receiver checks
 * both against the one key it trusts: a client on the bus that is not a
 * node (or a node that claims another's id) cannot forge a message, and a
 * message signed for one subject or older than LEC_TRUST_WINDOW is
 * refused.  Adding a node needs no change on the others.
 *
 * Relay keys are sealed: the requester puts a fresh X25519 public key in
 * its RelayOpen; the source answers with its own fresh X25519 key and the
 * leg's SRTP keys encrypted (AES-256-GCM) under HKDF-SHA256 of the shared
 * secret, bound to the stream and leg.  Both key pairs live for one leg.
 *
 * Keys are hex on the wire of files and configs.  Randomness comes in
 * (lec_rand), time comes in (unix ms); nothing here reads a clock or does
 * I/O.  The header shows no OpenSSL type.
 */
#ifndef LEC_TRUST_TRUST_H
#define LEC_TRUST_TRUST_H

#include "base/time.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEC_TRUST_KEY    32 /* Ed25519 and X25519 keys, public or private */
#define LEC_TRUST_SIG    64
#define LEC_TRUST_NODE   65 /* a node id and its NUL */
#define LEC_TRUST_WINDOW (30ull * 1000) /* ms: a message older or newer is refused */
/* A sealed box: the sender's X25519 public key, the ciphertext, the tag. */
#define LEC_TRUST_SEAL_OVERHEAD (LEC_TRUST_KEY + 16)

/* A node's identity: its id, its Ed25519 private key (seed), and the
 * cluster key's signature over (id, its public key). */
typedef struct lec_trust_identity {
    char node[LEC_TRUST_NODE];
    uint8_t seed[LEC_TRUST_KEY];
    uint8_t pub[LEC_TRUST_KEY];
    uint8_t cert[LEC_TRUST_SIG];
} lec_trust_identity;

/* What a signed message carries besides its body. */
typedef struct lec_trust_sig {
    char signer[LEC_TRUST_NODE];
    uint8_t key[LEC_TRUST_KEY];
    uint8_t cert[LEC_TRUST_SIG];
    uint64_t unix_ms;
    uint8_t sig[LEC_TRUST_SIG];
} lec_trust_sig;

typedef struct lec_trust lec_trust;

/* Parses `hex` (exactly 2 * n hex digits) into out.  0 or LEC_ERR_INVAL. */
int lec_trust_hex_decode(const char *hex, uint8_t *out, size_t n);
void lec_trust_hex_encode(const uint8_t *in, size_t n, char *out /* 2n + 1 */);

/* A new Ed25519 key pair from `rand` (the cluster's, or a node's). */
int lec_trust_keypair(const lec_rand *rand, uint8_t seed[LEC_TRUST_KEY],
                      uint8_t pub[LEC_TRUST_KEY]);
/* Issues `node` an identity signed by the cluster key `cluster_seed`. */
int lec_trust_issue(const uint8_t cluster_seed[LEC_TRUST_KEY], const char *node,
                    const lec_rand *rand, lec_trust_identity *out);
/* The identity file's text ("node: <id>", "key: <hex seed>", "cert: <hex>",
 * '#' comments).  0, or LEC_ERR_INVAL with *why set. */
int lec_trust_identity_parse(const char *text, size_t len, lec_trust_identity *out,
                             const char **why);
/* Writes the identity file's text (with the public key, for operators). */
int lec_trust_identity_format(const lec_trust_identity *id, char *out, size_t cap);

/* Trust in `cluster_pub`, speaking as `self` (whose certificate must
 * verify: a wrong identity file is found at start).  LEC_ERR_AUTH, 
 * LEC_ERR_INVAL or LEC_ERR_NOMEM. */
int lec_trust_new(lec_trust **out, const uint8_t cluster_pub[LEC_TRUST_KEY],
                  const lec_trust_identity *self);
void lec_trust_free(lec_trust *t);
const char *lec_trust_self(const lec_trust *t);

/* Signs `body` for `subject` at `now_ms`.  0 or LEC_ERR_NOMEM. */
int lec_trust_sign(const lec_trust *t, const char *subject, const uint8_t *body, size_t len,
                   uint64_t now_ms, lec_trust_sig *out);
/* Checks a message: the signer's certificate against the cluster key, the
 * signature over subject, time and body, and the time within
 * LEC_TRUST_WINDOW of now_ms.  0, LEC_ERR_AUTH (forged) or LEC_ERR_TIMEOUT
 * (stale or from the future: a replay, or a clock far off). */
int lec_trust_verify(const lec_trust *t, const char *subject, const uint8_t *body, size_t len,
                     const lec_trust_sig *s, uint64_t now_ms);

/* Sealing.  The requester makes a key pair (kept until the answer). */
int lec_trust_seal_keypair(const lec_rand *rand, uint8_t priv[LEC_TRUST_KEY],
                           uint8_t pub[LEC_TRUST_KEY]);
/* Encrypts pt[0..n) to `to_pub`, bound to `aad`; writes n +
 * LEC_TRUST_SEAL_OVERHEAD bytes to out.  0, LEC_ERR_INVAL, LEC_ERR_NOMEM. */
int lec_trust_seal(const uint8_t to_pub[LEC_TRUST_KEY], const lec_rand *rand, const uint8_t *pt,
                   size_t n, const uint8_t *aad, size_t aad_len, uint8_t *out);
/* Opens a sealed box of `len` bytes with our private key; writes len -
 * LEC_TRUST_SEAL_OVERHEAD bytes to pt.  0 or LEC_ERR_AUTH. */
int lec_trust_unseal(const uint8_t priv[LEC_TRUST_KEY], const uint8_t *box, size_t len,
                     const uint8_t *aad, size_t aad_len, uint8_t *pt);

/* Wipes secrets (OPENSSL_cleanse: not optimised away). */
void lec_trust_wipe(void *p, size_t n);

#endif
