// DHCP messages (RFC 2131 2, the BOOTP layout of RFC 951) and their options (RFC 2132,
// classless static routes of RFC 3442). Views over (buf, off) where off is the start of the
// message, the UDP payload:
//
//   0 op, htype, hlen, hops | 4 xid | 8 secs, flags | 12 ciaddr | 16 yiaddr | 20 siaddr
//   24 giaddr | 28 chaddr (16) | 44 sname (64) | 108 file (128) | 236 magic cookie | 240 options
//
// dhcpCheckLen is the length gate; dhcpParseOptions reads every option a client uses into a
// DhcpOptions made once and reused, and returns a fault code for what a client must not
// trust (an option running past its field, a field with no end option, a bad overload).

import { WIRE_OK, WIRE_TRUNCATED, read16, read32, write16, write32 } from "./bytes";

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
/** htype for Ethernet (RFC 1700 hardware types) */
export const DHCP_HTYPE_ETHER = 1;
/** flags: the server is to broadcast its reply (the client cannot yet receive unicast; RFC 2131 4.1) */
export const DHCP_FLAG_BROADCAST = 0x8000;

/** The fixed header and the magic cookie: the options start here. */
export const DHCP_OPTIONS_OFF = 240;
/** The smallest message a client sends (BOOTP's 300 bytes; RFC 1542 2.1 asks relays to accept no less). */
export const DHCP_MIN_LEN = 300;
/** The magic cookie 99.130.83.99 (RFC 2131 3). */
export const DHCP_MAGIC = 0x63825363;

const OFF_OP = 0;
const OFF_HTYPE = 1;
const OFF_HLEN = 2;
const OFF_XID = 4;
const OFF_SECS = 8;
const OFF_FLAGS = 10;
const OFF_CIADDR = 12;
const OFF_YIADDR = 16;
const OFF_SIADDR = 20;
const OFF_CHADDR = 28;
const OFF_SNAME = 44;
const SNAME_LEN = 64;
const OFF_FILE = 108;
const FILE_LEN = 128;
const OFF_MAGIC = 236;

// DHCP message types (option 53, RFC 2132 9.6)
export const DHCPDISCOVER = 1;
export const DHCPOFFER = 2;
export const DHCPREQUEST = 3;
export const DHCPDECLINE = 4;
export const DHCPACK = 5;
export const DHCPNAK = 6;
export const DHCPRELEASE = 7;
export const DHCPINFORM = 8;

// Option codes (RFC 2132; 121 from RFC 3442)
export const DHO_PAD = 0;
export const DHO_SUBNET_MASK = 1;
export const DHO_ROUTER = 3;
export const DHO_DNS = 6;
export const DHO_HOSTNAME = 12;
export const DHO_MTU = 26;
export const DHO_BROADCAST = 28;
export const DHO_NTP = 42;
export const DHO_REQUESTED_IP = 50;
export const DHO_LEASE_TIME = 51;
export const DHO_OVERLOAD = 52;
export const DHO_MSG_TYPE = 53;
export const DHO_SERVER_ID = 54;
export const DHO_PARAM_REQUEST = 55;
export const DHO_MESSAGE = 56;
export const DHO_MAX_MSG_SIZE = 57;
export const DHO_RENEWAL_TIME = 58;
export const DHO_REBINDING_TIME = 59;
export const DHO_CLIENT_ID = 61;
export const DHO_CLASSLESS_ROUTES = 121;
export const DHO_END = 255;

// What dhcpParseOptions refuses (after WIRE_OK and WIRE_TRUNCATED of bytes.ts).
/** The magic cookie is not 99.130.83.99: not a DHCP message (a plain BOOTP one, or noise). */
export const DHCP_BAD_MAGIC = 20;
/** An option's length byte is missing, or its data runs past the end of its field. */
export const DHCP_OPT_OVERRUN = 21;
/** A field of options ends without the end option (RFC 2131 4.1). */
export const DHCP_NO_END = 22;
/** Option overload (RFC 2132 9.3) of a value other than 1, 2 or 3, or not in the options field. */
export const DHCP_BAD_OVERLOAD = 23;

/** The DNS and NTP servers kept from one message (more are counted and left). */
export const DHCP_SERVERS_MAX = 3;
/** The classless static routes kept from one message. */
export const DHCP_ROUTES_MAX = 4;

// DhcpOptions.present bits
export const DHCP_HAS_SUBNET_MASK = 1 << 0;
export const DHCP_HAS_ROUTER = 1 << 1;
export const DHCP_HAS_LEASE_TIME = 1 << 2;
export const DHCP_HAS_SERVER_ID = 1 << 3;
export const DHCP_HAS_RENEWAL_TIME = 1 << 4;
export const DHCP_HAS_REBINDING_TIME = 1 << 5;
export const DHCP_HAS_BROADCAST = 1 << 6;
export const DHCP_HAS_MTU = 1 << 7;
export const DHCP_HAS_OVERLOAD = 1 << 8;

/**
 * What dhcpParseOptions found in one message. Create one at init and reuse it; the parse
 * resets it first. An option of a known code with a length that code cannot have is
 * skipped (counted in `ignored`), as TCP's unknown options are: the message stays usable.
 */
export class DhcpOptions {
  /** option 53, 0 when absent (a BOOTP reply) */
  msgType = 0;
  /** DHCP_HAS_* bits: which of the fields below came in the message */
  present = 0;
  subnetMask = 0;
  /** the first router of option 3 (the others are alternatives, RFC 2132 3.5) */
  router = 0;
  leaseSecs = 0;
  serverId = 0;
  renewSecs = 0;
  rebindSecs = 0;
  broadcast = 0;
  mtu = 0;
  /** option 52: 1 file, 2 sname, 3 both hold options */
  overload = 0;
  readonly dns: Uint32Array;
  dnsCount = 0;
  readonly ntp: Uint32Array;
  ntpCount = 0;
  /** option 121: destination, prefix length, router of each route */
  readonly routeDest: Uint32Array;
  readonly routeBits: Uint8Array;
  readonly routeGateway: Uint32Array;
  routeCount = 0;
  /** options of a known code with an impossible length, and servers or routes past the tables */
  ignored = 0;

  constructor() {
    this.dns = new Uint32Array(DHCP_SERVERS_MAX);
    this.ntp = new Uint32Array(DHCP_SERVERS_MAX);
    this.routeDest = new Uint32Array(DHCP_ROUTES_MAX);
    this.routeBits = new Uint8Array(DHCP_ROUTES_MAX);
    this.routeGateway = new Uint32Array(DHCP_ROUTES_MAX);
  }

  reset(): void {
    this.msgType = 0;
    this.present = 0;
    this.overload = 0;
    this.dnsCount = 0;
    this.ntpCount = 0;
    this.routeCount = 0;
    this.ignored = 0;
  }
}

// ---- The fixed header ----

export function dhcpOp(buf: Uint8Array, off: number): number {
  return buf[off + OFF_OP];
}

export function dhcpXid(buf: Uint8Array, off: number): number {
  return read32(buf, off + OFF_XID);
}

export function dhcpFlags(buf: Uint8Array, off: number): number {
  return read16(buf, off + OFF_FLAGS);
}

export function dhcpCiaddr(buf: Uint8Array, off: number): number {
  return read32(buf, off + OFF_CIADDR);
}

/** "your" address: the one the server offers or acknowledges */
export function dhcpYiaddr(buf: Uint8Array, off: number): number {
  return read32(buf, off + OFF_YIADDR);
}

export function dhcpSiaddr(buf: Uint8Array, off: number): number {
  return read32(buf, off + OFF_SIADDR);
}

/** Is the message for the Ethernet address at mac[macOff..+6] (htype, hlen and chaddr)? */
export function dhcpChaddrIs(buf: Uint8Array, off: number, mac: Uint8Array, macOff: number): boolean {
  if (buf[off + OFF_HTYPE] !== DHCP_HTYPE_ETHER || buf[off + OFF_HLEN] !== 6) return false;
  for (let i = 0; i < 6; i++) if (buf[off + OFF_CHADDR + i] !== mac[macOff + i]) return false;
  return true;
}

/**
 * The length gate: `len` bytes from off hold the fixed header and the magic cookie.
 * WIRE_OK, WIRE_TRUNCATED, or DHCP_BAD_MAGIC.
 */
export function dhcpCheckLen(buf: Uint8Array, off: number, len: number): number {
  if (len < DHCP_OPTIONS_OFF) return WIRE_TRUNCATED;
  if (read32(buf, off + OFF_MAGIC) !== DHCP_MAGIC) return DHCP_BAD_MAGIC;
  return WIRE_OK;
}

/**
 * A client's message header at off (RFC 2131 4.1, 4.4.1): BOOTREQUEST over Ethernet, zero
 * hops, siaddr, giaddr, sname and file, the magic cookie. Returns where the options go.
 */
export function dhcpBuildHeader(buf: Uint8Array, off: number, xid: number, secs: number, flags: number, ciaddr: number, mac: Uint8Array, macOff: number): number {
  buf.fill(0, off, off + DHCP_OPTIONS_OFF);
  buf[off + OFF_OP] = BOOTREQUEST;
  buf[off + OFF_HTYPE] = DHCP_HTYPE_ETHER;
  buf[off + OFF_HLEN] = 6;
  write32(buf, off + OFF_XID, xid);
  write16(buf, off + OFF_SECS, secs > 0xffff ? 0xffff : secs);
  write16(buf, off + OFF_FLAGS, flags);
  write32(buf, off + OFF_CIADDR, ciaddr);
  for (let i = 0; i < 6; i++) buf[off + OFF_CHADDR + i] = mac[macOff + i];
  write32(buf, off + OFF_MAGIC, DHCP_MAGIC);
  return off + DHCP_OPTIONS_OFF;
}

// ---- Option writers: each returns the offset after what it wrote ----

/** An option of one byte (53 message type). */
export function dhcpOptByte(buf: Uint8Array, o: number, code: number, v: number): number {
  buf[o] = code;
  buf[o + 1] = 1;
  buf[o + 2] = v;
  return o + 3;
}

/** An option of two bytes (57 maximum message size). */
export function dhcpOptU16(buf: Uint8Array, o: number, code: number, v: number): number {
  buf[o] = code;
  buf[o + 1] = 2;
  write16(buf, o + 2, v);
  return o + 4;
}

/** An option of one address or 32-bit number (50 requested address, 54 server, 51 lease time). */
export function dhcpOptU32(buf: Uint8Array, o: number, code: number, v: number): number {
  buf[o] = code;
  buf[o + 1] = 4;
  write32(buf, o + 2, v);
  return o + 6;
}

/** An option of `n` bytes (1..255) from src[srcOff..] (12 hostname, 61 client identifier). */
export function dhcpOptBytes(buf: Uint8Array, o: number, code: number, src: Uint8Array, srcOff: number, n: number): number {
  buf[o] = code;
  buf[o + 1] = n;
  for (let i = 0; i < n; i++) buf[o + 2 + i] = src[srcOff + i];
  return o + 2 + n;
}

/**
 * 55, the parameters a client asks for: subnet mask, router, DNS servers, broadcast address,
 * interface MTU, NTP servers, lease, renewal and rebinding times, classless static routes.
 */
export function dhcpOptParamRequest(buf: Uint8Array, o: number): number {
  buf[o] = DHO_PARAM_REQUEST;
  buf[o + 1] = 10;
  buf[o + 2] = DHO_SUBNET_MASK;
  buf[o + 3] = DHO_ROUTER;
  buf[o + 4] = DHO_DNS;
  buf[o + 5] = DHO_BROADCAST;
  buf[o + 6] = DHO_MTU;
  buf[o + 7] = DHO_NTP;
  buf[o + 8] = DHO_LEASE_TIME;
  buf[o + 9] = DHO_RENEWAL_TIME;
  buf[o + 10] = DHO_REBINDING_TIME;
  buf[o + 11] = DHO_CLASSLESS_ROUTES;
  return o + 12;
}

/** The end option; what follows up to `to` (a minimum message length) is padded with zeros. */
export function dhcpOptEnd(buf: Uint8Array, o: number, to: number): number {
  buf[o++] = DHO_END;
  if (o < to) {
    buf.fill(DHO_PAD, o, to);
    o = to;
  }
  return o;
}

// ---- Options reader ----

/**
 * Read the options of the message at off (`len` bytes, dhcpCheckLen passed) into `out`
 * (reset first): the options field, then `file` and `sname` when option 52 says they hold
 * options (RFC 2131 4.1: in that order). Returns WIRE_OK, DHCP_OPT_OVERRUN, DHCP_NO_END or
 * DHCP_BAD_OVERLOAD. Every step advances at least one byte inside its field, so the loops
 * are bounded by the message.
 */
export function dhcpParseOptions(buf: Uint8Array, off: number, len: number, out: DhcpOptions): number {
  out.reset();
  let fault = parseField(buf, off + DHCP_OPTIONS_OFF, off + len, out, true);
  if (fault !== WIRE_OK) return fault;
  const overload = out.overload;
  if (overload === 0) return WIRE_OK;
  if (overload > 3) return DHCP_BAD_OVERLOAD;
  if ((overload & 1) !== 0) fault = parseField(buf, off + OFF_FILE, off + OFF_FILE + FILE_LEN, out, false);
  if (fault === WIRE_OK && (overload & 2) !== 0) fault = parseField(buf, off + OFF_SNAME, off + OFF_SNAME + SNAME_LEN, out, false);
  return fault;
}

/** One field of options, [at, end): until the end option, which must come. */
function parseField(buf: Uint8Array, at: number, end: number, out: DhcpOptions, main: boolean): number {
  while (at < end) {
    const code = buf[at];
    if (code === DHO_END) return WIRE_OK;
    if (code === DHO_PAD) {
      at++;
      continue;
    }
    if (at + 1 >= end) return DHCP_OPT_OVERRUN;
    const n = buf[at + 1];
    const data = at + 2;
    if (data + n > end) return DHCP_OPT_OVERRUN;
    if (code === DHO_OVERLOAD) {
      // Only the options field may say where more options are (RFC 2132 9.3).
      if (!main || n !== 1) return DHCP_BAD_OVERLOAD;
      out.overload = buf[data];
      out.present |= DHCP_HAS_OVERLOAD;
    } else {
      readOption(buf, code, data, n, out);
    }
    at = data + n;
  }
  return DHCP_NO_END;
}

/** One option's data (n bytes at data) into out, when its code is one a client uses. */
function readOption(buf: Uint8Array, code: number, data: number, n: number, out: DhcpOptions): void {
  switch (code) {
    case DHO_MSG_TYPE:
      if (n === 1) out.msgType = buf[data];
      else out.ignored++;
      return;
    case DHO_SUBNET_MASK:
      return readU32(buf, data, n, out, DHCP_HAS_SUBNET_MASK);
    case DHO_LEASE_TIME:
      return readU32(buf, data, n, out, DHCP_HAS_LEASE_TIME);
    case DHO_SERVER_ID:
      return readU32(buf, data, n, out, DHCP_HAS_SERVER_ID);
    case DHO_RENEWAL_TIME:
      return readU32(buf, data, n, out, DHCP_HAS_RENEWAL_TIME);
    case DHO_REBINDING_TIME:
      return readU32(buf, data, n, out, DHCP_HAS_REBINDING_TIME);
    case DHO_BROADCAST:
      return readU32(buf, data, n, out, DHCP_HAS_BROADCAST);
    case DHO_ROUTER:
      // One or more routers, in order of preference (RFC 2132 3.5): the first.
      if (n >= 4 && (n & 3) === 0) {
        out.router = read32(buf, data);
        out.present |= DHCP_HAS_ROUTER;
      } else {
        out.ignored++;
      }
      return;
    case DHO_MTU:
      // At least 68 (RFC 2132 5.1).
      if (n === 2 && read16(buf, data) >= 68) {
        out.mtu = read16(buf, data);
        out.present |= DHCP_HAS_MTU;
      } else {
        out.ignored++;
      }
      return;
    case DHO_DNS:
    case DHO_NTP:
      return readServers(buf, data, n, out, code === DHO_DNS ? out.dns : out.ntp, code);
    case DHO_CLASSLESS_ROUTES:
      return readRoutes(buf, data, n, out);
    default:
      return; // a code this client does not use: skipped by its length
  }
}

function readU32(buf: Uint8Array, data: number, n: number, out: DhcpOptions, bit: number): void {
  if (n !== 4) {
    out.ignored++;
    return;
  }
  const v = read32(buf, data);
  switch (bit) {
    case DHCP_HAS_SUBNET_MASK: out.subnetMask = v; break;
    case DHCP_HAS_LEASE_TIME: out.leaseSecs = v; break;
    case DHCP_HAS_SERVER_ID: out.serverId = v; break;
    case DHCP_HAS_RENEWAL_TIME: out.renewSecs = v; break;
    case DHCP_HAS_REBINDING_TIME: out.rebindSecs = v; break;
    default: out.broadcast = v; break;
  }
  out.present |= bit;
}

/** A list of addresses (6 DNS, 42 NTP): kept up to DHCP_SERVERS_MAX, in order (RFC 3396: a repeated option continues the list). */
function readServers(buf: Uint8Array, data: number, n: number, out: DhcpOptions, table: Uint32Array, code: number): void {
  if (n < 4 || (n & 3) !== 0) {
    out.ignored++;
    return;
  }
  let count = code === DHO_DNS ? out.dnsCount : out.ntpCount;
  for (let i = 0; i < n; i += 4) {
    if (count < table.length) table[count++] = read32(buf, data + i);
    else out.ignored++;
  }
  if (code === DHO_DNS) out.dnsCount = count;
  else out.ntpCount = count;
}

/**
 * RFC 3442: each route is a prefix length (0..32), the significant octets of the destination
 * (ceil(length / 8)), and the router. A route past the option's end, or a length over 32,
 * makes the whole option unusable (3442 says to ignore it); kept up to DHCP_ROUTES_MAX.
 */
function readRoutes(buf: Uint8Array, data: number, n: number, out: DhcpOptions): void {
  const end = data + n;
  let at = data;
  let count = 0;
  while (at < end) {
    const bits = buf[at];
    const octets = (bits + 7) >>> 3;
    if (bits > 32 || at + 1 + octets + 4 > end) {
      out.routeCount = 0;
      out.ignored++;
      return;
    }
    let dest = 0;
    for (let i = 0; i < 4; i++) dest = (dest << 8) | (i < octets ? buf[at + 1 + i] : 0);
    if (count < DHCP_ROUTES_MAX) {
      out.routeDest[count] = dest >>> 0;
      out.routeBits[count] = bits;
      out.routeGateway[count] = read32(buf, at + 1 + octets);
      count++;
    } else {
      out.ignored++;
    }
    at += 1 + octets + 4;
  }
  out.routeCount = count;
}
