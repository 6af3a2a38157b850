// Byte copies on packet paths. `TypedArray.prototype.set` needs a view per call (an
// allocation); `copyWithin` is native and allocates nothing when both sides share a buffer.

/** Copy len bytes from src[srcOff..] to dst[dstOff..] without allocating. */
export function copyBytes(dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number, len: number): void {
  if (dst === src) {
    dst.copyWithin(dstOff, srcOff, srcOff + len);
    return;
  }
  let i = 0;
  for (; i + 8 <= len; i += 8) {
    dst[dstOff + i] = src[srcOff + i];
    dst[dstOff + i + 1] = src[srcOff + i + 1];
    dst[dstOff + i + 2] = src[srcOff + i + 2];
    dst[dstOff + i + 3] = src[srcOff + i + 3];
    dst[dstOff + i + 4] = src[srcOff + i + 4];
    dst[dstOff + i + 5] = src[srcOff + i + 5];
    dst[dstOff + i + 6] = src[srcOff + i + 6];
    dst[dstOff + i + 7] = src[srcOff + i + 7];
  }
  for (; i < len; i++) dst[dstOff + i] = src[srcOff + i];
}
