import { describe, expect, it } from "vitest";
import { csumFold, csumPartial, csumPseudoHeader, csumVerify } from "../../src/wire/checksum";
import { IPPROTO_UDP, ipDaddr, ipSaddr, ipTotLen } from "../../src/wire/ipv4";
import {
  OFF_UDP_CHECK, UDP_HLEN, setUdpCheck, setUdpDport, setUdpLen, setUdpSport, udpBuildHeader, udpCheck, udpDport,
  udpLen, udpSport,
} from "../../src/wire/udp";
import { hex, IP_A, IP_B, L3, L4, poisoned, UDP_DNS_QUERY } from "./fixtures";

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
