// The native twin of src/wire/bulk.ts: the same four functions, each a host function of
// bulk.c (the XS C API). manifest_core.json maps the module xsnet/src/wire/bulk here, so
// the stack's own imports of "./bulk" and "../wire/bulk" reach C on a Moddable build while
// Node, vitest and xsnap load the JavaScript. Same results as the JavaScript for every
// argument it accepts, the same RangeError for bytes outside a buffer.
//
// `return native("name").call(this, ...)` with the parameters passed through in order is
// the form xsc compiles to the host function itself: no JavaScript frame around the call.
// The C takes a Uint8Array, a DataView or an ArrayBuffer for either kind of buffer
// argument, offsets counted from the start of the view.

declare function native(name: string): { call(self: unknown, ...args: unknown[]): unknown };

/** As src/wire/bulk.ts csumPartial: the unfolded sum of buf[off..off+len) added to `sum`. */
export function csumPartial(this: unknown, buf: Uint8Array, off: number, len: number, sum: number): number {
  return native("xs_xsnet_csum_partial").call(this, buf, off, len, sum) as number;
}

/** As src/wire/bulk.ts csumPartialView: csumPartial over a DataView. */
export function csumPartialView(this: unknown, view: DataView, off: number, len: number, sum: number): number {
  return native("xs_xsnet_csum_partial_view").call(this, view, off, len, sum) as number;
}

/** As src/wire/bulk.ts copyBytes: len bytes from src[srcOff..] to dst[dstOff..] (memmove). */
export function copyBytes(this: unknown, dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number, len: number): void {
  native("xs_xsnet_copy_bytes").call(this, dst, dstOff, src, srcOff, len);
}

/** As src/wire/bulk.ts copyView: copyBytes between two DataViews. */
export function copyView(this: unknown, dst: DataView, dstOff: number, src: DataView, srcOff: number, len: number): void {
  native("xs_xsnet_copy_view").call(this, dst, dstOff, src, srcOff, len);
}
