// The out-of-order queue alone (src/tcp/ooo.ts), on a bare stack's pool: segments held in
// sequence order whatever order they come in, an exact duplicate refused, the limit
// (config.tcpOooMax) counted, what comes off in order trimmed of what is already had, the
// ranges SACK reports, and a purge that gives every skb back.
import { describe, expect, it } from "vitest";
import { SKB_DROP } from "../../src/core/drop";
import type { Net } from "../../src/core/net";
import { SkbQueue, type SkBuff } from "../../src/core/skb";
import { CB_END, CB_FLAGS, CB_SEQ, SEG_LAST_IN } from "../../src/tcp/tcb";
import { oooInsert, oooPullInOrder, oooPurge, oooRanges } from "../../src/tcp/ooo";
import { TCP_FIN } from "../../src/wire/tcp";
import { makeNet } from "../helpers";

/** The byte a stream carries at sequence number n. */
const byteAt = (n: number): number => (n * 7 + 3) & 0xff;

/** A received segment as dataRcv hands it over: [seq, seq + len), its bytes, its FIN. */
function seg(net: Net, seq: number, len: number, fin = false): SkBuff {
  const skb = net.pool.alloc() as SkBuff;
  const at = skb.put(len);
  for (let i = 0; i < len; i++) net.pool.buf[at + i] = byteAt(seq + i);
  skb.cb[CB_SEQ] = seq >>> 0;
  skb.cb[CB_END] = (seq + len) >>> 0;
  skb.cb[CB_FLAGS] = fin ? TCP_FIN : 0;
  return skb;
}

/** The ranges held, in queue order. */
function held(q: SkbQueue): [number, number][] {
  const out: [number, number][] = [];
  for (let s = q.head; s !== null; s = s.next) out.push([s.cb[CB_SEQ], s.cb[CB_END]]);
  return out;
}

function bytesOf(net: Net, skb: SkBuff): number[] {
  return Array.from(net.pool.buf.subarray(skb.data, skb.data + skb.len));
}

describe("TCP out-of-order queue (src/tcp/ooo.ts)", () => {
  it("holds segments in sequence order, in whatever order they come, and counts them", () => {
    const { net } = makeNet();
    const q = new SkbQueue();
    expect(oooInsert(net, q, seg(net, 3000, 100))).toBe(true);
    expect(oooInsert(net, q, seg(net, 1000, 100))).toBe(true);
    expect(oooInsert(net, q, seg(net, 2000, 100))).toBe(true);
    expect(oooInsert(net, q, seg(net, 4000, 50))).toBe(true);
    expect(held(q)).toEqual([[1000, 1100], [2000, 2100], [3000, 3100], [4000, 4050]]);
    expect([q.qlen, q.bytes, net.tcp.stats.ofoQueue]).toEqual([4, 350, 4]);
    // Only the segment received last carries SEG_LAST_IN (SACK reports its block first).
    const last = [];
    for (let s = q.head; s !== null; s = s.next) last.push((s.cb[CB_FLAGS] & SEG_LAST_IN) !== 0);
    expect(last).toEqual([false, false, false, true]);
    expect(q.tail?.cb[CB_SEQ]).toBe(4000);
    oooPurge(net, q, SKB_DROP.SOCKET_CLOSE);
  });

  it("refuses an exact duplicate (or a shorter one from the same number), keeps overlaps for later trimming", () => {
    const { net } = makeNet();
    const q = new SkbQueue();
    oooInsert(net, q, seg(net, 1000, 100));
    expect(oooInsert(net, q, seg(net, 1000, 100))).toBe(false);
    expect(oooInsert(net, q, seg(net, 1000, 60))).toBe(false);
    expect(net.drops.count("TCP_OFO_DROP")).toBe(2);
    expect(net.tcp.stats.ofoDrop).toBe(0); // TcpExt OFODrop counts a full queue only
    // Longer from the same number, or overlapping from elsewhere: held.
    expect(oooInsert(net, q, seg(net, 1000, 150))).toBe(true);
    expect(oooInsert(net, q, seg(net, 1050, 100))).toBe(true);
    expect(held(q)).toEqual([[1000, 1150], [1000, 1100], [1050, 1150]]);
    oooPurge(net, q, SKB_DROP.SOCKET_CLOSE);
  });

  it("stops at config.tcpOooMax: the segment past it is dropped and counted (OFODrop)", () => {
    const { net } = makeNet({ tcpOooMax: 3 });
    const q = new SkbQueue();
    for (let i = 0; i < 3; i++) expect(oooInsert(net, q, seg(net, 1000 + 200 * i, 100))).toBe(true);
    expect(oooInsert(net, q, seg(net, 900, 50))).toBe(false);
    expect(q.qlen).toBe(3);
    expect(net.tcp.stats.ofoDrop).toBe(1);
    expect(net.drops.count("TCP_OFO_DROP")).toBe(1);
    oooPurge(net, q, SKB_DROP.SOCKET_CLOSE);
  });

  it("gives what follows rcvNxt, trimmed to start there; what lies wholly below is consumed; a hole stops it", () => {
    const { net } = makeNet();
    const q = new SkbQueue();
    oooInsert(net, q, seg(net, 1000, 100));
    oooInsert(net, q, seg(net, 1020, 30)); // inside the first: brings nothing
    oooInsert(net, q, seg(net, 1050, 150)); // overlaps the first by 50
    oooInsert(net, q, seg(net, 1300, 100)); // past a hole
    expect(oooPullInOrder(net, q, 900)).toBeNull(); // the first starts above rcvNxt
    const a = oooPullInOrder(net, q, 1000) as SkBuff;
    expect([a.cb[CB_SEQ], a.len]).toEqual([1000, 100]);
    const consumed = net.drops.consumed;
    const b = oooPullInOrder(net, q, 1100) as SkBuff;
    expect(net.drops.consumed - consumed).toBe(1); // [1020, 1050) went on the way
    expect([b.cb[CB_SEQ], b.cb[CB_END], b.len]).toEqual([1100, 1200, 100]);
    expect(bytesOf(net, b)).toEqual(Array.from({ length: 100 }, (_, i) => byteAt(1100 + i)));
    expect(oooPullInOrder(net, q, 1200)).toBeNull();
    expect(held(q)).toEqual([[1300, 1400]]);
    expect(q.bytes).toBe(100);
    net.pool.free(a);
    net.pool.free(b);
    oooPurge(net, q, SKB_DROP.SOCKET_CLOSE);
  });

  it("drains into a receive queue as the holes fill: one stream, each byte once", () => {
    const { net } = makeNet();
    const q = new SkbQueue();
    const recv = new SkbQueue();
    // 10 segments of 100 bytes from 5000, arriving scrambled, some twice, some overlapping.
    for (const i of [3, 1, 7, 2, 9, 1, 5, 4, 8, 6]) oooInsert(net, q, seg(net, 5000 + 100 * i, 100));
    oooInsert(net, q, seg(net, 5150, 200));
    let rcvNxt = 5000;
    // The first segment came in order: the reader has it; then the queue drains.
    const first = seg(net, 5000, 100);
    recv.enqueue(first);
    rcvNxt += first.len;
    for (let s = oooPullInOrder(net, q, rcvNxt); s !== null; s = oooPullInOrder(net, q, rcvNxt)) {
      rcvNxt = s.cb[CB_END];
      recv.enqueue(s);
    }
    expect(rcvNxt).toBe(6000);
    expect(q.qlen).toBe(0);
    const stream: number[] = [];
    for (let s = recv.dequeue(); s !== null; s = recv.dequeue()) {
      stream.push(...bytesOf(net, s));
      net.pool.free(s);
    }
    expect(stream).toEqual(Array.from({ length: 1000 }, (_, i) => byteAt(5000 + i)));
  });

  it("gives a FIN at rcvNxt as an empty segment with its FIN; drops one that lies below rcvNxt", () => {
    const { net } = makeNet();
    const q = new SkbQueue();
    oooInsert(net, q, seg(net, 1000, 10, true));
    const fin = oooPullInOrder(net, q, 1010) as SkBuff;
    expect([fin.len, fin.cb[CB_SEQ], fin.cb[CB_FLAGS] & TCP_FIN]).toEqual([0, 1010, TCP_FIN]);
    net.pool.free(fin);
    // A FIN inside data already had (a peer that contradicts itself): nothing to give.
    oooInsert(net, q, seg(net, 1000, 10, true));
    expect(oooPullInOrder(net, q, 1100)).toBeNull();
    expect(q.qlen).toBe(0);
  });

  it("reports its ranges for SACK: merged, clipped at rcvNxt, the latest first, at most max", () => {
    const { net } = makeNet();
    const q = new SkbQueue();
    const out = new Uint32Array(8);
    oooInsert(net, q, seg(net, 2000, 100));
    oooInsert(net, q, seg(net, 2100, 100)); // adjacent: one block
    oooInsert(net, q, seg(net, 3000, 100));
    oooInsert(net, q, seg(net, 4000, 100));
    oooInsert(net, q, seg(net, 5000, 100));
    oooInsert(net, q, seg(net, 3050, 100)); // received last: its block goes first
    expect(oooRanges(q, 1000, out, 4)).toBe(4);
    expect(Array.from(out)).toEqual([3000, 3150, 2000, 2200, 4000, 4100, 5000, 5100]);
    expect(oooRanges(q, 1000, out, 3)).toBe(3);
    expect(Array.from(out.subarray(0, 6))).toEqual([3000, 3150, 2000, 2200, 4000, 4100]);
    expect(oooRanges(q, 2150, out, 4)).toBe(4);
    expect(Array.from(out.subarray(0, 2))).toEqual([3000, 3150]);
    expect(Array.from(out.subarray(2, 4))).toEqual([2150, 2200]);
    oooPurge(net, q, SKB_DROP.SOCKET_CLOSE);
  });

  it("purges: every skb back to the pool, each counted under the reason", () => {
    const { net } = makeNet();
    const q = new SkbQueue();
    const free = net.pool.available;
    for (let i = 0; i < 5; i++) oooInsert(net, q, seg(net, 1000 + 100 * i, 100));
    expect(net.pool.available).toBe(free - 5);
    oooPurge(net, q, SKB_DROP.SOCKET_CLOSE);
    expect(net.pool.available).toBe(free);
    expect([q.qlen, q.bytes, q.head, q.tail]).toEqual([0, 0, null, null]);
    expect(net.drops.count("SOCKET_CLOSE")).toBe(5);
  });
});
