/*
 * DTLS over OpenSSL with datagram BIOs (dtls.h).
 *
 * OpenSSL reads and writes through a BIO of our own: a write becomes one
 * queued datagram (so handshake flights keep their record boundaries,
 * which a BIO_s_mem would lose) and a read returns the datagram being
 * handled, whole.  The MTU is fixed (no path MTU probing: ICE decides the
 * path, 1200 bytes fits every path WebRTC uses).
 */
#include "dtls/dtls.h"
#include "base/err.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_QUEUE 32 /* datagrams waiting to be sent */
#define MAX_APP   16 /* application records read, waiting for lec_dtls_read */
#define MAX_DGRAM 1500

struct lec_dtls_cert {
    X509 *x509;
    EVP_PKEY *key;
    char fingerprint[128];
};

typedef struct dgram {
    uint16_t len;
    uint8_t data[MAX_DGRAM];
} dgram;

struct lec_dtls {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *bio;
    bool bio_owned_by_ssl;
    lec_dtls_state state;
    bool server;
    uint8_t peer_fp[32];
    char error[160];
    /* the datagram OpenSSL is reading */
    const uint8_t *in;
    size_t in_len;
    /* datagrams OpenSSL wrote */
    dgram queue[MAX_QUEUE];
    unsigned qhead, qcount;
    bool overflow;
    /* application records read (a data channel's SCTP packets) */
    dgram app[MAX_APP];
    unsigned ahead, acount;
};

/* ---- certificate ------------------------------------------------------ */

int lec_dtls_cert_new(lec_dtls_cert **out)
{
    *out = NULL;
    lec_dtls_cert *c = calloc(1, sizeof *c);
    if (!c)
        return LEC_ERR_NOMEM;
    c->key = EVP_EC_gen("P-256");
    c->x509 = X509_new();
    int ok = c->key && c->x509;
    if (ok) {
        uint8_t serial[8];
        ok = RAND_bytes(serial, sizeof serial) == 1;
        BIGNUM *bn = ok ? BN_bin2bn(serial, sizeof serial, NULL) : NULL;
        ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c->x509)) != NULL;
        BN_free(bn);
    }
    if (ok) {
        X509_NAME *name = X509_get_subject_name(c->x509);
        ok = X509_set_version(c->x509, 2) == 1 &&
             X509_gmtime_adj(X509_getm_notBefore(c->x509), -3600) &&
             X509_gmtime_adj(X509_getm_notAfter(c->x509), 30L * 24 * 3600) && name &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                        (const unsigned char *)"lectern", -1, -1, 0) == 1 &&
             X509_set_issuer_name(c->x509, name) == 1 &&
             X509_set_pubkey(c->x509, c->key) == 1 && X509_sign(c->x509, c->key, EVP_sha256()) > 0;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (ok)
        ok = X509_digest(c->x509, EVP_sha256(), md, &mdlen) == 1 && mdlen == 32;
    if (!ok) {
        lec_dtls_cert_free(c);
        ERR_clear_error();
        return LEC_ERR_INTERNAL;
    }
    char *p = c->fingerprint + sprintf(c->fingerprint, "sha-256 ");
    for (unsigned i = 0; i < mdlen; i++)
        p += sprintf(p, i ? ":%02X" : "%02X", md[i]);
    *out = c;
    return 0;
}

void lec_dtls_cert_free(lec_dtls_cert *c)
{
    if (!c)
        return;
    X509_free(c->x509);
    EVP_PKEY_free(c->key);
    free(c);
}

const char *lec_dtls_cert_fingerprint(const lec_dtls_cert *c)
{
    return c->fingerprint;
}

/* ---- the datagram BIO ------------------------------------------------- */

static int bio_write(BIO *b, const char *data, int len)
{
    lec_dtls *d = BIO_get_data(b);
    if (len <= 0)
        return len;
    if ((size_t)len > MAX_DGRAM || d->qcount == MAX_QUEUE) {
        d->overflow = true; /* dropped: DTLS retransmits */
        return len;
    }
    dgram *g = &d->queue[(d->qhead + d->qcount++) % MAX_QUEUE];
    g->len = (uint16_t)len;
    memcpy(g->data, data, (size_t)len);
    return len;
}

static int bio_read(BIO *b, char *out, int cap)
{
    lec_dtls *d = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (!d->in_len) {
        BIO_set_retry_read(b);
        return -1;
    }
    /* A datagram is read whole or not at all. */
    size_t n = d->in_len < (size_t)cap ? d->in_len : (size_t)cap;
    memcpy(out, d->in, n);
    d->in_len = 0;
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    lec_dtls *d = BIO_get_data(b);
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
    case BIO_CTRL_DGRAM_SET_CONNECTED:
    case BIO_CTRL_DGRAM_SET_PEER:
        return 1;
    case BIO_CTRL_PENDING:
        return d ? (long)d->in_len : 0;
    case BIO_CTRL_WPENDING:
        return 0;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
        return 1200;
    case BIO_CTRL_DGRAM_MTU_EXCEEDED:
        return 0;
    default:
        return 0;
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* OpenSSL method tables live for the process; building ours once is the
 * one process-wide state here (pthread_once: workers start connections
 * concurrently). */
static BIO_METHOD *dgram_method;
static pthread_once_t dgram_once = PTHREAD_ONCE_INIT;

static void make_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "lectern-dgram");
    if (m) {
        BIO_meth_set_write(m, bio_write);
        BIO_meth_set_read(m, bio_read);
        BIO_meth_set_ctrl(m, bio_ctrl);
        BIO_meth_set_create(m, bio_create);
    }
    dgram_method = m;
}

static BIO_METHOD *bio_method(void)
{
    pthread_once(&dgram_once, make_method);
    return dgram_method;
}

/* ---- the connection --------------------------------------------------- */

static void set_error(lec_dtls *d, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[120] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    snprintf(d->error, sizeof d->error, "%s%s%s", what, e ? ": " : "", buf);
    ERR_clear_error();
}

/* The peer's certificate must be the one its SDP fingerprinted (RFC 8122
 * 5); self-signed is expected, so the chain is not checked. */
static int verify(int preverify, X509_STORE_CTX *store)
{
    (void)preverify;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    lec_dtls *d = SSL_get_app_data(ssl);
    if (X509_STORE_CTX_get_error_depth(store) != 0)
        return 1;
    X509 *cert = X509_STORE_CTX_get_current_cert(store);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!cert || X509_digest(cert, EVP_sha256(), md, &n) != 1 || n != 32 ||
        CRYPTO_memcmp(md, d->peer_fp, 32)) {
        snprintf(d->error, sizeof d->error,
                 "the peer's certificate does not match its "
                 "a=fingerprint");
        return 0;
    }
    return 1;
}

/* Retransmission schedule: 50 ms, doubling, at most 3 s (RFC 6347 4.2.4.1
 * suggests 1 s; WebRTC stacks start lower so a lost flight costs less). */
static unsigned int timer_cb(SSL *ssl, unsigned int prev_us)
{
    (void)ssl;
    if (prev_us == 0)
        return 50000;
    return prev_us >= 1500000 ? 3000000 : prev_us * 2;
}

lec_dtls *lec_dtls_new(const lec_dtls_cfg *cfg)
{
    lec_dtls *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->server = cfg->server;
    memcpy(d->peer_fp, cfg->peer_fp, sizeof d->peer_fp);
    d->ctx = SSL_CTX_new(DTLS_method());
    BIO_METHOD *m = bio_method();
    if (!d->ctx || !m)
        goto fail;
    /* A writable copy: OpenSSL 3.0's macro casts away const. */
    static char groups[] = "X25519:P-256";
    /* DTLS 1.2 only; no renegotiation (a peer could make us redo the
     * handshake's work at will, and a media session has no use for it). */
    SSL_CTX_set_options(d->ctx, SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_set_min_proto_version(d->ctx, DTLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(d->ctx, DTLS1_2_VERSION) != 1 ||
        SSL_CTX_use_certificate(d->ctx, cfg->cert->x509) != 1 ||
        SSL_CTX_use_PrivateKey(d->ctx, cfg->cert->key) != 1 ||
        SSL_CTX_set_cipher_list(d->ctx,
                                "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                                "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384") != 1 ||
        SSL_CTX_set1_groups_list(d->ctx, groups) != 1 ||
        /* RFC 5764 4.1.2, AEAD first (RFC 7714). OpenSSL returns 0 on success here. */
        SSL_CTX_set_tlsext_use_srtp(d->ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") != 0)
        goto fail;
    SSL_CTX_set_verify(d->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify);
    SSL_CTX_set_read_ahead(d->ctx, 1);
    d->ssl = SSL_new(d->ctx);
    d->bio = BIO_new(m);
    if (!d->ssl || !d->bio)
        goto fail;
    BIO_set_data(d->bio, d);
    SSL_set_bio(d->ssl, d->bio, d->bio); /* one BIO both ways: SSL owns its one reference */
    d->bio_owned_by_ssl = true;
    SSL_set_app_data(d->ssl, d);
    SSL_set_options(d->ssl, SSL_OP_NO_QUERY_MTU);
    SSL_set_mtu(d->ssl, cfg->mtu ? cfg->mtu : 1200);
    DTLS_set_link_mtu(d->ssl, cfg->mtu ? cfg->mtu : 1200);
    DTLS_set_timer_cb(d->ssl, timer_cb);
    if (d->server)
        SSL_set_accept_state(d->ssl);
    else
        SSL_set_connect_state(d->ssl);
    d->state = LEC_DTLS_HANDSHAKING;
    return d;
fail:
    ERR_clear_error();
    lec_dtls_free(d);
    return NULL;
}

void lec_dtls_free(lec_dtls *d)
{
    if (!d)
        return;
    if (d->bio && !d->bio_owned_by_ssl)
        BIO_free(d->bio);
    SSL_free(d->ssl);
    SSL_CTX_free(d->ctx);
    free(d);
}

/* After the handshake: application records (SCTP for data channels) are
 * kept for lec_dtls_read; alerts change the state. */
static void read_records(lec_dtls *d)
{
    for (int guard = 0; guard <= MAX_APP; guard++) {
        uint8_t buf[MAX_DGRAM];
        int rc = SSL_read(d->ssl, buf, sizeof buf);
        if (rc > 0) {
            if (d->acount == MAX_APP)
                continue; /* dropped: SCTP retransmits */
            dgram *g = &d->app[(d->ahead + d->acount++) % MAX_APP];
            g->len = (uint16_t)rc;
            memcpy(g->data, buf, (size_t)rc);
            continue;
        }
        int e = SSL_get_error(d->ssl, rc);
        if (e == SSL_ERROR_ZERO_RETURN)
            d->state = LEC_DTLS_CLOSED;
        else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            d->state = LEC_DTLS_FAILED;
            set_error(d, "connection failed");
        }
        break;
    }
    ERR_clear_error();
}

static void step(lec_dtls *d)
{
    if (d->state == LEC_DTLS_HANDSHAKING) {
        int rc = SSL_do_handshake(d->ssl);
        if (rc != 1) {
            int e = SSL_get_error(d->ssl, rc);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                d->state = LEC_DTLS_FAILED;
                if (!d->error[0])
                    set_error(d, "handshake failed");
                ERR_clear_error();
            }
            return;
        }
        if (!SSL_get_selected_srtp_profile(d->ssl)) {
            d->state = LEC_DTLS_FAILED;
            snprintf(d->error, sizeof d->error, "no SRTP profile in common");
            return;
        }
        d->state = LEC_DTLS_CONNECTED;
        /* Records of the new epoch that came with the peer's last flight
         * (its first SCTP packet) are read now. */
    }
    if (d->state == LEC_DTLS_CONNECTED)
        read_records(d);
}

void lec_dtls_set_peer_fp(lec_dtls *d, const uint8_t fp[32])
{
    memcpy(d->peer_fp, fp, sizeof d->peer_fp);
}

int lec_dtls_start(lec_dtls *d)
{
    if (d->server || d->state != LEC_DTLS_HANDSHAKING)
        return LEC_ERR_STATE;
    step(d);
    return d->state == LEC_DTLS_FAILED ? LEC_ERR_PROTO : 0;
}

int lec_dtls_handle(lec_dtls *d, const uint8_t *data, size_t len)
{
    if (d->state == LEC_DTLS_FAILED || d->state == LEC_DTLS_CLOSED)
        return LEC_ERR_STATE;
    d->in = data;
    d->in_len = len;
    step(d);
    d->in_len = 0; /* never keep a pointer into the caller's buffer */
    d->in = NULL;
    return d->state == LEC_DTLS_FAILED ? LEC_ERR_PROTO : 0;
}

int lec_dtls_pop(lec_dtls *d, uint8_t *out, size_t cap)
{
    if (!d->qcount)
        return 0;
    dgram *g = &d->queue[d->qhead];
    d->qhead = (d->qhead + 1) % MAX_QUEUE;
    d->qcount--;
    if (g->len > cap)
        return LEC_ERR_RANGE;
    memcpy(out, g->data, g->len);
    return g->len;
}

int lec_dtls_read(lec_dtls *d, uint8_t *out, size_t cap)
{
    if (!d->acount)
        return 0;
    dgram *g = &d->app[d->ahead];
    d->ahead = (d->ahead + 1) % MAX_APP;
    d->acount--;
    if (g->len > cap)
        return LEC_ERR_RANGE;
    memcpy(out, g->data, g->len);
    return g->len;
}

int lec_dtls_write(lec_dtls *d, const uint8_t *data, size_t len)
{
    if (d->state != LEC_DTLS_CONNECTED)
        return LEC_ERR_STATE;
    if (!len || len > MAX_DGRAM - 64)
        return LEC_ERR_RANGE;
    int rc = SSL_write(d->ssl, data, (int)len);
    if (rc <= 0) {
        ERR_clear_error();
        return LEC_ERR_IO;
    }
    return 0;
}

lec_tstamp lec_dtls_deadline(lec_dtls *d, lec_tstamp now)
{
    struct timeval tv;
    if (d->state != LEC_DTLS_HANDSHAKING || DTLSv1_get_timeout(d->ssl, &tv) != 1)
        return LEC_TSTAMP_NEVER;
    return now + (lec_tstamp)tv.tv_sec * LEC_S + (lec_tstamp)tv.tv_usec * LEC_US;
}

void lec_dtls_on_timeout(lec_dtls *d)
{
    if (d->state == LEC_DTLS_HANDSHAKING && DTLSv1_handle_timeout(d->ssl) < 0) {
        d->state = LEC_DTLS_FAILED;
        set_error(d, "handshake timed out");
    }
    ERR_clear_error();
}

lec_dtls_state lec_dtls_get_state(const lec_dtls *d)
{
    return d->state;
}

const char *lec_dtls_error(const lec_dtls *d)
{
    return d->error;
}

int lec_dtls_srtp_keys(const lec_dtls *d, lec_dtls_profile *profile, uint8_t local[32],
                       uint8_t remote[32], size_t *len)
{
    if (d->state != LEC_DTLS_CONNECTED)
        return LEC_ERR_STATE;
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
    size_t key = 16, salt;
    if (p->id == SRTP_AEAD_AES_128_GCM) {
        *profile = LEC_DTLS_SRTP_AEAD_AES_128_GCM;
        salt = 12;
    } else if (p->id == SRTP_AES128_CM_SHA1_80) {
        *profile = LEC_DTLS_SRTP_AES_CM_128_HMAC_SHA1_80;
        salt = 14;
    } else {
        return LEC_ERR_UNSUPPORTED;
    }
    /* RFC 5764 4.2: client key, server key, client salt, server salt. */
    uint8_t km[2 * (16 + 14)];
    if (SSL_export_keying_material((SSL *)d->ssl, km, 2 * (key + salt), "EXTRACTOR-dtls_srtp", 19,
                                   NULL, 0, 0) != 1) {
        ERR_clear_error();
        return LEC_ERR_INTERNAL;
    }
    uint8_t client[32], server[32];
    memcpy(client, km, key);
    memcpy(server, km + key, key);
    memcpy(client + key, km + 2 * key, salt);
    memcpy(server + key, km + 2 * key + salt, salt);
    memcpy(local, d->server ? server : client, key + salt);
    memcpy(remote, d->server ? client : server, key + salt);
    *len = key + salt;
    OPENSSL_cleanse(km, sizeof km);
    return 0;
}
