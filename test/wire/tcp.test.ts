import { describe, expect, it } from "vitest";
import { csumFold, csumPartial, csumPseudoHeader, csumVerify } from "../../src/wire/checksum";
import { IPPROTO_TCP, ipTotLen } from "../../src/wire/ipv4";
import {
  OFF_TCP_DOFF, OFF_TCP_URG, TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_HLEN, TCP_HLEN_MAX, TCP_PSH, TCP_RST, TCP_SYN,
  TCP_URG, TCPOPT_EOL, TCPOPT_MSS, TCPOPT_NOP, TCPOPT_SACK, TCPOPT_SACK_PERM, TCPOPT_TIMESTAMP, TCPOPT_WINDOW,
  TcpOptions, setTcpAckSeq, setTcpCheck, setTcpDoffBytes, setTcpDport, setTcpFlags, setTcpSeq, setTcpSport,
  setTcpUrgPtr, setTcpWindow, tcpAckSeq, tcpBuildHeader, tcpCheck, tcpDoffBytes, tcpDport, tcpFlags,
  tcpParseOptions, tcpSeq, tcpSport, tcpUrgPtr, tcpWindow, tcpWriteOptMss, tcpWriteOptSack, tcpWriteOptSackPerm,
  tcpOptSackPermInTimestamp, tcpWriteOptTimestamp, tcpWriteOptWscale, tcpCheckLen,
} from "../../src/wire/tcp";
import { WIRE_BAD_HLEN, WIRE_HLEN_BEYOND, WIRE_OK, WIRE_TRUNCATED } from "../../src/wire/bytes";
import {
  hex, IP_A, IP_B, L3, L4, poisoned, readTracker, TCP_PSH_ACK_FRAME, TCP_SYN_ACK_FRAME, TCP_SYN_FRAME, xorshift32,
} from "./fixtures";

function segLen(frame: Uint8Array): number {
  return ipTotLen(frame, L3) - 20;
}

/** Parses the given option bytes with one reused TcpOptions, as the stack does. */
const opts = new TcpOptions();
function parse(bytes: Uint8Array, off = 0, len = bytes.length): boolean {
  return tcpParseOptions(bytes, off, len, opts);
}

function expectDefaults(o: TcpOptions): void {
  expect([o.mss, o.wscale, o.sackPermitted, o.hasTimestamp, o.tsVal, o.tsEcr, o.sackCount])
    .toEqual([0, -1, false, false, 0, 0, 0]);
  expect(Array.from(o.sackBlocks)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
}

describe("TCP header (RFC 9293 3.1)", () => {
  it("has 8 flag bits in the order CWR ECE URG ACK PSH RST SYN FIN", () => {
    expect([TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG, TCP_ECE, TCP_CWR]).toEqual([1, 2, 4, 8, 16, 32, 64, 128]);
    expect([TCP_HLEN, TCP_HLEN_MAX]).toEqual([20, 60]);
  });

  it("parses the captured Linux SYN", () => {
    const b = TCP_SYN_FRAME;
    expect(tcpSport(b, L4)).toBe(54706);
    expect(tcpDport(b, L4)).toBe(80);
    expect(tcpSeq(b, L4)).toBe(0x24bbcc2c);
    expect(tcpAckSeq(b, L4)).toBe(0);
    expect(tcpDoffBytes(b, L4)).toBe(40);
    expect(tcpFlags(b, L4)).toBe(TCP_SYN);
    expect(tcpWindow(b, L4)).toBe(64240);
    expect(tcpCheck(b, L4)).toBe(0x4dbf);
    expect(tcpUrgPtr(b, L4)).toBe(0);
    expect(csumVerify(b, L4, segLen(b), csumPseudoHeader(IP_A, IP_B, IPPROTO_TCP, segLen(b)))).toBe(true);

    expect(parse(b, L4 + TCP_HLEN, tcpDoffBytes(b, L4) - TCP_HLEN)).toBe(true);
    expect(opts.mss).toBe(1460);
    expect(opts.sackPermitted).toBe(true);
    expect(opts.hasTimestamp).toBe(true);
    expect(opts.tsVal).toBe(0x62e9ca24);
    expect(opts.tsEcr).toBe(0);
    expect(opts.wscale).toBe(10);
    expect(opts.sackCount).toBe(0);
  });

  it("parses the SYN-ACK (unsigned seq/ack above 2^31) and the PSH segment's options", () => {
    const b = TCP_SYN_ACK_FRAME;
    expect(tcpSeq(b, L4)).toBe(0xf789d86e);
    expect(tcpAckSeq(b, L4)).toBe(0x24bbcc2d);
    expect(tcpFlags(b, L4)).toBe(TCP_SYN | TCP_ACK);
    expect(csumVerify(b, L4, segLen(b), csumPseudoHeader(IP_B, IP_A, IPPROTO_TCP, segLen(b)))).toBe(true);
    expect(parse(b, L4 + TCP_HLEN, 20)).toBe(true);
    expect([opts.mss, opts.wscale, opts.tsVal, opts.tsEcr]).toEqual([1460, 10, 0xa357c742, 0x62e9ca24]);

    const p = TCP_PSH_ACK_FRAME;
    expect(tcpFlags(p, L4)).toBe(TCP_PSH | TCP_ACK);
    expect(tcpDoffBytes(p, L4)).toBe(32);
    expect(segLen(p)).toBe(35); // odd: 32 header + "hi\n"
    expect(csumVerify(p, L4, 35, csumPseudoHeader(IP_A, IP_B, IPPROTO_TCP, 35))).toBe(true);
    expect(parse(p, L4 + TCP_HLEN, 12)).toBe(true);
    expect([opts.mss, opts.wscale, opts.sackPermitted, opts.hasTimestamp]).toEqual([0, -1, false, true]);
    expect([opts.tsVal, opts.tsEcr]).toEqual([0x62e9ca24, 0xa357c742]);
  });

  it("builds the captured SYN byte for byte over 0xa5 (Linux option layout)", () => {
    const len = 40;
    const buf = poisoned(2 + len + 2);
    tcpBuildHeader(buf, 2, 54706, 80, 0x24bbcc2c, 0, len, TCP_SYN, 64240);
    let o = 2 + TCP_HLEN;
    o += tcpWriteOptMss(buf, o, 1460);
    tcpWriteOptTimestamp(buf, o, 0x62e9ca24, 0);
    tcpOptSackPermInTimestamp(buf, o);
    o += 12;
    o += tcpWriteOptWscale(buf, o, 10);
    expect(o).toBe(2 + len);
    expect(tcpCheck(buf, 2)).toBe(0);
    setTcpCheck(buf, 2, csumFold(csumPartial(buf, 2, len, csumPseudoHeader(IP_A, IP_B, IPPROTO_TCP, len))));
    expect(buf.subarray(2, 2 + len)).toEqual(TCP_SYN_FRAME.subarray(L4));
    expect([buf[0], buf[1], buf[len + 2], buf[len + 3]]).toEqual([0xa5, 0xa5, 0xa5, 0xa5]);
  });

  it("builds the captured odd-length PSH segment byte for byte over 0xa5", () => {
    const len = 35;
    const buf = poisoned(len);
    buf.set(hex("68 69 0a"), 32);
    tcpBuildHeader(buf, 0, 54706, 80, 0x24bbcc2d, 0xf789d86f, 32, TCP_PSH | TCP_ACK, 63);
    expect(tcpWriteOptTimestamp(buf, TCP_HLEN, 0x62e9ca24, 0xa357c742)).toBe(12);
    setTcpCheck(buf, 0, csumFold(csumPartial(buf, 0, len, csumPseudoHeader(IP_A, IP_B, IPPROTO_TCP, len))));
    expect(buf).toEqual(TCP_PSH_ACK_FRAME.subarray(L4));
  });

  it("setters write each field; the data offset keeps the reserved nibble", () => {
    const buf = poisoned(TCP_HLEN);
    setTcpSport(buf, 0, 1);
    setTcpDport(buf, 0, 0xffff);
    setTcpSeq(buf, 0, 0xfffffffe);
    setTcpAckSeq(buf, 0, 0x80000000);
    setTcpDoffBytes(buf, 0, 60);
    setTcpFlags(buf, 0, TCP_RST | TCP_ACK);
    setTcpWindow(buf, 0, 0x1234);
    setTcpCheck(buf, 0, 0xbeef);
    setTcpUrgPtr(buf, 0, 7);
    expect(buf).toEqual(hex("00 01 ff ff ff ff ff fe 80 00 00 00 f5 14 12 34 be ef 00 07"));
    expect(tcpSeq(buf, 0)).toBe(0xfffffffe);
    expect(tcpAckSeq(buf, 0)).toBe(0x80000000);
    expect(tcpDoffBytes(buf, 0)).toBe(60);
    expect(buf[OFF_TCP_DOFF] & 0x0f).toBe(0x05);
    expect(tcpUrgPtr(buf, 0)).toBe(7);
    // tcpBuildHeader clears the reserved bits and the urgent pointer.
    tcpBuildHeader(buf, 0, 1, 2, 3, 4, 20, TCP_ACK, 5);
    expect(buf[OFF_TCP_DOFF]).toBe(0x50);
    expect([buf[OFF_TCP_URG], buf[OFF_TCP_URG + 1]]).toEqual([0, 0]);
  });
});

describe("tcpCheckLen (the one gate before the getters and options)", () => {
  const FRAMES = [TCP_SYN_FRAME, TCP_SYN_ACK_FRAME, TCP_PSH_ACK_FRAME];

  it("passes every captured segment", () => {
    for (const f of FRAMES) expect(tcpCheckLen(f, L4, segLen(f))).toBe(WIRE_OK);
  });

  it("calls a segment cut inside its 20 fixed bytes truncated, and cut inside its options beyond", () => {
    const b = TCP_SYN_FRAME; // 40-byte header: 20 option bytes
    for (let len = 0; len < TCP_HLEN; len++) expect(tcpCheckLen(b, L4, len), `len ${len}`).toBe(WIRE_TRUNCATED);
    for (let len = TCP_HLEN; len < 40; len++) expect(tcpCheckLen(b, L4, len), `len ${len}`).toBe(WIRE_HLEN_BEYOND);
    expect(tcpCheckLen(b, L4, 40)).toBe(WIRE_OK); // a SYN carries no data
  });

  it("rejects a data offset below 5 words, and one past the segment", () => {
    const b = TCP_PSH_ACK_FRAME.slice(L4); // 32-byte header, 3 data bytes
    for (let words = 0; words < 5; words++) {
      setTcpDoffBytes(b, 0, words * 4);
      expect(tcpCheckLen(b, 0, b.length), `doff ${words}`).toBe(WIRE_BAD_HLEN);
    }
    for (const words of [9, 15]) { // 36 and 60 bytes: past the 35-byte segment
      setTcpDoffBytes(b, 0, words * 4);
      expect(tcpCheckLen(b, 0, b.length), `doff ${words}`).toBe(WIRE_HLEN_BEYOND);
    }
    setTcpDoffBytes(b, 0, 32);
    expect(tcpCheckLen(b, 0, b.length)).toBe(WIRE_OK);
    expect(tcpCheckLen(b, 0, 32)).toBe(WIRE_OK); // the header alone, no data
  });

  it("keeps every getter and the option list inside what it passed (random headers)", () => {
    const next = xorshift32(9293);
    const o = new TcpOptions();
    let passed = 0;
    for (let round = 0; round < 3000; round++) {
      const len = next() % 72;
      const bytes = new Uint8Array(len);
      for (let i = 0; i < len; i++) bytes[i] = next();
      const { buf, maxRead } = readTracker(bytes);
      if (tcpCheckLen(buf, 0, len) !== WIRE_OK) continue;
      passed++;
      const doff = tcpDoffBytes(buf, 0);
      tcpSport(buf, 0); tcpDport(buf, 0); tcpSeq(buf, 0); tcpAckSeq(buf, 0); tcpFlags(buf, 0); tcpWindow(buf, 0);
      tcpCheck(buf, 0); tcpUrgPtr(buf, 0);
      tcpParseOptions(buf, TCP_HLEN, doff - TCP_HLEN, o);
      expect(maxRead()).toBeLessThan(len);
    }
    expect(passed).toBeGreaterThan(100);
  });
});

describe("tcpParseOptions", () => {
  it("accepts an empty list and resets what the previous segment left", () => {
    expect(parse(TCP_SYN_FRAME, L4 + TCP_HLEN, 20)).toBe(true);
    expect(parse(hex(""))).toBe(true);
    expectDefaults(opts);
    expect(parse(hex("01 01 01 01"))).toBe(true);
    expectDefaults(opts);
  });

  it("stops at EOL and ignores what follows it", () => {
    expect(parse(hex("02 04 05 b4 00 03 03 07"))).toBe(true);
    expect([opts.mss, opts.wscale]).toEqual([1460, -1]);
    expect(parse(hex("00 02 00"))).toBe(true); // an EOL first: the bytes after are padding
    expectDefaults(opts);
  });

  it("reports lengths 0 and 1 as malformed without looping", () => {
    expect(parse(hex("02 04 05 b4 08 00 00 00"))).toBe(false);
    expect(opts.mss).toBe(1460); // kept what came before
    expect(parse(hex("08 01 00 00"))).toBe(false);
    expect(parse(hex("fe 00"))).toBe(false);
    expect(parse(hex("fe 01 01 01"))).toBe(false);
  });

  it("reports a missing length byte or an option running past the end", () => {
    expect(parse(hex("01 01 01 02"))).toBe(false); // kind as the last byte
    expect(parse(hex("02 04 05"))).toBe(false);
    expect(opts.mss).toBe(0);
    expect(parse(hex("08 0a 00 00 00 01 00 00 00"))).toBe(false);
    expect(opts.hasTimestamp).toBe(false);
    expect(parse(hex("1e 08 00 00"))).toBe(false); // unknown kind, too long
    // The bytes past len are valid but must not be read.
    const buf = hex("02 04 05 b4 01 01 01 01");
    expect(tcpParseOptions(buf, 0, 3, opts)).toBe(false);
    expect(opts.mss).toBe(0);
    expect(tcpParseOptions(buf, 0, 4, opts)).toBe(true);
    expect(opts.mss).toBe(1460);
  });

  it("ignores known options with the wrong length and keeps parsing", () => {
    expect(parse(hex("02 03 05 03 03 07"))).toBe(true); // MSS with length 3, then WS 7
    expect([opts.mss, opts.wscale]).toEqual([0, 7]);
    expect(parse(hex("02 05 05 b4 00 01 01 01"))).toBe(true); // MSS length 5
    expect(opts.mss).toBe(0);
    expect(parse(hex("03 04 07 00 04 02"))).toBe(true); // WS length 4, then SACK_PERM
    expect([opts.wscale, opts.sackPermitted]).toEqual([-1, true]);
    expect(parse(hex("04 03 00 02 04 02 10"))).toBe(true); // SACK_PERM length 3, MSS length 4
    expect([opts.sackPermitted, opts.mss]).toEqual([false, 0x0210]);
    expect(parse(hex("08 08 00 00 00 01 00 00 01 01"))).toBe(true); // TS length 8
    expect(opts.hasTimestamp).toBe(false);
  });

  it("clamps a window scale over 14 to 14 (RFC 7323 2.3)", () => {
    for (const [shift, expected] of [[0, 0], [14, 14], [15, 14], [255, 14]]) {
      expect(parse(hex(`01 03 03 ${shift.toString(16).padStart(2, "0")}`))).toBe(true);
      expect(opts.wscale, `shift ${shift}`).toBe(expected);
    }
  });

  it("reads 1 to 4 SACK blocks and ignores 5 blocks or a length not 2 + 8n", () => {
    const blocks = new Uint32Array([0x10, 0x20, 0xfffffff0, 0x10, 0x80000000, 0x80000100, 1, 2, 3, 4]);
    for (let n = 1; n <= 5; n++) {
      const buf = new Uint8Array(4 + 8 * n);
      buf[0] = TCPOPT_NOP;
      buf[1] = TCPOPT_NOP;
      buf[2] = TCPOPT_SACK;
      buf[3] = 2 + 8 * n;
      for (let i = 0; i < 2 * n; i++) {
        const v = blocks[i];
        buf.set([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff], 4 + 4 * i);
      }
      expect(parse(buf), `${n} blocks`).toBe(true);
      expect(opts.sackCount).toBe(n <= 4 ? n : 0);
      expect(Array.from(opts.sackBlocks.subarray(0, 2 * opts.sackCount))).toEqual(Array.from(blocks.subarray(0, 2 * opts.sackCount)));
    }
    expect(parse(hex("05 02 01 01"))).toBe(true); // no blocks
    expect(opts.sackCount).toBe(0);
    expect(parse(hex("05 0b 00 00 00 01 00 00 00 02 00"))).toBe(true); // 2 + 9
    expect(opts.sackCount).toBe(0);
    expect(parse(hex("05 12 00 00 00 01 00 00 00 02 00 00 00 03"))).toBe(false); // claims 2 blocks, holds 1.5
    expect(opts.sackCount).toBe(0);
  });

  it("skips unknown kinds by their length", () => {
    // MPTCP (30) and TCP-AO (29) style options around a timestamp.
    expect(parse(hex("1e 04 00 00 08 0a 00 00 00 07 00 00 00 09 1d 02"))).toBe(true);
    expect([opts.hasTimestamp, opts.tsVal, opts.tsEcr]).toEqual([true, 7, 9]);
  });

  it("takes the last of duplicated options", () => {
    expect(parse(hex("02 04 05 b4 02 04 02 18"))).toBe(true);
    expect(opts.mss).toBe(536);
  });

  it("never reads outside [off, off + len) for any kind and length byte", () => {
    // A view that throws on any index read outside the region, so an
    // out-of-range read cannot hide behind JS returning undefined.
    const raw = new Uint8Array(8).fill(0xa5);
    const off = 2;
    const len = 4;
    raw[off + 2] = TCPOPT_NOP; // what a 2- or 3-byte option leaves is padding
    raw[off + 3] = TCPOPT_NOP;
    const guarded = new Proxy(raw, {
      get(target, key) {
        if (typeof key === "string" && /^[0-9]+$/.test(key)) {
          const i = Number(key);
          if (i < off || i >= off + len) throw new Error(`read at ${i}`);
          return target[i];
        }
        return Reflect.get(target, key);
      },
    }) as Uint8Array;
    for (let kind = 0; kind < 256; kind++) {
      for (let optLen = 0; optLen < 256; optLen++) {
        raw[off] = kind;
        raw[off + 1] = optLen;
        const ok = tcpParseOptions(guarded, off, len, opts);
        if (kind > 1) expect(ok, `kind ${kind} len ${optLen}`).toBe(optLen >= 2 && optLen <= len);
      }
    }
  });
});

describe("TCP option writers", () => {
  it("write the documented bytes and lengths", () => {
    const buf = poisoned(16);
    expect(tcpWriteOptMss(buf, 1, 1460)).toBe(4);
    expect(buf.subarray(0, 6)).toEqual(hex("a5 02 04 05 b4 a5"));
    expect(tcpWriteOptWscale(buf, 1, 7)).toBe(4);
    expect(buf.subarray(0, 6)).toEqual(hex("a5 01 03 03 07 a5"));
    expect(tcpWriteOptSackPerm(buf, 1)).toBe(4);
    expect(buf.subarray(0, 6)).toEqual(hex("a5 01 01 04 02 a5"));
    expect(tcpWriteOptTimestamp(buf, 1, 0xdeadbeef, 1)).toBe(12);
    expect(buf.subarray(0, 14)).toEqual(hex("a5 01 01 08 0a de ad be ef 00 00 00 01 a5"));
    expect(tcpWriteOptTimestamp(buf, 1, 2, 0xffffffff)).toBe(12);
    tcpOptSackPermInTimestamp(buf, 1);
    expect(buf.subarray(0, 14)).toEqual(hex("a5 04 02 08 0a 00 00 00 02 ff ff ff ff a5"));
    expect([TCPOPT_EOL, TCPOPT_NOP, TCPOPT_MSS, TCPOPT_WINDOW, TCPOPT_SACK_PERM, TCPOPT_SACK, TCPOPT_TIMESTAMP])
      .toEqual([0, 1, 2, 3, 4, 5, 8]);
  });

  it("write SACK blocks, clamp the count to 4, and write nothing for 0", () => {
    const blocks = new Uint32Array([1, 2, 0xfffffffe, 0xffffffff, 5, 6, 7, 8]);
    const buf = poisoned(48);
    expect(tcpWriteOptSack(buf, 0, blocks, 0)).toBe(0);
    expect(buf[0]).toBe(0xa5);
    expect(tcpWriteOptSack(buf, 0, blocks, 2)).toBe(20);
    expect(buf.subarray(0, 21)).toEqual(hex("01 01 05 12 00 00 00 01 00 00 00 02 ff ff ff fe ff ff ff ff a5"));
    expect(tcpWriteOptSack(buf, 0, blocks, 9)).toBe(36);
    expect(buf[36]).toBe(0xa5);
    expect(parse(buf, 0, 36)).toBe(true);
    expect(opts.sackCount).toBe(4);
    expect(Array.from(opts.sackBlocks)).toEqual(Array.from(blocks));
  });

  it("round-trip a full 40-byte option block through the parser", () => {
    const buf = new Uint8Array(TCP_HLEN_MAX);
    let o = TCP_HLEN;
    o += tcpWriteOptMss(buf, o, 1400);
    o += tcpWriteOptWscale(buf, o, 14);
    o += tcpWriteOptSackPerm(buf, o);
    o += tcpWriteOptTimestamp(buf, o, 123456789, 987654321);
    o += tcpWriteOptSack(buf, o, new Uint32Array([100, 200]), 1);
    expect(o).toBe(TCP_HLEN + 36);
    expect(parse(buf, TCP_HLEN, o - TCP_HLEN)).toBe(true);
    expect([opts.mss, opts.wscale, opts.sackPermitted, opts.hasTimestamp, opts.tsVal, opts.tsEcr, opts.sackCount])
      .toEqual([1400, 14, true, true, 123456789, 987654321, 1]);
    expect([opts.sackBlocks[0], opts.sackBlocks[1]]).toEqual([100, 200]);
  });
});
