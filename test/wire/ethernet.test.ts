import { describe, expect, it } from "vitest";
import {
  ETH_ALEN, ETH_DATA_LEN, ETH_FRAME_LEN, ETH_HLEN, ETH_P_ARP, ETH_P_IP, ETH_ZLEN, OFF_ETH_DST, OFF_ETH_SRC,
  OFF_ETH_TYPE, ethBuildHeader, ethType, formatMac, ipv4MulticastToMac, macCopy, macEqual, macIsBroadcast,
  macIsMulticast, macIsZero, macSetBroadcast, parseMac, setEthType, ethCheckLen,
} from "../../src/wire/ethernet";
import { WIRE_OK, WIRE_TRUNCATED } from "../../src/wire/bytes";
import { ARP_REQUEST, hex, ICMP_ECHO_REQUEST, MAC_A, MAC_B, poisoned, readTracker } from "./fixtures";

describe("Ethernet header", () => {
  it("has the Linux sizes and field offsets", () => {
    expect([ETH_ALEN, ETH_HLEN, ETH_ZLEN, ETH_DATA_LEN, ETH_FRAME_LEN]).toEqual([6, 14, 60, 1500, 1514]);
    expect(ETH_HLEN).toBe(OFF_ETH_TYPE + 2);
    expect(ETH_FRAME_LEN).toBe(ETH_HLEN + ETH_DATA_LEN);
  });

  it("parses the captured ARP broadcast and ICMP frames", () => {
    expect(ethType(ARP_REQUEST, 0)).toBe(ETH_P_ARP);
    expect(macIsBroadcast(ARP_REQUEST, OFF_ETH_DST)).toBe(true);
    expect(macIsMulticast(ARP_REQUEST, OFF_ETH_DST)).toBe(true);
    expect(macEqual(ARP_REQUEST, OFF_ETH_SRC, MAC_A, 0)).toBe(true);

    expect(ethType(ICMP_ECHO_REQUEST, 0)).toBe(ETH_P_IP);
    expect(macEqual(ICMP_ECHO_REQUEST, OFF_ETH_DST, MAC_B, 0)).toBe(true);
    expect(macIsBroadcast(ICMP_ECHO_REQUEST, OFF_ETH_DST)).toBe(false);
    expect(macIsMulticast(ICMP_ECHO_REQUEST, OFF_ETH_DST)).toBe(false);
    expect(formatMac(ICMP_ECHO_REQUEST, OFF_ETH_SRC)).toBe("02:00:00:00:00:01");
  });

  it("builds the captured headers byte for byte over 0xa5", () => {
    const bcast = new Uint8Array(6);
    macSetBroadcast(bcast, 0);
    const buf = poisoned(2 + ETH_HLEN + 2);
    ethBuildHeader(buf, 2, bcast, 0, MAC_A, 0, ETH_P_ARP);
    expect(buf.subarray(2, 2 + ETH_HLEN)).toEqual(ARP_REQUEST.subarray(0, ETH_HLEN));
    expect([buf[0], buf[1], buf[16], buf[17]]).toEqual([0xa5, 0xa5, 0xa5, 0xa5]);

    const buf2 = poisoned(ETH_HLEN);
    ethBuildHeader(buf2, 0, ICMP_ECHO_REQUEST, OFF_ETH_DST, ICMP_ECHO_REQUEST, OFF_ETH_SRC, ETH_P_IP);
    expect(buf2).toEqual(ICMP_ECHO_REQUEST.subarray(0, ETH_HLEN));
  });

  it("sets the type and copies addresses at offsets without touching neighbours", () => {
    const buf = poisoned(20);
    setEthType(buf, 3, 0x86dd);
    expect(ethType(buf, 3)).toBe(0x86dd);
    expect([buf[14], buf[17]]).toEqual([0xa5, 0xa5]);
    const dst = poisoned(10);
    macCopy(dst, 2, MAC_B, 0);
    expect(dst).toEqual(hex("a5 a5 02 00 00 00 00 02 a5 a5"));
    expect(macEqual(dst, 2, MAC_B, 0)).toBe(true);
    expect(macEqual(dst, 2, MAC_A, 0)).toBe(false);
  });
});

describe("MAC address classes", () => {
  it("tells broadcast, multicast, zero and unicast apart", () => {
    const cases: [string, boolean, boolean, boolean][] = [
      // text, broadcast, multicast (I/G bit), zero
      ["ff:ff:ff:ff:ff:ff", true, true, false],
      ["01:00:5e:00:00:01", false, true, false],
      ["33:33:00:00:00:01", false, true, false],
      ["00:00:00:00:00:00", false, false, true],
      ["02:00:00:00:00:01", false, false, false],
      ["fe:ff:ff:ff:ff:ff", false, false, false],
      ["ff:ff:ff:ff:ff:fe", false, true, false],
    ];
    for (const [text, bcast, mcast, zero] of cases) {
      const mac = parseMac(text);
      expect(macIsBroadcast(mac, 0), text).toBe(bcast);
      expect(macIsMulticast(mac, 0), text).toBe(mcast);
      expect(macIsZero(mac, 0), text).toBe(zero);
    }
  });

  it("maps IPv4 groups to 01:00:5e + low 23 bits (RFC 1112 6.4)", () => {
    const out = poisoned(8);
    ipv4MulticastToMac(0xe0000001, out, 1); // 224.0.0.1
    expect(formatMac(out, 1)).toBe("01:00:5e:00:00:01");
    expect([out[0], out[7]]).toEqual([0xa5, 0xa5]);
    ipv4MulticastToMac(0xefffffff, out, 1); // 239.255.255.255: the 24th bit is dropped
    expect(formatMac(out, 1)).toBe("01:00:5e:7f:ff:ff");
    ipv4MulticastToMac(0xe08a0b0c, out, 1); // 224.138.11.12 shares a MAC with 224.10.11.12
    expect(formatMac(out, 1)).toBe("01:00:5e:0a:0b:0c");
  });
});

describe("parseMac / formatMac", () => {
  it("round-trips with ':' and '-' and any case", () => {
    expect(parseMac("02:00:00:00:00:01")).toEqual(MAC_A);
    expect(parseMac("02-00-00-00-00-02")).toEqual(MAC_B);
    expect(formatMac(parseMac("DE:AD:BE:EF:0A:0b"), 0)).toBe("de:ad:be:ef:0a:0b");
    expect(formatMac(parseMac("00-0f-f0-a0-0a-ff"), 0)).toBe("00:0f:f0:a0:0a:ff");
  });

  it("throws a TypeError naming the bad text", () => {
    for (const text of [
      "", "02:00:00:00:00", "02:00:00:00:00:01:02", "02:00:00:00:00:1", "2:00:00:00:00:01",
      "02:00-00:00:00:01", "02.00.00.00.00.01", "0g:00:00:00:00:00", "02:00:00:00:00:01 ", "020000000001",
    ]) {
      expect(() => parseMac(text), text).toThrow(TypeError);
      expect(() => parseMac(text)).toThrow(`invalid MAC address '${text}'`);
    }
  });
});

describe("ethCheckLen (the one gate before the getters)", () => {
  it("passes the captured frames and a bare header, and calls anything shorter truncated", () => {
    expect(ethCheckLen(ARP_REQUEST, 0, ARP_REQUEST.length)).toBe(WIRE_OK);
    expect(ethCheckLen(ICMP_ECHO_REQUEST, 0, ETH_HLEN)).toBe(WIRE_OK);
    for (let len = 0; len < ETH_HLEN; len++) expect(ethCheckLen(ARP_REQUEST, 0, len), `len ${len}`).toBe(WIRE_TRUNCATED);
  });

  it("keeps the getters inside the 14 bytes it passed", () => {
    const { buf, maxRead } = readTracker(ICMP_ECHO_REQUEST.slice(0, ETH_HLEN));
    expect(ethCheckLen(buf, 0, ETH_HLEN)).toBe(WIRE_OK);
    ethType(buf, 0); macIsBroadcast(buf, OFF_ETH_DST); macEqual(buf, OFF_ETH_SRC, MAC_A, 0);
    expect(maxRead()).toBe(ETH_HLEN - 1);
  });
});
