// Big-endian (network byte order, RFC 791 Appendix B) loads and stores over a
// Uint8Array. Shifts rather than DataView: no view object per buffer, and the
// same code runs on XS, where a DataView would be one more allocation to hold.
// No bounds checks here: callers check a header's length once (the smoltcp
// `check_len` gate) and every access after that is in range.

/** Unsigned 16-bit big-endian value at buf[off..off+2). */
export function read16(buf: Uint8Array, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

/** Stores the low 16 bits of `v` big-endian at buf[off..off+2). */
export function write16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 8;
  buf[off + 1] = v;
}

/** Unsigned 32-bit big-endian value at buf[off..off+4), as 0..2^32-1. */
export function read32(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

/** Stores the low 32 bits of `v` big-endian at buf[off..off+4). */
export function write32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 24;
  buf[off + 1] = v >>> 16;
  buf[off + 2] = v >>> 8;
  buf[off + 3] = v;
}

// ---- Length gates ----
// Each view has one `<proto>CheckLen(buf, off, len)` (smoltcp's check_len): given the
// bytes from off to the end of the packet, it returns WIRE_OK when every accessor of the
// view stays inside them, or one of the codes below saying what is wrong. A number, not an
// exception or an object: it runs once per packet.

export const WIRE_OK = 0;
/** The packet ends inside the fixed header (or, for ARP, inside its addresses). */
export const WIRE_TRUNCATED = 1;
/** The header-length field is below the fixed header (IPv4 IHL < 5, TCP data offset < 5). */
export const WIRE_BAD_HLEN = 2;
/** The header-length field runs past the packet: options cut off. */
export const WIRE_HLEN_BEYOND = 3;
/** A length field is below its header (IPv4 total length < IHL * 4, UDP length < 8). */
export const WIRE_LEN_SHORT = 4;
/**
 * A length field runs past the packet (IPv4 total length, UDP length). The header itself
 * is whole, so a quote inside an ICMP error, cut short on purpose, accepts this one.
 */
export const WIRE_LEN_BEYOND = 5;
/** Address lengths the view's fixed offsets do not describe (ARP other than 6 and 4). */
export const WIRE_BAD_ALEN = 6;
/** A version field other than the view's (IPv4: 4), so none of its offsets hold. */
export const WIRE_BAD_VERSION = 7;
