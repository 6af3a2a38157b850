// DNS messages (src/wire/dns.ts): names written and read in place, a compressed answer with a
// CNAME chain, each hostile name RFC 5452-minded resolvers meet (pointer loops, forward
// pointers, names over 255, labels over 63, counts the message does not hold), and a
// property: any bytes give a code or an offset inside the message, never a throw, a spin or
// a read outside it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WIRE_OK, WIRE_TRUNCATED } from "../../src/wire/bytes";
import {
  DNS_BAD_NAME, DNS_CLASS_IN, DNS_HLEN, DNS_QR, DNS_RD, DNS_RR_BEYOND, DNS_TYPE_A, DNS_TYPE_CNAME, DnsRecord, dnsAnCount,
  DNS_POINTER_HOPS_MAX, dnsBuildHeader, dnsCheckLen, dnsFlags, dnsId, dnsNameIs, dnsNamesEqual, dnsQdCount, dnsReadRecord, dnsSkipName,
  dnsSkipQuestion, dnsWriteName, dnsWriteQuestionTail, DNS_CLASS_MDNS_BIT, dnsNameIsWire, dnsWireNameLength, dnsWriteLabel,
  dnsWriteRecordTail,
} from "../../src/wire/dns";

const bytesOf = (...parts: (number | string)[]): number[] =>
  parts.flatMap((p) => (typeof p === "number" ? [p] : [...new TextEncoder().encode(p)]));

describe("DNS names (RFC 1035 3.1, 4.1.4)", () => {
  it("writes a query for www.example.com the way RFC 1035 lays it out", () => {
    const buf = new Uint8Array(300).fill(0xa5);
    let o = dnsBuildHeader(buf, 2, 0xbeef, DNS_RD, 1, 0, 0, 0);
    o = dnsWriteName(buf, o, "www.example.com.");
    o = dnsWriteQuestionTail(buf, o, DNS_TYPE_A, DNS_CLASS_IN);
    expect([...buf.subarray(2, o)]).toEqual(bytesOf(0xbe, 0xef, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, "www", 7, "example", 3, "com", 0, 0, 1, 0, 1));
    expect([dnsId(buf, 2), dnsFlags(buf, 2), dnsQdCount(buf, 2)]).toEqual([0xbeef, DNS_RD, 1]);
    expect(dnsSkipQuestion(buf, 2, o, 2 + DNS_HLEN)).toBe(o);
    expect(dnsNameIs(buf, 2, 2 + DNS_HLEN, "WWW.Example.COM")).toBe(true);
    expect(dnsNameIs(buf, 2, 2 + DNS_HLEN, "www.example.co")).toBe(false);
    expect(dnsNameIs(buf, 2, 2 + DNS_HLEN, "www.example.com.x")).toBe(false);
  });

  it("refuses to write what is not a name", () => {
    const buf = new Uint8Array(300);
    expect(dnsWriteName(buf, 0, "")).toBe(-1);
    expect(dnsWriteName(buf, 0, "a..b")).toBe(-1);
    expect(dnsWriteName(buf, 0, ".a")).toBe(-1);
    expect(dnsWriteName(buf, 0, "a b")).toBe(-1);
    expect(dnsWriteName(buf, 0, `${"a".repeat(64)}.com`)).toBe(-1);
    expect(dnsWriteName(buf, 0, `${"a".repeat(63)}.com`)).toBe(69);
    // 253 characters is the longest dotted name (255 bytes in wire form)
    const long = Array.from({ length: 4 }, () => "a".repeat(62)).join(".") + ".a";
    expect(long.length).toBe(253);
    expect(dnsWriteName(buf, 0, long)).toBe(255);
    expect(dnsWriteName(buf, 0, `${long}a`)).toBe(-1);
  });

  it("reads a compressed answer: a CNAME chain to an A record, names compared in place", () => {
    // question www.example.com A; answers: www.example.com CNAME web.example.com (ptr),
    // web.example.com A 192.0.2.7
    const msg = bytesOf(
      0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
      3, "www", 7, "example", 3, "com", 0, 0, 1, 0, 1, // 12: question name at 12
      0xc0, 12, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, 3, "web", 0xc0, 16, // 33: CNAME, rdata at 45
      0xc0, 45, 0, 1, 0, 1, 0x80, 0, 0, 0, 0, 4, 192, 0, 2, 7, // 51: A, a TTL with the top bit set
    );
    const buf = new Uint8Array(msg);
    const end = buf.length;
    expect(dnsCheckLen(end)).toBe(WIRE_OK);
    expect(dnsFlags(buf, 0) & DNS_QR).toBe(DNS_QR);
    expect(dnsAnCount(buf, 0)).toBe(2);
    const q = DNS_HLEN;
    let at = dnsSkipQuestion(buf, 0, end, q);
    expect(at).toBe(33);
    const rr = new DnsRecord();
    expect(dnsReadRecord(buf, 0, end, at, rr)).toBe(WIRE_OK);
    expect([rr.type, rr.klass, rr.ttl, rr.rdLength]).toEqual([DNS_TYPE_CNAME, DNS_CLASS_IN, 3600, 6]);
    expect(dnsNamesEqual(buf, 0, rr.nameAt, q)).toBe(true);
    expect(dnsSkipName(buf, 0, end, rr.rdataAt)).toBe(rr.next);
    expect(dnsNameIs(buf, 0, rr.rdataAt, "web.example.com")).toBe(true);
    const cname = rr.rdataAt;
    at = rr.next;
    expect(dnsReadRecord(buf, 0, end, at, rr)).toBe(WIRE_OK);
    expect([rr.type, rr.ttl, rr.rdLength, rr.next]).toEqual([DNS_TYPE_A, 0, 4, end]);
    expect(dnsNamesEqual(buf, 0, rr.nameAt, cname)).toBe(true);
    expect(dnsNamesEqual(buf, 0, rr.nameAt, q)).toBe(false);
  });

  it("refuses hostile names and records: loops, forward pointers, long names and labels, short messages", () => {
    const name = (...b: (number | string)[]): Uint8Array => new Uint8Array(bytesOf(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...b));
    // a pointer to itself, to a later byte, and a two-pointer loop
    expect(dnsSkipName(name(0xc0, 12), 0, 14, 12)).toBe(-1);
    expect(dnsSkipName(name(0xc0, 14, 1, "a", 0), 0, 17, 12)).toBe(-1);
    expect(dnsSkipName(name(1, "a", 0xc0, 15, 0xc0, 12), 0, 18, 15)).toBe(-1);
    // a pointer cut short, a label running past the end, reserved label kinds
    expect(dnsSkipName(name(0xc0), 0, 13, 12)).toBe(-1);
    expect(dnsSkipName(name(5, "ab"), 0, 15, 12)).toBe(-1);
    expect(dnsSkipName(name(0x40, 0), 0, 14, 12)).toBe(-1);
    expect(dnsSkipName(name(0x80, 0), 0, 14, 12)).toBe(-1);
    // a label of 64 (0x40: a reserved kind), and a name of 256 bytes made of pointers to parts
    expect(dnsSkipName(name(64, "a".repeat(64), 0), 0, 12 + 66, 12)).toBe(-1);
    const labels: (number | string)[] = [];
    for (let i = 0; i < 4; i++) labels.push(63, "a".repeat(63));
    const big = name(...labels, 0);
    expect(dnsSkipName(big, 0, big.length, 12)).toBe(-1); // 4 x 64 + 1 = 257 bytes
    const ok = name(...labels.slice(0, 6), 61, "a".repeat(61), 0);
    expect(dnsSkipName(ok, 0, ok.length, 12)).toBe(ok.length); // 3 x 64 + 62 + 1 = 255
    // through pointers: a 200-byte name after which another name adds 64 via a pointer
    const via = name(...labels.slice(0, 6), 8, "aaaaaaaa", 0, 63, "b".repeat(63), 0xc0, 12);
    const second = 12 + 3 * 64 + 9 + 1;
    expect(dnsSkipName(via, 0, via.length, second)).toBe(-1);
    // records: an answer count the message does not hold, rdata past the end
    const rr = new DnsRecord();
    expect(dnsCheckLen(11)).toBe(WIRE_TRUNCATED);
    expect(dnsReadRecord(name(0, 0, 1, 0, 1, 0, 0), 0, 19, 12, rr)).toBe(DNS_RR_BEYOND);
    expect(dnsReadRecord(name(0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 5, 1, 2, 3), 0, 26, 12, rr)).toBe(DNS_RR_BEYOND);
    expect(dnsReadRecord(name(0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 0), 0, 24, 12, rr)).toBe(DNS_BAD_NAME);
    expect(dnsSkipQuestion(name(0, 0, 1, 0), 0, 16, 12)).toBe(-1);
  });
});

describe("DNS pointer chains", () => {
  it("refuses a name behind more pointers than any name needs (each to the one before: no loop, yet no end)", () => {
    // "a" at 12, then 2-byte pointers each to the one before it.
    const hopsTo = (hops: number): { buf: Uint8Array; at: number; end: number } => {
      const buf = new Uint8Array(16 + 2 * hops);
      buf.set([1, 0x61, 0], 12);
      let prev = 12;
      let at = 15;
      for (let i = 0; i < hops; i++, at += 2) {
        buf[at] = 0xc0 | (prev >> 8);
        buf[at + 1] = prev & 0xff;
        prev = at;
      }
      return { buf, at: prev, end: at };
    };
    const ok = hopsTo(DNS_POINTER_HOPS_MAX);
    expect(dnsSkipName(ok.buf, 0, ok.end, ok.at)).toBe(ok.at + 2);
    expect(dnsNameIs(ok.buf, 0, ok.at, "a")).toBe(true);
    const tooMany = hopsTo(DNS_POINTER_HOPS_MAX + 12);
    expect(dnsSkipName(tooMany.buf, 0, tooMany.end, tooMany.at)).toBe(-1);
  });
});

describe("DNS reader properties (fast-check)", () => {
  it("any bytes: names and records give a code or an offset inside the message, and read nothing outside it", () => {
    const rra = new DnsRecord();
    const rrb = new DnsRecord();
    // Random bytes, and messages of names made of labels and pointers (so that pointers,
    // loops and long names come often), cut anywhere.
    const part = fc.oneof(
      fc.record({ kind: fc.constant(0), n: fc.nat({ max: 70 }) }),
      fc.record({ kind: fc.constant(1), n: fc.nat({ max: 0x3fff }) }),
      fc.record({ kind: fc.constant(2), n: fc.nat({ max: 255 }) }),
    );
    const named = fc.tuple(fc.array(part, { maxLength: 40 }), fc.nat({ max: 600 })).map(([parts, cut]) => {
      const out: number[] = new Array(12).fill(0);
      for (const { kind, n } of parts) {
        if (kind === 0) out.push(n, ...new Array(n).fill(0x61));
        else if (kind === 1) out.push(0xc0 | (n >> 8), n & 0xff);
        else out.push(n);
      }
      return new Uint8Array(out.slice(0, Math.min(out.length, 12 + cut)));
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }), named), fc.nat({ max: 600 }), (bytes, start) => {
        // The same message between guards of 0x00 (a root label) and of 0xc0 0x00 (a pointer):
        // a read outside it would make the two readings differ.
        const x = new Uint8Array(bytes.length + 520);
        const y = new Uint8Array(bytes.length + 520).fill(0xc0);
        x.set(bytes, 260);
        y.set(bytes, 260);
        const end = 260 + bytes.length;
        const at = 260 + (bytes.length === 0 ? 0 : start % bytes.length);
        const skip = dnsSkipName(x, 260, end, at);
        expect(dnsSkipName(y, 260, end, at)).toBe(skip);
        expect(skip === -1 || (skip > at && skip <= end)).toBe(true);
        if (skip > 0) {
          expect(dnsNamesEqual(x, 260, at, at)).toBe(true);
          expect(dnsNamesEqual(y, 260, at, at)).toBe(true);
        }
        const code = dnsReadRecord(x, 260, end, at, rra);
        expect(dnsReadRecord(y, 260, end, at, rrb)).toBe(code);
        expect([WIRE_OK, DNS_BAD_NAME, DNS_RR_BEYOND]).toContain(code);
        if (code === WIRE_OK) {
          expect([rrb.type, rrb.ttl, rrb.rdLength, rrb.next]).toEqual([rra.type, rra.ttl, rra.rdLength, rra.next]);
          expect(rra.next).toBeLessThanOrEqual(end);
        }
      }),
      { numRuns: 5000, seed: 20261205 },
    );
  });
});

describe("what mDNS writes and compares (RFC 6762, RFC 6763 4.3)", () => {
  it("writes a label with spaces, a record's fixed part, and compares a compressed name with a wire name", () => {
    const buf = new Uint8Array(64).fill(0xa5);
    expect(dnsWriteLabel(buf, 0, "My Printer")).toBe(11);
    expect([...buf.subarray(0, 11)]).toEqual(bytesOf(10, "My Printer"));
    expect(dnsWriteLabel(buf, 0, "")).toBe(-1);
    expect(dnsWriteLabel(buf, 0, "a".repeat(64))).toBe(-1);
    expect(dnsWriteLabel(buf, 0, "tab\there")).toBe(-1);
    expect(dnsWriteRecordTail(buf, 0, DNS_TYPE_A, DNS_CLASS_IN | DNS_CLASS_MDNS_BIT, 0x01020304, 4)).toBe(10);
    expect([...buf.subarray(0, 10)]).toEqual([0, 1, 0x80, 1, 1, 2, 3, 4, 0, 4]);
    // "_http._tcp.local" at 12, then "x" + pointer to it at 30
    const msg = new Uint8Array(bytesOf(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, "_http", 4, "_tcp", 5, "local", 0, 1, "x", 0xc0, 12));
    const wire = new Uint8Array(bytesOf(1, "X", 5, "_HTTP", 4, "_tcp", 5, "local", 0));
    expect(dnsWireNameLength(wire, 0)).toBe(wire.length);
    expect(dnsSkipName(msg, 0, msg.length, 30)).toBe(msg.length);
    expect(dnsNameIsWire(msg, 0, 30, wire, 0)).toBe(true);
    expect(dnsNameIsWire(msg, 0, 12, wire, 2)).toBe(true);
    expect(dnsNameIsWire(msg, 0, 12, wire, 0)).toBe(false);
    expect(dnsNameIsWire(msg, 0, 30, wire.subarray(0, 8), 0)).toBe(false);
  });
});
