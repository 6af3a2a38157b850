// UDP header (RFC 768). Views over (buf, off) where off is the start of the
// UDP header. The checksum covers the pseudo header, the header and the data:
//   csumFold(csumPartial(buf, off, len, csumPseudoHeader(saddr, daddr, IPPROTO_UDP, len)))
// and a computed 0 is sent as 0xffff, because 0 means "no checksum" (RFC 768).

import { WIRE_LEN_BEYOND, WIRE_LEN_SHORT, WIRE_OK, WIRE_TRUNCATED, read16, write16 } from "./bytes";

export const UDP_HLEN = 8;

const OFF_UDP_SPORT = 0;
const OFF_UDP_DPORT = 2;
/** Header plus data, in bytes (at least 8). */
const OFF_UDP_LEN = 4;
export const OFF_UDP_CHECK = 6;

/** What goes out for a computed checksum of 0, which would mean "no checksum" (RFC 768). */
export const UDP_CSUM_MANGLED_0 = 0xffff;

export function udpSport(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_UDP_SPORT);
}

export function udpDport(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_UDP_DPORT);
}

export function udpLen(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_UDP_LEN);
}

export function udpCheck(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_UDP_CHECK);
}

/**
 * The one check before the getters are trusted: `len` bytes from off (the datagram, all its
 * pieces when reassembled) hold the 8-byte header, and the UDP length covers the header and
 * stays inside them (RFC 768). The caller trims to the UDP length when it is shorter.
 */
export function udpCheckLen(buf: Uint8Array, off: number, len: number): number {
  if (len < UDP_HLEN) return WIRE_TRUNCATED;
  const ulen = udpLen(buf, off);
  if (ulen < UDP_HLEN) return WIRE_LEN_SHORT;
  if (ulen > len) return WIRE_LEN_BEYOND;
  return WIRE_OK;
}

export function setUdpSport(buf: Uint8Array, off: number, port: number): void {
  write16(buf, off + OFF_UDP_SPORT, port);
}

export function setUdpDport(buf: Uint8Array, off: number, port: number): void {
  write16(buf, off + OFF_UDP_DPORT, port);
}

export function setUdpLen(buf: Uint8Array, off: number, len: number): void {
  write16(buf, off + OFF_UDP_LEN, len);
}

export function setUdpCheck(buf: Uint8Array, off: number, check: number): void {
  write16(buf, off + OFF_UDP_CHECK, check);
}

/** Writes the 8-byte header with a zero checksum, to be filled in over the data. */
export function udpBuildHeader(buf: Uint8Array, off: number, sport: number, dport: number, len: number): void {
  write16(buf, off + OFF_UDP_SPORT, sport);
  write16(buf, off + OFF_UDP_DPORT, dport);
  write16(buf, off + OFF_UDP_LEN, len);
  write16(buf, off + OFF_UDP_CHECK, 0);
}
