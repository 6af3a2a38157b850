// A scripted TCP peer for the scenario tests: an endpoint of its own on a simulated LAN
// (an IPv4 address and a MAC, answering ARP for it) that sends crafted segments, with any
// option bytes and any data offset, and plays just enough of TCP to open a connection to a
// stack, take its data in order (ACKing each segment at once, or when the test says),
// send data and a FIN of its own. Everything the stack sends it is kept, in order, with
// the time it arrived. Test code only: it allocates freely.

import type { SimLan } from "../../host-sim/sim/lan";
import type { SimWorld } from "../../host-sim/sim/world";
import { arpOf, arpPacket, checksum, ethFrame, ip, ipv4Packet, isArp, put32 } from "../testbed";
import type { NetConfig } from "../../src/config";
import { tcpSocketClasses } from "../../src/socket/tcp";
import { makeWorld } from "../helpers";
import { ACK, B_IP, FIN, RST, Sink, SYN, tcpOf, type TcpView } from "./harness";

export interface RawSegment {
  flags: number;
  seq: number;
  ack?: number;
  window?: number;
  payload?: Uint8Array;
  /** option bytes, padded here with EOL to a multiple of 4 */
  options?: Uint8Array;
  /** data offset in 32-bit words; default: the header with its options */
  doffWords?: number;
  /** store a checksum that does not verify */
  badChecksum?: boolean;
}

/** A TCP segment with options (and perhaps a data offset that lies) and a good checksum. */
export function tcpSegmentWith(src: number, dst: number, sport: number, dport: number, s: RawSegment): Uint8Array {
  const opts = s.options ?? new Uint8Array(0);
  const optLen = (opts.length + 3) & ~3;
  const payload = s.payload ?? new Uint8Array(0);
  const seg = new Uint8Array(20 + optLen + payload.length);
  seg[0] = sport >> 8;
  seg[1] = sport & 0xff;
  seg[2] = dport >> 8;
  seg[3] = dport & 0xff;
  put32(seg, 4, s.seq >>> 0);
  put32(seg, 8, (s.ack ?? 0) >>> 0);
  seg[12] = (s.doffWords ?? (20 + optLen) / 4) << 4;
  seg[13] = s.flags;
  const w = s.window ?? 65535;
  seg[14] = w >> 8;
  seg[15] = w & 0xff;
  seg.set(opts, 20);
  seg.set(payload, 20 + optLen);
  const pseudo = new Uint8Array(12 + seg.length);
  put32(pseudo, 0, src);
  put32(pseudo, 4, dst);
  pseudo[9] = 6;
  pseudo[10] = seg.length >> 8;
  pseudo[11] = seg.length & 0xff;
  pseudo.set(seg, 12);
  const c = s.badChecksum === true ? checksum(pseudo) ^ 0x0101 : checksum(pseudo);
  seg[16] = c >> 8;
  seg[17] = c & 0xff;
  return seg;
}

/** The options of a segment, parsed the plain way (for checking what a stack sent). */
export interface ParsedOptions {
  /** kinds in order, NOP and EOL left out */
  kinds: number[];
  mss?: number;
  wscale?: number;
  sackPermitted: boolean;
  /** SACK blocks, [left, right) pairs */
  sack: number[];
  timestamp: boolean;
}

export function parseOptions(o: Uint8Array): ParsedOptions {
  const out: ParsedOptions = { kinds: [], sackPermitted: false, sack: [], timestamp: false };
  let i = 0;
  while (i < o.length) {
    const kind = o[i];
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    const len = o[i + 1];
    if (len === undefined || len < 2 || i + len > o.length) throw new Error(`malformed options from the stack: ${Array.from(o)}`);
    out.kinds.push(kind);
    if (kind === 2) out.mss = (o[i + 2] << 8) | o[i + 3];
    if (kind === 3) out.wscale = o[i + 2];
    if (kind === 4) out.sackPermitted = true;
    if (kind === 8) out.timestamp = true;
    if (kind === 5) {
      for (let p = i + 2; p + 8 <= i + len; p += 8) {
        out.sack.push(((o[p] << 24) | (o[p + 1] << 16) | (o[p + 2] << 8) | o[p + 3]) >>> 0);
        out.sack.push(((o[p + 4] << 24) | (o[p + 5] << 16) | (o[p + 6] << 8) | o[p + 7]) >>> 0);
      }
    }
    i += len;
  }
  return out;
}

/**
 * Host b (10.0.0.2) alone on a LAN (1 ms delay) with `config`, and a raw peer at
 * (peerIp, peerMac) beside it.
 */
export function hostAndPeer(seed: number, config: Partial<NetConfig>, peerIp: string, peerMac: Uint8Array) {
  const { world, lan, host: b, dev } = makeWorld(seed).oneHost({ faults: { delayMs: 1 }, host: { name: "b", cidr: `${B_IP}/24`, config } });
  const peer = new RawPeer(world, lan, peerIp, peerMac);
  return { world, lan, b, B: tcpSocketClasses(b.net), peer, bMac: dev.addr };
}

export interface Received extends TcpView {
  t: number;
}

/**
 * One scripted connection at a time, from (ip, sport) to a stack at (dst, dport). Sequence
 * numbers: sndNxt is ours, rcvNxt theirs; `window` is the field we advertise (unscaled).
 */
export class RawPeer {
  readonly port: number;
  readonly ipAddr: number;
  readonly mac: Uint8Array;
  /** every TCP segment that reached us, in order */
  readonly segments: Received[] = [];
  /** segments we sent */
  sentSegments = 0;
  /** the stack's data, in order */
  readonly data = new Sink(1 << 16);
  readonly #world: SimWorld;
  readonly #lan: SimLan;

  dst = 0;
  dstMac: Uint8Array = new Uint8Array(6);
  sport = 40000;
  dport = 80;
  iss = 1_000_000;
  sndNxt = 0;
  rcvNxt = 0;
  /** the window field we send */
  window = 65535;
  /** ACK each in-order segment as it arrives (else ackPending() does it) */
  autoAck = true;
  /** the stack's SYN-ACK, once it came */
  synAck: Received | null = null;
  /** the stack's FIN has arrived in order */
  finReceived = false;
  /** highest ACK the stack has sent us */
  peerAck = 0;
  /** right edges of in-order segments not yet acknowledged (ackPending) */
  readonly #unacked: number[] = [];

  constructor(world: SimWorld, lan: SimLan, ipAddr: string, mac: Uint8Array) {
    this.#world = world;
    this.#lan = lan;
    this.ipAddr = ip(ipAddr);
    this.mac = mac;
    this.port = lan.attach({ onFrame: (buf, off, len) => this.#onFrame(buf.slice(off, off + len)) });
  }

  /** The segments with data or FIN that the stack sent us. */
  dataSegments(): Received[] {
    return this.segments.filter((s) => s.payload.length > 0 || (s.flags & FIN) !== 0);
  }

  #onFrame(frame: Uint8Array): void {
    if (isArp(frame)) {
      const a = arpOf(frame);
      if (a.op === 1 && a.tpa === this.ipAddr) this.#transmit(ethFrame(a.sha, this.mac, 0x0806, arpPacket(2, this.mac, this.ipAddr, a.sha, a.spa)));
      return;
    }
    const v = tcpOf(frame);
    if (v === null || v.dst !== this.ipAddr) return;
    const r: Received = { ...v, t: this.#world.now };
    this.segments.push(r);
    if ((v.flags & RST) !== 0 || v.sport !== this.dport || v.dport !== this.sport) return;
    if ((v.flags & ACK) !== 0 && ((v.ack - this.peerAck) | 0) > 0) this.peerAck = v.ack;
    if ((v.flags & SYN) !== 0) {
      if ((v.flags & ACK) === 0 || this.synAck !== null) return;
      this.synAck = r;
      this.rcvNxt = (v.seq + 1) >>> 0;
      this.send(ACK);
      return;
    }
    const len = v.payload.length + ((v.flags & FIN) !== 0 ? 1 : 0);
    if (len === 0) return;
    if (v.seq === this.rcvNxt) {
      this.data.push(v.payload);
      this.rcvNxt = (this.rcvNxt + len) >>> 0;
      if ((v.flags & FIN) !== 0) this.finReceived = true;
      this.#unacked.push(this.rcvNxt);
      if (this.autoAck) this.ackPending();
    } else if (this.autoAck) {
      this.send(ACK); // out of order or a duplicate: say where we are
    }
  }

  #transmit(frame: Uint8Array): void {
    this.#lan.transmit(this.port, frame, 0, frame.length);
  }

  /** Send a crafted segment from our 4-tuple (nothing of our state moves). */
  sendSegment(s: RawSegment): void {
    const seg = tcpSegmentWith(this.ipAddr, this.dst, this.sport, this.dport, s);
    this.sentSegments++;
    this.#transmit(ethFrame(this.dstMac, this.mac, 0x0800, ipv4Packet({ src: this.ipAddr, dst: this.dst, proto: 6, payload: seg })));
  }

  /** Open: a SYN with these options to (dst, dport); the SYN-ACK is answered with an ACK as it comes. */
  connect(dst: string, dstMac: Uint8Array, dport: number, options?: Uint8Array, sport = this.sport): void {
    this.dst = ip(dst);
    this.dstMac = dstMac;
    this.dport = dport;
    this.sport = sport;
    this.synAck = null;
    this.finReceived = false;
    this.sndNxt = (this.iss + 1) >>> 0;
    this.peerAck = this.iss;
    this.sendSegment({ flags: SYN, seq: this.iss, window: this.window, options });
  }

  /** A segment at sndNxt, acknowledging rcvNxt; payload and FIN advance sndNxt. */
  send(flags: number, payload?: Uint8Array): void {
    this.sendSegment({ flags, seq: this.sndNxt, ack: this.rcvNxt, window: this.window, payload });
    this.sndNxt = (this.sndNxt + (payload?.length ?? 0) + ((flags & FIN) !== 0 ? 1 : 0)) >>> 0;
  }

  /**
   * ACK what arrived in order and was not yet acknowledged: an ACK per segment, in order
   * (slow start grows per ACK), but at most `maxAcks` of them, evenly spread, the last one
   * always: a burst of ACKs all at once must not overrun the stack's receive ring.
   */
  ackPending(maxAcks = 16): void {
    const ends = this.#unacked.splice(0);
    const stride = Math.ceil(ends.length / maxAcks);
    for (let i = 0; i < ends.length; i++) {
      if ((ends.length - 1 - i) % stride !== 0) continue;
      this.sendSegment({ flags: ACK, seq: this.sndNxt, ack: ends[i], window: this.window });
    }
  }
}
