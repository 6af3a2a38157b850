// NTP messages as SNTP uses them (RFC 4330 4, the layout of RFC 5905 7.3): 48 bytes, views
// over (buf, off) where off is the start of the message, the UDP payload.
//
//   0 LI(2) VN(3) Mode(3) | 1 stratum | 2 poll | 3 precision | 4 root delay | 8 root dispersion
//   12 reference id | 16 reference | 24 originate | 32 receive | 40 transmit timestamp
//
// Timestamps are 64-bit: seconds since 1900 (32 bits) and a binary fraction (32 bits),
// handled as the two words; ntpToUnixMs turns a pair into milliseconds since 1970.

import { WIRE_OK, WIRE_TRUNCATED, read32, write32 } from "./bytes";

export const NTP_PORT = 123;
export const NTP_LEN = 48;

export const NTP_MODE_CLIENT = 3;
export const NTP_MODE_SERVER = 4;
export const NTP_MODE_BROADCAST = 5;
/** leap indicator 3: the server's clock is not synchronized (RFC 4330 5) */
export const NTP_LI_ALARM = 3;
/** Seconds from 1900-01-01 (NTP's era 0) to 1970-01-01. */
export const NTP_UNIX_OFFSET_S = 2208988800;

const OFF_LI_VN_MODE = 0;
const OFF_STRATUM = 1;
const OFF_REFID = 12;
const OFF_ORIGINATE = 24;
const OFF_RECEIVE = 32;
const OFF_TRANSMIT = 40;

// What ntpCheckReply refuses (after WIRE_OK and WIRE_TRUNCATED of bytes.ts), RFC 4330 5.
/** Not a server's reply: the mode is not 4 (or 5, where broadcast is accepted) or the version not 1..4. */
export const NTP_BAD_MODE = 40;
/** The originate timestamp is not the transmit timestamp of our request: not an answer to it. */
export const NTP_NOT_OURS = 41;
/** Stratum 0: a kiss-o'-death message; its code is in the reference id (ntpKissCode). */
export const NTP_KISS = 42;
/** Unsynchronized (leap indicator 3), stratum over 15, or a transmit timestamp of 0. */
export const NTP_UNSYNCED = 43;

export function ntpLeap(buf: Uint8Array, off: number): number {
  return buf[off + OFF_LI_VN_MODE] >>> 6;
}

export function ntpVersion(buf: Uint8Array, off: number): number {
  return (buf[off + OFF_LI_VN_MODE] >>> 3) & 7;
}

export function ntpMode(buf: Uint8Array, off: number): number {
  return buf[off + OFF_LI_VN_MODE] & 7;
}

export function ntpStratum(buf: Uint8Array, off: number): number {
  return buf[off + OFF_STRATUM];
}

/** The reference id: in a kiss-o'-death, four ASCII letters (RATE, DENY, RSTR...) as one word. */
export function ntpKissCode(buf: Uint8Array, off: number): number {
  return read32(buf, off + OFF_REFID);
}

/** The kiss codes a client acts on (RFC 4330 8): stop asking this server, or ask less often. */
export const NTP_KISS_DENY = 0x44454e59;
export const NTP_KISS_RSTR = 0x52535452;
export const NTP_KISS_RATE = 0x52415445;

export function ntpReceiveSec(buf: Uint8Array, off: number): number {
  return read32(buf, off + OFF_RECEIVE);
}

export function ntpReceiveFrac(buf: Uint8Array, off: number): number {
  return read32(buf, off + OFF_RECEIVE + 4);
}

export function ntpTransmitSec(buf: Uint8Array, off: number): number {
  return read32(buf, off + OFF_TRANSMIT);
}

export function ntpTransmitFrac(buf: Uint8Array, off: number): number {
  return read32(buf, off + OFF_TRANSMIT + 4);
}

/**
 * A client's request at off (RFC 4330 5): version 4, mode 3, everything zero but the transmit
 * timestamp, which the server copies into its reply's originate field. A client that does
 * not want to reveal its clock puts a random value there (RFC 4330 5 allows any): the reply
 * is matched by it. Returns the offset after the message.
 */
export function ntpBuildRequest(buf: Uint8Array, off: number, txSec: number, txFrac: number): number {
  buf.fill(0, off, off + NTP_LEN);
  buf[off + OFF_LI_VN_MODE] = (4 << 3) | NTP_MODE_CLIENT;
  write32(buf, off + OFF_TRANSMIT, txSec);
  write32(buf, off + OFF_TRANSMIT + 4, txFrac);
  return off + NTP_LEN;
}

/**
 * The checks a client makes of a reply (RFC 4330 5), `len` bytes at off, to the request that
 * carried (txSec, txFrac): WIRE_OK, WIRE_TRUNCATED, NTP_BAD_MODE, NTP_NOT_OURS, NTP_KISS or
 * NTP_UNSYNCED, in that order (a kiss is known to be for us before it is acted on).
 */
export function ntpCheckReply(buf: Uint8Array, off: number, len: number, txSec: number, txFrac: number): number {
  if (len < NTP_LEN) return WIRE_TRUNCATED;
  const version = ntpVersion(buf, off);
  const mode = ntpMode(buf, off);
  if (version < 1 || version > 4 || (mode !== NTP_MODE_SERVER && mode !== NTP_MODE_BROADCAST)) return NTP_BAD_MODE;
  if (read32(buf, off + OFF_ORIGINATE) !== txSec || read32(buf, off + OFF_ORIGINATE + 4) !== txFrac) return NTP_NOT_OURS;
  const stratum = ntpStratum(buf, off);
  if (stratum === 0) return NTP_KISS;
  if (ntpLeap(buf, off) === NTP_LI_ALARM || stratum > 15 || (ntpTransmitSec(buf, off) === 0 && ntpTransmitFrac(buf, off) === 0)) return NTP_UNSYNCED;
  return WIRE_OK;
}

/**
 * Milliseconds since 1970 of an NTP timestamp (sec, frac). Seconds below 2^31 are taken to
 * be in era 1 (from 2036-02-07 on: RFC 4330 3, the rule for the wrap), the rest in era 0.
 */
export function ntpToUnixMs(sec: number, frac: number): number {
  const era = sec < 0x80000000 ? 0x100000000 : 0;
  return (sec + era - NTP_UNIX_OFFSET_S) * 1000 + (frac / 0x100000000) * 1000;
}
