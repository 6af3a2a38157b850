// ARP (RFC 826), Ethernet hardware and IPv4 protocol addresses only: the one
// layout whose fields sit at fixed offsets. Views over (buf, off) where off is
// the start of the ARP packet (after the Ethernet header).

import { WIRE_BAD_ALEN, WIRE_OK, WIRE_TRUNCATED, read16, read32, write16, write32 } from "./bytes";
import { ETH_ALEN, ETH_P_IP, macCopy } from "./ethernet";

/** 8 fixed bytes + 2 * (6 + 4) addresses. */
export const ARP_HLEN = 28;
/** ar$hrd for Ethernet (RFC 826; IANA hardware type 1). */
export const ARPHRD_ETHER = 1;
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;

const OFF_ARP_HTYPE = 0;
const OFF_ARP_PTYPE = 2;
const OFF_ARP_HLEN = 4;
const OFF_ARP_PLEN = 5;
const OFF_ARP_OP = 6;
export const OFF_ARP_SHA = 8;
const OFF_ARP_SPA = 14;
export const OFF_ARP_THA = 18;
export const OFF_ARP_TPA = 24;

const IPV4_ALEN = 4;

/**
 * The one check before the getters and the OFF_ARP_* offsets are trusted: `len` bytes from
 * off hold the 8 fixed bytes, hardware and protocol addresses of 6 and 4 bytes (the only
 * sizes these fixed offsets describe), and the four addresses (RFC 826).
 */
export function arpCheckLen(buf: Uint8Array, off: number, len: number): number {
  if (len < OFF_ARP_SHA) return WIRE_TRUNCATED;
  if (buf[off + OFF_ARP_HLEN] !== ETH_ALEN || buf[off + OFF_ARP_PLEN] !== IPV4_ALEN) return WIRE_BAD_ALEN;
  if (len < ARP_HLEN) return WIRE_TRUNCATED;
  return WIRE_OK;
}

export function arpHtype(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_ARP_HTYPE);
}

export function arpPtype(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_ARP_PTYPE);
}

export function arpHlen(buf: Uint8Array, off: number): number {
  return buf[off + OFF_ARP_HLEN];
}

export function arpPlen(buf: Uint8Array, off: number): number {
  return buf[off + OFF_ARP_PLEN];
}

export function arpOp(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_ARP_OP);
}

/** Sender protocol address, uint32. */
export function arpSpa(buf: Uint8Array, off: number): number {
  return read32(buf, off + OFF_ARP_SPA);
}

/** Target protocol address, uint32. */
export function arpTpa(buf: Uint8Array, off: number): number {
  return read32(buf, off + OFF_ARP_TPA);
}

/**
 * The only layout the rest of the stack understands; anything else is dropped
 * before the SHA/SPA/THA/TPA offsets above are trusted (RFC 826 "Packet
 * Reception": check ar$hrd, ar$pro, and the lengths).
 */
export function arpIsEthernetIpv4(buf: Uint8Array, off: number): boolean {
  return (
    read16(buf, off + OFF_ARP_HTYPE) === ARPHRD_ETHER &&
    read16(buf, off + OFF_ARP_PTYPE) === ETH_P_IP &&
    buf[off + OFF_ARP_HLEN] === ETH_ALEN &&
    buf[off + OFF_ARP_PLEN] === IPV4_ALEN
  );
}

/**
 * Writes all 28 bytes of an Ethernet/IPv4 ARP packet. For a request the
 * target hardware address is ignored by the receiver (RFC 826); Linux sends
 * zeros there, so pass a zero MAC to match it.
 */
export function arpBuild(
  buf: Uint8Array,
  off: number,
  op: number,
  sha: Uint8Array,
  shaOff: number,
  spa: number,
  tha: Uint8Array,
  thaOff: number,
  tpa: number,
): void {
  write16(buf, off + OFF_ARP_HTYPE, ARPHRD_ETHER);
  write16(buf, off + OFF_ARP_PTYPE, ETH_P_IP);
  buf[off + OFF_ARP_HLEN] = ETH_ALEN;
  buf[off + OFF_ARP_PLEN] = IPV4_ALEN;
  write16(buf, off + OFF_ARP_OP, op);
  macCopy(buf, off + OFF_ARP_SHA, sha, shaOff);
  write32(buf, off + OFF_ARP_SPA, spa);
  macCopy(buf, off + OFF_ARP_THA, tha, thaOff);
  write32(buf, off + OFF_ARP_TPA, tpa);
}
