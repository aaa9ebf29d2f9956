/*
 * sd_notify as systemd sees it: the real lectern-origin, started with
 * NOTIFY_SOCKET on an abstract socket of ours, says READY=1 once serving,
 * RELOADING=1 (with MONOTONIC_USEC) then READY=1 around a SIGHUP, and
 * STOPPING=1 on SIGTERM.
 */
#include "testdata.h"
#include "base/err.h"
#include "sys/sys.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

static int bind_abstract(const char *name)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(name);
    memcpy(sa.sun_path + 1, name, len); /* leading NUL: abstract */
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, salen), 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* The next notification, or "" after 5 s. */
static const char *next(int fd)
{
    static char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static void test_notify_function(void **state)
{
    (void)state;
    char name[64], env[80];
    snprintf(name, sizeof name, "lectern-notify-%d", (int)getpid());
    int fd = bind_abstract(name);
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(lec_sys_notify("READY=1"), LEC_ERR_NOTFOUND);
    snprintf(env, sizeof env, "@%s", name);
    setenv("NOTIFY_SOCKET", env, 1);
    assert_int_equal(lec_sys_notify("READY=1"), 0);
    assert_string_equal(next(fd), "READY=1");
    assert_int_equal(lec_sys_notify_reloading(), 0);
    assert_contains(next(fd), "RELOADING=1\nMONOTONIC_USEC=");
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    assert_int_equal(lec_sys_notify("READY=1"), LEC_ERR_IO);
    unsetenv("NOTIFY_SOCKET");
    close(fd);
}

static void test_origin_under_systemd(void **state)
{
    (void)state;
    char name[64], env[80], cfg[] = "/tmp/lectern-notify-XXXXXX";
    snprintf(name, sizeof name, "lectern-notify-node-%d", (int)getpid());
    int fd = bind_abstract(name);
    int cfd = mkstemp(cfg);
    const char *y = "node: {id: n1, role: origin, region: r}\nhttp: {listen: 127.0.0.1:0}\n";
    assert_true(write(cfd, y, strlen(y)) == (ssize_t)strlen(y));
    close(cfd);
    snprintf(env, sizeof env, "@%s", name);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("NOTIFY_SOCKET", env, 1);
        int dn = open("/dev/null", 1);
        dup2(dn, 2);
        execl(LEC_ORIGIN_BIN, "lectern-origin", "-c", cfg, (char *)NULL);
        _exit(127);
    }
    assert_contains(next(fd), "READY=1");
    kill(pid, SIGHUP);
    assert_contains(next(fd), "RELOADING=1\nMONOTONIC_USEC=");
    assert_contains(next(fd), "READY=1");
    kill(pid, SIGTERM);
    assert_contains(next(fd), "STATUS=draining");
    assert_string_equal(next(fd), "STOPPING=1");
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    unlink(cfg);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_function),
        cmocka_unit_test(test_origin_under_systemd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
