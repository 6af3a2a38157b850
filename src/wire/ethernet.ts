// Ethernet II framing (IEEE 802.3 with an EtherType, RFC 894), 6-byte MAC
// addresses. Stateless views over (buf, off) where off is the frame start.

import { WIRE_OK, WIRE_TRUNCATED, read16 } from "./bytes";

export const ETH_ALEN = 6;
/** Header: destination, source, EtherType. */
export const ETH_HLEN = 14;
/** Minimum frame without FCS; shorter frames are padded (IEEE 802.3 clause 3.2.8). */
export const ETH_ZLEN = 60;
/** Largest payload (the MTU). */
export const ETH_DATA_LEN = 1500;
/** Largest frame without FCS. */
export const ETH_FRAME_LEN = 1514;

export const ETH_P_ALL = 0x0003; // taps: every protocol (Linux packet socket value)
export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_8021Q = 0x8100;

export const OFF_ETH_DST = 0;
export const OFF_ETH_SRC = 6;
export const OFF_ETH_TYPE = 12;

/** The one check before the getters are trusted: `len` bytes from off hold the 14-byte header. */
export function ethCheckLen(_buf: Uint8Array, _off: number, len: number): number {
  return len < ETH_HLEN ? WIRE_TRUNCATED : WIRE_OK;
}

export function ethType(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_ETH_TYPE);
}

export function setEthType(buf: Uint8Array, off: number, type: number): void {
  // Two stores rather than write16: a setter on every frame's path, one call deep.
  buf[off + OFF_ETH_TYPE] = type >>> 8;
  buf[off + OFF_ETH_TYPE + 1] = type & 0xff;
}

/** Copies the 6-byte address at src[srcOff] to dst[dstOff]. Unrolled: no subarray, no loop. */
export function macCopy(dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number): void {
  dst[dstOff] = src[srcOff];
  dst[dstOff + 1] = src[srcOff + 1];
  dst[dstOff + 2] = src[srcOff + 2];
  dst[dstOff + 3] = src[srcOff + 3];
  dst[dstOff + 4] = src[srcOff + 4];
  dst[dstOff + 5] = src[srcOff + 5];
}

export function macEqual(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  return (
    a[aOff] === b[bOff] &&
    a[aOff + 1] === b[bOff + 1] &&
    a[aOff + 2] === b[bOff + 2] &&
    a[aOff + 3] === b[bOff + 3] &&
    a[aOff + 4] === b[bOff + 4] &&
    a[aOff + 5] === b[bOff + 5]
  );
}

/** ff:ff:ff:ff:ff:ff. */
export function macIsBroadcast(buf: Uint8Array, off: number): boolean {
  return (buf[off] & buf[off + 1] & buf[off + 2] & buf[off + 3] & buf[off + 4] & buf[off + 5]) === 0xff;
}

/**
 * The I/G bit (least significant bit of the first octet, IEEE 802 section 8.2)
 * marks a group address. Broadcast counts too, as Linux is_multicast_ether_addr.
 */
export function macIsMulticast(buf: Uint8Array, off: number): boolean {
  return (buf[off] & 1) !== 0;
}

/** 00:00:00:00:00:00, never a valid station address. */
export function macIsZero(buf: Uint8Array, off: number): boolean {
  return (buf[off] | buf[off + 1] | buf[off + 2] | buf[off + 3] | buf[off + 4] | buf[off + 5]) === 0;
}

export function macSetBroadcast(buf: Uint8Array, off: number): void {
  buf[off] = 0xff;
  buf[off + 1] = 0xff;
  buf[off + 2] = 0xff;
  buf[off + 3] = 0xff;
  buf[off + 4] = 0xff;
  buf[off + 5] = 0xff;
}

/** Writes all 14 header bytes at buf[off]. */
export function ethBuildHeader(
  buf: Uint8Array,
  off: number,
  dst: Uint8Array,
  dstOff: number,
  src: Uint8Array,
  srcOff: number,
  type: number,
): void {
  macCopy(buf, off + OFF_ETH_DST, dst, dstOff);
  macCopy(buf, off + OFF_ETH_SRC, src, srcOff);
  buf[off + OFF_ETH_TYPE] = type >>> 8;
  buf[off + OFF_ETH_TYPE + 1] = type & 0xff;
}

/**
 * The source address and ethertype of a header whose destination is written already (the
 * neighbour layer writes that from its cache). One call on every frame sent.
 */
export function ethSetSourceType(buf: Uint8Array, off: number, src: Uint8Array, srcOff: number, type: number): void {
  macCopy(buf, off + OFF_ETH_SRC, src, srcOff);
  buf[off + OFF_ETH_TYPE] = type >>> 8;
  buf[off + OFF_ETH_TYPE + 1] = type & 0xff;
}

/**
 * Maps an IPv4 multicast group to its MAC address (RFC 1112 section 6.4):
 * 01:00:5e followed by the low 23 bits of the group.
 */
export function ipv4MulticastToMac(group: number, dst: Uint8Array, dstOff: number): void {
  dst[dstOff] = 0x01;
  dst[dstOff + 1] = 0x00;
  dst[dstOff + 2] = 0x5e;
  dst[dstOff + 3] = (group >>> 16) & 0x7f;
  dst[dstOff + 4] = group >>> 8;
  dst[dstOff + 5] = group;
}

// ---- Configuration-time helpers (allocate; not for per-packet paths) ----

function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30; // 0-9
  if (code >= 0x61 && code <= 0x66) return code - 0x57; // a-f
  if (code >= 0x41 && code <= 0x46) return code - 0x37; // A-F
  return -1;
}

/**
 * Parses "02:00:00:00:00:01" or "02-00-00-00-00-01" (two hex digits per
 * octet, one separator used throughout) into a new 6-byte array.
 * Throws TypeError naming the text otherwise.
 */
export function parseMac(text: string): Uint8Array {
  const bad = (): TypeError => new TypeError(`invalid MAC address '${text}'`);
  if (typeof text !== "string" || text.length !== 17) throw bad();
  const sep = text.charCodeAt(2);
  if (sep !== 0x3a /* : */ && sep !== 0x2d /* - */) throw bad();
  const mac = new Uint8Array(ETH_ALEN);
  for (let i = 0; i < ETH_ALEN; i++) {
    const p = i * 3;
    const h = hexDigit(text.charCodeAt(p));
    const l = hexDigit(text.charCodeAt(p + 1));
    if (h < 0 || l < 0) throw bad();
    if (i < ETH_ALEN - 1 && text.charCodeAt(p + 2) !== sep) throw bad();
    mac[i] = (h << 4) | l;
  }
  return mac;
}

/** Formats the 6 bytes at buf[off] as "02:00:00:00:00:01" (lower case). */
export function formatMac(buf: Uint8Array, off: number): string {
  let s = "";
  for (let i = 0; i < ETH_ALEN; i++) {
    if (i > 0) s += ":";
    const b = buf[off + i];
    s += (b < 16 ? "0" : "") + b.toString(16);
  }
  return s;
}
