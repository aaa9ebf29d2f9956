/* A real nats-server for tests, on a free loopback port. */
#ifndef LEC_TEST_NATSSERVER_H
#define LEC_TEST_NATSSERVER_H

#include <stdint.h>
#include <sys/types.h>

typedef struct test_nats {
    pid_t pid;
    uint16_t port;
    char url[64];
} test_nats;

/* Starts nats-server and waits until it accepts connections (5 s at most).
 * `port` 0 picks a free one.  Returns 0 or -1. */
int test_nats_start(test_nats *n, uint16_t port);
void test_nats_stop(test_nats *n);

#endif
