/* The relay leg protocol (media/leg_proto.h) in virtual time: the two ends
 * of a leg, a source's downstream end and a requester's upstream end, over
 * a simulated link with delay and seeded loss, ticked every 10 ms as the
 * worker's room timer does.  Covered: keepalives hold an idle leg under
 * loss, the requester's first packet starts the media, silence is reported
 * once per quiet spell and cleared when heard again, a dead requester is
 * dropped after 10 s, a BYE (twice, one lost) ends the stream downstream,
 * both copies lost falls back to silence, a leaving requester's BYE frees
 * the source's end, and failover: the silent source is excluded and the
 * requester re-sources to the next holder (cluster/source.h), whose end
 * starts on the new leg's hello.  No socket, no clock. */
#include "testdata.h"
#include "cluster/source.h"
#include "media/leg_proto.h"

#include <stdio.h>
#include <string.h>

#define TICK    (10 * LEC_MS)
#define MAXPKTS 4096

/* One end and what happened to it. */
typedef struct end {
    lec_leg_proto p;
    const char *name;
    bool alive;      /* its node runs (a dead one neither sends nor hears) */
    unsigned counts[6]; /* per event bit */
    lec_tstamp first[6];
    unsigned sent, keepalives;
} end;

/* A packet in flight. */
typedef struct pkt {
    lec_tstamp at;
    end *to;
    bool bye;
} pkt;

static struct {
    lec_tstamp now;
    pkt q[MAXPKTS];
    unsigned nq;
    uint32_t rng;
    double loss;        /* each way */
    lec_tstamp delay;   /* one way */
    bool cut;           /* the link drops everything */
    bool drop_next_bye; /* lose the next BYE only */
} net;

static uint32_t rnd(void)
{
    net.rng ^= net.rng << 13;
    net.rng ^= net.rng >> 17;
    net.rng ^= net.rng << 5;
    return net.rng;
}

static void reset(uint32_t seed, double loss, lec_tstamp delay)
{
    memset(&net, 0, sizeof net);
    net.rng = seed;
    net.loss = loss;
    net.delay = delay;
    net.now = 1000 * LEC_S;
}

static void note(end *e, unsigned ev)
{
    for (int b = 0; b < 6; b++)
        if (ev & (1u << b)) {
            if (!e->counts[b]++)
                e->first[b] = net.now;
        }
}

static int bit(unsigned ev)
{
    for (int b = 0; b < 6; b++)
        if (ev == 1u << b)
            return b;
    return -1;
}

static unsigned count(const end *e, unsigned ev)
{
    return e->counts[bit(ev)];
}

static lec_tstamp first(const end *e, unsigned ev)
{
    return e->first[bit(ev)];
}

/* from sends one packet to `to` (media, a keepalive or a BYE). */
static void send(end *from, end *to, bool bye)
{
    if (!from->alive)
        return;
    lec_leg_proto_sent(&from->p, net.now);
    from->sent++;
    bool lost = net.cut || (double)(rnd() % 10000) / 10000.0 < net.loss;
    if (bye && net.drop_next_bye) {
        net.drop_next_bye = false;
        lost = true;
    }
    if (lost || net.nq == MAXPKTS)
        return;
    net.q[net.nq++] = (pkt){.at = net.now + net.delay, .to = to, .bye = bye};
}

static void init(end *e, const char *name, bool upstream)
{
    memset(e, 0, sizeof *e);
    e->name = name;
    e->alive = true;
    lec_leg_proto_init(&e->p, NULL, upstream, true, net.now);
}

/* Runs the two ends for `d`: packets arrive, both ends tick; `media`
 * (when not NULL) sends a packet every 20 ms from the source once started. */
static void run(end *down, end *up, lec_tstamp d, bool media)
{
    lec_tstamp stop = net.now + d;
    lec_tstamp next_media = net.now;
    while (net.now < stop) {
        net.now += TICK;
        for (unsigned i = 0; i < net.nq;) {
            if (net.q[i].at > net.now) {
                i++;
                continue;
            }
            pkt k = net.q[i];
            net.q[i] = net.q[--net.nq];
            if (k.to->alive)
                note(k.to, lec_leg_proto_rx(&k.to->p, k.bye, net.now));
        }
        if (media && down->p.started && !down->p.ended && net.now >= next_media) {
            send(down, up, false);
            next_media = net.now + 20 * LEC_MS;
        }
        end *ends[2] = {down, up};
        for (int i = 0; i < 2; i++) {
            end *e = ends[i];
            if (!e->alive)
                continue;
            lec_tstamp next;
            unsigned ev = lec_leg_proto_tick(&e->p, net.now, &next);
            note(e, ev);
            if (ev & LEC_LEG_KEEPALIVE) {
                e->keepalives++;
                send(e, e == down ? up : down, false);
            }
            assert_true(next > net.now || next == LEC_LEG_NEVER);
        }
    }
}

/* The requester opens the leg: its hello (a first RR) goes out at once. */
static void open_leg(end *down, end *up)
{
    send(up, down, false);
}

static void test_keepalives_hold_an_idle_leg_under_loss(void **state)
{
    (void)state;
    reset(0x1e9, 0.2, 40 * LEC_MS);
    end down, up;
    init(&down, "source", false);
    init(&up, "requester", true);
    open_leg(&down, &up);
    run(&down, &up, 30 * LEC_S, false); /* a paused teacher: no media at all */
    print_message("idle 30 s, 20%% loss: keepalives %u down, %u up\n", down.keepalives, up.keepalives);
    assert_int_equal(count(&down, LEC_LEG_STARTED), 1);
    assert_int_equal(count(&up, LEC_LEG_SILENT), 0);
    assert_int_equal(count(&down, LEC_LEG_CLOSED), 0);
    /* One every 250 ms, each way (nothing else is sent). */
    assert_in_range(down.keepalives, 118, 121);
    assert_in_range(up.keepalives, 118, 121);
}

static void test_media_waits_for_the_requester(void **state)
{
    (void)state;
    reset(7, 0, 30 * LEC_MS);
    end down, up;
    init(&down, "source", false);
    init(&up, "requester", true);
    lec_tstamp t0 = net.now;
    run(&down, &up, 200 * LEC_MS, true);
    assert_false(down.p.started); /* nothing heard yet: no media sent */
    assert_int_equal(down.sent, 0);
    open_leg(&down, &up);
    run(&down, &up, 200 * LEC_MS, true);
    assert_int_equal(count(&down, LEC_LEG_STARTED), 1);
    assert_int_equal(first(&down, LEC_LEG_STARTED) - t0, 230 * LEC_MS); /* hello + one way */
    assert_true(down.sent >= 8);
}

static void test_silence_is_reported_once_and_cleared(void **state)
{
    (void)state;
    reset(11, 0, 20 * LEC_MS);
    end down, up;
    init(&down, "source", false);
    init(&up, "requester", true);
    open_leg(&down, &up);
    run(&down, &up, 5 * LEC_S, true);
    assert_int_equal(count(&up, LEC_LEG_SILENT), 0);
    net.cut = true;
    run(&down, &up, 4 * LEC_S, true);
    assert_int_equal(count(&up, LEC_LEG_SILENT), 1); /* once per quiet spell */
    lec_tstamp after = first(&up, LEC_LEG_SILENT) - up.p.last_rx; /* the last arrival */
    print_message("silence reported %.0f ms after the last packet\n", (double)after / LEC_MS);
    assert_in_range(after, 1 * LEC_S, 1 * LEC_S + TICK);
    net.cut = false;
    run(&down, &up, 2 * LEC_S, true);
    assert_int_equal(count(&up, LEC_LEG_HEARD), 1);
    assert_int_equal(count(&down, LEC_LEG_CLOSED), 0); /* 4 s < 10 s: the source kept it */
    /* A second quiet spell is a second report. */
    net.cut = true;
    run(&down, &up, 2 * LEC_S, true);
    assert_int_equal(count(&up, LEC_LEG_SILENT), 2);
}

static void test_a_dead_requester_is_dropped_after_ten_seconds(void **state)
{
    (void)state;
    reset(13, 0.05, 20 * LEC_MS);
    end down, up;
    init(&down, "source", false);
    init(&up, "requester", true);
    open_leg(&down, &up);
    run(&down, &up, 3 * LEC_S, true);
    up.alive = false; /* its node died: no BYE */
    run(&down, &up, 12 * LEC_S, true);
    assert_int_equal(count(&down, LEC_LEG_CLOSED), 1);
    assert_in_range(first(&down, LEC_LEG_CLOSED) - down.p.last_rx, 10 * LEC_S, 10 * LEC_S + TICK);
    unsigned sent = down.sent;
    run(&down, &up, 2 * LEC_S, true);
    assert_int_equal(down.sent, sent); /* dropped: nothing more goes out */
}

/* The stream ends at the publisher: the source's end sends its BYEs. */
static void stream_ends(end *down, end *up)
{
    unsigned n = lec_leg_proto_byes(&down->p, LEC_LEG_STOP_STREAM_ENDED);
    assert_int_equal(n, 2);
    for (unsigned i = 0; i < n; i++)
        send(down, up, true);
    down->alive = false; /* the room is gone on the source */
}

static void test_bye_ends_the_stream_even_with_one_copy_lost(void **state)
{
    (void)state;
    reset(17, 0, 40 * LEC_MS);
    end down, up;
    init(&down, "source", false);
    init(&up, "requester", true);
    open_leg(&down, &up);
    run(&down, &up, 2 * LEC_S, true);
    net.drop_next_bye = true;
    lec_tstamp t = net.now;
    stream_ends(&down, &up);
    run(&down, &up, 3 * LEC_S, false);
    assert_int_equal(count(&up, LEC_LEG_ENDED), 1);
    assert_int_equal(first(&up, LEC_LEG_ENDED) - t, 40 * LEC_MS); /* the second copy, one way */
    assert_int_equal(count(&up, LEC_LEG_SILENT), 0); /* ended: no failover attempt */
}

static void test_both_byes_lost_fall_back_to_silence(void **state)
{
    (void)state;
    reset(19, 0, 40 * LEC_MS);
    end down, up;
    init(&down, "source", false);
    init(&up, "requester", true);
    open_leg(&down, &up);
    run(&down, &up, 2 * LEC_S, true);
    net.cut = true;
    stream_ends(&down, &up);
    run(&down, &up, 3 * LEC_S, false);
    assert_int_equal(count(&up, LEC_LEG_ENDED), 0);
    assert_int_equal(count(&up, LEC_LEG_SILENT), 1);
    assert_in_range(first(&up, LEC_LEG_SILENT) - up.p.last_rx, 1 * LEC_S, 1 * LEC_S + TICK);
}

static void test_a_leaving_requester_frees_the_source_end(void **state)
{
    (void)state;
    reset(23, 0, 25 * LEC_MS);
    end down, up;
    init(&down, "source", false);
    init(&up, "requester", true);
    open_leg(&down, &up);
    run(&down, &up, 1 * LEC_S, true);
    assert_int_equal(lec_leg_proto_byes(&up.p, LEC_LEG_STOP_LEAVING), 1);
    assert_int_equal(lec_leg_proto_byes(&down.p, LEC_LEG_STOP_SHUTDOWN), 0);
    lec_tstamp t = net.now;
    send(&up, &down, true);
    up.alive = false;
    run(&down, &up, 1 * LEC_S, true);
    assert_int_equal(count(&down, LEC_LEG_CLOSED), 1);
    assert_int_equal(first(&down, LEC_LEG_CLOSED) - t, 30 * LEC_MS); /* 25 ms, the next tick */
}

/* ---- failover: re-sourcing through the cluster view ---------------------- */

static lec_cluster view;

static void holder(const char *id, double lat, double lon, uint32_t depth)
{
    lec_node_info i;
    lec_cluster_held held = {.depth = depth};
    memset(&i, 0, sizeof i);
    snprintf(i.id, sizeof i.id, "%s", id);
    snprintf(i.region, sizeof i.region, "r-%s", id);
    snprintf(held.stream, sizeof held.stream, "class");
    i.role = depth == 0 ? LEC_ROLE_ORIGIN : LEC_ROLE_EDGE;
    i.lat = lat;
    i.lon = lon;
    i.boot_id = 1;
    i.seq = 1;
    i.streams = &held;
    i.nstreams = 1;
    lec_cluster_heartbeat(&view, &i, LEC_S);
}

/* The next try of a pull (cluster/source.h), as node/cascade.c makes it. */
static const char *next_try(lec_pull *pull, const char **why)
{
    lec_source_query q = {.stream = "class", .max_depth = 3};
    lec_source_pick p = lec_pull_next(pull, &view, &q, why);
    return p.node ? p.node->info.id : "(none)";
}

static void test_failover_resources_to_the_next_holder(void **state)
{
    (void)state;
    lec_cluster_init(&view, NULL, "me", 7, 3 * LEC_S);
    lec_node_info self = {.id = "me", .region = "ap", .lat = -33.9, .lon = 151.2, .boot_id = 7};
    lec_cluster_set_self(&view, &self, LEC_S);
    holder("origin", 50.1, 8.7, 0);   /* Frankfurt */
    holder("edge-sg", 1.3, 103.8, 1); /* Singapore: the nearest to Sydney */
    reset(29, 0.02, 60 * LEC_MS);

    /* The requester pulls from the nearest holder. */
    lec_pull pull;
    const char *why = "";
    lec_pull_reset(&pull);
    const char *src = next_try(&pull, &why);
    assert_string_equal(src, "edge-sg");
    end a, b, up;
    init(&a, src, false);
    init(&up, "requester", true);
    open_leg(&a, &up);
    run(&a, &up, 3 * LEC_S, true);

    /* edge-sg dies.  The requester reports the silence, excludes it and
     * asks the next holder; the new leg starts on its hello, the old
     * one's BYE goes nowhere. */
    a.alive = false;
    for (int i = 0; i < 300 && !count(&up, LEC_LEG_SILENT); i++)
        run(&a, &up, TICK, true);
    assert_int_equal(count(&up, LEC_LEG_SILENT), 1);
    lec_tstamp silent_at = first(&up, LEC_LEG_SILENT), last = up.p.last_rx;
    assert_in_range(silent_at - last, 1 * LEC_S, 1 * LEC_S + TICK);
    lec_pull_reset(&pull); /* a failover: a fresh pull without the quiet source */
    lec_pull_exclude(&pull, src);
    const char *next = next_try(&pull, &why);
    assert_string_equal(next, "origin");
    assert_int_equal(lec_leg_proto_byes(&up.p, LEC_LEG_STOP_LEAVING), 1);
    send(&up, &a, true); /* the node re-sources as it hears of it */
    init(&b, next, false);
    lec_leg_proto_init(&up.p, NULL, true, true, net.now); /* the room's new upstream leg */
    memset(up.counts, 0, sizeof up.counts);
    open_leg(&b, &up);
    run(&b, &up, 3 * LEC_S, true);
    assert_int_equal(count(&b, LEC_LEG_STARTED), 1);
    assert_true(up.p.heard);
    print_message("failover: silence %.0f ms after the last packet, the new source started %.0f ms "
                  "after the report\n",
                  (double)(silent_at - last) / LEC_MS,
                  (double)(first(&b, LEC_LEG_STARTED) - silent_at) / LEC_MS);
    assert_in_range(first(&b, LEC_LEG_STARTED) - silent_at, 60 * LEC_MS, 60 * LEC_MS + TICK);
    assert_int_equal(count(&up, LEC_LEG_SILENT), 0); /* the new leg plays */
    /* Had the origin refused too, nobody would be left: give up (the
     * node ends the stream here). */
    lec_pull_exclude(&pull, next);
    assert_string_equal(next_try(&pull, &why), "(none)");
    assert_string_equal(why, "no node with room holds it");
    lec_cluster_free(&view);
}

/* Six holders that each refuse: each refusal excludes that one, the next
 * try asks the next nearest, and after four tries the pull gives up
 * although two are left (a viewer waits seconds, not a tour of the
 * cluster); the next viewer starts a fresh pull. */
static void test_a_pull_gives_up_after_four_tries(void **state)
{
    (void)state;
    lec_cluster_init(&view, NULL, "me", 7, 3 * LEC_S);
    lec_node_info self = {.id = "me", .region = "ap", .lat = -33.9, .lon = 151.2, .boot_id = 7};
    lec_cluster_set_self(&view, &self, LEC_S);
    holder("origin", 50.1, 8.7, 0);     /* Frankfurt */
    holder("edge-sg", 1.3, 103.8, 1);   /* Singapore */
    holder("edge-jp", 35.7, 139.7, 1);  /* Tokyo */
    holder("edge-in", 19.1, 72.9, 1);   /* Mumbai */
    holder("edge-us", 37.4, -122.1, 1); /* California */
    holder("edge-br", -23.5, -46.6, 1); /* Sao Paulo */
    lec_pull pull;
    const char *why = "";
    lec_pull_reset(&pull);
    const char *asked[LEC_PULL_MAX_TRIES];
    for (int i = 0; i < LEC_PULL_MAX_TRIES; i++) {
        asked[i] = next_try(&pull, &why);
        assert_string_not_equal(asked[i], "(none)");
        for (int k = 0; k < i; k++)
            assert_string_not_equal(asked[i], asked[k]); /* never the same one twice */
        lec_pull_exclude(&pull, asked[i]);                /* it refused */
    }
    assert_string_equal(asked[0], "edge-sg"); /* nearest first */
    assert_string_equal(next_try(&pull, &why), "(none)");
    assert_string_equal(why, "every source tried failed");
    lec_pull_reset(&pull);
    assert_string_equal(next_try(&pull, &why), "edge-sg");
    lec_cluster_free(&view);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keepalives_hold_an_idle_leg_under_loss),
        cmocka_unit_test(test_media_waits_for_the_requester),
        cmocka_unit_test(test_silence_is_reported_once_and_cleared),
        cmocka_unit_test(test_a_dead_requester_is_dropped_after_ten_seconds),
        cmocka_unit_test(test_bye_ends_the_stream_even_with_one_copy_lost),
        cmocka_unit_test(test_both_byes_lost_fall_back_to_silence),
        cmocka_unit_test(test_a_leaving_requester_frees_the_source_end),
        cmocka_unit_test(test_failover_resources_to_the_next_holder),
        cmocka_unit_test(test_a_pull_gives_up_after_four_tries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
