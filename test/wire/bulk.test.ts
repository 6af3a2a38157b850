// The JavaScript twin of the native helpers (src/wire/bulk.ts): the two sums agree with
// each other and with a word-at-a-time oracle at odd offsets and lengths, the copies move
// exactly the bytes asked for, and an argument outside its buffer is a RangeError naming the
// function, as the native twin's is (test/moddable-native.test.ts checks the twin against
// this module in Moddable's simulator).
import { describe, expect, it } from "vitest";
import { copyBytes, copyView, csumPartial, csumPartialView } from "../../src/wire/bulk";
import { csumFold } from "../../src/wire/checksum";
import { referenceChecksum, xorshift32 } from "./fixtures";

function randomBytes(next: () => number, len: number): Uint8Array {
  const buf = new Uint8Array(len);
  for (let i = 0; i < len; i++) buf[i] = next() >>> 24;
  return buf;
}

describe("csumPartial and csumPartialView", () => {
  it("give the same unfolded sum, the oracle's checksum, at every offset and length parity", () => {
    const next = xorshift32(0xb01c);
    const buf = randomBytes(next, 1600);
    const view = new DataView(buf.buffer, 3, 1590);  // a view that starts at an odd byte
    for (let n = 0; n < 400; n++) {
      const off = next() % 200;
      const len = n < 40 ? n : next() % 1380;
      const sum = n % 3 === 0 ? 0 : n % 3 === 1 ? next() : next() * 2 ** 20;
      const a = csumPartial(buf, 3 + off, len, sum);
      expect(csumPartialView(view, off, len, sum), `off ${off} len ${len} sum ${sum}`).toBe(a);
      expect(Number.isSafeInteger(a)).toBe(true);
      if (sum === 0) expect(csumFold(a)).toBe(referenceChecksum(buf, 3 + off, len));
    }
  });

  it("fold a running sum above 2^32 before adding (the result stays exact)", () => {
    const ones = new Uint8Array(4).fill(0xff);
    expect(csumPartial(ones, 0, 4, 2 ** 40)).toBe(0x100 + 0x1fffe);  // 2^40 folds to 2^(40 mod 16)
    expect(csumPartialView(new DataView(ones.buffer), 0, 4, 2 ** 40)).toBe(0x100 + 0x1fffe);
  });

  it("refuse bytes outside the buffer with a RangeError naming the function", () => {
    const buf = new Uint8Array(10);
    expect(() => csumPartial(buf, 8, 3, 0)).toThrow(/^csumPartial: bytes 8\.\.11 outside a buffer of 10$/);
    expect(() => csumPartial(buf, -1, 2, 0)).toThrow(RangeError);
    expect(() => csumPartial(buf, 0, -2, 0)).toThrow(RangeError);
    expect(() => csumPartialView(new DataView(buf.buffer, 2), 0, 9, 0)).toThrow(/^csumPartialView: bytes 0\.\.9 outside a view of 8$/);
    expect(csumPartial(buf, 10, 0, 5)).toBe(5);
  });
});

describe("copyBytes and copyView", () => {
  it("copy exactly len bytes between arrays, and within one array where the ranges overlap", () => {
    const next = xorshift32(0xc0b1);
    for (let n = 0; n < 200; n++) {
      const src = randomBytes(next, 300);
      const dst = new Uint8Array(300).fill(0xa5);
      const len = next() % 97, srcOff = next() % 200, dstOff = next() % 200;
      copyBytes(dst, dstOff, src, srcOff, len);
      const want = new Uint8Array(300).fill(0xa5);
      want.set(src.subarray(srcOff, srcOff + len), dstOff);
      expect(dst).toEqual(want);
      // Overlapping, both ways: as memmove (copyWithin).
      const same = src.slice();
      copyBytes(same, dstOff, same, srcOff, len);
      expect(same).toEqual(src.slice().copyWithin(dstOff, srcOff, srcOff + len));
      const dv = new Uint8Array(300).fill(0xa5);
      copyView(new DataView(dv.buffer, 1), dstOff, new DataView(src.buffer, 3), srcOff, len);
      const wantView = new Uint8Array(300).fill(0xa5);
      wantView.set(src.subarray(3 + srcOff, 3 + srcOff + len), 1 + dstOff);
      expect(dv).toEqual(wantView);
    }
  });

  it("refuse bytes outside either buffer with a RangeError naming the function", () => {
    const a = new Uint8Array(8), b = new Uint8Array(16);
    expect(() => copyBytes(a, 4, b, 0, 5)).toThrow(/^copyBytes: 5 bytes from 0 of 16 to 4 of 8$/);
    expect(() => copyBytes(b, 0, a, 4, 5)).toThrow(RangeError);
    expect(() => copyBytes(a, 0, a, 0, -1)).toThrow(RangeError);
    expect(() => copyView(new DataView(a.buffer), 0, new DataView(b.buffer), 12, 5)).toThrow(/^copyView: 5 bytes from 12 of 16 to 0 of 8$/);
    expect(a).toEqual(new Uint8Array(8));
  });
});
