import { describe, expect, it } from "vitest";
import type { NetConfig } from "../../src/config";
import { Prng } from "../../host-sim/sim/prng";
import { advance } from "../helpers";
import { checksum, ipFrame, ipOf, ipv4Packet, patternBytes } from "../packets";
import { type Bench, HOST_IP, HOST_MAC, makeBench, PEER_IP, PEER_MAC, skbBytes } from "../testbed";

const PROTO = 99;

interface Got {
  bytes: Uint8Array;
  totLen: number;
  fragField: number;
  csumOk: boolean;
  pieces: number;
}

/** A bench that records every datagram of protocol 99 delivered (reassembled or not). */
function setup(config: Partial<NetConfig> = {}) {
  const b = makeBench(config);
  const got: Got[] = [];
  b.net.ipv4.raw.register(PROTO, (net, skb) => {
    const buf = net.pool.buf;
    const iph = skb.networkHeader;
    let pieces = 0;
    for (let s: typeof skb | null = skb; s !== null; s = s.fragNext) pieces++;
    got.push({
      bytes: skbBytes(net, skb),
      totLen: (buf[iph + 2] << 8) | buf[iph + 3],
      fragField: (buf[iph + 6] << 8) | buf[iph + 7],
      csumOk: checksum(buf, iph, 20) === 0,
      pieces,
    });
  });
  return { b, got };
}

/** One fragment of datagram `id`: payload bytes at byte offset `off`. */
function frag(id: number, off: number, data: Uint8Array, more: boolean, src = PEER_IP): Uint8Array {
  return ipFrame(HOST_MAC, PEER_MAC, { src, dst: HOST_IP, proto: PROTO, id, frag: (more ? 0x2000 : 0) | (off >> 3), payload: data });
}

/** All fragments of `payload`, `size` bytes each (a multiple of 8), in order. */
function fragments(payload: Uint8Array, size: number, id: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += size) {
    const end = Math.min(payload.length, off + size);
    out.push(frag(id, off, payload.subarray(off, end), end < payload.length));
  }
  return out;
}

function feed(b: Bench, frames: Uint8Array[]): void {
  for (const f of frames) b.drv.inject(f);
  b.run();
}

function shuffle<T>(items: T[], seed: number): T[] {
  const prng = new Prng(seed);
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = prng.nextInt(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function expectWhole(got: Got[], payload: Uint8Array): void {
  expect(got.length).toBe(1);
  expect(got[0].bytes).toEqual(payload);
  expect(got[0].totLen).toBe(20 + payload.length);
  expect(got[0].fragField).toBe(0);
  expect(got[0].csumOk).toBe(true);
}

describe("IPv4 reassembly (RFC 815)", () => {
  it("reassembles fragments in order to the exact bytes, as one chain", () => {
    const { b, got } = setup();
    const payload = patternBytes(1000, 1);
    feed(b, fragments(payload, 256, 0x100));
    expectWhole(got, payload);
    expect(got[0].pieces).toBe(4); // nothing copied: the fragments are linked
    const st = b.net.ipv4.stats;
    expect([st.reasmReqds, st.reasmOKs, st.reasmFails]).toEqual([4, 1, 0]);
    expect(b.net.ipv4.reasm.slotsInUse).toBe(0);
    expect(b.net.ipv4.reasm.held).toBe(0);
    expect(b.net.drops.total).toBe(0);
  });

  it("reassembles fragments that arrive in reverse", () => {
    const { b, got } = setup();
    const payload = patternBytes(1001, 2); // odd length: the last fragment is odd too
    feed(b, fragments(payload, 200, 0x101).reverse());
    expectWhole(got, payload);
  });

  it("reassembles shuffled fragments, for several seeds", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { b, got } = setup();
      const payload = patternBytes(5000, seed);
      feed(b, shuffle(fragments(payload, 400, 0x200 + seed), seed));
      expectWhole(got, payload);
      expect(b.net.ipv4.stats.reasmOKs, `seed ${seed}`).toBe(1);
    }
  });

  it("keeps datagrams with the same id from different sources apart", () => {
    const { b, got } = setup();
    const p1 = patternBytes(600, 11);
    const p2 = patternBytes(600, 12);
    const f1 = fragments(p1, 304, 7);
    const f2 = fragments(p2, 304, 7).map((f) => {
      const g = f.slice();
      g[14 + 15] = 3; // source 10.0.0.3
      const ip = ipOf(g);
      return ipFrame(HOST_MAC, PEER_MAC, { src: ip.src, dst: ip.dst, proto: PROTO, id: 7, frag: ip.frag, payload: ip.payload });
    });
    feed(b, [f1[0], f2[0], f2[1], f1[1]]);
    expect(got.map((g) => g.bytes)).toEqual([p2, p1]);
  });

  it("drops an exact duplicate alone (IP_FRAG_DUP); the datagram still completes", () => {
    const { b, got } = setup();
    const payload = patternBytes(1000, 3);
    const fs = fragments(payload, 256, 0x300);
    feed(b, [fs[0], fs[1], fs[1], fs[3], fs[3], fs[2]]);
    expectWhole(got, payload);
    expect(b.net.drops.snapshot()).toEqual({ IP_FRAG_DUP: 2 });
    expect(b.net.ipv4.stats.reasmFails).toBe(0);
  });

  it("a partial overlap kills the whole datagram (IP_FRAG_OVERLAP)", () => {
    const { b, got } = setup();
    const payload = patternBytes(1000, 4);
    feed(b, [frag(0x400, 0, payload.subarray(0, 256), true), frag(0x400, 512, payload.subarray(512, 768), true)]);
    feed(b, [frag(0x400, 128, payload.subarray(128, 384), true)]);
    expect(got).toEqual([]);
    expect(b.net.drops.snapshot()).toEqual({ IP_FRAG_OVERLAP: 3 }); // the two held and the new one
    const st = b.net.ipv4.stats;
    expect([st.reasmOverlaps, st.reasmFails]).toEqual([1, 1]);
    expect(b.net.ipv4.reasm.slotsInUse).toBe(0);
    expect(b.net.ipv4.reasm.held).toBe(0);
  });

  it("the same offset with another length is an overlap, not a duplicate", () => {
    const { b } = setup();
    const payload = patternBytes(1000, 5);
    feed(b, [frag(0x401, 0, payload.subarray(0, 256), true), frag(0x401, 0, payload.subarray(0, 128), true)]);
    expect(b.net.drops.snapshot()).toEqual({ IP_FRAG_OVERLAP: 2 });
    expect(b.net.ipv4.stats.reasmOverlaps).toBe(1);
  });

  it("drops a fragment that would make the datagram longer than 65535 bytes (IP_FRAG_TOO_BIG)", () => {
    const { b } = setup();
    // Offset 65528 + 16 bytes + a 20-byte header: the ping of death.
    feed(b, [frag(0x500, 0, new Uint8Array(256), true), frag(0x500, 65528, new Uint8Array(16), false)]);
    expect(b.net.drops.snapshot()).toEqual({ IP_FRAG_TOO_BIG: 2 }); // the held fragment went too
    expect(b.net.ipv4.reasm.slotsInUse).toBe(0);
    expect(b.net.ipv4.stats.reasmFails).toBe(1);
    // Exactly 65535 with the header is allowed: the fragment is held.
    feed(b, [frag(0x501, 65512, new Uint8Array(3), false)]);
    expect(b.net.drops.count("IP_FRAG_TOO_BIG")).toBe(2);
    expect(b.net.ipv4.reasm.held).toBe(1);
  });

  it("drops a fragment with MF set whose length is not a multiple of 8, or an empty one (IP_FRAG_INVALID)", () => {
    const { b } = setup();
    feed(b, [frag(0x600, 0, new Uint8Array(100), true)]);
    feed(b, [frag(0x601, 8, new Uint8Array(0), false)]);
    expect(b.net.drops.snapshot()).toEqual({ IP_FRAG_INVALID: 2 });
    expect(b.net.ipv4.stats.reasmFails).toBe(2);
    expect(b.net.ipv4.reasm.slotsInUse).toBe(0);
  });

  it("drops data past the end the last fragment set, and a second different end (IP_FRAG_INVALID)", () => {
    const { b } = setup();
    feed(b, [frag(0x700, 0, new Uint8Array(16), true), frag(0x700, 32, new Uint8Array(8), false)]);
    feed(b, [frag(0x700, 40, new Uint8Array(8), true)]); // beyond the end: the datagram goes
    expect(b.net.drops.snapshot()).toEqual({ IP_FRAG_INVALID: 3 });
    feed(b, [frag(0x701, 0, new Uint8Array(16), true), frag(0x701, 32, new Uint8Array(8), false)]);
    feed(b, [frag(0x701, 16, new Uint8Array(8), false)]); // a second, different last fragment
    expect(b.net.drops.count("IP_FRAG_INVALID")).toBe(6);
    expect(b.net.ipv4.reasm.slotsInUse).toBe(0);
  });

  it("times out after 30 s: frees all (IP_FRAG_TIMEOUT) and sends time exceeded (code 1) quoting the first fragment", () => {
    const { b, got } = setup();
    const payload = patternBytes(1000, 6);
    const fs = fragments(payload, 256, 0x800);
    feed(b, [fs[0], fs[2]]);
    expect(b.net.ipv4.reasm.held).toBe(2);
    advance(b.net, b.platform, 29_999, 100);
    expect(b.net.ipv4.reasm.held).toBe(2);
    expect(b.take()).toEqual([]);
    advance(b.net, b.platform, 1);
    expect(got).toEqual([]);
    expect(b.net.drops.snapshot()).toEqual({ IP_FRAG_TIMEOUT: 2 });
    const st = b.net.ipv4.stats;
    expect([st.reasmTimeout, st.reasmFails]).toEqual([1, 1]);
    expect(b.net.ipv4.reasm.slotsInUse).toBe(0);
    const out = b.take();
    expect(out.length).toBe(1);
    expect(out[0].subarray(0, 6)).toEqual(PEER_MAC);
    const r = ipOf(out[0]);
    expect([r.src, r.dst, r.proto]).toEqual([HOST_IP, PEER_IP, 1]);
    expect([r.payload[0], r.payload[1]]).toEqual([11, 1]);
    expect(checksum(r.payload)).toBe(0);
    // The quote is the first fragment as it came: its header (MF set) and its data.
    expect(r.payload.subarray(8)).toEqual(ipv4Packet({
      src: PEER_IP, dst: HOST_IP, proto: PROTO, id: 0x800, frag: 0x2000, payload: payload.subarray(0, 256),
    }));
    expect(b.net.ipv4.icmp.stats.outTimeExcds).toBe(1);
  });

  it("times out silently when the first fragment never came", () => {
    const { b } = setup();
    const payload = patternBytes(1000, 7);
    const fs = fragments(payload, 256, 0x801);
    feed(b, [fs[1], fs[3]]);
    advance(b.net, b.platform, 30_000, 100);
    expect(b.net.drops.snapshot()).toEqual({ IP_FRAG_TIMEOUT: 2 });
    expect(b.net.ipv4.stats.reasmTimeout).toBe(1);
    expect(b.take()).toEqual([]);
    expect(b.net.ipv4.icmp.stats.outMsgs).toBe(0);
  });

  it("with every slot taken, a new datagram evicts the oldest (IP_FRAG_NOMEM)", () => {
    const { b, got } = setup({ reasmSlots: 2 });
    const p = [1, 2, 3].map((i) => patternBytes(512, 20 + i));
    const f = p.map((payload, i) => fragments(payload, 256, 0x900 + i));
    feed(b, [f[0][0]]);
    advance(b.net, b.platform, 10);
    feed(b, [f[1][0]]);
    advance(b.net, b.platform, 10);
    feed(b, [f[2][0]]); // no free slot: datagram 0 (the oldest) goes
    expect(b.net.drops.snapshot()).toEqual({ IP_FRAG_NOMEM: 1 });
    expect(b.net.ipv4.stats.reasmFails).toBe(1);
    expect(b.net.ipv4.reasm.slotsInUse).toBe(2);
    feed(b, [f[1][1], f[2][1]]);
    expect(got.map((g) => g.bytes)).toEqual([p[1], p[2]]);
    expect(b.net.ipv4.reasm.slotsInUse).toBe(0);
  });

  it("over reasmSkbsMax, older datagrams are given up first; one alone over the bound goes (IP_FRAG_NOMEM)", () => {
    const { b, got } = setup({ reasmSkbsMax: 3 });
    const pa = patternBytes(800, 30);
    const pb = patternBytes(512, 31);
    const fa = fragments(pa, 160, 0xa00); // 5 fragments
    const fb = fragments(pb, 256, 0xa01); // 2 fragments
    feed(b, [fa[0], fa[1]]);
    advance(b.net, b.platform, 10);
    feed(b, [fb[0]]);
    expect(b.net.ipv4.reasm.held).toBe(3);
    feed(b, [fb[1]]); // needs room: datagram a, the older, is given up
    expect(b.net.drops.snapshot()).toEqual({ IP_FRAG_NOMEM: 2 });
    expect(got.map((g) => g.bytes)).toEqual([pb]);
    // Datagram a alone: three held, the fourth cannot be, so a goes entirely.
    feed(b, [fa[0], fa[1], fa[2], fa[3]]);
    expect(b.net.drops.count("IP_FRAG_NOMEM")).toBe(2 + 4);
    expect(b.net.ipv4.reasm.held).toBe(0);
    expect(b.net.ipv4.reasm.slotsInUse).toBe(0);
    expect(b.net.ipv4.stats.reasmFails).toBe(2);
  });

  it("gives up older datagrams when the pool runs low, so receive buffers remain", () => {
    // 12 slots, a reserve of 2 kept free for the receive path.
    const { b, got } = setup({ skbSlots: 12, skbRecords: 16, reasmSkbsMax: 11 });
    const pa = patternBytes(8 * 64, 40);
    const pb = patternBytes(5 * 64, 41);
    const fa = fragments(pa, 64, 0xc00); // 8 fragments: 7 held, the last never comes
    const fb = fragments(pb, 64, 0xc01); // 5 fragments
    for (const f of fa.slice(0, 7)) b.rx(f);
    advance(b.net, b.platform, 10);
    for (const f of fb.slice(0, 3)) b.rx(f);
    expect(b.net.ipv4.reasm.held).toBe(10);
    expect(b.net.drops.total).toBe(0);
    b.rx(fb[3]); // one slot left besides this one: below the reserve, the older datagram goes
    expect(b.net.drops.snapshot()).toEqual({ IP_FRAG_NOMEM: 7 });
    expect(b.net.ipv4.reasm.held).toBe(4);
    b.rx(fb[4]);
    expect(got.map((g) => g.bytes)).toEqual([pb]);
    expect(b.net.pool.inUse).toBe(0);
  });

  it("shutdown frees what reassembly holds", () => {
    const { b } = setup();
    feed(b, [frag(0xb00, 0, new Uint8Array(64), true)]);
    expect(b.net.pool.inUse).toBeGreaterThan(0);
    b.net.shutdown();
    expect(b.net.drops.count("SHUTDOWN")).toBe(1);
    expect(b.net.pool.inUse).toBe(0);
  });
});
