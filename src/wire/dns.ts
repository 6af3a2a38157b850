// DNS messages (RFC 1035 4.1): views over (buf, msg, end) where msg is the start of the
// message (the UDP payload) and end the offset after its last byte. Compression pointers
// (RFC 1035 4.1.4) count from msg. Names are read in place and compared in place, never
// made into strings; every loop is bounded by the message and by the 255-byte name limit.
//
//   0 id | 2 flags: QR opcode(4) AA TC RD RA Z(3) RCODE(4) | 4 qdcount | 6 ancount
//   8 nscount | 10 arcount | 12 questions (name, type, class) then records
//   (name, type, class, ttl(4), rdlength, rdata)

import { WIRE_OK, WIRE_TRUNCATED, read16, read32, write16 } from "./bytes";

export const DNS_PORT = 53;
export const DNS_HLEN = 12;
/** The longest name, in its wire form (RFC 1035 2.3.4), and the longest label. */
export const DNS_NAME_MAX = 255;
export const DNS_LABEL_MAX = 63;
/** Pointers one name may follow: one per label of the longest name (127), and one more. */
export const DNS_POINTER_HOPS_MAX = 128;

// flags
export const DNS_QR = 0x8000;
export const DNS_AA = 0x0400;
export const DNS_TC = 0x0200;
export const DNS_RD = 0x0100;
export const DNS_RA = 0x0080;
export const DNS_OPCODE_MASK = 0x7800;
export const DNS_RCODE_MASK = 0x000f;
export const DNS_RCODE_NOERROR = 0;
export const DNS_RCODE_FORMERR = 1;
export const DNS_RCODE_SERVFAIL = 2;
export const DNS_RCODE_NXDOMAIN = 3;

// types and class (RFC 1035 3.2.2, 3.2.4; AAAA RFC 3596; SRV RFC 2782)
export const DNS_TYPE_A = 1;
export const DNS_TYPE_NS = 2;
export const DNS_TYPE_CNAME = 5;
export const DNS_TYPE_SOA = 6;
export const DNS_TYPE_PTR = 12;
export const DNS_TYPE_TXT = 16;
export const DNS_TYPE_AAAA = 28;
export const DNS_TYPE_SRV = 33;
export const DNS_TYPE_ANY = 255;
export const DNS_CLASS_IN = 1;

// What the readers refuse (after WIRE_OK and WIRE_TRUNCATED of bytes.ts).
/**
 * A name that is not one: a label of the reserved kinds (0x40, 0x80), a label or name over
 * the limits, a pointer that does not point back before itself (a loop or a forward jump),
 * or one that runs past the message.
 */
export const DNS_BAD_NAME = 30;
/** A question or record runs past the message (counts that the message does not hold). */
export const DNS_RR_BEYOND = 31;

export function dnsId(buf: Uint8Array, msg: number): number {
  return read16(buf, msg);
}

export function dnsFlags(buf: Uint8Array, msg: number): number {
  return read16(buf, msg + 2);
}

export function dnsQdCount(buf: Uint8Array, msg: number): number {
  return read16(buf, msg + 4);
}

export function dnsAnCount(buf: Uint8Array, msg: number): number {
  return read16(buf, msg + 6);
}

export function dnsNsCount(buf: Uint8Array, msg: number): number {
  return read16(buf, msg + 8);
}

export function dnsArCount(buf: Uint8Array, msg: number): number {
  return read16(buf, msg + 10);
}

/** The length gate: the 12-byte header is there. */
export function dnsCheckLen(len: number): number {
  return len < DNS_HLEN ? WIRE_TRUNCATED : WIRE_OK;
}

/** Write a header at msg: id, flags and the four counts. Returns where the questions go. */
export function dnsBuildHeader(buf: Uint8Array, msg: number, id: number, flags: number, qd: number, an: number, ns: number, ar: number): number {
  write16(buf, msg, id);
  write16(buf, msg + 2, flags);
  write16(buf, msg + 4, qd);
  write16(buf, msg + 6, an);
  write16(buf, msg + 8, ns);
  write16(buf, msg + 10, ar);
  return msg + DNS_HLEN;
}

/**
 * Write `name` (dotted, ASCII, a trailing dot allowed) at o in wire form, uncompressed;
 * returns the offset after it, or -1 when it is not a name: an empty label, a label over 63
 * bytes, the whole over 255, a character outside 0x21..0x7e. buf must have 256 bytes from o.
 */
export function dnsWriteName(buf: Uint8Array, o: number, name: string): number {
  const n = name.length > 0 && name.charCodeAt(name.length - 1) === 0x2e ? name.length - 1 : name.length;
  if (n === 0 || n + 2 > DNS_NAME_MAX) return -1;
  let lenAt = o;
  let at = o + 1;
  for (let i = 0; i < n; i++) {
    const ch = name.charCodeAt(i);
    if (ch === 0x2e) {
      const label = at - lenAt - 1;
      if (label === 0) return -1;
      buf[lenAt] = label;
      lenAt = at++;
      continue;
    }
    if (ch < 0x21 || ch > 0x7e || at - lenAt - 1 >= DNS_LABEL_MAX) return -1;
    buf[at++] = ch;
  }
  const last = at - lenAt - 1;
  if (last === 0) return -1;
  buf[lenAt] = last;
  buf[at++] = 0;
  return at;
}

/** A question after its name: type and class. Returns the offset after it. */
export function dnsWriteQuestionTail(buf: Uint8Array, o: number, type: number, klass: number): number {
  write16(buf, o, type);
  write16(buf, o + 2, klass);
  return o + 4;
}

/**
 * The offset after the name at `at` in place (its pointer, if it ends in one), or -1 for a
 * name that is not one (DNS_BAD_NAME's cases). Follows the pointers to check the whole name.
 */
export function dnsSkipName(buf: Uint8Array, msg: number, end: number, at: number): number {
  let after = -1;
  let total = 0;
  let limit = at; // a pointer must point before the name part that holds it
  let hops = 0;
  for (;;) {
    if (at >= end) return -1;
    const len = buf[at];
    if (len === 0) return after >= 0 ? after : at + 1;
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= end) return -1;
      const target = msg + (((len & 0x3f) << 8) | buf[at + 1]);
      if (after < 0) after = at + 2;
      // Strictly backwards, before every part already read: no loop, no forward jump. And at
      // most DNS_POINTER_HOPS_MAX of them (a chain of pointers each to the one before holds
      // no label: a name of 255 bytes never needs more), the bound labelAt relies on.
      if (target >= limit || ++hops > DNS_POINTER_HOPS_MAX) return -1;
      limit = target;
      at = target;
      continue;
    }
    if ((len & 0xc0) !== 0) return -1; // 0x40 and 0x80: reserved label kinds
    total += len + 1;
    if (total + 1 > DNS_NAME_MAX || at + 1 + len > end) return -1;
    at += 1 + len;
  }
}

/**
 * Are the names at a and b (each in place in the message, compressed or not) the same,
 * ASCII case aside (RFC 4343)? Both must be names (dnsSkipName accepted them).
 */
export function dnsNamesEqual(buf: Uint8Array, msg: number, a: number, b: number): boolean {
  for (let steps = 0; steps < DNS_NAME_MAX; steps++) {
    a = labelAt(buf, msg, a);
    b = labelAt(buf, msg, b);
    const len = buf[a];
    if (len !== buf[b]) return false;
    if (len === 0) return true;
    for (let i = 1; i <= len; i++) if (lower(buf[a + i]) !== lower(buf[b + i])) return false;
    a += 1 + len;
    b += 1 + len;
  }
  return false;
}

/**
 * Is the name at `at` (checked by dnsSkipName) `name` (dotted, a trailing dot allowed),
 * ASCII case aside?
 */
export function dnsNameIs(buf: Uint8Array, msg: number, at: number, name: string): boolean {
  const n = name.length > 0 && name.charCodeAt(name.length - 1) === 0x2e ? name.length - 1 : name.length;
  let i = 0;
  for (let steps = 0; steps < DNS_NAME_MAX; steps++) {
    at = labelAt(buf, msg, at);
    const len = buf[at];
    if (len === 0) return i >= n;
    if (i > 0) {
      if (i >= n || name.charCodeAt(i) !== 0x2e) return false;
      i++;
    }
    for (let k = 1; k <= len; k++, i++) {
      if (i >= n || lower(buf[at + k]) !== lower(name.charCodeAt(i))) return false;
    }
    at += 1 + len;
  }
  return false;
}

/**
 * Copy the name at `at` (checked by dnsSkipName) to dst at o in uncompressed wire form,
 * lower case (RFC 4343: the copy compares byte for byte). Returns its length (at most 255).
 */
export function dnsCopyName(buf: Uint8Array, msg: number, at: number, dst: Uint8Array, o: number): number {
  let n = 0;
  for (let steps = 0; steps < DNS_NAME_MAX; steps++) {
    at = labelAt(buf, msg, at);
    const len = buf[at];
    if (len === 0 || n + len + 2 > DNS_NAME_MAX) break;
    dst[o + n] = len;
    for (let i = 1; i <= len; i++) dst[o + n + i] = lower(buf[at + i]);
    n += 1 + len;
    at += 1 + len;
  }
  dst[o + n] = 0;
  return n + 1;
}

/**
 * Where the label at `at` really is: after the pointers of a name dnsSkipName checked (at
 * most DNS_POINTER_HOPS_MAX of them).
 */
function labelAt(buf: Uint8Array, msg: number, at: number): number {
  for (let hops = 0; hops < DNS_POINTER_HOPS_MAX && (buf[at] & 0xc0) === 0xc0; hops++) at = msg + (((buf[at] & 0x3f) << 8) | buf[at + 1]);
  return at;
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/**
 * One resource record (RFC 1035 4.1.3) as dnsReadRecord found it. Create one at init and
 * reuse it.
 */
export class DnsRecord {
  /** where the owner name starts (in place; compare it with dnsNameIs, dnsNamesEqual) */
  nameAt = 0;
  type = 0;
  klass = 0;
  /** seconds; RFC 2181 8: a value with the top bit set is taken as 0 */
  ttl = 0;
  rdataAt = 0;
  rdLength = 0;
  /** the offset after the record */
  next = 0;
}

/** The offset after the question at `at` (name, type, class), or -1 (DNS_BAD_NAME, DNS_RR_BEYOND). */
export function dnsSkipQuestion(buf: Uint8Array, msg: number, end: number, at: number): number {
  const after = dnsSkipName(buf, msg, end, at);
  if (after < 0 || after + 4 > end) return -1;
  return after + 4;
}

/**
 * Read the record at `at` into `out`. WIRE_OK, DNS_BAD_NAME (its owner name), or
 * DNS_RR_BEYOND (its fixed part or its rdata past the end).
 */
export function dnsReadRecord(buf: Uint8Array, msg: number, end: number, at: number, out: DnsRecord): number {
  const after = dnsSkipName(buf, msg, end, at);
  if (after < 0) return DNS_BAD_NAME;
  if (after + 10 > end) return DNS_RR_BEYOND;
  const rdLength = read16(buf, after + 8);
  if (after + 10 + rdLength > end) return DNS_RR_BEYOND;
  const ttl = read32(buf, after + 4);
  out.nameAt = at;
  out.type = read16(buf, after);
  out.klass = read16(buf, after + 2);
  out.ttl = ttl > 0x7fffffff ? 0 : ttl;
  out.rdataAt = after + 10;
  out.rdLength = rdLength;
  out.next = after + 10 + rdLength;
  return WIRE_OK;
}

// Multicast DNS (RFC 6762) on the same format: its port and group, and the top bit of a
// class, which asks for a unicast answer in a question (QU, 5.4) and flushes the rest of the
// record set from caches in an answer (cache-flush, 10.2).
export const MDNS_PORT = 5353;
export const MDNS_GROUP = "224.0.0.251";
export const DNS_CLASS_MDNS_BIT = 0x8000;

/**
 * Write one label (ASCII 0x20..0x7e, 1..63 bytes; a DNS-SD instance name may hold spaces and
 * dots, RFC 6763 4.3) at o; returns the offset after it, or -1 when it is not one.
 */
export function dnsWriteLabel(buf: Uint8Array, o: number, label: string): number {
  const n = label.length;
  if (n === 0 || n > DNS_LABEL_MAX) return -1;
  for (let i = 0; i < n; i++) {
    const ch = label.charCodeAt(i);
    if (ch < 0x20 || ch > 0x7e) return -1;
    buf[o + 1 + i] = ch;
  }
  buf[o] = n;
  return o + 1 + n;
}

/**
 * A record's fixed part after its owner name (RFC 1035 4.1.3): type, class, ttl, rdlength.
 * Returns where the rdata goes.
 */
export function dnsWriteRecordTail(buf: Uint8Array, o: number, type: number, klass: number, ttl: number, rdLength: number): number {
  write16(buf, o, type);
  write16(buf, o + 2, klass);
  write16(buf, o + 4, ttl >>> 16);
  write16(buf, o + 6, ttl & 0xffff);
  write16(buf, o + 8, rdLength);
  return o + 10;
}

/** The length of the uncompressed wire name at `at` in `wire` (its labels and the root). */
export function dnsWireNameLength(wire: Uint8Array, at: number): number {
  let o = at;
  for (let steps = 0; steps < DNS_NAME_MAX && o < wire.length && wire[o] !== 0; steps++) o += 1 + wire[o];
  return o + 1 - at;
}

/**
 * Is the name at `at` in the message (checked by dnsSkipName, maybe compressed) the
 * uncompressed wire name at `wireAt` in `wire`, ASCII case aside?
 */
export function dnsNameIsWire(buf: Uint8Array, msg: number, at: number, wire: Uint8Array, wireAt: number): boolean {
  for (let steps = 0; steps < DNS_NAME_MAX; steps++) {
    at = labelAt(buf, msg, at);
    const len = buf[at];
    if (wireAt >= wire.length || len !== wire[wireAt]) return false;
    if (len === 0) return true;
    if (wireAt + 1 + len > wire.length) return false;
    for (let i = 1; i <= len; i++) if (lower(buf[at + i]) !== lower(wire[wireAt + i])) return false;
    at += 1 + len;
    wireAt += 1 + len;
  }
  return false;
}
