/* Cluster trust over OpenSSL 3 (trust.h). */
#include "trust/trust.h"
#include "base/err.h"
#include "base/sbuf.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lec_trust {
    EVP_PKEY *cluster; /* public */
    EVP_PKEY *self;    /* private */
    lec_trust_identity id;
};

static const char CERT_CTX[] = "lectern/v1 node identity";
static const char MSG_CTX[] = "lectern/v1 bus message";
static const char SEAL_INFO[] = "lectern/v1 sealed relay keys";

void lec_trust_wipe(void *p, size_t n)
{
    OPENSSL_cleanse(p, n);
}

/* ---- hex ---------------------------------------------------------------- */


int lec_trust_hex_decode(const char *hex, uint8_t *out, size_t n)
{
    if (!hex || strlen(hex) != 2 * n)
        return LEC_ERR_INVAL;
    for (size_t i = 0; i < n; i++) {
        int a = lec_hex_digit(hex[2 * i]), b = lec_hex_digit(hex[2 * i + 1]);
        if (a < 0 || b < 0)
            return LEC_ERR_INVAL;
        out[i] = (uint8_t)(a << 4 | b);
    }
    return 0;
}

void lec_trust_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* ---- Ed25519 ------------------------------------------------------------ */

static EVP_PKEY *ed_private(const uint8_t seed[LEC_TRUST_KEY])
{
    return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, LEC_TRUST_KEY);
}

static EVP_PKEY *ed_public(const uint8_t pub[LEC_TRUST_KEY])
{
    return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, LEC_TRUST_KEY);
}

static int ed_sign(EVP_PKEY *k, const uint8_t *msg, size_t len, uint8_t sig[LEC_TRUST_SIG])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    size_t sl = LEC_TRUST_SIG;
    int ok = c && EVP_DigestSignInit(c, NULL, NULL, NULL, k) == 1 &&
             EVP_DigestSign(c, sig, &sl, msg, len) == 1 && sl == LEC_TRUST_SIG;
    EVP_MD_CTX_free(c);
    return ok ? 0 : LEC_ERR_NOMEM;
}

static bool ed_verify(EVP_PKEY *k, const uint8_t *msg, size_t len, const uint8_t sig[LEC_TRUST_SIG])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    bool ok = c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k) == 1 &&
              EVP_DigestVerify(c, sig, LEC_TRUST_SIG, msg, len) == 1;
    EVP_MD_CTX_free(c);
    return ok;
}

int lec_trust_keypair(const lec_rand *rand, uint8_t seed[LEC_TRUST_KEY],
                      uint8_t pub[LEC_TRUST_KEY])
{
    rand->fill(rand->ud, seed, LEC_TRUST_KEY);
    EVP_PKEY *k = ed_private(seed);
    size_t pl = LEC_TRUST_KEY;
    int ok = k && EVP_PKEY_get_raw_public_key(k, pub, &pl) == 1 && pl == LEC_TRUST_KEY;
    EVP_PKEY_free(k);
    return ok ? 0 : LEC_ERR_NOMEM;
}

/* What the cluster key signs for a node: context, id, NUL, public key. */
static size_t cert_msg(const char *node, const uint8_t pub[LEC_TRUST_KEY], uint8_t *out)
{
    size_t n = 0, cl = sizeof CERT_CTX, il = strlen(node) + 1;
    memcpy(out, CERT_CTX, cl);
    n += cl;
    memcpy(out + n, node, il);
    n += il;
    memcpy(out + n, pub, LEC_TRUST_KEY);
    return n + LEC_TRUST_KEY;
}

#define CERT_MSG_MAX (sizeof CERT_CTX + LEC_TRUST_NODE + LEC_TRUST_KEY)

static bool valid_node(const char *s)
{
    size_t n = strlen(s);
    if (!n || n >= LEC_TRUST_NODE)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

int lec_trust_issue(const uint8_t cluster_seed[LEC_TRUST_KEY], const char *node,
                    const lec_rand *rand, lec_trust_identity *out)
{
    memset(out, 0, sizeof *out);
    if (!valid_node(node))
        return LEC_ERR_INVAL;
    snprintf(out->node, sizeof out->node, "%s", node);
    int rc = lec_trust_keypair(rand, out->seed, out->pub);
    EVP_PKEY *ca = rc ? NULL : ed_private(cluster_seed);
    uint8_t msg[CERT_MSG_MAX];
    size_t n = cert_msg(node, out->pub, msg);
    if (!rc)
        rc = ca ? ed_sign(ca, msg, n, out->cert) : LEC_ERR_NOMEM;
    EVP_PKEY_free(ca);
    if (rc)
        lec_trust_wipe(out, sizeof *out);
    return rc;
}

/* ---- the identity file ---------------------------------------------------- */

/* One line of the identity file, in place. */
static int identity_line(char *l, lec_trust_identity *out, unsigned *have, const char **why)
{
    while (*l == ' ' || *l == '\t')
        l++;
    if (!*l || *l == '#')
        return 0;
    char *colon = strchr(l, ':');
    if (!colon) {
        *why = "a line is not 'name: value'";
        return LEC_ERR_INVAL;
    }
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (!strcmp(l, "node")) {
        if (!valid_node(v)) {
            *why = "node: is not a valid node id";
            return LEC_ERR_INVAL;
        }
        snprintf(out->node, sizeof out->node, "%s", v);
        *have |= 1;
    } else if (!strcmp(l, "key")) {
        if (lec_trust_hex_decode(v, out->seed, LEC_TRUST_KEY)) {
            *why = "key: is not 64 hex digits";
            return LEC_ERR_INVAL;
        }
        *have |= 2;
    } else if (!strcmp(l, "cert")) {
        if (lec_trust_hex_decode(v, out->cert, LEC_TRUST_SIG)) {
            *why = "cert: is not 128 hex digits";
            return LEC_ERR_INVAL;
        }
        *have |= 4;
    } else if (strcmp(l, "public")) { /* public: is there for operators */
        *why = "unknown name (node, key, cert, public)";
        return LEC_ERR_INVAL;
    }
    return 0;
}

int lec_trust_identity_parse(const char *text, size_t len, lec_trust_identity *out,
                             const char **why)
{
    memset(out, 0, sizeof *out);
    unsigned have = 0;
    const char *p = text, *end = text + len;
    *why = "";
    char line[256];
    int rc = 0;
    while (p < end && !rc) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *start = p;
        size_t n = (size_t)((nl ? nl : end) - start);
        p = nl ? nl + 1 : end;
        if (n >= sizeof line) {
            *why = "a line is too long";
            rc = LEC_ERR_INVAL;
            break;
        }
        memcpy(line, start, n);
        line[n] = '\0';
        while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            line[--n] = '\0';
        rc = identity_line(line, out, &have, why);
    }
    lec_trust_wipe(line, sizeof line);
    if (!rc && have != 7) {
        *why = "node:, key: and cert: are all required";
        rc = LEC_ERR_INVAL;
    }
    EVP_PKEY *k = rc ? NULL : ed_private(out->seed);
    size_t pl = LEC_TRUST_KEY;
    if (!rc && (!k || EVP_PKEY_get_raw_public_key(k, out->pub, &pl) != 1)) {
        *why = "key: is not an Ed25519 key";
        rc = LEC_ERR_INVAL;
    }
    EVP_PKEY_free(k);
    if (rc)
        lec_trust_wipe(out, sizeof *out);
    return rc;
}

int lec_trust_identity_format(const lec_trust_identity *id, char *out, size_t cap)
{
    char seed[2 * LEC_TRUST_KEY + 1], pub[2 * LEC_TRUST_KEY + 1], cert[2 * LEC_TRUST_SIG + 1];
    lec_trust_hex_encode(id->seed, LEC_TRUST_KEY, seed);
    lec_trust_hex_encode(id->pub, LEC_TRUST_KEY, pub);
    lec_trust_hex_encode(id->cert, LEC_TRUST_SIG, cert);
    int n = snprintf(out, cap,
                     "# lectern node identity: keep it secret (mode 0600)\n"
                     "node: %s\nkey: %s\ncert: %s\npublic: %s\n",
                     id->node, seed, cert, pub);
    lec_trust_wipe(seed, sizeof seed);
    return n > 0 && (size_t)n < cap ? 0 : LEC_ERR_RANGE;
}

/* ---- trust ------------------------------------------------------------ */

static bool cert_ok(EVP_PKEY *cluster, const char *node, const uint8_t pub[LEC_TRUST_KEY],
                    const uint8_t cert[LEC_TRUST_SIG])
{
    if (!valid_node(node))
        return false;
    uint8_t msg[CERT_MSG_MAX];
    size_t n = cert_msg(node, pub, msg);
    return ed_verify(cluster, msg, n, cert);
}

int lec_trust_new(lec_trust **out, const uint8_t cluster_pub[LEC_TRUST_KEY],
                  const lec_trust_identity *self)
{
    *out = NULL;
    lec_trust *t = calloc(1, sizeof *t);
    if (!t)
        return LEC_ERR_NOMEM;
    t->id = *self;
    t->cluster = ed_public(cluster_pub);
    t->self = ed_private(self->seed);
    int rc = 0;
    if (!t->cluster || !t->self)
        rc = LEC_ERR_INVAL;
    else if (!cert_ok(t->cluster, self->node, self->pub, self->cert))
        rc = LEC_ERR_AUTH;
    if (rc) {
        lec_trust_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void lec_trust_free(lec_trust *t)
{
    if (!t)
        return;
    EVP_PKEY_free(t->cluster);
    EVP_PKEY_free(t->self);
    lec_trust_wipe(t, sizeof *t);
    free(t);
}

const char *lec_trust_self(const lec_trust *t)
{
    return t->id.node;
}

/* What a message's signature covers: context, subject, NUL, time (8
 * bytes big-endian), body.  NULL when out of memory. */
static uint8_t *msg_bytes(const char *subject, uint64_t ms, const uint8_t *body, size_t len,
                          size_t *n)
{
    size_t cl = sizeof MSG_CTX, sl = strlen(subject) + 1;
    *n = cl + sl + 8 + len;
    uint8_t *b = malloc(*n ? *n : 1);
    if (!b)
        return NULL;
    memcpy(b, MSG_CTX, cl);
    memcpy(b + cl, subject, sl);
    for (int i = 0; i < 8; i++)
        b[cl + sl + (size_t)i] = (uint8_t)(ms >> (56 - 8 * i));
    if (len)
        memcpy(b + cl + sl + 8, body, len);
    return b;
}

int lec_trust_sign(const lec_trust *t, const char *subject, const uint8_t *body, size_t len,
                   uint64_t now_ms, lec_trust_sig *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->signer, sizeof out->signer, "%s", t->id.node);
    memcpy(out->key, t->id.pub, LEC_TRUST_KEY);
    memcpy(out->cert, t->id.cert, LEC_TRUST_SIG);
    out->unix_ms = now_ms;
    size_t n;
    uint8_t *m = msg_bytes(subject, now_ms, body, len, &n);
    if (!m)
        return LEC_ERR_NOMEM;
    int rc = ed_sign(t->self, m, n, out->sig);
    free(m);
    return rc;
}

int lec_trust_verify(const lec_trust *t, const char *subject, const uint8_t *body, size_t len,
                     const lec_trust_sig *s, uint64_t now_ms)
{
    if (!memchr(s->signer, '\0', sizeof s->signer) || !cert_ok(t->cluster, s->signer, s->key, s->cert))
        return LEC_ERR_AUTH;
    EVP_PKEY *k = ed_public(s->key);
    size_t n;
    uint8_t *m = k ? msg_bytes(subject, s->unix_ms, body, len, &n) : NULL;
    bool ok = m && ed_verify(k, m, n, s->sig);
    free(m);
    EVP_PKEY_free(k);
    if (!ok)
        return LEC_ERR_AUTH;
    uint64_t d = now_ms > s->unix_ms ? now_ms - s->unix_ms : s->unix_ms - now_ms;
    return d > LEC_TRUST_WINDOW ? LEC_ERR_TIMEOUT : 0;
}

/* ---- sealing ------------------------------------------------------------ */

static EVP_PKEY *x_private(const uint8_t priv[LEC_TRUST_KEY])
{
    return EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, LEC_TRUST_KEY);
}

int lec_trust_seal_keypair(const lec_rand *rand, uint8_t priv[LEC_TRUST_KEY],
                           uint8_t pub[LEC_TRUST_KEY])
{
    rand->fill(rand->ud, priv, LEC_TRUST_KEY);
    EVP_PKEY *k = x_private(priv);
    size_t pl = LEC_TRUST_KEY;
    int ok = k && EVP_PKEY_get_raw_public_key(k, pub, &pl) == 1 && pl == LEC_TRUST_KEY;
    EVP_PKEY_free(k);
    return ok ? 0 : LEC_ERR_NOMEM;
}

/* The AES-256-GCM key and nonce for one box: HKDF-SHA256 over the X25519
 * secret, salted with both public keys (sender's first). */
static int box_key(const uint8_t priv[LEC_TRUST_KEY], const uint8_t peer[LEC_TRUST_KEY],
                   const uint8_t salt[2 * LEC_TRUST_KEY], uint8_t okm[32 + 12])
{
    EVP_PKEY *me = x_private(priv);
    EVP_PKEY *them = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, LEC_TRUST_KEY);
    EVP_PKEY_CTX *c = me ? EVP_PKEY_CTX_new(me, NULL) : NULL;
    uint8_t secret[LEC_TRUST_KEY];
    size_t sl = sizeof secret;
    int ok = c && them && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, them) == 1 &&
             EVP_PKEY_derive(c, secret, &sl) == 1 && sl == sizeof secret;
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(me);
    EVP_PKEY_free(them);
    /* An all-zero secret: the peer's key is of small order. */
    uint8_t zero = 0;
    for (size_t i = 0; ok && i < sl; i++)
        zero |= secret[i];
    ok = ok && zero;
    EVP_PKEY_CTX *h = ok ? EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL) : NULL;
    size_t ol = 32 + 12;
    ok = h && EVP_PKEY_derive_init(h) == 1 && EVP_PKEY_CTX_set_hkdf_md(h, EVP_sha256()) == 1 &&
         EVP_PKEY_CTX_set1_hkdf_salt(h, salt, 2 * LEC_TRUST_KEY) == 1 &&
         EVP_PKEY_CTX_set1_hkdf_key(h, secret, (int)sizeof secret) == 1 &&
         EVP_PKEY_CTX_add1_hkdf_info(h, (const unsigned char *)SEAL_INFO,
                                     (int)sizeof SEAL_INFO - 1) == 1 &&
         EVP_PKEY_derive(h, okm, &ol) == 1 && ol == 32 + 12;
    EVP_PKEY_CTX_free(h);
    lec_trust_wipe(secret, sizeof secret);
    return ok ? 0 : LEC_ERR_AUTH;
}

static int gcm(bool enc, const uint8_t okm[44], const uint8_t *in, size_t n, const uint8_t *aad,
               size_t aad_len, uint8_t *out, uint8_t tag[16])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l = 0, ok = c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
                    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
                    EVP_CipherInit_ex(c, NULL, NULL, okm, okm + 32, enc) == 1 &&
                    (!aad_len || EVP_CipherUpdate(c, NULL, &l, aad, (int)aad_len) == 1) &&
                    EVP_CipherUpdate(c, out, &l, in, (int)n) == 1;
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1;
    ok = ok && EVP_CipherFinal_ex(c, out + l, &l) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : LEC_ERR_AUTH;
}

int lec_trust_seal(const uint8_t to_pub[LEC_TRUST_KEY], const lec_rand *rand, const uint8_t *pt,
                   size_t n, const uint8_t *aad, size_t aad_len, uint8_t *out)
{
    uint8_t priv[LEC_TRUST_KEY], salt[2 * LEC_TRUST_KEY], okm[44];
    if (lec_trust_seal_keypair(rand, priv, out))
        return LEC_ERR_NOMEM;
    memcpy(salt, out, LEC_TRUST_KEY);
    memcpy(salt + LEC_TRUST_KEY, to_pub, LEC_TRUST_KEY);
    int rc = box_key(priv, to_pub, salt, okm);
    if (!rc)
        rc = gcm(true, okm, pt, n, aad, aad_len, out + LEC_TRUST_KEY, out + LEC_TRUST_KEY + n);
    lec_trust_wipe(priv, sizeof priv);
    lec_trust_wipe(okm, sizeof okm);
    return rc ? LEC_ERR_INVAL : 0;
}

int lec_trust_unseal(const uint8_t priv[LEC_TRUST_KEY], const uint8_t *box, size_t len,
                     const uint8_t *aad, size_t aad_len, uint8_t *pt)
{
    if (len < LEC_TRUST_SEAL_OVERHEAD)
        return LEC_ERR_AUTH;
    size_t n = len - LEC_TRUST_SEAL_OVERHEAD;
    uint8_t salt[2 * LEC_TRUST_KEY], okm[44], mine[LEC_TRUST_KEY], tag[16];
    EVP_PKEY *k = x_private(priv);
    size_t pl = LEC_TRUST_KEY;
    int ok = k && EVP_PKEY_get_raw_public_key(k, mine, &pl) == 1;
    EVP_PKEY_free(k);
    if (!ok)
        return LEC_ERR_AUTH;
    memcpy(salt, box, LEC_TRUST_KEY);
    memcpy(salt + LEC_TRUST_KEY, mine, LEC_TRUST_KEY);
    memcpy(tag, box + LEC_TRUST_KEY + n, 16);
    int rc = box_key(priv, box, salt, okm);
    if (!rc)
        rc = gcm(false, okm, box + LEC_TRUST_KEY, n, aad, aad_len, pt, tag);
    lec_trust_wipe(okm, sizeof okm);
    if (rc)
        lec_trust_wipe(pt, n);
    return rc;
}
