import { describe, expect, it } from "vitest";
import { csumVerify } from "../../src/wire/checksum";
import {
  INADDR_ALLHOSTS_GROUP, INADDR_ANY, INADDR_BROADCAST, INADDR_LOOPBACK, IP_DF, IP_MF, IP_OFFMASK, IPPROTO_ICMP,
  IPPROTO_TCP, IPPROTO_UDP, IPV4_HLEN, OFF_IP_CHECK, OFF_IP_DADDR, OFF_IP_TTL, formatIpv4, ipBuildHeader, ipCheck,
  ipDaddr, ipDecreaseTtl, ipDontFrag, ipFragField, ipFragOffsetBytes, ipHeaderChecksum, ipId, ipIhlBytes, ipInSubnet,
  ipIsLbcastOrZero, ipIsLimitedBroadcast, ipIsLinkLocal, ipIsLocalMulticast, ipIsLoopback, ipIsMulticast,
  ipIsReserved, ipIsZeronet, ipMoreFrags, ipProto, ipSaddr, ipSendCheck, ipTos, ipTotLen, ipTtl, ipVersion,
  parseCidr, parseIpv4, prefixMask, setIpCheck, setIpDaddr, setIpFragField, setIpId, setIpSaddr,
  setIpTos, setIpTotLen, setIpTtl, setIpVersionIhl, ipv4CheckLen,
} from "../../src/wire/ipv4";
import {
  WIRE_BAD_HLEN, WIRE_BAD_VERSION, WIRE_HLEN_BEYOND, WIRE_LEN_BEYOND, WIRE_LEN_SHORT, WIRE_OK, WIRE_TRUNCATED, read16, write32,
} from "../../src/wire/bytes";
import {
  ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, IP_A, IP_B, L3, poisoned, readTracker, TCP_PSH_ACK_FRAME, TCP_SYN_FRAME,
  TCP_SYN_ACK_FRAME, UDP_DNS_QUERY, xorshift32,
} from "./fixtures";

describe("IPv4 header (RFC 791)", () => {
  it("parses the captured echo request", () => {
    const b = ICMP_ECHO_REQUEST;
    expect(ipVersion(b, L3)).toBe(4);
    expect(ipIhlBytes(b, L3)).toBe(IPV4_HLEN);
    expect(ipTos(b, L3)).toBe(0);
    expect(ipTotLen(b, L3)).toBe(84);
    expect(ipTotLen(b, L3)).toBe(b.length - L3);
    expect(ipId(b, L3)).toBe(0xdd11);
    expect(ipFragField(b, L3)).toBe(IP_DF);
    expect(ipDontFrag(b, L3)).toBe(true);
    expect(ipMoreFrags(b, L3)).toBe(false);
    expect(ipFragOffsetBytes(b, L3)).toBe(0);
    expect(ipTtl(b, L3)).toBe(64);
    expect(ipProto(b, L3)).toBe(IPPROTO_ICMP);
    expect(ipCheck(b, L3)).toBe(0x5243);
    expect(ipSaddr(b, L3)).toBe(IP_A);
    expect(ipDaddr(b, L3)).toBe(IP_B);
    expect(csumVerify(b, L3, IPV4_HLEN, 0)).toBe(true);
    expect(ipHeaderChecksum(b, L3, IPV4_HLEN)).toBe(0x5243);
  });

  it("has valid header checksums in every captured IP frame", () => {
    for (const frame of [ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY, TCP_SYN_FRAME, TCP_SYN_ACK_FRAME, UDP_DNS_QUERY]) {
      expect(csumVerify(frame, L3, ipIhlBytes(frame, L3), 0)).toBe(true);
      expect(ipHeaderChecksum(frame, L3, IPV4_HLEN)).toBe(ipCheck(frame, L3));
    }
  });

  it("builds the captured headers byte for byte over 0xa5", () => {
    const cases: [Uint8Array, number, number, number, number][] = [
      // frame, id, frag field, proto, direction (0: A->B)
      [ICMP_ECHO_REQUEST, 0xdd11, IP_DF, IPPROTO_ICMP, 0],
      [ICMP_ECHO_REPLY, 0x5478, 0, IPPROTO_ICMP, 1],
      [TCP_SYN_FRAME, 0xb6d9, IP_DF, IPPROTO_TCP, 0],
      [TCP_SYN_ACK_FRAME, 0, IP_DF, IPPROTO_TCP, 1],
      [UDP_DNS_QUERY, 0x8073, IP_DF, IPPROTO_UDP, 0],
    ];
    for (const [frame, id, frag, proto, dir] of cases) {
      const buf = poisoned(1 + IPV4_HLEN + 1);
      const [s, d] = dir === 0 ? [IP_A, IP_B] : [IP_B, IP_A];
      ipBuildHeader(buf, 1, 0, frame.length - L3, id, frag, 64, proto, s, d);
      expect(buf.subarray(1, 1 + IPV4_HLEN)).toEqual(frame.subarray(L3, L3 + IPV4_HLEN));
      expect([buf[0], buf[21]]).toEqual([0xa5, 0xa5]);
    }
  });

  it("setters write each field and ipSendCheck restores the checksum", () => {
    const buf = poisoned(IPV4_HLEN);
    buf[0] = 0x45;
    setIpTos(buf, 0, 0);
    setIpTotLen(buf, 0, 84);
    setIpId(buf, 0, 0xdd11);
    setIpFragField(buf, 0, IP_DF);
    setIpTtl(buf, 0, 64);
    buf[9] = IPPROTO_ICMP;
    setIpSaddr(buf, 0, IP_A);
    setIpDaddr(buf, 0, IP_B);
    ipSendCheck(buf, 0); // the field still holds 0xa5a5
    expect(buf).toEqual(ICMP_ECHO_REQUEST.subarray(L3, L3 + IPV4_HLEN));
    setIpCheck(buf, 0, 0x1234);
    expect(ipCheck(buf, 0)).toBe(0x1234);
  });

  it("setIpVersionIhl writes version 4 and the header length in the first byte only", () => {
    const buf = poisoned(3);
    setIpVersionIhl(buf, 1, IPV4_HLEN);
    expect(Array.from(buf)).toEqual([0xa5, 0x45, 0xa5]);
    setIpVersionIhl(buf, 1, 60);
    expect([ipVersion(buf, 1), ipIhlBytes(buf, 1)]).toEqual([4, 60]);
  });

  it("computes the checksum over options too (IHL 6)", () => {
    const buf = new Uint8Array(24);
    ipBuildHeader(buf, 0, 0, 24, 1, 0, 1, 2, IP_A, 0xe0000016);
    buf[0] = 0x46;
    write32(buf, 20, 0x94040000); // Router Alert (RFC 2113), as IGMPv3 reports carry
    ipSendCheck(buf, 0);
    expect(csumVerify(buf, 0, 24, 0)).toBe(true);
    expect(ipHeaderChecksum(buf, 0, 24)).toBe(ipCheck(buf, 0));
  });

  it("reads fragment fields (RFC 791: offset in 8-byte units)", () => {
    const buf = TCP_SYN_FRAME.slice(L3, L3 + IPV4_HLEN);
    setIpFragField(buf, 0, IP_MF | 185); // second fragment of a 1500-byte MTU train
    expect(ipMoreFrags(buf, 0)).toBe(true);
    expect(ipDontFrag(buf, 0)).toBe(false);
    expect(ipFragOffsetBytes(buf, 0)).toBe(1480);
    setIpFragField(buf, 0, IP_OFFMASK);
    expect(ipFragOffsetBytes(buf, 0)).toBe(65528);
    expect(ipMoreFrags(buf, 0)).toBe(false);
  });

  it("ipDecreaseTtl matches a full recompute (Linux ip_decrease_ttl)", () => {
    const next = xorshift32(1812);
    for (let round = 0; round < 5000; round++) {
      const buf = new Uint8Array(IPV4_HLEN);
      ipBuildHeader(buf, 0, next() & 0xff, next() & 0xffff, next() & 0xffff, next() & 0xffff, 1 + (next() % 255),
        next() & 0xff, next(), next());
      const ttl = ipTtl(buf, 0);
      expect(ipDecreaseTtl(buf, 0)).toBe(ttl - 1);
      expect(ipTtl(buf, 0)).toBe(ttl - 1);
      const incremental = ipCheck(buf, 0);
      ipSendCheck(buf, 0);
      expect(incremental).toBe(ipCheck(buf, 0));
    }
  });

  it("ipDecreaseTtl handles the carry edge (check 0xfeff -> 0x0000) and never wraps TTL 0", () => {
    // Choose the destination so the stored checksum is 0xfeff, one 0x0100 below the wrap.
    const buf = new Uint8Array(IPV4_HLEN);
    ipBuildHeader(buf, 0, 0, 20, 0, 0, 2, 17, 0, 0);
    const c = ipCheck(buf, 0);
    setIpDaddr(buf, 0, (c - 0xfeff + 0xffff) % 0xffff);
    ipSendCheck(buf, 0);
    expect(ipCheck(buf, 0)).toBe(0xfeff);
    ipDecreaseTtl(buf, 0);
    expect(ipCheck(buf, 0)).toBe(0);
    expect(csumVerify(buf, 0, IPV4_HLEN, 0)).toBe(true);

    buf[OFF_IP_TTL] = 0;
    ipSendCheck(buf, 0);
    const check = ipCheck(buf, 0);
    expect(ipDecreaseTtl(buf, 0)).toBe(0);
    expect([ipTtl(buf, 0), ipCheck(buf, 0)]).toEqual([0, check]);
  });

  it("keeps header fields unsigned", () => {
    const buf = new Uint8Array(IPV4_HLEN);
    ipBuildHeader(buf, 0, 0xff, 0xffff, 0xffff, 0xffff, 0xff, 0xff, 0xffffffff, 0xfffffffe);
    expect(ipSaddr(buf, 0)).toBe(0xffffffff);
    expect(ipDaddr(buf, 0)).toBe(0xfffffffe);
    expect(buf[OFF_IP_DADDR]).toBe(0xff);
    expect(ipCheck(buf, 0)).toBe(read16(buf, OFF_IP_CHECK));
    expect(csumVerify(buf, 0, IPV4_HLEN, 0)).toBe(true);
  });
});

describe("IPv4 addresses", () => {
  it("round-trips dotted quads", () => {
    for (const text of ["0.0.0.0", "255.255.255.255", "192.168.69.1", "10.0.0.1", "127.0.0.1", "1.2.3.4", "224.0.0.1"]) {
      expect(formatIpv4(parseIpv4(text))).toBe(text);
    }
    expect(parseIpv4("192.168.69.2")).toBe(IP_B);
    expect(parseIpv4("255.255.255.255")).toBe(INADDR_BROADCAST);
    expect(parseIpv4("127.0.0.1")).toBe(INADDR_LOOPBACK);
    expect(parseIpv4("224.0.0.1")).toBe(INADDR_ALLHOSTS_GROUP);
    expect(parseIpv4("0.0.0.0")).toBe(INADDR_ANY);
    expect(formatIpv4(0x80000001)).toBe("128.0.0.1");
    expect(formatIpv4(-1)).toBe("255.255.255.255"); // a signed result of & still formats
  });

  it("throws a TypeError naming bad dotted quads", () => {
    for (const text of [
      "", "1.2.3", "1.2.3.4.5", "1.2.3.", ".1.2.3", "1..2.3", "256.0.0.1", "1.2.3.-4", "+1.2.3.4", "1.2.3.+4",
      "01.2.3.4", "1.2.3.00", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4/24", "a.b.c.d", "0x7f.0.0.1", "1.2.3.1000", "1e2.0.0.1",
    ]) {
      expect(() => parseIpv4(text), text).toThrow(TypeError);
      expect(() => parseIpv4(text)).toThrow(`invalid IPv4 address '${text}'`);
    }
  });

  it("parses CIDR and reports syntax and range errors naming the text", () => {
    expect(parseCidr("192.168.69.1/24")).toEqual({ addr: IP_A, prefixLen: 24 });
    expect(parseCidr("0.0.0.0/0")).toEqual({ addr: 0, prefixLen: 0 });
    expect(parseCidr("10.1.2.3/32")).toEqual({ addr: 0x0a010203, prefixLen: 32 });
    for (const text of ["192.168.69.1", "192.168.69.1/", "/24", "192.168.69/24", "1.2.3.4/+8", "1.2.3.4/-1",
      "1.2.3.4/8/8", "1.2.3.4/ 8", "1.2.3.4/8 ", "1.2.3.4/x"]) {
      expect(() => parseCidr(text), text).toThrow(TypeError);
      expect(() => parseCidr(text)).toThrow(`'${text}'`);
    }
    for (const text of ["1.2.3.4/33", "1.2.3.4/128"]) {
      expect(() => parseCidr(text), text).toThrow(RangeError);
      expect(() => parseCidr(text)).toThrow(`'${text}'`);
    }
  });

  it("prefixMask covers 0..32 and rejects the rest", () => {
    expect(prefixMask(0)).toBe(0);
    expect(prefixMask(1)).toBe(0x80000000);
    expect(prefixMask(8)).toBe(0xff000000);
    expect(prefixMask(24)).toBe(0xffffff00);
    expect(prefixMask(31)).toBe(0xfffffffe);
    expect(prefixMask(32)).toBe(0xffffffff);
    for (const bad of [-1, 33, 1.5, NaN]) expect(() => prefixMask(bad)).toThrow(RangeError);
    expect(ipInSubnet(IP_B, IP_A, prefixMask(24))).toBe(true);
    expect(ipInSubnet(0xc0a84601, IP_A, prefixMask(24))).toBe(false);
    expect(ipInSubnet(0x01020304, 0, prefixMask(0))).toBe(true);
  });

  it("classifies special addresses", () => {
    const p = parseIpv4;
    expect([p("224.0.0.1"), p("239.255.255.255")].map(ipIsMulticast)).toEqual([true, true]);
    expect([p("223.255.255.255"), p("240.0.0.0")].map(ipIsMulticast)).toEqual([false, false]);
    expect([p("224.0.0.251"), p("224.0.1.1")].map(ipIsLocalMulticast)).toEqual([true, false]);
    expect([p("255.255.255.255"), p("255.255.255.254")].map(ipIsLimitedBroadcast)).toEqual([true, false]);
    expect([p("0.0.0.0"), p("0.255.1.2"), p("1.0.0.0")].map(ipIsZeronet)).toEqual([true, true, false]);
    expect([p("127.0.0.1"), p("127.255.255.255"), p("128.0.0.1")].map(ipIsLoopback)).toEqual([true, true, false]);
    expect([p("169.254.1.1"), p("169.253.1.1")].map(ipIsLinkLocal)).toEqual([true, false]);
    expect([p("240.0.0.1"), p("255.255.255.255"), p("239.0.0.1")].map(ipIsReserved)).toEqual([true, true, false]);
    expect([p("255.255.255.255"), p("0.0.0.0"), p("0.0.0.1")].map(ipIsLbcastOrZero)).toEqual([true, true, false]);
    expect(ipIsLimitedBroadcast(-1)).toBe(true); // signed form of the same bits
  });
});

describe("ipv4CheckLen (the one gate before the getters)", () => {
  const FRAMES = [ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY, TCP_SYN_FRAME, TCP_SYN_ACK_FRAME, TCP_PSH_ACK_FRAME, UDP_DNS_QUERY];

  /** The captured DNS query's IP datagram, alone in its buffer (37 bytes of UDP after the header). */
  function datagram(): Uint8Array {
    return UDP_DNS_QUERY.slice(L3);
  }

  it("passes every captured datagram, with or without link padding after it", () => {
    for (const f of FRAMES) {
      expect(ipv4CheckLen(f, L3, f.length - L3)).toBe(WIRE_OK);
      expect(ipv4CheckLen(f, L3, f.length - L3 + 6)).toBe(WIRE_OK); // the caller trims to the total length
    }
  });

  it("calls a datagram cut inside its 20 fixed bytes truncated, and cut after them short of its total length", () => {
    const b = datagram();
    const total = ipTotLen(b, 0);
    for (let len = 0; len < IPV4_HLEN; len++) expect(ipv4CheckLen(b, 0, len), `len ${len}`).toBe(WIRE_TRUNCATED);
    for (let len = IPV4_HLEN; len < total; len++) expect(ipv4CheckLen(b, 0, len), `len ${len}`).toBe(WIRE_LEN_BEYOND);
    expect(ipv4CheckLen(b, 0, total)).toBe(WIRE_OK);
  });

  it("rejects a version other than 4 before reading IHL (another version's fields lie elsewhere)", () => {
    const b = datagram();
    for (const version of [0, 1, 5, 6, 15]) {
      b[0] = (version << 4) | 5;
      expect(ipv4CheckLen(b, 0, b.length), `version ${version}`).toBe(WIRE_BAD_VERSION);
      b[0] = (version << 4) | 3; // a bad IHL too: the version is named first
      expect(ipv4CheckLen(b, 0, b.length), `version ${version}, IHL 3`).toBe(WIRE_BAD_VERSION);
    }
    b[0] = 0x45;
    expect(ipv4CheckLen(b, 0, b.length)).toBe(WIRE_OK);
    expect(ipv4CheckLen(b, 0, 19)).toBe(WIRE_TRUNCATED); // fewer than 20 bytes: truncated, whatever the version
  });

  it("rejects IHL below 5 (RFC 1122 3.2.1.2) whatever the lengths", () => {
    const b = datagram();
    for (let ihl = 0; ihl < 5; ihl++) {
      b[0] = 0x40 | ihl;
      expect(ipv4CheckLen(b, 0, b.length), `IHL ${ihl}`).toBe(WIRE_BAD_HLEN);
    }
  });

  it("rejects an IHL whose options run past the buffer", () => {
    const b = new Uint8Array(60);
    for (let words = 6; words <= 15; words++) {
      ipBuildHeader(b, 0, 0, words * 4, 1, 0, 64, IPPROTO_UDP, IP_A, IP_B);
      b[0] = 0x40 | words;
      for (let len = IPV4_HLEN; len < words * 4; len++) {
        expect(ipv4CheckLen(b, 0, len), `IHL ${words} len ${len}`).toBe(WIRE_HLEN_BEYOND);
      }
      expect(ipv4CheckLen(b, 0, words * 4)).toBe(WIRE_OK);
    }
  });

  it("rejects a total length below IHL * 4 or past the buffer", () => {
    const b = datagram();
    for (const totLen of [0, 1, 19]) {
      setIpTotLen(b, 0, totLen);
      expect(ipv4CheckLen(b, 0, b.length), `total ${totLen}`).toBe(WIRE_LEN_SHORT);
    }
    b[0] = 0x46; // IHL 6: a total of 20 no longer covers the header
    setIpTotLen(b, 0, 20);
    expect(ipv4CheckLen(b, 0, b.length)).toBe(WIRE_LEN_SHORT);
    b[0] = 0x45;
    for (const totLen of [b.length + 1, 0xffff]) {
      setIpTotLen(b, 0, totLen);
      expect(ipv4CheckLen(b, 0, b.length), `total ${totLen}`).toBe(WIRE_LEN_BEYOND);
    }
    setIpTotLen(b, 0, IPV4_HLEN); // a header alone is a datagram
    expect(ipv4CheckLen(b, 0, IPV4_HLEN)).toBe(WIRE_OK);
  });

  it("keeps every getter and the option bytes inside what it passed (random headers)", () => {
    const next = xorshift32(791);
    let passed = 0;
    for (let round = 0; round < 3000; round++) {
      const len = next() % 72;
      const bytes = new Uint8Array(len);
      for (let i = 0; i < len; i++) bytes[i] = next();
      if (len > 3 && (next() & 1) === 0) setIpTotLen(bytes, 0, len - (next() % 4)); // often plausible
      if (len > 0 && (next() & 3) !== 0) bytes[0] = 0x40 | (bytes[0] & 0x0f); // mostly version 4
      const { buf, maxRead } = readTracker(bytes);
      if (ipv4CheckLen(buf, 0, len) !== WIRE_OK) continue;
      passed++;
      const ihl = ipIhlBytes(buf, 0);
      ipVersion(buf, 0); ipTos(buf, 0); ipTotLen(buf, 0); ipId(buf, 0); ipFragField(buf, 0); ipFragOffsetBytes(buf, 0);
      ipMoreFrags(buf, 0); ipDontFrag(buf, 0); ipTtl(buf, 0); ipProto(buf, 0); ipCheck(buf, 0); ipSaddr(buf, 0);
      ipDaddr(buf, 0); ipHeaderChecksum(buf, 0, ihl);
      expect(maxRead()).toBeLessThan(len);
      expect(maxRead()).toBe(ihl - 1); // the checksum read the options too
    }
    expect(passed).toBeGreaterThan(100);
    const short = readTracker(new Uint8Array(4)); // the tracker does see reads past the end
    ipDaddr(short.buf, 0);
    expect(short.maxRead()).toBe(19);
  });
});
