import { describe, expect, it } from "vitest";
import { csumFold, csumPartial, csumPseudoHeader, csumVerify } from "../../src/wire/checksum";
import { IPPROTO_UDP, ipDaddr, ipSaddr, ipTotLen } from "../../src/wire/ipv4";
import {
  OFF_UDP_CHECK, UDP_HLEN, setUdpCheck, setUdpDport, setUdpLen, setUdpSport, udpBuildHeader, udpCheck, udpDport,
  udpCheckLen, udpLen, udpSport,
} from "../../src/wire/udp";
import { WIRE_LEN_BEYOND, WIRE_LEN_SHORT, WIRE_OK, WIRE_TRUNCATED } from "../../src/wire/bytes";
import { hex, IP_A, IP_B, L3, L4, poisoned, readTracker, UDP_DNS_QUERY, xorshift32 } from "./fixtures";

describe("UDP (RFC 768)", () => {
  it("parses the captured DNS query and verifies its checksum", () => {
    const b = UDP_DNS_QUERY;
    expect(udpSport(b, L4)).toBe(44343);
    expect(udpDport(b, L4)).toBe(53);
    expect(udpLen(b, L4)).toBe(37);
    expect(udpLen(b, L4)).toBe(ipTotLen(b, L3) - 20);
    expect(udpCheck(b, L4)).toBe(0x37b1);
    const pseudo = csumPseudoHeader(ipSaddr(b, L3), ipDaddr(b, L3), IPPROTO_UDP, 37);
    expect(csumVerify(b, L4, 37, pseudo)).toBe(true); // 37 bytes: odd length
  });

  it("builds the captured query byte for byte over 0xa5", () => {
    const len = 37;
    const buf = poisoned(1 + len + 1);
    buf.set(UDP_DNS_QUERY.subarray(L4 + UDP_HLEN), 1 + UDP_HLEN);
    udpBuildHeader(buf, 1, 44343, 53, len);
    expect(udpCheck(buf, 1)).toBe(0);
    setUdpCheck(buf, 1, csumFold(csumPartial(buf, 1, len, csumPseudoHeader(IP_A, IP_B, IPPROTO_UDP, len))));
    expect(buf.subarray(1, 1 + len)).toEqual(UDP_DNS_QUERY.subarray(L4));
    expect([buf[0], buf[len + 1]]).toEqual([0xa5, 0xa5]);
  });

  it("setters write their own bytes only", () => {
    const buf = poisoned(UDP_HLEN);
    setUdpSport(buf, 0, 0xad37);
    expect(buf).toEqual(hex("ad 37 a5 a5 a5 a5 a5 a5"));
    setUdpDport(buf, 0, 53);
    setUdpLen(buf, 0, 0xffff);
    expect(buf).toEqual(hex("ad 37 00 35 ff ff a5 a5"));
    setUdpCheck(buf, 0, 0xffff); // a computed 0 goes out as 0xffff (RFC 768)
    expect([buf[OFF_UDP_CHECK], buf[OFF_UDP_CHECK + 1]]).toEqual([0xff, 0xff]);
  });
});

describe("udpCheckLen (the one gate before the getters)", () => {
  it("passes the captured datagram, and one with bytes after it (trimmed by the caller)", () => {
    expect(udpCheckLen(UDP_DNS_QUERY, L4, 37)).toBe(WIRE_OK);
    expect(udpCheckLen(UDP_DNS_QUERY.slice(L4), 0, 37)).toBe(WIRE_OK);
    const padded = new Uint8Array(46);
    padded.set(UDP_DNS_QUERY.subarray(L4));
    expect(udpCheckLen(padded, 0, padded.length)).toBe(WIRE_OK);
  });

  it("calls a datagram cut inside its 8-byte header truncated, and cut after it short of its UDP length", () => {
    const b = UDP_DNS_QUERY.slice(L4);
    for (let len = 0; len < UDP_HLEN; len++) expect(udpCheckLen(b, 0, len), `len ${len}`).toBe(WIRE_TRUNCATED);
    for (let len = UDP_HLEN; len < 37; len++) expect(udpCheckLen(b, 0, len), `len ${len}`).toBe(WIRE_LEN_BEYOND);
  });

  it("rejects a UDP length below 8 or past the datagram (RFC 768)", () => {
    const b = UDP_DNS_QUERY.slice(L4);
    for (let ulen = 0; ulen < UDP_HLEN; ulen++) {
      setUdpLen(b, 0, ulen);
      expect(udpCheckLen(b, 0, b.length), `length ${ulen}`).toBe(WIRE_LEN_SHORT);
    }
    for (const ulen of [38, 0xffff]) {
      setUdpLen(b, 0, ulen);
      expect(udpCheckLen(b, 0, b.length), `length ${ulen}`).toBe(WIRE_LEN_BEYOND);
    }
    setUdpLen(b, 0, UDP_HLEN); // an empty datagram
    expect(udpCheckLen(b, 0, UDP_HLEN)).toBe(WIRE_OK);
  });

  it("keeps every getter and the UDP length inside what it passed (random headers)", () => {
    const next = xorshift32(768);
    let passed = 0;
    for (let round = 0; round < 2000; round++) {
      const len = next() % 24;
      const bytes = new Uint8Array(len);
      for (let i = 0; i < len; i++) bytes[i] = next();
      if (len >= UDP_HLEN && (next() & 1) === 0) setUdpLen(bytes, 0, next() % 26);
      const { buf, maxRead } = readTracker(bytes);
      if (udpCheckLen(buf, 0, len) !== WIRE_OK) continue;
      passed++;
      udpSport(buf, 0); udpDport(buf, 0); udpCheck(buf, 0);
      csumPartial(buf, 0, udpLen(buf, 0), 0);
      expect(maxRead()).toBeLessThan(len);
    }
    expect(passed).toBeGreaterThan(100);
  });
});
