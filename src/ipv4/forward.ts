// Forwarding (net/ipv4/ip_forward.c), off unless config.ipForward:
//   ipRcv -> routeInput says FORWARD -> ipForward (TTL, route, MTU, FORWARD hook)
//   -> ipForwardFinish -> ipOutput (POST_ROUTING, fragment onto a smaller link) -> neigh.output

import { SKB_DROP } from "../core/drop";
import { kfreeSkbReason } from "../core/free";
import type { Net } from "../core/net";
import type { NetDevice } from "../core/netdevice";
import { PACKET_HOST, type SkBuff } from "../core/skb";
import {
  ICMP_DEST_UNREACH, ICMP_EXC_TTL, ICMP_FRAG_NEEDED, ICMP_NET_UNREACH, ICMP_TIME_EXCEEDED,
} from "../wire/icmp";
import { ipDaddr, ipDecreaseTtl, ipDontFrag, ipIsZeronet, ipSaddr, ipTos, ipTtl } from "../wire/ipv4";
import { tosToPriority } from "../core/qdisc";
import { NF_INET_FORWARD } from "./netfilter";
import { ipOutput } from "./output";
// mcconfig type-checks each module alone: the modules that add net.ipv4
import type {} from "./ipv4";

/** ip_forward: skb.data at the IP header of a datagram for another host. Consumes it. */
export function ipForward(net: Net, skb: SkBuff): void {
  const ip = net.ipv4;
  const buf = net.pool.buf;
  const iph = skb.data;
  const inDev = skb.dev as NetDevice;
  // Never forward what arrived as a link-layer broadcast or multicast (RFC 1812 5.3.4).
  if (skb.pktType !== PACKET_HOST) {
    ip.stats.inAddrErrors++;
    kfreeSkbReason(net, skb, SKB_DROP.IP_INADDRERRORS);
    return;
  }
  // RFC 1812 5.3.7: never forward a datagram from network 0 (a host that does not know its address).
  if (ipIsZeronet(ipSaddr(buf, iph))) {
    ip.stats.inAddrErrors++;
    kfreeSkbReason(net, skb, SKB_DROP.IP_INVALID_SOURCE);
    return;
  }
  // RFC 1812 5.3.1: a datagram whose TTL would reach 0 dies here, and its sender is told.
  if (ipTtl(buf, iph) <= 1) {
    ip.icmp.send(skb, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0);
    kfreeSkbReason(net, skb, SKB_DROP.IP_TTL_EXCEEDED);
    return;
  }
  if (!ip.routeOutput(ipDaddr(buf, iph), 0) || ip.rt.dev === net.loopback) {
    ip.stats.outNoRoutes++;
    ip.icmp.send(skb, ICMP_DEST_UNREACH, ICMP_NET_UNREACH, 0);
    kfreeSkbReason(net, skb, SKB_DROP.IP_OUTNOROUTES);
    return;
  }
  const outDev = ip.rt.dev as NetDevice;
  const nexthop = ip.rt.nexthop;
  // RFC 1191: too big with DF set -> "fragmentation needed" carrying the next-hop MTU.
  if (skb.len > outDev.mtu && ipDontFrag(buf, iph)) {
    ip.stats.fragFails++;
    ip.icmp.send(skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, outDev.mtu);
    kfreeSkbReason(net, skb, SKB_DROP.IP_FRAG_NEEDED);
    return;
  }
  ipDecreaseTtl(buf, iph);
  // FORWARD runs once the output device is known, so a hook can filter on it (as Linux).
  if (ip.netfilter.registered !== 0 && !ip.netfilter.run(NF_INET_FORWARD, skb, inDev, outDev)) return;
  return ipForwardFinish(net, skb, nexthop, outDev);
}

/** ip_forward_finish: counted, queued by its TOS, out (ipForward's tail call: its frame is gone meanwhile). */
function ipForwardFinish(net: Net, skb: SkBuff, nexthop: number, outDev: NetDevice): void {
  net.ipv4.stats.forwDatagrams++;
  skb.priority = tosToPriority(ipTos(net.pool.buf, skb.data));
  ipOutput(net, skb, nexthop, outDev);
}
