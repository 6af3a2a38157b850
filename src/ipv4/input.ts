// IPv4 receive (net/ipv4/ip_input.c):
//   netifReceiveSkb -> ipRcv (validate, PRE_ROUTING) -> routeInput
//     -> ipLocalDeliver (reassemble, LOCAL_IN) -> raw handlers, then the L4 handler
//     -> ipForward (src/ipv4/forward.ts)

import { SKB_DROP } from "../core/drop";
import { consumeSkb, kfreeSkbReason } from "../core/free";
import type { Net } from "../core/net";
import { IFF_LOOPBACK, type NetDevice } from "../core/netdevice";
import { PACKET_HOST, type SkBuff } from "../core/skb";
import { WIRE_BAD_HLEN, WIRE_BAD_VERSION, WIRE_HLEN_BEYOND, WIRE_LEN_BEYOND, WIRE_OK, WIRE_TRUNCATED } from "../wire/bytes";
import { csumVerify } from "../wire/checksum";
import {
  INADDR_BROADCAST, IPOPT_END, IPOPT_NOOP, IPV4_HLEN, IP_MF, IP_OFFMASK, ipDaddr, ipFragField, ipIhlBytes,
  ipIsLoopback, ipIsMulticast, ipProto, ipSaddr, ipTotLen, ipv4CheckLen,
} from "../wire/ipv4";
import { ICMP_DEST_UNREACH, ICMP_PARAMETERPROB, ICMP_PROT_UNREACH } from "../wire/icmp";
import { ipForward } from "./forward";
import { IPCB_RT_TYPE, RTN_FORWARD, RTN_UNREACHABLE } from "./route";
import { NF_INET_LOCAL_IN, NF_INET_PRE_ROUTING } from "./netfilter";
// mcconfig type-checks each module alone: the modules that add net.ipv4
import type {} from "./ipv4";

/** ip_rcv: skb.data at the IP header. Validates, trims link padding, routes. */
export function ipRcv(net: Net, skb: SkBuff): void {
  const ip = net.ipv4;
  const stats = ip.stats;
  const buf = net.pool.buf;
  const dev = skb.dev as NetDevice;
  const iph = skb.data;
  const len = skb.len;
  stats.inReceives++;
  // RFC 1122 3.2.1.1-3: version 4, IHL >= 5, the header inside the frame, a good checksum,
  // total length covering the header and inside the frame. One gate measures the lengths;
  // a datagram that fails it or the version is sorted out off the fast path.
  const fault = ipv4CheckLen(buf, iph, len);
  if (fault !== WIRE_OK) {
    ipRcvBadHeader(net, skb, fault);
    return;
  }
  const ihl = ipIhlBytes(buf, iph);
  if (!csumVerify(buf, iph, ihl, 0)) {
    stats.inCsumErrors++;
    kfreeSkbReason(net, skb, SKB_DROP.IP_CSUM);
    return;
  }
  skb.trim(ipTotLen(buf, iph));
  // Martian sources (RFC 1122 3.2.1.3): never a multicast or broadcast sender, and 127/8
  // only from our own loopback.
  // Our own address as the source of a frame from the wire is a spoof or a loop.
  const saddr = ipSaddr(buf, iph);
  const fromWire = (dev.flags & IFF_LOOPBACK) === 0;
  if (ipIsMulticast(saddr) || saddr === INADDR_BROADCAST || (fromWire && (ipIsLoopback(saddr) || ip.localDev(saddr) !== null))) {
    stats.inAddrErrors++;
    kfreeSkbReason(net, skb, SKB_DROP.IP_INVALID_SOURCE);
    return;
  }
  skb.networkHeader = iph;
  if (ihl > IPV4_HLEN) {
    // Options are not acted on, but a malformed list draws a parameter problem pointing at
    // the bad byte (RFC 1122 3.2.1.8, 3.2.2.5; Linux ip_options_compile).
    const bad = badOptionOffset(buf, iph + IPV4_HLEN, ihl - IPV4_HLEN);
    if (bad >= 0) {
      stats.inHdrErrors++;
      ip.icmp.send(skb, ICMP_PARAMETERPROB, 0, IPV4_HLEN + bad);
      kfreeSkbReason(net, skb, SKB_DROP.IP_INHDR);
      return;
    }
  }
  if (ip.netfilter.registered !== 0 && !ip.netfilter.run(NF_INET_PRE_ROUTING, skb, dev, null)) return;
  const route = ip.routeInput(ipDaddr(buf, iph), dev);
  if (route === RTN_UNREACHABLE) {
    stats.inAddrErrors++;
    kfreeSkbReason(net, skb, SKB_DROP.IP_INADDRERRORS);
    return;
  }
  if (route === RTN_FORWARD) return ipForward(net, skb);
  skb.cb[IPCB_RT_TYPE] = route;
  return ipLocalDeliver(net, skb);
}

/**
 * A header that failed the gate (lengths and version): dropped and counted as Linux's
 * ip_rcv_core takes its faults, the checksum before the total length.
 */
function ipRcvBadHeader(net: Net, skb: SkBuff, fault: number): void {
  const stats = net.ipv4.stats;
  const buf = net.pool.buf;
  const iph = skb.data;
  if (fault === WIRE_TRUNCATED || fault === WIRE_HLEN_BEYOND) {
    stats.inTruncatedPkts++;
    kfreeSkbReason(net, skb, SKB_DROP.PKT_TOO_SMALL);
  } else if (fault === WIRE_BAD_VERSION || fault === WIRE_BAD_HLEN) {
    stats.inHdrErrors++;
    kfreeSkbReason(net, skb, SKB_DROP.IP_INHDR);
  } else if (!csumVerify(buf, iph, ipIhlBytes(buf, iph), 0)) {
    stats.inCsumErrors++;
    kfreeSkbReason(net, skb, SKB_DROP.IP_CSUM);
  } else if (fault === WIRE_LEN_BEYOND) {
    stats.inTruncatedPkts++;
    kfreeSkbReason(net, skb, SKB_DROP.PKT_TOO_SMALL);
  } else {
    // WIRE_LEN_SHORT: a total length below the header
    stats.inHdrErrors++;
    kfreeSkbReason(net, skb, SKB_DROP.IP_INHDR);
  }
}

/**
 * Where an IP option list of `len` bytes at `off` goes wrong (RFC 791 3.1): a length byte
 * missing, below 2, or running past the header; -1 when the list is well formed. EOL ends
 * it, NOP is one byte.
 */
function badOptionOffset(buf: Uint8Array, off: number, len: number): number {
  let i = 0;
  while (i < len) {
    const kind = buf[off + i];
    if (kind === IPOPT_END) return -1;
    if (kind === IPOPT_NOOP) {
      i++;
      continue;
    }
    if (i + 1 >= len) return i;
    const optLen = buf[off + i + 1];
    if (optLen < 2 || i + optLen > len) return i + 1;
    i += optLen;
  }
  return -1;
}

/** ip_local_deliver: reassemble fragments, LOCAL_IN, then raw handlers and the L4 handler. */
export function ipLocalDeliver(net: Net, skb: SkBuff): void {
  const ip = net.ipv4;
  const buf = net.pool.buf;
  if ((ipFragField(buf, skb.networkHeader) & (IP_MF | IP_OFFMASK)) !== 0) {
    const whole = ip.reasm.defrag(skb);
    if (whole === null) return;
    skb = whole;
  }
  if (ip.netfilter.registered !== 0 && !ip.netfilter.run(NF_INET_LOCAL_IN, skb, skb.dev, null)) return;
  const iph = skb.networkHeader;
  skb.pull(ipIhlBytes(buf, iph));
  skb.transportHeader = skb.data;
  const proto = ipProto(buf, iph);
  // raw_local_deliver, when any raw handler or socket is bound.
  const raw = ip.raw.bound !== 0 && ip.raw.deliver(net, skb, proto);
  const handler = ip.protos[proto];
  if (handler !== null) {
    ip.stats.inDelivers++;
    return handler(net, skb);
  }
  if (raw) {
    ip.stats.inDelivers++;
    consumeSkb(net, skb);
    return;
  }
  // No one speaks this protocol (RFC 1122 3.2.2.1: protocol unreachable).
  ip.stats.inUnknownProtos++;
  if (skb.pktType === PACKET_HOST) ip.icmp.send(skb, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0);
  kfreeSkbReason(net, skb, SKB_DROP.IP_NOPROTO);
}
