/*
 * ICE on a libuv loop: our ICE-lite agent (lec_ice) and a full, controlling
 * libnice agent (standing in for a browser) on the same uv loop through
 * lec_glib_loop, on 127.0.0.1.  They connect, a datagram goes each way,
 * the 1:1 NAT address replaces ours in the candidates, and everything
 * closes cleanly (the loop must end with no handle left).
 */
#include "testdata.h"
#include "base/err.h"
#include "ice/ice.h"
#include "ice/glib_loop.h"

#include <agent.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

typedef struct ctx {
    int lite_got, full_got;
    lec_ice_state lite_state;
    char lite_data[64], full_data[64];
    bool full_ready;
    lec_ice *lite;
    NiceAgent *full;
    guint stream;
    uv_timer_t deadline;
    bool timed_out;
} ctx;

static void lite_packet(void *ud, const uint8_t *data, size_t len)
{
    ctx *c = ud;
    c->lite_got++;
    snprintf(c->lite_data, sizeof c->lite_data, "%.*s", (int)len, (const char *)data);
    lec_ice_send(c->lite, (const uint8_t *)"pong", 4);
}

static void lite_state(void *ud, lec_ice_state st)
{
    ((ctx *)ud)->lite_state = st;
}

static void full_recv(NiceAgent *a, guint s, guint comp, guint len, gchar *buf, gpointer ud)
{
    (void)a, (void)s, (void)comp;
    ctx *c = ud;
    c->full_got++;
    snprintf(c->full_data, sizeof c->full_data, "%.*s", (int)len, buf);
}

static void full_state(NiceAgent *a, guint s, guint comp, guint st, gpointer ud)
{
    (void)comp;
    ctx *c = ud;
    (void)a, (void)s;
    if (st == NICE_COMPONENT_STATE_READY)
        c->full_ready = true;
}

static void on_deadline(uv_timer_t *t)
{
    ctx *c = t->data;
    c->timed_out = true;
    uv_stop(t->loop);
}

/* Like real traffic (DTLS retransmits): ping until answered. */
static void poll_done(uv_timer_t *t)
{
    ctx *c = t->data;
    if (c->full_got && c->lite_got)
        uv_stop(t->loop);
    else if (c->full_ready)
        nice_agent_send(c->full, c->stream, 1, 4, "ping");
}

static void test_lite_meets_full(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    lec_glib_loop *g = lec_glib_loop_new(&loop);
    assert_non_null(g);
    ctx c;
    memset(&c, 0, sizeof c);
    lec_ip lo;
    lec_ip_parse("127.0.0.1", &lo);
    lec_ice_cfg cfg = {.glib = g,
                       .addresses = &lo,
                       .naddresses = 1,
                       .port_min = 40100,
                       .port_max = 40199,
                       .on_packet = lite_packet,
                       .on_state = lite_state,
                       .ud = &c};
    assert_int_equal(lec_ice_new(&c.lite, &cfg), 0);
    char cands[4][160];
    size_t n = lec_ice_candidates(c.lite, cands, 4);
    assert_true(n >= 1);
    assert_contains(cands[0], "127.0.0.1 401"); /* in the configured range */
    assert_contains(cands[0], "typ host");
    /* Our own credentials (96 and 192 random bits), not libnice's. */
    assert_int_equal(strlen(lec_ice_ufrag(c.lite)), 16);
    assert_int_equal(strlen(lec_ice_pwd(c.lite)), 32);

    /* The "browser": full ICE, controlling. */
    c.full = nice_agent_new_full(lec_glib_loop_context(g), NICE_COMPATIBILITY_RFC5245,
                                 NICE_AGENT_OPTION_NONE);
    g_object_set(c.full, "upnp", FALSE, "ice-tcp", FALSE, "controlling-mode", TRUE, NULL);
    NiceAddress a;
    nice_address_init(&a);
    nice_address_set_from_string(&a, "127.0.0.1");
    nice_agent_add_local_address(c.full, &a);
    c.stream = nice_agent_add_stream(c.full, 1);
    g_signal_connect(c.full, "component-state-changed", G_CALLBACK(full_state), &c);
    nice_agent_attach_recv(c.full, c.stream, 1, lec_glib_loop_context(g), full_recv, &c);
    nice_agent_gather_candidates(c.full, c.stream);
    gchar *fu, *fp;
    nice_agent_get_local_credentials(c.full, c.stream, &fu, &fp);
    /* Signalling, as SDP would carry it. */
    assert_int_equal(lec_ice_set_remote(c.lite, fu, fp), 0);
    g_free(fu);
    g_free(fp);
    nice_agent_set_remote_credentials(c.full, c.stream, lec_ice_ufrag(c.lite), lec_ice_pwd(c.lite));
    char line[200];
    snprintf(line, sizeof line, "a=candidate:%s", cands[0]);
    NiceCandidate *rc = nice_agent_parse_remote_candidate_sdp(c.full, c.stream, line);
    assert_non_null(rc);
    GSList *l = g_slist_append(NULL, rc);
    nice_agent_set_remote_candidates(c.full, c.stream, 1, l);
    g_slist_free_full(l, (GDestroyNotify)nice_candidate_free);
    assert_int_not_equal(lec_ice_send(c.lite, (const uint8_t *)"early", 5), 0); /* no pair yet */

    uv_timer_t poll;
    uv_timer_init(&loop, &poll);
    poll.data = &c;
    uv_timer_start(&poll, poll_done, 10, 10);
    uv_timer_init(&loop, &c.deadline);
    c.deadline.data = &c;
    uv_timer_start(&c.deadline, on_deadline, 5000, 0); /* bounded */
    uv_run(&loop, UV_RUN_DEFAULT);

    assert_false(c.timed_out);
    assert_int_equal(c.lite_state, LEC_ICE_CONNECTED);
    assert_string_equal(c.lite_data, "ping");
    assert_string_equal(c.full_data, "pong");
    /* Bad input is refused, not crashed on. */
    assert_int_equal(lec_ice_add_remote_candidate(c.lite, "garbage"), LEC_ERR_INVAL);
    assert_int_equal(lec_ice_set_remote(c.lite, "", ""), LEC_ERR_INVAL);

    lec_ice_free(c.lite);
    nice_agent_attach_recv(c.full, c.stream, 1, NULL, NULL, NULL);
    g_object_unref(c.full);
    uv_close((uv_handle_t *)&poll, NULL);
    uv_close((uv_handle_t *)&c.deadline, NULL);
    lec_glib_loop_close(g);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_public_ip(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    lec_glib_loop *g = lec_glib_loop_new(&loop);
    lec_ip lo;
    lec_ip_parse("127.0.0.1", &lo);
    lec_ice_cfg cfg = {.glib = g, .addresses = &lo, .naddresses = 1};
    lec_ip_parse("203.0.113.10", &cfg.public_ip);
    lec_ice *ice;
    assert_int_equal(lec_ice_new(&ice, &cfg), 0);
    char cands[4][160];
    assert_true(lec_ice_candidates(ice, cands, 4) >= 1);
    assert_contains(cands[0], "203.0.113.10");
    assert_false(test_contains(cands[0], "127.0.0.1"));
    lec_ice_free(ice);
    lec_glib_loop_close(g);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- the GLib loop: a closed socket's fd taken by a new one ---- */

static int got_datagram;

static gboolean on_readable(GSocket *sock, GIOCondition cond, gpointer ud)
{
    (void)cond, (void)ud;
    char buf[64];
    if (g_socket_receive(sock, buf, sizeof buf, NULL, NULL) > 0)
        got_datagram++;
    return G_SOURCE_CONTINUE;
}

static GSocket *udp_bound(GMainContext *gctx, GSource **src)
{
    GSocket *s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
    GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *a = g_inet_socket_address_new(lo, 0);
    assert_true(g_socket_bind(s, a, TRUE, NULL));
    g_object_unref(a);
    g_object_unref(lo);
    *src = g_socket_create_source(s, G_IO_IN, NULL);
    g_source_set_callback(*src, (GSourceFunc)(void (*)(void))on_readable, NULL, NULL);
    g_source_attach(*src, gctx);
    return s;
}

static void stop_soon(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* A socket the context polls is closed and, before the loop turns, a new
 * one takes its fd number (a session freed and another made in one turn):
 * the new socket is read.  Without lec_glib_loop_forget_closed the poll
 * kept for that number is the closed socket's, and nothing is ever read. */
static void test_fd_reused_in_one_turn(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    lec_glib_loop *g = lec_glib_loop_new(&loop);
    GMainContext *gctx = lec_glib_loop_context(g);
    GSource *src1, *src2;
    GSocket *s1 = udp_bound(gctx, &src1);
    int fd1 = g_socket_get_fd(s1);
    uv_run(&loop, UV_RUN_NOWAIT); /* polled */
    g_source_destroy(src1);
    g_source_unref(src1);
    g_socket_close(s1, NULL);
    g_object_unref(s1);
    lec_glib_loop_forget_closed(g); /* as lec_ice_new does */
    GSocket *s2 = udp_bound(gctx, &src2);
    assert_int_equal(g_socket_get_fd(s2), fd1); /* the same number */
    GSocketAddress *to = g_socket_get_local_address(s2, NULL);
    GSocket *tx = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
    assert_true(g_socket_send_to(tx, to, "x", 1, NULL, NULL) == 1);
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(&t, stop_soon, 300, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(got_datagram, 1);
    g_object_unref(to);
    g_object_unref(tx);
    g_source_destroy(src2);
    g_source_unref(src2);
    g_object_unref(s2);
    uv_close((uv_handle_t *)&t, NULL);
    lec_glib_loop_close(g);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lite_meets_full),
        cmocka_unit_test(test_public_ip),
        cmocka_unit_test(test_fd_reused_in_one_turn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
