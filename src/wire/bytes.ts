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
