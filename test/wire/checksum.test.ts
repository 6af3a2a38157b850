import { describe, expect, it } from "vitest";
import {
  csumFold, csumPartial, csumPseudoHeader, csumReduce, csumReplace16, csumReplace32, csumVerify,
} from "../../src/wire/checksum";
import { hex, L3, L4, referenceChecksum, TCP_PSH_ACK_FRAME, TCP_SYN_FRAME, UDP_DNS_QUERY, xorshift32 } from "./fixtures";

function randomBytes(seed: number, len: number): Uint8Array {
  const next = xorshift32(seed);
  const buf = new Uint8Array(len);
  for (let i = 0; i < len; i++) buf[i] = next() >>> 24;
  return buf;
}

describe("csumPartial / csumFold", () => {
  it("matches the RFC 1071 section 3 example", () => {
    // 0001 + f203 + f4f5 + f6f7 = 2ddf0, folded ddf2, complement 220d.
    const buf = hex("00 01 f2 03 f4 f5 f6 f7");
    expect(csumPartial(buf, 0, 8, 0)).toBe(0x2ddf0);
    expect(csumReduce(0x2ddf0)).toBe(0xddf2);
    expect(csumFold(csumPartial(buf, 0, 8, 0))).toBe(0x220d);
  });

  it("pads an odd trailing byte as the high byte of a word", () => {
    expect(csumPartial(hex("01"), 0, 1, 0)).toBe(0x0100);
    expect(csumPartial(hex("12 34 56"), 0, 3, 0)).toBe(0x1234 + 0x5600);
    expect(csumFold(csumPartial(hex("ff"), 0, 1, 0))).toBe(0x00ff);
  });

  it("gives 0xffff for no data and 0 for an all-ones sum", () => {
    expect(csumPartial(new Uint8Array(4), 0, 0, 0)).toBe(0);
    expect(csumFold(0)).toBe(0xffff);
    expect(csumFold(0xffff)).toBe(0);
    expect(csumFold(0x1fffe)).toBe(0); // 0xfffe + 1 carry = 0xffff
  });

  it("agrees with a word-at-a-time oracle for every length and offset up to 100", () => {
    const buf = randomBytes(0x1071, 140);
    for (let off = 0; off < 4; off++) {
      for (let len = 0; len <= 100; len++) {
        expect(csumFold(csumPartial(buf, off, len, 0)), `off ${off} len ${len}`).toBe(referenceChecksum(buf, off, len));
      }
    }
  });

  it("reads only buf[off..off+len)", () => {
    const buf = new Uint8Array(40).fill(0xff);
    buf.fill(0, 3, 3 + 33);
    expect(csumPartial(buf, 3, 33, 0)).toBe(0);
  });

  it("chains at even boundaries to the same result as one call", () => {
    const buf = randomBytes(7, 1501);
    const whole = csumFold(csumPartial(buf, 0, 1501, 0));
    let sum = 0;
    for (let off = 0; off < 1501; off += 34) sum = csumPartial(buf, off, Math.min(34, 1501 - off), sum);
    expect(csumFold(sum)).toBe(whole);
  });

  it("stays exact with a huge running sum", () => {
    const buf = randomBytes(99, 65535);
    const big = 2 ** 52 - 1;
    // The oracle takes the initial sum already reduced mod 0xffff, computed exactly with BigInt.
    const expected = referenceChecksum(buf, 0, 65535, Number(BigInt(big) % 0xffffn));
    expect(csumFold(csumPartial(buf, 0, 65535, big))).toBe(expected);
    // All-0xff data: every word is -0, the largest possible accumulator growth.
    const ones = new Uint8Array(65536).fill(0xff);
    const sum = csumPartial(ones, 0, 65536, 0xffffffff);
    expect(Number.isSafeInteger(sum)).toBe(true);
    expect(csumReduce(sum)).toBe(0xffff);
  });

  it("csumReduce folds sums above 2^32", () => {
    expect(csumReduce(2 ** 40)).toBe(csumReduce(2 ** 40 % 0xffff));
    expect(csumReduce(0x123456789ab)).toBe(Number(((0x123456789abn - 1n) % 0xffffn) + 1n));
  });
});

describe("pseudo header and verification on captured segments", () => {
  it("verifies the Linux TCP SYN, the odd-length PSH segment and the UDP DNS query", () => {
    for (const [frame, proto] of [[TCP_SYN_FRAME, 6], [TCP_PSH_ACK_FRAME, 6], [UDP_DNS_QUERY, 17]] as const) {
      const l4len = frame.length - L4;
      const pseudo = csumPseudoHeader(0xc0a84501, 0xc0a84502, proto, l4len);
      expect(csumVerify(frame, L4, l4len, pseudo)).toBe(true);
      // Recomputing with the field zeroed gives back the stored value.
      const checkOff = L4 + (proto === 6 ? 16 : 6);
      const copy = frame.slice();
      copy[checkOff] = 0;
      copy[checkOff + 1] = 0;
      const stored = (frame[checkOff] << 8) | frame[checkOff + 1];
      expect(csumFold(csumPartial(copy, L4, l4len, pseudo))).toBe(stored);
    }
  });

  it("verifies the IPv4 header and rejects a flipped bit anywhere", () => {
    expect(csumVerify(TCP_SYN_FRAME, L3, 20, 0)).toBe(true);
    const l4len = TCP_SYN_FRAME.length - L4;
    const pseudo = csumPseudoHeader(0xc0a84501, 0xc0a84502, 6, l4len);
    for (let bit = 0; bit < l4len * 8; bit++) {
      const copy = TCP_SYN_FRAME.slice();
      copy[L4 + (bit >> 3)] ^= 0x80 >> (bit & 7);
      expect(csumVerify(copy, L4, l4len, pseudo)).toBe(false);
    }
  });

  it("sums the pseudo header as five words plus the length", () => {
    expect(csumPseudoHeader(0xc0a84501, 0xc0a84502, 6, 40)).toBe(0xc0a8 + 0x4501 + 0xc0a8 + 0x4502 + 6 + 40);
    expect(csumPseudoHeader(0xffffffff, 0xffffffff, 17, 0xffff)).toBe(4 * 0xffff + 17 + 0xffff);
  });
});

describe("incremental update (RFC 1624)", () => {
  const CHANGEABLE_WORDS = [2, 4, 6, 8, 12, 14, 16, 18];

  it("csumReplace16 equals a full recompute for 10,000 seeded changes", () => {
    const next = xorshift32(1624);
    const buf = new Uint8Array(20);
    for (let round = 0; round < 10000; round++) {
      for (let i = 0; i < 20; i++) buf[i] = next() >>> 24;
      buf[0] = 0x45; // never all zero: the one case where -0 and +0 would differ
      buf[10] = 0;
      buf[11] = 0;
      const check = csumFold(csumPartial(buf, 0, 20, 0));
      // Change one word other than the first and the checksum field; every
      // fifth round use the extremes 0x0000 and 0xffff.
      const at = CHANGEABLE_WORDS[next() % CHANGEABLE_WORDS.length];
      const oldWord = (buf[at] << 8) | buf[at + 1];
      const newWord = round % 5 === 0 ? (round & 1 ? 0xffff : 0) : next() & 0xffff;
      buf[at] = newWord >>> 8;
      buf[at + 1] = newWord & 0xff;
      expect(csumReplace16(check, oldWord, newWord)).toBe(csumFold(csumPartial(buf, 0, 20, 0)));
    }
  });

  it("csumReplace32 equals a full recompute for 10,000 seeded address changes", () => {
    const next = xorshift32(0x3232);
    const buf = new Uint8Array(20);
    for (let round = 0; round < 10000; round++) {
      for (let i = 0; i < 20; i++) buf[i] = next() >>> 24;
      buf[0] = 0x45;
      buf[10] = 0;
      buf[11] = 0;
      const check = csumFold(csumPartial(buf, 0, 20, 0));
      const at = next() & 1 ? 12 : 16;
      const oldValue = ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>> 0;
      const newValue = round % 7 === 0 ? (round & 1 ? 0xffffffff : 0) : next();
      buf[at] = newValue >>> 24;
      buf[at + 1] = newValue >>> 16;
      buf[at + 2] = newValue >>> 8;
      buf[at + 3] = newValue;
      expect(csumReplace32(check, oldValue, newValue)).toBe(csumFold(csumPartial(buf, 0, 20, 0)));
    }
  });

  it("an update and its inverse restore the original field", () => {
    expect(csumReplace16(csumReplace16(0x1234, 0xabcd, 0x0001), 0x0001, 0xabcd)).toBe(0x1234);
  });
});
