/*
 * The worker's media engine (sfu/sfu.c) on a real uv loop: how it ends.
 * A publisher (Chrome's WHIP offer, data channel included) leaves and the
 * engine is freed in the same loop turn, after the reaper has started
 * closing the stream's room but before that close completes: the node
 * does exactly this when SIGTERM's drain ends with the last session.  The
 * engine must outlive every handle it is closing (it used to count the
 * room's close only when it was already freeing: a double free in the
 * release build, a use-after-free in room_closed under ASan).
 */
#include "testdata.h"
#include "../sdp/offers.h"
#include "base/err.h"
#include "dtls/dtls.h"
#include "ice/glib_loop.h"
#include "sdp/sdp.h"
#include "sfu/sfu.h"
#include "sys/sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct events {
    int ended, gone;
} events;

static void on_event(void *ud, const lec_sfu_event *ev)
{
    events *e = ud;
    if (ev->kind == LEC_SFU_STREAM_ENDED)
        e->ended++;
    if (ev->kind == LEC_SFU_SESSION_GONE)
        e->gone++;
}

typedef struct fixture {
    uv_loop_t loop;
    lec_glib_loop *glib;
    lec_log log;
    lec_dtls_cert *cert;
    events ev;
    lec_sfu *sfu;
} fixture;

static void fixture_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->glib = lec_glib_loop_new(&f->loop);
    assert_non_null(f->glib);
    lec_log_init(&f->log, NULL, NULL, NULL);
    assert_int_equal(lec_dtls_cert_new(&f->cert), 0);
    lec_sfu_env env = {.loop = &f->loop,
                       .glib = f->glib,
                       .log = &f->log,
                       .cert = f->cert,
                       .port_min = 0,
                       .port_max = 0,
                       .rand = lec_sys_rand(),
                       .clock = lec_sys_clock(),
                       .node_id = "n1",
                       .region = "r1",
                       .event = on_event,
                       .ud = &f->ev};
    lec_ip_parse("127.0.0.1", &env.addresses[0]);
    env.naddresses = 1;
    f->sfu = lec_sfu_new(&env);
    assert_non_null(f->sfu);
}

static void fixture_end(fixture *f)
{
    lec_glib_loop_close(f->glib);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    lec_dtls_cert_free(f->cert);
}

static void publish(fixture *f, const char *stream, const char *id)
{
    static lec_sdp offer; /* large */
    char err[128];
    assert_int_equal(
        lec_sdp_parse(CHROME_WHIP_OFFER, strlen(CHROME_WHIP_OFFER), &offer, err, sizeof err), 0);
    lec_sfu_result res = {0};
    lec_sfu_publish(f->sfu, stream, id, &offer, &res);
    assert_int_equal(res.rc, 0);
    assert_non_null(res.answer);
    free(res.answer);
}

static void free_engine(uv_timer_t *t)
{
    fixture *f = t->data;
    lec_sfu_free(f->sfu);
    f->sfu = NULL;
    uv_close((uv_handle_t *)t, NULL);
}

/* The publisher leaves; in the next loop turn the reaper runs first (its
 * zero timer was started first) and starts closing the room, then the
 * engine is freed, before the room's close callback. */
static void test_freed_while_room_closes(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    publish(&f, "class", "pub1");
    uv_run(&f.loop, UV_RUN_NOWAIT);
    assert_int_equal(lec_sfu_end(f.sfu, "pub1"), 0);
    uv_timer_t t;
    uv_timer_init(&f.loop, &t);
    t.data = &f;
    uv_timer_start(&t, free_engine, 0, 0);
    uv_run(&f.loop, UV_RUN_NOWAIT);
    assert_null(f.sfu);
    fixture_end(&f);
}

/* The same with two rooms, one closing by itself before the free and one
 * that the free closes, and a session still live at the free. */
static void test_freed_with_rooms_in_every_state(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    publish(&f, "a", "pub-a");
    publish(&f, "b", "pub-b");
    publish(&f, "c", "pub-c");
    uv_run(&f.loop, UV_RUN_NOWAIT);
    assert_int_equal(lec_sfu_end(f.sfu, "pub-a"), 0);
    uv_run(&f.loop, UV_RUN_NOWAIT); /* a's room closed completely */
    assert_int_equal(lec_sfu_end(f.sfu, "pub-b"), 0);
    uv_timer_t t;
    uv_timer_init(&f.loop, &t);
    t.data = &f;
    uv_timer_start(&t, free_engine, 0, 0); /* b's room closing, c live */
    uv_run(&f.loop, UV_RUN_NOWAIT);
    assert_null(f.sfu);
    fixture_end(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_freed_while_room_closes),
        cmocka_unit_test(test_freed_with_rooms_in_every_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
