import { describe, expect, it } from "vitest";
import { csumFold, csumPartial, csumVerify } from "../../src/wire/checksum";
import {
  ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_ECHOREPLY, ICMP_FRAG_NEEDED, ICMP_HLEN, ICMP_PARAMETERPROB, ICMP_REDIRECT,
  ICMP_SOURCE_QUENCH, ICMP_TIME_EXCEEDED, ICMP_TIMESTAMP, ICMP_TIMESTAMPREPLY, OFF_ICMP_CHECK, icmpBuildHeader,
  icmpCheck, icmpCode, icmpId, icmpIsError, icmpMtu, icmpPointer, icmpSeq, icmpType, setIcmpCheck, setIcmpCode,
  setIcmpId, setIcmpMtu, setIcmpPointer, setIcmpSeq, setIcmpType, icmpCheckLen,
} from "../../src/wire/icmp";
import { WIRE_OK, WIRE_TRUNCATED } from "../../src/wire/bytes";
import { ipTotLen } from "../../src/wire/ipv4";
import { hex, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, L3, L4, poisoned, readTracker } from "./fixtures";

describe("ICMP (RFC 792)", () => {
  it("parses the captured echo request and verifies its checksum", () => {
    const b = ICMP_ECHO_REQUEST;
    const len = ipTotLen(b, L3) - 20;
    expect(len).toBe(64);
    expect(icmpType(b, L4)).toBe(ICMP_ECHO);
    expect(icmpCode(b, L4)).toBe(0);
    expect(icmpCheck(b, L4)).toBe(0xca00);
    expect(icmpId(b, L4)).toBe(0x0f1c);
    expect(icmpSeq(b, L4)).toBe(1);
    expect(csumVerify(b, L4, len, 0)).toBe(true);
    expect(csumVerify(ICMP_ECHO_REPLY, L4, len, 0)).toBe(true);
  });

  it("turns the request into the captured reply in place, as icmp_echo does", () => {
    const len = 64;
    const msg = ICMP_ECHO_REQUEST.slice(L4, L4 + len);
    setIcmpType(msg, 0, ICMP_ECHOREPLY);
    setIcmpCheck(msg, 0, 0);
    setIcmpCheck(msg, 0, csumFold(csumPartial(msg, 0, len, 0)));
    expect(msg).toEqual(ICMP_ECHO_REPLY.subarray(L4));
  });

  it("builds the captured echo request header byte for byte over 0xa5", () => {
    const len = 64;
    const buf = poisoned(2 + len);
    buf.set(ICMP_ECHO_REQUEST.subarray(L4 + ICMP_HLEN), 2 + ICMP_HLEN); // the data
    icmpBuildHeader(buf, 2, ICMP_ECHO, 0, (0x0f1c << 16) | 1);
    expect(icmpCheck(buf, 2)).toBe(0);
    setIcmpCheck(buf, 2, csumFold(csumPartial(buf, 2, len, 0)));
    expect(buf.subarray(2)).toEqual(ICMP_ECHO_REQUEST.subarray(L4));
    expect([buf[0], buf[1]]).toEqual([0xa5, 0xa5]);
  });

  it("builds fragmentation-needed with the next-hop MTU (RFC 1191) and parameter problem with a pointer", () => {
    const buf = poisoned(ICMP_HLEN);
    icmpBuildHeader(buf, 0, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1400);
    expect(buf).toEqual(hex("03 04 00 00 00 00 05 78"));
    expect(icmpMtu(buf, 0)).toBe(1400);

    icmpBuildHeader(buf, 0, ICMP_PARAMETERPROB, 0, 9 << 24);
    expect(buf).toEqual(hex("0c 00 00 00 09 00 00 00"));
    expect(icmpPointer(buf, 0)).toBe(9);
    icmpBuildHeader(buf, 0, ICMP_PARAMETERPROB, 0, 0xffffffff);
    expect(buf).toEqual(hex("0c 00 00 00 ff ff ff ff"));
  });

  it("setters write their own bytes only", () => {
    const buf = poisoned(ICMP_HLEN);
    setIcmpType(buf, 0, 3);
    setIcmpCode(buf, 0, 4);
    expect(buf).toEqual(hex("03 04 a5 a5 a5 a5 a5 a5"));
    setIcmpId(buf, 0, 0x1234);
    setIcmpSeq(buf, 0, 0x5678);
    expect(buf).toEqual(hex("03 04 a5 a5 12 34 56 78"));
    setIcmpMtu(buf, 0, 576);
    setIcmpPointer(buf, 0, 1);
    expect(buf).toEqual(hex("03 04 a5 a5 01 34 02 40"));
    setIcmpCheck(buf, 0, 0xbeef);
    expect([buf[OFF_ICMP_CHECK], buf[OFF_ICMP_CHECK + 1]]).toEqual([0xbe, 0xef]);
  });

  it("knows which types are errors (RFC 1122 3.2.2)", () => {
    for (const t of [ICMP_DEST_UNREACH, ICMP_SOURCE_QUENCH, ICMP_REDIRECT, ICMP_TIME_EXCEEDED, ICMP_PARAMETERPROB]) {
      expect(icmpIsError(t), `type ${t}`).toBe(true);
    }
    for (const t of [ICMP_ECHOREPLY, ICMP_ECHO, ICMP_TIMESTAMP, ICMP_TIMESTAMPREPLY, 1, 2, 6, 9, 10, 255]) {
      expect(icmpIsError(t), `type ${t}`).toBe(false);
    }
  });
});

describe("icmpCheckLen (the one gate before the getters)", () => {
  it("passes the captured echo messages and a bare 8-byte header", () => {
    expect(icmpCheckLen(ICMP_ECHO_REQUEST, L4, 64)).toBe(WIRE_OK);
    expect(icmpCheckLen(ICMP_ECHO_REPLY, L4, 64)).toBe(WIRE_OK);
    expect(icmpCheckLen(ICMP_ECHO_REQUEST, L4, ICMP_HLEN)).toBe(WIRE_OK);
  });

  it("calls a message shorter than 8 bytes truncated", () => {
    for (let len = 0; len < ICMP_HLEN; len++) {
      expect(icmpCheckLen(ICMP_ECHO_REQUEST, L4, len), `len ${len}`).toBe(WIRE_TRUNCATED);
    }
  });

  it("keeps every getter inside the 8 bytes it passed", () => {
    const { buf, maxRead } = readTracker(ICMP_ECHO_REQUEST.slice(L4, L4 + ICMP_HLEN));
    expect(icmpCheckLen(buf, 0, ICMP_HLEN)).toBe(WIRE_OK);
    icmpType(buf, 0); icmpCode(buf, 0); icmpCheck(buf, 0); icmpId(buf, 0); icmpSeq(buf, 0); icmpMtu(buf, 0);
    icmpPointer(buf, 0);
    expect(maxRead()).toBe(ICMP_HLEN - 1);
  });
});
