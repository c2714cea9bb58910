/*
 * mcu_link: device-side framing of the edge-runtime MCU link (docs/mcu-link.md), portable C99.
 *
 * No heap, no libc beyond <stdint.h>/<stddef.h>/<string.h>, no global state: a firmware keeps one
 * mcu_rx_t per UART and feeds it bytes from its ISR or main loop. Frames are
 *
 *     [0x00] COBS( version:u8 type:u8 seq:u16 mcu_time_us:u32 | msgpack payload | crc32:u32 ) 0x00
 *
 * little-endian header and CRC (IEEE CRC32, zlib's). Payloads are msgpack maps: mcu_msgpack.h has
 * a tiny writer and reader for the subset the protocol uses.
 */
#ifndef MCU_LINK_H
#define MCU_LINK_H

#include <stddef.h>
#include <stdint.h>

#define MCU_LINK_MAJOR 1u
#define MCU_LINK_MINOR 0u
#define MCU_LINK_SCHEMA_HASH 0x7DB60A3Fu /* CRC32 of the schema text in docs/mcu-link.md */

#define MCU_LINK_HEADER_LEN 8u
#define MCU_LINK_CRC_LEN 4u
#define MCU_LINK_MAX_PAYLOAD 1024u
#define MCU_LINK_MAX_FRAME (MCU_LINK_HEADER_LEN + MCU_LINK_MAX_PAYLOAD + MCU_LINK_CRC_LEN)
#define MCU_LINK_MAX_STUFFED (MCU_LINK_MAX_FRAME + MCU_LINK_MAX_FRAME / 254u + 1u)
#define MCU_LINK_MAX_WIRE (MCU_LINK_MAX_STUFFED + 2u) /* plus leading and trailing 0x00 */

enum mcu_msg_type {
    MCU_HELLO = 0x01, MCU_ENABLE = 0x02, MCU_DISABLE = 0x03, MCU_COMMAND = 0x04,
    MCU_HEARTBEAT = 0x05, MCU_STATE_REQ = 0x06, MCU_CLEAR = 0x07, MCU_ESTOP = 0x0F,
    MCU_HELLO_ACK = 0x81, MCU_ACK = 0x82, MCU_TELEMETRY = 0x83, MCU_FAULT = 0x84
};

enum mcu_status {
    MCU_OK = 0, MCU_NOT_ARMED = 1, MCU_FAULT_LATCHED = 2, MCU_INCOMPATIBLE = 3,
    MCU_BAD_PAYLOAD = 4, MCU_UNKNOWN_TYPE = 5
};

enum mcu_state { MCU_STATE_IDLE = 0, MCU_STATE_ARMED = 1, MCU_STATE_FAULT = 2 };
enum mcu_fault { MCU_FAULT_NONE = 0, MCU_FAULT_WATCHDOG = 1, MCU_FAULT_ESTOP = 2 };

typedef struct {
    uint8_t version;
    uint8_t type;
    uint16_t seq;
    uint32_t mcu_time_us;
    const uint8_t *payload;
    size_t payload_len;
} mcu_frame_t;

/* --- COBS and CRC32 --------------------------------------------------------------------- */

/* Encode len bytes into dst (room for len + len/254 + 1); returns the encoded length. */
size_t mcu_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst);
/* Decode len bytes into dst (may equal src: in place is safe). Returns the decoded length or
 * (size_t)-1 on malformed input (a zero byte, or a code running past the end). */
size_t mcu_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst);
uint32_t mcu_crc32(uint32_t crc, const uint8_t *data, size_t len); /* start with crc = 0 */

/* --- frames ------------------------------------------------------------------------------ */

/* Write one frame, leading and trailing 0x00 included, into wire (MCU_LINK_MAX_WIRE bytes is
 * always enough). Returns the byte count, or 0 if the payload is too long or wire too small. */
size_t mcu_frame_encode(const mcu_frame_t *frame, uint8_t *wire, size_t wire_cap);

typedef struct {
    uint8_t buf[MCU_LINK_MAX_STUFFED];
    size_t len;
    int overflow;
    uint32_t bad_frames;
} mcu_rx_t;

void mcu_rx_init(mcu_rx_t *rx);
/* Feed one received byte. Returns 1 when a verified frame is in *out (its payload points into
 * rx and stays valid until the next call), 0 when more bytes are needed, -1 when a bad frame was
 * dropped (rx->bad_frames counts them). Never reads or writes outside rx. */
int mcu_rx_byte(mcu_rx_t *rx, uint8_t byte, mcu_frame_t *out);

#endif
