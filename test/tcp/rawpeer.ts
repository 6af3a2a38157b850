// A scripted TCP peer for the scenario tests: an endpoint of its own on a simulated LAN
// (an IPv4 address and a MAC, answering ARP for it) that sends crafted segments, with any
// option bytes and any data offset, and plays just enough of TCP to open a connection to a
// stack, take its data in order (ACKing each segment at once, or when the test says),
// send data and a FIN of its own. Everything the stack sends it is kept, in order, with
// the time it arrived. Test code only: it allocates freely.

import type { SimLan } from "../../host-sim/sim/lan";
import type { SimWorld } from "../../host-sim/sim/world";
import type { NetConfig } from "../../src/config";
import { tcpSocketClasses } from "../../src/socket/tcp";
import { makeWorld } from "../helpers";
import { ACK, FIN, ip, RST, SYN, tcpFrame, tcpOf, type TcpFields, type TcpView } from "../packets";
import { RawPort } from "../testbed";
import { B_IP, Sink } from "./harness";

/** A segment from the peer: what tcpSegment takes, its addresses and ports the peer's own. */
export type RawSegment = Omit<TcpFields, "src" | "dst" | "sport" | "dport">;

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
  /** our port on the LAN: it answers ARP for us */
  readonly #raw: RawPort;

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
    this.ipAddr = ip(ipAddr);
    this.mac = mac;
    this.#raw = new RawPort(world, lan, (frame) => this.#onFrame(frame));
    this.#raw.arpAnswers.set(this.ipAddr, mac);
    this.port = this.#raw.port;
  }

  /** The segments with data or FIN that the stack sent us. */
  dataSegments(): Received[] {
    return this.segments.filter((s) => s.payload.length > 0 || (s.flags & FIN) !== 0);
  }

  #onFrame(frame: Uint8Array): void {
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

  /** Send a frame as it is (IP fragments, malformed headers). */
  sendFrame(frame: Uint8Array): void {
    this.#raw.send(frame);
  }

  /** Send a crafted segment from our 4-tuple (nothing of our state moves). */
  sendSegment(s: RawSegment): void {
    this.sentSegments++;
    this.#raw.send(tcpFrame(this.dstMac, this.mac, { src: this.ipAddr, dst: this.dst, sport: this.sport, dport: this.dport, ...s }));
  }

  /** Open: a SYN with these options to (dst, dport); the SYN-ACK is answered with an ACK as it comes. */
  connect(dst: string, dstMac: Uint8Array, dport: number, options?: ArrayLike<number>, sport = this.sport): void {
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
