// NTP messages as SNTP uses them (src/wire/ntp.ts): the request's bytes, a server's reply
// checked as RFC 4330 5 asks (mode, our originate timestamp, kiss-o'-death, stratum, leap),
// timestamps to Unix time across the 2036 wrap, and any bytes giving a code, never a throw.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WIRE_OK, WIRE_TRUNCATED } from "../../src/wire/bytes";
import {
  NTP_BAD_MODE, NTP_KISS, NTP_KISS_DENY, NTP_KISS_RATE, NTP_LEN, NTP_NOT_OURS, NTP_UNIX_OFFSET_S, NTP_UNSYNCED, ntpBuildRequest,
  ntpCheckReply, ntpKissCode, ntpMode, ntpStratum, ntpToUnixMs, ntpTransmitFrac, ntpTransmitSec, ntpVersion,
} from "../../src/wire/ntp";

/** A server's reply to a request that carried (sec, frac): mode 4, stratum 2, times given. */
function reply(origSec: number, origFrac: number, txSec: number, txFrac: number, first = 0x24, stratum = 2): Uint8Array {
  const buf = new Uint8Array(NTP_LEN);
  const v = new DataView(buf.buffer);
  buf[0] = first;
  buf[1] = stratum;
  v.setUint32(24, origSec);
  v.setUint32(28, origFrac);
  v.setUint32(32, txSec);
  v.setUint32(36, txFrac);
  v.setUint32(40, txSec);
  v.setUint32(44, txFrac);
  return buf;
}

describe("SNTP messages (RFC 4330)", () => {
  it("builds a version 4 client request: zeros but the transmit timestamp", () => {
    const buf = new Uint8Array(NTP_LEN + 4).fill(0xa5);
    expect(ntpBuildRequest(buf, 2, 0x12345678, 0x9abcdef0)).toBe(2 + NTP_LEN);
    expect(buf[2]).toBe(0x23);
    expect(buf.subarray(3, 2 + 40).every((b) => b === 0)).toBe(true);
    expect([...buf.subarray(42, 50)]).toEqual([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]);
    expect([buf[1], buf[50]]).toEqual([0xa5, 0xa5]);
    expect([ntpVersion(buf, 2), ntpMode(buf, 2), ntpTransmitSec(buf, 2), ntpTransmitFrac(buf, 2)]).toEqual([4, 3, 0x12345678, 0x9abcdef0]);
  });

  it("accepts a server's reply to our request, and refuses the others (RFC 4330 5)", () => {
    const tx = [0x1111, 0x2222] as const;
    const now = NTP_UNIX_OFFSET_S + 1_780_000_000; // 2026
    expect(ntpCheckReply(reply(...tx, now, 0), 0, NTP_LEN, ...tx)).toBe(WIRE_OK);
    expect(ntpCheckReply(reply(...tx, now, 0), 0, NTP_LEN - 1, ...tx)).toBe(WIRE_TRUNCATED);
    expect(ntpCheckReply(reply(...tx, now, 0, 0x23), 0, NTP_LEN, ...tx)).toBe(NTP_BAD_MODE); // a client's
    expect(ntpCheckReply(reply(...tx, now, 0, 0x04), 0, NTP_LEN, ...tx)).toBe(NTP_BAD_MODE); // version 0
    expect(ntpCheckReply(reply(0x1111, 0x2223, now, 0), 0, NTP_LEN, ...tx)).toBe(NTP_NOT_OURS);
    expect(ntpCheckReply(reply(...tx, now, 0, 0xe4), 0, NTP_LEN, ...tx)).toBe(NTP_UNSYNCED); // leap 3
    expect(ntpCheckReply(reply(...tx, now, 0, 0x24, 16), 0, NTP_LEN, ...tx)).toBe(NTP_UNSYNCED);
    expect(ntpCheckReply(reply(...tx, 0, 0), 0, NTP_LEN, ...tx)).toBe(NTP_UNSYNCED);
    const kiss = reply(...tx, 0, 0, 0x24, 0);
    new DataView(kiss.buffer).setUint32(12, NTP_KISS_RATE);
    expect(ntpCheckReply(kiss, 0, NTP_LEN, ...tx)).toBe(NTP_KISS);
    expect(ntpKissCode(kiss, 0)).toBe(NTP_KISS_RATE);
    expect(NTP_KISS_DENY).toBe(new DataView(new TextEncoder().encode("DENY").buffer).getUint32(0));
    expect(ntpStratum(kiss, 0)).toBe(0);
  });

  it("turns timestamps into Unix milliseconds, across the 2036 wrap", () => {
    expect(ntpToUnixMs(NTP_UNIX_OFFSET_S, 0)).toBe(0);
    expect(ntpToUnixMs(NTP_UNIX_OFFSET_S + 1, 0x80000000)).toBe(1500);
    // 2036-02-07T06:28:16Z is the wrap: second 0 of era 1
    expect(new Date(ntpToUnixMs(0, 0)).toISOString()).toBe("2036-02-07T06:28:16.000Z");
    expect(new Date(ntpToUnixMs(0xffffffff, 0)).toISOString()).toBe("2036-02-07T06:28:15.000Z");
    expect(new Date(ntpToUnixMs(NTP_UNIX_OFFSET_S + 1_780_000_000, 0)).getUTCFullYear()).toBe(2026);
  });

  it("any bytes: a code, never a throw", () => {
    const codes = [WIRE_OK, WIRE_TRUNCATED, NTP_BAD_MODE, NTP_NOT_OURS, NTP_KISS, NTP_UNSYNCED];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), fc.nat(), fc.nat(), (bytes, s, f) => {
        expect(codes).toContain(ntpCheckReply(bytes, 0, bytes.length, s, f));
      }),
      { numRuns: 2000, seed: 20261206 },
    );
  });
});
