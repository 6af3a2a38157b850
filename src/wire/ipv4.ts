// IPv4 header (RFC 791 section 3.1). Views over (buf, off) where off is the
// start of the IP header. Addresses are uint32 host numbers: a.b.c.d is
// (a << 24 | b << 16 | c << 8 | d) >>> 0.

import {
  WIRE_BAD_HLEN, WIRE_BAD_VERSION, WIRE_HLEN_BEYOND, WIRE_LEN_BEYOND, WIRE_LEN_SHORT, WIRE_OK, WIRE_TRUNCATED, read16, read32, write16,
  write32,
} from "./bytes";
import { csumFold, csumPartial } from "./checksum";

/** Header without options (IHL 5). */
export const IPV4_HLEN = 20;
/** Total Length is 16 bits. */
export const IPV4_MAX_LEN = 65535;

export const IPPROTO_ICMP = 1;
export const IPPROTO_IGMP = 2;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

// Flags and fragment offset share one 16-bit field (RFC 791 section 3.1).
export const IP_DF = 0x4000;
export const IP_MF = 0x2000;
export const IP_OFFMASK = 0x1fff;

const OFF_IP_VER_IHL = 0;
const OFF_IP_TOS = 1;
const OFF_IP_TOT_LEN = 2;
const OFF_IP_ID = 4;
const OFF_IP_FRAG = 6;
export const OFF_IP_TTL = 8;
const OFF_IP_PROTO = 9;
export const OFF_IP_CHECK = 10;
const OFF_IP_SADDR = 12;
export const OFF_IP_DADDR = 16;

// Option kinds that carry no length byte (RFC 791 3.1).
export const IPOPT_END = 0;
export const IPOPT_NOOP = 1;

// Type of service (RFC 1349): an ICMP error keeps the TOS of the datagram it reports
// (RFC 1122 3.2.2) with precedence 6, internetwork control (RFC 1812 4.3.2.5).
export const IPTOS_PREC_INTERNETCONTROL = 0xc0;
export const IPTOS_TOS_MASK = 0x1e;

export const INADDR_ANY = 0;
export const INADDR_BROADCAST = 0xffffffff;
export const INADDR_LOOPBACK = 0x7f000001;
/** 224.0.0.1, joined by every multicast host (RFC 1112 section 4). */
export const INADDR_ALLHOSTS_GROUP = 0xe0000001;

// ---- Getters ----

export function ipVersion(buf: Uint8Array, off: number): number {
  return buf[off + OFF_IP_VER_IHL] >>> 4;
}

/** Header length in bytes: IHL counts 32-bit words. */
export function ipIhlBytes(buf: Uint8Array, off: number): number {
  return (buf[off + OFF_IP_VER_IHL] & 0x0f) << 2;
}

export function ipTos(buf: Uint8Array, off: number): number {
  return buf[off + OFF_IP_TOS];
}

export function ipTotLen(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_IP_TOT_LEN);
}

export function ipId(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_IP_ID);
}

/** Flags and fragment offset, raw 16 bits. */
export function ipFragField(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_IP_FRAG);
}

/** Fragment offset in bytes: the field counts 8-byte units. */
export function ipFragOffsetBytes(buf: Uint8Array, off: number): number {
  return (read16(buf, off + OFF_IP_FRAG) & IP_OFFMASK) << 3;
}

export function ipMoreFrags(buf: Uint8Array, off: number): boolean {
  return (buf[off + OFF_IP_FRAG] & (IP_MF >>> 8)) !== 0;
}

export function ipDontFrag(buf: Uint8Array, off: number): boolean {
  return (buf[off + OFF_IP_FRAG] & (IP_DF >>> 8)) !== 0;
}

export function ipTtl(buf: Uint8Array, off: number): number {
  return buf[off + OFF_IP_TTL];
}

export function ipProto(buf: Uint8Array, off: number): number {
  return buf[off + OFF_IP_PROTO];
}

export function ipCheck(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_IP_CHECK);
}

export function ipSaddr(buf: Uint8Array, off: number): number {
  return read32(buf, off + OFF_IP_SADDR);
}

export function ipDaddr(buf: Uint8Array, off: number): number {
  return read32(buf, off + OFF_IP_DADDR);
}

// ---- Length gate ----

/**
 * The one check before the getters above are trusted (RFC 1122 3.2.1.1-3): `len` bytes
 * from off hold the 20 fixed bytes, version 4 (the byte that holds IHL; another version's
 * fields lie elsewhere), IHL >= 5, the options, and a total length covering the header and
 * inside the packet. WIRE_LEN_BEYOND leaves the header itself whole (a quote in an ICMP
 * error is cut short). Checked in this order, so the first fault is the one named.
 */
export function ipv4CheckLen(buf: Uint8Array, off: number, len: number): number {
  if (len < IPV4_HLEN) return WIRE_TRUNCATED;
  // The fields read in place (not through ipIhlBytes/ipTotLen): this runs for every datagram.
  const verIhl = buf[off + OFF_IP_VER_IHL];
  if (verIhl >>> 4 !== 4) return WIRE_BAD_VERSION;
  const ihl = (verIhl & 0x0f) << 2;
  if (ihl < IPV4_HLEN) return WIRE_BAD_HLEN;
  if (ihl > len) return WIRE_HLEN_BEYOND;
  const totLen = (buf[off + OFF_IP_TOT_LEN] << 8) | buf[off + OFF_IP_TOT_LEN + 1];
  if (totLen < ihl) return WIRE_LEN_SHORT;
  if (totLen > len) return WIRE_LEN_BEYOND;
  return WIRE_OK;
}

// ---- Setters (none touches the checksum; call ipSendCheck after) ----

/** Version 4 and the header length (a multiple of 4, 20..60) in one byte. */
export function setIpVersionIhl(buf: Uint8Array, off: number, ihlBytes: number): void {
  buf[off + OFF_IP_VER_IHL] = 0x40 | ((ihlBytes >>> 2) & 0x0f);
}

export function setIpTos(buf: Uint8Array, off: number, tos: number): void {
  buf[off + OFF_IP_TOS] = tos;
}

export function setIpTotLen(buf: Uint8Array, off: number, len: number): void {
  write16(buf, off + OFF_IP_TOT_LEN, len);
}

export function setIpId(buf: Uint8Array, off: number, id: number): void {
  write16(buf, off + OFF_IP_ID, id);
}

export function setIpFragField(buf: Uint8Array, off: number, field: number): void {
  write16(buf, off + OFF_IP_FRAG, field);
}

export function setIpTtl(buf: Uint8Array, off: number, ttl: number): void {
  buf[off + OFF_IP_TTL] = ttl;
}

export function setIpCheck(buf: Uint8Array, off: number, check: number): void {
  write16(buf, off + OFF_IP_CHECK, check);
}

export function setIpSaddr(buf: Uint8Array, off: number, addr: number): void {
  write32(buf, off + OFF_IP_SADDR, addr);
}

export function setIpDaddr(buf: Uint8Array, off: number, addr: number): void {
  write32(buf, off + OFF_IP_DADDR, addr);
}

// ---- Checksum ----

/**
 * The header checksum to store (RFC 791 section 3.1), computed over
 * `ihlBytes` bytes whatever the checksum field holds now: adding the
 * complement of the stored value cancels it in ones'-complement arithmetic
 * (x + ~x = -0), so no write is needed first.
 */
export function ipHeaderChecksum(buf: Uint8Array, off: number, ihlBytes: number): number {
  return csumFold(csumPartial(buf, off, ihlBytes, ~read16(buf, off + OFF_IP_CHECK) & 0xffff));
}

/** Zeroes the checksum field, computes the checksum over IHL, stores it (Linux ip_send_check). */
export function ipSendCheck(buf: Uint8Array, off: number): void {
  // Byte stores, not write16: this runs for every datagram sent.
  buf[off + OFF_IP_CHECK] = 0;
  buf[off + OFF_IP_CHECK + 1] = 0;
  write16(buf, off + OFF_IP_CHECK, csumFold(csumPartial(buf, off, ipIhlBytes(buf, off), 0)));
}

/** Writes a 20-byte header (version 4, IHL 5, no options) including its checksum. */
export function ipBuildHeader(
  buf: Uint8Array,
  off: number,
  tos: number,
  totLen: number,
  id: number,
  fragField: number,
  ttl: number,
  proto: number,
  saddr: number,
  daddr: number,
): void {
  // Byte stores rather than calls: this ends every send chain, the deepest point of a
  // board's stack. Version 4, IHL 5 (setIpVersionIhl's byte).
  buf[off + OFF_IP_VER_IHL] = 0x45;
  buf[off + OFF_IP_TOS] = tos;
  buf[off + OFF_IP_TOT_LEN] = totLen >>> 8;
  buf[off + OFF_IP_TOT_LEN + 1] = totLen;
  buf[off + OFF_IP_ID] = id >>> 8;
  buf[off + OFF_IP_ID + 1] = id;
  buf[off + OFF_IP_FRAG] = fragField >>> 8;
  buf[off + OFF_IP_FRAG + 1] = fragField;
  buf[off + OFF_IP_TTL] = ttl;
  buf[off + OFF_IP_PROTO] = proto;
  buf[off + OFF_IP_CHECK] = 0;
  buf[off + OFF_IP_CHECK + 1] = 0;
  buf[off + OFF_IP_SADDR] = saddr >>> 24;
  buf[off + OFF_IP_SADDR + 1] = saddr >>> 16;
  buf[off + OFF_IP_SADDR + 2] = saddr >>> 8;
  buf[off + OFF_IP_SADDR + 3] = saddr;
  buf[off + OFF_IP_DADDR] = daddr >>> 24;
  buf[off + OFF_IP_DADDR + 1] = daddr >>> 16;
  buf[off + OFF_IP_DADDR + 2] = daddr >>> 8;
  buf[off + OFF_IP_DADDR + 3] = daddr;
  const check = csumFold(csumPartial(buf, off, IPV4_HLEN, 0));
  buf[off + OFF_IP_CHECK] = check >>> 8;
  buf[off + OFF_IP_CHECK + 1] = check;
}

/**
 * Decrements TTL when forwarding (RFC 1812 section 5.3.1) and patches the
 * checksum incrementally, as Linux ip_decrease_ttl: the word holding TTL drops
 * by 0x0100, so the stored complement rises by 0x0100 with end-around carry.
 * A result of 0xffff becomes 0x0000, the form a full recompute gives.
 * The caller drops packets whose TTL is already <= 1; a TTL of 0 is left
 * alone rather than wrapped to 255. Returns the new TTL.
 */
export function ipDecreaseTtl(buf: Uint8Array, off: number): number {
  const ttl = buf[off + OFF_IP_TTL];
  if (ttl === 0) return 0;
  let check = read16(buf, off + OFF_IP_CHECK) + 0x0100;
  check = check >= 0xffff ? check - 0xffff : check;
  write16(buf, off + OFF_IP_CHECK, check);
  buf[off + OFF_IP_TTL] = ttl - 1;
  return ttl - 1;
}

// ---- Address classes (uint32 host numbers) ----

/** 224.0.0.0/4 (RFC 5771). */
export function ipIsMulticast(a: number): boolean {
  return a >>> 28 === 0xe;
}

/** 224.0.0.0/24, link-local multicast: never routed, never reported by IGMP (RFC 5771 section 4). */
export function ipIsLocalMulticast(a: number): boolean {
  return a >>> 8 === 0xe00000;
}

/** 255.255.255.255 (RFC 919 section 7). */
export function ipIsLimitedBroadcast(a: number): boolean {
  return a >>> 0 === INADDR_BROADCAST;
}

/** 0.0.0.0/8, "this network": valid only as a source while configuring (RFC 1122 3.2.1.3). */
export function ipIsZeronet(a: number): boolean {
  return a >>> 24 === 0;
}

/** 127.0.0.0/8 must never appear on a wire (RFC 1122 3.2.1.3(g)). */
export function ipIsLoopback(a: number): boolean {
  return a >>> 24 === 127;
}

/** 169.254.0.0/16 (RFC 3927). */
export function ipIsLinkLocal(a: number): boolean {
  return a >>> 16 === 0xa9fe;
}

/** 240.0.0.0/4, former class E, broadcast included (RFC 1112 section 4). */
export function ipIsReserved(a: number): boolean {
  return a >>> 28 === 0xf;
}

/** 255.255.255.255 or 0.0.0.0: not a unicast host address (Linux ipv4_is_lbcast || !addr). */
export function ipIsLbcastOrZero(a: number): boolean {
  a = a >>> 0;
  return a === INADDR_BROADCAST || a === INADDR_ANY;
}

/** True when `a` lies in the network `net` under `mask` (a mask from prefixMask). */
export function ipInSubnet(a: number, net: number, mask: number): boolean {
  return ((a ^ net) & mask) === 0;
}

/** Network mask of a prefix length 0..32 as uint32; 0 gives 0 (a shift by 32 would not). */
export function prefixMask(len: number): number {
  if (!(len >= 0 && len <= 32) || (len | 0) !== len) throw new RangeError(`invalid prefix length ${len}`);
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

// ---- Configuration-time helpers (allocate; not for per-packet paths) ----

// Parses text[start..end) as a dotted quad, or returns -1. Strict: four parts
// of 1-3 decimal digits, each 0..255, no signs, no empty parts, and no leading
// zeros, since inet_aton would read "010" as octal 8.
function parseDottedQuad(text: string, start: number, end: number): number {
  let addr = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 0x2e; // a virtual '.' closes the last part
    if (c === 0x2e) {
      if (digits === 0 || parts === 4) return -1;
      addr = addr * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && part === 0) return -1; // leading zero
      part = part * 10 + (c - 0x30);
      if (++digits > 3 || part > 255) return -1;
    } else {
      return -1;
    }
  }
  return parts === 4 ? addr : -1;
}

/** A strict dotted quad as a uint32, or -1 when the text is not one (a host name, say). */
export function ipv4FromText(text: string): number {
  return parseDottedQuad(text, 0, text.length);
}

/** Parses a strict dotted quad "192.168.1.10" to a uint32. Throws TypeError naming the text. */
export function parseIpv4(text: string): number {
  const addr = typeof text === "string" ? parseDottedQuad(text, 0, text.length) : -1;
  if (addr < 0) throw new TypeError(`invalid IPv4 address '${text}'`);
  return addr;
}

/**
 * Parses "192.168.1.10/24". Host bits may be set (an interface address with
 * its prefix). TypeError for bad syntax, RangeError for a prefix over 32,
 * both naming the text.
 */
export function parseCidr(text: string): { addr: number; prefixLen: number } {
  const slash = typeof text === "string" ? text.indexOf("/") : -1;
  const addr = slash > 0 ? parseDottedQuad(text, 0, slash) : -1;
  let prefixLen = 0;
  let digits = 0;
  for (let i = slash + 1; slash > 0 && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) {
      digits = 0;
      break;
    }
    prefixLen = prefixLen * 10 + (c - 0x30);
    digits++;
  }
  if (addr < 0 || digits === 0 || slash + 1 + digits !== text.length) {
    throw new TypeError(`invalid CIDR '${text}'`);
  }
  if (prefixLen > 32) throw new RangeError(`invalid prefix length in '${text}' (0..32)`);
  return { addr, prefixLen };
}

/** Formats a uint32 as "a.b.c.d". */
export function formatIpv4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}
