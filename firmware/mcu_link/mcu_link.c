/* Device-side framing of the edge-runtime MCU link. See mcu_link.h and docs/mcu-link.md. */
#include "mcu_link.h"

#include <string.h>

/* ---- COBS (Cheshire & Baker; no empty block after a final full 254-byte run) --------------- */

size_t mcu_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst) {
    size_t out = 1, code_at = 0, i;
    uint8_t code = 1;
    for (i = 0; i < len; i++) {
        if (src[i] != 0) {
            dst[out++] = src[i];
            code++;
        }
        if (src[i] == 0 || code == 0xFF) {
            dst[code_at] = code;
            code = 1;
            if (src[i] == 0 || i + 1 < len) {
                code_at = out++;
            } else {
                return out; /* ended on a full run */
            }
        }
    }
    dst[code_at] = code;
    return out;
}

size_t mcu_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst) {
    size_t in = 0, out = 0;
    if (len == 0) return (size_t)-1;
    while (in < len) {
        uint8_t code = src[in];
        size_t end, k;
        if (code == 0) return (size_t)-1;
        end = in + code;
        if (end > len) return (size_t)-1;
        for (k = in + 1; k < end; k++) {
            if (src[k] == 0) return (size_t)-1;
            dst[out++] = src[k]; /* out <= k always, so decoding in place is safe */
        }
        in = end;
        if (code != 0xFF && in < len) dst[out++] = 0;
    }
    return out;
}

uint32_t mcu_crc32(uint32_t crc, const uint8_t *data, size_t len) {
    size_t i;
    int bit;
    crc = ~crc;
    for (i = 0; i < len; i++) {
        crc ^= data[i];
        for (bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* ---- frames --------------------------------------------------------------------------------- */

/* Streaming COBS writer, so header, payload and CRC need no intermediate buffer. */
typedef struct {
    uint8_t *out;
    size_t cap, len, code_at;
    uint8_t code;
    int full, err;
} cobs_w;

static void cw_push(cobs_w *w, uint8_t b) {
    if (w->len >= w->cap) {
        w->err = 1;
        return;
    }
    w->out[w->len++] = b;
}

static void cw_close_block(cobs_w *w, int full) {
    if (!w->err) w->out[w->code_at] = w->code;
    w->code = 1;
    w->code_at = w->len;
    w->full = full;
    cw_push(w, 0); /* placeholder for the next code byte */
}

static void cw_put(cobs_w *w, const uint8_t *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        if (p[i] == 0) {
            cw_close_block(w, 0);
            continue;
        }
        cw_push(w, p[i]);
        if (++w->code == 0xFF) cw_close_block(w, 1);
    }
}

static void put_le(uint8_t *p, uint32_t v, int n) {
    int i;
    for (i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

size_t mcu_frame_encode(const mcu_frame_t *f, uint8_t *wire, size_t wire_cap) {
    uint8_t header[MCU_LINK_HEADER_LEN], crc_le[MCU_LINK_CRC_LEN];
    uint32_t crc;
    cobs_w w;
    if (f->payload_len > MCU_LINK_MAX_PAYLOAD || wire_cap < 2) return 0;
    header[0] = f->version;
    header[1] = f->type;
    put_le(header + 2, f->seq, 2);
    put_le(header + 4, f->mcu_time_us, 4);
    crc = mcu_crc32(0, header, sizeof header);
    crc = mcu_crc32(crc, f->payload, f->payload_len);
    put_le(crc_le, crc, 4);
    wire[0] = 0; /* leading delimiter: ends any noise before this frame */
    w.out = wire;
    w.cap = wire_cap;
    w.len = 1;
    w.code_at = 1;
    w.code = 1;
    w.full = 0;
    w.err = 0;
    cw_push(&w, 0);
    cw_put(&w, header, sizeof header);
    if (f->payload_len) cw_put(&w, f->payload, f->payload_len);
    cw_put(&w, crc_le, sizeof crc_le);
    if (w.code == 1 && w.full) {
        w.len--; /* drop the empty block opened after a final full run */
    } else if (!w.err) {
        w.out[w.code_at] = w.code;
    }
    cw_push(&w, 0);
    return w.err ? 0 : w.len;
}

void mcu_rx_init(mcu_rx_t *rx) {
    rx->len = 0;
    rx->overflow = 0;
    rx->bad_frames = 0;
}

int mcu_rx_byte(mcu_rx_t *rx, uint8_t byte, mcu_frame_t *out) {
    size_t n;
    const uint8_t *b = rx->buf;
    uint32_t crc;
    if (byte != 0) {
        if (rx->len < sizeof rx->buf) {
            rx->buf[rx->len++] = byte;
        } else if (!rx->overflow) {
            rx->overflow = 1;
            rx->bad_frames++;
            return -1;
        }
        return 0;
    }
    n = rx->len;
    rx->len = 0;
    if (rx->overflow) { /* the end of an oversized run: already counted */
        rx->overflow = 0;
        return 0;
    }
    if (n == 0) return 0; /* padding */
    n = mcu_cobs_decode(rx->buf, n, rx->buf);
    if (n == (size_t)-1 || n < MCU_LINK_HEADER_LEN + MCU_LINK_CRC_LEN) goto bad;
    crc = (uint32_t)b[n - 4] | (uint32_t)b[n - 3] << 8 | (uint32_t)b[n - 2] << 16 |
          (uint32_t)b[n - 1] << 24;
    if (mcu_crc32(0, b, n - MCU_LINK_CRC_LEN) != crc) goto bad;
    out->version = b[0];
    out->type = b[1];
    out->seq = (uint16_t)(b[2] | b[3] << 8);
    out->mcu_time_us = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 |
                       (uint32_t)b[7] << 24;
    out->payload = b + MCU_LINK_HEADER_LEN;
    out->payload_len = n - MCU_LINK_HEADER_LEN - MCU_LINK_CRC_LEN;
    return 1;
bad:
    rx->bad_frames++;
    return -1;
}
