// TCP header and options (RFC 9293 section 3.1; options from RFC 9293 3.2,
// RFC 7323 window scale and timestamps, RFC 2018 SACK). Views over (buf, off)
// where off is the start of the TCP header. Sequence numbers are returned as
// uint32; compare them only with before()/after().

import { WIRE_BAD_HLEN, WIRE_HLEN_BEYOND, WIRE_OK, WIRE_TRUNCATED, read16, read32, write16, write32 } from "./bytes";

export const TCP_HLEN = 20;
/** Data offset is 4 bits of 32-bit words. */
export const TCP_HLEN_MAX = 60;

const OFF_TCP_SPORT = 0;
const OFF_TCP_DPORT = 2;
const OFF_TCP_SEQ = 4;
const OFF_TCP_ACK = 8;
/** Data offset in the high nibble; the low nibble is reserved. */
export const OFF_TCP_DOFF = 12;
const OFF_TCP_FLAGS = 13;
const OFF_TCP_WINDOW = 14;
export const OFF_TCP_CHECK = 16;
export const OFF_TCP_URG = 18;

export const TCP_FIN = 1;
export const TCP_SYN = 2;
export const TCP_RST = 4;
export const TCP_PSH = 8;
export const TCP_ACK = 16;
export const TCP_URG = 32;
export const TCP_ECE = 64; // RFC 3168
export const TCP_CWR = 128; // RFC 3168

export const TCPOPT_EOL = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_MSS = 2;
export const TCPOPT_WINDOW = 3;
export const TCPOPT_SACK_PERM = 4;
export const TCPOPT_SACK = 5;
export const TCPOPT_TIMESTAMP = 8;

// Option lengths, kind and length bytes included.
const TCPOLEN_MSS = 4;
const TCPOLEN_WINDOW = 3;
const TCPOLEN_SACK_PERM = 2;
const TCPOLEN_TIMESTAMP = 10;
const TCPOLEN_SACK_BASE = 2;
const TCPOLEN_SACK_PERBLOCK = 8;
/** Most SACK blocks one option can carry: 2 + 4 * 8 = 34 of the 40 option bytes. */
const TCP_SACK_BLOCKS_MAX = 4;
/** Largest window shift (RFC 7323 section 2.3). */
export const TCP_MAX_WSCALE = 14;

// ---- Getters ----

export function tcpSport(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_TCP_SPORT);
}

export function tcpDport(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_TCP_DPORT);
}

export function tcpSeq(buf: Uint8Array, off: number): number {
  return read32(buf, off + OFF_TCP_SEQ);
}

export function tcpAckSeq(buf: Uint8Array, off: number): number {
  return read32(buf, off + OFF_TCP_ACK);
}

/** Header length in bytes, options included (data offset * 4). */
export function tcpDoffBytes(buf: Uint8Array, off: number): number {
  return (buf[off + OFF_TCP_DOFF] >>> 4) << 2;
}

/** CWR ECE URG ACK PSH RST SYN FIN. */
export function tcpFlags(buf: Uint8Array, off: number): number {
  return buf[off + OFF_TCP_FLAGS];
}

/** Raw window field, before any window scaling. */
export function tcpWindow(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_TCP_WINDOW);
}

export function tcpCheck(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_TCP_CHECK);
}

export function tcpUrgPtr(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_TCP_URG);
}

// ---- Length gate ----

/**
 * The one check before the getters above and the option bytes are trusted: `len` bytes
 * from off (the segment, or the part of it in one buffer) hold the 20 fixed bytes, and the
 * data offset is at least 5 words and inside them (RFC 9293 3.1). Options then lie at
 * off + 20 .. off + tcpDoffBytes, the data after.
 */
export function tcpCheckLen(buf: Uint8Array, off: number, len: number): number {
  if (len < TCP_HLEN) return WIRE_TRUNCATED;
  const doff = tcpDoffBytes(buf, off);
  if (doff < TCP_HLEN) return WIRE_BAD_HLEN;
  if (doff > len) return WIRE_HLEN_BEYOND;
  return WIRE_OK;
}

// ---- Setters ----

export function setTcpSport(buf: Uint8Array, off: number, port: number): void {
  write16(buf, off + OFF_TCP_SPORT, port);
}

export function setTcpDport(buf: Uint8Array, off: number, port: number): void {
  write16(buf, off + OFF_TCP_DPORT, port);
}

export function setTcpSeq(buf: Uint8Array, off: number, seq: number): void {
  write32(buf, off + OFF_TCP_SEQ, seq);
}

export function setTcpAckSeq(buf: Uint8Array, off: number, ack: number): void {
  write32(buf, off + OFF_TCP_ACK, ack);
}

/** Sets the data offset from a byte count (a multiple of 4, 20..60); keeps the reserved bits. */
export function setTcpDoffBytes(buf: Uint8Array, off: number, doffBytes: number): void {
  buf[off + OFF_TCP_DOFF] = ((doffBytes << 2) & 0xf0) | (buf[off + OFF_TCP_DOFF] & 0x0f);
}

export function setTcpFlags(buf: Uint8Array, off: number, flags: number): void {
  buf[off + OFF_TCP_FLAGS] = flags;
}

export function setTcpWindow(buf: Uint8Array, off: number, window: number): void {
  write16(buf, off + OFF_TCP_WINDOW, window);
}

export function setTcpCheck(buf: Uint8Array, off: number, check: number): void {
  // Two stores rather than write16: once for every segment sent.
  buf[off + OFF_TCP_CHECK] = check >>> 8;
  buf[off + OFF_TCP_CHECK + 1] = check & 0xff;
}

export function setTcpUrgPtr(buf: Uint8Array, off: number, urg: number): void {
  write16(buf, off + OFF_TCP_URG, urg);
}

/**
 * Writes the 20 fixed header bytes; checksum and urgent pointer are zeroed,
 * reserved bits cleared. Options (if doffBytes > 20) are written after it with
 * the tcpWriteOpt* functions; the checksum over pseudo header, header and data
 * comes last.
 */
export function tcpBuildHeader(
  buf: Uint8Array,
  off: number,
  sport: number,
  dport: number,
  seq: number,
  ack: number,
  doffBytes: number,
  flags: number,
  window: number,
): void {
  // Byte stores, no calls: this ends every TCP send chain, the deepest point of a board's stack.
  buf[off + OFF_TCP_SPORT] = sport >>> 8;
  buf[off + OFF_TCP_SPORT + 1] = sport;
  buf[off + OFF_TCP_DPORT] = dport >>> 8;
  buf[off + OFF_TCP_DPORT + 1] = dport;
  buf[off + OFF_TCP_SEQ] = seq >>> 24;
  buf[off + OFF_TCP_SEQ + 1] = seq >>> 16;
  buf[off + OFF_TCP_SEQ + 2] = seq >>> 8;
  buf[off + OFF_TCP_SEQ + 3] = seq;
  buf[off + OFF_TCP_ACK] = ack >>> 24;
  buf[off + OFF_TCP_ACK + 1] = ack >>> 16;
  buf[off + OFF_TCP_ACK + 2] = ack >>> 8;
  buf[off + OFF_TCP_ACK + 3] = ack;
  buf[off + OFF_TCP_DOFF] = (doffBytes << 2) & 0xf0;
  buf[off + OFF_TCP_FLAGS] = flags;
  buf[off + OFF_TCP_WINDOW] = window >>> 8;
  buf[off + OFF_TCP_WINDOW + 1] = window;
  buf[off + OFF_TCP_CHECK] = 0;
  buf[off + OFF_TCP_CHECK + 1] = 0;
  buf[off + OFF_TCP_URG] = 0;
  buf[off + OFF_TCP_URG + 1] = 0;
}

// ---- Options ----

/**
 * What tcpParseOptions found in one segment. Create one at init and reuse it;
 * tcpParseOptions resets it first. Absent options keep their reset values:
 * mss 0, wscale -1, flags false, sackCount 0. Which options count in which
 * segments (MSS, WS and SACK_PERM only on SYN) is the caller's decision.
 */
export class TcpOptions {
  mss = 0;
  /** Shift count 0..14, or -1 when absent. */
  wscale = -1;
  sackPermitted = false;
  hasTimestamp = false;
  tsVal = 0;
  tsEcr = 0;
  /** Valid pairs in sackBlocks, 0..4. */
  sackCount = 0;
  /** Up to 4 SACK blocks as [left, right) pairs: left0, right0, left1, right1, ... */
  readonly sackBlocks: Uint32Array;

  constructor() {
    this.sackBlocks = new Uint32Array(TCP_SACK_BLOCKS_MAX * 2);
  }

  reset(): void {
    this.mss = 0;
    this.wscale = -1;
    this.sackPermitted = false;
    this.hasTimestamp = false;
    this.tsVal = 0;
    this.tsEcr = 0;
    this.sackCount = 0; // sackBlocks past sackCount are stale, never read
  }
}

/**
 * Parses the option bytes buf[off..off+len) into `out` (reset first).
 * RFC 9293 section 3.1: EOL ends the list, NOP is one byte, every other option
 * is kind, length (counting both), data. Returns false for a malformed list
 * (a length byte missing, below 2, or running past the end); parsing stops
 * there and `out` keeps what was read before. An option of a known kind with
 * the wrong length is ignored and parsing continues, unknown kinds are
 * skipped by their length (RFC 1122 section 4.2.2.5). Every step advances at
 * least one byte, so the loop is bounded by len.
 */
export function tcpParseOptions(buf: Uint8Array, off: number, len: number, out: TcpOptions): boolean {
  out.reset();
  const end = off + len;
  let i = off;
  while (i < end) {
    const kind = buf[i];
    if (kind === TCPOPT_EOL) return true;
    if (kind === TCPOPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return false; // no room for the length byte
    const optLen = buf[i + 1];
    if (optLen < 2 || i + optLen > end) return false;
    switch (kind) {
      case TCPOPT_MSS:
        if (optLen === TCPOLEN_MSS) out.mss = read16(buf, i + 2);
        break;
      case TCPOPT_WINDOW:
        if (optLen === TCPOLEN_WINDOW) {
          // RFC 7323 section 2.3: a shift over 14 is logged and taken as 14.
          const shift = buf[i + 2];
          out.wscale = shift > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : shift;
        }
        break;
      case TCPOPT_SACK_PERM:
        if (optLen === TCPOLEN_SACK_PERM) out.sackPermitted = true;
        break;
      case TCPOPT_TIMESTAMP:
        if (optLen === TCPOLEN_TIMESTAMP) {
          out.hasTimestamp = true;
          out.tsVal = read32(buf, i + 2);
          out.tsEcr = read32(buf, i + 6);
        }
        break;
      case TCPOPT_SACK: {
        // RFC 2018 section 3: length 2 + 8n; 40 option bytes leave room for 4 blocks.
        const blockBytes = optLen - TCPOLEN_SACK_BASE;
        const count = blockBytes >>> 3;
        if ((blockBytes & 7) === 0 && count >= 1 && count <= TCP_SACK_BLOCKS_MAX) {
          const blocks = out.sackBlocks;
          for (let b = 0, p = i + 2; b < count; b++, p += TCPOLEN_SACK_PERBLOCK) {
            blocks[2 * b] = read32(buf, p);
            blocks[2 * b + 1] = read32(buf, p + 4);
          }
          out.sackCount = count;
        }
        break;
      }
      default:
        break; // unknown kind: skipped by its length
    }
    i += optLen;
  }
  return true;
}

/** MSS option (RFC 9293 section 3.7.1). Returns bytes written: 4. */
export function tcpWriteOptMss(buf: Uint8Array, off: number, mss: number): number {
  buf[off] = TCPOPT_MSS;
  buf[off + 1] = TCPOLEN_MSS;
  write16(buf, off + 2, mss);
  return 4;
}

/** NOP + window scale (RFC 7323 section 2.2), keeping what follows 4-aligned. Returns 4. */
export function tcpWriteOptWscale(buf: Uint8Array, off: number, shift: number): number {
  buf[off] = TCPOPT_NOP;
  buf[off + 1] = TCPOPT_WINDOW;
  buf[off + 2] = TCPOLEN_WINDOW;
  buf[off + 3] = shift;
  return 4;
}

/** NOP NOP + SACK-permitted (RFC 2018 section 2). Returns 4. */
export function tcpWriteOptSackPerm(buf: Uint8Array, off: number): number {
  buf[off] = TCPOPT_NOP;
  buf[off + 1] = TCPOPT_NOP;
  buf[off + 2] = TCPOPT_SACK_PERM;
  buf[off + 3] = TCPOLEN_SACK_PERM;
  return 4;
}

/** NOP NOP + timestamps (RFC 7323 section 3.2, Appendix A layout). Returns 12. */
export function tcpWriteOptTimestamp(buf: Uint8Array, off: number, tsVal: number, tsEcr: number): number {
  buf[off] = TCPOPT_NOP;
  buf[off + 1] = TCPOPT_NOP;
  buf[off + 2] = TCPOPT_TIMESTAMP;
  buf[off + 3] = TCPOLEN_TIMESTAMP;
  // Byte stores, no calls: on every segment, at the deepest point of the send chain.
  buf[off + 4] = tsVal >>> 24;
  buf[off + 5] = tsVal >>> 16;
  buf[off + 6] = tsVal >>> 8;
  buf[off + 7] = tsVal;
  buf[off + 8] = tsEcr >>> 24;
  buf[off + 9] = tsEcr >>> 16;
  buf[off + 10] = tsEcr >>> 8;
  buf[off + 11] = tsEcr;
  return 12;
}

/**
 * SACK-permitted in the two NOPs of the timestamps option written at `off`: the two share one
 * aligned 12-byte slot, the layout Linux puts in a SYN (MSS, this, NOP + WS = 20 bytes).
 * After tcpWriteOptTimestamp rather than inside it: a call less on the SYN's send chain.
 */
export function tcpOptSackPermInTimestamp(buf: Uint8Array, off: number): void {
  buf[off] = TCPOPT_SACK_PERM;
  buf[off + 1] = TCPOLEN_SACK_PERM;
}

/**
 * NOP NOP + SACK option with `count` blocks from `blocks` (left, right pairs;
 * RFC 2018 section 3). count is clamped to 0..4; 0 writes nothing. With
 * timestamps only 3 blocks fit in 40 option bytes: the caller chooses.
 * Returns bytes written: 4 + 8 * count.
 */
export function tcpWriteOptSack(buf: Uint8Array, off: number, blocks: Uint32Array, count: number): number {
  if (count > TCP_SACK_BLOCKS_MAX) count = TCP_SACK_BLOCKS_MAX;
  if (!(count > 0)) return 0;
  buf[off] = TCPOPT_NOP;
  buf[off + 1] = TCPOPT_NOP;
  buf[off + 2] = TCPOPT_SACK;
  buf[off + 3] = TCPOLEN_SACK_BASE + TCPOLEN_SACK_PERBLOCK * count;
  let p = off + 4;
  for (let b = 0; b < count; b++, p += TCPOLEN_SACK_PERBLOCK) {
    write32(buf, p, blocks[2 * b]);
    write32(buf, p + 4, blocks[2 * b + 1]);
  }
  return p - off;
}
