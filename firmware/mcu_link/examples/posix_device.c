/*
 * A minimal MCU link device for POSIX, built on mcu_link.c: what a firmware main loop looks like.
 *
 * It talks on stdin/stdout (run it with a pty master or a UART fd as both) and drives ideal motors
 * (present position = goal), with the protocol's full safety behaviour: HELLO refusal, watchdog
 * that latches, e-stop first and repeatable, explicit CLEAR. On a microcontroller replace
 * now_us(), read and write with the timer and UART driver; the rest carries over.
 *
 *   posix_device [--motors N] [--period-us P] [--watchdog-periods K]    serve on stdin/stdout
 *   posix_device --selftest                                             check the framing, exit
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../mcu_link.h"
#include "../mcu_msgpack.h"

#define MAX_MOTORS 64
#define QUEUE 16

typedef struct {
    mcu_frame_t f;
    uint8_t payload[MCU_LINK_MAX_PAYLOAD];
} queued_t;

static struct {
    unsigned motors, wd_periods;
    uint32_t period_us;
    int state, fault, compatible;
    uint16_t seq, applied;
    float goal[MAX_MOTORS];
    uint64_t last_feed_us, boot_us;
} dev = {6, 4, 10000, MCU_STATE_IDLE, MCU_FAULT_NONE, 0, 0, 0, {0}, 0, 0};

static queued_t queue[QUEUE];

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void send_payload(uint8_t type, const mp_writer_t *w) {
    uint8_t wire[MCU_LINK_MAX_WIRE];
    mcu_frame_t f;
    size_t len, off = 0;
    f.version = MCU_LINK_MAJOR;
    f.type = type;
    f.seq = dev.seq++;
    f.mcu_time_us = (uint32_t)(now_us() - dev.boot_us);
    f.payload = w->buf;
    f.payload_len = w->len;
    len = mcu_frame_encode(&f, wire, sizeof wire);
    while (off < len) { /* one frame, written whole */
        ssize_t n = write(STDOUT_FILENO, wire + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return; /* host gone: the watchdog will act */
        off += (size_t)n;
    }
}

static void send_ack(uint16_t echo, int code) {
    uint8_t buf[32];
    mp_writer_t w;
    mp_writer_init(&w, buf, sizeof buf);
    mp_write_map(&w, 2);
    mp_write_str(&w, "echo");
    mp_write_uint(&w, echo);
    mp_write_str(&w, "code");
    mp_write_uint(&w, (uint32_t)code);
    send_payload(MCU_ACK, &w);
}

static void send_hello_ack(uint16_t echo) {
    uint8_t buf[160];
    mp_writer_t w;
    mp_writer_init(&w, buf, sizeof buf);
    mp_write_map(&w, 8);
    mp_write_str(&w, "echo"), mp_write_uint(&w, echo);
    mp_write_str(&w, "major"), mp_write_uint(&w, MCU_LINK_MAJOR);
    mp_write_str(&w, "minor"), mp_write_uint(&w, MCU_LINK_MINOR);
    mp_write_str(&w, "schema"), mp_write_uint(&w, MCU_LINK_SCHEMA_HASH);
    mp_write_str(&w, "firmware"), mp_write_str(&w, "mcu_link posix_device");
    mp_write_str(&w, "motors"), mp_write_uint(&w, dev.motors);
    mp_write_str(&w, "period_us"), mp_write_uint(&w, dev.period_us);
    mp_write_str(&w, "watchdog_periods"), mp_write_uint(&w, dev.wd_periods);
    send_payload(MCU_HELLO_ACK, &w);
}

static void write_floats(mp_writer_t *w, const char *key, const float *v) {
    unsigned i;
    mp_write_str(w, key);
    mp_write_array(w, dev.motors);
    for (i = 0; i < dev.motors; i++) mp_write_float(w, v ? v[i] : 0.0f);
}

static void send_telemetry(uint16_t echo) {
    uint8_t buf[MCU_LINK_MAX_PAYLOAD];
    mp_writer_t w;
    unsigned i;
    mp_writer_init(&w, buf, sizeof buf);
    mp_write_map(&w, 8);
    mp_write_str(&w, "echo"), mp_write_uint(&w, echo);
    mp_write_str(&w, "state"), mp_write_uint(&w, (uint32_t)dev.state);
    mp_write_str(&w, "fault"), mp_write_uint(&w, (uint32_t)dev.fault);
    mp_write_str(&w, "applied"), mp_write_uint(&w, dev.applied);
    write_floats(&w, "pos", dev.goal); /* ideal motors: present = goal */
    write_floats(&w, "vel", NULL);
    write_floats(&w, "cur", NULL);
    mp_write_str(&w, "err");
    mp_write_array(&w, dev.motors);
    for (i = 0; i < dev.motors; i++) mp_write_uint(&w, 0);
    send_payload(MCU_TELEMETRY, &w);
}

static void latch(int fault) { /* torque off would go here */
    dev.state = MCU_STATE_FAULT;
    dev.fault = fault;
}

/* Payload of a type with no required keys: must still be a well-formed map. */
static int empty_map_ok(const mcu_frame_t *f) {
    mp_reader_t r;
    uint32_t n, i;
    mp_reader_init(&r, f->payload, f->payload_len);
    if (mp_read_map(&r, &n)) return 0;
    for (i = 0; i < 2 * n; i++)
        if (mp_skip(&r)) return 0;
    return 1;
}

static int parse_hello(const mcu_frame_t *f, uint32_t *major, uint32_t *schema) {
    mp_reader_t r;
    uint32_t n, i, len, minor, seen = 0;
    const uint8_t *key;
    mp_reader_init(&r, f->payload, f->payload_len);
    if (mp_read_map(&r, &n)) return 0;
    for (i = 0; i < n; i++) {
        if (mp_read_str(&r, &key, &len)) return 0;
        if (mp_key_is(key, len, "major")) {
            if (mp_read_uint(&r, major)) return 0;
            seen |= 1u;
        } else if (mp_key_is(key, len, "minor")) {
            if (mp_read_uint(&r, &minor)) return 0;
            seen |= 2u;
        } else if (mp_key_is(key, len, "schema")) {
            if (mp_read_uint(&r, schema)) return 0;
            seen |= 4u;
        } else if (mp_skip(&r)) {
            return 0; /* a malformed value; unknown keys themselves are ignored */
        }
    }
    return seen == 7u;
}

static int parse_goal(const mcu_frame_t *f, float *goal) {
    mp_reader_t r;
    uint32_t n, i, k, len, count, found = 0;
    const uint8_t *key;
    mp_reader_init(&r, f->payload, f->payload_len);
    if (mp_read_map(&r, &n)) return 0;
    for (i = 0; i < n; i++) {
        if (mp_read_str(&r, &key, &len)) return 0;
        if (!mp_key_is(key, len, "goal")) {
            if (mp_skip(&r)) return 0;
            continue;
        }
        if (mp_read_array(&r, &count) || count != dev.motors) return 0;
        for (k = 0; k < count; k++)
            if (mp_read_float(&r, &goal[k]) || !isfinite(goal[k])) return 0;
        found = 1;
    }
    return (int)found;
}

static void handle(const mcu_frame_t *f) {
    uint32_t major = 0, schema = 0;
    float goal[MAX_MOTORS];
    if (f->type == MCU_ESTOP) { /* no payload or version check: stop whatever the host speaks */
        latch(MCU_FAULT_ESTOP);
        send_ack(f->seq, MCU_OK);
        return;
    }
    if (f->type != MCU_HELLO && f->version != MCU_LINK_MAJOR) {
        send_ack(f->seq, MCU_INCOMPATIBLE);
        return;
    }
    switch (f->type) {
    case MCU_HELLO:
        if (!parse_hello(f, &major, &schema)) break;
        dev.compatible = major == MCU_LINK_MAJOR && schema == MCU_LINK_SCHEMA_HASH;
        send_hello_ack(f->seq);
        return;
    case MCU_COMMAND:
        if (!parse_goal(f, goal)) break;
        if (dev.state == MCU_STATE_FAULT) send_ack(f->seq, MCU_FAULT_LATCHED);
        else if (dev.state != MCU_STATE_ARMED) send_ack(f->seq, MCU_NOT_ARMED);
        else {
            memcpy(dev.goal, goal, dev.motors * sizeof goal[0]);
            dev.last_feed_us = now_us();
            dev.applied = f->seq;
            send_ack(f->seq, MCU_OK);
        }
        return;
    case MCU_ENABLE: case MCU_DISABLE: case MCU_HEARTBEAT: case MCU_STATE_REQ: case MCU_CLEAR:
        if (!empty_map_ok(f)) break;
        if (f->type == MCU_STATE_REQ) send_telemetry(f->seq);
        else if (f->type == MCU_HEARTBEAT) {
            if (dev.state == MCU_STATE_ARMED) dev.last_feed_us = now_us();
        } else if (f->type == MCU_DISABLE) {
            if (dev.state == MCU_STATE_ARMED) dev.state = MCU_STATE_IDLE;
            send_ack(f->seq, MCU_OK);
        } else if (f->type == MCU_CLEAR) {
            if (dev.state == MCU_STATE_FAULT) dev.state = MCU_STATE_IDLE, dev.fault = MCU_FAULT_NONE;
            send_ack(f->seq, MCU_OK);
        } else if (!dev.compatible) send_ack(f->seq, MCU_INCOMPATIBLE);
        else if (dev.state == MCU_STATE_FAULT) send_ack(f->seq, MCU_FAULT_LATCHED);
        else {
            dev.state = MCU_STATE_ARMED; /* ideal motors already hold their position */
            dev.last_feed_us = now_us();
            send_ack(f->seq, MCU_OK);
        }
        return;
    default:
        send_ack(f->seq, MCU_UNKNOWN_TYPE);
        return;
    }
    send_ack(f->seq, MCU_BAD_PAYLOAD);
}

static void check_watchdog(void) {
    uint64_t timeout = (uint64_t)dev.period_us * dev.wd_periods;
    if (dev.state == MCU_STATE_ARMED && now_us() - dev.last_feed_us > timeout) {
        uint8_t buf[32];
        mp_writer_t w;
        latch(MCU_FAULT_WATCHDOG);
        mp_writer_init(&w, buf, sizeof buf);
        mp_write_map(&w, 2);
        mp_write_str(&w, "state"), mp_write_uint(&w, MCU_STATE_FAULT);
        mp_write_str(&w, "fault"), mp_write_uint(&w, MCU_FAULT_WATCHDOG);
        send_payload(MCU_FAULT, &w);
    }
}

static int serve(void) {
    static mcu_rx_t rx;
    uint8_t chunk[512];
    mcu_rx_init(&rx);
    dev.boot_us = now_us();
    for (;;) {
        struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
        int timeout_ms = 100, queued = 0, i, pass;
        ssize_t n;
        if (dev.state == MCU_STATE_ARMED) { /* wake exactly at the watchdog deadline */
            uint64_t deadline = dev.last_feed_us + (uint64_t)dev.period_us * dev.wd_periods;
            uint64_t now = now_us();
            timeout_ms = deadline > now ? (int)((deadline - now) / 1000u) + 1 : 0;
        }
        if (poll(&pfd, 1, timeout_ms) > 0) {
            n = read(STDIN_FILENO, chunk, sizeof chunk);
            if (n == 0) return 0;
            if (n < 0) {
                struct timespec pause = {0, 10000000}; /* no host on the pty: do not spin */
                if (errno != EINTR && errno != EAGAIN) nanosleep(&pause, NULL);
                n = 0;
            }
            for (i = 0; i < n; i++) {
                mcu_frame_t f;
                if (mcu_rx_byte(&rx, chunk[i], &f) != 1) continue;
                if (queued == QUEUE) { /* queue full: act in order */
                    handle(&f);
                    continue;
                }
                queue[queued].f = f;
                memcpy(queue[queued].payload, f.payload, f.payload_len);
                queue[queued].f.payload = queue[queued].payload;
                queued++;
            }
            for (pass = 0; pass < 2; pass++) /* e-stops first, then the rest in order */
                for (i = 0; i < queued; i++)
                    if ((queue[i].f.type == MCU_ESTOP) == (pass == 0)) handle(&queue[i].f);
        }
        check_watchdog();
    }
}

static int selftest(void) {
    static const uint8_t in[] = {0x11, 0x22, 0x00, 0x33}, want[] = {0x03, 0x11, 0x22, 0x02, 0x33};
    uint8_t out[MCU_LINK_MAX_WIRE], payload[64];
    mcu_rx_t *rx = malloc(sizeof *rx);
    mcu_frame_t f = {1, MCU_COMMAND, 0x0102, 0, NULL, 0}, g;
    mp_writer_t w;
    mp_reader_t r;
    size_t i, len;
    uint32_t n;
    float x;
    int got = 0;
    if (!rx) return 1;
    if (mcu_crc32(0, (const uint8_t *)"123456789", 9) != 0xCBF43926u) return 2;
    if (mcu_cobs_encode(in, 4, out) != 5 || memcmp(out, want, 5)) return 3;
    if (mcu_cobs_decode(want, 5, out) != 4 || memcmp(out, in, 4)) return 4;
    mp_writer_init(&w, payload, sizeof payload);
    mp_write_map(&w, 1), mp_write_str(&w, "goal"), mp_write_array(&w, 2);
    mp_write_float(&w, 0.5f), mp_write_float(&w, -0.25f);
    f.payload = payload, f.payload_len = w.len;
    len = mcu_frame_encode(&f, out, sizeof out);
    mcu_rx_init(rx);
    for (i = 0; i < len; i++) got += mcu_rx_byte(rx, out[i], &g) == 1;
    if (got != 1 || g.seq != 0x0102 || g.payload_len != w.len) return 5;
    mp_reader_init(&r, g.payload, g.payload_len);
    if (mp_read_map(&r, &n) || n != 1 || mp_skip(&r) || mp_read_array(&r, &n) || n != 2) return 6;
    if (mp_read_float(&r, &x) || x != 0.5f) return 7;
    free(rx);
    puts("selftest ok");
    return 0;
}

int main(int argc, char **argv) {
    int i;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--selftest")) return selftest();
        if (i + 1 >= argc) break;
        if (!strcmp(argv[i], "--motors")) dev.motors = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--period-us")) dev.period_us = (uint32_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--watchdog-periods")) dev.wd_periods = (unsigned)atoi(argv[++i]);
    }
    if (dev.motors < 1 || dev.motors > MAX_MOTORS || dev.wd_periods < 3 || dev.wd_periods > 5 ||
        dev.period_us < 100) {
        fprintf(stderr, "posix_device: bad arguments (motors 1-64, watchdog 3-5, period >= 100 us)\n");
        return 2;
    }
    return serve();
}
