import { describe, expect, it } from "vitest";
import {
  CHECKSUM_NONE, CHECKSUM_UNNECESSARY, PACKET_BROADCAST, PACKET_HOST, SkbPool, SkbQueue, skbChecksum, skbCopyBits,
  skbStoreBits, type SkBuff,
} from "../../src/core/skb";
import { csumPartial, csumReduce } from "../../src/wire/checksum";
import { makeNet } from "../helpers";
import { patternBytes } from "../packets";

/** 4 slots, 6 records, headroom 16, 100 data bytes, tailroom 4, 2 cb words. */
function smallPool(): SkbPool {
  return new SkbPool(4, 6, 16, 100, 4, 2);
}

function fill(pool: SkbPool, skb: SkBuff, bytes: Uint8Array): void {
  const at = skb.put(bytes.length);
  pool.buf.set(bytes, at);
}

describe("SkbPool", () => {
  it("lays slots out as 8-byte-aligned regions of one buffer", () => {
    const pool = smallPool();
    expect(pool.slotBytes).toBe(120); // 16 + 100 + 4 = 120, already a multiple of 8
    expect(new SkbPool(2, 2, 10, 101, 0, 1).slotBytes).toBe(112); // 111 rounded up
    expect(pool.buf.length).toBe(4 * 120);
    expect(pool.records.length).toBe(6);
    expect(pool.stats()).toEqual({
      slots: 4, slotBytes: 120, inUse: 0, highWater: 0, allocFailures: 0, recordsInUse: 0, recordFailures: 0,
    });
  });

  it("alloc gives an empty skb with the headroom reserved and clean metadata", () => {
    const pool = smallPool();
    const a = pool.alloc() as SkBuff;
    expect(a.slot).toBe(0);
    expect(a.head).toBe(0);
    expect(a.data).toBe(16);
    expect(a.tail).toBe(16);
    expect(a.end).toBe(120);
    expect([a.len, a.headroom(), a.tailroom()]).toEqual([0, 16, 104]);
    expect([a.macHeader, a.networkHeader, a.transportHeader]).toEqual([16, 16, 16]);
    // Dirty every field, free, and the next alloc of the same record is clean again.
    a.protocol = 0x800;
    a.priority = 7;
    a.mark = 9;
    a.ipSummed = CHECKSUM_UNNECESSARY;
    a.pktType = PACKET_BROADCAST;
    a.put(10);
    pool.free(a);
    const b = pool.alloc() as SkBuff;
    expect(b).toBe(a); // LIFO: the record just freed comes back first
    expect(b.slot).toBe(0);
    expect([b.protocol, b.priority, b.mark, b.ipSummed, b.pktType, b.len]).toEqual([0, 0, 0, CHECKSUM_NONE, PACKET_HOST, 0]);
    expect(b.dev).toBeNull();
    expect(b.next).toBeNull();
    expect(b.fragNext).toBeNull();
    pool.free(b);
  });

  it("hands out distinct slots, counts exhaustion, and tracks the high-water mark", () => {
    const pool = smallPool();
    const skbs: SkBuff[] = [];
    for (let i = 0; i < 4; i++) skbs.push(pool.alloc() as SkBuff);
    expect(new Set(skbs.map((s) => s.slot)).size).toBe(4);
    expect(skbs.map((s) => s.head)).toEqual([0, 120, 240, 360]);
    expect(pool.alloc()).toBeNull();
    expect(pool.alloc()).toBeNull();
    expect(pool.stats()).toMatchObject({ inUse: 4, highWater: 4, allocFailures: 2, recordsInUse: 4 });
    expect(pool.available).toBe(0);
    pool.free(skbs[2]);
    expect(pool.available).toBe(1);
    const again = pool.alloc() as SkBuff;
    expect(again.slot).toBe(2); // the freed slot is the one reused
    for (const s of [skbs[0], skbs[1], again, skbs[3]]) pool.free(s);
    expect(pool.stats()).toMatchObject({ inUse: 0, highWater: 4, recordsInUse: 0 });
  });

  it("fails alloc when records run out even with slots free", () => {
    const pool = new SkbPool(4, 4, 16, 100, 4, 2);
    const a = pool.alloc() as SkBuff;
    const clones = [pool.clone(a), pool.clone(a), pool.clone(a)] as SkBuff[];
    expect(pool.inUse).toBe(1);
    expect(pool.recordsInUse).toBe(4);
    expect(pool.alloc()).toBeNull();
    expect(pool.allocFailures).toBe(1);
    expect(pool.clone(a)).toBeNull();
    expect(pool.recordFailures).toBe(1);
    for (const c of clones) pool.free(c);
    pool.free(a);
    expect(pool.recordsInUse).toBe(0);
  });

  it("clone shares the bytes and metadata; the slot is freed with its last record", () => {
    const pool = smallPool();
    const a = pool.alloc() as SkBuff;
    fill(pool, a, new Uint8Array([1, 2, 3, 4, 5]));
    a.pull(1);
    a.protocol = 0x806;
    a.priority = 6;
    a.mark = 0xabc;
    a.pktType = PACKET_BROADCAST;
    a.cb[0] = 0xdeadbeef;
    a.cb[1] = 7;
    expect(pool.isCloned(a)).toBe(false);
    const c = pool.clone(a) as SkBuff;
    expect(c).not.toBe(a);
    expect([c.slot, c.head, c.data, c.tail, c.end]).toEqual([a.slot, a.head, a.data, a.tail, a.end]);
    expect([c.protocol, c.priority, c.mark, c.pktType]).toEqual([0x806, 6, 0xabc, PACKET_BROADCAST]);
    expect(Array.from(c.cb)).toEqual([0xdeadbeef, 7]);
    expect(pool.isCloned(a)).toBe(true);
    expect(pool.isCloned(c)).toBe(true);
    // Offsets are per record: pulling the clone leaves the original alone.
    c.pull(2);
    expect([a.len, c.len]).toEqual([4, 2]);
    expect(pool.inUse).toBe(1);
    expect(pool.recordsInUse).toBe(2);
    pool.free(a);
    expect(pool.inUse).toBe(1); // the clone still holds the slot
    expect(pool.isCloned(c)).toBe(false);
    expect(pool.buf[c.data]).toBe(4);
    pool.free(c);
    expect(pool.inUse).toBe(0);
    expect(pool.recordsInUse).toBe(0);
  });

  it("free releases a whole frag_list and refuses a double free", () => {
    const pool = smallPool();
    const a = pool.alloc() as SkBuff;
    const b = pool.alloc() as SkBuff;
    const c = pool.alloc() as SkBuff;
    a.fragNext = b;
    b.fragNext = c;
    pool.free(a);
    expect(pool.inUse).toBe(0);
    expect(pool.recordsInUse).toBe(0);
    expect([a.slot, b.slot, c.slot]).toEqual([-1, -1, -1]);
    expect(b.fragNext).toBeNull();
    expect(() => pool.free(b)).toThrow(/freed twice/);
  });
});

describe("SkBuff offsets", () => {
  it("reserve, push, pull, put and trim move data and tail", () => {
    const pool = smallPool();
    const s = pool.alloc() as SkBuff;
    s.reserve(10);
    expect([s.data, s.tail, s.headroom()]).toEqual([26, 26, 26]);
    expect(s.put(20)).toBe(26);
    expect([s.len, s.tailroom()]).toEqual([20, 74]);
    expect(s.push(14)).toBe(12);
    expect(s.len).toBe(34);
    expect(s.pull(14)).toBe(26);
    expect(s.len).toBe(20);
    s.trim(30); // longer than the data: no change
    expect(s.len).toBe(20);
    s.trim(8);
    expect([s.len, s.tail]).toEqual([8, 34]);
    pool.free(s);
  });

  it("checked forms throw a RangeError past either end", () => {
    const pool = smallPool();
    const s = pool.alloc() as SkBuff;
    expect(() => s.push(17)).toThrow(RangeError);
    expect(s.push(16)).toBe(0);
    expect(() => s.pull(17)).toThrow(RangeError);
    s.pull(16);
    expect(() => s.put(105)).toThrow(RangeError);
    s.put(104);
    expect(s.tailroom()).toBe(0);
    expect(() => s.reserve(1)).toThrow(RangeError); // not empty
    pool.free(s);
    const e = pool.alloc() as SkBuff;
    expect(() => e.reserve(105)).toThrow(RangeError); // past the end
    pool.free(e);
  });

  it("chainLen counts the frag_list from data on", () => {
    const pool = smallPool();
    const a = pool.alloc() as SkBuff;
    const b = pool.alloc() as SkBuff;
    a.put(30);
    a.pull(10);
    b.put(7);
    a.fragNext = b;
    expect(a.chainLen()).toBe(27);
    expect(b.chainLen()).toBe(7);
    pool.free(a);
  });
});

describe("SkbQueue", () => {
  it("is a FIFO with head insertion, counting packets and bytes", () => {
    const pool = smallPool();
    const [a, b, c] = [pool.alloc(), pool.alloc(), pool.alloc()] as SkBuff[];
    a.put(1);
    b.put(2);
    c.put(4);
    const q = new SkbQueue();
    expect(q.dequeue()).toBeNull();
    q.enqueue(a);
    q.enqueue(b);
    q.enqueueHead(c);
    expect([q.qlen, q.bytes]).toEqual([3, 7]);
    expect(q.peek()).toBe(c);
    expect(q.dequeue()).toBe(c);
    expect(c.next).toBeNull();
    expect(q.dequeue()).toBe(a);
    expect(q.dequeue()).toBe(b);
    expect([q.qlen, q.bytes, q.head, q.tail]).toEqual([0, 0, null, null]);
    q.enqueueHead(a); // onto an empty queue: head and tail
    expect([q.head, q.tail]).toEqual([a, a]);
    q.enqueue(b);
    expect(q.dequeue()).toBe(a);
    expect(q.dequeue()).toBe(b);
    for (const s of [a, b, c]) pool.free(s);
  });
});

describe("chain copies and checksum", () => {
  // A chain of three pieces, 10, 6 and 9 bytes (even lengths but the last, as IP fragments).
  function chain(pool: SkbPool, bytes: Uint8Array): SkBuff {
    const sizes = [10, 6, 9];
    let head: SkBuff | null = null;
    let last: SkBuff | null = null;
    let at = 0;
    for (const n of sizes) {
      const s = pool.alloc() as SkBuff;
      fill(pool, s, bytes.subarray(at, at + n));
      at += n;
      if (last === null) head = s;
      else last.fragNext = s;
      last = s;
    }
    return head as SkBuff;
  }

  it("skbCopyBits reads across pieces from any offset", () => {
    const pool = smallPool();
    const data = patternBytes(25, 3);
    const head = chain(pool, data);
    for (const [off, len] of [[0, 25], [3, 9], [10, 6], [9, 8], [15, 10], [24, 1], [25, 0]]) {
      const out = new Uint8Array(len + 2).fill(0xa5);
      skbCopyBits(pool, head, off, out, 1, len);
      expect(Array.from(out.subarray(1, 1 + len)), `off ${off} len ${len}`).toEqual(Array.from(data.subarray(off, off + len)));
      expect([out[0], out[len + 1]]).toEqual([0xa5, 0xa5]);
    }
    expect(() => skbCopyBits(pool, head, 20, new Uint8Array(10), 0, 6)).toThrow(RangeError);
    pool.free(head);
  });

  it("skbStoreBits writes across pieces and nothing else", () => {
    const pool = smallPool();
    const data = patternBytes(25, 4);
    const head = chain(pool, data);
    const src = new Uint8Array([0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7]);
    skbStoreBits(pool, head, 8, src, 1, 7); // bytes 8..14 span pieces 0 and 1
    const expected = data.slice();
    expected.set(src.subarray(1, 8), 8);
    const out = new Uint8Array(25);
    skbCopyBits(pool, head, 0, out, 0, 25);
    expect(Array.from(out)).toEqual(Array.from(expected));
    expect(() => skbStoreBits(pool, head, 24, src, 0, 2)).toThrow(RangeError);
    pool.free(head);
  });

  it("skbChecksum over a chain equals the checksum of the flat bytes", () => {
    const pool = smallPool();
    const data = patternBytes(25, 5);
    const head = chain(pool, data);
    expect(csumReduce(skbChecksum(pool, head, 0))).toBe(csumReduce(csumPartial(data, 0, 25, 0)));
    expect(csumReduce(skbChecksum(pool, head, 0x1234))).toBe(csumReduce(csumPartial(data, 0, 25, 0x1234)));
    pool.free(head);
  });
});

describe("the stack's pool", () => {
  it("is sized by the configuration: slots of headroom + MTU + Ethernet header + tailroom", () => {
    // 66 bytes: the least headroom makeConfig takes with TCP timestamps on (Ethernet, IPv4, TCP headers and the option).
    const { net } = makeNet({ skbSlots: 10, skbRecords: 12, reasmSkbsMax: 4, skbHeadroomBytes: 66, mtuMaxBytes: 576, skbTailroomBytes: 8 });
    expect(net.pool.slotCount).toBe(10);
    expect(net.pool.records.length).toBe(12);
    expect(net.pool.slotBytes).toBe((66 + 576 + 14 + 8 + 7) & ~7);
    const s = net.pool.alloc() as SkBuff;
    expect(s.headroom()).toBe(66);
    expect(s.tailroom()).toBeGreaterThanOrEqual(576 + 14);
    net.pool.free(s);
  });
});
