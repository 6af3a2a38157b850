// IPv4 state of one stack: routing table, reassembly, hooks, raw handlers, ICMP, the
// L4 protocol table (inet_protos) and the IP MIB counters.

import type { Net } from "../core/net";
import { IFF_LOOPBACK, type NetDevice } from "../core/netdevice";
import type { SkBuff } from "../core/skb";
import {
  INADDR_ALLHOSTS_GROUP, INADDR_BROADCAST, INADDR_LOOPBACK, ipIsLoopback, ipIsMulticast, ipIsZeronet,
} from "../wire/ipv4";
import { Icmp } from "./icmp";
import { IpOutputBacklog } from "./output";
import { Netfilter } from "./netfilter";
import { RawTable } from "./raw";
import { ReasmTable } from "./reassembly";
import { RTN_BROADCAST, RTN_FORWARD, RTN_LOCAL, RTN_MULTICAST, RTN_UNREACHABLE, RouteTable } from "./route";
// mcconfig type-checks each module alone: the modules that add dev.inDev
import type {} from "./devinet";

/** An L4 receive handler: skb.data at the L4 header, networkHeader at the IP header. */
export type InetProtocolHandler = (net: Net, skb: SkBuff) => void;

/**
 * An L4 error handler (err_handler): an ICMP error about a datagram we sent. `iph` is the
 * quoted IP header and `l4` its transport header (8 bytes at least), in the pool buffer;
 * `info` is the ICMP header's last 16 bits (the next-hop MTU for "fragmentation needed");
 * `from` is the error's sender. Returning false says the quote cannot be about a datagram
 * we sent: the message is dropped (ICMP_INVALID) and counted as an ICMP InError.
 */
export type InetErrorHandler = (net: Net, type: number, code: number, info: number, iph: number, l4: number, from: number) => boolean | void;

/** The IP group of the MIB (RFC 4293 ipSystemStats), as Linux names it in /proc/net/snmp. */
export class IpStats {
  inReceives = 0;
  inHdrErrors = 0;
  inTruncatedPkts = 0;
  inCsumErrors = 0;
  inAddrErrors = 0;
  inUnknownProtos = 0;
  inDiscards = 0;
  inDelivers = 0;
  forwDatagrams = 0;
  outRequests = 0;
  outDiscards = 0;
  outNoRoutes = 0;
  reasmTimeout = 0;
  reasmReqds = 0;
  reasmOKs = 0;
  reasmFails = 0;
  reasmOverlaps = 0;
  fragOKs = 0;
  fragFails = 0;
  fragCreates = 0;
}


/** The result of an output route lookup (reused: copy the fields out before sending). */
export class RouteResult {
  dev: NetDevice | null = null;
  nexthop = 0;
  saddr = 0;
}

declare module "../core/net" {
  interface Net {
    /** IPv4 (Linux netns_ipv4), made by inetInit */
    ipv4: Ipv4;
  }
}

export class Ipv4 {
  readonly #net: Net;
  readonly routes: RouteTable;
  readonly netfilter: Netfilter;
  readonly raw: RawTable;
  readonly reasm: ReasmTable;
  readonly icmp: Icmp;
  /** what the receive path sends, until the received skb is done */
  readonly outputBacklog: IpOutputBacklog;
  readonly stats = new IpStats();
  /** inet_protos: L4 handler by protocol number */
  readonly protos: (InetProtocolHandler | null)[];
  /** ICMP errors by the quoted datagram's protocol */
  readonly errProtos: (InetErrorHandler | null)[];
  readonly rt = new RouteResult();
  /** scratch for the header every fragment is built from (ipFragment) */
  readonly fragHeader = new Uint8Array(60);
  #nextId: number;

  constructor(net: Net) {
    this.#net = net;
    this.routes = new RouteTable(net.config.routesMax);
    this.netfilter = new Netfilter(net);
    this.raw = new RawTable(net);
    this.reasm = new ReasmTable(net);
    this.icmp = new Icmp(net);
    this.outputBacklog = new IpOutputBacklog(net);
    this.protos = new Array<InetProtocolHandler | null>(256).fill(null);
    this.errProtos = new Array<InetErrorHandler | null>(256).fill(null);
    this.#nextId = net.platform.random32() & 0xffff;
  }

  /** inet_add_protocol */
  addProtocol(protocol: number, handler: InetProtocolHandler, errHandler: InetErrorHandler | null = null): void {
    if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) throw new RangeError(`IP protocol ${protocol} is not in 0..255`);
    this.protos[protocol] = handler;
    this.errProtos[protocol] = errHandler;
  }

  /** The next IP identification (RFC 791; RFC 6864 only needs uniqueness per flow and time). */
  nextId(): number {
    const id = this.#nextId;
    this.#nextId = (id + 1) & 0xffff;
    return id;
  }

  /** The interface that owns `addr`, or null. */
  localDev(addr: number): NetDevice | null {
    const devs = this.#net.devices;
    for (let i = 0; i < devs.length; i++) {
      const d = devs[i];
      if (d.inDev.configured && d.inDev.addr === addr) return d;
    }
    return null;
  }

  /** Is a multicast group joined on dev (224.0.0.1 always is, RFC 1112 4). */
  mcJoined(dev: NetDevice, group: number): boolean {
    if (group === INADDR_ALLHOSTS_GROUP) return true;
    for (let i = 0; i < dev.mcCount; i++) if (dev.mcList[i] === group) return true;
    return false;
  }

  /**
   * ip_route_input: what to do with a datagram for daddr that arrived on dev. Any of our
   * addresses is local whatever interface it came in on (the weak host model, as Linux).
   */
  routeInput(daddr: number, dev: NetDevice): number {
    // 127/8 is local only on lo; from a wire it is a martian destination (RFC 1122 3.2.1.3(g)),
    // even 127.0.0.1, which lo's address would otherwise match below.
    if (ipIsLoopback(daddr)) return (dev.flags & IFF_LOOPBACK) !== 0 ? RTN_LOCAL : RTN_UNREACHABLE;
    if (ipIsZeronet(daddr)) return RTN_UNREACHABLE; // network 0 is never a destination (RFC 1812 5.3.7)
    if (this.localDev(daddr) !== null) return RTN_LOCAL;
    // The broadcast address of any of our subnets is ours, as in Linux's local table: a
    // directed broadcast is received, never forwarded (RFC 2644).
    if (daddr === INADDR_BROADCAST || this.#isBroadcast(daddr)) return RTN_BROADCAST;
    if (ipIsMulticast(daddr)) return this.mcJoined(dev, daddr) ? RTN_MULTICAST : RTN_UNREACHABLE;
    return this.#net.config.ipForward ? RTN_FORWARD : RTN_UNREACHABLE;
  }

  /**
   * ip_route_output: fill this.rt for daddr (saddr 0: choose one). False when there is no
   * route. Our own addresses and 127/8 go through the loopback device.
   */
  routeOutput(daddr: number, saddr: number): boolean {
    const rt = this.rt;
    const net = this.#net;
    if (ipIsLoopback(daddr) || this.localDev(daddr) !== null) {
      rt.dev = net.loopback;
      rt.nexthop = daddr;
      rt.saddr = saddr !== 0 ? saddr : ipIsLoopback(daddr) ? INADDR_LOOPBACK : daddr;
      return true;
    }
    let dev: NetDevice | null = null;
    let nexthop = daddr;
    if (daddr === INADDR_BROADCAST) {
      dev = this.#firstConfigured();
    } else {
      const i = this.routes.lookup(daddr);
      // Multicast goes out on the link as multicast, never to a gateway (as Linux).
      if (i >= 0) {
        dev = this.routes.dev[i];
        if (this.routes.gateway[i] !== 0 && !ipIsMulticast(daddr)) nexthop = this.routes.gateway[i];
      } else if (ipIsMulticast(daddr)) {
        dev = this.#firstConfigured();
      }
    }
    if (dev === null) return false;
    rt.dev = dev;
    rt.nexthop = nexthop;
    rt.saddr = saddr !== 0 ? saddr : dev.inDev.addr;
    return true;
  }

  #isBroadcast(addr: number): boolean {
    const devs = this.#net.devices;
    for (let i = 0; i < devs.length; i++) if (devs[i].inDev.configured && devs[i].inDev.broadcast === addr) return true;
    return false;
  }

  #firstConfigured(): NetDevice | null {
    const devs = this.#net.devices;
    for (let i = 0; i < devs.length; i++) {
      const d = devs[i];
      if (d.isUp && d.inDev.configured && (d.flags & IFF_LOOPBACK) === 0) return d;
    }
    return null;
  }

  /** Free everything held (stack shutdown). */
  flush(): void {
    this.reasm.flush();
    this.raw.flush();
  }
}
