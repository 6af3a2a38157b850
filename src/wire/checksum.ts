// The Internet checksum (RFC 1071): the 16-bit ones'-complement of the
// ones'-complement sum of the data taken as big-endian 16-bit words.
//
// Sums are carried "unfolded" as plain JS numbers: adding 16-bit words to an
// ordinary integer and folding the carries back in only at the end gives the
// same result as folding after every add (RFC 1071 section 2(B), deferred
// carries). Numbers are exact up to 2^53; every function here keeps its
// accumulator below 2^52.
//
// The sums over a buffer (csumPartial, csumPartialView) live in bulk.ts, which a Moddable
// build maps to native code; they are re-exported here, where their callers look.

import { csumPartial } from "./bulk";

export { csumPartial, csumPartialView } from "./bulk";

/** Reduces any exact non-negative sum to 0..0xffff by end-around carry. */
export function csumReduce(sum: number): number {
  // Bitwise operators only see 32 bits, so fold wide sums arithmetically first.
  while (sum > 0xffffffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  sum = (sum & 0xffff) + (sum >>> 16); // <= 0x1fffe
  sum = (sum & 0xffff) + (sum >>> 16); // <= 0xffff
  return sum;
}

/**
 * Folds an unfolded sum to 16 bits and returns its ones'-complement: the value
 * to store in a checksum field (0..0xffff). csumReduce's steps, repeated here
 * rather than called: it ends every send chain, the deepest point of a board's stack.
 */
export function csumFold(sum: number): number {
  while (sum > 0xffffffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * Unfolded sum of the IPv4 pseudo header used by TCP (RFC 9293 section 3.1)
 * and UDP (RFC 768): source, destination, zero + protocol, and the TCP/UDP
 * length (header plus data).
 */
export function csumPseudoHeader(saddr: number, daddr: number, proto: number, len: number): number {
  return (saddr >>> 16) + (saddr & 0xffff) + (daddr >>> 16) + (daddr & 0xffff) + proto + len;
}

/**
 * Incremental update of a stored checksum field when one 16-bit word of the
 * covered data changes from `oldWord` to `newWord` (RFC 1624 eqn 3:
 * HC' = ~(~HC + ~m + m')). Eqn 3 rather than eqn 2 so the result never differs
 * from a full recompute by the 0x0000/0xffff ambiguity (RFC 1624 section 3).
 */
export function csumReplace16(check: number, oldWord: number, newWord: number): number {
  return csumFold((~check & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff));
}

/** As csumReplace16, for a 32-bit value (two words, e.g. an address or sequence number). */
export function csumReplace32(check: number, oldValue: number, newValue: number): number {
  return csumFold(
    (~check & 0xffff) +
      (~oldValue >>> 16) + (~oldValue & 0xffff) +
      (newValue >>> 16) + (newValue & 0xffff),
  );
}

/**
 * True when buf[off..off+len), checksum field included, plus `initialSum`
 * (e.g. the pseudo header) sums to 0xffff, i.e. the data is intact
 * (RFC 1071 section 1: the receiver's sum of all ones).
 */
export function csumVerify(buf: Uint8Array, off: number, len: number, initialSum: number): boolean {
  return csumReduce(csumPartial(buf, off, len, initialSum)) === 0xffff;
}
