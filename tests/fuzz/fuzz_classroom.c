/* libFuzzer: what students, teachers, other nodes and browsers' SCTP stacks
 * send the classroom.  The first byte picks the door: a data channel
 * message (DCEP, lec_dcep_input), a student's message, a teacher's, a
 * message down or up the cascade (classroom/class.h), or a leg's message
 * packet (media/msgline.h).  One home and one edge live across inputs, so
 * quizzes, answers and asks meet; the clock moves with every input. */
#include "classroom/class.h"
#include "media/msgline.h"
#include "sctp/dcep.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static lec_class home, edge;
static lec_dcep dcep;
static lec_msgline line;
static lec_tstamp now = 1000 * LEC_S;
static int64_t wall = 1700000000000;
static unsigned inputs;

static void ml_send(void *ud, uint8_t *pkt, size_t len)
{
    (void)ud;
    if (!len || len > LEC_ML_PKT_MAX + 8)
        abort();
    (void)pkt[len - 1];
}

static void ml_deliver(void *ud, const uint8_t *msg, size_t len)
{
    (void)ud;
    if (!len || len > LEC_ML_MAX_MSG)
        abort();
    (void)msg[len - 1];
}

static void check(const lec_sbuf *sb)
{
    if (sb->len && sb->data[sb->len] != '\0')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!inputs++) {
        lec_class_init(&home, true, 400 * LEC_MS);
        lec_class_init(&edge, false, 400 * LEC_MS);
        lec_dcep_init(&dcep, true, "lectern");
        lec_msgline_init(&line, 7);
    }
    if (inputs % 5000 == 0) { /* keep memory bounded across a long run */
        lec_class_free(&home);
        lec_class_free(&edge);
        lec_msgline_free(&line);
        lec_class_init(&home, true, 400 * LEC_MS);
        lec_class_init(&edge, false, 400 * LEC_MS);
        lec_msgline_init(&line, 7);
    }
    if (size < 1)
        return 0;
    uint8_t door = data[0] % 7;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    now += 37 * LEC_MS;
    wall += 37;
    lec_sbuf msg, reply;
    lec_sbuf_init(&msg, NULL);
    lec_sbuf_init(&reply, NULL);
    lec_class_event ev;
    lec_class_ask_budget budget = {0};
    lec_class_who who = {(uint32_t)(size % 5), "0123456789abcdef0123456789abcdef", "edge-a",
                         "us-east-1", 20 * LEC_MS};
    char err[160];
    lec_ml_io io = {ml_send, ml_deliver, NULL};
    switch (door) {
    case 0: {
        lec_dcep_event dev;
        lec_dcep_input(&dcep, (uint16_t)(size & 0x0f), size > 2 ? data[1] % 60 : 50, data + 1, n,
                       &dev);
        if (dev.kind == LEC_DCEP_MESSAGE && dev.len && dev.data + dev.len > data + size)
            abort();
        if (dev.kind == LEC_DCEP_REFUSED && (size & 1))
            lec_dcep_closed(&dcep, dev.sid);
        break;
    }
    case 1:
        lec_class_from_student(&edge, &who, s, n, now, &budget, &reply, &msg, &ev);
        check(&reply);
        lec_sbuf_reset(&msg);
        lec_sbuf_reset(&reply);
        lec_class_from_student(&home, &who, s, n, now, &budget, &reply, &msg, &ev);
        break;
    case 2:
        lec_class_from_teacher(&home, s, n, "0011223344556677", now, wall, &msg, &ev, err,
                               sizeof err);
        if (msg.len) { /* what the home sends down, the edge takes */
            lec_sbuf down;
            lec_sbuf_init(&down, NULL);
            lec_class_down(&edge, msg.data, msg.len, now, wall, &down, &ev);
            lec_sbuf_free(&down);
        }
        break;
    case 3:
        lec_class_down(&edge, s, n, now, wall, &msg, &ev);
        break;
    case 4:
        lec_class_up(&home, s, n, now, &msg, &ev);
        break;
    case 5:
        lec_msgline_input(&line, data + 1, n, now, &io);
        break;
    default:
        lec_msgline_send(&line, data + 1, n, now, &io);
        lec_msgline_tick(&line, now, &io);
        break;
    }
    check(&msg);
    for (int i = 0; i < 4; i++) { /* let the clocks run */
        lec_sbuf t;
        lec_sbuf_init(&t, NULL);
        lec_class_tick(&edge, now, wall, &t, &ev);
        if (ev.kind == LEC_CLASS_RELEASE)
            lec_class_show(&edge, ev.quiz, who.vid, now);
        lec_sbuf_reset(&t);
        lec_class_tick(&home, now, wall, &t, &ev);
        if (ev.kind == LEC_CLASS_RELEASE)
            lec_class_show(&home, ev.quiz, who.vid, now);
        lec_sbuf_free(&t);
    }
    lec_sbuf_free(&msg);
    lec_sbuf_free(&reply);
    return 0;
}
