// DHCP messages and options (src/wire/dhcp.ts): a captured exchange read field by field, the
// writers against the RFC's bytes, and properties: any bytes give WIRE_OK or a fault code and
// never a throw or a read outside the message; what the writers write reads back the same.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WIRE_OK, WIRE_TRUNCATED } from "../../src/wire/bytes";
import {
  DHCPACK, DHCPDISCOVER, DHCPOFFER, DHCP_BAD_MAGIC, DHCP_BAD_OVERLOAD, DHCP_FLAG_BROADCAST, DHCP_HAS_LEASE_TIME,
  DHCP_HAS_MTU, DHCP_HAS_ROUTER, DHCP_HAS_SERVER_ID, DHCP_HAS_SUBNET_MASK, DHCP_MIN_LEN, DHCP_NO_END, DHCP_OPTIONS_OFF,
  DHCP_OPT_OVERRUN, DHCP_ROUTES_MAX, DHCP_SERVERS_MAX, DHO_CLASSLESS_ROUTES, DHO_DNS, DHO_HOSTNAME, DHO_LEASE_TIME,
  DHO_END, DHO_MSG_TYPE, DHO_MTU, DHO_NTP, DHO_OVERLOAD, DHO_ROUTER, DHO_SERVER_ID, DHO_SUBNET_MASK, DhcpOptions, dhcpBuildHeader,
  dhcpCheckLen, dhcpChaddrIs, dhcpCiaddr, dhcpFlags, dhcpOp, dhcpOptByte, dhcpOptBytes, dhcpOptEnd, dhcpOptParamRequest,
  dhcpOptU16, dhcpOptU32, dhcpParseOptions, dhcpXid, dhcpYiaddr,
} from "../../src/wire/dhcp";

const MAC = new Uint8Array([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
const ip = (s: string): number => s.split(".").reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);

/** A server's reply at off 0: BOOTREPLY for MAC, yiaddr, then the option bytes given and END. */
function reply(yiaddr: number, options: number[], end = true): Uint8Array {
  const buf = new Uint8Array(DHCP_OPTIONS_OFF + options.length + 1);
  dhcpBuildHeader(buf, 0, 0x12345678, 0, 0, 0, MAC, 0);
  buf[0] = 2;
  new DataView(buf.buffer).setUint32(16, yiaddr);
  buf.set(options, DHCP_OPTIONS_OFF);
  if (end) buf[DHCP_OPTIONS_OFF + options.length] = 255;
  return end ? buf : buf.subarray(0, buf.length - 1);
}

const u32 = (v: number): number[] => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

describe("DHCP message header (RFC 2131 2)", () => {
  it("builds a DISCOVER as the RFC lays it out, options at 240 after the magic cookie", () => {
    const buf = new Uint8Array(400).fill(0xa5);
    let o = dhcpBuildHeader(buf, 4, 0xdeadbeef, 3, DHCP_FLAG_BROADCAST, 0, MAC, 0);
    expect(o).toBe(4 + DHCP_OPTIONS_OFF);
    o = dhcpOptByte(buf, o, DHO_MSG_TYPE, DHCPDISCOVER);
    o = dhcpOptParamRequest(buf, o);
    o = dhcpOptU16(buf, o, 57, 1500);
    o = dhcpOptBytes(buf, o, DHO_HOSTNAME, new TextEncoder().encode("xsnet"), 0, 5);
    o = dhcpOptEnd(buf, o, 4 + DHCP_MIN_LEN);
    expect(o).toBe(4 + DHCP_MIN_LEN);
    expect([...buf.subarray(4, 16)]).toEqual([1, 1, 6, 0, 0xde, 0xad, 0xbe, 0xef, 0, 3, 0x80, 0]);
    expect([...buf.subarray(4 + 28, 4 + 34)]).toEqual([...MAC]);
    expect([...buf.subarray(4 + 236, 4 + 240)]).toEqual([99, 130, 83, 99]);
    expect([...buf.subarray(4 + 240, 4 + 243)]).toEqual([53, 1, 1]);
    expect([...buf.subarray(4 + 243, 4 + 255)]).toEqual([55, 10, 1, 3, 6, 28, 26, 42, 51, 58, 59, 121]);
    expect([...buf.subarray(4 + 255, 4 + 259)]).toEqual([57, 2, 0x05, 0xdc]);
    expect([...buf.subarray(4 + 259, 4 + 266)]).toEqual([12, 5, 0x78, 0x73, 0x6e, 0x65, 0x74]);
    expect(buf[4 + 266]).toBe(255);
    expect(buf.subarray(4 + 267, 4 + DHCP_MIN_LEN).every((b) => b === 0)).toBe(true);
    expect(buf[3]).toBe(0xa5);
    expect(buf[4 + DHCP_MIN_LEN]).toBe(0xa5);
    expect([dhcpOp(buf, 4), dhcpXid(buf, 4), dhcpFlags(buf, 4), dhcpCiaddr(buf, 4)]).toEqual([1, 0xdeadbeef, 0x8000, 0]);
    expect(dhcpChaddrIs(buf, 4, MAC, 0)).toBe(true);
    expect(dhcpChaddrIs(buf, 4, new Uint8Array([2, 0, 0, 0, 0, 2]), 0)).toBe(false);
  });

  it("reads an ACK's lease: address, mask, router, servers, times, MTU, routes", () => {
    const buf = reply(ip("192.168.7.50"), [
      DHO_MSG_TYPE, 1, DHCPACK,
      DHO_SERVER_ID, 4, ...u32(ip("192.168.7.1")),
      DHO_LEASE_TIME, 4, ...u32(3600),
      DHO_SUBNET_MASK, 4, ...u32(ip("255.255.255.0")),
      DHO_ROUTER, 8, ...u32(ip("192.168.7.1")), ...u32(ip("192.168.7.254")),
      DHO_DNS, 8, ...u32(ip("192.168.7.1")), ...u32(ip("8.8.8.8")),
      DHO_NTP, 4, ...u32(ip("192.168.7.2")),
      DHO_MTU, 2, 0x05, 0xdc,
      // 10.0.0.0/8 via .1, 0.0.0.0/0 via .254 (RFC 3442)
      DHO_CLASSLESS_ROUTES, 11, 8, 10, ...u32(ip("192.168.7.1")), 0, ...u32(ip("192.168.7.254")),
    ]);
    expect(dhcpCheckLen(buf, 0, buf.length)).toBe(WIRE_OK);
    const o = new DhcpOptions();
    expect(dhcpParseOptions(buf, 0, buf.length, o)).toBe(WIRE_OK);
    expect(dhcpYiaddr(buf, 0)).toBe(ip("192.168.7.50"));
    expect(o.msgType).toBe(DHCPACK);
    const has = DHCP_HAS_SERVER_ID | DHCP_HAS_LEASE_TIME | DHCP_HAS_SUBNET_MASK | DHCP_HAS_ROUTER | DHCP_HAS_MTU;
    expect(o.present & has).toBe(has);
    expect([o.serverId, o.leaseSecs, o.subnetMask, o.router, o.mtu]).toEqual([ip("192.168.7.1"), 3600, ip("255.255.255.0"), ip("192.168.7.1"), 1500]);
    expect([...o.dns.subarray(0, o.dnsCount)]).toEqual([ip("192.168.7.1"), ip("8.8.8.8")]);
    expect([...o.ntp.subarray(0, o.ntpCount)]).toEqual([ip("192.168.7.2")]);
    expect(o.routeCount).toBe(2);
    expect([o.routeDest[0], o.routeBits[0], o.routeGateway[0]]).toEqual([ip("10.0.0.0"), 8, ip("192.168.7.1")]);
    expect([o.routeDest[1], o.routeBits[1], o.routeGateway[1]]).toEqual([0, 0, ip("192.168.7.254")]);
    expect(o.ignored).toBe(0);
  });

  it("reads options overloaded into file and sname, in that order (RFC 2131 4.1, RFC 2132 9.3)", () => {
    const buf = reply(ip("10.1.1.9"), [DHO_MSG_TYPE, 1, DHCPOFFER, DHO_OVERLOAD, 1, 3]);
    buf.set([DHO_LEASE_TIME, 4, ...u32(600), DHO_DNS, 4, ...u32(ip("10.1.1.1")), 255], 108);
    buf.set([DHO_SERVER_ID, 4, ...u32(ip("10.1.1.1")), DHO_DNS, 4, ...u32(ip("10.1.1.2")), 255], 44);
    const o = new DhcpOptions();
    expect(dhcpParseOptions(buf, 0, buf.length, o)).toBe(WIRE_OK);
    expect([o.msgType, o.overload, o.leaseSecs, o.serverId]).toEqual([DHCPOFFER, 3, 600, ip("10.1.1.1")]);
    expect([...o.dns.subarray(0, o.dnsCount)]).toEqual([ip("10.1.1.1"), ip("10.1.1.2")]);
    // file without its end option
    buf.fill(0, 108, 108 + 128);
    buf.set([DHO_LEASE_TIME, 4, ...u32(600)], 108);
    expect(dhcpParseOptions(buf, 0, buf.length, o)).toBe(DHCP_NO_END);
  });

  it("refuses what a client must not trust, and skips options of an impossible length", () => {
    const o = new DhcpOptions();
    expect(dhcpCheckLen(new Uint8Array(239), 0, 239)).toBe(WIRE_TRUNCATED);
    const bootp = reply(1, []);
    bootp[236] = 0;
    expect(dhcpCheckLen(bootp, 0, bootp.length)).toBe(DHCP_BAD_MAGIC);
    // a length byte missing, a length past the end, no end option
    expect(dhcpParseOptions(reply(1, [DHO_MSG_TYPE], false), 0, DHCP_OPTIONS_OFF + 1, o)).toBe(DHCP_OPT_OVERRUN);
    expect(dhcpParseOptions(reply(1, [DHO_MSG_TYPE, 9, 1], false), 0, DHCP_OPTIONS_OFF + 3, o)).toBe(DHCP_OPT_OVERRUN);
    expect(dhcpParseOptions(reply(1, [DHO_MSG_TYPE, 1, 2], false), 0, DHCP_OPTIONS_OFF + 3, o)).toBe(DHCP_NO_END);
    // overload of 4, and overload inside an overloaded field
    expect(dhcpParseOptions(reply(1, [DHO_OVERLOAD, 1, 4]), 0, DHCP_OPTIONS_OFF + 4, o)).toBe(DHCP_BAD_OVERLOAD);
    const nested = reply(1, [DHO_OVERLOAD, 1, 1]);
    nested.set([DHO_OVERLOAD, 1, 2, 255], 108);
    expect(dhcpParseOptions(nested, 0, nested.length, o)).toBe(DHCP_BAD_OVERLOAD);
    // a mask of 3 bytes, a router list of 6, an MTU below 68, a route of 33 bits: skipped, counted
    const odd = reply(1, [
      DHO_MSG_TYPE, 1, DHCPOFFER, DHO_SUBNET_MASK, 3, 255, 255, 255, DHO_ROUTER, 6, 1, 2, 3, 4, 5, 6,
      DHO_MTU, 2, 0, 67, DHO_CLASSLESS_ROUTES, 5, 33, 1, 2, 3, 4, DHO_SERVER_ID, 4, ...u32(7),
    ]);
    expect(dhcpParseOptions(odd, 0, odd.length, o)).toBe(WIRE_OK);
    expect([o.msgType, o.present, o.serverId, o.routeCount, o.ignored]).toEqual([DHCPOFFER, DHCP_HAS_SERVER_ID, 7, 0, 4]);
  });

  it("keeps at most its tables' worth of servers and routes, counting the rest", () => {
    const dns: number[] = [];
    for (let i = 0; i < DHCP_SERVERS_MAX + 2; i++) dns.push(...u32(0x0a000001 + i));
    const routes: number[] = [];
    for (let i = 0; i < DHCP_ROUTES_MAX + 1; i++) routes.push(24, 10, 0, i, ...u32(0x0a000001));
    const o = new DhcpOptions();
    const buf = reply(1, [DHO_DNS, dns.length, ...dns, DHO_CLASSLESS_ROUTES, routes.length, ...routes]);
    expect(dhcpParseOptions(buf, 0, buf.length, o)).toBe(WIRE_OK);
    expect([o.dnsCount, o.routeCount, o.ignored]).toEqual([DHCP_SERVERS_MAX, DHCP_ROUTES_MAX, 3]);
    expect(o.routeDest[3]).toBe(0x0a000300);
  });
});

describe("DHCP parser properties (fast-check)", () => {
  const FAULTS = [WIRE_OK, WIRE_TRUNCATED, DHCP_BAD_MAGIC, DHCP_OPT_OVERRUN, DHCP_NO_END, DHCP_BAD_OVERLOAD];

  it("any bytes: a code, never a throw, and no read outside the message", () => {
    const a = new DhcpOptions();
    const b = new DhcpOptions();
    /** The message between guard bytes of one value: a read past its end would see them. */
    const framed = (bytes: Uint8Array, cookie: boolean, guard: number): Uint8Array => {
      const buf = new Uint8Array(bytes.length + 300).fill(guard);
      buf.set(bytes, 8);
      if (cookie && bytes.length >= DHCP_OPTIONS_OFF) buf.set([99, 130, 83, 99], 8 + 236);
      return buf;
    };
    const seen = (o: DhcpOptions): number[] =>
      [o.msgType, o.present, o.subnetMask, o.router, o.leaseSecs, o.serverId, o.mtu, o.overload, o.dnsCount, o.ntpCount, o.routeCount, o.ignored];
    // Random bytes, or a header and options of the codes a client reads (lengths right or
    // wrong), cut anywhere: so that options often end at, or run past, the message's end.
    const KNOWN = [DHO_MSG_TYPE, DHO_SUBNET_MASK, DHO_ROUTER, DHO_DNS, DHO_NTP, DHO_MTU, DHO_LEASE_TIME, DHO_SERVER_ID, DHO_OVERLOAD, DHO_CLASSLESS_ROUTES, DHO_END, 0];
    const optionBytes = fc.record({ code: fc.oneof(fc.constantFrom(...KNOWN), fc.nat({ max: 255 })), data: fc.uint8Array({ maxLength: 14 }), lie: fc.nat({ max: 3 }) })
      .map(({ code, data, lie }) => [code, data.length + (lie === 3 ? 1 : 0), ...data]);
    const structured = fc.tuple(fc.array(optionBytes, { maxLength: 12 }), fc.nat({ max: 400 })).map(([opts, cut]) => {
      const all = new Uint8Array(DHCP_OPTIONS_OFF + opts.flat().length);
      all.set(opts.flat(), DHCP_OPTIONS_OFF);
      return all.subarray(0, Math.min(all.length, DHCP_OPTIONS_OFF + cut));
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 700 }), structured), fc.boolean(), (bytes, cookie) => {
        // The same message between guards of END and of PAD: any read outside it would make
        // the two parses differ (an END ends a field, a PAD goes on).
        const x = framed(bytes, cookie, DHO_END);
        const y = framed(bytes, cookie, 0);
        const gate = dhcpCheckLen(x, 8, bytes.length);
        expect(FAULTS).toContain(gate);
        expect(dhcpCheckLen(y, 8, bytes.length)).toBe(gate);
        if (gate !== WIRE_OK) return;
        const fault = dhcpParseOptions(x, 8, bytes.length, a);
        expect(FAULTS).toContain(fault);
        expect(dhcpParseOptions(y, 8, bytes.length, b)).toBe(fault);
        expect(seen(b)).toEqual(seen(a));
        expect(a.dnsCount).toBeLessThanOrEqual(DHCP_SERVERS_MAX);
        expect(a.routeCount).toBeLessThanOrEqual(DHCP_ROUTES_MAX);
      }),
      { numRuns: 5000, seed: 20261203 },
    );
  });

  it("options of random order and padding read back as written", () => {
    const o = new DhcpOptions();
    const option = fc.oneof(
      fc.record({ code: fc.constantFrom(DHO_SUBNET_MASK, DHO_LEASE_TIME, DHO_SERVER_ID), v: fc.nat() }),
      fc.record({ code: fc.constant(DHO_MSG_TYPE), v: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ code: fc.constant(DHO_MTU), v: fc.integer({ min: 68, max: 0xffff }) }),
    );
    fc.assert(
      fc.property(fc.uniqueArray(option, { selector: (x) => x.code, maxLength: 5 }), fc.nat({ max: 20 }), (opts, pads) => {
        const buf = new Uint8Array(600);
        let at = dhcpBuildHeader(buf, 0, 1, 0, 0, 0, MAC, 0);
        at += pads; // PAD options (zeros) before the rest
        for (const { code, v } of opts) {
          if (code === DHO_MSG_TYPE) at = dhcpOptByte(buf, at, code, v);
          else if (code === DHO_MTU) at = dhcpOptU16(buf, at, code, v);
          else at = dhcpOptU32(buf, at, code, v >>> 0);
        }
        const len = dhcpOptEnd(buf, at, DHCP_MIN_LEN);
        expect(dhcpParseOptions(buf, 0, len, o)).toBe(WIRE_OK);
        for (const { code, v } of opts) {
          const got = code === DHO_MSG_TYPE ? o.msgType : code === DHO_MTU ? o.mtu : code === DHO_SUBNET_MASK ? o.subnetMask : code === DHO_LEASE_TIME ? o.leaseSecs : o.serverId;
          expect(got).toBe(v >>> 0);
        }
      }),
      { numRuns: 1000, seed: 20261204 },
    );
  });
});
