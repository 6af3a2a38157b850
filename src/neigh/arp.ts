// ARP (RFC 826; net/ipv4/arp.c): arpRcv validates and feeds the neighbour cache, answers
// requests for our address in place (the request's skb becomes the reply), and sends
// requests for the neighbour cache and a gratuitous announcement when a link comes up.
//
//   netifReceiveSkb -> arpRcv -> neigh.update / reply -> devQueueXmit (each a tail call)

import { devQueueXmit } from "../core/dev";
import { SKB_DROP } from "../core/drop";
import { consumeSkb, kfreeSkbReason } from "../core/free";
import { NETDEV_DOWN, NETDEV_UP, devAddPack, registerNetdevNotifier } from "../core/link";
import { registerPernetExit, type Net } from "../core/net";
import { IFF_NOARP, type NetDevice } from "../core/netdevice";
import { PACKET_HOST, type SkBuff } from "../core/skb";
import { NET_XMIT_DROP, TC_PRIO_CONTROL } from "../core/qdisc";
import {
  ARPOP_REPLY, ARPOP_REQUEST, ARP_HLEN, OFF_ARP_SHA, OFF_ARP_THA, arpBuild, arpCheckLen, arpIsEthernetIpv4, arpOp,
  arpSpa, arpTpa,
} from "../wire/arp";
import { WIRE_OK } from "../wire/bytes";
import { ETH_HLEN, ETH_P_ARP, ethBuildHeader, macCopy, macEqual, macIsMulticast } from "../wire/ethernet";
import { INADDR_BROADCAST, ipIsLoopback, ipIsMulticast } from "../wire/ipv4";
import { NeighTable } from "./neigh";
// mcconfig type-checks each module alone: the modules that add dev.inDev
import type {} from "../ipv4/devinet";

/**
 * arp_rcv + arp_process. skb.data at the ARP header. Returns the answer's NET_XMIT_* (0
 * when there is none): a number so that what follows the checks is a tail call.
 */
export function arpRcv(net: Net, skb: SkBuff): number {
  const dev = skb.dev as NetDevice;
  const buf = net.pool.buf;
  const arp = skb.data;
  if (arpCheckLen(buf, arp, skb.len) !== WIRE_OK || !arpIsEthernetIpv4(buf, arp) || (dev.flags & IFF_NOARP) !== 0) {
    kfreeSkbReason(net, skb, SKB_DROP.ARP_INVALID);
    return 0;
  }
  const op = arpOp(buf, arp);
  const sip = arpSpa(buf, arp);
  const tip = arpTpa(buf, arp);
  const sha = arp + OFF_ARP_SHA;
  // A sender claiming a multicast or loopback address, or a multicast hardware address, is bogus.
  if ((op !== ARPOP_REQUEST && op !== ARPOP_REPLY) || ipIsMulticast(tip) || ipIsMulticast(sip) ||
      ipIsLoopback(sip) || sip === INADDR_BROADCAST || macIsMulticast(buf, sha)) {
    kfreeSkbReason(net, skb, SKB_DROP.ARP_INVALID);
    return 0;
  }
  const neigh = net.neigh;
  const inDev = dev.inDev;
  if (op === ARPOP_REQUEST) neigh.stats.arpRequestsReceived++;
  else neigh.stats.arpRepliesReceived++;
  // RFC 5227 2.1.1: while an address is probed, any packet from it, or another host's probe
  // for it, is a conflict (noted for the prober, which declines the address).
  const tentative = inDev.tentative;
  if (tentative !== 0 && (sip === tentative || (sip === 0 && op === ARPOP_REQUEST && tip === tentative)) && !macEqual(buf, sha, dev.addr, 0)) {
    inDev.tentativeConflicts++;
    neigh.stats.addressConflicts++;
  }
  if (!inDev.configured) {
    kfreeSkbReason(net, skb, SKB_DROP.ARP_NOT_FOR_US);
    return 0;
  }
  const ours = tip === inDev.addr;
  if (sip === inDev.addr && !macEqual(buf, sha, dev.addr, 0)) {
    // Someone else uses our address (RFC 5227 conflict); counted, our cache keeps nothing of it.
    neigh.stats.addressConflicts++;
    kfreeSkbReason(net, skb, SKB_DROP.ARP_INVALID);
    return 0;
  }
  if (sip === 0) {
    // An address probe (RFC 5227): answer if it asks for our address, learn nothing.
    if (op === ARPOP_REQUEST && ours) return arpReplyInPlace(net, skb, dev, tip, sip);
    kfreeSkbReason(net, skb, SKB_DROP.ARP_NOT_FOR_US);
    return 0;
  }
  if (op === ARPOP_REQUEST && ours) return arpLearnAndReply(net, skb, sip, tip);
  const solicited = op === ARPOP_REPLY && skb.pktType === PACKET_HOST && ours;
  const notForUs = op === ARPOP_REQUEST && !ours && sip !== tip;
  return arpRefresh(net, skb, sip, solicited, notForUs);
}

/** A request for our address: the asker will talk to us, so keep its address (STALE, neigh_event_ns), then answer. */
function arpLearnAndReply(net: Net, skb: SkBuff, sip: number, tip: number): number {
  const dev = skb.dev as NetDevice;
  net.neigh.update(sip, dev, net.pool.buf, skb.data + OFF_ARP_SHA, false, true);
  return arpReplyInPlace(net, skb, dev, tip, sip);
}

/**
 * Anything else only refreshes an entry we already have (Linux arp_accept=0): a reply to us
 * (`solicited`) confirms it; a request for someone else or a gratuitous ARP makes it STALE
 * if the address changed. `notForUs`: a request for another host, dropped as such.
 */
function arpRefresh(net: Net, skb: SkBuff, sip: number, solicited: boolean, notForUs: boolean): number {
  net.neigh.update(sip, skb.dev as NetDevice, net.pool.buf, skb.data + OFF_ARP_SHA, solicited, false);
  if (notForUs) kfreeSkbReason(net, skb, SKB_DROP.ARP_NOT_FOR_US);
  else consumeSkb(net, skb);
  return 0;
}

/** Turn a request for our address into the reply, in the same skb; devQueueXmit's NET_XMIT_*. */
function arpReplyInPlace(net: Net, skb: SkBuff, dev: NetDevice, ourIp: number, askerIp: number): number {
  const buf = net.pool.buf;
  const arp = skb.data;
  skb.trim(ARP_HLEN);
  // The asker's hardware address becomes the target (and the frame's destination); it
  // moves first because the builder writes our address over it.
  macCopy(buf, arp + OFF_ARP_THA, buf, arp + OFF_ARP_SHA);
  arpBuild(buf, arp, ARPOP_REPLY, dev.addr, 0, ourIp, buf, arp + OFF_ARP_THA, askerIp);
  const eth = skb.push(ETH_HLEN);
  ethBuildHeader(buf, eth, buf, arp + OFF_ARP_THA, dev.addr, 0, ETH_P_ARP);
  skb.dev = dev;
  skb.protocol = ETH_P_ARP;
  skb.priority = TC_PRIO_CONTROL;
  net.neigh.stats.arpRepliesSent++;
  return devQueueXmit(skb);
}

/**
 * arp_solicit: ask who has `tip`; broadcast, or unicast to a known address while probing
 * (dstMac non-null). A full pool only costs this attempt (the timer retries). Returns as arpSend.
 */
export function arpSolicit(net: Net, dev: NetDevice, tip: number, dstMac: Uint8Array | null, dstOff: number): number {
  return arpSend(net, dev, ARPOP_REQUEST, dev.inDev.addr, tip, dstMac, dstOff);
}

/**
 * An address probe (RFC 5227 2.1.1): who has `tip`, asked from sender address 0 so that no
 * cache learns a binding for an address not yet ours. Answers and other probes for it are
 * counted in dev.inDev.tentativeConflicts while dev.inDev.tentative is `tip`.
 */
export function arpProbe(net: Net, dev: NetDevice, tip: number): number {
  return arpSend(net, dev, ARPOP_REQUEST, 0, tip, null, 0);
}

/** Gratuitous ARP on link up or a new address (RFC 5227 2.3 announcement: request, sip == tip); arpSend's result. */
export function arpAnnounce(net: Net, dev: NetDevice): number {
  if (!dev.inDev.configured) return 0;
  return arpSend(net, dev, ARPOP_REQUEST, dev.inDev.addr, dev.inDev.addr, null, 0);
}

/** devQueueXmit's NET_XMIT_*, or NET_XMIT_DROP when the pool had no skb. */
function arpSend(net: Net, dev: NetDevice, op: number, sip: number, tip: number, dstMac: Uint8Array | null, dstOff: number): number {
  const skb = net.pool.alloc();
  if (skb === null) {
    net.neigh.stats.arpSendNoMem++;
    return NET_XMIT_DROP;
  }
  const buf = net.pool.buf;
  const arp = skb.put(ARP_HLEN);
  // Target hardware address: zero in a request (RFC 826 leaves it unspecified; Linux zeroes it).
  arpBuild(buf, arp, op, dev.addr, 0, sip, net.neigh.zeroMac, 0, tip);
  const eth = skb.push(ETH_HLEN);
  if (dstMac === null) ethBuildHeader(buf, eth, dev.broadcastAddr, 0, dev.addr, 0, ETH_P_ARP);
  else ethBuildHeader(buf, eth, dstMac, dstOff, dev.addr, 0, ETH_P_ARP);
  skb.dev = dev;
  skb.protocol = ETH_P_ARP;
  skb.priority = TC_PRIO_CONTROL;
  return devQueueXmit(skb);
}

/**
 * arp_init: the neighbour cache, the ARP packet type, and what ARP does when a device
 * comes up (announce our address, RFC 5227 3) or goes down (forget its neighbours).
 */
export function arpInit(net: Net): void {
  net.neigh = new NeighTable(net, arpSolicit);
  devAddPack(net, ETH_P_ARP, arpRcv);
  registerNetdevNotifier(net, arpNetdevEvent);
  registerPernetExit(net, () => net.neigh.flushAll());
}

function arpNetdevEvent(net: Net, event: number, dev: NetDevice): void {
  if (event === NETDEV_UP) {
    if ((dev.flags & IFF_NOARP) === 0 && dev.inDev.configured) arpAnnounce(net, dev);
  } else if (event === NETDEV_DOWN) {
    net.neigh.ifdown(dev);
  }
}
