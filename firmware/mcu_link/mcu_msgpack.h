/*
 * mcu_msgpack: the msgpack subset MCU link payloads use: maps, short strings, uints, float32 and
 * arrays to write; the same plus float64 and signed ints to read, and a skip for any value, so a
 * firmware can ignore keys added by a later minor version (docs/mcu-link.md, versioning rules).
 * No heap; the writer's error flag is sticky so a payload is built without a check per call.
 */
#ifndef MCU_MSGPACK_H
#define MCU_MSGPACK_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int err; /* sticky: set once anything did not fit */
} mp_writer_t;

void mp_writer_init(mp_writer_t *w, uint8_t *buf, size_t cap);
void mp_write_map(mp_writer_t *w, uint32_t count);
void mp_write_array(mp_writer_t *w, uint32_t count);
void mp_write_str(mp_writer_t *w, const char *s);
void mp_write_uint(mp_writer_t *w, uint32_t v);
void mp_write_float(mp_writer_t *w, float v);

typedef struct {
    const uint8_t *p;
    size_t len;
    size_t pos;
} mp_reader_t;

void mp_reader_init(mp_reader_t *r, const uint8_t *p, size_t len);
/* Each returns 0 on success and -1 on a type mismatch or truncation (position is then undefined). */
int mp_read_map(mp_reader_t *r, uint32_t *count);
int mp_read_array(mp_reader_t *r, uint32_t *count);
int mp_read_str(mp_reader_t *r, const uint8_t **s, uint32_t *len);
int mp_read_uint(mp_reader_t *r, uint32_t *v);
int mp_read_float(mp_reader_t *r, float *v); /* float32, float64 or any integer */
int mp_skip(mp_reader_t *r);                 /* any value but extension types, nested <= 8 */
int mp_key_is(const uint8_t *s, uint32_t len, const char *key);

#endif
