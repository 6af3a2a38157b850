// IGMP messages (RFC 2236 2 for versions 1 and 2, RFC 3376 4 for version 3). Views over
// (buf, off) where off is the start of the IGMP message, the IP payload.
//
//   v1/v2: 0 type | 1 max resp time (v2, tenths of a second) | 2 checksum | 4 group
//   v3 query: as v2, then 8 resv(4) S QRV(3) | 9 QQIC | 10 sources (n) | 12 sources...
//   v3 report: 0 type 0x22 | 2 checksum | 6 records (n) | 8 records: type, aux len (words),
//     sources (n), group, sources..., aux data

import { WIRE_OK, WIRE_TRUNCATED, read16, read32, write16, write32 } from "./bytes";
import { csumFold, csumPartial } from "./checksum";

export const IGMP_HLEN = 8;
/** A version 3 query is at least 12 bytes (RFC 3376 7.1: a version 2 query is exactly 8). */
export const IGMP_V3_QUERY_MIN = 12;

export const IGMP_MEMBERSHIP_QUERY = 0x11;
export const IGMP_V1_MEMBERSHIP_REPORT = 0x12;
export const IGMP_V2_MEMBERSHIP_REPORT = 0x16;
export const IGMP_V2_LEAVE_GROUP = 0x17;
export const IGMP_V3_MEMBERSHIP_REPORT = 0x22;

/** All systems (RFC 1112: joined by every host, never reported). */
export const IGMP_ALL_HOSTS = 0xe0000001;
/** All routers: where a version 2 leave goes (RFC 2236 3). */
export const IGMP_ALL_ROUTERS = 0xe0000002;
/** All IGMPv3-capable routers: where a version 3 report goes (RFC 3376 4.2.14). */
export const IGMP_V3_ROUTERS = 0xe0000016;

// version 3 group record types (RFC 3376 4.2.12)
export const IGMPV3_MODE_IS_INCLUDE = 1;
export const IGMPV3_MODE_IS_EXCLUDE = 2;
export const IGMPV3_CHANGE_TO_INCLUDE = 3;
export const IGMPV3_CHANGE_TO_EXCLUDE = 4;
/** A group record with no sources: type, aux length, source count, group. */
export const IGMPV3_RECORD_LEN = 8;

export function igmpType(buf: Uint8Array, off: number): number {
  return buf[off];
}

/** Max resp code (byte 1): in a version 1 query 0. */
export function igmpMaxRespCode(buf: Uint8Array, off: number): number {
  return buf[off + 1];
}

export function igmpGroup(buf: Uint8Array, off: number): number {
  return read32(buf, off + 4);
}

/** The length gate: the 8 bytes every message has. */
export function igmpCheckLen(len: number): number {
  return len < IGMP_HLEN ? WIRE_TRUNCATED : WIRE_OK;
}

/**
 * How long a query gives for the answer, in ms (RFC 3376 4.1.1): the code in tenths of a
 * second, or from 128 a floating-point form, (mant | 0x10) << (exp + 3). A version 2 query
 * (8 bytes) uses the plain form; a version 1 query (code 0) means 10 s (RFC 2236 4).
 */
export function igmpMaxRespMs(code: number, v3: boolean): number {
  // Code 0: a version 1 query (10 s, RFC 2236 4); in version 3, answer at once (RFC 3376
  // 4.1.1: 0 s; 1 ms here, as Linux takes one tick).
  if (code === 0) return v3 ? 1 : 10_000;
  if (!v3 || code < 128) return code * 100;
  return (((code & 0x0f) | 0x10) << (((code >>> 4) & 7) + 3)) * 100;
}

/** A version 1 or 2 message of 8 bytes (report or leave) at off, its checksum included. */
export function igmpBuildV2(buf: Uint8Array, off: number, type: number, group: number): number {
  buf[off] = type;
  buf[off + 1] = 0;
  write16(buf, off + 2, 0);
  write32(buf, off + 4, group);
  igmpFinish(buf, off, IGMP_HLEN);
  return off + IGMP_HLEN;
}

/** A version 3 report's header for `records` group records (its checksum, once they are written, by igmpFinish). */
export function igmpBuildV3ReportHeader(buf: Uint8Array, off: number, records: number): number {
  buf[off] = IGMP_V3_MEMBERSHIP_REPORT;
  buf[off + 1] = 0;
  write16(buf, off + 2, 0);
  write16(buf, off + 4, 0);
  write16(buf, off + 6, records);
  return off + IGMP_HLEN;
}

/** A version 3 group record with no sources (what a host that joins a whole group reports). */
export function igmpV3Record(buf: Uint8Array, o: number, recordType: number, group: number): number {
  buf[o] = recordType;
  buf[o + 1] = 0;
  write16(buf, o + 2, 0);
  write32(buf, o + 4, group);
  return o + IGMPV3_RECORD_LEN;
}

/** The checksum of the `len`-byte message at off (RFC 2236 2.3: the Internet checksum of the whole message). */
export function igmpFinish(buf: Uint8Array, off: number, len: number): void {
  write16(buf, off + 2, 0);
  write16(buf, off + 2, csumFold(csumPartial(buf, off, len, 0)));
}

export function igmpCheck(buf: Uint8Array, off: number): number {
  return read16(buf, off + 2);
}
