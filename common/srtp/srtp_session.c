/* SRTP sessions over libsrtp2 (srtp_session.h). */
#include "srtp/srtp_session.h"
#include "base/err.h"

#include <pthread.h>
#include <srtp2/srtp.h>
#include <stdlib.h>
#include <openssl/crypto.h>
#include <string.h>

struct lec_srtp {
    srtp_t session;
};

/* libsrtp2 keeps library-wide state (its crypto kernel); it is initialised
 * once for the process, the only way it can be. */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t init_status = srtp_err_status_fail;

static void init(void)
{
    init_status = srtp_init();
}

int lec_srtp_new(lec_srtp **out, lec_dtls_profile profile, const uint8_t *key, size_t key_len,
                 bool outbound)
{
    *out = NULL;
    pthread_once(&init_once, init);
    if (init_status != srtp_err_status_ok)
        return LEC_ERR_INTERNAL;
    srtp_policy_t policy;
    memset(&policy, 0, sizeof policy);
    size_t want;
    if (profile == LEC_DTLS_SRTP_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
        want = 16 + 12;
    } else if (profile == LEC_DTLS_SRTP_AES_CM_128_HMAC_SHA1_80) {
        srtp_crypto_policy_set_rtp_default(&policy.rtp);
        srtp_crypto_policy_set_rtcp_default(&policy.rtcp);
        want = 16 + 14;
    } else {
        return LEC_ERR_INVAL;
    }
    if (key_len != want)
        return LEC_ERR_INVAL;
    lec_srtp *s = calloc(1, sizeof *s);
    if (!s)
        return LEC_ERR_NOMEM;
    uint8_t k[32];
    memcpy(k, key, key_len);
    policy.key = k;
    policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    policy.window_size = 1024;  /* late retransmissions are legitimate */
    policy.allow_repeat_tx = 1; /* we resend packets from the ring for NACKs */
    policy.next = NULL;
    srtp_err_status_t st = srtp_create(&s->session, &policy);
    OPENSSL_cleanse(k, sizeof k); /* not optimised away, unlike memset */
    if (st != srtp_err_status_ok) {
        free(s);
        return st == srtp_err_status_alloc_fail ? LEC_ERR_NOMEM : LEC_ERR_INTERNAL;
    }
    *out = s;
    return 0;
}

void lec_srtp_free(lec_srtp *s)
{
    if (!s)
        return;
    srtp_dealloc(s->session);
    free(s);
}

static int status(srtp_err_status_t st)
{
    switch (st) {
    case srtp_err_status_ok:
        return 0;
    case srtp_err_status_auth_fail:
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        return LEC_ERR_AUTH;
    case srtp_err_status_alloc_fail:
        return LEC_ERR_NOMEM;
    default:
        return LEC_ERR_INVAL;
    }
}

int lec_srtp_protect(lec_srtp *s, uint8_t *buf, size_t *len, size_t cap)
{
    if (*len < 12 || *len + LEC_SRTP_MAX_TRAILER > cap || *len > INT32_MAX)
        return LEC_ERR_RANGE;
    int n = (int)*len;
    int rc = status(srtp_protect(s->session, buf, &n));
    if (!rc)
        *len = (size_t)n;
    return rc;
}

int lec_srtp_unprotect(lec_srtp *s, uint8_t *buf, size_t *len)
{
    if (*len < 12 || *len > INT32_MAX)
        return LEC_ERR_INVAL;
    int n = (int)*len;
    int rc = status(srtp_unprotect(s->session, buf, &n));
    if (!rc)
        *len = (size_t)n;
    return rc;
}

int lec_srtp_protect_rtcp(lec_srtp *s, uint8_t *buf, size_t *len, size_t cap)
{
    if (*len < 8 || *len + LEC_SRTP_MAX_TRAILER > cap || *len > INT32_MAX)
        return LEC_ERR_RANGE;
    int n = (int)*len;
    int rc = status(srtp_protect_rtcp(s->session, buf, &n));
    if (!rc)
        *len = (size_t)n;
    return rc;
}

int lec_srtp_unprotect_rtcp(lec_srtp *s, uint8_t *buf, size_t *len)
{
    if (*len < 8 || *len > INT32_MAX)
        return LEC_ERR_INVAL;
    int n = (int)*len;
    int rc = status(srtp_unprotect_rtcp(s->session, buf, &n));
    if (!rc)
        *len = (size_t)n;
    return rc;
}
