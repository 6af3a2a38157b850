// A descriptor ring as a DMA MAC sees it: fixed typed arrays of buffer indices (skb ids),
// lengths and status words with an OWN bit. The driver hands a descriptor to the hardware
// by setting OWN; the hardware gives it back by clearing it. Both walk the ring in order.

import type { SkBuff, SkbPool } from "../src/core/skb";

/** the descriptor belongs to the hardware */
export const DESC_OWN = 0x8000;
/** receive: frame had a CRC/length error (hardware says drop) */
export const DESC_ERR = 0x4000;
/** receive: frame longer than the buffer (with DESC_ERR) */
export const DESC_LEN_ERR = 0x0800;
/** receive: the hardware verified the L4 checksum */
export const DESC_CSUM_OK = 0x2000;
/** transmit: the hardware should compute the L4 checksum */
export const DESC_CSUM_INSERT = 0x1000;

export class DescRing {
  readonly size: number;
  /** driver bookkeeping: skb record id behind each descriptor (-1: none) */
  readonly skbId: Int16Array;
  /** buffer address: byte offset in DMA memory (the skb pool) */
  readonly addr: Uint32Array;
  /** receive: buffer capacity; transmit: unused */
  readonly bufLen: Uint16Array;
  /** receive: frame length written by the hardware; transmit: frame length to send */
  readonly length: Uint16Array;
  readonly status: Uint16Array;
  /** next descriptor the CPU side (driver) looks at */
  cpuIndex = 0;
  /** next descriptor the hardware side looks at */
  hwIndex = 0;

  constructor(size: number) {
    this.size = size;
    this.skbId = new Int16Array(size).fill(-1);
    this.addr = new Uint32Array(size);
    this.bufLen = new Uint16Array(size);
    this.length = new Uint16Array(size);
    this.status = new Uint16Array(size);
  }

  next(i: number): number {
    return i + 1 === this.size ? 0 : i + 1;
  }

  ownedByHw(i: number): boolean {
    return (this.status[i] & DESC_OWN) !== 0;
  }

  /**
   * Give receive descriptor i a fresh buffer from the pool and hand it to the hardware;
   * false when the pool is empty (the descriptor is left without a buffer).
   */
  refill(i: number, pool: SkbPool): boolean {
    const skb = pool.alloc();
    if (skb === null) {
      this.skbId[i] = -1;
      this.status[i] = 0;
      return false;
    }
    this.skbId[i] = skb.id;
    this.addr[i] = skb.data;
    this.bufLen[i] = skb.tailroom();
    this.length[i] = 0;
    this.status[i] = DESC_OWN;
    return true;
  }

  /**
   * Take the frame the hardware wrote at receive descriptor i, putting a fresh buffer in
   * its place. Null when the pool is empty: the frame is dropped and its own buffer goes
   * back to the hardware (the caller counts the drop).
   */
  takeFrame(i: number, pool: SkbPool): SkBuff | null {
    const skb = pool.records[this.skbId[i]];
    const len = this.length[i];
    if (!this.refill(i, pool)) {
      this.skbId[i] = skb.id;
      this.length[i] = 0;
      this.status[i] = DESC_OWN;
      return null;
    }
    skb.tail = skb.data + len;
    return skb;
  }
}
