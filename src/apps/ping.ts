// A ping client, as iputils ping works over a raw ICMP socket: echo requests of any size
// (up to 65507 data bytes, fragmented by IPv4), replies seen through raw delivery,
// checked byte for byte, with round-trip times.

import type { Net } from "../core/net";
import type { NetDevice } from "../core/netdevice";
import { skbChecksum, type SkBuff } from "../core/skb";
import { csumFold, csumReduce } from "../wire/checksum";
import { ICMP_ECHO, ICMP_ECHOREPLY, ICMP_HLEN, icmpBuildHeader, icmpId, icmpSeq, icmpType, setIcmpCheck } from "../wire/icmp";
import { IPPROTO_ICMP, IPV4_HLEN, IPV4_MAX_LEN, parseIpv4 } from "../wire/ipv4";
import { ENETUNREACH, ENOBUFS, ipAllocDatagram, ipSend } from "../ipv4/output";
// mcconfig type-checks each module alone: the modules that add net.ipv4
import type {} from "../ipv4/ipv4";

/** Largest echo data: 65535 - 20 (IP) - 8 (ICMP). */
export const PING_DATA_MAX = IPV4_MAX_LEN - IPV4_HLEN - ICMP_HLEN;
/** sequence numbers remembered for matching replies */
const WINDOW = 1024;

export class Pinger {
  readonly #net: Net;
  readonly id: number;
  readonly #rawHandle: number;
  readonly #sentSeq: Int32Array;
  readonly #sentAt: Float64Array;
  readonly #sentLen: Int32Array;
  readonly #answered: Uint8Array;
  #seq = 0;
  sent = 0;
  received = 0;
  duplicates = 0;
  /** replies whose checksum or data did not match what was sent */
  corrupted = 0;
  /** sends refused by the stack (no route, no buffers) */
  sendErrors = 0;
  rttMinMs = Infinity;
  rttMaxMs = 0;
  rttSumMs = 0;
  /** called for each good reply */
  onReply: ((seq: number, rttMs: number, dataBytes: number) => void) | null = null;

  /** compare every data byte of a reply with what was sent (the checksum is always checked) */
  readonly checkData: boolean;

  constructor(net: Net, id?: number, checkData = true) {
    this.#net = net;
    this.checkData = checkData;
    this.id = (id ?? net.platform.random32()) & 0xffff;
    this.#sentSeq = new Int32Array(WINDOW).fill(-1);
    this.#sentAt = new Float64Array(WINDOW);
    this.#sentLen = new Int32Array(WINDOW);
    this.#answered = new Uint8Array(WINDOW);
    this.#rawHandle = net.ipv4.raw.register(IPPROTO_ICMP, (n, skb) => this.#onIcmp(n, skb));
  }

  close(): void {
    this.#net.ipv4.raw.unregister(this.#rawHandle);
  }

  /**
   * Send one echo request with `dataBytes` of data to `dst`. Returns the sequence number,
   * or a negative error (-ENETUNREACH, -ENOBUFS) when it could not be sent.
   */
  send(dst: number | string, dataBytes: number, ttl = this.#net.config.ipDefaultTtl): number {
    const net = this.#net;
    const daddr = typeof dst === "string" ? parseIpv4(dst) : dst >>> 0;
    if (!Number.isInteger(dataBytes) || dataBytes < 0 || dataBytes > PING_DATA_MAX) {
      throw new RangeError(`ping: data size ${dataBytes} is not in 0..${PING_DATA_MAX}`);
    }
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) throw new RangeError(`ping: ttl ${ttl} is not in 1..255`);
    if (!net.ipv4.routeOutput(daddr, 0)) {
      this.sendErrors++;
      return -ENETUNREACH;
    }
    const mtu = (net.ipv4.rt.dev as NetDevice).mtu;
    const skb = ipAllocDatagram(net, ICMP_HLEN + dataBytes, mtu);
    if (skb === null) {
      this.sendErrors++;
      return -ENOBUFS;
    }
    const seq = this.#seq;
    this.#seq = (seq + 1) & 0xffff;
    const buf = net.pool.buf;
    icmpBuildHeader(buf, skb.data, ICMP_ECHO, 0, ((this.id << 16) | seq) >>> 0);
    fillPattern(buf, skb, ICMP_HLEN, seq);
    setIcmpCheck(buf, skb.data, csumFold(skbChecksum(net.pool, skb, 0)));
    const slot = seq % WINDOW;
    this.#sentSeq[slot] = seq;
    this.#sentAt[slot] = net.now();
    this.#sentLen[slot] = dataBytes;
    this.#answered[slot] = 0;
    this.sent++;
    return this.#transmit(skb, daddr, ttl, seq);
  }

  /** The request down to IP: `seq`, or ipSend's negative error (send's tail call, so its frame is gone). */
  #transmit(skb: SkBuff, daddr: number, ttl: number, seq: number): number {
    const rc = ipSend(this.#net, skb, 0, daddr, IPPROTO_ICMP, 0, ttl, false);
    if (rc < 0) {
      this.sendErrors++;
      return rc;
    }
    return seq;
  }

  #onIcmp(net: Net, skb: SkBuff): void {
    const buf = net.pool.buf;
    const at = skb.data;
    if (skb.len < ICMP_HLEN || icmpType(buf, at) !== ICMP_ECHOREPLY || icmpId(buf, at) !== this.id) return;
    const seq = icmpSeq(buf, at);
    const slot = seq % WINDOW;
    if (this.#sentSeq[slot] !== seq) return;
    const dataBytes = skb.chainLen() - ICMP_HLEN;
    if (csumReduce(skbChecksum(net.pool, skb, 0)) !== 0xffff || dataBytes !== this.#sentLen[slot] || (this.checkData && !checkPattern(buf, skb, ICMP_HLEN, seq))) {
      this.corrupted++;
      return;
    }
    if (this.#answered[slot] !== 0) {
      this.duplicates++;
      return;
    }
    this.#answered[slot] = 1;
    this.received++;
    const rtt = net.now() - this.#sentAt[slot];
    if (rtt < this.rttMinMs) this.rttMinMs = rtt;
    if (rtt > this.rttMaxMs) this.rttMaxMs = rtt;
    this.rttSumMs += rtt;
    if (this.onReply !== null) this.onReply(seq, rtt, dataBytes);
  }

  get rttAvgMs(): number {
    return this.received === 0 ? 0 : this.rttSumMs / this.received;
  }
}

/**
 * Data byte i of request `seq` is (i + seq) & 0xff, so a reply mixed up with another shows.
 * The pattern repeats every 256 bytes: write the first 256 of each piece, then double them
 * with copyWithin (native, so cheap on XS too).
 */
function fillPattern(buf: Uint8Array, skb: SkBuff, skip: number, seq: number): void {
  let i = 0;
  for (let s: SkBuff | null = skb; s !== null; s = s.fragNext) {
    const start = s.data + skip;
    const len = s.tail - start;
    const first = len < 256 ? len : 256;
    for (let k = 0; k < first; k++) buf[start + k] = (i + k + seq) & 0xff;
    for (let done = first; done < len; done += done) buf.copyWithin(start + done, start, start + (len - done < done ? len - done : done));
    i += len;
    skip = 0;
  }
}

function checkPattern(buf: Uint8Array, skb: SkBuff, skip: number, seq: number): boolean {
  let i = 0;
  for (let s: SkBuff | null = skb; s !== null; s = s.fragNext) {
    for (let p = s.data + skip; p < s.tail; p++) if (buf[p] !== ((i++ + seq) & 0xff)) return false;
    skip = 0;
  }
  return true;
}
