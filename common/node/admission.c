/*
 * Admission (media_int.h): sessions in progress, that is offers admitted
 * and not yet connected (a job on its way, an offer waiting for a pull, a
 * session answered whose ICE and DTLS are not done), counted per client
 * address and, for jobs, in all.  A peer that never completes its
 * handshake holds its count until the session fails at
 * limits.connect_timeout, so one address cannot fill the node with
 * half-open sessions.  Main loop only.
 */
#include "base/err.h"
#include "node/media_int.h"

#include <stdlib.h>
#include <string.h>

struct pending_addr {
    lec_ip ip;
    unsigned n;
    struct pending_addr *next;
};

static unsigned bucket(const lec_ip *ip)
{
    uint32_t h = 2166136261u;
    const uint8_t *b = (const uint8_t *)ip;
    for (size_t i = 0; i < sizeof *ip; i++)
        h = (h ^ b[i]) * 16777619u;
    return h % LEC_ADMIT_BUCKETS;
}

static pending_addr **find(lec_media *m, const lec_ip *ip)
{
    pending_addr **pp = &m->pending[bucket(ip)];
    while (*pp && !lec_ip_equal(&(*pp)->ip, ip))
        pp = &(*pp)->next;
    return pp;
}

unsigned lec__admit_pending(lec_media *m, const lec_ip *ip)
{
    pending_addr **pp = find(m, ip);
    return *pp ? (*pp)->n : 0;
}

int lec__admit(lec_media *m, job *j, const lec_ip *ip, bool publish, unsigned per_address)
{
    pending_addr **pp = find(m, ip);
    if (*pp && (*pp)->n >= per_address)
        return LEC_ERR_AGAIN;
    if (!*pp) {
        pending_addr *a = calloc(1, sizeof *a);
        if (!a)
            return LEC_ERR_NOMEM;
        a->ip = *ip;
        *pp = a;
    }
    (*pp)->n++;
    m->inflight[publish ? 0 : 1]++;
    j->admit_publish = publish;
    j->ip = *ip;
    j->admitted = true;
    return 0;
}

static void release(lec_media *m, const lec_ip *ip)
{
    pending_addr **pp = find(m, ip);
    if (!*pp)
        return;
    if (--(*pp)->n == 0) {
        pending_addr *a = *pp;
        *pp = a->next;
        free(a);
    }
}

void lec__admit_job_end(job *j, sess_ent *s)
{
    if (!j->admitted)
        return;
    lec_media *m = j->m;
    j->admitted = false;
    unsigned k = j->admit_publish ? 0 : 1;
    if (m->inflight[k])
        m->inflight[k]--;
    if (s) { /* the session carries the count until it connects */
        s->ip = j->ip;
        s->pending = true;
        return;
    }
    release(m, &j->ip);
}

void lec__admit_session_ready(lec_media *m, sess_ent *s)
{
    if (!s->pending)
        return;
    s->pending = false;
    release(m, &s->ip);
}

void lec__admit_free(lec_media *m)
{
    for (unsigned b = 0; b < LEC_ADMIT_BUCKETS; b++)
        while (m->pending[b]) {
            pending_addr *a = m->pending[b];
            m->pending[b] = a->next;
            free(a);
        }
}
