// Packets for tests: Ethernet, ARP, IPv4, ICMP, UDP and TCP built with the wire views'
// builders and setters (src/wire), with options for the malformed cases tests feed a stack
// (a bad or absent checksum, lengths that lie, raw option bytes), and plain readers of what
// a stack sent. Test code only: it allocates freely.

import { arpBuild, arpOp, arpSpa, arpTpa, ARP_HLEN, OFF_ARP_SHA, OFF_ARP_THA } from "../src/wire/arp";
import { csumFold, csumPartial, csumPseudoHeader } from "../src/wire/checksum";
import { ETH_HLEN, ETH_P_ARP, ETH_P_IP, ETH_ZLEN, ethBuildHeader, ethType, parseMac } from "../src/wire/ethernet";
import { ICMP_ECHO, ICMP_HLEN, icmpBuildHeader, setIcmpCheck } from "../src/wire/icmp";
import {
  IPPROTO_TCP, IPPROTO_UDP, IPV4_HLEN, IP_DF, IP_MF, IP_OFFMASK, ipBuildHeader, ipDaddr, ipFragField, ipHeaderChecksum,
  ipId, ipIhlBytes, ipProto, ipSaddr, ipTos, ipTotLen, ipTtl, parseIpv4, setIpCheck, setIpVersionIhl,
} from "../src/wire/ipv4";
import {
  TCP_ACK, TCP_FIN, TCP_HLEN, TCP_PSH, TCP_RST, TCP_SYN, TcpOptions, setTcpCheck, setTcpDoffBytes, tcpAckSeq, tcpBuildHeader, tcpDoffBytes, tcpDport, tcpFlags,
  tcpParseOptions, tcpSeq, tcpSport, tcpWindow, tcpWriteOptMss, tcpWriteOptSackPerm, tcpWriteOptTimestamp,
} from "../src/wire/tcp";
import { UDP_CSUM_MANGLED_0, UDP_HLEN, setUdpCheck, udpBuildHeader } from "../src/wire/udp";
import { xorshift32 } from "./wire/fixtures";

export const mac = parseMac;
export const ip = parseIpv4;
export const BCAST_MAC = mac("ff:ff:ff:ff:ff:ff");

// ---------------------------------------------------------------- bytes

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Bytes from a seed (the low byte of each xorshift32 step), for payloads. */
export function patternBytes(len: number, seed: number): Uint8Array {
  const next = xorshift32(seed);
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = next() & 0xff;
  return out;
}

/** The Internet checksum of bytes[off..off+len) (0 when they carry a good one). */
export function checksum(bytes: Uint8Array, off = 0, len = bytes.length - off): number {
  return csumFold(csumPartial(bytes, off, len, 0));
}

/** What a checksum field holds: the right sum, a wrong one, or zero (UDP: none computed). */
export type Check = "good" | "bad" | "zero";

/** The value to store for `check`, given the right one: a wrong one differs in two bits. */
function stored(check: Check, good: number): number {
  return check === "zero" ? 0 : check === "bad" ? good ^ 0x0101 : good;
}

// ---------------------------------------------------------------- Ethernet, ARP

export function ethFrame(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(ETH_HLEN + payload.length);
  ethBuildHeader(f, 0, dst, 0, src, 0, type);
  f.set(payload, ETH_HLEN);
  return f;
}

/** A frame padded to the 60-byte minimum as it comes off the wire, with `fill` bytes. */
export function padFrame(frame: Uint8Array, fill = 0): Uint8Array {
  return frame.length >= ETH_ZLEN ? frame : concat(frame, new Uint8Array(ETH_ZLEN - frame.length).fill(fill));
}

export function arpPacket(op: number, sha: Uint8Array, spa: number, tha: Uint8Array, tpa: number): Uint8Array {
  const a = new Uint8Array(ARP_HLEN);
  arpBuild(a, 0, op, sha, 0, spa, tha, 0, tpa);
  return a;
}

/** An ARP packet in an Ethernet frame from its sender's MAC. */
export function arpFrame(dst: Uint8Array, op: number, sha: Uint8Array, spa: number, tha: Uint8Array, tpa: number): Uint8Array {
  return ethFrame(dst, sha, ETH_P_ARP, arpPacket(op, sha, spa, tha, tpa));
}

// ---------------------------------------------------------------- IPv4

export interface Ipv4Fields {
  src: number;
  dst: number;
  proto: number;
  payload: Uint8Array;
  ttl?: number;
  id?: number;
  tos?: number;
  /** flags and fragment offset (in 8-byte units), raw 16 bits */
  frag?: number;
  /** header length in 32-bit words (options zero-filled unless given); under 5 keeps 20 bytes of header */
  ihlWords?: number;
  /** option bytes at byte 20, as given (the header length is the caller's: ihlWords) */
  options?: ArrayLike<number>;
  version?: number;
  /** override the total length field */
  totLen?: number;
  /** store a wrong header checksum */
  badChecksum?: boolean;
}

export function ipv4Packet(f: Ipv4Fields): Uint8Array {
  const ihlBytes = (f.ihlWords ?? 5) * 4;
  const hlen = Math.max(ihlBytes, IPV4_HLEN);
  const p = new Uint8Array(hlen + f.payload.length);
  ipBuildHeader(p, 0, f.tos ?? 0, f.totLen ?? p.length, f.id ?? 0x1234, f.frag ?? 0, f.ttl ?? 64, f.proto, f.src, f.dst);
  setIpVersionIhl(p, 0, ihlBytes);
  // A version other than 4 has no setter: the malformed case writes its nibble itself.
  if (f.version !== undefined) p[0] = (f.version << 4) | (p[0] & 0x0f);
  if (f.options !== undefined) p.set(f.options, IPV4_HLEN);
  p.set(f.payload, hlen);
  const good = ipHeaderChecksum(p, 0, hlen);
  setIpCheck(p, 0, f.badChecksum === true ? good ^ 0x0101 : good);
  return p;
}

export function ipFrame(dst: Uint8Array, src: Uint8Array, f: Ipv4Fields): Uint8Array {
  return ethFrame(dst, src, ETH_P_IP, ipv4Packet(f));
}

// ---------------------------------------------------------------- ICMP

/** An ICMP message with its checksum; rest32 is the word after the checksum (id << 16 | seq for echo). */
export function icmpMessage(type: number, code: number, rest32: number, data: Uint8Array): Uint8Array {
  const m = new Uint8Array(ICMP_HLEN + data.length);
  icmpBuildHeader(m, 0, type, code, rest32 >>> 0);
  m.set(data, ICMP_HLEN);
  setIcmpCheck(m, 0, checksum(m));
  return m;
}

export function echoRequest(id: number, seq: number, data: Uint8Array): Uint8Array {
  return icmpMessage(ICMP_ECHO, 0, ((id << 16) | seq) >>> 0, data);
}

// ---------------------------------------------------------------- UDP

export interface UdpFields {
  src: number;
  dst: number;
  sport: number;
  dport: number;
  payload?: Uint8Array;
  /** default "good" (a computed 0 sent as 0xffff, RFC 768) */
  check?: Check;
  /** override the length field (the checksum still covers the bytes there are) */
  len?: number;
}

export function udpDatagram(f: UdpFields): Uint8Array {
  const payload = f.payload ?? new Uint8Array(0);
  const u = new Uint8Array(UDP_HLEN + payload.length);
  udpBuildHeader(u, 0, f.sport, f.dport, f.len ?? u.length);
  u.set(payload, UDP_HLEN);
  const sum = csumFold(csumPartial(u, 0, u.length, csumPseudoHeader(f.src, f.dst, IPPROTO_UDP, u.length)));
  setUdpCheck(u, 0, stored(f.check ?? "good", sum === 0 ? UDP_CSUM_MANGLED_0 : sum));
  return u;
}

/** An Ethernet frame carrying a UDP datagram (IP fields default as ipv4Packet's). */
export function udpFrame(dstMac: Uint8Array, srcMac: Uint8Array, f: UdpFields): Uint8Array {
  return ipFrame(dstMac, srcMac, { src: f.src, dst: f.dst, proto: IPPROTO_UDP, payload: udpDatagram(f) });
}

// ---------------------------------------------------------------- TCP

// TCP flags under short names, for the tests that script segments.
export const FIN = TCP_FIN;
export const SYN = TCP_SYN;
export const RST = TCP_RST;
export const PSH = TCP_PSH;
export const ACK = TCP_ACK;

export interface TcpFields {
  src: number;
  dst: number;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: number;
  window?: number;
  payload?: Uint8Array;
  /** option bytes as given, padded with EOL to a multiple of 4 */
  options?: ArrayLike<number>;
  /** data offset in 32-bit words; default: the header with its options */
  doffWords?: number;
  /** default "good" */
  check?: Check;
}

/** A TCP segment with its checksum over the pseudo-header (RFC 9293 3.1). */
export function tcpSegment(f: TcpFields): Uint8Array {
  const payload = f.payload ?? new Uint8Array(0);
  const opts = f.options ?? [];
  const hlen = TCP_HLEN + ((opts.length + 3) & ~3);
  const s = new Uint8Array(hlen + payload.length);
  tcpBuildHeader(s, 0, f.sport, f.dport, f.seq >>> 0, (f.ack ?? 0) >>> 0, hlen, f.flags, f.window ?? 65535);
  if (f.doffWords !== undefined) setTcpDoffBytes(s, 0, f.doffWords * 4);
  s.set(opts, TCP_HLEN);
  s.set(payload, hlen);
  const sum = csumFold(csumPartial(s, 0, s.length, csumPseudoHeader(f.src, f.dst, IPPROTO_TCP, s.length)));
  setTcpCheck(s, 0, stored(f.check ?? "good", sum));
  return s;
}

/** An Ethernet frame carrying a TCP segment (IP fields default as ipv4Packet's). */
export function tcpFrame(dstMac: Uint8Array, srcMac: Uint8Array, f: TcpFields): Uint8Array {
  return ipFrame(dstMac, srcMac, { src: f.src, dst: f.dst, proto: IPPROTO_TCP, payload: tcpSegment(f) });
}

/** One option written by the stack's own writer, as bytes. */
function option(len: number, write: (b: Uint8Array) => number): number[] {
  const b = new Uint8Array(len);
  return Array.from(b.subarray(0, write(b)));
}

/** MSS (RFC 9293 3.2). */
export function optMss(mss: number): number[] {
  return option(4, (b) => tcpWriteOptMss(b, 0, mss));
}

/** NOP NOP + SACK-permitted (RFC 2018 2). */
export function optSackPerm(): number[] {
  return option(4, (b) => tcpWriteOptSackPerm(b, 0));
}

/** NOP NOP + timestamps (RFC 7323 3.2). */
export function optTimestamp(tsVal: number, tsEcr: number): number[] {
  return option(12, (b) => tcpWriteOptTimestamp(b, 0, tsVal >>> 0, tsEcr >>> 0));
}

// ---------------------------------------------------------------- readers

export function isArp(frame: Uint8Array): boolean {
  return frame.length >= ETH_HLEN + ARP_HLEN && ethType(frame, 0) === ETH_P_ARP;
}

export function isIp(frame: Uint8Array): boolean {
  return frame.length >= ETH_HLEN + IPV4_HLEN && ethType(frame, 0) === ETH_P_IP;
}

export interface ArpView {
  op: number;
  sha: Uint8Array;
  spa: number;
  tha: Uint8Array;
  tpa: number;
}

export function arpOf(frame: Uint8Array): ArpView {
  const a = ETH_HLEN;
  return {
    op: arpOp(frame, a),
    sha: frame.slice(a + OFF_ARP_SHA, a + OFF_ARP_SHA + 6),
    spa: arpSpa(frame, a),
    tha: frame.slice(a + OFF_ARP_THA, a + OFF_ARP_THA + 6),
    tpa: arpTpa(frame, a),
  };
}

export interface IpView {
  ihl: number;
  tos: number;
  totLen: number;
  id: number;
  frag: number;
  mf: boolean;
  df: boolean;
  offset: number;
  ttl: number;
  proto: number;
  src: number;
  dst: number;
  /** the header checksum verifies */
  csumOk: boolean;
  /** bytes after the header, up to the total length */
  payload: Uint8Array;
}

/** The IPv4 header at `at` (the frame's, after Ethernet, by default). */
export function ipOf(frame: Uint8Array, at = ETH_HLEN): IpView {
  const ihl = ipIhlBytes(frame, at);
  const totLen = ipTotLen(frame, at);
  const frag = ipFragField(frame, at);
  return {
    ihl,
    tos: ipTos(frame, at),
    totLen,
    id: ipId(frame, at),
    frag,
    mf: (frag & IP_MF) !== 0,
    df: (frag & IP_DF) !== 0,
    offset: (frag & IP_OFFMASK) * 8,
    ttl: ipTtl(frame, at),
    proto: ipProto(frame, at),
    src: ipSaddr(frame, at),
    dst: ipDaddr(frame, at),
    csumOk: checksum(frame, at, ihl) === 0,
    payload: frame.slice(at + ihl, at + totLen),
  };
}

/** Join the payloads of IP fragments (any order) into the datagram's payload. */
export function joinFragments(frames: Uint8Array[]): Uint8Array {
  const views = frames.map((f) => ipOf(f)).sort((a, b) => a.offset - b.offset);
  const total = views.reduce((n, v) => Math.max(n, v.offset + v.payload.length), 0);
  const out = new Uint8Array(total);
  for (const v of views) out.set(v.payload, v.offset);
  return out;
}

export interface TcpView {
  src: number;
  dst: number;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** options bytes */
  options: Uint8Array;
  payload: Uint8Array;
  /** the checksum verifies over the pseudo-header */
  csumOk: boolean;
}

/** The TCP segment of a frame, or null when the frame is not IPv4/TCP (or a later fragment). */
export function tcpOf(frame: Uint8Array): TcpView | null {
  if (!isIp(frame)) return null;
  const v = ipOf(frame);
  if (v.proto !== IPPROTO_TCP || v.offset !== 0) return null;
  const s = v.payload;
  const doff = tcpDoffBytes(s, 0);
  return {
    src: v.src,
    dst: v.dst,
    sport: tcpSport(s, 0),
    dport: tcpDport(s, 0),
    seq: tcpSeq(s, 0),
    ack: tcpAckSeq(s, 0),
    flags: tcpFlags(s, 0),
    window: tcpWindow(s, 0),
    options: s.slice(TCP_HLEN, doff),
    payload: s.slice(doff),
    csumOk: csumFold(csumPartial(s, 0, s.length, csumPseudoHeader(v.src, v.dst, IPPROTO_TCP, s.length))) === 0,
  };
}

/** The options of a segment seen on the wire (the stack's own parser; it is tested on its own). */
export function optionsOf(v: TcpView): TcpOptions {
  const o = new TcpOptions();
  if (!tcpParseOptions(v.options, 0, v.options.length, o)) throw new Error("malformed TCP options on the wire");
  return o;
}

/** The kinds of the options of a segment, in order (NOP and EOL left out). */
export function optionKinds(v: TcpView): number[] {
  return parseOptions(v.options).kinds;
}

/** The options of a segment, parsed the plain way, apart from the stack's parser (for checking what a stack sent). */
export interface ParsedOptions {
  /** kinds in order, NOP and EOL left out */
  kinds: number[];
  mss?: number;
  wscale?: number;
  sackPermitted: boolean;
  /** SACK blocks, [left, right) pairs */
  sack: number[];
  timestamp: boolean;
}

export function parseOptions(o: Uint8Array): ParsedOptions {
  const out: ParsedOptions = { kinds: [], sackPermitted: false, sack: [], timestamp: false };
  let i = 0;
  while (i < o.length) {
    const kind = o[i];
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    const len = o[i + 1];
    if (len === undefined || len < 2 || i + len > o.length) throw new Error(`malformed options from the stack: ${Array.from(o)}`);
    out.kinds.push(kind);
    if (kind === 2) out.mss = (o[i + 2] << 8) | o[i + 3];
    if (kind === 3) out.wscale = o[i + 2];
    if (kind === 4) out.sackPermitted = true;
    if (kind === 8) out.timestamp = true;
    if (kind === 5) {
      for (let p = i + 2; p + 8 <= i + len; p += 8) {
        out.sack.push(((o[p] << 24) | (o[p + 1] << 16) | (o[p + 2] << 8) | o[p + 3]) >>> 0);
        out.sack.push(((o[p + 4] << 24) | (o[p + 5] << 16) | (o[p + 6] << 8) | o[p + 7]) >>> 0);
      }
    }
    i += len;
  }
  return out;
}
