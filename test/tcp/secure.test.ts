// The keyed hashes of src/tcp/secure.ts: HalfSipHash-2-4 against the reference test
// vectors, initial sequence numbers on the 4 µs clock (RFC 6528), and SYN cookies (RFC 4987).
import { describe, expect, it } from "vitest";
import { COOKIE_MSS, TcpSecrets, halfSipFinal, halfSipHash, halfSipInit, halfSipWord } from "../../src/tcp/secure";
import { Prng } from "../../host-sim/sim/prng";

/**
 * vectors_hsip32 of the reference implementation (Aumasson and Bernstein, github.com/veorq/SipHash,
 * vectors.h): HalfSipHash-2-4 with a 32-bit tag, key 00 01 .. 0f (HalfSipHash reads the first
 * 8 bytes), message i the i bytes 00 01 .. i-1; each tag as its four bytes in order.
 */
const VECTORS_HSIP32 = [
  "a9359f5b", "27475ab8", "fa62a603", "8afee704", "2a6e4689", "c5fab669", "5863fc23", "8bcf63c5",
  "d0b8848f", "f806e779", "94b07934", "08083050", "57f0872f", "77e663ff", "d6fff87c", "74fe2b97",
  "d9b5ac84", "c474645b", "465b8d9b", "7befe387", "e34d1045", "613f62b3", "70f367fe", "e6adb8bd",
  "27400c63", "26787875", "4f567b5f", "3ab0e669", "b0644000", "ff670fb4", "509e338b", "5d589f1a",
  "fee72112", "33753259", "6a434f8c", "fe28b729", "e75cc6ec", "697e8d54", "63688b0f", "650b62b4",
  "b6bc1840", "5d074505", "2442fd2e", "7bb7863a", "7705d548", "d75208b1", "b6d499c8", "0892202e",
  "69e12ce3", "8db580e5", "369764c6", "016e0204", "3b85f3d4", "fedb66be", "1e692a3a", "c68984c0",
  "a5c5b940", "9be9e88c", "7dbc8140", "7c078ec5", "d4e76c73", "428fcbb9", "bd83997a", "59ea4a74",
];

const le32 = (b: Uint8Array, i: number): number => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;

/** HalfSipHash-2-4 of any byte string, from the pieces the stack uses (as the reference's halfsiphash()). */
function halfSipHashBytes(key: Uint8Array, msg: Uint8Array): number {
  const v = new Uint32Array(4);
  halfSipInit(v, le32(key, 0), le32(key, 4));
  const whole = msg.length & ~3;
  for (let i = 0; i < whole; i += 4) halfSipWord(v, le32(msg, i));
  let last = msg.length << 24;
  for (let i = whole; i < msg.length; i++) last |= msg[i] << (8 * (i - whole));
  return halfSipFinal(v, last >>> 0);
}

/** The tag as the reference prints it: its four bytes, least significant first. */
const tagHex = (tag: number): string => [0, 8, 16, 24].map((s) => ((tag >>> s) & 0xff).toString(16).padStart(2, "0")).join("");

const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i);

/** A random source that replays `words`. */
const replay = (...words: number[]) => ({ random32: () => words.shift() as number });

describe("HalfSipHash-2-4 (src/tcp/secure.ts)", () => {
  it("gives the reference vectors_hsip32 for key 00..0f and messages 00, 00 01, ... (64 lengths)", () => {
    const key = bytes(16);
    const got = Array.from({ length: 64 }, (_, i) => tagHex(halfSipHashBytes(key, bytes(i))));
    expect(got).toEqual(VECTORS_HSIP32);
  });

  it("its three-word form (the ISN's F) is the hash of the 12 bytes those words are, little-endian", () => {
    const prng = new Prng(5);
    const v = new Uint32Array(4);
    for (let n = 0; n < 50; n++) {
      const k0 = prng.next32();
      const k1 = prng.next32();
      const m = [prng.next32(), prng.next32(), prng.next32()];
      const key = new Uint8Array(new Uint32Array([k0, k1]).buffer);
      const msg = new Uint8Array(new Uint32Array(m).buffer);
      expect(halfSipHash(v, k0, k1, m[0], m[1], m[2])).toBe(halfSipHashBytes(key, msg));
    }
  });
});

describe("initial sequence numbers (RFC 6528)", () => {
  const tuple = [0x0a000001, 49152, 0x0a000002, 80] as const;

  it("move with the 4 µs clock: one tick each 4 µs, 250 a millisecond, never back", () => {
    const s = new TcpSecrets(replay(1, 2, 3, 4));
    const at0 = s.isn(1000, ...tuple);
    // Exact binary fractions of a millisecond: 3.9 µs is no tick yet, 7.8 µs is one.
    expect(s.isn(1000 + 1 / 256, ...tuple)).toBe(at0);
    expect(s.isn(1000 + 1 / 128, ...tuple)).toBe((at0 + 1) >>> 0);
    expect(s.isn(1001, ...tuple)).toBe((at0 + 250) >>> 0);
    let prev = at0;
    let prevMs = 1000;
    for (let ms = 1000.375; ms < 1100; ms += 0.375) {
      const isn = s.isn(ms, ...tuple);
      // Forward by the ticks elapsed (mod 2^32), never back.
      expect((isn - prev) >>> 0).toBe(Math.floor(ms * 250) - Math.floor(prevMs * 250));
      prev = isn;
      prevMs = ms;
    }
    // The clock wraps after 2^32 ticks (about 4.77 hours): ISNs wrap with it.
    expect(s.isn(1000 + 2 ** 32 / 250, ...tuple)).toBe(at0);
  });

  it("differ by 4-tuple and by key, and do not change otherwise", () => {
    const s = new TcpSecrets(replay(1, 2, 3, 4));
    const isn = s.isn(5000, ...tuple);
    expect(s.isn(5000, ...tuple)).toBe(isn);
    expect(s.isn(5000, 0x0a000001, 49153, 0x0a000002, 80)).not.toBe(isn);
    expect(s.isn(5000, 0x0a000001, 49152, 0x0a000003, 80)).not.toBe(isn);
    expect(new TcpSecrets(replay(9, 2, 3, 4)).isn(5000, ...tuple)).not.toBe(isn);
    // The timestamp offset is another hash of the tuple (RFC 7323 5.4), with no clock in it.
    expect(s.tsOffset(...tuple)).toBe(s.tsOffset(...tuple));
    expect(s.tsOffset(...tuple)).not.toBe(s.tsOffset(0x0a000001, 49153, 0x0a000002, 80));
  });
});

describe("SYN cookies (RFC 4987 3.6)", () => {
  const [laddr, lport, raddr, rport, peerIsn] = [0x0a000001, 80, 0x0a000002, 50000, 0x12345678];

  it("decode to the MSS they carry, in their 64 s period and the next", () => {
    const s = new TcpSecrets(replay(1, 2, 3, 4));
    for (let index = 0; index < COOKIE_MSS.length; index++) {
      const cookie = s.cookie(70_000, laddr, lport, raddr, rport, peerIsn, index);
      expect(cookie & 3).toBe(index);
      expect(s.checkCookie(70_000, laddr, lport, raddr, rport, peerIsn, cookie)).toBe(COOKIE_MSS[index]);
      expect(s.checkCookie(127_999, laddr, lport, raddr, rport, peerIsn, cookie)).toBe(COOKIE_MSS[index]);
      expect(s.checkCookie(128_000 + 64_000 - 1, laddr, lport, raddr, rport, peerIsn, cookie)).toBe(COOKIE_MSS[index]);
    }
  });

  it("are refused once stale (two periods on), forged, for another connection or another peer ISN, or under another key", () => {
    const s = new TcpSecrets(replay(1, 2, 3, 4));
    const cookie = s.cookie(70_000, laddr, lport, raddr, rport, peerIsn, 2);
    expect(s.checkCookie(192_000, laddr, lport, raddr, rport, peerIsn, cookie)).toBe(0);
    for (let bit = 2; bit < 32; bit++) expect(s.checkCookie(70_000, laddr, lport, raddr, rport, peerIsn, (cookie ^ (1 << bit)) >>> 0)).toBe(0);
    expect(s.checkCookie(70_000, laddr, lport, raddr, rport + 1, peerIsn, cookie)).toBe(0);
    expect(s.checkCookie(70_000, laddr, lport, 0x0a000102, rport, peerIsn, cookie)).toBe(0);
    expect(s.checkCookie(70_000, laddr, lport, raddr, rport, peerIsn + 1, cookie)).toBe(0);
    expect(new TcpSecrets(replay(1, 2, 3, 5)).checkCookie(70_000, laddr, lport, raddr, rport, peerIsn, cookie)).toBe(0);
    // The ISN key is not the cookie key.
    expect(new TcpSecrets(replay(3, 4, 1, 2)).checkCookie(70_000, laddr, lport, raddr, rport, peerIsn, cookie)).toBe(0);
  });

  it("are looked for only while some were sent in the last two periods", () => {
    const s = new TcpSecrets(replay(1, 2, 3, 4));
    expect(s.cookiesRecent(0)).toBe(false);
    s.cookieSentAt = 10_000;
    expect(s.cookiesRecent(137_999)).toBe(true);
    expect(s.cookiesRecent(138_000)).toBe(false);
  });
});
