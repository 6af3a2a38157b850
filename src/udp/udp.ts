// UDP (RFC 768; net/ipv4/udp.c): a fixed table of sockets, port demultiplexing, a bounded
// queue of received skbs per socket (the reader copies out, then the skb goes back).
//
//   ipLocalDeliver -> udpRcv: length, checksum (zero accepted), demux
//     -> socket queue -> owner.onDatagrams (sk_data_ready)    | no socket: ICMP port unreachable
//   icmpUnreach -> udpErr: the socket that sent the quoted datagram, if it asked for
//     errors, keeps the last one and is told (__udp4_lib_err with IP_RECVERR)
//   socket write -> udp.sendto: datagram chain, header, checksum -> ipSend

import { SKB_DROP } from "../core/drop";
import { consumeSkb, kfreeSkbReason } from "../core/free";
import { registerPernetExit, registerTasklet, type Net } from "../core/net";
import { WakeList } from "../core/wake";
import { CHECKSUM_UNNECESSARY, PACKET_HOST, SkbQueue, skbChecksum, skbCopyBits, skbStoreBits, type SkBuff } from "../core/skb";
import { WIRE_LEN_BEYOND, WIRE_OK } from "../wire/bytes";
import { csumFold, csumPseudoHeader, csumReduce } from "../wire/checksum";
import {
  ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ICMP_PARAMETERPROB, ICMP_PORT_UNREACH, ICMP_QUOTE_DATA_LEN, ICMP_TIME_EXCEEDED,
} from "../wire/icmp";
import { INADDR_BROADCAST, IPPROTO_UDP, IPV4_HLEN, IPV4_MAX_LEN, ipDaddr, ipIsLoopback, ipIsMulticast, ipSaddr } from "../wire/ipv4";
import {
  UDP_CSUM_MANGLED_0, UDP_HLEN, setUdpCheck, udpBuildHeader, udpCheck, udpCheckLen, udpDport, udpLen, udpSport,
} from "../wire/udp";
import { ENETUNREACH, ENOBUFS, ipAllocDatagram, ipSend, ipSendDev } from "../ipv4/output";
import type { NetDevice } from "../core/netdevice";
// mcconfig type-checks each module alone: the modules that add net.ipv4
import type {} from "../ipv4/ipv4";

/** The largest UDP payload in one IPv4 datagram. */
export const UDP_PAYLOAD_MAX = IPV4_MAX_LEN - IPV4_HLEN - UDP_HLEN;

const EPHEMERAL_FIRST = 49152; // RFC 6335 dynamic ports
const EPHEMERAL_COUNT = 65536 - EPHEMERAL_FIRST;

declare module "../core/net" {
  interface Net {
    /** UDP's socket table, made by udpInit */
    udp: UdpTable;
  }
}

/** udp_init: the socket table, and UDP registered with IPv4 (inet_add_protocol). */
export function udpInit(net: Net): void {
  net.udp = new UdpTable(net);
  net.ipv4.addProtocol(IPPROTO_UDP, udpRcv, udpErr);
  registerTasklet(net, net.udp);
  registerPernetExit(net, () => net.udp.flush());
}

/** The UDP group of the MIB, as Linux names it in /proc/net/snmp. */
export class UdpStats {
  inDatagrams = 0;
  noPorts = 0;
  inErrors = 0;
  outDatagrams = 0;
  rcvbufErrors = 0;
  sndbufErrors = 0;
  inCsumErrors = 0;
  /** ICMP errors reported to a socket */
  icmpErrors = 0;
  /** ICMP errors about no socket, or a socket that did not ask, or of a kind not reported */
  icmpIgnored = 0;
  /** ICMP errors whose quoted UDP header cannot be ours (dropped ICMP_INVALID) */
  icmpInvalid = 0;
}

/** Told when datagrams or an ICMP error wait for it (the socket layer). */
export interface UdpOwner {
  onDatagrams(waiting: number): void;
  onIcmpError(): void;
}

export class UdpTable {
  readonly #net: Net;
  readonly size: number;
  readonly inUse: Uint8Array;
  readonly localAddr: Uint32Array;
  readonly localPort: Uint16Array;
  /** receive datagrams sent to a broadcast or multicast address */
  readonly broadcast: Uint8Array;
  readonly queue: SkbQueue[];
  readonly owner: (UdpOwner | null)[];
  /** the socket wants ICMP errors (Linux IP_RECVERR) */
  readonly recvErr: Uint8Array;
  // The last ICMP error reported to each socket, until read (one slot, as Linux sk_err).
  readonly errPending: Uint8Array;
  readonly errType: Uint8Array;
  readonly errCode: Uint8Array;
  /** where the quoted datagram was going */
  readonly errAddr: Uint32Array;
  readonly errPort: Uint16Array;
  /** who sent the ICMP error */
  readonly errFrom: Uint32Array;
  readonly stats = new UdpStats();
  /**
   * the interface a socket sends its broadcast and multicast datagrams through (Linux
   * SO_BINDTODEVICE, as a DHCP client binds before it has an address), or null
   */
  readonly boundDev: (NetDevice | null)[];
  /** sockets whose owner hears of datagrams when the received skb is done */
  readonly wake: WakeList;
  /** the tasklet's (Softnet.schedule) */
  scheduled = false;
  #nextEphemeral: number;

  constructor(net: Net) {
    this.#net = net;
    const n = (this.size = net.config.udpSocketsMax);
    this.inUse = new Uint8Array(n);
    this.localAddr = new Uint32Array(n);
    this.localPort = new Uint16Array(n);
    this.broadcast = new Uint8Array(n);
    this.queue = [];
    for (let i = 0; i < n; i++) this.queue.push(new SkbQueue());
    this.owner = new Array<UdpOwner | null>(n).fill(null);
    this.wake = new WakeList(n);
    this.boundDev = new Array<NetDevice | null>(n).fill(null);
    this.recvErr = new Uint8Array(n);
    this.errPending = new Uint8Array(n);
    this.errType = new Uint8Array(n);
    this.errCode = new Uint8Array(n);
    this.errAddr = new Uint32Array(n);
    this.errPort = new Uint16Array(n);
    this.errFrom = new Uint32Array(n);
    // RFC 6056: start the ephemeral search somewhere unpredictable.
    this.#nextEphemeral = net.platform.random32() % EPHEMERAL_COUNT;
  }

  #portTaken(addr: number, port: number): boolean {
    for (let i = 0; i < this.size; i++) {
      if (this.inUse[i] !== 0 && this.localPort[i] === port && (this.localAddr[i] === 0 || addr === 0 || this.localAddr[i] === addr)) return true;
    }
    return false;
  }

  /** Bind a socket to (addr, port); port 0 picks an ephemeral one. Returns the socket index. */
  bind(addr: number, port: number, owner: UdpOwner, wantsBroadcast: boolean, wantsErrors = false): number {
    if (addr !== 0 && this.#net.ipv4.localDev(addr) === null && !ipIsLoopback(addr)) {
      throw new TypeError(`UDP: address is not one of this host's`);
    }
    let i = 0;
    while (i < this.size && this.inUse[i] !== 0) i++;
    if (i === this.size) throw new RangeError(`UDP: socket table full (config.udpSocketsMax is ${this.size})`);
    if (port === 0) {
      let tries = EPHEMERAL_COUNT;
      do {
        port = EPHEMERAL_FIRST + this.#nextEphemeral;
        this.#nextEphemeral = (this.#nextEphemeral + 1) % EPHEMERAL_COUNT;
      } while (this.#portTaken(addr, port) && --tries > 0);
      if (tries === 0) throw new RangeError("UDP: no ephemeral port free");
    } else if (this.#portTaken(addr, port)) {
      throw new RangeError(`UDP: port ${port} is in use`);
    }
    this.inUse[i] = 1;
    this.localAddr[i] = addr;
    this.localPort[i] = port;
    this.broadcast[i] = wantsBroadcast ? 1 : 0;
    this.recvErr[i] = wantsErrors ? 1 : 0;
    this.errPending[i] = 0;
    this.owner[i] = owner;
    return i;
  }

  /** Close a socket: datagrams never read are dropped, counted SOCKET_CLOSE. */
  unbind(i: number): void {
    const q = this.queue[i];
    let skb: SkBuff | null;
    while ((skb = q.dequeue()) !== null) kfreeSkbReason(this.#net, skb, SKB_DROP.SOCKET_CLOSE);
    this.inUse[i] = 0;
    this.owner[i] = null;
    this.boundDev[i] = null;
    this.recvErr[i] = 0;
    this.errPending[i] = 0;
  }

  /**
   * The next datagram for socket i, copied into `dst` (payload only); returns its length,
   * or -1 when none waits. The source address and port go to `from` ([addr, port]).
   */
  recv(i: number, dst: Uint8Array | null, dstOff: number, from: Uint32Array): number {
    const skb = this.queue[i].dequeue();
    if (skb === null) return -1;
    const net = this.#net;
    const buf = net.pool.buf;
    from[0] = ipSaddr(buf, skb.networkHeader);
    from[1] = udpSport(buf, skb.data);
    const len = skb.chainLen() - UDP_HLEN;
    if (dst !== null) skbCopyBits(net.pool, skb, UDP_HLEN, dst, dstOff, len);
    consumeSkb(net, skb);
    return len;
  }

  /** The socket bound to (addr, port) that would have sent from there, or -1. */
  lookupLocal(addr: number, port: number): number {
    for (let i = 0; i < this.size; i++) {
      if (this.inUse[i] !== 0 && this.localPort[i] === port && (this.localAddr[i] === 0 || this.localAddr[i] === addr)) return i;
    }
    return -1;
  }

  /** Stack shutdown: drop what waits in every socket (the sockets stay bound). */
  /** UDP's tasklet: owners hear of the datagrams queued for them (sk_data_ready; the reader runs from the loop). */
  runTasklet(): void {
    const wake = this.wake;
    for (let k = 0; k < wake.count; k++) {
      const i = wake.take(k);
      const owner = this.owner[i];
      if (owner !== null && this.queue[i].qlen > 0) owner.onDatagrams(this.queue[i].qlen);
    }
    wake.clear();
  }

  flush(): void {
    for (let i = 0; i < this.size; i++) {
      const q = this.queue[i];
      let skb: SkBuff | null;
      while ((skb = q.dequeue()) !== null) kfreeSkbReason(this.#net, skb, SKB_DROP.SHUTDOWN);
    }
  }

  /** Length of the next datagram's payload for socket i, or -1. */
  peekLength(i: number): number {
    const skb = this.queue[i].peek();
    return skb === null ? -1 : skb.chainLen() - UDP_HLEN;
  }

  /**
   * SO_BINDTODEVICE: socket i sends its datagrams to 255.255.255.255 and to groups through
   * dev, from dev's address or, while dev has none, from 0.0.0.0 (RFC 2131 4.1: a client
   * without an address); null lets routing choose again.
   */
  bindToDevice(i: number, dev: NetDevice | null): void {
    this.boundDev[i] = dev;
  }

  /**
   * udp_sendmsg: send `len` bytes of `src` from socket i to (daddr, dport). Returns 0, a
   * negative error (-ENETUNREACH, -ENOBUFS, -EMSGSIZE from IP) or, when the device's queue
   * dropped it, NET_XMIT_DROP (positive, as ipSend).
   */
  sendto(i: number, src: Uint8Array, srcOff: number, len: number, daddr: number, dport: number, ttl: number): number {
    const net = this.#net;
    const ip = net.ipv4;
    const bound = this.boundDev[i];
    let saddr: number;
    let mtu: number;
    if (bound !== null && (daddr === INADDR_BROADCAST || ipIsMulticast(daddr))) {
      if (!bound.isUp) {
        this.stats.sndbufErrors++;
        return -ENETUNREACH;
      }
      saddr = this.localAddr[i] !== 0 ? this.localAddr[i] : bound.inDev.addr;
      mtu = bound.mtu;
    } else {
      if (!ip.routeOutput(daddr, this.localAddr[i])) {
        this.stats.sndbufErrors++;
        return -ENETUNREACH;
      }
      saddr = ip.rt.saddr;
      mtu = (ip.rt.dev as NetDevice).mtu;
    }
    const skb = ipAllocDatagram(net, UDP_HLEN + len, mtu);
    if (skb === null) {
      this.stats.sndbufErrors++;
      return -ENOBUFS;
    }
    const buf = net.pool.buf;
    udpBuildHeader(buf, skb.data, this.localPort[i], dport, UDP_HLEN + len);
    skbStoreBits(net.pool, skb, UDP_HLEN, src, srcOff, len);
    // RFC 768: a computed 0 is sent as all ones (0 means "no checksum").
    const check = csumFold(skbChecksum(net.pool, skb, csumPseudoHeader(saddr, daddr, IPPROTO_UDP, UDP_HLEN + len)));
    setUdpCheck(buf, skb.data, check === 0 ? UDP_CSUM_MANGLED_0 : check);
    this.stats.outDatagrams++;
    if (bound !== null && (daddr === INADDR_BROADCAST || ipIsMulticast(daddr))) return ipSendDev(net, skb, saddr, daddr, IPPROTO_UDP, ttl, bound);
    return ipSend(net, skb, saddr, daddr, IPPROTO_UDP, 0, ttl, false);
  }
}

/** Trim a chain to `len` bytes from skb.data (UDP length shorter than the IP payload). */
function chainTrim(skb: SkBuff, len: number): void {
  for (let s: SkBuff | null = skb; s !== null; s = s.fragNext) {
    const have = s.tail - s.data;
    if (len <= have) {
      s.tail = s.data + len;
      len = 0;
    } else {
      len -= have;
    }
  }
}

/** udp_rcv: skb.data at the UDP header (maybe a reassembled chain). */
export function udpRcv(net: Net, skb: SkBuff): void {
  const udp = net.udp;
  const stats = udp.stats;
  const buf = net.pool.buf;
  const total = skb.chainLen();
  const uh = skb.data;
  // The gate measures the whole datagram; the header itself must lie in the first piece.
  if (skb.len < UDP_HLEN || udpCheckLen(buf, uh, total) !== WIRE_OK) {
    stats.inErrors++;
    kfreeSkbReason(net, skb, SKB_DROP.UDP_INVALID);
    return;
  }
  const ulen = udpLen(buf, uh);
  if (ulen < total) chainTrim(skb, ulen);
  const iph = skb.networkHeader;
  const saddr = ipSaddr(buf, iph);
  const daddr = ipDaddr(buf, iph);
  // RFC 768: a zero checksum means the sender computed none.
  if (udpCheck(buf, uh) !== 0 && skb.ipSummed !== CHECKSUM_UNNECESSARY &&
      csumReduce(skbChecksum(net.pool, skb, csumPseudoHeader(saddr, daddr, IPPROTO_UDP, ulen))) !== 0xffff) {
    stats.inCsumErrors++;
    stats.inErrors++;
    kfreeSkbReason(net, skb, SKB_DROP.UDP_CSUM);
    return;
  }
  const dport = udpDport(buf, uh);
  const toGroup = skb.pktType !== PACKET_HOST || daddr === INADDR_BROADCAST || ipIsMulticast(daddr) ||
    (net.ipv4.localDev(daddr) === null && !ipIsLoopback(daddr));
  if (!toGroup) {
    for (let i = 0; i < udp.size; i++) {
      if (udp.inUse[i] !== 0 && udp.localPort[i] === dport && (udp.localAddr[i] === 0 || udp.localAddr[i] === daddr)) {
        deliver(net, i, skb);
        return;
      }
    }
  } else {
    // Broadcast and multicast: every socket on the port that asked for them gets a copy.
    let last = -1;
    for (let i = 0; i < udp.size; i++) {
      if (udp.inUse[i] === 0 || udp.localPort[i] !== dport || udp.broadcast[i] === 0) continue;
      if (last >= 0) {
        const c = net.pool.clone(skb);
        if (c === null) udp.stats.rcvbufErrors++;
        else deliver(net, last, c);
      }
      last = i;
    }
    if (last >= 0) {
      deliver(net, last, skb);
      return;
    }
  }
  stats.noPorts++;
  // RFC 1122 4.1.3.1: port unreachable, but never about a broadcast or multicast (icmp.send checks).
  if (!toGroup) net.ipv4.icmp.send(skb, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
  kfreeSkbReason(net, skb, SKB_DROP.UDP_NOPORT);
}

function deliver(net: Net, i: number, skb: SkBuff): void {
  const udp = net.udp;
  const q = udp.queue[i];
  if (q.qlen >= net.config.udpRxQueueMax) {
    udp.stats.rcvbufErrors++;
    udp.stats.inErrors++;
    kfreeSkbReason(net, skb, SKB_DROP.SOCKET_RCVBUFF);
    return;
  }
  q.enqueue(skb);
  udp.stats.inDatagrams++;
  udp.wake.add(i);
  net.softnet.schedule(udp);
}

/**
 * __udp4_lib_err: an ICMP error quoting a datagram we sent (`iph`, `l4` its UDP header).
 * The socket that sent it learns of it only if it asked (onError given: Linux's IP_RECVERR,
 * since ECMA-419 UDP sockets are never connected). Reported: destination unreachable
 * (codes 0..15 but "fragmentation needed": UDP never sets DF, so that one is not about us),
 * time exceeded and parameter problem. The socket keeps the last error and stays open.
 * False when the quote cannot be ours (UDP length under 8, a group destination).
 */
export function udpErr(net: Net, type: number, code: number, _info: number, iph: number, l4: number, from: number): boolean {
  const udp = net.udp;
  const stats = udp.stats;
  const buf = net.pool.buf;
  const daddr = ipDaddr(buf, iph);
  // icmpUnreach vouches for the 8 quoted bytes; the UDP length goes on past them (a quote is
  // cut short), never below the header. RFC 1122 3.2.2: no error is sent about a broadcast
  // or multicast datagram.
  const fault = udpCheckLen(buf, l4, ICMP_QUOTE_DATA_LEN);
  if ((fault !== WIRE_OK && fault !== WIRE_LEN_BEYOND) || daddr === INADDR_BROADCAST || ipIsMulticast(daddr)) {
    stats.icmpInvalid++;
    return false;
  }
  const i = udp.lookupLocal(ipSaddr(buf, iph), udpSport(buf, l4));
  const reported = type === ICMP_DEST_UNREACH ? code <= 15 && code !== ICMP_FRAG_NEEDED : type === ICMP_TIME_EXCEEDED || type === ICMP_PARAMETERPROB;
  if (i < 0 || udp.recvErr[i] === 0 || !reported) {
    stats.icmpIgnored++;
    return true;
  }
  udp.errPending[i] = 1;
  udp.errType[i] = type;
  udp.errCode[i] = code;
  udp.errAddr[i] = daddr;
  udp.errPort[i] = udpDport(buf, l4);
  udp.errFrom[i] = from;
  stats.icmpErrors++;
  (udp.owner[i] as UdpOwner).onIcmpError();
  return true;
}
