// UDP header (RFC 768). Views over (buf, off) where off is the start of the
// UDP header. The checksum covers the pseudo header, the header and the data:
//   csumFold(csumPartial(buf, off, len, csumPseudoHeader(saddr, daddr, IPPROTO_UDP, len)))
// and a computed 0 is sent as 0xffff, because 0 means "no checksum" (RFC 768).

import { read16, write16 } from "./bytes";

export const UDP_HLEN = 8;

export const OFF_UDP_SPORT = 0;
export const OFF_UDP_DPORT = 2;
/** Header plus data, in bytes (at least 8). */
export const OFF_UDP_LEN = 4;
export const OFF_UDP_CHECK = 6;

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
  buf[off + OFF_UDP_CHECK] = 0;
  buf[off + OFF_UDP_CHECK + 1] = 0;
}
