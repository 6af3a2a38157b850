// More pieces for the TCP scenario tests (beside harness.ts): crafted segments with options
// (MSS, window scale, SACK-permitted, SACK blocks, timestamps), the options of a segment
// seen on the wire, and a filter on a LAN that drops chosen frames or holds them back.
// Test code only: it allocates freely.

import type { SimLan } from "../../host-sim/sim/lan";
import type { SimWorld } from "../../host-sim/sim/world";
import { TcpOptions, tcpParseOptions } from "../../src/wire/tcp";
import { ethFrame, ipv4Packet, put32 } from "../testbed";
import { tcpSegment, type TcpFields, type TcpView } from "./harness";

// ---------------------------------------------------------------- options

/** MSS (RFC 9293 3.2). */
export function optMss(mss: number): number[] {
  return [2, 4, mss >> 8, mss & 0xff];
}

/** NOP + window scale (RFC 7323 2.2). */
export function optWscale(shift: number): number[] {
  return [1, 3, 3, shift];
}

/** NOP NOP + SACK-permitted (RFC 2018 2). */
export function optSackPerm(): number[] {
  return [1, 1, 4, 2];
}

/** NOP NOP + timestamps (RFC 7323 3.2). */
export function optTimestamp(tsVal: number, tsEcr: number): number[] {
  const o = new Uint8Array(12);
  o.set([1, 1, 8, 10]);
  put32(o, 4, tsVal >>> 0);
  put32(o, 8, tsEcr >>> 0);
  return [...o];
}

/** NOP NOP + SACK blocks, [left, right) pairs (RFC 2018 3). */
export function optSack(blocks: [number, number][]): number[] {
  const o = new Uint8Array(4 + 8 * blocks.length);
  o.set([1, 1, 5, 2 + 8 * blocks.length]);
  blocks.forEach(([l, r], i) => {
    put32(o, 4 + 8 * i, l >>> 0);
    put32(o, 8 + 8 * i, r >>> 0);
  });
  return [...o];
}

/** harness's TcpFields, which take option bytes too */
export type TcpFieldsWithOptions = TcpFields;

/** A TCP segment with options and its checksum over the pseudo-header. */
export function tcpSegmentOpts(f: TcpFieldsWithOptions): Uint8Array {
  return tcpSegment(f);
}

/** An Ethernet frame carrying a crafted TCP segment with options. */
export function tcpFrameOpts(dstMac: Uint8Array, srcMac: Uint8Array, f: TcpFieldsWithOptions): Uint8Array {
  return ethFrame(dstMac, srcMac, 0x0800, ipv4Packet({ src: f.src, dst: f.dst, proto: 6, payload: tcpSegmentOpts(f) }));
}

/** The options of a segment seen on the wire (the stack's own parser; it is tested on its own). */
export function optionsOf(v: TcpView): TcpOptions {
  const o = new TcpOptions();
  if (!tcpParseOptions(v.options, 0, v.options.length, o)) throw new Error("malformed TCP options on the wire");
  return o;
}

/** The kinds of the options of a segment, in order (NOP and EOL left out). */
export function optionKinds(v: TcpView): number[] {
  const kinds: number[] = [];
  const b = v.options;
  for (let i = 0; i < b.length; ) {
    if (b[i] === 0) break;
    if (b[i] === 1) {
      i++;
      continue;
    }
    kinds.push(b[i]);
    i += b[i + 1];
  }
  return kinds;
}

// ---------------------------------------------------------------- LAN filter

/** What a filter does with a frame: pass it, drop it, or hold it back some milliseconds. */
export const PASS = 0;
export const DROP = -1;

/**
 * Put a filter in front of a LAN: `decide` sees every frame a port transmits (a copy, at
 * the time it leaves) and returns PASS, DROP, or a number of milliseconds to hold it back
 * (it then enters the LAN that much later, so frames sent after it overtake it). A dropped
 * frame never reaches the LAN, so taps (tapLan) and the world's frame hash do not see it;
 * a held frame is seen when it enters. Deterministic: it draws nothing at random.
 */
export function filterLan(lan: SimLan, world: SimWorld, decide: (t: number, port: number, frame: Uint8Array) => number): void {
  const transmit = lan.transmit.bind(lan);
  lan.transmit = (port: number, buf: Uint8Array, off: number, len: number): void => {
    const frame = buf.slice(off, off + len);
    const d = decide(world.now, port, frame);
    if (d === PASS) {
      transmit(port, buf, off, len);
    } else if (d > 0) {
      world.loop.after(d, { onSimEvent: () => transmit(port, frame, 0, frame.length) }, 0);
    }
  };
}
