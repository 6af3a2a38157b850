import { describe, expect, it } from "vitest";
import {
  ARP_HLEN, ARPHRD_ETHER, ARPOP_REPLY, ARPOP_REQUEST, OFF_ARP_SHA, OFF_ARP_THA, OFF_ARP_TPA, arpBuild, arpHlen,
  arpHtype, arpIsEthernetIpv4, arpOp, arpPlen, arpPtype, arpSpa, arpTpa, arpCheckLen,
} from "../../src/wire/arp";
import { WIRE_BAD_ALEN, WIRE_OK, WIRE_TRUNCATED } from "../../src/wire/bytes";
import { ETH_HLEN, ETH_P_IP, ETH_ZLEN, macEqual, macIsMulticast, macIsZero } from "../../src/wire/ethernet";
import { ARP_REPLY, ARP_REQUEST, IP_A, IP_B, MAC_A, MAC_B, poisoned, readTracker } from "./fixtures";

const L3 = ETH_HLEN;

describe("ARP (RFC 826)", () => {
  it("places the last field at the end of the 28 bytes", () => {
    expect(OFF_ARP_TPA + 4).toBe(ARP_HLEN);
    expect(ARP_REQUEST.length).toBe(ETH_HLEN + ARP_HLEN);
  });

  it("parses the captured Linux request", () => {
    expect(arpIsEthernetIpv4(ARP_REQUEST, L3)).toBe(true);
    expect(arpHtype(ARP_REQUEST, L3)).toBe(ARPHRD_ETHER);
    expect(arpPtype(ARP_REQUEST, L3)).toBe(ETH_P_IP);
    expect(arpHlen(ARP_REQUEST, L3)).toBe(6);
    expect(arpPlen(ARP_REQUEST, L3)).toBe(4);
    expect(arpOp(ARP_REQUEST, L3)).toBe(ARPOP_REQUEST);
    expect(macEqual(ARP_REQUEST, L3 + OFF_ARP_SHA, MAC_A, 0)).toBe(true);
    expect(arpSpa(ARP_REQUEST, L3)).toBe(IP_A);
    expect(macIsZero(ARP_REQUEST, L3 + OFF_ARP_THA)).toBe(true);
    expect(arpTpa(ARP_REQUEST, L3)).toBe(IP_B);
  });

  it("parses the captured reply", () => {
    expect(arpIsEthernetIpv4(ARP_REPLY, L3)).toBe(true);
    expect(arpOp(ARP_REPLY, L3)).toBe(ARPOP_REPLY);
    expect(macEqual(ARP_REPLY, L3 + OFF_ARP_SHA, MAC_B, 0)).toBe(true);
    expect(arpSpa(ARP_REPLY, L3)).toBe(IP_B);
    expect(macEqual(ARP_REPLY, L3 + OFF_ARP_THA, MAC_A, 0)).toBe(true);
    expect(arpTpa(ARP_REPLY, L3)).toBe(IP_A);
  });

  it("returns addresses as unsigned 32-bit numbers", () => {
    const buf = poisoned(ARP_HLEN);
    arpBuild(buf, 0, ARPOP_REQUEST, MAC_A, 0, 0xffffffff, MAC_B, 0, 0x80000000);
    expect(arpSpa(buf, 0)).toBe(0xffffffff);
    expect(arpTpa(buf, 0)).toBe(0x80000000);
  });

  it("builds the captured request and reply byte for byte over 0xa5", () => {
    const zeroMac = new Uint8Array(6);
    const req = poisoned(2 + ARP_HLEN + 2);
    arpBuild(req, 2, ARPOP_REQUEST, MAC_A, 0, IP_A, zeroMac, 0, IP_B);
    expect(req.subarray(2, 2 + ARP_HLEN)).toEqual(ARP_REQUEST.subarray(L3));
    expect([req[0], req[1], req[30], req[31]]).toEqual([0xa5, 0xa5, 0xa5, 0xa5]);

    // The reply takes its addresses from the request in place, as arp_rcv does.
    const rep = poisoned(ARP_HLEN);
    arpBuild(rep, 0, ARPOP_REPLY, MAC_B, 0, arpTpa(ARP_REQUEST, L3), ARP_REQUEST, L3 + OFF_ARP_SHA, arpSpa(ARP_REQUEST, L3));
    expect(rep).toEqual(ARP_REPLY.subarray(L3));
  });

  it("rejects other hardware, protocol and address lengths", () => {
    for (const [offset, value] of [[1, 6], [2, 0x86], [3, 0xdd], [4, 8], [5, 16]]) {
      const copy = ARP_REQUEST.slice();
      copy[L3 + offset] = value;
      expect(arpIsEthernetIpv4(copy, L3), `byte ${offset} = ${value}`).toBe(false);
    }
  });
});

describe("arpCheckLen (the one gate before the getters and address offsets)", () => {
  it("passes the captured request and reply, and a request padded to the minimum frame", () => {
    expect(arpCheckLen(ARP_REQUEST, L3, ARP_HLEN)).toBe(WIRE_OK);
    expect(arpCheckLen(ARP_REPLY, L3, ARP_HLEN)).toBe(WIRE_OK);
    const padded = new Uint8Array(ETH_ZLEN);
    padded.set(ARP_REQUEST);
    expect(arpCheckLen(padded, L3, ETH_ZLEN - L3)).toBe(WIRE_OK);
  });

  it("calls a packet cut anywhere before its last address byte truncated", () => {
    for (let len = 0; len < ARP_HLEN; len++) expect(arpCheckLen(ARP_REQUEST, L3, len), `len ${len}`).toBe(WIRE_TRUNCATED);
  });

  it("rejects address lengths other than 6 and 4, which the fixed offsets would misread", () => {
    for (const [hlen, plen] of [[0, 4], [8, 4], [6, 0], [6, 16], [4, 6]]) {
      const copy = ARP_REQUEST.slice(L3);
      copy[4] = hlen;
      copy[5] = plen;
      expect(arpCheckLen(copy, 0, copy.length), `hlen ${hlen} plen ${plen}`).toBe(WIRE_BAD_ALEN);
    }
  });

  it("leaves the hardware and protocol types to arpIsEthernetIpv4", () => {
    const copy = ARP_REQUEST.slice(L3);
    copy[0] = 6; // IEEE 802 hardware
    expect(arpCheckLen(copy, 0, ARP_HLEN)).toBe(WIRE_OK);
    expect(arpIsEthernetIpv4(copy, 0)).toBe(false);
  });

  it("keeps every getter and address inside the 28 bytes it passed", () => {
    const { buf, maxRead } = readTracker(ARP_REPLY.slice(L3));
    expect(arpCheckLen(buf, 0, ARP_HLEN)).toBe(WIRE_OK);
    arpHtype(buf, 0); arpPtype(buf, 0); arpHlen(buf, 0); arpPlen(buf, 0); arpOp(buf, 0); arpSpa(buf, 0); arpTpa(buf, 0);
    macIsMulticast(buf, OFF_ARP_SHA); macIsZero(buf, OFF_ARP_THA);
    expect(maxRead()).toBe(ARP_HLEN - 1);
  });
});
