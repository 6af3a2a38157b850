// ICMP for IPv4 (RFC 792). Views over (buf, off) where off is the start of the
// ICMP message. The checksum covers the whole message (header and data), so
// the caller computes it once the data is in place:
//   setIcmpCheck(buf, off, 0); setIcmpCheck(buf, off, csumFold(csumPartial(buf, off, len, 0)))

import { WIRE_OK, WIRE_TRUNCATED, read16, write16, write32 } from "./bytes";

/** Type, code, checksum, and the 4-byte "rest of header". */
export const ICMP_HLEN = 8;
/** An error quotes the datagram's IP header and at least its first 64 bits of data (RFC 792). */
export const ICMP_QUOTE_DATA_LEN = 8;

const OFF_ICMP_TYPE = 0;
const OFF_ICMP_CODE = 1;
export const OFF_ICMP_CHECK = 2;
/** Echo identifier (RFC 792 Echo message). */
const OFF_ICMP_ID = 4;
/** Echo sequence number. */
const OFF_ICMP_SEQ = 6;
/** Next-hop MTU in Destination Unreachable / fragmentation needed (RFC 1191 section 4). */
const OFF_ICMP_MTU = 6;
/** Octet that caused a Parameter Problem (RFC 792). */
const OFF_ICMP_POINTER = 4;

// Types (RFC 792)
export const ICMP_ECHOREPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETERPROB = 12;
export const ICMP_TIMESTAMP = 13;
export const ICMP_TIMESTAMPREPLY = 14;
/** The last type defined (address mask reply, RFC 950); Linux NR_ICMP_TYPES. */
export const NR_ICMP_TYPES = 18;

// Codes for ICMP_DEST_UNREACH
export const ICMP_NET_UNREACH = 0;
export const ICMP_HOST_UNREACH = 1;
export const ICMP_PROT_UNREACH = 2;
export const ICMP_PORT_UNREACH = 3;
export const ICMP_FRAG_NEEDED = 4;
// Codes for ICMP_TIME_EXCEEDED
export const ICMP_EXC_TTL = 0;
export const ICMP_EXC_FRAGTIME = 1;

/**
 * The one check before the getters are trusted: `len` bytes from off hold the 8-byte
 * header. An error's quote is checked on its own, with ipv4CheckLen.
 */
export function icmpCheckLen(_buf: Uint8Array, _off: number, len: number): number {
  return len < ICMP_HLEN ? WIRE_TRUNCATED : WIRE_OK;
}

export function icmpType(buf: Uint8Array, off: number): number {
  return buf[off + OFF_ICMP_TYPE];
}

export function icmpCode(buf: Uint8Array, off: number): number {
  return buf[off + OFF_ICMP_CODE];
}

export function icmpCheck(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_ICMP_CHECK);
}

export function icmpId(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_ICMP_ID);
}

export function icmpSeq(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_ICMP_SEQ);
}

export function icmpMtu(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_ICMP_MTU);
}

export function icmpPointer(buf: Uint8Array, off: number): number {
  return buf[off + OFF_ICMP_POINTER];
}

export function setIcmpType(buf: Uint8Array, off: number, type: number): void {
  buf[off + OFF_ICMP_TYPE] = type;
}

export function setIcmpCode(buf: Uint8Array, off: number, code: number): void {
  buf[off + OFF_ICMP_CODE] = code;
}

export function setIcmpCheck(buf: Uint8Array, off: number, check: number): void {
  write16(buf, off + OFF_ICMP_CHECK, check);
}

export function setIcmpId(buf: Uint8Array, off: number, id: number): void {
  write16(buf, off + OFF_ICMP_ID, id);
}

export function setIcmpSeq(buf: Uint8Array, off: number, seq: number): void {
  write16(buf, off + OFF_ICMP_SEQ, seq);
}

export function setIcmpMtu(buf: Uint8Array, off: number, mtu: number): void {
  write16(buf, off + OFF_ICMP_MTU, mtu);
}

export function setIcmpPointer(buf: Uint8Array, off: number, pointer: number): void {
  buf[off + OFF_ICMP_POINTER] = pointer;
}

/**
 * Error messages: never answered with another ICMP error
 * (RFC 1122 section 3.2.2), and they quote the offending datagram.
 */
export function icmpIsError(type: number): boolean {
  return (
    type === ICMP_DEST_UNREACH ||
    type === ICMP_SOURCE_QUENCH ||
    type === ICMP_REDIRECT ||
    type === ICMP_TIME_EXCEEDED ||
    type === ICMP_PARAMETERPROB
  );
}

/**
 * Writes the 8-byte header: type, code, a zero checksum, and `rest32` as the
 * big-endian "rest of header" (id << 16 | seq for echo, the MTU for
 * fragmentation needed, pointer << 24 for parameter problem, 0 otherwise).
 */
export function icmpBuildHeader(buf: Uint8Array, off: number, type: number, code: number, rest32: number): void {
  buf[off + OFF_ICMP_TYPE] = type;
  buf[off + OFF_ICMP_CODE] = code;
  write16(buf, off + OFF_ICMP_CHECK, 0);
  write32(buf, off + OFF_ICMP_ID, rest32);
}
