// sk_buff and the packet pool. One ArrayBuffer holds every data slot; an skb is offsets
// into it (head <= data <= tail <= end), so headers are read and written in place and a
// layer moves between headers with push/pull instead of copying. Records and slots are
// created once in the pool's constructor and recycled through free-list stacks.
// A clone is a second record on the same slot (Linux skb_clone): the slot is freed when
// its last record goes.

import type { NetDevice } from "./netdevice";
import { csumPartialView } from "../wire/checksum";
import { copyBytes, copyView } from "./bytes";

// skb->ip_summed
export const CHECKSUM_NONE = 0;
/** the hardware verified the L4 checksum (rx), or will compute it (tx) */
export const CHECKSUM_UNNECESSARY = 1;
export const CHECKSUM_PARTIAL = 3;

// skb->pkt_type, from the destination MAC (eth_type_trans)
export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;
export const PACKET_OUTGOING = 4;
export const PACKET_LOOPBACK = 5;

export class SkBuff {
  /** index of this record in the pool */
  readonly id: number;
  /** data slot this record points into, -1 when the record is free */
  slot = -1;
  // Absolute offsets into pool.buf.
  head = 0;
  data = 0;
  tail = 0;
  end = 0;
  macHeader = 0;
  networkHeader = 0;
  transportHeader = 0;
  /** ethertype (host order) */
  protocol = 0;
  dev: NetDevice | null = null;
  /** TC_PRIO_* band selector for the qdisc */
  priority = 0;
  mark = 0;
  ipSummed = CHECKSUM_NONE;
  pktType = PACKET_HOST;
  /** link in whatever single queue holds this skb (qdisc band, arp queue, rings' completion) */
  next: SkBuff | null = null;
  /** frag_list: the rest of one datagram (reassembled, or built to be fragmented) */
  fragNext: SkBuff | null = null;
  /** per-layer control block (Linux skb->cb); each layer owns it while it holds the skb */
  readonly cb: Uint32Array;

  constructor(id: number, cbWords: number) {
    this.id = id;
    this.cb = new Uint32Array(cbWords);
  }

  get len(): number {
    return this.tail - this.data;
  }

  headroom(): number {
    return this.data - this.head;
  }

  tailroom(): number {
    return this.end - this.tail;
  }

  /** skb_reserve: move an empty skb's data and tail forward to leave headroom. */
  reserve(n: number): void {
    if (this.tail !== this.data || this.data + n > this.end) throw new RangeError("skb reserve on a non-empty skb or past its end");
    this.data += n;
    this.tail += n;
  }

  /** skb_push: prepend n bytes; returns the new data offset. */
  push(n: number): number {
    if (this.data - n < this.head) throw new RangeError(`skb push of ${n} bytes: only ${this.data - this.head} of headroom`);
    this.data -= n;
    return this.data;
  }

  /** skb_pull: remove n bytes from the front; returns the new data offset. */
  pull(n: number): number {
    if (n > this.tail - this.data) throw new RangeError(`skb pull of ${n} bytes: only ${this.tail - this.data} in the skb`);
    this.data += n;
    return this.data;
  }

  /** skb_put: append n bytes; returns the offset where they start. */
  put(n: number): number {
    if (this.tail + n > this.end) throw new RangeError(`skb put of ${n} bytes: only ${this.end - this.tail} of tailroom`);
    const at = this.tail;
    this.tail += n;
    return at;
  }

  /** skb_trim: cut the data to len bytes (drops Ethernet padding after the IP datagram). */
  trim(len: number): void {
    if (len < this.tail - this.data) this.tail = this.data + len;
  }

  /** Total bytes of this skb and its frag_list from data on. */
  chainLen(): number {
    let n = this.tail - this.data;
    for (let f = this.fragNext; f !== null; f = f.fragNext) n += f.tail - f.data;
    return n;
  }
}

export interface PoolStats {
  slots: number;
  slotBytes: number;
  inUse: number;
  highWater: number;
  allocFailures: number;
  recordsInUse: number;
  recordFailures: number;
}

export class SkbPool {
  /** every slot's bytes: slot i is [i * slotBytes, (i + 1) * slotBytes) */
  readonly buf: Uint8Array;
  /** the same bytes as buf, as a DataView (word loads for checksums and copies to applications) */
  readonly view: DataView;
  readonly slotBytes: number;
  readonly headroom: number;
  readonly records: SkBuff[];
  readonly slotCount: number;
  /** references to each slot (records pointing into it) */
  readonly #slotRefs: Uint8Array;
  readonly #freeSlots: Int16Array;
  #freeSlotsTop: number;
  readonly #freeRecords: Int16Array;
  #freeRecordsTop: number;
  highWater = 0;
  allocFailures = 0;
  recordFailures = 0;

  /** offset of slot 0 in buf */
  readonly base: number;

  constructor(slots: number, records: number, headroom: number, dataBytes: number, tailroom: number, cbWords: number, memory?: Uint8Array, memoryOffset = 0) {
    // Round slots to 8 bytes so header words stay aligned the same way in every slot.
    this.slotBytes = (headroom + dataBytes + tailroom + 7) & ~7;
    this.headroom = headroom;
    this.slotCount = slots;
    // The pool may be given its memory (a DMA-capable region on a board; one arena shared
    // with the simulated hardware on the host), else it makes its own.
    if (memory !== undefined) {
      if (!(memory instanceof Uint8Array)) throw new TypeError("init: memory must be a Uint8Array");
      if (!Number.isInteger(memoryOffset) || memoryOffset < 0 || memoryOffset + this.slotBytes * slots > memory.length) {
        throw new RangeError(`init: memory needs ${this.slotBytes * slots} bytes from offset ${memoryOffset}, has ${memory.length}`);
      }
      this.buf = memory;
      this.base = memoryOffset;
    } else {
      this.buf = new Uint8Array(new ArrayBuffer(this.slotBytes * slots));
      this.base = 0;
    }
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.#slotRefs = new Uint8Array(slots);
    this.#freeSlots = new Int16Array(slots);
    for (let i = 0; i < slots; i++) this.#freeSlots[i] = slots - 1 - i;
    this.#freeSlotsTop = slots;
    this.records = [];
    this.#freeRecords = new Int16Array(records);
    for (let i = 0; i < records; i++) {
      this.records.push(new SkBuff(i, cbWords));
      this.#freeRecords[i] = records - 1 - i;
    }
    this.#freeRecordsTop = records;
  }

  get inUse(): number {
    return this.slotCount - this.#freeSlotsTop;
  }

  get recordsInUse(): number {
    return this.records.length - this.#freeRecordsTop;
  }

  get available(): number {
    return this.#freeSlotsTop;
  }

  /** alloc_skb: an empty skb with the pool's headroom reserved, or null (counted) when the pool is empty. */
  alloc(): SkBuff | null {
    if (this.#freeSlotsTop === 0 || this.#freeRecordsTop === 0) {
      this.allocFailures++;
      return null;
    }
    const slot = this.#freeSlots[--this.#freeSlotsTop];
    const skb = this.records[this.#freeRecords[--this.#freeRecordsTop]];
    this.#slotRefs[slot] = 1;
    const used = this.slotCount - this.#freeSlotsTop;
    if (used > this.highWater) this.highWater = used;
    const head = this.base + slot * this.slotBytes;
    skb.slot = slot;
    skb.head = head;
    skb.data = head + this.headroom;
    skb.tail = skb.data;
    skb.end = head + this.slotBytes;
    skb.macHeader = skb.networkHeader = skb.transportHeader = skb.data;
    skb.protocol = 0;
    skb.dev = null;
    skb.priority = 0;
    skb.mark = 0;
    skb.ipSummed = CHECKSUM_NONE;
    skb.pktType = PACKET_HOST;
    skb.next = null;
    skb.fragNext = null;
    skb.cb.fill(0);
    return skb;
  }

  /** skb_clone: a second record over the same bytes, or null (counted) when no record is free. */
  clone(skb: SkBuff): SkBuff | null {
    if (this.#freeRecordsTop === 0) {
      this.recordFailures++;
      return null;
    }
    const c = this.records[this.#freeRecords[--this.#freeRecordsTop]];
    this.#slotRefs[skb.slot]++;
    c.slot = skb.slot;
    c.head = skb.head;
    c.data = skb.data;
    c.tail = skb.tail;
    c.end = skb.end;
    c.macHeader = skb.macHeader;
    c.networkHeader = skb.networkHeader;
    c.transportHeader = skb.transportHeader;
    c.protocol = skb.protocol;
    c.dev = skb.dev;
    c.priority = skb.priority;
    c.mark = skb.mark;
    c.ipSummed = skb.ipSummed;
    c.pktType = skb.pktType;
    c.next = null;
    c.fragNext = null;
    c.cb.set(skb.cb);
    return c;
  }

  /** True when another record shares this skb's bytes (its headers must not be rewritten). */
  isCloned(skb: SkBuff): boolean {
    return this.#slotRefs[skb.slot] > 1;
  }

  /**
   * Free one skb and its frag_list. Callers outside core/ free through
   * `kfreeSkbReason` (a drop) or `consumeSkb` (normal end of life) so every free is counted.
   */
  free(skb: SkBuff): void {
    let s: SkBuff | null = skb;
    while (s !== null) {
      const nextFrag: SkBuff | null = s.fragNext;
      if (s.slot < 0) throw new Error(`skb ${s.id} freed twice`);
      if (--this.#slotRefs[s.slot] === 0) this.#freeSlots[this.#freeSlotsTop++] = s.slot;
      s.slot = -1;
      s.dev = null;
      s.next = null;
      s.fragNext = null;
      this.#freeRecords[this.#freeRecordsTop++] = s.id;
      s = nextFrag;
    }
  }

  stats(): PoolStats {
    return {
      slots: this.slotCount,
      slotBytes: this.slotBytes,
      inUse: this.inUse,
      highWater: this.highWater,
      allocFailures: this.allocFailures,
      recordsInUse: this.recordsInUse,
      recordFailures: this.recordFailures,
    };
  }
}

/** A FIFO of skbs linked through skb.next (sk_buff_head), bounded by its owner. */
export class SkbQueue {
  head: SkBuff | null = null;
  tail: SkBuff | null = null;
  qlen = 0;
  bytes = 0;

  enqueue(skb: SkBuff): void {
    skb.next = null;
    if (this.tail === null) this.head = skb;
    else this.tail.next = skb;
    this.tail = skb;
    this.qlen++;
    this.bytes += skb.len;
  }

  enqueueHead(skb: SkBuff): void {
    skb.next = this.head;
    this.head = skb;
    if (this.tail === null) this.tail = skb;
    this.qlen++;
    this.bytes += skb.len;
  }

  dequeue(): SkBuff | null {
    const skb = this.head;
    if (skb === null) return null;
    this.head = skb.next;
    if (this.head === null) this.tail = null;
    skb.next = null;
    this.qlen--;
    this.bytes -= skb.len;
    return skb;
  }

  peek(): SkBuff | null {
    return this.head;
  }

  /** Empty the queue, returning its skbs as a list linked through skb.next. */
  takeAll(): SkBuff | null {
    const head = this.head;
    this.head = this.tail = null;
    this.qlen = 0;
    this.bytes = 0;
    return head;
  }
}

// What skbCopyChain does at each piece of the chain.
const COPY_TO_BYTES = 0;
const COPY_TO_VIEW = 1;
const STORE_FROM_BYTES = 2;

/**
 * Walk an skb chain from `offset` (relative to skb.data) for `len` bytes, copying each
 * piece to or from `other` at otherOff as `mode` says. One walk for the three copies below.
 */
function skbCopyChain(pool: SkbPool, skb: SkBuff, offset: number, other: Uint8Array | DataView, otherOff: number, len: number, mode: number): void {
  let s: SkBuff | null = skb;
  const buf = pool.buf;
  while (s !== null && len > 0) {
    const have = s.tail - s.data;
    if (offset < have) {
      const n = have - offset < len ? have - offset : len;
      if (mode === COPY_TO_BYTES) copyBytes(other as Uint8Array, otherOff, buf, s.data + offset, n);
      else if (mode === COPY_TO_VIEW) copyView(other as DataView, otherOff, pool.view, s.data + offset, n);
      else copyBytes(buf, s.data + offset, other as Uint8Array, otherOff, n);
      otherOff += n;
      len -= n;
      offset = 0;
    } else {
      offset -= have;
    }
    s = s.fragNext;
  }
  if (len > 0) throw new RangeError(`${mode === STORE_FROM_BYTES ? "skbStoreBits" : "skbCopyBits"} past the end of the skb`);
}

/** Copy the bytes of an skb chain from `offset` (relative to skb.data) into `dst`. */
export function skbCopyBits(pool: SkbPool, skb: SkBuff, offset: number, dst: Uint8Array, dstOff: number, len: number): void {
  skbCopyChain(pool, skb, offset, dst, dstOff, len, COPY_TO_BYTES);
}

/** skbCopyBits to a DataView (an application's buffer): word copies, nothing allocated. */
export function skbCopyBitsView(pool: SkbPool, skb: SkBuff, offset: number, dst: DataView, dstOff: number, len: number): void {
  skbCopyChain(pool, skb, offset, dst, dstOff, len, COPY_TO_VIEW);
}

/** Copy len bytes from src into an skb chain at `offset` (relative to skb.data). */
export function skbStoreBits(pool: SkbPool, skb: SkBuff, offset: number, src: Uint8Array, srcOff: number, len: number): void {
  skbCopyChain(pool, skb, offset, src, srcOff, len, STORE_FROM_BYTES);
}

/**
 * The unfolded Internet checksum sum of an skb chain from skb.data to the end. Chain
 * pieces other than the last have even lengths (IP fragments are multiples of 8).
 */
export function skbChecksum(pool: SkbPool, skb: SkBuff, sum: number): number {
  for (let s: SkBuff | null = skb; s !== null; s = s.fragNext) sum = csumPartialView(pool.view, s.data, s.tail - s.data, sum);
  return sum;
}
