/* The msgpack subset of the MCU link. See mcu_msgpack.h. */
#include "mcu_msgpack.h"

#include <string.h>

/* ---- msgpack subset (big-endian on the wire) ------------------------------------------------- */

void mp_writer_init(mp_writer_t *w, uint8_t *buf, size_t cap) {
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->err = 0;
}

static void mp_put(mp_writer_t *w, uint8_t tag, uint32_t v, int n) {
    int i;
    if (w->err || w->len + 1 + (size_t)n > w->cap) {
        w->err = 1;
        return;
    }
    w->buf[w->len++] = tag;
    for (i = n - 1; i >= 0; i--) w->buf[w->len++] = (uint8_t)(v >> (8 * i));
}

void mp_write_map(mp_writer_t *w, uint32_t n) {
    if (n < 16) mp_put(w, (uint8_t)(0x80 | n), 0, 0);
    else mp_put(w, 0xDE, n, 2);
}

void mp_write_array(mp_writer_t *w, uint32_t n) {
    if (n < 16) mp_put(w, (uint8_t)(0x90 | n), 0, 0);
    else mp_put(w, 0xDC, n, 2);
}

void mp_write_str(mp_writer_t *w, const char *s) {
    size_t n = strlen(s);
    if (n < 32) mp_put(w, (uint8_t)(0xA0 | n), 0, 0);
    else if (n < 256) mp_put(w, 0xD9, (uint32_t)n, 1);
    else w->err = 1;
    if (w->err || w->len + n > w->cap) {
        w->err = 1;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

void mp_write_uint(mp_writer_t *w, uint32_t v) {
    if (v < 128) mp_put(w, (uint8_t)v, 0, 0);
    else if (v < 256) mp_put(w, 0xCC, v, 1);
    else if (v < 65536) mp_put(w, 0xCD, v, 2);
    else mp_put(w, 0xCE, v, 4);
}

void mp_write_float(mp_writer_t *w, float v) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    mp_put(w, 0xCA, bits, 4);
}

void mp_reader_init(mp_reader_t *r, const uint8_t *p, size_t len) {
    r->p = p;
    r->len = len;
    r->pos = 0;
}

static int mp_be(mp_reader_t *r, int n, uint64_t *v) {
    int i;
    if (r->pos + (size_t)n > r->len) return -1;
    *v = 0;
    for (i = 0; i < n; i++) *v = *v << 8 | r->p[r->pos++];
    return 0;
}

static int mp_tag(mp_reader_t *r, uint8_t *tag) {
    if (r->pos >= r->len) return -1;
    *tag = r->p[r->pos++];
    return 0;
}

static int mp_container(mp_reader_t *r, uint8_t fix, uint8_t t16, uint8_t t32, uint32_t *n) {
    uint8_t t;
    uint64_t v;
    if (mp_tag(r, &t)) return -1;
    if ((t & 0xF0) == fix) {
        *n = t & 0x0F;
        return 0;
    }
    if (t != t16 && t != t32) return -1;
    if (mp_be(r, t == t16 ? 2 : 4, &v)) return -1;
    *n = (uint32_t)v;
    return 0;
}

int mp_read_map(mp_reader_t *r, uint32_t *n) { return mp_container(r, 0x80, 0xDE, 0xDF, n); }
int mp_read_array(mp_reader_t *r, uint32_t *n) { return mp_container(r, 0x90, 0xDC, 0xDD, n); }

int mp_read_str(mp_reader_t *r, const uint8_t **s, uint32_t *len) {
    uint8_t t;
    uint64_t v;
    if (mp_tag(r, &t)) return -1;
    if ((t & 0xE0) == 0xA0) v = t & 0x1F;
    else if (t >= 0xD9 && t <= 0xDB) {
        if (mp_be(r, 1 << (t - 0xD9), &v)) return -1;
    } else return -1;
    if (v > r->len - r->pos) return -1;
    *s = r->p + r->pos;
    *len = (uint32_t)v;
    r->pos += (size_t)v;
    return 0;
}

/* Any integer as int64 (uint64 above INT64_MAX is refused). */
static int mp_read_int(mp_reader_t *r, uint8_t t, int64_t *out) {
    uint64_t v;
    if (t < 0x80) { *out = t; return 0; }
    if (t >= 0xE0) { *out = (int8_t)t; return 0; }
    if (t >= 0xCC && t <= 0xCF) {
        if (mp_be(r, 1 << (t - 0xCC), &v) || v > (uint64_t)INT64_MAX) return -1;
        *out = (int64_t)v;
        return 0;
    }
    if (t >= 0xD0 && t <= 0xD3) {
        int n = 1 << (t - 0xD0);
        if (mp_be(r, n, &v)) return -1;
        if (n < 8 && (v >> (8 * n - 1))) v |= ~(uint64_t)0 << (8 * n); /* sign-extend */
        *out = (int64_t)v;
        return 0;
    }
    return -1;
}

int mp_read_uint(mp_reader_t *r, uint32_t *out) {
    uint8_t t;
    int64_t v;
    if (mp_tag(r, &t) || mp_read_int(r, t, &v) || v < 0 || v > 0xFFFFFFFF) return -1;
    *out = (uint32_t)v;
    return 0;
}

int mp_read_float(mp_reader_t *r, float *out) {
    uint8_t t;
    uint64_t bits;
    int64_t i;
    if (mp_tag(r, &t)) return -1;
    if (t == 0xCA) {
        uint32_t b32;
        if (mp_be(r, 4, &bits)) return -1;
        b32 = (uint32_t)bits;
        memcpy(out, &b32, sizeof *out);
        return 0;
    }
    if (t == 0xCB) {
        double d;
        if (mp_be(r, 8, &bits)) return -1;
        memcpy(&d, &bits, sizeof d);
        *out = (float)d;
        return 0;
    }
    if (mp_read_int(r, t, &i)) return -1;
    *out = (float)i;
    return 0;
}

static int mp_skip_depth(mp_reader_t *r, int depth) {
    uint8_t t;
    uint64_t n = 0;
    uint64_t k;
    if (depth > 8 || mp_tag(r, &t)) return -1;
    if (t < 0x80 || t >= 0xE0 || t == 0xC0 || t == 0xC2 || t == 0xC3) return 0;
    if (t >= 0xCC && t <= 0xCF) return mp_be(r, 1 << (t - 0xCC), &k);
    if (t >= 0xD0 && t <= 0xD3) return mp_be(r, 1 << (t - 0xD0), &k);
    if (t == 0xCA) return mp_be(r, 4, &k);
    if (t == 0xCB) return mp_be(r, 8, &k);
    if ((t & 0xE0) == 0xA0) n = t & 0x1F;
    else if (t >= 0xD9 && t <= 0xDB) { if (mp_be(r, 1 << (t - 0xD9), &n)) return -1; }
    else if (t >= 0xC4 && t <= 0xC6) { if (mp_be(r, 1 << (t - 0xC4), &n)) return -1; }
    else {
        uint32_t count;
        int is_map = (t & 0xF0) == 0x80 || t == 0xDE || t == 0xDF;
        r->pos--;
        if (is_map ? mp_read_map(r, &count) : mp_read_array(r, &count)) return -1;
        for (k = 0; k < (uint64_t)count * (is_map ? 2u : 1u); k++)
            if (mp_skip_depth(r, depth + 1)) return -1;
        return 0;
    }
    if (n > r->len - r->pos) return -1;
    r->pos += (size_t)n;
    return 0;
}

int mp_skip(mp_reader_t *r) { return mp_skip_depth(r, 0); }

int mp_key_is(const uint8_t *s, uint32_t len, const char *key) {
    return strlen(key) == len && memcmp(s, key, len) == 0;
}
